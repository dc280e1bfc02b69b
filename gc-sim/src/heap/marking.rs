//! The heap's side of incremental marking: when a cycle starts (V8's `StartIncrementalMarkingIfAllocationLimitIsReached`),
//! the steps the mutator pays for as it allocates (the allocation observers of `incremental-marking.cc`), the steps
//! of the marking job's task, and when the mutator stops waiting for the finalization task ("via stack guard"). The
//! cycle itself is [`IncrementalMarking`](crate::collector::incremental_marking::IncrementalMarking).

use super::Heap;
use crate::collector::incremental_marking::{
    IncrementalMarking, MarkingPhase, StepOrigin, ALLOCATION_STEP_BYTES, MAX_ALLOCATION_STEP_MS, MAX_TASK_STEP_MS,
};
use crate::config::MIB;
use crate::controller::memory_reducer::ACTIVATION_THRESHOLD;
use crate::controller::{Generation, MarkingLimit};
use crate::error::HeapError;
use crate::gc_tracer::GcReason;

/// The near-the-limit test of `StepSizeToMakeProgress`: the old generation could not grow by new space's capacity
/// plus this (`oom_slack`).
const OOM_SLACK: u64 = 64 * MIB;

impl Heap {
    /// The old generation grew (promotions, pretenured allocation, an import): start incremental marking if its
    /// limit is reached, else (marking off, or the old generation at or under the activation threshold) the plain
    /// rule makes an atomic mark-compact due at the allocation limit. Also tells the memory reducer when the old
    /// generation grew by a megabyte before the first mark-compact (`NotifyOldGenerationExpansion`).
    pub(super) fn old_generation_grew(&mut self) {
        let size = self.old_generation_size();
        if !self.marking.is_active() {
            let threshold = self.config.incremental_marking_activation_threshold;
            if self.config.incremental_marking && size > threshold {
                match self.marking_limit() {
                    MarkingLimit::None => {}
                    MarkingLimit::Soft => self.tasks.start_marking = true,
                    MarkingLimit::Hard => self.start_incremental_marking(false),
                }
            } else {
                self.controller.old_generation_grew(size);
            }
        }
        if self.config.memory_reducer
            && self.tracer.totals.mark_compacts == 0
            && self.old_generation_capacity() >= self.old_generation_capacity_at_start + ACTIVATION_THRESHOLD
        {
            self.memory_reducer.notify_possible_garbage(self.tracer.now_ms);
        }
    }

    /// V8's `IncrementalMarkingLimitReached` for this heap.
    pub(super) fn marking_limit(&self) -> MarkingLimit {
        self.controller.incremental_marking_limit(
            self.old_generation_size(),
            self.old_generation_capacity(),
            self.new_space.capacity_bytes(),
            self.config.incremental_marking_activation_threshold,
        )
    }

    /// Starts a marking cycle now. A cycle started while the heap optimizes for memory reduces memory, as one the
    /// memory reducer starts (`GCFlagsForIncrementalMarking`).
    pub(super) fn start_incremental_marking(&mut self, memory_reducer: bool) {
        self.tasks.start_marking = false;
        let size = self.old_generation_size();
        let reduce_memory = memory_reducer || self.controller.optimize_for_memory(self.old_generation_capacity());
        self.marking.start(
            &mut self.objects,
            self.new_space.epoch,
            &self.roots,
            &self.scopes,
            self.tracer.now_ms,
            size,
            reduce_memory,
        );
    }

    /// Young allocation between two allocation steps: [`ALLOCATION_STEP_BYTES`], or a 16th of new space's initial
    /// capacity when that is smaller (V8's new space is at least 1 MiB, of which 64 KiB is a 16th; a tiny test heap
    /// keeps the proportion). It is also the minimum step.
    #[inline]
    pub(super) fn allocation_step_bytes(&self) -> u64 {
        ALLOCATION_STEP_BYTES.min(self.config.min_semi_space_size / 16).max(64)
    }

    /// One main-thread marking step, paid for by allocation or run by the marking job's task: as much as the
    /// schedule asks, within the step's time, at least the minimum step; its time is charged to the clock.
    pub(super) fn marking_step(&mut self, origin: StepOrigin) {
        if self.marking.phase() != MarkingPhase::Marking {
            return;
        }
        let near = !self
            .controller
            .can_expand_old_generation(self.old_generation_capacity(), self.new_space.capacity_bytes() + OOM_SLACK);
        let per_mib = self.config.pause.incremental_step_ms_per_mib;
        let max_ms = match origin {
            StepOrigin::Allocation => MAX_ALLOCATION_STEP_MS,
            StepOrigin::Task => MAX_TASK_STEP_MS,
        };
        let budget = self.marking.step_budget(
            origin,
            self.tracer.now_ms,
            near,
            self.old_generation_size(),
            self.allocation_step_bytes(),
            IncrementalMarking::max_step_bytes(max_ms, per_mib),
        );
        let bytes = self.marking.step(&mut self.objects, &self.slots, self.new_space.epoch, budget);
        let ms = self.config.pause.incremental_step_ms(bytes);
        self.marking.record_step(ms);
        self.tracer.advance(ms);
    }

    /// The allocation observers: after [`allocation_step_bytes`](Self::allocation_step_bytes) of young allocation
    /// or four times that of old allocation while marking, a step. Once marking is complete, the mutator waits for
    /// the marking job's task to finalize it if that task is known to come soon enough; otherwise (or once it has
    /// waited long enough) it finalizes marking itself ("finalize incremental marking via stack guard").
    pub(super) fn marking_step_on_allocation(&mut self) -> Result<(), HeapError> {
        self.marking.young_allocated_since_step = 0;
        self.marking.old_allocated_since_step = 0;
        self.marking_step(StepOrigin::Allocation);
        if self.marking.phase() == MarkingPhase::Complete
            && !self.marking.wait_for_completion_task(self.tracer.now_ms, self.tasks.time_to_marking_task_ms)
        {
            self.collect_garbage(Generation::Old, GcReason::FinalizeMarkingViaStackGuard)?;
        }
        Ok(())
    }

    /// Counts an allocation for the marking observers.
    #[inline]
    pub(super) fn marking_observe_allocation(&mut self, size: u64, young: bool) {
        if young {
            self.marking.young_allocated_since_step += size;
        } else {
            self.marking.old_generation_growth += size;
            self.marking.old_allocated_since_step += size;
        }
    }

    /// Whether the allocation observers ask for a step: [`allocation_step_bytes`](Self::allocation_step_bytes) of
    /// young allocation or four times that of old allocation since the last one.
    #[inline]
    pub(super) fn marking_step_due(&self) -> bool {
        let step = self.allocation_step_bytes();
        self.marking.young_allocated_since_step >= step || self.marking.old_allocated_since_step >= 4 * step
    }
}
