//! `gc-sim snapshot`: the summary, `--why`, the leak diff, the report's fields (each documented in
//! docs/report-format.md), the chart, determinism, and errors and exit codes as `gc-sim run` and `gc-sim log` have
//! them (output paths checked before the snapshots are read: 2; an unreadable snapshot: 1, naming the file and the
//! byte).

use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");
const DOC: &str = include_str!("../../docs/report-format.md");

fn data(n: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../gc-sim/tests/data/emitter-leak-{n}.heapsnapshot.gz"))
}

fn shared(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/real-inputs").join(rel);
    assert!(p.exists(), "{} is missing (../shared must be beside the clone)", p.display());
    p
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN).arg("snapshot").args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Every member name at any depth.
fn field_names(value: &serde_json::Value, names: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, inner) in map {
                names.push(name.clone());
                field_names(inner, names);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| field_names(i, names)),
        _ => {}
    }
}

#[test]
fn a_leak_diff_report_has_every_field_documented_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2, png) = (dir.path().join("r1.json"), dir.path().join("r2.json"), dir.path().join("c.png"));
    let files = [data(50), data(250), data(450)];
    let mut args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    args.extend(["--why".as_ref(), "RequestContext".as_ref(), "--report".as_ref(), r1.as_os_str()]);
    args.extend(["--plot".as_ref(), png.as_os_str()]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("suspected leak 1: 2,200 objects"), "{text}");
    assert!(text.contains("structure    an array: Array@"), "{text}");
    assert!(text.contains("why RequestContext (@"), "{text}");
    assert!(text.contains("->bus ConfigBus@"), "{text}");
    let png_bytes = std::fs::read(&png).unwrap();
    assert!(png_bytes.starts_with(b"\x89PNG"));

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&r1).unwrap()).unwrap();
    assert_eq!(report["source"], "v8-heap-snapshot");
    for field in ["nodes", "edges", "heap_bytes", "native_bytes"] {
        assert!(report["summary"][field].as_u64().unwrap() > 0, "summary.{field}");
    }
    for field in ["name", "count", "self_bytes", "retained_bytes"] {
        assert!(!report["constructors"][0][field].is_null(), "constructors[].{field}");
    }
    for field in ["name", "id", "self_bytes", "retained_bytes"] {
        assert!(!report["top_retainers"][0][field].is_null(), "top_retainers[].{field}");
    }
    assert_eq!(report["suspected_leaks"].as_array().unwrap().len(), 1);
    assert_eq!(report["suspected_leaks"][0]["structure"], "array");
    let section = DOC.split("## Heap snapshot reports").nth(1).expect("the section");
    let mut names = Vec::new();
    field_names(&report, &mut names);
    names.sort();
    names.dedup();
    for name in names {
        assert!(section.contains(&format!("| `{name}` |")), "docs/report-format.md: no row for `{name}`");
    }

    // The same input gives the same bytes.
    args.truncate(args.len() - 4);
    args.extend(["--report".as_ref(), r2.as_os_str()]);
    assert!(run(&args).status.success());
    assert_eq!(std::fs::read(&r1).unwrap(), std::fs::read(&r2).unwrap());
}

#[test]
fn one_real_snapshot_summary_and_why() {
    let f = shared("ticker/leaky/ticker-leaky-200.heapsnapshot.gz");
    let o = run(&[f.as_os_str(), "--why".as_ref(), "WebSocket".as_ref(), "--top".as_ref(), "5".as_ref()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("97,947 (463,508 edges)"), "{text}");
    assert!(text.contains("TimersList"), "{text}");
    assert!(text.contains("why WebSocket (@"), "{text}");
    // The path from the global object to a leaked WebSocket goes through the timer list.
    assert!(text.contains("->timerListMap Object@69477 -> [1000] TimersList@"), "{text}");
    let o = run(&[f.as_os_str(), "--why".as_ref(), "@999999999".as_ref()]);
    assert!(stdout(&o).contains("no node has that id"), "{}", stdout(&o));
}

#[test]
fn errors_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let good = data(50);
    // Output paths are checked before anything is read (the snapshot does not exist: still 2).
    let missing = dir.path().join("missing.heapsnapshot");
    let o = run(&[missing.as_os_str(), "--report".as_ref(), dir.path().as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
    let o = run(&[good.as_os_str(), "--plot".as_ref(), dir.path().join("c.jpg").as_os_str()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(&[good.as_os_str(), "--report".as_ref(), good.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a snapshot being read"), "{}", stderr(&o));
    let four = [good.as_os_str(); 4];
    assert_eq!(run(&four).status.code(), Some(2), "at most three snapshots");

    let o = run(&[missing.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.heapsnapshot"), "{}", stderr(&o));
    let bad = dir.path().join("bad.heapsnapshot");
    std::fs::write(&bad, "{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\"],").unwrap();
    let o = run(&[bad.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("bad.heapsnapshot: byte ") && e.contains("truncated"), "{e}");
    assert!(o.stdout.is_empty());
}

/// `gc-sim run --initial-heap`: the snapshot's heap is the run's starting old generation, its objects are named by
/// snapshot id in `--why`, a heap that does not fit dies at the start (exit 3, reported as V8 does), and an
/// unreadable snapshot fails before the replay (exit 1, naming the flag, the file and the byte).
#[test]
fn run_starts_from_an_initial_heap() {
    let trace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/traces/leak.json");
    let snapshot = data(50);
    let run_trace = |extra: &[&str]| {
        Command::new(BIN)
            .arg("run")
            .arg(&trace)
            .arg("--initial-heap")
            .arg(&snapshot)
            .args(["--report", "/dev/stdout", "-q"])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run_trace(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let live = report["summary"]["live_bytes"].as_u64().unwrap();
    let plain = Command::new(BIN).arg("run").arg(&trace).args(["--report", "/dev/stdout", "-q"]).output().unwrap();
    let plain: serde_json::Value = serde_json::from_str(&stdout(&plain)).unwrap();
    let plain_live = plain["summary"]["live_bytes"].as_u64().unwrap();
    assert!(live > plain_live + 2_000_000, "the snapshot's ~2.9 MB heap is live too: {live} against {plain_live}");
    let roots: Vec<&str> =
        report["retainers"].as_array().unwrap().iter().map(|r| r["root"].as_str().unwrap()).collect();
    assert!(roots.contains(&"timers") && roots.iter().any(|r| r.starts_with('(')), "{roots:?}");

    // A 1 MiB old generation cannot hold the snapshot's heap: the program is dead from the start.
    let o = run_trace(&["--max-old-space-size", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["summary"]["oom"]["location"], "reached_heap_limit");
    assert_eq!(report["summary"]["trace_events"], 0, "no event ran");

    let dir = std::env::temp_dir().join(format!("gc-sim-initial-heap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.heapsnapshot");
    std::fs::write(&cut, b"{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\"").unwrap();
    let o = Command::new(BIN).arg("run").arg(&trace).arg("--initial-heap").arg(&cut).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(1));
    let message = stderr(&o);
    assert!(
        message.starts_with("gc-sim: --initial-heap ")
            && message.contains("cut.heapsnapshot")
            && message.contains("byte"),
        "{message}"
    );
}

/// `gc-sim run --initial-heap node20`: Node 20's own startup heap, built in (2,898,248 B, all of it live), scaled
/// with `node20:SIZE`, asked for by a trace header's `initial_heap` (which the flag replaces), the same report
/// every time; a file named `node20` is read as `./node20`; a size that is not one is a usage error (exit 2)
/// before the trace is read; a heap over the maximum old generation dies at the start (exit 3).
#[test]
fn run_starts_from_nodes_own_startup_heap() {
    let trace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/traces/leak.json");
    let run_trace = |trace: &std::path::Path, dir: Option<&std::path::Path>, extra: &[&str]| {
        let mut command = Command::new(BIN);
        command.arg("run").arg(trace).args(["--report", "/dev/stdout", "-q"]).args(extra);
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        command.output().unwrap()
    };
    let live = |o: &Output| {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
        let report: serde_json::Value = serde_json::from_str(&stdout(o)).unwrap();
        report["summary"]["live_bytes"].as_u64().unwrap()
    };
    let plain = live(&run_trace(&trace, None, &[]));
    let node = run_trace(&trace, None, &["--initial-heap", "node20"]);
    assert_eq!(live(&node), plain + 2_898_248, "the whole startup heap is live");
    assert_eq!(stdout(&node), stdout(&run_trace(&trace, None, &["--initial-heap", "node20"])), "deterministic");
    let report: serde_json::Value = serde_json::from_str(&stdout(&node)).unwrap();
    let roots: Vec<&str> =
        report["retainers"].as_array().unwrap().iter().map(|r| r["root"].as_str().unwrap()).collect();
    assert!(roots.contains(&"(global)") && roots.contains(&"(Internalized strings)"), "{roots:?}");
    // The timeline starts from the imported heap, with the limit computed from it.
    let start = &report["timeline"][0];
    let old = start["spaces"]["old_space"]["used_bytes"].as_u64().unwrap();
    let large = start["spaces"]["large_object_space"]["used_bytes"].as_u64().unwrap();
    assert_eq!(old + large, 2_898_248, "{start}");
    assert!(start["old_generation_allocation_limit"].as_u64().unwrap() > 2_898_248, "{start}");
    assert_eq!(live(&run_trace(&trace, None, &["--initial-heap", "node20:6MB"])), plain + 6_000_000);

    // The trace's header asks for it; the flag replaces the header's.
    let dir = std::env::temp_dir().join(format!("gc-sim-node20-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(&trace).unwrap();
    let with_header = dir.join("leak-node20.json");
    let at = text.find("\"events\"").unwrap();
    std::fs::write(&with_header, format!("{}\"initial_heap\": \"node20\",\n  {}", &text[..at], &text[at..])).unwrap();
    assert_eq!(stdout(&run_trace(&with_header, None, &[])), stdout(&node).replace("leak.json", "leak-node20.json"));
    assert_eq!(live(&run_trace(&with_header, None, &["--initial-heap", "node20:1MB"])), plain + 1_000_000);

    // A file named node20 is `./node20`.
    std::fs::copy(data(50), dir.join("node20")).unwrap();
    let file = live(&run_trace(&trace, Some(&dir), &["--initial-heap", "./node20"]));
    let snapshot = live(&run_trace(&trace, None, &["--initial-heap", data(50).to_str().unwrap()]));
    assert_eq!(file, snapshot);
    assert_ne!(file, live(&run_trace(&trace, Some(&dir), &["--initial-heap", "node20"])));

    // A bad size: a usage error before the trace is read.
    let o = run_trace(&dir.join("missing.json"), None, &["--initial-heap", "node20:5XB"]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("gc-sim: --initial-heap node20:5XB: ") && stderr(&o).contains("\"XB\""),
        "{}",
        stderr(&o)
    );

    // 2 MiB of old generation cannot hold it: dead at the start.
    let o = run_trace(&trace, None, &["--initial-heap", "node20", "--max-old-space-size", "2"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["summary"]["oom"]["location"], "reached_heap_limit");
}
