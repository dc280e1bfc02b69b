//! Leak analysis of a heap and of a replay: what a heap-snapshot tool (DevTools, V8's
//! `heap-snapshot-generator`) shows, computed from the simulated heap without changing it.
//!
//! One walk of the live graph builds an [`ObjectGraph`] and its dominator tree; everything else is read off that
//! one graph, so the cost of an analysis is linear in the live graph whatever the number of root sets and tags:
//!
//! | module | what it holds |
//! |---|---|
//! | `walk` | the one walker of the live graph: the root sets as the analyses see them, a breadth-first walk |
//! | `dominators` | immediate dominators (Lengauer and Tarjan), iterative |
//! | [`object_graph`] | [`ObjectGraph`]: the live graph, retained sizes, retaining paths, retention per tag |
//! | [`retainers`] | what each root set reaches and retains ([`RootRetention`]) |
//! | [`ages`] | live objects by age ([`AgeBucket`]) |
//! | [`leaks`] | a replay's terms (trace ids, tags, kinds): suspected leaks, [`why`](leaks::why) an object is alive |
//!
//! The analyses read the heap only through [`Heap`](crate::Heap) methods, and a replay only through
//! [`Replay`](crate::Replay)'s; neither depends on this module.

pub mod ages;
pub(crate) mod dominators;
pub mod leaks;
pub mod object_graph;
pub mod retainers;
pub(crate) mod walk;

pub use ages::AgeBucket;
pub use leaks::{format_path, Why, WhyMatch, WhyQuery};
pub use object_graph::{ObjectGraph, RetainingPath, TagRetention};
pub use retainers::RootRetention;
pub use walk::{ObjectTally, HANDLE_SCOPES};
