//! `--trace-gc-nvp` lines: [`GcEvent::trace_gc_nvp_line`] prints a collection as V8 11.3's `GCTracer::PrintNVP`
//! does (Node 20), every key of a scavenge (`gc=s`) or mark-compact (`gc=mc`) line in V8's order, with V8's
//! units and decimal places, so that a tool that reads Node's nvp logs (gc-sim's own [`gc_log`](crate::gc_log)
//! reader among them) can compare gc-sim with Node field by field.
//!
//! Several of V8's figures are running statistics over earlier collections (the average survival ratio, the
//! scavenge, allocation and compaction speeds, the promotion rate, `allocated` as the growth since the previous
//! collection): an [`NvpContext`] keeps them. It must see every collection, in order, from the heap's first one;
//! it returns an [`NvpError`] otherwise. docs/model.md, section 7, says what each key holds in gc-sim.

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::event::{Collector, GcEvent};
use crate::config::{PauseModel, MIB};

/// V8 keeps the last 10 samples of each speed and of the survival ratio (`GCTracer`'s ring buffers).
const RING_BUFFER_SIZE: usize = 10;
/// Speeds are clamped to [1 B/ms, 1 GiB/ms] (`GCTracer::AverageSpeed`), 0 meaning "no sample".
const MAX_SPEED: f64 = (1u64 << 30) as f64;
/// V8's incremental-marking speed before any incremental marking was measured
/// (`kConservativeSpeedInBytesPerMillisecond`, 128 KiB/ms).
const CONSERVATIVE_MARKING_SPEED: f64 = 128.0 * 1024.0;

/// A collection given to an [`NvpContext`] out of order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--trace-gc-nvp: collection {got} given where collection {expected} was due: the nvp context must see every \
     collection of the heap, in order, from the first"
)]
pub struct NvpError {
    /// The number of the collection the context expected.
    pub expected: u64,
    /// The number of the collection it was given.
    pub got: u64,
}

/// What V8's tracer and heap remember between collections for `--trace-gc-nvp`, and the pause model whose terms
/// give the phase times. Make one per heap ([`NvpContext::new`] with the heap's
/// [`PauseModel`](crate::HeapConfig::pause)) and give it every collection in order, as a GC epilogue callback sees
/// them:
///
/// ```
/// use gc_sim::{Collection, Heap, NvpContext};
/// use std::{cell::RefCell, rc::Rc};
///
/// let mut heap = Heap::default();
/// let lines = Rc::new(RefCell::new(Vec::new()));
/// let sink = Rc::clone(&lines);
/// let mut nvp = NvpContext::new(heap.config().pause);
/// heap.add_gc_epilogue_callback(move |_, event| {
///     sink.borrow_mut().push(event.trace_gc_nvp_line(&mut nvp).expect("every collection, in order"));
/// });
/// heap.collect(Collection::Minor)?;
/// heap.collect(Collection::Major)?;
/// let lines = lines.borrow();
/// assert!(lines[0].starts_with("[gc-sim]        0 ms: pause=0.3 mutator=0.0 gc=s reduce_memory=0 "));
/// assert!(lines[1].contains(" gc=mc ") && lines[1].ends_with(" compaction_speed=0"));
/// # Ok::<(), gc_sim::HeapError>(())
/// ```
#[derive(Clone, Debug)]
pub struct NvpContext {
    pause: PauseModel,
    /// The number of the collection due next.
    next: u64,
    /// Object bytes after the previous collection (V8's `previous_.end_object_size`, 0 before the first).
    previous_end_object_size: u64,
    /// New-space object bytes after the previous collection, for the new-space allocation throughput.
    previous_new_space_after: u64,
    /// Bytes the previous collection copied within new space (`previous_new_space_surviving_object_size_`).
    previous_new_space_survived: u64,
    /// `Heap::UpdateSurvivalStatistics` keeps its last figures when the young generation was empty.
    promotion_ratio: f64,
    promotion_rate: f64,
    new_space_survive_rate: f64,
    survival_ratios: VecDeque<f64>,
    /// (young bytes at the start, pause ms) of the last scavenges.
    scavenges: VecDeque<(u64, f64)>,
    /// (new-space bytes allocated, mutator ms) of the last periods between collections.
    new_space_allocations: VecDeque<(u64, f64)>,
    /// (bytes evacuated, evacuation ms) of the last compacting mark-compacts.
    compactions: VecDeque<(u64, f64)>,
    /// V8's `recorded_major_incremental_marking_speed_`, 0 until incremental marking was measured.
    incremental_marking_speed: f64,
}

impl NvpContext {
    /// A context for a heap whose collections have not started, with the heap's pause model.
    pub fn new(pause: PauseModel) -> NvpContext {
        NvpContext {
            pause,
            next: 1,
            previous_end_object_size: 0,
            previous_new_space_after: 0,
            previous_new_space_survived: 0,
            promotion_ratio: 0.0,
            promotion_rate: 0.0,
            new_space_survive_rate: 0.0,
            survival_ratios: VecDeque::with_capacity(RING_BUFFER_SIZE),
            scavenges: VecDeque::with_capacity(RING_BUFFER_SIZE),
            new_space_allocations: VecDeque::with_capacity(RING_BUFFER_SIZE),
            compactions: VecDeque::with_capacity(RING_BUFFER_SIZE),
            incremental_marking_speed: 0.0,
        }
    }
}

fn push_ring<T>(ring: &mut VecDeque<T>, value: T) {
    if ring.len() == RING_BUFFER_SIZE {
        ring.pop_front();
    }
    ring.push_back(value);
}

/// V8 11.3's `GCTracer::AverageSpeed`: sum of bytes over sum of ms, clamped to [1, 1 GiB] B/ms; 0 without time.
fn average_speed(ring: &VecDeque<(u64, f64)>) -> f64 {
    let (bytes, ms) = ring.iter().fold((0u64, 0.0f64), |(b, t), &(sb, st)| (b.saturating_add(sb), t + st));
    if ms == 0.0 {
        return 0.0;
    }
    (bytes as f64 / ms).clamp(1.0, MAX_SPEED)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

/// The pause model's terms of a collection, ms: V8's phases that gc-sim's cost model has a term for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Phases {
    /// Scavenge: the fixed cost (roots, remembered set, flip), printed as `scavenge.roots`.
    scavenge_roots: f64,
    /// Scavenge: the cost of the surviving bytes, printed as `scavenge.parallel`.
    scavenge_parallel: f64,
    /// Mark-compact: the cost of the marked bytes (`mark`, `mark.full_closure`).
    mark: f64,
    /// Mark-compact: the cost of the swept pages (`sweep`, `sweep.old`).
    sweep: f64,
    /// Mark-compact: the cost of the evacuated bytes (`evacuate`, `evacuate.copy`).
    evacuate: f64,
}

impl Phases {
    /// The terms of [`PauseModel::scavenge_ms`] and [`PauseModel::mark_compact_ms`] for `event`'s counts.
    fn of(event: &GcEvent, pause: &PauseModel) -> Phases {
        match event.collector {
            Collector::Scavenge => Phases {
                scavenge_roots: pause.scavenge_base_ms,
                scavenge_parallel: pause.scavenge_ms_per_mib * mib(event.survived_bytes()),
                ..Phases::default()
            },
            Collector::MarkCompact => Phases {
                mark: pause.mark_ms_per_mib * mib(event.marked_bytes),
                sweep: pause.sweep_ms_per_page * event.swept_pages as f64,
                evacuate: pause.evacuate_ms_per_mib * mib(event.evacuated_bytes),
                ..Phases::default()
            },
        }
    }
}

/// The running statistics of one collection, taken from the context after it has counted the collection.
struct Statistics {
    allocated: u64,
    promotion_ratio: f64,
    average_survival_ratio: f64,
    promotion_rate: f64,
    new_space_survive_rate: f64,
    new_space_allocation_throughput: f64,
    scavenge_throughput: f64,
    incremental_marking_throughput: f64,
    compaction_speed: f64,
}

impl NvpContext {
    /// Counts `event` as V8's heap and tracer do by the time `PrintNVP` runs, and returns the figures it prints.
    fn count(&mut self, event: &GcEvent, phases: &Phases) -> Result<Statistics, NvpError> {
        if event.number != self.next {
            return Err(NvpError { expected: self.next, got: event.number });
        }
        self.next += 1;
        let young_before = event.before.new_space.used_bytes + event.before.new_large_object_space.used_bytes;

        // `GCTracer::SampleAllocation` at the start of every collection (the very first call only starts the
        // clock), pushed by `AddAllocation` when the period had mutator time.
        if event.number > 1 && event.mutator_ms > 0.0 {
            let bytes = event.before.new_space.used_bytes.saturating_sub(self.previous_new_space_after);
            push_ring(&mut self.new_space_allocations, (bytes, event.mutator_ms));
        }

        // `Heap::UpdateSurvivalStatistics`, for both collectors; nothing changes when the young generation was
        // empty.
        if young_before > 0 {
            let young = young_before as f64;
            self.promotion_ratio = event.promoted_bytes as f64 / young * 100.0;
            self.promotion_rate = if self.previous_new_space_survived > 0 {
                event.promoted_bytes as f64 / self.previous_new_space_survived as f64 * 100.0
            } else {
                0.0
            };
            self.new_space_survive_rate = event.copied_bytes as f64 / young * 100.0;
            push_ring(&mut self.survival_ratios, self.promotion_ratio + self.new_space_survive_rate);
        }

        // `GCTracer::StopObservablePause`, before printing.
        match event.collector {
            Collector::Scavenge => push_ring(&mut self.scavenges, (young_before, event.pause_ms)),
            Collector::MarkCompact => {
                if let Some(incremental) = &event.incremental {
                    // `RecordIncrementalMarkingSpeed`: the running mean of each cycle's speed.
                    if incremental.marked_bytes > 0 && incremental.steps_ms > 0.0 {
                        let speed = incremental.marked_bytes as f64 / incremental.steps_ms;
                        self.incremental_marking_speed = if self.incremental_marking_speed == 0.0 {
                            speed
                        } else {
                            (self.incremental_marking_speed + speed) / 2.0
                        };
                    }
                }
                if event.evacuated_bytes > 0 && phases.evacuate > 0.0 {
                    push_ring(&mut self.compactions, (event.evacuated_bytes, phases.evacuate));
                }
            }
        }

        let total_before = event.before.used_bytes();
        let statistics = Statistics {
            allocated: total_before.saturating_sub(self.previous_end_object_size),
            promotion_ratio: self.promotion_ratio,
            average_survival_ratio: if self.survival_ratios.is_empty() {
                0.0
            } else {
                self.survival_ratios.iter().sum::<f64>() / self.survival_ratios.len() as f64
            },
            promotion_rate: self.promotion_rate,
            new_space_survive_rate: self.new_space_survive_rate,
            new_space_allocation_throughput: average_speed(&self.new_space_allocations),
            scavenge_throughput: average_speed(&self.scavenges),
            incremental_marking_throughput: if self.incremental_marking_speed != 0.0 {
                self.incremental_marking_speed
            } else {
                CONSERVATIVE_MARKING_SPEED
            },
            compaction_speed: average_speed(&self.compactions),
        };
        self.previous_end_object_size = event.after.used_bytes();
        self.previous_new_space_after = event.after.new_space.used_bytes;
        self.previous_new_space_survived = event.copied_bytes;
        Ok(statistics)
    }
}

/// An nvp line being written: `key=value` pairs separated by one space.
struct Pairs(String);

impl Pairs {
    fn key(&mut self, key: &str) {
        if !self.0.ends_with(": ") {
            self.0.push(' ');
        }
        self.0.push_str(key);
        self.0.push('=');
    }
    /// A time or a rate with `decimals` places (`%.1f`, `%.2f`; `%.f` is 0 places).
    fn f(&mut self, key: &str, value: f64, decimals: usize) {
        self.key(key);
        let _ = write!(self.0, "{value:.decimals$}");
    }
    /// A count or a size (`%d`, `%zu`).
    fn u(&mut self, key: &str, value: u64) {
        self.key(key);
        let _ = write!(self.0, "{value}");
    }
    /// A percentage (`%.1f%%`).
    fn pct(&mut self, key: &str, value: f64) {
        self.key(key);
        let _ = write!(self.0, "{value:.1}%");
    }
    /// Keys gc-sim does not model, all printed as 0 with `decimals` places.
    fn zeros(&mut self, keys: &[&str], decimals: usize) {
        for key in keys {
            self.f(key, 0.0, decimals);
        }
    }
}

impl GcEvent {
    /// The event as a `--trace-gc-nvp` line, in V8 11.3's format (`GCTracer::PrintNVP`) with `[gc-sim]` in place
    /// of `[pid:isolate]`, as [`trace_gc_line`](GcEvent::trace_gc_line) has it: every key V8 prints for a
    /// scavenge (`gc=s`) or a mark-compact (`gc=mc`), in V8's order, with its units (ms, bytes, %, bytes/ms) and
    /// decimal places. No trailing newline.
    ///
    /// ```text
    /// [gc-sim]       20 ms: pause=0.5 mutator=19.5 gc=s reduce_memory=0 time_to_safepoint=0.00 ... scavenge=0.51 ...
    /// ```
    ///
    /// `context` holds what V8 carries from one collection to the next; it must be given every collection of the
    /// heap in order (an [`NvpError`] otherwise, and then the context has not changed). What each key holds in
    /// gc-sim, and which are always 0 because gc-sim does not model them, is in docs/model.md, section 7.
    pub fn trace_gc_nvp_line(&self, context: &mut NvpContext) -> Result<String, NvpError> {
        let phases = Phases::of(self, &context.pause);
        let stats = context.count(self, &phases)?;
        let mut p = Pairs(String::with_capacity(3072));
        let _ = write!(p.0, "[gc-sim] {:8.0} ms: ", self.end_ms());
        p.f("pause", self.pause_ms, 1);
        p.f("mutator", self.mutator_ms, 1);
        p.key("gc");
        p.0.push_str(match self.collector {
            Collector::Scavenge => "s",
            Collector::MarkCompact => "mc",
        });
        p.u("reduce_memory", u64::from(self.reduce_memory));
        let young_steps = self.incremental.as_ref().map_or((0, 0.0), |i| (i.steps, i.steps_ms));
        match self.collector {
            Collector::Scavenge => {
                p.zeros(
                    &[
                        "time_to_safepoint",
                        "heap.prologue",
                        "heap.epilogue",
                        "heap.epilogue.reduce_new_space",
                        "heap.external.prologue",
                        "heap.external.epilogue",
                        "heap.external_weak_global_handles",
                        "fast_promote",
                        "complete.sweep_array_buffers",
                    ],
                    2,
                );
                p.f("scavenge", self.pause_ms, 2);
                p.zeros(&["scavenge.free_remembered_set"], 2);
                p.f("scavenge.roots", phases.scavenge_roots, 2);
                p.zeros(
                    &["scavenge.weak", "scavenge.weak_global_handles.identify", "scavenge.weak_global_handles.process"],
                    2,
                );
                p.f("scavenge.parallel", phases.scavenge_parallel, 2);
                p.zeros(
                    &[
                        "scavenge.update_refs",
                        "scavenge.sweep_array_buffers",
                        "background.scavenge.parallel",
                        "background.unmapper",
                        "unmapper",
                    ],
                    2,
                );
                p.u("incremental.steps_count", young_steps.0);
                p.f("incremental.steps_took", young_steps.1, 1);
                p.f("scavenge_throughput", stats.scavenge_throughput, 0);
                self.sizes_and_survival(&mut p, &stats, "new_space_survive_rate_");
            }
            Collector::MarkCompact => {
                p.zeros(&["time_to_safepoint", "heap.prologue", "heap.embedder_tracing_epilogue", "heap.epilogue"], 2);
                p.zeros(&["heap.epilogue.reduce_new_space"], 2);
                p.zeros(&["heap.external.prologue", "heap.external.epilogue", "heap.external.weak_global_handles"], 1);
                p.zeros(&["clear"], 0);
                p.zeros(
                    &[
                        "clear.external_string_table",
                        "clear.string_forwarding_table",
                        "clear.weak_global_handles",
                        "clear.dependent_code",
                        "clear.maps",
                        "clear.slots_buffer",
                        "clear.weak_collections",
                        "clear.weak_lists",
                        "clear.weak_references",
                        "clear.join_job",
                        "complete.sweep_array_buffers",
                        "complete.sweeping",
                        "epilogue",
                    ],
                    1,
                );
                p.f("evacuate", phases.evacuate, 1);
                p.zeros(&["evacuate.candidates", "evacuate.clean_up"], 1);
                p.f("evacuate.copy", phases.evacuate, 1);
                p.zeros(
                    &[
                        "evacuate.prologue",
                        "evacuate.epilogue",
                        "evacuate.rebalance",
                        "evacuate.update_pointers",
                        "evacuate.update_pointers.to_new_roots",
                        "evacuate.update_pointers.slots.main",
                        "evacuate.update_pointers.weak",
                        "finish",
                        "finish.sweep_array_buffers",
                    ],
                    1,
                );
                p.f("mark", phases.mark, 1);
                p.zeros(&["mark.finish_incremental", "mark.roots", "mark.full_closure_parallel"], 1);
                p.f("mark.full_closure", phases.mark, 1);
                p.zeros(
                    &[
                        "mark.ephemeron.marking",
                        "mark.ephemeron.linear",
                        "mark.embedder_prologue",
                        "mark.embedder_tracing",
                        "prologue",
                    ],
                    1,
                );
                p.f("sweep", phases.sweep, 1);
                p.zeros(&["sweep.code", "sweep.map", "sweep.new", "sweep.new_lo"], 1);
                p.f("sweep.old", phases.sweep, 1);
                let incremental = self.incremental.unwrap_or_default();
                p.f("incremental", incremental.steps_ms, 1);
                p.zeros(
                    &[
                        "incremental.finalize",
                        "incremental.finalize.external.prologue",
                        "incremental.finalize.external.epilogue",
                        "incremental.layout_change",
                        "incremental.sweep_array_buffers",
                        "incremental.sweeping",
                        "incremental.embedder_prologue",
                        "incremental.embedder_tracing",
                        "incremental_wrapper_tracing_longest_step",
                    ],
                    1,
                );
                p.f("incremental_longest_step", incremental.longest_step_ms, 1);
                p.u("incremental_steps_count", incremental.steps);
                p.f("incremental_marking_throughput", stats.incremental_marking_throughput, 0);
                // V8 measures from the start of marking to the end of the finalizing pause; 0 without marking.
                let walltime = self.incremental.map_or(0.0, |i| i.walltime_ms + self.pause_ms);
                p.f("incremental_walltime_duration", walltime, 0);
                p.zeros(
                    &[
                        "background.mark",
                        "background.sweep",
                        "background.evacuate.copy",
                        "background.evacuate.update_pointers",
                        "background.unmapper",
                        "unmapper",
                    ],
                    1,
                );
                self.sizes_and_survival(&mut p, &stats, "new_space_survive_rate");
                p.f("compaction_speed", stats.compaction_speed, 0);
            }
        }
        Ok(p.0)
    }

    /// The keys both collectors print from `total_size_before` to `unmapper_chunks`; V8 spells the new-space
    /// survival rate with a trailing underscore in scavenge lines only.
    fn sizes_and_survival(&self, p: &mut Pairs, stats: &Statistics, survive_rate_key: &str) {
        p.u("total_size_before", self.before.used_bytes());
        p.u("total_size_after", self.after.used_bytes());
        // The free-list bytes before the collection are not in the event yet.
        p.u("holes_size_before", 0);
        p.u("holes_size_after", self.holes_bytes);
        p.u("allocated", stats.allocated);
        p.u("promoted", self.promoted_bytes);
        p.u("new_space_survived", self.copied_bytes);
        // Global-handle nodes, which gc-sim does not model.
        p.u("nodes_died_in_new", 0);
        p.u("nodes_copied_in_new", 0);
        p.u("nodes_promoted", 0);
        p.pct("promotion_ratio", stats.promotion_ratio);
        p.pct("average_survival_ratio", stats.average_survival_ratio);
        p.pct("promotion_rate", stats.promotion_rate);
        p.pct(survive_rate_key, stats.new_space_survive_rate);
        p.f("new_space_allocation_throughput", stats.new_space_allocation_throughput, 1);
        p.u("unmapper_chunks", 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gc_tracer::{GcReason, HeapUsage, IncrementalMarkingStats, SpaceUsage};
    use crate::{Collection, Heap, HeapConfig, Labels, KIB};

    fn usage(new_space: u64, new_lo: u64, old: u64) -> HeapUsage {
        let space = |used_bytes| SpaceUsage { used_bytes, committed_bytes: 2 * MIB, objects: 1 };
        HeapUsage {
            new_space: space(new_space),
            new_large_object_space: space(new_lo),
            old_space: space(old),
            large_object_space: space(0),
        }
    }

    /// A collection by hand: `young` bytes of new space before (`new_lo` of young large objects), `old` bytes of
    /// old space; `copied` stay young, `promoted` move to old space, the rest of the young bytes die.
    fn event(number: u64, collector: Collector, young: (u64, u64), old: u64, copied: u64, promoted: u64) -> GcEvent {
        let (new_space, new_lo) = young;
        GcEvent {
            pause_ms: 2.0,
            after: usage(copied, 0, old + promoted),
            copied_bytes: copied,
            promoted_bytes: promoted,
            holes_bytes: 4096,
            semi_space_capacity: MIB,
            mutator_ms: 50.0,
            ..GcEvent::opened(
                number,
                (collector, GcReason::AllocationFailure, None),
                100.0 * number as f64,
                usage(new_space, new_lo, old),
                64 * MIB,
            )
        }
    }

    fn value<'l>(line: &'l str, key: &str) -> &'l str {
        let at = line.find(&format!(" {key}=")).unwrap_or_else(|| panic!("no {key} in {line}"));
        line[at + key.len() + 2..].split(' ').next().unwrap()
    }

    #[test]
    fn running_figures_follow_v8s_heap_and_tracer() {
        let pause = PauseModel::default();
        let mut nvp = NvpContext::new(pause);
        // 1: 1 MiB young, 256 KiB copied, nothing promoted.
        let first = event(1, Collector::Scavenge, (MIB, 0), 0, 256 * KIB, 0);
        let line = first.trace_gc_nvp_line(&mut nvp).unwrap();
        assert!(line.starts_with("[gc-sim]      102 ms: pause=2.0 mutator=50.0 gc=s reduce_memory=0 "), "{line}");
        assert_eq!(value(&line, "allocated"), MIB.to_string(), "everything since the heap started");
        assert_eq!(value(&line, "new_space_survive_rate_"), "25.0%");
        assert_eq!(value(&line, "average_survival_ratio"), "25.0%");
        assert_eq!(value(&line, "promotion_rate"), "0.0%");
        // 1 MiB of young bytes in a 2 ms pause.
        assert_eq!(value(&line, "scavenge_throughput"), "524288");
        assert_eq!(value(&line, "new_space_allocation_throughput"), "0.0", "the first collection has no sample");
        assert_eq!(value(&line, "holes_size_after"), "4096");
        assert_eq!(value(&line, "new_space_survived"), (256 * KIB).to_string());

        // 2: new space grew from 256 KiB to 1 MiB in 50 ms, plus 512 KiB of young large objects; 128 KiB of the
        // 256 KiB copied before are promoted, 128 KiB copied.
        let second = event(2, Collector::Scavenge, (MIB, 512 * KIB), 0, 128 * KIB, 128 * KIB);
        let line = second.trace_gc_nvp_line(&mut nvp).unwrap();
        assert_eq!(value(&line, "allocated"), (MIB + 512 * KIB - 256 * KIB).to_string());
        // 128 KiB of 1.5 MiB young bytes promoted, and as much copied: 8.3 % each; 50 % of those copied before.
        assert_eq!(value(&line, "promotion_ratio"), "8.3%");
        assert_eq!(value(&line, "new_space_survive_rate_"), "8.3%");
        assert_eq!(value(&line, "promotion_rate"), "50.0%");
        // (25 % + 16.67 %) / 2.
        assert_eq!(value(&line, "average_survival_ratio"), "20.8%");
        // 768 KiB of new space (not the large objects) in 50 ms.
        assert_eq!(value(&line, "new_space_allocation_throughput"), "15728.6");
        // (1 MiB + 1.5 MiB) in 4 ms.
        assert_eq!(value(&line, "scavenge_throughput"), "655360");
        assert_eq!(value(&line, "incremental.steps_count"), "0");

        // 3: a memory-reducing mark-compact that finalized incremental marking, with an empty young generation:
        // V8 keeps the previous survival figures and adds no ratio.
        let mut third = event(3, Collector::MarkCompact, (0, 0), MIB, 0, 0);
        third.reduce_memory = true;
        third.marked_bytes = MIB;
        third.swept_pages = 10;
        third.evacuated_bytes = 512 * KIB;
        third.incremental = Some(IncrementalMarkingStats {
            steps: 7,
            steps_ms: 4.0,
            longest_step_ms: 1.25,
            walltime_ms: 30.0,
            marked_bytes: 2 * MIB,
        });
        let line = third.trace_gc_nvp_line(&mut nvp).unwrap();
        assert!(line.contains(" gc=mc reduce_memory=1 "), "{line}");
        assert_eq!(value(&line, "promotion_ratio"), "8.3%");
        assert_eq!(value(&line, "average_survival_ratio"), "20.8%");
        assert_eq!(value(&line, "new_space_survive_rate"), "8.3%");
        assert_eq!(value(&line, "incremental"), "4.0");
        assert_eq!(value(&line, "incremental_steps_count"), "7");
        assert_eq!(value(&line, "incremental_longest_step"), "1.2", "1.25 rounds half to even, as printf");
        // 2 MiB in 4 ms of steps; 30 ms of marking plus the 2 ms pause.
        assert_eq!(value(&line, "incremental_marking_throughput"), "524288");
        assert_eq!(value(&line, "incremental_walltime_duration"), "32");
        // The pause model's terms: 0.4 ms per MiB marked, 0.01 ms per page swept, 1 ms per MiB evacuated.
        assert_eq!(value(&line, "mark"), "0.4");
        assert_eq!(value(&line, "mark.full_closure"), "0.4");
        assert_eq!(value(&line, "sweep"), "0.1");
        assert_eq!(value(&line, "sweep.old"), "0.1");
        assert_eq!(value(&line, "evacuate"), "0.5");
        assert_eq!(value(&line, "evacuate.copy"), "0.5");
        assert_eq!(value(&line, "compaction_speed"), "1048576");
        assert_eq!(value(&line, "clear"), "0");
        assert!(line.ends_with(" unmapper_chunks=0 compaction_speed=1048576"), "{line}");

        // 4: a non-incremental mark-compact prints the speed measured before, no walltime, and the compaction
        // speed of the ring; a second incremental one averages its speed with the first's.
        let fourth = event(4, Collector::MarkCompact, (MIB, 0), MIB, 0, 0);
        let line = fourth.trace_gc_nvp_line(&mut nvp).unwrap();
        assert_eq!(value(&line, "incremental_marking_throughput"), "524288");
        assert_eq!(value(&line, "incremental_walltime_duration"), "0");
        assert_eq!(value(&line, "incremental_steps_count"), "0");
        assert_eq!(value(&line, "compaction_speed"), "1048576");
        assert_eq!(value(&line, "promotion_ratio"), "0.0%");
        let mut fifth = event(5, Collector::MarkCompact, (0, 0), MIB, 0, 0);
        fifth.incremental =
            Some(IncrementalMarkingStats { steps: 1, steps_ms: 1.0, marked_bytes: MIB, ..Default::default() });
        let line = fifth.trace_gc_nvp_line(&mut nvp).unwrap();
        assert_eq!(value(&line, "incremental_marking_throughput"), "786432", "(512 KiB/ms + 1 MiB/ms) / 2");
    }

    #[test]
    fn without_incremental_marking_v8s_conservative_speed_is_printed() {
        let mut nvp = NvpContext::new(PauseModel::default());
        let line = event(1, Collector::MarkCompact, (0, 0), MIB, 0, 0).trace_gc_nvp_line(&mut nvp).unwrap();
        assert_eq!(value(&line, "incremental_marking_throughput"), "131072");
        assert_eq!(value(&line, "compaction_speed"), "0", "no compaction yet");
        assert_eq!(value(&line, "average_survival_ratio"), "0.0%", "no young generation yet");
    }

    #[test]
    fn a_collection_out_of_order_is_an_error_that_changes_nothing() {
        let mut nvp = NvpContext::new(PauseModel::default());
        let second = event(2, Collector::Scavenge, (MIB, 0), 0, KIB, 0);
        let err = second.trace_gc_nvp_line(&mut nvp).unwrap_err();
        assert_eq!(err, NvpError { expected: 1, got: 2 });
        assert!(err.to_string().contains("collection 2 given where collection 1 was due"), "{err}");
        let first = event(1, Collector::Scavenge, (MIB, 0), 0, KIB, 0);
        let fresh = first.trace_gc_nvp_line(&mut NvpContext::new(PauseModel::default())).unwrap();
        assert_eq!(first.trace_gc_nvp_line(&mut nvp).unwrap(), fresh);
        assert_eq!(first.trace_gc_nvp_line(&mut nvp), Err(NvpError { expected: 2, got: 1 }), "not twice");
    }

    /// The phase times are the pause model's terms: with the fixed cost, they add up to the heap's pause.
    #[test]
    fn the_phases_and_the_fixed_cost_add_up_to_the_pause() {
        let config = HeapConfig { max_semi_space_size: MIB, ..HeapConfig::default() };
        let mut heap = Heap::new(config).unwrap();
        let mut kept = Vec::new();
        for i in 0..40_000u32 {
            let object = heap.alloc(200 + i % 64, 1, Labels::NONE).unwrap();
            if i % 7 == 0 {
                heap.add_root("kept", object).unwrap();
                kept.push(object);
            }
            if i % 10_000 == 9_999 {
                for object in kept.drain(..kept.len() / 2) {
                    heap.remove_root("kept", object).unwrap();
                }
                heap.collect(Collection::Major).unwrap();
            }
        }
        let pause = heap.config().pause;
        let events = heap.events();
        assert!(events.iter().any(|e| e.collector == Collector::Scavenge && e.promoted_bytes > 0));
        assert!(events.iter().any(|e| e.collector == Collector::MarkCompact && e.swept_pages > 0));
        for e in events {
            let p = Phases::of(e, &pause);
            let sum = match e.collector {
                Collector::Scavenge => p.scavenge_roots + p.scavenge_parallel,
                Collector::MarkCompact => pause.mark_compact_base_ms + p.mark + p.sweep + p.evacuate,
            };
            assert_eq!(sum, e.pause_ms, "collection {}", e.number);
        }
    }
}
