//! The Mark-Compact collector: V8's full GC (`mark-compact.cc`), in named phases.
//!
//! 1. **Mark** from the roots and the open handle scopes through both generations, with an explicit worklist in
//!    per-collection scratch memory (no recursion; a million-long list is fine).
//! 2. **Sweep**: free every unmarked object, then rebuild old space's per-page live bytes and free lists from the
//!    gaps between live objects (gaps under the minimum block are holes). Empty pages are released, but one.
//! 3. **Evacuate**: pages whose free bytes are at least [`evacuation_threshold_percent`] of the page area are
//!    candidates, taken by ascending live bytes while their live bytes add up to at most
//!    [`max_evacuated_bytes`]; their objects move to other pages and the candidates are released. Every
//!    surviving young object is promoted, as V8's full GC does (`AlwaysPromoteYoung::kYes`).
//! 4. **Finish**: new space is left empty, the remembered set is cleared, and the old generation's allocation
//!    limit is recomputed by the [heap controller](crate::controller).
//!
//! Handles do not change when objects move, so "updating references" has no work to do here; its cost is part of
//! the pause model's per-MiB evacuation cost.
//!
//! [`evacuation_threshold_percent`]: crate::HeapConfig::evacuation_threshold_percent
//! [`max_evacuated_bytes`]: crate::HeapConfig::max_evacuated_bytes

use bumpalo::collections::Vec as ScratchVec;
use bumpalo::Bump;

use crate::controller::formulas::{self, NewSpaceResize};
use crate::gc_tracer::{Collector, CollectorReason, GcEvent, GcReason};
use crate::heap::{scratch_in_use, Heap};
use crate::object::{ObjectId, Space};

/// What sweeping and evacuation report.
#[derive(Debug, Default)]
struct SweepCounts {
    swept_pages: u64,
    evacuated_pages: u64,
    evacuated_bytes: u64,
    released_pages: u64,
}

impl Heap {
    /// Runs a mark-compact and returns its event (the caller records it and applies the heap-limit checks).
    pub(crate) fn mark_compact(&mut self, reason: GcReason, collector_reason: Option<CollectorReason>) -> GcEvent {
        let mut event = self.begin_event(Collector::MarkCompact, reason, collector_reason);
        let young_bytes_before = self.new_space.used_bytes + self.new_lo_space.used_bytes;
        let resize = self.decide_new_space_resize();

        let scratch = std::mem::take(&mut self.scratch);
        let (marked_objects, marked_bytes) = self.mark(&scratch);
        let (died_objects, died_bytes, live_old) = self.sweep_objects(&scratch);
        // Scratch use peaks here (the list of live old objects) or at the end of marking (the worklist).
        self.scratch_used = self.scratch_used.max(scratch_in_use(&scratch));
        let mut counts = self.sweep_and_evacuate_old_space(live_old, &scratch);
        let (mut promoted_objects, mut promoted_bytes) = self.promote_young_survivors();
        let (released, large_objects, large_bytes) = self.finish_large_object_space();
        counts.released_pages += released;
        promoted_objects += large_objects;
        promoted_bytes += large_bytes;
        self.scratch = scratch;

        // New space is empty now; so is the remembered set. To-space keeps its object list for the mutator; the lists
        // of past from-spaces, each sized for a full semi-space, are freed rather than kept as spares while new space
        // holds nothing: the next scavenges grow new ones (a few allocations, once).
        let list = std::mem::take(&mut self.new_space.objects);
        self.new_space.reset_after_full_gc();
        self.new_space.objects = list;
        self.new_space.objects.clear();
        self.unreclaimed.clear();
        self.spare_lists.clear();
        self.unreclaimed_dead = 0;
        self.remembered_set.clear();
        self.new_space.survived_since_last_expansion += promoted_bytes;
        match resize {
            NewSpaceResize::Grow => self.grow_new_space(),
            NewSpaceResize::Shrink => self.shrink_new_space(),
            NewSpaceResize::None => {}
        }
        self.tracer.old_generation_allocated_since_gc += promoted_bytes;
        if young_bytes_before > 0 {
            self.record_survival_and_configure_initial_limit(100.0 * promoted_bytes as f64 / young_bytes_before as f64);
        }

        event.promoted_bytes = promoted_bytes;
        event.promoted_objects = promoted_objects;
        event.died_bytes = died_bytes;
        event.died_objects = died_objects;
        event.marked_bytes = marked_bytes;
        event.marked_objects = marked_objects;
        event.swept_pages = counts.swept_pages;
        event.evacuated_pages = counts.evacuated_pages;
        event.evacuated_bytes = counts.evacuated_bytes;
        event.released_pages = counts.released_pages;
        let pause = self.config.pause.mark_compact_ms(marked_bytes, counts.swept_pages, counts.evacuated_bytes);
        self.tracer.end_cycle(pause, Some(marked_bytes));
        self.recompute_limits();
        self.fill_event_after(&mut event, pause);
        event
    }

    /// Phase 1: marks everything reachable from the roots and handle scopes; returns marked objects and bytes.
    fn mark(&mut self, scratch: &Bump) -> (u64, u64) {
        let mut worklist: ScratchVec<'_, ObjectId> = ScratchVec::new_in(scratch);
        let (mut objects, mut bytes) = (0u64, 0u64);
        let mut mark = |id: ObjectId, worklist: &mut ScratchVec<'_, ObjectId>, heap: &mut Heap| {
            if let Some(o) = heap.objects.get_mut(id) {
                if !o.is_marked() {
                    o.set_marked(true);
                    objects += 1;
                    bytes += u64::from(o.size);
                    worklist.push(id);
                }
            }
        };
        for i in 0..self.roots.sets().len() {
            // Roots are few; walking them by index leaves `self` free for marking.
            let ids: ScratchVec<'_, ObjectId> =
                ScratchVec::from_iter_in(self.roots.sets()[i].handles.keys().copied(), scratch);
            for id in ids {
                mark(id, &mut worklist, self);
            }
        }
        for i in 0..self.scopes.handles().len() {
            let id = self.scopes.handles()[i];
            mark(id, &mut worklist, self);
        }
        while let Some(id) = worklist.pop() {
            let (start, count) = (self.objects[id].slot_start, self.objects[id].slot_count);
            for index in start..start + count {
                if let Some(target) = self.slots.get(index) {
                    mark(target, &mut worklist, self);
                }
            }
        }
        // The worklist still holds its largest capacity.
        self.scratch_used = scratch_in_use(scratch);
        (objects, bytes)
    }

    /// Phase 2a: frees every unmarked object. Returns the dead count and bytes (of objects that were alive) and the
    /// live old-space objects as `(page << 32 | offset, id)`, sorted by address.
    fn sweep_objects<'s>(&mut self, scratch: &'s Bump) -> (u64, u64, ScratchVec<'s, (u64, ObjectId)>) {
        // Sized once for every old object (an upper bound on the live ones): growing it in the bump arena would leave
        // each outgrown copy behind in scratch memory, up to twice the final size, until the arena is reset.
        let mut live_old = ScratchVec::with_capacity_in(self.old_space.objects as usize, scratch);
        let (mut died_objects, mut died_bytes) = (0u64, 0u64);
        let epoch = self.new_space.epoch;
        let geometry = self.config.page;
        let slots = &mut self.slots;
        let (new_lo, lo) = (&mut self.new_lo_space, &mut self.lo_space);
        self.objects.retain(|id, o| {
            if o.is_marked() {
                match o.space() {
                    Space::Old => {
                        o.set_marked(false);
                        live_old.push(((u64::from(o.address.page) << 32) | u64::from(o.address.offset), id));
                    }
                    Space::LargeObject => o.set_marked(false),
                    // Young survivors stay marked until they are promoted, in address order.
                    Space::New | Space::NewLargeObject => {}
                }
                return true;
            }
            let was_alive = o.space() != Space::New || o.epoch() == epoch;
            if was_alive {
                died_objects += 1;
                died_bytes += u64::from(o.size);
            }
            match o.space() {
                Space::LargeObject => lo.remove_bytes(o.size, &geometry),
                Space::NewLargeObject => new_lo.remove_bytes(o.size, &geometry),
                Space::New | Space::Old => {}
            }
            slots.free(o.slot_start, o.slot_count);
            false
        });
        live_old.sort_unstable_by_key(|&(key, _)| key);
        (died_objects, died_bytes, live_old)
    }

    /// Phases 2b and 3 for old space: per-page live bytes, evacuation candidates, free lists, evacuation, release.
    fn sweep_and_evacuate_old_space(
        &mut self,
        live_old: ScratchVec<'_, (u64, ObjectId)>,
        scratch: &Bump,
    ) -> SweepCounts {
        let area = self.config.page.area_size;
        let space = &mut self.old_space;
        let mut counts = SweepCounts::default();

        // Live bytes per page, exactly.
        for page in space.pages.iter_mut() {
            page.live_bytes = 0;
        }
        space.used_bytes = 0;
        space.objects = live_old.len() as u64;
        for &(_, id) in live_old.iter() {
            let o = &self.objects[id];
            space.pages[o.address.page as usize].live_bytes += o.size;
            space.used_bytes += u64::from(o.size);
        }

        // Evacuation candidates: fragmented pages, emptiest first, up to max_evacuated_bytes of live data.
        let threshold = u64::from(area) * u64::from(self.config.evacuation_threshold_percent) / 100;
        let mut candidates: ScratchVec<'_, u32> = ScratchVec::from_iter_in(
            (0..space.pages.len() as u32).filter(|&p| {
                let page = space.pages[p as usize];
                page.in_use && page.live_bytes > 0 && u64::from(area - page.live_bytes) >= threshold
            }),
            scratch,
        );
        candidates.sort_by_key(|&p| (space.pages[p as usize].live_bytes, p));
        let mut evacuated_live = 0u64;
        let taken = candidates
            .iter()
            .take_while(|&&p| {
                evacuated_live += u64::from(space.pages[p as usize].live_bytes);
                evacuated_live <= self.config.max_evacuated_bytes
            })
            .count();
        candidates.truncate(taken);
        let mut is_candidate: ScratchVec<'_, bool> =
            ScratchVec::from_iter_in(std::iter::repeat_n(false, space.pages.len()), scratch);
        for &p in candidates.iter() {
            is_candidate[p as usize] = true;
        }

        // Sweep: rebuild the free lists from the gaps between live objects of every other page.
        space.reset_linear_area();
        space.free_list.clear();
        space.wasted_bytes = 0;
        let (area_start, area_end) = (self.config.page.area_start, self.config.page.area_end());
        let mut next = 0usize;
        let mut kept_empty_page = false;
        for p in 0..space.pages.len() as u32 {
            let first = next;
            while next < live_old.len() && (live_old[next].0 >> 32) as u32 == p {
                next += 1;
            }
            if !space.pages[p as usize].in_use || is_candidate[p as usize] {
                continue;
            }
            counts.swept_pages += 1;
            if first == next {
                if kept_empty_page {
                    space.release_page(p);
                    counts.released_pages += 1;
                } else {
                    kept_empty_page = true;
                    space.add_free(p, area_start, area_end - area_start);
                }
                continue;
            }
            let mut top = area_start;
            for &(key, id) in &live_old[first..next] {
                let offset = key as u32;
                space.add_free(p, top, offset - top);
                top = offset + self.objects[id].size;
            }
            space.add_free(p, top, area_end - top);
        }

        // Evacuate the candidates, emptiest first, objects in address order.
        for &p in candidates.iter() {
            let range = live_old.partition_point(|&(key, _)| ((key >> 32) as u32) < p);
            for &(_, id) in live_old[range..].iter().take_while(|&&(key, _)| (key >> 32) as u32 == p) {
                let size = self.objects[id].size;
                space.remove_object(p, size);
                let address = space.allocate(size);
                self.objects[id].address = address;
                counts.evacuated_bytes += u64::from(size);
            }
            space.release_page(p);
            counts.evacuated_pages += 1;
            counts.released_pages += 1;
        }
        counts
    }

    /// Phase 3 for the young generation: every surviving young object is promoted, in address order.
    fn promote_young_survivors(&mut self) -> (u64, u64) {
        let (mut objects, mut bytes) = (0u64, 0u64);
        for i in 0..self.new_space.objects.len() {
            let id = self.new_space.objects[i];
            let Some(o) = self.objects.get_mut(id) else { continue };
            if !(o.is_marked() && o.space() == Space::New) {
                continue;
            }
            o.set_marked(false);
            o.set_space(Space::Old);
            o.grow_older();
            let size = o.size;
            o.address = self.old_space.allocate(size);
            self.tag_promotions.record(
                o.labels.resolve(&self.label_sets).tag,
                size,
                self.tracer.collections,
                self.tracer.now_ms,
            );
            objects += 1;
            bytes += u64::from(size);
        }
        (objects, bytes)
    }

    /// Large objects: young survivors are promoted by moving their page; dead ones were freed by the sweep.
    /// Returns the number of large pages released and the objects and bytes promoted.
    fn finish_large_object_space(&mut self) -> (u64, u64, u64) {
        let before = self.lo_space.objects.len() + self.new_lo_space.objects.len();
        let objects = &self.objects;
        self.lo_space.objects.retain(|&id| objects.contains_key(id));
        let young = std::mem::take(&mut self.new_lo_space.objects);
        let mut promoted = (0u64, 0u64);
        for &id in &young {
            let Some(o) = self.objects.get_mut(id) else { continue };
            o.set_marked(false);
            o.set_space(Space::LargeObject);
            o.grow_older();
            let size = o.size;
            self.tag_promotions.record(
                o.labels.resolve(&self.label_sets).tag,
                size,
                self.tracer.collections,
                self.tracer.now_ms,
            );
            self.new_lo_space.remove_bytes(size, &self.config.page);
            self.lo_space.add(id, size, &self.config.page);
            promoted.0 += 1;
            promoted.1 += u64::from(size);
        }
        self.new_lo_space.objects = young;
        self.new_lo_space.objects.clear();
        let after = self.lo_space.objects.len();
        ((before - after) as u64, promoted.0, promoted.1)
    }

    /// V8's `RecomputeLimits` after a mark-compact: new limit from the growing factor, which follows the modelled
    /// GC speed over the mutator's old-generation allocation speed.
    fn recompute_limits(&mut self) {
        let max_old = self.config.max_old_generation_size;
        let factor = formulas::growing_factor(
            self.tracer.mark_compact_speed(),
            self.tracer.old_generation_allocation_throughput(),
            formulas::max_growing_factor(max_old),
        );
        self.limits.allocation_limit = formulas::allocation_limit(
            self.old_generation_size(),
            formulas::DEFAULT_MIN_OLD_GENERATION_LIMIT,
            max_old,
            self.new_space.capacity_bytes(),
            factor,
        );
        self.limits.configured = true;
    }
}
