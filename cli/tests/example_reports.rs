//! The outputs of every example trace, byte for byte: `gc-sim run TRACE --trace-gc --why ... --report R.json` must
//! print exactly `examples/traces/expected/NAME.out` and write exactly `NAME.report.json`. A refactoring that
//! changes a single byte of a summary, a `--trace-gc` line or a report fails here.
//!
//! After a change that is meant to alter the output, regenerate the files with
//! `GC_SIM_BLESS=1 cargo test -p gc-sim-cli --test example_reports` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

/// Each example trace, with the `--why` question its story asks.
const EXAMPLES: &[(&str, Option<&str>)] = &[
    ("fixed.ndjson", None),
    ("fragmentation.json", None),
    ("leak.json", Some("tag:conn-3")),
    ("oom.json", None),
    ("ticker-fixed.ndjson", None),
    ("ticker-leaky.ndjson", Some("kind:Socket")),
    ("write-barrier.json", None),
    ("young-generation.json", Some("kind:Session")),
];

fn traces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/traces")
}

#[test]
fn every_example_trace_gives_the_committed_outputs() {
    let dir = std::env::temp_dir().join(format!("gc-sim-example-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let expected_dir = traces().join("expected");
    let bless = std::env::var_os("GC_SIM_BLESS").is_some();
    let mut differences = Vec::new();
    // Every trace in the folder has a row above, so that a new example cannot go unchecked.
    let mut listed: Vec<String> = std::fs::read_dir(traces())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") || n.ends_with(".ndjson"))
        .collect();
    listed.sort();
    let names: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
    assert_eq!(listed, names, "examples/traces/ and this test's list differ");

    for (name, why) in EXAMPLES {
        let stem = name.rsplit_once('.').unwrap().0;
        let report = dir.join(format!("{stem}.report.json"));
        let mut command = Command::new(BIN);
        // Run from the traces' folder with the bare file name, so that the summary's path is the same on every machine.
        command.current_dir(traces()).arg("run").arg(name).arg("--trace-gc").arg("--report").arg(&report);
        if let Some(why) = why {
            command.args(["--why", why]);
        }
        let output = command.output().unwrap();
        assert!(matches!(output.status.code(), Some(0 | 3)), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let stdout = output.stdout;
        let report = std::fs::read(&report).unwrap();
        for (file, actual) in [(format!("{stem}.out"), stdout), (format!("{stem}.report.json"), report)] {
            let path = expected_dir.join(&file);
            if bless {
                std::fs::create_dir_all(&expected_dir).unwrap();
                std::fs::write(&path, &actual).unwrap();
                continue;
            }
            let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if expected != actual {
                let at =
                    expected.iter().zip(&actual).position(|(a, b)| a != b).unwrap_or(expected.len().min(actual.len()));
                let line = expected[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                differences.push(format!("{file}: differs from line {line} (byte {at})"));
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(differences.is_empty(), "outputs changed (GC_SIM_BLESS=1 regenerates them):\n{}", differences.join("\n"));
}

/// The example traces compressed with gzip and with zstd (named `.ndjson.gz`, `.json.zst`, ...) replay to the same
/// report, byte for byte, as the plain ones: they are decompressed as they are read.
#[test]
fn compressed_example_traces_give_the_same_reports() {
    let dir = std::env::temp_dir().join(format!("gc-sim-compressed-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let expected_dir = traces().join("expected");
    for (name, why) in EXAMPLES {
        let stem = name.rsplit_once('.').unwrap().0;
        let text = std::fs::read(traces().join(name)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &text).unwrap();
        let gz = gz.finish().unwrap();
        let zst = ruzstd::encoding::compress_to_vec(&text[..], ruzstd::encoding::CompressionLevel::Fastest);
        for (suffix, bytes) in [("gz", gz), ("zst", zst)] {
            let compressed = dir.join(format!("{name}.{suffix}"));
            std::fs::write(&compressed, &bytes).unwrap();
            let report = dir.join(format!("{stem}.{suffix}.report.json"));
            let mut command = Command::new(BIN);
            command.arg("run").arg(&compressed).arg("-q").arg("--report").arg(&report);
            if let Some(why) = why {
                command.args(["--why", why]);
            }
            let output = command.output().unwrap();
            assert!(
                matches!(output.status.code(), Some(0 | 3)),
                "{name}.{suffix}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let expected = std::fs::read(expected_dir.join(format!("{stem}.report.json"))).unwrap();
            assert!(
                std::fs::read(&report).unwrap() == expected,
                "{name}.{suffix}: the report differs from the plain trace's"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
