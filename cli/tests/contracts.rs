//! The real `gc-sim` binary keeps its contracts when the user or the system makes a mistake: output paths are
//! checked before the replay, a failed write never destroys the previous file, an unknown image format is refused,
//! a closed standard output stops the replay, and heap-flag mistakes are usage errors that name the flag.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

/// 4 KiB pages and a 32 KiB semi-space, so that a few hundred events collect.
const HEADER: &str = r#"{"format": "gc-sim-trace", "version": 1, "name": "test", "heap": {"page": {"page_size": 4096, "area_start": 64, "area_size": 4032}, "min_semi_space_size": 8192, "max_semi_space_size": 32768, "large_object_threshold": 2048, "lab_size": 1024, "max_lab_object_size": 256}}"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn leak() -> String {
    root().join("examples/traces/leak.json").to_str().unwrap().to_owned()
}

fn gc_sim(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// `n` events of short-lived garbage in handle scopes, with a tick each: a scavenge every few dozen events.
fn garbage(out: &mut impl Write, first_id: u64, n: u64) -> std::io::Result<()> {
    for id in first_id..first_id + n / 4 {
        write!(out, "{{\"op\":\"enter\"}}\n{{\"op\":\"alloc\",\"id\":{id},\"size\":300}}\n{{\"op\":\"exit\"}}\n{{\"op\":\"tick\",\"ms\":1}}\n")?;
    }
    Ok(())
}

#[test]
fn a_typo_in_an_output_path_is_found_before_the_replay() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir/r.json");
    let image_in_missing = dir.path().join("no-such-dir/heap.png");
    let cases: [(&str, &Path, &str); 5] = [
        ("--report", &missing, "does not exist"),
        ("--plot", &image_in_missing, "does not exist"),
        ("--plot-pauses", &image_in_missing, "does not exist"),
        ("--plot-heap-map", &image_in_missing, "does not exist"),
        ("--report", dir.path(), "is a directory"),
    ];
    for (flag, path, problem) in cases {
        let out = gc_sim(&["run", &leak(), flag, path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{flag} {path:?}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("{flag} {}", path.display())) && stderr.contains(problem), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing is replayed: {}", text(&out.stdout));
    }
    // Before anything is read: a trace that never ends is not waited for.
    let mut child = Command::new(BIN)
        .args(["run", "-", "--report", missing.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// The report cannot be written at the end (here a file-size limit, as a full disk would): the previous report is
/// kept whole, no temporary file is left, the summary is still printed, and the exit code is 1.
#[cfg(unix)]
#[test]
fn a_failed_report_write_keeps_the_previous_report_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    std::fs::write(&report, "the previous report\n").unwrap();
    // `ulimit -f 8`: no file may grow past 8 KiB (the report is larger); SIGXFSZ ignored, so the write fails.
    let out = Command::new("bash")
        .args(["-c", r#"ulimit -f 8; trap "" XFSZ; exec "$0" "$@""#, BIN, "run", &leak()])
        .args(["--report", report.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("cannot write {} (--report)", report.display())), "{stderr}");
    assert!(text(&out.stdout).contains("SUSPECTED LEAKS"), "the summary is printed: {}", text(&out.stdout));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "the previous report\n");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, ["r.json"], "no temporary file is left");

    // Written, it replaces the previous report whole, with the permissions of a new file.
    let out = gc_sim(&["run", &leak(), "-q", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&report).unwrap().starts_with("{\n  \"format\": \"gc-sim-report\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_ne!(mode & 0o044, 0, "readable by others as a new file is under the usual umask: {mode:o}");
    }
}

#[test]
fn an_unsupported_image_format_is_refused_with_the_formats() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let out = gc_sim(&["run", &leak(), "-q", "--report", report.to_str().unwrap()]);
    assert!(out.status.success());
    for name in ["heap.jpg", "heap.pdf", "heap.gif", "heap", "HEAP.JPEG"] {
        let image = dir.path().join(name);
        let image = image.to_str().unwrap();
        for args in [
            vec!["run", &leak(), "-q", "--plot", image],
            vec!["run", &leak(), "-q", "--plot-pauses", image],
            vec!["run", &leak(), "-q", "--plot-heap-map", image],
            vec!["plot", report.to_str().unwrap(), "-o", image],
        ] {
            let out = gc_sim(&args);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(image) && stderr.contains("supported: .png, .svg"), "{stderr}");
            assert!(!Path::new(image).exists(), "{args:?} wrote {image}");
        }
    }
    for name in ["heap.PNG", "heap.Svg"] {
        let image = dir.path().join(name);
        let out = gc_sim(&["plot", report.to_str().unwrap(), "-o", image.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let bytes = std::fs::read(&image).unwrap();
        assert_eq!(bytes.starts_with(b"\x89PNG"), name.ends_with("PNG"), "{name}");
    }
}

/// `gc-sim run ... --trace-gc | head -1`: once standard output is closed, the replay stops (it does not read the
/// rest of the trace) and gc-sim exits quietly with 0, as ripgrep does.
#[test]
fn a_closed_standard_output_stops_the_replay() {
    const EVENTS: u64 = 20_000_000;
    let mut child = Command::new(BIN)
        .args(["run", "-", "--trace-gc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
    let writer = std::thread::spawn(move || -> u64 {
        let mut written = 0;
        let result = writeln!(stdin, "{HEADER}").and_then(|()| {
            while written < EVENTS {
                garbage(&mut stdin, written, 4000)?;
                written += 4000;
            }
            stdin.flush()
        });
        if result.is_ok() {
            written
        } else {
            written.min(EVENTS - 1)
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("Scavenge"), "{first}");
    drop(stdout); // `head -1` exits
    let started = Instant::now();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    let written = writer.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "", "no message for a closed pipe");
    assert!(written < EVENTS, "gc-sim read the whole trace after its output was closed");
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// The simulated program ran out of memory, and standard output is closed: exit 3 and V8's FATAL text on
/// standard error all the same.
#[test]
fn out_of_memory_is_reported_when_standard_output_is_closed() {
    let oom = root().join("examples/traces/oom.json");
    for args in [&["--trace-gc"][..], &[]] {
        let mut child = Command::new(BIN)
            .arg("run")
            .arg(&oom)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // closed before gc-sim writes anything
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"));
        assert!(stderr.contains("<--- Last few GCs --->"), "{stderr}");
    }
}

/// A report written to a pipe whose reader goes away (`--report /dev/stdout | head -c 10`) is a reader that has
/// seen enough, as for standard output: exit 0, no message.
#[cfg(target_os = "linux")]
#[test]
fn a_report_to_a_closed_pipe_is_not_an_error() {
    let mut child = Command::new(BIN)
        .args(["run", &leak(), "--quiet", "--report", "/dev/stdout"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // closed before gc-sim writes the report
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

/// A standard output that fails for another reason than a closed pipe (a full disk) is an I/O error: exit 1.
#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_is_an_error() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = Command::new(BIN).args(["run", &leak(), "--trace-gc"]).stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot write to standard output: No space left on device"));
}

#[test]
fn heap_flag_mistakes_are_usage_errors_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--max-semi-space-size", "0"], "--max-semi-space-size 0: must be at least 1 (MiB)"),
        (&["--min-semi-space-size", "0"], "--min-semi-space-size 0: must be at least 1 (MiB)"),
        (&["--max-old-space-size", "0"], "--max-old-space-size 0: must be at least 1 (MiB)"),
        (&["--semi-space-growth-factor", "0"], "--semi-space-growth-factor 0: must be at least 2, as in V8"),
        (&["--semi-space-growth-factor", "1"], "--semi-space-growth-factor 1: must be at least 2, as in V8"),
        (
            &["--min-semi-space-size", "8", "--max-semi-space-size", "4"],
            "--min-semi-space-size 8 exceeds --max-semi-space-size 4",
        ),
        (&["--max-old-space-size", "99999999999999"], "--max-old-space-size 99999999999999 is too large"),
        (&["--heap", "lab_size=0"], "--heap lab_size=0 conflicts with the trace's heap configuration"),
        (&["--heap", "lab_size=1024", "--heap", "promotion_age=-1"], "--heap promotion_age=-1: invalid value"),
    ];
    for (flags, message) in cases {
        let mut args = vec!["run", "no-such-trace.json"];
        args.extend_from_slice(flags);
        if message.contains("conflicts") {
            args[1] = "-";
        }
        let out = if args[1] == "-" {
            let mut child = Command::new(BIN)
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            writeln!(child.stdin.take().unwrap(), r#"{{"format": "gc-sim-trace", "version": 1}}"#).unwrap();
            child.wait_with_output().unwrap()
        } else {
            gc_sim(&args)
        };
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(message), "{flags:?}: {stderr:?} lacks {message:?}");
        assert!(!stderr.contains("no-such-trace"), "the trace is not blamed: {stderr}");
    }
}

/// A flag valid on its own that the trace's own `heap` makes invalid: a usage error (exit 2) that names the flag
/// and says that the rest comes from the trace's header; not an invalid trace (exit 1).
#[test]
fn a_flag_that_conflicts_with_the_traces_header_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.ndjson");
    let mut bytes = format!("{HEADER}\n").into_bytes();
    garbage(&mut bytes, 0, 40).unwrap();
    std::fs::write(&trace, &bytes).unwrap();
    // The trace's semi-space is at most 32 KiB; 1 MiB initial is fine with the defaults, not with it.
    let out = gc_sim(&["run", trace.to_str().unwrap(), "--min-semi-space-size", "1"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "--min-semi-space-size 1 conflicts with the trace's heap configuration (its header's `heap`, or the \
             defaults): min_semi_space_size 1048576 exceeds max_semi_space_size 32768"
        ),
        "{stderr}"
    );
    // With its maximum raised too, it runs.
    let out =
        gc_sim(&["run", trace.to_str().unwrap(), "-q", "--min-semi-space-size", "1", "--max-semi-space-size", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The README's `--heap page.page_size=4096` example works as written (the page geometry follows the page size).
#[test]
fn the_readmes_heap_example_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let example =
        readme.split('`').find(|code| code.starts_with("--heap page.page_size=")).expect("the README's --heap example");
    let mut args = vec!["run".to_owned(), leak(), "-q".to_owned()];
    args.extend(example.split_whitespace().map(str::to_owned));
    let report = tempfile::tempdir().unwrap();
    let report = report.path().join("r.json");
    args.extend(["--report".to_owned(), report.to_str().unwrap().to_owned()]);
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["config"]["page"]["page_size"], 4096);
    assert_eq!(report["config"]["page"]["area_size"], 4024);
}

/// An output that names the trace would replace it after the replay (the rename is atomic, the trace is gone), and
/// two outputs on one file lose the first: both refused before the replay.
#[test]
fn an_output_never_replaces_the_trace_or_another_output() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.json");
    std::fs::copy(leak(), &trace).unwrap();
    let original = std::fs::read(&trace).unwrap();
    let same_via_dots = dir.path().join("sub/../t.json");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let out = gc_sim(&["run", trace.to_str().unwrap(), "--report", same_via_dots.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is the trace being replayed"), "{stderr}");
    assert_eq!(std::fs::read(&trace).unwrap(), original, "the trace is intact");

    let png = dir.path().join("a.png");
    let out = gc_sim(&[
        "run",
        trace.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
        "--plot-pauses",
        png.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("--plot-pauses {}: is the same file as --plot", png.display())), "{stderr}");
}
