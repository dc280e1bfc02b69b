//! The one walker of the live object graph: which root sets the analyses see, and a breadth-first walk from them
//! over the references between live objects. The object graph, the heap map's live set and the tests' oracles
//! all walk with it.
//!
//! These walks never change the heap: they mark into a side table, not the objects' mark bits. They are analysis
//! for reports and tests, not part of a collection. They are iterative (a million-long list does not overflow the
//! stack) and allocate only their tables, never per object.

use serde::{Deserialize, Serialize};
use slotmap::SecondaryMap;

use crate::heap::Heap;
use crate::object::{HeapObject, ObjectId, Space};

/// The name under which objects held only by open handle scopes are reported.
pub const HANDLE_SCOPES: &str = "(handle scopes)";

/// Objects and bytes of a set of objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectTally {
    /// Number of objects.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Bytes in the old generation.
    pub old_bytes: u64,
}

impl ObjectTally {
    pub(crate) fn add(&mut self, size: u32, space: Space) {
        self.objects += 1;
        self.bytes += u64::from(size);
        if !space.is_young() {
            self.old_bytes += u64::from(size);
        }
    }
}

/// A root set as the analyses see it.
pub(crate) struct RootSetView<'h> {
    /// Its name, or [`HANDLE_SCOPES`] for the open handle scopes.
    pub name: &'h str,
    /// The handles it holds, counting an object held twice twice.
    pub handles: u64,
    /// The objects it holds, each once, in the heap's order.
    pub objects: Vec<ObjectId>,
}

/// Every root set that holds a handle, in the order the heap created them, then the open handle scopes as one
/// more root set named [`HANDLE_SCOPES`] if they hold any object.
pub(crate) fn root_sets(heap: &Heap) -> Vec<RootSetView<'_>> {
    let mut sets: Vec<RootSetView<'_>> = heap
        .root_sets()
        .map(|(name, held)| {
            let mut handles = 0;
            let objects = held
                .map(|(id, count)| {
                    handles += u64::from(count);
                    id
                })
                .collect();
            RootSetView { name, handles, objects }
        })
        .filter(|set| !set.objects.is_empty())
        .collect();
    let scopes = heap.scope_handles();
    if !scopes.is_empty() {
        sets.push(RootSetView { name: HANDLE_SCOPES, handles: scopes.len() as u64, objects: scopes.to_vec() });
    }
    sets
}

/// A breadth-first walk of the live graph. Objects are numbered from 0 in the order they are first reached (so
/// the first path found to an object is a shortest one); [`reach`](Self::reach) the roots, then
/// [`run`](Self::run) to follow every reference.
pub(crate) struct Walk<'h> {
    heap: &'h Heap,
    /// Every object reached, in order, with its header: the walk's queue and its result.
    pub objects: Vec<(ObjectId, &'h HeapObject)>,
    /// The number of every object reached.
    pub number: SecondaryMap<ObjectId, u32>,
}

/// The number of an object that [`Walk::reach`] reached, and whether it was reached for the first time.
pub(crate) struct Reached {
    pub number: u32,
    pub first: bool,
}

impl<'h> Walk<'h> {
    pub fn new(heap: &'h Heap) -> Walk<'h> {
        Walk { heap, objects: Vec::new(), number: SecondaryMap::new() }
    }

    /// Reaches `id`: numbers it if it is live and seen for the first time. `None` for a freed object (a handle or
    /// slot may still name a young object that a scavenge left behind).
    #[inline]
    pub fn reach(&mut self, id: ObjectId) -> Option<Reached> {
        if let Some(&number) = self.number.get(id) {
            return Some(Reached { number, first: false });
        }
        let o = self.heap.live(id).ok()?;
        let number = self.objects.len() as u32;
        self.number.insert(id, number);
        self.objects.push((id, o));
        Some(Reached { number, first: true })
    }

    /// Follows every reference from the objects reached so far and from those it reaches, in breadth-first order,
    /// calling `edge(from, slot, to)` (object numbers) for each reference between live objects.
    pub fn run(&mut self, mut edge: impl FnMut(u32, u32, Reached)) {
        // `objects` grows while it is scanned: the queue is the list of objects itself.
        let mut next = 0;
        while next < self.objects.len() {
            let (_, o) = self.objects[next];
            for (slot, target) in self.heap.slots_of(o).iter().enumerate() {
                if let Some(reached) = target.and_then(|t| self.reach(t)) {
                    edge(next as u32, slot as u32, reached);
                }
            }
            next += 1;
        }
    }
}

/// Every live object reachable from the root sets and the open handle scopes (for heap maps, which need the set,
/// not the graph).
pub(crate) fn reachable(heap: &Heap) -> SecondaryMap<ObjectId, ()> {
    let mut walk = Walk::new(heap);
    let roots = heap.root_sets().flat_map(|(_, held)| held.map(|(id, _)| id));
    for id in roots.chain(heap.scope_handles().iter().copied()) {
        walk.reach(id);
    }
    walk.run(|_, _, _| {});
    walk.objects.iter().map(|&(id, _)| (id, ())).collect()
}
