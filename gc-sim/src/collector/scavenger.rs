//! The Scavenger: V8's young-generation collector (`scavenger.cc`).
//!
//! A Cheney copy from the roots, the open handle scopes and the OLD_TO_NEW remembered set. Every young object
//! reached is evacuated once: copied into the new to-space if it has not yet survived
//! [`promotion_age`](crate::HeapConfig::promotion_age) scavenges, promoted into old space otherwise (V8's age
//! mark: copied on the first survived scavenge, promoted on the second). A failed copy falls back to promotion.
//! Young large objects are promoted whole, never copied. The copied objects themselves are the scan queue, and
//! promoted objects go on a promotion worklist in per-collection scratch memory, so the walk is iterative and
//! allocates nothing per object. Dead objects are never visited: the cost follows the survivors.

use bumpalo::collections::Vec as ScratchVec;
use slotmap::SlotMap;

use crate::config::HeapConfig;
use crate::controller::formulas::{self, NewSpaceResize};
use crate::gc_tracer::{Collector, GcEvent, GcReason};
use crate::heap::slots::SlotArena;
use crate::heap::{scratch_in_use, Heap};
use crate::object::{HeapObject, Labels, ObjectId, Space, MAX_EPOCH};
use crate::space::new_space::{NewSpace, SurvivorLab};
use crate::space::old_space::OldSpace;
use crate::space::remembered_set::RememberedSet;
use crate::survival::TagPromotions;

/// Counters of one scavenge.
#[derive(Debug, Default)]
struct ScavengeCounts {
    copied_bytes: u64,
    copied_objects: u64,
    promoted_bytes: u64,
    promoted_objects: u64,
    /// Of the promoted objects, those that came from new space (not new large-object space).
    promoted_from_new_space_objects: u64,
    promoted_from_new_space_bytes: u64,
}

/// The parts of the heap a scavenge works on.
struct Scavenger<'h, 's> {
    objects: &'h mut SlotMap<ObjectId, HeapObject>,
    slots: &'h SlotArena,
    new_space: &'h mut NewSpace,
    old_space: &'h mut OldSpace,
    remembered_set: &'h mut RememberedSet,
    config: &'h HeapConfig,
    /// The epoch of the new to-space: young objects of older epochs are not yet evacuated.
    epoch: u32,
    lab: SurvivorLab,
    /// Promoted objects whose slots are still to be scanned.
    promotion_list: ScratchVec<'s, ObjectId>,
    counts: ScavengeCounts,
    /// Where promotions of tagged objects are recorded, and the number of this collection.
    promotions: &'h mut TagPromotions,
    gc: u64,
    /// When this collection started, ms.
    start_ms: f64,
    /// The heap's label combinations, for the tags of promoted objects.
    label_sets: &'h [Labels],
}

impl Scavenger<'_, '_> {
    /// Evacuates `id` if it is a young object not yet evacuated (V8's `ScavengeObject`).
    #[inline]
    fn evacuate(&mut self, id: ObjectId) {
        let Some(o) = self.objects.get_mut(id) else { return };
        match o.space() {
            Space::New if o.epoch() != self.epoch => {
                let size = o.size;
                let copy = if o.age() < self.config.promotion_age {
                    self.new_space.allocate_survivor(size, &mut self.lab, self.config)
                } else {
                    None
                };
                o.grow_older();
                match copy {
                    Some(address) => {
                        o.address = address;
                        o.set_epoch(self.epoch);
                        self.new_space.objects.push(id);
                        self.new_space.used_bytes += u64::from(size);
                        self.counts.copied_bytes += u64::from(size);
                        self.counts.copied_objects += 1;
                    }
                    None => {
                        o.set_space(Space::Old);
                        o.address = self.old_space.allocate(size);
                        self.promotions.record(o.labels.resolve(self.label_sets).tag, size, self.gc, self.start_ms);
                        self.promotion_list.push(id);
                        self.counts.promoted_bytes += u64::from(size);
                        self.counts.promoted_objects += 1;
                        self.counts.promoted_from_new_space_bytes += u64::from(size);
                        self.counts.promoted_from_new_space_objects += 1;
                    }
                }
            }
            Space::NewLargeObject => {
                // Promoted by moving its page: the address stays.
                o.set_space(Space::LargeObject);
                o.grow_older();
                self.promotions.record(o.labels.resolve(self.label_sets).tag, o.size, self.gc, self.start_ms);
                self.counts.promoted_bytes += u64::from(o.size);
                self.counts.promoted_objects += 1;
                self.promotion_list.push(id);
            }
            _ => {}
        }
    }

    /// Whether `id` is (now) in the young generation.
    #[inline]
    fn is_young(&self, id: ObjectId) -> bool {
        self.objects.get(id).is_some_and(|o| o.space().is_young())
    }

    /// Evacuates everything the slots of `id` point to; for an old host, records slots that still point into
    /// new space in the remembered set.
    #[inline]
    fn scan(&mut self, id: ObjectId, host_is_old: bool) {
        let Some(o) = self.objects.get(id) else { return };
        let (start, count) = (o.slot_start, o.slot_count);
        for index in start..start + count {
            if let Some(target) = self.slots.get(index) {
                self.evacuate(target);
                if host_is_old && self.is_young(target) {
                    self.remembered_set.insert(index);
                }
            }
        }
    }

    /// The remembered set as roots: evacuate the young targets of recorded slots, keep the slots that still point
    /// into new space and drop the stale ones.
    fn process_remembered_set(&mut self) {
        let recorded = self.remembered_set.drain();
        for &index in &recorded {
            if let Some(target) = self.slots.get(index) {
                self.evacuate(target);
                if self.is_young(target) {
                    self.remembered_set.insert(index);
                }
            }
        }
        self.remembered_set.recycle(recorded);
    }

    /// Cheney's scan: copied objects are scanned in to-space order, promoted ones from the worklist, until both
    /// are exhausted.
    fn drain(&mut self) {
        let mut scan = 0;
        loop {
            while scan < self.new_space.objects.len() {
                let id = self.new_space.objects[scan];
                scan += 1;
                self.scan(id, false);
            }
            match self.promotion_list.pop() {
                Some(id) => self.scan(id, true),
                None => break,
            }
        }
    }
}

impl Heap {
    /// Runs a scavenge and returns its event (the caller records it and applies the heap-limit checks).
    pub(crate) fn scavenge(&mut self, reason: GcReason) -> GcEvent {
        let mut event = self.begin_event(Collector::Scavenge, reason, None);
        let young_bytes_before = self.new_space.used_bytes + self.new_lo_space.used_bytes;
        let resize = self.decide_new_space_resize();
        if resize == NewSpaceResize::Grow {
            self.grow_new_space();
        }

        if self.new_space.epoch == MAX_EPOCH {
            // The flip wraps the epoch to 0, and a dead young header of epoch 0 would read as live again: none may wait.
            self.reclaim_all_unreclaimed();
        }
        let next_list = self.spare_lists.pop().unwrap_or_default();
        let from_space = self.new_space.flip();
        self.new_space.objects = next_list;
        let scratch = std::mem::take(&mut self.scratch);
        let counts = {
            let mut scavenger = Scavenger {
                epoch: self.new_space.epoch,
                objects: &mut self.objects,
                slots: &self.slots,
                new_space: &mut self.new_space,
                old_space: &mut self.old_space,
                remembered_set: &mut self.remembered_set,
                config: &self.config,
                lab: SurvivorLab::default(),
                promotion_list: ScratchVec::new_in(&scratch),
                counts: ScavengeCounts::default(),
                promotions: &mut self.tag_promotions,
                gc: self.tracer.collections,
                start_ms: self.tracer.now_ms,
                label_sets: &self.label_sets,
            };
            for set in self.roots.sets() {
                for &id in set.handles.keys() {
                    scavenger.evacuate(id);
                }
            }
            for &id in self.scopes.handles() {
                scavenger.evacuate(id);
            }
            scavenger.process_remembered_set();
            scavenger.drain();
            let lab = scavenger.lab;
            scavenger.new_space.finish_survivors(&lab);
            // The promotion worklist still holds its largest capacity.
            self.scratch_used = scratch_in_use(&scratch);
            scavenger.counts
        };
        self.scratch = scratch;

        // Young large objects not promoted are dead: freed whole. Promoted ones move to large-object space.
        let mut died_objects = 0u64;
        let mut died_bytes = 0u64;
        let young_large = std::mem::take(&mut self.new_lo_space.objects);
        for &id in &young_large {
            let o = &self.objects[id];
            let size = o.size;
            self.new_lo_space.remove_bytes(size, &self.config.page);
            if o.space() == Space::LargeObject {
                self.lo_space.add(id, size, &self.config.page);
            } else {
                died_objects += 1;
                died_bytes += u64::from(size);
                self.free_object(id);
            }
        }
        self.new_lo_space.objects = young_large;
        self.new_lo_space.objects.clear();

        // Everything left in from-space is dead; its headers are reclaimed lazily by later allocations.
        let from_survivors = counts.copied_objects + counts.promoted_from_new_space_objects;
        let from_dead = from_space.len() as u64 - from_survivors;
        died_objects += from_dead;
        let young_new_space_before = young_bytes_before - event.before.new_large_object_space.used_bytes;
        died_bytes += young_new_space_before - counts.copied_bytes - counts.promoted_from_new_space_bytes;
        self.unreclaimed_dead += from_dead;
        self.unreclaimed.push(from_space);

        let survived = counts.copied_bytes + counts.promoted_bytes;
        self.new_space.survived_since_last_expansion += survived;
        if resize == NewSpaceResize::Shrink {
            self.shrink_new_space();
        }
        self.tracer.old_generation_allocated_since_gc += counts.promoted_bytes;
        if young_bytes_before > 0 {
            let percent = 100.0 * survived as f64 / young_bytes_before as f64;
            self.record_survival_and_configure_initial_limit(percent);
        }

        event.copied_bytes = counts.copied_bytes;
        event.copied_objects = counts.copied_objects;
        event.promoted_bytes = counts.promoted_bytes;
        event.promoted_objects = counts.promoted_objects;
        event.died_bytes = died_bytes;
        event.died_objects = died_objects;
        let pause = self.config.pause.scavenge_ms(survived);
        self.finish_event(&mut event, pause, None);
        event
    }

    /// V8's `ShouldResizeNewSpace`, at the start of every collection. Capacities are compared in whole pages (V8's
    /// `TotalCapacity`), and the survived-bytes counter restarts whenever the grow test passes, even if a shrink
    /// request cancels the growth, as in V8.
    pub(crate) fn decide_new_space_resize(&mut self) -> NewSpaceResize {
        let page = u64::from(self.config.page.page_size);
        let (capacity, max) =
            (u64::from(self.new_space.capacity_pages) * page, u64::from(self.new_space.max_pages) * page);
        let survived = self.new_space.survived_since_last_expansion;
        let decision = formulas::new_space_resize(survived, capacity, max, self.tracer.allocation_throughput());
        if formulas::should_grow_new_space(survived, capacity, max) {
            self.new_space.survived_since_last_expansion = 0;
        }
        decision
    }

    /// Grows both semi-spaces by the growth factor, up to the maximum (V8's `ExpandNewSpace`).
    pub(crate) fn grow_new_space(&mut self) {
        let page = u64::from(self.config.page.page_size);
        let grown = formulas::grown_semi_space_capacity(
            u64::from(self.new_space.capacity_pages) * page,
            u64::from(self.config.semi_space_growth_factor),
            u64::from(self.new_space.max_pages) * page,
        );
        self.new_space.set_capacity_pages((grown / page) as u32);
    }

    /// Shrinks the semi-spaces to twice what survived, but not below their initial size, and only if that is
    /// smaller than the current capacity (V8's `ReduceNewSpaceSize`).
    pub(crate) fn shrink_new_space(&mut self) {
        let page = u64::from(self.config.page.page_size);
        let target = formulas::shrunk_semi_space_capacity(
            self.new_space.used_bytes,
            u64::from(self.new_space.initial_pages) * page,
            page,
        );
        let pages = target.div_ceil(page) as u32;
        if pages < self.new_space.capacity_pages {
            self.new_space.set_capacity_pages(pages);
        }
    }

    /// V8's `ConfigureInitialOldGenerationSize`, run after every GC until the first mark-compact configures the
    /// limit: the initial limit follows the average survival rate down, but never below size + 8 MiB.
    pub(crate) fn record_survival_and_configure_initial_limit(&mut self, survival_percent: f64) {
        let survival = &mut self.limits.survival_percentages;
        if survival.len() == 10 {
            survival.pop_front();
        }
        survival.push_back(survival_percent);
        if self.limits.configured {
            return;
        }
        let average = survival.iter().sum::<f64>() / survival.len() as f64;
        let limit = formulas::initial_limit_after_gc(self.limits.allocation_limit, self.old_generation_size(), average);
        if limit < self.limits.allocation_limit {
            self.limits.allocation_limit = limit;
        } else {
            self.limits.configured = true;
        }
    }
}
