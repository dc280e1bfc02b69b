//! Who keeps what alive: what each root set reaches and retains, as a heap snapshot would show them, read off the
//! one [`ObjectGraph`].

use serde::{Deserialize, Serialize};

use super::object_graph::ObjectGraph;

/// What one root set keeps alive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRetention {
    /// The root set's name, or [`HANDLE_SCOPES`](super::HANDLE_SCOPES).
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

impl ObjectGraph<'_> {
    /// What each root set keeps alive, largest retained bytes first (ties by name). Objects held by open handle
    /// scopes appear under [`HANDLE_SCOPES`](super::HANDLE_SCOPES).
    ///
    /// The retained objects of a root set are those its node in the dominator tree dominates (the graph has one
    /// node per root set, under a synthetic root). The reachable ones are its retained ones plus the subtrees of
    /// the objects shared with other root sets that it reaches, found by a walk of the small graph of references
    /// between those subtrees (see `shared_edges` in `object_graph.rs`), never of the object graph: linear in the
    /// live graph when the root sets share a few objects, whatever their number.
    pub fn root_set_retention(&self) -> Vec<RootRetention> {
        // `seen[node]` is the number of the last root set whose walk reached the node.
        let mut seen = vec![0u32; self.node_count()];
        let mut stack: Vec<usize> = Vec::new();
        let mut result: Vec<RootRetention> = self
            .root_nodes()
            .map(|(r, name, handles)| {
                let retained = self.retained_by_node(r);
                let mut reachable = retained;
                seen[r] = r as u32;
                stack.push(r);
                while let Some(n) = stack.pop() {
                    for to in self.shared_successors(n) {
                        if seen[to] != r as u32 {
                            seen[to] = r as u32;
                            reachable.merge(&self.retained_by_node(to));
                            stack.push(to);
                        }
                    }
                }
                RootRetention {
                    root: name.to_owned(),
                    handles,
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

#[cfg(test)]
mod tests {
    use crate::analysis::object_graph::ObjectGraph;
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
        assert_eq!(ObjectGraph::new(&heap).live().bytes, 104 + 24 + 24 + 1000);
        let r = ObjectGraph::new(&heap).root_set_retention();
        assert_eq!(r.iter().map(|r| r.root.as_str()).collect::<Vec<_>>(), ["timers", "globals"]);
        assert_eq!((r[0].reachable_bytes, r[0].retained_bytes, r[0].retained_objects), (1128, 1024, 2));
        assert_eq!((r[1].reachable_bytes, r[1].retained_bytes), (128, 24));
        assert_eq!(r[0].retained_old_bytes, 0);
        heap.collect(Collection::Major).unwrap();
        let r = ObjectGraph::new(&heap).root_set_retention();
        assert_eq!(r[0].retained_old_bytes, 1024, "promoted by the full GC");
        assert_eq!(
            ObjectGraph::new(&heap).live().bytes,
            heap.usage().used_bytes(),
            "after a full GC, only live objects remain"
        );
    }

    /// Root sets that each hold one object of a list held by `globals`: each reaches the list from its object on
    /// (read off the shared objects' subtrees, not walked), and retains nothing.
    #[test]
    fn root_sets_sharing_one_list_reach_its_tail() {
        let mut heap = Heap::default();
        let list: Vec<_> = (0..100).map(|_| heap.alloc(16, 1, Labels::NONE).unwrap()).collect();
        for pair in list.windows(2) {
            heap.write(pair[0], 0, Some(pair[1])).unwrap();
        }
        heap.add_root("globals", list[0]).unwrap();
        let held = [90, 3, 50, 51, 3];
        for (i, &p) in held.iter().enumerate() {
            heap.add_root(&format!("set{i}"), list[p]).unwrap();
        }
        let r = ObjectGraph::new(&heap).root_set_retention();
        let reach = |name: &str| r.iter().find(|r| r.root == name).map(|r| (r.reachable_objects, r.retained_objects));
        assert_eq!(reach("globals"), Some((100, 3)), "the list up to the first object another root set holds");
        for (i, &p) in held.iter().enumerate() {
            assert_eq!(reach(&format!("set{i}")), Some((100 - p as u64, 0)));
        }
    }

    #[test]
    fn handle_scopes_are_a_root() {
        let mut heap = Heap::default();
        heap.enter_scope();
        heap.alloc(40, 0, Labels::NONE).unwrap();
        let r = ObjectGraph::new(&heap).root_set_retention();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].root.as_str(), r[0].retained_bytes, r[0].handles), (crate::analysis::HANDLE_SCOPES, 40, 1));
    }
}
