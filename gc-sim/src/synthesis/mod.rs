//! A trace of the user's own program, synthesized from its real artefacts: two or three heap snapshots of one
//! process (and optionally a GC log of it) become a trace v1 that starts from the first snapshot's heap, makes the
//! later snapshots' heaps with the objects born, the references changed and the garbage between them, and can
//! repeat the measured growth until the simulated program dies. `docs/synthesis.md` is the user's chapter.
//!
//! - [`growth`]: what changed between consecutive snapshots ([`growth::Step`]) and the growth of the last step with
//!   its unit ([`growth::Growth`], [`growth::Unit`]).
//! - [`garbage`]: the short-lived objects no snapshot shows: a documented guess, or rates fitted to a GC log.
//! - [`timing`]: the time between the snapshots and the growth's rate: given, or from Node's snapshot file names.
//! - [`synthesizer`]: the events, into a [`Replay`](crate::Replay) or a trace writer ([`synthesizer::EventSink`]).

pub mod garbage;
pub mod growth;
pub mod synthesizer;
pub mod timing;
