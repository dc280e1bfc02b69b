//! The GC events a heap keeps: a bounded sample of every collection, so that memory does not grow with the number
//! of collections.
//!
//! Up to [`MAX_KEPT_EVENTS`] events every one is kept. Past that, the log is thinned: it keeps the collections whose
//! number is 1 more than a multiple of a stride (1, then 2, 4, 8, ... doubled until at most half the bound is left),
//! so the kept ones stay spread evenly over the whole run, and always the first collection, the one with the
//! longest pause and the last [`RECENT_EVENTS`]. Collections after a thinning are all kept until the next one.
//! Totals over every collection are kept apart, exactly ([`GcTotals`](crate::GcTotals)).

use super::event::GcEvent;

/// The most events a heap keeps (about 300 B each in memory, 1.4 KB each in a report).
pub const MAX_KEPT_EVENTS: usize = 4096;
/// The latest events are always kept: the out-of-memory message prints the last few, and a caller that polls
/// [`Heap::events_since`](crate::Heap::events_since) after each operation (an allocation runs at most about ten
/// collections) misses none. GC epilogue callbacks see every event without polling.
pub const RECENT_EVENTS: usize = 64;

/// The kept events, oldest first, and the old generation's allocation limit in force when each started.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    events: Vec<GcEvent>,
    /// `limits_before[i]`: the allocation limit when `events[i]` started (for the report's timeline).
    limits_before: Vec<u64>,
    /// Events kept beyond the most recent ones have `(number - 1) % stride == 0`.
    stride: u64,
    /// Number of the collection with the longest pause (the first of equal ones).
    max_pause_number: u64,
    max_pause_ms: f64,
}

impl EventLog {
    /// Records the event of a collection that started with the allocation limit `limit_before`.
    pub fn push(&mut self, event: GcEvent, limit_before: u64) {
        if self.events.is_empty() || event.pause_ms > self.max_pause_ms {
            self.max_pause_ms = event.pause_ms;
            self.max_pause_number = event.number;
        }
        self.events.push(event);
        self.limits_before.push(limit_before);
        if self.events.len() > MAX_KEPT_EVENTS {
            self.thin();
        }
    }

    /// Drops events until at most half the bound is left, besides the recent ones and the longest pause.
    fn thin(&mut self) {
        let stride = self.stride.max(1);
        let recent_from = self.events.len() - RECENT_EVENTS;
        let on_grid = |number: u64, stride: u64| (number - 1) % stride == 0;
        let mut stride = stride;
        while self.events[..recent_from].iter().filter(|e| on_grid(e.number, stride)).count() > MAX_KEPT_EVENTS / 2 {
            stride *= 2;
        }
        self.stride = stride;
        let max_pause = self.max_pause_number;
        let mut kept = 0;
        for i in 0..self.events.len() {
            let number = self.events[i].number;
            if i >= recent_from || on_grid(number, stride) || number == max_pause {
                self.events.swap(kept, i);
                self.limits_before.swap(kept, i);
                kept += 1;
            }
        }
        self.events.truncate(kept);
        self.limits_before.truncate(kept);
    }

    /// The last event kept.
    pub fn last(&self) -> Option<&GcEvent> {
        self.events.last()
    }

    /// The kept events, oldest first.
    pub fn events(&self) -> &[GcEvent] {
        &self.events
    }

    /// The allocation limit when each kept event started, in the same order.
    pub fn limits_before(&self) -> &[u64] {
        &self.limits_before
    }

    /// The kept events of the collections numbered after `number`, oldest first.
    pub fn since(&self, number: u64) -> &[GcEvent] {
        let from = self.events.partition_point(|e| e.number <= number);
        &self.events[from..]
    }
}
