//! Leak analysis of a replay, in the trace's own terms (its ids, kinds and tags): what each tag retains and when
//! it was promoted, how old the live objects are, which tags outlived the `mark` that closed them (suspected
//! leaks), and why an object or tag is still alive (its shortest retaining path).

use std::fmt::Write as _;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use slotmap::SecondaryMap;

use crate::analysis::ages::AgeBucket;
use crate::analysis::object_graph::{ObjectGraph, RetainingPath, TagRetention};
use crate::object::{ObjectId, Space};
use crate::replay::{Mark, Replay};

/// A tag's retention, promotions and closing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagSummary {
    /// What the tag's live objects hold and retain.
    #[serde(flatten)]
    pub retention: TagRetention,
    /// When the tag's objects were promoted, if any was.
    pub promoted: Option<Promotion>,
    /// When a `mark` closed the tag, if one did (ms).
    pub closed_at_ms: Option<f64>,
}

/// When a tag's objects were promoted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// The first collection that promoted one of them ([`GcEvent::number`](crate::GcEvent::number)).
    pub first_gc: u64,
    /// Its start, ms.
    pub first_ms: f64,
    /// The last collection that did.
    pub last_gc: u64,
    /// Its start, ms.
    pub last_ms: f64,
    /// Objects promoted (an object is promoted once).
    pub objects: u64,
    /// Bytes promoted.
    pub bytes: u64,
}

/// A tag whose `mark` said it closed, with objects still alive at the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuspectedLeak {
    /// The tag.
    pub tag: String,
    /// When the mark closed it, ms.
    pub closed_at_ms: f64,
    /// Index of the closing `mark` event.
    pub closed_event: u64,
    /// The tag's live objects.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Of those, bytes in the old generation.
    pub old_bytes: u64,
    /// Bytes the tag's objects retain together.
    pub retained_bytes: u64,
    /// The shortest retaining path to the tag's object nearest to the roots.
    pub path: Vec<PathStep>,
    /// The root set the path starts from.
    pub root: String,
}

/// One object on a retaining path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathStep {
    /// The slot of the previous object that holds this one (`None` for the first, held by the root set).
    pub slot: Option<u32>,
    /// The trace's id for the object.
    pub id: Option<u64>,
    /// Its kind.
    pub kind: Option<String>,
    /// Its tag.
    pub tag: Option<String>,
    /// Its space.
    pub space: Space,
    /// Its size.
    pub size: u32,
    /// Bytes it retains.
    pub retained_bytes: u64,
}

/// What a "why is this alive?" query names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhyMatch {
    /// An object, by its trace id.
    Object,
    /// A tag: the path leads to its live object nearest to the roots.
    Tag,
    /// A kind: the path leads to its live object nearest to the roots.
    Kind,
    /// A label the trace used (as a tag, kind or site) that no live object has as its tag or kind.
    Label,
}

impl WhyMatch {
    /// The word for it in messages: "object", "tag", "kind", "label".
    pub fn name(self) -> &'static str {
        match self {
            WhyMatch::Object => "object",
            WhyMatch::Tag => "tag",
            WhyMatch::Kind => "kind",
            WhyMatch::Label => "label",
        }
    }
}

/// A "why is this alive?" question, typed: an object id, a tag or a kind, or a text to resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhyQuery<'q> {
    /// The object with this trace id.
    Object(u64),
    /// The tag's live object nearest to the roots.
    Tag(&'q str),
    /// The kind's live object nearest to the roots.
    Kind(&'q str),
    /// `id:N`, `tag:NAME` or `kind:NAME`; otherwise the object with that trace id if one is alive, else the tag,
    /// else the kind.
    Text(&'q str),
}

/// The answer to "why is this alive?" for an object, a tag or a kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Why {
    /// What was asked.
    pub query: String,
    /// What the query named: an object, a tag, a kind, or a label with no live object; `None` when the trace has
    /// no object, tag or kind of that name. (Absent in reports written before it was added.)
    #[serde(default)]
    pub matched: Option<WhyMatch>,
    /// The root set of the path, or `None` when nothing live matches the query.
    pub root: Option<String>,
    /// The shortest retaining path from the root set to the object (for a tag: to its object nearest to the roots).
    pub path: Vec<PathStep>,
}

/// The leak analysis of a replay at its current point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeakAnalysis {
    /// Every tag with live objects, largest retained bytes first (ties in the order the tags were first used).
    pub tags: Vec<TagSummary>,
    /// Live objects by age.
    pub ages: Vec<AgeBucket>,
    /// Closed tags still alive, in the order they closed.
    pub suspected_leaks: Vec<SuspectedLeak>,
}

/// Why what `query` names is alive in `replay`'s heap: its shortest retaining path, and what the query matched.
/// Takes an [`ObjectGraph`] of the heap (one walk of the live graph and its dominator tree).
///
/// ```
/// use gc_sim::analysis::{leaks, WhyMatch, WhyQuery};
/// use gc_sim::replay::replay_trace;
///
/// let trace = r#"{"format": "gc-sim-trace", "version": 1, "name": "tiny", "events": [
///     {"op": "alloc", "id": 1, "size": 64, "slots": 1, "kind": "Timeout", "root": "timers"},
///     {"op": "alloc", "id": 2, "size": 32, "tag": "conn-1"},
///     {"op": "write", "obj": 1, "slot": 0, "to": 2}
/// ]}"#;
/// let replay = replay_trace(trace.as_bytes(), "tiny.json", None, |header| Ok(header.heap.clone()))?;
/// let why = leaks::why(&replay, WhyQuery::Tag("conn-1"));
/// assert_eq!(why.matched, Some(WhyMatch::Tag));
/// assert_eq!(leaks::format_path(why.root.as_deref().unwrap(), &why.path), "timers -> Timeout#1 -> [0] object#2 (conn-1)");
/// # Ok::<(), gc_sim::trace::TraceError>(())
/// ```
pub fn why(replay: &Replay, query: WhyQuery<'_>) -> Why {
    let graph = ObjectGraph::new(replay.heap());
    Namer::new(replay, &graph).why(replay, query)
}

/// Names the objects of a graph with the trace's ids.
pub(crate) struct Namer<'a> {
    graph: &'a ObjectGraph<'a>,
    trace_ids: SecondaryMap<ObjectId, u64>,
}

impl<'a> Namer<'a> {
    pub fn new(replay: &Replay, graph: &'a ObjectGraph<'a>) -> Namer<'a> {
        let mut trace_ids = SecondaryMap::new();
        for (trace_id, object) in replay.trace_ids() {
            if replay.heap().is_alive(object) {
                trace_ids.insert(object, trace_id);
            }
        }
        Namer { graph, trace_ids }
    }

    fn steps(&self, path: &RetainingPath) -> Vec<PathStep> {
        let heap = self.graph.heap();
        path.steps
            .iter()
            // A path holds live objects only: `object` never fails here.
            .filter_map(|&(slot, id)| {
                let o = heap.object(id).ok()?;
                Some(PathStep {
                    slot,
                    id: self.trace_ids.get(id).copied(),
                    kind: o.labels.kind.map(|l| heap.label_name_at(l.index()).to_owned()),
                    tag: o.labels.tag.map(|l| heap.label_name_at(l.index()).to_owned()),
                    space: o.space,
                    size: o.size,
                    retained_bytes: self.graph.retained(id).map_or(0, |t| t.bytes),
                })
            })
            .collect()
    }

    /// Why what `query` names is alive: its shortest retaining path, and what the query matched.
    pub fn why(&self, replay: &Replay, query: WhyQuery<'_>) -> Why {
        let heap = self.graph.heap();
        let object = |id: u64| replay.object(id).map(|o| (WhyMatch::Object, Some(o)));
        let tag = |name: &str| {
            let label = heap.find_label(name)?;
            self.graph.nearest_tagged(label).map(|o| (WhyMatch::Tag, Some(o)))
        };
        let kind = |name: &str| {
            let label = heap.find_label(name)?;
            self.graph.nearest_of_kind(label).map(|o| (WhyMatch::Kind, Some(o)))
        };
        // Named, but with nothing alive: an id once allocated, or a label the trace used.
        let dead_object = |id: u64| replay.was_allocated(id).then_some((WhyMatch::Object, None));
        let dead_label = |name: &str| heap.find_label(name).map(|_| (WhyMatch::Label, None));
        let (text, found) = match query {
            WhyQuery::Object(id) => (id.to_string(), object(id).or_else(|| dead_object(id))),
            WhyQuery::Tag(name) => (name.to_owned(), tag(name).or_else(|| dead_label(name))),
            WhyQuery::Kind(name) => (name.to_owned(), kind(name).or_else(|| dead_label(name))),
            WhyQuery::Text(text) => {
                let found = if let Some(id) = text.strip_prefix("id:") {
                    id.parse().ok().and_then(|id| object(id).or_else(|| dead_object(id)))
                } else if let Some(name) = text.strip_prefix("tag:") {
                    tag(name).or_else(|| dead_label(name))
                } else if let Some(name) = text.strip_prefix("kind:") {
                    kind(name).or_else(|| dead_label(name))
                } else {
                    let id = text.parse::<u64>().ok();
                    id.and_then(object)
                        .or_else(|| tag(text))
                        .or_else(|| kind(text))
                        .or_else(|| id.and_then(dead_object))
                        .or_else(|| dead_label(text))
                };
                (text.to_owned(), found)
            }
        };
        let matched = found.map(|(matched, _)| matched);
        match found.and_then(|(_, target)| target).and_then(|t| self.graph.retaining_path(t)) {
            Some(path) => Why { query: text, matched, path: self.steps(&path), root: Some(path.root) },
            None => Why { query: text, matched, root: None, path: Vec::new() },
        }
    }
}

impl LeakAnalysis {
    /// Analyses `replay` through `graph` (the object graph of the replay's heap).
    pub(crate) fn new(replay: &Replay, graph: &ObjectGraph<'_>, namer: &Namer<'_>) -> LeakAnalysis {
        let heap = replay.heap();
        // The first mark that closes each tag, and each tag's summary by name: lookups, not scans, per tag.
        let mut first_close: FxHashMap<&str, &Mark> = FxHashMap::default();
        for mark in replay.marks() {
            if let Some(tag) = mark.closes.as_deref() {
                first_close.entry(tag).or_insert(mark);
            }
        }
        let closed = |tag: &str| first_close.get(tag).copied();
        let tags: Vec<TagSummary> = graph
            .tag_retention()
            .into_iter()
            .map(|retention| {
                let promoted = heap.find_label(&retention.tag).and_then(|l| heap.tag_promotion(l)).map(|p| Promotion {
                    first_gc: p.first_gc,
                    first_ms: p.first_ms,
                    last_gc: p.last_gc,
                    last_ms: p.last_ms,
                    objects: p.objects,
                    bytes: p.bytes,
                });
                let closed_at_ms = closed(&retention.tag).map(|m| m.t_ms);
                TagSummary { retention, promoted, closed_at_ms }
            })
            .collect();

        let by_tag: FxHashMap<&str, &TagSummary> = tags.iter().map(|t| (t.retention.tag.as_str(), t)).collect();
        let mut suspected_leaks = Vec::new();
        for mark in replay.marks() {
            let Some(tag) = mark.closes.as_deref() else { continue };
            let Some(summary) = by_tag.get(tag) else { continue };
            if !std::ptr::eq(first_close[tag], mark) {
                continue; // closed twice: reported at its first close
            }
            let why = namer.why(replay, WhyQuery::Tag(tag));
            let r = &summary.retention;
            suspected_leaks.push(SuspectedLeak {
                tag: tag.to_owned(),
                closed_at_ms: mark.t_ms,
                closed_event: mark.event,
                objects: r.objects,
                bytes: r.bytes,
                old_bytes: r.old_bytes,
                retained_bytes: r.retained_bytes,
                root: why.root.unwrap_or_else(|| r.root.clone()),
                path: why.path,
            });
        }
        LeakAnalysis { tags, ages: graph.ages(), suspected_leaks }
    }
}

/// A retaining path as one line, root first, as DevTools lists retainers:
/// `timers -> Timeout#17 -> [0] closure#18 -> [1] KoaContext#20 (conn-17)`.
pub fn format_path(root: &str, path: &[PathStep]) -> String {
    let mut line = root.to_owned();
    for step in path {
        line.push_str(" -> ");
        if let Some(slot) = step.slot {
            let _ = write!(line, "[{slot}] ");
        }
        line.push_str(step.kind.as_deref().unwrap_or("object"));
        if let Some(id) = step.id {
            let _ = write!(line, "#{id}");
        }
    }
    if let Some(tag) = path.last().and_then(|s| s.tag.as_deref()) {
        let _ = write!(line, " ({tag})");
    }
    line
}
