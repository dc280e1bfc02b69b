//! `gc-sim run`: read a trace, replay it, print `--trace-gc` (or `--trace-gc-nvp`) lines and a summary, write the
//! report.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use gc_sim::gc_log::LogReport;
use gc_sim::snapshot::import::import_into_replay;
use gc_sim::snapshot::HeapGraph;
use gc_sim::startup_heap::{self, StartupHeap};
use gc_sim::trace::{read_trace, Flow, Problem, ProblemKind, TraceEvent, TraceFormat, TraceHeader, TraceVisitor};
use gc_sim::{GcEvent, NvpContext, Replay, Report, WhyQuery};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use visualizer::ImageFormat;

use crate::compare;
use crate::heap_flags::HeapFlags;
use crate::output::Output;
use crate::summary;
use crate::RunArgs;

/// Exit code of an invalid trace or an I/O error.
const EXIT_INVALID: u8 = 1;
/// Exit code when the simulated program ran out of memory.
const EXIT_OUT_OF_MEMORY: u8 = 3;
/// Exit code when a figure compared with a real run (`--compare-log`) is further apart than `--max-deviation`.
const EXIT_DEVIATION: u8 = 4;

/// Traces at least this large (or read from standard input) get a progress bar, when standard error is a terminal.
const PROGRESS_MIN_BYTES: u64 = 4 << 20;

/// Exit code of a usage error (as clap's).
const EXIT_USAGE: u8 = 2;

/// The output files of a run, checked before the trace is read.
struct Outputs {
    report: Option<Output>,
    plot: Option<(Output, ImageFormat)>,
    plot_pauses: Option<(Output, ImageFormat)>,
    plot_heap_map: Option<(Output, ImageFormat)>,
}

impl Outputs {
    fn check(args: &RunArgs) -> Result<Outputs, String> {
        let image =
            |flag, path: &Option<std::path::PathBuf>| path.as_deref().map(|p| Output::check_image(flag, p)).transpose();
        let outputs = Outputs {
            report: args.report.as_deref().map(|p| Output::check("--report", p)).transpose()?,
            plot: image("--plot", &args.plot)?,
            plot_pauses: image("--plot-pauses", &args.plot_pauses)?,
            plot_heap_map: image("--plot-heap-map", &args.plot_heap_map)?,
        };
        // An output must not replace the trace it is made from, nor another output.
        let images = [&outputs.plot, &outputs.plot_pauses, &outputs.plot_heap_map].map(|o| o.as_ref().map(|(o, _)| o));
        let all: Vec<&Output> = [outputs.report.as_ref()].into_iter().chain(images).flatten().collect();
        let mut inputs: Vec<(&Path, &str)> = vec![(args.trace.as_path(), "the trace being replayed")];
        inputs.extend(args.compare_log.iter().map(|log| (log.as_path(), "a --compare-log log")));
        Output::check_distinct(&all, &inputs)?;
        Ok(outputs)
    }

    /// Writes every output; returns the messages of those that failed (the others are still written).
    fn write(&self, report: &gc_sim::Report, real: Option<&LogReport>) -> Vec<String> {
        let chart = |bytes: Result<Vec<u8>, visualizer::VisualizerError>, output: &Output| {
            let bytes = bytes.map_err(|e| format!("cannot draw {}: {e}", output.path().display()))?;
            output.write(|out| out.write_all(&bytes))
        };
        let mut failed = Vec::new();
        if let Some(output) = &self.report {
            failed.extend(output.write_json(report).err());
        }
        if let Some((output, format)) = &self.plot {
            let options = visualizer::HeapChartOptions::default();
            let bytes = match real {
                Some(real) => visualizer::log_comparison_chart(report, real, *format, options.size),
                None => visualizer::heap_chart(report, *format, &options),
            };
            failed.extend(chart(bytes, output).err());
        }
        if let Some((output, format)) = &self.plot_pauses {
            let size = visualizer::ChartSize::default();
            failed.extend(chart(visualizer::pause_chart(report, *format, size), output).err());
        }
        if let Some((output, format)) = &self.plot_heap_map {
            let options = visualizer::HeapMapOptions::default();
            failed.extend(chart(visualizer::heap_map_chart(report, *format, &options), output).err());
        }
        failed
    }
}

/// Runs the command; the exit code is the outcome.
pub fn run(args: RunArgs) -> ExitCode {
    // Flags that cannot apply to any configuration, and output paths that cannot be written, are usage errors,
    // found before reading the trace.
    let outputs = args
        .heap
        .check()
        .and_then(|()| startup_heap_flag(args.initial_heap.as_deref()))
        .and_then(|_| Outputs::check(&args));
    let outputs = match outputs {
        Ok(outputs) => outputs,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(pct) = args.max_deviation.filter(|p| !(p.is_finite() && *p >= 0.0)) {
        eprintln!("gc-sim: --max-deviation must be a percentage of at least 0, not {pct}");
        return ExitCode::from(EXIT_USAGE);
    }
    if args.trace.as_os_str() == "-" && args.compare_log.iter().any(|f| f.as_os_str() == "-") {
        eprintln!("gc-sim: the trace and a --compare-log log cannot both be standard input");
        return ExitCode::from(EXIT_USAGE);
    }
    // The initial heap and the real run are read first: a file that cannot be read fails before a long replay.
    let initial = match read_initial_heap(args.initial_heap.as_deref()) {
        Ok(initial) => initial,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let real = match read_real_run(&args) {
        Ok(real) => real,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    match replay(&args, &outputs, real.as_ref(), initial.as_ref()) {
        Ok(code) => code,
        Err(Failure::Invalid(message)) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(EXIT_INVALID)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Why a run stopped early.
pub(crate) enum Failure {
    /// An invalid trace or an I/O error (exit 1).
    Invalid(String),
    /// A flag that the trace's header makes invalid (exit 2).
    Usage(String),
}

/// The heap of `--initial-heap`.
pub(crate) enum InitialHeap {
    /// A heap snapshot, read and analysed, and its path.
    Snapshot(Box<HeapGraph>, PathBuf),
    /// Node's startup heap, built in (`node20`, `node20:SIZE`).
    Startup(StartupHeap),
}

/// Whether `--initial-heap` names the built-in heap: `node20` or `node20:...` (a file of that name is `./node20`).
fn names_startup_heap(path: &Path) -> Option<&str> {
    let name = path.to_str()?;
    (name == startup_heap::NAME || name.strip_prefix(startup_heap::NAME).is_some_and(|rest| rest.starts_with(':')))
        .then_some(name)
}

/// The built-in heap named by `--initial-heap`, if it names one: a usage error when its size is not one.
pub(crate) fn startup_heap_flag(initial_heap: Option<&Path>) -> Result<Option<StartupHeap>, String> {
    match initial_heap.and_then(names_startup_heap) {
        Some(name) => name.parse().map(Some).map_err(|e| format!("--initial-heap {name}: {e}")),
        None => Ok(None),
    }
}

/// The heap of `--initial-heap`, if given: the built-in heap, or a heap snapshot read and analysed.
pub(crate) fn read_initial_heap(initial_heap: Option<&Path>) -> Result<Option<InitialHeap>, String> {
    let Some(path) = initial_heap else { return Ok(None) };
    if let Some(startup) = startup_heap_flag(Some(path))? {
        return Ok(Some(InitialHeap::Startup(startup)));
    }
    let raw =
        gc_sim::snapshot::read_snapshot_file(path).map_err(|e| format!("--initial-heap {}: {e}", path.display()))?;
    Ok(Some(InitialHeap::Snapshot(Box::new(HeapGraph::new(raw)), path.to_owned())))
}

/// The real run of `--compare-log`, if given; its collections are kept for `--plot`.
fn read_real_run(args: &RunArgs) -> Result<Option<LogReport>, String> {
    if args.compare_log.is_empty() {
        return Ok(None);
    }
    let (summary, events) = crate::log::read_logs(&args.compare_log, args.plot.is_some(), 1_000_000)?;
    if summary.collections() == 0 && summary.death.is_none() {
        return Err(format!(
            "--compare-log: no GC line or FATAL ERROR in {} (run Node with --trace-gc or --trace-gc-nvp)",
            summary.sources.join(", ")
        ));
    }
    Ok(Some(LogReport::new(&summary, events.unwrap_or_default(), None)))
}

/// One run's set-up: the trace, the heap flags, the heap to start from, and what to record and print as it goes.
/// `gc-sim run` replays one; every cell of `gc-sim sweep` (and every line of its `--plan`) is one too, replayed by
/// the same code, so that a cell's report is the single run's.
pub(crate) struct RunSpec<'a> {
    /// The trace (`-` for standard input).
    pub trace: &'a Path,
    /// The heap flags, applied to the trace's own configuration.
    pub flags: &'a HeapFlags,
    /// The heap to start from (`--initial-heap`), which replaces the trace's `initial_heap`.
    pub initial: Option<&'a InitialHeap>,
    /// The heap maps to take.
    pub heap_maps: &'a [gc_sim::HeapMapMoment],
    /// Print `--trace-gc` lines.
    pub trace_gc: bool,
    /// Print `--trace-gc-nvp` lines.
    pub trace_gc_nvp: bool,
}

/// A trace opened for reading.
pub(crate) struct TraceInput {
    /// Its bytes, as stored (compressed or not).
    pub reader: Box<dyn io::Read>,
    /// Its length in bytes, when it is a file.
    pub length: Option<u64>,
    /// Its name in messages: the path, or `<stdin>`.
    pub source_name: String,
    /// The form its name implies.
    pub format: Option<TraceFormat>,
}

/// What a replay left: the replay itself, standard output and its first failed write, and whether it was cancelled.
pub(crate) struct Replayed<W> {
    /// The replay as it stopped.
    pub replay: Replay,
    /// Where the lines went.
    pub out: W,
    /// The first failed write of `out`: the replay stopped there.
    pub stdout_error: Option<io::Error>,
    /// Stopped by the `cancel` flag of [`RunSpec::replay`].
    pub cancelled: bool,
}

impl RunSpec<'_> {
    /// Opens the trace: the file, or standard input for `-`.
    pub(crate) fn open(&self) -> Result<TraceInput, Failure> {
        let stdin = self.trace.as_os_str() == "-";
        let source_name = if stdin { "<stdin>".to_owned() } else { self.trace.display().to_string() };
        if stdin {
            return Ok(TraceInput { reader: Box::new(io::stdin().lock()), length: None, source_name, format: None });
        }
        let file = File::open(self.trace).map_err(|e| Failure::Invalid(format!("cannot open {source_name}: {e}")))?;
        let length = file.metadata().ok().map(|m| m.len());
        Ok(TraceInput { reader: Box::new(file), length, source_name, format: TraceFormat::from_path(self.trace) })
    }

    /// Replays `input` (the reader of [`open`](Self::open), wrapped as the caller likes), printing the lines asked
    /// for to `out` through `progress` (see [`print_through`]). When `cancel` says so, the replay stops at that
    /// event.
    pub(crate) fn replay<W: Write>(
        &self,
        input: Box<dyn io::Read + '_>,
        source_name: &str,
        format: Option<TraceFormat>,
        out: W,
        progress: &ProgressBar,
        cancel: Option<&dyn Fn() -> bool>,
    ) -> Result<Replayed<W>, Failure> {
        let input: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, input));
        let mut visitor = CliVisitor {
            flags: self.flags,
            heap_maps: self.heap_maps,
            trace_gc: self.trace_gc,
            trace_gc_nvp: self.trace_gc_nvp,
            nvp: None,
            nvp_error: None,
            out,
            progress: progress.clone(),
            pending: Rc::default(),
            replay: None,
            stdout_error: None,
            flag_error: None,
            initial: self.initial,
            trace_dir: match self.trace.as_os_str() == "-" {
                true => PathBuf::new(),
                false => self.trace.parent().map(Path::to_path_buf).unwrap_or_default(),
            },
            import_error: None,
            cancel,
            cancelled: false,
        };
        let read = read_trace(input, source_name, format, &mut visitor);
        progress.finish_and_clear();
        visitor.print_new_collections();
        let CliVisitor { replay, out, stdout_error, flag_error, import_error, nvp_error, cancelled, .. } = visitor;
        if let Some(message) = import_error.or(nvp_error) {
            return Err(Failure::Invalid(message));
        }
        if let Some(message) = flag_error {
            return Err(Failure::Usage(message));
        }
        read.map_err(|e| Failure::Invalid(e.to_string()))?;
        let replay = replay.expect("a trace that was read has a header");
        Ok(Replayed { replay, out, stdout_error, cancelled })
    }

    /// The report of the run, replayed with nothing printed: what `gc-sim run TRACE -q --report R.json` writes in
    /// `R.json` (with no `--why`). `wrap` wraps the trace's reader (a progress bar's count); `None` when `cancel`
    /// stopped it.
    pub(crate) fn report(
        &self,
        wrap: impl FnOnce(Box<dyn io::Read>) -> Box<dyn io::Read>,
        cancel: Option<&dyn Fn() -> bool>,
    ) -> Result<Option<Report>, Failure> {
        let input = self.open()?;
        let reader = wrap(input.reader);
        let replayed =
            self.replay(reader, &input.source_name, input.format, io::sink(), &ProgressBar::hidden(), cancel)?;
        Ok((!replayed.cancelled).then(|| Report::new(&replayed.replay, None)))
    }
}

fn replay(
    args: &RunArgs,
    outputs: &Outputs,
    real: Option<&LogReport>,
    initial: Option<&InitialHeap>,
) -> Result<ExitCode, Failure> {
    // Heap maps cost memory in proportion to the heap's pages: only those asked for are built, the end map for
    // `--heap-map-at end` or `--plot-heap-map`.
    let mut heap_maps = args.heap_map_at.clone();
    if args.plot_heap_map.is_some() {
        heap_maps.push(gc_sim::HeapMapMoment::End);
    }
    let spec = RunSpec {
        trace: &args.trace,
        flags: &args.heap,
        initial,
        heap_maps: &heap_maps,
        trace_gc: args.trace_gc,
        trace_gc_nvp: args.trace_gc_nvp,
    };
    let input = spec.open()?;
    let progress = progress_bar(input.length, args.quiet);
    let stdout = BufWriter::new(io::stdout().lock());
    let Replayed { replay, mut out, mut stdout_error, .. } = spec.replay(
        Box::new(progress.wrap_read(input.reader)),
        &input.source_name,
        input.format,
        stdout,
        &progress,
        None,
    )?;
    let source_name = input.source_name;

    // Standard output closed early (`gc-sim run ... | head`): the replay stopped there, so there is no report of
    // the whole trace to write.
    let mut failed_outputs = Vec::new();
    let mut deviations = Vec::new();
    if stdout_error.is_none() {
        let report = Report::new(&replay, args.why.as_deref().map(WhyQuery::Text));
        let collections = report.summary.scavenges + report.summary.mark_compacts;
        for moment in &args.heap_map_at {
            if !report.heap_maps.iter().any(|m| m.moment == *moment) {
                eprintln!("gc-sim: no heap map at {moment}: the run had {collections} collections");
            }
        }
        // Written before the summary, so that a reader of standard output that goes away cannot lose them.
        failed_outputs = outputs.write(&report, real);
        let mut printed = if !args.quiet {
            summary::print(&mut out, &source_name, &report)
        } else {
            // `--why` asks a question: answer it even without the summary.
            summary::print_why(&mut out, &report)
        };
        // The comparison is what `--compare-log` asks for: printed even with `--quiet`.
        if let Some(real) = real {
            let rows = compare::rows(&report, real);
            printed = printed.and_then(|()| compare::print(&mut out, &report, real, &rows));
            if let Some(max) = args.max_deviation {
                deviations = compare::deviations(&rows, max);
            }
        }
        stdout_error = printed.and_then(|()| out.flush()).err();
    }
    // A closed pipe is how a reader says it has seen enough: no message, as `cat` or `grep` would print none.
    let stdout_failed = match stdout_error {
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Some(e) => {
            eprintln!("gc-sim: cannot write to standard output: {e}");
            true
        }
        None => false,
    };
    for message in &failed_outputs {
        eprintln!("gc-sim: {message}");
    }
    if let Some(oom) = replay.heap().out_of_memory() {
        // Node prints its last GCs and the fatal error on standard error.
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "\n<--- Last few GCs --->\n");
        // V8 keeps the `--trace-gc` lines it formats; with `--trace-gc-nvp` it formats none, and the list is empty.
        let events = if args.trace_gc_nvp { &[][..] } else { replay.heap().events() };
        for e in &events[events.len().saturating_sub(4)..] {
            let _ = writeln!(err, "{}", e.trace_gc_line());
        }
        let _ = writeln!(err, "\n{oom}");
    }
    if !deviations.is_empty() {
        eprintln!(
            "gc-sim: further from the real run than --max-deviation {}: {}",
            args.max_deviation.unwrap_or_default(),
            deviations.join("; ")
        );
    }
    // A report that could not be written is lost work: that outcome comes first; then the check asked for.
    if failed_outputs.is_empty() && !deviations.is_empty() {
        return Ok(ExitCode::from(EXIT_DEVIATION));
    }
    if replay.heap().out_of_memory().is_some() && failed_outputs.is_empty() {
        return Ok(ExitCode::from(EXIT_OUT_OF_MEMORY));
    }
    if !failed_outputs.is_empty() || stdout_failed {
        return Ok(ExitCode::from(EXIT_INVALID));
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

/// Builds the heap from the header and the flags, replays events, and prints `--trace-gc` (or `--trace-gc-nvp`)
/// lines as collections happen.
struct CliVisitor<'a, W: Write> {
    flags: &'a HeapFlags,
    heap_maps: &'a [gc_sim::HeapMapMoment],
    trace_gc: bool,
    /// `--trace-gc-nvp`: nvp lines, in place of the `--trace-gc` ones when both are asked for, as V8 prints.
    trace_gc_nvp: bool,
    /// What the nvp lines carry from one collection to the next (made with the heap, from its pause model).
    nvp: Option<NvpContext>,
    /// Why an nvp line could not be made.
    nvp_error: Option<String>,
    out: W,
    /// The progress bar: lines are printed while it is hidden, so that they do not mix on a terminal.
    progress: ProgressBar,
    /// Collections not yet printed, recorded by a GC epilogue callback on the heap (which sees every collection,
    /// however many one event runs).
    pending: Rc<RefCell<Vec<GcEvent>>>,
    replay: Option<Replay>,
    /// The first failed write of standard output: the replay stops there.
    stdout_error: Option<io::Error>,
    /// A flag that conflicts with the trace's header.
    flag_error: Option<String>,
    /// The heap to start from (`--initial-heap`), which replaces the trace's `initial_heap` and `initial_snapshot`.
    initial: Option<&'a InitialHeap>,
    /// Where a header's `initial_snapshot` is relative to: the trace's directory (the working directory for
    /// standard input).
    trace_dir: PathBuf,
    /// Why the snapshot could not be imported (an object the simulator cannot hold).
    import_error: Option<String>,
    /// Asked before each event: stop the replay here (a sweep whose other cell failed).
    cancel: Option<&'a dyn Fn() -> bool>,
    /// The replay stopped because `cancel` was set.
    cancelled: bool,
}

impl<W: Write> CliVisitor<'_, W> {
    fn print_new_collections(&mut self) {
        let events = std::mem::take(&mut *self.pending.borrow_mut());
        let lines: Vec<String> = match &mut self.nvp {
            Some(nvp) => {
                let lines: Result<Vec<String>, _> = events.iter().map(|e| e.trace_gc_nvp_line(nvp)).collect();
                match lines {
                    Ok(lines) => lines,
                    Err(e) => {
                        self.nvp_error.get_or_insert(e.to_string());
                        Vec::new()
                    }
                }
            }
            None => events.iter().map(GcEvent::trace_gc_line).collect(),
        };
        if !lines.is_empty() && self.stdout_error.is_none() {
            self.stdout_error = print_through(&self.progress, &mut self.out, |out| {
                lines.iter().try_for_each(|line| writeln!(out, "{line}"))
            })
            .err();
        }
    }
}

/// Prints with `print` to `out`, which shares a terminal with the progress bar: the bar is cleared first and drawn
/// again after, and `out` is flushed while the bar is away. Without a bar, `out` keeps its buffer.
fn print_through<W: Write>(
    progress: &ProgressBar,
    out: &mut W,
    print: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    if progress.is_hidden() {
        print(out)
    } else {
        progress.suspend(|| print(out).and_then(|()| out.flush()))
    }
}

impl<W: Write> TraceVisitor for CliVisitor<'_, W> {
    fn header(&mut self, mut header: TraceHeader) -> Result<(), Problem> {
        if self.initial.is_some() {
            header.initial_heap = None;
            header.initial_snapshot = None;
        }
        // The header's snapshot, relative to the trace's directory.
        let header_snapshot = match header.initial_snapshot.take() {
            Some(name) => {
                let path = self.trace_dir.join(&name);
                let raw = gc_sim::snapshot::read_snapshot_file(&path).map_err(|e| {
                    let message = format!("initial_snapshot \"{name}\" ({}): {e}", path.display());
                    self.import_error = Some(message.clone());
                    Problem::new(ProblemKind::Header, message)
                })?;
                if header.initial_heap.is_some() {
                    return Err(Problem::new(
                        ProblemKind::Header,
                        format!("`initial_heap` and `initial_snapshot` \"{name}\": give one heap to start from"),
                    ));
                }
                Some((HeapGraph::new(raw), path))
            }
            None => None,
        };
        let flag_error = &mut self.flag_error;
        let mut replay = Replay::from_header(&header, |config| {
            // Reported as a usage error, not as a fault of the trace.
            self.flags.apply_to_trace(config).inspect_err(|e| *flag_error = Some(e.clone()))
        })?;
        if self.trace_gc || self.trace_gc_nvp {
            if self.trace_gc_nvp {
                self.nvp = Some(NvpContext::new(replay.heap().config().pause));
            }
            let pending = Rc::clone(&self.pending);
            replay.heap_mut().add_gc_epilogue_callback(move |_, event| pending.borrow_mut().push(event.clone()));
        }
        // The snapshot's heap may not fit the maximum old generation: the program is then dead from the start,
        // which the run reports like any death.
        let imported = match (self.initial, &header_snapshot) {
            (Some(InitialHeap::Snapshot(graph, path)), _) => import_into_replay(graph, &mut replay)
                .map(drop)
                .map_err(|e| format!("--initial-heap {}: {e}", path.display())),
            (Some(&InitialHeap::Startup(startup)), _) => {
                replay.import_startup_heap(startup).map_err(|e| format!("--initial-heap {startup}: {e}"))
            }
            (None, Some((graph, path))) => import_into_replay(graph, &mut replay)
                .map(drop)
                .map_err(|e| format!("initial_snapshot {}: {e}", path.display())),
            (None, None) => Ok(()),
        };
        if let Err(message) = imported {
            self.import_error = Some(message.clone());
            return Err(Problem::new(ProblemKind::Header, message));
        }
        for &moment in self.heap_maps {
            replay.heap_maps().request(moment);
        }
        self.replay = Some(replay);
        Ok(())
    }

    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        let replay = self.replay.as_mut().expect("the header comes first");
        let mark = (self.trace_gc || self.trace_gc_nvp) && matches!(event, TraceEvent::Mark { .. });
        let flow = replay.apply(event)?;
        if !self.pending.borrow().is_empty() {
            self.print_new_collections();
        }
        if mark && self.stdout_error.is_none() {
            let replay = self.replay.as_ref().expect("just used");
            let m = replay.marks().last().expect("a mark was just recorded");
            self.stdout_error = print_through(&self.progress, &mut self.out, |out| {
                writeln!(out, "[gc-sim] {:8.0} ms: mark: {}", m.t_ms, m.label)
            })
            .err();
        }
        // Nobody reads the rest of the output (`gc-sim run ... | head`), or it cannot be made: stop replaying.
        if self.stdout_error.is_some() || self.nvp_error.is_some() {
            return Ok(Flow::Stop);
        }
        if self.cancel.is_some_and(|cancel| cancel()) {
            self.cancelled = true;
            return Ok(Flow::Stop);
        }
        Ok(flow)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

    use super::*;

    /// What reached the terminal, in order: the bar's drawing operations and the lines of standard output.
    #[derive(Clone, Debug, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl Screen {
        fn log(&self, entry: String) -> io::Result<()> {
            self.0.lock().unwrap().push(entry);
            Ok(())
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            self.log(format!("bar: up {n}"))
        }
        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            self.log(format!("bar: down {n}"))
        }
        fn move_cursor_right(&self, n: usize) -> io::Result<()> {
            self.log(format!("bar: right {n}"))
        }
        fn move_cursor_left(&self, n: usize) -> io::Result<()> {
            self.log(format!("bar: left {n}"))
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.log(format!("bar: draw {s}"))
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.log(format!("bar: draw {s}"))
        }
        fn clear_line(&self) -> io::Result<()> {
            self.log("bar: clear".to_owned())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Standard output on the same screen.
    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            for line in String::from_utf8_lossy(buf).lines() {
                self.log(format!("out: {line}"))?;
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// On a terminal, every `--trace-gc` and mark line reaches the screen while the bar is cleared, and the bar is
    /// drawn again after it: no bar is left among the lines, and no line starts on the bar's line.
    #[test]
    fn trace_gc_lines_are_printed_through_the_progress_bar() {
        let screen = Screen::default();
        let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::term_like(Box::new(screen.clone())));
        bar.set_position(10);
        let header = r#"{"format": "gc-sim-trace", "version": 1, "heap": {"page": {"page_size": 4096, "area_start": 64, "area_size": 4032}, "min_semi_space_size": 8192, "max_semi_space_size": 8192, "large_object_threshold": 2048, "lab_size": 1024, "max_lab_object_size": 256}}"#;
        let mut trace = format!("{header}\n{{\"op\": \"mark\", \"label\": \"start\"}}\n");
        for id in 0..200 {
            trace.push_str(&format!("{{\"op\": \"alloc\", \"id\": {id}, \"size\": 400}}\n"));
        }
        let flags = HeapFlags::default();
        let mut visitor = CliVisitor {
            flags: &flags,
            heap_maps: &[],
            trace_gc: true,
            trace_gc_nvp: false,
            nvp: None,
            nvp_error: None,
            // Buffered as standard output is: the lines must still reach the screen while the bar is away.
            out: BufWriter::new(screen.clone()),
            progress: bar.clone(),
            pending: Rc::default(),
            replay: None,
            stdout_error: None,
            flag_error: None,
            initial: None,
            trace_dir: PathBuf::new(),
            import_error: None,
            cancel: None,
            cancelled: false,
        };
        read_trace(trace.as_bytes(), "t.ndjson", None, &mut visitor).unwrap();
        let log = screen.0.lock().unwrap().clone();
        let lines: Vec<usize> = (0..log.len()).filter(|&i| log[i].starts_with("out: ")).collect();
        assert!(lines.len() > 5 && log[lines[0]].contains("mark: start"), "{log:#?}");
        assert!(log.iter().filter(|e| e.contains("Scavenge")).count() >= 5, "{log:#?}");
        let mut bar_shown = true;
        for (i, entry) in log.iter().enumerate() {
            if entry.starts_with("bar: draw") {
                bar_shown = true;
            } else if entry == "bar: clear" {
                bar_shown = false;
            } else if entry.starts_with("out: ") {
                assert!(!bar_shown, "{entry:?} printed over the bar: {:#?}", &log[i.saturating_sub(4)..=i]);
            }
        }
        assert!(log.last().unwrap().starts_with("bar: draw"), "the bar is drawn again after the lines");
    }
}
