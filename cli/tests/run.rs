//! The real `gc-sim` binary, run on generated traces: exit codes, error locations, determinism, output formats.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use gc_sim::Report;

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

/// A header with 4 KiB pages and a 32 KiB semi-space, so that a few hundred events collect.
const HEADER: &str = r#"{"format": "gc-sim-trace", "version": 1, "name": "test", "heap": {"page": {"page_size": 4096, "area_start": 64, "area_size": 4032}, "min_semi_space_size": 8192, "max_semi_space_size": 32768, "large_object_threshold": 2048, "lab_size": 1024, "max_lab_object_size": 256}}"#;

/// A small leaky workload: connections whose Timeout stays rooted, per-tick garbage, a final full GC.
fn workload() -> Vec<String> {
    let mut events = Vec::new();
    let mut id = 0u64;
    for conn in 0..20 {
        let timeout = id;
        events.push(format!(
            r#"{{"op": "alloc", "id": {timeout}, "size": 80, "slots": 1, "kind": "Timeout", "tag": "conn-{conn}", "root": "timers"}}"#
        ));
        events.push(format!(
            r#"{{"op": "alloc", "id": {}, "size": 200, "kind": "closure", "tag": "conn-{conn}"}}"#,
            id + 1
        ));
        events.push(format!(r#"{{"op": "write", "obj": {timeout}, "slot": 0, "to": {}}}"#, id + 1));
        id += 2;
        for _ in 0..30 {
            events.push(r#"{"op": "enter"}"#.to_owned());
            events.push(format!(r#"{{"op": "alloc", "id": {id}, "size": 300}}"#));
            events.push(r#"{"op": "exit"}"#.to_owned());
            events.push(r#"{"op": "tick", "ms": 10}"#.to_owned());
            id += 1;
        }
        events.push(format!(r#"{{"op": "mark", "label": "close conn-{conn}"}}"#));
    }
    events.push(r#"{"op": "gc", "kind": "major"}"#.to_owned());
    events
}

fn ndjson(header: &str, events: &[String]) -> String {
    let mut text = format!("{header}\n");
    for e in events {
        text.push_str(e);
        text.push('\n');
    }
    text
}

fn json(header: &str, events: &[String]) -> String {
    format!("{}, \"events\": [\n{}\n]}}\n", &header[..header.len() - 1], events.join(",\n"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn gc_sim(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn read_report(path: &Path) -> Report {
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("the report parses")
}

#[test]
fn json_and_ndjson_forms_give_identical_reports() {
    let dir = tempfile::tempdir().unwrap();
    let events = workload();
    let a = write(dir.path(), "t.json", &json(HEADER, &events));
    let b = write(dir.path(), "t.ndjson", &ndjson(HEADER, &events));
    let (ra, rb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    for (trace, report) in [(&a, &ra), (&b, &rb)] {
        let out = gc_sim(&["run", trace.to_str().unwrap(), "--report", report.to_str().unwrap(), "--quiet"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "--quiet prints nothing");
    }
    assert_eq!(std::fs::read(&ra).unwrap(), std::fs::read(&rb).unwrap());
    let report = read_report(&ra);
    assert!(report.summary.scavenges >= 5, "{:?}", report.summary);
    assert_eq!(report.summary.mark_compacts, 1);
    assert_eq!(report.marks.len(), 20);
    let timers = report.retainers.iter().find(|r| r.root == "timers").expect("timers retain the leak");
    assert_eq!(timers.retained_bytes, 20 * (80 + 200));
    assert_eq!(timers.retained_old_bytes, timers.retained_bytes, "all promoted");
    assert_eq!(report.summary.live_bytes, 20 * 280);
}

#[test]
fn two_runs_give_byte_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "t.ndjson", &ndjson(HEADER, &workload()));
    let run = |report: &str| {
        let report = dir.path().join(report);
        let out = gc_sim(&["run", trace.to_str().unwrap(), "--trace-gc", "--report", report.to_str().unwrap()]);
        assert!(out.status.success());
        (out.stdout, std::fs::read(report).unwrap())
    };
    assert_eq!(run("1.json"), run("2.json"));
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let mut child = Command::new(BIN)
        .args(["run", "-", "--quiet", "--trace-gc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(ndjson(HEADER, &workload()).as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Mark-Compact"));
}

/// V8's `GCTracer::Print` format (facts sheet §5), with `[gc-sim]` for `[pid:isolate]` and no incremental part.
#[test]
fn trace_gc_lines_parse_with_v8s_format() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "t.ndjson", &ndjson(HEADER, &workload()));
    let report_path = dir.path().join("r.json");
    let out =
        gc_sim(&["run", trace.to_str().unwrap(), "--trace-gc", "--quiet", "--report", report_path.to_str().unwrap()]);
    let v8 = regex::Regex::new(
        r"^\[gc-sim\] {1,8}(\d+) ms: (Scavenge|Mark-Compact) (\d+\.\d) \((\d+\.\d)\) -> (\d+\.\d) \((\d+\.\d)\) MB, (\d+\.\d\d) / (\d+\.\d\d) ms  \(average mu = (\d\.\d{3}), current mu = (\d\.\d{3})\) ([a-z ]+); (scavenge might not succeed|GC in old space requested|)$",
    )
    .unwrap();
    let report = read_report(&report_path);
    let lines: Vec<String> = text(&out.stdout).lines().filter(|l| !l.contains(" mark: ")).map(str::to_owned).collect();
    assert_eq!(lines.len(), report.events.len());
    for (line, event) in lines.iter().zip(&report.events) {
        let c = v8.captures(line).unwrap_or_else(|| panic!("not V8's format: {line:?}"));
        assert_eq!(c[1].parse::<f64>().unwrap(), event.end_ms().round(), "{line}");
        assert_eq!(&c[2], event.collector.v8_name());
        let mb = |bytes: u64| format!("{:.1}", bytes as f64 / 1048576.0);
        assert_eq!(&c[3], mb(event.before.used_bytes()));
        assert_eq!(&c[6], mb(event.after.committed_bytes()));
        assert_eq!(&c[7], format!("{:.2}", event.pause_ms));
        assert_eq!(&c[11], event.reason.v8_name());
    }
    let marks = text(&out.stdout).lines().filter(|l| l.contains(" mark: close conn-")).count();
    assert_eq!(marks, 20, "marks are shown in the log");
}

/// Every kind of bad input: exit 1, and a message with the file, the line (NDJSON) or event index (JSON), and
/// what is wrong.
#[test]
fn invalid_traces_exit_1_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let a1 = r#"{"op": "alloc", "id": 1, "size": 16, "slots": 1, "root": "r"}"#;
    let cases: &[(&str, &[&str], &str)] = &[
        ("malformed JSON", &[a1, r#"{"op": "alloc", "id": 2,"#], "malformed JSON"),
        ("unknown op", &[a1, r#"{"op": "free", "id": 1}"#], "unknown op \"free\""),
        ("missing field", &[a1, r#"{"op": "write", "obj": 1, "slot": 0}"#], "`write` needs the field `to`"),
        ("mistyped field", &[a1, r#"{"op": "tick", "ms": "soon"}"#], "invalid type: string \"soon\""),
        ("duplicate id", &[a1, a1], "`alloc` reuses id 1"),
        ("unknown id", &[a1, r#"{"op": "root", "id": 5, "root": "r"}"#], "object 5 was never allocated"),
        ("slot out of range", &[a1, r#"{"op": "write", "obj": 1, "slot": 3, "to": null}"#], "slot 3 is out of range"),
        ("unroot not held", &[a1, r#"{"op": "unroot", "id": 1, "root": "x"}"#], "root set \"x\" holds no handle"),
        ("exit without enter", &[a1, r#"{"op": "exit"}"#], "`exit` with no open handle scope"),
        ("size 0", &[a1, r#"{"op": "alloc", "id": 2, "size": 0}"#], "`size` is 0"),
        (
            "freed object",
            &[r#"{"op": "alloc", "id": 1, "size": 16}"#, r#"{"op": "gc", "kind": "minor"}"#],
            "the trace uses object 1, which was unreachable at its last collection: root it or keep a reference",
        ),
    ];
    for (what, events, message) in cases {
        let mut events: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        if *what == "freed object" {
            events.push(r#"{"op": "root", "id": 1, "root": "r"}"#.to_owned());
        }
        let last = events.len() - 1;
        let nd = write(dir.path(), "bad.ndjson", &ndjson(HEADER, &events));
        let out = gc_sim(&["run", nd.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{what}");
        let stderr = text(&out.stderr);
        let place = format!("bad.ndjson:{}:", last + 2);
        assert!(stderr.contains(&place) && stderr.contains(message), "{what}: {stderr:?} lacks {place} or {message}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        if *what != "malformed JSON" {
            let js = write(dir.path(), "bad.json", &json(HEADER, &events));
            let out = gc_sim(&["run", js.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(1), "{what}");
            let stderr = text(&out.stderr);
            let place = format!("events[{last}]: ");
            assert!(stderr.contains(&place) && stderr.contains(message), "{what} (JSON): {stderr:?} lacks {place}");
        }
    }
}

#[test]
fn io_and_usage_errors() {
    let out = gc_sim(&["run", "/nonexistent/trace.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot open /nonexistent/trace.json"), "{}", text(&out.stderr));
    for args in
        [&["run"][..], &["run", "t.json", "--no-such-flag"], &["walk"], &["run", "t.json", "--max-old-space-size", "x"]]
    {
        assert_eq!(gc_sim(args).status.code(), Some(2), "{args:?}");
    }
    let out = gc_sim(&["run", "t.json", "--heap", "max_old=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no field `max_old`"));
}

#[test]
fn node_flags_and_exact_fields_override_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "t.ndjson", &ndjson(HEADER, &workload()));
    let report = dir.path().join("r.json");
    let out = gc_sim(&[
        "run",
        trace.to_str().unwrap(),
        "-q",
        "--max-old-space-size=64",
        "--max_semi_space_size",
        "1",
        "--heap",
        "promotion_age=0",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = read_report(&report).config;
    assert_eq!(config.max_old_generation_size, 64 << 20);
    assert_eq!(config.max_semi_space_size, 1 << 20);
    assert_eq!(config.promotion_age, 0);
    assert_eq!(config.page.page_size, 4096, "the trace's own settings stay");
}

#[test]
fn out_of_memory_exits_3_with_v8s_message_and_still_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut events = vec![r#"{"op": "alloc", "id": 0, "size": 16, "slots": 1, "root": "list"}"#.to_owned()];
    for i in 1..2000u64 {
        events.push(format!(r#"{{"op": "alloc", "id": {i}, "size": 1000, "slots": 1}}"#));
        events.push(format!(r#"{{"op": "write", "obj": {}, "slot": 0, "to": {i}}}"#, i - 1));
        events.push(r#"{"op": "tick", "ms": 1}"#.to_owned());
    }
    let header = HEADER.replace("\"lab_size\"", "\"max_old_generation_size\": 524288, \"lab_size\"");
    let trace = write(dir.path(), "oom.ndjson", &ndjson(&header, &events));
    let report = dir.path().join("r.json");
    let out = gc_sim(&["run", trace.to_str().unwrap(), "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("<--- Last few GCs --->"), "{stderr}");
    assert!(stderr.contains("FATAL ERROR: ") && stderr.contains("Allocation failed - JavaScript heap out of memory"));
    let report = read_report(&report);
    let oom = report.summary.oom.expect("the report records the death");
    assert!(stderr.contains(&oom.message));
    assert!(text(&out.stdout).contains("OUT OF MEMORY"), "the summary says it");
    assert!(report.summary.trace_events < events.len() as u64, "the events after death are not replayed");
}

/// 10 million NDJSON events through standard input: the simulator's memory stays flat.
#[cfg(target_os = "linux")]
#[test]
fn ten_million_events_replay_in_flat_memory() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    const EVENTS: u64 = 10_000_000;
    let mut child = Command::new(BIN)
        .args(["run", "-", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let written = Arc::new(AtomicU64::new(0));
    let mut stdin = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
    let progress = Arc::clone(&written);
    let writer = std::thread::spawn(move || {
        writeln!(stdin, r#"{{"format": "gc-sim-trace", "version": 1, "name": "ten million"}}"#).unwrap();
        // Per 5 events: a scope with a 2-object temporary structure; every 1,000th object is kept in a ring of 64
        // rooted slots, so old space sees steady promotion and death too.
        let mut n = 0u64;
        let mut id = 0u64;
        writeln!(stdin, r#"{{"op":"alloc","id":{id},"size":528,"slots":64,"root":"ring"}}"#).unwrap();
        let ring = id;
        id += 1;
        n += 1;
        while n < EVENTS {
            write!(
                stdin,
                "{{\"op\":\"enter\"}}\n{{\"op\":\"alloc\",\"id\":{id},\"size\":64,\"slots\":1}}\n{{\"op\":\"alloc\",\"id\":{},\"size\":40}}\n{{\"op\":\"write\",\"obj\":{id},\"slot\":0,\"to\":{}}}\n",
                id + 1,
                id + 1
            )
            .unwrap();
            if id % 1000 == 1 {
                writeln!(stdin, "{{\"op\":\"write\",\"obj\":{ring},\"slot\":{},\"to\":{id}}}", (id / 1000) % 64)
                    .unwrap();
                n += 1;
            }
            writeln!(stdin, "{{\"op\":\"exit\"}}").unwrap();
            id += 2;
            n += 5;
            progress.store(n, Ordering::Relaxed);
        }
        stdin.flush().unwrap();
    });
    let rss_kib = || -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
    };
    // (events written, RSS) samples while the replay runs.
    let mut samples = Vec::new();
    while !writer.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if let Some(rss) = rss_kib() {
            samples.push((written.load(Ordering::Relaxed), rss));
        }
    }
    writer.join().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let early = samples.iter().filter(|(n, _)| *n >= EVENTS / 10 && *n <= EVENTS / 5).map(|s| s.1).max();
    let late = samples.iter().filter(|(n, _)| *n >= EVENTS / 2).map(|s| s.1).max();
    let (Some(early), Some(late)) = (early, late) else { panic!("too few samples: {samples:?}") };
    assert!(late <= early + 8 * 1024, "RSS grew from {early} KiB (1-2 M events) to {late} KiB (5-10 M events)");
}

/// The README's chart is what the README's first command draws today (rendering is deterministic).
#[test]
fn the_readmes_chart_is_the_readmes_command_output() {
    let dir = tempfile::tempdir().unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let plot = dir.path().join("leak.png");
    let out = Command::new(BIN)
        .current_dir(root)
        .args(["run", "examples/traces/leak.json", "--quiet", "--plot", plot.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let committed = std::fs::read(format!("{root}/docs/images/leak-heap.png")).unwrap();
    assert!(
        std::fs::read(&plot).unwrap() == committed,
        "docs/images/leak-heap.png is stale: rerun the README's command"
    );
}

#[test]
fn plot_renders_saved_reports() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write(dir.path(), "t.ndjson", &ndjson(HEADER, &workload()));
    let report = dir.path().join("r.json");
    let pauses = dir.path().join("pauses.svg");
    let out = gc_sim(&[
        "run",
        trace.to_str().unwrap(),
        "-q",
        "--report",
        report.to_str().unwrap(),
        "--plot-pauses",
        pauses.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&pauses).unwrap().starts_with("<svg"));
    let png = dir.path().join("cmp.png");
    let out = gc_sim(&["plot", report.to_str().unwrap(), report.to_str().unwrap(), "-o", png.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    let out = gc_sim(&["plot", trace.to_str().unwrap(), "-o", png.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is a trace, not a report: replay it first"), "{}", text(&out.stderr));
    let out = gc_sim(&["plot", report.to_str().unwrap(), report.to_str().unwrap(), "-o", "x.png", "--chart", "heap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("takes one report"));
}

#[test]
fn the_summary_names_suspected_leaks_and_why_answers_with_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let leak = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/leak.json");
    let map = dir.path().join("map.png");
    let out = gc_sim(&[
        "run",
        leak,
        "--why",
        "4",
        "--heap-map-at",
        "before:9",
        "--heap-map-at",
        "after:99",
        "--report",
        report.to_str().unwrap(),
        "--plot-heap-map",
        map.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("SUSPECTED LEAKS: 16 closed tags still alive"), "{stdout}");
    assert!(stdout.contains("conn-1 closed at 80.8 ms: 7 objects"), "{stdout}");
    assert!(stdout.contains("largest tags"), "{stdout}");
    assert!(
        stdout.contains("why is 4 alive?  timers -> Timeout#9 -> [0] closure#8 -> [0] Context#7 -> [0] KoaContext#6 -> [0] WebSocket#5 -> [0] Socket#4 (conn-1)"),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("no heap map at after:99: the run had 9 collections"), "{}", text(&out.stderr));
    let quiet = gc_sim(&["run", leak, "--why", "4", "--quiet"]);
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert_eq!(
        text(&quiet.stdout),
        "  why is 4 alive?  timers -> Timeout#9 -> [0] closure#8 -> [0] Context#7 -> [0] KoaContext#6 -> [0] WebSocket#5 -> [0] Socket#4 (conn-1)\n",
        "--quiet keeps the answer to --why, and only it"
    );
    let r = read_report(&report);
    assert_eq!(r.why.unwrap().path.len(), 6);
    let moments: Vec<String> = r.heap_maps.iter().map(|m| m.moment.to_string()).collect();
    assert_eq!(moments, ["before:9", "end"]);
    let plotted = std::fs::read(&map).unwrap();
    assert_eq!(&plotted[..8], b"\x89PNG\r\n\x1a\n");
    let replot = dir.path().join("replot.png");
    let out = gc_sim(&["plot", report.to_str().unwrap(), "-o", replot.to_str().unwrap(), "--chart", "heapmap"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&replot).unwrap(), plotted, "the same maps from the saved report, byte for byte");

    let fixed = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/fixed.ndjson");
    let out = gc_sim(&["run", fixed, "--why", "conn-1"]);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("SUSPECTED LEAKS"), "{stdout}");
    assert!(stdout.contains("why is conn-1 alive?  it is not"), "{stdout}");
    let bad = gc_sim(&["run", fixed, "--heap-map-at", "during:3"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("expected `before:N`, `after:N` (N >= 1) or `end`"), "{}", text(&bad.stderr));
}

/// `--why Socket` (a kind) answered "it is not alive" while 16 Sockets were; it now leads to the Socket nearest to
/// the roots and says it is a kind. Queries that match nothing and ones that match something dead are told apart.
#[test]
fn why_takes_a_kind_and_says_what_it_matched() {
    let leak = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/leak.json");
    let answer = |query: &str| {
        let out = gc_sim(&["run", leak, "--why", query, "--quiet"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(
        answer("Socket"),
        "  why is Socket (a kind) alive?  timers -> Timeout#9 -> [0] closure#8 -> [0] Context#7 -> [0] KoaContext#6 -> [0] WebSocket#5 -> [0] Socket#4 (conn-1)\n"
    );
    assert_eq!(answer("kind:Socket"), answer("Socket").replace("Socket (a kind)", "kind:Socket"));
    assert_eq!(answer("tag:conn-1"), answer("conn-1").replace("conn-1 alive", "tag:conn-1 alive"));
    assert_eq!(
        answer("no-such-thing"),
        "  why is no-such-thing alive?  nothing is called that: no object id, tag or kind no-such-thing in the trace\n"
    );
}

/// `--heap-map-at end` warned "no heap map at end" although the report had it; a run asks for no heap map unless
/// `--heap-map-at` or `--plot-heap-map` does.
#[test]
fn heap_map_at_end_is_in_the_report_without_a_warning_and_no_map_is_built_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let fixed = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/fixed.ndjson");
    let out = gc_sim(&["run", fixed, "-q", "--heap-map-at", "end", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let moments: Vec<String> = read_report(&report).heap_maps.iter().map(|m| m.moment.to_string()).collect();
    assert_eq!(moments, ["end"]);
    let out = gc_sim(&["run", fixed, "-q", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(read_report(&report).heap_maps.is_empty());
}
