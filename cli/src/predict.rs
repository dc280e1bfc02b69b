//! `gc-sim predict`: when and how the user's program dies under each heap limit asked for, from its heap snapshots
//! (and GC log): the synthesized trace ([`crate::synthesize`]) with its growth repeated until the simulated program
//! dies, once per `--max-old-space-size`, and once more with the growth removed (what the fix buys).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use gc_sim::snapshot::import::import_into_replay;
use gc_sim::synthesis::synthesizer::Repeat;
use gc_sim::trace::TraceHeader;
use gc_sim::{Collector, HeapConfig, Replay, Report, MIB};
use rayon::prelude::*;
use serde::Serialize;
use visualizer::{ChartSize, ImageFormat};

use crate::output::Output;
use crate::synthesize::{parse_duration_ms, seconds, thousands, Artefacts, Prepared, DEFAULT_HORIZON_MS};

/// Exit code of unreadable input.
const EXIT_INVALID: u8 = 1;
/// Exit code of a usage error.
const EXIT_USAGE: u8 = 2;

/// The time before a death in which mark-compacts count as its storm, ms.
pub const STORM_WINDOW_MS: f64 = 10_000.0;

/// The prediction report's `format`.
pub const PREDICTION_FORMAT: &str = "gc-sim-prediction";

/// Options of `gc-sim predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    artefacts: Artefacts,
    /// The heap limits to predict for, in MiB as Node's flag, comma-separated (`32,64,512`).
    #[arg(long, value_name = "MB,...", value_delimiter = ',', required = true, alias = "max_old_space_size")]
    max_old_space_size: Vec<u64>,
    /// Maximum semi-space size in MiB, as Node's flag (Node's default otherwise).
    #[arg(long, value_name = "MB", alias = "max_semi_space_size")]
    max_semi_space_size: Option<u64>,
    /// The longest simulated time: a program alive then survives. Default: four times what the growth takes to fill
    /// the largest limit at its rate, at most 24 h (a minute when nothing grows).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    horizon: Option<f64>,
    /// Write the predictions as JSON here (docs/report-format.md#predictions).
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Draw the heap over time under each limit, and with the fix (`.png` or `.svg`).
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
}

/// One limit's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// `--max-old-space-size`, MiB.
    pub max_old_space_size_mb: u64,
    /// Whether the growth was left out (the fix).
    pub without_growth: bool,
    /// Simulated time at the end (the death, or the horizon), ms.
    pub end_ms: f64,
    /// Units of growth made by then.
    pub units: f64,
    /// Node's fatal message, if the program died.
    pub death: Option<String>,
    /// Old-generation object bytes at the death or the end.
    pub old_generation_bytes: u64,
    /// Scavenges.
    pub scavenges: u64,
    /// Mark-compacts.
    pub mark_compacts: u64,
    /// Mark-compacts in the [`STORM_WINDOW_MS`] before the death.
    pub storm_mark_compacts: u64,
}

/// The JSON report of `gc-sim predict`.
#[derive(Serialize)]
struct PredictionReport<'a> {
    format: &'static str,
    version: u32,
    snapshots: &'a [String],
    unit: Option<String>,
    bytes_per_unit: f64,
    objects_per_unit: f64,
    units_per_second: Option<f64>,
    garbage_guessed: bool,
    predictions: &'a [Prediction],
    fix: &'a Prediction,
}

/// Runs `gc-sim predict`.
pub fn predict(args: PredictArgs) -> ExitCode {
    let checked = (|| -> Result<_, String> {
        if let Some(&mb) = args.max_old_space_size.iter().find(|&&mb| mb == 0) {
            return Err(format!("--max-old-space-size {mb}: must be at least 1 (MiB)"));
        }
        if args.max_semi_space_size == Some(0) {
            return Err("--max-semi-space-size 0: must be at least 1 (MiB)".to_owned());
        }
        let report = args.report.as_deref().map(|p| Output::check("--report", p)).transpose()?;
        let plot = args.plot.as_deref().map(|p| Output::check_image("--plot", p)).transpose()?;
        let all: Vec<&Output> = report.iter().chain(plot.as_ref().map(|(o, _)| o)).collect();
        Output::check_distinct(&all, &args.artefacts.inputs())?;
        Ok((report, plot))
    })();
    let (report_out, plot_out) = match checked {
        Ok(outputs) => outputs,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let prepared = match args.artefacts.prepare_or_report() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let largest = *args.max_old_space_size.iter().max().expect("required");
    let horizon_ms = args.horizon.unwrap_or_else(|| default_horizon_ms(&prepared, largest));
    if let Err(message) = prepared.plan(Repeat::UntilStopped { horizon_ms }, false) {
        eprintln!("gc-sim: {message}");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut stdout = io::stdout().lock();
    let _ = prepared.describe(&mut stdout);
    if args.horizon.is_none() {
        let _ = writeln!(stdout, "horizon: {} (--horizon to change)", seconds(horizon_ms));
    }
    // The limits are independent runs: one per core, in the order given.
    let repeat = Repeat::UntilStopped { horizon_ms };
    let outcomes: Result<Vec<(Prediction, Report)>, String> = args
        .max_old_space_size
        .par_iter()
        .with_max_len(1)
        .map(|&mb| run(&prepared, mb, args.max_semi_space_size, repeat, false))
        .collect();
    let (predictions, reports): (Vec<Prediction>, Vec<Report>) = match outcomes {
        Ok(outcomes) => outcomes.into_iter().unzip(),
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    // The fix: the same time and garbage without the growth, at the smallest limit, as long as the longest life.
    let smallest = *args.max_old_space_size.iter().min().expect("required");
    let longest = predictions.iter().map(|p| p.end_ms).fold(0.0, f64::max);
    let fix_repeat = Repeat::UntilStopped { horizon_ms: (2.0 * longest).min(horizon_ms).max(longest) };
    let (fix, fix_report) = match run(&prepared, smallest, args.max_semi_space_size, fix_repeat, true) {
        Ok(outcome) => outcome,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let unit = prepared.synthesis.growth.unit.as_ref().map(|u| u.name.clone());
    let _ = print(&mut stdout, &predictions, &fix, unit.as_deref().unwrap_or("unit"));
    let _ = stdout.flush();
    let mut failed = Vec::new();
    if let Some(output) = &report_out {
        let report = PredictionReport {
            format: PREDICTION_FORMAT,
            version: 1,
            snapshots: &prepared.names,
            unit,
            bytes_per_unit: prepared.synthesis.growth.bytes_per_unit(),
            objects_per_unit: prepared.synthesis.growth.objects_per_unit(),
            units_per_second: prepared.timing.units_per_ms.map(|r| r * 1000.0),
            garbage_guessed: prepared.garbage.source == gc_sim::synthesis::garbage::GarbageSource::Guessed,
            predictions: &predictions,
            fix: &fix,
        };
        failed.extend(output.write_json(&report).err());
    }
    if let Some((output, format)) = &plot_out {
        let mut all: Vec<&Report> = reports.iter().collect();
        all.push(&fix_report);
        failed.extend(chart(&all, *format, output).err());
    }
    if !failed.is_empty() {
        for message in failed {
            eprintln!("gc-sim: {message}");
        }
        return ExitCode::from(EXIT_INVALID);
    }
    ExitCode::SUCCESS
}

/// Draws the reports' heaps side by side.
fn chart(reports: &[&Report], format: ImageFormat, output: &Output) -> Result<(), String> {
    let bytes = visualizer::comparison_chart(reports, format, ChartSize::default()).map_err(|e| e.to_string())?;
    output.write(|out| out.write_all(&bytes))
}

/// How long to run without `--horizon`: four times what the growth takes to fill the largest limit at its rate
/// (a program alive then is not dying of this growth), at most [`DEFAULT_HORIZON_MS`]; a minute past the snapshots
/// when nothing grows.
fn default_horizon_ms(prepared: &Prepared, largest_mb: u64) -> f64 {
    let steps: f64 = prepared.timing.step_ms.as_ref().map_or(0.0, |v| v.iter().sum());
    let growth = &prepared.synthesis.growth;
    let fill_ms = match prepared.timing.units_per_ms {
        Some(rate) if growth.bytes_per_unit() > 0.0 && rate > 0.0 => {
            (largest_mb as f64 * MIB as f64 / growth.bytes_per_unit()) / rate
        }
        _ => return steps + 60_000.0,
    };
    (steps + 4.0 * fill_ms).min(DEFAULT_HORIZON_MS)
}

/// One run: the synthesized trace under `max_old_mb`, until the program dies or the plan's horizon.
fn run(
    prepared: &Prepared,
    max_old_mb: u64,
    max_semi_mb: Option<u64>,
    repeat: Repeat,
    without_growth: bool,
) -> Result<(Prediction, Report), String> {
    let plan = prepared.plan(repeat, without_growth)?;
    let mut config = HeapConfig { max_old_generation_size: max_old_mb.saturating_mul(MIB), ..HeapConfig::default() };
    if let Some(semi) = max_semi_mb {
        config.max_semi_space_size = semi.saturating_mul(MIB);
        config.min_semi_space_size = config.min_semi_space_size.min(config.max_semi_space_size);
    }
    let name = if without_growth {
        format!("the fix (no growth), {max_old_mb} MiB")
    } else {
        format!("--max-old-space-size={max_old_mb}")
    };
    let header = TraceHeader::new(name, config);
    let mut replay = Replay::from_header(&header, |_| Ok(())).map_err(|p| format!("the heap: {}", p.message))?;
    import_into_replay(&prepared.first, &mut replay).map_err(|e| format!("{}: {e}", prepared.names[0]))?;
    let emitted = prepared
        .synthesis
        .emit(&plan, &mut replay)
        .map_err(|p| format!("the synthesized trace does not replay (a bug of gc-sim): {p}"))?;
    let report = Report::new(&replay, None);
    let heap = replay.heap();
    let oom = heap.out_of_memory();
    let end_ms = oom.map_or(heap.now_ms(), |o| o.at_ms);
    let storm_mark_compacts = match oom {
        Some(o) => report
            .events
            .iter()
            .filter(|e| e.collector == Collector::MarkCompact && e.start_ms >= o.at_ms - STORM_WINDOW_MS)
            .count() as u64,
        None => 0,
    };
    let prediction = Prediction {
        max_old_space_size_mb: max_old_mb,
        without_growth,
        end_ms,
        units: emitted.units,
        death: oom.map(|o| o.message().to_owned()),
        old_generation_bytes: report
            .summary
            .oom
            .as_ref()
            .map_or(report.summary.live_old_bytes, |o| o.old_generation_bytes),
        scavenges: report.summary.scavenges,
        mark_compacts: report.summary.mark_compacts,
        storm_mark_compacts,
    };
    Ok((prediction, report))
}

/// The table of predictions, then the fix.
fn print(out: &mut impl Write, predictions: &[Prediction], fix: &Prediction, unit: &str) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{:>22}  {:>11}  {:>10}  {:>13}  {:>14}  how",
        "--max-old-space-size",
        "dies after",
        format!("{unit}s"),
        "old gen (MiB)",
        "MCs (last 10s)"
    )?;
    for p in predictions {
        let when = if p.death.is_some() { seconds(p.end_ms) } else { format!("lives {}", seconds(p.end_ms)) };
        writeln!(
            out,
            "{:>22}  {:>11}  {:>10}  {:>13.1}  {:>14}  {}",
            format!("{} MiB", p.max_old_space_size_mb),
            when,
            thousands(p.units.round() as u64),
            p.old_generation_bytes as f64 / MIB as f64,
            format!("{} ({})", p.mark_compacts, p.storm_mark_compacts),
            p.death.as_deref().unwrap_or("survives the horizon")
        )?;
    }
    match &fix.death {
        None => writeln!(
            out,
            "the fix (the growth removed), at {} MiB: lives {} (as long as asked); old generation at the end {:.1} MiB",
            fix.max_old_space_size_mb,
            seconds(fix.end_ms),
            fix.old_generation_bytes as f64 / MIB as f64
        ),
        Some(death) => writeln!(
            out,
            "the fix (the growth removed), at {} MiB: still dies after {}: {death} (something else grows or the \
             garbage alone does not fit)",
            fix.max_old_space_size_mb,
            seconds(fix.end_ms)
        ),
    }
}
