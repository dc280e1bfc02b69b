//! Incremental marking: the marking half of a mark-compact, run across mutator time (V8's
//! `incremental-marking.cc`, with the concurrent marker of `concurrent-marking.cc`).
//!
//! A cycle starts by marking the roots grey (marked, on the worklist). It then advances in steps: the mutator pays
//! for one every [`ALLOCATION_STEP_BYTES`] it allocates (V8's allocation observer), tasks run one at turns of the
//! event loop, and the concurrent marker marks as mutator time passes. A step pops objects off the worklist, marks
//! what they reference and counts their bytes. Marking is *complete* when the worklist is empty; a mark-compact then
//! finalizes it: it marks the roots again, drains what the mutator made grey since, and sweeps.
//!
//! While marking runs the mutator goes on, so three rules keep every reachable object marked at finalization:
//!
//! - **The marking barrier** (V8's `MarkingBarrier::Write`, a Dijkstra insertion barrier): the target of every
//!   reference stored while marking runs is marked grey, whatever the host's colour
//!   ([`IncrementalMarking::record_write`]).
//! - **Black allocation** (`StartBlackAllocation`): objects allocated in the old generation while marking are born
//!   marked; their slots are empty, so every reference they get later goes through the barrier. Young objects are
//!   born white, and a scavenge keeps every object's mark (V8's `TransferColor`).
//! - **Roots are not barriered**, so finalization re-marks them (V8's `MarkRoots` in the atomic pause).
//!
//! An object that was marked and then became unreachable survives the cycle (floating garbage); the next cycle frees
//! it. The worklist holds handles: an entry whose young object a scavenge freed meanwhile is skipped.

use slotmap::SlotMap;

use crate::gc_tracer::IncrementalMarkingStats;
use crate::object::{HeapObject, ObjectId};
use crate::roots::{HandleScopes, RootSets};
use crate::slots::SlotArena;

/// Bytes the mutator allocates in new space between two marking steps (V8's `kYoungGenerationAllocatedThreshold`,
/// 64 KiB); in the old generation, four times that (`kOldGenerationAllocatedThreshold`, 256 KiB).
pub(crate) const ALLOCATION_STEP_BYTES: u64 = 64 * 1024;
/// The time schedule: marking is scheduled to visit the whole old generation (as it was at the start) in this much
/// time (V8's `kTargetMarkingWallTimeInMs`, 500 ms). Only the task's steps follow it.
const TARGET_MARKING_WALL_TIME_MS: f64 = 500.0;
/// The time schedule is updated at most this often (`kMinTimeBetweenScheduleInMs`).
const MIN_TIME_BETWEEN_SCHEDULE_MS: f64 = 10.0;
/// The most a step paid for by allocation may take (`kMaxStepSizeInMs`).
pub(crate) const MAX_ALLOCATION_STEP_MS: f64 = 5.0;
/// The most a task's step may take (`kStepSizeInMs`).
pub(crate) const MAX_TASK_STEP_MS: f64 = 1.0;
/// A step's byte budget is this share of what its time allows at the marking speed (`kConservativeTimeRatio`).
const CONSERVATIVE_TIME_RATIO: f64 = 0.9;
/// The progress term of the allocation schedule (`StepSizeToMakeProgress`): 1/256 of the old generation at the
/// start (`kTargetStepCount`), within [64 KiB, 256 KiB] (`kMinStepSizeInBytes`, `kMaxStepSizeInByte`), or 1/32 of
/// the old generation's size when the heap is near its limit (`kTargetStepCountAtOOM`).
const TARGET_STEP_COUNT: u64 = 256;
const MAX_PROGRESS_BYTES: u64 = 256 * 1024;
const TARGET_STEP_COUNT_AT_OOM: u64 = 32;
/// A step on allocation leaves this many minimum steps of the schedule (1 MiB, V8's `kScheduleMarginInBytes`) to
/// the concurrent marker. The minimum step (`kMinStepSizeInBytes`, 64 KiB) and the margin scale, like the
/// allocation step, with new space on a heap whose new space is under 1 MiB.
const SCHEDULE_MARGIN_STEPS: u64 = 16;

/// Who pays for a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepOrigin {
    /// The allocation observer (V8's `StepOrigin::kV8`): up to [`MAX_ALLOCATION_STEP_MS`].
    Allocation,
    /// The marking job's task (`StepOrigin::kTask`): up to [`MAX_TASK_STEP_MS`], following the time schedule.
    Task,
}

/// Where the marking cycle is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum MarkingPhase {
    /// No cycle runs: marks are clear.
    #[default]
    Stopped,
    /// Marking: the worklist may hold grey objects.
    Marking,
    /// The worklist ran empty: a mark-compact may finalize the cycle.
    Complete,
}

/// The state of incremental marking between collections.
#[derive(Debug, Default)]
pub(crate) struct IncrementalMarking {
    phase: MarkingPhase,
    /// Grey objects: marked, their references not yet visited.
    worklist: Vec<ObjectId>,
    /// The cycle was started by the memory reducer (or while the heap optimizes for memory): its mark-compact
    /// reduces memory.
    pub reduce_memory: bool,
    started_ms: f64,
    /// Old-generation bytes when the cycle started (V8's `initial_old_generation_size_`).
    initial_old_generation_size: u64,
    /// Bytes the schedule says should be marked by now.
    scheduled_bytes: u64,
    /// Bytes of objects visited this cycle, by steps and by the concurrent marker.
    marked_bytes: u64,
    schedule_updated_ms: f64,
    /// Young and old bytes the mutator allocated since the last allocation step (the observers' counters).
    pub young_allocated_since_step: u64,
    pub old_allocated_since_step: u64,
    /// Bytes that entered the old generation (allocation and promotion) since the allocation schedule last looked
    /// (V8's `OldGenerationAllocationCounter` delta).
    pub old_generation_growth: u64,
    steps: u64,
    steps_ms: f64,
    longest_step_ms: f64,
    /// When marking completed during an allocation step and the mutator waits for the task: after this time the
    /// next allocation step finalizes ("via stack guard").
    completion_deadline_ms: Option<f64>,
}

/// Marks `id` grey if it is a live, unmarked object: sets its mark and pushes it.
#[inline]
fn mark_grey(objects: &mut SlotMap<ObjectId, HeapObject>, epoch: u32, id: ObjectId, worklist: &mut Vec<ObjectId>) {
    if let Some(o) = objects.get_mut(id) {
        if !o.is_marked() && o.is_live(epoch) {
            o.set_marked(true);
            worklist.push(id);
        }
    }
}

/// Marks every root and every handle of the open scopes grey.
pub(crate) fn mark_roots(
    objects: &mut SlotMap<ObjectId, HeapObject>,
    epoch: u32,
    roots: &RootSets,
    scopes: &HandleScopes,
    worklist: &mut Vec<ObjectId>,
) {
    for set in roots.sets() {
        for &id in set.handles.keys() {
            mark_grey(objects, epoch, id, worklist);
        }
    }
    for &id in scopes.handles() {
        mark_grey(objects, epoch, id, worklist);
    }
}

/// Pops grey objects and visits their references until `budget` bytes of objects were visited or the worklist is
/// empty. Entries whose object died since they were pushed (young objects a scavenge left behind) are skipped.
/// Returns the bytes visited.
pub(crate) fn drain(
    objects: &mut SlotMap<ObjectId, HeapObject>,
    slots: &SlotArena,
    epoch: u32,
    worklist: &mut Vec<ObjectId>,
    budget: u64,
) -> u64 {
    let mut visited = 0u64;
    while visited < budget {
        let Some(id) = worklist.pop() else { break };
        let Some(o) = objects.get(id) else { continue };
        if !o.is_live(epoch) {
            continue;
        }
        visited += u64::from(o.size);
        let (start, count) = (o.slot_start, o.slot_count);
        for index in start..start + count {
            if let Some(target) = slots.get(index) {
                mark_grey(objects, epoch, target, worklist);
            }
        }
    }
    visited
}

impl IncrementalMarking {
    /// Where the cycle is.
    #[inline]
    pub fn phase(&self) -> MarkingPhase {
        self.phase
    }

    /// Whether a cycle runs (marking or complete, not yet finalized): the barrier and black allocation are on.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.phase != MarkingPhase::Stopped
    }

    /// Starts a cycle (V8's `IncrementalMarking::Start`): marks the roots grey.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &mut self,
        objects: &mut SlotMap<ObjectId, HeapObject>,
        epoch: u32,
        roots: &RootSets,
        scopes: &HandleScopes,
        now_ms: f64,
        old_generation_size: u64,
        reduce_memory: bool,
    ) {
        debug_assert_eq!(self.phase, MarkingPhase::Stopped);
        let mut worklist = std::mem::take(&mut self.worklist);
        worklist.clear();
        *self = IncrementalMarking {
            phase: MarkingPhase::Marking,
            reduce_memory,
            started_ms: now_ms,
            initial_old_generation_size: old_generation_size,
            schedule_updated_ms: now_ms,
            ..IncrementalMarking::default()
        };
        mark_roots(objects, epoch, roots, scopes, &mut worklist);
        self.worklist = worklist;
    }

    /// The marking barrier: `target` was stored into an object. V8 marks the stored value grey whatever the host's
    /// colour (`MarkingBarrier::Write`).
    #[inline]
    pub fn record_write(&mut self, objects: &mut SlotMap<ObjectId, HeapObject>, epoch: u32, target: ObjectId) {
        mark_grey(objects, epoch, target, &mut self.worklist);
        if self.phase == MarkingPhase::Complete && !self.worklist.is_empty() {
            // Grey again: steps may drain it; the finalizing pause drains what is left.
            self.phase = MarkingPhase::Marking;
        }
    }

    /// The bytes a step should visit (V8's `ComputeStepSizeInBytes` after the schedule was updated): what the
    /// schedule is ahead of the marked bytes (less the margin, for an allocation step), within `max_step_bytes`,
    /// and at least `unit`, the minimum step (64 KiB on V8's heaps).
    ///
    /// An allocation step adds to the schedule the old generation's growth since the last one and the progress
    /// term; a task's step adds what the time since the last update asks for.
    pub fn step_budget(
        &mut self,
        origin: StepOrigin,
        now_ms: f64,
        near_heap_limit: bool,
        old_generation_size: u64,
        unit: u64,
        max_step_bytes: u64,
    ) -> u64 {
        let margin = match origin {
            StepOrigin::Allocation => {
                let progress = if near_heap_limit {
                    old_generation_size / TARGET_STEP_COUNT_AT_OOM
                } else {
                    (self.initial_old_generation_size / TARGET_STEP_COUNT).clamp(unit, MAX_PROGRESS_BYTES.max(unit))
                };
                self.scheduled_bytes += std::mem::take(&mut self.old_generation_growth) + progress;
                SCHEDULE_MARGIN_STEPS * unit
            }
            StepOrigin::Task => {
                if now_ms >= self.schedule_updated_ms + MIN_TIME_BETWEEN_SCHEDULE_MS {
                    let delta = (now_ms - self.schedule_updated_ms).min(TARGET_MARKING_WALL_TIME_MS);
                    self.schedule_updated_ms = now_ms;
                    self.scheduled_bytes +=
                        (delta / TARGET_MARKING_WALL_TIME_MS * self.initial_old_generation_size as f64) as u64;
                }
                0
            }
        };
        let behind = self.scheduled_bytes.saturating_sub(self.marked_bytes + margin);
        behind.min(max_step_bytes).max(unit)
    }

    /// The bytes a step of at most `max_ms` may visit at `ms_per_mib` (V8's `EstimateMarkingStepSize`).
    pub fn max_step_bytes(max_ms: f64, ms_per_mib: f64) -> u64 {
        if ms_per_mib <= 0.0 {
            return u64::MAX;
        }
        (max_ms / ms_per_mib * CONSERVATIVE_TIME_RATIO * (1u64 << 20) as f64) as u64
    }

    /// One main-thread step that visits up to `budget` bytes; returns the bytes visited. The caller charges its
    /// time ([`record_step`](Self::record_step)). Marking becomes complete when the worklist runs empty.
    pub fn step(
        &mut self,
        objects: &mut SlotMap<ObjectId, HeapObject>,
        slots: &SlotArena,
        epoch: u32,
        budget: u64,
    ) -> u64 {
        let bytes = drain(objects, slots, epoch, &mut self.worklist, budget);
        self.marked_bytes += bytes;
        self.check_complete();
        bytes
    }

    fn check_complete(&mut self) {
        if self.phase == MarkingPhase::Marking && self.worklist.is_empty() {
            self.phase = MarkingPhase::Complete;
        }
    }

    /// Counts a main-thread step of `ms`.
    pub fn record_step(&mut self, ms: f64) {
        self.steps += 1;
        self.steps_ms += ms;
        self.longest_step_ms = self.longest_step_ms.max(ms);
    }

    /// The concurrent marker's work over `budget` bytes (no main-thread time; credited to the schedule).
    pub fn concurrent(
        &mut self,
        objects: &mut SlotMap<ObjectId, HeapObject>,
        slots: &SlotArena,
        epoch: u32,
        budget: u64,
    ) {
        if self.phase == MarkingPhase::Marking && budget > 0 {
            self.marked_bytes += drain(objects, slots, epoch, &mut self.worklist, budget);
            self.check_complete();
        }
    }

    /// A scavenge during marking freed `died` young bytes: marked ones among them no longer count as progress
    /// (V8's `UpdateMarkedBytesAfterScavenge`), and the worklist drops the dead entries
    /// (`UpdateMarkingWorklistAfterYoungGenGC`).
    pub fn after_scavenge(&mut self, objects: &SlotMap<ObjectId, HeapObject>, epoch: u32, died: u64) {
        self.marked_bytes = self.marked_bytes.saturating_sub(died);
        self.worklist.retain(|&id| objects.get(id).is_some_and(|o| o.is_live(epoch)));
        self.check_complete();
    }

    /// Marking completed in an allocation step: wait for the task up to max(50 ms, 10 % of the marking time so
    /// far) if the task's expected latency is known and within that (V8's `ShouldWaitForTask`,
    /// `TryInitializeTaskTimeout`); returns whether to wait (else finalize now, "via stack guard").
    pub fn wait_for_completion_task(&mut self, now_ms: f64, time_to_task_ms: Option<f64>) -> bool {
        if self.completion_deadline_ms.is_none() {
            let overshoot = (0.1 * (now_ms - self.started_ms)).max(50.0);
            match time_to_task_ms {
                Some(t) if t <= overshoot => self.completion_deadline_ms = Some(now_ms + overshoot),
                _ => return false,
            }
        }
        self.completion_deadline_ms.is_some_and(|deadline| now_ms < deadline)
    }

    /// The grey objects.
    pub fn worklist(&self) -> &[ObjectId] {
        &self.worklist
    }

    /// The worklist, for the finalizing mark-compact, which marks the roots again and drains it.
    pub fn worklist_mut(&mut self) -> &mut Vec<ObjectId> {
        &mut self.worklist
    }

    /// Ends the cycle (finalized by a mark-compact whose pause starts at `now_ms`) and returns what it did before
    /// the pause.
    pub fn finish(&mut self, now_ms: f64) -> IncrementalMarkingStats {
        let stats = IncrementalMarkingStats {
            steps: self.steps,
            steps_ms: self.steps_ms,
            longest_step_ms: self.longest_step_ms,
            walltime_ms: now_ms - self.started_ms,
            marked_bytes: self.marked_bytes,
        };
        self.stop();
        stats
    }

    /// Ends the cycle without finalizing it; the caller clears the marks (an atomic collection that marks afresh).
    pub fn stop(&mut self) {
        self.phase = MarkingPhase::Stopped;
        self.worklist.clear();
        self.completion_deadline_ms = None;
        self.reduce_memory = false;
    }

    /// Memory the worklist holds, for [`Heap::footprint`](crate::Heap::footprint).
    pub fn worklist_capacity_bytes(&self) -> usize {
        self.worklist.capacity() * std::mem::size_of::<ObjectId>()
    }
}
