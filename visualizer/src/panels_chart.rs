//! Small multiples: one small panel per run (a sweep's cell, or one of many compared reports), each with its old
//! generation (thick) and whole heap (thin) over simulated time, all on the same axes, titled by the run's name or
//! the settings in which it differs from the others. Readable with dozens of runs, where one plot's legend is not.

use gc_sim::Report;
use plotters::coord::Shift;
use plotters::element::Circle;
use plotters::prelude::{ChartBuilder, DrawingArea, DrawingBackend, PathElement, Text};
use plotters::style::ShapeStyle;

use crate::comparison_chart::{runs, Run};
use crate::envelope::{m4, Columns};
use crate::error::Drawn;
use crate::frame::{self, axis_end, text, LABEL_SIZE};
use crate::heap_chart::style;
use crate::output::Chart;
use crate::palette;
use crate::units::{config_differences, format_count, format_duration, tick_label, ByteUnit, TimeUnit};
use crate::{ChartSize, VisualizerError};

/// The most panels drawn; the runs after them are left out, and the subtitle says so.
pub const MAX_PANELS: usize = 100;
/// The smallest panel drawn, in pixels: panels that would be smaller are left out (a larger chart shows them).
const MIN_PANEL: (u32, u32) = (180, 120);
/// The panel size [`panels_size`] gives each panel.
const PANEL: (u32, u32) = (330, 210);
/// Width of the old-generation line.
const OLD_GENERATION_WIDTH: u32 = 2;
/// How much lighter the whole-heap line is.
const TOTAL_LIGHTEN: f64 = 0.5;
/// Height of a panel's two lines of text above its plot.
const PANEL_HEADER: u32 = 40;

/// The chart, ready to draw.
pub(crate) struct PanelsChart<'r> {
    runs: Vec<Run<'r>>,
    /// Runs in all, those left out included.
    total: usize,
    columns: usize,
    size: ChartSize,
}

impl<'r> PanelsChart<'r> {
    /// The panels of `reports` (of `total` runs in all), `columns` to a row.
    pub fn new(
        reports: &[&'r Report],
        total: usize,
        columns: usize,
        size: ChartSize,
    ) -> Result<PanelsChart<'r>, VisualizerError> {
        size.validate()?;
        if reports.is_empty() {
            return Err(VisualizerError::NoReports);
        }
        let runs = runs(reports)?;
        let columns = columns.clamp(1, runs.len());
        Ok(PanelsChart { runs, total: total.max(reports.len()), columns, size })
    }
}

/// Columns for the panels of `reports`: when their configurations form a full grid (a sweep's), as many as the
/// values of the setting that varies fastest, so that each row of panels is one value of the others (at most 8);
/// otherwise about the square root of their number.
pub fn grid_columns(reports: &[&Report]) -> usize {
    let n = reports.len();
    let square = (n as f64).sqrt().ceil().max(1.0) as usize;
    let configs: Vec<&gc_sim::HeapConfig> = reports.iter().map(|r| &r.config).collect();
    let differences = config_differences(&configs);
    if differences.fields.len() < 2 || n < 2 {
        return square;
    }
    // The setting that changes from the first run to the second varies fastest; its values repeat with a period.
    let Some(fastest) = (0..differences.fields.len()).find(|&f| differences.values[0][f] != differences.values[1][f])
    else {
        return square;
    };
    let value = |i: usize| &differences.values[i][fastest];
    let period = (1..n).find(|&i| value(i) == value(0)).unwrap_or(n);
    let periodic = (0..n).all(|i| value(i) == value(i % period));
    let others_constant_in_rows = (0..n).all(|i| {
        let row = i - i % period;
        (0..differences.fields.len())
            .filter(|&f| f != fastest)
            .all(|f| differences.values[i][f] == differences.values[row][f])
    });
    if periodic && n % period == 0 && others_constant_in_rows && (2..=8).contains(&period) {
        period
    } else {
        square
    }
}

/// A size that gives each of `panels` panels, `columns` to a row, about 330 × 210 pixels: at least 1280 × 720, at
/// most [`ChartSize::MAX_SIDE`] on a side.
pub fn panels_size(panels: usize, columns: usize) -> ChartSize {
    let columns = columns.max(1) as u32;
    let rows = panels.max(1).div_ceil(columns as usize) as u32;
    let side = |v: u32, min: u32| v.clamp(min, ChartSize::MAX_SIDE);
    ChartSize {
        width: side(columns.saturating_mul(PANEL.0).saturating_add(32), 1280),
        height: side(rows.saturating_mul(PANEL.1).saturating_add(frame::HEADER_HEIGHT + 16), 720),
    }
}

impl Chart for PanelsChart<'_> {
    fn size(&self) -> ChartSize {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let (width, height) = root.dim_in_pixel();
        let body_height = height.saturating_sub(frame::HEADER_HEIGHT + 8);
        let columns = self.columns.min((width.saturating_sub(16) / MIN_PANEL.0).max(1) as usize);
        let max_rows = (body_height / MIN_PANEL.1).max(1) as usize;
        let shown = self.runs.len().min(columns * max_rows).min(MAX_PANELS);
        let rows = shown.div_ceil(columns);

        let first = &self.runs[0].report.name;
        let same_trace = self.runs.iter().all(|r| &r.report.name == first);
        let trace = if same_trace && !first.is_empty() { format!(" of {first}") } else { String::new() };
        let title = format!("Old generation over time: {} runs{trace}", format_count(self.total as u64));

        let end_ms = self
            .runs
            .iter()
            .take(shown)
            .flat_map(|r| r.t_ms.last().copied().into_iter().chain([r.report.summary.end_ms]))
            .filter(|t| t.is_finite())
            .fold(0.0, f64::max);
        let max_bytes = self.runs.iter().take(shown).flat_map(|r| r.total.iter().copied()).fold(0.0, f64::max);
        let time_unit = TimeUnit::for_max(end_ms);
        let byte_unit = ByteUnit::for_max(axis_end(max_bytes, 0.08));
        let x_end = axis_end(end_ms / time_unit.ms(), 0.0);
        let y_end = axis_end(max_bytes / byte_unit.bytes(), 0.08);

        let mut subtitle = format!(
            "same axes in every panel: simulated time ({}) × used bytes ({}) · thick: old generation (old + \
             large-object space) · thin: whole heap · red ring: out of memory",
            time_unit.symbol(),
            byte_unit.symbol()
        );
        if shown < self.total {
            subtitle = format!("the first {shown} shown (a larger chart shows more) · {subtitle}");
        }
        let body = frame::header(root, &title, &subtitle)?;
        let body = body.margin(4, 8, 8, 8);
        let grid = body.split_evenly((rows, columns));
        for (run, area) in self.runs.iter().take(shown).zip(&grid) {
            self.draw_panel(run, area, x_end, y_end, time_unit, byte_unit)?;
        }
        Ok(())
    }
}

impl PanelsChart<'_> {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        run: &Run<'_>,
        area: &DrawingArea<DB, Shift>,
        x_end: f64,
        y_end: f64,
        time_unit: TimeUnit,
        byte_unit: ByteUnit,
    ) -> Result<(), VisualizerError> {
        let (width, _) = area.dim_in_pixel();
        let name = frame::fit(area, &run.name, LABEL_SIZE, width.saturating_sub(12))?;
        area.draw(&Text::new(name, (6, 2), text(LABEL_SIZE, palette::TEXT))).drawn()?;
        let s = &run.report.summary;
        let (note, color) = match &s.oom {
            Some(oom) => (
                format!(
                    "{} MC, {} scav. · out of memory at {}",
                    format_count(s.mark_compacts),
                    format_count(s.scavenges),
                    format_duration(oom.at_ms)
                ),
                palette::OUT_OF_MEMORY,
            ),
            None => (
                format!("{} MC, {} scav. · survived", format_count(s.mark_compacts), format_count(s.scavenges)),
                palette::MUTED_TEXT,
            ),
        };
        let note = frame::fit(area, &note, LABEL_SIZE - 2.0, width.saturating_sub(12))?;
        area.draw(&Text::new(note, (6, 20), text(LABEL_SIZE - 2.0, color))).drawn()?;

        let plot_area = area.margin(PANEL_HEADER, 2, 0, 10);
        let mut chart = ChartBuilder::on(&plot_area)
            .x_label_area_size(18)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..x_end, 0.0..y_end)
            .drawn()?;
        let formatter = |v: &f64| tick_label(*v);
        chart
            .configure_mesh()
            .x_labels(4)
            .y_labels(4)
            .x_label_formatter(&formatter)
            .y_label_formatter(&formatter)
            .label_style(text(LABEL_SIZE - 3.0, palette::MUTED_TEXT))
            .axis_style(ShapeStyle::from(&palette::MUTED_TEXT.rgb()))
            .bold_line_style(ShapeStyle::from(&palette::GRID.rgb()))
            .light_line_style(ShapeStyle::from(&palette::GRID.lighten(0.6).rgb()))
            .max_light_lines(0)
            .draw()
            .drawn()?;
        let plot = chart.plotting_area();
        let columns = Columns::new(0.0, x_end, plot.dim_in_pixel().0.max(1) as usize);
        let points = |values: &[f64]| {
            let ts: Vec<f64> = run.t_ms.iter().map(|t| t / time_unit.ms()).collect();
            let vs: Vec<f64> = values.iter().map(|b| b / byte_unit.bytes()).collect();
            m4(&ts, &vs, &columns)
        };
        let color = palette::comparison(0);
        plot.draw(&PathElement::new(points(&run.total), style(color.lighten(TOTAL_LIGHTEN), 1))).drawn()?;
        let line = points(&run.old_generation);
        plot.draw(&PathElement::new(line.clone(), style(color, OLD_GENERATION_WIDTH))).drawn()?;
        if s.oom.is_some() {
            if let Some(&end) = line.last() {
                let ring = ShapeStyle { filled: false, ..style(palette::OUT_OF_MEMORY, 2) };
                plot.draw(&Circle::new(end, 6, ring)).drawn()?;
            }
        }
        Ok(())
    }
}
