//! `gc-sim log` on the real Node logs in `../shared`: two files or one, gzip, standard input, exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared").join(rel)
}

fn log(args: &[&std::ffi::OsStr], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .arg("log")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn oom_files() -> (PathBuf, PathBuf) {
    (shared("real-inputs/ticker/oom-old64/gc.log"), shared("real-inputs/ticker/oom-old64/server.stderr"))
}

#[test]
fn ticker_oom_run_summary() {
    let (out, err) = oom_files();
    let o = log(&[out.as_os_str(), err.as_os_str(), "--max-old-space-size".as_ref(), "64".as_ref()], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "no warning: {}", String::from_utf8_lossy(&o.stderr));
    let t = text(&o);
    // Counted independently: `grep -c ' ms: Scavenge' gc.log` = 52, `grep -c ' ms: Mark-Compact' gc.log` = 528.
    assert!(t.contains("52 scavenges"), "{t}");
    assert!(t.contains("528 mark-compacts"), "{t}");
    assert!(t.contains("DEATH        Ineffective mark-compacts near heap limit"), "{t}");
    assert!(t.contains("against --max-old-space-size 64 MB"), "{t}");
    assert!(t.contains("2 entries in the OOM ring buffer (2 cut at 255 bytes)"), "{t}");
    assert!(!t.contains("storms       none"), "the run dies after a mark-compact storm: {t}");
    assert!(t.contains("finalize incremental marking via task"), "{t}");
}

#[test]
fn output_is_deterministic_and_one_combined_file_reads_like_two() {
    let (out, err) = oom_files();
    let a = log(&[out.as_os_str(), err.as_os_str()], None);
    let b = log(&[out.as_os_str(), err.as_os_str()], None);
    assert_eq!(a.stdout, b.stdout);
    let dir = tempfile::tempdir().unwrap();
    let combined = dir.path().join("combined.log");
    let mut bytes = std::fs::read(&out).unwrap();
    bytes.extend(std::fs::read(&err).unwrap());
    std::fs::write(&combined, &bytes).unwrap();
    let c = log(&[combined.as_os_str()], None);
    assert!(c.status.success());
    // Everything but the first line (the file names) is the same.
    let tail = |o: &Output| text(o).lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(tail(&a), tail(&c));
}

#[test]
fn gzip_and_standard_input() {
    let path = shared("v8/ticker/runs/leaky_tick10_nvp/gc.log");
    let plain = log(&[path.as_os_str()], None);
    assert!(plain.status.success());
    assert!(text(&plain).contains("602 scavenges"), "{}", text(&plain));
    assert!(text(&plain).contains("promoted"), "nvp has promotion: {}", text(&plain));
    let bytes = std::fs::read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("gc.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&bytes).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let zipped = log(&[gz.as_os_str()], None);
    let piped = log(&["-".as_ref()], Some(&bytes));
    let tail = |o: &Output| text(o).lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(tail(&zipped), tail(&plain));
    assert_eq!(tail(&piped), tail(&plain));
}

#[test]
fn every_real_log_reads_without_warnings() {
    let dir = shared("real-inputs/gc-logs");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".stdout.log"))
        .collect();
    runs.sort();
    assert_eq!(runs.len(), 7);
    for out in runs {
        let err = PathBuf::from(out.to_string_lossy().replace(".stdout.log", ".stderr.log"));
        let o = log(&[out.as_os_str(), err.as_os_str()], None);
        assert!(o.status.success(), "{}: {}", out.display(), String::from_utf8_lossy(&o.stderr));
        assert!(o.stderr.is_empty(), "{}: {}", out.display(), String::from_utf8_lossy(&o.stderr));
        let t = text(&o);
        assert!(t.contains(" 0 unreadable"), "{t}");
        assert_eq!(t.contains("DEATH"), out.to_string_lossy().contains("oom32"), "{t}");
    }
}

#[test]
fn no_gc_line_is_an_error_and_a_missing_file_too() {
    let o = log(&["-".as_ref()], Some(b"hello\nworld\n"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no GC line"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = log(&["/nonexistent/gc.log".as_ref()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/gc.log"));
}

#[test]
fn a_malformed_line_is_a_warning_with_its_line_number() {
    let input = b"[1:0x1]       5 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.30 / 0.00 ms  (average mu = 1.000, current mu = 1.000) task; \n\
[1:0x1]       6 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.3\n";
    let o = log(&["-".as_ref()], Some(input));
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("<stdin>:2: unreadable --trace-gc line"), "{err}");
}

/// docs/gc-log.md's example is this binary's output on the 64 MB OOM run (lines shown as `...` left out).
#[test]
fn the_docs_example_is_the_real_output() {
    let doc = include_str!("../../docs/gc-log.md");
    let start = doc.find("$ gc-sim log gc.log server.stderr --max-old-space-size 64\n").expect("the example");
    let block = &doc[start..];
    let block = &block[..block.find("```").unwrap()];
    let (out, err) = oom_files();
    let o = log(&[out.as_os_str(), err.as_os_str(), "--max-old-space-size".as_ref(), "64".as_ref()], None);
    let actual = text(&o);
    for line in block.lines().skip(2).filter(|l| l.trim() != "...") {
        assert!(
            actual.lines().any(|a| a == line),
            "docs/gc-log.md shows a line the binary does not print:\n{line}\n\n{actual}"
        );
    }
}

/// `--report`: the simulation's report fields where they mean the same thing, counted independently here.
#[test]
fn report_json_has_the_simulation_fields() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("log.json");
    let (out, err) = oom_files();
    let o = log(
        &[
            out.as_os_str(),
            err.as_os_str(),
            "--report".as_ref(),
            json.as_os_str(),
            "--max-old-space-size".as_ref(),
            "64".as_ref(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!((r["format"].as_str(), r["source"].as_str()), (Some("gc-sim-report"), Some("node-gc-log")));
    let s = &r["summary"];
    assert_eq!((s["scavenges"].as_u64(), s["mark_compacts"].as_u64()), (Some(52), Some(528)));
    let text = std::fs::read_to_string(&out).unwrap();
    let pause: f64 =
        text.lines().map(|l| l.split("MB, ").nth(1).unwrap().split(' ').next().unwrap().parse::<f64>().unwrap()).sum();
    assert!((s["pause_ms"].as_f64().unwrap() - pause).abs() < 1e-6);
    assert!(s["promoted_bytes"].is_null(), "--trace-gc has no promotion figure");
    assert_eq!(s["oom"]["location"], "ineffective_mark_compacts");
    assert_eq!(
        s["oom"]["message"],
        "Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory"
    );
    assert_eq!(s["oom"]["max_old_generation_size"], 64 << 20);
    let events = r["events"].as_array().unwrap();
    assert_eq!(events.len(), 580);
    let last = &events[579];
    assert_eq!(
        (last["collector"].as_str(), last["reason"].as_str()),
        (Some("mark_compact"), Some("finalize_incremental_marking_via_task"))
    );
    assert_eq!(last["collector_reason"], "old_space_requested");
    assert_eq!(last["pause_ms"], 8.24);
    assert_eq!(events[0]["collector"], "scavenge");

    // nvp: promoted and allocated bytes, summed here from the file.
    let nvp = shared("v8/ticker/runs/leaky_tick10_nvp/gc.log");
    let o =
        log(&[nvp.as_os_str(), "--report".as_ref(), json.as_os_str(), "--max-events".as_ref(), "10".as_ref()], None);
    assert!(o.status.success());
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let field =
        |l: &str, name: &str| -> u64 { l.split(' ').find_map(|kv| kv.strip_prefix(name)).unwrap().parse().unwrap() };
    let text = std::fs::read_to_string(&nvp).unwrap();
    let promoted: u64 = text.lines().map(|l| field(l, "promoted=")).sum();
    assert_eq!(r["summary"]["promoted_bytes"].as_u64(), Some(promoted));
    assert_eq!(r["events"].as_array().unwrap().len(), 10);
    assert_eq!(r["events_omitted"], 599);
    assert_eq!(r["events"][0]["promoted_bytes"].as_u64(), Some(field(text.lines().next().unwrap(), "promoted=")));
    assert!(r["summary"]["oom"].is_null());
}

/// Only the crash's stderr (the common case): the ring buffer's entries are listed, with the death.
#[test]
fn stderr_alone_lists_the_last_gcs() {
    let err = shared("real-inputs/gc-logs/cache-leak.oom32.trace-gc.stderr.log");
    let o = log(&[err.as_os_str()], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = text(&o);
    assert!(t.contains("2 entries in the OOM ring buffer (2 cut at 255 bytes):"), "{t}");
    assert!(t.contains("951 ms  mark-compact (reduce) 31.7 MB -> 31.1 MB, 57.89 ms, current mu 0.215"), "{t}");
    assert!(t.contains("1084 ms  mark-compact (reduce) 32.3 MB -> 31.7 MB, 53.40 ms, current mu 0.404, task"), "{t}");
    assert!(t.contains("DEATH        Reached heap limit"), "{t}");
}

/// `--trace-gc-verbose`: each space's last figures.
#[test]
fn verbose_spaces_are_listed() {
    let out = shared("real-inputs/gc-logs/cache-leak.trace-gc-verbose.stdout.log");
    let o = log(&[out.as_os_str()], None);
    let t = text(&o);
    // The file's last `Old space,` line: `used:  40757 KB, available:     51 KB, committed:  42720 KB`.
    let text_in = std::fs::read_to_string(&out).unwrap();
    let last_old = text_in.lines().rfind(|l| l.contains("] Old space,")).unwrap();
    assert!(last_old.contains("40757 KB") && last_old.contains("42720 KB"), "{last_old}");
    assert!(
        t.lines().any(|l| l.starts_with("    Old space") && l.contains("40757 KB") && l.contains("42720 KB")),
        "{t}"
    );
}

#[test]
fn a_limit_that_is_not_positive_is_a_usage_error() {
    let (out, _) = oom_files();
    for bad in ["0", "-64", "NaN"] {
        let o = log(&[out.as_os_str(), format!("--max-old-space-size={bad}").as_ref()], None);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--max-old-space-size"), "{bad}");
    }
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn plot_and_plot_pauses_draw_the_real_run() {
    let (out, err) = oom_files();
    let dir = tempfile::tempdir().unwrap();
    let (heap, pauses) = (dir.path().join("heap.png"), dir.path().join("pauses.svg"));
    let o = log(
        &[
            out.as_os_str(),
            err.as_os_str(),
            "--plot".as_ref(),
            heap.as_os_str(),
            "--plot-pauses".as_ref(),
            pauses.as_os_str(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(png_size(&std::fs::read(&heap).unwrap()), (1280, 720));
    let svg = std::fs::read_to_string(&pauses).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("mark-compact: 528") && svg.contains("scavenge: 52"), "{svg:.200}");
    let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["heap.png", "pauses.svg"], "no temporary file is left");
}

#[test]
fn plot_paths_are_checked_before_the_log_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // The log does not exist: a bad output path is found first, and is a usage error (2), not an I/O error (1).
    let missing = dir.path().join("no-such.log");
    std::fs::create_dir(dir.path().join("d.png")).unwrap();
    for (flag, path, message) in [
        ("--plot", dir.path().join("heap.jpg"), "`.jpg` is not an image format gc-sim writes (supported: .png, .svg)"),
        ("--plot-pauses", dir.path().join("p"), "no extension to choose the image format"),
        ("--plot", dir.path().join("no-dir/heap.png"), "does not exist"),
        ("--plot", dir.path().join("d.png"), "is a directory"),
    ] {
        let o = log(&[missing.as_os_str(), flag.as_ref(), path.as_os_str()], None);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag} {}: {stderr}", path.display());
        assert!(stderr.contains(flag) && stderr.contains(message), "{stderr}");
    }
    let same = dir.path().join("a.png");
    let o = log(
        &[missing.as_os_str(), "--plot".as_ref(), same.as_os_str(), "--plot-pauses".as_ref(), same.as_os_str()],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the same file as --plot"));
    // Nor may an output replace the log it is made from.
    let (out, _) = oom_files();
    let copy = dir.path().join("gc.svg");
    std::fs::copy(&out, &copy).unwrap();
    let o = log(&[copy.as_os_str(), "--plot".as_ref(), copy.as_os_str()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a log being read"));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&out).unwrap(), "the log is untouched");
}

#[test]
fn plot_of_a_log_with_no_collection_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let heap = dir.path().join("heap.png");
    let o = log(&["-".as_ref(), "--plot".as_ref(), heap.as_os_str()], Some(b"hello from the program\n"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot draw"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!heap.exists());
}

/// `gc-sim plot` on a log's report said `an invalid gc-sim report version 1: invalid type: null` (a log report has
/// the simulation's format and version, not its fields); it now reads it and draws what `gc-sim log --plot`,
/// `--plot-pauses` and `gc-sim run --compare-log --plot` draw, byte for byte, from the saved reports.
#[test]
fn plot_draws_a_log_report_alone_and_beside_a_simulation() {
    let (out, _) = oom_files();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let o = log(
        &[
            out.as_os_str(),
            "--report".as_ref(),
            path("log.json").as_os_str(),
            "--plot".as_ref(),
            path("heap.png").as_os_str(),
            "--plot-pauses".as_ref(),
            path("pauses.png").as_os_str(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let trace = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/leak.json");
    let o = Command::new(BIN)
        .args(["run", trace, "--quiet", "--compare-log"])
        .arg(&out)
        .arg("--report")
        .arg(path("sim.json"))
        .arg("--plot")
        .arg(path("both.png"))
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0)), "{}", text(&o));
    let plot = |reports: &[&str], chart: Option<&str>, to: &str| {
        let mut command = Command::new(BIN);
        command.arg("plot").args(reports.iter().map(|r| path(r))).arg("-o").arg(path(to));
        if let Some(chart) = chart {
            command.args(["--chart", chart]);
        }
        let o = command.output().unwrap();
        assert!(o.status.success(), "{reports:?} {chart:?}: {}", text(&o));
        std::fs::read(path(to)).unwrap()
    };
    let read = |name: &str| std::fs::read(path(name)).unwrap();
    assert_eq!(plot(&["log.json"], None, "a.png"), read("heap.png"));
    assert_eq!(plot(&["log.json"], Some("pauses"), "b.png"), read("pauses.png"));
    assert_eq!(plot(&["sim.json", "log.json"], None, "c.png"), read("both.png"));
    assert_eq!(plot(&["log.json", "sim.json"], Some("heap"), "d.png"), read("both.png"));
    // What a log cannot give is refused, naming why.
    for (reports, chart, expected) in [
        (&["log.json", "log.json"][..], None, "at most one report of a Node GC log"),
        (&["log.json"][..], Some("heapmap"), "no heap maps"),
        (&["sim.json", "log.json"][..], Some("pauses"), "takes no simulation reports"),
    ] {
        let mut command = Command::new(BIN);
        command.arg("plot").args(reports.iter().map(|r| path(r))).arg("-o").arg(path("x.png"));
        if let Some(chart) = chart {
            command.args(["--chart", chart]);
        }
        let o = command.output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{reports:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(expected), "{}", text(&o));
        assert!(!path("x.png").exists());
    }
}
