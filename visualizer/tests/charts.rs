//! Every chart rendered from real replays, decoded and checked pixel by pixel.
//!
//! The reports come from NDJSON traces replayed with `gc_sim::replay_trace` (see `common`): a server whose cache
//! leaks every request's entry, the same server fixed, and the leaky one on a 64 KiB old generation, where it dies.
//! The charts' colours are opaque and public (`visualizer::palette`), so the tests find chart elements by exact
//! colour: anti-aliased edges and text blend colours, but the inside of every area, line and tick keeps its own.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{server, Image, Trace};
use gc_sim::{Collector, Report};
use visualizer::palette;
use visualizer::{
    comparison_chart, heap_chart, pause_chart, render_comparison, render_heap, render_pauses, ChartSize,
    HeapChartOptions, ImageFormat, VisualizerError,
};

/// Wide enough that scavenges 10 ms apart are several pixels apart (checked in `scavenge_ticks_are_separate`).
const WIDE: ChartSize = ChartSize { width: 1600, height: 900 };
/// The width of the legend panel on the right of every chart (26 % of the width, 230 to 360 pixels).
fn legend_width(image_width: u32) -> u32 {
    (f64::from(image_width) * 0.26).clamp(230.0, 360.0) as u32
}

struct Runs {
    leaky: Report,
    fixed: Report,
    dies: Report,
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| Runs {
        leaky: server("leaky", true, 120, ""),
        fixed: server("fixed", false, 120, ""),
        dies: server("leaky-small-heap", true, 120, r#""max_old_generation_size": 65536"#),
    })
}

fn wide() -> HeapChartOptions {
    HeapChartOptions { size: WIDE, ..HeapChartOptions::default() }
}

/// A directory for this test's files, kept for a person to look at.
fn out_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("charts").join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn start_times(report: &Report, collector: Collector) -> Vec<f64> {
    report.events.iter().filter(|e| e.collector == collector).map(|e| e.start_ms).collect()
}

/// Number of groups of `times` (sorted) separated by more than `gap_ms`.
fn clusters(times: &[f64], gap_ms: f64) -> usize {
    times.windows(2).filter(|w| w[1] - w[0] > gap_ms).count() + usize::from(!times.is_empty())
}

/// The plot's columns: left of the legend panel.
fn plot_columns(image: &Image) -> std::ops::Range<u32> {
    0..image.width - legend_width(image.width)
}

#[test]
fn the_workloads_behave_as_designed() {
    let r = runs();
    assert!(r.leaky.summary.live_old_bytes > 100_000, "the cache leaks: {}", r.leaky.summary.live_old_bytes);
    assert_eq!(r.fixed.summary.live_bytes, 0, "the fixed server keeps nothing");
    assert!(r.leaky.summary.oom.is_none() && r.fixed.summary.oom.is_none());
    assert!(r.dies.summary.oom.is_some(), "64 KiB of old generation is not enough for the leak");
    for report in [&r.leaky, &r.fixed, &r.dies] {
        assert!(report.summary.scavenges > 20, "{}: {}", report.name, report.summary.scavenges);
        assert!(report.summary.mark_compacts >= 3, "{}: {}", report.name, report.summary.mark_compacts);
        assert!(report.marks.len() >= 7);
    }
}

#[test]
fn the_leak_fills_old_space() {
    let r = runs();
    let leaky = Image::decode(&heap_chart(&r.leaky, ImageFormat::Png, &wide()).unwrap());
    let fixed = Image::decode(&heap_chart(&r.fixed, ImageFormat::Png, &wide()).unwrap());
    for image in [&leaky, &fixed] {
        assert_eq!((image.width, image.height), (WIDE.width, WIDE.height));
    }
    let plot = plot_columns(&leaky);
    let old_leaky = leaky.count(palette::OLD_SPACE, plot.clone());
    let old_fixed = fixed.count(palette::OLD_SPACE, plot.clone());
    let plot_pixels = (plot.end * leaky.height) as usize;
    assert!(old_leaky > plot_pixels / 10, "old space is a large part of the leaky chart: {old_leaky} px");
    assert!(old_leaky > 20 * old_fixed.max(1), "leaky {old_leaky} px, fixed {old_fixed} px of old space");
    // The fixed server's heap is new space only: its area is there, and large objects die young.
    assert!(fixed.count(palette::NEW_SPACE, plot.clone()) > plot_pixels / 20);
    assert!(leaky.count(palette::LARGE_OBJECT_SPACE, plot.clone()) > plot_pixels / 40, "the leaked buffers");
    assert_eq!(fixed.count(palette::LARGE_OBJECT_SPACE, plot), 0);
}

#[test]
fn scavenge_ticks_are_separate() {
    // The chart is wide enough for the test below to be exact: the plot is at least 60 % of the width, so two
    // scavenges `gap` ms apart are at least `gap × 0.6 × width / end` pixels apart, and 2 pixels keep two ticks
    // from touching.
    for report in [&runs().leaky, &runs().fixed, &runs().dies] {
        let times = start_times(report, Collector::Scavenge);
        let gap = times.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
        let pixels_per_ms = 0.6 * f64::from(WIDE.width) / report.summary.end_ms;
        assert!(gap * pixels_per_ms >= 2.0, "{}: scavenges {gap} ms apart", report.name);
    }
}

#[test]
fn every_scavenge_has_a_tick() {
    for report in [&runs().leaky, &runs().fixed, &runs().dies] {
        let image = Image::decode(&heap_chart(report, ImageFormat::Png, &wide()).unwrap());
        // The ticks are vertical: the row crossing them all has one run of the colour per scavenge. (The legend's
        // swatch is a single run on other rows, far above.)
        let (row, runs) =
            (0..image.height).map(|y| (y, image.runs_in_row(palette::SCAVENGE, y))).max_by_key(|r| r.1).unwrap();
        assert_eq!(runs as u64, report.summary.scavenges, "{}: row {row}", report.name);
        assert!(row > image.height * 3 / 4, "the ticks stand along the time axis, at the bottom: row {row}");
    }
}

#[test]
fn mark_compacts_marks_and_the_limit_are_drawn() {
    let r = runs();
    let image = Image::decode(&heap_chart(&r.leaky, ImageFormat::Png, &wide()).unwrap());
    let tall = image.height / 2;
    let lines = image.columns_with_vertical_run(palette::MARK_COMPACT, tall);
    let lines = lines.iter().filter(|&&x| plot_columns(&image).contains(&x)).count();
    assert_eq!(lines, clusters(&start_times(&r.leaky, Collector::MarkCompact), 5.0), "one line per mark-compact");
    assert!(image.count(palette::MARK, plot_columns(&image)) > 12 * 5, "a tick and a dotted line per mark");
    // The leaky run's limit is 512 MiB, far above the chart: only the legend's swatch shows its colour. On 64 KiB
    // the limit is in range: a dashed line across the plot.
    assert_eq!(image.count(palette::ALLOCATION_LIMIT, plot_columns(&image)), 0);
    let small = Image::decode(&heap_chart(&r.dies, ImageFormat::Png, &wide()).unwrap());
    assert!(small.count(palette::ALLOCATION_LIMIT, plot_columns(&small)) > 300, "the limit is in range, dashed");
}

#[test]
fn out_of_memory_is_a_red_line_with_the_message() {
    let report = &runs().dies;
    let oom = report.summary.oom.as_ref().unwrap();
    let image = Image::decode(&heap_chart(report, ImageFormat::Png, &wide()).unwrap());
    let red = image.columns_with_vertical_run(palette::OUT_OF_MEMORY, image.height / 2);
    assert!(!red.is_empty() && red.len() <= 3, "one 2-px line: columns {red:?}");
    let svg = String::from_utf8(heap_chart(report, ImageFormat::Svg, &wide()).unwrap()).unwrap();
    assert!(svg.contains(&oom.message), "the message is written on the chart");
    assert!(oom.message.contains("JavaScript heap out of memory"));
    let fine = Image::decode(&heap_chart(&runs().leaky, ImageFormat::Png, &wide()).unwrap());
    assert!(fine.columns_with_vertical_run(palette::OUT_OF_MEMORY, fine.height / 2).is_empty());
}

#[test]
fn pauses_show_both_collectors() {
    let r = runs();
    let path = out_dir("pauses").join("leaky-pauses.png");
    render_pauses(&r.leaky, &path).unwrap();
    let image = Image::decode(&std::fs::read(&path).unwrap());
    assert_eq!((image.width, image.height), (1280, 720), "the default size");
    let plot = plot_columns(&image);
    assert!(image.count(palette::SCAVENGE, plot.clone()) > 50 * r.leaky.summary.scavenges as usize / 2);
    assert!(image.count(palette::MARK_COMPACT, plot.clone()) > 10);
    // One stem per mark-compact (they are far apart), as tall as the longest pause at the top of the axis.
    let stems = image.columns_with_vertical_run(palette::MARK_COMPACT, image.height / 3);
    assert_eq!(stems.iter().filter(|&&x| x < plot.end).count() as u64, r.leaky.summary.mark_compacts);
    let svg = String::from_utf8(pause_chart(&r.leaky, ImageFormat::Svg, ChartSize::default()).unwrap()).unwrap();
    assert!(svg.contains(&format!("Scavenge: {}", r.leaky.summary.scavenges)), "the legend counts scavenges");
    assert!(svg.contains(&format!("Mark-Compact: {}", r.leaky.summary.mark_compacts)));
}

#[test]
fn the_comparison_shows_both_runs_on_one_scale() {
    let r = runs();
    let path = out_dir("comparison").join("leaky-vs-fixed.png");
    render_comparison(&[&r.leaky, &r.fixed], &path).unwrap();
    let image = Image::decode(&std::fs::read(&path).unwrap());
    assert_eq!((image.width, image.height), (1280, 720));
    let plot = plot_columns(&image);
    let (leaky, fixed) = (palette::comparison(0), palette::comparison(1));
    assert!(image.count(leaky, plot.clone()) > 1000, "the leaky run's old generation");
    assert!(image.count(fixed, plot.clone()) > 1000, "the fixed run's old generation, flat at zero");
    let leaky_top = image.top_row(leaky, plot.clone()).unwrap();
    let fixed_top = image.top_row(fixed, plot.clone()).unwrap();
    assert!(leaky_top + 300 < fixed_top, "the leak climbs high above the fix: rows {leaky_top} and {fixed_top}");
    // The whole-heap lines, lighter, are there too.
    assert!(image.count(leaky.lighten(0.45), plot.clone()) > 100);
    assert!(image.count(fixed.lighten(0.45), plot) > 100);
    let svg =
        String::from_utf8(comparison_chart(&[&r.leaky, &r.fixed], ImageFormat::Svg, ChartSize::default()).unwrap())
            .unwrap();
    assert!(svg.contains("leaky: old generation") && svg.contains("fixed: old generation"), "legend by name");
    assert!(svg.contains("Old generation over time: leaky vs fixed"));
}

#[test]
fn svg_paths_give_svg_with_the_title() {
    let r = runs();
    let dir = out_dir("svg");
    render_heap(&r.leaky, dir.join("heap.svg"), &HeapChartOptions::default()).unwrap();
    render_pauses(&r.leaky, dir.join("pauses.SVG")).unwrap();
    render_comparison(&[&r.leaky, &r.fixed], dir.join("comparison.svg")).unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let heap = read("heap.svg");
    assert!(heap.starts_with("<svg") && heap.trim_end().ends_with("</svg>"));
    assert!(heap.contains("leaky: heap by generation"));
    assert!(heap.contains("semi-space 8–32 KiB, old 4096 MiB"), "the configuration in the subtitle");
    assert!(heap.contains(r#"font-family="sans-serif""#), "text stays text, in a font every viewer has");
    assert!(heap.contains("simulated time (ms)") && heap.contains("bytes (KiB)"), "axes in human units");
    assert!(read("pauses.SVG").contains("leaky: GC pauses"));
    assert!(read("comparison.svg").starts_with("<svg"));
    render_heap(&r.leaky, dir.join("heap.png"), &HeapChartOptions::default()).unwrap();
    assert!(std::fs::read(dir.join("heap.png")).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn rendering_is_deterministic() {
    let r = runs();
    // Through JSON and back, as a report file would come from `gc-sim run --report`.
    let json = serde_json::to_string(&r.dies).unwrap();
    let reread: Report = serde_json::from_str(&json).unwrap();
    for format in [ImageFormat::Png, ImageFormat::Svg] {
        let heap = heap_chart(&r.dies, format, &wide()).unwrap();
        assert_eq!(heap, heap_chart(&r.dies, format, &wide()).unwrap(), "{format:?} heap chart");
        assert_eq!(heap, heap_chart(&reread, format, &wide()).unwrap(), "{format:?} heap chart from JSON");
        let pauses = pause_chart(&r.dies, format, ChartSize::default()).unwrap();
        assert_eq!(pauses, pause_chart(&reread, format, ChartSize::default()).unwrap(), "{format:?} pauses");
        let both = [&r.leaky, &r.dies];
        let comparison = comparison_chart(&both, format, ChartSize::default()).unwrap();
        assert_eq!(comparison, comparison_chart(&both, format, ChartSize::default()).unwrap(), "{format:?}");
    }
    let dir = out_dir("determinism");
    render_heap(&r.dies, dir.join("a.png"), &wide()).unwrap();
    render_heap(&r.dies, dir.join("b.png"), &wide()).unwrap();
    assert_eq!(std::fs::read(dir.join("a.png")).unwrap(), std::fs::read(dir.join("b.png")).unwrap());
}

#[test]
fn a_run_without_collections_still_renders() {
    let mut trace = Trace::new("quiet", "");
    trace.alloc(64, 0, "tiny");
    trace.event(r#"{"op": "tick", "ms": 3}"#);
    trace.event(r#"{"op": "mark", "label": "idle"}"#);
    let report = trace.report();
    assert!(report.events.is_empty());
    let image = Image::decode(&heap_chart(&report, ImageFormat::Png, &wide()).unwrap());
    assert_eq!(image.count(palette::SCAVENGE, plot_columns(&image)), 0, "no tick without a scavenge");
    assert!(image.count(palette::NEW_SPACE, plot_columns(&image)) > 1000, "the 64 bytes fill the new-space area");
    let pauses = pause_chart(&report, ImageFormat::Svg, ChartSize::default()).unwrap();
    assert!(String::from_utf8(pauses).unwrap().contains("no garbage collection in this run"));
    comparison_chart(&[&report], ImageFormat::Png, ChartSize::default()).unwrap();

    // Nothing at all happened: one sample at t = 0.
    let empty = Trace::new("nothing", "").report();
    assert_eq!(empty.summary.end_ms, 0.0);
    for format in [ImageFormat::Png, ImageFormat::Svg] {
        heap_chart(&empty, format, &HeapChartOptions::default()).unwrap();
        pause_chart(&empty, format, ChartSize::default()).unwrap();
        comparison_chart(&[&empty, &report], format, ChartSize::default()).unwrap();
    }
}

#[test]
fn empty_reports_and_bad_requests_are_errors() {
    let mut empty = runs().fixed.clone();
    empty.timeline.clear();
    let err = heap_chart(&empty, ImageFormat::Png, &HeapChartOptions::default()).unwrap_err();
    assert!(matches!(err, VisualizerError::EmptyReport { ref name, .. } if name == "fixed"), "{err}");
    let err = comparison_chart(&[&runs().leaky, &empty], ImageFormat::Png, ChartSize::default()).unwrap_err();
    assert!(matches!(err, VisualizerError::EmptyReport { .. }), "{err}");
    pause_chart(&empty, ImageFormat::Png, ChartSize::default()).expect("the events alone are enough for pauses");
    empty.events.clear();
    let err = pause_chart(&empty, ImageFormat::Png, ChartSize::default()).unwrap_err();
    assert!(matches!(err, VisualizerError::EmptyReport { .. }), "{err}");
    assert!(matches!(comparison_chart(&[], ImageFormat::Png, ChartSize::default()), Err(VisualizerError::NoReports)));

    let tiny = HeapChartOptions { size: ChartSize { width: 100, height: 50 }, ..HeapChartOptions::default() };
    let err = heap_chart(&runs().leaky, ImageFormat::Png, &tiny).unwrap_err();
    assert!(matches!(err, VisualizerError::InvalidSize { width: 100, height: 50 }), "{err}");

    let missing = out_dir("errors").join("no-such-directory").join("heap.png");
    let err = render_heap(&runs().leaky, &missing, &HeapChartOptions::default()).unwrap_err();
    match &err {
        VisualizerError::Io { path, .. } => assert_eq!(path, &missing),
        other => panic!("expected an I/O error, got {other}"),
    }
    assert!(err.to_string().contains("no-such-directory"), "{err}");
}

#[test]
fn many_marks_get_a_readable_subset_of_labels() {
    let mut trace = Trace::new("chatty", "");
    for i in 0..300 {
        trace.event(&format!(r#"{{"op": "mark", "label": "step {i}"}}"#));
        trace.alloc(400, 0, "garbage");
        trace.event(r#"{"op": "tick", "ms": 1}"#);
    }
    let report = trace.report();
    assert_eq!(report.marks.len(), 300);
    let options = HeapChartOptions::default();
    let svg = String::from_utf8(heap_chart(&report, ImageFormat::Svg, &options).unwrap()).unwrap();
    let labels = (0..300).filter(|i| svg.contains(&format!("\nstep {i}\n"))).count();
    assert!(labels >= 5, "some marks are labelled: {labels}");
    assert!(labels <= options.max_mark_labels, "{labels} labels, at most {}", options.max_mark_labels);
    assert!(svg.contains(&format!("trace mark (300, {labels} labelled)")), "the legend says how many");
    let few = HeapChartOptions { max_mark_labels: 3, ..HeapChartOptions::default() };
    let svg = String::from_utf8(heap_chart(&report, ImageFormat::Svg, &few).unwrap()).unwrap();
    assert_eq!((0..300).filter(|i| svg.contains(&format!("\nstep {i}\n"))).count(), 3);
}

#[test]
fn ten_thousand_collections_render_quickly() {
    let mut trace = Trace::new("busy", "");
    let keep = trace.alloc(64, 1, "root");
    trace.event(&format!(r#"{{"op": "root", "id": {keep}, "root": "r"}}"#));
    for i in 0..10_000 {
        let o = trace.alloc(48, 0, "garbage");
        if i % 100 == 0 {
            trace.write(keep, 0, o);
        }
        trace.event(r#"{"op": "tick", "ms": 0.5}"#);
        trace.event(if i % 1000 == 999 {
            r#"{"op": "gc", "kind": "major"}"#
        } else {
            r#"{"op": "gc", "kind": "minor"}"#
        });
    }
    let report = trace.report();
    assert_eq!(report.summary.scavenges + report.summary.mark_compacts, 10_000);
    assert!(report.events.len() <= gc_sim::MAX_KEPT_EVENTS, "a sample of the collections");
    // The pause chart's legend counts every collection, from the summary.
    let s = &report.summary;
    let svg = String::from_utf8(pause_chart(&report, ImageFormat::Svg, ChartSize::default()).unwrap()).unwrap();
    for (name, count) in [("Scavenge", s.scavenges), ("Mark-Compact", s.mark_compacts)] {
        let count = count.to_string();
        let count = if count.len() > 3 {
            format!("{},{}", &count[..count.len() - 3], &count[count.len() - 3..])
        } else {
            count
        };
        assert!(svg.contains(&format!("{name}: {count} · ")), "{name}: {count} in the legend");
    }
    let dir = out_dir("large");
    // Rendering time is a benchmark figure, not a test assertion: this checks that a large report renders.
    render_heap(&report, dir.join("heap.png"), &HeapChartOptions::default()).unwrap();
    render_heap(&report, dir.join("heap.svg"), &HeapChartOptions::default()).unwrap();
    render_pauses(&report, dir.join("pauses.png")).unwrap();
    render_comparison(&[&report, &runs().leaky], dir.join("comparison.png")).unwrap();
    // Downsampled, the SVG stays small: about one point per pixel column per series.
    let svg_size = std::fs::metadata(dir.join("heap.svg")).unwrap().len();
    assert!(svg_size < 1_500_000, "{svg_size} bytes");
}

/// Writes every chart of the three runs where a person can look at them (`target/tmp/charts/gallery`).
#[test]
fn gallery() {
    let r = runs();
    let dir = out_dir("gallery");
    for report in [&r.leaky, &r.fixed, &r.dies] {
        render_heap(report, dir.join(format!("{}-heap.png", report.name)), &HeapChartOptions::default()).unwrap();
        render_pauses(report, dir.join(format!("{}-pauses.png", report.name))).unwrap();
    }
    render_comparison(&[&r.leaky, &r.fixed, &r.dies], dir.join("comparison.png")).unwrap();
    render_heap(&r.dies, dir.join("leaky-small-heap-heap.svg"), &HeapChartOptions::default()).unwrap();
}

/// Runs of one trace are named by the settings in which their heap configurations differ, not `#1`, `#2`.
#[test]
fn runs_of_one_trace_are_named_by_the_settings_that_differ() {
    let r = runs();
    let small = server("leaky", true, 120, r#""max_old_generation_size": 65536"#);
    let svg = String::from_utf8(comparison_chart(&[&r.leaky, &small], ImageFormat::Svg, ChartSize::default()).unwrap())
        .unwrap();
    assert!(svg.contains("old 64 KiB: old generation"), "the second run by its old generation");
    assert!(!svg.contains("#2"), "no series named by its place");
}

/// More than four runs are small multiples: a panel each, titled by its settings, with its outcome, on the same axes.
#[test]
fn many_runs_are_small_multiples_titled_by_their_settings() {
    let reports: Vec<Report> = [1u64, 2, 3, 4, 6, 8, 12, 16, 32]
        .iter()
        .map(|pages| server("leaky", true, 120, &format!(r#""max_old_generation_size": {}"#, pages * 16384)))
        .collect();
    let all: Vec<&Report> = reports.iter().collect();
    let svg = String::from_utf8(comparison_chart(&all, ImageFormat::Svg, ChartSize::default()).unwrap()).unwrap();
    std::fs::write(out_dir("panels").join("panels.svg"), &svg).unwrap();
    assert!(svg.contains("9 runs of leaky"), "the title counts the runs");
    for kib in [16, 32, 48, 64, 96, 128, 192, 256, 512] {
        assert!(svg.contains(&format!("\nold {kib} KiB\n")), "a panel titled old {kib} KiB");
    }
    let died = reports.iter().filter(|r| r.summary.oom.is_some()).count();
    assert!(died > 0 && died < 9, "{died} of the runs died: the grid shows both outcomes");
    assert_eq!(svg.matches("out of memory at").count(), died, "each dead run's panel says so");
    assert_eq!(svg.matches("· survived").count(), 9 - died);
    // PNG: one ring of out-of-memory red per dead run, whatever the layout; the grid's columns, for a 1-D list,
    // about the square root of its length.
    assert_eq!(visualizer::grid_columns(&all), 3);
    let size = visualizer::panels_size(all.len(), 3);
    let png = visualizer::sweep_chart(&all, all.len(), 3, ImageFormat::Png, size).unwrap();
    let image = Image::decode(&png);
    assert_eq!((image.width, image.height), (size.width, size.height));
    assert!(image.count(palette::OUT_OF_MEMORY, 0..image.width) > 20 * died);
    assert_eq!(png, visualizer::sweep_chart(&all, all.len(), 3, ImageFormat::Png, size).unwrap(), "deterministic");
}
