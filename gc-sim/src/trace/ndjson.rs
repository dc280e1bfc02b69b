//! The stream reader: an NDJSON trace, the header on its first non-blank line and then one event per line, read
//! line by line into one reused buffer, each event decoded in place (strings borrow from the line).

use std::cell::Cell;
use std::io::BufRead;

use serde::de::DeserializeSeed;

use super::decoder::{name_event_field, EventSeed};
use super::error::{io_problem, json_problem, name_header_field};
use super::error::{Problem, ProblemKind, TraceError};
use super::event::TraceHeader;
use super::visitor::{Flow, ReadSummary, TraceVisitor};

pub(super) fn read_ndjson(
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
