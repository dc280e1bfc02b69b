//! `gc-sim sweep`: one trace under a grid of heap configurations, every cell a `gc-sim run` of its own, run in
//! parallel (rayon, `--jobs` at a time); a table of the cells (standard output, `--report` JSON, `--csv`) and a
//! chart of one small panel per cell (`--plot`). `--plan DIR` prints the cells as `gc-sim run` command lines for a
//! batch scheduler's array job instead, and `--merge REPORTS...` builds the same table and chart from their reports.
//!
//! A cell's figures are taken from its report ([`Row::of`]), and the report is made by the code of `gc-sim run`
//! ([`RunSpec`]): the table of a sweep, of a merge of the plan's reports, and the single runs' reports agree by
//! construction (and `cli/tests/sweep.rs` checks it).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Args;
use gc_sim::Report;
use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use visualizer::units::{config_differences, ConfigDifferences};
use visualizer::ImageFormat;

use crate::heap_flags::HeapFlags;
use crate::output::Output;
use crate::run::{self, Failure, InitialHeap, RunSpec};

/// The value of a sweep report's `format` field.
pub const SWEEP_FORMAT: &str = "gc-sim-sweep";
/// The sweep report's schema version.
pub const SWEEP_VERSION: u32 = 1;
/// The most cells a sweep runs (its rows are small, but each cell is a whole run).
const MAX_CELLS: usize = 10_000;
/// Exit code of an invalid trace, report or I/O error.
const EXIT_INVALID: u8 = 1;
/// Exit code of a usage error.
const EXIT_USAGE: u8 = 2;

const SWEEP_HELP: &str = "Each value list is an axis of the grid; every combination is one cell, run as `gc-sim run` \
                          with those flags would run it (cells in grid order: the first axis varies slowest). A cell \
                          whose program dies of out-of-memory is a result (its time of death), not a failure. Exit \
                          codes: 0 success, 1 invalid trace, report or I/O error, 2 usage error.";

/// Options of `gc-sim sweep`.
#[derive(Args, Debug)]
#[command(after_help = SWEEP_HELP)]
pub struct SweepArgs {
    /// The trace, a file (`.json`, `.ndjson`, compressed or not): each cell reads it.
    #[arg(required_unless_present = "merge")]
    trace: Option<PathBuf>,
    /// Maximum old-generation sizes in MiB, comma-separated: an axis of the grid (the first, varying slowest).
    #[arg(long, value_name = "MB,...", value_delimiter = ',', alias = "max_old_space_size")]
    max_old_space_size: Vec<u64>,
    /// Maximum semi-space sizes in MiB: an axis (the next).
    #[arg(long, value_name = "MB,...", value_delimiter = ',', alias = "max_semi_space_size")]
    max_semi_space_size: Vec<u64>,
    /// Initial semi-space sizes in MiB: an axis (the next).
    #[arg(long, value_name = "MB,...", value_delimiter = ',', alias = "min_semi_space_size")]
    min_semi_space_size: Vec<u64>,
    /// Semi-space growth factors: an axis (the next).
    #[arg(long, value_name = "N,...", value_delimiter = ',', alias = "semi_space_growth_factor")]
    semi_space_growth_factor: Vec<u32>,
    /// Any heap configuration field, as `gc-sim run --heap` takes it, with comma-separated values: an axis
    /// (`--heap promotion_age=0,1`; the last axes, in the order given), or one value, the same in every cell.
    /// Repeatable, one field each.
    #[arg(long = "heap", value_name = "FIELD=V1,V2,...")]
    exact: Vec<String>,
    /// The heap to start every cell from, as `gc-sim run --initial-heap` (a heap snapshot, `node20[:SIZE]`).
    #[arg(long, value_name = "FILE.heapsnapshot|node20[:SIZE]")]
    initial_heap: Option<PathBuf>,
    /// Cells run at once (default: one per core).
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,
    /// Write the table as JSON here (`format` "gc-sim-sweep"; docs/sweep.md).
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Write the table as CSV here (a header line, then one line per cell).
    #[arg(long, value_name = "FILE.csv")]
    csv: Option<PathBuf>,
    /// Draw every cell's old generation and heap over time, one small panel per cell on the same axes (`.png` or
    /// `.svg`).
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
    /// Run nothing: print each cell as a `gc-sim run` command line that writes its report to DIR/cell-K.json, for
    /// a batch scheduler's array job (one line per task); `--merge` then builds the table from those reports.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["report", "csv", "plot", "jobs"])]
    plan: Option<PathBuf>,
    /// Build the table (and `--report`, `--csv`, `--plot`) from reports of `gc-sim run --report` (a plan's), one
    /// cell each, in the order given.
    #[arg(long, value_name = "REPORT.json", num_args = 1..,
          conflicts_with_all = ["trace", "max_semi_space_size", "min_semi_space_size", "max_old_space_size",
                                "semi_space_growth_factor", "exact", "initial_heap", "jobs", "plan"])]
    merge: Vec<PathBuf>,
    /// Print no table (the outputs asked for are still written).
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `gc-sim sweep`.
pub fn sweep(args: SweepArgs) -> ExitCode {
    match execute(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Invalid(message)) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn execute(args: &SweepArgs) -> Result<(), Failure> {
    if !args.merge.is_empty() {
        let outputs = Outputs::check(args, &args.merge).map_err(Failure::Usage)?;
        let reports = read_reports(&args.merge, args.plot.is_some()).map_err(Failure::Invalid)?;
        let source = format!("{} reports", args.merge.len());
        return finish(args, &outputs, &source, reports);
    }
    let trace = args.trace.as_deref().expect("clap requires a trace without --merge");
    let grid = Grid::new(args).map_err(Failure::Usage)?;
    if trace.as_os_str() == "-" {
        return Err(Failure::Usage(
            "gc-sim sweep reads the trace once per cell: give a file, not standard input".to_owned(),
        ));
    }
    run::startup_heap_flag(args.initial_heap.as_deref()).map_err(Failure::Usage)?;
    if let Some(dir) = &args.plan {
        return print_plan(trace, args.initial_heap.as_deref(), dir, &grid);
    }
    if args.jobs == Some(0) {
        return Err(Failure::Usage("--jobs 0: must be at least 1".to_owned()));
    }
    let outputs = Outputs::check(args, &[trace.to_owned()]).map_err(Failure::Usage)?;
    let initial = run::read_initial_heap(args.initial_heap.as_deref()).map_err(Failure::Invalid)?;
    let reports = run_cells(args, trace, initial.as_ref(), &grid)?;
    finish(args, &outputs, &trace.display().to_string(), reports)
}

/// Prints the table, writes the outputs, from the cells' reports.
fn finish(args: &SweepArgs, outputs: &Outputs, source: &str, reports: Vec<Report>) -> Result<(), Failure> {
    let table = Table::new(&reports);
    let mut failed = outputs.write(&table, &reports);
    if !args.quiet {
        let mut out = io::stdout().lock();
        match table.print(&mut out, source).and_then(|()| out.flush()) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                failed.push(format!("cannot write to standard output: {e}"))
            }
            _ => {}
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    for message in &failed[..failed.len() - 1] {
        eprintln!("gc-sim: {message}");
    }
    Err(Failure::Invalid(failed.pop().expect("not empty")))
}

/// A flag of Node's that an axis sets, in MiB or as a factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeFlag {
    MaxSemiSpaceSize,
    MinSemiSpaceSize,
    MaxOldSpaceSize,
    SemiSpaceGrowthFactor,
}

impl NodeFlag {
    fn name(self) -> &'static str {
        match self {
            NodeFlag::MaxSemiSpaceSize => "--max-semi-space-size",
            NodeFlag::MinSemiSpaceSize => "--min-semi-space-size",
            NodeFlag::MaxOldSpaceSize => "--max-old-space-size",
            NodeFlag::SemiSpaceGrowthFactor => "--semi-space-growth-factor",
        }
    }
}

/// One axis of the grid: a flag and its values.
#[derive(Clone, Debug)]
enum Axis {
    /// One of Node's flags.
    Node(NodeFlag, Vec<u64>),
    /// `--heap FIELD=V1,V2,...`: the field and its values, as given.
    Exact(String, Vec<String>),
}

impl Axis {
    fn len(&self) -> usize {
        match self {
            Axis::Node(_, values) => values.len(),
            Axis::Exact(_, values) => values.len(),
        }
    }

    /// Sets value `i` of the axis on `flags`.
    fn apply(&self, i: usize, flags: &mut HeapFlags) {
        match self {
            Axis::Node(flag, values) => {
                let v = values[i];
                match flag {
                    NodeFlag::MaxSemiSpaceSize => flags.max_semi_space_size = Some(v),
                    NodeFlag::MinSemiSpaceSize => flags.min_semi_space_size = Some(v),
                    NodeFlag::MaxOldSpaceSize => flags.max_old_space_size = Some(v),
                    // Checked to fit when the grid was built.
                    NodeFlag::SemiSpaceGrowthFactor => flags.semi_space_growth_factor = u32::try_from(v).ok(),
                }
            }
            Axis::Exact(field, values) => flags.exact.push(format!("{field}={}", values[i])),
        }
    }

    /// Value `i` of the axis as `gc-sim run` flags.
    fn args(&self, i: usize) -> [String; 2] {
        match self {
            Axis::Node(flag, values) => [flag.name().to_owned(), values[i].to_string()],
            Axis::Exact(field, values) => ["--heap".to_owned(), format!("{field}={}", values[i])],
        }
    }
}

/// The grid of a sweep: its axes, and each cell's flags in grid order (the first axis varies slowest).
struct Grid {
    axes: Vec<Axis>,
    cells: Vec<HeapFlags>,
}

impl Grid {
    /// The grid of the flags: every value checked as `gc-sim run` checks its flags, in every combination.
    fn new(args: &SweepArgs) -> Result<Grid, String> {
        let mut axes = Vec::new();
        let node = [
            (NodeFlag::MaxOldSpaceSize, &args.max_old_space_size),
            (NodeFlag::MaxSemiSpaceSize, &args.max_semi_space_size),
            (NodeFlag::MinSemiSpaceSize, &args.min_semi_space_size),
        ];
        for (flag, values) in node {
            if !values.is_empty() {
                axes.push(Axis::Node(flag, values.clone()));
            }
        }
        if !args.semi_space_growth_factor.is_empty() {
            let values = args.semi_space_growth_factor.iter().map(|&v| u64::from(v)).collect();
            axes.push(Axis::Node(NodeFlag::SemiSpaceGrowthFactor, values));
        }
        for assignment in &args.exact {
            let (field, values) =
                assignment.split_once('=').ok_or_else(|| format!("--heap {assignment}: expected FIELD=V1,V2,..."))?;
            if field.is_empty() {
                return Err(format!("--heap {assignment}: no field before `=`"));
            }
            let values: Vec<String> = values.split(',').map(str::to_owned).collect();
            if values.iter().any(String::is_empty) {
                return Err(format!("--heap {assignment}: an empty value (values are separated by commas)"));
            }
            if axes.iter().any(|a| matches!(a, Axis::Exact(f, _) if f == field)) {
                return Err(format!("--heap {field}: given twice; give its values once, separated by commas"));
            }
            axes.push(Axis::Exact(field.to_owned(), values));
        }
        if axes.is_empty() {
            return Err("nothing to sweep: give values to at least one of --max-old-space-size, \
                        --max-semi-space-size, --min-semi-space-size, --semi-space-growth-factor, --heap FIELD=V1,V2"
                .to_owned());
        }
        for axis in &axes {
            let (name, values): (String, Vec<String>) = match axis {
                Axis::Node(flag, values) => (flag.name().to_owned(), values.iter().map(u64::to_string).collect()),
                Axis::Exact(field, values) => (format!("--heap {field}"), values.clone()),
            };
            if let Some(twice) = values.iter().enumerate().find(|(i, v)| values[..*i].contains(v)).map(|(_, v)| v) {
                return Err(format!("{name}: the value {twice} is given twice (each cell must differ)"));
            }
        }
        let count = axes.iter().try_fold(1usize, |n, axis| n.checked_mul(axis.len()).filter(|&n| n <= MAX_CELLS));
        let Some(count) = count else {
            let sizes: Vec<String> = axes.iter().map(|a| a.len().to_string()).collect();
            return Err(format!(
                "a grid of {} cells is more than a sweep runs ({MAX_CELLS}); split it into several sweeps",
                sizes.join(" x ")
            ));
        };
        let mut cells = Vec::with_capacity(count);
        for index in 0..count {
            let mut flags = HeapFlags::default();
            for (axis, i) in axes.iter().zip(Self::coordinates(&axes, index)) {
                axis.apply(i, &mut flags);
            }
            // The flags alone, as `gc-sim run` checks them before reading the trace.
            flags.check()?;
            cells.push(flags);
        }
        Ok(Grid { axes, cells })
    }

    /// The value index on each axis of cell `index`.
    fn coordinates(axes: &[Axis], mut index: usize) -> Vec<usize> {
        let mut coordinates = vec![0; axes.len()];
        for (slot, axis) in coordinates.iter_mut().zip(axes).rev() {
            *slot = index % axis.len();
            index /= axis.len();
        }
        coordinates
    }

    /// Cell `index`'s flags as `gc-sim run` takes them.
    fn args(&self, index: usize) -> Vec<String> {
        self.axes.iter().zip(Self::coordinates(&self.axes, index)).flat_map(|(axis, i)| axis.args(i)).collect()
    }
}

/// Prints each cell as a `gc-sim run` command line (shell-quoted), its report in `dir`.
fn print_plan(trace: &Path, initial_heap: Option<&Path>, dir: &Path, grid: &Grid) -> Result<(), Failure> {
    let quote = |path: &Path| {
        let text = path.to_str().ok_or_else(|| Failure::Usage(format!("{}: not valid UTF-8", path.display())))?;
        shlex::try_quote(text)
            .map(|q| q.into_owned())
            .map_err(|e| Failure::Usage(format!("{}: cannot be quoted for a shell: {e}", path.display())))
    };
    let trace = quote(trace)?;
    let initial = initial_heap.map(|p| quote(p).map(|q| format!(" --initial-heap {q}"))).transpose()?;
    let mut out = io::stdout().lock();
    for index in 0..grid.cells.len() {
        let flags: Vec<String> = grid.args(index);
        let flags = shlex::try_join(flags.iter().map(String::as_str))
            .map_err(|e| Failure::Usage(format!("cell {index}'s flags cannot be quoted for a shell: {e}")))?;
        let report = quote(&dir.join(cell_report_name(index, grid.cells.len())))?;
        // Exit 3 is the simulated program's death: a result of the cell, not a failure of its task.
        let line = format!(
            "gc-sim run {trace} {flags}{} --report {report} -q || [ $? -eq 3 ]",
            initial.as_deref().unwrap_or("")
        );
        match writeln!(out, "{line}") {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Failure::Invalid(format!("cannot write to standard output: {e}"))),
            Ok(()) => {}
        }
    }
    out.flush()
        .or_else(|e| if e.kind() == io::ErrorKind::BrokenPipe { Ok(()) } else { Err(e) })
        .map_err(|e| Failure::Invalid(format!("cannot write to standard output: {e}")))
}

/// The file name of cell `index`'s report in a plan of `count` cells: `cell-K.json`, K zero-padded so that the
/// names sort in grid order (`cell-07.json` before `cell-10.json`), as a shell's `DIR/cell-*.json` lists them.
fn cell_report_name(index: usize, count: usize) -> String {
    let width = (count.saturating_sub(1)).to_string().len();
    format!("cell-{index:0width$}.json")
}

/// What a cell's run gave.
enum Outcome {
    /// Its report.
    Done(Box<Report>),
    /// It failed (an invalid trace, a flag the trace's header refuses).
    Failed(Failure),
    /// It was stopped, or not started, because another cell failed.
    Cancelled,
}

/// Runs every cell, `--jobs` at a time, and returns their reports in grid order (for the table and the chart: the
/// lists of the analyses are dropped as each cell ends). A failure stops the cells after it in grid order; the
/// sweep's failure is the first cell's that failed.
fn run_cells(
    args: &SweepArgs,
    trace: &Path,
    initial: Option<&InitialHeap>,
    grid: &Grid,
) -> Result<Vec<Report>, Failure> {
    let length = std::fs::metadata(trace).map(|m| m.len()).ok();
    let progress = progress_bar(length.map(|l| l * grid.cells.len() as u64), grid.cells.len(), args.quiet);
    // The first cell in grid order that failed: the cells after it stop, those before it go on, so that the failure
    // reported is always that of the first failing cell, however the threads run.
    let first_failed = AtomicUsize::new(usize::MAX);
    let done = AtomicUsize::new(0);
    let keep_timeline = args.plot.is_some();
    let cell = |index: usize, flags: &HeapFlags| -> Outcome {
        let cancelled = || first_failed.load(Ordering::Relaxed) < index;
        if cancelled() {
            return Outcome::Cancelled;
        }
        let spec = RunSpec { trace, flags, initial, heap_maps: &[], trace_gc: false, trace_gc_nvp: false };
        let bar = progress.clone();
        let outcome = match spec.report(move |reader| Box::new(bar.wrap_read(reader)), Some(&cancelled)) {
            Ok(Some(report)) => Outcome::Done(Box::new(reduce(report, index, keep_timeline))),
            Ok(None) => Outcome::Cancelled,
            Err(failure) => {
                first_failed.fetch_min(index, Ordering::Relaxed);
                Outcome::Failed(failure)
            }
        };
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress.set_message(format!("{finished}/{} cells", grid.cells.len()));
        outcome
    };
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = args.jobs {
        pool = pool.num_threads(jobs);
    }
    let pool = pool.build().map_err(|e| Failure::Invalid(format!("cannot start the sweep's threads: {e}")))?;
    // One task per cell (cells take very different times: a death ends one early), so that a thread that is done
    // takes the next cell; `collect` keeps grid order, whatever finishes first.
    let outcomes: Vec<Outcome> = pool.install(|| {
        grid.cells.par_iter().with_max_len(1).enumerate().map(|(index, flags)| cell(index, flags)).collect()
    });
    progress.finish_and_clear();
    let mut reports = Vec::with_capacity(outcomes.len());
    let mut first_failure = None;
    for outcome in outcomes {
        match outcome {
            Outcome::Done(report) => reports.push(*report),
            Outcome::Failed(failure) => {
                first_failure.get_or_insert(failure);
            }
            Outcome::Cancelled => {}
        }
    }
    match first_failure {
        Some(failure) => Err(failure),
        None => Ok(reports),
    }
}

/// The cells' panels the chart draws at most; their timelines are the only part of a report kept past its row.
const MAX_PANELS: usize = visualizer::MAX_PANELS;

/// A cell's report as the table and the chart need it: the summary, the configuration, the timeline (for the chart's
/// first [`MAX_PANELS`] cells), the peak of the timeline kept aside; the analyses' lists dropped.
fn reduce(mut report: Report, index: usize, keep_timeline: bool) -> Report {
    let peak = peak_used_bytes(&report);
    report.events = Vec::new();
    report.retainers = Vec::new();
    report.marks = Vec::new();
    report.heap_maps = Vec::new();
    report.tags = Vec::new();
    report.ages = Vec::new();
    report.suspected_leaks = Vec::new();
    report.why = None;
    if !(keep_timeline && index < MAX_PANELS) {
        // The peak stays as the one sample left, so that the row is the same.
        report.timeline.retain(|s| s.spaces.used_bytes() == peak);
        report.timeline.truncate(1);
    }
    report
}

/// The highest heap use of a report's timeline, in bytes (all spaces' used bytes, before and after each collection
/// it keeps, and at the start and the end).
fn peak_used_bytes(report: &Report) -> u64 {
    report.timeline.iter().map(|s| s.spaces.used_bytes()).max().unwrap_or(0)
}

fn progress_bar(total_bytes: Option<u64>, cells: usize, quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let template = "{spinner} sweeping {msg} [{bar:40}] {binary_bytes}/{binary_total_bytes} read ({eta})";
    let bar = ProgressBar::with_draw_target(total_bytes, ProgressDrawTarget::stderr())
        .with_style(ProgressStyle::with_template(template).expect("a valid template").progress_chars("=> "));
    bar.set_message(format!("0/{cells} cells"));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Reads reports of `gc-sim run --report`, keeping what the table and (with `keep_timeline`) the chart need.
fn read_reports(paths: &[PathBuf], keep_timeline: bool) -> Result<Vec<Report>, String> {
    paths
        .iter()
        .enumerate()
        .map(|(index, path)| match crate::plot::read_report(path)? {
            crate::plot::Loaded::Simulated(report) => Ok(reduce(*report, index, keep_timeline)),
            crate::plot::Loaded::Log(_) => Err(format!(
                "{}: a report of a Node GC log (`gc-sim log`); --merge takes reports of `gc-sim run --report`",
                path.display()
            )),
        })
        .collect()
}

/// How a cell's program died.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Death {
    /// Simulated time of death, ms.
    at_ms: f64,
    /// V8's location: `Reached heap limit`, `Ineffective mark-compacts near heap limit`.
    location: String,
    /// Node's message.
    message: String,
}

/// One cell's row: its settings and the figures of its report.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Row {
    /// The cell's index in grid order (in a merge, the report's place among those given).
    cell: usize,
    /// The trace's name.
    trace: String,
    /// The settings that differ between the cells, in a few words (`old 16 MiB, semi 4 MiB`).
    label: String,
    /// Those settings' values, by configuration field (bytes for sizes).
    settings: serde_json::Map<String, Value>,
    /// Scavenges run.
    scavenges: u64,
    /// Mark-compacts run.
    mark_compacts: u64,
    /// Total modelled pause, ms.
    pause_ms: f64,
    /// The longest pause, ms.
    max_pause_ms: f64,
    /// Bytes promoted to the old generation.
    promoted_bytes: u64,
    /// The highest heap use of the report's timeline (all spaces' used bytes).
    peak_used_bytes: u64,
    /// Simulated time at the end (the death, if the program died), ms.
    end_ms: f64,
    /// The death, or `null`: the program survived the trace.
    death: Option<Death>,
}

impl Row {
    fn of(cell: usize, report: &Report, differences: &ConfigDifferences) -> Row {
        let s = &report.summary;
        Row {
            cell,
            trace: report.name.clone(),
            label: differences.labels[cell].clone(),
            settings: differences.fields.iter().cloned().zip(differences.values[cell].iter().cloned()).collect(),
            scavenges: s.scavenges,
            mark_compacts: s.mark_compacts,
            pause_ms: s.pause_ms,
            max_pause_ms: s.max_pause_ms,
            promoted_bytes: s.promoted_bytes,
            peak_used_bytes: peak_used_bytes(report),
            end_ms: s.end_ms,
            death: s.oom.as_ref().map(|oom| Death {
                at_ms: oom.at_ms,
                location: oom.location.v8_name().to_owned(),
                message: oom.message.clone(),
            }),
        }
    }

    fn outcome(&self) -> String {
        match &self.death {
            None => "survived".to_owned(),
            Some(death) => format!("died at {} ({})", duration(death.at_ms), death.location),
        }
    }
}

/// The table of a sweep: its JSON form is the `--report` document.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Table {
    /// Always [`SWEEP_FORMAT`].
    format: &'static str,
    /// Always [`SWEEP_VERSION`].
    version: u32,
    /// The configuration fields whose values differ between the cells.
    settings: Vec<String>,
    /// One row per cell, in grid order.
    cells: Vec<Row>,
}

impl Table {
    fn new(reports: &[Report]) -> Table {
        let configs: Vec<&gc_sim::HeapConfig> = reports.iter().map(|r| &r.config).collect();
        let differences = config_differences(&configs);
        let cells = reports.iter().enumerate().map(|(i, r)| Row::of(i, r, &differences)).collect();
        Table { format: SWEEP_FORMAT, version: SWEEP_VERSION, settings: differences.fields, cells }
    }

    /// The table for a person: one line per cell.
    fn print(&self, out: &mut impl Write, source: &str) -> io::Result<()> {
        let traces: Vec<&str> = self.cells.iter().map(|r| r.trace.as_str()).collect();
        let name = if traces.iter().all(|t| *t == traces[0]) { traces[0] } else { "several traces" };
        writeln!(out, "gc-sim sweep: {name} ({source}): {} configurations", self.cells.len())?;
        let label = |r: &Row| if r.label.is_empty() { "(the same)".to_owned() } else { r.label.clone() };
        let width = self.cells.iter().map(|r| label(r).chars().count()).max().unwrap_or(0).max("settings".len());
        writeln!(
            out,
            "{:>5}  {:<width$}  {:>10}  {:>13}  {:>12}  {:>12}  {:>11}  {:>11}  outcome",
            "cell", "settings", "scavenges", "mark-compacts", "pauses (ms)", "longest (ms)", "promoted", "peak heap"
        )?;
        for r in &self.cells {
            writeln!(
                out,
                "{:>5}  {:<width$}  {:>10}  {:>13}  {:>12.1}  {:>12.2}  {:>11}  {:>11}  {}",
                r.cell,
                label(r),
                HumanCount(r.scavenges).to_string(),
                HumanCount(r.mark_compacts).to_string(),
                r.pause_ms,
                r.max_pause_ms,
                HumanBytes(r.promoted_bytes).to_string(),
                HumanBytes(r.peak_used_bytes).to_string(),
                r.outcome()
            )?;
        }
        Ok(())
    }

    /// The table as CSV: `cell,trace,label`, each differing setting, then the figures.
    fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut csv = csv::Writer::from_writer(out);
        let mut header: Vec<String> = ["cell", "trace", "label"].map(String::from).to_vec();
        header.extend(self.settings.iter().cloned());
        header.extend(
            [
                "scavenges",
                "mark_compacts",
                "pause_ms",
                "max_pause_ms",
                "promoted_bytes",
                "peak_used_bytes",
                "end_ms",
                "died_at_ms",
                "death",
            ]
            .map(String::from),
        );
        csv.write_record(&header)?;
        for r in &self.cells {
            let mut record = vec![r.cell.to_string(), r.trace.clone(), r.label.clone()];
            record.extend(self.settings.iter().map(|f| match r.settings.get(f) {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }));
            record.extend([
                r.scavenges.to_string(),
                r.mark_compacts.to_string(),
                r.pause_ms.to_string(),
                r.max_pause_ms.to_string(),
                r.promoted_bytes.to_string(),
                r.peak_used_bytes.to_string(),
                r.end_ms.to_string(),
                r.death.as_ref().map_or(String::new(), |d| d.at_ms.to_string()),
                r.death.as_ref().map_or(String::new(), |d| d.location.clone()),
            ]);
            csv.write_record(&record)?;
        }
        csv.flush()
    }
}

/// A simulated duration for the table: ms below 10 s, then s.
fn duration(ms: f64) -> String {
    if ms < 10_000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// The output files of a sweep, checked before any cell runs.
struct Outputs {
    report: Option<Output>,
    csv: Option<Output>,
    plot: Option<(Output, ImageFormat)>,
}

impl Outputs {
    /// Checks the paths as `gc-sim run` does; none may be one of `inputs` (the trace, the merged reports) or
    /// another output.
    fn check(args: &SweepArgs, inputs: &[PathBuf]) -> Result<Outputs, String> {
        let outputs = Outputs {
            report: args.report.as_deref().map(|p| Output::check("--report", p)).transpose()?,
            csv: args.csv.as_deref().map(|p| Output::check("--csv", p)).transpose()?,
            plot: args.plot.as_deref().map(|p| Output::check_image("--plot", p)).transpose()?,
        };
        let plot = outputs.plot.as_ref().map(|(o, _)| o);
        let all: Vec<&Output> = [outputs.report.as_ref(), outputs.csv.as_ref(), plot].into_iter().flatten().collect();
        let inputs: Vec<(&Path, &str)> = inputs.iter().map(|p| (p.as_path(), "an input of the sweep")).collect();
        Output::check_distinct(&all, &inputs)?;
        Ok(outputs)
    }

    /// Writes every output; returns the messages of those that failed (the others are still written).
    fn write(&self, table: &Table, reports: &[Report]) -> Vec<String> {
        let mut failed = Vec::new();
        if let Some(output) = &self.report {
            failed.extend(
                output
                    .write(|out| {
                        serde_json::to_writer_pretty(&mut *out, table)?;
                        writeln!(out)
                    })
                    .err(),
            );
        }
        if let Some(output) = &self.csv {
            failed.extend(output.write(|out| table.write_csv(out)).err());
        }
        if let Some((output, format)) = &self.plot {
            let shown: Vec<&Report> = reports.iter().take(MAX_PANELS).collect();
            let columns = visualizer::grid_columns(&shown);
            let size = visualizer::panels_size(shown.len(), columns);
            let drawn = visualizer::sweep_chart(&shown, reports.len(), columns, *format, size)
                .map_err(|e| format!("cannot draw {}: {e}", output.path().display()))
                .and_then(|bytes| output.write(|out| out.write_all(&bytes)));
            failed.extend(drawn.err());
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_in_grid_order_the_first_axis_slowest() {
        let axes = vec![
            Axis::Node(NodeFlag::MaxOldSpaceSize, vec![16, 32, 64]),
            Axis::Node(NodeFlag::MaxSemiSpaceSize, vec![1, 4]),
        ];
        let all: Vec<Vec<usize>> = (0..6).map(|i| Grid::coordinates(&axes, i)).collect();
        assert_eq!(all, [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]);
    }

    #[test]
    fn plan_report_names_sort_in_grid_order() {
        assert_eq!(cell_report_name(0, 9), "cell-0.json");
        assert_eq!(cell_report_name(7, 12), "cell-07.json");
        assert_eq!(cell_report_name(10, 12), "cell-10.json");
        assert_eq!(cell_report_name(0, 1), "cell-0.json");
    }
}
