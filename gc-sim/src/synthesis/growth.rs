//! What a program did between two heap snapshots of one process, as trace material: the objects born (still alive
//! in the later snapshot), the references that changed, the root changes ([`Step`]); and the part of the last step
//! that is the program's growth, with its unit ([`Growth`], [`Unit`]).
//!
//! Snapshot node ids are stable for an object's life within one process and new objects get ids above every earlier
//! one (V8's `HeapObjectsMap`), so an object of the later snapshot is **born** when its id is not in the earlier one,
//! and an object of the earlier one **died** when its id is not in the later one. Only V8 heap nodes count (what
//! `gc-sim run --initial-heap` imports): native and synthetic nodes carry no V8 memory and Node recreates its
//! embedder nodes under new ids at every snapshot.
//!
//! An object of both snapshots keeps the slots it was imported with (its retaining references to V8 heap nodes in
//! the earlier snapshot, in order); when its references differ in the later one, the step rewrites its slots in the
//! later order, clears the slots it no longer needs, and roots in [`ADDED_REFERENCES_ROOT`] the targets of
//! references beyond its imported slots (the simulated object cannot grow; the bytes stay exact, only the path to
//! them differs). Self sizes of objects of both snapshots are kept from the earlier one (V8 trims arrays in place;
//! the step counts the difference in [`Step::resized_bytes`]).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::snapshot::diff::{groups, ids, structure, MIN_SHARE};
use crate::snapshot::import::{imported_references as references, imported_size as replayed_size, root_set_name};
use crate::snapshot::{HeapGraph, NodeSpace};

/// The root set holding the objects a step is still linking together (released at the end of the step).
pub const CONSTRUCTION_ROOT: &str = "(synthesis: in construction)";
/// The root set holding the targets of references an older object gained beyond its imported slots.
pub const ADDED_REFERENCES_ROOT: &str = "(synthesis: references added to older objects)";

/// A string of the synthesis (a class, a tag, a root set), as an index into [`Names`].
pub type Name = u32;
/// No name.
pub const NO_NAME: Name = Name::MAX;

/// The strings the synthesized events name, each once.
#[derive(Clone, Debug, Default)]
pub struct Names {
    names: Vec<String>,
    index: FxHashMap<String, Name>,
}

impl Names {
    /// The name of `text`, added on first use.
    pub fn intern(&mut self, text: &str) -> Name {
        if let Some(&name) = self.index.get(text) {
            return name;
        }
        let name = self.names.len() as Name;
        self.names.push(text.to_owned());
        self.index.insert(text.to_owned(), name);
        name
    }

    /// The text of `name` (`None` for [`NO_NAME`]).
    pub fn get(&self, name: Name) -> Option<&str> {
        self.names.get(name as usize).map(String::as_str)
    }
}

/// An object born in a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Birth {
    /// Its snapshot id.
    pub id: u32,
    /// Its self size (a size of 0, which V8 reports for a few nodes, is 8 as in the import).
    pub size: u32,
    /// Its references to V8 heap objects in the later snapshot (at most one per word after the map word; the
    /// targets of the others are rooted in [`ADDED_REFERENCES_ROOT`]).
    pub slots: u32,
    /// Its class (DevTools' constructor name).
    pub kind: Name,
    /// The structure that holds it ([`NO_NAME`] for growth outside any suspected leak).
    pub tag: Name,
    /// Where it was allocated, when a snapshot with allocation tracking says ([`allocation_sites`]).
    pub site: Name,
}

/// A reference a step stores: `obj.slots[slot] = to`, objects named by snapshot id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The object written to.
    pub obj: u32,
    /// The slot.
    pub slot: u32,
    /// The object stored, `None` to clear the slot.
    pub to: Option<u32>,
}

/// What happened between two consecutive snapshots.
#[derive(Clone, Debug, Default)]
pub struct Step {
    /// The objects born and alive in the later snapshot, in id order (V8's order of first sight).
    pub births: Vec<Birth>,
    /// The references of the born objects, each with the index in [`births`](Self::births) after whose
    /// allocation both ends exist.
    pub links: Vec<(u32, Link)>,
    /// New references of objects of the earlier snapshot (and the slots they no longer use, cleared).
    pub rewrites: Vec<Link>,
    /// Targets of references that older objects gained beyond their imported slots, or that born objects have
    /// beyond their words (rooted in [`ADDED_REFERENCES_ROOT`]).
    pub added_references: Vec<u32>,
    /// Handles the later snapshot's roots hold and the earlier one's did not: `(root set, object)`.
    pub roots_added: Vec<(Name, u32)>,
    /// Handles the earlier snapshot's roots held and the later one's do not.
    pub roots_removed: Vec<(Name, u32)>,
    /// Bytes of the born objects.
    pub born_bytes: u64,
    /// V8 heap objects of the earlier snapshot.
    pub earlier_objects: u64,
    /// Objects of the earlier snapshot that are gone in the later one.
    pub died_objects: u64,
    /// Their bytes.
    pub died_bytes: u64,
    /// Objects of both snapshots whose self size changed.
    pub resized_objects: u64,
    /// The later sizes minus the earlier ones, summed (not replayed: the objects keep their earlier size).
    pub resized_bytes: i64,
}

/// The unit of growth: what one repetition of the leaking operation keeps alive.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// The class counted (`Timeout`, `Socket`), one per unit.
    pub name: String,
    /// Units in the step.
    pub count: u64,
    /// Whether the unit was inferred (`false`: named by the user).
    pub inferred: bool,
}

/// The growth of the last step: the objects born in it under the structures suspected to leak, as a template the
/// synthesis repeats.
#[derive(Clone, Debug, Default)]
pub struct Growth {
    /// The objects, in birth order (so in id order).
    pub members: Vec<Birth>,
    /// Their bytes.
    pub bytes: u64,
    /// The members' references, each with the index in [`members`](Self::members) after whose allocation both
    /// ends exist. A target that is not a member is the same object in every repetition.
    pub links: Vec<(u32, Link)>,
    /// References from objects that are not members to members (the holders' new references): each repetition
    /// stores its own copy there, and the copy it replaces is rooted under the holder's id
    /// ([`older_growth_root`]).
    pub attachments: Vec<Link>,
    /// Members that older objects reference beyond their imported slots (rooted in [`ADDED_REFERENCES_ROOT`]).
    pub added_references: Vec<u32>,
    /// The unit, when there is growth.
    pub unit: Option<Unit>,
    /// The holders' structures in words, most bytes first (`a linked list of Timeout through ._idleNext ...`).
    pub structures: Vec<String>,
}

impl Growth {
    /// Whether the object of snapshot id `id` is part of the growth.
    pub fn is_member(&self, id: u32) -> bool {
        self.members.binary_search_by_key(&id, |b| b.id).is_ok()
    }

    /// Members per unit.
    pub fn objects_per_unit(&self) -> f64 {
        self.unit.as_ref().map_or(0.0, |u| self.members.len() as f64 / u.count as f64)
    }

    /// Bytes per unit.
    pub fn bytes_per_unit(&self) -> f64 {
        self.unit.as_ref().map_or(0.0, |u| self.bytes as f64 / u.count as f64)
    }
}

/// Why the growth could not be measured as asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrowthError {
    /// `--unit NAME` names no class of the growth.
    #[error("no {unit} among the growth's objects (its classes, most objects first: {classes})")]
    UnknownUnit {
        /// The name asked for.
        unit: String,
        /// The growth's classes.
        classes: String,
    },
}

/// Every `(root set, object id)` handle of `graph`, sorted (a multiset).
fn root_handles(graph: &HeapGraph, names: &mut Names) -> Vec<(Name, u32)> {
    let mut handles = Vec::new();
    for n in 0..graph.node_count() as u32 {
        if graph.space(n) == NodeSpace::V8Heap {
            continue;
        }
        let mut name = NO_NAME;
        for (_, to) in graph.retaining_edges(n) {
            if graph.space(to) == NodeSpace::V8Heap {
                if name == NO_NAME {
                    name = names.intern(&root_set_name(graph, n));
                }
                handles.push((name, graph.id(to)));
            }
        }
    }
    handles.sort_unstable();
    handles
}

/// The slot count of every V8 heap object of `graph` as `gc-sim run --initial-heap` imports it (one per reference to
/// a V8 heap object), by snapshot id: what [`step`] starts from.
pub fn imported_slots(graph: &HeapGraph) -> FxHashMap<u32, u32> {
    (0..graph.node_count() as u32)
        .filter(|&n| graph.space(n) == NodeSpace::V8Heap)
        .map(|n| (graph.id(n), references(graph, n).count() as u32))
        .collect()
}

/// The allocation site of every node of `graph` that has one, by snapshot id: `graph` must have been taken with
/// allocation tracking (DevTools' "Allocation instrumentation on timeline", a `.heaptimeline`: nodes'
/// `trace_node_id` into its `trace_tree`), else the map is empty. A site is the allocating function and its
/// position as DevTools shows it, 1-based: `handleRequest server.js:34:18` (`(anonymous)` for an unnamed function,
/// no position for a native one).
pub fn allocation_sites(graph: &HeapGraph, names: &mut Names) -> FxHashMap<u32, Name> {
    let raw = graph.raw();
    let mut sites = FxHashMap::default();
    let fields = &raw.meta.trace_function_info_fields;
    let field = |name: &str| fields.iter().position(|f| f == name);
    let (Some(name_at), Some(script_at), Some(line_at), Some(column_at)) =
        (field("name"), field("script_name"), field("line"), field("column"))
    else {
        return sites;
    };
    if raw.node_trace_node_id.is_empty() || raw.trace_tree.is_empty() || fields.is_empty() {
        return sites;
    }
    let width = fields.len();
    let function_of: FxHashMap<u32, u32> = raw.trace_tree.iter().map(|t| (t.id, t.function_info_index)).collect();
    let mut site_of_function: FxHashMap<u32, Name> = FxHashMap::default();
    for n in 0..graph.node_count() as u32 {
        let trace_node = raw.node_trace_node_id[n as usize];
        let Some(&function) = (trace_node != 0).then(|| function_of.get(&trace_node)).flatten() else { continue };
        let site = *site_of_function.entry(function).or_insert_with(|| {
            let info = raw.trace_function_infos.get(function as usize * width..(function as usize + 1) * width);
            let Some(info) = info else { return NO_NAME };
            let text = |i: usize| raw.strings.get(info[i]).to_owned();
            let name = Some(text(name_at)).filter(|n| !n.is_empty()).unwrap_or_else(|| "(anonymous)".to_owned());
            let script = text(script_at);
            let site = if script.is_empty() {
                name
            } else {
                let file = script.rsplit('/').next().unwrap_or(&script);
                format!("{name} {file}:{}:{}", info[line_at].wrapping_add(1), info[column_at].wrapping_add(1))
            };
            names.intern(&site)
        });
        if site != NO_NAME {
            sites.insert(graph.id(n), site);
        }
    }
    sites
}

/// The step from `earlier` to `later` (two snapshots of one process), with the born objects tagged by `tags`
/// (snapshot id of a born object -> the structure holding it) and their allocation sites from `sites`. `slots`
/// has the slot count of every simulated object ([`imported_slots`] of the first snapshot, then each step's births,
/// which the step adds).
pub fn step(
    earlier: &HeapGraph,
    later: &HeapGraph,
    names: &mut Names,
    tags: &FxHashMap<u32, Name>,
    sites: &FxHashMap<u32, Name>,
    slots: &mut FxHashMap<u32, u32>,
) -> Step {
    let mut step = Step::default();
    // The objects the simulation holds: the earlier snapshot's V8 heap nodes. An id of one of its native nodes
    // names nothing simulated, so a V8 heap node of that id in the later snapshot is born (snapshots of two
    // processes can share ids across kinds).
    let mut earlier_ids: Vec<u32> = (0..earlier.node_count() as u32)
        .filter(|&n| earlier.space(n) == NodeSpace::V8Heap)
        .map(|n| earlier.id(n))
        .collect();
    earlier_ids.sort_unstable();
    let is_earlier = |id: u32| earlier_ids.binary_search(&id).is_ok();
    // Births, in id order, and their positions.
    let mut born: Vec<u32> = (0..later.node_count() as u32)
        .filter(|&n| later.space(n) == NodeSpace::V8Heap && !is_earlier(later.id(n)))
        .collect();
    born.sort_unstable_by_key(|&n| later.id(n));
    let position: FxHashMap<u32, u32> = born.iter().enumerate().map(|(i, &n)| (later.id(n), i as u32)).collect();
    for &n in &born {
        let kind = names.intern(&later.class_name(n));
        let size = replayed_size(later, n);
        let id = later.id(n);
        // A trace object holds at most one reference per 8-byte word after its map word; V8 reports more edges
        // than that for a few nodes (internal and hidden edges): the rest are rooted.
        let capacity = (size.div_ceil(8) - 1) as usize;
        let slots = references(later, n).count().min(capacity) as u32;
        step.born_bytes += u64::from(size);
        let tag = tags.get(&id).copied().unwrap_or(NO_NAME);
        let site = sites.get(&id).copied().unwrap_or(NO_NAME);
        step.births.push(Birth { id, size, slots, kind, tag, site });
        let here = position[&id];
        for (slot, to) in references(later, n).enumerate() {
            if slot >= capacity {
                step.added_references.push(to);
                continue;
            }
            let at = position.get(&to).map_or(here, |&p| p.max(here));
            step.links.push((at, Link { obj: id, slot: slot as u32, to: Some(to) }));
        }
    }
    step.links.sort_by_key(|&(at, _)| at);
    // Objects of both snapshots whose references changed; objects that died.
    let born_slots: Vec<(u32, u32)> = step.births.iter().map(|b| (b.id, b.slots)).collect();
    let mut before: Vec<u32> = Vec::new();
    for n in 0..earlier.node_count() as u32 {
        if earlier.space(n) != NodeSpace::V8Heap {
            continue;
        }
        let id = earlier.id(n);
        step.earlier_objects += 1;
        let Some(m) = later.node_by_id(id).filter(|&m| later.space(m) == NodeSpace::V8Heap) else {
            step.died_objects += 1;
            step.died_bytes += u64::from(replayed_size(earlier, n));
            continue;
        };
        let (old_size, new_size) = (replayed_size(earlier, n), replayed_size(later, m));
        if old_size != new_size {
            step.resized_objects += 1;
            step.resized_bytes += i64::from(new_size) - i64::from(old_size);
        }
        before.clear();
        before.extend(references(earlier, n));
        // The simulated object's slots: as imported or born (`slots`), else one per earlier reference. Their
        // contents are the earlier references, in order, then empty.
        let slots = slots.get(&id).map_or(before.len(), |&s| s as usize);
        let mut count = 0;
        for (slot, to) in references(later, m).enumerate() {
            count += 1;
            if slot < slots {
                if before.get(slot) != Some(&to) {
                    step.rewrites.push(Link { obj: id, slot: slot as u32, to: Some(to) });
                }
            } else {
                step.added_references.push(to);
            }
        }
        for slot in count..slots {
            if before.get(slot).is_some() {
                step.rewrites.push(Link { obj: id, slot: slot as u32, to: None });
            }
        }
    }
    // Root handles: the multiset difference.
    let (a, b) = (root_handles(earlier, names), root_handles(later, names));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                step.roots_removed.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                step.roots_removed.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                step.roots_added.push(*y);
                j += 1;
            }
            (None, None) => unreachable!("the loop runs while either has handles"),
        }
    }
    slots.extend(born_slots);
    step
}

/// The holders of what grew from `earlier` to `later` (and, given `final_`, kept growing to it): the groups of
/// born objects under one older holder that hold at least `min_objects` objects and [`MIN_SHARE`] of the born
/// bytes, as `(holder node in later, members, description)`, most bytes first.
pub fn growing_holders(
    earlier: &HeapGraph,
    later: &HeapGraph,
    previous: Option<&HeapGraph>,
    min_objects: u64,
) -> Vec<(u32, Vec<u32>, String)> {
    let earlier_ids = ids(earlier);
    let (groups_later, kept) = groups(later, &earlier_ids, None);
    let total: u64 = groups_later.values().map(|g| g.bytes).sum();
    // With a snapshot before `earlier`, a holder must have grown in that step too (else it was a warm-up).
    let grew_before: Option<FxHashSet<u32>> = previous.map(|p| {
        let (g, _) = groups(earlier, &ids(p), None);
        g.keys().map(|&h| earlier.id(h)).collect()
    });
    let mut out: Vec<(u32, Vec<u32>, String, u64)> = groups_later
        .into_iter()
        .filter(|(_, g)| g.count >= min_objects && g.bytes as f64 >= MIN_SHARE * total as f64)
        .filter(|(h, _)| grew_before.as_ref().is_none_or(|set| set.contains(&later.id(*h))))
        .map(|(h, g)| {
            let (_, description) = structure(later, h, &g.members, &kept);
            (h, g.members, description, g.bytes)
        })
        .collect();
    out.sort_by(|x, y| y.3.cmp(&x.3).then(later.id(x.0).cmp(&later.id(y.0))));
    out.into_iter().map(|(h, m, d, _)| (h, m, d)).collect()
}

/// The growth of `step` (from `earlier` to `later`) under `holders` ([`growing_holders`]), with its unit: the class
/// named `unit`, or else the count that the most of the growth's classes share, then the most bytes (200
/// `Timeout`s, 200 `Socket`s, 200 `WebSocket`s, ... make 200 units), named after the JavaScript class of that count
/// with the most bytes.
///
/// # Errors
/// [`GrowthError::UnknownUnit`] when `unit` names no class of the growth.
pub fn growth(
    later: &HeapGraph,
    step: &Step,
    holders: &[(u32, Vec<u32>, String)],
    names: &Names,
    unit: Option<&str>,
) -> Result<Growth, GrowthError> {
    let mut growth = Growth { structures: holders.iter().map(|h| h.2.clone()).collect(), ..Growth::default() };
    let member_ids: FxHashSet<u32> = holders.iter().flat_map(|h| h.1.iter().map(|&n| later.id(n))).collect();
    let mut position: FxHashMap<u32, u32> = FxHashMap::default();
    for birth in &step.births {
        if member_ids.contains(&birth.id) {
            position.insert(birth.id, growth.members.len() as u32);
            growth.members.push(*birth);
            growth.bytes += u64::from(birth.size);
        }
    }
    for &(_, link) in &step.links {
        let to = link.to.expect("births' links store objects");
        match (position.get(&link.obj), position.get(&to)) {
            (Some(&p), Some(&q)) => growth.links.push((p.max(q), link)),
            (Some(&p), None) => growth.links.push((p, link)),
            (None, Some(_)) => growth.attachments.push(link),
            (None, None) => {}
        }
    }
    growth.links.sort_by_key(|&(at, _)| at);
    for link in &step.rewrites {
        if let Some(to) = link.to.filter(|to| position.contains_key(to)) {
            growth.attachments.push(Link { to: Some(to), ..*link });
        }
    }
    growth.added_references = step.added_references.iter().copied().filter(|t| position.contains_key(t)).collect();
    if growth.members.is_empty() {
        return Ok(growth);
    }
    // Classes of the growth: (count, bytes, is a JavaScript object).
    let mut classes: FxHashMap<Name, (u64, u64, bool)> = FxHashMap::default();
    for birth in &growth.members {
        let c = classes.entry(birth.kind).or_insert((0, 0, false));
        c.0 += 1;
        c.1 += u64::from(birth.size);
        if let Some(n) = later.node_by_id(birth.id) {
            c.2 |= later.is_object(n);
        }
    }
    let mut sorted: Vec<(&str, (u64, u64, bool))> =
        classes.iter().map(|(&k, &v)| (names.get(k).unwrap_or("?"), v)).collect();
    sorted.sort_by(|x, y| y.1 .0.cmp(&x.1 .0).then(x.0.cmp(y.0)));
    growth.unit = match unit {
        Some(name) => match sorted.iter().find(|c| c.0 == name) {
            Some(&(_, (count, _, _))) => Some(Unit { name: name.to_owned(), count, inferred: false }),
            None => {
                let classes = sorted.iter().take(12).map(|c| format!("{} x{}", c.0, c.1 .0)).collect::<Vec<_>>();
                return Err(GrowthError::UnknownUnit { unit: name.to_owned(), classes: classes.join(", ") });
            }
        },
        None => {
            // The count shared by the most classes, then bytes (at least 2 objects: one of a kind is structure,
            // not growth): each unit makes one object of each of those classes.
            let mut by_count: FxHashMap<u64, (u64, u64)> = FxHashMap::default();
            for (_, (count, bytes, _)) in &sorted {
                if *count >= 2 {
                    let c = by_count.entry(*count).or_default();
                    c.0 += 1;
                    c.1 += bytes;
                }
            }
            by_count.into_iter().max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0))).map(|(count, _)| {
                let of_count = sorted.iter().filter(|c| c.1 .0 == count);
                let name = of_count
                    .clone()
                    .filter(|c| c.1 .2 && !c.0.starts_with('('))
                    .max_by(|x, y| x.1 .1.cmp(&y.1 .1).then(y.0.cmp(x.0)))
                    .or_else(|| of_count.max_by(|x, y| x.1 .1.cmp(&y.1 .1).then(y.0.cmp(x.0))))
                    .map_or("object", |c| c.0);
                Unit { name: name.to_owned(), count, inferred: true }
            })
        }
    };
    Ok(growth)
}

/// The root set that holds the older copies of the growth that object `holder` (a snapshot id) references: a
/// repetition stores its copy in the holder's slot, and the copy it replaces stays alive, as the holder's older
/// entries do in the program.
pub fn older_growth_root(holder: u32) -> String {
    format!("(synthesis: older growth held by @{holder})")
}
