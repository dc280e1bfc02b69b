//! The machine-readable report of a replay: summary, per-space usage, retainers, every GC event and a time series
//! of per-space sizes for plotting. Its JSON form (`gc-sim run --report`) is documented in `docs/report-format.md`.

use serde::{Deserialize, Serialize};

use crate::analysis::leaks::{LeakAnalysis, Namer, SuspectedLeak, TagSummary, Why, WhyQuery};
use crate::analysis::{AgeBucket, ObjectGraph, RootRetention};
use crate::config::HeapConfig;
use crate::error::OomLocation;
use crate::gc_tracer::{GcEvent, HeapUsage};
use crate::heap_map::HeapMap;
use crate::replay::{Mark, Replay};

/// The value of a report's `format` field.
pub const REPORT_FORMAT: &str = "gc-sim-report";
/// The report schema version.
pub const REPORT_VERSION: u32 = 1;

/// Everything a replay produced. Deterministic: the same trace and configuration give the same report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// Always [`REPORT_VERSION`].
    pub version: u32,
    /// The trace's name.
    pub name: String,
    /// The heap configuration of the run (the trace's, with any command-line overrides).
    pub config: HeapConfig,
    /// Totals and the outcome.
    pub summary: Summary,
    /// Per-space usage at the end of the trace (dead young objects count until the next scavenge, as in V8).
    pub spaces: HeapUsage,
    /// What each root set keeps alive at the end, largest retained bytes first.
    pub retainers: Vec<RootRetention>,
    /// The trace's `mark` annotations.
    pub marks: Vec<Mark>,
    /// The collections, in order: every one up to [`MAX_KEPT_EVENTS`](crate::gc_tracer::MAX_KEPT_EVENTS), then an
    /// even sample of the run (see [`Heap::events`](crate::Heap::events)). The summary counts every collection.
    pub events: Vec<GcEvent>,
    /// Per-space usage over simulated time: the start (the empty heap or the imported one, with its committed
    /// semi-spaces), before and after every collection in [`events`](Self::events), and the end.
    pub timeline: Vec<Sample>,
    /// Heap maps: those requested with [`Replay::heap_maps`]' [`request`](crate::heap_map::HeapMapRecorder::request), in the order
    /// they were taken, then the map at the end if it was requested ([`HeapMapMoment::End`]). None unless asked
    /// for.
    ///
    /// [`HeapMapMoment::End`]: crate::HeapMapMoment::End
    #[serde(default)]
    pub heap_maps: Vec<HeapMap>,
    /// Every tag with live objects at the end: what it retains, when it was promoted, when it closed. Largest
    /// retained bytes first.
    #[serde(default)]
    pub tags: Vec<TagSummary>,
    /// Live objects at the end by age (scavenges survived) and generation.
    #[serde(default)]
    pub ages: Vec<AgeBucket>,
    /// Tags closed by a `mark` whose objects are still alive at the end, in the order they closed.
    #[serde(default)]
    pub suspected_leaks: Vec<SuspectedLeak>,
    /// The answer to `gc-sim run --why`, if asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<Why>,
}

/// Totals of a replay and its outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Trace events applied.
    pub trace_events: u64,
    /// Simulated time at the end, ms (mutator time plus modelled pauses).
    pub end_ms: f64,
    /// Scavenges run.
    pub scavenges: u64,
    /// Mark-compacts run.
    pub mark_compacts: u64,
    /// Total modelled pause, ms.
    pub pause_ms: f64,
    /// Modelled pause of the scavenges, ms.
    pub scavenge_pause_ms: f64,
    /// Modelled pause of the mark-compacts, ms.
    pub mark_compact_pause_ms: f64,
    /// The longest pause, ms.
    pub max_pause_ms: f64,
    /// Objects the trace allocated.
    pub allocated_objects: u64,
    /// Bytes the trace allocated.
    pub allocated_bytes: u64,
    /// Bytes promoted to the old generation.
    pub promoted_bytes: u64,
    /// Bytes copied within new space.
    pub copied_bytes: u64,
    /// Objects reachable at the end of the trace.
    pub live_objects: u64,
    /// Bytes of objects reachable at the end of the trace.
    pub live_bytes: u64,
    /// Of those, bytes in the old generation.
    pub live_old_bytes: u64,
    /// Tags closed by a `mark` with objects still alive (see [`Report::suspected_leaks`]).
    #[serde(default)]
    pub suspected_leak_tags: u64,
    /// Bytes those tags retain together.
    #[serde(default)]
    pub suspected_leak_bytes: u64,
    /// The out-of-memory death, if the program died.
    pub oom: Option<OomReport>,
}

/// How the simulated program died.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OomReport {
    /// Where V8 gave up.
    pub location: OomLocation,
    /// Node's message, e.g. `Reached heap limit Allocation failed - JavaScript heap out of memory`.
    pub message: String,
    /// Simulated time of death, ms.
    pub at_ms: f64,
    /// Index of the trace event that died (0-based).
    pub event: Option<u64>,
    /// Old-generation object bytes at death.
    pub old_generation_bytes: u64,
    /// The old generation's maximum.
    pub max_old_generation_size: u64,
}

/// Heap usage at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Simulated time, ms.
    pub t_ms: f64,
    /// Usage of each space.
    pub spaces: HeapUsage,
    /// The old generation's allocation limit in force.
    pub old_generation_allocation_limit: u64,
}

impl Report {
    /// The report of a replay as it stands, with the answer to [`why`](crate::analysis::leaks::why) `why` if
    /// asked. One walk of the live graph ([`ObjectGraph`]) serves the summary's live set, the retainers, the tags,
    /// the ages, the suspected leaks and the answer: linear in the live graph.
    ///
    /// ```
    /// use gc_sim::replay::replay_trace;
    /// use gc_sim::{Report, WhyQuery};
    ///
    /// let trace = r#"{"format": "gc-sim-trace", "version": 1, "name": "tiny", "events": [
    ///     {"op": "alloc", "id": 1, "size": 64, "slots": 1, "root": "timers"},
    ///     {"op": "alloc", "id": 2, "size": 32},
    ///     {"op": "gc", "kind": "major"}
    /// ]}"#;
    /// let replay = replay_trace(trace.as_bytes(), "tiny.json", None, |header| Ok(header.heap.clone()))?;
    /// let report = Report::new(&replay, Some(WhyQuery::Object(1)));
    /// assert_eq!(report.summary.mark_compacts, 1);
    /// assert_eq!(report.summary.live_bytes, 64);
    /// assert_eq!(report.why.unwrap().root.as_deref(), Some("timers"));
    /// # Ok::<(), gc_sim::trace::TraceError>(())
    /// ```
    pub fn new(replay: &Replay, why: Option<WhyQuery<'_>>) -> Report {
        let heap = replay.heap();
        let graph = ObjectGraph::new(heap);
        let namer = Namer::new(replay, &graph);
        let leaks = LeakAnalysis::new(replay, &graph, &namer);
        let totals = heap.totals();
        let events = heap.events().to_vec();
        let live = graph.live();
        let summary = Summary {
            trace_events: replay.events(),
            end_ms: heap.now_ms(),
            scavenges: totals.scavenges,
            mark_compacts: totals.mark_compacts,
            pause_ms: totals.pause_ms,
            scavenge_pause_ms: totals.scavenge_pause_ms,
            mark_compact_pause_ms: totals.mark_compact_pause_ms,
            max_pause_ms: totals.max_pause_ms,
            allocated_objects: totals.allocated_objects,
            allocated_bytes: totals.allocated_bytes,
            promoted_bytes: totals.promoted_bytes,
            copied_bytes: totals.copied_bytes,
            live_objects: live.objects,
            live_bytes: live.bytes,
            live_old_bytes: live.old_bytes,
            suspected_leak_tags: leaks.suspected_leaks.len() as u64,
            suspected_leak_bytes: leaks.suspected_leaks.iter().map(|l| l.retained_bytes).sum(),
            oom: heap.out_of_memory().map(|oom| OomReport {
                location: oom.location,
                message: oom.message(),
                at_ms: oom.at_ms,
                event: replay.out_of_memory_event(),
                old_generation_bytes: oom.old_generation_bytes,
                max_old_generation_size: oom.max_old_generation_size,
            }),
        };
        let mut timeline = Vec::with_capacity(2 * events.len() + 2);
        let limit = replay.initial_old_generation_limit();
        timeline.push(Sample { t_ms: 0.0, spaces: replay.initial_usage(), old_generation_allocation_limit: limit });
        for (e, &limit_before) in events.iter().zip(heap.event_limits_before()) {
            timeline.push(Sample { t_ms: e.start_ms, spaces: e.before, old_generation_allocation_limit: limit_before });
            let limit = e.old_generation_allocation_limit;
            timeline.push(Sample { t_ms: e.end_ms(), spaces: e.after, old_generation_allocation_limit: limit });
        }
        timeline.push(Sample {
            t_ms: heap.now_ms(),
            spaces: heap.usage(),
            old_generation_allocation_limit: heap.old_generation_allocation_limit(),
        });
        Report {
            format: REPORT_FORMAT.to_owned(),
            version: REPORT_VERSION,
            name: replay.name().to_owned(),
            config: heap.config().clone(),
            summary,
            spaces: heap.usage(),
            retainers: graph.root_set_retention(),
            marks: replay.marks().to_vec(),
            events,
            timeline,
            heap_maps: replay
                .heap_maps()
                .maps()
                .into_iter()
                .chain(replay.heap_maps().end_requested().then(|| HeapMap::of(heap)))
                .collect(),
            tags: leaks.tags,
            ages: leaks.ages,
            suspected_leaks: leaks.suspected_leaks,
            why: why.map(|query| namer.why(replay, query)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::replay_trace;
    use crate::replay::tests::run;

    const A1: &str = r#"{"op": "alloc", "id": 1, "size": 16, "slots": 1, "root": "r"}"#;

    #[test]
    fn an_object_is_reachable_through_a_slot_and_freed_when_cut() {
        let replay = run(&[
            A1,
            r#"{"op": "alloc", "id": 2, "size": 32}"#,
            r#"{"op": "write", "obj": 1, "slot": 0, "to": 2}"#,
            r#"{"op": "gc", "kind": "minor"}"#,
            r#"{"op": "write", "obj": 1, "slot": 0, "to": null}"#,
            r#"{"op": "gc", "kind": "major"}"#,
            r#"{"op": "mark", "label": "done"}"#,
        ])
        .unwrap();
        assert!(replay.object(1).is_some());
        assert!(replay.object(2).is_none(), "cut, then collected");
        let report = Report::new(&replay, None);
        assert_eq!((report.summary.scavenges, report.summary.mark_compacts), (1, 1));
        assert_eq!((report.summary.live_objects, report.summary.live_bytes), (1, 16));
        assert_eq!(report.marks[0].label, "done");
        assert_eq!(report.marks[0].event, 6);
        assert_eq!(report.timeline.len(), 2 * 2 + 2);
    }

    #[test]
    fn a_run_without_collections_reports_zero_pauses_not_negative_zero() {
        let report = Report::new(&run(&[A1]).unwrap(), None);
        let json = serde_json::to_string(&report.summary).unwrap();
        assert!(json.contains(r#""scavenge_pause_ms":0.0,"mark_compact_pause_ms":0.0"#), "{json}");
    }

    #[test]
    fn out_of_memory_stops_the_replay() {
        let mut text = String::from(
            r#"{"format": "gc-sim-trace", "version": 1, "name": "oom", "heap": {"max_old_generation_size": 8388608}}"#,
        );
        text.push_str("\n{\"op\": \"alloc\", \"id\": 0, \"size\": 16, \"slots\": 1, \"root\": \"r\"}");
        for i in 1..20_000u64 {
            text.push_str(&format!(
                "\n{{\"op\": \"alloc\", \"id\": {i}, \"size\": 1024, \"slots\": 1, \"pretenured\": true}}"
            ));
            text.push_str(&format!("\n{{\"op\": \"write\", \"obj\": {}, \"slot\": 0, \"to\": {i}}}", i - 1));
        }
        text.push_str("\nthis line is never read");
        let replay = replay_trace(text.as_bytes(), "oom.ndjson", None, |h| Ok(h.heap.clone())).unwrap();
        let report = Report::new(&replay, None);
        let oom = report.summary.oom.expect("died");
        assert!(oom.message.ends_with("Allocation failed - JavaScript heap out of memory"));
        let event = oom.event.unwrap();
        assert_eq!(event % 2, 1, "an alloc died");
        assert_eq!(report.summary.trace_events, event + 1);
    }
}
