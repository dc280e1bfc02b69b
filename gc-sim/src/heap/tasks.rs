//! The heap's foreground tasks and timers, run when the mutator's clock advances (turns of Node's event loop): the
//! scavenge task (V8's `scavenge-job.cc`/`minor-gc-job.cc`), the incremental marking job
//! (`incremental-marking-job.cc`: a start task at the soft limit, then one step per turn, and finalization "via
//! task"), the concurrent marker, and the memory reducer's timer (`memory-reducer.cc`).
//!
//! [`Heap::advance`] is a stretch of event-loop time. Tasks posted while the mutator ran execute at its start; while
//! marking runs, the marking job's task runs again every [`TURN_MS`] of it (V8 re-posts it at once, and a task runs
//! at every turn of the loop). The concurrent marker works as the time passes, and the memory reducer's timer fires
//! at its time, also inside a long idle stretch.

use super::Heap;
use crate::collector::incremental_marking::{MarkingPhase, StepOrigin};
use crate::controller::memory_reducer::ReducerAction;
use crate::controller::{Generation, MarkingLimit};
use crate::error::HeapError;
use crate::gc_tracer::{Collector, GcEvent, GcReason};

/// How often the marking job's task runs in a stretch of event-loop time.
const TURN_MS: f64 = 1.0;
/// Mutator utilization above which allocation counts as slow (V8's `kHighMutatorUtilization` in
/// `HasLowAllocationRate`).
const HIGH_MUTATOR_UTILIZATION: f64 = 0.993;
/// The collector speed assumed when none is known (`kConservativeGcSpeedInBytesPerMillisecond`).
const CONSERVATIVE_GC_SPEED: f64 = 200_000.0;

impl Heap {
    /// Lets `ms` of event-loop time pass (see the module's documentation). Pauses of the collections that tasks run
    /// add to the clock.
    pub(super) fn run_event_loop(&mut self, ms: f64) -> Result<(), HeapError> {
        self.run_posted_tasks()?;
        let mut remaining = ms;
        let mut first_turn = true;
        loop {
            if self.marking.is_active() && !first_turn {
                self.marking_task()?;
            }
            first_turn = false;
            let now = self.tracer.now_ms;
            let mut dt = remaining;
            if self.marking.is_active() {
                dt = dt.min(TURN_MS);
            }
            if let Some(due) = self.memory_reducer.timer_due_ms() {
                dt = dt.min((due - now).max(0.0));
            }
            if dt > 0.0 {
                self.concurrent_marking(dt);
                self.tracer.advance(dt);
                remaining -= dt;
            }
            if self.memory_reducer.timer_due_ms().is_some_and(|due| self.tracer.now_ms >= due) {
                self.memory_reducer_timer();
            }
            if remaining <= 0.0 {
                return Ok(());
            }
        }
    }

    /// Runs the tasks posted while the mutator ran: the scavenge task, the marking job's start or step task.
    fn run_posted_tasks(&mut self) -> Result<(), HeapError> {
        if std::mem::take(&mut self.tasks.scavenge) && self.new_space.used_bytes >= self.scavenge_task_trigger_bytes() {
            self.collect_garbage(Generation::Young, GcReason::Task)?;
        }
        if std::mem::take(&mut self.tasks.start_marking)
            && !self.marking.is_active()
            && self.marking_limit() != MarkingLimit::None
        {
            self.start_incremental_marking(false);
        }
        if self.marking.is_active() {
            self.marking_task()?;
        }
        Ok(())
    }

    /// New space's fill at which the scavenge task is posted: a percentage of its current capacity in whole pages
    /// (V8's `TotalCapacity`).
    pub(super) fn scavenge_task_trigger_bytes(&self) -> u64 {
        match self.config.scavenge_task_trigger_percent {
            0 => u64::MAX,
            percent => {
                u64::from(self.new_space.capacity_pages) * u64::from(self.config.page.page_size) * u64::from(percent)
                    / 100
            }
        }
    }

    /// The scavenge task's allocation observer (V8's `ScavengeTaskObserver`): every trigger's worth of new space as
    /// it was at the start (80 % of 1 MiB, 838,860 B, in Node), it posts the task if new space is past the trigger.
    #[inline]
    pub(super) fn scavenge_task_observe_allocation(&mut self, size: u64) {
        match self.tasks.scavenge_observer_left.checked_sub(size) {
            Some(left) if left > 0 => self.tasks.scavenge_observer_left = left,
            _ => self.scavenge_task_observer_step(),
        }
    }

    /// The scavenge task's observer looks: it posts the task if new space is past the trigger, and counts down its
    /// step again.
    #[cold]
    fn scavenge_task_observer_step(&mut self) {
        self.tasks.scavenge_observer_left = self.scavenge_task_observer_step_bytes();
        if self.new_space.used_bytes >= self.scavenge_task_trigger_bytes() {
            self.tasks.scavenge = true;
        }
    }

    /// The observer's step: the trigger's share of new space's initial capacity (never, with the task off).
    pub(super) fn scavenge_task_observer_step_bytes(&self) -> u64 {
        match self.config.scavenge_task_trigger_percent {
            0 => u64::MAX,
            percent => (u64::from(percent) * self.config.min_semi_space_size / 100).max(1),
        }
    }

    /// The concurrent marker's work over `ms` of mutator time.
    fn concurrent_marking(&mut self, ms: f64) {
        if self.marking.phase() == MarkingPhase::Marking {
            let budget = self.config.pause.concurrent_marking_bytes(ms);
            self.marking.concurrent(&mut self.objects, &self.slots, self.new_space.epoch, budget);
        }
    }

    /// A task of the marking job: a step, then finalize if marking is complete ("finalize incremental marking via
    /// task"). While marking runs the job re-posts the task at once.
    fn marking_task(&mut self) -> Result<(), HeapError> {
        let now = self.tracer.now_ms;
        if let Some(posted) = self.tasks.marking_task_posted_ms.take() {
            let latency = now - posted;
            self.tasks.time_to_marking_task_ms =
                Some(self.tasks.time_to_marking_task_ms.map_or(latency, |average| (average + latency) / 2.0));
        }
        self.marking_step(StepOrigin::Task);
        if self.marking.phase() == MarkingPhase::Complete {
            self.collect_garbage(Generation::Old, GcReason::FinalizeMarkingViaTask)?;
        }
        if self.marking.is_active() {
            self.tasks.marking_task_posted_ms = Some(self.tracer.now_ms);
        }
        Ok(())
    }

    /// The memory reducer's timer fired: it may start a memory-reducing marking cycle if the program is quiet (it
    /// allocates slowly, or the heap optimizes for memory) and no marking runs.
    fn memory_reducer_timer(&mut self) {
        self.tracer.sample_allocation();
        let capacity = self.old_generation_capacity();
        let quiet = self.has_low_allocation_rate() || self.controller.optimize_for_memory(capacity);
        let can_start = !self.marking.is_active();
        let action = self.memory_reducer.notify_timer(self.tracer.now_ms, quiet, can_start, capacity);
        if action == ReducerAction::StartReducingGc {
            self.start_incremental_marking(true);
            self.tasks.marking_task_posted_ms = Some(self.tracer.now_ms);
        }
    }

    /// V8's `Heap::HasLowAllocationRate`: the young and the old generation's allocation both leave the collector's
    /// speed a mutator utilization above 0.993. The collectors' speeds are the pause model's. A throughput of 0 is
    /// an idle program here (V8 clamps a measured speed to at least 1 B/ms).
    fn has_low_allocation_rate(&self) -> bool {
        let pause = &self.config.pause;
        let speed = |ms_per_mib: f64| {
            if ms_per_mib > 0.0 {
                crate::config::MIB as f64 / ms_per_mib
            } else {
                CONSERVATIVE_GC_SPEED
            }
        };
        let low = |mutator_speed: f64, gc_speed: f64| gc_speed / (mutator_speed + gc_speed) > HIGH_MUTATOR_UTILIZATION;
        low(self.tracer.new_space_allocation_throughput(), speed(pause.scavenge_ms_per_mib))
            && low(self.tracer.old_generation_allocation_throughput(), speed(pause.mark_ms_per_mib))
    }

    /// After every collection: the memory reducer hears of mark-compacts (and whether another one would likely free
    /// more: a megabyte of committed memory freed, or high fragmentation), and no scavenge task stays posted.
    pub(super) fn after_collection_tasks(&mut self, event: &GcEvent, committed_before: u64) {
        if event.collector == Collector::MarkCompact && self.config.memory_reducer {
            let committed = self.old_generation_capacity();
            let used = self.old_generation_size();
            let likely_to_collect_more = committed_before > committed + crate::config::MIB
                || committed.saturating_sub(used) > used + 16 * crate::config::MIB;
            self.memory_reducer.notify_mark_compact(self.tracer.now_ms, committed, likely_to_collect_more);
        }
        self.tasks.scavenge = false;
        self.tasks.scavenge_observer_left = self.scavenge_task_observer_step_bytes();
        if !self.marking.is_active() {
            self.tasks.marking_task_posted_ms = None;
        }
    }
}
