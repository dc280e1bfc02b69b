//! The collection driver (V8's `Heap::CollectGarbage`): the heap controller chooses the collector, the GC prologue
//! callbacks run, the tracer opens the event, the collector runs on the heap's parts, the heap controller resizes
//! new space and recomputes limits, the tracer closes the event, the GC epilogue callbacks run, and the heap
//! controller's checks may end the program.

use bumpalo::Bump;

use super::Heap;
use crate::collector::{mark_compact, scavenger, HeapParts};
use crate::controller::formulas::NewSpaceResize;
use crate::controller::Generation;
use crate::error::{HeapError, OomLocation, OutOfMemory};
use crate::gc_tracer::{Collector, CollectorCounts, GcEvent, GcReason, GcStart, SizesAfter};
use crate::object::MAX_EPOCH;

/// Scratch memory a collection may keep for the next one whatever they need: below this, giving it back would only
/// cost the next collection an allocation.
const SCRATCH_KEPT_BYTES: usize = 1 << 20;
/// A mark-compact gives the scratch arena back when it is more than this many times larger than what that
/// mark-compact and the scavenges since the previous one used. The arena grows by doubling, so it may be up to
/// twice what was used without the heap having shrunk.
const SCRATCH_SLACK: usize = 4;

impl Heap {
    /// Runs `callback` before every later collection, with the heap as it is just before the collection starts: as
    /// V8's GC prologue callbacks, for observers that want to see the heap (a heap map, a census).
    pub fn add_gc_prologue_callback(&mut self, callback: impl FnMut(&Heap, &GcStart) + 'static) {
        self.prologue_callbacks.push(Box::new(callback));
    }

    /// Runs `callback` after every later collection, with the heap as it is just after it and the collection's
    /// event: as V8's GC epilogue callbacks. It sees every event, also those [`events`](Self::events) no longer
    /// keeps.
    ///
    /// ```
    /// use gc_sim::{Collection, Heap};
    /// use std::{cell::RefCell, rc::Rc};
    ///
    /// let lines = Rc::new(RefCell::new(Vec::new()));
    /// let sink = Rc::clone(&lines);
    /// let mut heap = Heap::default();
    /// heap.add_gc_epilogue_callback(move |heap, event| {
    ///     sink.borrow_mut().push(format!("{} ({} objects left)", event.trace_gc_line(), heap.object_count()));
    /// });
    /// heap.collect(Collection::Major)?;
    /// assert!(lines.borrow()[0].contains("Mark-Compact"));
    /// # Ok::<(), gc_sim::HeapError>(())
    /// ```
    pub fn add_gc_epilogue_callback(&mut self, callback: impl FnMut(&Heap, &GcEvent) + 'static) {
        self.epilogue_callbacks.push(Box::new(callback));
    }

    /// V8's `Heap::CollectGarbage`: choose the collector, run it, then apply the heap-limit checks.
    ///
    /// A mark-compact while incremental marking runs finalizes that cycle (its marks stay: floating garbage
    /// survives), except the forced ones (`testing`, `last resort`), which drop the cycle and mark afresh, so that
    /// they free exactly the unreachable objects.
    pub(crate) fn collect_garbage(&mut self, requested: Generation, reason: GcReason) -> Result<GcEvent, HeapError> {
        let young_bytes = self.new_space.capacity_bytes() + self.new_lo_space.used_bytes;
        let (collector, collector_reason) =
            self.controller.select_collector(requested, self.old_generation_capacity(), young_bytes);
        let finalize = collector == Collector::MarkCompact
            && self.marking.is_active()
            && !matches!(reason, GcReason::Testing | GcReason::LastResort);
        if collector == Collector::MarkCompact && self.marking.is_active() && !finalize {
            self.abort_incremental_marking();
        }
        let reduce_memory = finalize && self.marking.reduce_memory;
        let start = GcStart { number: self.collections() + 1, collector, reason };
        self.run_prologue_callbacks(&start);

        let committed_before = self.old_generation_capacity();
        self.tracer.start(collector, reason, collector_reason, self.usage(), self.controller.allocation_limit());
        let young_bytes_before = self.new_space.used_bytes + self.new_lo_space.used_bytes;
        let resize =
            self.controller.new_space_resize(&mut self.new_space, self.tracer.allocation_throughput(), reduce_memory);
        let scratch = std::mem::take(&mut self.scratch);
        let (counts, scratch_used) = match collector {
            Collector::Scavenge => self.scavenge(resize, young_bytes_before, &scratch),
            Collector::MarkCompact => self.mark_compact(resize, young_bytes_before, &scratch, finalize),
        };
        self.scratch = scratch;
        self.recycle_scratch(collector, scratch_used);
        let pause = match collector {
            Collector::Scavenge => self.config.pause.scavenge_ms(counts.copied_bytes + counts.promoted_bytes),
            Collector::MarkCompact => {
                self.config.pause.mark_compact_ms(counts.pause_marked_bytes, counts.swept_pages, counts.evacuated_bytes)
            }
        };
        let incremental = finalize.then(|| self.marking.finish(self.tracer.now_ms));
        // V8 checks for ineffective mark-compacts in `RecomputeLimits`, before the tracer has counted this one: with
        // the average mutator utilization printed on the previous line.
        let average_mutator_utilization = self.tracer.average_mutator_utilization();
        self.tracer.stop(counts, pause, incremental, reduce_memory);
        if collector == Collector::MarkCompact {
            let mode = self.controller.growing_mode(
                reduce_memory,
                self.old_generation_capacity(),
                self.memory_reducer.should_grow_heap_slowly(),
            );
            self.controller.recompute_limits(
                self.old_generation_size(),
                self.new_space.capacity_bytes(),
                self.tracer.mark_compact_speed(),
                self.tracer.old_generation_allocation_throughput(),
                mode,
            );
        }
        let after = SizesAfter {
            usage: self.usage(),
            holes_bytes: self.old_space.holes_bytes(),
            semi_space_capacity: self.new_space.capacity_bytes(),
            old_generation_allocation_limit: self.controller.allocation_limit(),
        };
        let event = self.tracer.finish(after).clone();
        self.run_epilogue_callbacks(&event);
        self.after_collection_tasks(&event, committed_before);

        let checked = self.controller.after_collection(
            collector,
            self.old_generation_size(),
            self.old_generation_capacity(),
            average_mutator_utilization,
        );
        match checked {
            Ok(()) => {
                if collector == Collector::Scavenge {
                    self.old_generation_grew();
                }
                Ok(event)
            }
            Err(location) => Err(self.die(location)),
        }
    }

    /// Drops the running marking cycle and clears its marks.
    fn abort_incremental_marking(&mut self) {
        self.marking.stop();
        for o in self.objects.values_mut() {
            o.set_marked(false);
        }
    }

    fn run_prologue_callbacks(&mut self, start: &GcStart) {
        if self.prologue_callbacks.is_empty() {
            return;
        }
        let mut callbacks = std::mem::take(&mut self.prologue_callbacks);
        for callback in &mut callbacks {
            callback(self, start);
        }
        self.prologue_callbacks = callbacks;
    }

    fn run_epilogue_callbacks(&mut self, event: &GcEvent) {
        if self.epilogue_callbacks.is_empty() {
            return;
        }
        let mut callbacks = std::mem::take(&mut self.epilogue_callbacks);
        for callback in &mut callbacks {
            callback(self, event);
        }
        self.epilogue_callbacks = callbacks;
    }

    /// The parts of the heap a collector works on, split-borrowed.
    fn collector_parts(&mut self) -> HeapParts<'_> {
        HeapParts {
            objects: &mut self.objects,
            slots: &mut self.slots,
            new_space: &mut self.new_space,
            new_lo_space: &mut self.new_lo_space,
            old_space: &mut self.old_space,
            lo_space: &mut self.lo_space,
            remembered_set: &mut self.remembered_set,
            roots: &self.roots,
            scopes: &self.scopes,
            labels: &self.labels,
            promotions: &mut self.tag_promotions,
            config: &self.config,
            gc: self.tracer.collections,
            start_ms: self.tracer.now_ms,
        }
    }

    /// A scavenge, with what the heap does around it: new space grows before and shrinks after as the heap
    /// controller decided, and the from-space's dead headers join the backlog.
    fn scavenge(
        &mut self,
        resize: NewSpaceResize,
        young_bytes_before: u64,
        scratch: &Bump,
    ) -> (CollectorCounts, usize) {
        if resize == NewSpaceResize::Grow {
            self.controller.grow_new_space(&mut self.new_space);
        }
        if self.new_space.epoch == MAX_EPOCH {
            // The flip wraps the epoch to 0, and a dead young header of epoch 0 would read as live again: none may
            // wait.
            self.dead_young.reclaim_all(&mut self.objects, &mut self.slots, self.new_space.epoch);
        }
        let to_space_list = self.dead_young.take_spare_list();
        let at_maximum = self.new_space.capacity_pages == self.new_space.max_pages;
        let scavenged = scavenger::scavenge(self.collector_parts(), to_space_list, scratch);
        if self.config.allocation_site_pretenuring && self.labels.has_sites() {
            // The mementos found: what survived its first scavenge was copied, and is the to-space's list (V8
            // counts them in the scavenger; a pass here keeps the scavenger's loop as it was, measured 15 % faster,
            // and costs nothing on a heap without sites). With `promotion_age` 0 nothing is copied and nothing is
            // counted.
            for &id in &self.new_space.objects {
                if let Some(o) = self.objects.get(id) {
                    if o.age() == 1 {
                        self.pretenuring.found(&self.labels, o.labels);
                    }
                }
            }
            self.pretenuring.digest(at_maximum);
        }
        self.dead_young.push(scavenged.from_space, scavenged.from_space_dead);

        let counts = scavenged.counts;
        if self.marking.is_active() {
            self.marking.after_scavenge(&self.objects, self.new_space.epoch, counts.died_bytes);
            self.marking.old_generation_growth += counts.promoted_bytes;
        }
        self.new_space.survived_since_last_expansion += scavenged.survived_bytes;
        if resize == NewSpaceResize::Shrink {
            self.controller.shrink_new_space(&mut self.new_space);
        }
        self.tracer.record_old_generation_growth(counts.promoted_bytes);
        if young_bytes_before > 0 {
            let percent = 100.0 * scavenged.survived_bytes as f64 / young_bytes_before as f64;
            self.controller.record_survival(percent, self.old_generation_size());
        }
        (counts, scavenged.scratch_used)
    }

    /// A mark-compact, with what the heap does around it: no dead young header is left to reclaim, new space is
    /// resized as the heap controller decided, and the promoted bytes count as survival.
    fn mark_compact(
        &mut self,
        resize: NewSpaceResize,
        young_bytes_before: u64,
        scratch: &Bump,
        finalize: bool,
    ) -> (CollectorCounts, usize) {
        let mut worklist = if finalize { std::mem::take(self.marking.worklist_mut()) } else { Vec::new() };
        let incremental = finalize.then_some(&mut worklist);
        let compacted = mark_compact::mark_compact(self.collector_parts(), scratch, incremental);
        *self.marking.worklist_mut() = worklist;
        self.dead_young.clear_after_full_gc();
        let promoted_bytes = compacted.counts.promoted_bytes;
        self.new_space.survived_since_last_expansion += promoted_bytes;
        match resize {
            NewSpaceResize::Grow => self.controller.grow_new_space(&mut self.new_space),
            NewSpaceResize::Shrink => self.controller.shrink_new_space(&mut self.new_space),
            NewSpaceResize::None => {}
        }
        self.tracer.record_old_generation_growth(promoted_bytes);
        if young_bytes_before > 0 {
            let percent = 100.0 * promoted_bytes as f64 / young_bytes_before as f64;
            self.controller.record_survival(percent, self.old_generation_size());
        }
        (compacted.counts, compacted.scratch_used)
    }

    /// Ends a collection's use of scratch memory. The arena is reset, which keeps its last (largest) chunk so that
    /// the next collection finds it in memory: faulting the sweep's list of live old objects (16 B each) in again
    /// at every full GC made large full GCs measurably slower (the figures are in docs/performance.md, "Memory per
    /// live object"). V8 frees its marking worklists' segments as they drain; the simulator gives its arena back once
    /// the heap has shrunk: after a mark-compact, when the arena is more than [`SCRATCH_SLACK`] times larger than
    /// what that mark-compact and the scavenges since the previous one used. Scavenges never give it back: what
    /// they use is bounded by new space.
    fn recycle_scratch(&mut self, collector: Collector, used: usize) {
        self.scratch.reset();
        match collector {
            Collector::Scavenge => self.scavenge_scratch_used = self.scavenge_scratch_used.max(used),
            Collector::MarkCompact => {
                let needed = used.max(std::mem::take(&mut self.scavenge_scratch_used));
                if self.scratch.allocated_bytes() > SCRATCH_KEPT_BYTES.max(SCRATCH_SLACK * needed) {
                    self.scratch = Bump::new();
                }
            }
        }
    }

    /// Marks the program dead and returns the error to report.
    pub(super) fn die(&mut self, location: OomLocation) -> HeapError {
        let oom = OutOfMemory {
            location,
            at_ms: self.tracer.now_ms,
            old_generation_bytes: self.old_generation_size(),
            max_old_generation_size: self.config.max_old_generation_size,
        };
        self.oom = Some(oom.clone());
        HeapError::OutOfMemory(oom)
    }
}
