//! What one collection did: [`GcEvent`], with the heap's usage before and after it, and the names V8 prints.

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
    /// The scavenge task, posted when new space reached its task trigger (`task`).
    Task,
    /// Incremental marking was complete and a task finalized it (`finalize incremental marking via task`).
    FinalizeMarkingViaTask,
    /// Incremental marking completed during an allocation step, and the next allocation finalized it
    /// (`finalize incremental marking via stack guard`).
    FinalizeMarkingViaStackGuard,
}

impl GcReason {
    /// The reason as V8 prints it.
    pub fn v8_name(self) -> &'static str {
        match self {
            GcReason::AllocationFailure => "allocation failure",
            GcReason::AllocationLimit => "allocation limit",
            GcReason::Testing => "testing",
            GcReason::LastResort => "last resort",
            GcReason::Task => "task",
            GcReason::FinalizeMarkingViaTask => "finalize incremental marking via task",
            GcReason::FinalizeMarkingViaStackGuard => "finalize incremental marking via stack guard",
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
    /// Mutator time since the previous collection ended, ms (V8's `mutator=` of `--trace-gc-nvp`).
    #[serde(default)]
    pub mutator_ms: f64,
    /// Bytes the mutator allocated since the previous collection, young and old (V8's `allocated=`).
    #[serde(default)]
    pub allocated_bytes: u64,
    /// A memory-reducing collection (V8's `--trace-gc` ` (reduce)`, `reduce_memory=1`): started by the memory
    /// reducer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reduce_memory: bool,
    /// Mark-compact that finalized incremental marking: what the marking did before this pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalMarkingStats>,
}

/// The incremental marking that a mark-compact finalized: what V8 prints as `(+ 8.2 ms in 36 steps since start of
/// marking, biggest step 4.5 ms, walltime since start of marking 17 ms)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IncrementalMarkingStats {
    /// Marking steps on the main thread (paid for by allocation or run by tasks).
    pub steps: u64,
    /// Main-thread time spent in those steps, ms.
    pub steps_ms: f64,
    /// The longest step, ms.
    pub longest_step_ms: f64,
    /// From the start of marking to the start of the finalizing pause, ms.
    pub walltime_ms: f64,
    /// Bytes marked before the finalizing pause (by steps and by the concurrent markers).
    pub marked_bytes: u64,
}

impl GcEvent {
    /// The event of a collection that starts: the heap's usage before it (also the usage after, until it is
    /// finished), the allocation limit in force, nothing counted yet, mutator utilization 1.
    pub(crate) fn opened(
        number: u64,
        (collector, reason, collector_reason): (Collector, GcReason, Option<CollectorReason>),
        start_ms: f64,
        before: HeapUsage,
        allocation_limit: u64,
    ) -> GcEvent {
        GcEvent {
            number,
            collector,
            reason,
            collector_reason,
            start_ms,
            pause_ms: 0.0,
            before,
            after: before,
            copied_bytes: 0,
            copied_objects: 0,
            promoted_bytes: 0,
            promoted_objects: 0,
            died_bytes: 0,
            died_objects: 0,
            marked_bytes: 0,
            marked_objects: 0,
            swept_pages: 0,
            evacuated_pages: 0,
            evacuated_bytes: 0,
            released_pages: 0,
            holes_bytes: 0,
            semi_space_capacity: 0,
            old_generation_allocation_limit: allocation_limit,
            average_mutator_utilization: 1.0,
            current_mutator_utilization: 1.0,
            mutator_ms: 0.0,
            allocated_bytes: 0,
            reduce_memory: false,
            incremental: None,
        }
    }

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
    /// [gc-sim]    14683 ms: Mark-Compact 13.4 (29.2) -> 11.9 (29.7) MB, 4.62 / 0.00 ms  (+ 8.2 ms in 36 steps since start of marking, biggest step 4.5 ms, walltime since start of marking 17 ms) (average mu = 0.998, current mu = 0.998) finalize incremental marking via task; GC in old space requested
    /// ```
    ///
    /// The time is the modelled clock at the *end* of the pause, as V8 prints `time_millis_since_init()` once the
    /// cycle has stopped. `MB` is 2^20 bytes; sizes are object bytes (committed bytes in parentheses) of the whole
    /// heap before and after. The second time is the embedder's, always 0 here. A mark-compact that finalized
    /// incremental marking prints what the marking did before the pause (`(+ ...)`); other collections leave that
    /// part empty, which leaves two spaces before `(average`. A memory-reducing mark-compact is `Mark-Compact
    /// (reduce)`. There is no trailing newline. The `--trace-gc-nvp`
    /// form: [`trace_gc_nvp_line`](Self::trace_gc_nvp_line).
    pub fn trace_gc_line(&self) -> String {
        let mb = |bytes: u64| bytes as f64 / MIB as f64;
        let incremental = match &self.incremental {
            Some(i) => format!(
                "(+ {:.1} ms in {} steps since start of marking, biggest step {:.1} ms, walltime since start of marking {:.0} ms) ",
                i.steps_ms,
                i.steps,
                i.longest_step_ms,
                // V8 measures to the end of the finalizing pause.
                i.walltime_ms + self.pause_ms
            ),
            None => String::new(),
        };
        format!(
            "[gc-sim] {:8.0} ms: {}{} {:.1} ({:.1}) -> {:.1} ({:.1}) MB, {:.2} / {:.2} ms  {}(average mu = {:.3}, current mu = {:.3}) {}; {}",
            self.end_ms(),
            self.collector.v8_name(),
            if self.reduce_memory { " (reduce)" } else { "" },
            mb(self.before.used_bytes()),
            mb(self.before.committed_bytes()),
            mb(self.after.used_bytes()),
            mb(self.after.committed_bytes()),
            self.pause_ms,
            0.0,
            incremental,
            self.average_mutator_utilization,
            self.current_mutator_utilization,
            self.reason.v8_name(),
            self.collector_reason.map_or("", CollectorReason::v8_name),
        )
    }
}

/// What a GC prologue callback is told: the collection about to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcStart {
    /// Its number (see [`GcEvent::number`]).
    pub number: u64,
    /// The collector that will run.
    pub collector: Collector,
    /// Why it runs.
    pub reason: GcReason,
}

/// What a collector counted, added to the running event by [`GcTracer::stop`](super::GcTracer::stop). Each
/// collector fills the fields it has; the others stay 0.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CollectorCounts {
    pub copied_bytes: u64,
    pub copied_objects: u64,
    pub promoted_bytes: u64,
    pub promoted_objects: u64,
    pub died_bytes: u64,
    pub died_objects: u64,
    pub marked_bytes: u64,
    pub marked_objects: u64,
    /// Bytes marked inside the pause (all of them for an atomic mark-compact; what incremental marking left for a
    /// finalizing one): what the pause model charges.
    pub pause_marked_bytes: u64,
    pub swept_pages: u64,
    pub evacuated_pages: u64,
    pub evacuated_bytes: u64,
    pub released_pages: u64,
}

impl CollectorCounts {
    pub(super) fn add_to(self, event: &mut GcEvent) {
        event.copied_bytes += self.copied_bytes;
        event.copied_objects += self.copied_objects;
        event.promoted_bytes += self.promoted_bytes;
        event.promoted_objects += self.promoted_objects;
        event.died_bytes += self.died_bytes;
        event.died_objects += self.died_objects;
        event.marked_bytes += self.marked_bytes;
        event.marked_objects += self.marked_objects;
        event.swept_pages += self.swept_pages;
        event.evacuated_pages += self.evacuated_pages;
        event.evacuated_bytes += self.evacuated_bytes;
        event.released_pages += self.released_pages;
    }
}

/// The heap's sizes and limits once a collection is over, for [`GcTracer::finish`](super::GcTracer::finish).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SizesAfter {
    pub usage: HeapUsage,
    pub holes_bytes: u64,
    pub semi_space_capacity: u64,
    pub old_generation_allocation_limit: u64,
}

impl SizesAfter {
    pub(super) fn add_to(self, event: &mut GcEvent) {
        event.after = self.usage;
        event.holes_bytes = self.holes_bytes;
        event.semi_space_capacity = self.semi_space_capacity;
        event.old_generation_allocation_limit = self.old_generation_allocation_limit;
    }
}
