//! `gc-sim`: replay allocation traces through a simulated V8 heap.
//!
//! ```text
//! gc-sim run TRACE [--trace-gc] [--trace-gc-nvp] [--report FILE.json] [--plot FILE.png] [--why ID_TAG_OR_KIND] [--heap-map-at MOMENT]
//!               [--max-old-space-size MB] ... [--quiet] [--compare-log LOG ... [--max-deviation PCT]]
//! gc-sim log FILE... [--max-old-space-size MB] [--report FILE.json] [--plot FILE.png] [--plot-pauses FILE.png]
//! gc-sim plot REPORT.json [REPORT2.json ...] -o FILE.png [--chart heap|pauses|comparison|heapmap]
//!               [--moment MOMENT ...] [--color-by state|kind|tag]
//! gc-sim sweep TRACE --max-old-space-size 16,32,64 --max-semi-space-size 1,4,16 [--heap FIELD=V1,V2 ...] [--jobs N]
//!               [--report FILE.json] [--csv FILE.csv] [--plot FILE.png] [--plan DIR] | --merge REPORT.json...
//! gc-sim snapshot FILE [TARGET [FINAL]] [--report FILE.json] [--why NAME_OR_@ID] [--plot FILE.png] [--top N]
//! gc-sim synthesize SNAPSHOT_A SNAPSHOT_B [SNAPSHOT_C] -o TRACE.ndjson [--gc-log LOG] [--unit CLASS] [--rate N/s]
//!               [--interval DURATION] [--repeat-growth N | --until-oom [--horizon DURATION]] [--max-old-space-size MB] ...
//! gc-sim predict SNAPSHOT_A SNAPSHOT_B [SNAPSHOT_C] --max-old-space-size MB,MB,... [--gc-log LOG] [--unit CLASS]
//!               [--rate N/s] [--interval DURATION] [--horizon DURATION] [--report FILE.json] [--plot FILE.png]
//! gc-sim completions bash|elvish|fish|powershell|zsh
//! ```
//!
//! Exit codes: 0 success (also when standard output is closed early: the replay stops there), 1 invalid trace or
//! I/O error, 2 usage error (flags, and output paths checked before the trace is read), 3 the simulated program ran
//! out of memory (the report is still written), 4 with `--compare-log` and `--max-deviation`: a compared figure is
//! further from the real run than allowed (4 comes before 3: the check asked for is the answer; 1 comes before
//! both).

mod compare;
mod heap_flags;
mod log;
mod output;
mod plot;
mod predict;
mod run;
mod snapshot;
mod summary;
mod sweep;
mod synthesize;

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::heap_flags::HeapFlags;

/// Simulate V8's generational garbage collector on an allocation trace.
#[derive(Parser, Debug)]
#[command(name = "gc-sim", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 success (also when standard output is closed early: the replay stops \
                          there), 1 invalid trace or I/O error, 2 usage error (flags, output paths), \
                          3 the simulated program ran out of memory (the report is still written), 4 a figure \
                          further from the real run than --max-deviation allows (before 3).";

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay a trace (JSON, or NDJSON for long ones; `-` reads standard input).
    Run(RunArgs),
    /// Render charts from saved reports (`gc-sim run --report`).
    Plot(plot::PlotArgs),
    /// Summarise real Node GC logs (`--trace-gc`, `--trace-gc-nvp`, the OOM text on stderr).
    Log(log::LogArgs),
    /// Replay a trace under a grid of heap configurations, in parallel: a table and a chart of the cells.
    Sweep(sweep::SweepArgs),
    /// Analyse real V8 heap snapshots: the heap by constructor, retainers, `--why`, and the leak diff of 2-3 files.
    Snapshot(snapshot::SnapshotArgs),
    /// A trace of your program from 2-3 heap snapshots of one process (and its GC log), replayable by `run`; with
    /// the growth repeated (`--repeat-growth N`, `--until-oom`).
    Synthesize(synthesize::SynthesizeArgs),
    /// When and how your program dies under each `--max-old-space-size`, from 2-3 heap snapshots (and its GC log),
    /// and what the fix buys.
    Predict(predict::PredictArgs),
    /// Print the completion script of a shell (see the README's install section).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Options of `gc-sim run`.
#[derive(Args, Debug)]
#[command(after_help = EXIT_CODES)]
struct RunArgs {
    /// The trace: a `.json` document, an `.ndjson`/`.jsonl` stream, or `-` for standard input.
    trace: PathBuf,
    /// Print one line per collection, in V8's `--trace-gc` format.
    #[arg(long, alias = "trace_gc")]
    trace_gc: bool,
    /// Print one line per collection in V8's `--trace-gc-nvp` format (`name=value` pairs; with `--trace-gc` too,
    /// only these, as Node prints).
    #[arg(long, alias = "trace_gc_nvp")]
    trace_gc_nvp: bool,
    /// Write the machine-readable JSON report here (schema: docs/report-format.md).
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Draw the heap by generation over time (a `.png` or `.svg` path).
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
    /// Also draw the GC pauses over time (a `.png` or `.svg` path).
    #[arg(long, value_name = "FILE.png")]
    plot_pauses: Option<PathBuf>,
    /// Also draw the heap maps (those of `--heap-map-at`, then the end) side by side (`.png` or `.svg`).
    #[arg(long, value_name = "FILE.png")]
    plot_heap_map: Option<PathBuf>,
    /// Explain why an object (its trace id), a tag or a kind is alive at the end: its shortest retaining path from a
    /// root (`id:N`, `tag:NAME`, `kind:NAME` choose; otherwise a live object's id, else a tag, else a kind).
    #[arg(long, value_name = "ID_TAG_OR_KIND")]
    why: Option<String>,
    /// Also take a heap map just before or after collection N (`before:N`, `after:N`); repeatable. The report
    /// always has the map at the end.
    #[arg(long, value_name = "MOMENT")]
    heap_map_at: Vec<gc_sim::HeapMapMoment>,
    /// Print no summary (the `--why` answer is still printed).
    #[arg(long, short)]
    quiet: bool,
    /// Compare the run with a real one: its Node GC log (`--trace-gc` or `--trace-gc-nvp` output, and stderr with
    /// the OOM text; repeat the flag for two files). Prints a table after the summary; `--plot` then draws the real
    /// heap beside the simulated one.
    #[arg(long, value_name = "LOG")]
    compare_log: Vec<PathBuf>,
    /// With `--compare-log`: exit 4 when any compared figure is more than PCT percent from the real run's.
    #[arg(long, value_name = "PCT", requires = "compare_log")]
    max_deviation: Option<f64>,
    /// Start from the V8 heap of a heap snapshot (`.heapsnapshot`, gzipped or not): its objects in the old generation,
    /// its roots as root sets, before the trace's events; the trace names them by their snapshot ids
    /// (docs/heap-snapshots.md). `node20` (a reserved name: a file of that name is `./node20`) is Node 20's own
    /// startup heap, built in (2.9 MB); `node20:SIZE` scales it (`node20:6MB`, `node20:6MiB`). Replaces the trace's
    /// `initial_heap`
    #[arg(long, value_name = "FILE.heapsnapshot|node20[:SIZE]")]
    initial_heap: Option<PathBuf>,
    #[command(flatten)]
    heap: HeapFlags,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Plot(args) => plot::plot(args),
        Command::Log(args) => log::log(args),
        Command::Snapshot(args) => snapshot::snapshot(args),
        Command::Synthesize(args) => synthesize::synthesize(args),
        Command::Predict(args) => predict::predict(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Completions { shell } => completions(shell),
    }
}

/// Prints the completion script of `shell` (written whole: clap_complete panics on a write error, and
/// `gc-sim completions bash | head` must not).
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gc-sim", &mut script);
    if shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 spells the subcommands' states of a hyphenated bin name two ways (`gc__sim__subcmd__run`
        // in the dispatch loop, `gc__subcmd__sim__subcmd__run` in the arms; clap-rs/clap#6421, open), so nothing
        // after a subcommand completed. A no-op once it is fixed.
        let text = String::from_utf8(script).expect("a UTF-8 script");
        script = text.replace("gc__subcmd__sim", "gc__sim").into_bytes();
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gc-sim: cannot write to standard output: {e}");
            ExitCode::from(1)
        }
    }
}
