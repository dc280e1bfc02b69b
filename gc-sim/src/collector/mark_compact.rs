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

use super::{incremental_marking, scratch_in_use, HeapParts};
use crate::gc_tracer::CollectorCounts;
use crate::object::{ObjectId, Space};

/// What sweeping and evacuation report.
#[derive(Debug, Default)]
struct SweepCounts {
    swept_pages: u64,
    evacuated_pages: u64,
    evacuated_bytes: u64,
    released_pages: u64,
}

/// What a mark-compact leaves the heap to do: its counters and the most scratch memory in use at once.
pub(crate) struct MarkCompacted {
    pub counts: CollectorCounts,
    pub scratch_used: usize,
}

/// Runs a mark-compact over both generations: mark, sweep, evacuate, promote every young survivor, and leave new
/// space and the remembered set empty.
///
/// With `incremental`, the worklist of an incremental marking cycle, the collection finalizes that cycle: marks set
/// during the cycle stay, the roots are marked again and the worklist is drained; only that work is in the pause.
pub(crate) fn mark_compact(
    parts: HeapParts<'_>,
    scratch: &Bump,
    incremental: Option<&mut Vec<ObjectId>>,
) -> MarkCompacted {
    let mut collector = MarkCompactCollector { heap: parts, scratch_used: 0 };
    let heap = &mut collector;
    let pause_marked_bytes = match incremental {
        None => heap.mark(scratch),
        Some(worklist) => heap.finalize_marking(worklist),
    };
    let (marked_objects, marked_bytes, died_objects, died_bytes, live_old) = heap.sweep_objects(scratch);
    // Scratch use peaks here (the list of live old objects) or at the end of marking (the worklist).
    heap.scratch_used = heap.scratch_used.max(scratch_in_use(scratch));
    let mut counts = heap.sweep_and_evacuate_old_space(live_old, scratch);
    let (mut promoted_objects, mut promoted_bytes) = heap.promote_young_survivors();
    let (released, large_objects, large_bytes) = heap.finish_large_object_space();
    counts.released_pages += released;
    promoted_objects += large_objects;
    promoted_bytes += large_bytes;

    // New space is empty now; so is the remembered set. To-space keeps its object list for the mutator.
    let parts = &mut collector.heap;
    let list = std::mem::take(&mut parts.new_space.objects);
    parts.new_space.reset_after_full_gc();
    parts.new_space.objects = list;
    parts.new_space.objects.clear();
    parts.remembered_set.clear();
    MarkCompacted {
        counts: CollectorCounts {
            promoted_bytes,
            promoted_objects,
            died_bytes,
            died_objects,
            marked_bytes,
            marked_objects,
            pause_marked_bytes,
            swept_pages: counts.swept_pages,
            evacuated_pages: counts.evacuated_pages,
            evacuated_bytes: counts.evacuated_bytes,
            released_pages: counts.released_pages,
            ..CollectorCounts::default()
        },
        scratch_used: collector.scratch_used,
    }
}

/// The mark-compact collector: the heap's parts, split-borrowed, and its scratch-memory peak.
struct MarkCompactCollector<'h> {
    heap: HeapParts<'h>,
    scratch_used: usize,
}

impl MarkCompactCollector<'_> {
    /// Phase 1 after incremental marking: the roots again (they have no barrier), then everything grey; returns the
    /// bytes visited in the pause.
    fn finalize_marking(&mut self, worklist: &mut Vec<ObjectId>) -> u64 {
        let epoch = self.heap.new_space.epoch;
        incremental_marking::mark_roots(self.heap.objects, epoch, self.heap.roots, self.heap.scopes, worklist);
        incremental_marking::drain(self.heap.objects, self.heap.slots, epoch, worklist, u64::MAX)
    }

    /// Phase 1: marks everything reachable from the roots and handle scopes; returns the marked bytes.
    fn mark(&mut self, scratch: &Bump) -> u64 {
        // The worklist holds the slot runs of marked objects still to scan (8 bytes, as a handle would be), so that
        // scanning does not read the header a second time.
        let mut worklist: ScratchVec<'_, (u32, u32)> = ScratchVec::new_in(scratch);
        let mut bytes = 0u64;
        // The parts the marking loop touches, borrowed apart: the headers (written), the slots (read).
        let objects = &mut *self.heap.objects;
        let slots = &*self.heap.slots;
        let mut mark = |id: ObjectId, worklist: &mut ScratchVec<'_, (u32, u32)>| {
            if let Some(o) = objects.get_mut(id) {
                if !o.is_marked() {
                    o.set_marked(true);
                    bytes += u64::from(o.size);
                    if o.slot_count > 0 {
                        worklist.push((o.slot_start, o.slot_count));
                    }
                }
            }
        };
        for set in self.heap.roots.sets() {
            for &id in set.handles.keys() {
                mark(id, &mut worklist);
            }
        }
        for &id in self.heap.scopes.handles() {
            mark(id, &mut worklist);
        }
        while let Some((start, count)) = worklist.pop() {
            for index in start..start + count {
                if let Some(target) = slots.get(index) {
                    mark(target, &mut worklist);
                }
            }
        }
        // The worklist still holds its largest capacity.
        self.scratch_used = scratch_in_use(scratch);
        bytes
    }

    /// Phase 2a: frees every unmarked object, and every marked young one a scavenge left behind during incremental
    /// marking. Returns the marked (live) count and bytes, the dead count and bytes (of objects that were alive) and
    /// the live old-space objects as `(page << 32 | offset, id)`, sorted by address.
    #[allow(clippy::type_complexity)]
    fn sweep_objects<'s>(&mut self, scratch: &'s Bump) -> (u64, u64, u64, u64, ScratchVec<'s, (u64, ObjectId)>) {
        // Sized once for every old object (an upper bound on the live ones): growing it in the bump arena would leave
        // each outgrown copy behind in scratch memory, up to twice the final size, until the arena is reset.
        let mut live_old = ScratchVec::with_capacity_in(self.heap.old_space.objects as usize, scratch);
        let (mut died_objects, mut died_bytes, mut live_objects, mut live_bytes) = (0u64, 0u64, 0u64, 0u64);
        let epoch = self.heap.new_space.epoch;
        let geometry = self.heap.config.page;
        let slots = &mut self.heap.slots;
        let (new_lo, lo) = (&mut self.heap.new_lo_space, &mut self.heap.lo_space);
        self.heap.objects.retain(|id, o| {
            let was_alive = o.is_live(epoch);
            if o.is_marked() && was_alive {
                live_objects += 1;
                live_bytes += u64::from(o.size);
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
        (live_objects, live_bytes, died_objects, died_bytes, live_old)
    }

    /// Phases 2b and 3 for old space: per-page live bytes, evacuation candidates, free lists, evacuation, release.
    fn sweep_and_evacuate_old_space(
        &mut self,
        live_old: ScratchVec<'_, (u64, ObjectId)>,
        scratch: &Bump,
    ) -> SweepCounts {
        let area = self.heap.config.page.area_size;
        let space = &mut self.heap.old_space;
        let mut counts = SweepCounts::default();

        // Live bytes per page, exactly.
        for page in space.pages.iter_mut() {
            page.live_bytes = 0;
        }
        space.used_bytes = 0;
        space.objects = live_old.len() as u64;
        for &(_, id) in live_old.iter() {
            let o = &self.heap.objects[id];
            space.pages[o.address.page as usize].live_bytes += o.size;
            space.used_bytes += u64::from(o.size);
        }

        // Evacuation candidates: fragmented pages, emptiest first, up to max_evacuated_bytes of live data.
        let threshold = u64::from(area) * u64::from(self.heap.config.evacuation_threshold_percent) / 100;
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
                evacuated_live <= self.heap.config.max_evacuated_bytes
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
        let (area_start, area_end) = (self.heap.config.page.area_start, self.heap.config.page.area_end());
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
                top = offset + self.heap.objects[id].size;
            }
            space.add_free(p, top, area_end - top);
        }

        // Evacuate the candidates, emptiest first, objects in address order.
        for &p in candidates.iter() {
            let range = live_old.partition_point(|&(key, _)| ((key >> 32) as u32) < p);
            for &(_, id) in live_old[range..].iter().take_while(|&&(key, _)| (key >> 32) as u32 == p) {
                let size = self.heap.objects[id].size;
                space.remove_object(p, size);
                let address = space.allocate(size);
                self.heap.objects[id].address = address;
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
        for i in 0..self.heap.new_space.objects.len() {
            let id = self.heap.new_space.objects[i];
            let Some(o) = self.heap.objects.get_mut(id) else { continue };
            if !(o.is_marked() && o.space() == Space::New) {
                continue;
            }
            o.set_marked(false);
            o.set_space(Space::Old);
            o.grow_older();
            let size = o.size;
            o.address = self.heap.old_space.allocate(size);
            self.heap.promotions.record(self.heap.labels.resolve(o.labels).tag, size, self.heap.gc, self.heap.start_ms);
            objects += 1;
            bytes += u64::from(size);
        }
        (objects, bytes)
    }

    /// Large objects: young survivors are promoted by moving their page; dead ones were freed by the sweep.
    /// Returns the number of large pages released and the objects and bytes promoted.
    fn finish_large_object_space(&mut self) -> (u64, u64, u64) {
        let before = self.heap.lo_space.objects.len() + self.heap.new_lo_space.objects.len();
        let objects = &self.heap.objects;
        self.heap.lo_space.objects.retain(|&id| objects.contains_key(id));
        let young = std::mem::take(&mut self.heap.new_lo_space.objects);
        let mut promoted = (0u64, 0u64);
        for &id in &young {
            let Some(o) = self.heap.objects.get_mut(id) else { continue };
            o.set_marked(false);
            o.set_space(Space::LargeObject);
            o.grow_older();
            let size = o.size;
            self.heap.promotions.record(self.heap.labels.resolve(o.labels).tag, size, self.heap.gc, self.heap.start_ms);
            self.heap.new_lo_space.remove_bytes(size, &self.heap.config.page);
            self.heap.lo_space.add(id, size, &self.heap.config.page);
            promoted.0 += 1;
            promoted.1 += u64::from(size);
        }
        self.heap.new_lo_space.objects = young;
        self.heap.new_lo_space.objects.clear();
        let after = self.heap.lo_space.objects.len();
        ((before - after) as u64, promoted.0, promoted.1)
    }
}
