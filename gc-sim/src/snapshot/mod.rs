//! Real V8 heap snapshots: `.heapsnapshot` files (Chrome DevTools, `v8.writeHeapSnapshot()`,
//! `node --heapsnapshot-signal`, heapdump, memlab) and `.heaptimeline` files (DevTools' allocation timeline),
//! gzip-compressed or not. docs/heap-snapshots.md is the user's chapter.
//!
//! - [`reader`]: a streaming reader into compact columns ([`RawSnapshot`]), with byte offsets in its errors.
//! - [`graph`]: [`HeapGraph`], the snapshot with DevTools' semantics: retaining edges, roots, V8 heap vs native
//!   nodes, the dominator tree, retained sizes, shortest retaining paths.
//! - [`summary`]: the heap by constructor (DevTools' Summary), top retainers, `--why` answers.
//! - [`diff`]: what was allocated between snapshots and is still alive, grouped by the structure holding it.
//! - [`import`]: the snapshot's V8 heap as the starting heap of a simulation (`gc-sim run --initial-heap`).
//!
//! ```no_run
//! use gc_sim::snapshot::{read_snapshot_file, summary, HeapGraph};
//!
//! let graph = HeapGraph::new(read_snapshot_file("Heap.heapsnapshot".as_ref())?);
//! for class in summary::classes(&graph).iter().take(5) {
//!     println!("{} x{}: {} B retained", class.name, class.count, class.retained_bytes);
//! }
//! # Ok::<(), gc_sim::snapshot::SnapshotError>(())
//! ```

pub mod diff;
mod dominators;
pub mod graph;
pub mod import;
pub mod reader;
pub mod summary;

pub use graph::{HeapGraph, NodeSpace, Totals};
pub use reader::{
    read_snapshot, read_snapshot_file, write_snapshot, Meta, RawSnapshot, SnapshotBuilder, SnapshotError, Strings,
    TraceNode,
};
