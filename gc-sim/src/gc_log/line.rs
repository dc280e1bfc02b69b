//! One line of V8's GC tracing: the `[pid:isolate]   N ms: ` prefix, a `--trace-gc` line of any Node version
//! since 6, a `--trace-gc-nvp` line (`name=value` pairs, or `GC: {json}` in V8 12+), and the
//! `--trace-gc-verbose` lines printed after each collection.
//!
//! Parsing keys on content, never on columns: the prefix may be indented or preceded by another tool's own prefix
//! (`apps/web typecheck: [6628:...]`), and each part of a `--trace-gc` line is recognised by its own text.

use std::borrow::Cow;

/// The collector a line names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogCollector {
    /// `Scavenge` (`gc=s`): the young-generation semi-space copier.
    Scavenge,
    /// `Minor Mark-Compact` / `Minor Mark-Sweep` (`gc=mmc`, `gc=mms`): V8's experimental young-generation
    /// marker.
    MinorMarkSweep,
    /// `Mark-Compact` (`gc=mc`), called `Mark-sweep` (`gc=ms`) before V8 7.x (Node 12-14): a full collection.
    MarkCompact,
}

impl LogCollector {
    /// A short name: `scavenge`, `minor-mark-sweep`, `mark-compact`.
    pub fn name(self) -> &'static str {
        match self {
            LogCollector::Scavenge => "scavenge",
            LogCollector::MinorMarkSweep => "minor-mark-sweep",
            LogCollector::MarkCompact => "mark-compact",
        }
    }

    /// Whether this is a full (old-generation) collection.
    pub fn is_full(self) -> bool {
        self == LogCollector::MarkCompact
    }
}

/// The incremental-marking part of a mark-compact line:
/// `(+ 37.3 ms in 342 steps since start of marking, biggest step 0.5 ms, walltime since start of marking 56 ms)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IncrementalMarking {
    /// Time spent in incremental marking steps on the main thread before the final pause, ms.
    pub ms: f64,
    /// Number of steps.
    pub steps: u64,
    /// The longest step, ms (absent in lines older than V8 5.x).
    pub biggest_step_ms: Option<f64>,
    /// Wall time from the start of marking to the end of the final pause, ms (V8 6.x and later).
    pub walltime_ms: Option<f64>,
}

/// The `--trace-gc-nvp` fields gc-sim understands, as typed values; every pair of the line (known or not) stays
/// readable through [`LogGc::nvp_value`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NvpFields {
    /// `mutator`: ms the program ran since the previous collection ended.
    pub mutator_ms: Option<f64>,
    /// `reduce_memory`: the collection was a memory-reducing one.
    pub reduce_memory: Option<bool>,
    /// `allocated`: object bytes allocated since the previous collection (`start_object_size` minus the previous
    /// `end_object_size`).
    pub allocated: Option<i64>,
    /// `promoted`: bytes promoted to the old generation by this collection.
    pub promoted: Option<u64>,
    /// `new_space_survived` (`semi_space_copied` before V8 6.x): bytes copied within the young generation.
    pub new_space_survived: Option<u64>,
    /// `total_size_before` / `start_object_size`: object bytes before the collection.
    pub size_before: Option<u64>,
    /// `total_size_after` / `end_object_size`: object bytes after it.
    pub size_after: Option<u64>,
    /// `holes_size_before`: free-list bytes in the old generation before.
    pub holes_before: Option<u64>,
    /// `holes_size_after`: free-list bytes after.
    pub holes_after: Option<u64>,
    /// `start_memory_size` (JSON nvp only): committed bytes before.
    pub memory_before: Option<u64>,
    /// `end_memory_size` (JSON nvp only): committed bytes after.
    pub memory_after: Option<u64>,
    /// `incremental_steps_count` / `incremental.steps_count` / `steps_count`.
    pub incremental_steps: Option<u64>,
    /// `incremental` (mark-compact) or `incremental.steps_took` / `steps_took`: ms of incremental marking steps.
    pub incremental_ms: Option<f64>,
    /// `incremental_walltime_duration`: ms from the start of marking to the end of the pause.
    pub incremental_walltime_ms: Option<f64>,
    /// `old_gen_allocation_limit` (JSON nvp only): the old generation's current limit, bytes.
    pub old_gen_allocation_limit: Option<u64>,
}

/// One collection as a log line describes it. Every field a line may lack is an `Option`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogGc {
    /// 1-based line number in its input.
    pub line: u64,
    /// The process id of the `[pid:isolate]` prefix.
    pub pid: Option<u32>,
    /// The isolate address of the prefix.
    pub isolate: Option<u64>,
    /// `N ms:`: ms since the isolate started, printed when the collection ended.
    pub time_ms: Option<f64>,
    /// Which collector ran.
    pub collector: LogCollector,
    /// Printed under its pre-2019 name (`Mark-sweep`, `gc=ms`).
    pub legacy_name: bool,
    /// `(reduce)` / `reduce_memory=1`: a memory-reducing full collection.
    pub reduce: bool,
    /// `(during sweeping)`: a scavenge while the previous mark-compact's sweeping was still running.
    pub during_sweeping: bool,
    /// `(interleaved)` (V8 12+): a scavenge interleaved with concurrent marking.
    pub interleaved: bool,
    /// Object MB before (`4.4` in `4.4 (4.5) -> 3.9 (5.5) MB`).
    pub before_mb: Option<f64>,
    /// Committed MB before (`4.5`).
    pub before_committed_mb: Option<f64>,
    /// Object MB after (`3.9`).
    pub after_mb: Option<f64>,
    /// Committed MB after (`5.5`).
    pub after_committed_mb: Option<f64>,
    /// `pooled: X MB` (V8 12+): pages kept in the allocator's pool.
    pub pooled_mb: Option<f64>,
    /// The pause, ms (`0.59` in `0.59 / 0.00 ms`, `pause=` in nvp).
    pub pause_ms: Option<f64>,
    /// Time in embedder (external) callbacks, ms (`0.00`).
    pub external_ms: Option<f64>,
    /// The incremental-marking part, if any.
    pub incremental: Option<IncrementalMarking>,
    /// `average mu`: V8's running average of mutator utilization over mark-compact cycles.
    pub average_mu: Option<f64>,
    /// `current mu`: mutator utilization since the previous mark-compact.
    pub current_mu: Option<f64>,
    /// Why the collection ran (`allocation failure`, `task`, `testing`, ...).
    pub reason: Option<Cow<'static, str>>,
    /// Why this collector was chosen (`GC in old space requested`, `scavenge might not succeed`).
    pub collector_reason: Option<Cow<'static, str>>,
    /// The line is a `--trace-gc-nvp` line.
    pub nvp: bool,
    /// Its typed nvp fields (empty for a `--trace-gc` line).
    pub nvp_fields: NvpFields,
    /// The line's raw nvp pairs (`name=value ...`, or the JSON object), kept so that any field can be read.
    #[serde(skip)]
    pub nvp_raw: Option<Box<str>>,
    /// The entry was cut short (the OOM ring buffer keeps 255 bytes of each line).
    pub truncated: bool,
}

impl LogGc {
    fn new(line: u64, collector: LogCollector) -> LogGc {
        LogGc {
            line,
            pid: None,
            isolate: None,
            time_ms: None,
            collector,
            legacy_name: false,
            reduce: false,
            during_sweeping: false,
            interleaved: false,
            before_mb: None,
            before_committed_mb: None,
            after_mb: None,
            after_committed_mb: None,
            pooled_mb: None,
            pause_ms: None,
            external_ms: None,
            incremental: None,
            average_mu: None,
            current_mu: None,
            reason: None,
            collector_reason: None,
            nvp: false,
            nvp_fields: NvpFields::default(),
            nvp_raw: None,
            truncated: false,
        }
    }

    /// Whether a tool, not the program, caused the collection: reasons `heap profiler`, `sampling profiler`,
    /// `testing` (`global.gc()` under `--expose-gc`, or `%CollectGarbage`), `debugger`, `snapshot creator`,
    /// `measure memory`, `counters extension`, `make heap iterable`.
    pub fn tool_induced(&self) -> bool {
        self.reason.as_deref().is_some_and(is_tool_reason)
    }

    /// The raw value of any nvp field by name (`"scavenge.roots"`, `"promotion_rate"`), as printed.
    pub fn nvp_value(&self, name: &str) -> Option<&str> {
        let raw = self.nvp_raw.as_deref()?;
        nvp_pairs(raw).find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Every nvp pair of the line, in order, values as printed (JSON strings without their quotes).
    pub fn nvp_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.nvp_raw.as_deref().into_iter().flat_map(nvp_pairs)
    }
}

/// Whether `reason` is a GC reason that a tool, not the program's allocation, triggers.
pub fn is_tool_reason(reason: &str) -> bool {
    matches!(
        reason,
        "heap profiler"
            | "sampling profiler"
            | "testing"
            | "debugger"
            | "snapshot creator"
            | "measure memory"
            | "counters extension"
            | "make heap iterable"
    )
}

/// V8's `GarbageCollectionReason` strings (`Heap::GarbageCollectionReasonToString`, V8 5.x to 13.x), longest
/// first where one is a prefix of another, plus the pre-2017 free-form reasons seen in real logs.
const GC_REASONS: &[&str] = &[
    "finalize incremental marking via stack guard",
    "finalize incremental marking via task",
    "finalize incremental minor mark-sweep via stack guard",
    "finalize incremental minor mark-sweep via task",
    "finalize concurrent minor mark-sweep",
    "background allocation failure",
    "CppHeap allocation failure",
    "allocation failure",
    "allocation limit",
    "context disposal",
    "counters extension",
    "debugger",
    "deserializer",
    "external memory pressure",
    "external finalize",
    "full hash-table",
    "heap profiler",
    "idle context disposal",
    "idle task",
    "task",
    "last resort gc",
    "last resort",
    "low memory notification",
    "make heap iterable",
    "memory pressure",
    "memory reducer",
    "runtime",
    "sampling profiler",
    "snapshot creator",
    "testing",
    "global allocation limit",
    "measure memory",
    "frozen",
    "unknown",
    "Isolate::RequestGarbageCollection",
];

/// Collector reasons (`Heap::SelectGarbageCollector` and friends).
const COLLECTOR_REASONS: &[&str] = &[
    "GC in old space requested",
    "GC in shared space requested",
    "scavenge might not succeed",
    "promotion failure",
    "old generation exceeds limit",
    "Stress testing",
    "--gc-global",
    "young generation size is too small",
];

fn intern(s: &str, table: &'static [&'static str]) -> Cow<'static, str> {
    match table.iter().find(|k| **k == s) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(s.to_owned()),
    }
}

/// The `[pid:isolate]` and `N ms:` prefix of a V8 trace line, and where the rest starts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Prefix {
    /// The process id.
    pub pid: Option<u32>,
    /// The isolate address.
    pub isolate: Option<u64>,
    /// Ms since the isolate started.
    pub time_ms: Option<f64>,
    /// Byte offset of the rest of the line.
    pub rest: usize,
}

/// Finds `[digits:hex]` at `at` in `s`, returning (pid, isolate, end).
fn pid_isolate_at(s: &[u8], at: usize) -> Option<(u32, u64, usize)> {
    let mut i = at + 1;
    let start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if i == start || i >= s.len() || s[i] != b':' {
        return None;
    }
    let pid = std::str::from_utf8(&s[start..i]).ok()?.parse().ok()?;
    i += 1;
    if s[i..].starts_with(b"0x") || s[i..].starts_with(b"0X") {
        i += 2;
    }
    let hex_start = i;
    while i < s.len() && s[i].is_ascii_hexdigit() {
        i += 1;
    }
    if i == hex_start || i >= s.len() || s[i] != b']' {
        return None;
    }
    let isolate = u64::from_str_radix(std::str::from_utf8(&s[hex_start..i]).ok()?, 16).unwrap_or(0);
    Some((pid, isolate, i + 1))
}

/// The first `[pid:isolate]` in `s` at or after `from`: its start, pid, isolate and end.
pub fn find_pid_isolate(s: &str, from: usize) -> Option<(usize, u32, u64, usize)> {
    let b = s.as_bytes();
    let mut from = from;
    while let Some(off) = memchr::memchr(b'[', &b[from..]) {
        let at = from + off;
        if let Some((pid, iso, end)) = pid_isolate_at(b, at) {
            return Some((at, pid, iso, end));
        }
        from = at + 1;
    }
    None
}

/// Reads `   123 ms: ` at the start of `s` (after spaces): the time and the offset after it.
fn time_prefix(s: &str) -> Option<(f64, usize)> {
    let t = s.trim_start_matches(' ');
    let skipped = s.len() - t.len();
    let num_end = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    if num_end == 0 || !t[num_end..].starts_with(" ms: ") {
        return None;
    }
    let ms = t[..num_end].parse().ok()?;
    Some((ms, skipped + num_end + " ms: ".len()))
}

/// Splits a line into its V8 prefix and the rest. `None` when the line has no `[pid:isolate]` and no leading
/// `N ms: ` (older ring-buffer entries have only the time).
pub fn prefix(s: &str) -> Option<Prefix> {
    if let Some((_, pid, iso, end)) = find_pid_isolate(s, 0) {
        let after = &s[end..];
        let mut p = Prefix { pid: Some(pid), isolate: Some(iso), time_ms: None, rest: end };
        if let Some((ms, len)) = time_prefix(after) {
            p.time_ms = Some(ms);
            p.rest = end + len;
        } else {
            p.rest = end + (after.len() - after.trim_start_matches(' ').len());
        }
        return Some(p);
    }
    // gc-sim's own lines (`gc-sim run --trace-gc`/`--trace-gc-nvp`) have `[gc-sim]` for `[pid:isolate]`.
    if let Some(at) = s.find(GC_SIM_PREFIX) {
        let end = at + GC_SIM_PREFIX.len();
        if let Some((ms, len)) = time_prefix(&s[end..]) {
            return Some(Prefix { pid: None, isolate: None, time_ms: Some(ms), rest: end + len });
        }
    }
    let (ms, len) = time_prefix(s)?;
    Some(Prefix { pid: None, isolate: None, time_ms: Some(ms), rest: len })
}

/// What gc-sim prints in place of V8's `[pid:isolate]`.
const GC_SIM_PREFIX: &str = "[gc-sim]";

/// The collector names a `--trace-gc` line may start with, newest spellings first.
const COLLECTOR_NAMES: &[(&str, LogCollector, bool)] = &[
    ("Scavenge", LogCollector::Scavenge, false),
    ("Mark-Compact", LogCollector::MarkCompact, false),
    ("Mark-sweep", LogCollector::MarkCompact, true),
    ("Minor Mark-Sweep", LogCollector::MinorMarkSweep, false),
    ("Minor Mark-Compact", LogCollector::MinorMarkSweep, false),
    ("Mark-Compact-Minor", LogCollector::MinorMarkSweep, false),
];

/// Whether the body of a line (after the prefix) starts like a `--trace-gc` line.
pub fn looks_like_gc(body: &str) -> bool {
    COLLECTOR_NAMES.iter().any(|(name, _, _)| {
        body.strip_prefix(name).is_some_and(|r| r.starts_with(' ') || r.starts_with('(') || r.is_empty())
    })
}

/// Why a GC line could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError(pub String);

/// A cursor over the body of a `--trace-gc` line.
struct Cursor<'a> {
    s: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_spaces(&mut self) {
        self.s = self.s.trim_start_matches(' ');
    }
    fn eat(&mut self, lit: &str) -> bool {
        match self.s.strip_prefix(lit) {
            Some(r) => {
                self.s = r;
                true
            }
            None => false,
        }
    }
    fn number(&mut self) -> Option<f64> {
        let end =
            self.s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e')).unwrap_or(self.s.len());
        if end == 0 {
            return None;
        }
        let v = fast_decimal(&self.s[..end]).or_else(|| self.s[..end].parse().ok())?;
        self.s = &self.s[end..];
        Some(v)
    }
}

/// `123.45` as the nearest f64, quickly: with at most 15 digits, the digits as an integer and the power of ten are
/// both exact, so one correctly rounded division gives the same value as `str::parse` (Clinger's fast path).
/// `None` for anything else (signs, exponents, more digits), which `str::parse` then reads.
fn fast_decimal(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || int.len() + frac.len() > 15 {
        return None;
    }
    let mut n: u64 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n as f64 / POW10[frac.len()])
}

/// Parses the body of a `--trace-gc` line (the part after `N ms: `). `truncated` says the text may be cut
/// short (an OOM ring-buffer entry): then a missing tail is not an error.
pub fn parse_trace_gc(body: &str, line: u64, truncated: bool) -> Result<LogGc, LineError> {
    let body = body.trim_end_matches(['\n', '\r']);
    let (name, collector, legacy) = COLLECTOR_NAMES
        .iter()
        .find(|(name, _, _)| body.starts_with(name))
        .copied()
        .ok_or_else(|| LineError("no collector name (Scavenge, Mark-Compact, Mark-sweep, ...)".into()))?;
    let mut gc = LogGc::new(line, collector);
    gc.legacy_name = legacy;
    let mut c = Cursor { s: &body[name.len()..] };
    // Flags: ` (reduce)`, ` (during sweeping)`, ` (interleaved)`, in any order.
    loop {
        c.skip_spaces();
        if c.eat("(reduce)") {
            gc.reduce = true;
        } else if c.eat("(during sweeping)") {
            gc.during_sweeping = true;
        } else if c.eat("(interleaved)") {
            gc.interleaved = true;
        } else {
            break;
        }
    }
    macro_rules! need {
        ($e:expr, $what:expr) => {
            match $e {
                Some(v) => v,
                None => {
                    if truncated && c.s.is_empty() {
                        gc.truncated = true;
                        return Ok(gc);
                    }
                    if c.s.is_empty() {
                        return Err(LineError(format!("the line ends before {}", $what)));
                    }
                    let at: String = c.s.chars().take(24).collect();
                    return Err(LineError(format!("expected {} at '{at}'", $what)));
                }
            }
        };
    }
    macro_rules! lit {
        ($l:expr, $what:expr) => {
            need!(if c.eat($l) { Some(()) } else { None }, $what)
        };
    }
    // `4.4 (4.5) -> 3.9 (5.5) MB, `
    gc.before_mb = Some(need!(c.number(), "the heap size before (`A (B) -> C (D) MB`)"));
    c.skip_spaces();
    lit!("(", "the committed size before, `(B)`");
    gc.before_committed_mb = Some(need!(c.number(), "the committed size before"));
    lit!(")", "`)` after the committed size");
    c.skip_spaces();
    lit!("->", "`->`");
    c.skip_spaces();
    gc.after_mb = Some(need!(c.number(), "the heap size after"));
    c.skip_spaces();
    lit!("(", "the committed size after, `(D)`");
    gc.after_committed_mb = Some(need!(c.number(), "the committed size after"));
    lit!(")", "`)` after the committed size");
    c.skip_spaces();
    lit!("MB,", "`MB,`");
    c.skip_spaces();
    if c.eat("pooled:") {
        c.skip_spaces();
        gc.pooled_mb = Some(need!(c.number(), "the pooled size"));
        c.skip_spaces();
        lit!("MB,", "`MB,` after the pooled size");
        c.skip_spaces();
    }
    // `0.59 / 0.00 ms` (V8 5.x and later: pause / external); very old lines print only `12.3 ms`.
    let first = need!(c.number(), "the pause (`P / E ms`)");
    c.skip_spaces();
    if c.eat("/") {
        c.skip_spaces();
        gc.pause_ms = Some(first);
        gc.external_ms = Some(need!(c.number(), "the external time after `/`"));
        c.skip_spaces();
    } else {
        gc.pause_ms = Some(first);
    }
    lit!("ms", "`ms` after the pause");
    // The optional parts, each recognised by its text.
    loop {
        c.skip_spaces();
        if c.s.starts_with("(+") {
            let end = c.s.find(')').unwrap_or(c.s.len());
            let inner = &c.s[2..end];
            if end == c.s.len() && !truncated {
                return Err(LineError("the incremental-marking part `(+ ...)` is not closed".into()));
            }
            gc.incremental = Some(parse_incremental(inner));
            if end == c.s.len() {
                gc.truncated = true;
                return Ok(gc);
            }
            c.s = &c.s[end + 1..];
        } else if c.s.starts_with("(average mu") {
            let end = c.s.find(')').unwrap_or(c.s.len());
            let inner = &c.s[1..end];
            for part in inner.split(',') {
                let part = part.trim();
                if let Some(v) = part.strip_prefix("average mu =") {
                    gc.average_mu = v.trim().parse().ok();
                } else if let Some(v) = part.strip_prefix("current mu =") {
                    gc.current_mu = v.trim().parse().ok();
                }
            }
            if end == c.s.len() {
                if !truncated {
                    return Err(LineError("the mutator-utilization part `(average mu = ...)` is not closed".into()));
                }
                gc.truncated = true;
                return Ok(gc);
            }
            c.s = &c.s[end + 1..];
        } else {
            break;
        }
    }
    parse_reasons(c.s, &mut gc, truncated);
    Ok(gc)
}

fn parse_incremental(inner: &str) -> IncrementalMarking {
    let mut inc = IncrementalMarking::default();
    // ` 37.3 ms in 342 steps since start of marking, biggest step 0.5 ms, walltime since start of marking 56 ms`
    let inner = inner.trim();
    if let Some((ms, rest)) = inner.split_once(" ms in ") {
        inc.ms = ms.trim().parse().unwrap_or(0.0);
        inc.steps = rest.split(' ').next().and_then(|s| s.parse().ok()).unwrap_or(0);
    }
    for part in inner.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("biggest step ") {
            inc.biggest_step_ms = v.trim_end_matches(" ms").trim().parse().ok();
        } else if let Some(v) = part.strip_prefix("walltime since start of marking ") {
            inc.walltime_ms = v.trim_end_matches(" ms").trim().parse().ok();
        }
    }
    inc
}

/// The reasons after the numbers: `allocation failure; GC in old space requested` (V8 9+),
/// `allocation failure GC in old space requested` (V8 6-8), `[allocation failure] [GC in old space requested].`
/// (V8 4-5).
fn parse_reasons(rest: &str, gc: &mut LogGc, truncated: bool) {
    let rest = rest.trim().trim_end_matches('.').trim();
    if rest.is_empty() {
        if truncated {
            gc.truncated = true;
        }
        return;
    }
    if rest.starts_with('[') {
        let mut parts = rest.split('[').filter_map(|p| p.split(']').next()).map(str::trim).filter(|p| !p.is_empty());
        gc.reason = parts.next().map(|r| intern(r, GC_REASONS));
        gc.collector_reason = parts.next().map(|r| intern(r, COLLECTOR_REASONS));
        return;
    }
    if let Some((r, cr)) = rest.split_once(';') {
        gc.reason = Some(intern(r.trim(), GC_REASONS));
        let cr = cr.trim();
        if !cr.is_empty() {
            gc.collector_reason = Some(intern(cr, COLLECTOR_REASONS));
        }
        return;
    }
    // No separator: the longest known reason that starts the text, the rest is the collector reason.
    if let Some(r) = GC_REASONS
        .iter()
        .find(|r| rest.strip_prefix(**r).is_some_and(|after| after.is_empty() || after.starts_with(' ')))
    {
        gc.reason = Some(Cow::Borrowed(r));
        let cr = rest[r.len()..].trim();
        if !cr.is_empty() {
            gc.collector_reason = Some(intern(cr, COLLECTOR_REASONS));
        }
    } else {
        if truncated {
            gc.truncated = true;
        }
        gc.reason = Some(Cow::Owned(rest.to_owned()));
    }
}

/// The pairs of an nvp text: `name=value name=value` or a flat JSON object (`{"pause":0.8,"gc":"s",...}`).
pub fn nvp_pairs(raw: &str) -> Box<dyn Iterator<Item = (&str, &str)> + '_> {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('{') {
        let inner = inner.strip_suffix('}').unwrap_or(inner);
        Box::new(JsonPairs { s: inner })
    } else {
        Box::new(raw.split(' ').filter_map(|p| p.split_once('=')))
    }
}

/// A flat JSON object's pairs, values as text (strings without quotes). V8's emitter writes no nesting and no
/// escapes beyond `\"`, which the collector reasons never contain.
struct JsonPairs<'a> {
    s: &'a str,
}

impl<'a> Iterator for JsonPairs<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        let s = self.s.trim_start_matches([',', ' ']);
        let s = s.strip_prefix('"')?;
        let key_end = s.find('"')?;
        let key = &s[..key_end];
        let s = s[key_end + 1..].trim_start().strip_prefix(':')?.trim_start();
        let (value, rest) = if let Some(v) = s.strip_prefix('"') {
            let end = v.find('"').unwrap_or(v.len());
            (&v[..end], &v[(end + 1).min(v.len())..])
        } else {
            let end = s.find(',').unwrap_or(s.len());
            (s[..end].trim(), &s[end..])
        };
        self.s = rest;
        Some((key, value))
    }
}

/// Whether the body of a line is an nvp record: `pause=... mutator=... gc=...` or `GC: {json}`.
pub fn looks_like_nvp(body: &str) -> bool {
    body.starts_with("pause=") || body.starts_with("GC: {") || body.starts_with("{\"pause\"")
}

/// Parses an nvp body (after the prefix).
pub fn parse_nvp(body: &str, line: u64) -> Result<LogGc, LineError> {
    let body = body.trim_end_matches(['\n', '\r']);
    let raw = body.strip_prefix("GC: ").unwrap_or(body).trim();
    let json = raw.starts_with('{');
    if json && !raw.ends_with('}') {
        return Err(LineError("the JSON nvp object is not closed (truncated line?)".into()));
    }
    let mut collector = None;
    let mut legacy = false;
    let mut gc = LogGc::new(line, LogCollector::Scavenge);
    let f = &mut gc.nvp_fields;
    let mut pause = None;
    let mut reason = None;
    let mut collector_reason = None;
    let mut last_key = "";
    for (k, v) in nvp_pairs(raw) {
        last_key = k;
        let num = || v.trim_end_matches('%').parse::<f64>().ok();
        let int = || v.parse::<i64>().ok().or_else(|| v.parse::<f64>().ok().map(|x| x as i64));
        let uint = || int().and_then(|x| u64::try_from(x).ok());
        match k {
            "pause" => pause = num(),
            "mutator" => f.mutator_ms = num(),
            "gc" => {
                collector = match v {
                    "s" => Some(LogCollector::Scavenge),
                    "mc" => Some(LogCollector::MarkCompact),
                    "ms" => {
                        legacy = true;
                        Some(LogCollector::MarkCompact)
                    }
                    "mmc" | "mms" | "minor-mc" | "minor-ms" => Some(LogCollector::MinorMarkSweep),
                    _ => None,
                }
            }
            "reduce_memory" => f.reduce_memory = Some(v == "1" || v == "true"),
            // A size_t in V8: a heap that shrank between two collections prints a wrapped negative number.
            "allocated" => f.allocated = v.parse::<i64>().ok().or_else(|| v.parse::<u64>().ok().map(|x| x as i64)),
            "promoted" => f.promoted = uint(),
            "new_space_survived" | "semi_space_copied" => f.new_space_survived = uint(),
            "total_size_before" | "start_object_size" => f.size_before = uint(),
            "total_size_after" | "end_object_size" => f.size_after = uint(),
            "holes_size_before" | "start_holes_size" => f.holes_before = uint(),
            "holes_size_after" | "end_holes_size" => f.holes_after = uint(),
            "start_memory_size" => f.memory_before = uint(),
            "end_memory_size" => f.memory_after = uint(),
            "incremental_steps_count" | "incremental.steps_count" | "steps_count" => f.incremental_steps = uint(),
            "incremental" | "incremental.steps_took" | "steps_took" => f.incremental_ms = num(),
            "incremental_walltime_duration" => f.incremental_walltime_ms = num(),
            "old_gen_allocation_limit" => f.old_gen_allocation_limit = uint(),
            "reason" => reason = Some(v),
            "collector_reason" => collector_reason = Some(v),
            _ => {}
        }
    }
    let Some(collector) = collector else {
        return Err(LineError("an nvp line without a known `gc=` type (s, mc, ms, mms)".into()));
    };
    let Some(pause) = pause else {
        return Err(LineError("an nvp line without `pause=`".into()));
    };
    // A cut line ends in a partial pair; V8 ends every scavenge line with `unmapper_chunks` (V8 8+) or
    // `scavenge_throughput`/`context_disposal_rate`, and a mark-compact one with `compaction_speed`.
    if !json && !body.ends_with(' ') && !raw.rsplit(' ').next().is_some_and(|p| p.contains('=')) {
        return Err(LineError(format!("the nvp line ends in the middle of a pair after `{last_key}`")));
    }
    gc.collector = collector;
    gc.legacy_name = legacy;
    gc.pause_ms = Some(pause);
    gc.nvp = true;
    gc.reduce = gc.nvp_fields.reduce_memory.unwrap_or(false);
    const MB: f64 = 1024.0 * 1024.0;
    gc.before_mb = gc.nvp_fields.size_before.map(|b| b as f64 / MB);
    gc.after_mb = gc.nvp_fields.size_after.map(|b| b as f64 / MB);
    gc.before_committed_mb = gc.nvp_fields.memory_before.map(|b| b as f64 / MB);
    gc.after_committed_mb = gc.nvp_fields.memory_after.map(|b| b as f64 / MB);
    if collector.is_full() {
        if let Some(steps) = gc.nvp_fields.incremental_steps.filter(|s| *s > 0) {
            gc.incremental = Some(IncrementalMarking {
                ms: gc.nvp_fields.incremental_ms.unwrap_or(0.0),
                steps,
                biggest_step_ms: None,
                walltime_ms: gc.nvp_fields.incremental_walltime_ms,
            });
        }
    }
    gc.reason = reason.filter(|r| !r.is_empty()).map(|r| intern(r, GC_REASONS));
    gc.collector_reason = collector_reason.filter(|r| !r.is_empty()).map(|r| intern(r, COLLECTOR_REASONS));
    gc.nvp_raw = Some(raw.into());
    Ok(gc)
}

/// One space's line of `--trace-gc-verbose` (`Heap::PrintShortHeapStatistics`):
/// `Old space,              used:   2734 KB, available:      0 KB, committed:   2784 KB`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpaceLine {
    /// The space as printed (`New space`, `Old space`, `All spaces`, `Memory allocator`, ...).
    pub space: String,
    /// `used:` KB.
    pub used_kb: u64,
    /// `available:` KB.
    pub available_kb: u64,
    /// `committed:` KB (absent on the `Memory allocator` line).
    pub committed_kb: Option<u64>,
}

/// Parses a `--trace-gc-verbose` space line, if the body is one.
pub fn parse_space_line(body: &str) -> Option<SpaceLine> {
    let (space, rest) = body.split_once(',')?;
    let rest = rest.trim_start();
    if !rest.starts_with("used:") {
        return None;
    }
    let mut used = None;
    let mut available = None;
    let mut committed = None;
    for part in rest.split(',') {
        let (k, v) = part.split_once(':')?;
        let v: u64 = v.trim().trim_end_matches("KB").trim().parse().ok()?;
        match k.trim() {
            "used" => used = Some(v),
            "available" => available = Some(v),
            "committed" => committed = Some(v),
            _ => {}
        }
    }
    Some(SpaceLine {
        space: space.trim().to_owned(),
        used_kb: used?,
        available_kb: available?,
        committed_kb: committed,
    })
}

/// The other lines `--trace-gc-verbose` and friends print (heap statistics, heap-growing decisions, memory
/// reducer, page shrinking): recognised so that they are not mistaken for malformed GC lines.
pub fn is_verbose_info(body: &str) -> bool {
    const STARTS: &[&str] = &[
        "Memory allocator,",
        "Unmapper buffering",
        "External memory",
        "Backing store memory",
        "Total time spent in GC",
        "Shrinking page",
        "[HeapController]",
        "[GlobalMemoryController]",
        "[EmbedderHeapController]",
        "Memory reducer",
        "Fast promotion mode",
        "Heap growing factor",
        "Grow:",
        "Dampen:",
        "Memory allocator",
        "Pool",
        "Array buffer",
        "Heap::",
        "Incremental marking",
        "Concurrent marking",
        "Scavenger:",
        "Idle notification",
        "Limit:",
        "[IncrementalMarking]",
        "[MemoryReducer]",
        "Start:",
    ];
    STARTS.iter().any(|s| body.starts_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_finds_pid_isolate_and_time_anywhere() {
        let p = prefix("apps/web typecheck: [6628:0000013B784AD000]     3272 ms: Scavenge").unwrap();
        assert_eq!(p.pid, Some(6628));
        assert_eq!(p.time_ms, Some(3272.0));
        assert_eq!(&"apps/web typecheck: [6628:0000013B784AD000]     3272 ms: Scavenge"[p.rest..], "Scavenge");
        let p = prefix("  197996 ms: Mark-sweep 1294.5").unwrap();
        assert_eq!((p.pid, p.time_ms), (None, Some(197996.0)));
        assert!(prefix("hello [world]").is_none());
        let p = prefix("[gc-sim]       50 ms: pause=0.4 mutator=50.0 gc=s").unwrap();
        assert_eq!((p.pid, p.isolate, p.time_ms), (None, None, Some(50.0)));
        assert_eq!(&"[gc-sim]       50 ms: pause=0.4 mutator=50.0 gc=s"[p.rest..], "pause=0.4 mutator=50.0 gc=s");
        assert!(prefix("[gc-sim] hello").is_none());
    }

    #[test]
    fn reasons_with_and_without_separators() {
        let g = parse_trace_gc(
            "Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.3 / 0.0 ms  task scavenge might not succeed",
            1,
            false,
        )
        .unwrap();
        assert_eq!(g.reason.as_deref(), Some("task"));
        assert_eq!(g.collector_reason.as_deref(), Some("scavenge might not succeed"));
        let g =
            parse_trace_gc("Mark-sweep 1.0 (2.0) -> 0.5 (2.0) MB, 0.3 / 0.0 ms [last resort gc].", 1, false).unwrap();
        assert_eq!(g.reason.as_deref(), Some("last resort gc"));
        assert!(g.legacy_name);
    }

    #[test]
    fn fast_decimal_equals_parse() {
        for s in ["0", "4.82", "0.59", "91663", "3735.41", "1e5", "-1.5", "12.345678901234", "1234567890.123456", "7."]
        {
            assert_eq!(fast_decimal(s).or_else(|| s.parse().ok()), s.parse::<f64>().ok(), "{s}");
        }
        for i in 0..100_000u32 {
            let s = format!("{}.{:02}", i / 100, i % 100);
            assert_eq!(fast_decimal(&s), Some(s.parse::<f64>().unwrap()), "{s}");
        }
    }

    #[test]
    fn json_pairs() {
        let v: Vec<_> =
            nvp_pairs(r#"{"pause":0.8,"gc":"s","reason":"allocation failure","collector_reason":""}"#).collect();
        assert_eq!(v, [("pause", "0.8"), ("gc", "s"), ("reason", "allocation failure"), ("collector_reason", "")]);
    }
}
