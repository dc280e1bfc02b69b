//! Trace format v1: allocation traces as JSON or NDJSON, read streaming.
//!
//! A trace is a header (`format`, `version`, `name`, optional `heap` configuration) and a sequence of mutator
//! events (`alloc`, `write`, `root`, `unroot`, `enter`, `exit`, `tick`, `gc`, `mark`). It comes in two forms:
//!
//! * **JSON**: one document, `{"format": "gc-sim-trace", "version": 1, "name": ..., "heap": {...}, "events": [...]}`.
//!   The header fields must come before `events`.
//! * **NDJSON** (`.ndjson`, `.jsonl`): the header without `events` on the first line, then one event per line.
//!
//! Both are read streaming by [`read_trace`]: memory does not grow with the number of events. The full
//! description, with a JSON Schema, is `docs/trace-format.md`.
//!
//! Every error is a [`TraceError`] that names the source, the line (NDJSON, and JSON syntax errors) or the event
//! index (`events[17]` in JSON), and what is wrong.
//!
//! ```
//! use gc_sim::trace::{read_trace, TraceEvent, TraceFormat, TraceHeader, TraceVisitor, Flow, Problem};
//!
//! struct Count(usize);
//! impl TraceVisitor for Count {
//!     fn header(&mut self, _: TraceHeader) -> Result<(), Problem> { Ok(()) }
//!     fn event(&mut self, _: TraceEvent<'_>) -> Result<Flow, Problem> { self.0 += 1; Ok(Flow::Continue) }
//! }
//! let ndjson = "{\"format\": \"gc-sim-trace\", \"version\": 1}\n{\"op\": \"alloc\", \"id\": 1, \"size\": 16}\n";
//! let mut count = Count(0);
//! read_trace(ndjson.as_bytes(), "example.ndjson", Some(TraceFormat::Ndjson), &mut count)?;
//! assert_eq!(count.0, 1);
//! # Ok::<(), gc_sim::trace::TraceError>(())
//! ```

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, Read};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::config::HeapConfig;
use crate::heap::Collection;
use crate::object::{max_slots, MAX_OBJECT_SIZE};

/// The value of a trace header's `format` field.
pub const FORMAT: &str = "gc-sim-trace";
/// The trace format version this crate reads and writes.
pub const VERSION: u32 = 1;

/// The two forms of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// One JSON document with an `events` array.
    Json,
    /// Newline-delimited JSON: the header on the first line, then one event per line.
    Ndjson,
}

impl TraceFormat {
    /// The form a file name's extension implies: `.ndjson` and `.jsonl` are NDJSON, `.json` is JSON; `None` for
    /// anything else (the form is then detected from the content).
    pub fn from_path(path: &std::path::Path) -> Option<TraceFormat> {
        match path.extension()?.to_str()? {
            "ndjson" | "jsonl" => Some(TraceFormat::Ndjson),
            "json" => Some(TraceFormat::Json),
            _ => None,
        }
    }
}

/// A trace's header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceHeader {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// A name shown in summaries, reports and plot titles.
    #[serde(default)]
    pub name: String,
    /// Heap configuration for the run: any [`HeapConfig`] field, sizes in bytes; missing fields keep Node 20's
    /// defaults.
    #[serde(default, deserialize_with = "crate::config::map_only")]
    pub heap: HeapConfig,
}

impl TraceHeader {
    /// A version-1 header with the given name and heap configuration.
    pub fn new(name: impl Into<String>, heap: HeapConfig) -> TraceHeader {
        TraceHeader { format: FORMAT.to_owned(), version: VERSION, name: name.into(), heap }
    }

    fn check(&self) -> Result<(), Problem> {
        if self.format != FORMAT {
            return Err(Problem::new(
                ProblemKind::Header,
                format!("`format` is \"{}\", expected \"{FORMAT}\"", self.format),
            ));
        }
        if self.version != VERSION {
            return Err(Problem::new(
                ProblemKind::Header,
                format!("trace format version {} is not supported (this gc-sim reads version {VERSION})", self.version),
            ));
        }
        Ok(())
    }
}

/// One mutator event of a trace. Strings borrow from the input where they can.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceEvent<'a> {
    /// `alloc`: allocate object `id` in the innermost open handle scope.
    Alloc {
        /// The trace's id for the object, unique in the trace.
        id: u64,
        /// Size in bytes (rounded up to 8 by the heap).
        size: u32,
        /// Number of reference slots.
        slots: u32,
        /// What the object is (`"Timeout"`, `"closure"`).
        kind: Option<Cow<'a, str>>,
        /// A grouping tag, e.g. a connection id.
        tag: Option<Cow<'a, str>>,
        /// The allocation site.
        site: Option<Cow<'a, str>>,
        /// A root set that also holds the new object.
        root: Option<Cow<'a, str>>,
        /// Allocate in the old generation (pretenured, V8's `AllocationType::kOld`).
        pretenured: bool,
    },
    /// `write`: `obj.slots[slot] = to`, through the write barrier.
    Write {
        /// The object written to.
        obj: u64,
        /// The slot index.
        slot: u32,
        /// The object stored, or `None` to clear the slot.
        to: Option<u64>,
    },
    /// `root`: add a handle to `id` in the root set `root`.
    Root {
        /// The object.
        id: u64,
        /// The root set's name.
        root: Cow<'a, str>,
    },
    /// `unroot`: remove one handle to `id` from the root set `root`.
    Unroot {
        /// The object.
        id: u64,
        /// The root set's name.
        root: Cow<'a, str>,
    },
    /// `enter`: open a handle scope.
    Enter,
    /// `exit`: close the innermost handle scope.
    Exit,
    /// `tick`: the mutator runs for `ms` milliseconds.
    Tick {
        /// Milliseconds of mutator time.
        ms: f64,
    },
    /// `gc`: a forced collection, like `global.gc()`.
    Gc {
        /// Minor (a scavenge) or major (a mark-compact).
        kind: Collection,
    },
    /// `mark`: an annotation, shown in logs and plots.
    Mark {
        /// The annotation's text.
        label: Cow<'a, str>,
        /// A tag whose owner ends here (a connection closes): its objects still alive at the end of the trace are
        /// reported as suspected leaks.
        closes: Option<Cow<'a, str>>,
    },
}

impl TraceEvent<'_> {
    /// The event with its strings owned, to keep it after the input it was read from is gone.
    pub fn into_owned(self) -> TraceEvent<'static> {
        let own = |text: Option<Cow<'_, str>>| text.map(|t| Cow::Owned(t.into_owned()));
        match self {
            TraceEvent::Alloc { id, size, slots, kind, tag, site, root, pretenured } => TraceEvent::Alloc {
                id,
                size,
                slots,
                kind: own(kind),
                tag: own(tag),
                site: own(site),
                root: own(root),
                pretenured,
            },
            TraceEvent::Write { obj, slot, to } => TraceEvent::Write { obj, slot, to },
            TraceEvent::Root { id, root } => TraceEvent::Root { id, root: Cow::Owned(root.into_owned()) },
            TraceEvent::Unroot { id, root } => TraceEvent::Unroot { id, root: Cow::Owned(root.into_owned()) },
            TraceEvent::Enter => TraceEvent::Enter,
            TraceEvent::Exit => TraceEvent::Exit,
            TraceEvent::Tick { ms } => TraceEvent::Tick { ms },
            TraceEvent::Gc { kind } => TraceEvent::Gc { kind },
            TraceEvent::Mark { label, closes } => {
                TraceEvent::Mark { label: Cow::Owned(label.into_owned()), closes: own(closes) }
            }
        }
    }
}

/// An event serializes as it is written in a trace: `{"op": "alloc", "id": 1, "size": 24}`, optional fields left out
/// when absent (`slots` when 0, `pretenured` when false), so `serde_json::to_writer` of each event after the
/// header writes an NDJSON trace that [`read_trace`] reads back as the same events.
///
/// ```
/// use gc_sim::trace::TraceEvent;
///
/// let event = TraceEvent::Write { obj: 7, slot: 0, to: None };
/// assert_eq!(serde_json::to_string(&event).unwrap(), r#"{"op":"write","obj":7,"slot":0,"to":null}"#);
/// ```
impl Serialize for TraceEvent<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        match self {
            TraceEvent::Alloc { id, size, slots, kind, tag, site, root, pretenured } => {
                map.serialize_entry("op", "alloc")?;
                map.serialize_entry("id", id)?;
                map.serialize_entry("size", size)?;
                if *slots != 0 {
                    map.serialize_entry("slots", slots)?;
                }
                for (field, value) in [("kind", kind), ("tag", tag), ("site", site), ("root", root)] {
                    if let Some(value) = value {
                        map.serialize_entry(field, value)?;
                    }
                }
                if *pretenured {
                    map.serialize_entry("pretenured", &true)?;
                }
            }
            TraceEvent::Write { obj, slot, to } => {
                map.serialize_entry("op", "write")?;
                map.serialize_entry("obj", obj)?;
                map.serialize_entry("slot", slot)?;
                map.serialize_entry("to", to)?;
            }
            TraceEvent::Root { id, root } | TraceEvent::Unroot { id, root } => {
                let op = if matches!(self, TraceEvent::Root { .. }) { "root" } else { "unroot" };
                map.serialize_entry("op", op)?;
                map.serialize_entry("id", id)?;
                map.serialize_entry("root", root)?;
            }
            TraceEvent::Enter => map.serialize_entry("op", "enter")?,
            TraceEvent::Exit => map.serialize_entry("op", "exit")?,
            TraceEvent::Tick { ms } => {
                map.serialize_entry("op", "tick")?;
                map.serialize_entry("ms", ms)?;
            }
            TraceEvent::Gc { kind } => {
                map.serialize_entry("op", "gc")?;
                let kind = match kind {
                    Collection::Minor => "minor",
                    Collection::Major => "major",
                };
                map.serialize_entry("kind", kind)?;
            }
            TraceEvent::Mark { label, closes } => {
                map.serialize_entry("op", "mark")?;
                map.serialize_entry("label", label)?;
                if let Some(closes) = closes {
                    map.serialize_entry("closes", closes)?;
                }
            }
        }
        map.end()
    }
}

/// What a [`TraceVisitor`] wants after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next event.
    Continue,
    /// Stop reading (the simulated program died); the rest of the input is not read.
    Stop,
}

/// Receives a trace's header and events from [`read_trace`].
pub trait TraceVisitor {
    /// Called once, before any event.
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem>;
    /// Called for every event, in order.
    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem>;
}

/// The category of a trace problem, for programs that react to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The input could not be read.
    Io,
    /// The input is not well-formed JSON.
    Syntax,
    /// A missing, wrong or misplaced header (or an invalid heap configuration in it).
    Header,
    /// An event's `op` is not one of the format's.
    UnknownOp,
    /// A field is missing, has the wrong type or value, or does not belong to the event's op.
    Field,
    /// An `alloc` reuses an id.
    DuplicateId,
    /// An event names an id never allocated.
    UnknownId,
    /// An event uses an object the collector has freed.
    FreedObject,
    /// A `write` past the object's slots.
    SlotOutOfRange,
    /// An `unroot` of a handle the root set does not hold.
    NotRooted,
    /// An `exit` with no open scope.
    NoOpenScope,
    /// An `alloc` of size 0.
    ZeroSize,
}

/// What is wrong with one event or the header, before its position is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The category.
    pub kind: ProblemKind,
    /// A sentence saying what is wrong.
    pub message: String,
}

impl Problem {
    /// A problem of `kind` described by `message`.
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Problem {
        Problem { kind, message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A problem with its place in the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TraceError {
    /// The file name (or `<stdin>`).
    pub source_name: String,
    /// The 1-based line, when known (always for NDJSON; for JSON syntax errors).
    pub line: Option<u64>,
    /// The 1-based column of a JSON syntax error.
    pub column: Option<u64>,
    /// The 0-based index of the event in a JSON trace's `events` array.
    pub event: Option<u64>,
    /// What is wrong.
    pub problem: Problem,
}

impl TraceError {
    /// The category of the problem.
    pub fn kind(&self) -> ProblemKind {
        self.problem.kind
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source_name)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(event) = self.event {
            write!(f, ": events[{event}]")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// How much of a trace [`read_trace`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadSummary {
    /// Events passed to the visitor.
    pub events: u64,
    /// Whether the visitor stopped the reading early.
    pub stopped: bool,
}

/// Reads a trace from `input` and feeds it to `visitor`, streaming. `source_name` is used in error messages.
/// `format` is the trace's form, or `None` to detect it: a first line that is a complete JSON object without
/// `events` starts an NDJSON trace.
///
/// # Errors
/// The first problem met, from the input or from the visitor, with its position.
pub fn read_trace(
    mut input: impl BufRead,
    source_name: &str,
    format: Option<TraceFormat>,
    visitor: &mut impl TraceVisitor,
) -> Result<ReadSummary, TraceError> {
    let error =
        |line, problem| TraceError { source_name: source_name.to_owned(), line, column: None, event: None, problem };
    // What the input starts with: a UTF-8 byte order mark is skipped (RFC 8259 lets a parser ignore it, and editors
    // on Windows write it); compressed or UTF-16 input is named, not reported as malformed JSON at 1:1. The bytes
    // read ahead here and for form detection are put back in front of the rest.
    let mut first_line = Vec::new();
    (&mut input)
        .take(UTF8_BOM.len() as u64 + 1)
        .read_to_end(&mut first_line)
        .map_err(|e| error(None, io_problem(&e)))?;
    if first_line.starts_with(UTF8_BOM) {
        first_line.drain(..UTF8_BOM.len());
    } else if let Some(problem) = unreadable_encoding(&first_line) {
        return Err(error(Some(1), problem));
    }
    // The first line (at most `DETECTION_LIMIT` bytes of it) is read ahead to detect the form.
    let format = match format {
        Some(format) => format,
        None => {
            if !first_line.contains(&b'\n') {
                (&mut input)
                    .take(DETECTION_LIMIT)
                    .read_until(b'\n', &mut first_line)
                    .map_err(|e| error(None, io_problem(&e)))?;
            }
            let end = first_line.iter().position(|&b| b == b'\n').map_or(first_line.len(), |i| i + 1);
            detect_format(&first_line[..end])
        }
    };
    let input = std::io::Cursor::new(first_line).chain(input);
    match format {
        TraceFormat::Ndjson => read_ndjson(input, source_name, visitor),
        TraceFormat::Json => read_json(input, source_name, visitor),
    }
}

/// The UTF-8 encoding of U+FEFF, the byte order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A trace that starts like a compressed file or UTF-16 text: what it is and what to do, instead of a syntax error
/// at its first byte.
fn unreadable_encoding(start: &[u8]) -> Option<Problem> {
    let what = if start.starts_with(&[0x1f, 0x8b]) {
        "is gzip-compressed: decompress it first (`gunzip -c TRACE.gz | gc-sim run -`)"
    } else if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "is zstd-compressed: decompress it first (`zstd -dc TRACE.zst | gc-sim run -`)"
    } else if start.starts_with(&[0xff, 0xfe]) || start.starts_with(&[0xfe, 0xff]) {
        "is UTF-16 text (it starts with a UTF-16 byte order mark): a trace is UTF-8 JSON"
    } else {
        return None;
    };
    Some(Problem::new(ProblemKind::Syntax, format!("the trace {what}")))
}

/// How much of the first line form detection reads; a longer first line is a JSON document's.
const DETECTION_LIMIT: u64 = 1 << 20;

/// A first line that is a complete JSON object without an `events` key is an NDJSON header. The keys are checked
/// without building values, so a long one-line document costs nothing here.
fn detect_format(first_line: &[u8]) -> TraceFormat {
    let keys = serde_json::from_slice::<std::collections::HashMap<Cow<'_, str>, de::IgnoredAny>>(first_line);
    match keys {
        Ok(keys) if !keys.contains_key("events") => TraceFormat::Ndjson,
        _ => TraceFormat::Json,
    }
}

fn io_problem(e: &std::io::Error) -> Problem {
    Problem::new(ProblemKind::Io, format!("cannot read the trace: {e}"))
}

fn json_problem(e: &serde_json::Error, what: &str) -> Problem {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => Problem::new(ProblemKind::Io, format!("cannot read the trace: {e}")),
        Category::Syntax | Category::Eof => {
            Problem::new(ProblemKind::Syntax, format!("malformed JSON: {}", strip_position(e)))
        }
        Category::Data => {
            let message = strip_position(e);
            let kind = if what == "header" { ProblemKind::Header } else { ProblemKind::Field };
            Problem::new(kind, format!("{what}: {message}"))
        }
    }
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) if e.line() > 0 => text[..at].to_owned(),
        _ => text,
    }
}

fn read_ndjson(
    mut input: impl BufRead,
    source_name: &str,
    visitor: &mut impl TraceVisitor,
) -> Result<ReadSummary, TraceError> {
    let at = |line: u64, column: Option<u64>, problem| TraceError {
        source_name: source_name.to_owned(),
        line: Some(line),
        column,
        event: None,
        problem,
    };
    let mut buffer = String::new();
    let mut line = 0u64;
    let mut summary = ReadSummary { events: 0, stopped: false };
    let mut header_seen = false;
    let failed_field = Cell::new(None);
    loop {
        buffer.clear();
        let read = input.read_line(&mut buffer).map_err(|e| {
            let problem = if e.kind() == std::io::ErrorKind::InvalidData {
                Problem::new(ProblemKind::Syntax, "the line is not valid UTF-8")
            } else {
                io_problem(&e)
            };
            at(line + 1, None, problem)
        })?;
        if read == 0 {
            break;
        }
        line += 1;
        let text = buffer.trim();
        if text.is_empty() {
            continue;
        }
        if !header_seen {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let mut track = serde_path_to_error::Track::new();
            let header = crate::config::map_only::<_, TraceHeader>(serde_path_to_error::Deserializer::new(
                &mut deserializer,
                &mut track,
            ))
            .and_then(|header| deserializer.end().map(|()| header));
            let header = header.map_err(|e| {
                let problem = name_header_field(json_problem(&e, "header"), &track.path().to_string());
                at(line, (problem.kind == ProblemKind::Syntax).then_some(e.column() as u64), problem)
            })?;
            header.check().map_err(|p| at(line, None, p))?;
            visitor.header(header).map_err(|p| at(line, None, p))?;
            header_seen = true;
            continue;
        }
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let event = EventSeed { failed: &failed_field }
            .deserialize(&mut deserializer)
            .and_then(|event| deserializer.end().map(|()| event))
            .map_err(|e| {
                let problem = name_event_field(json_problem(&e, "event"), failed_field.take());
                at(line, (problem.kind == ProblemKind::Syntax).then_some(e.column() as u64), problem)
            })?;
        let event = event.map_err(|p| at(line, None, p))?;
        summary.events += 1;
        if visitor.event(event).map_err(|p| at(line, None, p))? == Flow::Stop {
            summary.stopped = true;
            return Ok(summary);
        }
    }
    if !header_seen {
        return Err(at(line.max(1), None, Problem::new(ProblemKind::Header, "the trace is empty: no header line")));
    }
    Ok(summary)
}

fn read_json(input: impl Read, source_name: &str, visitor: &mut impl TraceVisitor) -> Result<ReadSummary, TraceError> {
    let mut state = JsonState {
        visitor,
        failure: None,
        events: 0,
        inside_events: false,
        stopped: false,
        header_field: None,
        failed_field: Cell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let result = Document { state: &mut state }.deserialize(&mut deserializer).and_then(|()| deserializer.end());
    let error =
        |line, column, event, problem| TraceError { source_name: source_name.to_owned(), line, column, event, problem };
    if let Some((event, problem)) = state.failure.take() {
        return Err(error(None, None, event, problem));
    }
    if let Err(e) = result {
        if state.stopped {
            return Ok(ReadSummary { events: state.events, stopped: true });
        }
        let what = if state.inside_events { "event" } else { "header" };
        let mut problem = json_problem(&e, what);
        if let Some(field) = state.header_field.take() {
            problem = name_header_field(problem, &field);
        }
        if what == "event" {
            problem = name_event_field(problem, state.failed_field.take());
        }
        let event = (what == "event" && problem.kind != ProblemKind::Syntax).then_some(state.events);
        let (line, column) = if e.line() > 0 { (Some(e.line() as u64), Some(e.column() as u64)) } else { (None, None) };
        return Err(error(line, column, event, problem));
    }
    Ok(ReadSummary { events: state.events, stopped: state.stopped })
}

/// Where the streaming JSON reader is, and the first problem raised by the visitor (serde only carries strings).
struct JsonState<'v, V> {
    visitor: &'v mut V,
    failure: Option<(Option<u64>, Problem)>,
    events: u64,
    inside_events: bool,
    stopped: bool,
    /// The header field being read (`version`, `heap.page.page_size`), so that a type error can name it.
    header_field: Option<String>,
    /// The event field whose value serde rejected.
    failed_field: Cell<Option<Field>>,
}

/// `event: MESSAGE` becomes ``event: `FIELD`: MESSAGE`` when serde rejected the value of a known field.
fn name_event_field(mut problem: Problem, field: Option<Field>) -> Problem {
    if let (ProblemKind::Field, Some(field)) = (problem.kind, field) {
        if let Some(message) = problem.message.strip_prefix("event: ") {
            problem.message = format!("event: `{}`: {message}", field.name());
        }
    }
    problem
}

/// `header: MESSAGE` becomes ``header: `FIELD`: MESSAGE`` for a value of the wrong type or range, so that a mistake
/// deep in `heap` names its field. `path` is serde_path_to_error's (`.` for the header itself).
fn name_header_field(mut problem: Problem, path: &str) -> Problem {
    // An unknown field's path ends in the unknown name, which the message already quotes: name its object.
    let path = match problem.message.starts_with("header: unknown field") {
        true => path.rsplit_once('.').map_or("", |(parent, _)| parent),
        false => path,
    };
    if problem.kind == ProblemKind::Header && path != "." && !path.is_empty() {
        if let Some(message) = problem.message.strip_prefix("header: ") {
            problem.message = format!("header: `{path}`: {message}");
        }
    }
    problem
}

/// A header value read from a JSON object, recording the path to a field in error (serde_path_to_error).
struct TrackedValue<'t, T> {
    track: &'t mut serde_path_to_error::Track,
    value: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for TrackedValue<'_, T> {
    type Value = T;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        crate::config::map_only(serde_path_to_error::Deserializer::new(deserializer, self.track))
    }
}

/// The top-level JSON object, read field by field so that `events` streams.
struct Document<'s, 'v, V> {
    state: &'s mut JsonState<'v, V>,
}

#[derive(Default)]
struct PartialHeader {
    format: Option<String>,
    version: Option<u32>,
    name: Option<String>,
    heap: Option<HeapConfig>,
}

impl PartialHeader {
    fn finish(&mut self) -> Result<TraceHeader, Problem> {
        let missing = |field| Problem::new(ProblemKind::Header, format!("header: missing field `{field}`"));
        let header = TraceHeader {
            format: self.format.take().ok_or_else(|| missing("format"))?,
            version: self.version.take().ok_or_else(|| missing("version"))?,
            name: self.name.take().unwrap_or_default(),
            heap: self.heap.take().unwrap_or_default(),
        };
        header.check()?;
        Ok(header)
    }
}

impl<'de, V: TraceVisitor> DeserializeSeed<'de> for Document<'_, '_, V> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, V: TraceVisitor> Visitor<'de> for Document<'_, '_, V> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a gc-sim trace object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut header = PartialHeader::default();
        let mut events_seen = false;
        let fail = |state: &mut JsonState<'_, V>, event: Option<u64>, problem: Problem| {
            state.failure = Some((event, problem));
            de::Error::custom("stopped")
        };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if events_seen && key != "events" {
                return Err(fail(
                    self.state,
                    None,
                    Problem::new(ProblemKind::Header, format!("header field `{key}` must come before `events`")),
                ));
            }
            // A header field given twice is an error, positioned by the parser, as in the NDJSON header.
            let repeated = match &*key {
                "format" if header.format.is_some() => Some("format"),
                "version" if header.version.is_some() => Some("version"),
                "name" if header.name.is_some() => Some("name"),
                "heap" if header.heap.is_some() => Some("heap"),
                _ => None,
            };
            if let Some(field) = repeated {
                return Err(de::Error::duplicate_field(field));
            }
            if matches!(&*key, "format" | "version" | "name") {
                self.state.header_field = Some(key.to_string());
            }
            match &*key {
                "format" => header.format = Some(map.next_value()?),
                "version" => header.version = Some(map.next_value()?),
                "name" => header.name = Some(map.next_value()?),
                "heap" => {
                    let mut track = serde_path_to_error::Track::new();
                    let heap = map.next_value_seed(TrackedValue { track: &mut track, value: std::marker::PhantomData });
                    match heap {
                        Ok(heap) => header.heap = Some(heap),
                        Err(e) => {
                            let path = track.path().to_string();
                            let within = if path == "." { String::new() } else { format!(".{path}") };
                            self.state.header_field = Some(format!("heap{within}"));
                            return Err(e);
                        }
                    }
                }
                "events" => {
                    if events_seen {
                        return Err(fail(
                            self.state,
                            None,
                            Problem::new(ProblemKind::Header, "`events` appears twice"),
                        ));
                    }
                    events_seen = true;
                    let header = header.finish().map_err(|mut p| {
                        if p.message.contains("missing field") {
                            p.message.push_str(" (the header fields must come before `events`)");
                        }
                        fail(self.state, None, p)
                    })?;
                    self.state.visitor.header(header).map_err(|p| fail(self.state, None, p))?;
                    self.state.inside_events = true;
                    map.next_value_seed(Events { state: &mut *self.state })?;
                    self.state.inside_events = false;
                    if self.state.stopped {
                        return Err(de::Error::custom("stopped"));
                    }
                }
                other => {
                    return Err(fail(
                        self.state,
                        None,
                        Problem::new(
                            ProblemKind::Header,
                            format!("unknown header field `{other}` (expected format, version, name, heap, events)"),
                        ),
                    ))
                }
            }
            self.state.header_field = None;
        }
        if !events_seen {
            let header = header.finish().map_err(|p| fail(self.state, None, p))?;
            self.state.visitor.header(header).map_err(|p| fail(self.state, None, p))?;
        }
        Ok(())
    }
}

/// The `events` array, fed to the visitor one element at a time.
struct Events<'s, 'v, V> {
    state: &'s mut JsonState<'v, V>,
}

impl<'de, V: TraceVisitor> DeserializeSeed<'de> for Events<'_, '_, V> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, V: TraceVisitor> Visitor<'de> for Events<'_, '_, V> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.state;
        while let Some(event) = seq.next_element_seed(EventSeed { failed: &state.failed_field })? {
            let index = state.events;
            let flow = event.and_then(|event| state.visitor.event(event));
            state.events += 1;
            match flow {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => {
                    state.stopped = true;
                    return Err(de::Error::custom("stopped"));
                }
                Err(problem) => {
                    state.failure = Some((Some(index), problem));
                    return Err(de::Error::custom("stopped"));
                }
            }
        }
        Ok(())
    }
}

/// The ops of format v1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Alloc,
    Write,
    Root,
    Unroot,
    Enter,
    Exit,
    Tick,
    Gc,
    Mark,
}

impl Op {
    const ALL: [Op; 9] = [Op::Alloc, Op::Write, Op::Root, Op::Unroot, Op::Enter, Op::Exit, Op::Tick, Op::Gc, Op::Mark];

    fn parse(name: &str) -> Result<Op, Problem> {
        Op::ALL.into_iter().find(|op| op.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
            Problem::new(ProblemKind::UnknownOp, format!("unknown op \"{name}\" (the ops: {})", names.join(", ")))
        })
    }

    /// The fields an event of this op may have, besides `op`.
    fn fields(self) -> &'static [Field] {
        match self {
            Op::Alloc => &[
                Field::Id,
                Field::Size,
                Field::Slots,
                Field::Kind,
                Field::Tag,
                Field::Site,
                Field::Root,
                Field::Pretenured,
            ],
            Op::Write => &[Field::Obj, Field::Slot, Field::To],
            Op::Root | Op::Unroot => &[Field::Id, Field::Root],
            Op::Enter | Op::Exit => &[],
            Op::Tick => &[Field::Ms],
            Op::Gc => &[Field::Kind],
            Op::Mark => &[Field::Label, Field::Closes],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Op::Alloc => "alloc",
            Op::Write => "write",
            Op::Root => "root",
            Op::Unroot => "unroot",
            Op::Enter => "enter",
            Op::Exit => "exit",
            Op::Tick => "tick",
            Op::Gc => "gc",
            Op::Mark => "mark",
        }
    }
}

/// The field names of an event. Derived, so that an unknown field gets serde's own message (``unknown field
/// `colour`, expected one of `op`, `id`, ...``).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Op,
    Id,
    Size,
    Slots,
    Kind,
    Tag,
    Site,
    Root,
    Pretenured,
    Obj,
    Slot,
    To,
    Ms,
    Label,
    Closes,
}

impl Field {
    /// Every field but `op`, in the order problems name them.
    const OPERANDS: [Field; 14] = [
        Field::Id,
        Field::Size,
        Field::Slots,
        Field::Kind,
        Field::Tag,
        Field::Site,
        Field::Root,
        Field::Pretenured,
        Field::Obj,
        Field::Slot,
        Field::To,
        Field::Ms,
        Field::Label,
        Field::Closes,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::Op => "op",
            Field::Id => "id",
            Field::Size => "size",
            Field::Slots => "slots",
            Field::Kind => "kind",
            Field::Tag => "tag",
            Field::Site => "site",
            Field::Root => "root",
            Field::Pretenured => "pretenured",
            Field::Obj => "obj",
            Field::Slot => "slot",
            Field::To => "to",
            Field::Ms => "ms",
            Field::Label => "label",
            Field::Closes => "closes",
        }
    }

    /// The field's bit in a [`FieldSet`].
    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of [`Field`]s, one bit each.
#[derive(Clone, Copy, Default)]
struct FieldSet(u16);

impl FieldSet {
    fn of(fields: &[Field]) -> FieldSet {
        FieldSet(fields.iter().fold(0, |bits, field| bits | field.bit()))
    }

    fn contains(self, field: Field) -> bool {
        self.0 & field.bit() != 0
    }

    fn insert(&mut self, field: Field) {
        self.0 |= field.bit();
    }
}

/// A string that borrows from the input unless it has escapes (serde's `Cow<str>` always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// Reads one event object straight into a [`TraceEvent`], with no intermediate struct of every possible field.
///
/// JSON problems (syntax, a wrong type, an unknown or repeated field, no `op`) are serde errors, so that they keep
/// serde's position; the format's own rules (the op's fields, sizes) come out as the inner `Err` once the whole
/// object has been read.
///
/// A value of the wrong type names its field: the seed records in `failed` which field's value serde rejected, and
/// the reader puts it in the message (`event: `kind`: invalid type: ...`). Nothing is recorded unless a value fails.
#[derive(Clone, Copy)]
struct EventSeed<'c> {
    failed: &'c Cell<Option<Field>>,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = Result<TraceEvent<'de>, Problem>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventSeed<'_> {
    type Value = Result<TraceEvent<'de>, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut op = None;
        let mut event = EventFields::default();
        let mut seen = FieldSet::default();
        while let Some(field) = map.next_key::<Field>()? {
            if seen.contains(field) {
                return Err(de::Error::duplicate_field(field.name()));
            }
            seen.insert(field);
            let failed = |_: &A::Error| self.failed.set(Some(field));
            let value = Operand { map: &mut map, field, given: &mut event.given, failed: self.failed };
            match field {
                Field::Op => op = Some(map.next_value::<Text<'de>>().inspect_err(failed)?.0),
                Field::Id => event.id = value.read()?,
                Field::Size => event.size = value.read()?,
                Field::Slots => event.slots = value.read()?,
                Field::Kind => event.kind = value.text()?,
                Field::Tag => event.tag = value.text()?,
                Field::Site => event.site = value.text()?,
                Field::Root => event.root = value.text()?,
                Field::Pretenured => event.pretenured = value.read()?,
                Field::Obj => event.obj = value.read()?,
                Field::Slot => event.slot = value.read()?,
                Field::To => {
                    // `"to": null` clears the slot: present, unlike a `null` anywhere else.
                    event.to = Some(map.next_value().inspect_err(failed)?);
                    event.given.insert(Field::To);
                }
                Field::Ms => event.ms = value.read()?,
                Field::Label => event.label = value.text()?,
                Field::Closes => event.closes = value.text()?,
            }
        }
        let op = op.ok_or_else(|| de::Error::missing_field("op"))?;
        Ok(Op::parse(&op).and_then(|op| event.into_event(op)))
    }
}

/// The value of one operand field, read from the map; a value other than `null` marks the field given.
struct Operand<'m, 'g, A> {
    map: &'m mut A,
    field: Field,
    given: &'g mut FieldSet,
    failed: &'g Cell<Option<Field>>,
}

impl<'de, A: MapAccess<'de>> Operand<'_, '_, A> {
    fn read<T: Deserialize<'de>>(self) -> Result<Option<T>, A::Error> {
        let value: Option<T> = self.map.next_value().inspect_err(|_| self.failed.set(Some(self.field)))?;
        if value.is_some() {
            self.given.insert(self.field);
        }
        Ok(value)
    }

    fn text(self) -> Result<Option<Cow<'de, str>>, A::Error> {
        Ok(self.read::<Text<'de>>()?.map(|text| text.0))
    }
}

/// The operands of an event as written; [`EventFields::into_event`] checks them against the op. `null` is the same
/// as leaving a field out, except for `to`, where it clears the slot.
#[derive(Default)]
struct EventFields<'a> {
    id: Option<u64>,
    size: Option<u64>,
    slots: Option<u64>,
    kind: Option<Cow<'a, str>>,
    tag: Option<Cow<'a, str>>,
    site: Option<Cow<'a, str>>,
    root: Option<Cow<'a, str>>,
    pretenured: Option<bool>,
    obj: Option<u64>,
    slot: Option<u64>,
    to: Option<Option<u64>>,
    ms: Option<f64>,
    label: Option<Cow<'a, str>>,
    closes: Option<Cow<'a, str>>,
    /// The fields given a value.
    given: FieldSet,
}

impl<'a> EventFields<'a> {
    fn into_event(self, op: Op) -> Result<TraceEvent<'a>, Problem> {
        let allowed = op.fields();
        if self.given.0 & !FieldSet::of(allowed).0 != 0 {
            let field = Field::OPERANDS.into_iter().find(|&f| self.given.contains(f) && !allowed.contains(&f));
            let field = field.map_or("?", Field::name);
            let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
            return Err(Problem::new(
                ProblemKind::Field,
                format!("`{}` has no field `{field}` (its fields: {})", op.name(), list(&names)),
            ));
        }
        let missing =
            |field: &str| Problem::new(ProblemKind::Field, format!("`{}` needs the field `{field}`", op.name()));
        let small = |field: &str, value: u64| {
            u32::try_from(value).map_err(|_| {
                Problem::new(ProblemKind::Field, format!("`{field}` is {value}, more than the maximum of {}", u32::MAX))
            })
        };
        Ok(match op {
            Op::Alloc => {
                let size = self.size.ok_or_else(|| missing("size"))?;
                if size == 0 {
                    return Err(Problem::new(ProblemKind::ZeroSize, "`size` is 0: an object has at least 1 byte"));
                }
                let size = u32::try_from(size).ok().filter(|&s| s <= MAX_OBJECT_SIZE).ok_or_else(|| {
                    let message = format!("`size` is {size}, more than the maximum of {MAX_OBJECT_SIZE}");
                    Problem::new(ProblemKind::Field, message)
                })?;
                let slots = self.slots.unwrap_or(0);
                if slots > u64::from(max_slots(size)) {
                    return Err(Problem::new(
                        ProblemKind::Field,
                        format!(
                            "`slots` is {slots}, more than an object of {size} B holds: at most {} (8-byte slots after \
                             the map word)",
                            max_slots(size)
                        ),
                    ));
                }
                TraceEvent::Alloc {
                    id: self.id.ok_or_else(|| missing("id"))?,
                    size,
                    slots: slots as u32,
                    kind: self.kind,
                    tag: self.tag,
                    site: self.site,
                    root: self.root,
                    pretenured: self.pretenured.unwrap_or(false),
                }
            }
            Op::Write => TraceEvent::Write {
                obj: self.obj.ok_or_else(|| missing("obj"))?,
                slot: small("slot", self.slot.ok_or_else(|| missing("slot"))?)?,
                to: self.to.ok_or_else(|| missing("to"))?,
            },
            Op::Root => TraceEvent::Root {
                id: self.id.ok_or_else(|| missing("id"))?,
                root: self.root.ok_or_else(|| missing("root"))?,
            },
            Op::Unroot => TraceEvent::Unroot {
                id: self.id.ok_or_else(|| missing("id"))?,
                root: self.root.ok_or_else(|| missing("root"))?,
            },
            Op::Enter => TraceEvent::Enter,
            Op::Exit => TraceEvent::Exit,
            Op::Tick => {
                let ms = self.ms.ok_or_else(|| missing("ms"))?;
                if !(ms.is_finite() && ms >= 0.0) {
                    return Err(Problem::new(ProblemKind::Field, format!("`ms` is {ms}: it must be a number >= 0")));
                }
                TraceEvent::Tick { ms }
            }
            Op::Gc => TraceEvent::Gc {
                kind: match self.kind.as_deref() {
                    Some("minor") => Collection::Minor,
                    Some("major") => Collection::Major,
                    Some(other) => {
                        return Err(Problem::new(
                            ProblemKind::Field,
                            format!("`gc` has kind \"{other}\", expected \"minor\" or \"major\""),
                        ))
                    }
                    None => return Err(missing("kind")),
                },
            },
            Op::Mark => TraceEvent::Mark { label: self.label.ok_or_else(|| missing("label"))?, closes: self.closes },
        })
    }
}

fn list(fields: &[&str]) -> String {
    if fields.is_empty() {
        "none".to_owned()
    } else {
        fields.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects events as owned debug strings.
    #[derive(Default, Debug)]
    struct Collect {
        header: Option<TraceHeader>,
        events: Vec<String>,
        stop_after: Option<usize>,
    }

    impl TraceVisitor for Collect {
        fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
            self.header = Some(header);
            Ok(())
        }
        fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
            self.events.push(format!("{event:?}"));
            Ok(if Some(self.events.len()) == self.stop_after { Flow::Stop } else { Flow::Continue })
        }
    }

    const HEADER: &str =
        r#"{"format": "gc-sim-trace", "version": 1, "name": "t", "heap": {"max_semi_space_size": 2097152}}"#;
    const EVENTS: [&str; 4] = [
        r#"{"op": "alloc", "id": 1, "size": 24, "slots": 2, "tag": "conn-1", "root": "timers"}"#,
        r#"{"op": "write", "obj": 1, "slot": 0, "to": null}"#,
        r#"{"op": "tick", "ms": 1.5}"#,
        r#"{"op": "gc", "kind": "minor"}"#,
    ];

    fn json() -> String {
        format!("{}, \"events\": [\n{}\n]}}", &HEADER[..HEADER.len() - 1], EVENTS.join(",\n"))
    }

    fn ndjson() -> String {
        format!("{HEADER}\n{}\n", EVENTS.join("\n"))
    }

    fn read(text: &str, format: Option<TraceFormat>) -> Result<Collect, TraceError> {
        let mut collect = Collect::default();
        read_trace(text.as_bytes(), "t", format, &mut collect)?;
        Ok(collect)
    }

    #[test]
    fn json_and_ndjson_give_the_same_events() {
        let a = read(&json(), Some(TraceFormat::Json)).unwrap();
        let b = read(&ndjson(), Some(TraceFormat::Ndjson)).unwrap();
        assert_eq!(a.events, b.events);
        assert_eq!(a.events.len(), 4);
        assert_eq!(a.header, b.header);
        assert_eq!(a.header.unwrap().heap.max_semi_space_size, 2 * 1024 * 1024);
        assert!(a.events[1].contains("to: None"), "{}", a.events[1]);
    }

    #[test]
    fn the_form_is_detected_from_the_first_line() {
        assert_eq!(read(&json(), None).unwrap().events.len(), 4);
        assert_eq!(read(&ndjson(), None).unwrap().events.len(), 4);
        let one_line_json = json().replace('\n', "");
        assert_eq!(read(&one_line_json, None).unwrap().events.len(), 4);
    }

    #[test]
    fn a_one_line_document_longer_than_the_detection_limit_is_json() {
        let event = r#"{"op": "alloc", "id": 1, "size": 24, "kind": "a long label to make the line long"}"#;
        let events = vec![event; (DETECTION_LIMIT as usize / event.len()) * 2].join(",");
        let text = format!("{}, \"events\": [{events}]}}", &HEADER[..HEADER.len() - 1]);
        assert!(text.len() as u64 > 2 * DETECTION_LIMIT - 1000);
        assert_eq!(read(&text, None).unwrap().events.len(), events.matches("alloc").count());
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        for (text, format) in
            [(json(), Some(TraceFormat::Json)), (ndjson(), Some(TraceFormat::Ndjson)), (ndjson(), None)]
        {
            let with_bom = format!("\u{feff}{text}");
            for capacity in [1, 2, 4096] {
                let input = std::io::BufReader::with_capacity(capacity, with_bom.as_bytes());
                let mut collect = Collect::default();
                read_trace(input, "t", format, &mut collect).unwrap();
                assert_eq!(collect.events.len(), 4, "capacity {capacity}, {format:?}");
            }
        }
        // A short input still reads: the look-ahead gives back what it read.
        let e = read("{", None).unwrap_err();
        assert_eq!(e.kind(), ProblemKind::Syntax, "{e}");
        assert_eq!(read("", None).unwrap_err().line, Some(1));
    }

    #[test]
    fn compressed_and_utf16_traces_are_named_not_malformed() {
        let utf16: Vec<u8> =
            [0xff, 0xfe].into_iter().chain(ndjson().encode_utf16().flat_map(u16::to_le_bytes)).collect();
        for (bytes, what) in [
            (vec![0x1f, 0x8b, 8, 0, 0, 0], "gzip-compressed"),
            (vec![0x28, 0xb5, 0x2f, 0xfd, 0], "zstd-compressed"),
            (utf16, "UTF-16"),
        ] {
            for format in [None, Some(TraceFormat::Json), Some(TraceFormat::Ndjson)] {
                let e = read_trace(&bytes[..], "t", format, &mut Collect::default()).unwrap_err();
                assert_eq!((e.kind(), e.line), (ProblemKind::Syntax, Some(1)), "{e}");
                assert!(e.to_string().contains(what), "{e}");
            }
        }
    }

    #[test]
    fn a_header_or_heap_written_as_an_array_is_a_type_error() {
        let header = |heap: &str| format!(r#"{{"format": "gc-sim-trace", "version": 1, "heap": {heap}}}"#);
        for text in [
            header("[]"),
            header("[{}, 1048576]"),
            header(r#"{"page": []}"#),
            header(r#"{"pause": [1.0]}"#),
            r#"["gc-sim-trace", 1]"#.to_owned(),
        ] {
            for (text, format) in [
                (format!("{text}\n"), TraceFormat::Ndjson),
                (format!("{}, \"events\": []}}", &text[..text.len() - 1]), TraceFormat::Json),
            ] {
                if text.starts_with('[') && format == TraceFormat::Json {
                    continue;
                }
                let e = read(&text, Some(format)).unwrap_err();
                assert_eq!(e.kind(), ProblemKind::Header, "{text}: {e}");
                assert!(e.to_string().contains("expected an object"), "{text}: {e}");
            }
        }
    }

    #[test]
    fn a_header_type_error_names_its_field_in_both_forms() {
        for (fields, named) in [
            (r#""version": "1""#, "`version`"),
            (r#""version": 1, "name": 7"#, "`name`"),
            (r#""version": 1, "heap": {"page": {"page_size": "big"}}"#, "`heap.page.page_size`"),
            (r#""version": 1, "heap": {"pause": {"scavenge_base_ms": true}}"#, "`heap.pause.scavenge_base_ms`"),
            (r#""version": 1, "heap": {"page": {"colour": 1}}"#, "`heap.page`: unknown field `colour`"),
        ] {
            let header = format!(r#"{{"format": "gc-sim-trace", {fields}}}"#);
            for (text, format) in [
                (format!("{header}\n"), TraceFormat::Ndjson),
                (format!("{}, \"events\": []}}", &header[..header.len() - 1]), TraceFormat::Json),
            ] {
                let e = read(&text, Some(format)).unwrap_err();
                assert_eq!((e.kind(), e.line), (ProblemKind::Header, Some(1)), "{text}: {e}");
                assert!(e.to_string().contains(&format!("header: {named}")), "{text}: {e}");
            }
        }
    }

    #[test]
    fn a_visitor_can_stop_the_reading() {
        for (text, format) in [(json(), TraceFormat::Json), (ndjson(), TraceFormat::Ndjson)] {
            let mut collect = Collect { stop_after: Some(2), ..Collect::default() };
            let summary = read_trace(text.as_bytes(), "t", Some(format), &mut collect).unwrap();
            assert_eq!(summary, ReadSummary { events: 2, stopped: true });
        }
    }

    /// Lines that cross the end of the reader's buffer, CRLF line ends, blank lines, a
    /// missing final newline and bad bytes must read the same whatever the buffer's size.
    #[test]
    fn ndjson_lines_read_the_same_across_buffer_boundaries() {
        let expected = read(&ndjson(), Some(TraceFormat::Ndjson)).unwrap().events;
        let variants = [
            ndjson(),
            ndjson().replace('\n', "\r\n"),
            ndjson().replace('\n', "\n\n  \n"),
            ndjson().trim_end().to_owned(),
        ];
        for text in &variants {
            for capacity in [1, 2, 3, 7, 16, 64, 4096] {
                let input = std::io::BufReader::with_capacity(capacity, text.as_bytes());
                let mut collect = Collect::default();
                let summary = read_trace(input, "t", None, &mut collect).unwrap();
                assert_eq!(collect.events, expected, "capacity {capacity}, text {text:?}");
                assert_eq!(summary, ReadSummary { events: 4, stopped: false });
                let input = std::io::BufReader::with_capacity(capacity, text.as_bytes());
                let mut collect = Collect { stop_after: Some(3), ..Collect::default() };
                let summary = read_trace(input, "t", Some(TraceFormat::Ndjson), &mut collect).unwrap();
                assert_eq!(summary, ReadSummary { events: 3, stopped: true });
            }
        }
        // Invalid UTF-8 inside a string is a syntax error at its line, not a panic or a skipped line.
        let mut bytes = ndjson().into_bytes();
        let at = bytes.windows(6).position(|w| w == b"conn-1").unwrap();
        bytes[at] = 0xff;
        for capacity in [5, 4096] {
            let input = std::io::BufReader::with_capacity(capacity, &bytes[..]);
            let e = read_trace(input, "t", Some(TraceFormat::Ndjson), &mut Collect::default()).unwrap_err();
            assert_eq!((e.kind(), e.line), (ProblemKind::Syntax, Some(2)), "{e}");
            assert!(e.to_string().ends_with("the line is not valid UTF-8"), "{e}");
        }
    }

    fn arbitrary_event() -> impl proptest::strategy::Strategy<Value = TraceEvent<'static>> {
        use proptest::prelude::*;
        let text = || proptest::option::of("[a-z\\-\"\\\\é ]{0,6}".prop_map(Cow::Owned));
        let name = || "[a-z\"]{1,4}".prop_map(Cow::<'static, str>::Owned);
        prop_oneof![
            (any::<u64>(), 1..=MAX_OBJECT_SIZE, any::<u32>(), text(), text(), text(), text(), any::<bool>()).prop_map(
                |(id, size, slots, kind, tag, site, root, pretenured)| TraceEvent::Alloc {
                    id,
                    size,
                    slots: slots % (max_slots(size) + 1),
                    kind,
                    tag,
                    site,
                    root,
                    pretenured
                }
            ),
            (any::<u64>(), any::<u32>(), proptest::option::of(any::<u64>()))
                .prop_map(|(obj, slot, to)| TraceEvent::Write { obj, slot, to }),
            (any::<u64>(), name()).prop_map(|(id, root)| TraceEvent::Root { id, root }),
            (any::<u64>(), name()).prop_map(|(id, root)| TraceEvent::Unroot { id, root }),
            Just(TraceEvent::Enter),
            Just(TraceEvent::Exit),
            (0.0..1e9f64).prop_map(|ms| TraceEvent::Tick { ms }),
            prop_oneof![Just(Collection::Minor), Just(Collection::Major)].prop_map(|kind| TraceEvent::Gc { kind }),
            (name(), text()).prop_map(|(label, closes)| TraceEvent::Mark { label, closes }),
        ]
    }

    /// Owns every event it reads.
    #[derive(Default)]
    struct Keep(Vec<TraceEvent<'static>>);

    impl TraceVisitor for Keep {
        fn header(&mut self, _: TraceHeader) -> Result<(), Problem> {
            Ok(())
        }
        fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
            self.0.push(event.into_owned());
            Ok(Flow::Continue)
        }
    }

    proptest::proptest! {
        /// Serialized events, one per line after a header, read back as the same events.
        #[test]
        fn serialized_events_read_back_the_same(events in proptest::collection::vec(arbitrary_event(), 0..40)) {
            let mut text = format!("{HEADER}\n");
            for event in &events {
                text += &serde_json::to_string(event).unwrap();
                text.push('\n');
            }
            let mut keep = Keep::default();
            read_trace(text.as_bytes(), "t", None, &mut keep).unwrap();
            proptest::prop_assert_eq!(keep.0, events);
        }
    }

    fn error(text: &str, format: TraceFormat) -> TraceError {
        match read(text, Some(format)) {
            Ok(c) => panic!("expected an error, read {:?}", c.events),
            Err(e) => e,
        }
    }

    #[test]
    fn ndjson_errors_name_the_line() {
        let bad = |event: &str| format!("{HEADER}\n{}\n{event}\n", EVENTS[0]);
        let cases = [
            (r#"{"op": "alloc", "id": 2"#, ProblemKind::Syntax, "t:3:"),
            (r#"{"op": "free", "id": 2}"#, ProblemKind::UnknownOp, "t:3: unknown op \"free\" (the ops: alloc, write,"),
            (r#"{"op": "alloc", "id": 2}"#, ProblemKind::Field, "t:3: `alloc` needs the field `size`"),
            (r#"{"op": "alloc", "id": "x", "size": 8}"#, ProblemKind::Field, "t:3: event: `id`: invalid type"),
            (r#"{"op": "alloc", "id": 2, "size": 0}"#, ProblemKind::ZeroSize, "t:3: `size` is 0"),
            (r#"{"op": "tick", "ms": 1, "id": 3}"#, ProblemKind::Field, "t:3: `tick` has no field `id`"),
            (r#"{"op": "gc", "kind": "full"}"#, ProblemKind::Field, "t:3: `gc` has kind \"full\""),
            (r#"{"op": "write", "obj": 1, "slot": 0}"#, ProblemKind::Field, "t:3: `write` needs the field `to`"),
            (r#"{"op": "alloc", "id": 2, "size": 8, "colour": 1}"#, ProblemKind::Field, "unknown field `colour`"),
            (r#"{"op": "alloc", "id": 2, "id": 3, "size": 8}"#, ProblemKind::Field, "t:3: event: duplicate field `id`"),
            (r#"{"id": 2, "size": 8}"#, ProblemKind::Field, "t:3: event: missing field `op`"),
            (r#"{"op": null}"#, ProblemKind::Field, "t:3: event: `op`: invalid type: null, expected a string"),
            (r#"[1, 2]"#, ProblemKind::Field, "t:3: event: invalid type: sequence, expected an event object"),
            (r#"{"op": "enter"} {"op": "exit"}"#, ProblemKind::Syntax, "t:3:17: malformed JSON: trailing characters"),
            (r#"{"op": "enter", "to": null}"#, ProblemKind::Field, "t:3: `enter` has no field `to` (its fields: none)"),
        ];
        for (event, kind, expected) in cases {
            let e = error(&bad(event), TraceFormat::Ndjson);
            assert_eq!(e.kind(), kind, "{e}");
            assert!(e.to_string().contains(expected), "{e} does not contain {expected}");
            assert_eq!(e.line, Some(3));
        }
    }

    #[test]
    fn null_operands_are_absent_and_escaped_strings_are_read() {
        let text = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"op": "alloc", "id": 1, "size": 8, "slots": null, "obj": null, "kind": "a\"b\u00e9", "tag": null}"#,
            r#"{"to": null, "slot": 0, "obj": 1, "op": "write"}"#,
        );
        let mut keep = Keep::default();
        read_trace(text.as_bytes(), "t", None, &mut keep).unwrap();
        let expected = [
            TraceEvent::Alloc {
                id: 1,
                size: 8,
                slots: 0,
                kind: Some("a\"bé".into()),
                tag: None,
                site: None,
                root: None,
                pretenured: false,
            },
            TraceEvent::Write { obj: 1, slot: 0, to: None },
        ];
        assert_eq!(keep.0, expected);
    }

    #[test]
    fn json_errors_name_the_event_index() {
        let text = json().replace(r#""op": "tick", "ms": 1.5"#, r#""op": "tick""#);
        let e = error(&text, TraceFormat::Json);
        assert_eq!(e.event, Some(2));
        assert!(e.to_string().starts_with("t: events[2]: `tick` needs the field `ms`"), "{e}");
        let text = json().replace(r#""op": "tick", "ms": 1.5"#, r#""op": "tick", "ms": "soon""#);
        let e = error(&text, TraceFormat::Json);
        assert_eq!((e.kind(), e.event), (ProblemKind::Field, Some(2)), "{e}");
        assert!(e.line.is_some(), "serde's position is kept: {e}");
        let text = json().replace(r#"{"op": "tick", "ms": 1.5}"#, r#"{"op": "tick", "ms": 1.5"#);
        let e = error(&text, TraceFormat::Json);
        assert_eq!(e.kind(), ProblemKind::Syntax);
        assert_eq!(e.line, Some(5), "{e}");
    }

    #[test]
    fn header_problems() {
        let cases = [
            (r#"{"format": "other", "version": 1}"#, "`format` is \"other\""),
            (r#"{"format": "gc-sim-trace", "version": 2}"#, "version 2 is not supported"),
            (r#"{"format": "gc-sim-trace"}"#, "header: missing field `version`"),
            (r#"{"format": "gc-sim-trace", "version": 1, "heap": {"max_old": 1}}"#, "unknown field `max_old`"),
        ];
        for (header, expected) in cases {
            for format in [TraceFormat::Json, TraceFormat::Ndjson] {
                let e = error(&format!("{header}\n"), format);
                assert_eq!(e.kind(), ProblemKind::Header, "{e}");
                assert!(e.to_string().contains(expected), "{e}: expected {expected}");
            }
        }
        let late = r#"{"format": "gc-sim-trace", "events": [], "version": 1}"#;
        assert!(error(late, TraceFormat::Json)
            .to_string()
            .contains("missing field `version` (the header fields must come before `events`)"));
        assert_eq!(error("", TraceFormat::Ndjson).kind(), ProblemKind::Header);
        assert_eq!(error("", TraceFormat::Json).kind(), ProblemKind::Syntax);
    }

    #[test]
    fn sizes_over_u32_are_rejected_not_truncated() {
        let e =
            error(&format!("{HEADER}\n{{\"op\": \"alloc\", \"id\": 1, \"size\": 4294967296}}\n"), TraceFormat::Ndjson);
        assert!(e.to_string().contains("`size` is 4294967296, more than the maximum"), "{e}");
    }
}
