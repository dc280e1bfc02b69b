//! A heap snapshot: the live object graph, frozen for leak analysis the way DevTools' heap snapshots present it
//! (V8's `heap-snapshot-generator`): retained sizes from the dominator tree, shortest retaining paths from the
//! roots, retention per tag and the ages of live objects.
//!
//! The graph has a synthetic root, `(GC roots)`, whose children are the root sets (and the open handle scopes, as
//! [`HANDLE_SCOPES`]), whose children are the objects they hold. An object's **retained size** is the size of
//! every object it dominates: those that become unreachable without it. A root set's retained size is therefore
//! what only it keeps alive.
//!
//! Node numbers follow a breadth-first walk from the synthetic root, so the first path found to any object is a
//! shortest one, and every object's immediate dominator has a smaller number than the object (a dominator lies on
//! every path, the walk's tree path included). Retained sizes are then one pass over the nodes in reverse.

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};
use slotmap::SecondaryMap;

use crate::dominators::immediate_dominators;
use crate::heap::Heap;
use crate::object::{Label, ObjectId};
use crate::retainers::{ObjectTally, HANDLE_SCOPES};
use crate::survival::AgeBucket;

/// Marks a path edge from a root set (not from an object's slot).
const NO_SLOT: u32 = u32::MAX;
/// No object.
const NO_NODE: u32 = u32::MAX;

/// The live heap at one moment, with its dominator tree. Made by [`Heap::snapshot`].
pub struct HeapSnapshot<'h> {
    heap: &'h Heap,
    /// Names of the root-set nodes `1..=roots.len()`.
    roots: Vec<String>,
    /// The object of every node after the root-set nodes.
    objects: Vec<ObjectId>,
    /// Node number of every live object.
    node: SecondaryMap<ObjectId, u32>,
    /// Breadth-first parent of every node and the slot of the parent that holds it ([`NO_SLOT`] from a root set).
    parent: Vec<(u32, u32)>,
    /// Immediate dominator of every node (the synthetic root's is itself).
    idom: Vec<u32>,
    /// Retained objects and bytes of every node.
    retained: Vec<ObjectTally>,
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
    /// The root set the path starts from ([`HANDLE_SCOPES`] for the open handle scopes).
    pub root: String,
    /// The objects along the path, from the one the root set holds to the target, with the slot of the previous
    /// object that holds each (`None` for the first, held by the root set).
    pub steps: Vec<(Option<u32>, ObjectId)>,
}

impl Heap {
    /// Freezes the live heap for analysis: a walk of the live graph plus the dominator tree (Lengauer and Tarjan's
    /// algorithm, O(m log n) for n live objects and m references). Meant for reports and tests, not for every
    /// collection.
    ///
    /// ```
    /// use gc_sim::{Heap, Labels};
    /// let mut heap = Heap::default();
    /// let conn = heap.label("conn-1");
    /// let timer = heap.alloc(104, 1, Labels { tag: Some(conn), ..Labels::NONE })?;
    /// let socket = heap.alloc(2000, 0, Labels { tag: Some(conn), ..Labels::NONE })?;
    /// heap.write(timer, 0, Some(socket))?;
    /// heap.add_root("timers", timer)?;
    /// let snapshot = heap.snapshot();
    /// assert_eq!(snapshot.retained(timer).unwrap().bytes, 2104);
    /// let path = snapshot.retaining_path(socket).unwrap();
    /// assert_eq!((path.root.as_str(), path.steps.len()), ("timers", 2));
    /// assert_eq!(snapshot.tag_retention()[0].retained_bytes, 2104);
    /// # Ok::<(), gc_sim::HeapError>(())
    /// ```
    pub fn snapshot(&self) -> HeapSnapshot<'_> {
        HeapSnapshot::new(self)
    }
}

impl<'h> HeapSnapshot<'h> {
    fn new(heap: &'h Heap) -> HeapSnapshot<'h> {
        let mut sets: Vec<(String, Vec<ObjectId>)> = heap
            .root_set_table()
            .sets()
            .iter()
            .filter(|s| !s.handles.is_empty())
            .map(|s| (s.name.clone(), s.handles.keys().copied().collect()))
            .collect();
        if !heap.handle_scopes().handles().is_empty() {
            sets.push((HANDLE_SCOPES.to_owned(), heap.handle_scopes().handles().to_vec()));
        }
        let first_object = sets.len() as u32 + 1;

        // Breadth-first numbering, parents and the edges of the graph.
        let mut walk = Walk {
            heap,
            first_object,
            objects: Vec::new(),
            node: SecondaryMap::new(),
            parent: vec![(0, NO_SLOT); first_object as usize],
            edges: (1..first_object).map(|r| (0, r)).collect(),
        };
        for (root, (_, handles)) in sets.iter().enumerate() {
            for &id in handles {
                walk.reach(id, root as u32 + 1, NO_SLOT);
            }
        }
        // `objects` grows while it is scanned: the breadth-first queue is the node list itself.
        let mut next = 0;
        while next < walk.objects.len() {
            let o = &heap.headers()[walk.objects[next]];
            let from = first_object + next as u32;
            for (slot, index) in (o.slot_start..o.slot_start + o.slot_count).enumerate() {
                if let Some(target) = heap.slot_arena().get(index) {
                    walk.reach(target, from, slot as u32);
                }
            }
            next += 1;
        }
        let Walk { objects, node, parent, edges, .. } = walk;

        let nodes = first_object as usize + objects.len();
        let idom = immediate_dominators(nodes, &edges, 0);
        drop(edges);

        let mut retained = vec![ObjectTally::default(); nodes];
        for (i, &id) in objects.iter().enumerate() {
            let o = &heap.headers()[id];
            retained[first_object as usize + i].add(o.size, o.space());
        }
        for n in (1..nodes).rev() {
            debug_assert!(idom[n] < n as u32, "a dominator is found before what it dominates");
            let tally = retained[n];
            retained[idom[n] as usize].merge(&tally);
        }
        HeapSnapshot {
            heap,
            roots: sets.into_iter().map(|(name, _)| name).collect(),
            objects,
            node,
            parent,
            idom,
            retained,
            nearest: OnceCell::new(),
        }
    }

    fn first_object(&self) -> usize {
        self.roots.len() + 1
    }

    /// Number of nodes: the synthetic root, the root sets and the live objects.
    pub(crate) fn node_count(&self) -> usize {
        self.idom.len()
    }

    /// The node number of a live object.
    pub(crate) fn node_of(&self, object: ObjectId) -> Option<u32> {
        self.node.get(object).copied()
    }

    /// Objects, bytes and old bytes reachable from the roots (the whole snapshot).
    pub fn live(&self) -> ObjectTally {
        self.retained[0]
    }

    /// What `object` retains (itself included), or `None` if it is not live.
    pub fn retained(&self, object: ObjectId) -> Option<ObjectTally> {
        self.node.get(object).map(|&n| self.retained[n as usize])
    }

    /// What each root set retains, by name, in the order of the snapshot's root sets.
    pub fn root_set_retained(&self) -> impl Iterator<Item = (&str, ObjectTally)> + '_ {
        self.roots.iter().enumerate().map(|(i, name)| (name.as_str(), self.retained[i + 1]))
    }

    /// The immediate dominator of `object`: the object every path to it passes through last, or `None` when only
    /// a root set (or several) dominates it.
    pub fn immediate_dominator(&self, object: ObjectId) -> Option<ObjectId> {
        let n = *self.node.get(object)? as usize;
        let d = self.idom[n] as usize;
        d.checked_sub(self.first_object()).map(|i| self.objects[i])
    }

    /// A shortest retaining path to `object`, or `None` if it is not live.
    pub fn retaining_path(&self, object: ObjectId) -> Option<RetainingPath> {
        let mut n = *self.node.get(object)? as usize;
        let first = self.first_object();
        let mut steps = Vec::new();
        while n >= first {
            let (from, slot) = self.parent[n];
            steps.push(((slot != NO_SLOT).then_some(slot), self.objects[n - first]));
            n = from as usize;
        }
        steps.reverse();
        Some(RetainingPath { root: self.roots[n - 1].clone(), steps })
    }

    /// The live object with tag `tag` closest to the roots (the first in breadth-first order), if any; `None` also
    /// for a label of another heap.
    ///
    /// The first call finds the nearest object of every tag in one pass over the snapshot; later calls look it up.
    pub fn nearest_tagged(&self, tag: Label) -> Option<ObjectId> {
        let nearest = self.nearest.get_or_init(|| {
            let mut nearest = vec![NO_NODE; self.heap.label_count()];
            for (i, &id) in self.objects.iter().enumerate() {
                if let Some(t) = self.heap.labels_of(&self.heap.headers()[id]).tag {
                    let n = &mut nearest[t.index()];
                    if *n == NO_NODE {
                        *n = i as u32;
                    }
                }
            }
            nearest
        });
        let &i = nearest.get(self.heap.label_index(tag)?)?;
        (i != NO_NODE).then(|| self.objects[i as usize])
    }

    /// The live object of kind `kind` closest to the roots (the first in breadth-first order), if any; `None` also
    /// for a label of another heap. One pass over the snapshot's objects.
    pub fn nearest_of_kind(&self, kind: Label) -> Option<ObjectId> {
        self.heap.label_index(kind)?;
        self.objects.iter().copied().find(|&id| self.heap.labels_of(&self.heap.headers()[id]).kind == Some(kind))
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
        let tag_of = |n: usize| -> Option<usize> {
            let id = *self.objects.get(n.checked_sub(first)?)?;
            self.heap.labels_of(&self.heap.headers()[id]).tag.map(Label::index)
        };

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
            let tag = tag_of(n);
            if !entering {
                if let Some(t) = tag {
                    open[t] -= 1;
                }
                continue;
            }
            if let Some(t) = tag {
                let o = &self.heap.headers()[self.objects[n - first]];
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
                    root: self.roots[n - 1].clone(),
                })
            })
            .collect();
        // Stable: equal tags keep the order the labels were first used in (conn-2 before conn-10).
        result.sort_by_key(|r| std::cmp::Reverse(r.retained_bytes));
        result
    }

    /// Live objects by age (scavenges survived) and generation, youngest first.
    pub fn ages(&self) -> Vec<AgeBucket> {
        let mut buckets: Vec<AgeBucket> = Vec::new();
        for &id in &self.objects {
            let o = &self.heap.headers()[id];
            let age = usize::from(o.age());
            if age >= buckets.len() {
                buckets.resize_with(age + 1, AgeBucket::default);
            }
            let b = &mut buckets[age];
            if o.space().is_young() {
                b.young_objects += 1;
                b.young_bytes += u64::from(o.size);
            } else {
                b.old_objects += 1;
                b.old_bytes += u64::from(o.size);
            }
        }
        for (age, b) in buckets.iter_mut().enumerate() {
            b.age = age as u8;
        }
        buckets.retain(|b| b.young_objects + b.old_objects > 0);
        buckets
    }

    /// The heap the snapshot was taken of.
    pub fn heap(&self) -> &Heap {
        self.heap
    }
}

/// The breadth-first walk that numbers the snapshot's nodes.
struct Walk<'h> {
    heap: &'h Heap,
    first_object: u32,
    objects: Vec<ObjectId>,
    node: SecondaryMap<ObjectId, u32>,
    parent: Vec<(u32, u32)>,
    edges: Vec<(u32, u32)>,
}

impl Walk<'_> {
    /// Records the reference `from.slot -> id`, numbering `id` if it is seen for the first time.
    fn reach(&mut self, id: ObjectId, from: u32, slot: u32) {
        let Some(o) = self.heap.headers().get(id) else { return };
        if !self.heap.is_live_header(o) {
            return;
        }
        let target = match self.node.get(id) {
            Some(&n) => n,
            None => {
                let n = self.first_object + self.objects.len() as u32;
                self.node.insert(id, n);
                self.objects.push(id);
                self.parent.push((from, slot));
                n
            }
        };
        self.edges.push((from, target));
    }
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
    use super::*;
    use crate::{Collection, Labels};

    /// Objects that become unreachable when `removed` (and every reference to it) is gone: the definition of what
    /// `removed` retains, computed the slow way.
    fn freed_without(heap: &Heap, removed: &[ObjectId]) -> ObjectTally {
        let mut with = SecondaryMap::new();
        heap.walk(heap.all_root_handles(None), &mut with, |_, _, _| {});
        // Walk again, never entering the removed objects.
        let mut without = SecondaryMap::new();
        for &r in removed {
            without.insert(r, ());
        }
        heap.walk(heap.all_root_handles(None), &mut without, |_, _, _| {});
        let mut tally = ObjectTally::default();
        for (id, ()) in with {
            if !without.contains_key(id) || removed.contains(&id) {
                let o = &heap.headers()[id];
                tally.add(o.size, o.space());
            }
        }
        tally
    }

    /// What each root set reaches and retains, the slow way (as `root_set_retention` did before it used the
    /// dominator tree): for each root set, a walk of the graph from every other root set, then a walk from it.
    fn root_sets_by_walking(heap: &Heap) -> Vec<crate::retainers::RootRetention> {
        let mut sets: Vec<(Option<&str>, u64)> = heap
            .root_set_table()
            .sets()
            .iter()
            .filter(|s| !s.handles.is_empty())
            .map(|s| (Some(s.name.as_str()), s.handles.values().map(|&n| u64::from(n)).sum()))
            .collect();
        if !heap.handle_scopes().handles().is_empty() {
            sets.push((None, heap.handle_scopes().handles().len() as u64));
        }
        let mut result: Vec<_> = sets
            .into_iter()
            .map(|(name, handles)| {
                let mut others = SecondaryMap::new();
                heap.walk(heap.all_root_handles(Some(name)), &mut others, |_, _, _| {});
                let own: Vec<ObjectId> = match name {
                    Some(name) => {
                        heap.root_sets().filter(|(n, _)| *n == name).flat_map(|(_, h)| h.map(|(id, _)| id)).collect()
                    }
                    None => heap.handle_scopes().handles().to_vec(),
                };
                let (mut reachable, mut retained) = (ObjectTally::default(), ObjectTally::default());
                heap.walk(own.into_iter(), &mut SecondaryMap::new(), |id, size, space| {
                    reachable.add(size, space);
                    if !others.contains_key(id) {
                        retained.add(size, space);
                    }
                });
                crate::retainers::RootRetention {
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
        let s = heap.snapshot();
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
        let walked: Vec<_> = heap.root_set_retention().into_iter().map(|r| (r.root, r.retained_bytes)).collect();
        assert_eq!(walked, by_root);
        assert_eq!(heap.root_set_retention(), root_sets_by_walking(&heap), "the same as removing each root set");
        let path = s.retaining_path(e).unwrap();
        assert_eq!(path.root, "globals", "globals -> c -> d -> e is shorter than timers -> a -> c -> d -> e");
        assert_eq!(path.steps, [(None, c), (Some(0), d), (Some(0), e)]);
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
        let tags = heap.snapshot().tag_retention();
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
            roots in proptest::collection::vec((0usize..40, 0usize..3), 1..6),
            major in proptest::bool::ANY,
        ) {
            let mut heap = Heap::default();
            let ids: Vec<ObjectId> = sizes.iter().map(|&s| heap.alloc(s, 3, Labels::NONE).unwrap()).collect();
            for &(from, slot, to) in &edges {
                heap.write(ids[from % ids.len()], slot, Some(ids[to % ids.len()])).unwrap();
            }
            for &(id, set) in &roots {
                heap.add_root(["timers", "globals", "handles"][set], ids[id % ids.len()]).unwrap();
            }
            if major {
                heap.collect(Collection::Major).unwrap();
            }
            let s = heap.snapshot();
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
            proptest::prop_assert_eq!(s.live(), heap.live_set());
            drop(s);
            // An open handle scope holding an object that points into the graph is one more root set.
            heap.enter_scope();
            let holder = heap.alloc(16, 1, Labels::NONE).unwrap();
            let _ = heap.write(holder, 0, Some(ids[roots[0].0 % ids.len()])); // the target may have been freed
            proptest::prop_assert_eq!(heap.root_set_retention(), root_sets_by_walking(&heap));
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
        let s = heap.snapshot();
        assert_eq!(s.retained(head).unwrap().objects, 1_000_001);
        assert_eq!(s.retaining_path(tail).unwrap().steps.len(), 1_000_001);
        assert_eq!(s.tag_retention(), []);
    }

    #[test]
    fn ages_count_scavenges_survived() {
        let mut heap = Heap::default();
        let old = heap.alloc(64, 0, Labels::NONE).unwrap();
        heap.add_root("globals", old).unwrap();
        heap.collect(Collection::Minor).unwrap();
        let once = heap.alloc(32, 0, Labels::NONE).unwrap();
        heap.add_root("globals", once).unwrap();
        heap.collect(Collection::Minor).unwrap();
        let fresh = heap.alloc(8, 0, Labels::NONE).unwrap();
        heap.add_root("globals", fresh).unwrap();
        let ages = heap.snapshot().ages();
        let young: Vec<_> = ages.iter().map(|b| (b.age, b.young_bytes, b.old_bytes)).collect();
        assert_eq!(young, [(0, 8, 0), (1, 32, 0), (2, 0, 64)]);
    }
}
