//! Observation of the collector: GC events, the pause cost model, mutator utilization and allocation throughput.
//!
//! This is V8's `gc-tracer.h`. Every collection produces a [`GcEvent`]. Pauses come from [`PauseModel`], a cost
//! model calibrated on Node 20 measurements, never from wall-clock time, so a simulation is deterministic.
//! The simulated clock is the mutator's time (advanced by [`Heap::advance`](crate::Heap::advance)) plus every
//! modelled pause.

pub use event_log::{MAX_KEPT_EVENTS, RECENT_EVENTS};
mod event_log;
pub(crate) use event_log::EventLog;
use std::collections::VecDeque;

use crate::config::MIB;

/// Which collector ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collector {
    /// The young-generation semi-space copying collector.
    Scavenge,
    /// The full mark-sweep-compact collector.
    MarkCompact,
}

impl Collector {
    /// The name V8 prints in `--trace-gc` lines.
    pub fn v8_name(self) -> &'static str {
        match self {
            Collector::Scavenge => "Scavenge",
            Collector::MarkCompact => "Mark-Compact",
        }
    }
}

/// Why a collection was requested (V8's `GarbageCollectionReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GcReason {
    /// The mutator's allocation did not fit (`allocation failure`).
    AllocationFailure,
    /// The old generation reached its allocation limit (`allocation limit`).
    AllocationLimit,
    /// Requested by the program, like `global.gc()` (`testing`).
    Testing,
    /// One of the last-resort full collections before out-of-memory (`last resort`).
    LastResort,
}

impl GcReason {
    /// The reason as V8 prints it.
    pub fn v8_name(self) -> &'static str {
        match self {
            GcReason::AllocationFailure => "allocation failure",
            GcReason::AllocationLimit => "allocation limit",
            GcReason::Testing => "testing",
            GcReason::LastResort => "last resort",
        }
    }
}

/// Why the heap chose the collector it ran (V8's collector reason, printed after the `;`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectorReason {
    /// A scavenge was asked for, but the old generation could not absorb every young object.
    ScavengeMightNotSucceed,
    /// A full collection was asked for.
    OldSpaceRequested,
}

impl CollectorReason {
    /// The reason as V8 prints it.
    pub fn v8_name(self) -> &'static str {
        match self {
            CollectorReason::ScavengeMightNotSucceed => "scavenge might not succeed",
            CollectorReason::OldSpaceRequested => "GC in old space requested",
        }
    }
}

/// Bytes and objects in one space at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SpaceUsage {
    /// Bytes of objects (V8's `SizeOfObjects`; after a scavenge, objects of dead young memory are not counted).
    pub used_bytes: u64,
    /// Bytes of pages the space holds (V8's committed memory).
    pub committed_bytes: u64,
    /// Number of objects.
    pub objects: u64,
}

/// Per-space usage of the whole heap at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeapUsage {
    /// The semi-space new space (both semi-spaces are committed).
    pub new_space: SpaceUsage,
    /// Young large objects.
    pub new_large_object_space: SpaceUsage,
    /// The paged old space.
    pub old_space: SpaceUsage,
    /// Old large objects.
    pub large_object_space: SpaceUsage,
}

impl HeapUsage {
    /// Sum of object bytes of every space (the `A` and `C` of a `--trace-gc` line).
    pub fn used_bytes(&self) -> u64 {
        self.spaces().iter().map(|s| s.used_bytes).sum()
    }

    /// Sum of committed bytes of every space (the `B` and `D` of a `--trace-gc` line).
    pub fn committed_bytes(&self) -> u64 {
        self.spaces().iter().map(|s| s.committed_bytes).sum()
    }

    /// Number of objects in the heap.
    pub fn objects(&self) -> u64 {
        self.spaces().iter().map(|s| s.objects).sum()
    }

    /// Object bytes of the old generation (old space plus large-object space).
    pub fn old_generation_bytes(&self) -> u64 {
        self.old_space.used_bytes + self.large_object_space.used_bytes
    }

    fn spaces(&self) -> [SpaceUsage; 4] {
        [self.new_space, self.new_large_object_space, self.old_space, self.large_object_space]
    }
}

/// One garbage collection, as the tracer records it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GcEvent {
    /// 1 for the heap's first collection, then counting up.
    pub number: u64,
    /// Which collector ran.
    pub collector: Collector,
    /// Why it was requested.
    pub reason: GcReason,
    /// Why this collector was chosen, when it was not the one requested or a full GC was asked for.
    pub collector_reason: Option<CollectorReason>,
    /// Simulated time at the start of the pause, in ms since the heap was created.
    pub start_ms: f64,
    /// Modelled pause in ms.
    pub pause_ms: f64,
    /// Heap usage before the collection.
    pub before: HeapUsage,
    /// Heap usage after the collection.
    pub after: HeapUsage,
    /// Bytes copied within new space.
    pub copied_bytes: u64,
    /// Objects copied within new space.
    pub copied_objects: u64,
    /// Bytes promoted from the young to the old generation (including young large objects).
    pub promoted_bytes: u64,
    /// Objects promoted.
    pub promoted_objects: u64,
    /// Bytes of objects found dead (young ones for a scavenge, all for a mark-compact).
    pub died_bytes: u64,
    /// Number of objects found dead.
    pub died_objects: u64,
    /// Mark-compact: bytes of marked (live) objects.
    pub marked_bytes: u64,
    /// Mark-compact: number of marked objects.
    pub marked_objects: u64,
    /// Mark-compact: old-space pages swept.
    pub swept_pages: u64,
    /// Mark-compact: pages evacuated (compacted).
    pub evacuated_pages: u64,
    /// Mark-compact: bytes moved out of evacuated pages.
    pub evacuated_bytes: u64,
    /// Mark-compact: old-space and large-object pages given back.
    pub released_pages: u64,
    /// Free-list bytes plus wasted gaps in old space after the collection (V8's `holes_size_after`).
    pub holes_bytes: u64,
    /// Semi-space capacity after the collection.
    pub semi_space_capacity: u64,
    /// Old-generation allocation limit after the collection.
    pub old_generation_allocation_limit: u64,
    /// Average mark-compact mutator utilization (`average mu`).
    pub average_mutator_utilization: f64,
    /// Mutator utilization since the previous mark-compact (`current mu`).
    pub current_mutator_utilization: f64,
}

impl GcEvent {
    /// Bytes that survived in the young generation: copied plus promoted.
    pub fn survived_bytes(&self) -> u64 {
        self.copied_bytes + self.promoted_bytes
    }

    /// Simulated time at the end of the pause.
    pub fn end_ms(&self) -> f64 {
        self.start_ms + self.pause_ms
    }

    /// The event as a `--trace-gc` line, in V8's format (`GCTracer::Print`) with `[gc-sim]` in place of
    /// `[pid:isolate]`, so that existing V8 log parsers read it:
    ///
    /// ```text
    /// [gc-sim]       20 ms: Scavenge 3.9 (4.0) -> 3.0 (5.0) MB, 0.51 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;
    /// ```
    ///
    /// The time is the modelled clock at the *end* of the pause, as V8 prints `time_millis_since_init()` once the
    /// cycle has stopped. `MB` is 2^20 bytes; sizes are object bytes (committed bytes in parentheses) of the whole heap before and
    /// after. The second time is the embedder's, always 0 here; incremental marking is not modelled, so the
    /// mark-compact-only `(+ … steps …)` part is empty, which leaves two spaces before `(average`, as for a
    /// scavenge. There is no trailing newline.
    pub fn trace_gc_line(&self) -> String {
        let mb = |bytes: u64| bytes as f64 / MIB as f64;
        format!(
            "[gc-sim] {:8.0} ms: {} {:.1} ({:.1}) -> {:.1} ({:.1}) MB, {:.2} / {:.2} ms  (average mu = {:.3}, current mu = {:.3}) {}; {}",
            self.end_ms(),
            self.collector.v8_name(),
            mb(self.before.used_bytes()),
            mb(self.before.committed_bytes()),
            mb(self.after.used_bytes()),
            mb(self.after.committed_bytes()),
            self.pause_ms,
            0.0,
            self.average_mutator_utilization,
            self.current_mutator_utilization,
            self.reason.v8_name(),
            self.collector_reason.map_or("", CollectorReason::v8_name),
        )
    }
}

/// V8 keeps the last 10 samples of each speed (`GCTracer`'s ring buffers).
const RING_BUFFER_SIZE: usize = 10;
/// Allocation throughput is averaged over this much recent mutator time (`kThroughputTimeFrameMs`).
pub const THROUGHPUT_TIME_FRAME_MS: f64 = 5000.0;
/// Speeds are clamped to this range (`GCTracer::AverageSpeed`), 0 meaning "no data".
const MAX_SPEED: f64 = (1u64 << 30) as f64;

/// Allocation since the previous GC, sampled at the start of every GC.
#[derive(Clone, Copy, Debug)]
struct AllocationSample {
    mutator_ms: f64,
    new_space_bytes: u64,
    old_generation_bytes: u64,
}

/// The tracer's state: the clock, mutator utilization and speeds.
#[derive(Debug)]
pub(crate) struct Tracer {
    /// Simulated time: mutator time plus all pauses.
    pub now_ms: f64,
    /// Mutator time since the previous GC ended.
    mutator_ms_since_gc: f64,
    /// Bytes the mutator allocated in new space (incl. new large objects) since the previous GC.
    pub new_space_allocated_since_gc: u64,
    /// Bytes that entered the old generation since the previous GC (promotions and old large objects).
    pub old_generation_allocated_since_gc: u64,
    allocations: VecDeque<AllocationSample>,
    mark_compact_speeds: VecDeque<(u64, f64)>,
    previous_mark_compact_end_ms: Option<f64>,
    average_mark_compact_ms: f64,
    average_mutator_ms: f64,
    current_mutator_utilization: f64,
    /// Number of collections so far.
    pub collections: u64,
}

impl Default for Tracer {
    fn default() -> Self {
        Tracer {
            now_ms: 0.0,
            mutator_ms_since_gc: 0.0,
            new_space_allocated_since_gc: 0,
            old_generation_allocated_since_gc: 0,
            allocations: VecDeque::with_capacity(RING_BUFFER_SIZE),
            mark_compact_speeds: VecDeque::with_capacity(RING_BUFFER_SIZE),
            previous_mark_compact_end_ms: None,
            average_mark_compact_ms: 0.0,
            average_mutator_ms: 0.0,
            current_mutator_utilization: 1.0,
            collections: 0,
        }
    }
}

fn push_ring<T>(ring: &mut VecDeque<T>, value: T) {
    if ring.len() == RING_BUFFER_SIZE {
        ring.pop_front();
    }
    ring.push_back(value);
}

impl Tracer {
    /// Advances the mutator clock.
    pub fn advance(&mut self, ms: f64) {
        self.now_ms += ms;
        self.mutator_ms_since_gc += ms;
    }

    /// Called at the start of every GC: closes the allocation sample of the mutator period that just ended.
    pub fn start_cycle(&mut self) {
        push_ring(
            &mut self.allocations,
            AllocationSample {
                mutator_ms: self.mutator_ms_since_gc,
                new_space_bytes: self.new_space_allocated_since_gc,
                old_generation_bytes: self.old_generation_allocated_since_gc,
            },
        );
        self.mutator_ms_since_gc = 0.0;
        self.new_space_allocated_since_gc = 0;
        self.old_generation_allocated_since_gc = 0;
        self.collections += 1;
    }

    /// Called at the end of every GC with its modelled pause.
    pub fn end_cycle(&mut self, pause_ms: f64, mark_compact_live_bytes: Option<u64>) {
        self.now_ms += pause_ms;
        if let Some(live) = mark_compact_live_bytes {
            push_ring(&mut self.mark_compact_speeds, (live, pause_ms));
            self.record_mutator_utilization(self.now_ms, pause_ms);
        }
    }

    /// V8's `GCTracer::RecordMutatorUtilization`, called at the end of every mark-compact.
    fn record_mutator_utilization(&mut self, end_ms: f64, duration_ms: f64) {
        let Some(previous_end) = self.previous_mark_compact_end_ms.replace(end_ms) else {
            // The first mark-compact only starts the clock: no mutator period is known yet.
            return;
        };
        let total = end_ms - previous_end;
        let mutator = (total - duration_ms).max(0.0);
        if self.average_mark_compact_ms == 0.0 && self.average_mutator_ms == 0.0 {
            self.average_mark_compact_ms = duration_ms;
            self.average_mutator_ms = mutator;
        } else {
            self.average_mark_compact_ms = (self.average_mark_compact_ms + duration_ms) / 2.0;
            self.average_mutator_ms = (self.average_mutator_ms + mutator) / 2.0;
        }
        self.current_mutator_utilization = if total > 0.0 { mutator / total } else { 0.0 };
    }

    /// `average mu`: 1.0 until two mark-compacts have run.
    pub fn average_mutator_utilization(&self) -> f64 {
        let total = self.average_mark_compact_ms + self.average_mutator_ms;
        if total == 0.0 {
            1.0
        } else {
            self.average_mutator_ms / total
        }
    }

    /// `current mu`: mutator utilization between the last two mark-compacts (1.0 before the second).
    pub fn current_mutator_utilization(&self) -> f64 {
        self.current_mutator_utilization
    }

    /// Mark-compact speed in bytes/ms over the last 10 mark-compacts (0 when none ran).
    pub fn mark_compact_speed(&self) -> f64 {
        average_speed(self.mark_compact_speeds.iter().copied())
    }

    /// Old-generation allocation throughput in bytes per mutator ms over the last [`THROUGHPUT_TIME_FRAME_MS`]
    /// (0 when unknown).
    pub fn old_generation_allocation_throughput(&self) -> f64 {
        self.throughput(|s| s.old_generation_bytes)
    }

    /// New-space plus old-generation allocation throughput (`CurrentAllocationThroughputInBytesPerMillisecond`).
    pub fn allocation_throughput(&self) -> f64 {
        self.throughput(|s| s.new_space_bytes) + self.throughput(|s| s.old_generation_bytes)
    }

    fn throughput(&self, bytes: impl Fn(&AllocationSample) -> u64) -> f64 {
        let (mut total_bytes, mut total_ms) = (0u64, 0.0f64);
        for sample in self.allocations.iter().rev() {
            total_bytes += bytes(sample);
            total_ms += sample.mutator_ms;
            if total_ms >= THROUGHPUT_TIME_FRAME_MS {
                break;
            }
        }
        average_speed(std::iter::once((total_bytes, total_ms)))
    }
}

/// Sum of bytes over sum of ms, clamped to [1 B/ms, 1 GiB/ms]; 0 when there is no data.
fn average_speed(samples: impl Iterator<Item = (u64, f64)>) -> f64 {
    let (bytes, ms) = samples.fold((0u64, 0.0f64), |(b, t), (sb, st)| (b + sb, t + st));
    if ms <= 0.0 || bytes == 0 {
        return 0.0;
    }
    (bytes as f64 / ms).clamp(1.0, MAX_SPEED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutator_utilization_stays_one_until_two_mark_compacts() {
        let mut t = Tracer::default();
        t.advance(100.0);
        t.start_cycle();
        t.end_cycle(10.0, Some(MIB));
        assert_eq!(t.average_mutator_utilization(), 1.0);
        assert_eq!(t.current_mutator_utilization(), 1.0);
        // 90 ms of mutator, then a 10 ms mark-compact: 90 / 100.
        t.advance(90.0);
        t.start_cycle();
        t.end_cycle(10.0, Some(MIB));
        assert!((t.current_mutator_utilization() - 0.9).abs() < 1e-12);
        assert!((t.average_mutator_utilization() - 0.9).abs() < 1e-12);
        // Back to back: 0 ms of mutator then 10 ms of GC: current 0, average (90+0)/2 / ((90+0)/2 + 10).
        t.start_cycle();
        t.end_cycle(10.0, Some(MIB));
        assert_eq!(t.current_mutator_utilization(), 0.0);
        assert!((t.average_mutator_utilization() - 45.0 / 55.0).abs() < 1e-12);
    }

    #[test]
    fn throughput_uses_recent_mutator_time() {
        let mut t = Tracer::default();
        assert_eq!(t.allocation_throughput(), 0.0);
        t.advance(1000.0);
        t.new_space_allocated_since_gc = 2_000_000;
        t.old_generation_allocated_since_gc = 500_000;
        t.start_cycle();
        t.end_cycle(1.0, None);
        assert_eq!(t.old_generation_allocation_throughput(), 500.0);
        assert_eq!(t.allocation_throughput(), 2500.0);
    }
}
