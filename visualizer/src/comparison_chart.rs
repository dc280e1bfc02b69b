//! The comparison chart: the old generation (thick) and the whole heap (thin) of several runs over simulated time,
//! on the same axes, e.g. a leaky program and its fix.

use gc_sim::Report;
use plotters::coord::Shift;
use plotters::element::Circle;
use plotters::prelude::{DrawingArea, DrawingBackend, PathElement};

use crate::envelope::{m4, Columns};
use crate::error::Drawn;
use crate::frame::{self, axis_end};
use crate::heap_chart::style;
use crate::legend::{self, Entry, Swatch};
use crate::output::Chart;
use crate::palette;
use crate::units::{
    config_differences, format_bytes, format_count, format_duration, heap_config_summary, ByteUnit, TimeUnit,
};
use crate::{ChartSize, VisualizerError};

/// Width of the old-generation lines.
const OLD_GENERATION_WIDTH: u32 = 3;
/// How much lighter the whole-heap lines are than the old-generation ones.
const TOTAL_LIGHTEN: f64 = 0.45;

/// The chart, ready to draw.
pub(crate) struct ComparisonChart<'r> {
    runs: Vec<Run<'r>>,
    size: ChartSize,
}

/// One report's series (also a panel of the panels chart).
pub(crate) struct Run<'r> {
    pub(crate) report: &'r Report,
    pub(crate) name: String,
    pub(crate) t_ms: Vec<f64>,
    pub(crate) old_generation: Vec<f64>,
    pub(crate) total: Vec<f64>,
}

/// The series of `reports`, named by [`run_names`], in time order.
///
/// # Errors
/// [`VisualizerError::EmptyReport`] for a report whose timeline has no sample.
pub(crate) fn runs<'r>(reports: &[&'r Report]) -> Result<Vec<Run<'r>>, VisualizerError> {
    let names = run_names(reports);
    let mut runs = Vec::with_capacity(reports.len());
    for (&report, name) in reports.iter().zip(names) {
        let mut samples: Vec<_> = report.timeline.iter().filter(|s| s.t_ms.is_finite() && s.t_ms >= 0.0).collect();
        if samples.is_empty() {
            return Err(VisualizerError::EmptyReport {
                name: report.name.clone(),
                reason: "its timeline has no samples",
            });
        }
        samples.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        runs.push(Run {
            report,
            name,
            t_ms: samples.iter().map(|s| s.t_ms).collect(),
            old_generation: samples.iter().map(|s| s.spaces.old_generation_bytes() as f64).collect(),
            total: samples.iter().map(|s| s.spaces.used_bytes() as f64).collect(),
        });
    }
    Ok(runs)
}

impl<'r> ComparisonChart<'r> {
    pub fn new(reports: &[&'r Report], size: ChartSize) -> Result<ComparisonChart<'r>, VisualizerError> {
        size.validate()?;
        if reports.is_empty() {
            return Err(VisualizerError::NoReports);
        }
        let runs = runs(reports)?;
        Ok(ComparisonChart { runs, size })
    }
}

/// The names of runs in a chart: their reports' names; runs that share a name (a sweep's cells, the same trace
/// under two configurations) are named by the settings in which their configurations differ (`old 16 MiB, semi 4
/// MiB`), and by their place (`#2`) when even those are the same.
pub(crate) fn run_names(reports: &[&Report]) -> Vec<String> {
    let configs: Vec<&gc_sim::HeapConfig> = reports.iter().map(|r| &r.config).collect();
    let labels = config_differences(&configs).labels;
    let all_same = reports.iter().all(|r| r.name == reports[0].name);
    let names: Vec<String> = reports
        .iter()
        .zip(&labels)
        .map(|(report, label)| {
            let base = if report.name.is_empty() { "(unnamed)" } else { &report.name };
            let duplicate = reports.iter().filter(|r| r.name == report.name).count() > 1;
            match (duplicate, label.is_empty()) {
                (false, _) | (true, true) => base.to_owned(),
                (true, false) if all_same => label.clone(),
                (true, false) => format!("{base}, {label}"),
            }
        })
        .collect();
    names
        .iter()
        .enumerate()
        .map(
            |(i, name)| {
                if names.iter().filter(|n| *n == name).count() > 1 {
                    format!("{name} #{}", i + 1)
                } else {
                    name.clone()
                }
            },
        )
        .collect()
}

impl Chart for ComparisonChart<'_> {
    fn size(&self) -> ChartSize {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let names: Vec<&str> = self.runs.iter().map(|r| r.name.as_str()).collect();
        let title = if names.len() <= 3 {
            format!("Old generation over time: {}", names.join(" vs "))
        } else {
            format!("Old generation over time: {} runs", names.len())
        };
        let first_config = &self.runs[0].report.config;
        let same_config = self.runs.iter().all(|r| &r.report.config == first_config);
        let config = if same_config {
            heap_config_summary(first_config)
        } else {
            "heap configurations differ (see the legend)".to_owned()
        };
        let subtitle =
            format!("{config} · thick: old generation used (old + large-object space) · thin: whole heap used");
        let frame = frame::frame(root, &title, &subtitle)?;

        let end_ms = self
            .runs
            .iter()
            .flat_map(|r| r.t_ms.last().copied().into_iter().chain([r.report.summary.end_ms]))
            .filter(|t| t.is_finite())
            .fold(0.0, f64::max);
        let max_bytes = self.runs.iter().flat_map(|r| r.total.iter().copied()).fold(0.0, f64::max);
        let time_unit = TimeUnit::for_max(end_ms);
        let byte_unit = ByteUnit::for_max(axis_end(max_bytes, 0.08));
        let x_end = axis_end(end_ms / time_unit.ms(), 0.0);
        let y_end = axis_end(max_bytes / byte_unit.bytes(), 0.08);
        let chart = frame::axes(
            &frame.plot,
            0.0..x_end,
            0.0..y_end,
            &format!("simulated time ({})", time_unit.symbol()),
            &format!("used bytes ({})", byte_unit.symbol()),
        )?;
        let area = chart.plotting_area();
        let columns = Columns::new(0.0, x_end, area.dim_in_pixel().0 as usize);
        let points = |run: &Run<'_>, values: &[f64]| {
            let ts: Vec<f64> = run.t_ms.iter().map(|t| t / time_unit.ms()).collect();
            let vs: Vec<f64> = values.iter().map(|b| b / byte_unit.bytes()).collect();
            m4(&ts, &vs, &columns)
        };

        // Whole-heap lines under every old-generation line.
        for (i, run) in self.runs.iter().enumerate() {
            let color = palette::comparison(i).lighten(TOTAL_LIGHTEN);
            area.draw(&PathElement::new(points(run, &run.total), style(color, 1))).drawn()?;
        }
        for (i, run) in self.runs.iter().enumerate() {
            let line = points(run, &run.old_generation);
            area.draw(&PathElement::new(line.clone(), style(palette::comparison(i), OLD_GENERATION_WIDTH))).drawn()?;
            if run.report.summary.oom.is_some() {
                if let Some(&end) = line.last() {
                    let ring = plotters::style::ShapeStyle { filled: false, ..style(palette::OUT_OF_MEMORY, 2) };
                    area.draw(&Circle::new(end, 7, ring)).drawn()?;
                }
            }
        }

        let mut entries = Vec::new();
        for (i, run) in self.runs.iter().enumerate() {
            let s = &run.report.summary;
            let color = palette::comparison(i);
            entries
                .push(Entry::new(Swatch::Line(color, OLD_GENERATION_WIDTH), format!("{}: old generation", run.name)));
            entries
                .push(Entry::new(Swatch::Line(color.lighten(TOTAL_LIGHTEN), 1), format!("{}: whole heap", run.name)));
            let mut note = format!(
                "{} scavenges, {} mark-compacts; live at the end {} ({} old)",
                format_count(s.scavenges),
                format_count(s.mark_compacts),
                format_bytes(s.live_bytes),
                format_bytes(s.live_old_bytes),
            );
            if !same_config {
                note = format!("{}; {note}", heap_config_summary(&run.report.config));
            }
            entries.push(Entry::new(Swatch::Note, note));
            if let Some(oom) = &s.oom {
                entries.push(Entry::new(
                    Swatch::Rule(palette::OUT_OF_MEMORY),
                    format!("{}: out of memory at {}", run.name, format_duration(oom.at_ms)),
                ));
            }
        }
        legend::draw(&frame.legend, &entries)
    }
}
