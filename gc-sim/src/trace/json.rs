//! The document reader: a JSON trace, one object whose header fields come before its `events` array, read field by
//! field from the reader so that the array streams: memory does not grow with the number of events.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::decoder::{name_event_field, EventSeed, Field};
use super::error::{json_problem, name_header_field};
use super::error::{Problem, ProblemKind, TraceError};
use super::event::TraceHeader;
use super::visitor::{Flow, ReadSummary, TraceVisitor};
use crate::config::HeapConfig;
use crate::startup_heap::StartupHeap;

pub(super) fn read_json(
    input: impl Read,
    source_name: &str,
    visitor: &mut impl TraceVisitor,
) -> Result<ReadSummary, TraceError> {
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
    initial_heap: Option<StartupHeap>,
    initial_snapshot: Option<String>,
}

impl PartialHeader {
    fn finish(&mut self) -> Result<TraceHeader, Problem> {
        let missing = |field| Problem::new(ProblemKind::Header, format!("header: missing field `{field}`"));
        let header = TraceHeader {
            format: self.format.take().ok_or_else(|| missing("format"))?,
            version: self.version.take().ok_or_else(|| missing("version"))?,
            name: self.name.take().unwrap_or_default(),
            heap: self.heap.take().unwrap_or_default(),
            initial_heap: self.initial_heap.take(),
            initial_snapshot: self.initial_snapshot.take(),
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
                "initial_heap" if header.initial_heap.is_some() => Some("initial_heap"),
                "initial_snapshot" if header.initial_snapshot.is_some() => Some("initial_snapshot"),
                _ => None,
            };
            if let Some(field) = repeated {
                return Err(de::Error::duplicate_field(field));
            }
            if matches!(&*key, "format" | "version" | "name" | "initial_heap" | "initial_snapshot") {
                self.state.header_field = Some(key.to_string());
            }
            match &*key {
                "format" => header.format = Some(map.next_value()?),
                "version" => header.version = Some(map.next_value()?),
                "name" => header.name = Some(map.next_value()?),
                "initial_heap" => header.initial_heap = Some(map.next_value()?),
                "initial_snapshot" => header.initial_snapshot = Some(map.next_value()?),
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
                            format!("unknown header field `{other}` (expected format, version, name, heap, initial_heap, initial_snapshot, events)"),
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
