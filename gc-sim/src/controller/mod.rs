//! The heap controller: every policy decision of the heap, behind one small API. When a collection is due and which
//! collector runs (V8's `Heap::SelectGarbageCollector`), the old generation's allocation limit (the initial limit
//! that follows survival down, `ConfigureInitialOldGenerationSize`, and `RecomputeLimits` after a mark-compact),
//! whether the old generation may grow (`CanExpandOldGeneration`, `ShouldExpandOldGenerationOnSlowAllocation`),
//! new-space resizing (`ShouldResizeNewSpace`, `SemiSpaceNewSpace::Grow`/`Shrink`) and the two checks after a
//! collection that end the program (the heap limit and `IsIneffectiveMarkCompact`).
//!
//! The state is here; the arithmetic is V8's, as pure functions in [`formulas`].

pub(crate) mod formulas;
pub(crate) mod memory_reducer;

use std::collections::VecDeque;

use crate::config::HeapConfig;
use crate::error::OomLocation;
use crate::gc_tracer::{Collector, CollectorReason};
use crate::space::new_space::NewSpace;
use formulas::NewSpaceResize;

/// The generation a collection is requested for (V8 passes the space whose allocation failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Generation {
    Young,
    Old,
}

/// Whether incremental marking should start (V8's `Heap::IncrementalMarkingLimit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarkingLimit {
    /// Not yet.
    None,
    /// Start from a task, at the next turn of the event loop.
    Soft,
    /// Start now.
    Hard,
}

/// How the allocation limit grows after a mark-compact (V8's `Heap::HeapGrowingMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GrowingMode {
    /// The growing factor from the measured speeds.
    Default,
    /// A heap that optimizes for memory (its maximum is small): the factor is at most 1.3 and the minimum step is
    /// 2 MiB.
    Conservative,
    /// The memory reducer has finished a run: the factor is at most 1.3.
    Slow,
    /// A memory-reducing mark-compact: the factor is 1.1.
    Minimal,
}

/// How many survival percentages V8 averages (`GCTracer`'s ring buffer of survival events).
const SURVIVAL_SAMPLES: usize = 10;

/// The heap's policy state (V8's `old_generation_allocation_limit_` and friends in `Heap`).
#[derive(Debug)]
pub(crate) struct HeapController {
    max_old_generation_size: u64,
    page_size: u64,
    semi_space_growth_factor: u64,
    /// A mark-compact is due once the old generation's object bytes reach this.
    allocation_limit: u64,
    /// Whether the initial limit has stopped adapting to survival (set when it stops falling, or by the first
    /// mark-compact).
    configured: bool,
    /// Consecutive ineffective mark-compacts near the heap limit.
    consecutive_ineffective_mark_compacts: u32,
    /// Survival percentages (promoted + copied over young bytes) of the last 10 collections.
    survival_percentages: VecDeque<f64>,
    /// Set when the old generation reached its allocation limit: the next allocation runs a mark-compact first.
    /// V8 instead starts incremental marking a little earlier, once the room left under the limit is no more than
    /// new space's capacity, and finalizes it shortly after; marking is atomic here.
    mark_compact_pending: bool,
}

impl HeapController {
    /// The controller of a new heap: the initial limit of `Heap::ConfigureHeap`, nothing due.
    pub fn new(config: &HeapConfig) -> HeapController {
        HeapController {
            max_old_generation_size: config.max_old_generation_size,
            page_size: u64::from(config.page.page_size),
            semi_space_growth_factor: u64::from(config.semi_space_growth_factor),
            allocation_limit: config.initial_old_generation_limit(),
            configured: false,
            consecutive_ineffective_mark_compacts: 0,
            survival_percentages: VecDeque::with_capacity(SURVIVAL_SAMPLES),
            mark_compact_pending: false,
        }
    }

    /// The old generation's allocation limit now.
    pub fn allocation_limit(&self) -> u64 {
        self.allocation_limit
    }

    /// V8's `CanExpandOldGeneration(size)`: the old generation's capacity may grow by `size` within the maximum.
    pub fn can_expand_old_generation(&self, old_generation_capacity: u64, size: u64) -> bool {
        formulas::can_expand_old_generation(old_generation_capacity, size, self.max_old_generation_size)
    }

    /// Whether the old generation may grow by `size` bytes for the mutator: V8's
    /// `ShouldExpandOldGenerationOnSlowAllocation` (room left under the allocation limit, or incremental marking
    /// runs and the heap does not optimize for memory) and `CanExpandOldGeneration` (the heap limit).
    pub fn old_generation_may_expand(
        &self,
        old_generation_size: u64,
        old_generation_capacity: u64,
        size: u64,
        marking: bool,
    ) -> bool {
        let below_limit = old_generation_size < self.allocation_limit
            || (marking && !self.optimize_for_memory(old_generation_capacity));
        below_limit && self.can_expand_old_generation(old_generation_capacity, size)
    }

    /// V8's `ShouldOptimizeForMemoryUsage`, as far as the heap decides it (no `--optimize-for-size`, never in the
    /// background, no memory-pressure notification): the old generation's capacity is within an eighth of its
    /// maximum (`!CanExpandOldGeneration(max / 8)`).
    pub fn optimize_for_memory(&self, old_generation_capacity: u64) -> bool {
        !self.can_expand_old_generation(old_generation_capacity, self.max_old_generation_size / 8)
    }

    /// V8's `Heap::IncrementalMarkingLimitReached`: never at or below the activation threshold; otherwise once the
    /// room left under the allocation limit is at most new space's capacity, at once (hard) when no room is left
    /// or the heap optimizes for memory, else from a task (soft).
    pub fn incremental_marking_limit(
        &self,
        old_generation_size: u64,
        old_generation_capacity: u64,
        new_space_capacity: u64,
        activation_threshold: u64,
    ) -> MarkingLimit {
        if old_generation_size <= activation_threshold {
            return MarkingLimit::None;
        }
        let available = self.allocation_limit.saturating_sub(old_generation_size);
        if available > new_space_capacity {
            MarkingLimit::None
        } else if available == 0 || self.optimize_for_memory(old_generation_capacity) {
            MarkingLimit::Hard
        } else {
            MarkingLimit::Soft
        }
    }

    /// The old generation grew (a pretenured allocation): once it reaches the limit, a mark-compact is due.
    #[inline]
    pub fn old_generation_grew(&mut self, old_generation_size: u64) {
        if old_generation_size >= self.allocation_limit {
            self.mark_compact_pending = true;
        }
    }

    /// Whether a mark-compact is due before the next allocation (reason `allocation limit`).
    #[inline]
    pub fn mark_compact_due(&self) -> bool {
        self.mark_compact_pending
    }

    /// V8's `Heap::SelectGarbageCollector`: a full collection when the old generation was asked for, or when the
    /// old generation could not absorb every young object (`young_bytes`: new space's capacity plus young large
    /// objects), else a scavenge.
    pub fn select_collector(
        &self,
        requested: Generation,
        old_generation_capacity: u64,
        young_bytes: u64,
    ) -> (Collector, Option<CollectorReason>) {
        match requested {
            Generation::Old => (Collector::MarkCompact, Some(CollectorReason::OldSpaceRequested)),
            Generation::Young
                if !formulas::can_promote_young_and_expand_old_generation(
                    old_generation_capacity,
                    young_bytes,
                    self.max_old_generation_size,
                ) =>
            {
                (Collector::MarkCompact, Some(CollectorReason::ScavengeMightNotSucceed))
            }
            Generation::Young => (Collector::Scavenge, None),
        }
    }

    /// V8's `ShouldResizeNewSpace`, at the start of every collection. Capacities are compared in whole pages (V8's
    /// `TotalCapacity`), and the survived-bytes counter restarts whenever the grow test passes, even if a shrink
    /// request cancels the growth, as in V8.
    ///
    /// A memory-reducing collection always shrinks (V8's `ReduceNewSpaceSize` under `ShouldReduceMemory`).
    pub fn new_space_resize(
        &self,
        new_space: &mut NewSpace,
        allocation_throughput: f64,
        reduce_memory: bool,
    ) -> NewSpaceResize {
        let (capacity, max) =
            (u64::from(new_space.capacity_pages) * self.page_size, u64::from(new_space.max_pages) * self.page_size);
        let survived = new_space.survived_since_last_expansion;
        let decision = if reduce_memory {
            NewSpaceResize::Shrink
        } else {
            formulas::new_space_resize(survived, capacity, max, allocation_throughput)
        };
        if formulas::should_grow_new_space(survived, capacity, max) {
            new_space.survived_since_last_expansion = 0;
        }
        decision
    }

    /// Grows both semi-spaces by the growth factor, up to the maximum (V8's `ExpandNewSpace`).
    pub fn grow_new_space(&self, new_space: &mut NewSpace) {
        let page = self.page_size;
        let grown = formulas::grown_semi_space_capacity(
            u64::from(new_space.capacity_pages) * page,
            self.semi_space_growth_factor,
            u64::from(new_space.max_pages) * page,
        );
        new_space.set_capacity_pages((grown / page) as u32);
    }

    /// Shrinks the semi-spaces to twice what survived, but not below their initial size, and only if that is
    /// smaller than the current capacity (V8's `ReduceNewSpaceSize`).
    pub fn shrink_new_space(&self, new_space: &mut NewSpace) {
        let page = self.page_size;
        let target =
            formulas::shrunk_semi_space_capacity(new_space.used_bytes, u64::from(new_space.initial_pages) * page, page);
        let pages = target.div_ceil(page) as u32;
        if pages < new_space.capacity_pages {
            new_space.set_capacity_pages(pages);
        }
    }

    /// V8's `ConfigureInitialOldGenerationSize`, run after every GC that saw young objects: the survival percentage
    /// joins the last 10, and until the first mark-compact configures the limit, the initial limit follows their
    /// average down, but never below size + 8 MiB.
    pub fn record_survival(&mut self, survival_percent: f64, old_generation_size: u64) {
        let survival = &mut self.survival_percentages;
        if survival.len() == SURVIVAL_SAMPLES {
            survival.pop_front();
        }
        survival.push_back(survival_percent);
        if self.configured {
            return;
        }
        let average = survival.iter().sum::<f64>() / survival.len() as f64;
        let limit = formulas::initial_limit_after_gc(self.allocation_limit, old_generation_size, average);
        if limit < self.allocation_limit {
            self.allocation_limit = limit;
        } else {
            self.configured = true;
        }
    }

    /// V8's `Heap::CurrentHeapGrowingMode`: minimal for a memory-reducing collection, conservative when the heap
    /// optimizes for memory, slow once the memory reducer has finished a run, else the default.
    pub fn growing_mode(&self, reduce_memory: bool, old_generation_capacity: u64, grow_slowly: bool) -> GrowingMode {
        if reduce_memory {
            GrowingMode::Minimal
        } else if self.optimize_for_memory(old_generation_capacity) {
            GrowingMode::Conservative
        } else if grow_slowly {
            GrowingMode::Slow
        } else {
            GrowingMode::Default
        }
    }

    /// V8's `RecomputeLimits` after a mark-compact: the new limit from the growing factor, which follows the
    /// modelled GC speed (`gc_speed`) over the mutator's old-generation allocation speed (`mutator_speed`), capped
    /// by the growing mode (`MemoryController::CalculateAllocationLimit`).
    pub fn recompute_limits(
        &mut self,
        old_generation_size: u64,
        new_space_capacity: u64,
        gc_speed: f64,
        mutator_speed: f64,
        mode: GrowingMode,
    ) {
        let max_old = self.max_old_generation_size;
        let factor = formulas::growing_factor(gc_speed, mutator_speed, formulas::max_growing_factor(max_old));
        let (factor, min_growth) = match mode {
            GrowingMode::Default => (factor, formulas::MIN_ALLOCATION_LIMIT_GROWTH),
            GrowingMode::Conservative => {
                (factor.min(formulas::CONSERVATIVE_GROWING_FACTOR), formulas::LOW_MEMORY_MIN_ALLOCATION_LIMIT_GROWTH)
            }
            GrowingMode::Slow => {
                (factor.min(formulas::CONSERVATIVE_GROWING_FACTOR), formulas::MIN_ALLOCATION_LIMIT_GROWTH)
            }
            GrowingMode::Minimal => (formulas::MIN_GROWING_FACTOR, formulas::MIN_ALLOCATION_LIMIT_GROWTH),
        };
        self.allocation_limit = formulas::allocation_limit(
            old_generation_size,
            formulas::DEFAULT_MIN_OLD_GENERATION_LIMIT,
            max_old,
            new_space_capacity,
            factor,
            min_growth,
        );
        self.configured = true;
    }

    /// The checks after every collection (V8's `Heap::CollectGarbage` epilogue): a mark-compact clears the pending
    /// request and counts towards the ineffective mark-compacts near the heap limit; and the old generation must
    /// still fit its maximum. (What a scavenge's promotions start, the heap decides: `Heap::old_generation_grew`.)
    ///
    /// # Errors
    /// Where the program dies: 4 ineffective mark-compacts in a row, or the heap limit reached.
    pub fn after_collection(
        &mut self,
        collector: Collector,
        old_generation_size: u64,
        old_generation_capacity: u64,
        average_mutator_utilization: f64,
    ) -> Result<(), OomLocation> {
        match collector {
            Collector::MarkCompact => {
                self.mark_compact_pending = false;
                let ineffective = formulas::is_ineffective_mark_compact(
                    old_generation_size,
                    self.max_old_generation_size,
                    average_mutator_utilization,
                );
                if !ineffective {
                    self.consecutive_ineffective_mark_compacts = 0;
                } else {
                    self.consecutive_ineffective_mark_compacts += 1;
                    if self.consecutive_ineffective_mark_compacts >= formulas::MAX_CONSECUTIVE_INEFFECTIVE_MARK_COMPACTS
                    {
                        return Err(OomLocation::IneffectiveMarkCompacts);
                    }
                }
            }
            Collector::Scavenge => {}
        }
        if !self.can_expand_old_generation(old_generation_capacity, 0) {
            return Err(OomLocation::ReachedHeapLimit);
        }
        Ok(())
    }
}
