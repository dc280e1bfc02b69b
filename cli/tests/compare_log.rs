//! `gc-sim run TRACE --compare-log LOG [--max-deviation PCT]`: the table of the simulated run beside a real one, the
//! comparison chart, and exit code 4, on a committed trace and a hand-made log whose figures are known exactly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A `--trace-gc` log (V8 11.3) with 7 scavenges of 0.5 ms at 50, 100, ... 350 ms and one mark-compact of 2 ms at
/// 400 ms, the program's own lines between them, and `FATAL ERROR` at the end when `dies`.
fn hand_log(dir: &Path, dies: bool) -> PathBuf {
    let mut text = String::new();
    for i in 1..=7 {
        text += &format!(
            "[1:0x1]      {:>3} ms: Scavenge 1.{i} (2.0) -> 0.5 (2.0) MB, 0.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \nprogram output {i}\n",
            i * 50
        );
    }
    text += "[1:0x1]      400 ms: Mark-Compact 2.0 (3.0) -> 1.0 (3.0) MB, 2.00 / 0.00 ms  (average mu = 0.990, current mu = 0.990) allocation failure; GC in old space requested\n";
    if dies {
        text += "\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n";
    }
    let path = dir.join(if dies { "dies.log" } else { "gc.log" });
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN).arg("run").args(args).output().unwrap()
}

/// `gc-sim run TRACE -q --compare-log LOG EXTRA...`.
fn compare(trace: &Path, log: &Path, extra: &[&str]) -> Output {
    Command::new(BIN).arg("run").arg(trace).arg("-q").arg("--compare-log").arg(log).args(extra).output().unwrap()
}

fn summary(report: &Path) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(report).unwrap()).unwrap()["summary"].clone()
}

/// The table's row `name`: its columns after the name.
fn row(stdout: &str, name: &str) -> Vec<String> {
    let line = stdout.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("{name}: {stdout}"));
    line.trim_start()[name.len()..].split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
}

#[test]
fn the_table_gives_both_runs_their_ratio_and_deviation() {
    let dir = tempfile::tempdir().unwrap();
    let log = hand_log(dir.path(), false);
    let report = dir.path().join("r.json");
    let trace = repo("examples/traces/leak.json");
    let o = run(&[
        trace.as_os_str(),
        "-q".as_ref(),
        "--compare-log".as_ref(),
        log.as_os_str(),
        "--report".as_ref(),
        report.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains(&format!("compared with the real run in {}", log.display())), "{out}");
    let s = summary(&report);
    let (scavenges, mark_compacts) = (s["scavenges"].as_u64().unwrap(), s["mark_compacts"].as_u64().unwrap());
    let pct = |sim: f64, real: f64| format!("{:.1} %", 100.0 * (sim - real).abs() / real);
    let ratio = |sim: f64, real: f64| format!("{:.2}", sim / real);
    assert_eq!(
        row(&out, "scavenges"),
        [scavenges.to_string(), "7".into(), ratio(scavenges as f64, 7.0), pct(scavenges as f64, 7.0)]
    );
    assert_eq!(
        row(&out, "mark-compacts"),
        [mark_compacts.to_string(), "1".into(), ratio(mark_compacts as f64, 1.0), pct(mark_compacts as f64, 1.0)]
    );
    let scavenge_ms = s["scavenge_pause_ms"].as_f64().unwrap();
    assert_eq!(
        row(&out, "scavenge pauses")[1..],
        ["3.5 ms".to_owned(), ratio(scavenge_ms, 3.5), pct(scavenge_ms, 3.5)]
    );
    let all_ms = s["pause_ms"].as_f64().unwrap();
    assert_eq!(row(&out, "all pauses")[1..], ["5.5 ms".to_owned(), ratio(all_ms, 5.5), pct(all_ms, 5.5)]);
    let end_ms = s["end_ms"].as_f64().unwrap();
    assert_eq!(
        row(&out, "end time"),
        [format!("{end_ms:.1} ms"), "400.0 ms".into(), ratio(end_ms, 400.0), pct(end_ms, 400.0)]
    );
    assert!(!out.contains("promoted bytes"), "a --trace-gc log has no promoted bytes: {out}");
    assert!(!out.contains("at death"), "neither run died: {out}");
}

#[test]
fn max_deviation_exits_4_naming_the_figures_and_4_comes_before_3() {
    let dir = tempfile::tempdir().unwrap();
    let log = hand_log(dir.path(), false);
    let leak = repo("examples/traces/leak.json");
    // The leak runs 2 mark-compacts against the log's 1: 100 % apart.
    let o = compare(&leak, &log, &["--max-deviation", "99"]);
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("further from the real run than --max-deviation 99: mark-compacts (2 vs 1, 100.0 %)"),
        "{err}"
    );
    assert!(!err.contains("scavenges ("), "figures within the bound are not named: {err}");
    let o = compare(&leak, &log, &["--max-deviation", "100"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));

    // A simulated death that the log does not have: the death rows have one side only, which no bound accepts; the
    // deviation (4) is reported over the death (3), and the death is still printed as Node prints it.
    let oom = repo("examples/traces/oom.json");
    let o = compare(&oom, &log, &["--max-deviation", "1e9"]);
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("FATAL ERROR: Reached heap limit"), "{err}");
    assert!(err.contains("time at death (") && err.contains("only simulated"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("note: only the simulated run died"), "{out}");
    // Without --max-deviation, the simulated death exits 3 as before.
    let o = compare(&oom, &log, &[]);
    assert_eq!(o.status.code(), Some(3));
    // Both died: the death rows have both sides.
    let dies = hand_log(dir.path(), true);
    let o = compare(&oom, &dies, &[]);
    assert_eq!(o.status.code(), Some(3));
    let out = String::from_utf8_lossy(&o.stdout);
    let death = row(&out, "time at death");
    assert_eq!(death[1], "400.0 ms", "{out}");
    assert_eq!(row(&out, "heap at death")[1], "1.0 MiB", "{out}");
}

#[test]
fn bad_compare_log_flags_are_usage_errors_and_an_unreadable_log_fails_before_the_replay() {
    let dir = tempfile::tempdir().unwrap();
    let log = hand_log(dir.path(), false);
    let leak = repo("examples/traces/leak.json");
    for bad in ["-1", "NaN", "inf"] {
        let o = run(&[
            leak.as_os_str(),
            "--compare-log".as_ref(),
            log.as_os_str(),
            "--max-deviation".as_ref(),
            bad.as_ref(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
    }
    let o = run(&[leak.as_os_str(), "--max-deviation".as_ref(), "10".as_ref()]);
    assert_eq!(o.status.code(), Some(2), "--max-deviation needs --compare-log");
    let missing = dir.path().join("missing.log");
    let o = run(&[leak.as_os_str(), "--compare-log".as_ref(), missing.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing replayed");
    let program = dir.path().join("program.log");
    std::fs::write(&program, "just the program\n").unwrap();
    let o = run(&[leak.as_os_str(), "--compare-log".as_ref(), program.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no GC line or FATAL ERROR"));
    // An output may not replace the log.
    let o = run(&[leak.as_os_str(), "--compare-log".as_ref(), log.as_os_str(), "--report".as_ref(), log.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a --compare-log log"));
}

#[test]
fn plot_draws_the_real_heap_beside_the_simulated_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = hand_log(dir.path(), false);
    let svg = dir.path().join("heap.svg");
    let leak = repo("examples/traces/leak.json");
    let o = run(&[
        leak.as_os_str(),
        "-q".as_ref(),
        "--compare-log".as_ref(),
        log.as_os_str(),
        "--plot".as_ref(),
        svg.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("real (the log)") && text.contains("simulated (leaky ticker server (miniature))"),
        "{text:.300}"
    );
    assert!(text.contains("real: 7 scavenges, 1 mark-compacts"));
}
