//! The GC tracer (V8's `gc-tracer.h`): it owns the event of the collection that is running, from [`start`] (the
//! collector, the reason and the heap's usage before) through the counters the collector adds to [`stop`] (the
//! modelled pause, the clock, the mark-compact speed and mutator utilization) and [`finish`] (the sizes and limits
//! after the heap controller has recomputed them), when the event joins the kept events and the totals. Between
//! collections it keeps the clock, the allocation throughput and the mutator utilization the heap controller reads.
//!
//! Pauses come from the [`PauseModel`](crate::PauseModel), a cost model calibrated on Node 20 measurements, never
//! from wall-clock time, so a simulation is deterministic. The simulated clock is the mutator's time (advanced by
//! [`Heap::advance`](crate::Heap::advance)) plus every modelled pause.
//!
//! [`start`]: GcTracer::start
//! [`stop`]: GcTracer::stop
//! [`finish`]: GcTracer::finish

mod event;
mod event_log;
pub(crate) mod nvp;

pub use event::{
    Collector, CollectorReason, GcEvent, GcReason, GcStart, HeapUsage, IncrementalMarkingStats, SpaceUsage,
};
pub(crate) use event::{CollectorCounts, SizesAfter};
use event_log::EventLog;
pub use event_log::{MAX_KEPT_EVENTS, RECENT_EVENTS};
use std::collections::VecDeque;

/// Running totals over the heap's whole life.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GcTotals {
    /// Scavenges run.
    pub scavenges: u64,
    /// Mark-compacts run.
    pub mark_compacts: u64,
    /// Sum of modelled pauses, in ms.
    pub pause_ms: f64,
    /// Sum of the scavenges' modelled pauses, in ms.
    #[serde(default)]
    pub scavenge_pause_ms: f64,
    /// Sum of the mark-compacts' modelled pauses, in ms.
    #[serde(default)]
    pub mark_compact_pause_ms: f64,
    /// The longest modelled pause, in ms.
    #[serde(default)]
    pub max_pause_ms: f64,
    /// Bytes promoted to the old generation.
    pub promoted_bytes: u64,
    /// Bytes copied within new space.
    pub copied_bytes: u64,
    /// Bytes the mutator allocated.
    pub allocated_bytes: u64,
    /// Objects the mutator allocated.
    pub allocated_objects: u64,
}

/// V8 keeps the last 10 samples of each speed (`GCTracer`'s ring buffers).
const RING_BUFFER_SIZE: usize = 10;
/// Allocation throughput is averaged over this much recent mutator time (`kThroughputTimeFrameMs`).
pub const THROUGHPUT_TIME_FRAME_MS: f64 = 5000.0;
/// Speeds are clamped to this range (`GCTracer::AverageSpeed`), 0 meaning "no data".
const MAX_SPEED: f64 = (1u64 << 30) as f64;

/// Allocation since the previous sample, taken at the start of every GC (and by the memory reducer's timer).
#[derive(Clone, Copy, Debug)]
struct AllocationSample {
    mutator_ms: f64,
    new_space_bytes: u64,
    old_generation_bytes: u64,
}

/// The tracer: the running collection's event, the kept events and totals, the clock, mutator utilization and
/// speeds.
#[derive(Debug)]
pub(crate) struct GcTracer {
    /// The event of the collection that is running, between [`start`](Self::start) and [`finish`](Self::finish).
    current: Option<GcEvent>,
    /// The kept events.
    events: EventLog,
    /// Totals over every collection and allocation.
    pub totals: GcTotals,
    /// Simulated time: mutator time plus all pauses.
    pub now_ms: f64,
    /// Mutator time since the previous GC ended.
    mutator_ms_since_gc: f64,
    /// Bytes the mutator allocated in new space (incl. new large objects) since the previous GC.
    pub new_space_allocated_since_gc: u64,
    /// Bytes that entered the old generation since the previous GC (promotions and old large objects).
    pub old_generation_allocated_since_gc: u64,
    /// The same three since the last allocation sample (a GC's start, or the memory reducer's timer).
    mutator_ms_since_sample: f64,
    new_space_allocated_since_sample: u64,
    old_generation_allocated_since_sample: u64,
    /// `totals.allocated_bytes` when the previous collection started.
    allocated_at_previous_gc: u64,
    allocations: VecDeque<AllocationSample>,
    mark_compact_speeds: VecDeque<(u64, f64)>,
    previous_mark_compact_end_ms: Option<f64>,
    average_mark_compact_ms: f64,
    average_mutator_ms: f64,
    current_mutator_utilization: f64,
    /// Number of collections so far.
    pub collections: u64,
}

impl Default for GcTracer {
    fn default() -> Self {
        GcTracer {
            current: None,
            events: EventLog::default(),
            totals: GcTotals::default(),
            now_ms: 0.0,
            mutator_ms_since_gc: 0.0,
            new_space_allocated_since_gc: 0,
            old_generation_allocated_since_gc: 0,
            mutator_ms_since_sample: 0.0,
            new_space_allocated_since_sample: 0,
            old_generation_allocated_since_sample: 0,
            allocated_at_previous_gc: 0,
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

impl GcTracer {
    /// V8's `GCTracer::Start`: a collection begins. Closes the allocation sample of the mutator period that just
    /// ended and opens the collection's event with the heap's usage before it and the old generation's allocation
    /// limit in force.
    pub fn start(
        &mut self,
        collector: Collector,
        reason: GcReason,
        collector_reason: Option<CollectorReason>,
        before: HeapUsage,
        allocation_limit: u64,
    ) {
        debug_assert!(self.current.is_none(), "collections do not nest");
        let (mutator_ms, allocated_bytes) =
            (self.mutator_ms_since_gc, self.totals.allocated_bytes - self.allocated_at_previous_gc);
        self.allocated_at_previous_gc = self.totals.allocated_bytes;
        self.start_cycle();
        self.current = Some(GcEvent {
            mutator_ms,
            allocated_bytes,
            // Until `finish`: the limit in force when the collection started.
            ..GcEvent::opened(
                self.collections,
                (collector, reason, collector_reason),
                self.now_ms,
                before,
                allocation_limit,
            )
        });
    }

    /// V8's `GCTracer::Stop`: the collector's counters are added to the event and the modelled pause ends, which
    /// advances the clock and, for a mark-compact (`marked_bytes` of live data), updates the mark-compact speed and
    /// the mutator utilization.
    ///
    /// A mark-compact that finalized incremental marking brings what the marking did (`incremental`): its steps'
    /// time counts as collection time for the speed and the mutator utilization, as V8's
    /// `RecordMutatorUtilization(end, duration + incremental_marking_duration)`.
    pub fn stop(
        &mut self,
        counts: CollectorCounts,
        pause_ms: f64,
        incremental: Option<IncrementalMarkingStats>,
        reduce_memory: bool,
    ) {
        let event = self.current.as_mut().expect("stop follows start");
        counts.add_to(event);
        event.pause_ms = pause_ms;
        event.incremental = incremental;
        event.reduce_memory = reduce_memory;
        let mark_compact_live = (event.collector == Collector::MarkCompact).then_some(event.marked_bytes);
        let marking_ms = incremental.map_or(0.0, |i| i.steps_ms);
        self.end_cycle(pause_ms, marking_ms, mark_compact_live);
    }

    /// Closes an allocation sample without a collection (V8's `GCTracer::SampleAllocation`, as the memory reducer's
    /// timer does before it looks at the allocation rate).
    pub fn sample_allocation(&mut self) {
        push_ring(
            &mut self.allocations,
            AllocationSample {
                mutator_ms: self.mutator_ms_since_sample,
                new_space_bytes: self.new_space_allocated_since_sample,
                old_generation_bytes: self.old_generation_allocated_since_sample,
            },
        );
        self.mutator_ms_since_sample = 0.0;
        self.new_space_allocated_since_sample = 0;
        self.old_generation_allocated_since_sample = 0;
    }

    /// The last step of a collection: the event gets the sizes and limits after it (read once the heap controller
    /// has recomputed them) and the mutator utilization, is counted in the totals and kept. Returns the event.
    pub fn finish(&mut self, after: SizesAfter) -> &GcEvent {
        let mut event = self.current.take().expect("finish follows start");
        let limit_before = event.old_generation_allocation_limit;
        after.add_to(&mut event);
        event.average_mutator_utilization = self.average_mutator_utilization();
        event.current_mutator_utilization = self.current_mutator_utilization();
        let totals = &mut self.totals;
        totals.pause_ms += event.pause_ms;
        match event.collector {
            Collector::Scavenge => {
                totals.scavenge_pause_ms += event.pause_ms;
                totals.scavenges += 1;
            }
            Collector::MarkCompact => {
                totals.mark_compact_pause_ms += event.pause_ms;
                totals.mark_compacts += 1;
            }
        }
        totals.max_pause_ms = totals.max_pause_ms.max(event.pause_ms);
        totals.promoted_bytes += event.promoted_bytes;
        totals.copied_bytes += event.copied_bytes;
        self.events.push(event, limit_before);
        self.events.last().expect("just pushed")
    }

    /// The kept events, oldest first (see [`MAX_KEPT_EVENTS`]).
    pub fn events(&self) -> &[GcEvent] {
        self.events.events()
    }

    /// The kept events of the collections numbered after `number`.
    pub fn events_since(&self, number: u64) -> &[GcEvent] {
        self.events.since(number)
    }

    /// The allocation limit in force when each kept event started, in the order of [`events`](Self::events).
    pub fn limits_before(&self) -> &[u64] {
        self.events.limits_before()
    }

    /// Counts an allocation by the mutator.
    #[inline]
    pub fn record_allocation(&mut self, size: u32, young: bool) {
        if young {
            self.new_space_allocated_since_gc += u64::from(size);
            self.new_space_allocated_since_sample += u64::from(size);
        } else {
            self.old_generation_allocated_since_gc += u64::from(size);
            self.old_generation_allocated_since_sample += u64::from(size);
        }
        self.totals.allocated_bytes += u64::from(size);
        self.totals.allocated_objects += 1;
    }

    /// Advances the mutator clock.
    pub fn advance(&mut self, ms: f64) {
        self.now_ms += ms;
        self.mutator_ms_since_gc += ms;
        self.mutator_ms_since_sample += ms;
    }

    /// Counts bytes that entered the old generation other than by the mutator's allocation (promotions).
    pub fn record_old_generation_growth(&mut self, bytes: u64) {
        self.old_generation_allocated_since_gc += bytes;
        self.old_generation_allocated_since_sample += bytes;
    }

    /// Closes the allocation sample of the mutator period that just ended.
    fn start_cycle(&mut self) {
        self.sample_allocation();
        self.mutator_ms_since_gc = 0.0;
        self.new_space_allocated_since_gc = 0;
        self.old_generation_allocated_since_gc = 0;
        self.collections += 1;
    }

    /// Ends the modelled pause.
    fn end_cycle(&mut self, pause_ms: f64, marking_ms: f64, mark_compact_live_bytes: Option<u64>) {
        self.now_ms += pause_ms;
        if let Some(live) = mark_compact_live_bytes {
            push_ring(&mut self.mark_compact_speeds, (live, pause_ms + marking_ms));
            self.record_mutator_utilization(self.now_ms, pause_ms + marking_ms);
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

    /// New-space allocation throughput in bytes per mutator ms over the last [`THROUGHPUT_TIME_FRAME_MS`] (0 when
    /// unknown).
    pub fn new_space_allocation_throughput(&self) -> f64 {
        self.throughput(|s| s.new_space_bytes)
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
    use crate::config::MIB;

    #[test]
    fn mutator_utilization_stays_one_until_two_mark_compacts() {
        let mut t = GcTracer::default();
        t.advance(100.0);
        t.start_cycle();
        t.end_cycle(10.0, 0.0, Some(MIB));
        assert_eq!(t.average_mutator_utilization(), 1.0);
        assert_eq!(t.current_mutator_utilization(), 1.0);
        // 90 ms of mutator, then a 10 ms mark-compact: 90 / 100.
        t.advance(90.0);
        t.start_cycle();
        t.end_cycle(10.0, 0.0, Some(MIB));
        assert!((t.current_mutator_utilization() - 0.9).abs() < 1e-12);
        assert!((t.average_mutator_utilization() - 0.9).abs() < 1e-12);
        // Back to back: 0 ms of mutator then 10 ms of GC: current 0, average (90+0)/2 / ((90+0)/2 + 10).
        t.start_cycle();
        t.end_cycle(10.0, 0.0, Some(MIB));
        assert_eq!(t.current_mutator_utilization(), 0.0);
        assert!((t.average_mutator_utilization() - 45.0 / 55.0).abs() < 1e-12);
    }

    #[test]
    fn throughput_uses_recent_mutator_time() {
        let mut t = GcTracer::default();
        assert_eq!(t.allocation_throughput(), 0.0);
        t.advance(1000.0);
        t.record_allocation(2_000_000, true);
        t.record_allocation(500_000, false);
        t.start_cycle();
        t.end_cycle(1.0, 0.0, None);
        assert_eq!(t.old_generation_allocation_throughput(), 500.0);
        assert_eq!(t.allocation_throughput(), 2500.0);
    }
}
