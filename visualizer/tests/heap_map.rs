//! The heap map, rendered from real replays of `examples/traces/` and decoded pixel by pixel.
//!
//! Maps before and after a collection are taken the way `gc-sim run` takes them: the heap is asked for them
//! (`Replay::heap_maps`, `HeapMapRecorder::request`) before the trace's events are applied. The collection numbers come from a first
//! replay of the same trace, so that the tests follow the traces if they change.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::Image;
use gc_sim::heap_map::{Cell, PageMap, CELLS_PER_PAGE};
use gc_sim::trace::{read_trace, Flow, Problem, TraceEvent, TraceHeader, TraceVisitor};
use gc_sim::{Collector, HeapMap, HeapMapMoment, Replay, Report, Space};
use visualizer::palette::{self, Rgb};
use visualizer::{
    heap_map_chart, render_heap_map, ChartSize, HeapMapColoring, HeapMapOptions, ImageFormat, VisualizerError,
};

/// The width of the legend panel on the right of every chart (26 % of the width, 230 to 360 pixels).
fn legend_width(image_width: u32) -> u32 {
    (f64::from(image_width) * 0.26).clamp(230.0, 360.0) as u32
}

/// The plot's columns: left of the legend panel.
fn plot_columns(image: &Image) -> std::ops::Range<u32> {
    0..image.width - legend_width(image.width)
}

fn legend_columns(image: &Image) -> std::ops::Range<u32> {
    image.width - legend_width(image.width)..image.width
}

/// Every colour a cell can have in the colouring by state.
const CELL_COLORS: [Rgb; 5] = [
    palette::HEAP_MAP_LIVE,
    palette::HEAP_MAP_DEAD,
    palette::HEAP_MAP_WASTE,
    palette::HEAP_MAP_FREE,
    palette::HEAP_MAP_HEADER,
];

fn trace_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/traces").join(file)
}

/// Replays an example trace, with heap maps requested at `moments` and at the end.
fn replay_example(file: &str, moments: &[HeapMapMoment]) -> Report {
    struct Requesting<'a> {
        moments: &'a [HeapMapMoment],
        replay: Option<Replay>,
    }
    impl TraceVisitor for Requesting<'_> {
        fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
            let replay = Replay::from_header(&header, |_| Ok(()))?;
            for &moment in self.moments.iter().chain(&[HeapMapMoment::End]) {
                replay.heap_maps().request(moment);
            }
            self.replay = Some(replay);
            Ok(())
        }

        fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
            self.replay.as_mut().expect("the header comes first").apply(event)
        }
    }
    let bytes = std::fs::read(trace_path(file)).unwrap();
    let mut visitor = Requesting { moments, replay: None };
    read_trace(&bytes[..], file, None, &mut visitor).unwrap_or_else(|e| panic!("{file} replays: {e}"));
    Report::new(&visitor.replay.expect("a header"), None)
}

/// The replay of an example with the end map only.
fn plain(file: &str) -> Report {
    replay_example(file, &[])
}

/// The number of the last mark-compact of `report`.
fn last_mark_compact(report: &Report) -> u64 {
    report.events.iter().rev().find(|e| e.collector == Collector::MarkCompact).expect("a mark-compact").number
}

struct Examples {
    leak: Report,
    fixed: Report,
    /// `fixed.ndjson` with maps before and after its last mark-compact.
    fixed_around_mark_compact: Report,
    /// `leak.json` with maps before and after every collection.
    leak_everything: Report,
}

fn examples() -> &'static Examples {
    static EXAMPLES: OnceLock<Examples> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let leak = plain("leak.json");
        let fixed = plain("fixed.ndjson");
        let n = last_mark_compact(&fixed);
        let fixed_around_mark_compact =
            replay_example("fixed.ndjson", &[HeapMapMoment::Before(n), HeapMapMoment::After(n)]);
        let all: Vec<HeapMapMoment> = leak
            .events
            .iter()
            .flat_map(|e| [HeapMapMoment::Before(e.number), HeapMapMoment::After(e.number)])
            .collect();
        let leak_everything = replay_example("leak.json", &all);
        Examples { leak, fixed, fixed_around_mark_compact, leak_everything }
    })
}

/// A directory for this test's files, kept for a person to look at.
fn out_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("heap_map").join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn png(report: &Report, options: &HeapMapOptions) -> Image {
    Image::decode(&heap_map_chart(report, ImageFormat::Png, options).unwrap())
}

fn svg(report: &Report, options: &HeapMapOptions) -> String {
    String::from_utf8(heap_map_chart(report, ImageFormat::Svg, options).unwrap()).unwrap()
}

fn at(moments: &[HeapMapMoment]) -> HeapMapOptions {
    HeapMapOptions { moments: Some(moments.to_vec()), ..HeapMapOptions::default() }
}

/// The most runs of cell-coloured pixels down one column with x in `xs`: the rows of cells of a column of pages.
fn most_rows(image: &Image, xs: std::ops::Range<u32>) -> usize {
    let colors: Vec<[u8; 3]> = CELL_COLORS.iter().map(|c| c.to_array()).collect();
    xs.map(|x| {
        let mut runs = 0;
        let mut inside = false;
        for y in 0..image.height {
            let hit = colors.contains(&image.at(x, y));
            if hit && !inside {
                runs += 1;
            }
            inside = hit;
        }
        runs
    })
    .max()
    .unwrap_or(0)
}

#[test]
fn the_examples_have_the_maps_the_tests_need() {
    let e = examples();
    assert_eq!(e.leak.heap_maps.len(), 1, "the end map only");
    assert_eq!(e.leak.heap_maps[0].moment, HeapMapMoment::End);
    let maps = &e.fixed_around_mark_compact.heap_maps;
    assert_eq!(maps.len(), 3, "before, after and end");
    assert_eq!(maps[0].collector, Some(Collector::MarkCompact));
    let dead = |m: &HeapMap| [Space::New, Space::Old].iter().map(|&s| m.totals(s).1).sum::<u64>();
    assert!(dead(&maps[0]) > 100_000, "garbage before the mark-compact: {}", dead(&maps[0]));
    assert_eq!(dead(&maps[1]), 0, "none after it");
    assert!(e.leak.heap_maps[0].totals(Space::Old).0 > 20 * e.fixed.heap_maps[0].totals(Space::Old).0.max(1));
}

#[test]
fn every_page_is_a_row_of_cells() {
    let e = examples();
    for report in [&e.leak, &e.fixed] {
        let path = out_dir("rows").join(format!("{}.png", report.name.replace(' ', "-")));
        render_heap_map(report, &path, &HeapMapOptions::default()).unwrap();
        let image = Image::decode(&std::fs::read(&path).unwrap());
        assert_eq!((image.width, image.height), (1280, 720), "the default size");
        let pages = report.heap_maps[0].pages.len();
        assert_eq!(most_rows(&image, plot_columns(&image)), pages, "{}: one row per page", report.name);
    }
    // Two panels side by side: each has its own rows.
    let report = &e.fixed_around_mark_compact;
    let moments: Vec<HeapMapMoment> = report.heap_maps[..2].iter().map(|m| m.moment).collect();
    let image = png(report, &at(&moments));
    let middle = plot_columns(&image).end / 2;
    assert_eq!(most_rows(&image, 0..middle), report.heap_maps[0].pages.len());
    assert_eq!(most_rows(&image, middle..plot_columns(&image).end), report.heap_maps[1].pages.len());
}

#[test]
fn the_leak_is_live_old_space_and_the_fix_is_not() {
    let e = examples();
    let leak = png(&e.leak, &HeapMapOptions::default());
    let fixed = png(&e.fixed, &HeapMapOptions::default());
    let plot = plot_columns(&leak);
    let (leak_live, fixed_live) =
        (leak.count(palette::HEAP_MAP_LIVE, plot.clone()), fixed.count(palette::HEAP_MAP_LIVE, plot.clone()));
    assert!(leak_live > 5_000, "the leaked connections fill old-space cells: {leak_live} px");
    assert!(leak_live > 10 * fixed_live, "leak {leak_live} px, fixed {fixed_live} px of live cells");
    // After the final full GC nothing is dead in either.
    assert_eq!(leak.count(palette::HEAP_MAP_DEAD, plot.clone()), 0);
    assert!(fixed.count(palette::HEAP_MAP_FREE, plot) > leak_live / 2, "the fixed heap is mostly free");
}

#[test]
fn a_mark_compact_clears_the_dead_cells() {
    let report = &examples().fixed_around_mark_compact;
    let n = last_mark_compact(report);
    let options = at(&[HeapMapMoment::Before(n), HeapMapMoment::After(n)]);
    let path = out_dir("mark_compact").join("fixed-before-after.png");
    render_heap_map(report, &path, &options).unwrap();
    let image = Image::decode(&std::fs::read(&path).unwrap());
    let middle = plot_columns(&image).end / 2;
    let before = image.count(palette::HEAP_MAP_DEAD, 0..middle);
    let after = image.count(palette::HEAP_MAP_DEAD, middle..plot_columns(&image).end);
    assert!(before > 1_000, "dead cells before: {before} px");
    assert!(after < before / 10, "fewer dead cells after: {after} px, before {before} px");
    let text = svg(report, &options);
    assert!(text.contains(&format!("before GC #{n} (Mark-Compact)")), "panel titles name the moment");
    assert!(text.contains(&format!("after GC #{n} (Mark-Compact)")));
    assert!(text.contains("fixed ticker server (miniature): heap maps"), "the trace's name in the title");
    assert!(text.contains("semi-space 256 KiB–1 MiB"), "the configuration in the subtitle");
    assert!(text.contains("dead, not yet collected: "), "the legend's totals per panel");
}

#[test]
fn kind_and_tag_colouring_use_the_legend_colours() {
    let report = &examples().leak;
    let by_kind = HeapMapOptions { color_by: HeapMapColoring::Kind, ..HeapMapOptions::default() };
    let image = png(report, &by_kind);
    let (plot, legend) = (plot_columns(&image), legend_columns(&image));
    assert_eq!(image.count(palette::HEAP_MAP_LIVE, plot.clone()), 0, "live cells take their kind's colour");
    // The kinds with live bytes, each with a colour of its own (or `other`).
    let map = &report.heap_maps[0];
    let kinds: std::collections::BTreeSet<u32> =
        map.pages.iter().flat_map(|p| &p.cells).filter(|c| c.live > 0).filter_map(|c| c.kind).collect();
    assert!(kinds.len() >= 4, "{kinds:?}");
    let colored = kinds.len().min(palette::HEAP_MAP_LABELS.len());
    for rank in 0..colored {
        let color = palette::heap_map_label(rank);
        assert!(image.count(color, plot.clone()) > 0, "rank {rank}: cells in {color:?}");
        assert!(image.count(color, legend.clone()) >= 24 * 10, "rank {rank}: a legend swatch in {color:?}");
    }
    assert_eq!(image.count(palette::heap_map_label(colored), plot.clone()), 0, "no colour beyond the ranks");
    let text = svg(report, &by_kind);
    assert!(text.contains("Live bytes by dominant kind"));
    assert!(text.contains("Buffer: ") && text.contains("KoaContext: "), "kinds by name, with their bytes");

    let by_tag = HeapMapOptions { color_by: HeapMapColoring::Tag, ..HeapMapOptions::default() };
    let text = svg(report, &by_tag);
    assert!(text.contains("conn-1: ") && text.contains("other tags"), "16 connections: 10 colours and the rest");
    let image = png(report, &by_tag);
    assert!(image.count(palette::HEAP_MAP_OTHER_LABEL, plot_columns(&image)) > 0);
    assert!(image.count(palette::HEAP_MAP_OTHER_LABEL, legend_columns(&image)) > 0);
}

#[test]
fn rendering_is_deterministic() {
    let report = &examples().leak_everything;
    let json = serde_json::to_string(report).unwrap();
    let reread: Report = serde_json::from_str(&json).unwrap();
    let n = last_mark_compact(report);
    for options in [
        HeapMapOptions::default(),
        HeapMapOptions {
            moments: Some(vec![HeapMapMoment::Before(n), HeapMapMoment::After(n), HeapMapMoment::End]),
            color_by: HeapMapColoring::Tag,
            size: ChartSize { width: 1600, height: 900 },
        },
    ] {
        for format in [ImageFormat::Png, ImageFormat::Svg] {
            let first = heap_map_chart(report, format, &options).unwrap();
            assert_eq!(first, heap_map_chart(report, format, &options).unwrap(), "{format:?}");
            assert_eq!(first, heap_map_chart(&reread, format, &options).unwrap(), "{format:?} from JSON");
        }
    }
}

#[test]
fn missing_maps_are_errors_that_list_the_moments() {
    let report = &examples().fixed_around_mark_compact;
    let n = last_mark_compact(report);
    let err = heap_map_chart(report, ImageFormat::Png, &at(&[HeapMapMoment::Before(999)])).unwrap_err();
    match &err {
        VisualizerError::MissingHeapMap { moment, available, .. } => {
            assert_eq!(*moment, HeapMapMoment::Before(999));
            assert_eq!(available, &[HeapMapMoment::Before(n), HeapMapMoment::After(n), HeapMapMoment::End]);
        }
        other => panic!("expected a missing heap map, got {other}"),
    }
    let message = err.to_string();
    assert!(message.contains("before:999"), "{message}");
    assert!(message.contains(&format!("before:{n}, after:{n}, end")), "{message}");

    let mut old = report.clone();
    old.heap_maps.clear();
    let err = heap_map_chart(&old, ImageFormat::Png, &HeapMapOptions::default()).unwrap_err();
    assert!(matches!(err, VisualizerError::EmptyReport { .. }), "{err}");
    assert!(err.to_string().contains("no heap map"), "{err}");

    let tiny = HeapMapOptions { size: ChartSize { width: 100, height: 50 }, ..HeapMapOptions::default() };
    let err = heap_map_chart(report, ImageFormat::Png, &tiny).unwrap_err();
    assert!(matches!(err, VisualizerError::InvalidSize { width: 100, height: 50 }), "{err}");
    // The smallest size still draws.
    let small = HeapMapOptions {
        size: ChartSize { width: ChartSize::MIN_WIDTH, height: ChartSize::MIN_HEIGHT },
        ..HeapMapOptions::default()
    };
    let image = png(report, &small);
    assert!(image.count(palette::HEAP_MAP_FREE, plot_columns(&image)) > 0);
}

#[test]
fn large_objects_get_rows_of_their_own() {
    // The chart tests' leaky server on 4 KiB pages: every tenth request leaks a 3000-byte large object.
    let report = common::server("leaky", true, 120, "");
    let map = &report.heap_maps[0];
    let large = map.pages.iter().filter(|p| p.space == Space::LargeObject).count();
    assert!(large >= 10, "{large} large-object pages");
    let image = png(&report, &HeapMapOptions::default());
    assert_eq!(most_rows(&image, plot_columns(&image)), map.pages.len(), "one row per page");
    let text = svg(&report, &HeapMapOptions::default());
    assert!(text.contains(&format!("\nlarge-object space · {large} pages · ")), "a heading for the space");
    // A large page is 3000 bytes of object in a page of 4 KiB: its cells end in header-coloured rounding.
    assert!(image.count(palette::HEAP_MAP_HEADER, plot_columns(&image)) > large * 64);
    render_heap_map(&report, out_dir("large_objects").join("server.png"), &HeapMapOptions::default()).unwrap();
}

/// A map of `old_pages` old-space pages, alternately full of live objects and free, after one new-space page.
fn synthetic(old_pages: u32) -> Report {
    let mut report = examples().leak.clone();
    let page = |space: Space, page: u32, cell: Cell| PageMap {
        space,
        page,
        bytes: 262_144,
        cell_bytes: 4096,
        cells: vec![cell; CELLS_PER_PAGE as usize],
    };
    let live = Cell { live: 4096, ..Cell::default() };
    let free = Cell { free: 4096, ..Cell::default() };
    let mut pages = vec![page(Space::New, 0, free)];
    pages.extend((0..old_pages).map(|i| page(Space::Old, i, if i % 2 == 0 { live } else { free })));
    report.heap_maps =
        vec![HeapMap { moment: HeapMapMoment::End, t_ms: 1000.0, collector: None, labels: Vec::new(), pages }];
    report
}

#[test]
fn large_heaps_keep_the_image_size() {
    let dir = out_dir("large");
    // 2,000 pages fit, in several columns of thin rows.
    let report = synthetic(2_000);
    render_heap_map(&report, dir.join("2000-pages.png"), &HeapMapOptions::default()).unwrap();
    let image = Image::decode(&std::fs::read(dir.join("2000-pages.png")).unwrap());
    assert_eq!((image.width, image.height), (1280, 720));
    let live = image.count(palette::HEAP_MAP_LIVE, plot_columns(&image));
    let free = image.count(palette::HEAP_MAP_FREE, plot_columns(&image));
    assert!(live > 1_000 * 64, "a row of at least 64 px per live page: {live} px");
    assert!(free > live, "as many free pages, plus new space: {free} px free, {live} px live");
    let text = svg(&report, &HeapMapOptions::default());
    assert!(!text.contains("more pages"), "everything fits");
    assert!(text.contains("\n2,001 pages · live 250 MiB · dead 0 B"), "the panel's totals");
    assert!(text.contains("\nold space\n"), "the space's heading, as long as the narrow column allows");
    assert!(text.contains("\nold space (cont.)\n"), "the pages wrap into more columns");

    // 20,000 do not: the first ones are drawn, the rest counted.
    let report = synthetic(20_000);
    let image = png(&report, &HeapMapOptions::default());
    assert_eq!((image.width, image.height), (1280, 720));
    let text = svg(&report, &HeapMapOptions::default());
    let note = text.find(" more pages not shown · 20,001 pages").expect("a note says how many pages are left out");
    let hidden: u32 = text[..note].rsplit_once('+').unwrap().1.replace(',', "").parse().unwrap();
    assert!((10_000..20_000).contains(&hidden), "{hidden} pages left out");
    assert!(text.contains("pages did not fit and are left out"), "the legend says so");
    assert!(text.contains("live 2.44 GiB"), "the totals count every page");
    let svg_size = text.len();
    assert!(svg_size < 3_000_000, "identical cells merge into one rectangle: {svg_size} bytes");

    // Many maps: rows of panels, then the first ones only.
    let report = &examples().leak_everything;
    let maps = report.heap_maps.len();
    assert!((10..=20).contains(&maps), "{maps} maps");
    let text = svg(report, &HeapMapOptions::default());
    assert!(text.contains(&format!(" · {maps} heap maps · ")), "all fit in rows of panels at 1280 × 720");
    let small = HeapMapOptions { size: ChartSize { width: 640, height: 360 }, ..HeapMapOptions::default() };
    let text = svg(report, &small);
    assert!(text.contains(&format!(" · 4 of {maps} heap maps (no room for more)")), "the subtitle says so");
}

/// Writes heap maps of the examples where a person can look at them (`target/tmp/heap_map/gallery`), through the
/// file API, and checks that each file is a whole image of the default size.
#[test]
fn gallery_files_are_whole_images() {
    let e = examples();
    let dir = out_dir("gallery");
    let n = last_mark_compact(&e.leak_everything);
    let around = [HeapMapMoment::Before(n), HeapMapMoment::After(n)];
    render_heap_map(&e.leak, dir.join("leak-end.png"), &HeapMapOptions::default()).unwrap();
    render_heap_map(&e.fixed, dir.join("fixed-end.png"), &HeapMapOptions::default()).unwrap();
    render_heap_map(&e.leak_everything, dir.join("leak-around-mc.png"), &at(&around)).unwrap();
    render_heap_map(&e.leak_everything, dir.join("leak-around-mc.svg"), &at(&around)).unwrap();
    let m = last_mark_compact(&e.fixed_around_mark_compact);
    let fixed = at(&[HeapMapMoment::Before(m), HeapMapMoment::After(m)]);
    render_heap_map(&e.fixed_around_mark_compact, dir.join("fixed-around-mc.png"), &fixed).unwrap();
    for (coloring, name) in [(HeapMapColoring::Kind, "kind"), (HeapMapColoring::Tag, "tag")] {
        let options = HeapMapOptions { color_by: coloring, ..at(&around) };
        render_heap_map(&e.leak_everything, dir.join(format!("leak-by-{name}.png")), &options).unwrap();
    }
    render_heap_map(&e.leak_everything, dir.join("leak-all.png"), &HeapMapOptions::default()).unwrap();
    let oom = plain("oom.json");
    render_heap_map(&oom, dir.join("oom-end.png"), &HeapMapOptions::default()).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if path.extension().is_some_and(|e| e == "svg") {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"), "{}", path.display());
            assert!(text.contains(r#"width="1280""#) && text.contains(r#"height="720""#), "{}", path.display());
        } else {
            let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
            let reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let info = reader.info();
            assert_eq!((info.width, info.height), (1280, 720), "{}", path.display());
        }
    }
}
