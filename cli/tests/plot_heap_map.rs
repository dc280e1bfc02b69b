//! `gc-sim plot --chart heapmap`: the real binary on a report of `examples/traces/leak.json`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/traces").join(file)
}

fn gc_sim(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// `gc-sim run examples/traces/leak.json --report DIR/R.json -q`; returns the report's path.
fn leak_report(dir: &Path) -> PathBuf {
    let report = dir.join("R.json");
    let trace = example("leak.json");
    let out =
        gc_sim(&["run", trace.to_str().unwrap(), "--report", report.to_str().unwrap(), "-q", "--heap-map-at", "end"]);
    assert!(out.status.success(), "the leak replays: {}", text(&out.stderr));
    assert!(report.exists());
    report
}

/// CRC-32 of PNG chunks (ISO 3309, reflected, polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Checks that `bytes` is a well-formed PNG (signature, every chunk's length and CRC, IHDR first, IDAT, IEND last)
/// and returns its width, height, bit depth and colour type. (The CLI's tests have no PNG decoder; the
/// visualizer's tests decode the same images pixel by pixel.)
fn png_header(bytes: &[u8]) -> (u32, u32, u8, u8) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "the PNG signature");
    let mut chunks = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        assert!(at + 12 <= bytes.len(), "a truncated chunk at byte {at}");
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let end = at + 8 + length;
        assert!(end + 4 <= bytes.len(), "chunk at byte {at} runs past the end");
        let kind = &bytes[at + 4..at + 8];
        let crc = u32::from_be_bytes(bytes[end..end + 4].try_into().unwrap());
        assert_eq!(crc, crc32(&bytes[at + 4..end]), "the CRC of chunk {}", String::from_utf8_lossy(kind));
        chunks.push((kind.to_vec(), at + 8..end));
        at = end + 4;
    }
    assert_eq!(chunks.first().map(|c| c.0.as_slice()), Some(&b"IHDR"[..]));
    assert_eq!(chunks.last().map(|c| c.0.as_slice()), Some(&b"IEND"[..]));
    assert!(chunks.iter().any(|c| c.0 == b"IDAT"), "image data");
    let ihdr = &bytes[chunks[0].1.clone()];
    let width = u32::from_be_bytes(ihdr[0..4].try_into().unwrap());
    let height = u32::from_be_bytes(ihdr[4..8].try_into().unwrap());
    (width, height, ihdr[8], ihdr[9])
}

#[test]
fn plot_draws_the_heap_map_of_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = leak_report(dir.path());
    let map = dir.path().join("map.png");
    let out = gc_sim(&["plot", report.to_str().unwrap(), "-o", map.to_str().unwrap(), "--chart", "heapmap"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let (width, height, depth, color) = png_header(&std::fs::read(&map).unwrap());
    assert_eq!((width, height), (1280, 720), "the default size");
    assert_eq!((depth, color), (8, 2), "8-bit RGB");

    // The end map by kind, as SVG; `--color-by` alone chooses the heap map.
    let svg = dir.path().join("by-kind.svg");
    let out = gc_sim(&[
        "plot",
        report.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
        "--moment",
        "end",
        "--color-by",
        "kind",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.contains("leaky ticker server (miniature): heap map"), "the trace's name in the title");
    assert!(svg.contains("end of the run, ") && svg.contains("Live bytes by dominant kind"));
    assert!(svg.contains("Buffer: "), "the leaked connections' buffers");
}

#[test]
fn a_moment_not_in_the_report_is_an_error_that_names_those_that_are() {
    let dir = tempfile::tempdir().unwrap();
    let report = leak_report(dir.path());
    let report = report.to_str().unwrap();
    let map = dir.path().join("map.png");
    let map = map.to_str().unwrap();

    let out = gc_sim(&["plot", report, "-o", map, "--chart", "heapmap", "--moment", "before:999"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("gc-sim: "), "{stderr}");
    assert!(stderr.contains("no heap map at before:999"), "{stderr}");
    assert!(stderr.contains("its heap maps are at: end"), "the moments the report has: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!Path::new(map).exists(), "no image for a failed chart");

    // Not a moment at all: a usage error, with the accepted forms.
    let out = gc_sim(&["plot", report, "-o", map, "--moment", "during:3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected `before:N`, `after:N` (N >= 1) or `end`"), "{}", text(&out.stderr));
    let out = gc_sim(&["plot", report, "-o", map, "--chart", "heapmap", "--color-by", "colour"]);
    assert_eq!(out.status.code(), Some(2));

    // Heap-map options with another chart, or a heap map of two reports.
    let out = gc_sim(&["plot", report, "-o", map, "--chart", "pauses", "--moment", "end"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("apply to the heap map (--chart heapmap), not to the pauses chart"));
    let out = gc_sim(&["plot", report, report, "-o", map, "--chart", "heapmap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the heapmap chart takes one report, not 2"), "{}", text(&out.stderr));
    assert!(!Path::new(map).exists());
}
