//! The interface between the trace readers and what consumes the events: [`TraceVisitor`], with the [`Flow`] it
//! asks for and the [`ReadSummary`] of a reading.

use super::error::Problem;
use super::event::{TraceEvent, TraceHeader};

/// What a [`TraceVisitor`] wants after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next event.
    Continue,
    /// Stop reading (the simulated program died); the rest of the input is not read.
    Stop,
}

/// Receives a trace's header and events from [`read_trace`](super::read_trace).
pub trait TraceVisitor {
    /// Called once, before any event.
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem>;
    /// Called for every event, in order.
    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem>;
}

/// How much of a trace [`read_trace`](super::read_trace) read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadSummary {
    /// Events passed to the visitor.
    pub events: u64,
    /// Whether the visitor stopped the reading early.
    pub stopped: bool,
}
