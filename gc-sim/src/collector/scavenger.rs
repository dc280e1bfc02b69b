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
use bumpalo::Bump;
use slotmap::SlotMap;

use super::HeapParts;
use crate::config::HeapConfig;
use crate::gc_tracer::CollectorCounts;
use crate::label_table::LabelTable;
use crate::object::{HeapObject, ObjectId, Space};
use crate::slots::{free_object, SlotArena};
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
    /// The heap's labels, for the tags of promoted objects.
    labels: &'h LabelTable,
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
                        self.promotions.record(self.labels.resolve(o.labels).tag, size, self.gc, self.start_ms);
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
                self.promotions.record(self.labels.resolve(o.labels).tag, o.size, self.gc, self.start_ms);
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

/// What a scavenge leaves the heap to do: its counters, the from-space's object list with the number of dead
/// objects in it (their headers are reclaimed lazily by later allocations), and the bytes that survived.
pub(crate) struct Scavenged {
    pub counts: CollectorCounts,
    pub from_space: Vec<ObjectId>,
    pub from_space_dead: u64,
    pub survived_bytes: u64,
    /// The most scratch memory in use at once.
    pub scratch_used: usize,
}

/// Runs a scavenge: flips the semi-spaces (the new to-space's object list is `to_space_list`), evacuates everything
/// reachable from the roots, the open handle scopes and the remembered set, and frees or promotes the young large
/// objects.
pub(crate) fn scavenge(parts: HeapParts<'_>, to_space_list: Vec<ObjectId>, scratch: &Bump) -> Scavenged {
    let new_space_before = parts.new_space.used_bytes;
    let from_space = parts.new_space.flip();
    parts.new_space.objects = to_space_list;
    let (counts, scratch_used) = {
        let mut scavenger = Scavenger {
            epoch: parts.new_space.epoch,
            objects: &mut *parts.objects,
            slots: &*parts.slots,
            new_space: &mut *parts.new_space,
            old_space: &mut *parts.old_space,
            remembered_set: &mut *parts.remembered_set,
            config: parts.config,
            lab: SurvivorLab::default(),
            promotion_list: ScratchVec::new_in(scratch),
            counts: ScavengeCounts::default(),
            promotions: &mut *parts.promotions,
            gc: parts.gc,
            start_ms: parts.start_ms,
            labels: parts.labels,
        };
        for set in parts.roots.sets() {
            for &id in set.handles.keys() {
                scavenger.evacuate(id);
            }
        }
        for &id in parts.scopes.handles() {
            scavenger.evacuate(id);
        }
        scavenger.process_remembered_set();
        scavenger.drain();
        let lab = scavenger.lab;
        scavenger.new_space.finish_survivors(&lab);
        // The promotion worklist still holds its largest capacity.
        (scavenger.counts, super::scratch_in_use(scratch))
    };

    // Young large objects not promoted are dead: freed whole. Promoted ones move to large-object space.
    let mut died_objects = 0u64;
    let mut died_bytes = 0u64;
    let young_large = std::mem::take(&mut parts.new_lo_space.objects);
    for &id in &young_large {
        let o = &parts.objects[id];
        let size = o.size;
        parts.new_lo_space.remove_bytes(size, &parts.config.page);
        if o.space() == Space::LargeObject {
            parts.lo_space.add(id, size, &parts.config.page);
        } else {
            died_objects += 1;
            died_bytes += u64::from(size);
            free_object(parts.objects, parts.slots, id);
        }
    }
    parts.new_lo_space.objects = young_large;
    parts.new_lo_space.objects.clear();

    // Everything left in from-space is dead.
    let from_survivors = counts.copied_objects + counts.promoted_from_new_space_objects;
    let from_space_dead = from_space.len() as u64 - from_survivors;
    died_objects += from_space_dead;
    died_bytes += new_space_before - counts.copied_bytes - counts.promoted_from_new_space_bytes;
    Scavenged {
        counts: CollectorCounts {
            copied_bytes: counts.copied_bytes,
            copied_objects: counts.copied_objects,
            promoted_bytes: counts.promoted_bytes,
            promoted_objects: counts.promoted_objects,
            died_bytes,
            died_objects,
            ..CollectorCounts::default()
        },
        from_space,
        from_space_dead,
        survived_bytes: counts.copied_bytes + counts.promoted_bytes,
        scratch_used,
    }
}
