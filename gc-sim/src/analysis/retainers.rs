//! Who keeps what alive: what each root set reaches and retains, as a heap snapshot would show them, read off the
//! one [`ObjectGraph`].

use serde::{Deserialize, Serialize};

use super::object_graph::ObjectGraph;
use super::walk::ObjectTally;

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
    /// the shared objects it reaches (those at the top of the dominator tree, which several root sets reach), found
    /// in the small graph of references between those subtrees (see `shared_edges` in `object_graph.rs`), never by
    /// walking the object graph again. Where that small graph is a forest (a list or a tree that several root sets
    /// hold parts of), a root set's share of it is a sum of subtree sizes, read off in O(k log k) for the k shared
    /// objects it holds: the retention of all root sets is then linear in the live graph, whatever their number.
    /// Elsewhere (shared objects reached along several paths, or in a cycle) it is a walk of the small graph per
    /// root set.
    pub fn root_set_retention(&self) -> Vec<RootRetention> {
        let shared = SharedObjects::new(self);
        // `seen[i]` is the number of the last root set whose walk reached shared object `i`.
        let mut seen = vec![0u32; shared.node.len()];
        let mut stack: Vec<usize> = Vec::new();
        // The shared objects with a tree below them that the walk of a root set reached.
        let mut trees: Vec<u32> = Vec::new();
        let mut result: Vec<RootRetention> = self
            .root_nodes()
            .map(|(r, name, handles)| {
                let retained = self.retained_by_node(r);
                let mut reachable = retained;
                let mark = r as u32;
                trees.clear();
                stack.push(r);
                while let Some(n) = stack.pop() {
                    for &to in self.shared_successors(n) {
                        let to = to as usize;
                        let i = shared.index[to];
                        if shared.is_tree(i) {
                            trees.push(i);
                        } else if seen[i as usize] != mark {
                            seen[i as usize] = mark;
                            reachable.merge(&self.retained_by_node(to));
                            stack.push(to);
                        }
                    }
                }
                // Count each tree once: only those not inside another one reached.
                trees.sort_unstable_by_key(|&i| shared.enter[i as usize]);
                let mut end = 0;
                for &i in &trees {
                    let i = i as usize;
                    if shared.enter[i] >= end {
                        reachable.merge(&shared.below[i]);
                        end = shared.exit[i];
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

/// No shared object.
const NONE: u32 = u32::MAX;

/// The objects that several root sets reach and that the synthetic root dominates (the tops of the dominator tree
/// besides the root sets), numbered from 0, with what is below each in the graph of references between their
/// subtrees (`shared_successors`).
///
/// A shared object is a **tree** when what it reaches in that graph is a tree: every shared object it reaches is
/// reached from exactly one shared object, with no cycle. What a tree reaches is then its own subtree, disjoint from
/// those of its siblings, so its reach is the sum of the retained sizes in it (`below`), and a preorder numbering
/// (`enter`, `exit`) tells whether one tree lies inside another.
struct SharedObjects {
    /// The node of every shared object.
    node: Vec<u32>,
    /// The shared object of every node, [`NONE`] for the others.
    index: Vec<u32>,
    /// Whether each shared object is a tree.
    tree: Vec<bool>,
    /// What each tree reaches: the retained sizes of its subtree in the graph of shared objects.
    below: Vec<ObjectTally>,
    /// Preorder number of each tree in the forest of trees, and the number after its last descendant.
    enter: Vec<u32>,
    exit: Vec<u32>,
}

impl SharedObjects {
    fn new(graph: &ObjectGraph<'_>) -> SharedObjects {
        let nodes = graph.node_count();
        let first = graph.first_object();
        // Every shared object is the target of a reference from another subtree (several root sets reach it).
        let mut index = vec![NONE; nodes];
        let mut node: Vec<u32> = Vec::new();
        // References from shared objects (not from root sets) into each shared object.
        let mut parents: Vec<u32> = Vec::new();
        for n in 1..nodes {
            for &to in graph.shared_successors(n) {
                let to = to as usize;
                if index[to] == NONE {
                    index[to] = node.len() as u32;
                    node.push(to as u32);
                    parents.push(0);
                }
                if n >= first {
                    parents[index[to] as usize] += 1;
                }
            }
        }
        let count = node.len();
        let successors =
            |i: usize| graph.shared_successors(node[i] as usize).iter().map(|&to| index[to as usize] as usize);

        // Which are trees, and what each tree reaches: an iterative depth-first walk, children before parents. A
        // child still on the stack closes a cycle: its ancestors on the stack are not trees.
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; count];
        let mut tree = vec![true; count];
        let mut below: Vec<ObjectTally> = node.iter().map(|&n| graph.retained_by_node(n as usize)).collect();
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for start in 0..count {
            if state[start] != NEW {
                continue;
            }
            state[start] = OPEN;
            stack.push((start, 0));
            while let Some(&mut (i, ref mut next)) = stack.last_mut() {
                let targets = graph.shared_successors(node[i] as usize);
                if let Some(&to) = targets.get(*next) {
                    let c = index[to as usize] as usize;
                    *next += 1;
                    match state[c] {
                        NEW => {
                            state[c] = OPEN;
                            stack.push((c, 0));
                        }
                        OPEN => tree[i] = false,
                        _ => {
                            if tree[c] && parents[c] == 1 {
                                let tally = below[c];
                                below[i].merge(&tally);
                            } else {
                                tree[i] = false;
                            }
                        }
                    }
                    continue;
                }
                stack.pop();
                state[i] = DONE;
                if let Some(&(p, _)) = stack.last() {
                    if tree[i] && parents[i] == 1 {
                        let tally = below[i];
                        below[p].merge(&tally);
                    } else {
                        tree[p] = false;
                    }
                }
            }
        }

        // Preorder numbers in the forest of trees: its roots are the trees that no tree refers to.
        let mut under_tree = vec![false; count];
        for i in (0..count).filter(|&i| tree[i]) {
            for c in successors(i) {
                under_tree[c] = true;
            }
        }
        let mut enter = vec![0u32; count];
        let mut exit = vec![0u32; count];
        let mut clock = 0u32;
        let mut walk: Vec<(usize, bool)> = Vec::new();
        for root in (0..count).filter(|&i| tree[i] && !under_tree[i]) {
            walk.push((root, true));
            while let Some((i, entering)) = walk.pop() {
                if entering {
                    enter[i] = clock;
                    clock += 1;
                    walk.push((i, false));
                    walk.extend(successors(i).map(|c| (c, true)));
                } else {
                    exit[i] = clock;
                }
            }
        }
        SharedObjects { node, index, tree, below, enter, exit }
    }

    fn is_tree(&self, i: u32) -> bool {
        self.tree[i as usize]
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
