//! The text a Node process prints on stderr when V8 runs out of heap:
//!
//! ```text
//! <--- Last few GCs --->
//! me[9228:0xfe95e80]    91600 ms: Mark-Compact 53.9 (88.2) -> 52.3 (88.2) MB, 3.03 / 0.02 ms  (+ 37.3 ms in ... finalize increme[9228:...
//!
//! <--- JS stacktrace --->
//!
//! FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory
//! ----- Native stack trace -----
//! ```
//!
//! The ring buffer (`Heap::AddToRingBuffer`) holds the last 512 bytes of `--trace-gc` text, each line cut to 255
//! bytes by `GCTracer::Output`, so a cut line loses its newline and runs into the next, and the buffer's oldest
//! bytes start mid-line (`me[9228:...` above). It is printed whether or not `--trace-gc` was on.

use super::line::{find_pid_isolate, parse_trace_gc, prefix, LogGc};

/// Which of V8's out-of-memory deaths the `FATAL ERROR` line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeathKind {
    /// `Reached heap limit`: after a full collection the heap was still above its maximum, and the
    /// near-heap-limit callback (if any) gave no more room (`Heap::CollectGarbage`).
    ReachedHeapLimit,
    /// `Ineffective mark-compacts near heap limit`: several full collections in a row freed almost nothing while
    /// the old generation stayed near its maximum and the program ran less than 40 % of the time
    /// (`Heap::CheckIneffectiveMarkCompact`).
    IneffectiveMarkCompacts,
    /// `CALL_AND_RETRY_LAST` (Node 4-10): an allocation failed even after the last-resort full collections.
    CallAndRetryLast,
    /// `MarkCompactCollector: young object promotion failed`: the old generation had no room for survivors.
    PromotionFailed,
    /// Any other `FATAL ERROR` / `Fatal process out of memory` (`Zone Allocation failed`, `invalid table size`).
    Other,
}

impl DeathKind {
    /// A one-line explanation.
    pub fn explain(self) -> &'static str {
        match self {
            DeathKind::ReachedHeapLimit => {
                "a full GC left the heap above its limit (a sudden allocation, or a heap that filled up)"
            }
            DeathKind::IneffectiveMarkCompacts => {
                "back-to-back full GCs freed almost nothing near the limit (a leak that filled the old generation)"
            }
            DeathKind::CallAndRetryLast => "an allocation failed even after the last-resort full GCs (Node <= 10)",
            DeathKind::PromotionFailed => "no room in the old generation for the young generation's survivors",
            DeathKind::Other => "another fatal out-of-memory error (not the JavaScript heap's limit)",
        }
    }
}

/// The `FATAL ERROR: ...` line.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Death {
    /// 1-based line number.
    pub line: u64,
    /// Which death.
    pub kind: DeathKind,
    /// The text after `FATAL ERROR: `, e.g. `Reached heap limit Allocation failed - JavaScript heap out of memory`.
    pub message: String,
    /// The location part, before ` Allocation failed` (`Reached heap limit`).
    pub location: String,
    /// The message says `Allocation failed`: an allocation, not an internal check, died.
    pub allocation_failed: bool,
    /// The message ends in `JavaScript heap out of memory` (the V8 heap, not a zone or the process).
    pub js_heap: bool,
}

/// Reads a death line, if `line` is one: `FATAL ERROR: ...`, or `Fatal process out of memory: ...` (V8 12+,
/// possibly after `# `), wherever it starts in the line.
pub fn parse_death(text: &str, line: u64) -> Option<Death> {
    // Every death line has an `F`; GC lines almost never do: the cheap test first (this runs on every line).
    memchr::memchr(b'F', text.as_bytes())?;
    let t = text.trim();
    // Anywhere in the line: a service log may put a timestamp before it.
    let t = ["FATAL ERROR: ", "Fatal process out of memory: ", "Fatal JavaScript out of memory: "]
        .iter()
        .filter_map(|k| t.find(k).map(|i| &t[i..]))
        .next()
        .unwrap_or(t);
    let message = t
        .strip_prefix("FATAL ERROR: ")
        .or_else(|| t.trim_start_matches("# ").strip_prefix("Fatal process out of memory: "))
        .or_else(|| t.trim_start_matches("# ").strip_prefix("Fatal JavaScript out of memory: "))?
        .trim();
    let location = match message.find(" Allocation failed") {
        Some(i) => &message[..i],
        None => message.split(" - ").next().unwrap_or(message),
    };
    let kind = if location.starts_with("Reached heap limit") {
        DeathKind::ReachedHeapLimit
    } else if location.starts_with("Ineffective mark-compacts near heap limit") {
        DeathKind::IneffectiveMarkCompacts
    } else if location.starts_with("CALL_AND_RETRY_LAST") {
        DeathKind::CallAndRetryLast
    } else if location.contains("promotion failed") {
        DeathKind::PromotionFailed
    } else {
        DeathKind::Other
    };
    Some(Death {
        line,
        kind,
        message: message.to_owned(),
        location: location.to_owned(),
        allocation_failed: message.contains("Allocation failed"),
        js_heap: message.ends_with("JavaScript heap out of memory"),
    })
}

/// The entries of one ring-buffer line: each `[pid:isolate] ...` up to the next, parsed leniently. Text before
/// the first entry is the tail of an overwritten entry and is dropped (its length is returned).
pub fn ring_entries(text: &str, line: u64, out: &mut Vec<LogGc>) -> usize {
    let text = text.trim_end_matches(['\n', '\r']);
    let Some((first, ..)) = find_pid_isolate(text, 0) else {
        // Old Node printed entries without the pid prefix, one per line: `  197996 ms: Mark-sweep ...`.
        if let Some(p) = prefix(text) {
            if let Ok(mut gc) = parse_trace_gc(&text[p.rest..], line, true) {
                gc.time_ms = p.time_ms;
                gc.truncated |= text.len() >= 255;
                out.push(gc);
            }
        }
        return 0;
    };
    let mut start = first;
    loop {
        let next = find_pid_isolate(text, start + 1).map(|(at, ..)| at);
        let entry = &text[start..next.unwrap_or(text.len())];
        if let Some(p) = prefix(entry) {
            if let Ok(mut gc) = parse_trace_gc(&entry[p.rest..], line, true) {
                gc.pid = p.pid;
                gc.isolate = p.isolate;
                gc.time_ms = p.time_ms;
                gc.truncated |= entry.len() >= 255;
                out.push(gc);
            }
        }
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deaths() {
        let d = parse_death("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", 3)
            .unwrap();
        assert_eq!(
            (d.kind, d.location.as_str(), d.js_heap, d.allocation_failed),
            (DeathKind::ReachedHeapLimit, "Reached heap limit", true, true)
        );
        // nodejs/node#8162 (2023): Node 16.
        let d = parse_death(
            "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory",
            1,
        )
        .unwrap();
        assert_eq!(d.kind, DeathKind::IneffectiveMarkCompacts);
        let d = parse_death("FATAL ERROR: CALL_AND_RETRY_LAST Allocation failed - JavaScript heap out of memory", 1)
            .unwrap();
        assert_eq!(d.kind, DeathKind::CallAndRetryLast);
        let d = parse_death("FATAL ERROR: Zone Allocation failed - process out of memory", 1).unwrap();
        assert_eq!((d.kind, d.js_heap), (DeathKind::Other, false));
        assert!(parse_death("FATAL: something else", 1).is_none());
    }
}
