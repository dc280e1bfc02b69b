//! The event model of trace format v1: the [`TraceHeader`] and the [`TraceEvent`]s, as a program reads them from
//! the decoder and writes them with serde. Nothing here reads input.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::error::{Problem, ProblemKind};
use crate::config::HeapConfig;
use crate::heap::Collection;
use crate::startup_heap::StartupHeap;

/// The value of a trace header's `format` field.
pub const FORMAT: &str = "gc-sim-trace";
/// The trace format version this crate reads and writes.
pub const VERSION: u32 = 1;

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
    /// The heap the program starts from, imported before the first event: `"node20"` for Node 20's own startup
    /// heap, `"node20:SIZE"` for it scaled ([`StartupHeap`]). Absent: an empty heap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_heap: Option<StartupHeap>,
    /// A heap snapshot file to start from instead (`gc-sim synthesize` writes it), its path relative to the
    /// trace's directory: the snapshot's V8 heap is imported before the first event and the trace names its objects
    /// by their snapshot ids, as with `gc-sim run --initial-heap FILE`. Reading it is the caller's
    /// ([`Replay::from_header`](crate::Replay::from_header) does not read files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_snapshot: Option<String>,
}

impl TraceHeader {
    /// A version-1 header with the given name and heap configuration.
    pub fn new(name: impl Into<String>, heap: HeapConfig) -> TraceHeader {
        TraceHeader {
            format: FORMAT.to_owned(),
            version: VERSION,
            name: name.into(),
            heap,
            initial_heap: None,
            initial_snapshot: None,
        }
    }

    /// A [`ProblemKind::Header`] problem unless `format` and `version` are this crate's.
    pub(super) fn check(&self) -> Result<(), Problem> {
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
///
/// An event serializes as it is written in a trace: `{"op": "alloc", "id": 1, "size": 24}`, optional fields left out
/// when absent (`slots` when 0, `pretenured` when false), so `serde_json::to_writer` of each event after the
/// header writes an NDJSON trace that [`read_trace`](super::read_trace) reads back as the same events.
///
/// ```
/// use gc_sim::trace::TraceEvent;
///
/// let event = TraceEvent::Write { obj: 7, slot: 0, to: None };
/// assert_eq!(serde_json::to_string(&event).unwrap(), r#"{"op":"write","obj":7,"slot":0,"to":null}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum TraceEvent<'a> {
    /// `alloc`: allocate object `id` in the innermost open handle scope.
    Alloc {
        /// The trace's id for the object, unique in the trace.
        id: u64,
        /// Size in bytes (rounded up to 8 by the heap).
        size: u32,
        /// Number of reference slots.
        #[serde(skip_serializing_if = "is_zero")]
        slots: u32,
        /// What the object is (`"Timeout"`, `"closure"`).
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<Cow<'a, str>>,
        /// A grouping tag, e.g. a connection id.
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<Cow<'a, str>>,
        /// The allocation site.
        #[serde(skip_serializing_if = "Option::is_none")]
        site: Option<Cow<'a, str>>,
        /// A root set that also holds the new object.
        #[serde(skip_serializing_if = "Option::is_none")]
        root: Option<Cow<'a, str>>,
        /// Allocate in the old generation (pretenured, V8's `AllocationType::kOld`).
        #[serde(skip_serializing_if = "is_false")]
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
        #[serde(serialize_with = "collection_name")]
        kind: Collection,
    },
    /// `mark`: an annotation, shown in logs and plots.
    Mark {
        /// The annotation's text.
        label: Cow<'a, str>,
        /// A tag whose owner ends here (a connection closes): its objects still alive at the end of the trace are
        /// reported as suspected leaks.
        #[serde(skip_serializing_if = "Option::is_none")]
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

fn is_zero(value: &u32) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A `gc` event's `kind` as the trace writes it.
fn collection_name<S: serde::Serializer>(kind: &Collection, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(match kind {
        Collection::Minor => "minor",
        Collection::Major => "major",
    })
}
