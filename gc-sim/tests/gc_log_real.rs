//! The GC-log reader on the real Node 20 logs in `../shared` (see its README): every GC line is read, and the
//! counts, pause totals, promoted bytes and the death equal an independent count of the same files, made here
//! with plain string matching (not with the reader).
//!
//! CI always has `../shared` beside the clone: a missing file is a failure, not a skip.

use std::path::PathBuf;

use gc_sim::gc_log::{DeathKind, LogReader, LogSummary};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared").join(rel)
}

fn read(rel: &str) -> String {
    let p = shared(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e} (../shared must be beside the clone)", p.display()))
}

/// What the test counts by itself.
#[derive(Debug, Default, PartialEq)]
struct Count {
    scavenges: u64,
    mark_compacts: u64,
    reduce: u64,
    pause_ms: f64,
    promoted: Option<u64>,
    allocated: Option<u64>,
    ring_entries: u64,
    death: Option<String>,
    space_lines: u64,
}

/// Counts with string matching only: ` ms: Scavenge`, ` ms: Mark-Compact`, the number after `MB, ` (or
/// `pooled: X MB, `), `pause=`, `gc=`, `promoted=`, `allocated=`; the ring buffer's ` ms: ` between its
/// header and the JS stack's; the `FATAL ERROR: ` line.
fn independent(text: &str) -> Count {
    let mut c = Count::default();
    let mut in_ring = false;
    for line in text.lines() {
        if line.starts_with("<--- Last few GCs") {
            in_ring = true;
            continue;
        }
        if line.starts_with("<--- JS stacktrace") {
            in_ring = false;
            continue;
        }
        if in_ring {
            c.ring_entries += line.matches(" ms: ").count() as u64;
            continue;
        }
        if let Some(m) = line.strip_prefix("FATAL ERROR: ") {
            c.death = Some(m.to_owned());
        }
        if line.contains(" KB, available: ") && line.contains("used: ") && line.contains(" KB, ") {
            c.space_lines += 1;
        }
        let Some(at) = line.find(" ms: ") else { continue };
        let body = &line[at + 5..];
        if body.starts_with("Scavenge") || body.starts_with("Mark-Compact") {
            if body.starts_with("Scavenge") {
                c.scavenges += 1;
            } else {
                c.mark_compacts += 1;
                c.reduce += u64::from(body.starts_with("Mark-Compact (reduce)"));
            }
            let after_mb = &body[body.find("MB, ").unwrap() + 4..];
            let pause: f64 = after_mb.split(' ').next().unwrap().parse().unwrap();
            c.pause_ms += pause;
        } else if body.starts_with("pause=") {
            let field =
                |name: &str| body.split(' ').find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
            c.pause_ms += field("pause").unwrap().parse::<f64>().unwrap();
            match field("gc").unwrap() {
                "s" => c.scavenges += 1,
                "mc" => {
                    c.mark_compacts += 1;
                    c.reduce += u64::from(field("reduce_memory") == Some("1"));
                }
                other => panic!("gc={other}"),
            }
            *c.promoted.get_or_insert(0) += field("promoted").unwrap().parse::<u64>().unwrap();
            // `allocated` is a size_t: a shrinking heap prints a wrapped negative, which counts as 0.
            let a: u64 = field("allocated").unwrap().parse().unwrap();
            *c.allocated.get_or_insert(0) += if a > i64::MAX as u64 { 0 } else { a };
        }
    }
    c
}

/// Reads the files of one run (each as its own input, as `gc-sim log OUT ERR` does) and checks it against the
/// independent count; returns the summary.
fn check(files: &[&str]) -> LogSummary {
    let mut summary = LogSummary::default();
    let mut expected = Count::default();
    let mut space_lines = 0;
    for f in files {
        let text = read(f);
        let mut reader = LogReader::new(text.as_bytes(), *f);
        while let Some(r) = reader.next_record().unwrap() {
            if matches!(r, gc_sim::gc_log::Record::Space { .. }) {
                space_lines += 1;
            }
            summary.add(&r);
        }
        summary.finish(&reader);
        let c = independent(&text);
        expected.scavenges += c.scavenges;
        expected.mark_compacts += c.mark_compacts;
        expected.reduce += c.reduce;
        expected.pause_ms += c.pause_ms;
        expected.ring_entries += c.ring_entries;
        expected.space_lines += c.space_lines;
        if let (Some(p), Some(a)) = (c.promoted, c.allocated) {
            expected.promoted = Some(expected.promoted.unwrap_or(0) + p);
            expected.allocated = Some(expected.allocated.unwrap_or(0) + a);
        }
        if c.death.is_some() {
            expected.death = c.death;
        }
    }
    let name = files.join(" + ");
    assert_eq!(summary.warnings, [], "{name}: warnings");
    assert_eq!(summary.lines.malformed_gc_lines, 0, "{name}: unrecognised GC lines");
    assert_eq!(summary.lines.other_v8_lines, 0, "{name}: V8 lines of an unknown kind");
    assert_eq!(summary.scavenges, expected.scavenges, "{name}: scavenges");
    assert_eq!(summary.mark_compacts, expected.mark_compacts, "{name}: mark-compacts");
    assert_eq!(summary.reduce_mark_compacts, expected.reduce, "{name}: (reduce)");
    assert!(
        (summary.pauses.total_ms - expected.pause_ms).abs() < 1e-6,
        "{name}: pause total {} vs {}",
        summary.pauses.total_ms,
        expected.pause_ms
    );
    assert_eq!(summary.promoted_bytes, expected.promoted, "{name}: promoted");
    assert_eq!(summary.allocated_bytes, expected.allocated, "{name}: allocated");
    assert_eq!(summary.ring_entries, expected.ring_entries, "{name}: ring-buffer entries");
    assert_eq!(space_lines, expected.space_lines, "{name}: --trace-gc-verbose space lines");
    assert_eq!(summary.death.as_ref().map(|d| d.message.clone()), expected.death, "{name}: death");
    summary
}

#[test]
fn churn_trace_gc() {
    let s = check(&["real-inputs/gc-logs/churn.trace-gc.stdout.log", "real-inputs/gc-logs/churn.trace-gc.stderr.log"]);
    assert_eq!((s.scavenges, s.mark_compacts), (194, 2));
    assert!(s.death.is_none());
    assert_eq!(s.lines.program_lines, 1, "`done 2000000 sum=...` on stderr is the program's");
}

#[test]
fn churn_trace_gc_nvp() {
    let s = check(&[
        "real-inputs/gc-logs/churn.trace-gc-nvp.stdout.log",
        "real-inputs/gc-logs/churn.trace-gc-nvp.stderr.log",
    ]);
    assert_eq!((s.scavenges, s.mark_compacts, s.nvp_gcs), (192, 2, 194));
    assert!(s.promoted_bytes.unwrap() > 0);
}

#[test]
fn cache_leak_trace_gc() {
    check(&[
        "real-inputs/gc-logs/cache-leak.trace-gc.stdout.log",
        "real-inputs/gc-logs/cache-leak.trace-gc.stderr.log",
    ]);
}

#[test]
fn cache_leak_trace_gc_verbose() {
    let s = check(&[
        "real-inputs/gc-logs/cache-leak.trace-gc-verbose.stdout.log",
        "real-inputs/gc-logs/cache-leak.trace-gc-verbose.stderr.log",
    ]);
    assert!(s.lines.verbose_lines > 200, "{:?}", s.lines);
}

#[test]
fn cache_leak_oom32_reached_heap_limit() {
    let s = check(&[
        "real-inputs/gc-logs/cache-leak.oom32.trace-gc.stdout.log",
        "real-inputs/gc-logs/cache-leak.oom32.trace-gc.stderr.log",
    ]);
    assert_eq!(s.death.unwrap().kind, DeathKind::ReachedHeapLimit);
    assert_eq!(s.reduce_mark_compacts, 5);
}

#[test]
fn array_oom32_trace_gc_reached_heap_limit() {
    let s = check(&[
        "real-inputs/gc-logs/array-oom.oom32.trace-gc.stdout.log",
        "real-inputs/gc-logs/array-oom.oom32.trace-gc.stderr.log",
    ]);
    let d = s.death.unwrap();
    assert_eq!((d.kind, d.js_heap, d.allocation_failed), (DeathKind::ReachedHeapLimit, true, true));
    assert_eq!((s.ring_entries, s.ring_truncated), (2, 2), "two entries, both cut at 255 bytes and run together");
}

#[test]
fn array_oom32_trace_gc_nvp_reached_heap_limit() {
    let s = check(&[
        "real-inputs/gc-logs/array-oom.oom32.trace-gc-nvp.stdout.log",
        "real-inputs/gc-logs/array-oom.oom32.trace-gc-nvp.stderr.log",
    ]);
    assert_eq!(s.death.unwrap().kind, DeathKind::ReachedHeapLimit);
    assert_eq!(s.ring_entries, 0, "--trace-gc-nvp lines do not go to the ring buffer");
}

#[test]
fn ticker_runs() {
    let fixed = check(&["v8/ticker/runs/fixed_tick10_tracegc/gc.log"]);
    assert_eq!(fixed.tool_induced, 2, "two `testing` GCs (global.gc() under --expose-gc)");
    let leaky = check(&["v8/ticker/runs/leaky_tick10_tracegc/gc.log"]);
    assert_eq!(leaky.by_reason["testing"].full, 2);
    let nvp = check(&["v8/ticker/runs/leaky_tick10_nvp/gc.log"]);
    assert_eq!((nvp.scavenges, nvp.mark_compacts), (602, 7));
    assert_eq!(nvp.lines.nvp_lines, 609);
}

#[test]
fn ticker_oom_old64_ineffective_mark_compacts_after_a_storm() {
    let s = check(&["real-inputs/ticker/oom-old64/gc.log", "real-inputs/ticker/oom-old64/server.stderr"]);
    assert_eq!((s.scavenges, s.mark_compacts), (52, 528));
    assert_eq!(s.death.as_ref().unwrap().kind, DeathKind::IneffectiveMarkCompacts);
    assert!(!s.storms.is_empty());
    let last = s.storms.last().unwrap();
    assert_eq!(last.end_ms, s.last_ms.unwrap(), "the run dies in a storm");
}

/// stdout and stderr concatenated (`node ... > log 2>&1`, or a service log) read as one input give the same
/// figures: the ring buffer's entries repeat the last GC lines but are not counted as collections.
#[test]
fn one_combined_log_equals_two_files() {
    let two = check(&["real-inputs/ticker/oom-old64/gc.log", "real-inputs/ticker/oom-old64/server.stderr"]);
    let combined = read("real-inputs/ticker/oom-old64/gc.log") + &read("real-inputs/ticker/oom-old64/server.stderr");
    let mut one = LogSummary::default();
    one.read(&mut LogReader::new(combined.as_bytes(), "combined")).unwrap();
    assert_eq!((one.scavenges, one.mark_compacts), (two.scavenges, two.mark_compacts));
    assert_eq!(one.pauses.total_ms, two.pauses.total_ms);
    assert_eq!(one.ring_entries, two.ring_entries);
    assert_eq!(
        one.death,
        two.death.map(|mut d| {
            d.line += read("real-inputs/ticker/oom-old64/gc.log").lines().count() as u64;
            d
        })
    );
}

/// Two runs in one log (a service restarted): the process id changes, the times start again, and the elapsed
/// time adds up both runs.
#[test]
fn two_runs_in_one_log_add_up() {
    let a = read("real-inputs/gc-logs/churn.trace-gc.stdout.log");
    let b = read("real-inputs/gc-logs/cache-leak.trace-gc.stdout.log");
    let last_ms = |t: &str| -> f64 {
        let l = t.lines().last().unwrap();
        let before = &l[..l.find(" ms: ").unwrap()];
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let mut s = LogSummary::default();
    s.read(&mut LogReader::new((a.clone() + &b).as_bytes(), "both")).unwrap();
    assert_eq!(s.restarts, 1);
    assert_eq!(s.isolates.len(), 2);
    assert_eq!(s.elapsed_ms(), Some(last_ms(&a) + last_ms(&b)));
    assert_eq!(s.collections(), (a.lines().count() + b.lines().count()) as u64);
}
