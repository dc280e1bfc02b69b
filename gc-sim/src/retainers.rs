//! Who keeps what alive: the live set and the bytes each root set retains, as a heap snapshot would show them.
//!
//! These walks never change the heap: they mark into a side table, not the objects' mark bits. They are analysis
//! for reports and tests, not part of a collection.

use serde::{Deserialize, Serialize};
use slotmap::SecondaryMap;

use crate::heap::Heap;
use crate::heap_snapshot::HeapSnapshot;
use crate::object::{ObjectId, Space};

/// The name under which objects held only by open handle scopes are reported.
pub const HANDLE_SCOPES: &str = "(handle scopes)";

/// What one root set keeps alive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRetention {
    /// The root set's name, or [`HANDLE_SCOPES`].
    pub root: String,
    /// Handles the root set holds.
    pub handles: u64,
    /// Objects reachable from the root set (shared objects count for every root that reaches them).
    pub reachable_objects: u64,
    /// Bytes of those objects.
    pub reachable_bytes: u64,
    /// Objects that only this root set keeps alive: unreachable once it is gone (its retained size, as in
    /// heap-snapshot tools, with the root set as one node).
    pub retained_objects: u64,
    /// Bytes of those objects.
    pub retained_bytes: u64,
    /// Of the retained bytes, those in the old generation (old space and large-object space).
    pub retained_old_bytes: u64,
}

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

impl Heap {
    /// Objects and bytes reachable from every root set and open handle scope: what a full collection would keep.
    ///
    /// Unlike [`usage`](Heap::usage), which counts every object the spaces hold (dead young objects wait for the
    /// next scavenge), this is the live set.
    pub fn live_set(&self) -> ObjectTally {
        let mut visited = SecondaryMap::new();
        let mut tally = ObjectTally::default();
        self.walk(self.all_root_handles(None), &mut visited, |_, size, space| tally.add(size, space));
        tally
    }

    /// What each root set keeps alive, largest retained bytes first (ties by name). Objects held by open handle
    /// scopes appear under [`HANDLE_SCOPES`].
    ///
    /// Takes a [`snapshot`](Heap::snapshot) (see [`HeapSnapshot::root_set_retention`]): meant for reports and
    /// tests.
    pub fn root_set_retention(&self) -> Vec<RootRetention> {
        self.snapshot().root_set_retention()
    }

    /// The handles of every root set and the handle scopes, except the one named by `except`.
    pub(crate) fn all_root_handles<'a>(
        &'a self,
        except: Option<Option<&'a str>>,
    ) -> impl Iterator<Item = ObjectId> + 'a {
        let sets = self.root_set_table().sets().iter().filter(move |s| except != Some(Some(s.name.as_str())));
        let scopes = if except == Some(None) { &[][..] } else { self.handle_scopes().handles() };
        sets.flat_map(|s| s.handles.keys().copied()).chain(scopes.iter().copied())
    }

    /// Depth-first walk (iterative) from `roots`, calling `visit` once per newly reached object.
    pub(crate) fn walk(
        &self,
        roots: impl Iterator<Item = ObjectId>,
        visited: &mut SecondaryMap<ObjectId, ()>,
        mut visit: impl FnMut(ObjectId, u32, Space),
    ) {
        let mut stack: Vec<ObjectId> = Vec::new();
        let mut reach = |id: ObjectId, stack: &mut Vec<ObjectId>| {
            if let Some(o) = self.headers().get(id) {
                if self.is_live_header(o) && visited.insert(id, ()).is_none() {
                    visit(id, o.size, o.space());
                    stack.push(id);
                }
            }
        };
        for id in roots {
            reach(id, &mut stack);
        }
        while let Some(id) = stack.pop() {
            let o = &self.headers()[id];
            for index in o.slot_start..o.slot_start + o.slot_count {
                if let Some(target) = self.slot_arena().get(index) {
                    reach(target, &mut stack);
                }
            }
        }
    }
}

impl HeapSnapshot<'_> {
    /// What each root set keeps alive, largest retained bytes first (ties by name). Objects held by open handle
    /// scopes appear under [`HANDLE_SCOPES`].
    ///
    /// The retained objects of a root set are those its node in the dominator tree dominates (the snapshot's graph
    /// has one node per root set, under a synthetic root), so they come from the one dominator tree of the
    /// snapshot. The reachable objects are one walk per root set of what that root set reaches, with one mark
    /// array for all: linear in the live graph when root sets hold separate objects, and the sum of what each
    /// root set reaches when they share.
    pub fn root_set_retention(&self) -> Vec<RootRetention> {
        let heap = self.heap();
        let handles = heap
            .root_set_table()
            .sets()
            .iter()
            .filter(|s| !s.handles.is_empty())
            .map(|s| (s.handles.values().map(|&n| u64::from(n)).sum(), Box::new(s.handles.keys().copied()) as Handles))
            .chain((!heap.handle_scopes().handles().is_empty()).then(|| {
                (
                    heap.handle_scopes().handles().len() as u64,
                    Box::new(heap.handle_scopes().handles().iter().copied()) as Handles,
                )
            }));
        // `seen[node]` is the number (from 1) of the last root set whose walk reached the node.
        let mut seen = vec![0u32; self.node_count()];
        let mut stack: Vec<ObjectId> = Vec::new();
        let mut result: Vec<RootRetention> = self
            .root_set_retained()
            .zip(handles)
            .enumerate()
            .map(|(i, ((name, retained), (handle_count, held)))| {
                let mark = i as u32 + 1;
                let mut reachable = ObjectTally::default();
                let mut reach = |id: ObjectId, stack: &mut Vec<ObjectId>| {
                    if let Some(n) = self.node_of(id) {
                        if seen[n as usize] != mark {
                            seen[n as usize] = mark;
                            let o = &heap.headers()[id];
                            reachable.add(o.size, o.space());
                            stack.push(id);
                        }
                    }
                };
                for id in held {
                    reach(id, &mut stack);
                }
                while let Some(id) = stack.pop() {
                    let o = &heap.headers()[id];
                    for index in o.slot_start..o.slot_start + o.slot_count {
                        if let Some(target) = heap.slot_arena().get(index) {
                            reach(target, &mut stack);
                        }
                    }
                }
                RootRetention {
                    root: name.to_owned(),
                    handles: handle_count,
                    reachable_objects: reachable.objects,
                    reachable_bytes: reachable.bytes,
                    retained_objects: retained.objects,
                    retained_bytes: retained.bytes,
                    retained_old_bytes: retained.old_bytes,
                }
            })
            .collect();
        result.sort_by(|a, b| b.retained_bytes.cmp(&a.retained_bytes).then_with(|| a.root.cmp(&b.root)));
        result
    }
}

/// The objects one root set holds.
type Handles<'a> = Box<dyn Iterator<Item = ObjectId> + 'a>;

impl ObjectTally {
    pub(crate) fn add(&mut self, size: u32, space: Space) {
        self.objects += 1;
        self.bytes += u64::from(size);
        if !space.is_young() {
            self.old_bytes += u64::from(size);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Collection, Heap, Labels};

    #[test]
    fn retention_separates_shared_from_exclusive() {
        let mut heap = Heap::default();
        let shared = heap.alloc(104, 0, Labels::NONE).unwrap();
        let a = heap.alloc(24, 2, Labels::NONE).unwrap();
        let b = heap.alloc(24, 2, Labels::NONE).unwrap();
        let only_a = heap.alloc(1000, 0, Labels::NONE).unwrap();
        heap.write(a, 0, Some(shared)).unwrap();
        heap.write(b, 0, Some(shared)).unwrap();
        heap.write(a, 1, Some(only_a)).unwrap();
        heap.add_root("timers", a).unwrap();
        heap.add_root("globals", b).unwrap();
        let garbage = heap.alloc(5000, 0, Labels::NONE).unwrap();
        assert!(heap.is_alive(garbage), "not collected yet");
        assert_eq!(heap.live_set().bytes, 104 + 24 + 24 + 1000);
        let r = heap.root_set_retention();
        assert_eq!(r.iter().map(|r| r.root.as_str()).collect::<Vec<_>>(), ["timers", "globals"]);
        assert_eq!((r[0].reachable_bytes, r[0].retained_bytes, r[0].retained_objects), (1128, 1024, 2));
        assert_eq!((r[1].reachable_bytes, r[1].retained_bytes), (128, 24));
        assert_eq!(r[0].retained_old_bytes, 0);
        heap.collect(Collection::Major).unwrap();
        let r = heap.root_set_retention();
        assert_eq!(r[0].retained_old_bytes, 1024, "promoted by the full GC");
        assert_eq!(heap.live_set().bytes, heap.usage().used_bytes(), "after a full GC, only live objects remain");
    }

    #[test]
    fn handle_scopes_are_a_root() {
        let mut heap = Heap::default();
        heap.enter_scope();
        heap.alloc(40, 0, Labels::NONE).unwrap();
        let r = heap.root_set_retention();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].root.as_str(), r[0].retained_bytes, r[0].handles), (super::HANDLE_SCOPES, 40, 1));
    }
}
