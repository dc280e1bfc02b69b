//! `gc-sim run`: read a trace, replay it, print `--trace-gc` lines and a summary, write the report.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use gc_sim::trace::{read_trace, Flow, Problem, ProblemKind, TraceEvent, TraceFormat, TraceHeader, TraceVisitor};
use gc_sim::{Heap, Replay};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::heap_flags::HeapFlags;
use crate::summary;
use crate::RunArgs;

/// Exit code of an invalid trace or an I/O error.
const EXIT_INVALID: u8 = 1;
/// Exit code when the simulated program ran out of memory.
const EXIT_OUT_OF_MEMORY: u8 = 3;

/// Traces at least this large (or read from standard input) get a progress bar, when standard error is a terminal.
const PROGRESS_MIN_BYTES: u64 = 4 << 20;

/// Exit code of a usage error (as clap's).
const EXIT_USAGE: u8 = 2;

/// Runs the command; the exit code is the outcome.
pub fn run(args: RunArgs) -> ExitCode {
    // Flags that cannot apply to any configuration are usage errors, found before reading the trace.
    if let Err(message) = args.heap.apply(&mut gc_sim::HeapConfig::default()) {
        eprintln!("gc-sim: {message}");
        return ExitCode::from(EXIT_USAGE);
    }
    match replay(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn replay(args: &RunArgs) -> Result<ExitCode, String> {
    let stdin = args.trace.as_os_str() == "-";
    let source_name = if stdin { "<stdin>".to_owned() } else { args.trace.display().to_string() };
    let (input, length): (Box<dyn io::Read>, Option<u64>) = if stdin {
        (Box::new(io::stdin().lock()), None)
    } else {
        let file = File::open(&args.trace).map_err(|e| format!("cannot open {source_name}: {e}"))?;
        let length = file.metadata().ok().map(|m| m.len());
        (Box::new(file), length)
    };
    let progress = progress_bar(length, args.quiet);
    let input: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, progress.wrap_read(input)));
    let format = if stdin { None } else { TraceFormat::from_path(&args.trace) };

    // Heap maps cost memory in proportion to the heap's pages: only those asked for are built, the end map for
    // `--heap-map-at end` or `--plot-heap-map`.
    let mut heap_maps = args.heap_map_at.clone();
    if args.plot_heap_map.is_some() {
        heap_maps.push(gc_sim::HeapMapMoment::End);
    }
    let stdout = io::stdout().lock();
    let mut visitor = CliVisitor {
        flags: &args.heap,
        heap_maps: &heap_maps,
        trace_gc: args.trace_gc,
        out: BufWriter::new(stdout),
        printed: 0,
        replay: None,
    };
    let read = read_trace(input, &source_name, format, &mut visitor);
    progress.finish_and_clear();
    visitor.print_new_collections();
    let CliVisitor { replay, mut out, .. } = visitor;
    read.map_err(|e| e.to_string())?;
    let replay = replay.expect("a trace that was read has a header");

    let report = match &args.why {
        Some(query) => replay.report_with_why(query),
        None => replay.report(),
    };
    let collections = report.summary.scavenges + report.summary.mark_compacts;
    for moment in &args.heap_map_at {
        if !report.heap_maps.iter().any(|m| m.moment == *moment) {
            eprintln!("gc-sim: no heap map at {moment}: the run had {collections} collections");
        }
    }
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    if let Some(path) = &args.plot {
        visualizer::render_heap(&report, path, &visualizer::HeapChartOptions::default()).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &args.plot_pauses {
        visualizer::render_pauses(&report, path).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &args.plot_heap_map {
        visualizer::render_heap_map(&report, path, &visualizer::HeapMapOptions::default())
            .map_err(|e| e.to_string())?;
    }
    if !args.quiet {
        summary::print(&mut out, &source_name, &report).map_err(|e| format!("cannot write to standard output: {e}"))?;
    } else {
        // `--why` asks a question: answer it even without the summary.
        summary::print_why(&mut out, &report).map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    out.flush().map_err(|e| format!("cannot write to standard output: {e}"))?;
    if let Some(oom) = replay.heap().out_of_memory() {
        // Node prints its last GCs and the fatal error on standard error.
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "\n<--- Last few GCs --->\n");
        let events = replay.heap().events();
        for e in &events[events.len().saturating_sub(4)..] {
            let _ = writeln!(err, "{}", e.trace_gc_line());
        }
        let _ = writeln!(err, "\n{oom}");
        return Ok(ExitCode::from(EXIT_OUT_OF_MEMORY));
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(length: Option<u64>, quiet: bool) -> ProgressBar {
    let long = length.is_none_or(|l| l >= PROGRESS_MIN_BYTES);
    if quiet || !long || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match length {
        Some(length) => ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} replaying [{bar:40}] {binary_bytes}/{binary_total_bytes} ({eta})")
                .expect("a valid template")
                .progress_chars("=> "),
        ),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} replaying {binary_bytes} ({binary_bytes_per_sec})")
                .expect("a valid template"),
        ),
    };
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn write_report(path: &Path, report: &gc_sim::Report) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("cannot write the report {}: {e}", path.display()))?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, report)
        .map_err(|e| e.to_string())
        .and_then(|()| writeln!(out).and_then(|()| out.flush()).map_err(|e| e.to_string()))
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
}

/// Builds the heap from the header and the flags, replays events, and prints `--trace-gc` lines as collections
/// happen.
struct CliVisitor<'a, W: Write> {
    flags: &'a HeapFlags,
    heap_maps: &'a [gc_sim::HeapMapMoment],
    trace_gc: bool,
    out: W,
    /// Collections already printed (the number of the last one).
    printed: u64,
    replay: Option<Replay>,
}

impl<W: Write> CliVisitor<'_, W> {
    fn print_new_collections(&mut self) {
        let Some(replay) = &self.replay else { return };
        if self.trace_gc {
            for e in replay.heap().events_since(self.printed) {
                let _ = writeln!(self.out, "{}", e.trace_gc_line());
            }
        }
        self.printed = replay.heap().collections();
    }
}

impl<W: Write> TraceVisitor for CliVisitor<'_, W> {
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
        let mut config = header.heap;
        self.flags.apply(&mut config).map_err(|e| Problem::new(ProblemKind::Header, e))?;
        let mut heap = Heap::new(config).map_err(|e| Problem::new(ProblemKind::Header, format!("heap: {e}")))?;
        for &moment in self.heap_maps {
            heap.request_heap_map(moment);
        }
        self.replay = Some(Replay::new(header.name, heap));
        Ok(())
    }

    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        let replay = self.replay.as_mut().expect("the header comes first");
        let mark = self.trace_gc && matches!(event, TraceEvent::Mark { .. });
        let flow = replay.apply(event)?;
        if replay.heap().collections() > self.printed {
            self.print_new_collections();
        }
        if mark {
            let replay = self.replay.as_ref().expect("just used");
            let m = replay.marks().last().expect("a mark was just recorded");
            let _ = writeln!(self.out, "[gc-sim] {:8.0} ms: mark: {}", m.t_ms, m.label);
        }
        Ok(flow)
    }
}
