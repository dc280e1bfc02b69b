//! The figures of a GC log, as `gc-sim log` prints them (in the manner of GCViewer's summary).

use std::collections::BTreeMap;
use std::io::BufRead;

use super::line::{LogCollector, LogGc};
use super::oom::Death;
use super::reader::{LogReader, Record, Warning};

/// A mark-compact storm: at least this many mark-compacts in a row ...
pub const STORM_MIN_FULL_GCS: usize = 3;
/// ... each with a current mutator utilization below this (the program ran less than half the time since the
/// previous mark-compact ended). Scavenges between them do not end the storm; a mark-compact with a higher
/// utilization does.
pub const STORM_MAX_MU: f64 = 0.5;

/// How many ring-buffer entries a summary keeps.
pub const MAX_RING_ENTRIES: usize = 64;
/// How many spaces of `--trace-gc-verbose` a summary keeps.
pub const MAX_SPACES: usize = 32;

/// How many distinct isolates a summary lists.
pub const MAX_ISOLATES: usize = 64;

/// Pause statistics of one set of collections, exact for the printed precision (0.01 ms): the pauses are kept
/// as a histogram of distinct values, so memory grows with distinct pause values, never with the log's length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PauseStats {
    histogram: BTreeMap<u64, u64>,
    /// Number of pauses.
    pub count: u64,
    /// Their sum, ms.
    pub total_ms: f64,
    /// The longest, ms.
    pub max_ms: f64,
}

impl PauseStats {
    fn add(&mut self, ms: f64) {
        self.count += 1;
        self.total_ms += ms;
        self.max_ms = self.max_ms.max(ms);
        *self.histogram.entry((ms * 100.0).round().max(0.0) as u64).or_insert(0) += 1;
    }

    /// The mean pause, ms (0 without pauses).
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_ms / self.count as f64
        }
    }

    /// The `p`-th percentile (nearest rank), ms: the smallest pause with at least `p` % of the pauses at or
    /// below it.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (&v, &n) in &self.histogram {
            seen += n;
            if seen >= rank {
                return v as f64 / 100.0;
            }
        }
        self.max_ms
    }
}

/// Collections of one reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReasonCount {
    /// Scavenges (and minor mark-sweeps).
    pub young: u64,
    /// Mark-compacts.
    pub full: u64,
    /// Their pauses, ms.
    pub pause_ms: f64,
}

/// A run of mark-compacts with low mutator utilization (see [`STORM_MIN_FULL_GCS`], [`STORM_MAX_MU`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Storm {
    /// Time of the first mark-compact's end, ms.
    pub start_ms: f64,
    /// Time of the last one's end, ms.
    pub end_ms: f64,
    /// Line of the first.
    pub first_line: u64,
    /// Mark-compacts in the storm.
    pub full_gcs: u64,
    /// Their pauses plus incremental marking, ms.
    pub gc_ms: f64,
    /// The lowest current mutator utilization in the storm.
    pub min_mu: f64,
    /// Heap MB after the first mark-compact.
    pub first_after_mb: Option<f64>,
    /// Heap MB after the last one.
    pub last_after_mb: Option<f64>,
    /// MB the storm's mark-compacts freed, on average (before - after).
    pub mean_freed_mb: Option<f64>,
}

/// The figures of a log. Fill with [`LogSummary::add`], then call [`LogSummary::finish`] once per reader.
#[derive(Clone, Debug, Default)]
pub struct LogSummary {
    /// Input names.
    pub sources: Vec<String>,
    /// Scavenges.
    pub scavenges: u64,
    /// Minor mark-sweeps (V8's experimental young-generation marker).
    pub minor_mark_sweeps: u64,
    /// Mark-compacts (all, including `(reduce)` ones).
    pub mark_compacts: u64,
    /// Of which memory-reducing (`(reduce)`, `reduce_memory=1`).
    pub reduce_mark_compacts: u64,
    /// Collections a tool caused (`testing`, `heap profiler`, ...).
    pub tool_induced: u64,
    /// Collections by reason (`allocation failure`, `task`, ...), ordered by name.
    pub by_reason: BTreeMap<String, ReasonCount>,
    /// All pauses.
    pub pauses: PauseStats,
    /// Scavenge (and minor mark-sweep) pauses.
    pub young_pauses: PauseStats,
    /// Mark-compact pauses (the final, atomic pause only).
    pub full_pauses: PauseStats,
    /// Incremental marking before the mark-compacts: ms in steps, number of steps, and how many mark-compacts
    /// were incremental.
    pub incremental_ms: f64,
    /// Incremental marking steps.
    pub incremental_steps: u64,
    /// Mark-compacts that finished an incremental marking.
    pub incremental_mark_compacts: u64,
    /// Time of the first collection's end, ms since the isolate started.
    pub first_ms: Option<f64>,
    /// Time of the last collection's end.
    pub last_ms: Option<f64>,
    /// The last `average mu` printed.
    pub last_average_mu: Option<f64>,
    /// The lowest `current mu` printed (or computed, for nvp).
    pub min_current_mu: Option<f64>,
    /// Heap MB before the first collection.
    pub first_before_mb: Option<f64>,
    /// Heap MB after the last collection.
    pub last_after_mb: Option<f64>,
    /// The highest heap MB before a collection.
    pub max_before_mb: Option<f64>,
    /// The highest committed MB.
    pub max_committed_mb: Option<f64>,
    /// Committed MB after the last collection.
    pub last_committed_mb: Option<f64>,
    /// Heap MB after the first and the last mark-compact (the live set's growth).
    pub first_full_after_mb: Option<f64>,
    /// Heap MB after the last mark-compact.
    pub last_full_after_mb: Option<f64>,
    /// nvp: collections with nvp fields.
    pub nvp_gcs: u64,
    /// nvp: sum of `allocated` (bytes allocated between collections).
    pub allocated_bytes: Option<u64>,
    /// nvp: sum of `promoted`.
    pub promoted_bytes: Option<u64>,
    /// nvp: sum of `new_space_survived`.
    pub survived_bytes: Option<u64>,
    /// Mark-compact storms.
    pub storms: Vec<Storm>,
    /// The death, if the log has one.
    pub death: Option<Death>,
    /// Entries of the `Last few GCs` ring buffer, and how many were cut short.
    pub ring_entries: u64,
    /// Ring-buffer entries cut at 255 bytes.
    pub ring_truncated: u64,
    /// The last ring-buffer entry (the collection just before the death).
    pub last_ring_entry: Option<LogGc>,
    /// The ring buffer's entries, oldest first (at most [`MAX_RING_ENTRIES`]; V8's 512-byte buffer holds fewer).
    pub ring: Vec<LogGc>,
    /// The last `--trace-gc-verbose` line of each space (at most [`MAX_SPACES`] spaces), in the order first seen.
    pub spaces: Vec<super::line::SpaceLine>,
    /// The first JS stack lines of the OOM text.
    pub js_stack: Vec<String>,
    /// Line counts, summed over the inputs.
    pub lines: super::reader::LineStats,
    /// Warnings of all inputs (at most [`super::reader::MAX_WARNINGS`] each).
    pub warnings: Vec<Warning>,
    /// Distinct `[pid:isolate]` pairs seen (at most [`MAX_ISOLATES`] kept): several mean worker threads, or
    /// several processes in one log, whose figures are added together.
    pub isolates: Vec<(Option<u32>, Option<u64>)>,
    /// Times the process id changed from one collection to the next (a restarted service in one log). The
    /// elapsed time adds up the runs.
    pub restarts: u64,
    /// The elapsed time of the runs before the last restart, ms.
    earlier_runs_ms: f64,
    last_pid: Option<u32>,
    /// The storm in progress.
    current_storm: Option<Storm>,
    prev_full_ms: Option<f64>,
    storm_freed_mb: f64,
    storm_freed_n: u64,
}

impl LogSummary {
    /// Reads a whole log into a summary (records of several inputs may be added to one summary, e.g. stdout and
    /// stderr of one run).
    pub fn read<R: BufRead>(&mut self, reader: &mut LogReader<R>) -> std::io::Result<()> {
        while let Some(r) = reader.next_record()? {
            self.add(&r);
        }
        self.finish(reader);
        Ok(())
    }

    /// Adds one record.
    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Gc(gc) => self.add_gc(gc),
            Record::Space { space, .. } => {
                if let Some(known) = self.spaces.iter_mut().find(|s| s.space == space.space) {
                    *known = space.clone();
                } else if self.spaces.len() < MAX_SPACES {
                    self.spaces.push(space.clone());
                }
            }
            Record::RingEntry(gc) => {
                if self.ring.len() < MAX_RING_ENTRIES {
                    self.ring.push(gc.clone());
                }
                self.ring_entries += 1;
                self.ring_truncated += u64::from(gc.truncated);
                self.last_ring_entry = Some(gc.clone());
            }
            Record::Death(d) => self.death = Some(d.clone()),
        }
    }

    fn add_gc(&mut self, gc: &LogGc) {
        let pause = gc.pause_ms.unwrap_or(0.0);
        let full = gc.collector.is_full();
        let key = (gc.pid, gc.isolate);
        if self.isolates.len() < MAX_ISOLATES && !self.isolates.contains(&key) {
            self.isolates.push(key);
        }
        if let (Some(pid), Some(last)) = (gc.pid, self.last_pid) {
            if pid != last {
                // Another process: its times start again from 0.
                self.restarts += 1;
                self.earlier_runs_ms += self.last_ms.unwrap_or(0.0);
                self.last_ms = None;
                self.prev_full_ms = None;
                self.close_storm();
            }
        }
        if gc.pid.is_some() {
            self.last_pid = gc.pid;
        }
        match gc.collector {
            LogCollector::Scavenge => self.scavenges += 1,
            LogCollector::MinorMarkSweep => self.minor_mark_sweeps += 1,
            LogCollector::MarkCompact => {
                self.mark_compacts += 1;
                self.reduce_mark_compacts += u64::from(gc.reduce);
            }
        }
        self.tool_induced += u64::from(gc.tool_induced());
        let reason = gc.reason.as_deref().unwrap_or("(none)");
        let rc = match self.by_reason.get_mut(reason) {
            Some(rc) => rc,
            None => self.by_reason.entry(reason.to_owned()).or_default(),
        };
        if full {
            rc.full += 1
        } else {
            rc.young += 1
        }
        rc.pause_ms += pause;
        self.pauses.add(pause);
        if full {
            self.full_pauses.add(pause)
        } else {
            self.young_pauses.add(pause)
        }
        let inc_ms = gc.incremental.map_or(0.0, |i| i.ms);
        if let Some(inc) = gc.incremental {
            self.incremental_ms += inc.ms;
            self.incremental_steps += inc.steps;
            self.incremental_mark_compacts += 1;
        }
        if self.first_ms.is_none() {
            self.first_ms = gc.time_ms;
            self.first_before_mb = gc.before_mb;
        }
        if gc.time_ms.is_some() {
            self.last_ms = gc.time_ms;
        }
        if gc.average_mu.is_some() {
            self.last_average_mu = gc.average_mu;
        }
        if gc.after_mb.is_some() {
            self.last_after_mb = gc.after_mb;
        }
        self.max_before_mb = max_opt(self.max_before_mb, gc.before_mb);
        self.max_committed_mb = max_opt(self.max_committed_mb, max_opt(gc.before_committed_mb, gc.after_committed_mb));
        if gc.after_committed_mb.is_some() {
            self.last_committed_mb = gc.after_committed_mb;
        }
        if gc.nvp {
            let f = &gc.nvp_fields;
            self.nvp_gcs += 1;
            if let Some(a) = f.allocated {
                *self.allocated_bytes.get_or_insert(0) += a.max(0) as u64;
            }
            if let Some(p) = f.promoted {
                *self.promoted_bytes.get_or_insert(0) += p;
            }
            if let Some(s) = f.new_space_survived {
                *self.survived_bytes.get_or_insert(0) += s;
            }
        }
        if full {
            if self.first_full_after_mb.is_none() {
                self.first_full_after_mb = gc.after_mb;
            }
            if gc.after_mb.is_some() {
                self.last_full_after_mb = gc.after_mb;
            }
            // V8's current mu: the share of the time since the previous mark-compact ended that was not this
            // mark-compact (its pause and incremental marking). nvp lines do not print it: compute it.
            let mu = gc.current_mu.or_else(|| {
                let (t, prev) = (gc.time_ms?, self.prev_full_ms?);
                let span = t - prev;
                (span > 0.0).then(|| (1.0 - (pause + inc_ms) / span).clamp(0.0, 1.0))
            });
            if gc.time_ms.is_some() {
                self.prev_full_ms = gc.time_ms;
            }
            if let Some(mu) = mu {
                self.min_current_mu = Some(self.min_current_mu.map_or(mu, |m: f64| m.min(mu)));
            }
            self.storm_step(gc, mu, pause + inc_ms);
        }
    }

    fn storm_step(&mut self, gc: &LogGc, mu: Option<f64>, gc_ms: f64) {
        let t = gc.time_ms.unwrap_or(0.0);
        match mu {
            Some(mu) if mu < STORM_MAX_MU => {
                let freed = match (gc.before_mb, gc.after_mb) {
                    (Some(b), Some(a)) => Some(b - a),
                    _ => None,
                };
                let storm = self.current_storm.get_or_insert(Storm {
                    start_ms: t,
                    end_ms: t,
                    first_line: gc.line,
                    full_gcs: 0,
                    gc_ms: 0.0,
                    min_mu: mu,
                    first_after_mb: gc.after_mb,
                    last_after_mb: None,
                    mean_freed_mb: None,
                });
                if storm.full_gcs == 0 {
                    self.storm_freed_mb = 0.0;
                    self.storm_freed_n = 0;
                }
                storm.full_gcs += 1;
                storm.end_ms = t;
                storm.gc_ms += gc_ms;
                storm.min_mu = storm.min_mu.min(mu);
                storm.last_after_mb = gc.after_mb;
                if let Some(f) = freed {
                    self.storm_freed_mb += f;
                    self.storm_freed_n += 1;
                    storm.mean_freed_mb = Some(self.storm_freed_mb / self.storm_freed_n as f64);
                }
            }
            _ => self.close_storm(),
        }
    }

    fn close_storm(&mut self) {
        if let Some(s) = self.current_storm.take() {
            if s.full_gcs as usize >= STORM_MIN_FULL_GCS {
                self.storms.push(s);
            }
        }
    }

    /// Ends one input: closes a storm in progress and takes the reader's line counts, warnings and JS stack.
    pub fn finish<R: std::io::BufRead>(&mut self, reader: &LogReader<R>) {
        self.close_storm();
        self.sources.push(reader.source().to_owned());
        let s = reader.stats();
        let l = &mut self.lines;
        l.lines += s.lines;
        l.trace_gc_lines += s.trace_gc_lines;
        l.nvp_lines += s.nvp_lines;
        l.verbose_lines += s.verbose_lines;
        l.oom_lines += s.oom_lines;
        l.other_v8_lines += s.other_v8_lines;
        l.program_lines += s.program_lines;
        l.malformed_gc_lines += s.malformed_gc_lines;
        l.warnings += s.warnings;
        self.warnings.extend(reader.warnings().iter().cloned());
        if self.js_stack.is_empty() {
            self.js_stack = reader.js_stack().to_vec();
        }
    }

    /// All collections.
    pub fn collections(&self) -> u64 {
        self.scavenges + self.minor_mark_sweeps + self.mark_compacts
    }

    /// The span the collections cover, ms: from 0 (the isolate's start) to the last collection's end, added up
    /// over restarts.
    pub fn elapsed_ms(&self) -> Option<f64> {
        Some(self.earlier_runs_ms + self.last_ms.unwrap_or(0.0)).filter(|t| *t > 0.0)
    }

    /// The share of the elapsed time outside GC pauses (incremental marking steps also run on the main thread
    /// and are counted as GC time).
    pub fn mutator_utilization(&self) -> Option<f64> {
        let e = self.elapsed_ms()?;
        Some((1.0 - (self.pauses.total_ms + self.incremental_ms) / e).clamp(0.0, 1.0))
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let mut p = PauseStats::default();
        for v in 1..=100 {
            p.add(v as f64);
        }
        assert_eq!(p.percentile_ms(50.0), 50.0);
        assert_eq!(p.percentile_ms(95.0), 95.0);
        assert_eq!(p.percentile_ms(99.0), 99.0);
        assert_eq!(p.percentile_ms(100.0), 100.0);
        assert_eq!(p.mean_ms(), 50.5);
    }
}
