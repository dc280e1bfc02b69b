//! `gc-sim plot`: charts from saved reports.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use gc_sim::report::{REPORT_FORMAT, REPORT_VERSION};
use gc_sim::trace::FORMAT as TRACE_FORMAT;
use gc_sim::{HeapMapMoment, Report};
use visualizer::ImageFormat;

use crate::output::Output;

/// Options of `gc-sim plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Reports written by `gc-sim run --report`; several for a comparison.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// The image to write: a `.png` or `.svg` path.
    #[arg(short, long, value_name = "FILE.png")]
    output: PathBuf,
    /// Which chart: `heap` (the default for one report), `pauses`, `comparison` (the default for several), or
    /// `heapmap` (the default with `--moment` or `--color-by`).
    #[arg(long, value_enum)]
    chart: Option<Chart>,
    /// Heap map: draw the map taken at this moment (`before:N`, `after:N` around collection N, or `end`); repeat
    /// for maps side by side. Default: every map in the report.
    #[arg(long = "moment", value_name = "MOMENT", value_parser = parse_moment)]
    moments: Vec<HeapMapMoment>,
    /// Heap map: what the cells show: `state` (live, dead, waste and free bytes), or the live bytes by `kind` or
    /// `tag`.
    #[arg(long, value_enum, value_name = "WHAT")]
    color_by: Option<ColorBy>,
}

/// The charts `gc-sim plot` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Chart {
    /// Heap by generation over simulated time.
    Heap,
    /// GC pauses over time.
    Pauses,
    /// Old-generation size of several runs on one chart (more than four: a small panel each, on the same axes).
    Comparison,
    /// Every page of the heap as a row of cells, at the report's heap-map moments.
    Heapmap,
}

/// What the cells of a heap map show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorBy {
    /// Live, dead, waste and free bytes.
    State,
    /// Live bytes by the cell's dominant kind.
    Kind,
    /// Live bytes by the cell's dominant tag.
    Tag,
}

impl From<ColorBy> for visualizer::HeapMapColoring {
    fn from(c: ColorBy) -> Self {
        match c {
            ColorBy::State => visualizer::HeapMapColoring::State,
            ColorBy::Kind => visualizer::HeapMapColoring::Kind,
            ColorBy::Tag => visualizer::HeapMapColoring::Tag,
        }
    }
}

fn parse_moment(text: &str) -> Result<HeapMapMoment, String> {
    text.parse()
}

/// Runs `gc-sim plot`.
pub fn plot(args: PlotArgs) -> ExitCode {
    // An output that cannot be written is a usage error, found before reading the reports.
    let output = match Output::check_image("--output", &args.output) {
        Ok(output) => output,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(2);
        }
    };
    match render(&args, &output) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(1)
        }
    }
}

fn render(args: &PlotArgs, (output, format): &(Output, ImageFormat)) -> Result<(), String> {
    let format = *format;
    let heap_map_options = !args.moments.is_empty() || args.color_by.is_some();
    let chart = match args.chart {
        Some(chart) => chart,
        None if heap_map_options => Chart::Heapmap,
        None if args.reports.len() > 1 => Chart::Comparison,
        None => Chart::Heap,
    };
    if heap_map_options && chart != Chart::Heapmap {
        return Err(format!(
            "--moment and --color-by apply to the heap map (--chart heapmap), not to the {} chart",
            format!("{chart:?}").to_lowercase()
        ));
    }
    let loaded = args.reports.iter().map(read_report).collect::<Result<Vec<Loaded>, String>>()?;
    if loaded.iter().any(|l| matches!(l, Loaded::Log(_))) {
        return render_log(chart, &loaded, format, output);
    }
    let reports: Vec<Report> =
        loaded.into_iter().map(|l| if let Loaded::Simulated(r) = l { *r } else { unreachable!() }).collect();
    let single = || match reports.as_slice() {
        [one] => Ok(one),
        _ => Err(format!("the {chart:?} chart takes one report, not {}", reports.len()).to_lowercase()),
    };
    let size = visualizer::ChartSize::default();
    let result = match chart {
        Chart::Heap => visualizer::heap_chart(single()?, format, &visualizer::HeapChartOptions::default()),
        Chart::Pauses => visualizer::pause_chart(single()?, format, size),
        Chart::Comparison => {
            let reports: Vec<&Report> = reports.iter().collect();
            // More than a few runs are small multiples, a panel each: the chart grows to fit them.
            let size = if reports.len() > visualizer::MAX_OVERLAID {
                visualizer::panels_size(reports.len().min(visualizer::MAX_PANELS), visualizer::grid_columns(&reports))
            } else {
                size
            };
            visualizer::comparison_chart(&reports, format, size)
        }
        Chart::Heapmap => {
            let options = visualizer::HeapMapOptions {
                moments: (!args.moments.is_empty()).then(|| args.moments.clone()),
                color_by: args.color_by.map_or(visualizer::HeapMapColoring::State, Into::into),
                ..visualizer::HeapMapOptions::default()
            };
            visualizer::heap_map_chart(single()?, format, &options)
        }
    };
    let bytes = result.map_err(|e| match e {
        visualizer::VisualizerError::MissingHeapMap { .. } => {
            format!("{e} (take maps before and after collections with `gc-sim run --heap-map-at MOMENT`)")
        }
        e => e.to_string(),
    })?;
    output.write(|out| out.write_all(&bytes))
}

/// A report read by `gc-sim plot`: of a simulation, or of a Node GC log (`gc-sim log --report`).
pub(crate) enum Loaded {
    Simulated(Box<Report>),
    Log(Box<gc_sim::gc_log::LogReport>),
}

/// The charts of a log report: alone (its heap, or its pauses), or its heap beside one simulation's.
fn render_log(chart: Chart, loaded: &[Loaded], format: ImageFormat, output: &Output) -> Result<(), String> {
    let size = visualizer::ChartSize::default();
    let (logs, simulated): (Vec<_>, Vec<_>) = loaded.iter().partition(|l| matches!(l, Loaded::Log(_)));
    let log = match logs.as_slice() {
        [Loaded::Log(log)] => log,
        _ => return Err(format!("a chart takes at most one report of a Node GC log, not {}", logs.len())),
    };
    let bytes = match (chart, simulated.as_slice()) {
        (Chart::Heap, []) => visualizer::log_heap_chart(log, format, size),
        (Chart::Pauses, []) => visualizer::log_pause_chart(log, format, size),
        (Chart::Heap | Chart::Comparison, [Loaded::Simulated(report)]) => {
            visualizer::log_comparison_chart(report, log, format, size)
        }
        (Chart::Heapmap, _) => {
            return Err("a Node GC log has no heap maps: --chart heapmap takes a simulation's report".into())
        }
        (chart, others) => {
            return Err(format!(
                "with a Node GC log's report, --chart {} takes {} simulation report{}, not {}",
                format!("{chart:?}").to_lowercase(),
                if chart == Chart::Pauses { "no" } else { "one" },
                if chart == Chart::Pauses { "s" } else { "" },
                others.len()
            ))
        }
    }
    .map_err(|e| e.to_string())?;
    output.write(|out| out.write_all(&bytes))
}

/// The fields that say what a JSON document is; the rest is skipped.
#[derive(serde::Deserialize)]
struct Envelope {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
    /// `"node-gc-log"` in a report of `gc-sim log --report`.
    source: Option<serde_json::Value>,
}

/// Reads a report, enforcing the compatibility rule of docs/report-format.md: the `format` is `gc-sim-report`, the
/// `version` is the one this gc-sim writes ([`REPORT_VERSION`]), fields it does not know are ignored.
pub(crate) fn read_report(path: &PathBuf) -> Result<Loaded, String> {
    let name = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot open {name}: {e}"))?;
    // A JSON document, or the first line of an NDJSON trace.
    let envelope = serde_json::from_slice::<Envelope>(&bytes).or_else(|e| {
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        serde_json::from_slice::<Envelope>(first_line).map_err(|_| format!("{name}: not a gc-sim report: {e}"))
    })?;
    let log = envelope.source.as_ref().and_then(|s| s.as_str()) == Some(gc_sim::gc_log::LOG_REPORT_SOURCE);
    match envelope.format.as_ref().and_then(|f| f.as_str()) {
        Some(REPORT_FORMAT) => {}
        Some(TRACE_FORMAT) => {
            return Err(format!(
                "{name} is a trace, not a report: replay it first with `gc-sim run {name} --report REPORT.json`, then \
                 plot REPORT.json"
            ))
        }
        Some(other) => {
            return Err(format!("{name}: not a gc-sim report: its `format` is {other:?}, not {REPORT_FORMAT:?}"))
        }
        None => {
            let found = envelope.format.map_or_else(|| "no `format` field".to_owned(), |f| format!("`format` is {f}"));
            return Err(format!("{name}: not a gc-sim report: {found}, not {REPORT_FORMAT:?}"));
        }
    }
    match envelope.version.as_ref().and_then(|v| v.as_u64()) {
        Some(version) if version == u64::from(REPORT_VERSION) => {}
        Some(version) if version > u64::from(REPORT_VERSION) => {
            return Err(format!(
                "{name}: report version {version} is newer than this gc-sim reads (version {REPORT_VERSION}): plot it \
                 with the gc-sim that wrote it, or a newer one"
            ))
        }
        Some(version) => {
            return Err(format!(
                "{name}: report version {version} is not one this gc-sim reads (version {REPORT_VERSION}): replay the \
                 trace again with this gc-sim"
            ))
        }
        None => {
            let found =
                envelope.version.map_or_else(|| "no `version` field".to_owned(), |v| format!("`version` is {v}"));
            return Err(format!("{name}: a gc-sim report with {found}; expected the integer {REPORT_VERSION}"));
        }
    }
    if log {
        return serde_json::from_slice(&bytes)
            .map(|log| Loaded::Log(Box::new(log)))
            .map_err(|e| format!("{name}: an invalid report of a Node GC log (version {REPORT_VERSION}): {e}"));
    }
    serde_json::from_slice(&bytes)
        .map(|report| Loaded::Simulated(Box::new(report)))
        .map_err(|e| format!("{name}: an invalid gc-sim report version {REPORT_VERSION}: {e}"))
}
