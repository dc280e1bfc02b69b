//! # gc-sim: a simulator of V8's generational garbage collector
//!
//! gc-sim models the heap of Node.js 20 (V8 11.3) closely enough to watch a leak happen: objects are allocated in
//! a semi-space young generation, survive scavenges, get promoted to a paged old generation, and stay there until
//! a mark-compact finds them unreachable, or the heap grows until the program dies with
//! `JavaScript heap out of memory`. Pauses come from a cost model calibrated on real Node, never from the wall
//! clock, so a run is deterministic.
//!
//! ## Map of the crate (folders by layer, modules named after V8's `src/heap/`)
//! Each layer uses only those above it in this table; `tests/module_layering.rs` fails on any module cycle.
//!
//! | module | V8 | what it holds |
//! |---|---|---|
//! | [`object`], `label_table`, `slots`, `roots` | `heap-object.h`, `roots.h`, `handles.h` | [`ObjectId`] handles, headers, [`Space`], [`Address`], [`Labels`] and their table, the slot arena, root sets and handle scopes |
//! | `config`, `error` | `heap.cc` `ConfigureHeap` | [`HeapConfig`], page geometry, the [`PauseModel`]; [`HeapError`], [`OutOfMemory`] |
//! | [`survival`] | — | when each tag's objects were promoted (recorded by the collectors) |
//! | `space/` | `new-spaces.h`, `paged-spaces.h`, `free-list.h`, `large-spaces.h`, `remembered-set.h` | the spaces: semi-spaces and the age mark, pages and free lists, large objects, OLD_TO_NEW slots |
//! | `gc_tracer/` | `gc-tracer.h` | the running collection's [`GcEvent`], the kept events, [`GcTotals`], the clock, mutator utilization and speeds |
//! | `controller/` | `heap.cc`, `heap-controller.cc` | the heap controller: every policy decision (when to collect, limits, resizing, the OOM checks), and V8's sizing formulas as pure functions |
//! | `collector/` | `scavenger.cc`, `mark-compact.cc` | the two collectors, on split borrows of the heap's parts, returning their counts |
//! | `heap/` | `heap.h`, `heap-allocator.h`, `heap-verifier.h` | the [`Heap`] facade (its fields private to it): mutator API, allocation paths, the collection driver, GC prologue/epilogue callbacks, the dead-young-header backlog, [`Heap::verify`] |
//! | [`analysis`] | `heap-snapshot-generator.h` | [`ObjectGraph`]: one walk of the live graph and its dominator tree; what each root set and tag retains, retaining paths, ages, suspected leaks, `why` |
//! | [`heap_map`] | GCspy | [`HeapMap`]: every page as a row of live / dead / free / waste cells; [`HeapMapRecorder`] takes them around collections |
//! | [`trace`] | — | trace format v1, in layers: the events, positioned errors, the visitor interface, the JSON/NDJSON readers, the decoder |
//! | [`replay`] | — | [`Replay`]: a trace applied to a heap, trace ids to handles |
//! | [`report`] | — | [`Report`]: a [`Replay`]'s summary, analysis, GC events and timeline, serializable |
//! | [`compressed`] | — | gzip and zstd input, recognised by its first bytes, decompressed as it is read; [`compressed::Encoder`] for compressed output |
//! | [`gc_log`] | `gc-tracer.cc` | reading real Node GC logs: `--trace-gc`, `--trace-gc-nvp`, the OOM text |
//! | [`snapshot`] | `heap-snapshot-generator.cc`, DevTools `HeapSnapshot.ts` | real `.heapsnapshot` files: reader, DevTools' graph semantics, dominators, summary, leak diff |
//! | [`startup_heap`] | `snapshot/deserializer.cc` | Node 20's own startup heap, built in from measured tables (`--initial-heap node20`) |
//! | [`synthesis`] | — | a trace of the user's program from its heap snapshots (and GC log): the steps between snapshots, the growth and its unit, the garbage; `gc-sim synthesize`, `gc-sim predict` |
//!
//! ## Using it in a test
//! ```
//! use gc_sim::{Collection, Heap, HeapConfig, Labels, MIB};
//!
//! // A small heap, so that the test runs in microseconds.
//! let mut heap = Heap::new(HeapConfig { max_semi_space_size: MIB, ..HeapConfig::default() })?;
//! let conn = heap.label("conn-1");
//! let socket = heap.alloc(120, 1, Labels { tag: Some(conn), ..Labels::NONE })?;
//! heap.add_root("timers", socket)?; // a setInterval that is never cleared
//!
//! for _ in 0..100_000 {
//!     heap.enter_scope();
//!     heap.alloc(300, 0, Labels::NONE)?; // per-tick garbage
//!     heap.exit_scope()?;
//! }
//! heap.collect(Collection::Major)?;
//! assert_eq!(heap.tagged(conn), (1, 120), "the connection's socket is still alive");
//! assert!(heap.totals().scavenges > 10);
//! assert!(heap.verify().is_clean());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod analysis;
mod collector;
pub mod compressed;
mod config;
mod controller;
mod error;
pub mod gc_log;
mod gc_tracer;
mod heap;
pub mod heap_map;
mod label_table;
pub mod object;
mod pretenuring;
pub mod replay;
pub mod report;
mod roots;
mod slots;
pub mod snapshot;
mod space;
pub mod startup_heap;
pub mod survival;
pub mod synthesis;
pub mod trace;

pub use analysis::{ObjectGraph, RetainingPath, TagRetention, WhyQuery};
pub use config::{
    ConfigError, HeapConfig, PageGeometry, PauseModel, KIB, MAX_PAGE_SIZE, MAX_PAUSE_COEFFICIENT, MAX_SEMI_SPACE_PAGES,
    MIB, MIN_PAGE_SIZE,
};
pub use error::{HeapError, OomLocation, OutOfMemory};
pub use gc_tracer::nvp::{NvpContext, NvpError};
pub use gc_tracer::{
    Collector, CollectorReason, GcEvent, GcReason, GcStart, GcTotals, HeapUsage, IncrementalMarkingStats, SpaceUsage,
    MAX_KEPT_EVENTS, RECENT_EVENTS,
};
pub use heap::import::HeapImport;
pub use heap::verifier::{VerifyReport, Violation};
pub use heap::{Collection, Footprint, GcEpilogueCallback, GcPrologueCallback, Heap};
pub use heap_map::{HeapMap, HeapMapMoment, HeapMapRecorder};
pub use object::{Address, Label, Labels, ObjectId, ObjectInfo, Space};
pub use replay::{replay_trace, Replay};
pub use report::Report;

/// The README's examples, compiled and run as doc tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The tutorial's Rust snippets (docs/tutorial.md), compiled and run as doc tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../docs/tutorial.md")]
pub struct TutorialDoctests;
