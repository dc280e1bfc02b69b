//! A snapshot's V8 heap as a [`HeapImport`], the starting heap of `gc-sim run --initial-heap`.
//!
//! * **Objects**: every V8 heap node ([`NodeSpace::V8Heap`]: neither native nor synthetic), with its self size and
//!   its DevTools class name as its kind. Nodes no retaining edge reaches are imported too: the snapshot's heap is
//!   the program's heap in use, and they are garbage the first mark-compact frees.
//! * **References**: the node's retaining edges ([`HeapGraph::is_retaining`]) to other V8 heap nodes. Edges to
//!   native nodes carry no V8 memory and are left out; so are weak edges, which never retain.
//! * **Roots**: a V8 heap node that a synthetic node (the root, `(GC roots)` and its categories) or an embedder node
//!   retains directly is rooted: in the root set named after the synthetic node (`(Strong roots)`,
//!   `(Global handles)`, ...; the root's own children, the global objects, in `(global)`), or in `(embedder)`.
//! * **Sizes**: a V8 heap node of self size 0 (V8 reports a few) is imported as 8 bytes, the smallest object; the
//!   bytes added are counted in [`SnapshotImport::padded_bytes`].

use rustc_hash::FxHashMap;

use super::graph::{HeapGraph, NodeSpace};
use crate::error::HeapError;
use crate::heap::import::HeapImport;
use crate::heap::Heap;
use crate::object::{Label, Labels};
use crate::replay::Replay;

/// A snapshot's V8 heap made ready for [`Heap::import`].
#[derive(Debug)]
pub struct SnapshotImport {
    /// The objects, references and roots.
    pub import: HeapImport,
    /// The snapshot id of each object, in the import's order: a trace names the object by this id.
    pub ids: Vec<u64>,
    /// Bytes added to objects of self size 0 (8 each).
    pub padded_bytes: u64,
}

/// The root set of the V8 heap nodes that `from`, a node outside the V8 heap, retains: `(global)` for the
/// snapshot's root, a synthetic node's own name, `(embedder)` for a native node.
pub fn root_set_name(graph: &HeapGraph, from: u32) -> String {
    match graph.space(from) {
        _ if from == graph.root() => "(global)".to_owned(),
        NodeSpace::Synthetic => graph.name(from).to_owned(),
        _ => "(embedder)".to_owned(),
    }
}

/// The size node `n` (of the V8 heap) is imported with: its self size, 8 (the smallest object) for the few nodes V8
/// reports with 0.
pub fn imported_size(graph: &HeapGraph, n: u32) -> u32 {
    match graph.self_size(n) {
        0 => 8,
        size => u32::try_from(size).unwrap_or(u32::MAX),
    }
}

/// The snapshot ids of the V8 heap nodes that node `n` references, in order: the slots it is imported with.
pub fn imported_references(graph: &HeapGraph, n: u32) -> impl Iterator<Item = u32> + '_ {
    graph.retaining_edges(n).filter(|&(_, to)| graph.space(to) == NodeSpace::V8Heap).map(|(_, to)| graph.id(to))
}

/// The V8 heap of `graph` as an import into `heap` (whose label table gets the class names).
pub fn heap_import(graph: &HeapGraph, heap: &mut Heap) -> SnapshotImport {
    let nodes = graph.node_count();
    // The import's index of every V8 heap node.
    let mut index = vec![u32::MAX; nodes];
    let mut count = 0u32;
    for n in 0..nodes as u32 {
        if graph.space(n) == NodeSpace::V8Heap {
            index[n as usize] = count;
            count += 1;
        }
    }
    let mut kinds: FxHashMap<String, Label> = FxHashMap::default();
    let mut import = HeapImport::default();
    let mut ids = Vec::with_capacity(count as usize);
    let mut padded_bytes = 0;
    let mut root_names: FxHashMap<u32, String> = FxHashMap::default();
    let mut roots: Vec<(u32, u32)> = Vec::new();
    for n in 0..nodes as u32 {
        let space = graph.space(n);
        if space != NodeSpace::V8Heap {
            // Its retaining edges into the V8 heap make roots.
            for (_, to) in graph.retaining_edges(n) {
                if index[to as usize] != u32::MAX {
                    roots.push((n, index[to as usize]));
                }
            }
            continue;
        }
        let class = graph.class_name(n);
        let kind = match kinds.get(class.as_ref()) {
            Some(&label) => label,
            None => {
                let label = heap.label(&class);
                kinds.insert(class.into_owned(), label);
                label
            }
        };
        let size = imported_size(graph, n);
        if graph.self_size(n) == 0 {
            padded_bytes += u64::from(size);
        }
        let references = graph.retaining_edges(n).map(|(_, to)| index[to as usize]).filter(|&i| i != u32::MAX);
        import.object(size, Labels { kind: Some(kind), ..Labels::NONE }, references);
        ids.push(u64::from(graph.id(n)));
    }
    for (from, to) in roots {
        let name = root_names.entry(from).or_insert_with(|| root_set_name(graph, from));
        import.root(name, to);
    }
    SnapshotImport { import, ids, padded_bytes }
}

/// Imports the V8 heap of `graph` into `replay` before its first event ([`heap_import`], [`Replay::import`]), its
/// objects named by their snapshot ids. A heap that does not fit the maximum old generation leaves the program dead
/// from the start, as Node would be; that is not an error here ([`Heap::out_of_memory`] says so).
///
/// # Errors
/// An object the simulator cannot hold ([`Heap::import`]).
pub fn import_into_replay(graph: &HeapGraph, replay: &mut Replay) -> Result<SnapshotImport, HeapError> {
    let snapshot = heap_import(graph, replay.heap_mut());
    match replay.import(&snapshot.import, &snapshot.ids) {
        Ok(()) | Err(HeapError::OutOfMemory(_)) => Ok(snapshot),
        Err(e) => Err(e),
    }
}
