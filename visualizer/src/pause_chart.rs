//! The pause chart: every collection's modelled pause at the time it ended, coloured by collector, with each
//! collector's count, total and longest pause in the legend.

use std::collections::BTreeSet;

use gc_sim::{Collector, GcEvent, Report};
use plotters::coord::Shift;
use plotters::element::Circle;
use plotters::prelude::{DrawingArea, DrawingBackend, PathElement, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::Drawn;
use crate::frame::{self, axis_end, text, SUBTITLE_SIZE};
use crate::heap_chart::style;
use crate::legend::{self, Entry, Swatch};
use crate::output::Chart;
use crate::palette::{self, Rgb};
use crate::units::{format_count, format_duration, format_number, heap_config_summary, TimeUnit};
use crate::{ChartSize, VisualizerError};

/// The chart, ready to draw.
pub(crate) struct PauseChart<'r> {
    report: &'r Report,
    size: ChartSize,
}

/// Totals of one collector.
struct Totals {
    count: u64,
    total_ms: f64,
    max_ms: f64,
}

/// Draws pauses as stems from the time axis, `points` being (time, pause) in time order: one stem per pixel column
/// (the longest) and one dot per pixel, so that a long run costs the image's width, not its number of pauses.
pub(crate) fn draw_stems<DB: DrawingBackend>(
    chart: &frame::Plot<'_, DB>,
    points: impl Iterator<Item = (f64, f64)>,
    color: Rgb,
) -> Result<(), VisualizerError> {
    let area = chart.plotting_area();
    let mut stems: Vec<(i32, f64, f64)> = Vec::new();
    let mut dots = BTreeSet::new();
    for point in points {
        let pixel = chart.backend_coord(&point);
        match stems.last_mut() {
            Some(last) if last.0 == pixel.0 => {
                if point.1 > last.2 {
                    *last = (pixel.0, point.0, point.1);
                }
            }
            _ => stems.push((pixel.0, point.0, point.1)),
        }
        if dots.insert(pixel) {
            area.draw(&Circle::new(point, 3, style(color, 1))).drawn()?;
        }
    }
    for (_, x, y) in stems {
        area.draw(&PathElement::new(vec![(x, 0.0), (x, y)], style(color, 1))).drawn()?;
    }
    Ok(())
}

/// An event a replay can produce: a finite, non-negative pause ending at a non-negative time.
fn plottable(e: &GcEvent) -> bool {
    e.pause_ms.is_finite() && e.pause_ms >= 0.0 && e.end_ms().is_finite() && e.end_ms() >= 0.0
}

fn totals<'a>(events: impl Iterator<Item = &'a GcEvent>) -> Totals {
    events.filter(|e| plottable(e)).fold(Totals { count: 0, total_ms: 0.0, max_ms: 0.0 }, |t, e| Totals {
        count: t.count + 1,
        total_ms: t.total_ms + e.pause_ms,
        max_ms: t.max_ms.max(e.pause_ms),
    })
}

impl<'r> PauseChart<'r> {
    pub fn new(report: &'r Report, size: ChartSize) -> Result<PauseChart<'r>, VisualizerError> {
        size.validate()?;
        if report.timeline.is_empty() && report.events.is_empty() {
            return Err(VisualizerError::EmptyReport {
                name: report.name.clone(),
                reason: "it has neither samples nor collections",
            });
        }
        Ok(PauseChart { report, size })
    }

    fn events(&self, collector: Collector) -> impl Iterator<Item = &GcEvent> {
        self.report.events.iter().filter(move |e| e.collector == collector)
    }

    /// The totals of the events of `collector` (all with `None`), from the summary when the report keeps only a
    /// sample of its collections (more than `gc_sim::MAX_KEPT_EVENTS`): the summary counts every one. The
    /// longest pause of all is always among the kept events.
    fn exact(&self, sampled: Totals, collector: Option<Collector>) -> Totals {
        let s = &self.report.summary;
        if self.report.events.len() as u64 == s.scavenges + s.mark_compacts {
            return sampled;
        }
        let (count, total_ms) = match collector {
            None => (s.scavenges + s.mark_compacts, s.pause_ms),
            Some(Collector::Scavenge) => (s.scavenges, s.scavenge_pause_ms),
            Some(Collector::MarkCompact) => (s.mark_compacts, s.mark_compact_pause_ms),
        };
        Totals { count, total_ms, max_ms: sampled.max_ms }
    }
}

impl Chart for PauseChart<'_> {
    fn size(&self) -> ChartSize {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let r = self.report;
        let name = if r.name.is_empty() { "(unnamed trace)" } else { &r.name };
        let all = self.exact(totals(r.events.iter()), None);
        let end_ms = r
            .timeline
            .iter()
            .map(|s| s.t_ms)
            .chain([r.summary.end_ms])
            .chain(r.events.iter().map(GcEvent::end_ms))
            .filter(|t| t.is_finite())
            .fold(0.0, f64::max);
        let share = if end_ms > 0.0 { 100.0 * all.total_ms / end_ms } else { 0.0 };
        let subtitle = format!(
            "{} · {} collections, {} paused ({} % of {} simulated)",
            heap_config_summary(&r.config),
            format_count(all.count),
            format_duration(all.total_ms),
            format_number(share, if share < 10.0 { 1 } else { 0 }),
            format_duration(end_ms),
        );
        let frame = frame::frame(root, &format!("{name}: GC pauses"), &subtitle)?;

        let time_unit = TimeUnit::for_max(end_ms);
        // A little room right of the last pause, so that its stem is not lost in the plot's border.
        let x_end = axis_end(end_ms / time_unit.ms(), 0.02);
        let y_end = axis_end(all.max_ms, 0.1);
        let chart = frame::axes(
            &frame.plot,
            0.0..x_end,
            0.0..y_end,
            &format!("simulated time at the end of the pause ({})", time_unit.symbol()),
            "modelled pause (ms)",
        )?;
        let area = chart.plotting_area();

        let (xs, ys) = area.get_pixel_range();
        // The death under the pauses, which stay readable.
        if let Some(oom) = &r.summary.oom {
            let x = chart.backend_coord(&((oom.at_ms / time_unit.ms()).min(x_end), 0.0)).0.clamp(xs.start, xs.end - 1);
            root.draw(&PathElement::new(vec![(x, ys.start), (x, ys.end - 1)], style(palette::OUT_OF_MEMORY, 2)))
                .drawn()?;
        }

        // Scavenges first: mark-compacts are rarer and longer, and stay visible on top.
        for (collector, color) in
            [(Collector::Scavenge, palette::SCAVENGE), (Collector::MarkCompact, palette::MARK_COMPACT)]
        {
            let points = self
                .events(collector)
                .filter(|e| plottable(e))
                .map(|e| (e.end_ms() / time_unit.ms(), e.pause_ms.min(y_end)));
            draw_stems(&chart, points, color)?;
        }

        if r.events.is_empty() {
            let center = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
            let message = text(SUBTITLE_SIZE, palette::MUTED_TEXT).pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new("no garbage collection in this run", center, message)).drawn()?;
        }

        let entry = |color: Rgb, collector: Collector| {
            let t = self.exact(totals(self.events(collector)), Some(collector));
            Entry::new(
                Swatch::Stem(color),
                format!(
                    "{}: {} · total {} · max {}",
                    collector.v8_name(),
                    format_count(t.count),
                    format_duration(t.total_ms),
                    format_duration(t.max_ms),
                ),
            )
        };
        let mut entries = vec![
            Entry::new(Swatch::Heading, "Collections"),
            entry(palette::SCAVENGE, Collector::Scavenge),
            entry(palette::MARK_COMPACT, Collector::MarkCompact),
        ];
        entries.extend(Entry::out_of_memory(r));
        entries.push(Entry::new(
            Swatch::Note,
            format!(
                "All: {} collections, {} paused, longest {}. Each stem is a pause, placed at its end; pauses come from gc-sim's cost model, not a clock.",
                format_count(all.count),
                format_duration(all.total_ms),
                format_duration(all.max_ms),
            ),
        ));
        legend::draw(&frame.legend, &entries)
    }
}
