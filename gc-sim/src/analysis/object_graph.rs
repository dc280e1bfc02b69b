//! The live object graph, frozen for leak analysis the way DevTools' heap snapshots present it (V8's
//! `heap-snapshot-generator`): retained sizes from the dominator tree, shortest retaining paths from the roots,
//! retention per tag and per root set (in [`retainers`](crate::analysis::retainers)), the ages of live objects
//! (in [`ages`](crate::analysis::ages)).
//!
//! The graph has a synthetic root, `(GC roots)`, whose children are the root sets (and the open handle scopes, as
//! [`HANDLE_SCOPES`]), whose children are the objects they hold. An object's **retained size** is the size of
//! every object it dominates: those that become unreachable without it. A root set's retained size is therefore
//! what only it keeps alive.
//!
//! [`HANDLE_SCOPES`]: crate::analysis::HANDLE_SCOPES
//!
//! Node numbers follow a breadth-first walk from the synthetic root, so the first path found to any object is a
//! shortest one, and every object's immediate dominator has a smaller number than the object (a dominator lies on
//! every path, the walk's tree path included). Retained sizes are then one pass over the nodes in reverse.

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};
use slotmap::SecondaryMap;

use crate::analysis::dominators::immediate_dominators;
use crate::analysis::walk::ObjectTally;
use crate::analysis::walk::{self, Walk};
use crate::heap::Heap;
use crate::object::{HeapObject, Label, ObjectId};

/// Marks a path edge from a root set (not from an object's slot).
const NO_SLOT: u32 = u32::MAX;
/// No object.
const NO_NODE: u32 = u32::MAX;

/// The live heap at one moment, with its dominator tree: one walk of the live graph, from which every analysis
/// of a report is read.
pub struct ObjectGraph<'h> {
    heap: &'h Heap,
    /// Name and handle count of the root-set nodes `1..=roots.len()`.
    roots: Vec<(&'h str, u64)>,
    /// The object of every node after the root-set nodes, with its header.
    objects: Vec<(ObjectId, &'h HeapObject)>,
    /// Index in `objects` of every live object.
    index: SecondaryMap<ObjectId, u32>,
    /// Breadth-first parent of every node and the slot of the parent that holds it ([`NO_SLOT`] from a root set).
    parent: Vec<(u32, u32)>,
    /// Immediate dominator of every node (the synthetic root's is itself).
    idom: Vec<u32>,
    /// Retained objects and bytes of every node.
    retained: Vec<ObjectTally>,
    /// The references into objects that several root sets reach, as edges between subtrees of the dominator tree
    /// (see [`shared_edges`]): those from node `n` are `shared[shared_start[n]..shared_start[n + 1]]`.
    shared: Vec<u32>,
    shared_start: Vec<u32>,
    /// Index in `objects` of the first object of every tag (by label number), [`NO_NODE`] for none; made on first
    /// use.
    nearest: OnceCell<Vec<u32>>,
}

/// What one tag's objects hold and what they retain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagRetention {
    /// The tag.
    pub tag: String,
    /// Live objects with the tag.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Of those, bytes in the old generation.
    pub old_bytes: u64,
    /// Objects the tag's objects dominate together (themselves included): what would be freed if nothing held
    /// them from outside the tag. The union of the dominator subtrees of the tag's objects.
    pub retained_objects: u64,
    /// Their bytes.
    pub retained_bytes: u64,
    /// Of those, bytes in the old generation.
    pub retained_old_bytes: u64,
    /// The root set of the shortest retaining path to one of the tag's objects.
    pub root: String,
}

/// A shortest chain of references from a root set to an object, as DevTools' retainers show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetainingPath {
    /// The root set the path starts from ([`HANDLE_SCOPES`](crate::analysis::HANDLE_SCOPES) for the open handle
    /// scopes).
    pub root: String,
    /// The objects along the path, from the one the root set holds to the target, with the slot of the previous
    /// object that holds each (`None` for the first, held by the root set).
    pub steps: Vec<(Option<u32>, ObjectId)>,
}

impl<'h> ObjectGraph<'h> {
    /// Freezes the live heap for analysis: one walk of the live graph plus the dominator tree (Lengauer and
    /// Tarjan's algorithm, O(m log n) for n live objects and m references). Meant for reports and tests, not for
    /// every collection.
    ///
    /// ```
    /// use gc_sim::{Heap, Labels, ObjectGraph};
    /// let mut heap = Heap::default();
    /// let conn = heap.label("conn-1");
    /// let timer = heap.alloc(104, 1, Labels { tag: Some(conn), ..Labels::NONE })?;
    /// let socket = heap.alloc(2000, 0, Labels { tag: Some(conn), ..Labels::NONE })?;
    /// heap.write(timer, 0, Some(socket))?;
    /// heap.add_root("timers", timer)?;
    /// let graph = ObjectGraph::new(&heap);
    /// assert_eq!(graph.retained(timer).unwrap().bytes, 2104);
    /// let path = graph.retaining_path(socket).unwrap();
    /// assert_eq!((path.root.as_str(), path.steps.len()), ("timers", 2));
    /// assert_eq!(graph.tag_retention()[0].retained_bytes, 2104);
    /// # Ok::<(), gc_sim::HeapError>(())
    /// ```
    pub fn new(heap: &'h Heap) -> ObjectGraph<'h> {
        let sets = walk::root_sets(heap);
        let first = sets.len() as u32 + 1;

        // Breadth-first numbering, parents and the edges of the graph.
        let mut walk = Walk::new(heap);
        let mut parent: Vec<(u32, u32)> = vec![(0, NO_SLOT); first as usize];
        let mut edges: Vec<(u32, u32)> = (1..first).map(|r| (0, r)).collect();
        for (r, set) in sets.iter().enumerate() {
            let from = r as u32 + 1;
            for &id in &set.objects {
                if let Some(reached) = walk.reach(id) {
                    if reached.first {
                        parent.push((from, NO_SLOT));
                    }
                    edges.push((from, first + reached.number));
                }
            }
        }
        walk.run(|from, slot, to| {
            if to.first {
                parent.push((first + from, slot));
            }
            edges.push((first + from, first + to.number));
        });
        let Walk { objects, number: index, .. } = walk;

        let nodes = first as usize + objects.len();
        let idom = immediate_dominators(nodes, &edges, 0);
        let (shared_start, shared) = shared_edges(&edges, &idom);
        drop(edges);

        let mut retained = vec![ObjectTally::default(); nodes];
        for (i, &(_, o)) in objects.iter().enumerate() {
            retained[first as usize + i].add(o.size, o.space());
        }
        for n in (1..nodes).rev() {
            debug_assert!(idom[n] < n as u32, "a dominator is found before what it dominates");
            let tally = retained[n];
            retained[idom[n] as usize].merge(&tally);
        }
        ObjectGraph {
            heap,
            roots: sets.into_iter().map(|set| (set.name, set.handles)).collect(),
            objects,
            index,
            parent,
            idom,
            retained,
            shared,
            shared_start,
            nearest: OnceCell::new(),
        }
    }

    /// The node number of the first object (after the synthetic root and the root sets).
    pub(crate) fn first_object(&self) -> usize {
        self.roots.len() + 1
    }

    /// The node number of a live object.
    fn node_of(&self, object: ObjectId) -> Option<usize> {
        self.index.get(object).map(|&i| self.first_object() + i as usize)
    }

    /// The headers of the live objects, in breadth-first order.
    pub(crate) fn headers(&self) -> impl Iterator<Item = &'h HeapObject> + '_ {
        self.objects.iter().map(|&(_, o)| o)
    }

    /// Objects, bytes and old bytes reachable from the roots (the whole graph): what a full collection would keep.
    ///
    /// Unlike [`Heap::usage`], which counts every object the spaces hold (dead young objects wait for the next
    /// scavenge), this is the live set.
    pub fn live(&self) -> ObjectTally {
        self.retained[0]
    }

    /// What `object` retains (itself included), or `None` if it is not live.
    pub fn retained(&self, object: ObjectId) -> Option<ObjectTally> {
        self.node_of(object).map(|n| self.retained[n])
    }

    /// What each root set retains, by name, in the order of the graph's root sets.
    pub fn root_set_retained(&self) -> impl Iterator<Item = (&str, ObjectTally)> + '_ {
        self.roots.iter().enumerate().map(|(i, &(name, _))| (name, self.retained[i + 1]))
    }

    /// The root sets as nodes: number, name and handle count.
    pub(crate) fn root_nodes(&self) -> impl Iterator<Item = (usize, &'h str, u64)> + '_ {
        self.roots.iter().enumerate().map(|(i, &(name, handles))| (i + 1, name, handles))
    }

    /// Number of nodes: the synthetic root, the root sets and the live objects.
    pub(crate) fn node_count(&self) -> usize {
        self.idom.len()
    }

    /// What node `n` retains.
    pub(crate) fn retained_by_node(&self, n: usize) -> ObjectTally {
        self.retained[n]
    }

    /// The nodes that the references of the subtree of the dominator tree under node `n` (a child of the synthetic
    /// root) lead to, outside that subtree: each one a child of the synthetic root (see [`shared_edges`]).
    pub(crate) fn shared_successors(&self, n: usize) -> &[u32] {
        &self.shared[self.shared_start[n] as usize..self.shared_start[n + 1] as usize]
    }

    /// The immediate dominator of `object`: the object every path to it passes through last, or `None` when only
    /// a root set (or several) dominates it.
    pub fn immediate_dominator(&self, object: ObjectId) -> Option<ObjectId> {
        let d = self.idom[self.node_of(object)?] as usize;
        d.checked_sub(self.first_object()).map(|i| self.objects[i].0)
    }

    /// A shortest retaining path to `object`, or `None` if it is not live.
    pub fn retaining_path(&self, object: ObjectId) -> Option<RetainingPath> {
        let mut n = self.node_of(object)?;
        let first = self.first_object();
        let mut steps = Vec::new();
        while n >= first {
            let (from, slot) = self.parent[n];
            steps.push(((slot != NO_SLOT).then_some(slot), self.objects[n - first].0));
            n = from as usize;
        }
        steps.reverse();
        Some(RetainingPath { root: self.roots[n - 1].0.to_owned(), steps })
    }

    /// The live object with tag `tag` closest to the roots (the first in breadth-first order), if any; `None` also
    /// for a label of another heap.
    ///
    /// The first call finds the nearest object of every tag in one pass over the graph; later calls look it up.
    pub fn nearest_tagged(&self, tag: Label) -> Option<ObjectId> {
        let nearest = self.nearest.get_or_init(|| {
            let mut nearest = vec![NO_NODE; self.heap.label_count()];
            for (i, &(_, o)) in self.objects.iter().enumerate() {
                if let Some(t) = self.heap.labels_of(o).tag {
                    let n = &mut nearest[t.index()];
                    if *n == NO_NODE {
                        *n = i as u32;
                    }
                }
            }
            nearest
        });
        let &i = nearest.get(self.heap.label_index(tag)?)?;
        (i != NO_NODE).then(|| self.objects[i as usize].0)
    }

    /// The live object of kind `kind` closest to the roots (the first in breadth-first order), if any; `None` also
    /// for a label of another heap. One pass over the graph's objects.
    pub fn nearest_of_kind(&self, kind: Label) -> Option<ObjectId> {
        self.heap.label_index(kind)?;
        self.objects.iter().find(|&&(_, o)| self.heap.labels_of(o).kind == Some(kind)).map(|&(id, _)| id)
    }

    /// Retention of every tag with live objects, largest retained bytes first (ties in the order the tags were first
    /// used, which for `conn-N` tags is the order the connections opened).
    ///
    /// A tag's retained set is the union of the dominator subtrees of its objects: found with one walk of the
    /// dominator tree that counts, per tag, the tagged objects on the current branch, so that an object inside the
    /// subtree of another object of its tag is not counted twice.
    pub fn tag_retention(&self) -> Vec<TagRetention> {
        let first = self.first_object();
        let nodes = self.idom.len();
        let label_count = self.heap.label_count();
        let object = |n: usize| -> Option<&HeapObject> { Some(self.objects.get(n.checked_sub(first)?)?.1) };

        // Children lists of the dominator tree, as one array.
        let mut start = vec![0u32; nodes + 1];
        for n in 1..nodes {
            start[self.idom[n] as usize + 1] += 1;
        }
        for n in 0..nodes {
            start[n + 1] += start[n];
        }
        let mut fill = start.clone();
        let mut children = vec![0u32; nodes.saturating_sub(1)];
        for n in 1..nodes {
            let p = self.idom[n] as usize;
            children[fill[p] as usize] = n as u32;
            fill[p] += 1;
        }

        #[derive(Clone, Default)]
        struct Acc {
            own: ObjectTally,
            retained: ObjectTally,
            nearest: Option<usize>,
        }
        let mut acc: Vec<Acc> = vec![Acc::default(); label_count];
        let mut open = vec![0u32; label_count];
        // Iterative depth-first walk: a node is pushed once to enter and once (negated in the flag) to leave.
        let mut stack: Vec<(u32, bool)> = vec![(0, true)];
        while let Some((n, entering)) = stack.pop() {
            let n = n as usize;
            let tagged = object(n).and_then(|o| Some((o, self.heap.labels_of(o).tag?.index())));
            if !entering {
                if let Some((_, t)) = tagged {
                    open[t] -= 1;
                }
                continue;
            }
            if let Some((o, t)) = tagged {
                let a = &mut acc[t];
                a.own.add(o.size, o.space());
                if open[t] == 0 {
                    a.retained.merge(&self.retained[n]);
                }
                a.nearest = Some(a.nearest.map_or(n, |m| m.min(n)));
                open[t] += 1;
            }
            stack.push((n as u32, false));
            stack.extend(children[start[n] as usize..start[n + 1] as usize].iter().map(|&c| (c, true)));
        }

        // The root set of every node's breadth-first path, in one pass: a parent is numbered before its children.
        // (Walking up from each tag's nearest object instead costs tags x depth.)
        let mut root_of: Vec<u32> = (0..first as u32).collect();
        root_of.extend(self.parent[first..].iter().map(|&(from, _)| from));
        for n in first..nodes {
            root_of[n] = root_of[root_of[n] as usize];
        }

        let mut result: Vec<TagRetention> = acc
            .into_iter()
            .enumerate()
            .filter_map(|(t, a)| {
                let n = root_of[a.nearest?] as usize;
                Some(TagRetention {
                    tag: self.heap.label_name_at(t).to_owned(),
                    objects: a.own.objects,
                    bytes: a.own.bytes,
                    old_bytes: a.own.old_bytes,
                    retained_objects: a.retained.objects,
                    retained_bytes: a.retained.bytes,
                    retained_old_bytes: a.retained.old_bytes,
                    root: self.roots[n - 1].0.to_owned(),
                })
            })
            .collect();
        // Stable: equal tags keep the order the labels were first used in (conn-2 before conn-10).
        result.sort_by_key(|r| std::cmp::Reverse(r.retained_bytes));
        result
    }

    /// The heap the graph was taken of.
    pub fn heap(&self) -> &'h Heap {
        self.heap
    }
}

/// The references between the subtrees of the synthetic root's children in the dominator tree, from each child to
/// the children it refers to, without repeats, as adjacency lists in one array: those of node `n` are
/// `targets[start[n]..start[n + 1]]`; returns `(start, targets)`.
///
/// Every node lies in the subtree of one child of the synthetic root: a root set, or an object that several root
/// sets reach (its immediate dominator is the synthetic root). A reference that leaves such a subtree can only
/// lead to another such child: were it to lead to a node `v` inside the subtree of `t` but not to `t`, the path
/// from the synthetic root to the referrer (which avoids `t`, as `t` does not dominate the referrer) and the
/// reference would reach `v` without `t`. So a root set reaches an object exactly when it reaches the child whose
/// subtree holds the object, through these edges alone: what each root set reaches is read from this small graph
/// instead of walking the object graph once per root set.
fn shared_edges(edges: &[(u32, u32)], idom: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let nodes = idom.len();
    // `top[n]`: the child of the synthetic root whose subtree holds node `n` (a dominator is numbered first).
    let mut top: Vec<u32> = (0..nodes as u32).collect();
    for n in 1..nodes {
        let d = idom[n] as usize;
        if d != 0 {
            top[n] = top[d];
        }
    }
    let mut shared: Vec<(u32, u32)> = edges
        .iter()
        .filter(|&&(from, to)| from != 0 && idom[to as usize] == 0 && top[from as usize] != to)
        .map(|&(from, to)| (top[from as usize], to))
        .collect();
    shared.sort_unstable();
    shared.dedup();
    let mut start = vec![0u32; nodes + 1];
    for &(from, _) in &shared {
        start[from as usize + 1] += 1;
    }
    for n in 0..nodes {
        start[n + 1] += start[n];
    }
    (start, shared.into_iter().map(|(_, to)| to).collect())
}

impl ObjectTally {
    pub(crate) fn merge(&mut self, other: &ObjectTally) {
        self.objects += other.objects;
        self.bytes += other.bytes;
        self.old_bytes += other.old_bytes;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::analysis::retainers::RootRetention;
    use crate::analysis::walk::HANDLE_SCOPES;
    use crate::{Collection, Labels};

    /// The handles of every root set named `Some(name)` and of the handle scopes (`None`), except `except`.
    fn handles_except(heap: &Heap, except: Option<Option<&str>>) -> Vec<ObjectId> {
        let mut handles: Vec<ObjectId> = heap
            .root_sets()
            .filter(|&(name, _)| except != Some(Some(name)))
            .flat_map(|(_, held)| held.map(|(id, _)| id))
            .collect();
        if except != Some(None) {
            handles.extend_from_slice(heap.scope_handles());
        }
        handles
    }

    /// Objects reachable from `roots` without entering `removed`: a naive depth-first search over the public API,
    /// independent of the walker under test.
    fn reachable(heap: &Heap, roots: &[ObjectId], removed: &[ObjectId]) -> HashSet<ObjectId> {
        let mut seen = HashSet::new();
        let mut stack = Vec::new();
        let mut reach = |id: ObjectId, stack: &mut Vec<ObjectId>| {
            if heap.is_alive(id) && !removed.contains(&id) && seen.insert(id) {
                stack.push(id);
            }
        };
        for &id in roots {
            reach(id, &mut stack);
        }
        while let Some(id) = stack.pop() {
            for target in heap.slots(id).unwrap().iter().flatten() {
                reach(*target, &mut stack);
            }
        }
        seen
    }

    fn tally(heap: &Heap, objects: impl IntoIterator<Item = ObjectId>) -> ObjectTally {
        let mut tally = ObjectTally::default();
        for id in objects {
            let o = heap.object(id).unwrap();
            tally.add(o.size, o.space);
        }
        tally
    }

    /// Objects that become unreachable when `removed` (and every reference to it) is gone: the definition of what
    /// `removed` retains, computed the slow way.
    fn freed_without(heap: &Heap, removed: &[ObjectId]) -> ObjectTally {
        let roots = handles_except(heap, None);
        let with = reachable(heap, &roots, &[]);
        let without = reachable(heap, &roots, removed);
        tally(heap, with.into_iter().filter(|id| !without.contains(id)))
    }

    /// What each root set reaches and retains, the slow way: for each root set, a walk of the graph from every
    /// other root set, then a walk from it.
    fn root_sets_by_walking(heap: &Heap) -> Vec<RootRetention> {
        let mut sets: Vec<(Option<&str>, u64)> = heap
            .root_sets()
            .map(|(name, held)| (Some(name), held.map(|(_, n)| u64::from(n)).sum()))
            .filter(|&(_, handles)| handles > 0)
            .collect();
        if !heap.scope_handles().is_empty() {
            sets.push((None, heap.scope_handles().len() as u64));
        }
        let mut result: Vec<_> = sets
            .into_iter()
            .map(|(name, handles)| {
                let others = reachable(heap, &handles_except(heap, Some(name)), &[]);
                let own: Vec<ObjectId> = match name {
                    Some(name) => {
                        heap.root_sets().filter(|(n, _)| *n == name).flat_map(|(_, h)| h.map(|(id, _)| id)).collect()
                    }
                    None => heap.scope_handles().to_vec(),
                };
                let own = reachable(heap, &own, &[]);
                let reachable = tally(heap, own.iter().copied());
                let retained = tally(heap, own.into_iter().filter(|id| !others.contains(id)));
                RootRetention {
                    root: name.unwrap_or(HANDLE_SCOPES).to_owned(),
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

    #[test]
    fn retained_sizes_match_removal_on_a_diamond_and_a_cycle() {
        let mut heap = Heap::default();
        // timers -> a -> {b, c} -> d (a diamond); d <-> e (a cycle); globals -> c as well.
        let ids: Vec<ObjectId> =
            [24, 24, 32, 40, 48].iter().map(|&s| heap.alloc(s, 2, Labels::NONE).unwrap()).collect();
        let [a, b, c, d, e] = ids[..] else { unreachable!() };
        heap.write(a, 0, Some(b)).unwrap();
        heap.write(a, 1, Some(c)).unwrap();
        heap.write(b, 0, Some(d)).unwrap();
        heap.write(c, 0, Some(d)).unwrap();
        heap.write(d, 0, Some(e)).unwrap();
        heap.write(e, 0, Some(d)).unwrap();
        heap.add_root("timers", a).unwrap();
        heap.add_root("globals", c).unwrap();
        heap.collect(Collection::Major).unwrap();
        let s = ObjectGraph::new(&heap);
        for &id in &ids {
            let oracle = freed_without(&heap, &[id]);
            assert_eq!(s.retained(id).unwrap(), oracle, "retained size of {id:?}");
        }
        assert_eq!(s.retained(a).unwrap().bytes, 24 + 24, "c (and so d, e) is also held by globals");
        assert_eq!(s.retained(d).unwrap().bytes, 40 + 48);
        assert_eq!(s.immediate_dominator(e), Some(d));
        assert_eq!(s.immediate_dominator(d), None, "a and c both reach d, and c has its own root");
        let by_root: Vec<_> = s.root_set_retained().map(|(r, t)| (r.to_owned(), t.bytes)).collect();
        assert_eq!(by_root, [("timers".to_owned(), 48), ("globals".to_owned(), 0)], "both roots reach c");
        let walked: Vec<_> =
            ObjectGraph::new(&heap).root_set_retention().into_iter().map(|r| (r.root, r.retained_bytes)).collect();
        assert_eq!(walked, by_root);
        assert_eq!(
            ObjectGraph::new(&heap).root_set_retention(),
            root_sets_by_walking(&heap),
            "the same as removing each root set"
        );
        let path = s.retaining_path(e).unwrap();
        assert_eq!(path.root, "globals", "globals -> c -> d -> e is shorter than timers -> a -> c -> d -> e");
        assert_eq!(path.steps, [(None, c), (Some(0), d), (Some(0), e)]);
    }

    /// Objects that several root sets reach, arranged as a chain, a diamond and a cycle (so both ways of counting
    /// what a root set reaches, by subtree sums and by walking, are used), against walking the graph per root set.
    #[test]
    fn root_sets_sharing_a_chain_a_diamond_and_a_cycle_reach_what_walking_finds() {
        let mut heap = Heap::default();
        let ids: Vec<ObjectId> = (0..10).map(|i| heap.alloc(24 + 8 * i, 2, Labels::NONE).unwrap()).collect();
        let [a, b, c, d, e, f, g, h, i, j] = ids[..] else { unreachable!() };
        for (from, slot, to) in [(a, 0, b), (b, 0, c), (c, 1, d), (b, 1, d), (d, 0, g), (e, 0, f), (f, 0, e), (f, 1, h)]
        {
            heap.write(from, slot, Some(to)).unwrap();
        }
        heap.write(c, 0, Some(i)).unwrap();
        heap.write(i, 0, Some(j)).unwrap();
        for (root, object) in
            [("globals", a), ("s1", b), ("s2", c), ("s3", d), ("s4", e), ("s5", f), ("globals", e), ("s6", j)]
        {
            heap.add_root(root, object).unwrap();
        }
        let r = ObjectGraph::new(&heap).root_set_retention();
        assert_eq!(r, root_sets_by_walking(&heap));
        let reach = |name: &str| r.iter().find(|r| r.root == name).unwrap().reachable_objects;
        assert_eq!(reach("globals"), 10, "a, b, c, d, g, i, j, and e, f, h");
        assert_eq!(
            (reach("s1"), reach("s2"), reach("s3"), reach("s5")),
            (6, 5, 2, 3),
            "b c d g i j; c d g i j; d g; f e h"
        );
    }

    #[test]
    fn a_tag_retains_the_union_of_its_subtrees() {
        let mut heap = Heap::default();
        let conn = heap.label("conn-1");
        let other = heap.label("conn-2");
        let tagged = |tag| Labels { tag: Some(tag), ..Labels::NONE };
        let timer = heap.alloc(104, 2, tagged(conn)).unwrap();
        let closure = heap.alloc(64, 1, tagged(conn)).unwrap();
        let buffer = heap.alloc(4000, 0, Labels::NONE).unwrap();
        let shared = heap.alloc(500, 0, Labels::NONE).unwrap();
        let second = heap.alloc(80, 1, tagged(other)).unwrap();
        heap.write(timer, 0, Some(closure)).unwrap();
        heap.write(closure, 0, Some(buffer)).unwrap();
        heap.write(timer, 1, Some(shared)).unwrap();
        heap.write(second, 0, Some(shared)).unwrap();
        heap.add_root("timers", timer).unwrap();
        heap.add_root("timers", second).unwrap();
        let tags = ObjectGraph::new(&heap).tag_retention();
        assert_eq!(tags.len(), 2);
        let t = &tags[0];
        assert_eq!((t.tag.as_str(), t.objects, t.bytes), ("conn-1", 2, 168));
        assert_eq!((t.retained_objects, t.retained_bytes), (3, 4168), "the closure is inside the timer's subtree");
        assert_eq!(t.retained_bytes, freed_without(&heap, &[timer, closure]).bytes);
        assert_eq!((tags[1].tag.as_str(), tags[1].retained_bytes), ("conn-2", 80), "the shared object is not its own");
        assert_eq!(t.root, "timers");
    }

    proptest::proptest! {
        /// On random graphs, every live object's retained size is what its removal frees, and every retaining path
        /// is a real chain of references from its root set.
        #[test]
        fn retained_sizes_and_paths_agree_with_the_graph(
            sizes in proptest::collection::vec(32u32..200, 1..40),
            edges in proptest::collection::vec((0usize..40, 0u32..3, 0usize..40), 0..80),
            roots in proptest::collection::vec((0usize..40, 0usize..6), 1..10),
            major in proptest::bool::ANY,
        ) {
            let mut heap = Heap::default();
            let ids: Vec<ObjectId> = sizes.iter().map(|&s| heap.alloc(s, 3, Labels::NONE).unwrap()).collect();
            for &(from, slot, to) in &edges {
                heap.write(ids[from % ids.len()], slot, Some(ids[to % ids.len()])).unwrap();
            }
            for &(id, set) in &roots {
                heap.add_root(["timers", "globals", "handles", "a", "b", "c"][set], ids[id % ids.len()]).unwrap();
            }
            if major {
                heap.collect(Collection::Major).unwrap();
            }
            let s = ObjectGraph::new(&heap);
            for &id in &ids {
                match s.retained(id) {
                    Some(retained) => {
                        proptest::prop_assert_eq!(retained, freed_without(&heap, &[id]));
                        let path = s.retaining_path(id).unwrap();
                        proptest::prop_assert!(heap.root_count(&path.root, path.steps[0].1) > 0);
                        for pair in path.steps.windows(2) {
                            let (slot, to) = pair[1];
                            proptest::prop_assert_eq!(heap.read(pair[0].1, slot.unwrap()).unwrap(), Some(to));
                        }
                        proptest::prop_assert_eq!(path.steps.last().unwrap().1, id);
                    }
                    None => proptest::prop_assert!(s.retaining_path(id).is_none()),
                }
            }
            proptest::prop_assert_eq!(s.root_set_retention(), root_sets_by_walking(&heap));
            proptest::prop_assert_eq!(s.live(), tally(&heap, reachable(&heap, &handles_except(&heap, None), &[])));
            drop(s);
            // An open handle scope holding an object that points into the graph is one more root set.
            heap.enter_scope();
            let holder = heap.alloc(16, 1, Labels::NONE).unwrap();
            let _ = heap.write(holder, 0, Some(ids[roots[0].0 % ids.len()])); // the target may have been freed
            proptest::prop_assert_eq!(ObjectGraph::new(&heap).root_set_retention(), root_sets_by_walking(&heap));
        }
    }

    #[test]
    fn a_million_long_list_does_not_overflow_the_stack() {
        let mut heap = Heap::default();
        let head = heap.alloc(16, 1, Labels::NONE).unwrap();
        heap.add_root("globals", head).unwrap();
        let mut tail = head;
        for _ in 0..1_000_000 {
            let next = heap.alloc(16, 1, Labels::NONE).unwrap();
            heap.write(tail, 0, Some(next)).unwrap();
            tail = next;
        }
        let s = ObjectGraph::new(&heap);
        assert_eq!(s.retained(head).unwrap().objects, 1_000_001);
        assert_eq!(s.retaining_path(tail).unwrap().steps.len(), 1_000_001);
        assert_eq!(s.tag_retention(), []);
    }
}
