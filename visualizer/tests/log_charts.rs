//! The charts of a real run read from a Node GC log (`log_heap_chart`, `log_pause_chart`, `log_comparison_chart`),
//! decoded and checked pixel by pixel, on the seed's leaky ticker server dying at `--max-old-space-size=64`
//! (`../shared/real-inputs/ticker/oom-old64`: 52 scavenges and 528 mark-compacts, counted with `grep -c`).

mod common;

use std::path::PathBuf;

use common::{server, Image};
use gc_sim::gc_log::{LogEvent, LogReader, LogReport, LogSummary, Record};
use visualizer::palette;
use visualizer::{log_comparison_chart, log_heap_chart, log_pause_chart, ChartSize, ImageFormat, VisualizerError};

fn legend_width(image_width: u32) -> u32 {
    (f64::from(image_width) * 0.26).clamp(230.0, 360.0) as u32
}

/// The report of `text` as `gc-sim log` builds it.
fn read(inputs: &[(&str, &[u8])]) -> LogReport {
    let mut summary = LogSummary::default();
    let mut events = Vec::new();
    for (name, bytes) in inputs {
        let mut reader = LogReader::new(*bytes, *name);
        while let Some(record) = reader.next_record().unwrap() {
            if let Record::Gc(gc) = &record {
                events.push(LogEvent::new(events.len() as u64 + 1, gc));
            }
            summary.add(&record);
        }
        summary.finish(&reader);
    }
    LogReport::new(&summary, events, Some(64.0))
}

fn oom_run() -> LogReport {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/real-inputs/ticker/oom-old64");
    let out = std::fs::read(dir.join("gc.log")).unwrap();
    let err = std::fs::read(dir.join("server.stderr")).unwrap();
    read(&[("gc.log", &out), ("server.stderr", &err)])
}

#[test]
fn real_heap_chart_draws_the_heap_the_collections_and_the_death() {
    let log = oom_run();
    assert_eq!((log.summary.scavenges, log.summary.mark_compacts), (52, 528));
    let size = ChartSize { width: 1280, height: 720 };
    let image = Image::decode(&log_heap_chart(&log, ImageFormat::Png, size).unwrap());
    assert_eq!((image.width, image.height), (1280, 720));
    let plot = 0..image.width - legend_width(image.width);
    assert!(image.count(palette::REAL_HEAP, plot.clone()) > 2_000, "the heap line is drawn");
    assert!(image.count(palette::SCAVENGE, plot.clone()) > 52, "scavenge ticks");
    let full = image.columns_with_vertical_run(palette::MARK_COMPACT, 300);
    let death = image.columns_with_vertical_run(palette::OUT_OF_MEMORY, 300);
    let death: Vec<u32> = death.into_iter().filter(|x| plot.contains(x)).collect();
    assert!(!death.is_empty(), "the death is a full-height red line");
    assert!(full.len() > 40, "mark-compacts are full-height lines: {}", full.len());
    assert!(full.iter().all(|x| x < &death[0]), "every mark-compact comes before the death");
    // The heap line rises: its topmost pixel is right of the middle of the plot, near the death.
    let heap_top = image.top_row(palette::REAL_HEAP, plot.clone()).unwrap();
    let left_half_top = image.top_row(palette::REAL_HEAP, 0..plot.end / 2).unwrap();
    assert!(heap_top < left_half_top, "the leak grows: top {heap_top}, left half's top {left_half_top}");
}

#[test]
fn real_heap_chart_svg_names_the_figures_and_the_death() {
    let log = oom_run();
    let svg = String::from_utf8(log_heap_chart(&log, ImageFormat::Svg, ChartSize::default()).unwrap()).unwrap();
    for text in
        ["scavenge (52)", "mark-compact (528)", "real run out of memory at 91.7 s", "JavaScript heap out of memory"]
    {
        assert!(svg.contains(text), "{text}");
    }
    let again = log_heap_chart(&log, ImageFormat::Svg, ChartSize::default()).unwrap();
    assert_eq!(svg.as_bytes(), &again[..], "deterministic");
}

#[test]
fn real_pause_chart_draws_each_collector() {
    let log = oom_run();
    let image = Image::decode(&log_pause_chart(&log, ImageFormat::Png, ChartSize::default()).unwrap());
    let plot = 0..image.width - legend_width(image.width);
    assert!(image.count(palette::SCAVENGE, plot.clone()) > 52 * 5);
    assert!(image.count(palette::MARK_COMPACT, plot.clone()) > 528 * 5);
    // The longest pause (57.1 ms, a mark-compact) is the tallest stem.
    let top_full = image.top_row(palette::MARK_COMPACT, plot.clone()).unwrap();
    let top_young = image.top_row(palette::SCAVENGE, plot.clone()).unwrap();
    assert!(top_full < top_young, "mark-compact pauses are the longest");
    let svg = String::from_utf8(log_pause_chart(&log, ImageFormat::Svg, ChartSize::default()).unwrap()).unwrap();
    assert!(svg.contains("scavenge: 52"), "legend counts");
    assert!(svg.contains("mark-compact: 528"), "legend counts");
    assert!(svg.contains("57.1 ms"), "the longest pause");
}

#[test]
fn a_log_with_no_collection_is_an_error_not_an_empty_chart() {
    let log = read(&[("program.log", b"hello\nworld\n")]);
    for result in [
        log_heap_chart(&log, ImageFormat::Png, ChartSize::default()),
        log_pause_chart(&log, ImageFormat::Png, ChartSize::default()),
    ] {
        assert!(matches!(result, Err(VisualizerError::EmptyReport { .. })), "{result:?}");
    }
}

#[test]
fn real_and_simulated_heap_on_the_same_axes() {
    let simulated = server("leaky", true, 120, "");
    // A real run over the same time as the simulated one: a scavenge every tenth of it, the heap 0.1 to 0.3 MB.
    let end = simulated.summary.end_ms;
    let mut text = String::new();
    for i in 1..=10 {
        text += &format!(
            "[1:0x1] {:>8.0} ms: Scavenge 0.3 (1.0) -> 0.1 (1.0) MB, 0.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \n",
            end * f64::from(i) / 10.0
        );
    }
    let log = read(&[("same-span.log", text.as_bytes())]);
    let image = Image::decode(&log_comparison_chart(&simulated, &log, ImageFormat::Png, ChartSize::default()).unwrap());
    let plot = 0..image.width - legend_width(image.width);
    assert!(image.count(palette::REAL_HEAP, plot.clone()) > 1_000, "the real saw is drawn");
    assert!(image.count(palette::SIMULATED_HEAP, plot.clone()) > 300, "the simulated heap is drawn");
    // No line leaves the plot (plotters' miters of wide lines once drew spikes across the title).
    let title_band = 0..60;
    for x in plot.clone() {
        for y in title_band.clone() {
            let c = image.at(x, y);
            assert!(c != palette::REAL_HEAP.to_array() && c != palette::SIMULATED_HEAP.to_array(), "({x}, {y})");
        }
    }
    let svg =
        String::from_utf8(log_comparison_chart(&simulated, &log, ImageFormat::Svg, ChartSize::default()).unwrap())
            .unwrap();
    assert!(svg.contains("simulated (leaky)"), "the legend names the simulated run");
}
