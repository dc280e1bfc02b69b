//! The JSON report of a log (`gc-sim log --report FILE.json`): the fields of `gc-sim run`'s report
//! (docs/report-format.md) wherever one means the same thing (`summary.scavenges`, `summary.pause_ms`,
//! `summary.oom.message`, `events[].collector`, `reason`, `start_ms`, `pause_ms`, ...), `null` where a log cannot
//! give it, and `"source": "node-gc-log"` to say where it came from. A separate type from
//! [`crate::report::Report`]: a log has no trace, no object graph and no per-space sizes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::line::{LogCollector, LogGc};
use super::oom::DeathKind;
use super::reader::{LineStats, Warning};
use super::summary::LogSummary;
use crate::OomLocation;

/// `source` of a log report.
pub const LOG_REPORT_SOURCE: &str = "node-gc-log";

const MB: f64 = 1024.0 * 1024.0;

/// A reason as the simulation's report spells it: V8's text in snake case (`allocation failure` ->
/// `allocation_failure`).
fn snake(reason: &str) -> String {
    reason
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn bytes(mb: Option<f64>) -> Option<u64> {
    mb.map(|m| (m * MB).round() as u64)
}

/// One collection of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEvent {
    /// 1 for the log's first collection, then counting up.
    pub number: u64,
    /// The input line.
    pub line: u64,
    /// `scavenge`, `mark_compact`, or `minor_mark_sweep`.
    pub collector: LogCollector,
    /// V8's GC reason in snake case (`allocation_failure`, `task`, `testing`), `null` if the line has none
    /// (V8 11's nvp).
    pub reason: Option<String>,
    /// The collector reason in snake case (`scavenge_might_not_succeed`; `GC in old space requested` is
    /// `old_space_requested`, as in the simulation's report), if any.
    pub collector_reason: Option<String>,
    /// The start of the pause, ms since the isolate started: the printed time (the end) minus the pause. The
    /// printed time is rounded to the ms.
    pub start_ms: Option<f64>,
    /// The pause, ms.
    pub pause_ms: Option<f64>,
    /// Object bytes before (from the MB with one decimal of `--trace-gc`, or nvp's exact `total_size_before`).
    pub before_bytes: Option<u64>,
    /// Object bytes after.
    pub after_bytes: Option<u64>,
    /// Committed bytes before.
    pub before_committed_bytes: Option<u64>,
    /// Committed bytes after.
    pub after_committed_bytes: Option<u64>,
    /// nvp `promoted`.
    pub promoted_bytes: Option<u64>,
    /// nvp `new_space_survived` (bytes copied within the young generation).
    pub copied_bytes: Option<u64>,
    /// Incremental marking before the pause, ms.
    pub incremental_ms: Option<f64>,
    /// `(reduce)`.
    pub reduce: bool,
    /// Caused by a tool (`testing`, `heap profiler`, ...).
    pub tool_induced: bool,
}

impl LogEvent {
    /// The event of a collection, numbered `number`.
    pub fn new(number: u64, gc: &LogGc) -> LogEvent {
        let f = &gc.nvp_fields;
        LogEvent {
            number,
            line: gc.line,
            collector: gc.collector,
            reason: gc.reason.as_deref().map(snake),
            collector_reason: gc.collector_reason.as_deref().map(|r| match r {
                // The simulation's names (`CollectorReason`).
                "GC in old space requested" => "old_space_requested".to_owned(),
                r => snake(r),
            }),
            start_ms: gc.time_ms.map(|t| (t - gc.pause_ms.unwrap_or(0.0)).max(0.0)),
            pause_ms: gc.pause_ms,
            before_bytes: f.size_before.or(bytes(gc.before_mb)),
            after_bytes: f.size_after.or(bytes(gc.after_mb)),
            before_committed_bytes: f.memory_before.or(bytes(gc.before_committed_mb)),
            after_committed_bytes: f.memory_after.or(bytes(gc.after_committed_mb)),
            promoted_bytes: f.promoted,
            copied_bytes: f.new_space_survived,
            incremental_ms: gc.incremental.map(|i| i.ms),
            reduce: gc.reduce,
            tool_induced: gc.tool_induced(),
        }
    }
}

/// The death, as the simulation's `summary.oom`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogOom {
    /// The simulation's location name where V8's is one of its three (`reached_heap_limit`,
    /// `ineffective_mark_compacts`, `call_and_retry_last`), else `null`.
    pub location: Option<OomLocation>,
    /// Which death (also the two the simulation does not model).
    pub kind: DeathKind,
    /// The text after `FATAL ERROR: `, as in the simulation's report.
    pub message: String,
    /// The time of the last collection before it, ms.
    pub at_ms: Option<f64>,
    /// Object bytes (all spaces) after the last collection.
    pub heap_bytes: Option<u64>,
    /// `--max-old-space-size` as given to `gc-sim log`, bytes; `null` if not given.
    pub max_old_generation_size: Option<u64>,
}

/// Pause percentiles, ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// A storm (docs/gc-log.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogStorm {
    /// First mark-compact's time, ms.
    pub start_ms: f64,
    /// Last one's.
    pub end_ms: f64,
    /// Mark-compacts in it.
    pub mark_compacts: u64,
    /// Their pauses and incremental marking, ms.
    pub gc_ms: f64,
    /// Lowest current mutator utilization.
    pub min_mu: f64,
}

/// Collections of one reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogReasonCount {
    /// Scavenges and minor mark-sweeps.
    pub young: u64,
    /// Mark-compacts.
    pub full: u64,
    /// Their pauses, ms.
    pub pause_ms: f64,
}

/// `summary` of a log report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogReportSummary {
    /// Time of the last collection, ms (added up over restarts).
    pub end_ms: Option<f64>,
    /// Scavenges.
    pub scavenges: u64,
    /// Mark-compacts (including `(reduce)`).
    pub mark_compacts: u64,
    /// Minor mark-sweeps.
    pub minor_mark_sweeps: u64,
    /// `(reduce)` mark-compacts.
    pub reduce_mark_compacts: u64,
    /// Collections caused by tools.
    pub tool_induced: u64,
    /// All pauses, ms.
    pub pause_ms: f64,
    /// Young-generation pauses, ms.
    pub scavenge_pause_ms: f64,
    /// Mark-compact pauses, ms.
    pub mark_compact_pause_ms: f64,
    /// The longest pause, ms.
    pub max_pause_ms: f64,
    /// Pause percentiles of all collections, ms.
    pub pause_percentiles_ms: Percentiles,
    /// Incremental marking before mark-compacts, ms (not in the pauses).
    pub incremental_marking_ms: f64,
    /// Share of the time outside pauses and incremental marking.
    pub mutator_utilization: Option<f64>,
    /// nvp: bytes allocated; `null` without nvp.
    pub allocated_bytes: Option<u64>,
    /// nvp: bytes promoted; `null` without nvp.
    pub promoted_bytes: Option<u64>,
    /// nvp: bytes copied within the young generation; `null` without nvp.
    pub copied_bytes: Option<u64>,
    /// Collections by V8's reason, in snake case.
    pub by_reason: BTreeMap<String, LogReasonCount>,
    /// Mark-compact storms.
    pub storms: Vec<LogStorm>,
    /// The death, if any.
    pub oom: Option<LogOom>,
}

/// The JSON report of a log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogReport {
    /// `gc-sim-report`, as the simulation's.
    pub format: String,
    /// 1.
    pub version: u32,
    /// [`LOG_REPORT_SOURCE`]: this report was read from a log, not simulated.
    pub source: String,
    /// The inputs, joined with ` + `.
    pub name: String,
    /// The figures.
    pub summary: LogReportSummary,
    /// One entry per collection (at most the number the caller kept).
    pub events: Vec<LogEvent>,
    /// Collections not in `events` (beyond the caller's cap).
    pub events_omitted: u64,
    /// Line counts.
    pub lines: LineStats,
    /// Warnings (unreadable GC lines).
    pub warnings: Vec<Warning>,
}

impl LogReport {
    /// The report of `summary`, with the `events` the caller kept (see [`LogEvent::new`]) and the run's limit
    /// if known.
    pub fn new(summary: &LogSummary, events: Vec<LogEvent>, max_old_space_size_mb: Option<f64>) -> LogReport {
        let s = summary;
        let oom = s.death.as_ref().map(|d| {
            let last = s.last_ring_entry.as_ref();
            LogOom {
                location: match d.kind {
                    DeathKind::ReachedHeapLimit => Some(OomLocation::ReachedHeapLimit),
                    DeathKind::IneffectiveMarkCompacts => Some(OomLocation::IneffectiveMarkCompacts),
                    DeathKind::CallAndRetryLast => Some(OomLocation::CallAndRetryLast),
                    _ => None,
                },
                kind: d.kind,
                message: d.message.clone(),
                at_ms: s.last_ms.or(last.and_then(|g| g.time_ms)),
                heap_bytes: bytes(s.last_after_mb.or(last.and_then(|g| g.after_mb))),
                max_old_generation_size: bytes(max_old_space_size_mb),
            }
        });
        let omitted = s.collections().saturating_sub(events.len() as u64);
        LogReport {
            format: crate::report::REPORT_FORMAT.to_owned(),
            version: 1,
            source: LOG_REPORT_SOURCE.to_owned(),
            name: s.sources.join(" + "),
            summary: LogReportSummary {
                end_ms: s.elapsed_ms(),
                scavenges: s.scavenges,
                mark_compacts: s.mark_compacts,
                minor_mark_sweeps: s.minor_mark_sweeps,
                reduce_mark_compacts: s.reduce_mark_compacts,
                tool_induced: s.tool_induced,
                pause_ms: s.pauses.total_ms,
                scavenge_pause_ms: s.young_pauses.total_ms,
                mark_compact_pause_ms: s.full_pauses.total_ms,
                max_pause_ms: s.pauses.max_ms,
                pause_percentiles_ms: Percentiles {
                    p50: s.pauses.percentile_ms(50.0),
                    p95: s.pauses.percentile_ms(95.0),
                    p99: s.pauses.percentile_ms(99.0),
                },
                incremental_marking_ms: s.incremental_ms,
                mutator_utilization: s.mutator_utilization(),
                allocated_bytes: s.allocated_bytes,
                promoted_bytes: s.promoted_bytes,
                copied_bytes: s.survived_bytes,
                by_reason: s
                    .by_reason
                    .iter()
                    .map(|(r, c)| (snake(r), LogReasonCount { young: c.young, full: c.full, pause_ms: c.pause_ms }))
                    .collect(),
                storms: s
                    .storms
                    .iter()
                    .map(|st| LogStorm {
                        start_ms: st.start_ms,
                        end_ms: st.end_ms,
                        mark_compacts: st.full_gcs,
                        gc_ms: st.gc_ms,
                        min_mu: st.min_mu,
                    })
                    .collect(),
                oom,
            },
            events,
            events_omitted: omitted,
            lines: s.lines.clone(),
            warnings: s.warnings.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reasons_in_snake_case_as_the_simulation_spells_them() {
        assert_eq!(super::snake("allocation failure"), "allocation_failure");
        assert_eq!(super::snake("GC in old space requested"), "gc_in_old_space_requested");
        assert_eq!(super::snake("last resort"), "last_resort");
        assert_eq!(super::snake("finalize incremental marking via task"), "finalize_incremental_marking_via_task");
    }
}
