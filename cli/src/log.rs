//! `gc-sim log`: read real Node GC logs (`--trace-gc`, `--trace-gc-nvp`, the OOM text on stderr) and print a
//! summary of them. docs/gc-log.md explains the formats and every figure.

use std::fs::File;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use visualizer::ImageFormat;

use crate::output::Output;
use gc_sim::gc_log::{LogEvent, LogReader, LogReport, LogSummary, Record, STORM_MAX_MU, STORM_MIN_FULL_GCS};
use indicatif::{HumanBytes, HumanCount};

/// Exit code of an I/O error, or of inputs with no GC line at all.
const EXIT_INVALID: u8 = 1;
/// Exit code of a usage error (as clap's).
const EXIT_USAGE: u8 = 2;
/// How many storms the summary lists.
const STORMS_LISTED: usize = 5;

/// Options of `gc-sim log`.
#[derive(Args, Debug)]
pub struct LogArgs {
    /// The logs of one run: stdout and stderr as two files, or one combined log (`2>&1`); `.gz` files are
    /// decompressed; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The run's `--max-old-space-size`, in MB, to compare the heap at death with (a log does not print it).
    #[arg(long, value_name = "MB")]
    max_old_space_size: Option<f64>,
    /// Write the JSON report here: the fields of `gc-sim run`'s report where they mean the same thing, with
    /// `"source": "node-gc-log"` (docs/gc-log.md#the-json-report).
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// With `--report`: keep at most this many collections in its `events` (the rest are counted in
    /// `events_omitted`; the summary still covers all).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    max_events: usize,
    /// Draw the heap before and after each GC over time, collections and the death marked (`.png` or `.svg`).
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
    /// Draw the GC pauses over time by collector (`.png` or `.svg`).
    #[arg(long, value_name = "FILE.png")]
    plot_pauses: Option<PathBuf>,
    /// Print at most this many warnings (unreadable GC lines) on standard error.
    #[arg(long, value_name = "N", default_value_t = 10)]
    warnings: usize,
}

/// The output files of `gc-sim log`, checked before any log is read.
struct Outputs {
    report: Option<Output>,
    plot: Option<(Output, ImageFormat)>,
    plot_pauses: Option<(Output, ImageFormat)>,
}

impl Outputs {
    fn check(args: &LogArgs) -> Result<Outputs, String> {
        let image = |flag, path: &Option<PathBuf>| path.as_deref().map(|p| Output::check_image(flag, p)).transpose();
        let outputs = Outputs {
            report: args.report.as_deref().map(|p| Output::check("--report", p)).transpose()?,
            plot: image("--plot", &args.plot)?,
            plot_pauses: image("--plot-pauses", &args.plot_pauses)?,
        };
        // An output must not replace a log it is made from, nor another output.
        let inputs: Vec<PathBuf> =
            args.files.iter().filter(|f| f.as_os_str() != "-").filter_map(|f| std::fs::canonicalize(f).ok()).collect();
        let images = [&outputs.plot, &outputs.plot_pauses].map(|o| o.as_ref().map(|(o, _)| o));
        let mut seen: Vec<(PathBuf, &'static str)> = Vec::new();
        for output in [outputs.report.as_ref()].into_iter().chain(images).flatten() {
            let Some(identity) = output.identity() else { continue };
            let named = format!("{} {}", output.flag(), output.path().display());
            if inputs.contains(&identity) {
                return Err(format!("{named}: is a log being read; writing there would replace it"));
            }
            if let Some((_, other)) = seen.iter().find(|(seen, _)| *seen == identity) {
                return Err(format!("{named}: is the same file as {other}; give each output its own file"));
            }
            seen.push((identity, output.flag()));
        }
        Ok(outputs)
    }

    fn any(&self) -> bool {
        self.report.is_some() || self.plot.is_some() || self.plot_pauses.is_some()
    }

    /// Writes every output; returns the messages of those that failed (the others are still written).
    fn write(&self, report: &LogReport) -> Vec<String> {
        let chart = |bytes: Result<Vec<u8>, visualizer::VisualizerError>, output: &Output| {
            let bytes = bytes.map_err(|e| format!("cannot draw {}: {e}", output.path().display()))?;
            output.write(|out| out.write_all(&bytes))
        };
        let size = visualizer::ChartSize::default();
        let mut failed = Vec::new();
        if let Some(output) = &self.report {
            failed.extend(output.write_json(report).err());
        }
        if let Some((output, format)) = &self.plot {
            failed.extend(chart(visualizer::log_heap_chart(report, *format, size), output).err());
        }
        if let Some((output, format)) = &self.plot_pauses {
            failed.extend(chart(visualizer::log_pause_chart(report, *format, size), output).err());
        }
        failed
    }
}

/// Reads `files` (one run's logs) into a summary, and keeps up to `max_events` collections when `events` is set.
pub fn read_logs(
    files: &[PathBuf],
    keep_events: bool,
    max_events: usize,
) -> Result<(LogSummary, Option<Vec<LogEvent>>), String> {
    let mut summary = LogSummary::default();
    let mut events = keep_events.then(Vec::new);
    let mut number = 0;
    for path in files {
        read_one(path, &mut summary, events.as_mut(), max_events, &mut number)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok((summary, events))
}

/// Runs the command.
pub fn log(args: LogArgs) -> ExitCode {
    if let Some(mb) = args.max_old_space_size.filter(|mb| !(mb.is_finite() && *mb > 0.0)) {
        eprintln!("gc-sim: --max-old-space-size must be a positive number of MB, not {mb}");
        return ExitCode::from(EXIT_USAGE);
    }
    // Output paths that cannot be written are usage errors, found before reading the logs.
    let outputs = match Outputs::check(&args) {
        Ok(outputs) => outputs,
        Err(message) => {
            eprintln!("gc-sim: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let (summary, events) = match read_logs(&args.files, outputs.any(), args.max_events) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("gc-sim: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let mut failed_outputs = Vec::new();
    if let Some(events) = events {
        let report = LogReport::new(&summary, events, args.max_old_space_size);
        failed_outputs = outputs.write(&report);
    }
    for w in summary.warnings.iter().take(args.warnings) {
        eprintln!("gc-sim: warning: {w}");
    }
    if summary.lines.warnings > args.warnings as u64 {
        eprintln!("gc-sim: ... {} warnings in all", summary.lines.warnings);
    }
    let found = summary.collections() > 0 || summary.ring_entries > 0 || summary.death.is_some();
    let out = io::stdout();
    let mut out = out.lock();
    if let Err(e) = print(&mut out, &summary, args.max_old_space_size) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("gc-sim: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    }
    if !failed_outputs.is_empty() {
        for message in &failed_outputs {
            eprintln!("gc-sim: {message}");
        }
        return ExitCode::from(EXIT_INVALID);
    }
    if !found {
        eprintln!(
            "gc-sim: no GC line, ring buffer or FATAL ERROR in {} (run Node with --trace-gc or --trace-gc-nvp)",
            summary.sources.join(", ")
        );
        return ExitCode::from(EXIT_INVALID);
    }
    ExitCode::SUCCESS
}

/// Opens `path` (`-` for standard input), decompressed if it is a gzip or zstd stream (recognised by its first
/// bytes, whatever its name).
fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let raw: Box<dyn io::Read> =
        if path == Path::new("-") { Box::new(io::stdin().lock()) } else { Box::new(File::open(path)?) };
    gc_sim::compressed::open(raw)
}

fn read_one(
    path: &Path,
    summary: &mut LogSummary,
    mut events: Option<&mut Vec<LogEvent>>,
    max_events: usize,
    number: &mut u64,
) -> io::Result<()> {
    let name = if path == Path::new("-") { "<stdin>".to_owned() } else { path.display().to_string() };
    let mut reader = LogReader::new(open(path)?, name);
    while let Some(record) = reader.next_record()? {
        if let (Record::Gc(gc), Some(events)) = (&record, events.as_deref_mut()) {
            *number += 1;
            if events.len() < max_events {
                events.push(LogEvent::new(*number, gc));
            }
        }
        summary.add(&record);
    }
    summary.finish(&reader);
    Ok(())
}

fn mb(v: Option<f64>) -> String {
    v.map_or_else(|| "?".to_owned(), |v| format!("{v:.1} MB"))
}

fn secs(ms: f64) -> String {
    if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Prints the summary.
pub fn print(out: &mut impl Write, s: &LogSummary, limit_mb: Option<f64>) -> io::Result<()> {
    let l = &s.lines;
    let kind = match (l.trace_gc_lines > 0, l.nvp_lines > 0) {
        (true, true) => "--trace-gc and --trace-gc-nvp",
        (true, false) => "--trace-gc",
        (false, true) => "--trace-gc-nvp",
        (false, false) => "no GC lines",
    };
    writeln!(out, "gc-sim log: {} ({kind})", s.sources.join(" + "))?;
    writeln!(
        out,
        "  lines        {} read: {} GC, {} verbose, {} OOM text, {} of the program skipped, {} other V8, {} unreadable",
        HumanCount(l.lines),
        HumanCount(l.trace_gc_lines + l.nvp_lines),
        HumanCount(l.verbose_lines),
        HumanCount(l.oom_lines),
        HumanCount(l.program_lines),
        HumanCount(l.other_v8_lines),
        HumanCount(l.malformed_gc_lines),
    )?;
    if s.collections() > 0 {
        let elapsed = s.elapsed_ms();
        writeln!(
            out,
            "  span         {} collections up to {}",
            HumanCount(s.collections()),
            elapsed.map_or("?".into(), secs)
        )?;
        if s.isolates.len() > 1 || s.restarts > 0 {
            writeln!(
                out,
                "  NOTE         {} isolates ({} restarts): the figures below add them together",
                s.isolates.len(),
                s.restarts
            )?;
        }
        let mut types = vec![format!("{} scavenges ({:.1} ms)", s.scavenges, s.young_pauses.total_ms)];
        if s.minor_mark_sweeps > 0 {
            types.push(format!("{} minor mark-sweeps", s.minor_mark_sweeps));
        }
        types.push(format!(
            "{} mark-compacts ({:.1} ms, {} of them (reduce))",
            s.mark_compacts, s.full_pauses.total_ms, s.reduce_mark_compacts
        ));
        writeln!(out, "  collections  {}; {} caused by tools", types.join(", "), s.tool_induced)?;
        writeln!(out, "  {:<50}{:>8}{:>8}{:>12}", "by reason", "young", "full", "pause ms")?;
        let mut reasons: Vec<_> = s.by_reason.iter().collect();
        reasons.sort_by(|a, b| (b.1.young + b.1.full).cmp(&(a.1.young + a.1.full)).then(a.0.cmp(b.0)));
        for (reason, c) in reasons {
            let tool = if gc_sim::gc_log::is_tool_reason(reason) { " (tool)" } else { "" };
            writeln!(out, "    {:<48}{:>8}{:>8}{:>12.1}", format!("{reason}{tool}"), c.young, c.full, c.pause_ms)?;
        }
        writeln!(
            out,
            "  {:<16}{:>8}{:>10}{:>9}{:>9}{:>9}{:>9}{:>9}",
            "pauses (ms)", "count", "total", "mean", "p50", "p95", "p99", "max"
        )?;
        for (name, p) in [("all", &s.pauses), ("young", &s.young_pauses), ("mark-compact", &s.full_pauses)] {
            if p.count == 0 {
                continue;
            }
            writeln!(
                out,
                "    {name:<14}{:>8}{:>10.1}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}",
                p.count,
                p.total_ms,
                p.mean_ms(),
                p.percentile_ms(50.0),
                p.percentile_ms(95.0),
                p.percentile_ms(99.0),
                p.max_ms
            )?;
        }
        if s.incremental_mark_compacts > 0 {
            writeln!(
                out,
                "  incremental  {:.1} ms of marking in {} steps before {} of the mark-compacts (not in the pauses above)",
                s.incremental_ms,
                HumanCount(s.incremental_steps),
                s.incremental_mark_compacts
            )?;
        }
        if let Some(mu) = s.mutator_utilization() {
            let v8 = match (s.last_average_mu, s.min_current_mu) {
                (Some(a), Some(c)) => format!("; V8's last average mu {a:.3}, lowest current mu {c:.3}"),
                (None, Some(c)) => format!("; lowest current mu {c:.3}"),
                _ => String::new(),
            };
            writeln!(out, "  mutator      {:.1} % of the time outside pauses and incremental marking{v8}", 100.0 * mu)?;
        }
        writeln!(
            out,
            "  heap         {} before the first GC, {} at most before a GC, {} after the last (committed {}, at most {})",
            mb(s.first_before_mb),
            mb(s.max_before_mb),
            mb(s.last_after_mb),
            mb(s.last_committed_mb),
            mb(s.max_committed_mb)
        )?;
        if s.mark_compacts > 0 {
            writeln!(
                out,
                "  after full   {} after the first mark-compact, {} after the last (the live set's growth)",
                mb(s.first_full_after_mb),
                mb(s.last_full_after_mb)
            )?;
        }
        if s.nvp_gcs > 0 {
            let rate = |b: Option<u64>| match (b, s.elapsed_ms()) {
                (Some(b), Some(e)) => format!("{} ({}/s)", HumanBytes(b), HumanBytes((b as f64 / (e / 1000.0)) as u64)),
                (Some(b), None) => HumanBytes(b).to_string(),
                (None, _) => "?".into(),
            };
            writeln!(
                out,
                "  nvp          allocated {}, promoted {}, survived in the young generation {}",
                rate(s.allocated_bytes),
                rate(s.promoted_bytes),
                rate(s.survived_bytes)
            )?;
        }
        if s.storms.is_empty() {
            writeln!(
                out,
                "  storms       none ({STORM_MIN_FULL_GCS}+ mark-compacts in a row, each with current mu < {STORM_MAX_MU})"
            )?;
        } else {
            writeln!(
                out,
                "  storms       {} ({STORM_MIN_FULL_GCS}+ mark-compacts in a row, each with current mu < {STORM_MAX_MU}):",
                s.storms.len()
            )?;
            let longest = s.storms.iter().max_by_key(|st| st.full_gcs).expect("not empty");
            let in_storms: f64 = s.storms.iter().map(|st| st.gc_ms).sum();
            writeln!(out, "    {:.0} ms of GC in storms; the longest and the last {STORMS_LISTED}:", in_storms)?;
            let last = s.storms.len().saturating_sub(STORMS_LISTED);
            let listed =
                std::iter::once(longest).chain(s.storms[last..].iter().filter(|st| !std::ptr::eq(*st, longest)));
            for st in listed {
                writeln!(
                    out,
                    "    {} .. {}: {} mark-compacts, {:.0} ms in GC, mu down to {:.3}, heap after {} -> {}, {} freed per GC",
                    secs(st.start_ms),
                    secs(st.end_ms),
                    st.full_gcs,
                    st.gc_ms,
                    st.min_mu,
                    mb(st.first_after_mb),
                    mb(st.last_after_mb),
                    mb(st.mean_freed_mb)
                )?;
            }
        }
    }
    if !s.spaces.is_empty() {
        writeln!(out, "  {:<30}{:>12}{:>12}{:>12}", "spaces (verbose, last GC)", "used", "available", "committed")?;
        for sp in &s.spaces {
            let committed = sp.committed_kb.map_or("".to_owned(), |c| format!("{c} KB"));
            writeln!(
                out,
                "    {:<28}{:>12}{:>12}{:>12}",
                sp.space,
                format!("{} KB", sp.used_kb),
                format!("{} KB", sp.available_kb),
                committed
            )?;
        }
    }
    if s.ring_entries > 0 {
        writeln!(
            out,
            "  last GCs     {} entries in the OOM ring buffer ({} cut at 255 bytes):",
            s.ring_entries, s.ring_truncated
        )?;
        for g in &s.ring {
            let mu = g.current_mu.map_or(String::new(), |m| format!(", current mu {m:.3}"));
            let reason = g.reason.as_deref().map_or(String::new(), |r| format!(", {r}"));
            let cut = if g.truncated { " (cut)" } else { "" };
            writeln!(
                out,
                "    {:>10}  {}{} {} -> {}, {} ms{mu}{reason}{cut}",
                g.time_ms.map_or("?".into(), secs),
                g.collector.name(),
                if g.reduce { " (reduce)" } else { "" },
                mb(g.before_mb),
                mb(g.after_mb),
                g.pause_ms.map_or("?".into(), |p| format!("{p:.2}")),
            )?;
        }
    }
    if let Some(d) = &s.death {
        writeln!(out, "  DEATH        {}: {}", d.location, d.kind.explain())?;
        writeln!(out, "               FATAL ERROR: {}", d.message)?;
        let last = s.last_ring_entry.as_ref();
        let at_ms = s.last_ms.or(last.and_then(|g| g.time_ms));
        let heap = s.last_after_mb.or(last.and_then(|g| g.after_mb));
        let limit = match (heap, limit_mb) {
            (Some(h), Some(l)) => format!(" against --max-old-space-size {l:.0} MB ({:.0} %)", 100.0 * h / l),
            (_, None) => " (limit unknown: pass --max-old-space-size)".to_owned(),
            _ => String::new(),
        };
        writeln!(
            out,
            "               at {}, heap {} after the last GC (all spaces){limit}",
            at_ms.map_or("?".into(), secs),
            mb(heap)
        )?;
        if let Some(first) = s.js_stack.iter().find(|l| !l.starts_with("====") && !l.starts_with("Security context")) {
            writeln!(out, "               JS stack: {first}")?;
        }
    }
    Ok(())
}
