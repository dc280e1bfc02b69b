//! `gc-sim run TRACE --trace-gc-nvp`: one V8 11.3 nvp line per collection on standard output, read back by
//! `gc-sim log` as the run's collections, usable as a `--compare-log` log; `--compare-log` with a real Node nvp log
//! still works. CI always has `../shared` beside the clone: a missing file is a failure, not a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn shared(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared").join(rel);
    assert!(p.exists(), "{} is missing (../shared must be beside the clone)", p.display());
    p
}

fn gc_sim(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.code().is_some_and(|c| c == 0 || c == 3), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Object bytes of every space of a report event's `before` or `after`.
fn used(usage: &Value) -> u64 {
    usage.as_object().unwrap().values().map(|space| space["used_bytes"].as_u64().unwrap()).sum()
}

#[test]
fn gc_sim_log_reads_the_nvp_lines_as_the_runs_collections() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["leak.json", "ticker-leaky.ndjson", "oom.json"] {
        let trace = repo(&format!("examples/traces/{name}"));
        let report = dir.path().join(format!("{name}.report.json"));
        let o = gc_sim(&[
            "run".as_ref(),
            trace.as_os_str(),
            "-q".as_ref(),
            "--trace-gc-nvp".as_ref(),
            "--report".as_ref(),
            report.as_os_str(),
        ]);
        let out = stdout(&o);
        assert!(!out.contains(" Scavenge ") && !out.contains(" Mark-Compact "), "no --trace-gc line: {out}");
        let log = dir.path().join(format!("{name}.log"));
        std::fs::write(&log, &out).unwrap();
        let log_report = dir.path().join(format!("{name}.log.json"));
        let o = gc_sim(&["log".as_ref(), log.as_os_str(), "--report".as_ref(), log_report.as_os_str()]);
        let printed = stdout(&o);
        assert!(printed.contains("(--trace-gc-nvp)"), "{printed}");

        let (run, read) = (json(&report), json(&log_report));
        let (run_events, read_events) = (run["events"].as_array().unwrap(), read["events"].as_array().unwrap());
        let collections =
            run["summary"]["scavenges"].as_u64().unwrap() + run["summary"]["mark_compacts"].as_u64().unwrap();
        assert_eq!(run_events.len() as u64, collections, "{name}: the report keeps every collection");
        assert_eq!(read_events.len(), run_events.len(), "{name}");
        assert_eq!(read["summary"]["scavenges"], run["summary"]["scavenges"], "{name}");
        assert_eq!(read["summary"]["mark_compacts"], run["summary"]["mark_compacts"], "{name}");
        for (sim, real) in run_events.iter().zip(read_events) {
            let at = format!("{name}, collection {}", sim["number"]);
            assert_eq!(real["collector"], sim["collector"], "{at}");
            let pause = sim["pause_ms"].as_f64().unwrap();
            assert!((real["pause_ms"].as_f64().unwrap() - pause).abs() <= 0.05 + 1e-9, "{at}");
            assert_eq!(real["before_bytes"].as_u64(), Some(used(&sim["before"])), "{at}");
            assert_eq!(real["after_bytes"].as_u64(), Some(used(&sim["after"])), "{at}");
            assert_eq!(real["promoted_bytes"], sim["promoted_bytes"], "{at}");
            assert_eq!(real["copied_bytes"], sim["copied_bytes"], "{at}");
        }
        assert_eq!(read["summary"]["promoted_bytes"], run["summary"]["promoted_bytes"], "{name}");
    }
}

#[test]
fn with_both_flags_only_nvp_lines_are_printed_as_node_does_and_the_output_is_deterministic() {
    let trace = repo("examples/traces/leak.json");
    let nvp = stdout(&gc_sim(&["run".as_ref(), trace.as_os_str(), "--trace-gc-nvp".as_ref()]));
    let both = stdout(&gc_sim(&["run".as_ref(), trace.as_os_str(), "--trace-gc".as_ref(), "--trace-gc-nvp".as_ref()]));
    assert_eq!(both, nvp);
    assert_eq!(stdout(&gc_sim(&["run".as_ref(), trace.as_os_str(), "--trace-gc-nvp".as_ref()])), nvp);
    let trace_gc = stdout(&gc_sim(&["run".as_ref(), trace.as_os_str(), "--trace-gc".as_ref()]));
    let count = |text: &str, pattern: &str| text.lines().filter(|l| l.contains(pattern)).count();
    assert_eq!(count(&nvp, " ms: pause="), count(&trace_gc, " ms: Scavenge ") + count(&trace_gc, " ms: Mark-Compact "));
    // The marks and the summary are printed as with --trace-gc.
    assert_eq!(count(&nvp, " ms: mark: "), count(&trace_gc, " ms: mark: "));
    assert!(nvp.contains("\n  collections "), "{nvp}");
}

#[test]
fn an_out_of_memory_run_with_nvp_lines_has_no_last_gcs_as_node() {
    let trace = repo("examples/traces/oom.json");
    let o = gc_sim(&["run".as_ref(), trace.as_os_str(), "-q".as_ref(), "--trace-gc-nvp".as_ref()]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8(o.stderr).unwrap();
    // Node 20 with --trace-gc-nvp: V8 keeps only the lines of `--trace-gc` for its ring buffer, so the list is empty
    // (real-inputs/gc-logs/array-oom.oom32.trace-gc-nvp.stderr.log).
    assert!(err.starts_with("\n<--- Last few GCs --->\n\n\nFATAL ERROR: "), "{err}");
    let o = gc_sim(&["run".as_ref(), trace.as_os_str(), "-q".as_ref()]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains(" ms: Mark-Compact "), "without nvp, the last GCs are listed: {err}");
}

#[test]
fn compare_log_takes_a_real_nvp_log_and_gc_sims_own() {
    let trace = repo("examples/traces/ticker-leaky.ndjson");
    let real = shared("v8/ticker/runs/leaky_tick10_nvp/gc.log");
    let o = gc_sim(&["run".as_ref(), trace.as_os_str(), "-q".as_ref(), "--compare-log".as_ref(), real.as_os_str()]);
    let out = stdout(&o);
    assert!(out.contains(&format!("compared with the real run in {}", real.display())), "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("promoted")), "nvp logs have promoted bytes: {out}");

    // Compared with its own nvp output, the run is 0 % away in every figure.
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("own.log");
    let nvp = stdout(&gc_sim(&["run".as_ref(), trace.as_os_str(), "-q".as_ref(), "--trace-gc-nvp".as_ref()]));
    std::fs::write(&own, nvp).unwrap();
    let o = gc_sim(&["run".as_ref(), trace.as_os_str(), "-q".as_ref(), "--compare-log".as_ref(), own.as_os_str()]);
    let out = stdout(&o);
    for figure in ["scavenges", "mark-compacts", "promoted"] {
        let line =
            out.lines().find(|l| l.trim_start().starts_with(figure)).unwrap_or_else(|| panic!("{figure}: {out}"));
        assert!(line.contains(" 1.00 ") && line.ends_with("0.0 %"), "{line}");
    }
}
