//! `gc-sim synthesize`: a trace of the user's own program from two or three heap snapshots of one process (and its
//! GC log), replayable by `gc-sim run`, optionally with the measured growth repeated (`--repeat-growth N`,
//! `--until-oom`). The snapshot reading, timing and garbage model are shared with `gc-sim predict`
//! ([`Artefacts::prepare`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use gc_sim::compressed::{Compression, Encoder};
use gc_sim::snapshot::import::import_into_replay;
use gc_sim::snapshot::{read_snapshot_file, HeapGraph};
use gc_sim::synthesis::garbage::{GarbageModel, GarbageSource};
use gc_sim::synthesis::synthesizer::{EventSink, Options, Plan, Repeat, Synthesis};
pub use gc_sim::synthesis::timing::seconds;
use gc_sim::synthesis::timing::Timing;
use gc_sim::trace::{Flow, Problem, TraceEvent, TraceHeader};
use gc_sim::{HeapConfig, Replay};

use crate::heap_flags::HeapFlags;
use crate::output::Output;

/// Exit code of unreadable input.
const EXIT_INVALID: u8 = 1;
/// Exit code of a usage error.
const EXIT_USAGE: u8 = 2;
/// Exit code when the simulated program died (`--until-oom`).
const EXIT_OUT_OF_MEMORY: u8 = 3;

/// The time of a step when nothing gives it and nothing is repeated: a guess, said in the output.
pub const GUESSED_STEP_MS: f64 = 10_000.0;

/// The default horizon of `--until-oom` and `gc-sim predict`: a program that lives this long is said to survive.
pub const DEFAULT_HORIZON_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// The real artefacts a synthesis reads, and how to read them.
#[derive(Args, Debug)]
pub struct Artefacts {
    /// Two or three heap snapshots of one process, oldest first (`.heapsnapshot`, gzip or zstd recognised by
    /// content), e.g. taken with `node --heapsnapshot-signal=SIGUSR2` some minutes apart.
    #[arg(required = true, num_args = 2..=3, value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// The program's GC log (`--trace-gc` or `--trace-gc-nvp` output, from the start of a process under the same
    /// load): the garbage rates are fitted to it. Repeat the flag for one run's stdout and stderr. Without it the
    /// garbage is a documented guess.
    #[arg(long, value_name = "LOG")]
    pub gc_log: Vec<PathBuf>,
    /// An allocation timeline of the same process (DevTools' "Allocation instrumentation on timeline", a
    /// `.heaptimeline`): the born objects it tracked get their allocation site (`site`). A snapshot that is itself a
    /// timeline gives them too.
    #[arg(long, value_name = "FILE.heaptimeline")]
    pub timeline: Option<PathBuf>,
    /// The class that counts the units of growth (`Socket`, `Timeout`); inferred from the snapshots' diff when
    /// absent.
    #[arg(long, value_name = "CLASS")]
    pub unit: Option<String>,
    /// Units of growth per second (`100/s`, `100`, `6000/min`): the program's load. Without it, the snapshots'
    /// time gives the rate.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Time between consecutive snapshots (`16s`, `2min`, `1500ms`, `1h`). Without it, the snapshots' file names
    /// give it when Node named them (`Heap.20261204.222946.23455.0.001.heapsnapshot`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub interval: Option<f64>,
    /// The size of each garbage object, bytes (default: the mean size of the objects born in the last step, 16 to
    /// 1024). Larger objects make fewer events for the same garbage bytes: faster, coarser.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(8..=131072))]
    pub garbage_object_size: Option<u32>,
    /// The fewest new objects under one holder for its growth to count as the program's growth.
    #[arg(long, value_name = "N", default_value_t = gc_sim::snapshot::diff::DEFAULT_MIN_OBJECTS)]
    pub min_objects: u64,
}

/// `100/s`, `100`, `6000/min`, `360000/h`: per second.
fn parse_rate(text: &str) -> Result<f64, String> {
    let (number, per) = match text.split_once('/') {
        Some((n, per)) => (n, per),
        None => (text, "s"),
    };
    let seconds = match per {
        "s" | "sec" => 1.0,
        "min" | "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("unknown time unit \"{other}\" (s, min or h)")),
    };
    let n: f64 = number.trim().parse().map_err(|_| format!("\"{number}\" is not a number"))?;
    if !(n.is_finite() && n > 0.0) {
        return Err(format!("{n} units per {per}: must be more than 0"));
    }
    Ok(n / seconds)
}

/// `16s`, `1500ms`, `2min`, `1h`, `1d`: milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<f64, String> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let ms = match unit.trim() {
        "ms" => 1.0,
        "s" | "" => 1000.0,
        "min" | "m" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        other => return Err(format!("unknown time unit \"{other}\" (ms, s, min, h or d)")),
    };
    let n: f64 = number.parse().map_err(|_| format!("\"{text}\" is not a duration (16s, 1500ms, 2min, 1h)"))?;
    if !(n.is_finite() && n > 0.0) {
        return Err(format!("\"{text}\": must be more than 0"));
    }
    Ok(n * ms)
}

/// The snapshots read and synthesized, with the time and garbage of the events.
pub struct Prepared {
    /// The first snapshot's heap, which the trace starts from.
    pub first: HeapGraph,
    /// The synthesis.
    pub synthesis: Synthesis,
    /// The time of the steps and the growth's rate, and where they come from.
    pub timing: Timing,
    /// The garbage.
    pub garbage: GarbageModel,
    /// The snapshots' names, for titles.
    pub names: Vec<String>,
    /// The fewest objects under one holder that count as growth.
    pub min_objects: u64,
}

impl Prepared {
    /// The plan with this repetition, or why there is none: the time is unknown.
    pub fn plan(&self, repeat: Repeat, without_growth: bool) -> Result<Plan, String> {
        // The snapshots alone: time only spaces the events, so a guess will do (the output says so).
        let guessed = (repeat == Repeat::Times(0)).then(|| vec![GUESSED_STEP_MS; self.synthesis.steps.len()]);
        let step_ms = self.timing.step_ms.clone().or(guessed).ok_or_else(|| {
            "the time between the snapshots is unknown: give --interval (time between them) or --rate (units of \
             growth per second)"
                .to_owned()
        })?;
        let needs_rate = repeat != Repeat::Times(0) && self.synthesis.growth.unit.is_some();
        let units_per_ms = match self.timing.units_per_ms {
            Some(rate) => rate,
            None if needs_rate => return Err("the growth's rate is unknown: give --rate N/s".to_owned()),
            None => 0.0,
        };
        Ok(Plan { step_ms, units_per_ms, repeat, garbage: self.garbage.clone(), without_growth })
    }

    /// Prints what the snapshots say: the steps, the growth and its unit, the time and the garbage.
    pub fn describe(&self, out: &mut impl Write) -> io::Result<()> {
        let s = &self.synthesis;
        writeln!(out, "snapshots: {}", self.names.join(" -> "))?;
        for (i, step) in s.steps.iter().enumerate() {
            writeln!(
                out,
                "  step {}: {} objects born ({} B), {} died ({} B), {} references rewritten, roots +{} -{}",
                i + 1,
                thousands(step.births.len() as u64),
                thousands(step.born_bytes),
                thousands(step.died_objects),
                thousands(step.died_bytes),
                thousands(step.rewrites.len() as u64),
                step.roots_added.len(),
                step.roots_removed.len()
            )?;
            // Ids name the same object only within one process. Two processes of one program share the ids of
            // their startup heaps, but not the objects: most references then differ.
            if step.died_objects * 2 > step.earlier_objects || step.rewrites.len() as u64 > step.earlier_objects {
                writeln!(
                    out,
                    "  WARNING: snapshots {} and {} differ in most of their objects or references: are they of one \
                     process? (a snapshot id names one object only within one process)",
                    i + 1,
                    i + 2
                )?;
            }
        }
        let g = &s.growth;
        match &g.unit {
            Some(unit) => {
                writeln!(
                    out,
                    "growth: {} objects, {} B, in {} structure{}:",
                    thousands(g.members.len() as u64),
                    thousands(g.bytes),
                    g.structures.len(),
                    if g.structures.len() == 1 { "" } else { "s" }
                )?;
                for structure in &g.structures {
                    writeln!(out, "  {structure}")?;
                }
                writeln!(
                    out,
                    "unit: one {} = {:.1} objects, {} B ({} units in the last step; {})",
                    unit.name,
                    g.objects_per_unit(),
                    thousands(g.bytes_per_unit().round() as u64),
                    thousands(unit.count),
                    if unit.inferred { "inferred, --unit CLASS to choose" } else { "--unit" }
                )?;
            }
            None => writeln!(
                out,
                "growth: none (no structure gained {} or more objects holding 5 % of the new bytes)",
                self.min_objects
            )?,
        }
        match &self.timing.step_ms {
            Some(_) => writeln!(out, "time: {}", self.timing.source)?,
            None => writeln!(
                out,
                "time: GUESSED, {} a step (give --interval or --rate; needed to repeat the growth)",
                seconds(GUESSED_STEP_MS)
            )?,
        }
        let g = &self.garbage;
        match &g.source {
            GarbageSource::Guessed => writeln!(
                out,
                "garbage: GUESSED (no --gc-log): {:.0} KB/s of {} B objects, dying young",
                g.young_base, g.object_size
            )?,
            GarbageSource::Log { collections, from_ms, to_ms } => writeln!(
                out,
                "garbage: fitted to {collections} collections of the GC log ({:.1} s to {:.1} s): young {:.0} KB/s + \
                 {:.3} KB/s per unit, old generation {:.0} KB/s + {:.3} KB/s per unit, {} B objects",
                from_ms / 1000.0,
                to_ms / 1000.0,
                g.young_base,
                g.young_per_unit,
                g.old_base,
                g.old_per_unit,
                g.object_size
            )?,
        }
        Ok(())
    }
}

pub use visualizer::units::format_count as thousands;

impl Artefacts {
    /// The files read, as [`Output::check_distinct`] takes them: no output may replace one.
    pub fn inputs(&self) -> Vec<(&Path, &str)> {
        let snapshots = self.snapshots.iter().map(|p| (p.as_path(), "one of the snapshots"));
        let logs = self.gc_log.iter().map(|p| (p.as_path(), "a --gc-log log"));
        let timeline = self.timeline.iter().map(|p| (p.as_path(), "the --timeline"));
        snapshots.chain(logs).chain(timeline).collect()
    }

    /// [`prepare`](Self::prepare), its error printed: `Err` is the exit code (unreadable input).
    pub fn prepare_or_report(&self) -> Result<Prepared, ExitCode> {
        self.prepare().map_err(|message| {
            eprintln!("gc-sim: {message}");
            ExitCode::from(EXIT_INVALID)
        })
    }

    /// Reads the snapshots (and the log) and prepares the synthesis.
    pub fn prepare(&self) -> Result<Prepared, String> {
        let mut graphs = Vec::with_capacity(self.snapshots.len());
        for path in &self.snapshots {
            let raw = read_snapshot_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
            graphs.push(HeapGraph::new(raw));
        }
        let timeline = match &self.timeline {
            Some(path) => {
                Some(HeapGraph::new(read_snapshot_file(path).map_err(|e| format!("{}: {e}", path.display()))?))
            }
            None => None,
        };
        let refs: Vec<&HeapGraph> = graphs.iter().collect();
        let options = Options { unit: self.unit.clone(), min_objects: self.min_objects };
        let synthesis = Synthesis::new(&refs, timeline.as_ref(), &options).map_err(|e| format!("--unit: {e}"))?;
        let paths: Vec<&Path> = self.snapshots.iter().map(PathBuf::as_path).collect();
        let timing = Timing::new(&synthesis, &paths, self.interval, self.rate.map(|r| r / 1000.0));
        let events = if self.gc_log.is_empty() {
            None
        } else {
            Some(crate::log::read_logs(&self.gc_log, true, usize::MAX)?.1.unwrap_or_default())
        };
        let last_step_ms = timing.step_ms.as_ref().and_then(|v| v.last().copied()).or(Some(GUESSED_STEP_MS));
        let garbage = GarbageModel::for_synthesis(
            &synthesis.steps,
            &synthesis.growth,
            events.as_deref(),
            last_step_ms,
            timing.units_per_ms,
            self.garbage_object_size,
        )
        .ok_or_else(|| {
            format!(
                "--gc-log {}: fewer than two collections with times and sizes to fit the garbage to",
                self.gc_log.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        })?;
        let names = self.snapshots.iter().map(|p| snapshot_name(p)).collect();
        let first = graphs.swap_remove(0);
        Ok(Prepared { first, synthesis, timing, garbage, names, min_objects: self.min_objects })
    }
}

/// A snapshot's name without its folder and extensions.
pub fn snapshot_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".zst")).unwrap_or(&name).to_owned();
    name.strip_suffix(".heapsnapshot").or_else(|| name.strip_suffix(".heaptimeline")).unwrap_or(&name).to_owned()
}

/// Options of `gc-sim synthesize`.
#[derive(Args, Debug)]
pub struct SynthesizeArgs {
    #[command(flatten)]
    artefacts: Artefacts,
    /// The trace to write (NDJSON; `.gz` or `.zst` compresses it).
    #[arg(short, long, value_name = "TRACE.ndjson")]
    output: PathBuf,
    /// Repeat the measured growth this many times after the snapshots.
    #[arg(long, value_name = "N", conflicts_with = "until_oom")]
    repeat_growth: Option<u64>,
    /// Repeat the growth until the simulated program dies under the heap flags (or lives --horizon).
    #[arg(long)]
    until_oom: bool,
    /// With --until-oom: the longest simulated time (`24h` by default).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, requires = "until_oom")]
    horizon: Option<f64>,
    #[command(flatten)]
    heap: HeapFlags,
}

/// The trace file, compressed or not.
enum Out {
    Plain(BufWriter<File>),
    Compressed(Encoder<BufWriter<File>>),
}

impl Out {
    /// Ends the stream and flushes it to the file.
    fn finish(self) -> io::Result<()> {
        match self {
            Out::Plain(mut w) => w.flush(),
            Out::Compressed(w) => w.finish()?.flush(),
        }
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Plain(w) => w.write(buf),
            Out::Compressed(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Plain(w) => w.flush(),
            Out::Compressed(w) => w.flush(),
        }
    }
}

/// Writes events as NDJSON lines.
struct TraceWriter<W: Write> {
    out: W,
}

impl<W: Write> EventSink for TraceWriter<W> {
    type Error = io::Error;

    fn event(&mut self, event: TraceEvent<'_>) -> io::Result<Flow> {
        serde_json::to_writer(&mut self.out, &event).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        Ok(Flow::Continue)
    }
}

/// A replay and a writer: every event is applied, then written (the one the program died of too).
struct Tee<W: Write> {
    replay: Replay,
    writer: TraceWriter<W>,
}

/// A failure of the tee.
enum TeeError {
    Io(io::Error),
    Replay(Problem),
}

impl<W: Write> EventSink for Tee<W> {
    type Error = TeeError;

    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, TeeError> {
        let dead_before = self.replay.heap().out_of_memory().is_some();
        let flow = self.replay.apply(event.clone()).map_err(TeeError::Replay)?;
        if !dead_before {
            self.writer.event(event).map_err(TeeError::Io)?;
        }
        Ok(flow)
    }

    fn now_ms(&self) -> Option<f64> {
        self.replay.now_ms()
    }
}

/// A path for the header's `initial_snapshot`: relative to the trace's directory when the snapshot is below it,
/// else absolute.
fn header_path(snapshot: &Path, trace: &Path) -> String {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let snapshot = absolute(snapshot);
    let dir = trace.parent().filter(|d| !d.as_os_str().is_empty()).map_or_else(|| absolute(Path::new(".")), absolute);
    match snapshot.strip_prefix(&dir) {
        Ok(relative) => relative.display().to_string(),
        Err(_) => snapshot.display().to_string(),
    }
}

/// Runs `gc-sim synthesize`.
pub fn synthesize(args: SynthesizeArgs) -> ExitCode {
    let checked = args.heap.check().and_then(|()| Output::check("--output", &args.output));
    let output = match checked {
        Ok(output) => output,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Err(message) = Output::check_distinct(&[&output], &args.artefacts.inputs()) {
        eprintln!("gc-sim: {message}");
        return ExitCode::from(EXIT_USAGE);
    }
    let prepared = match args.artefacts.prepare_or_report() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let repeat = if args.until_oom {
        Repeat::UntilStopped { horizon_ms: args.horizon.unwrap_or(DEFAULT_HORIZON_MS) }
    } else {
        Repeat::Times(args.repeat_growth.unwrap_or(0))
    };
    let plan = match prepared.plan(repeat, false) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut config = HeapConfig::default();
    if let Err(message) = args.heap.apply_to_trace(&mut config) {
        eprintln!("gc-sim: {message}");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut stdout = io::stdout().lock();
    let _ = prepared.describe(&mut stdout);
    match write_trace(&args, &output, &prepared, &plan, config) {
        Ok((emitted, died)) => {
            let _ = writeln!(
                stdout,
                "wrote {}: {} events, {:.1} s of the program, {:.0} units of growth{}",
                output.path().display(),
                thousands(emitted.events),
                emitted.ticks_ms / 1000.0,
                emitted.units,
                match &died {
                    Some(message) => format!("; the program dies: {message}"),
                    None => String::new(),
                }
            );
            let _ = stdout.flush();
            if died.is_some() {
                ExitCode::from(EXIT_OUT_OF_MEMORY)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("gc-sim: {message}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// Writes the trace; with `--until-oom` replays it as it goes. Returns what was emitted and the death, if any.
fn write_trace(
    args: &SynthesizeArgs,
    output: &Output,
    prepared: &Prepared,
    plan: &Plan,
    config: HeapConfig,
) -> Result<(gc_sim::synthesis::synthesizer::Emitted, Option<String>), String> {
    let name = format!("synthesized: {}", prepared.names.join(" -> "));
    let mut header = TraceHeader::new(name, config);
    header.initial_snapshot = Some(header_path(&args.artefacts.snapshots[0], output.path()));
    let path = output.path();
    let file = File::create(path).map_err(|e| format!("--output {}: {e}", path.display()))?;
    let out = match Compression::from_path(path) {
        Some(compression) => Out::Compressed(Encoder::new(compression, BufWriter::new(file))),
        None => Out::Plain(BufWriter::new(file)),
    };
    let mut writer = TraceWriter { out };
    let io_error = |e: io::Error| format!("--output {}: {e}", path.display());
    serde_json::to_writer(&mut writer.out, &header).map_err(|e| io_error(io::Error::other(e)))?;
    writer.out.write_all(b"\n").map_err(io_error)?;
    let (emitted, died, writer) = if args.until_oom {
        let mut replay =
            Replay::from_header(&header, |_| Ok(())).map_err(|p| format!("the heap flags: {}", p.message))?;
        import_into_replay(&prepared.first, &mut replay)
            .map_err(|e| format!("{}: {e}", args.artefacts.snapshots[0].display()))?;
        let mut tee = Tee { replay, writer };
        let emitted = match prepared.synthesis.emit(plan, &mut tee) {
            Ok(emitted) => emitted,
            Err(TeeError::Io(e)) => return Err(io_error(e)),
            Err(TeeError::Replay(p)) => return Err(format!("the synthesized trace does not replay: {p}")),
        };
        let died = tee.replay.heap().out_of_memory().map(|oom| oom.to_string());
        (emitted, died, tee.writer)
    } else {
        let emitted = prepared.synthesis.emit(plan, &mut writer).map_err(io_error)?;
        (emitted, None, writer)
    };
    writer.out.finish().map_err(io_error)?;
    Ok((emitted, died))
}
