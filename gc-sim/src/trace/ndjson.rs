//! The stream reader: an NDJSON trace, the header on its first non-blank line and then one event per line. Lines
//! are found with `memchr` in the input's own buffer and read where they lie (only a line cut by the end of the
//! buffer is copied, into `carry`); each event is decoded in place (strings borrow from the line), by the fast
//! path where it can ([`fast_event`]), else by serde.

use std::cell::Cell;
use std::io::BufRead;

use serde::de::DeserializeSeed;

use super::decoder::{fast_event, name_event_field, EventSeed, Field};
use super::error::{io_problem, json_problem, name_header_field};
use super::error::{Problem, ProblemKind, TraceError};
use super::event::TraceHeader;
use super::visitor::{Flow, ReadSummary, TraceVisitor};

pub(super) fn read_ndjson(
    mut input: impl BufRead,
    source_name: &str,
    visitor: &mut impl TraceVisitor,
) -> Result<ReadSummary, TraceError> {
    let mut lines = Lines {
        source_name,
        visitor,
        line: 0,
        summary: ReadSummary { events: 0, stopped: false },
        header_seen: false,
        failed_field: Cell::new(None),
    };
    // The start of a line that the end of the input's buffer cut.
    let mut carry = Vec::new();
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(lines.at(lines.line + 1, None, io_problem(&e))),
        };
        if buffer.is_empty() {
            break;
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', buffer) {
            let flow = if carry.is_empty() {
                lines.line(&buffer[start..end])?
            } else {
                carry.extend_from_slice(&buffer[start..end]);
                let flow = lines.line(&carry)?;
                carry.clear();
                flow
            };
            start = end + 1;
            if flow == Flow::Stop {
                lines.summary.stopped = true;
                return Ok(lines.summary);
            }
        }
        carry.extend_from_slice(&buffer[start..]);
        let read = buffer.len();
        input.consume(read);
    }
    // The last line, without a line end.
    if !carry.is_empty() && lines.line(&carry)? == Flow::Stop {
        lines.summary.stopped = true;
        return Ok(lines.summary);
    }
    if !lines.header_seen {
        let line = lines.line.max(1);
        return Err(lines.at(line, None, Problem::new(ProblemKind::Header, "the trace is empty: no header line")));
    }
    Ok(lines.summary)
}

/// The reader's state between lines.
struct Lines<'s, 'v, V> {
    source_name: &'s str,
    visitor: &'v mut V,
    /// The number of the last line read (1-based).
    line: u64,
    summary: ReadSummary,
    header_seen: bool,
    /// The event field whose value serde rejected.
    failed_field: Cell<Option<Field>>,
}

impl<V: TraceVisitor> Lines<'_, '_, V> {
    fn at(&self, line: u64, column: Option<u64>, problem: Problem) -> TraceError {
        TraceError { source_name: self.source_name.to_owned(), line: Some(line), column, event: None, problem }
    }

    /// Reads the next line, `bytes` without its `\n`: the header, an event for the visitor, or nothing (a blank
    /// line).
    fn line(&mut self, bytes: &[u8]) -> Result<Flow, TraceError> {
        self.line += 1;
        let line = self.line;
        let text = std::str::from_utf8(bytes)
            .map_err(|_| self.at(line, None, Problem::new(ProblemKind::Syntax, "the line is not valid UTF-8")))?;
        let text = text.trim();
        if text.is_empty() {
            return Ok(Flow::Continue);
        }
        if !self.header_seen {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let mut track = serde_path_to_error::Track::new();
            let header = crate::config::map_only::<_, TraceHeader>(serde_path_to_error::Deserializer::new(
                &mut deserializer,
                &mut track,
            ))
            .and_then(|header| deserializer.end().map(|()| header));
            let header = header.map_err(|e| {
                let problem = name_header_field(json_problem(&e, "header"), &track.path().to_string());
                self.at(line, (problem.kind == ProblemKind::Syntax).then_some(e.column() as u64), problem)
            })?;
            header.check().map_err(|p| self.at(line, None, p))?;
            self.visitor.header(header).map_err(|p| self.at(line, None, p))?;
            self.header_seen = true;
            return Ok(Flow::Continue);
        }
        let event = match fast_event(text) {
            Some(event) => event,
            None => {
                let mut deserializer = serde_json::Deserializer::from_str(text);
                EventSeed { failed: &self.failed_field }
                    .deserialize(&mut deserializer)
                    .and_then(|event| deserializer.end().map(|()| event))
                    .map_err(|e| {
                        let problem = name_event_field(json_problem(&e, "event"), self.failed_field.take());
                        self.at(line, (problem.kind == ProblemKind::Syntax).then_some(e.column() as u64), problem)
                    })?
            }
        };
        let event = event.map_err(|p| self.at(line, None, p))?;
        self.summary.events += 1;
        self.visitor.event(event).map_err(|p| self.at(line, None, p))
    }
}
