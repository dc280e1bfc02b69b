//! The leak diff of two or three snapshots of one process (memlab's baseline, target and final): the objects
//! allocated after the baseline and still alive in the target (and in the final snapshot), by constructor, and
//! grouped by the structure that holds them.
//!
//! Objects are matched by snapshot node id, which V8 keeps for an object for the life of the process
//! (`HeapObjectsMap`), and gives new objects ids above every earlier one. An object is **new** in a snapshot when
//! its id is not in the previous one.
//!
//! **Holders.** Every new object is followed up its shortest retaining path (the one `--why` shows) to the first
//! object that is not new: the **holder**, something that existed before and keeps the growth alive (a timer list,
//! an emitter's `_events`, a cache's `Map`). New objects with the same holder form one group, however the new
//! objects link to each other below it; a linked list (Node's `TimersList` of `Timeout`s, linked through
//! `_idleNext`/`_idlePrev`) is one group, named after its repeated link; a `Map` cache one group, named after the
//! map whose table holds the entries; an array (an emitter's listeners) one group, named after the array that holds
//! its elements. This is what memlab's check for growing collections misses:
//! a linked list is not a collection, and an array's growth shows in its elements store, not in the array object.
//!
//! **Suspected leaks** are the groups of at least `min_objects` objects holding at least [`MIN_SHARE`] of the new
//! bytes. With a final snapshot, only objects still
//! alive in it count, each group also reports what it gained from the target to the final snapshot (growth per
//! step), and a group that gained nothing in that second step is not suspected: it was a warm-up (code, shapes,
//! module caches filled once), not a leak.

use rustc_hash::FxHashMap;

use super::graph::{HeapGraph, NodeSpace};

/// The default smallest group reported as a suspected leak.
pub const DEFAULT_MIN_OBJECTS: u64 = 100;
/// The smallest share of the new bytes a group must hold to be reported: growth that is a small part of what was
/// added (a pool of parsers, a cache of compiled code) is not the story of the diff.
pub const MIN_SHARE: f64 = 0.05;

/// Objects of one constructor.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClassGrowth {
    /// The class (as in the Summary).
    pub name: String,
    /// Objects new in the step and still alive.
    pub count: u64,
    /// Their self sizes.
    pub bytes: u64,
}

/// The diff of the snapshots.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotDiff {
    /// The snapshots' nodes, in the order given.
    pub nodes: Vec<u64>,
    /// Their V8 heap bytes.
    pub heap_bytes: Vec<u64>,
    /// Their native bytes.
    pub native_bytes: Vec<u64>,
    /// Objects (V8 heap and native nodes) allocated after the baseline, alive in the target (and in the final
    /// snapshot, when given).
    pub new_objects: u64,
    /// Their self sizes.
    pub new_bytes: u64,
    /// Objects of the baseline no longer in the target.
    pub freed_objects: u64,
    /// Objects allocated after the target and alive in the final snapshot (0 without one).
    pub new_in_final_objects: u64,
    /// Their self sizes.
    pub new_in_final_bytes: u64,
    /// The new objects by constructor, most bytes first.
    pub constructors: Vec<ClassGrowth>,
}

/// A structure whose growth is suspected to be a leak.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SuspectedLeak {
    /// The holder: the object that existed before and holds the new objects (its display name).
    pub holder: String,
    /// Its snapshot id.
    pub holder_id: u32,
    /// Its shortest retaining path in the target snapshot, `global@5 -> ... -> TimersList@123`.
    pub holder_path: String,
    /// What the new objects form under the holder: `linked list`, `map`, `array` or `objects`.
    pub structure: String,
    /// The structure in words: `a linked list of Timeout through ._idleNext (200 links)`.
    pub description: String,
    /// New objects held (allocated after the baseline, alive in the target and in the final snapshot).
    pub count: u64,
    /// Their self sizes.
    pub bytes: u64,
    /// Growth per step: objects added under this holder from each snapshot to the next (baseline to target, then
    /// target to final), and still alive.
    pub growth_objects: Vec<u64>,
    /// The same in bytes.
    pub growth_bytes: Vec<u64>,
    /// The new objects by constructor, most bytes first (at most 10).
    pub constructors: Vec<ClassGrowth>,
}

/// Sorted ids of a snapshot's nodes.
pub(crate) fn ids(graph: &HeapGraph) -> Vec<u32> {
    let mut ids = graph.raw().node_id.clone();
    ids.sort_unstable();
    ids
}

/// A group under one holder, in one snapshot.
#[derive(Default)]
pub(crate) struct Group {
    /// New objects held.
    pub(crate) count: u64,
    /// Their self sizes.
    pub(crate) bytes: u64,
    /// Their nodes, in path order.
    pub(crate) members: Vec<u32>,
}

/// Groups the objects new in `graph` (not in `before`) and kept (in `after`, if any) by their holder.
pub(crate) fn groups(graph: &HeapGraph, before: &[u32], after: Option<&[u32]>) -> (FxHashMap<u32, Group>, Vec<bool>) {
    let n = graph.node_count();
    // Only V8 heap objects: Node recreates its embedder nodes with every snapshot, under new ids.
    let counted = |v: u32| graph.space(v) == NodeSpace::V8Heap;
    let new: Vec<bool> = (0..n as u32).map(|v| counted(v) && before.binary_search(&graph.id(v)).is_err()).collect();
    let kept = |v: u32| new[v as usize] && after.is_none_or(|a| a.binary_search(&graph.id(v)).is_ok());
    // holder[v]: the first node that is not new on v's path (parents come first in the path order).
    let mut holder = vec![u32::MAX; n];
    let mut groups: FxHashMap<u32, Group> = FxHashMap::default();
    for &v in graph.path_order() {
        let Some(p) = graph.path_parent(v) else { continue };
        holder[v as usize] = if new[p as usize] { holder[p as usize] } else { p };
        if kept(v) {
            let g = groups.entry(holder[v as usize]).or_default();
            g.count += 1;
            g.bytes += graph.self_size(v);
            g.members.push(v);
        }
    }
    let kept: Vec<bool> = (0..n as u32).map(kept).collect();
    (groups, kept)
}

/// By constructor, most bytes first, then name.
fn by_class(graph: &HeapGraph, nodes: impl Iterator<Item = u32>) -> Vec<ClassGrowth> {
    let mut map: FxHashMap<u32, ClassGrowth> = FxHashMap::default();
    for v in nodes {
        let c = map.entry(graph.class_key(v)).or_insert_with(|| ClassGrowth {
            name: graph.class_name(v).into_owned(),
            count: 0,
            bytes: 0,
        });
        c.count += 1;
        c.bytes += graph.self_size(v);
    }
    let mut out: Vec<ClassGrowth> = map.into_values().collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.count.cmp(&a.count)).then(a.name.cmp(&b.name)));
    out
}

/// Names what `members` form under `holder`: the longest chain of new JS objects of one class linked through one
/// edge name (a linked list), else the node that holds most of them through element edges (an array).
pub(crate) fn structure(graph: &HeapGraph, holder: u32, members: &[u32], is_member: &[bool]) -> (String, String) {
    // chain[v]: how many links of the same class and edge name lead to v along its path (members come in path
    // order, so a parent's chain is known before its children's).
    let mut chain: FxHashMap<u32, u32> = FxHashMap::default();
    // Per (class, edge name): links, and the longest chain with its last node.
    let mut links: FxHashMap<(u32, u32), (u64, u32, u32)> = FxHashMap::default();
    // Per parent on the paths: (members it holds directly, of which through element edges).
    let mut fan_out: FxHashMap<u32, (u64, u64)> = FxHashMap::default();
    for &v in members {
        let (Some(p), Some(e)) = (graph.path_parent(v), graph.path_edge(v)) else { continue };
        let f = fan_out.entry(p).or_default();
        f.0 += 1;
        if graph.is_element_edge(e) {
            f.1 += 1;
        }
        // Links between JS objects only: a concatenated string's `first`/`second` or a map's `back_pointer` are
        // V8's own structure, not the program's.
        let linked = is_member[p as usize] && graph.class_key(p) == graph.class_key(v) && graph.is_object(v);
        if !linked || graph.edge_name(e).is_none() {
            continue;
        }
        let name = graph.raw().edge_name[e as usize];
        let same_link_into_p = graph
            .path_edge(p)
            .is_some_and(|pe| graph.edge_name(pe).is_some() && graph.raw().edge_name[pe as usize] == name);
        let length = if same_link_into_p { chain.get(&p).copied().unwrap_or(0) + 1 } else { 1 };
        chain.insert(v, length);
        let entry = links.entry((graph.class_key(v), name)).or_insert((0, 0, v));
        entry.0 += 1;
        if length > entry.1 {
            entry.1 = length;
            entry.2 = v;
        }
    }
    let best_link = links.into_iter().max_by(|a, b| a.1 .1.cmp(&b.1 .1).then(a.1 .0.cmp(&b.1 .0)).then(b.0.cmp(&a.0)));
    let best_parent = fan_out.into_iter().max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(graph.id(b.0).cmp(&graph.id(a.0))));
    let longest = best_link.as_ref().map_or(0, |l| u64::from(l.1 .1));
    let fan = best_parent.map_or(0, |p| p.1 .0);
    if longest >= 3 && longest * 4 >= fan {
        let ((_, name), (count, length, last)) = best_link.expect("counted");
        let edge = graph.raw().strings.get(name);
        // Up the chain to its head: the node whose edge starts it (the list object, e.g. a TimersList).
        let mut head = last;
        for _ in 0..length {
            head = graph.path_parent(head).unwrap_or(head);
        }
        let head = graph.path_parent(head).filter(|&h| h != graph.root()).unwrap_or(head);
        return (
            "linked list".to_owned(),
            format!(
                "a linked list of {} through .{edge} from {} ({count} links, chains of up to {} objects)",
                graph.class_name(last),
                graph.label(head),
                length + 1
            ),
        );
    }
    if let Some((parent, (count, elements))) = best_parent.filter(|p| p.1 .0 >= 2) {
        // A collection's backing store is held by the collection through `{table}` (Map, Set) or `{elements}`
        // (an array): name the collection.
        let owner = graph.path_parent(parent).filter(|&o| o != graph.root());
        let via = graph.path_edge(parent).and_then(|e| graph.edge_name(e));
        if let (Some(owner), Some("table")) = (owner, via) {
            return (
                "map".to_owned(),
                format!(
                    "a {}: {} holds {count} of them as entries of its table {}",
                    graph.class_name(owner),
                    graph.label(owner),
                    graph.label(parent)
                ),
            );
        }
        if elements * 2 >= count {
            let owner = owner.map(|o| format!(" (in {})", graph.label(o))).unwrap_or_default();
            return (
                "array".to_owned(),
                format!("an array: {}{owner} holds {elements} of them as elements", graph.label(parent)),
            );
        }
        return ("objects".to_owned(), format!("{} holds {count} of them directly", graph.label(parent)));
    }
    ("objects".to_owned(), format!("{} objects held by {}", members.len(), graph.label(holder)))
}

/// The diff of `snapshots` (2 or 3: baseline, target and optionally final), and the groups of at least
/// `min_objects` new objects as suspected leaks, largest first.
///
/// # Panics
/// Never for 2 or 3 snapshots; with another number it returns an empty diff.
pub fn diff(snapshots: &[&HeapGraph], min_objects: u64) -> (SnapshotDiff, Vec<SuspectedLeak>) {
    let mut d = SnapshotDiff {
        nodes: snapshots.iter().map(|g| g.node_count() as u64).collect(),
        heap_bytes: Vec::new(),
        native_bytes: Vec::new(),
        new_objects: 0,
        new_bytes: 0,
        freed_objects: 0,
        new_in_final_objects: 0,
        new_in_final_bytes: 0,
        constructors: Vec::new(),
    };
    for g in snapshots {
        let t = g.totals();
        d.heap_bytes.push(t.heap_bytes);
        d.native_bytes.push(t.native_bytes);
    }
    if !(2..=3).contains(&snapshots.len()) {
        return (d, Vec::new());
    }
    let (a, b) = (snapshots[0], snapshots[1]);
    let c = snapshots.get(2).copied();
    let ids_a = ids(a);
    let ids_b = ids(b);
    let ids_c = c.map(ids);
    let (groups_b, kept_b) = groups(b, &ids_a, ids_c.as_deref());
    d.freed_objects = ids_a.iter().filter(|id| ids_b.binary_search(id).is_err()).count() as u64;
    let kept_nodes = || (0..b.node_count() as u32).filter(|&v| kept_b[v as usize]);
    d.new_objects = kept_nodes().count() as u64;
    d.new_bytes = kept_nodes().map(|v| b.self_size(v)).sum();
    d.constructors = by_class(b, kept_nodes());
    // Growth of each holder from the target to the final snapshot, by holder id.
    let mut step2: FxHashMap<u32, (u64, u64)> = FxHashMap::default();
    if let Some(c) = c {
        let (groups_c, kept_c) = groups(c, &ids_b, None);
        d.new_in_final_objects = kept_c.iter().filter(|&&k| k).count() as u64;
        d.new_in_final_bytes = (0..c.node_count() as u32).filter(|&v| kept_c[v as usize]).map(|v| c.self_size(v)).sum();
        for (holder, g) in groups_c {
            step2.insert(c.id(holder), (g.count, g.bytes));
        }
    }
    let mut leaks: Vec<SuspectedLeak> = Vec::new();
    for (holder, g) in &groups_b {
        if g.count < min_objects || (g.bytes as f64) < MIN_SHARE * d.new_bytes as f64 {
            continue;
        }
        let (structure, description) = structure(b, *holder, &g.members, &kept_b);
        let holder_path = b.retaining_path(*holder).map(|s| b.format_path(&s)).unwrap_or_else(|| b.label(*holder));
        let mut growth_objects = vec![g.count];
        let mut growth_bytes = vec![g.bytes];
        if c.is_some() {
            let (count, bytes) = step2.get(&b.id(*holder)).copied().unwrap_or((0, 0));
            if count == 0 {
                continue; // it stopped growing: a warm-up, not a leak
            }
            growth_objects.push(count);
            growth_bytes.push(bytes);
        }
        let mut constructors = by_class(b, g.members.iter().copied());
        constructors.truncate(10);
        leaks.push(SuspectedLeak {
            holder: b.display_name(*holder),
            holder_id: b.id(*holder),
            holder_path,
            structure,
            description,
            count: g.count,
            bytes: g.bytes,
            growth_objects,
            growth_bytes,
            constructors,
        });
    }
    leaks.sort_by(|x, y| y.bytes.cmp(&x.bytes).then(x.holder_id.cmp(&y.holder_id)));
    (d, leaks)
}
