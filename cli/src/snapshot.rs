//! `gc-sim snapshot`: read real V8 heap snapshots (`.heapsnapshot`, `.heaptimeline`, gzip-compressed or not) and
//! print the heap by constructor, the top retainers, V8 heap vs native totals, a retaining path (`--why`), and with
//! two or three files the leak diff. docs/heap-snapshots.md explains every figure.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use gc_sim::snapshot::diff::{diff, DEFAULT_MIN_OBJECTS, MIN_SHARE};
use gc_sim::snapshot::summary::{self, SnapshotReport};
use gc_sim::snapshot::{read_snapshot_file, HeapGraph};
use indicatif::{HumanBytes, HumanCount};
use visualizer::ImageFormat;

use crate::output::Output;

/// Exit code of an unreadable or invalid snapshot, or an I/O error.
const EXIT_INVALID: u8 = 1;
/// Exit code of a usage error (as clap's).
const EXIT_USAGE: u8 = 2;

/// Options of `gc-sim snapshot`.
#[derive(Args, Debug)]
pub struct SnapshotArgs {
    /// The snapshot; with two or three, the leak diff of a baseline, a target and a final snapshot of one process
    /// (as memlab takes them). `.gz` is recognised by its content.
    #[arg(required = true, num_args = 1..=3, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write the JSON report here (docs/report-format.md#heap-snapshot-reports).
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Explain why something is alive: `@ID` (a snapshot id, as DevTools shows it) or a constructor or node name;
    /// prints its shortest retaining path from a root (in the last snapshot).
    #[arg(long, value_name = "NAME_OR_@ID")]
    why: Option<String>,
    /// Draw the retained bytes by constructor (`.png` or `.svg`), of the last snapshot.
    #[arg(long, value_name = "FILE.png")]
    plot: Option<PathBuf>,
    /// How many constructors and top retainers to print (the report has every constructor and N retainers).
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// With two or three snapshots: the fewest new objects under one holder to report it as a suspected leak.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MIN_OBJECTS)]
    min_objects: u64,
}

/// Runs the command.
pub fn snapshot(args: SnapshotArgs) -> ExitCode {
    let report_out = match args.report.as_deref().map(|p| Output::check("--report", p)).transpose() {
        Ok(o) => o,
        Err(message) => return usage(&message),
    };
    let plot_out = match args.plot.as_deref().map(|p| Output::check_image("--plot", p)).transpose() {
        Ok(o) => o,
        Err(message) => return usage(&message),
    };
    // An output must not replace a snapshot it is made from, nor the other output.
    let inputs: Vec<PathBuf> = args.files.iter().filter_map(|f| std::fs::canonicalize(f).ok()).collect();
    let outputs = [report_out.as_ref(), plot_out.as_ref().map(|(o, _)| o)];
    let identities: Vec<(PathBuf, String)> = outputs
        .iter()
        .flatten()
        .filter_map(|o| o.identity().map(|i| (i, format!("{} {}", o.flag(), o.path().display()))))
        .collect();
    for (i, (identity, named)) in identities.iter().enumerate() {
        if inputs.contains(identity) {
            return usage(&format!("{named}: is a snapshot being read; writing there would replace it"));
        }
        if identities[..i].iter().any(|(other, _)| other == identity) {
            return usage(&format!("{named}: is the same file as another output; give each output its own file"));
        }
    }

    let mut graphs = Vec::with_capacity(args.files.len());
    for path in &args.files {
        match read_snapshot_file(path) {
            Ok(raw) => graphs.push(HeapGraph::new(raw)),
            Err(e) => {
                eprintln!("gc-sim: {}: {e}", path.display());
                return ExitCode::from(EXIT_INVALID);
            }
        }
    }
    let last = graphs.last().expect("at least one file");
    let names: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
    let mut report = SnapshotReport::new(names, last, args.top);
    if let Some(query) = &args.why {
        report.why = Some(summary::why(last, query));
    }
    if graphs.len() > 1 {
        let refs: Vec<&HeapGraph> = graphs.iter().collect();
        let (d, leaks) = diff(&refs, args.min_objects);
        report.diff = Some(d);
        report.suspected_leaks = leaks;
    }

    let mut failed = Vec::new();
    if let Some(output) = &report_out {
        failed.extend(output.write_json(&report).err());
    }
    if let Some((output, format)) = &plot_out {
        failed.extend(plot(&report, output, *format).err());
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if let Err(e) = print(&mut out, &report, args.top, args.min_objects) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("gc-sim: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    }
    if !failed.is_empty() {
        for message in failed {
            eprintln!("gc-sim: {message}");
        }
        return ExitCode::from(EXIT_INVALID);
    }
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!("gc-sim: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn plot(report: &SnapshotReport, output: &Output, format: ImageFormat) -> Result<(), String> {
    let file = report.files.last().map(String::as_str).unwrap_or("");
    let name = std::path::Path::new(file).file_name().map_or(file.into(), |n| n.to_string_lossy());
    let s = &report.summary;
    let title = format!("Retained bytes by constructor: {name}");
    let subtitle = format!(
        "{} nodes · V8 heap {} · native {} · as DevTools' Summary: a class's retained bytes count each object once",
        HumanCount(s.nodes),
        HumanBytes(s.heap_bytes),
        HumanBytes(s.native_bytes)
    );
    let bytes = visualizer::snapshot_chart(&report.constructors, &title, &subtitle, format, Default::default())
        .map_err(|e| format!("cannot draw {}: {e}", output.path().display()))?;
    output.write(|out| out.write_all(&bytes))
}

/// The text summary.
fn print(out: &mut impl Write, r: &SnapshotReport, top: usize, min_objects: u64) -> io::Result<()> {
    let s = &r.summary;
    writeln!(out, "gc-sim snapshot: {}", r.files.last().map(String::as_str).unwrap_or(""))?;
    writeln!(out, "  nodes        {} ({} edges)", HumanCount(s.nodes), HumanCount(s.edges))?;
    writeln!(
        out,
        "  V8 heap      {} in {} objects (self sizes; what heapUsed counts)",
        HumanBytes(s.heap_bytes),
        HumanCount(s.heap_nodes)
    )?;
    writeln!(out, "  native       {} (embedder objects and off-heap memory)", HumanBytes(s.native_bytes))?;
    if s.unreachable_nodes > 0 {
        writeln!(out, "  unreachable  {} nodes (only weak edges lead there)", HumanCount(s.unreachable_nodes))?;
    }
    writeln!(out)?;
    writeln!(out, "  {:<40} {:>9} {:>12} {:>12}", "constructor", "count", "self", "retained")?;
    for c in r.constructors.iter().take(top) {
        writeln!(
            out,
            "  {:<40} {:>9} {:>12} {:>12}",
            ellipsis(&c.name, 40),
            HumanCount(c.count).to_string(),
            HumanBytes(c.self_bytes).to_string(),
            HumanBytes(c.retained_bytes).to_string()
        )?;
    }
    if r.constructors.len() > top {
        writeln!(out, "  ... {} constructors in all", r.constructors.len())?;
    }
    writeln!(out)?;
    writeln!(out, "  {:<40} {:>12} {:>12} {:>12}", "top retainers", "id", "self", "retained")?;
    for t in r.top_retainers.iter().take(top) {
        writeln!(
            out,
            "  {:<40} {:>12} {:>12} {:>12}",
            ellipsis(&t.name, 40),
            format!("@{}", t.id),
            HumanBytes(t.self_bytes).to_string(),
            HumanBytes(t.retained_bytes).to_string()
        )?;
    }
    if let Some(d) = &r.diff {
        writeln!(out)?;
        let steps: Vec<String> = d.nodes.iter().map(|n| HumanCount(*n).to_string()).collect();
        let heaps: Vec<String> = d.heap_bytes.iter().map(|b| HumanBytes(*b).to_string()).collect();
        writeln!(
            out,
            "diff of {} snapshots: {} nodes, V8 heap {}",
            d.nodes.len(),
            steps.join(" -> "),
            heaps.join(" -> ")
        )?;
        let kept =
            if d.nodes.len() == 3 { "alive in the target and the final snapshot" } else { "alive in the target" };
        writeln!(
            out,
            "  new          {} objects, {} (allocated after the baseline, {kept}); {} baseline objects freed",
            HumanCount(d.new_objects),
            HumanBytes(d.new_bytes),
            HumanCount(d.freed_objects)
        )?;
        if d.nodes.len() == 3 {
            writeln!(
                out,
                "  then         {} objects, {} more (allocated after the target, alive in the final snapshot)",
                HumanCount(d.new_in_final_objects),
                HumanBytes(d.new_in_final_bytes)
            )?;
        }
        for c in d.constructors.iter().take(top.min(10)) {
            writeln!(
                out,
                "    {:<38} {:>9} {:>12}",
                ellipsis(&c.name, 38),
                HumanCount(c.count).to_string(),
                HumanBytes(c.bytes).to_string()
            )?;
        }
        writeln!(out)?;
        if r.suspected_leaks.is_empty() {
            let still = if d.nodes.len() == 3 { ", and grew again up to the final snapshot" } else { "" };
            writeln!(
                out,
                "suspected leaks: none (no holder gained {min_objects} new objects or more and {:.0} % of the new \
                 bytes{still})",
                MIN_SHARE * 100.0
            )?;
        }
        for (i, l) in r.suspected_leaks.iter().enumerate() {
            let growth: Vec<String> = l
                .growth_objects
                .iter()
                .zip(&l.growth_bytes)
                .map(|(n, b)| format!("+{} objects (+{})", HumanCount(*n), HumanBytes(*b)))
                .collect();
            writeln!(
                out,
                "suspected leak {}: {} objects, {} held by {}@{}",
                i + 1,
                HumanCount(l.count),
                HumanBytes(l.bytes),
                l.holder,
                l.holder_id
            )?;
            writeln!(out, "  structure    {}", l.description)?;
            writeln!(out, "  growth       {}", growth.join(", then "))?;
            writeln!(out, "  path         {}", l.holder_path)?;
            let classes: Vec<String> =
                l.constructors.iter().take(6).map(|c| format!("{} x{}", c.name, HumanCount(c.count))).collect();
            writeln!(out, "  holds        {}", classes.join(", "))?;
        }
    }
    if let Some(w) = &r.why {
        writeln!(out)?;
        match (&w.path, w.id) {
            (Some(path), Some(id)) => {
                writeln!(
                    out,
                    "why {} (@{id}, retains {}, {} match):",
                    w.query,
                    HumanBytes(w.retained_bytes.unwrap_or(0)),
                    HumanCount(w.matched)
                )?;
                writeln!(out, "  {path}")?;
            }
            (None, Some(id)) => {
                writeln!(out, "why {}: @{id} is reached by no retaining edge (only weak ones)", w.query)?
            }
            _ => writeln!(out, "why {}: no node has that id, constructor or name", w.query)?,
        }
    }
    Ok(())
}

fn ellipsis(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        s.chars().take(width - 1).collect::<String>() + "…"
    }
}
