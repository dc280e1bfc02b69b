//! [`LogReader`]: the streaming reader of a GC log, one [`Record`] at a time.

use std::io::{self, BufRead};

use super::line;
use super::line::*;
use super::oom;
use super::oom::*;

/// How many warnings a reader keeps (later ones are only counted).
pub const MAX_WARNINGS: usize = 100;
/// How many JS stack lines of an OOM report a reader keeps.
pub const MAX_JS_STACK_LINES: usize = 64;
/// The most text after `<--- Last few GCs --->` read as ring-buffer entries (V8's buffer is 512 bytes; service
/// prefixes and line breaks add some).
const RING_TEXT_MAX: usize = 1024;
/// Lines longer than this are not read as GC lines, and not kept whole (a GC line is under 300 bytes, an nvp line
/// under 8 KiB).
pub const MAX_GC_LINE: usize = 64 * 1024;

/// One thing a log says.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A collection, from a `--trace-gc` or `--trace-gc-nvp` line.
    Gc(LogGc),
    /// A `--trace-gc-verbose` space line (after the collection it describes).
    Space {
        /// 1-based line number.
        line: u64,
        /// The space's figures.
        space: SpaceLine,
    },
    /// An entry of the `<--- Last few GCs --->` ring buffer, possibly cut short ([`LogGc::truncated`]). These
    /// repeat the last `--trace-gc` lines when both were captured.
    RingEntry(LogGc),
    /// The `FATAL ERROR: ...` line.
    Death(Death),
}

/// A line the reader could not read as what it looked like.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    /// The input's name (as given to [`LogReader::new`]).
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.message)
    }
}

/// What a reader has seen, line by line.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineStats {
    /// All lines.
    pub lines: u64,
    /// `--trace-gc` lines read as collections.
    pub trace_gc_lines: u64,
    /// `--trace-gc-nvp` lines read as collections.
    pub nvp_lines: u64,
    /// `--trace-gc-verbose` lines (space statistics, heap-growing decisions, ...).
    pub verbose_lines: u64,
    /// Lines of the out-of-memory text (headers, ring buffer, stacks, the death).
    pub oom_lines: u64,
    /// Lines with a V8 `[pid:isolate]` prefix that are none of the above (other `--trace-*` flags).
    pub other_v8_lines: u64,
    /// Lines of the program itself (and blank lines), skipped.
    pub program_lines: u64,
    /// Lines that looked like GC lines but could not be read (each has a [`Warning`]).
    pub malformed_gc_lines: u64,
    /// All warnings, including those beyond [`MAX_WARNINGS`] that were not kept.
    pub warnings: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OomState {
    /// Not in the OOM text.
    None,
    /// After `<--- Last few GCs --->`.
    RingBuffer,
    /// After `<--- JS stacktrace --->` or `----- JavaScript stack trace -----`.
    JsStack,
    /// After `FATAL ERROR` (native stack frames follow).
    AfterDeath,
}

/// A streaming reader of a GC log. See the [module documentation](super).
pub struct LogReader<R> {
    input: R,
    source: String,
    buf: Vec<u8>,
    line_no: u64,
    stats: LineStats,
    warnings: Vec<Warning>,
    state: OomState,
    js_stack: Vec<String>,
    pending: std::collections::VecDeque<Record>,
    ring: Vec<LogGc>,
    ring_bytes: usize,
}

impl<R: BufRead> LogReader<R> {
    /// A reader of `input`, named `source` in warnings.
    pub fn new(input: R, source: impl Into<String>) -> Self {
        LogReader {
            input,
            source: source.into(),
            buf: Vec::with_capacity(512),
            line_no: 0,
            stats: LineStats::default(),
            warnings: Vec::new(),
            state: OomState::None,
            js_stack: Vec::new(),
            pending: std::collections::VecDeque::new(),
            ring: Vec::new(),
            ring_bytes: 0,
        }
    }

    /// The input's name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Line counts so far.
    pub fn stats(&self) -> &LineStats {
        &self.stats
    }

    /// The first [`MAX_WARNINGS`] warnings.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The JS stack lines of the OOM text (at most [`MAX_JS_STACK_LINES`]).
    pub fn js_stack(&self) -> &[String] {
        &self.js_stack
    }

    fn warn(&mut self, message: String) {
        self.stats.warnings += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(Warning { source: self.source.clone(), line: self.line_no, message });
        }
    }

    /// The next record, or `None` at the end of the input. Only I/O errors are errors; a line that cannot be
    /// read becomes a [`Warning`].
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            self.buf.clear();
            let Some(cut) = self.read_line()? else {
                return Ok(None);
            };
            self.line_no += 1;
            self.stats.lines += 1;
            if cut {
                // Longer than any GC line: the program's own output (a minified bundle, binary data).
                self.stats.program_lines += 1;
                continue;
            }
            let buf = std::mem::take(&mut self.buf);
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => String::from_utf8_lossy(&buf),
            };
            let record = self.line(&text);
            drop(text);
            self.buf = buf;
            if let Some(r) = record {
                return Ok(Some(r));
            }
        }
    }

    /// Reads one line into `buf`, keeping at most [`MAX_GC_LINE`] bytes of it (the rest is skipped, so that a
    /// file without newlines costs no more memory than one line). `None` at the end of the input; `Some(true)`
    /// when the line was longer.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        let mut read_any = false;
        let mut cut = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(read_any.then_some(cut));
            }
            read_any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = MAX_GC_LINE.saturating_sub(self.buf.len());
            if take > room {
                cut = true;
            }
            self.buf.extend_from_slice(&chunk[..take.min(room)]);
            self.input.consume(take);
            if done {
                return Ok(Some(cut));
            }
        }
    }

    fn line(&mut self, raw: &str) -> Option<Record> {
        let text = raw.trim_end_matches(['\n', '\r']);
        let line = self.line_no;
        let trimmed = text.trim();
        // The OOM text's markers, wherever they are.
        // (`ends_with`: a service log may put a timestamp before every line.)
        if trimmed.ends_with("<--- Last few GCs --->") {
            self.state = OomState::RingBuffer;
            self.ring_bytes = 0;
            self.stats.oom_lines += 1;
            return None;
        }
        if trimmed.ends_with("<--- JS stacktrace --->") || trimmed.ends_with("----- JavaScript stack trace -----") {
            self.state = OomState::JsStack;
            self.stats.oom_lines += 1;
            return None;
        }
        if let Some(death) = oom::parse_death(trimmed, line) {
            self.state = OomState::AfterDeath;
            self.stats.oom_lines += 1;
            return Some(Record::Death(death));
        }
        if trimmed.ends_with("----- Native stack trace -----") {
            self.state = OomState::AfterDeath;
            self.stats.oom_lines += 1;
            return None;
        }
        if trimmed.is_empty() && self.state != OomState::None {
            self.stats.oom_lines += 1;
            return None;
        }
        // The OOM text is short: V8's ring buffer is 512 bytes, and a JS stack starts with a frame, not a GC line.
        // A V8 GC line past those (a truncated OOM text, then a restarted process) ends the OOM text.
        if self.state == OomState::RingBuffer {
            self.ring_bytes += text.len();
            if self.ring_bytes > RING_TEXT_MAX {
                self.state = OomState::None;
            }
        }
        if self.state == OomState::JsStack
            && line::prefix(text).is_some_and(|p| p.pid.is_some() && line::looks_like_gc(&text[p.rest..]))
        {
            self.state = OomState::None;
        }
        match self.state {
            OomState::RingBuffer => {
                self.ring.clear();
                let mut ring = std::mem::take(&mut self.ring);
                oom::ring_entries(text, line, &mut ring);
                if !ring.is_empty() {
                    self.stats.oom_lines += 1;
                    let mut entries = ring.drain(..);
                    let first = entries.next();
                    self.pending.extend(entries.map(Record::RingEntry));
                    self.ring = ring;
                    return first.map(Record::RingEntry);
                }
                self.ring = ring;
            }
            OomState::JsStack => {
                self.stats.oom_lines += 1;
                if self.js_stack.len() < MAX_JS_STACK_LINES {
                    self.js_stack.push(trimmed.to_owned());
                }
                return None;
            }
            OomState::AfterDeath
                if is_native_frame(trimmed)
                    || trimmed.starts_with("Writing Node.js report")
                    || trimmed == "Node.js report completed" =>
            {
                self.stats.oom_lines += 1;
                return None;
            }
            _ => {}
        }
        let Some(p) = line::prefix(text) else {
            self.stats.program_lines += 1;
            return None;
        };
        let body = &text[p.rest..];
        if p.pid.is_none() {
            // Only a time prefix: an old ring-buffer line, gc-sim's own line (`[gc-sim]`), or the program's own
            // output (`12 ms: done`).
            if !line::looks_like_gc(body) && !line::looks_like_nvp(body) {
                self.stats.program_lines += 1;
                return None;
            }
        }
        if line::looks_like_gc(body) {
            if p.time_ms.is_none() {
                self.malformed("a GC line without its `N ms:` time".into());
                return None;
            }
            return match line::parse_trace_gc(body, line, false) {
                Ok(mut gc) => {
                    gc.pid = p.pid;
                    gc.isolate = p.isolate;
                    gc.time_ms = p.time_ms;
                    self.stats.trace_gc_lines += 1;
                    Some(Record::Gc(gc))
                }
                Err(e) => {
                    self.malformed(format!("unreadable --trace-gc line: {}", e.0));
                    None
                }
            };
        }
        if line::looks_like_nvp(body) {
            return match line::parse_nvp(body, line) {
                Ok(mut gc) => {
                    gc.pid = p.pid;
                    gc.isolate = p.isolate;
                    gc.time_ms = p.time_ms;
                    self.stats.nvp_lines += 1;
                    Some(Record::Gc(gc))
                }
                Err(e) => {
                    self.malformed(format!("unreadable --trace-gc-nvp line: {}", e.0));
                    None
                }
            };
        }
        if let Some(space) = line::parse_space_line(body) {
            self.stats.verbose_lines += 1;
            return Some(Record::Space { line, space });
        }
        if line::is_verbose_info(body) {
            self.stats.verbose_lines += 1;
            return None;
        }
        if mentions_gc(body) {
            self.malformed(format!("a V8 line that names a collector but is no known GC line: '{}'", clip(body)));
            return None;
        }
        self.stats.other_v8_lines += 1;
        None
    }

    fn malformed(&mut self, message: String) {
        self.stats.malformed_gc_lines += 1;
        self.warn(message);
    }
}

fn is_native_frame(t: &str) -> bool {
    // ` 1: 0xb78db3 node::OOMErrorHandler(...)`, or on Windows ` 1: 00007FF71AD3B106 node::OnFatalError+1318`
    let Some((n, rest)) = t.split_once(": ") else { return false };
    let addr = rest.split(' ').next().unwrap_or("");
    let hex = addr.strip_prefix("0x").unwrap_or(addr);
    !n.is_empty()
        && n.trim().chars().all(|c| c.is_ascii_digit())
        && !hex.is_empty()
        && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether a V8 line's body names a collector somewhere (so that failing to read it deserves a warning).
fn mentions_gc(body: &str) -> bool {
    ["Scavenge", "Mark-Compact", "Mark-sweep", "Mark-Sweep", "pause=", "\"pause\""].iter().any(|k| body.contains(k))
}

fn clip(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t.push_str("...");
    }
    t
}
