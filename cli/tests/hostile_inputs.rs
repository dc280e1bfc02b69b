//! The hostile-input corpus: malformed and absurd traces, reports and flags, each run through the real `gc-sim`
//! binary with its exit code, the first line it prints on standard error, its peak memory and its time checked.
//!
//! Every case is built here, in code, so that the corpus needs no files of its own: types, ranges, sizes,
//! encodings, page geometry, flags and output paths. A case states what a user must be told (a piece of the first
//! error line: the file, the place and the problem), not the whole message, so that wording can improve without
//! rewriting the corpus but a case cannot pass with a vague or misplaced message.
//!
//! Rules checked for every case:
//! - the exit code is the documented one (0 success, 1 invalid input or I/O error, 2 usage error, 3 simulated
//!   out-of-memory) and never a panic (101) or a signal;
//! - a failing case prints its error first, on the first line of standard error, starting with `gc-sim:` (ours) or
//!   `error:` (clap's usage errors); a succeeding case prints nothing on standard error unless the case says what;
//! - peak memory (the child's maximum resident set, from `wait4`) stays under the case's bound, 32 MiB unless the
//!   case says otherwise: no small input costs gigabytes;
//! - it finishes within the case's time bound (the process is killed past it): no small input costs minutes.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

/// A header with 4 KiB pages and a 32 KiB semi-space, so that a few hundred events collect.
const SMALL_HEAP: &str = r#"{"page": {"page_size": 4096, "area_start": 64, "area_size": 4032}, "min_semi_space_size": 8192, "max_semi_space_size": 32768, "large_object_threshold": 2048, "lab_size": 1024, "max_lab_object_size": 256}"#;

/// Peak memory allowed unless a case says otherwise.
const DEFAULT_RSS_MIB: u64 = 32;
/// Time allowed unless a case says otherwise (a debug build, on a loaded 2-core machine).
const DEFAULT_SECONDS: u64 = 20;

/// A file of a case.
enum Input {
    /// Small: its bytes.
    Bytes(Vec<u8>),
    /// Large: written when the case runs, through a small buffer. The test process must stay small, as the peak
    /// memory `wait4` reports for a child includes the memory of the process it was started from.
    Written(Box<WriteFn>),
}

/// Writes a large input.
type WriteFn = dyn Fn(&mut dyn Write) -> io::Result<()>;

impl Input {
    fn write_to(&self, path: &Path) {
        match self {
            Input::Bytes(bytes) => std::fs::write(path, bytes).unwrap(),
            Input::Written(write) => {
                let mut out = io::BufWriter::new(File::create(path).unwrap());
                write(&mut out).and_then(|()| out.flush()).unwrap();
            }
        }
    }
}

/// How a case's input is made.
struct Case {
    name: String,
    /// Files written into the case's directory before it runs.
    files: Vec<(String, Input)>,
    /// Arguments; `{dir}` stands for the case's directory.
    args: Vec<String>,
    /// Bytes on standard input (empty otherwise).
    stdin: Vec<u8>,
    /// The expected exit code.
    exit: i32,
    /// Pieces that must all appear in the first line of standard error; empty means standard error is empty.
    first_line: Vec<String>,
    /// Peak resident memory bound.
    max_rss_mib: u64,
    /// Time bound.
    max_seconds: u64,
    /// Files that must not exist after the run (relative to the case's directory).
    absent_after: Vec<String>,
    /// The first line of a failure may be any text (clap's help), not only `gc-sim:` or `error:`.
    any_first_line: bool,
}

impl Case {
    fn new(name: impl Into<String>) -> Case {
        Case {
            name: name.into(),
            files: Vec::new(),
            args: Vec::new(),
            stdin: Vec::new(),
            exit: 0,
            first_line: Vec::new(),
            max_rss_mib: DEFAULT_RSS_MIB,
            max_seconds: DEFAULT_SECONDS,
            absent_after: Vec::new(),
            any_first_line: false,
        }
    }

    fn file(mut self, name: &str, bytes: impl Into<Vec<u8>>) -> Case {
        self.files.push((name.to_owned(), Input::Bytes(bytes.into())));
        self
    }

    /// A large NDJSON trace written line by line when the case runs: the header, then `line(i, out)` for each
    /// `i` in `0..count`.
    fn lines(
        mut self,
        name: &str,
        header: &str,
        count: u64,
        line: impl Fn(u64, &mut dyn Write) -> io::Result<()> + 'static,
    ) -> Case {
        let header = header.to_owned();
        let write = move |out: &mut dyn Write| -> io::Result<()> {
            writeln!(out, "{header}")?;
            (0..count).try_for_each(|i| line(i, out))
        };
        self.files.push((name.to_owned(), Input::Written(Box::new(write))));
        self
    }

    fn args(mut self, args: &[&str]) -> Case {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Case {
        self.stdin = bytes.into();
        self
    }

    /// Expects failure with `exit`, and a first error line holding every piece.
    fn fails(mut self, exit: i32, pieces: &[&str]) -> Case {
        self.exit = exit;
        self.first_line = pieces.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    fn succeeds(mut self) -> Case {
        self.exit = 0;
        self.first_line.clear();
        self
    }

    fn rss(mut self, mib: u64) -> Case {
        self.max_rss_mib = mib;
        self
    }

    fn seconds(mut self, seconds: u64) -> Case {
        self.max_seconds = seconds;
        self
    }

    fn any_first_line(mut self) -> Case {
        self.any_first_line = true;
        self
    }

    fn absent(mut self, name: &str) -> Case {
        self.absent_after.push(name.to_owned());
        self
    }

    /// A `gc-sim run` of one NDJSON trace `t.ndjson` (header line, then events).
    fn ndjson(name: &str, header: &str, events: &[&str]) -> Case {
        Case::new(name).file("t.ndjson", ndjson(header, events)).args(&["run", "{dir}/t.ndjson"])
    }

    /// A `gc-sim run` of one JSON trace `t.json`.
    fn json(name: &str, text: &str) -> Case {
        Case::new(name).file("t.json", text).args(&["run", "{dir}/t.json"])
    }

    /// A small valid NDJSON trace run with extra arguments.
    fn flags(name: &str, args: &[&str]) -> Case {
        Case::ndjson(name, &header(SMALL_HEAP), &valid_events()).args(args)
    }
}

/// A trace header with the given `heap` object.
fn header(heap: &str) -> String {
    format!(r#"{{"format": "gc-sim-trace", "version": 1, "name": "corpus", "heap": {heap}}}"#)
}

fn ndjson(header: &str, events: &[&str]) -> String {
    let mut text = format!("{header}\n");
    for e in events {
        text.push_str(e);
        text.push('\n');
    }
    text
}

/// A few valid events: a rooted object, garbage, a collection.
fn valid_events() -> Vec<&'static str> {
    vec![
        r#"{"op": "alloc", "id": 1, "size": 64, "slots": 2, "kind": "Socket", "tag": "conn-1", "root": "timers"}"#,
        r#"{"op": "enter"}"#,
        r#"{"op": "alloc", "id": 2, "size": 300}"#,
        r#"{"op": "write", "obj": 1, "slot": 0, "to": 2}"#,
        r#"{"op": "exit"}"#,
        r#"{"op": "tick", "ms": 5}"#,
        r#"{"op": "gc", "kind": "major"}"#,
    ]
}

/// One valid alloc preceded by `event` (the event under test comes after a live object 1 with 2 slots).
fn after_one(event: &str) -> Vec<String> {
    vec![r#"{"op": "alloc", "id": 1, "size": 64, "slots": 2, "root": "g"}"#.to_owned(), event.to_owned()]
}

fn event_case(name: &str, event: &str, exit: i32, pieces: &[&str]) -> Case {
    let events = after_one(event);
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let case = Case::ndjson(name, &header(SMALL_HEAP), &refs);
    if exit == 0 {
        case.succeeds()
    } else {
        case.fails(exit, pieces)
    }
}

fn heap_case(name: &str, heap: &str, pieces: &[&str]) -> Case {
    Case::ndjson(name, &header(heap), &valid_events()).fails(1, pieces)
}

/// A report as `gc-sim run --report` writes it, made by running the binary once.
fn real_report(dir: &Path) -> Vec<u8> {
    let trace = dir.join("seed.ndjson");
    std::fs::write(&trace, ndjson(&header(SMALL_HEAP), &valid_events())).unwrap();
    let report = dir.join("seed-report.json");
    let status = Command::new(BIN)
        .args(["run", "--quiet", "--report"])
        .arg(&report)
        .arg(&trace)
        .status()
        .expect("the binary runs");
    assert!(status.success());
    std::fs::read(report).unwrap()
}

fn cases(report: &[u8]) -> Vec<Case> {
    let small = header(SMALL_HEAP);
    let mut cases = Vec::new();

    // --- The document as a whole: emptiness, wrong JSON types, truncation, encodings.
    cases.push(Case::json("empty file", "").fails(1, &["t.json", "EOF"]));
    cases.push(Case::ndjson("empty ndjson", "", &[]).fails(1, &["t.ndjson"]));
    cases.push(Case::json("only whitespace", "  \n\n \t\n").fails(1, &["t.json"]));
    cases.push(Case::json("json null", "null").fails(1, &["t.json", "null"]));
    cases.push(Case::json("json array", "[]").fails(1, &["t.json", "sequence"]));
    cases.push(Case::json("json number", "42").fails(1, &["t.json", "integer"]));
    cases.push(Case::json("json string", "\"trace\"").fails(1, &["t.json", "string"]));
    cases.push(Case::json("empty object", "{}").fails(1, &["t.json", "format"]));
    cases.push(Case::json("truncated header", r#"{"format": "gc-sim-trace", "vers"#).fails(1, &["t.json:1:", "EOF"]));
    cases.push(
        Case::json(
            "truncated in events",
            &format!("{}, \"events\": [{{\"op\": \"alloc\", \"id\": 1", &small[..small.len() - 1]),
        )
        .fails(1, &["t.json:1:", "EOF"]),
    );
    cases.push(
        Case::json("trailing garbage after the document", &format!("{}\n}}}}", &small))
            .fails(1, &["t.json:2:", "trailing"]),
    );
    cases.push(Case::json("a comment", &format!("// my trace\n{small}")).fails(1, &["t.json:1:1"]));
    cases.push(
        Case::ndjson("truncated ndjson line", &small, &[r#"{"op": "alloc", "id": 1, "si"#])
            .fails(1, &["t.ndjson:2:", "EOF"]),
    );
    cases.push(
        Case::ndjson("ndjson with a json array line", &small, &["[1, 2, 3]"]).fails(1, &["t.ndjson:2", "sequence"]),
    );
    cases.push(Case::ndjson("ndjson event as a number", &small, &["7"]).fails(1, &["t.ndjson:2"]));
    cases.push(Case::ndjson("ndjson event as null", &small, &["null"]).fails(1, &["t.ndjson:2"]));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(ndjson(&small, &valid_events()).as_bytes());
    cases.push(
        Case::new("a utf-8 byte order mark is skipped")
            .file("t.ndjson", bom)
            .args(&["run", "--quiet", "{dir}/t.ndjson"])
            .succeeds(),
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(ndjson(&small, &valid_events()).encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    cases.push(
        Case::new("utf-16 trace")
            .file("t.ndjson", utf16)
            .args(&["run", "{dir}/t.ndjson"])
            .fails(1, &["t.ndjson:1", "UTF-16"]),
    );
    let mut bad_utf8 = ndjson(&small, &[]).into_bytes();
    bad_utf8.extend_from_slice(b"{\"op\": \"mark\", \"label\": \"caf\xE9\"}\n");
    cases.push(
        Case::new("invalid utf-8 in a label")
            .file("t.ndjson", bad_utf8)
            .args(&["run", "{dir}/t.ndjson"])
            .fails(1, &["t.ndjson:2", "UTF-8"]),
    );
    let mut nul = ndjson(&small, &[]).into_bytes();
    nul.extend_from_slice(b"\0\0\0\0\n");
    cases.push(Case::new("nul bytes").file("t.ndjson", nul).args(&["run", "{dir}/t.ndjson"]).fails(1, &["t.ndjson:2"]));
    let gzip = [
        0x1f_u8, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ];
    cases.push(
        // Recognised as gzip by its bytes whatever the name, and decompressed: it holds an empty text.
        Case::new("an empty gzip stream under a json name")
            .file("t.json", gzip.to_vec())
            .args(&["run", "{dir}/t.json"])
            .fails(1, &["t.json:1", "EOF"]),
    );
    cases.push(
        Case::new("corrupt zstd bytes from standard input")
            .args(&["run", "-"])
            .stdin(vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x01, 0x00])
            .fails(1, &["<stdin>:1", "zstd"]),
    );
    cases.push(
        Case::new("random binary")
            .file("t.bin", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<u8>>())
            .args(&["run", "{dir}/t.bin"])
            .fails(1, &["t.bin"]),
    );
    cases.push(Case::json("arrays nested 100,000 deep", &"[".repeat(100_000)).fails(1, &["t.json:1:1", "sequence"]));
    cases.push(
        Case::ndjson(
            "objects nested 100,000 deep in an event",
            &small,
            &[&format!("{{\"op\": \"mark\", \"label\": {}", "{\"a\":".repeat(100_000))],
        )
        .fails(1, &["t.ndjson:2"]),
    );
    cases.push(
        Case::ndjson(
            "a number of 10,000 digits",
            &small,
            &[&format!(r#"{{"op": "tick", "ms": {}}}"#, "9".repeat(10_000))],
        )
        .fails(1, &["t.ndjson:2"]),
    );
    let mut crlf = ndjson(&small, &valid_events()).replace('\n', "\r\n");
    crlf.push_str("\r\n\r\n");
    cases.push(
        Case::new("crlf line endings and blank lines")
            .file("t.ndjson", crlf)
            .args(&["run", "--quiet", "{dir}/t.ndjson"])
            .succeeds(),
    );

    // --- The header.
    let header_with = |fields: &str| format!("{{{fields}}}");
    cases
        .push(Case::ndjson("format missing", &header_with(r#""version": 1"#), &[]).fails(1, &["t.ndjson:1", "format"]));
    cases.push(
        Case::ndjson("format wrong", &header_with(r#""format": "chrome-trace", "version": 1"#), &[])
            .fails(1, &["t.ndjson:1", "gc-sim-trace"]),
    );
    cases.push(
        Case::ndjson("format a number", &header_with(r#""format": 1, "version": 1"#), &[])
            .fails(1, &["t.ndjson:1", "format"]),
    );
    cases.push(
        Case::ndjson("version missing", &header_with(r#""format": "gc-sim-trace""#), &[])
            .fails(1, &["t.ndjson:1", "version"]),
    );
    cases.push(
        Case::ndjson("version 2", &header_with(r#""format": "gc-sim-trace", "version": 2"#), &[])
            .fails(1, &["t.ndjson:1", "version 2"]),
    );
    cases.push(
        Case::ndjson("version a string", &header_with(r#""format": "gc-sim-trace", "version": "1""#), &[])
            .fails(1, &["t.ndjson:1", "version"]),
    );
    cases.push(
        Case::ndjson("version negative", &header_with(r#""format": "gc-sim-trace", "version": -1"#), &[])
            .fails(1, &["t.ndjson:1", "version"]),
    );
    cases.push(
        Case::ndjson("version fractional", &header_with(r#""format": "gc-sim-trace", "version": 1.5"#), &[])
            .fails(1, &["t.ndjson:1", "version"]),
    );
    cases.push(
        Case::ndjson("name a number", &header_with(r#""format": "gc-sim-trace", "version": 1, "name": 3"#), &[])
            .fails(1, &["t.ndjson:1", "name"]),
    );
    cases.push(
        Case::ndjson(
            "unknown header field",
            &header_with(r#""format": "gc-sim-trace", "version": 1, "colour": "red""#),
            &[],
        )
        .fails(1, &["t.ndjson:1", "colour"]),
    );
    cases.push(
        Case::ndjson(
            "repeated header field in ndjson",
            &header_with(r#""format": "gc-sim-trace", "version": 1, "heap": {}, "heap": {}"#),
            &[],
        )
        .fails(1, &["t.ndjson:1", "duplicate", "heap"]),
    );
    cases.push(Case::json("repeated header field in json", r#"{"format": "gc-sim-trace", "version": 1, "heap": {"max_old_generation_size": 1048576}, "heap": {}, "events": []}"#).fails(1, &["t.json:1:", "duplicate", "heap"]));
    cases.push(
        Case::json(
            "header field after events",
            r#"{"format": "gc-sim-trace", "version": 1, "events": [], "name": "late"}"#,
        )
        .fails(1, &["t.json", "name"]),
    );
    cases.push(
        Case::json("events not an array", r#"{"format": "gc-sim-trace", "version": 1, "events": {}}"#)
            .fails(1, &["t.json:1:", "events"]),
    );
    cases.push(
        Case::json("events of numbers", r#"{"format": "gc-sim-trace", "version": 1, "events": [1, 2]}"#)
            .fails(1, &["t.json:1:", "events[0]"]),
    );
    cases.push(
        Case::json(
            "one-line json with empty events",
            &format!("{}\n", r#"{"format": "gc-sim-trace", "version": 1, "events": []}"#),
        )
        .succeeds(),
    );
    cases.push(
        Case::ndjson("heap not an object", &header("[]"), &[])
            .fails(1, &["t.ndjson:1", "`heap`", "expected an object"]),
    );
    cases.push(
        Case::ndjson("heap unknown field", &header(r#"{"max_young": 1}"#), &[]).fails(1, &["t.ndjson:1", "max_young"]),
    );

    // --- Heap configuration: ranges, geometry, the cost model.
    cases.push(heap_case("max semi-space 0", r#"{"max_semi_space_size": 0}"#, &["t.ndjson", "max_semi_space_size"]));
    cases.push(heap_case(
        "max semi-space negative",
        r#"{"max_semi_space_size": -1}"#,
        &["t.ndjson:1", "max_semi_space_size"],
    ));
    cases.push(heap_case(
        "max semi-space a string",
        r#"{"max_semi_space_size": "16MB"}"#,
        &["t.ndjson:1", "max_semi_space_size"],
    ));
    cases.push(heap_case(
        "max semi-space 2^64-1",
        r#"{"max_semi_space_size": 18446744073709551615}"#,
        &["t.ndjson", "max_semi_space_size"],
    ));
    cases.push(heap_case(
        "max semi-space 2^64",
        r#"{"max_semi_space_size": 18446744073709551616}"#,
        &["t.ndjson:1", "max_semi_space_size"],
    ));
    cases.push(heap_case(
        "min semi-space above max",
        r#"{"min_semi_space_size": 33554432, "max_semi_space_size": 1048576}"#,
        &["t.ndjson", "min_semi_space_size"],
    ));
    cases.push(heap_case(
        "growth factor 0",
        r#"{"semi_space_growth_factor": 0}"#,
        &["t.ndjson", "semi_space_growth_factor"],
    ));
    cases.push(heap_case(
        "growth factor 2^32",
        r#"{"semi_space_growth_factor": 4294967296}"#,
        &["t.ndjson:1", "semi_space_growth_factor"],
    ));
    cases.push(heap_case(
        "max old generation 0",
        r#"{"max_old_generation_size": 0}"#,
        &["t.ndjson", "max_old_generation_size"],
    ));
    cases.push(
        Case::ndjson(
            "max old generation 2^64-1 is accepted",
            &header(r#"{"max_old_generation_size": 18446744073709551615}"#),
            &valid_events(),
        )
        .args(&["--quiet"])
        .succeeds(),
    );
    cases.push(heap_case(
        "page size 0",
        r#"{"page": {"page_size": 0, "area_start": 0, "area_size": 0}}"#,
        &["t.ndjson", "page"],
    ));
    cases.push(heap_case("page size 1", r#"{"page": {"page_size": 1, "area_start": 0, "area_size": 1}, "min_semi_space_size": 1, "max_semi_space_size": 1, "large_object_threshold": 1, "lab_size": 1, "max_lab_object_size": 1}"#, &["t.ndjson", "page"]));
    cases.push(heap_case("page size 8", r#"{"page": {"page_size": 8, "area_start": 0, "area_size": 8}, "min_semi_space_size": 8, "max_semi_space_size": 8, "large_object_threshold": 8, "lab_size": 8, "max_lab_object_size": 8}"#, &["t.ndjson", "page"]));
    cases.push(heap_case(
        "page size 2^31",
        r#"{"page": {"page_size": 2147483648, "area_start": 0, "area_size": 2147483648}}"#,
        &["t.ndjson", "page"],
    ));
    cases.push(heap_case(
        "page size not a power of two",
        r#"{"page": {"page_size": 5000, "area_start": 64, "area_size": 4000}}"#,
        &["t.ndjson:1", "heap"],
    ));
    cases.push(heap_case(
        "area beyond the page",
        r#"{"page": {"page_size": 4096, "area_start": 64, "area_size": 4096}}"#,
        &["t.ndjson", "area"],
    ));
    cases.push(heap_case(
        "area start beyond the page",
        r#"{"page": {"page_size": 4096, "area_start": 8192, "area_size": 8}}"#,
        &["t.ndjson", "area"],
    ));
    cases.push(heap_case(
        "area overflowing u32",
        r#"{"page": {"page_size": 4096, "area_start": 4294967295, "area_size": 4294967295}}"#,
        &["t.ndjson", "area"],
    ));
    cases.push(heap_case(
        "area size 0",
        r#"{"page": {"page_size": 4096, "area_start": 64, "area_size": 0}}"#,
        &["t.ndjson", "page"],
    ));
    cases.push(heap_case("page geometry missing fields", r#"{"page": {"page_size": 4096}}"#, &["t.ndjson", "area"]));
    cases.push(heap_case("lab size 0", r#"{"lab_size": 0}"#, &["t.ndjson", "lab_size"]));
    cases.push(heap_case(
        "large-object threshold 0",
        r#"{"large_object_threshold": 0}"#,
        &["t.ndjson", "large_object_threshold"],
    ));
    cases.push(heap_case("promotion age 256", r#"{"promotion_age": 256}"#, &["t.ndjson:1", "promotion_age"]));
    cases.push(heap_case(
        "evacuation threshold 1000 %",
        r#"{"evacuation_threshold_percent": 1000}"#,
        &["t.ndjson", "evacuation_threshold_percent"],
    ));
    cases.push(heap_case(
        "pause coefficient 1e308",
        r#"{"pause": {"scavenge_base_ms": 1e308}}"#,
        &["t.ndjson", "scavenge_base_ms"],
    ));
    cases.push(heap_case(
        "pause coefficient negative",
        r#"{"pause": {"mark_ms_per_mib": -1}}"#,
        &["t.ndjson", "mark_ms_per_mib"],
    ));
    cases.push(heap_case(
        "pause coefficient a string",
        r#"{"pause": {"sweep_ms_per_page": "fast"}}"#,
        &["t.ndjson:1", "sweep_ms_per_page"],
    ));
    cases.push(heap_case(
        "pause coefficient huge per MiB",
        r#"{"pause": {"scavenge_ms_per_mib": 1e300}}"#,
        &["t.ndjson", "scavenge_ms_per_mib"],
    ));

    // --- Events: types and ranges of every field.
    cases.push(event_case("unknown op", r#"{"op": "free", "id": 1}"#, 1, &["t.ndjson:3", "free"]));
    cases.push(event_case("op missing", r#"{"id": 1}"#, 1, &["t.ndjson:3", "op"]));
    cases.push(event_case("op a number", r#"{"op": 1}"#, 1, &["t.ndjson:3", "op"]));
    cases.push(event_case("alloc without size", r#"{"op": "alloc", "id": 2}"#, 1, &["t.ndjson:3", "size"]));
    cases.push(event_case("alloc without id", r#"{"op": "alloc", "size": 16}"#, 1, &["t.ndjson:3", "id"]));
    cases.push(event_case("alloc size 0", r#"{"op": "alloc", "id": 2, "size": 0}"#, 1, &["t.ndjson:3", "size"]));
    cases.push(event_case(
        "alloc size negative",
        r#"{"op": "alloc", "id": 2, "size": -16}"#,
        1,
        &["t.ndjson:3", "-16"],
    ));
    cases.push(event_case(
        "alloc size fractional",
        r#"{"op": "alloc", "id": 2, "size": 16.5}"#,
        1,
        &["t.ndjson:3", "16.5"],
    ));
    cases.push(event_case("alloc size 1e20", r#"{"op": "alloc", "id": 2, "size": 1e20}"#, 1, &["t.ndjson:3"]));
    cases.push(event_case(
        "alloc size 2^32",
        r#"{"op": "alloc", "id": 2, "size": 4294967296}"#,
        1,
        &["t.ndjson:3", "size"],
    ));
    cases.push(event_case(
        "alloc size 2^64-1",
        r#"{"op": "alloc", "id": 2, "size": 18446744073709551615}"#,
        1,
        &["t.ndjson:3", "size"],
    ));
    cases.push(
        Case::ndjson(
            "alloc of 4 GiB under a 1 MiB old generation",
            &header(r#"{"max_old_generation_size": 1048576}"#),
            // V8 lets the first young large object be allocated whatever its size
            // (`NewLargeObjectSpace::AllocateRaw`); holding it past a full GC is what dies.
            &[
                r#"{"op": "alloc", "id": 2, "size": 4294967288, "root": "g"}"#,
                r#"{"op": "gc", "kind": "major"}"#,
                r#"{"op": "alloc", "id": 3, "size": 200000}"#,
            ],
        )
        .args(&["--quiet"])
        .fails(3, &["<--- Last few GCs --->"]),
    );
    cases.push(event_case(
        "alloc slots 300,000,000 in 16 bytes",
        r#"{"op": "alloc", "id": 2, "size": 16, "slots": 300000000}"#,
        1,
        &["t.ndjson:3", "slots"],
    ));
    cases.push(event_case(
        "alloc slots 2^32-1",
        r#"{"op": "alloc", "id": 2, "size": 16, "slots": 4294967295}"#,
        1,
        &["t.ndjson:3", "slots"],
    ));
    cases.push(event_case(
        "alloc slots 2^32",
        r#"{"op": "alloc", "id": 2, "size": 16, "slots": 4294967296}"#,
        1,
        &["t.ndjson:3", "slots"],
    ));
    cases.push(event_case(
        "alloc slots negative",
        r#"{"op": "alloc", "id": 2, "size": 16, "slots": -1}"#,
        1,
        &["t.ndjson:3", "-1"],
    ));
    cases.push(event_case(
        "alloc slots more than the size holds",
        r#"{"op": "alloc", "id": 2, "size": 24, "slots": 4}"#,
        1,
        &["t.ndjson:3", "slots"],
    ));
    cases.push(event_case("alloc id negative", r#"{"op": "alloc", "id": -2, "size": 16}"#, 1, &["t.ndjson:3", "-2"]));
    cases.push(event_case(
        "alloc id 2^64",
        r#"{"op": "alloc", "id": 18446744073709551616, "size": 16}"#,
        1,
        &["t.ndjson:3"],
    ));
    cases.push(event_case(
        "alloc id a string",
        r#"{"op": "alloc", "id": "2", "size": 16}"#,
        1,
        &["t.ndjson:3", "string"],
    ));
    cases.push(event_case(
        "alloc id reused",
        r#"{"op": "alloc", "id": 1, "size": 16}"#,
        1,
        &["t.ndjson:3", "reuses id 1"],
    ));
    cases.push(event_case(
        "alloc kind a number",
        r#"{"op": "alloc", "id": 2, "size": 16, "kind": 7}"#,
        1,
        &["t.ndjson:3", "kind"],
    ));
    cases.push(event_case(
        "alloc pretenured a string",
        r#"{"op": "alloc", "id": 2, "size": 16, "pretenured": "yes"}"#,
        1,
        &["t.ndjson:3", "yes"],
    ));
    cases.push(event_case("alloc root empty name", r#"{"op": "alloc", "id": 2, "size": 16, "root": ""}"#, 0, &[]));
    cases.push(event_case(
        "alloc with a write's field",
        r#"{"op": "alloc", "id": 2, "size": 16, "obj": 1}"#,
        1,
        &["t.ndjson:3", "obj"],
    ));
    cases.push(event_case(
        "write to a never-allocated object",
        r#"{"op": "write", "obj": 9, "slot": 0, "to": null}"#,
        1,
        &["t.ndjson:3", "9"],
    ));
    cases.push(event_case(
        "write of a never-allocated target",
        r#"{"op": "write", "obj": 1, "slot": 0, "to": 9}"#,
        1,
        &["t.ndjson:3", "9"],
    ));
    cases.push(event_case(
        "write slot out of range",
        r#"{"op": "write", "obj": 1, "slot": 2, "to": null}"#,
        1,
        &["t.ndjson:3", "slot 2"],
    ));
    cases.push(event_case(
        "write slot 2^32",
        r#"{"op": "write", "obj": 1, "slot": 4294967296, "to": null}"#,
        1,
        &["t.ndjson:3", "slot"],
    ));
    cases.push(event_case(
        "write slot negative",
        r#"{"op": "write", "obj": 1, "slot": -1, "to": null}"#,
        1,
        &["t.ndjson:3", "-1"],
    ));
    cases.push(event_case("write without to", r#"{"op": "write", "obj": 1, "slot": 0}"#, 1, &["t.ndjson:3", "to"]));
    cases.push(event_case("write to null clears", r#"{"op": "write", "obj": 1, "slot": 0, "to": null}"#, 0, &[]));
    cases.push(event_case(
        "root of a never-allocated object",
        r#"{"op": "root", "id": 5, "root": "g"}"#,
        1,
        &["t.ndjson:3", "5"],
    ));
    cases.push(event_case(
        "unroot of an unrooted object",
        r#"{"op": "unroot", "id": 1, "root": "other"}"#,
        1,
        &["t.ndjson:3", "other"],
    ));
    cases.push(event_case("root without a name", r#"{"op": "root", "id": 1}"#, 1, &["t.ndjson:3", "root"]));
    cases.push(event_case("exit without enter", r#"{"op": "exit"}"#, 1, &["t.ndjson:3", "exit"]));
    cases.push(event_case("enter with an operand", r#"{"op": "enter", "id": 1}"#, 1, &["t.ndjson:3", "id"]));
    cases.push(event_case("tick negative", r#"{"op": "tick", "ms": -1}"#, 1, &["t.ndjson:3", "-1"]));
    cases.push(event_case("tick a string", r#"{"op": "tick", "ms": "10"}"#, 1, &["t.ndjson:3", "string"]));
    cases.push(event_case("tick missing ms", r#"{"op": "tick"}"#, 1, &["t.ndjson:3", "ms"]));
    cases.push(event_case("tick 1e309 (infinite in JSON)", r#"{"op": "tick", "ms": 1e309}"#, 1, &["t.ndjson:3"]));
    cases.push(
        Case::ndjson(
            "two ticks of 1e308 overflow the clock",
            &small,
            &[r#"{"op": "tick", "ms": 1e308}"#, r#"{"op": "tick", "ms": 1e308}"#],
        )
        .fails(1, &["t.ndjson:3"]),
    );
    cases.push(event_case("gc kind unknown", r#"{"op": "gc", "kind": "full"}"#, 1, &["t.ndjson:3", "full"]));
    cases.push(event_case("gc kind missing", r#"{"op": "gc"}"#, 1, &["t.ndjson:3", "kind"]));
    cases.push(event_case("mark label a number", r#"{"op": "mark", "label": 5}"#, 1, &["t.ndjson:3", "label"]));
    cases.push(event_case(
        "mark closes a number",
        r#"{"op": "mark", "label": "x", "closes": 5}"#,
        1,
        &["t.ndjson:3", "closes"],
    ));
    cases.push(event_case(
        "mark with an unknown field",
        r#"{"op": "mark", "label": "x", "colour": "red"}"#,
        1,
        &["t.ndjson:3", "colour"],
    ));
    cases.push(event_case(
        "repeated event field",
        r#"{"op": "alloc", "id": 2, "id": 3, "size": 16}"#,
        1,
        &["t.ndjson:3", "duplicate"],
    ));
    cases.push(
        Case::json(
            "json event error names the index",
            &format!(
                "{}, \"events\": [{{\"op\": \"enter\"}}, {{\"op\": \"exit\"}}, {{\"op\": \"exit\"}}]}}",
                &small[..small.len() - 1]
            ),
        )
        .fails(1, &["t.json", "events[2]"]),
    );

    // --- Ids and the id table.
    cases.push(
        Case::ndjson(
            "id 2^64-1 then id 0",
            &small,
            &[
                r#"{"op": "alloc", "id": 18446744073709551615, "size": 16, "root": "g"}"#,
                r#"{"op": "alloc", "id": 0, "size": 16, "root": "g"}"#,
                r#"{"op": "write", "obj": 0, "slot": 0, "to": null}"#,
            ],
        )
        .fails(1, &["t.ndjson:4", "slot 0"]),
    );
    cases.push(
        Case::ndjson(
            "ids far apart",
            &small,
            &[
                r#"{"op": "alloc", "id": 0, "size": 16, "slots": 1, "root": "g"}"#,
                r#"{"op": "alloc", "id": 9223372036854775807, "size": 16, "root": "g"}"#,
                r#"{"op": "alloc", "id": 18446744073709551615, "size": 16, "root": "g"}"#,
                r#"{"op": "write", "obj": 0, "slot": 0, "to": 9223372036854775807}"#,
                r#"{"op": "gc", "kind": "major"}"#,
            ],
        )
        .args(&["--quiet"])
        .succeeds(),
    );

    // --- Size: small inputs that used to cost gigabytes or minutes.
    let slots_panic = [
        r#"{"op": "alloc", "id": 1, "size": 16, "slots": 3000000000}"#,
        r#"{"op": "alloc", "id": 2, "size": 16, "slots": 3000000000}"#,
    ];
    cases.push(
        Case::ndjson("two objects whose slots pass 2^32", &small, &slots_panic).fails(1, &["t.ndjson:2", "slots"]),
    );
    cases.push(
        Case::ndjson(
            "header only, page size 8",
            &header(r#"{"page": {"page_size": 8, "area_start": 0, "area_size": 8}}"#),
            &[],
        )
        .fails(1, &["t.ndjson", "page"]),
    );
    cases.push(
        Case::new("100,000 gc events keep memory and the report bounded")
            .lines("t.ndjson", &small, 100_000, |_, out| writeln!(out, r#"{{"op": "gc", "kind": "minor"}}"#))
            .args(&["run", "--quiet", "--report", "{dir}/r.json", "{dir}/t.ndjson"])
            .succeeds()
            .seconds(120),
    );
    cases.push(
        Case::new("20,000 root names")
            .lines("t.ndjson", &small, 20_000, |i, out| {
                writeln!(out, r#"{{"op": "alloc", "id": {i}, "size": 16, "root": "root-{i}"}}"#)
            })
            .args(&["run", "--quiet", "{dir}/t.ndjson"])
            .succeeds()
            .seconds(60),
    );
    cases.push(
        Case::new("20,000 closed connections, all leaked")
            .lines("t.ndjson", &small, 20_000, |i, out| {
                writeln!(out, r#"{{"op": "alloc", "id": {i}, "size": 32, "tag": "conn-{i}", "root": "timers"}}"#)?;
                writeln!(out, r#"{{"op": "mark", "label": "close", "closes": "conn-{i}"}}"#)
            })
            .args(&["run", "--quiet", "{dir}/t.ndjson"])
            .succeeds()
            .seconds(60)
            .rss(64),
    );
    cases.push(
        Case::new("a 100,000-long list")
            .lines("t.ndjson", &small, 100_000, |i, out| match i {
                0 => writeln!(out, r#"{{"op": "alloc", "id": 0, "size": 16, "slots": 1, "root": "g"}}"#),
                _ => {
                    writeln!(out, r#"{{"op": "alloc", "id": {i}, "size": 16, "slots": 1}}"#)?;
                    writeln!(out, r#"{{"op": "write", "obj": {}, "slot": 0, "to": {i}}}"#, i - 1)
                }
            })
            .args(&["run", "--quiet", "--why", "99999", "{dir}/t.ndjson"])
            .succeeds()
            .seconds(60)
            .rss(128),
    );
    cases.push(
        Case::new("100,000 open handle scopes")
            .lines("t.ndjson", &small, 100_000, |_, out| writeln!(out, r#"{{"op": "enter"}}"#))
            .args(&["run", "--quiet", "{dir}/t.ndjson"])
            .succeeds()
            .seconds(60),
    );
    cases.push(
        Case::new("a label of 4 MiB")
            .lines("t.ndjson", &small, 1, |_, out| {
                write!(out, r#"{{"op": "mark", "label": ""#)?;
                for _ in 0..4096 {
                    out.write_all(&[b'x'; 1024])?;
                }
                writeln!(out, r#""}}"#)
            })
            .args(&["run", "--quiet", "{dir}/t.ndjson"])
            .succeeds()
            .rss(96),
    );
    cases.push(
        Case::new("a 16 MiB line with no newline")
            .lines("t.ndjson", &small, 1, |_, out| {
                write!(out, r#"{{"op": "mark", "label": ""#)?;
                for _ in 0..(16 << 10) {
                    out.write_all(&[b'x'; 1024])?;
                }
                Ok(())
            })
            .args(&["run", "{dir}/t.ndjson"])
            .fails(1, &["t.ndjson:2:", "EOF"])
            .rss(160),
    );

    // --- The simulated death is a result, not a crash.
    let mut oom = vec![r#"{"op": "alloc", "id": 0, "size": 16, "slots": 1, "root": "g"}"#.to_owned()];
    for i in 1..400 {
        oom.push(format!(r#"{{"op": "alloc", "id": {i}, "size": 2000, "slots": 1}}"#));
        oom.push(format!(r#"{{"op": "write", "obj": {i}, "slot": 0, "to": {}}}"#, i - 1));
        oom.push(format!(r#"{{"op": "write", "obj": 0, "slot": 0, "to": {i}}}"#));
    }
    let oom_refs: Vec<&str> = oom.iter().map(String::as_str).collect();
    let oom_heap = header(
        &SMALL_HEAP.replace("\"min_semi_space_size\"", "\"max_old_generation_size\": 262144, \"min_semi_space_size\""),
    );
    cases.push(
        Case::ndjson("out of memory exits 3 with V8's text", &oom_heap, &oom_refs)
            .args(&["--quiet"])
            .fails(3, &["<--- Last few GCs --->"]),
    );
    cases.push(
        Case::ndjson("out of memory with a report", &oom_heap, &oom_refs)
            .args(&["--quiet", "--report", "{dir}/r.json"])
            .fails(3, &["<--- Last few GCs --->"]),
    );

    // --- Flags.
    cases.push(
        Case::flags("flag max semi-space 0", &["--max-semi-space-size", "0"]).fails(2, &["--max-semi-space-size"]),
    );
    cases.push(
        Case::flags("flag growth factor 0", &["--semi-space-growth-factor", "0"])
            .fails(2, &["--semi-space-growth-factor"]),
    );
    cases.push(
        Case::flags("flag min above max", &["--min-semi-space-size", "16", "--max-semi-space-size", "1"])
            .fails(2, &["--min-semi-space-size"]),
    );
    cases.push(Case::flags("flag max old space 0", &["--max-old-space-size", "0"]).fails(2, &["--max-old-space-size"]));
    cases.push(
        Case::flags("flag max old space overflow", &["--max-old-space-size", "99999999999999999"])
            .fails(2, &["--max-old-space-size"]),
    );
    cases.push(Case::flags("flag negative", &["--max-semi-space-size", "-1"]).fails(2, &["error:", "-1"]));
    cases.push(Case::flags("flag not a number", &["--max-old-space-size", "lots"]).fails(2, &["error:", "lots"]));
    cases.push(
        Case::flags("flag unknown", &["--max-new-space-size", "4"]).fails(2, &["error:", "--max-new-space-size"]),
    );
    cases.push(Case::flags("heap field unknown", &["--heap", "colour=red"]).fails(2, &["--heap", "colour"]));
    cases.push(
        Case::flags("heap without =", &["--heap", "max_old_generation_size"]).fails(2, &["--heap", "FIELD=VALUE"]),
    );
    cases.push(
        Case::flags("heap value of the wrong type", &["--heap", "max_old_generation_size=big"])
            .fails(2, &["--heap", "max_old_generation_size"]),
    );
    cases.push(Case::flags("heap nested field unknown", &["--heap", "page.colour=1"]).fails(2, &["--heap", "colour"]));
    cases.push(
        Case::flags("heap pause coefficient 1e308", &["--heap", "pause.scavenge_base_ms=1e308"])
            .fails(2, &["scavenge_base_ms"]),
    );
    cases.push(
        Case::flags("heap page size 4096, as the README says", &["--quiet", "--heap", "page.page_size=4096"])
            .succeeds(),
    );
    cases.push(
        Case::flags("heap map moment malformed", &["--heap-map-at", "during:3"]).fails(2, &["error:", "during:3"]),
    );
    cases.push(
        Case::flags("heap map at end", &["--quiet", "--heap-map-at", "end", "--report", "{dir}/r.json"]).succeeds(),
    );
    cases.push(Case::flags("why with no match", &["--quiet", "--why", "nothing-is-called-this"]).succeeds());

    // --- Files and output paths.
    cases.push(Case::new("trace missing").args(&["run", "{dir}/missing.ndjson"]).fails(1, &["missing.ndjson"]));
    cases.push(Case::new("trace is a directory").args(&["run", "{dir}"]).fails(1, &["gc-sim:"]));
    cases.push(Case::new("trace from empty stdin").args(&["run", "-"]).fails(1, &["<stdin>"]));
    cases.push(
        Case::new("trace from stdin").args(&["run", "--quiet", "-"]).stdin(ndjson(&small, &valid_events())).succeeds(),
    );
    cases.push(
        Case::flags("report in a missing directory", &["--report", "{dir}/no/such/dir/r.json"])
            .fails(2, &["--report", "no/such/dir"]),
    );
    cases.push(Case::flags("report is a directory", &["--report", "{dir}"]).fails(2, &["--report"]));
    cases.push(
        Case::flags("plot as jpg", &["--plot", "{dir}/heap.jpg"]).fails(2, &["heap.jpg", "png"]).absent("heap.jpg"),
    );
    cases.push(Case::flags("plot without an extension", &["--plot", "{dir}/heap"]).fails(2, &["png"]).absent("heap"));
    cases.push(
        Case::flags("pause plot as gif", &["--plot-pauses", "{dir}/p.gif"]).fails(2, &["p.gif", "png"]).absent("p.gif"),
    );
    cases.push(
        Case::flags("heap-map plot as pdf", &["--plot-heap-map", "{dir}/m.pdf"])
            .fails(2, &["m.pdf", "png"])
            .absent("m.pdf"),
    );
    cases.push(
        Case::flags("plot in a missing directory", &["--plot", "{dir}/nowhere/heap.png"])
            .fails(2, &["--plot", "nowhere"]),
    );
    cases.push(
        Case::ndjson("bad trace leaves no report", &small, &[r#"{"op": "exit"}"#])
            .args(&["--report", "{dir}/r.json"])
            .fails(1, &["t.ndjson:2", "exit"])
            .absent("r.json"),
    );

    // --- `gc-sim log` on what is not a GC log.
    let gc_line =
        "[7:0x5ceaca0]       69 ms: Scavenge 3.9 (4.0) -> 3.0 (5.0) MB, 0.49 / 0.00 ms  (average mu = 1.000, \
                   current mu = 1.000) allocation failure; \n";
    let log = |name: &str, bytes: Vec<u8>| Case::new(name).file("gc.log", bytes).args(&["log", "{dir}/gc.log"]);
    cases.push(log("log of one gc line", gc_line.as_bytes().to_vec()).succeeds());
    cases.push(log("log empty", Vec::new()).fails(1, &["no GC line", "gc.log"]));
    cases.push(
        log("log of random binary", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect())
            .fails(1, &["no GC line", "gc.log"]),
    );
    cases.push(log("log of a trace", ndjson(&small, &valid_events()).into_bytes()).fails(1, &["no GC line", "gc.log"]));
    cases.push(
        log("log with a truncated gc line", format!("{gc_line}{}", &gc_line[..60]).into_bytes())
            .fails(0, &["warning", "gc.log:2"]),
    );
    let mut gzip_cut = vec![0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];
    gzip_cut.extend_from_slice(b"\x8d\x8e\x4d\x0a");
    cases.push(
        Case::new("log gzip truncated")
            .file("gc.log.gz", gzip_cut)
            .args(&["log", "{dir}/gc.log.gz"])
            .fails(1, &["gc.log.gz"]),
    );
    cases.push(
        Case::new("log of a 16 MiB line without newline")
            .lines("gc.log", "[7:0x1] 1 ms: Scavenge", 1, |_, out| {
                for _ in 0..(16 << 10) {
                    out.write_all(&[b'x'; 1024])?;
                }
                Ok(())
            })
            .args(&["log", "{dir}/gc.log"])
            .fails(1, &["gc.log"]),
    );
    cases.push(
        log("log with a zero heap limit", gc_line.as_bytes().to_vec())
            .args(&["--max-old-space-size", "0"])
            .fails(2, &["--max-old-space-size"]),
    );
    cases.push(Case::new("log of a missing file").args(&["log", "{dir}/none.log"]).fails(1, &["none.log"]));
    cases.push(Case::new("log from stdin").args(&["log", "-"]).stdin(gc_line).succeeds());

    // --- `gc-sim run --compare-log` with a log that is missing or not a log, and bad deviations.
    cases.push(
        Case::flags("compare with a missing log", &["--quiet", "--compare-log", "{dir}/none.log"])
            .fails(1, &["none.log"]),
    );
    cases.push(
        Case::flags("compare with a trace as the log", &["--quiet", "--compare-log", "{dir}/t.ndjson"])
            .fails(1, &["--compare-log", "no GC line", "t.ndjson"]),
    );
    for (name, value) in [("nan", "nan"), ("infinite", "inf"), ("1e400", "1e400")] {
        cases.push(
            Case::flags(
                &format!("max deviation {name}"),
                &["--quiet", "--compare-log", "{dir}/gc.log", "--max-deviation", value],
            )
            .file("gc.log", gc_line)
            .fails(2, &["--max-deviation"]),
        );
    }
    cases.push(
        Case::flags("max deviation negative", &["--quiet", "--compare-log", "{dir}/gc.log", "--max-deviation=-5"])
            .file("gc.log", gc_line)
            .fails(2, &["--max-deviation"]),
    );
    cases.push(
        Case::flags("max deviation without a log", &["--quiet", "--max-deviation", "10"])
            .fails(2, &["error:", "required"]),
    );
    cases.push(
        log("log plot as jpg", gc_line.as_bytes().to_vec())
            .args(&["--plot", "{dir}/x.jpg"])
            .fails(2, &["x.jpg", "png"])
            .absent("x.jpg"),
    );
    cases.push(
        log("log plot in a missing directory", gc_line.as_bytes().to_vec())
            .args(&["--plot-pauses", "{dir}/no/p.png"])
            .fails(2, &["--plot-pauses", "no/p.png"]),
    );

    // --- `gc-sim plot` on what is not a report.
    let plot = |name: &str, bytes: Vec<u8>| {
        Case::new(name).file("r.json", bytes).args(&["plot", "{dir}/r.json", "-o", "{dir}/out.png"])
    };
    cases.push(plot("plot a real report", report.to_vec()).succeeds());
    let plot = |name: &str, bytes: Vec<u8>| plot(name, bytes).absent("out.png");
    cases.push(plot("plot an empty file", Vec::new()).fails(1, &["r.json"]));
    cases.push(plot("plot a trace", ndjson(&small, &valid_events()).into_bytes()).fails(1, &["r.json", "trace"]));
    cases.push(
        plot("plot a json trace", format!("{}, \"events\": []}}", &small[..small.len() - 1]).into_bytes())
            .fails(1, &["r.json", "trace"]),
    );
    let text = String::from_utf8(report.to_vec()).unwrap();
    cases.push(
        plot("plot a report of version 99", text.replacen("\"version\": 1", "\"version\": 99", 1).into_bytes())
            .fails(1, &["r.json", "version 99"]),
    );
    cases.push(
        plot(
            "plot a report of another format",
            text.replacen("\"format\": \"gc-sim-report\"", "\"format\": \"other\"", 1).into_bytes(),
        )
        .fails(1, &["r.json", "format"]),
    );
    cases.push(plot("plot a truncated report", report[..report.len() / 2].to_vec()).fails(1, &["r.json", "EOF"]));
    cases.push(plot("plot json null", b"null".to_vec()).fails(1, &["r.json"]));
    cases.push(
        Case::new("plot a missing report")
            .args(&["plot", "{dir}/none.json", "-o", "{dir}/out.png"])
            .fails(1, &["none.json"]),
    );
    cases.push(
        Case::new("plot to jpg")
            .file("r.json", report.to_vec())
            .args(&["plot", "{dir}/r.json", "-o", "{dir}/out.jpg"])
            .fails(2, &["out.jpg", "png"])
            .absent("out.jpg"),
    );
    cases.push(
        Case::new("plot without -o")
            .file("r.json", report.to_vec())
            .args(&["plot", "{dir}/r.json"])
            .fails(2, &["error:"]),
    );
    // gc-sim sweep: a trace invalid under every cell fails once; a grid over the limit is refused before any cell
    // (and before a cell's memory); outputs and merged reports are checked as `run`'s and `plot`'s are.
    let valid = ndjson(&header(SMALL_HEAP), &valid_events());
    let mut bad = valid_events();
    bad.push(r#"{"op": "alloc", "id": 99, "size": -1}"#);
    cases.push(
        Case::new("sweep of an invalid trace over 9 cells")
            .file("t.ndjson", ndjson(&header(SMALL_HEAP), &bad))
            .args(&["sweep", "{dir}/t.ndjson", "--heap", "max_old_generation_size=1048576,2097152,4194304"])
            .args(&["--heap", "promotion_age=0,1,2"])
            .fails(1, &["t.ndjson:", "size"]),
    );
    let list = |n: u64| (1..=n).map(|v| v.to_string()).collect::<Vec<_>>().join(",");
    let ages = format!("promotion_age={}", list(255));
    cases.push(
        Case::new("sweep of 1,000 x 255 cells")
            .file("t.ndjson", valid.clone())
            .args(&["sweep", "{dir}/t.ndjson", "--max-old-space-size", &list(1000), "--heap", &ages])
            .fails(2, &["1000 x 255 cells is more than a sweep runs (10000)"]),
    );
    cases.push(
        Case::new("sweep plot to jpg")
            .file("t.ndjson", valid.clone())
            .args(&["sweep", "{dir}/t.ndjson", "--heap", "promotion_age=0,1", "--plot", "{dir}/out.jpg"])
            .fails(2, &["--plot", "out.jpg", "png"])
            .absent("out.jpg"),
    );
    cases.push(
        Case::new("sweep reading standard input")
            .stdin(valid.clone())
            .args(&["sweep", "-", "--heap", "promotion_age=0,1"])
            .fails(2, &["not standard input"]),
    );
    cases.push(
        Case::new("sweep merge of a trace")
            .file("t.ndjson", valid.clone())
            .args(&["sweep", "--merge", "{dir}/t.ndjson"])
            .fails(1, &["t.ndjson is a trace, not a report"]),
    );
    cases.push(
        Case::new("sweep of 9 small cells")
            .file("t.ndjson", valid)
            .args(&["sweep", "{dir}/t.ndjson", "--heap", "max_old_generation_size=1048576,2097152,4194304"])
            .args(&["--heap", "promotion_age=0,1,2", "--quiet"])
            .succeeds(),
    );
    cases.push(Case::new("no subcommand prints the help").fails(2, &["gc-sim"]).any_first_line());
    cases.push(Case::new("unknown subcommand").args(&["simulate"]).fails(2, &["error:", "simulate"]));

    cases
}

/// What one run did.
struct Outcome {
    exit: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    max_rss_kib: u64,
    elapsed: Duration,
    timed_out: bool,
}

/// Runs `args` with standard output and error sent to files, waiting with `wait4` for the child's peak memory.
fn run_case(dir: &Path, case: &Case) -> Outcome {
    let args: Vec<String> = case.args.iter().map(|a| a.replace("{dir}", dir.to_str().unwrap())).collect();
    let stdout_path = dir.join(".stdout");
    let stderr_path = dir.join(".stderr");
    let stdin_path = dir.join(".stdin");
    std::fs::write(&stdin_path, &case.stdin).unwrap();
    let child = Command::new(BIN)
        .args(&args)
        .stdin(File::open(&stdin_path).unwrap())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        .spawn()
        .expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let limit = Duration::from_secs(case.max_seconds);
    let mut timed_out = false;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: plain system calls on our own child's pid with valid out-pointers.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let waited = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(waited >= 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if waited == pid {
            break (status, usage);
        }
        if start.elapsed() > limit && !timed_out {
            timed_out = true;
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    std::mem::forget(child); // reaped by wait4 above
    let (exit, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    let stderr = String::from_utf8_lossy(&std::fs::read(&stderr_path).unwrap()).into_owned();
    Outcome { exit, signal, stderr, max_rss_kib: usage.ru_maxrss as u64, elapsed, timed_out }
}

/// The problems of one case, empty when it passed.
fn check(dir: &Path, case: &Case, outcome: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    let first = outcome.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if outcome.timed_out {
        problems.push(format!("killed after {} s", case.max_seconds));
    }
    match (outcome.exit, outcome.signal) {
        (Some(code), _) if code == case.exit => {}
        (Some(101), _) => problems.push("panicked (exit 101)".to_owned()),
        (Some(code), _) => problems.push(format!("exit {code}, expected {}", case.exit)),
        (None, Some(signal)) => problems.push(format!("killed by signal {signal}")),
        (None, None) => unreachable!(),
    }
    if case.exit == 0 && case.first_line.is_empty() && !outcome.stderr.trim().is_empty() {
        problems.push(format!("expected nothing on standard error, got {first:?}"));
    }
    if matches!(case.exit, 1 | 2)
        && !case.any_first_line
        && !(first.starts_with("gc-sim: ") || first.starts_with("error:") || first.starts_with("Usage:"))
    {
        problems.push(format!("the first error line does not start with `gc-sim:` or `error:`: {first:?}"));
    }
    for piece in &case.first_line {
        if !first.contains(piece.as_str()) {
            problems.push(format!("the first error line lacks {piece:?}: {first:?}"));
        }
    }
    let rss_mib = outcome.max_rss_kib / 1024;
    if rss_mib > case.max_rss_mib {
        problems.push(format!("peak memory {rss_mib} MiB, over the bound of {} MiB", case.max_rss_mib));
    }
    for name in &case.absent_after {
        if dir.join(name).exists() {
            problems.push(format!("{name} exists after the run"));
        }
    }
    problems
}

#[test]
fn hostile_input_corpus() {
    let seed = tempfile::tempdir().unwrap();
    let report = real_report(seed.path());
    let cases = cases(&report);
    assert!(cases.len() >= 100, "the corpus has {} cases, fewer than 100", cases.len());
    let mut names = std::collections::HashSet::new();
    for case in &cases {
        assert!(names.insert(case.name.as_str()), "two cases are named {:?}", case.name);
    }

    let only = std::env::var("GC_SIM_CORPUS_CASE").ok();
    let mut failures = Vec::new();
    let mut table = String::new();
    for case in cases.iter().filter(|c| only.as_deref().is_none_or(|o| c.name.contains(o))) {
        let dir = tempfile::tempdir().unwrap();
        for (name, input) in &case.files {
            input.write_to(&dir.path().join(name));
        }
        let outcome = run_case(dir.path(), case);
        let problems = check(dir.path(), case, &outcome);
        let first = outcome.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let _ = writeln!(
            table,
            "{:<55} exit {:>3} {:>5} MiB {:>6.2} s  {}",
            case.name,
            outcome.exit.map_or_else(|| format!("s{}", outcome.signal.unwrap_or(0)), |c| c.to_string()),
            outcome.max_rss_kib / 1024,
            outcome.elapsed.as_secs_f64(),
            first.chars().take(160).collect::<String>()
        );
        if !problems.is_empty() {
            failures.push(format!("{}:\n    {}", case.name, problems.join("\n    ")));
        }
    }
    // The whole table, so that a failing run shows every case's answer (and `--nocapture` shows it always).
    println!("{table}");
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// The corpus's files are written under a fresh directory per case: a case cannot see another's output.
#[test]
fn cases_run_in_their_own_directories() {
    let dir = tempfile::tempdir().unwrap();
    let case = Case::flags("scratch", &["--quiet", "--report", "{dir}/r.json"]);
    for (name, input) in &case.files {
        input.write_to(&dir.path().join(name));
    }
    let outcome = run_case(dir.path(), &case);
    assert_eq!(outcome.exit, Some(0), "{}", outcome.stderr);
    assert!(PathBuf::from(dir.path()).join("r.json").exists());
    assert!(outcome.max_rss_kib > 0, "wait4 reported the child's peak memory");
}
