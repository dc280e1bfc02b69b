//! Charts of a real run read from a Node GC log (`gc_sim::gc_log`): the heap before and after each collection as
//! V8 prints it, the pauses by collector, and the real heap beside a simulated one on the same axes.
//!
//! They reuse the frame, legend, palette, units and overlay of the simulation's charts; only the data differ: a
//! log gives one point before and one after each collection, not a timeline of samples.

use gc_sim::gc_log::{LogCollector, LogEvent, LogReport};
use gc_sim::Report;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, PathElement};

use crate::envelope::{m4, Columns};
use crate::error::Drawn;
use crate::frame::{self, axis_end};
use crate::heap_chart::{style, Overlay};
use crate::legend::{self, Entry, Swatch};
use crate::output::Chart;
use crate::palette;
use crate::units::{format_bytes, format_count, format_duration, ByteUnit, TimeUnit};
use crate::{ChartSize, VisualizerError};

/// A collection of the log that can be placed: a finite, non-negative start time.
fn placed(e: &LogEvent) -> Option<f64> {
    e.start_ms.filter(|t| t.is_finite() && *t >= 0.0)
}

/// The end of a collection, ms (its start when the pause is unknown).
fn end_ms(e: &LogEvent) -> Option<f64> {
    placed(e).map(|t| t + e.pause_ms.filter(|p| p.is_finite() && *p >= 0.0).unwrap_or(0.0))
}

fn name(log: &LogReport) -> &str {
    if log.name.is_empty() {
        "(unnamed log)"
    } else {
        &log.name
    }
}

/// The real heap as a path: at each collection's end, the size before it, then the size after it.
fn real_heap_points(log: &LogReport) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(2 * log.events.len());
    for e in &log.events {
        let Some(t) = end_ms(e) else { continue };
        if let Some(b) = e.before_bytes {
            points.push((t, b as f64));
        }
        if let Some(a) = e.after_bytes {
            points.push((t, a as f64));
        }
    }
    points
}

/// The simulated heap (all spaces' used bytes) over time.
fn simulated_points(report: &Report) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = report
        .timeline
        .iter()
        .filter(|s| s.t_ms.is_finite() && s.t_ms >= 0.0)
        .map(|s| {
            let sp = &s.spaces;
            let used = sp.old_generation_bytes() + sp.new_space.used_bytes + sp.new_large_object_space.used_bytes;
            (s.t_ms, used as f64)
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// The heap chart of a log, with a simulated run beside it or not.
pub(crate) struct LogHeapChart<'r> {
    log: &'r LogReport,
    simulated: Option<&'r Report>,
    size: ChartSize,
}

impl<'r> LogHeapChart<'r> {
    pub fn new(
        log: &'r LogReport,
        simulated: Option<&'r Report>,
        size: ChartSize,
    ) -> Result<LogHeapChart<'r>, VisualizerError> {
        size.validate()?;
        if real_heap_points(log).is_empty() {
            return Err(VisualizerError::EmptyReport {
                name: log.name.clone(),
                reason: "its log has no collection with a time and a heap size",
            });
        }
        if let Some(r) = simulated {
            if simulated_points(r).is_empty() {
                return Err(VisualizerError::EmptyReport {
                    name: r.name.clone(),
                    reason: "its timeline has no samples",
                });
            }
        }
        Ok(LogHeapChart { log, simulated, size })
    }
}

impl Chart for LogHeapChart<'_> {
    fn size(&self) -> ChartSize {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let log = self.log;
        let s = &log.summary;
        let real = real_heap_points(log);
        let simulated = self.simulated.map(simulated_points).unwrap_or_default();
        let (title, mut subtitle) = match self.simulated {
            None => (
                format!("{}: heap before and after each GC", name(log)),
                format!(
                    "Node GC log · {} scavenges, {} mark-compacts · {} paused",
                    format_count(s.scavenges),
                    format_count(s.mark_compacts),
                    format_duration(s.pause_ms),
                ),
            ),
            Some(r) => (
                format!("{} beside {}: heap", if r.name.is_empty() { "(unnamed trace)" } else { &r.name }, name(log)),
                format!(
                    "simulated: {} scavenges, {} mark-compacts · real: {} scavenges, {} mark-compacts",
                    format_count(r.summary.scavenges),
                    format_count(r.summary.mark_compacts),
                    format_count(s.scavenges),
                    format_count(s.mark_compacts),
                ),
            ),
        };
        if s.oom.is_some() {
            subtitle.push_str(" · the real run died: out of memory");
        }
        let frame = frame::frame(root, &title, &subtitle)?;

        let sim_oom = self.simulated.and_then(|r| r.summary.oom.as_ref());
        let times = real.iter().chain(&simulated).map(|p| p.0);
        let times = times.chain(s.end_ms).chain(s.oom.as_ref().and_then(|o| o.at_ms));
        let times = times.chain(self.simulated.map(|r| r.summary.end_ms)).chain(sim_oom.map(|o| o.at_ms));
        let end_ms = times.filter(|t| t.is_finite()).fold(0.0, f64::max);
        let max_bytes = real.iter().chain(&simulated).map(|p| p.1).fold(0.0, f64::max);
        let time_unit = TimeUnit::for_max(end_ms);
        let byte_unit = ByteUnit::for_max(axis_end(max_bytes, 0.08));
        let x_end = axis_end(end_ms / time_unit.ms(), 0.02);
        let y_end = axis_end(max_bytes / byte_unit.bytes(), 0.08);
        let x_desc =
            if self.simulated.is_some() { "time (real and simulated)" } else { "time since the process started" };
        let chart = frame::axes(
            &frame.plot,
            0.0..x_end,
            0.0..y_end,
            &format!("{x_desc} ({})", time_unit.symbol()),
            &format!("heap used, all spaces ({})", byte_unit.symbol()),
        )?;
        let scale = |p: &(f64, f64)| (p.0 / time_unit.ms(), p.1 / byte_unit.bytes());
        let overlay = Overlay::new(&chart, time_unit);

        let full: Vec<f64> =
            log.events.iter().filter(|e| e.collector.is_full()).filter_map(placed).collect::<Vec<f64>>();
        for x in overlay.columns(&full) {
            overlay.rule(root, x, palette::MARK_COMPACT, 1)?;
        }
        // Both series downsampled to the plot's pixel columns (first, lowest, highest, last of each): a run of
        // thousands of collections draws as fast, and as sharp, as one of ten.
        let (plot_width, _) = chart.plotting_area().dim_in_pixel();
        let columns = Columns::new(0.0, x_end, plot_width as usize);
        let downsampled = |points: &[(f64, f64)]| {
            let (ts, vs): (Vec<f64>, Vec<f64>) = points.iter().map(scale).unzip();
            let mut points = m4(&ts, &vs, &columns);
            // One point per pixel. The lines are 1 pixel wide: plotters joins the segments of a wider line with
            // miters, and a saw of near-vertical segments that turn back (every collection) gets miters as tall as
            // the image.
            let mut last = None;
            points.retain(|p| {
                let pixel = chart.backend_coord(p);
                last.replace(pixel) != Some(pixel)
            });
            points
        };
        if !simulated.is_empty() {
            let points = downsampled(&simulated);
            chart.plotting_area().draw(&PathElement::new(points, style(palette::SIMULATED_HEAP, 1))).drawn()?;
        }
        let points = downsampled(&real);
        chart.plotting_area().draw(&PathElement::new(points, style(palette::REAL_HEAP, 1))).drawn()?;

        let young: Vec<f64> =
            log.events.iter().filter(|e| !e.collector.is_full()).filter_map(placed).collect::<Vec<f64>>();
        let bottom = overlay.y.end - 1;
        for x in overlay.columns(&young) {
            root.draw(&PathElement::new(vec![(x, bottom), (x, bottom - 8)], style(palette::SCAVENGE, 1))).drawn()?;
        }
        if let Some(at) = sim_oom.map(|o| o.at_ms).filter(|t| t.is_finite()) {
            overlay.rule(root, overlay.x_of(at), palette::SIMULATED_HEAP, 2)?;
        }
        if let Some(oom) = &s.oom {
            let at = oom.at_ms.filter(|t| t.is_finite()).unwrap_or(end_ms);
            let heap = oom.heap_bytes.map_or(String::new(), |b| format!(", heap {}", format_bytes(b)));
            overlay.out_of_memory(
                root,
                at,
                &format!("real run out of memory at {}{heap}", format_duration(at)),
                &oom.message,
                0,
            )?;
        }

        let mut entries = vec![Entry::new(Swatch::Heading, "Heap used, all spaces")];
        entries.push(Entry::new(
            Swatch::Line(palette::REAL_HEAP, 2),
            "real (the log): before → after each GC, at its end",
        ));
        if let Some(r) = self.simulated {
            entries.push(Entry::new(
                Swatch::Line(palette::SIMULATED_HEAP, 2),
                format!("simulated ({}): the report's timeline", if r.name.is_empty() { "trace" } else { &r.name }),
            ));
        }
        entries.push(Entry::new(Swatch::Heading, "Real collections"));
        entries.push(Entry::new(Swatch::Tick(palette::SCAVENGE), format!("scavenge ({})", format_count(s.scavenges))));
        entries.push(Entry::new(
            Swatch::Rule(palette::MARK_COMPACT),
            format!("mark-compact ({})", format_count(s.mark_compacts)),
        ));
        if let Some(oom) = &s.oom {
            let at = oom.at_ms.map_or("?".to_owned(), format_duration);
            entries.push(Entry::new(Swatch::Rule(palette::OUT_OF_MEMORY), format!("real run out of memory at {at}")));
        }
        if let Some(oom) = sim_oom {
            entries.push(Entry::new(
                Swatch::Rule(palette::SIMULATED_HEAP),
                format!("simulated run out of memory at {}", format_duration(oom.at_ms)),
            ));
        }
        if log.events_omitted > 0 {
            entries.push(Entry::new(
                Swatch::Note,
                format!("{} collections not drawn (beyond the events kept)", format_count(log.events_omitted)),
            ));
        }
        legend::draw(&frame.legend, &entries)
    }
}

/// The pause chart of a log.
pub(crate) struct LogPauseChart<'r> {
    log: &'r LogReport,
    size: ChartSize,
}

impl<'r> LogPauseChart<'r> {
    pub fn new(log: &'r LogReport, size: ChartSize) -> Result<LogPauseChart<'r>, VisualizerError> {
        size.validate()?;
        if !log.events.iter().any(|e| end_ms(e).is_some() && e.pause_ms.is_some()) {
            return Err(VisualizerError::EmptyReport {
                name: log.name.clone(),
                reason: "its log has no collection with a time and a pause",
            });
        }
        Ok(LogPauseChart { log, size })
    }
}

impl Chart for LogPauseChart<'_> {
    fn size(&self) -> ChartSize {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let log = self.log;
        let s = &log.summary;
        let pauses: Vec<(LogCollector, f64, f64)> = log
            .events
            .iter()
            .filter_map(|e| Some((e.collector, end_ms(e)?, e.pause_ms.filter(|p| p.is_finite() && *p >= 0.0)?)))
            .collect();
        let end = pauses.iter().map(|p| p.1).chain(s.end_ms).filter(|t| t.is_finite()).fold(0.0, f64::max);
        let max_pause = pauses.iter().map(|p| p.2).fold(0.0, f64::max);
        let subtitle = format!(
            "Node GC log · {} collections, {} paused, longest {} · {} incremental marking outside the pauses",
            format_count(s.scavenges + s.mark_compacts + s.minor_mark_sweeps),
            format_duration(s.pause_ms),
            format_duration(s.max_pause_ms),
            format_duration(s.incremental_marking_ms),
        );
        let frame = frame::frame(root, &format!("{}: GC pauses", name(log)), &subtitle)?;
        let time_unit = TimeUnit::for_max(end);
        let x_end = axis_end(end / time_unit.ms(), 0.02);
        let y_end = axis_end(max_pause, 0.1);
        let chart = frame::axes(
            &frame.plot,
            0.0..x_end,
            0.0..y_end,
            &format!("time at the end of the pause ({})", time_unit.symbol()),
            "pause as V8 printed it (ms)",
        )?;
        if let Some(at) = s.oom.as_ref().and_then(|o| o.at_ms).filter(|t| t.is_finite()) {
            let overlay = Overlay::new(&chart, time_unit);
            overlay.rule(root, overlay.x_of(at), palette::OUT_OF_MEMORY, 2)?;
        }
        let kinds = [
            (LogCollector::Scavenge, palette::SCAVENGE),
            (LogCollector::MinorMarkSweep, palette::LARGE_OBJECT_SPACE),
            (LogCollector::MarkCompact, palette::MARK_COMPACT),
        ];
        let mut entries = vec![Entry::new(Swatch::Heading, "Collections (pause as printed)")];
        for (collector, color) in kinds {
            let (mut count, mut total, mut max) = (0u64, 0.0f64, 0.0f64);
            let points = pauses.iter().filter(|p| p.0 == collector).map(|&(_, t, p)| {
                (count, total, max) = (count + 1, total + p, max.max(p));
                (t / time_unit.ms(), p)
            });
            crate::pause_chart::draw_stems(&chart, points, color)?;
            if count > 0 || collector != LogCollector::MinorMarkSweep {
                entries.push(Entry::new(
                    Swatch::Stem(color),
                    format!(
                        "{}: {} · total {} · max {}",
                        collector.name(),
                        format_count(count),
                        format_duration(total),
                        format_duration(max)
                    ),
                ));
            }
        }
        if let Some(oom) = &s.oom {
            let at = oom.at_ms.map_or("?".to_owned(), format_duration);
            entries.push(Entry::new(Swatch::Rule(palette::OUT_OF_MEMORY), format!("out of memory at {at}")));
        }
        entries.push(Entry::new(
            Swatch::Note,
            "Each stem is a pause as V8 printed it, placed at its end; incremental marking steps are not pauses here.",
        ));
        legend::draw(&frame.legend, &entries)
    }
}
