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
//!
//! ## Layers
//! | module | what it holds |
//! |---|---|
//! | `event` | the model: [`TraceHeader`], [`TraceEvent`] (serializes as a trace writes it), [`FORMAT`], [`VERSION`] |
//! | `error` | [`Problem`], [`ProblemKind`], and [`TraceError`], a problem placed in the input |
//! | `reader` | [`read_trace`]: encoding and form detection, [`TraceVisitor`], [`Flow`], [`ReadSummary`] |
//! | `json`, `ndjson` | the document reader (`events` streams out of one object) and the stream reader (a line each) |
//! | `decoder` | one event object to a [`TraceEvent`]: the ops and their fields, the format's rules; serde's reader and the fast path for the lines writers write |
//!
//! Adding an op touches six places here, in two files: in `event`, its [`TraceEvent`] variant (its serde attributes
//! make it serialize) and the variant's arm of [`TraceEvent::into_owned`]; in `decoder`, its `Op` variant, its row
//! of `OPS` (name and fields), its arm of `Op::from_name` and its arm of `EventFields::into_event` (the op's rules).
//! An operand field that is new adds five more, all in `decoder`: its `Field` variant, its row of `FIELDS`, its arm
//! of `Field::from_name`, its member of `EventFields` and its arm of `EventFields::read` (its type; both readers,
//! serde's and the fast path, go through it). The table test checks that the `from_name` arms match the tables.
//! Outside this module: [`Replay`](crate::Replay)'s `apply` and `docs/trace-format.md`.

mod decoder;
mod error;
mod event;
mod json;
mod ndjson;
mod reader;
mod visitor;

pub use error::{Problem, ProblemKind, TraceError};
pub use event::{TraceEvent, TraceHeader, FORMAT, VERSION};
pub use reader::{read_trace, TraceFormat};
pub use visitor::{Flow, ReadSummary, TraceVisitor};

#[cfg(test)]
mod tests;
