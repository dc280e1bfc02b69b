//! What can be wrong with a trace: a [`Problem`] (its [`ProblemKind`] and a sentence), and the [`TraceError`] that
//! places it in the input (source, line and column, or the event's index in a JSON `events` array).

use std::fmt;

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

pub(super) fn io_problem(e: &std::io::Error) -> Problem {
    Problem::new(ProblemKind::Io, format!("cannot read the trace: {e}"))
}

pub(super) fn json_problem(e: &serde_json::Error, what: &str) -> Problem {
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

/// `header: MESSAGE` becomes ``header: `FIELD`: MESSAGE`` for a value of the wrong type or range, so that a mistake
/// deep in `heap` names its field. `path` is serde_path_to_error's (`.` for the header itself).
pub(super) fn name_header_field(mut problem: Problem, path: &str) -> Problem {
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
