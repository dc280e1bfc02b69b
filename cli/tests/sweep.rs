//! `gc-sim sweep`: its table equals the single runs' reports, its `--plan` lines run and `--merge` gives the same
//! table, a cell that dies is a result, bad flags and bad traces fail once with a clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

fn traces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/traces")
}

fn gc_sim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN).current_dir(dir).args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The trace of the tests: a list that grows under a 1 MiB old generation and a 256 KiB semi-space, and dies there.
const TRACE: &str = "oom.json";
/// The 3 x 3 grid of the tests: three old generations, three semi-spaces.
const GRID: [&str; 4] = ["--max-old-space-size", "1,2,4", "--heap", "max_semi_space_size=262144,524288,1048576"];

/// The flags of cell `index` of [`GRID`], as `gc-sim run` takes them.
fn cell_flags(index: usize) -> Vec<String> {
    let old = ["1", "2", "4"][index / 3];
    let semi = ["262144", "524288", "1048576"][index % 3];
    vec!["--max-old-space-size".into(), old.into(), "--heap".into(), format!("max_semi_space_size={semi}")]
}

/// What a row must hold, from a report of `gc-sim run --report`.
fn expected_row(report: &Value) -> Vec<(&'static str, Value)> {
    let s = &report["summary"];
    let peak = report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sample| {
            let spaces = sample["spaces"].as_object().unwrap();
            spaces.values().map(|space| space["used_bytes"].as_u64().unwrap()).sum::<u64>()
        })
        .max()
        .unwrap();
    let death = match &s["oom"] {
        Value::Null => Value::Null,
        oom => serde_json::json!({
            "at_ms": oom["at_ms"],
            "location": match oom["location"].as_str().unwrap() {
                "reached_heap_limit" => "Reached heap limit",
                "ineffective_mark_compacts" => "Ineffective mark-compacts near heap limit",
                other => panic!("unexpected location {other}"),
            },
            "message": oom["message"],
        }),
    };
    vec![
        ("scavenges", s["scavenges"].clone()),
        ("mark_compacts", s["mark_compacts"].clone()),
        ("pause_ms", s["pause_ms"].clone()),
        ("max_pause_ms", s["max_pause_ms"].clone()),
        ("promoted_bytes", s["promoted_bytes"].clone()),
        ("peak_used_bytes", Value::from(peak)),
        ("end_ms", s["end_ms"].clone()),
        ("death", death),
    ]
}

#[test]
fn the_sweep_table_is_the_single_runs_reports() {
    let dir = tempfile::tempdir().unwrap();
    let sweep_json = dir.path().join("sweep.json");
    let csv = dir.path().join("sweep.csv");
    let plot = dir.path().join("sweep.png");
    let mut args = vec!["sweep", TRACE];
    args.extend(GRID);
    let (report_arg, csv_arg, plot_arg) = (sweep_json.to_str().unwrap(), csv.to_str().unwrap(), plot.to_str().unwrap());
    args.extend(["--jobs", "2", "--report", report_arg, "--csv", csv_arg, "--plot", plot_arg]);
    let output = gc_sim(&traces(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = read_json(&sweep_json);
    assert_eq!(table["format"], "gc-sim-sweep");
    assert_eq!(table["settings"], serde_json::json!(["max_old_generation_size", "max_semi_space_size"]));
    let cells = table["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 9);
    let mut died = 0;
    for (index, row) in cells.iter().enumerate() {
        let single = dir.path().join(format!("single-{index}.json"));
        let mut run = vec!["run".to_owned(), TRACE.to_owned()];
        run.extend(cell_flags(index));
        run.extend(["--report".to_owned(), single.to_str().unwrap().to_owned(), "-q".to_owned()]);
        let output = gc_sim(&traces(), &run.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(matches!(output.status.code(), Some(0 | 3)), "{}", stderr(&output));
        let report = read_json(&single);
        assert_eq!(row["cell"], index);
        assert_eq!(row["trace"], report["name"]);
        for (field, value) in expected_row(&report) {
            assert_eq!(row[field], value, "cell {index}: {field}");
        }
        let config = &report["config"];
        assert_eq!(row["settings"]["max_old_generation_size"], config["max_old_generation_size"]);
        assert_eq!(row["settings"]["max_semi_space_size"], config["max_semi_space_size"]);
        died += usize::from(!row["death"].is_null());
    }
    // The trace's own configuration dies (examples/traces/expected/oom.out); larger heaps let it live.
    assert!(!cells[0]["death"].is_null() && died < 9, "{died} cells died");
    assert_eq!(cells[0]["label"], "old 1 MiB, semi 256 KiB");
    assert_eq!(cells[8]["label"], "old 4 MiB, semi 1 MiB");
    // The table on standard output, a line per cell.
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.lines().filter(|l| l.contains(" MiB, semi ")).count(), 9, "{stdout}");
    assert!(stdout.contains("died at") && stdout.contains("survived"), "{stdout}");
    // CSV: a header and a line per cell, the settings as columns.
    let csv = std::fs::read_to_string(&csv).unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("cell,trace,label,max_old_generation_size,max_semi_space_size,scavenges"));
    assert_eq!(lines.count(), 9);
    assert!(std::fs::read(&plot).unwrap().starts_with(b"\x89PNG"));
}

/// Deterministic whatever the number of jobs: the same bytes with 1 and with 3.
#[test]
fn the_outputs_do_not_depend_on_the_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for jobs in ["1", "3"] {
        let json = dir.path().join(format!("sweep-{jobs}.json"));
        let svg = dir.path().join(format!("sweep-{jobs}.svg"));
        let mut args = vec!["sweep", TRACE];
        args.extend(GRID);
        args.extend(["--jobs", jobs, "--report", json.to_str().unwrap(), "--plot", svg.to_str().unwrap()]);
        let output = gc_sim(&traces(), &args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        outputs.push((output.stdout, std::fs::read(json).unwrap(), std::fs::read(svg).unwrap()));
    }
    assert!(outputs[0] == outputs[1], "the outputs differ between 1 and 3 jobs");
}

#[test]
fn the_plan_lines_run_and_merge_gives_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let cells = dir.path().join("cells");
    std::fs::create_dir(&cells).unwrap();
    let mut args = vec!["sweep", TRACE];
    args.extend(GRID);
    args.extend(["--plan", cells.to_str().unwrap()]);
    let plan = gc_sim(&traces(), &args);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let plan = String::from_utf8(plan.stdout).unwrap();
    let lines: Vec<&str> = plan.lines().collect();
    assert_eq!(lines.len(), 9, "{plan}");
    assert!(lines[4].starts_with("gc-sim run oom.json --max-old-space-size 2 --heap 'max_semi_space_size=524288' "));
    assert!(lines[4].ends_with(" -q || [ $? -eq 3 ]"), "{}", lines[4]);
    // Each line as an array job's task runs it: a shell, gc-sim on the PATH.
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for line in &lines {
        let task = Command::new("sh").arg("-c").arg(line).current_dir(traces()).env("PATH", &path).output().unwrap();
        assert!(task.status.success(), "{line}: {}", stderr(&task));
    }
    let mut reports: Vec<PathBuf> = std::fs::read_dir(&cells).unwrap().map(|e| e.unwrap().path()).collect();
    reports.sort();
    assert_eq!(reports.len(), 9);

    let merged = dir.path().join("merged.json");
    let mut args = vec!["sweep".to_owned(), "--report".to_owned(), merged.to_str().unwrap().to_owned()];
    args.push("--merge".to_owned());
    args.extend(reports.iter().map(|p| p.to_str().unwrap().to_owned()));
    let output = gc_sim(&traces(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let swept = dir.path().join("swept.json");
    let mut args = vec!["sweep", TRACE];
    args.extend(GRID);
    args.extend(["--report", swept.to_str().unwrap()]);
    let output = gc_sim(&traces(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(std::fs::read(&merged).unwrap(), std::fs::read(&swept).unwrap(), "merge and sweep tables differ");
}

#[test]
fn an_invalid_trace_fails_the_sweep_once() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("bad.ndjson");
    let header = r#"{"format": "gc-sim-trace", "version": 1, "name": "bad"}"#;
    let mut text = format!("{header}\n");
    for id in 0..50 {
        text.push_str(&format!("{{\"op\": \"alloc\", \"id\": {id}, \"size\": 64}}\n"));
    }
    text.push_str("{\"op\": \"alloc\", \"id\": 1000, \"size\": \"big\"}\n");
    std::fs::write(&trace, text).unwrap();
    let output = gc_sim(dir.path(), &["sweep", "bad.ndjson", "--max-old-space-size", "16,32,64"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "one message, not one per cell: {err}");
    assert!(err.starts_with("gc-sim: bad.ndjson:52: event: `size`"), "{err}");
}

#[test]
fn bad_flags_are_usage_errors_before_any_cell_runs() {
    let dir = traces();
    let cases: &[(&[&str], &str)] = &[
        (&["sweep", TRACE], "nothing to sweep"),
        (&["sweep", TRACE, "--max-old-space-size", "16,0"], "--max-old-space-size 0: must be at least 1"),
        (&["sweep", TRACE, "--max-old-space-size", "16,16"], "the value 16 is given twice"),
        (&["sweep", TRACE, "--heap", "promotion_age"], "expected FIELD=V1,V2"),
        (&["sweep", TRACE, "--heap", "promotion_age=0,"], "an empty value"),
        (&["sweep", TRACE, "--heap", "no_such_field=1,2"], "no field `no_such_field`"),
        (&["sweep", TRACE, "--heap", "promotion_age=0", "--heap", "promotion_age=1"], "given twice"),
        (&["sweep", TRACE, "--max-old-space-size", "16,32", "--jobs", "0"], "--jobs 0"),
        (&["sweep", "-", "--max-old-space-size", "16,32"], "not standard input"),
        (&["sweep", TRACE, "--max-old-space-size", "16,32", "--report", TRACE], "is an input"),
        (&["sweep", TRACE, "--max-old-space-size", "16,32", "--plot", "x.gif"], "not an image format"),
        (
            &["sweep", TRACE, "--max-old-space-size", "1,2,3,4,5,6,7,8,9,10", "--heap", &GRID_OF_1001],
            "more than a sweep runs",
        ),
    ];
    for (args, expected) in cases {
        let output = gc_sim(&dir, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{args:?}: {}", stderr(&output));
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    assert!(!dir.join("x.gif").exists());
}

/// `--heap promotion_age=...` with 1,001 values: with 10 old-space sizes, a grid over the limit.
static GRID_OF_1001: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let values: Vec<String> = (0..1001).map(|v| v.to_string()).collect();
    format!("promotion_age={}", values.join(","))
});

#[test]
fn a_flag_the_trace_refuses_names_the_flag_once() {
    // oom.json's semi-space is 256 KiB at most: an initial semi-space of 1 MiB conflicts with it.
    let output = gc_sim(&traces(), &["sweep", "oom.json", "--min-semi-space-size", "1,2"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--min-semi-space-size 1 conflicts with the trace's heap configuration"), "{err}");
}

#[test]
fn merge_refuses_what_is_not_a_run_report() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = gc_sim(&traces(), &["sweep", "--merge", TRACE, missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("oom.json is a trace, not a report"), "{}", stderr(&output));
    let output = gc_sim(&traces(), &["sweep", "--merge", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("cannot open"), "{}", stderr(&output));
    let output = gc_sim(&traces(), &["sweep", TRACE, "--merge", "x.json"]);
    assert_eq!(output.status.code(), Some(2), "a trace and --merge: {}", stderr(&output));
}

/// An initial heap (`--initial-heap node20`) applies to every cell, as to the single run with the same flags.
#[test]
fn an_initial_heap_starts_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let sweep_json = dir.path().join("sweep.json");
    let args = ["sweep", "leak.json", "--max-old-space-size", "3,16", "--initial-heap", "node20"];
    let output = gc_sim(&traces(), &[&args[..], &["--report", sweep_json.to_str().unwrap()]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = read_json(&sweep_json);
    let cells = table["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    for (row, old) in cells.iter().zip(["3", "16"]) {
        let single = dir.path().join(format!("single-{old}.json"));
        let run = ["run", "leak.json", "--max-old-space-size", old, "--initial-heap", "node20", "-q", "--report"];
        let output = gc_sim(&traces(), &[&run[..], &[single.to_str().unwrap()]].concat());
        assert!(matches!(output.status.code(), Some(0 | 3)), "{}", stderr(&output));
        let report = read_json(&single);
        for (field, value) in expected_row(&report) {
            assert_eq!(row[field], value, "old {old} MiB: {field}");
        }
    }
    // Node's 2.9 MB startup heap does not fit 3 MiB beside the leak; 16 MiB holds both.
    assert!(!cells[0]["death"].is_null() && cells[1]["death"].is_null(), "{table:#}");
}
