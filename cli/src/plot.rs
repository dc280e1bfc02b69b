//! `gc-sim plot`: charts from saved reports.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use gc_sim::Report;

/// Options of `gc-sim plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Reports written by `gc-sim run --report`; several for a comparison.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// The image to write: PNG, or SVG for a `.svg` path.
    #[arg(short, long, value_name = "FILE.png")]
    output: PathBuf,
    /// Which chart: `heap` (the default for one report), `pauses`, or `comparison` (the default for several).
    #[arg(long, value_enum)]
    chart: Option<Chart>,
}

/// The charts `gc-sim plot` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Chart {
    /// Heap by generation over simulated time.
    Heap,
    /// GC pauses over time.
    Pauses,
    /// Old-generation size of several runs on one chart.
    Comparison,
}

/// Runs `gc-sim plot`.
pub fn plot(args: PlotArgs) -> ExitCode {
    match render(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(1)
        }
    }
}

fn render(args: &PlotArgs) -> Result<(), String> {
    let reports = args.reports.iter().map(read_report).collect::<Result<Vec<Report>, String>>()?;
    let chart = args.chart.unwrap_or(if reports.len() > 1 { Chart::Comparison } else { Chart::Heap });
    let single = || match reports.as_slice() {
        [one] => Ok(one),
        _ => Err(format!("the {chart:?} chart takes one report, not {}", reports.len()).to_lowercase()),
    };
    let result = match chart {
        Chart::Heap => visualizer::render_heap(single()?, &args.output, &visualizer::HeapChartOptions::default()),
        Chart::Pauses => visualizer::render_pauses(single()?, &args.output),
        Chart::Comparison => visualizer::render_comparison(&reports.iter().collect::<Vec<_>>(), &args.output),
    };
    result.map_err(|e| e.to_string())
}

fn read_report(path: &PathBuf) -> Result<Report, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    serde_json::from_reader(BufReader::new(file)).map_err(|e| format!("{}: not a gc-sim report: {e}", path.display()))
}
