//! Heap-growing policy of V8 11.3 (Node 20): `src/heap/heap-controller.h/.cc`
//! plus the sizing rules of `src/heap/heap.cc` that feed it, written as pure
//! functions with no state.
//!
//! Node builds V8 for x64 *without* pointer compression, so
//! `kHeapLimitMultiplier = kPointerMultiplier = 2` and every "x 2" below comes
//! from that. Sizes are `u64` bytes; speeds are `f64` bytes per millisecond.
//! No function panics: integer arithmetic saturates, `f64 -> u64` casts saturate
//! (NaN becomes 0), and no `f64` result is ever NaN.
//!
//! # Old-generation allocation limit after a mark-compact
//! `Heap::RecomputeLimits` -> `MemoryController<V8HeapTrait>`:
//!
//! ```text
//! M     = max_growing_factor(max_old)        4.0 if max_old >= 2 GiB, else
//!                                            1.3 + 0.7 * (max(max_old, 256 MiB) - 256 MiB) / (2 GiB - 256 MiB)
//! R     = gc_speed / mutator_speed           (combined mark-compact speed / old-gen allocation throughput)
//! F     = R(1 - MU) / (R(1 - MU) - MU)       MU = 0.97; F = M if a speed is 0 or R(1-MU) >= M * (R(1-MU) - MU)
//! F     = clamp(F, 1.1, M)                   (the default growing mode: the only one modelled)
//! limit = min( max( max(floor(size * F), size + step) + new_space_capacity, min_size ),
//!              (size + max_old) / 2 )
//! ```
//!
//! `size` is the old generation's object bytes after the GC, `step` is 8 MiB
//! (in the default mode), `new_space_capacity` is the allocatable
//! capacity of one semi-space and `min_size` is `Heap::min_old_generation_size_`
//! (0 in Node unless an initial old-generation size was configured). With
//! `max_old = 4 GiB` the factor is 4 unless R > 43.1, and it reaches 1.1 at R >= 356.
//! After a scavenge with a low young-generation allocation rate, V8 also
//! recomputes the limit but only keeps it if it is lower.
//!
//! # Before the first mark-compact
//! The limit starts at `min(512 MiB, max_old / 2)` (`Heap::ConfigureHeap`).
//! After every GC that recorded a survival event,
//! `Heap::ConfigureInitialOldGenerationSize` computes
//! `max(old_size + 8 MiB, limit * average_survival% / 100)` and keeps it if it is
//! lower; once it is not lower (or after any mark-compact) the limit is
//! "configured" and only the formula above is used.
//!
//! # Heap sizing, near-limit checks, new-space resizing
//! * Node sizes the heap from physical (or cgroup) memory:
//!   `old = clamp(physical / 4 * 2, 256 MiB, 2 or 4 GiB)`, `semi = clamp(old / 128, 1, 16) MiB`
//!   (ratio 256 when `old <= 256 MiB`), rounded up to a page and then to a power of two.
//! * A scavenge "might not succeed" (so a mark-compact runs instead) when the old
//!   generation cannot absorb the whole young generation within `max_old`.
//! * A mark-compact is "ineffective" when `old >= 0.8 * max_old` and the mutator
//!   utilization is `< 0.4`; 4 in a row are fatal.
//! * The semi-space grows (x2, up to the maximum) once more bytes survived since
//!   the last expansion than it holds, and shrinks to `max(initial, 2 * used)`
//!   when allocation throughput drops below 1000 B/ms.
//!
//! Sources: V8 11.x `heap-controller.cc`, `heap.cc` (`RecomputeLimits`,
//! `ConfigureHeap`, `ConfigureInitialOldGenerationSize`,
//! `HeapSizeFromPhysicalMemory`, `ShouldResizeNewSpace`,
//! `CanPromoteYoungAndExpandOldGeneration`, `IsIneffectiveMarkCompact`),
//! `new-spaces.cc` (`SemiSpaceNewSpace::Grow/Shrink`); each fact, with its
//! source or the measured run, is in `docs/v8-sources.md` (sections "Young
//! generation" and "Heap controller").

use std::cmp::{max, min};

/// One kibibyte (V8's `KB`).
pub const KIB: u64 = 1024;
/// One mebibyte (V8's `MB`).
pub const MIB: u64 = 1024 * 1024;
/// One gibibyte (V8's `GB`).
pub(crate) const GIB: u64 = 1024 * MIB;

/// `Heap::kHeapLimitMultiplier` (= `kPointerMultiplier`) for Node's x64 build
/// without pointer compression: `kSystemPointerSize / 4 = 2` (`heap.h`).
pub(crate) const HEAP_LIMIT_MULTIPLIER: u64 = 2;

/// V8's page size, `1 << kPageSizeBits` with `kPageSizeBits = 18` on x64
/// (`src/base/build_config.h`).
pub(crate) const PAGE_SIZE: u64 = 256 * KIB;

/// Allocatable bytes in one 256 KiB data page
/// (`MemoryChunkLayout::AllocatableMemoryInDataPage()`), measured on Node 20:
/// 257,720 B (the first object sits at page offset 4,424;
/// `docs/v8-sources.md#page-geometry`).
#[cfg(test)]
pub(crate) const PAGE_ALLOCATABLE_BYTES: u64 = 257_720;

/// `kTargetMutatorUtilization` (`heap-controller.h`, `BaseControllerTrait`):
/// the fraction of time the growing factor aims to leave to the mutator.
pub(crate) const TARGET_MUTATOR_UTILIZATION: f64 = 0.97;

/// `kMinGrowingFactor` (`heap-controller.h`): the lowest heap growing factor,
/// also the factor used in minimal (memory-reducing) mode.
pub(crate) const MIN_GROWING_FACTOR: f64 = 1.1;

/// `kMaxGrowingFactor` (`heap-controller.h`): the largest factor any caller may
/// pass as `max_factor` (equals `kHighFactor` of `MaxGrowingFactor`).
pub(crate) const MAX_GROWING_FACTOR: f64 = 4.0;

/// `kMinSmallFactor` of `MemoryController::MaxGrowingFactor`: the maximum
/// factor for a heap whose maximum old generation is at most `kMinSize`.
pub(crate) const MIN_SMALL_GROWING_FACTOR: f64 = 1.3;

/// `kMaxSmallFactor` of `MemoryController::MaxGrowingFactor`: the end of the
/// linear 1.3 -> 2.0 ramp, reached just below `kMaxSize`.
pub(crate) const MAX_SMALL_GROWING_FACTOR: f64 = 2.0;

/// `kHighFactor` of `MemoryController::MaxGrowingFactor`: the maximum factor
/// once the maximum old generation is at least `kMaxSize` (2 GiB).
pub(crate) const HIGH_GROWING_FACTOR: f64 = 4.0;

/// `V8HeapTrait::kMinSize = 128 MB x kHeapLimitMultiplier` (`heap-controller.h`):
/// the low end of the max-growing-factor ramp and the floor of Node's
/// physical-memory-based old-generation size (`HeapSizeFromPhysicalMemory`).
/// It is *not* the `min_size` argument of [`allocation_limit`].
pub(crate) const MIN_OLD_GENERATION_SIZE: u64 = 128 * HEAP_LIMIT_MULTIPLIER * MIB;

/// `V8HeapTrait::kMaxSize = 1024 MB x kHeapLimitMultiplier` (`heap-controller.h`):
/// from this maximum old-generation size on, the max growing factor is 4.0; it
/// is also the default maximum old generation (`Heap::MaxOldGenerationSize`).
pub(crate) const MAX_OLD_GENERATION_SIZE_FOR_HIGH_FACTOR: u64 = 1024 * HEAP_LIMIT_MULTIPLIER * MIB;

/// The maximum old generation on machines with `(physical + 512 MiB) / GiB >= 16`
/// (`--huge-max-old-generation-size`, on by default; `Heap::MaxOldGenerationSize`).
pub(crate) const HUGE_MAX_OLD_GENERATION_SIZE: u64 = 2 * MAX_OLD_GENERATION_SIZE_FOR_HIGH_FACTOR;

/// `MemoryController::MinimumAllocationLimitGrowingStep` in the default mode: `max(kPageSize, 1 MB) x 8` = 8 MiB (the "size + 8 MiB" term).
pub(crate) const MIN_ALLOCATION_LIMIT_GROWTH: u64 = 8 * MIB;

/// The smallest growth of the limit in the conservative growing mode (`kLowMemoryAllocationLimitGrowingStep`: 2
/// MiB).
pub(crate) const LOW_MEMORY_MIN_ALLOCATION_LIMIT_GROWTH: u64 = 2 * MIB;

/// The growing factor's cap in the conservative and slow growing modes (`kConservativeGrowingFactor`).
pub(crate) const CONSERVATIVE_GROWING_FACTOR: f64 = 1.3;

/// Node's default `Heap::min_old_generation_size_` (the `min_size` argument of
/// [`allocation_limit`]): 0. `Heap::ConfigureHeap` only sets it to the initial
/// old-generation size when the embedder or `--initial-old-space-size` /
/// `--initial-heap-size` configured one, which Node does not do by default.
pub(crate) const DEFAULT_MIN_OLD_GENERATION_LIMIT: u64 = 0;

/// `Heap::kMaxInitialOldGenerationSize = 256 MB x kHeapLimitMultiplier` (`heap.h`):
/// the cap on the initial old-generation allocation limit.
pub(crate) const MAX_INITIAL_OLD_GENERATION_SIZE: u64 = 256 * HEAP_LIMIT_MULTIPLIER * MIB;

/// `Heap::kMinSemiSpaceSize = 512 KB x kPointerMultiplier` (`heap.h`): 1 MiB.
pub(crate) const MIN_SEMI_SPACE_SIZE: u64 = 512 * KIB * HEAP_LIMIT_MULTIPLIER;

/// `Heap::kMaxSemiSpaceSize = 8192 KB x kPointerMultiplier` (`heap.h`): 16 MiB.
pub(crate) const MAX_SEMI_SPACE_SIZE: u64 = 8192 * KIB * HEAP_LIMIT_MULTIPLIER;

/// `Heap::kPhysicalMemoryToOldGenerationRatio` (`heap.h`).
pub(crate) const PHYSICAL_MEMORY_TO_OLD_GENERATION_RATIO: u64 = 4;

/// `Heap::kOldGenerationToSemiSpaceRatio = 128 x kHeapLimitMultiplier / kPointerMultiplier` (`heap.h`).
pub(crate) const OLD_GENERATION_TO_SEMI_SPACE_RATIO: u64 = 128;

/// `Heap::kOldGenerationToSemiSpaceRatioLowMemory = 256 x kHeapLimitMultiplier / kPointerMultiplier` (`heap.h`).
pub(crate) const OLD_GENERATION_TO_SEMI_SPACE_RATIO_LOW_MEMORY: u64 = 256;

/// `Heap::kOldGenerationLowMemory = 128 MB x kHeapLimitMultiplier` (`heap.h`):
/// old generations up to this size use the low-memory semi-space ratio.
pub(crate) const OLD_GENERATION_LOW_MEMORY: u64 = 128 * MIB * HEAP_LIMIT_MULTIPLIER;

/// Young-generation reservation in semi-spaces: to + from + new large-object
/// space (`kNewLargeObjectSpaceToSemiSpaceRatio = 1`;
/// `Heap::YoungGenerationSizeFromSemiSpaceSize`).
#[cfg(test)]
pub(crate) const YOUNG_GENERATION_SEMI_SPACES: u64 = 3;

/// `kHighHeapPercentage` of `Heap::IsIneffectiveMarkCompact`.
pub(crate) const HIGH_HEAP_PERCENTAGE: f64 = 0.8;

/// `kLowMutatorUtilization` of `Heap::IsIneffectiveMarkCompact`.
pub(crate) const LOW_MUTATOR_UTILIZATION: f64 = 0.4;

/// `kMaxConsecutiveIneffectiveMarkCompacts` (`heap.cc`): this many ineffective
/// mark-compacts in a row (see [`is_ineffective_mark_compact`]) end the process
/// with "Ineffective mark-compacts near heap limit", unless the near-heap-limit
/// callback raises the maximum.
pub(crate) const MAX_CONSECUTIVE_INEFFECTIVE_MARK_COMPACTS: u32 = 4;

/// `kLowAllocationThroughput` of `Heap::ShouldResizeNewSpace`, in bytes/ms.
pub(crate) const LOW_ALLOCATION_THROUGHPUT: f64 = 1000.0;

/// Default and minimum of `--semi-space-growth-factor` (`flag-definitions.h`;
/// `Heap::ConfigureHeap` raises smaller values to 2).
pub(crate) const SEMI_SPACE_GROWTH_FACTOR: u64 = 2;

/// V8's `MemoryController::MaxGrowingFactor` (`heap-controller.cc`): 4.0 when
/// the maximum old generation is at least `kMaxSize` (2 GiB); otherwise
/// `(max_size - 256 MiB) * (2.0 - 1.3) / (2 GiB - 256 MiB) + 1.3`, with
/// `max_size` first raised to `kMinSize` (256 MiB). V8 11.x works in bytes,
/// with this operation order.
pub(crate) fn max_growing_factor(max_old_generation_size: u64) -> f64 {
    let max_size = max(max_old_generation_size, MIN_OLD_GENERATION_SIZE);
    if max_size >= MAX_OLD_GENERATION_SIZE_FOR_HIGH_FACTOR {
        return HIGH_GROWING_FACTOR;
    }
    let above_min = (max_size - MIN_OLD_GENERATION_SIZE) as f64;
    let range = (MAX_OLD_GENERATION_SIZE_FOR_HIGH_FACTOR - MIN_OLD_GENERATION_SIZE) as f64;
    above_min * (MAX_SMALL_GROWING_FACTOR - MIN_SMALL_GROWING_FACTOR) / range + MIN_SMALL_GROWING_FACTOR
}

/// V8's `MemoryController::DynamicGrowingFactor` (`heap-controller.cc`), the
/// factor that `GrowingFactor` returns in the default mode.
///
/// `R = gc_speed / mutator_speed`, `a = R(1 - MU)`, `b = a - MU` with
/// `MU = 0.97`; the factor is `a / b` if `a < b * max_factor`, else
/// `max_factor` (this one test covers both `b <= 0` and `a / b > max_factor`),
/// then raised to at least 1.1. A speed of 0 (the tracer has no samples)
/// gives `max_factor`; so do negative, NaN and infinite speeds here.
/// `max_factor` is clamped to [1.1, 4.0] (V8 DCHECKs that range; NaN -> 4.0).
/// Callers pass [`max_growing_factor`]`(max_old)`; in V8 `gc_speed` is
/// `CombinedMarkCompactSpeedInBytesPerMillisecond` and `mutator_speed` is
/// `CurrentOldGenerationAllocationThroughputInBytesPerMillisecond`.
pub(crate) fn growing_factor(gc_speed: f64, mutator_speed: f64, max_factor: f64) -> f64 {
    let max_factor = sanitize_max_factor(max_factor);
    if !is_known_speed(gc_speed) || !is_known_speed(mutator_speed) {
        return max_factor;
    }
    let speed_ratio = gc_speed / mutator_speed;
    let a = speed_ratio * (1.0 - TARGET_MUTATOR_UTILIZATION);
    let b = a - TARGET_MUTATOR_UTILIZATION;
    let factor = if a < b * max_factor { a / b } else { max_factor };
    factor.min(max_factor).max(MIN_GROWING_FACTOR)
}

/// V8 11.3's `MemoryController<V8HeapTrait>::CalculateAllocationLimit(heap,
/// current_size, min_size, max_size, new_space_capacity, factor, growing_mode)`
/// (`heap-controller.cc`), same argument order minus the heap:
///
/// ```text
/// limit = max(floor(current_size * factor), current_size + 8 MiB) + new_space_capacity
/// limit = min(max(limit, min_size), (current_size + max_size) / 2)
/// ```
///
/// * `current_size`: old-generation object bytes after the mark-compact
///   (`OldGenerationSizeOfObjects`).
/// * `min_size`: `Heap::min_old_generation_size_`, which is
///   [`DEFAULT_MIN_OLD_GENERATION_LIMIT`] (0) in Node; not `kMinSize`.
/// * `max_size`: the maximum old-generation size.
/// * `new_space_capacity`: `Heap::NewSpaceCapacity()`, the *allocatable* bytes
///   of one semi-space (see [`new_space_allocatable_capacity`]), e.g. 64 pages x
///   257,720 B = 16,494,080 B for a 16 MiB semi-space.
/// * `factor`: normally [`growing_factor`]`(gc, mutator, max_growing_factor(max))`; a NaN factor counts as
///   1.1. This is the default growing mode, the one Node runs in: the conservative, slow and minimal modes (for
///   `--optimize-for-size` and the memory reducer) cap the factor at 1.3 or 1.1 and are not modelled.
///
/// Newer V8 (12.x `BoundAllocationLimit`) applies the two bounds in the other
/// order, `max(min(limit, halfway), min_size)`. They differ only when
/// `min_size > (current_size + max_size) / 2`, which V8 never produces
/// (`min_size` is 0 or the initial limit, at most `max_size / 2`).
/// V8 CHECKs `current_size > 0`; here 0 is accepted.
pub(crate) fn allocation_limit(
    current_size: u64,
    min_size: u64,
    max_size: u64,
    new_space_capacity: u64,
    factor: f64,
    min_growth: u64,
) -> u64 {
    let factor = if factor.is_nan() { MIN_GROWING_FACTOR } else { factor };
    let grown = scale(current_size, factor);
    let limit = max(grown, current_size.saturating_add(min_growth)).saturating_add(new_space_capacity);
    min(max(limit, min_size), halfway(current_size, max_size))
}

/// `Heap::NewSpaceCapacity()` for a semi-space new space:
/// `SemiSpaceNewSpace::Capacity() = (target_capacity / kPageSize) x
/// AllocatableMemoryInDataPage()` (`new-spaces.h`), i.e. whole pages times their
/// usable area. Pass [`PAGE_SIZE`] and [`PAGE_ALLOCATABLE_BYTES`] for V8's
/// values; a `page_size` of 0 gives 0.
#[cfg(test)]
pub(crate) fn new_space_allocatable_capacity(
    semi_space_capacity: u64,
    page_size: u64,
    allocatable_bytes_per_page: u64,
) -> u64 {
    match semi_space_capacity.checked_div(page_size) {
        Some(pages) => pages.saturating_mul(allocatable_bytes_per_page),
        None => 0,
    }
}

/// The initial old-generation allocation limit set by `Heap::ConfigureHeap`
/// (`heap.cc`): `min(kMaxInitialOldGenerationSize = 512 MiB, max_old / 2)`,
/// rounded down to a page.
pub(crate) fn initial_old_generation_allocation_limit(max_old_generation_size: u64) -> u64 {
    let limit = min(MAX_INITIAL_OLD_GENERATION_SIZE, max_old_generation_size / 2);
    round_down(limit, PAGE_SIZE)
}

/// One step of `Heap::ConfigureInitialOldGenerationSize` (`heap.cc`), run after
/// every GC while the limit is not yet configured and the tracer has recorded
/// a survival event:
/// `candidate = max(old_gen_size + 8 MiB, floor(current_limit * average_survival_percent / 100))`;
/// the limit becomes `candidate` if that is lower, otherwise it stays
/// `current_limit` and V8 marks it configured (see
/// [`initial_limit_becomes_configured`]). Any mark-compact also marks it
/// configured (`Heap::MarkCompact`). `average_survival_percent` is
/// `GCTracer::AverageSurvivalRatio()`: promoted % + semi-space-copied % of the
/// young generation, averaged over the last 10 GCs (NaN or negative counts as 0).
/// The 8 MiB step is the default-mode step.
pub(crate) fn initial_limit_after_gc(current_limit: u64, old_gen_size: u64, average_survival_percent: f64) -> u64 {
    let candidate = initial_limit_candidate(current_limit, old_gen_size, average_survival_percent);
    min(candidate, current_limit)
}

/// Whether `Heap::ConfigureInitialOldGenerationSize` marks the initial limit as
/// configured after this GC: the candidate of [`initial_limit_after_gc`] is not
/// lower than `current_limit`, so the limit stopped falling.
#[cfg(test)]
pub(crate) fn initial_limit_becomes_configured(
    current_limit: u64,
    old_gen_size: u64,
    average_survival_percent: f64,
) -> bool {
    initial_limit_candidate(current_limit, old_gen_size, average_survival_percent) >= current_limit
}

/// V8's `Heap::MaxOldGenerationSize(physical_memory)` (`heap.cc`, 11.x):
/// `kMaxSize` = 2 GiB, doubled to 4 GiB on 64-bit when
/// `(physical_memory + 512 MiB) / GiB >= 16` (i.e. at least 15.5 GiB).
pub(crate) fn max_old_generation_size_for_physical_memory(physical_memory: u64) -> u64 {
    if physical_memory.saturating_add(512 * MIB) / GIB >= 16 {
        HUGE_MAX_OLD_GENERATION_SIZE
    } else {
        MAX_OLD_GENERATION_SIZE_FOR_HIGH_FACTOR
    }
}

/// Node's default heap sizing, `ResourceConstraints::ConfigureDefaults(memory, 0)`
/// where `memory` is min(physical RAM, cgroup limit), for a 64-bit build without
/// pointer compression. Returns `(max_old_generation_size, max_semi_space_size)`.
///
/// * `Heap::HeapSizeFromPhysicalMemory`: `old = physical / 4 * 2`, capped at
///   [`max_old_generation_size_for_physical_memory`], raised to 256 MiB, rounded
///   up to a page.
/// * `Heap::YoungGenerationSizeFromOldGenerationSize`: `semi = old / 128`
///   (`/ 256` when `old <= 256 MiB`), clamped to [1, 16] MiB, rounded up to a page.
/// * `Heap::ConfigureHeap`: `semi` rounded up to a power of two (then at least
///   1 MiB, rounded down to a page).
///
/// `GenerationSizesFromHeapSize` (the binary search between the two steps)
/// returns the same split, because `old + 3 x semi(old)` is strictly increasing.
/// Examples: 512 MiB -> 256/1 MiB, 1 GiB -> 512/4, 2 GiB -> 1024/8,
/// 2049 MiB -> 1024.5/16, 4-8 GiB -> 2048/16, >= 15.5 GiB -> 4096/16.
pub(crate) fn heap_sizes_from_physical_memory(physical_memory: u64) -> (u64, u64) {
    let old = old_generation_size_from_physical_memory(physical_memory);
    let semi = semi_space_size_from_old_generation_size(old);
    (old, configured_max_semi_space_size(semi))
}

/// `Heap::MaxReserved()` (`heap.cc`), which Node reports as
/// `v8.getHeapStatistics().heap_size_limit`: `2 x semi + semi (new large-object
/// space) + max_old`.
#[cfg(test)]
pub(crate) fn max_reserved(max_old_generation_size: u64, max_semi_space_size: u64) -> u64 {
    max_semi_space_size.saturating_mul(YOUNG_GENERATION_SEMI_SPACES).saturating_add(max_old_generation_size)
}

/// V8's `Heap::IsIneffectiveMarkCompact` (`heap.cc`) for one mark-compact:
/// `old_gen_size >= 0.8 x max_old` (compared as doubles) and
/// `mutator_utilization < 0.4`. V8 passes `OldGenerationSizeOfObjects()` after
/// the GC and the tracer's *average* mark-compact mutator utilization (the
/// "average mu" of `--trace-gc`); [`MAX_CONSECUTIVE_INEFFECTIVE_MARK_COMPACTS`]
/// in a row are fatal, any effective one resets the count. NaN utilization is
/// never ineffective.
pub(crate) fn is_ineffective_mark_compact(
    old_gen_size: u64,
    max_old_generation_size: u64,
    mutator_utilization: f64,
) -> bool {
    let near_limit = old_gen_size as f64 >= HIGH_HEAP_PERCENTAGE * max_old_generation_size as f64;
    near_limit && mutator_utilization < LOW_MUTATOR_UTILIZATION
}

/// The first test of V8's `Heap::CanExpandOldGeneration(size)` (`heap.cc`):
/// `OldGenerationCapacity() + size <= max_old`. V8 also requires
/// `memory_allocator()->Size() + size <= MaxReserved()` (all allocated pages,
/// young ones included); that second test is left to the caller. Overflow
/// counts as "cannot expand".
pub(crate) fn can_expand_old_generation(old_generation_capacity: u64, size: u64, max_old_generation_size: u64) -> bool {
    match old_generation_capacity.checked_add(size) {
        Some(total) => total <= max_old_generation_size,
        None => false,
    }
}

/// V8's `Heap::CanPromoteYoungAndExpandOldGeneration(0)` (`heap.cc`): whether
/// the old generation could absorb every young object. When it is false,
/// `SelectGarbageCollector` turns a scavenge into a mark-compact ("scavenge
/// might not succeed").
///
/// V8 over-estimates both sides: `old_gen_size` is `OldGenerationCapacity()`
/// (pages of the old paged spaces, free space included, plus large objects)
/// and `young_bytes` is `NewSpaceCapacity()` (allocatable semi-space capacity,
/// see [`new_space_allocatable_capacity`]) plus the new large-object space size.
/// Like [`can_expand_old_generation`], the `MaxReserved` test is not included.
pub(crate) fn can_promote_young_and_expand_old_generation(
    old_gen_size: u64,
    young_bytes: u64,
    max_old_generation_size: u64,
) -> bool {
    can_expand_old_generation(old_gen_size, young_bytes, max_old_generation_size)
}

/// The decision of V8's `Heap::ShouldResizeNewSpace` (`heap.cc`, 11.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewSpaceResize {
    /// `ResizeNewSpaceMode::kNone`: keep the capacity.
    None,
    /// `kGrow`: see [`grown_semi_space_capacity`].
    Grow,
    /// `kShrink`: see [`shrunk_semi_space_capacity`].
    Shrink,
}

/// The grow test of V8's `Heap::ShouldResizeNewSpace`: capacity below the
/// maximum and `survived_since_last_expansion > capacity`. Whenever this is
/// true V8 resets `survived_since_last_expansion_` to 0, even if the final
/// decision is [`NewSpaceResize::None`] because a shrink was also requested.
pub(crate) fn should_grow_new_space(survived_since_last_expansion: u64, capacity: u64, max_capacity: u64) -> bool {
    capacity < max_capacity && survived_since_last_expansion > capacity
}

/// The shrink test of V8's `Heap::ShouldResizeNewSpace` when not reducing
/// memory: the tracer's allocation throughput is known (non-zero) and below
/// 1000 bytes/ms. NaN counts as unknown.
pub(crate) fn should_shrink_new_space(allocation_throughput: f64) -> bool {
    allocation_throughput > 0.0 && allocation_throughput < LOW_ALLOCATION_THROUGHPUT
}

/// V8's `Heap::ShouldResizeNewSpace` (`heap.cc`, 11.x) outside memory-reducing
/// GCs: grow if [`should_grow_new_space`], shrink if
/// [`should_shrink_new_space`], nothing if both or neither.
///
/// `capacity` and `max_capacity` are one semi-space's `TotalCapacity()` and
/// `MaximumCapacity()` (page-multiple sizes such as 1 MiB, not the allocatable
/// bytes); `allocation_throughput` is `GCTracer::AllocationThroughputInBytesPerMillisecond()`
/// (0 = no samples). V8 runs this at every GC; `--predictable` disables
/// shrinking (not modelled).
pub(crate) fn new_space_resize(
    survived_since_last_expansion: u64,
    capacity: u64,
    max_capacity: u64,
    allocation_throughput: f64,
) -> NewSpaceResize {
    let grow = should_grow_new_space(survived_since_last_expansion, capacity, max_capacity);
    let shrink = should_shrink_new_space(allocation_throughput);
    match (grow, shrink) {
        (true, false) => NewSpaceResize::Grow,
        (false, true) => NewSpaceResize::Shrink,
        _ => NewSpaceResize::None,
    }
}

/// V8's `SemiSpaceNewSpace::Grow` (`new-spaces.cc`):
/// `min(max_capacity, growth_factor x capacity)`, where `growth_factor` is
/// `--semi-space-growth-factor` (values below 2 are raised to 2 as in
/// `Heap::ConfigureHeap`). V8 only calls it when `capacity < max_capacity`.
pub(crate) fn grown_semi_space_capacity(capacity: u64, growth_factor: u64, max_capacity: u64) -> u64 {
    let factor = max(growth_factor, SEMI_SPACE_GROWTH_FACTOR);
    min(max_capacity, capacity.saturating_mul(factor))
}

/// V8's `SemiSpaceNewSpace::Shrink` (`new-spaces.cc`): the target capacity
/// `RoundUp(max(initial_capacity, 2 x used), page_size)`, where `used` is the
/// new space's `Size()` (bytes in to-space after the GC) and `initial_capacity`
/// its `InitialTotalCapacity()` (1 MiB in Node). V8 applies it only if it is
/// below the current capacity; otherwise the capacity is unchanged. A
/// `page_size` of 0 means no rounding.
pub(crate) fn shrunk_semi_space_capacity(used: u64, initial_capacity: u64, page_size: u64) -> u64 {
    round_up(max(initial_capacity, used.saturating_mul(2)), page_size)
}

fn sanitize_max_factor(max_factor: f64) -> f64 {
    if max_factor.is_nan() {
        return MAX_GROWING_FACTOR;
    }
    max_factor.clamp(MIN_GROWING_FACTOR, MAX_GROWING_FACTOR)
}

fn is_known_speed(speed: f64) -> bool {
    speed.is_finite() && speed > 0.0
}

/// `static_cast<uint64_t>(size * factor)`: truncates; saturates; NaN -> 0.
fn scale(size: u64, factor: f64) -> u64 {
    (size as f64 * factor) as u64
}

fn halfway(a: u64, b: u64) -> u64 {
    ((u128::from(a) + u128::from(b)) / 2) as u64
}

fn initial_limit_candidate(current_limit: u64, old_gen_size: u64, survival_percent: f64) -> u64 {
    let by_survival = scale(current_limit, survival_percent / 100.0);
    max(old_gen_size.saturating_add(MIN_ALLOCATION_LIMIT_GROWTH), by_survival)
}

fn old_generation_size_from_physical_memory(physical_memory: u64) -> u64 {
    let old = physical_memory / PHYSICAL_MEMORY_TO_OLD_GENERATION_RATIO * HEAP_LIMIT_MULTIPLIER;
    let old = min(old, max_old_generation_size_for_physical_memory(physical_memory));
    round_up(max(old, MIN_OLD_GENERATION_SIZE), PAGE_SIZE)
}

fn semi_space_size_from_old_generation_size(old_generation_size: u64) -> u64 {
    let ratio = if old_generation_size <= OLD_GENERATION_LOW_MEMORY {
        OLD_GENERATION_TO_SEMI_SPACE_RATIO_LOW_MEMORY
    } else {
        OLD_GENERATION_TO_SEMI_SPACE_RATIO
    };
    let semi = (old_generation_size / ratio).clamp(MIN_SEMI_SPACE_SIZE, MAX_SEMI_SPACE_SIZE);
    round_up(semi, PAGE_SIZE)
}

fn configured_max_semi_space_size(semi_space_size: u64) -> u64 {
    let semi = semi_space_size.checked_next_power_of_two().unwrap_or(u64::MAX);
    round_down(max(semi, MIN_SEMI_SPACE_SIZE), PAGE_SIZE)
}

fn round_up(value: u64, granularity: u64) -> u64 {
    match value.checked_rem(granularity) {
        Some(0) | None => value,
        Some(rest) => value.saturating_add(granularity - rest),
    }
}

fn round_down(value: u64, granularity: u64) -> u64 {
    match value.checked_rem(granularity) {
        Some(rest) => value - rest,
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-9;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < EPS, "expected {expected}, got {actual}");
    }

    /// Limit in the default mode with Node's `min_size` of 0.
    fn default_limit(size: u64, max_old: u64, new_space: u64, factor: f64) -> u64 {
        allocation_limit(size, 0, max_old, new_space, factor, MIN_ALLOCATION_LIMIT_GROWTH)
    }

    // ---- The measured trace line (docs/v8-sources.md#growing-factor) -------

    #[test]
    fn new_space_capacity_is_whole_pages_times_usable_area() {
        // 16 MiB / 256 KiB = 64 pages; 64 x 257,720 = 16,494,080 B (16,107.5 KB).
        assert_eq!(new_space_allocatable_capacity(16 * MIB, PAGE_SIZE, PAGE_ALLOCATABLE_BYTES), 16_494_080);
        // 1 MiB = 4 pages; 4 x 257,720 = 1,030,880 B (docs/v8-sources.md#page-geometry).
        assert_eq!(new_space_allocatable_capacity(MIB, PAGE_SIZE, PAGE_ALLOCATABLE_BYTES), 1_030_880);
        // A page size of 0 must not divide by zero.
        assert_eq!(new_space_allocatable_capacity(MIB, 0, 1), 0);
    }

    #[test]
    fn run_trace_limit_is_reproduced_with_one_semi_space_of_usable_area() {
        // Measured on Node 20 (docs/v8-sources.md#growing-factor; 23.5 GiB RAM -> max_old 4096 MiB, semi 16 MiB):
        //   "old size: 40091 KB, new limit: 176472 KB (4.0)".
        // Unknowns: the exact size S in [40091, 40092) KB and the new-space term N.
        // N = 64 pages x 257,720 B = 16,494,080 B. Then 4S + N in [176472, 176473) KB
        // needs S in [41,053,312, 41,053,568) B = [40091.125, 40091.375) KB, which
        // prints as 40091 KB. Take S = 40091.25 KB = 41,053,440 B:
        //   4S = 164,213,760; 4S > S + 8 MiB = 49,442,048
        //   + N = 180,707,840 B = 176,472.5 KB -> printed 176472 KB.
        //   halfway = (41,053,440 + 4,294,967,296) / 2 = 2,168,010,368 (not binding).
        let size = 41_053_440;
        let max_old = 4096 * MIB;
        let new_space = new_space_allocatable_capacity(16 * MIB, PAGE_SIZE, PAGE_ALLOCATABLE_BYTES);
        let factor = growing_factor(594_233.0, 632_597.0, max_growing_factor(max_old));
        assert_eq!(factor, 4.0);
        let limit = default_limit(size, max_old, new_space, factor);
        assert_eq!(size / KIB, 40_091);
        assert_eq!(limit, 180_707_840);
        assert_eq!(limit / KIB, 176_472);
    }

    #[test]
    fn run_trace_rules_out_raw_semi_space_size_and_both_semi_spaces() {
        // Same S = 41,053,440 B, 4S = 164,213,760 B.
        let size = 41_053_440;
        let max_old = 4096 * MIB;
        // N = raw 16 MiB = 16,777,216 -> 180,990,976 B = 176,749 KB, not 176,472.
        assert_eq!(default_limit(size, max_old, 16 * MIB, 4.0) / KIB, 176_749);
        // N = 2 x 16,494,080 = 32,988,160 -> 197,201,920 B = 192,580 KB, not 176,472.
        assert_eq!(default_limit(size, max_old, 32_988_160, 4.0) / KIB, 192_580);
        // Even the smallest admissible S (40091 KB exactly = 41,053,184 B) with a raw
        // 16 MiB term gives 164,212,736 + 16,777,216 = 180,989,952 B = 176,748 KB.
        assert_eq!(default_limit(41_053_184, max_old, 16 * MIB, 4.0) / KIB, 176_748);
    }

    // ---- Growing factor ------------------------------------------------------

    #[test]
    fn factor_is_max_up_to_speed_ratio_43_1() {
        // a = 0.03 R, b = 0.03 R - 0.97; a < 4b  <=>  3.88 < 0.09 R  <=>  R > 43.11.
        // R = 43.1: a = 1.293, b = 0.323, 4b = 1.292 <= a -> 4.0.
        assert_eq!(growing_factor(43.1, 1.0, 4.0), 4.0);
        // R = 1 (measured: gc=594233, mutator=632597, R = 0.94, docs/v8-sources.md#growing-factor): b < 0 -> 4.0.
        assert_eq!(growing_factor(594_233.0, 632_597.0, 4.0), 4.0);
        // R = 43.2: a = 1.296, b = 0.326, F = 1.296 / 0.326 = 3.97546... < 4.
        assert_close(growing_factor(43.2, 1.0, 4.0), 1.296 / 0.326);
    }

    #[test]
    fn factor_at_speed_ratio_100_by_hand() {
        // R = 100: a = 100 x 0.03 = 3.0, b = 3.0 - 0.97 = 2.03, F = 3 / 2.03 = 1.47783251...
        assert_close(growing_factor(100_000.0, 1_000.0, 4.0), 1.477_832_512_315_271);
    }

    #[test]
    fn factor_reaches_minimum_at_speed_ratio_356() {
        // a / b <= 1.1  <=>  0.03 R <= 1.1 (0.03 R - 0.97)  <=>  R >= 1.067 / 0.003 = 355.67.
        // R = 356: a = 10.68, b = 9.71, a / b = 1.09990 -> clamped to 1.1.
        assert_eq!(growing_factor(356.0, 1.0, 4.0), 1.1);
        assert_eq!(growing_factor(10_000.0, 1.0, 4.0), 1.1);
        // R = 355: a = 10.65, b = 9.68, a / b = 1.10021 -> above the floor.
        assert_close(growing_factor(355.0, 1.0, 4.0), 10.65 / 9.68);
        assert!(growing_factor(355.0, 1.0, 4.0) > 1.1);
    }

    #[test]
    fn factor_without_speeds_is_the_max_factor() {
        assert_eq!(growing_factor(0.0, 1_000.0, 4.0), 4.0);
        assert_eq!(growing_factor(1_000.0, 0.0, 1.6), 1.6);
        assert_eq!(growing_factor(f64::NAN, 1_000.0, 1.6), 1.6);
        assert_eq!(growing_factor(f64::INFINITY, 1.0, 1.6), 1.6);
        assert_eq!(growing_factor(-5.0, 1.0, 1.6), 1.6);
    }

    #[test]
    fn factor_respects_a_small_max_factor_and_never_returns_nan() {
        // R = 60: a = 1.8, b = 0.83, a / b = 2.1687 > 1.6 -> 1.6.
        assert_eq!(growing_factor(60.0, 1.0, 1.6), 1.6);
        // max_factor outside [1.1, 4] is clamped; NaN max_factor -> 4.
        assert_eq!(growing_factor(1.0, 1.0, 10.0), 4.0);
        assert_eq!(growing_factor(1.0, 1.0, 0.5), 1.1);
        assert_eq!(growing_factor(1.0, 1.0, f64::NAN), 4.0);
        assert_eq!(growing_factor(f64::MAX, f64::MIN_POSITIVE, 4.0), 4.0);
    }

    #[test]
    fn max_factor_ramp() {
        // <= 256 MiB: 1.3 (128 MiB is first raised to 256 MiB).
        assert_eq!(max_growing_factor(256 * MIB), 1.3);
        assert_eq!(max_growing_factor(128 * MIB), 1.3);
        assert_eq!(max_growing_factor(0), 1.3);
        // 1152 MiB: (1152 - 256) / (2048 - 256) = 896 / 1792 = 0.5; 1.3 + 0.5 x 0.7 = 1.65.
        assert_close(max_growing_factor(1152 * MIB), 1.65);
        // 1024 MiB (2 GiB machine): 768 / 1792 x 0.7 + 1.3 = 0.3 + 1.3 = 1.6.
        assert_close(max_growing_factor(1024 * MIB), 1.6);
        // One page below 2 GiB: just under 2.0.
        let almost = max_growing_factor(2 * GIB - PAGE_SIZE);
        assert!(almost < 2.0 && almost > 1.99, "{almost}");
        // >= 2 GiB: 4.0.
        assert_eq!(max_growing_factor(2 * GIB), 4.0);
        assert_eq!(max_growing_factor(4 * GIB), 4.0);
    }

    #[test]
    fn limit_is_capped_halfway_to_the_maximum() {
        // size 1000 MiB, F = 4: 4000 MiB + 0 > halfway (1000 + 2048) / 2 = 1524 MiB.
        assert_eq!(default_limit(1000 * MIB, 2048 * MIB, 0, 4.0), 1524 * MIB);
        // Halfway also caps the new-space term: 1000 + 2048 -> 1524 MiB even with F = 1.1
        // (1100 MiB + 500 MiB of new space = 1600 MiB > 1524 MiB).
        assert_eq!(default_limit(1000 * MIB, 2048 * MIB, 500 * MIB, 1.1), 1524 * MIB);
    }

    #[test]
    fn limit_has_an_8_mib_floor_on_growth() {
        // size 10 MiB, F = 1.1: 11 MiB < 10 + 8 = 18 MiB = 18,874,368 B;
        // + 1,030,880 (1 MiB semi-space) = 19,905,248 B; halfway 1029 MiB not binding.
        assert_eq!(default_limit(10 * MIB, 2048 * MIB, 1_030_880, 1.1), 19_905_248);
        // size 0: the floor alone, 8 MiB.
        assert_eq!(default_limit(0, 2048 * MIB, 0, 4.0), 8 * MIB);
    }

    #[test]
    fn limit_uses_the_factor_above_the_floor() {
        // size 20 MiB, F = 2: 40 MiB > 28 MiB; + 4 MiB = 44 MiB.
        assert_eq!(default_limit(20 * MIB, 4096 * MIB, 4 * MIB, 2.0), 44 * MIB);
        // Truncation: 3 B x 1.5 = 4.5 -> 4; floor 3 + 8 MiB wins anyway.
        assert_eq!(default_limit(3, 4096 * MIB, 0, 1.5), 8 * MIB + 3);
    }

    #[test]
    fn limit_respects_min_size() {
        // size 1 MiB: 9 MiB + 0 < min_size 512 MiB -> 512 MiB (halfway 2048.5 MiB).
        let limit = allocation_limit(MIB, 512 * MIB, 4096 * MIB, 0, 4.0, MIN_ALLOCATION_LIMIT_GROWTH);
        assert_eq!(limit, 512 * MIB);
        // Bound order (V8 11.3): min(max(limit, min_size), halfway). With min_size
        // 600 MiB above halfway (100 + 1000) / 2 = 550 MiB, halfway wins.
        let limit = allocation_limit(100 * MIB, 600 * MIB, 1000 * MIB, 0, 1.1, MIN_ALLOCATION_LIMIT_GROWTH);
        assert_eq!(limit, 550 * MIB);
    }

    #[test]
    fn limit_never_panics_on_extreme_inputs() {
        let max = u64::MAX;
        assert_eq!(default_limit(max, max, max, 4.0), max);
        assert_eq!(default_limit(max, 0, 0, f64::NAN), max / 2);
        // F = inf: grown saturates to u64::MAX, then halfway (u64::MAX + 10) / 2.
        assert_eq!(default_limit(10, max, 0, f64::INFINITY), max / 2 + 5);
        assert_eq!(default_limit(10, max, 0, -3.0), 10 + 8 * MIB);
    }

    // ---- Initial limit -------------------------------------------------------

    #[test]
    fn initial_limit_is_half_the_maximum_up_to_512_mib() {
        assert_eq!(initial_old_generation_allocation_limit(4096 * MIB), 512 * MIB);
        assert_eq!(initial_old_generation_allocation_limit(1024 * MIB), 512 * MIB);
        assert_eq!(initial_old_generation_allocation_limit(512 * MIB), 256 * MIB);
        // 32 MiB (--max-old-space-size=32, docs/v8-sources.md#oom-reached-heap-limit): 16 MiB.
        assert_eq!(initial_old_generation_allocation_limit(32 * MIB), 16 * MIB);
        // Rounded down to a page: (1 MiB + 2 B) / 2 = 512 KiB + 1 -> 512 KiB.
        assert_eq!(initial_old_generation_allocation_limit(MIB + 2), 512 * KIB);
    }

    #[test]
    fn initial_limit_shrinks_until_it_stops_falling() {
        // GC 1: limit 512 MiB, old 3 MiB, survival 10 %:
        //   max(3 + 8 = 11 MiB, 536,870,912 x 0.1 = 53,687,091.2 -> 53,687,091) = 53,687,091.
        assert_eq!(initial_limit_after_gc(512 * MIB, 3 * MIB, 10.0), 53_687_091);
        assert!(!initial_limit_becomes_configured(512 * MIB, 3 * MIB, 10.0));
        // GC 2: 53,687,091 x 0.1 = 5,368,709 < 11 MiB = 11,534,336 -> 11,534,336.
        assert_eq!(initial_limit_after_gc(53_687_091, 3 * MIB, 10.0), 11_534_336);
        assert!(!initial_limit_becomes_configured(53_687_091, 3 * MIB, 10.0));
        // GC 3: candidate 11 MiB is not lower than 11 MiB -> unchanged, configured.
        assert_eq!(initial_limit_after_gc(11 * MIB, 3 * MIB, 10.0), 11 * MIB);
        assert!(initial_limit_becomes_configured(11 * MIB, 3 * MIB, 10.0));
        // Old size grew to 5 MiB: candidate 13 MiB > 11 MiB -> limit kept, configured.
        assert_eq!(initial_limit_after_gc(11 * MIB, 5 * MIB, 10.0), 11 * MIB);
        assert!(initial_limit_becomes_configured(11 * MIB, 5 * MIB, 10.0));
    }

    #[test]
    fn initial_limit_ignores_bad_survival_values() {
        // NaN / negative survival counts as 0: max(old + 8 MiB, 0).
        assert_eq!(initial_limit_after_gc(512 * MIB, MIB, f64::NAN), 9 * MIB);
        assert_eq!(initial_limit_after_gc(512 * MIB, MIB, -50.0), 9 * MIB);
        // Survival above 100 % never raises the limit: min(candidate, current).
        assert_eq!(initial_limit_after_gc(512 * MIB, MIB, 150.0), 512 * MIB);
    }

    // ---- Heap sizing from physical memory -----------------------------------

    fn sizes_mib(physical: u64) -> (u64, u64) {
        let (old, semi) = heap_sizes_from_physical_memory(physical);
        (old / MIB, semi / MIB)
    }

    #[test]
    fn physical_memory_table_rows() {
        // 512 MiB: old 512 / 4 x 2 = 256 (= kMinSize); semi 256 / 256 = 1. Limit 256 + 3 = 259.
        assert_eq!(sizes_mib(512 * MIB), (256, 1));
        // 1 GiB: old 512; semi 512 / 128 = 4. Limit 512 + 12 = 524.
        assert_eq!(sizes_mib(GIB), (512, 4));
        // 2 GiB: old 1024; semi 8. Limit 1024 + 24 = 1048.
        assert_eq!(sizes_mib(2 * GIB), (1024, 8));
        // 4 GiB: old 2048; semi 16. 8 GiB: old 4096 capped at 2048 ((8 + 0.5) < 16).
        assert_eq!(sizes_mib(4 * GIB), (2048, 16));
        assert_eq!(sizes_mib(8 * GIB), (2048, 16));
        // 15.5 GiB: (15.5 + 0.5) / 1 = 16 -> cap 4096; old 7936 -> 4096; semi 32 -> 16.
        assert_eq!(sizes_mib(15 * GIB + 512 * MIB), (4096, 16));
        // 23.5 GiB (the measuring machine, docs/v8-sources.md#semi-space-sizing): 4096 / 16, heap_size_limit 4144 MiB.
        assert_eq!(sizes_mib(23 * GIB + 512 * MIB), (4096, 16));
    }

    #[test]
    fn heap_size_limit_matches_the_table() {
        let limit_mib = |physical: u64| {
            let (old, semi) = heap_sizes_from_physical_memory(physical);
            max_reserved(old, semi) / MIB
        };
        assert_eq!(limit_mib(512 * MIB), 259);
        assert_eq!(limit_mib(GIB), 524);
        assert_eq!(limit_mib(2 * GIB), 1048);
        assert_eq!(limit_mib(4 * GIB), 2096);
        assert_eq!(limit_mib(24 * GIB), 4144);
    }

    #[test]
    fn huge_old_generation_needs_15_5_gib() {
        // One byte less than 15.5 GiB: (16 GiB - 1) / GiB = 15 < 16 -> 2 GiB.
        let just_below = 15 * GIB + 512 * MIB - 1;
        assert_eq!(max_old_generation_size_for_physical_memory(just_below), 2 * GIB);
        assert_eq!(sizes_mib(just_below), (2048, 16));
        assert_eq!(max_old_generation_size_for_physical_memory(15 * GIB + 512 * MIB), 4 * GIB);
        assert_eq!(max_old_generation_size_for_physical_memory(u64::MAX), 4 * GIB);
    }

    #[test]
    fn container_boundary_2048_vs_2049_mib() {
        // 2049 MiB: old = 2049 / 4 x 2 = 1024.5 MiB (4098 pages);
        // semi = 1024.5 / 128 = 8,392,704 B -> 33 pages = 8.25 MiB -> power of two 16 MiB.
        let (old, semi) = heap_sizes_from_physical_memory(2049 * MIB);
        assert_eq!(old, 1024 * MIB + 512 * KIB);
        assert_eq!(semi, 16 * MIB);
        // 2048 MiB: semi exactly 8 MiB.
        assert_eq!(sizes_mib(2048 * MIB), (1024, 8));
    }

    #[test]
    fn tiny_and_huge_physical_memory() {
        // 0 B or 100 MiB: old raised to 256 MiB, semi 1 MiB.
        assert_eq!(sizes_mib(0), (256, 1));
        assert_eq!(sizes_mib(100 * MIB), (256, 1));
        // 3 GiB: old 1536; semi 12 MiB -> power of two 16 MiB.
        assert_eq!(sizes_mib(3 * GIB), (1536, 16));
        assert_eq!(sizes_mib(u64::MAX), (4096, 16));
    }

    // ---- Near-limit checks ---------------------------------------------------

    #[test]
    fn ineffective_mark_compact_thresholds() {
        let max_old = 1000 * MIB;
        // 80 % of 1000 MiB = 800 MiB; mu 0.39 < 0.4 -> ineffective.
        assert!(is_ineffective_mark_compact(800 * MIB, max_old, 0.39));
        // One byte below 80 % -> effective.
        assert!(!is_ineffective_mark_compact(800 * MIB - 1, max_old, 0.39));
        // mu exactly 0.4 is not low.
        assert!(!is_ineffective_mark_compact(990 * MIB, max_old, 0.4));
        assert!(!is_ineffective_mark_compact(990 * MIB, max_old, f64::NAN));
        assert_eq!(MAX_CONSECUTIVE_INEFFECTIVE_MARK_COMPACTS, 4);
    }

    #[test]
    fn scavenge_might_not_succeed_near_the_maximum() {
        let max_old = 2048 * MIB;
        let young = new_space_allocatable_capacity(16 * MIB, PAGE_SIZE, PAGE_ALLOCATABLE_BYTES);
        // 2030 MiB + 16,494,080 B = 2,145,103,360 <= 2,147,483,648 -> can promote.
        assert!(can_promote_young_and_expand_old_generation(2030 * MIB, young, max_old));
        // 2033 MiB + 16,494,080 = 2,148,249,088 > 2 GiB -> scavenge might not succeed.
        assert!(!can_promote_young_and_expand_old_generation(2033 * MIB, young, max_old));
        // Exactly at the maximum is still allowed (<=).
        assert!(can_promote_young_and_expand_old_generation(2032 * MIB, 16 * MIB, max_old));
        // Overflow -> false, no panic.
        assert!(!can_promote_young_and_expand_old_generation(u64::MAX, 1, u64::MAX));
        assert!(can_expand_old_generation(0, 0, 0));
    }

    // ---- New-space resizing ----------------------------------------------------

    #[test]
    fn new_space_grows_when_more_survived_than_capacity() {
        // capacity 1 MiB < max 16 MiB, survived 1 MiB + 1 > 1 MiB, throughput unknown.
        assert_eq!(new_space_resize(MIB + 1, MIB, 16 * MIB, 0.0), NewSpaceResize::Grow);
        // survived == capacity is not enough.
        assert_eq!(new_space_resize(MIB, MIB, 16 * MIB, 0.0), NewSpaceResize::None);
        // At the maximum it never grows.
        assert_eq!(new_space_resize(64 * MIB, 16 * MIB, 16 * MIB, 5_000.0), NewSpaceResize::None);
    }

    #[test]
    fn new_space_shrinks_at_low_known_throughput() {
        assert_eq!(new_space_resize(0, 8 * MIB, 16 * MIB, 999.0), NewSpaceResize::Shrink);
        assert_eq!(new_space_resize(0, 8 * MIB, 16 * MIB, 0.5), NewSpaceResize::Shrink);
        // 0 = unknown, 1000 is not below 1000, NaN is unknown.
        assert_eq!(new_space_resize(0, 8 * MIB, 16 * MIB, 0.0), NewSpaceResize::None);
        assert_eq!(new_space_resize(0, 8 * MIB, 16 * MIB, 1000.0), NewSpaceResize::None);
        assert_eq!(new_space_resize(0, 8 * MIB, 16 * MIB, f64::NAN), NewSpaceResize::None);
    }

    #[test]
    fn new_space_grow_and_shrink_together_cancel() {
        // Both requested -> None, but the grow test is true (V8 resets the counter).
        assert_eq!(new_space_resize(2 * MIB, MIB, 16 * MIB, 10.0), NewSpaceResize::None);
        assert!(should_grow_new_space(2 * MIB, MIB, 16 * MIB));
        assert!(should_shrink_new_space(10.0));
    }

    #[test]
    fn semi_space_growth_doubles_up_to_the_maximum() {
        // Measured (docs/v8-sources.md#new-space-growth): 1 -> 2 -> 4 -> 8 -> 16 MiB, then capped.
        assert_eq!(grown_semi_space_capacity(MIB, 2, 16 * MIB), 2 * MIB);
        assert_eq!(grown_semi_space_capacity(8 * MIB, 2, 16 * MIB), 16 * MIB);
        assert_eq!(grown_semi_space_capacity(12 * MIB, 2, 16 * MIB), 16 * MIB);
        // Factor 3: 4 MiB x 3 = 12 MiB; factor below 2 is raised to 2.
        assert_eq!(grown_semi_space_capacity(4 * MIB, 3, 16 * MIB), 12 * MIB);
        assert_eq!(grown_semi_space_capacity(4 * MIB, 1, 16 * MIB), 8 * MIB);
        assert_eq!(grown_semi_space_capacity(u64::MAX, 2, u64::MAX), u64::MAX);
    }

    #[test]
    fn semi_space_shrink_target() {
        // used 100 KiB: max(1 MiB, 200 KiB) = 1 MiB.
        assert_eq!(shrunk_semi_space_capacity(100 * KIB, MIB, PAGE_SIZE), MIB);
        // used 3 MiB: 6 MiB (page multiple already).
        assert_eq!(shrunk_semi_space_capacity(3 * MIB, MIB, PAGE_SIZE), 6 * MIB);
        // used 1,153,434 B (1.1 MiB): 2,306,868 B -> 9 pages = 2,359,296 B (2.25 MiB).
        assert_eq!(shrunk_semi_space_capacity(1_153_434, MIB, PAGE_SIZE), 2_359_296);
        // page size 0: no rounding; huge inputs saturate.
        assert_eq!(shrunk_semi_space_capacity(1_153_434, MIB, 0), 2_306_868);
        assert_eq!(shrunk_semi_space_capacity(u64::MAX, MIB, PAGE_SIZE), u64::MAX);
    }
}
