//! # gc-sim: a simulator of V8's generational garbage collector
//!
//! gc-sim models the heap of Node.js 20 (V8 11.3) closely enough to watch a leak happen: objects are allocated in
//! a semi-space young generation, survive scavenges, get promoted to a paged old generation, and stay there until
//! a mark-compact finds them unreachable, or the heap grows until the program dies with
//! `JavaScript heap out of memory`. Pauses come from a cost model calibrated on real Node, never from the wall
//! clock, so a run is deterministic.
//!
//! ## Map of the crate (one concept per module, named after V8's `src/heap/`)
//! | module | V8 | what it holds |
//! |---|---|---|
//! | [`object`] | `heap-object.h` | [`ObjectId`] handles, [`Space`], [`Address`], [`Labels`] |
//! | `new_space` | `new-spaces.h` | semi-spaces, linear allocation, the age mark, survivor LABs |
//! | `old_space`, `free_list` | `paged-spaces.h`, `free-list.h` | pages, linear area, size-class free lists |
//! | `large_object_space` | `large-spaces.h` | one page per large object |
//! | `remembered_set` | `remembered-set.h` | OLD_TO_NEW slots and the write barrier's target |
//! | `scavenger` | `scavenger.cc` | the young-generation collector |
//! | `mark_compact` | `mark-compact.cc` | mark, sweep, evacuate |
//! | [`heap_controller`] | `heap-controller.h` | limit and growing-factor policy as pure functions |
//! | [`tracer`] | `gc-tracer.h` | [`GcEvent`], the [`PauseModel`], mutator utilization |
//! | `verifier` | `heap-verifier.h` | [`Heap::verify`] and its [`Violation`]s |
//! | `heap` | `heap.h` | the [`Heap`] facade: the mutator API, triggers and limits |
//! | [`gc_log`] | `gc-tracer.cc` | reading real Node GC logs: `--trace-gc`, `--trace-gc-nvp`, the OOM text |
//! | [`heap_map`] | GCspy | [`HeapMap`]: every page as a row of live / dead / free / waste cells |
//! | [`heap_snapshot`] | `heap-snapshot-generator.h` | [`HeapSnapshot`]: dominator tree, retained sizes, retaining paths |
//! | [`leaks`] | — | leak analysis in the trace's terms: tags, suspected leaks, `why` paths |
//! | [`survival`] | — | ages of live objects, when each tag was promoted |
//! | [`snapshot`] | `heap-snapshot-generator.cc`, DevTools `HeapSnapshot.ts` | real `.heapsnapshot` files: reader, dominators, summary, leak diff |
//! | [`retainers`] | `heap-snapshot-generator.h` | the live set and what each root set retains |
//! | [`trace`] | — | trace format v1: streaming JSON/NDJSON reader, [`trace::TraceEvent`], positioned errors |
//! | [`replay`] | — | [`Replay`]: a trace applied to a heap, trace ids to handles |
//! | [`report`] | — | [`Report`]: summary, retainers, GC events and a timeline, serializable |
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

mod config;
mod dominators;
mod error;
mod event_log;
mod free_list;
pub mod gc_log;
mod heap;
pub mod heap_controller;
pub mod heap_map;
pub mod heap_snapshot;
mod large_object_space;
pub mod leaks;
mod mark_compact;
mod new_space;
pub mod object;
mod old_space;
mod remembered_set;
pub mod replay;
pub mod report;
pub mod retainers;
mod roots;
mod scavenger;
mod slots;
pub mod snapshot;
pub mod survival;
pub mod trace;
pub mod tracer;
mod verifier;

pub use config::{ConfigError, HeapConfig, PageGeometry, KIB, MAX_PAGE_SIZE, MAX_SEMI_SPACE_PAGES, MIB, MIN_PAGE_SIZE};
pub use error::{HeapError, OomLocation, OutOfMemory};
pub use free_list::{FreeBlock, SIZE_CLASSES};
pub use heap::{Collection, Footprint, GcTotals, Heap};
pub use heap_map::{HeapMap, HeapMapMoment};
pub use heap_snapshot::{HeapSnapshot, RetainingPath, TagRetention};
pub use object::{Address, Label, Labels, ObjectId, ObjectInfo, Space};
pub use replay::{replay_trace, Replay};
pub use report::Report;
pub use tracer::{Collector, CollectorReason, GcEvent, GcReason, HeapUsage, PauseModel, SpaceUsage};
pub use verifier::{VerifyReport, Violation};

/// The README's examples, compiled and run as doc tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The tutorial's Rust snippets (docs/tutorial.md), compiled and run as doc tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../docs/tutorial.md")]
pub struct TutorialDoctests;
