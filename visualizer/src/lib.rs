//! # visualizer: charts of gc-sim replay reports
//!
//! Renders a [`Report`] of a replay (see `gc_sim::replay`) as PNG or SVG charts:
//!
//! | chart | function | what it shows |
//! |---|---|---|
//! | heap by generation | [`render_heap`] | stacked used bytes of old, large-object and new space over simulated time, committed sizes, the old-generation allocation limit, every scavenge and mark-compact, the trace's marks and an out-of-memory death |
//! | pauses | [`render_pauses`] | the modelled pause of every collection, by collector, with totals |
//! | comparison | [`render_comparison`] | the old generation (and the whole heap) of several runs on the same axes, e.g. a leaky and a fixed version of a program |
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
//! use visualizer::{render_heap, render_pauses, HeapChartOptions};
//!
//! let trace = std::fs::read("leak.ndjson")?;
//! let report = replay_trace(&trace[..], "leak.ndjson", None, |h| Ok(h.heap.clone()))?.report();
//! render_heap(&report, "heap.png", &HeapChartOptions::default())?;
//! render_pauses(&report, "pauses.svg")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Map of the crate
//! | module | what it holds |
//! |---|---|
//! | `heap_chart` | the heap-by-generation chart |
//! | `pause_chart` | the pause chart |
//! | `comparison_chart` | the comparison of several runs |
//! | [`units`] | human units for bytes and time, the heap configuration summary |
//! | [`palette`] | the colours every chart uses (public, so that tests can find them in an image) |
//! | `envelope` | per-pixel-column downsampling of time series |
//! | `frame`, `legend` | title, layout, axes and the legend panel shared by the charts |
//! | `font`, `text` | the bundled font, its one-time registration, and text measured and drawn with it |
//! | `output` | the PNG and SVG backends and the encoding |
//!
//! TODO(heap map): a fourth chart, the heap map (one cell per page, coloured by space and filled by live bytes,
//! over time), needs per-page data that [`Report`] does not carry yet. Add it here as `render_heap_map` once the
//! report has page snapshots.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod comparison_chart;
mod envelope;
mod error;
mod font;
mod frame;
mod heap_chart;
mod legend;
mod output;
pub mod palette;
mod pause_chart;
mod text;
pub mod units;

use std::path::Path;

pub use error::VisualizerError;
pub use gc_sim::Report;
pub use output::ImageFormat;

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
/// simulated time, on the same axes, with the reports' names in the legend. Meant for two or more reports (a
/// leaky and a fixed run); one is accepted.
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
    output::render(&comparison_chart::ComparisonChart::new(reports, size)?, format)
}
