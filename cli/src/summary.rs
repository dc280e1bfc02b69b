//! The human-readable summary printed at the end of `gc-sim run`.

use std::io::{self, Write};

use gc_sim::{Report, SpaceUsage};
use indicatif::{HumanBytes, HumanCount};

/// How many root sets and tags the summary lists.
const TOP_RETAINERS: usize = 5;
/// How many suspected leaks the summary shows with their path.
const LEAK_EXAMPLES: usize = 3;

/// Prints the summary of `report` (read from `source`).
pub fn print(out: &mut impl Write, source: &str, report: &Report) -> io::Result<()> {
    let s = &report.summary;
    let name = if report.name.is_empty() { source } else { &report.name };
    writeln!(out)?;
    writeln!(
        out,
        "gc-sim: {name} ({source}): {} events, {} simulated",
        HumanCount(s.trace_events),
        duration(s.end_ms)
    )?;
    let utilization = if s.end_ms > 0.0 { 100.0 * (1.0 - s.pause_ms / s.end_ms) } else { 100.0 };
    writeln!(
        out,
        "  collections  {} ({:.1} ms), {} ({:.1} ms); longest pause {:.2} ms; \
         {utilization:.1} % of the time in the mutator",
        counted(s.scavenges, "scavenge"),
        s.scavenge_pause_ms,
        counted(s.mark_compacts, "mark-compact"),
        s.mark_compact_pause_ms,
        s.max_pause_ms,
    )?;
    writeln!(
        out,
        "  allocated    {} in {}; {} copied in new space, {} promoted",
        HumanBytes(s.allocated_bytes),
        counted(s.allocated_objects, "object"),
        HumanBytes(s.copied_bytes),
        HumanBytes(s.promoted_bytes),
    )?;
    writeln!(
        out,
        "  live at end  {} in {} ({} in the old generation)",
        HumanBytes(s.live_bytes),
        counted(s.live_objects, "object"),
        HumanBytes(s.live_old_bytes),
    )?;
    writeln!(out, "  {:<24}{:>12}{:>12}{:>12}", "space", "used", "committed", "objects")?;
    let spaces = &report.spaces;
    let rows: [(&str, SpaceUsage); 4] = [
        ("new_space", spaces.new_space),
        ("new_large_object_space", spaces.new_large_object_space),
        ("old_space", spaces.old_space),
        ("large_object_space", spaces.large_object_space),
    ];
    for (space, usage) in rows {
        writeln!(
            out,
            "  {space:<24}{:>12}{:>12}{:>12}",
            HumanBytes(usage.used_bytes).to_string(),
            HumanBytes(usage.committed_bytes).to_string(),
            HumanCount(usage.objects).to_string(),
        )?;
    }
    if !report.retainers.is_empty() {
        writeln!(out, "  largest retainers (bytes only this root keeps alive):")?;
        for r in report.retainers.iter().take(TOP_RETAINERS) {
            writeln!(
                out,
                "    {:<22}{:>12} in {} ({} old), {}",
                r.root,
                HumanBytes(r.retained_bytes).to_string(),
                counted(r.retained_objects, "object"),
                HumanBytes(r.retained_old_bytes),
                counted(r.handles, "handle"),
            )?;
        }
    }
    if !report.tags.is_empty() {
        writeln!(
            out,
            "  largest tags (bytes each tag's objects retain), of {}:",
            HumanCount(report.tags.len() as u64)
        )?;
        for t in report.tags.iter().take(TOP_RETAINERS) {
            let r = &t.retention;
            let promoted = t.promoted.map(|p| format!(", promoted by GC #{}", p.first_gc)).unwrap_or_default();
            let closed = t.closed_at_ms.map(|ms| format!(", closed at {}", duration(ms))).unwrap_or_default();
            writeln!(
                out,
                "    {:<22}{:>12} in {} ({} old), via {}{promoted}{closed}",
                r.tag,
                HumanBytes(r.retained_bytes).to_string(),
                counted(r.retained_objects, "object"),
                HumanBytes(r.retained_old_bytes),
                r.root,
            )?;
        }
    }
    if !report.ages.is_empty() {
        let ages: Vec<String> = report
            .ages
            .iter()
            .map(|b| {
                let mut parts = Vec::new();
                if b.young_objects > 0 {
                    parts.push(format!("{} young ({})", HumanCount(b.young_objects), HumanBytes(b.young_bytes)));
                }
                if b.old_objects > 0 {
                    parts.push(format!("{} old ({})", HumanCount(b.old_objects), HumanBytes(b.old_bytes)));
                }
                format!("{}: {}", b.age, parts.join(" + "))
            })
            .collect();
        writeln!(out, "  live by age (scavenges survived)  {}", ages.join("; "))?;
    }
    if !report.suspected_leaks.is_empty() {
        writeln!(
            out,
            "  SUSPECTED LEAKS: {} still alive, retaining {}",
            counted(s.suspected_leak_tags, "closed tag"),
            HumanBytes(s.suspected_leak_bytes)
        )?;
        for leak in report.suspected_leaks.iter().take(LEAK_EXAMPLES) {
            writeln!(
                out,
                "    {} closed at {}: {}, {} ({} old), retained by {}",
                leak.tag,
                duration(leak.closed_at_ms),
                counted(leak.objects, "object"),
                HumanBytes(leak.bytes),
                HumanBytes(leak.old_bytes),
                gc_sim::analysis::format_path(&leak.root, &leak.path),
            )?;
        }
        if report.suspected_leaks.len() > LEAK_EXAMPLES {
            writeln!(
                out,
                "    ... and {} more (see the report's suspected_leaks)",
                report.suspected_leaks.len() - LEAK_EXAMPLES
            )?;
        }
    }
    if report.why.is_some() {
        print_why(out, report)?;
    }
    if let Some(oom) = &s.oom {
        let at = oom.event.map(|e| format!(", trace event {e}")).unwrap_or_default();
        writeln!(out, "  OUT OF MEMORY at {}{at}: {}", duration(oom.at_ms), oom.message)?;
    }
    Ok(())
}

/// A simulated duration in ms or s.
fn duration(ms: f64) -> String {
    if ms < 10_000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// The `--why` line (printed in the summary, or alone with `--quiet`).
pub fn print_why(out: &mut impl Write, report: &Report) -> io::Result<()> {
    use gc_sim::analysis::WhyMatch;
    let Some(why) = &report.why else { return Ok(()) };
    // An object or a tag is asked about as before; a kind says that it is one.
    let what = match why.matched {
        Some(WhyMatch::Kind) if !why.query.starts_with("kind:") => format!("{} (a kind)", why.query),
        _ => why.query.clone(),
    };
    match (&why.root, why.matched) {
        (Some(root), _) => writeln!(out, "  why is {what} alive?  {}", gc_sim::analysis::format_path(root, &why.path)),
        (None, Some(WhyMatch::Object)) => {
            writeln!(out, "  why is {what} alive?  it is not: the collector freed object {}", why.query)
        }
        (None, Some(matched)) => writeln!(
            out,
            "  why is {what} alive?  it is not: no live object has the {} {}",
            match matched {
                WhyMatch::Label => "tag or kind",
                other => other.name(),
            },
            why.query
        ),
        (None, None) => writeln!(
            out,
            "  why is {what} alive?  nothing is called that: no object id, tag or kind {} in the trace",
            why.query
        ),
    }
}

/// `n` and the word, plural unless `n` is 1: "1 handle", "2 handles", "1,024 objects".
fn counted(n: u64, word: &str) -> String {
    format!("{} {word}{}", HumanCount(n), if n == 1 { "" } else { "s" })
}
