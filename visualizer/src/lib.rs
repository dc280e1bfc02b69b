//! # visualizer: charts of gc-sim replay reports
//!
//! Renders a [`Report`] of a replay (see `gc_sim::replay`) as PNG or SVG charts:
//!
//! | chart | function | what it shows |
//! |---|---|---|
//! | heap by generation | [`render_heap`] | stacked used bytes of old, large-object and new space over simulated time, committed sizes, the old-generation allocation limit, every scavenge and mark-compact, the trace's marks and an out-of-memory death |
//! | pauses | [`render_pauses`] | the modelled pause of every collection, by collector, with totals |
//! | comparison | [`render_comparison`] | the old generation (and the whole heap) of several runs on the same axes, e.g. a leaky and a fixed version of a program |
//! | real heap | [`log_heap_chart`] | the heap of a real run, before and after each collection as a Node GC log prints it (`gc_sim::gc_log`), collections and the death marked |
//! | real pauses | [`log_pause_chart`] | the pauses of a real run by collector, as the log printed them |
//! | real beside simulated | [`log_comparison_chart`] | the heap of a real run and of a simulated one on the same axes |
//! | snapshot classes | [`snapshot_chart`] | a real heap snapshot's constructors as bars of retained bytes, self bytes over them (`gc-sim snapshot --plot`) |
//! | heap map | [`render_heap_map`] | every page of the heap as a row of 64 cells, as GCspy draws a heap, each cell filled with its shares of live, dead, waste and free bytes (or its live bytes by kind or tag); several moments side by side, e.g. before and after a mark-compact |
//!
//! The format follows the path: a path ending in `.svg` (any case) gives SVG, anything else PNG. The
//! `*_chart` functions return the bytes instead of writing a file.
//!
//! Rendering needs no system font and no fontconfig: the crate bundles DejaVu Sans (`fonts/`) and registers it
//! with plotters' pure-Rust `ab_glyph` text renderer. Output is deterministic: the same report gives the same
//! bytes.
//!
//! ```no_run
//! use gc_sim::replay::replay_trace;
//! use visualizer::{render_heap, render_heap_map, render_pauses, HeapChartOptions, HeapMapOptions};
//!
//! let trace = std::fs::read("leak.ndjson")?;
//! let report = gc_sim::Report::new(&replay_trace(&trace[..], "leak.ndjson", None, |h| Ok(h.heap.clone()))?, None);
//! render_heap(&report, "heap.png", &HeapChartOptions::default())?;
//! render_pauses(&report, "pauses.svg")?;
//! render_heap_map(&report, "heap-map.png", &HeapMapOptions::default())?; // the report's end map
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Map of the crate
//! | module | what it holds |
//! |---|---|
//! | `heap_chart` | the heap-by-generation chart |
//! | `pause_chart` | the pause chart |
//! | `comparison_chart` | the comparison of several runs on one plot |
//! | `panels_chart` | small multiples: a panel per run (a sweep's cells, more than four reports) |
//! | `heap_map_chart` | the heap map: layout of pages into columns, cells, label colours |
//! | [`units`] | human units for bytes and time, the heap configuration summary |
//! | [`palette`] | the colours every chart uses (public, so that tests can find them in an image) |
//! | `envelope` | per-pixel-column downsampling of time series |
//! | `frame`, `legend` | title, layout, axes and the legend panel shared by the charts |
//! | `font`, `text` | the bundled font, its one-time registration, and text measured and drawn with it |
//! | `output` | the PNG and SVG backends and the encoding |
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod comparison_chart;
mod envelope;
mod error;
mod font;
mod frame;
mod heap_chart;
mod heap_map_chart;
mod legend;
mod log_chart;
mod output;
pub mod palette;
mod panels_chart;
mod pause_chart;
mod snapshot_chart;
mod text;
pub mod units;

use std::path::Path;

pub use error::VisualizerError;
pub use gc_sim::gc_log::LogReport;
pub use gc_sim::{HeapMapMoment, Report};
pub use output::ImageFormat;
pub use panels_chart::{grid_columns, panels_size, MAX_PANELS};

/// The size of a chart in pixels (for SVG, in user units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartSize {
    /// Width, at least [`ChartSize::MIN_WIDTH`].
    pub width: u32,
    /// Height, at least [`ChartSize::MIN_HEIGHT`].
    pub height: u32,
}

impl ChartSize {
    /// The narrowest chart that leaves room for the axes and the legend.
    pub const MIN_WIDTH: u32 = 480;
    /// The lowest chart that leaves room for the title and the axes.
    pub const MIN_HEIGHT: u32 = 300;
    /// The largest width or height accepted (the PNG buffer grows with the area).
    pub const MAX_SIDE: u32 = 16_384;

    /// Checks the size against the bounds above.
    pub fn validate(self) -> Result<(), VisualizerError> {
        let ok = |v: u32, min: u32| (min..=Self::MAX_SIDE).contains(&v);
        if ok(self.width, Self::MIN_WIDTH) && ok(self.height, Self::MIN_HEIGHT) {
            Ok(())
        } else {
            Err(VisualizerError::InvalidSize { width: self.width, height: self.height })
        }
    }
}

impl Default for ChartSize {
    /// 1280 × 720.
    fn default() -> Self {
        ChartSize { width: 1280, height: 720 }
    }
}

/// Options of the heap-by-generation chart ([`render_heap`]).
#[derive(Clone, Debug, PartialEq)]
pub struct HeapChartOptions {
    /// The chart's size.
    pub size: ChartSize,
    /// At most this many trace marks get a text label (a subset that does not overlap is chosen, in time order);
    /// every mark still gets a small tick at the top of the plot.
    pub max_mark_labels: usize,
}

impl Default for HeapChartOptions {
    /// 1280 × 720, up to 24 mark labels.
    fn default() -> Self {
        HeapChartOptions { size: ChartSize::default(), max_mark_labels: 24 }
    }
}

/// Renders the heap-by-generation chart of `report` to `path` (SVG if the path ends in `.svg`, PNG otherwise).
///
/// Old space, large-object space and new space (with young large objects) are stacked areas of used bytes over
/// simulated time, in that order from the bottom, so the top of the large-object area is the old generation
/// that the allocation limit (dashed) applies to. The committed sizes are lines stacked in the same order.
/// Scavenges are short ticks along the time axis, mark-compacts vertical lines, trace marks are labelled at the
/// top, and an out-of-memory death is a red line with Node's message.
///
/// # Errors
/// [`VisualizerError::EmptyReport`] if the report's timeline is empty, [`VisualizerError::InvalidSize`],
/// [`VisualizerError::Drawing`], [`VisualizerError::Encoding`] or [`VisualizerError::Io`].
pub fn render_heap(report: &Report, path: impl AsRef<Path>, options: &HeapChartOptions) -> Result<(), VisualizerError> {
    let path = path.as_ref();
    output::write(path, &heap_chart(report, ImageFormat::from_path(path), options)?)
}

/// The heap-by-generation chart of `report` ([`render_heap`]) as PNG or SVG bytes.
///
/// # Errors
/// As [`render_heap`], except I/O.
pub fn heap_chart(
    report: &Report,
    format: ImageFormat,
    options: &HeapChartOptions,
) -> Result<Vec<u8>, VisualizerError> {
    output::render(&heap_chart::HeapChart::new(report, options)?, format)
}

/// Renders the pause chart of `report` to `path` (SVG if the path ends in `.svg`, PNG otherwise), at the default
/// [`ChartSize`].
///
/// Every collection is a stem at its end time, as high as its modelled pause, coloured by collector; the legend
/// gives each collector's count, total and longest pause.
///
/// # Errors
/// [`VisualizerError::EmptyReport`] if the report has neither samples nor collections,
/// [`VisualizerError::Drawing`], [`VisualizerError::Encoding`] or [`VisualizerError::Io`].
pub fn render_pauses(report: &Report, path: impl AsRef<Path>) -> Result<(), VisualizerError> {
    let path = path.as_ref();
    output::write(path, &pause_chart(report, ImageFormat::from_path(path), ChartSize::default())?)
}

/// The pause chart of `report` ([`render_pauses`]) as PNG or SVG bytes, at any size.
///
/// # Errors
/// As [`render_pauses`], except I/O, plus [`VisualizerError::InvalidSize`].
pub fn pause_chart(report: &Report, format: ImageFormat, size: ChartSize) -> Result<Vec<u8>, VisualizerError> {
    output::render(&pause_chart::PauseChart::new(report, size)?, format)
}

/// Renders the comparison of `reports` to `path` (SVG if the path ends in `.svg`, PNG otherwise), at the default
/// [`ChartSize`]: each report's old-generation used bytes (thick) and total heap used bytes (thin, lighter) over
/// simulated time, on the same axes, with the reports' names in the legend (reports of the same trace are named by
/// the settings in which their heap configurations differ, `old 16 MiB`). Meant for two to four reports (a leaky and
/// a fixed run); one is accepted; more than [`MAX_OVERLAID`] are drawn as small multiples ([`sweep_chart`]).
///
/// # Errors
/// [`VisualizerError::NoReports`] for an empty slice, [`VisualizerError::EmptyReport`] if a report's timeline is
/// empty, [`VisualizerError::Drawing`], [`VisualizerError::Encoding`] or [`VisualizerError::Io`].
pub fn render_comparison(reports: &[&Report], path: impl AsRef<Path>) -> Result<(), VisualizerError> {
    let path = path.as_ref();
    output::write(path, &comparison_chart(reports, ImageFormat::from_path(path), ChartSize::default())?)
}

/// The comparison chart of `reports` ([`render_comparison`]) as PNG or SVG bytes, at any size.
///
/// # Errors
/// As [`render_comparison`], except I/O, plus [`VisualizerError::InvalidSize`].
pub fn comparison_chart(reports: &[&Report], format: ImageFormat, size: ChartSize) -> Result<Vec<u8>, VisualizerError> {
    if reports.len() > MAX_OVERLAID {
        return sweep_chart(reports, reports.len(), grid_columns(reports), format, size);
    }
    output::render(&comparison_chart::ComparisonChart::new(reports, size)?, format)
}

/// The most reports [`comparison_chart`] draws on one plot; more are drawn as small multiples ([`sweep_chart`]).
pub const MAX_OVERLAID: usize = 4;

/// Small multiples of `reports` (the first of `total` runs, e.g. a sweep's cells), `columns` panels to a row, as PNG
/// or SVG bytes: one small panel per report with its old generation (thick) and whole heap (thin) over simulated
/// time, every panel on the same axes, titled by the report's name, or, for reports of the same trace, by the
/// settings in which its heap configuration differs from the others' (`old 16 MiB, semi 4 MiB`,
/// [`units::config_differences`]); under the title, its collections and its outcome (`survived`, or `out of memory at
/// 3.2 s` in red, with a red ring where the old generation ends). At most [`MAX_PANELS`] panels of at least 180 × 120
/// pixels: those that do not fit are left out, and the subtitle says how many are shown. [`grid_columns`] and
/// [`panels_size`] choose a layout and a size that fit them.
///
/// # Errors
/// [`VisualizerError::NoReports`] for an empty slice, [`VisualizerError::EmptyReport`] if a report's timeline is
/// empty, [`VisualizerError::InvalidSize`], [`VisualizerError::Drawing`] or [`VisualizerError::Encoding`].
pub fn sweep_chart(
    reports: &[&Report],
    total: usize,
    columns: usize,
    format: ImageFormat,
    size: ChartSize,
) -> Result<Vec<u8>, VisualizerError> {
    output::render(&panels_chart::PanelsChart::new(reports, total, columns, size)?, format)
}

/// What the cells of a heap map show ([`HeapMapOptions::color_by`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HeapMapColoring {
    /// Each cell's shares of live, dead, waste and free bytes, in [`palette::HEAP_MAP_LIVE`],
    /// [`palette::HEAP_MAP_DEAD`], [`palette::HEAP_MAP_WASTE`] and [`palette::HEAP_MAP_FREE`].
    #[default]
    State,
    /// As [`State`](Self::State), but the live share is coloured by the cell's dominant kind (the kind with the
    /// most live bytes in the cell).
    Kind,
    /// As [`State`](Self::State), but the live share is coloured by the cell's dominant tag.
    Tag,
}

/// Options of the heap map ([`render_heap_map`]).
#[derive(Clone, Debug, PartialEq)]
pub struct HeapMapOptions {
    /// The maps to draw, as panels in this order (left to right, then top to bottom); `None` (or an empty list)
    /// draws every map of the report, in the report's order.
    pub moments: Option<Vec<HeapMapMoment>>,
    /// What the cells show.
    pub color_by: HeapMapColoring,
    /// The chart's size. The image is always exactly this size: the cells shrink to fit the pages (see
    /// [`render_heap_map`]).
    pub size: ChartSize,
}

impl Default for HeapMapOptions {
    /// Every map, coloured by state, 1280 × 720.
    fn default() -> Self {
        HeapMapOptions { moments: None, color_by: HeapMapColoring::State, size: ChartSize::default() }
    }
}

/// Renders the heap map of `report` to `path` (SVG if the path ends in `.svg`, PNG otherwise).
///
/// Each map the options select (see [`gc_sim::heap_map`]) is a panel, side by side from left to right (in rows of
/// panels when they do not fit in one), titled by its moment (`before GC #8 (Mark-Compact), 283 ms`) and its
/// totals. In a panel every page is a row of 64 cells, grouped by space in the map's order: new space's to-space
/// pages, old space, young large objects, old large objects; each group starts with a heading (the space, its pages
/// and live bytes), and the page numbers stand at the left every few rows. Each cell is filled from the bottom with
/// its shares of live, dead, waste and free bytes, then the page header or a large page's rounding
/// ([`palette::HEAP_MAP_HEADER`]); every share that is not empty gets at least one pixel. Coloured by kind or tag,
/// the live share takes the colour of the cell's dominant label: the ten labels with the most live bytes over all
/// panels get [`palette::HEAP_MAP_LABELS`] and a legend entry each, the others share
/// [`palette::HEAP_MAP_OTHER_LABEL`]. The legend gives each state's bytes in each panel (up to three panels).
///
/// **Large heaps.** The image is always [`HeapMapOptions::size`]. Cells are as large as fits, at most 14 pixels,
/// the same in every panel: the tallest rows first, then the widest cells, at most twice as wide as tall or tall as
/// wide. A panel whose pages do not fit in one column wraps them into several columns side by side. Cells under 5
/// pixels lose the 1-pixel gap between them, and cells less than 3 pixels tall show only their largest share. When
/// the pages do not fit even with rows of 1 pixel, the last pages of a panel are left out, its totals line says how
/// many (`+1,234 more pages not shown`) and the legend says so; the totals still count every page. Panels are at
/// least 160 × 130 pixels: the maps beyond those that fit are left out, and the subtitle says how many are shown.
/// Give a larger size (up to [`ChartSize::MAX_SIDE`]) for more detail.
///
/// # Errors
/// [`VisualizerError::EmptyReport`] if the report has no heap map, [`VisualizerError::MissingHeapMap`] if a
/// requested moment is not in it (the error lists those that are), [`VisualizerError::InvalidSize`],
/// [`VisualizerError::Drawing`], [`VisualizerError::Encoding`] or [`VisualizerError::Io`].
pub fn render_heap_map(
    report: &Report,
    path: impl AsRef<Path>,
    options: &HeapMapOptions,
) -> Result<(), VisualizerError> {
    let path = path.as_ref();
    output::write(path, &heap_map_chart(report, ImageFormat::from_path(path), options)?)
}

/// The heap map of `report` ([`render_heap_map`]) as PNG or SVG bytes.
///
/// # Errors
/// As [`render_heap_map`], except I/O.
pub fn heap_map_chart(
    report: &Report,
    format: ImageFormat,
    options: &HeapMapOptions,
) -> Result<Vec<u8>, VisualizerError> {
    output::render(&heap_map_chart::HeapMapChart::new(report, options)?, format)
}

/// The heap chart of a real run read from a Node GC log ([`LogReport`], see `gc_sim::gc_log`) as PNG or SVG bytes:
/// the heap used in all spaces as V8 printed it, before and after each collection (a line that rises to the size
/// before and drops to the size after, at the collection's end), scavenges as ticks along the time axis,
/// mark-compacts as vertical lines, and the death (out of memory) as a red line with Node's message.
///
/// # Errors
/// [`VisualizerError::EmptyReport`] if no collection of the log has both a time and a heap size,
/// [`VisualizerError::InvalidSize`], [`VisualizerError::Drawing`] or [`VisualizerError::Encoding`].
pub fn log_heap_chart(log: &LogReport, format: ImageFormat, size: ChartSize) -> Result<Vec<u8>, VisualizerError> {
    output::render(&log_chart::LogHeapChart::new(log, None, size)?, format)
}

/// The pause chart of a real run read from a Node GC log as PNG or SVG bytes: every collection is a stem at its end
/// time, as high as the pause V8 printed, coloured by collector; the legend gives each collector's count, total and
/// longest pause.
///
/// # Errors
/// [`VisualizerError::EmptyReport`] if no collection of the log has both a time and a pause,
/// [`VisualizerError::InvalidSize`], [`VisualizerError::Drawing`] or [`VisualizerError::Encoding`].
pub fn log_pause_chart(log: &LogReport, format: ImageFormat, size: ChartSize) -> Result<Vec<u8>, VisualizerError> {
    output::render(&log_chart::LogPauseChart::new(log, size)?, format)
}

/// The heap of a simulated run (`simulated`, all spaces' used bytes over its timeline) and of a real one (`log`,
/// as [`log_heap_chart`] draws it) on the same axes, as PNG or SVG bytes; the real run's collections and both
/// deaths are marked.
///
/// # Errors
/// As [`log_heap_chart`], and [`VisualizerError::EmptyReport`] if the simulated report's timeline is empty.
pub fn log_comparison_chart(
    simulated: &Report,
    log: &LogReport,
    format: ImageFormat,
    size: ChartSize,
) -> Result<Vec<u8>, VisualizerError> {
    output::render(&log_chart::LogHeapChart::new(log, Some(simulated), size)?, format)
}

/// The constructors of a real heap snapshot (`gc_sim::snapshot::summary::classes`, in their order) as horizontal
/// bars of retained bytes (light), each with its self bytes over it (dark), as many as fit the height, as PNG or
/// SVG bytes. `title` and `subtitle` head the chart (the file, the totals).
///
/// # Errors
/// [`VisualizerError::EmptyReport`] if `classes` is empty, [`VisualizerError::InvalidSize`],
/// [`VisualizerError::Drawing`] or [`VisualizerError::Encoding`].
pub fn snapshot_chart(
    classes: &[gc_sim::snapshot::summary::ClassSummary],
    title: &str,
    subtitle: &str,
    format: ImageFormat,
    size: ChartSize,
) -> Result<Vec<u8>, VisualizerError> {
    if classes.is_empty() {
        return Err(VisualizerError::EmptyReport { name: title.to_owned(), reason: "the snapshot has no class" });
    }
    let chart = snapshot_chart::SnapshotChart { classes, title: title.to_owned(), subtitle: subtitle.to_owned(), size };
    output::render(&chart, format)
}
