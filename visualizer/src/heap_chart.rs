//! The heap-by-generation chart: used bytes of each space over simulated time as stacked areas, committed bytes
//! as lines, the old-generation allocation limit, collections, marks and an out-of-memory death.

use gc_sim::report::Sample;
use gc_sim::{Collector, Report};
use plotters::coord::Shift;
use plotters::prelude::{DashedLineSeries, DrawingArea, DrawingBackend, PathElement, Polygon, Rectangle};
use plotters::prelude::{Text, WHITE};
use plotters::style::{Color, ShapeStyle};

use crate::envelope::{column_max, m4, Columns};
use crate::error::Drawn;
use crate::frame::{self, axis_end, fit, text, Plot, LABEL_SIZE};
use crate::legend::{self, Entry, Swatch};
use crate::output::Chart;
use crate::palette::{self, Rgb};
use crate::units::{format_bytes, format_count, format_duration, heap_config_summary, ByteUnit, TimeUnit};
use crate::{HeapChartOptions, VisualizerError};

/// The allocation limit widens the byte axis only when it is at most this many times the largest heap size;
/// above, its line is cut at the top of the chart and the legend says so.
const LIMIT_SCALE_FACTOR: f64 = 1.6;
/// Height of the strip under the zero line where scavenge ticks stand, in pixels.
const STRIP_HEIGHT: u32 = 14;
/// Rows of mark labels at the top of the plot.
const MARK_LABEL_ROWS: usize = 3;
const MARK_LABEL_ROW_HEIGHT: i32 = 18;

/// The chart, ready to draw.
pub(crate) struct HeapChart<'r> {
    report: &'r Report,
    options: HeapChartOptions,
    series: Series,
}

/// The report's timeline as columns of numbers: times in ms, sizes in bytes, stacked bottom-up.
struct Series {
    t_ms: Vec<f64>,
    old: Vec<f64>,
    old_generation: Vec<f64>,
    total: Vec<f64>,
    old_committed: Vec<f64>,
    old_generation_committed: Vec<f64>,
    total_committed: Vec<f64>,
    limit: Vec<f64>,
}

impl Series {
    fn new(timeline: &[Sample]) -> Series {
        // Samples before time 0 cannot come from a replay; they are left out rather than stretch the axis.
        let mut samples: Vec<&Sample> = timeline.iter().filter(|s| s.t_ms.is_finite() && s.t_ms >= 0.0).collect();
        samples.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        let column = |f: &dyn Fn(&Sample) -> u64| samples.iter().map(|s| f(s) as f64).collect::<Vec<f64>>();
        let new_space = |s: &Sample| s.spaces.new_space.used_bytes + s.spaces.new_large_object_space.used_bytes;
        let new_committed =
            |s: &Sample| s.spaces.new_space.committed_bytes + s.spaces.new_large_object_space.committed_bytes;
        Series {
            t_ms: samples.iter().map(|s| s.t_ms).collect(),
            old: column(&|s| s.spaces.old_space.used_bytes),
            old_generation: column(&|s| s.spaces.old_generation_bytes()),
            total: column(&|s| s.spaces.old_generation_bytes() + new_space(s)),
            old_committed: column(&|s| s.spaces.old_space.committed_bytes),
            old_generation_committed: column(&|s| {
                s.spaces.old_space.committed_bytes + s.spaces.large_object_space.committed_bytes
            }),
            total_committed: column(&|s| {
                s.spaces.old_space.committed_bytes + s.spaces.large_object_space.committed_bytes + new_committed(s)
            }),
            limit: column(&|s| s.old_generation_allocation_limit),
        }
    }

    fn max(values: &[f64]) -> f64 {
        values.iter().copied().fold(0.0, f64::max)
    }
}

impl<'r> HeapChart<'r> {
    pub fn new(report: &'r Report, options: &HeapChartOptions) -> Result<HeapChart<'r>, VisualizerError> {
        options.size.validate()?;
        let series = Series::new(&report.timeline);
        if series.t_ms.is_empty() {
            return Err(VisualizerError::EmptyReport {
                name: report.name.clone(),
                reason: "its timeline has no samples",
            });
        }
        Ok(HeapChart { report, options: options.clone(), series })
    }

    /// The end of the time axis, ms: the last thing the report places in time.
    fn end_ms(&self) -> f64 {
        let r = self.report;
        let times = self.series.t_ms.iter().copied().chain([r.summary.end_ms]).chain(r.marks.iter().map(|m| m.t_ms));
        let times = times.chain(r.events.iter().map(|e| e.end_ms())).chain(r.summary.oom.iter().map(|o| o.at_ms));
        times.filter(|t| t.is_finite()).fold(0.0, f64::max)
    }
}

/// Start times of the collections by `collector`, ms.
fn collection_times(report: &Report, collector: Collector) -> Vec<f64> {
    report.events.iter().filter(|e| e.collector == collector && e.start_ms.is_finite()).map(|e| e.start_ms).collect()
}

impl Chart for HeapChart<'_> {
    fn size(&self) -> crate::ChartSize {
        self.options.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let r = self.report;
        let s = &self.series;
        let name = if r.name.is_empty() { "(unnamed trace)" } else { &r.name };
        let title = format!("{name}: heap by generation");
        let mut subtitle = format!(
            "{} · {} scavenges, {} mark-compacts · {} simulated",
            heap_config_summary(&r.config),
            format_count(r.summary.scavenges),
            format_count(r.summary.mark_compacts),
            format_duration(r.summary.end_ms),
        );
        if r.summary.oom.is_some() {
            subtitle.push_str(" · died: out of memory");
        }
        let frame = frame::frame(root, &title, &subtitle)?;

        // Axes in human units.
        let end_ms = self.end_ms();
        let time_unit = TimeUnit::for_max(end_ms);
        let x_end = axis_end(end_ms / time_unit.ms(), 0.0);
        let data_max = Series::max(&s.total).max(Series::max(&s.total_committed));
        let limit_max = Series::max(&s.limit);
        let scale_max = if limit_max <= LIMIT_SCALE_FACTOR * data_max { data_max.max(limit_max) } else { data_max };
        let byte_unit = ByteUnit::for_max(axis_end(scale_max, 0.08));
        let y_end = axis_end(scale_max / byte_unit.bytes(), 0.08);
        // A strip under zero holds the scavenge ticks, clear of the areas.
        let plot_height = f64::from(frame::plot_height(&frame.plot));
        let strip = f64::from(STRIP_HEIGHT).min(plot_height / 4.0);
        let y_start = -y_end * strip / (plot_height - strip);
        let chart = frame::axes(
            &frame.plot,
            0.0..x_end,
            y_start..y_end,
            &format!("simulated time ({})", time_unit.symbol()),
            &format!("bytes ({})", byte_unit.symbol()),
        )?;
        let (plot_width, _) = chart.plotting_area().dim_in_pixel();
        let columns = Columns::new(0.0, x_end, plot_width as usize);
        let ts: Vec<f64> = s.t_ms.iter().map(|t| t / time_unit.ms()).collect();
        let scaled = |v: &[f64]| v.iter().map(|b| b / byte_unit.bytes()).collect::<Vec<f64>>();

        // Used bytes: stacked areas, painted back to front (each from zero), so no layer needs a lower boundary.
        // A layer that is empty throughout is not drawn (its outline would still paint a line).
        let zero = vec![0.0; s.old.len()];
        let layers = [
            (&s.total, &s.old_generation, palette::NEW_SPACE),
            (&s.old_generation, &s.old, palette::LARGE_OBJECT_SPACE),
            (&s.old, &zero, palette::OLD_SPACE),
        ];
        for (top, below, color) in layers {
            if top.iter().zip(below.iter()).any(|(t, b)| t > b) {
                draw_area(&chart, &ts, &scaled(top), &columns, color)?;
            }
        }

        // Committed bytes: lines, stacked in the same order.
        for (values, color) in [
            (&s.total_committed, palette::HEAP_COMMITTED),
            (&s.old_generation_committed, palette::OLD_GENERATION_COMMITTED),
            (&s.old_committed, palette::OLD_SPACE_COMMITTED),
        ] {
            let points = m4(&ts, &scaled(values), &columns);
            chart.plotting_area().draw(&PathElement::new(points, style(color, 2))).drawn()?;
        }

        // The allocation limit, dashed, cut where it is above the chart.
        let limit_points = m4(&ts, &scaled(&s.limit), &columns);
        for run in limit_points.split(|p| p.1 > y_end).filter(|run| !run.is_empty()) {
            let run: Vec<(f64, f64)> =
                if run.len() == 1 { vec![run[0], (run[0].0 + columns.width, run[0].1)] } else { run.to_vec() };
            for dashes in DashedLineSeries::new(run, 8, 6, style(palette::ALLOCATION_LIMIT, 2)) {
                chart.plotting_area().draw(&dashes).drawn()?;
            }
        }

        let overlay = Overlay::new(&chart, time_unit);
        let mark_compacts = collection_times(r, Collector::MarkCompact);
        for x in overlay.columns(&mark_compacts) {
            overlay.rule(root, x, palette::MARK_COMPACT, 1)?;
        }
        let labelled = self.draw_marks(root, &overlay)?;
        if let Some(oom) = &r.summary.oom {
            let rows = labelled.rows_used as i32;
            overlay.out_of_memory(
                root,
                oom.at_ms,
                &format!("out of memory at {}", format_duration(oom.at_ms)),
                &oom.message,
                rows,
            )?;
        }
        // Scavenge ticks last, so that nothing covers them.
        let scavenges = collection_times(r, Collector::Scavenge);
        let bottom = overlay.y.end - 1;
        let tick_top = (chart.backend_coord(&(0.0, 0.0)).1 + 3).min(bottom);
        for x in overlay.columns(&scavenges) {
            root.draw(&PathElement::new(vec![(x, bottom), (x, tick_top)], style(palette::SCAVENGE, 1))).drawn()?;
        }

        legend::draw(&frame.legend, &self.legend(limit_max > y_end * byte_unit.bytes(), limit_max, &labelled))
    }
}

/// Which marks got a label.
struct Labelled {
    count: usize,
    rows_used: usize,
}

impl HeapChart<'_> {
    /// Draws a tick for every mark, and a dotted line and a label for a subset whose labels do not overlap.
    fn draw_marks<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        overlay: &Overlay,
    ) -> Result<Labelled, VisualizerError> {
        let mut marks: Vec<_> = self.report.marks.iter().filter(|m| m.t_ms.is_finite()).collect();
        marks.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        let style_text = text(LABEL_SIZE - 1.0, palette::TEXT);
        let plot_width = (overlay.x.end - overlay.x.start) as u32;
        // Right edge of the last label in each row.
        let mut rows: Vec<i32> = vec![i32::MIN; MARK_LABEL_ROWS];
        let mut labelled = Labelled { count: 0, rows_used: 0 };
        for mark in marks {
            let x = overlay.x_of(mark.t_ms);
            let top = overlay.y.start;
            root.draw(&PathElement::new(vec![(x, top), (x, top + 5)], style(palette::MARK, 2))).drawn()?;
            if labelled.count >= self.options.max_mark_labels {
                continue;
            }
            let label = fit(root, &mark.label, LABEL_SIZE - 1.0, (plot_width / 4).max(60))?;
            let (w, _) = root.estimate_text_size(&label, &style_text).drawn()?;
            let w = w as i32;
            // Right of the line, or left of it near the right edge.
            let left = if x + 4 + w <= overlay.x.end - 2 { x + 4 } else { x - 4 - w };
            let Some(row) = rows.iter().position(|&right| right + 8 <= left) else { continue };
            rows[row] = left + w;
            labelled.count += 1;
            labelled.rows_used = labelled.rows_used.max(row + 1);
            let y = top + 7 + row as i32 * MARK_LABEL_ROW_HEIGHT;
            for y0 in (y..overlay.y.end).step_by(5) {
                let y1 = (y0 + 2).min(overlay.y.end - 1);
                root.draw(&PathElement::new(vec![(x, y0), (x, y1)], style(palette::MARK.lighten(0.35), 1))).drawn()?;
            }
            root.draw(&Rectangle::new([(left - 2, y - 1), (left + w + 2, y + 14)], WHITE.mix(0.85).filled()))
                .drawn()?;
            root.draw(&Text::new(label, (left, y), style_text.clone())).drawn()?;
        }
        Ok(labelled)
    }

    fn legend(&self, limit_clipped: bool, limit_max: f64, labelled: &Labelled) -> Vec<Entry> {
        let r = self.report;
        let mut entries = vec![
            Entry::new(Swatch::Heading, "Used bytes (stacked)"),
            Entry::new(Swatch::Fill(palette::NEW_SPACE), "new space, with young large objects"),
            Entry::new(Swatch::Fill(palette::LARGE_OBJECT_SPACE), "large-object space"),
            Entry::new(Swatch::Fill(palette::OLD_SPACE), "old space"),
            Entry::new(Swatch::Heading, "Committed bytes (stacked)"),
            Entry::new(Swatch::Line(palette::HEAP_COMMITTED, 2), "whole heap"),
            Entry::new(Swatch::Line(palette::OLD_GENERATION_COMMITTED, 2), "old generation (old + large-object)"),
            Entry::new(Swatch::Line(palette::OLD_SPACE_COMMITTED, 2), "old space"),
            Entry::new(Swatch::Heading, "Policy and collections"),
        ];
        let mut limit = "old-generation allocation limit".to_owned();
        if limit_clipped {
            limit.push_str(&format!(" (up to {}, above the chart)", format_bytes(limit_max as u64)));
        }
        entries.push(Entry::new(Swatch::Dashed(palette::ALLOCATION_LIMIT), limit));
        entries.push(Entry::new(
            Swatch::Tick(palette::SCAVENGE),
            format!("scavenge ({})", format_count(r.summary.scavenges)),
        ));
        entries.push(Entry::new(
            Swatch::Rule(palette::MARK_COMPACT),
            format!("mark-compact ({})", format_count(r.summary.mark_compacts)),
        ));
        if !r.marks.is_empty() {
            let text = if labelled.count == r.marks.len() {
                format!("trace mark ({})", format_count(r.marks.len() as u64))
            } else {
                format!("trace mark ({}, {} labelled)", format_count(r.marks.len() as u64), labelled.count)
            };
            entries.push(Entry::new(Swatch::Rule(palette::MARK), text));
        }
        entries.extend(Entry::out_of_memory(r));
        entries.push(Entry::new(
            Swatch::Note,
            format!(
                "Live at the end: {} ({} old). Allocated {} in {} objects.",
                format_bytes(r.summary.live_bytes),
                format_bytes(r.summary.live_old_bytes),
                format_bytes(r.summary.allocated_bytes),
                format_count(r.summary.allocated_objects),
            ),
        ));
        entries
    }
}

/// A solid style of `width` pixels.
pub(crate) fn style(color: Rgb, width: u32) -> ShapeStyle {
    ShapeStyle { color: color.rgb().into(), filled: true, stroke_width: width }
}

/// Fills the area under `values` (per-column maxima) with `color`.
fn draw_area<DB: DrawingBackend>(
    chart: &Plot<'_, DB>,
    ts: &[f64],
    values: &[f64],
    columns: &Columns,
    color: Rgb,
) -> Result<(), VisualizerError> {
    let envelope = column_max(ts, values, columns);
    let (first, last) = (ts[0], ts[ts.len() - 1]);
    let mut outline: Vec<(f64, f64)> = Vec::with_capacity(columns.count + 4);
    for (i, v) in envelope.iter().enumerate() {
        if let Some(v) = v {
            let x = columns.center(i).clamp(first, last);
            if outline.is_empty() {
                outline.push((first, *v));
            }
            outline.push((x, *v));
        }
    }
    if let Some(&(_, v)) = outline.last() {
        outline.push((last, v));
    }
    if outline.len() < 2 || last <= first {
        return Ok(());
    }
    outline.push((last, 0.0));
    outline.push((first, 0.0));
    chart.plotting_area().draw(&Polygon::new(outline, color.rgb().filled())).drawn()
}

/// Drawing in pixels over the plot: vertical lines and ticks at given times, and the out-of-memory box.
pub(crate) struct Overlay {
    /// The plot's pixel columns and rows (absolute).
    pub(crate) x: std::ops::Range<i32>,
    pub(crate) y: std::ops::Range<i32>,
    /// Pixels per ms and the pixel of time 0.
    x_origin: f64,
    pixels_per_ms: f64,
}

impl Overlay {
    pub(crate) fn new<DB: DrawingBackend>(chart: &Plot<'_, DB>, unit: TimeUnit) -> Overlay {
        let (x, y) = chart.plotting_area().get_pixel_range();
        let range = chart.x_range();
        let x0 = chart.backend_coord(&(range.start, 0.0)).0 as f64;
        let x1 = chart.backend_coord(&(range.end, 0.0)).0 as f64;
        let span_ms = (range.end - range.start) * unit.ms();
        let pixels_per_ms = if span_ms > 0.0 { (x1 - x0) / span_ms } else { 0.0 };
        Overlay { x, y, x_origin: x0 - range.start * unit.ms() * pixels_per_ms, pixels_per_ms }
    }

    /// The pixel column of time `t_ms`, inside the plot.
    pub(crate) fn x_of(&self, t_ms: f64) -> i32 {
        let x = (self.x_origin + t_ms * self.pixels_per_ms).round();
        (x as i32).clamp(self.x.start, self.x.end - 1)
    }

    /// The distinct pixel columns of `times`, ascending.
    pub(crate) fn columns(&self, times: &[f64]) -> Vec<i32> {
        let mut xs: Vec<i32> = times.iter().map(|&t| self.x_of(t)).collect();
        xs.sort_unstable();
        xs.dedup();
        xs
    }

    /// A full-height vertical line at pixel column `x`.
    pub(crate) fn rule<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        x: i32,
        color: Rgb,
        width: u32,
    ) -> Result<(), VisualizerError> {
        root.draw(&PathElement::new(vec![(x, self.y.start), (x, self.y.end - 1)], style(color, width))).drawn()
    }

    /// The red line of death and a box with its message, below `rows` rows of mark labels.
    pub(crate) fn out_of_memory<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        at_ms: f64,
        heading: &str,
        message: &str,
        rows: i32,
    ) -> Result<(), VisualizerError> {
        let x = self.x_of(at_ms);
        self.rule(root, x, palette::OUT_OF_MEMORY, 2)?;
        let right_side = x < (self.x.start + self.x.end) / 2;
        let room = if right_side { self.x.end - x - 16 } else { x - self.x.start - 16 };
        let heading_style = text(LABEL_SIZE + 1.0, palette::OUT_OF_MEMORY);
        let message_style = text(LABEL_SIZE, palette::TEXT);
        let heading = fit(root, heading, LABEL_SIZE + 1.0, room.max(60) as u32)?;
        let message = fit(root, message, LABEL_SIZE, room.max(60) as u32)?;
        let w = root
            .estimate_text_size(&heading, &heading_style)
            .drawn()?
            .0
            .max(root.estimate_text_size(&message, &message_style).drawn()?.0) as i32;
        let left = if right_side { x + 8 } else { x - 8 - w };
        let top = self.y.start + 10 + rows * MARK_LABEL_ROW_HEIGHT;
        let border = style(palette::OUT_OF_MEMORY, 1);
        root.draw(&Rectangle::new([(left - 6, top - 4), (left + w + 6, top + 36)], WHITE.mix(0.92).filled()))
            .drawn()?;
        root.draw(&Rectangle::new(
            [(left - 6, top - 4), (left + w + 6, top + 36)],
            ShapeStyle { filled: false, ..border },
        ))
        .drawn()?;
        root.draw(&Text::new(heading, (left, top), heading_style)).drawn()?;
        root.draw(&Text::new(message, (left, top + 18), message_style)).drawn()
    }
}
