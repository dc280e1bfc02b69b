//! What `gc-sim snapshot FILE` reports: the heap by constructor as DevTools' Summary view groups it, the top
//! retainers, V8 heap vs native totals, and retaining paths.

use super::graph::HeapGraph;

/// One constructor (DevTools' Summary class) of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClassSummary {
    /// The class name: an object's constructor, a native node's name, `(closure)`, `(string)`, `(system)`, ...
    pub name: String,
    /// Nodes of the class (those with a self size, and native nodes, as DevTools counts).
    pub count: u64,
    /// Their self sizes, in bytes.
    pub self_bytes: u64,
    /// Their retained size as DevTools' Summary computes it: the retained sizes of the class's nodes that no
    /// other node of the class dominates (so nothing is counted twice).
    pub retained_bytes: u64,
}

/// A node that retains much.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopRetainer {
    /// Its name: a constructor, a function with `()`, or a class such as `(system)`.
    pub name: String,
    /// Its snapshot id (`@id` in DevTools).
    pub id: u32,
    /// Its self size.
    pub self_bytes: u64,
    /// Its retained size.
    pub retained_bytes: u64,
}

/// The heap by class, sorted by retained bytes, then self bytes (descending), then name.
pub fn classes(graph: &HeapGraph) -> Vec<ClassSummary> {
    let keys = graph.class_key_count();
    let mut slot = vec![u32::MAX; keys];
    let mut out: Vec<ClassSummary> = Vec::new();
    let counted = |n: u32| graph.self_size(n) > 0 || graph.is_native_type(n);
    for n in 0..graph.node_count() as u32 {
        if !counted(n) {
            continue;
        }
        let k = graph.class_key(n) as usize;
        if slot[k] == u32::MAX {
            slot[k] = out.len() as u32;
            out.push(ClassSummary {
                name: graph.class_name(n).into_owned(),
                count: 0,
                self_bytes: 0,
                retained_bytes: 0,
            });
        }
        let c = &mut out[slot[k] as usize];
        c.count += 1;
        c.self_bytes += graph.self_size(n);
    }
    // DevTools' `_calculateClassesRetainedSize`: a depth-first walk of the dominator tree that adds a node's
    // retained size to its class unless an ancestor of the same class was added.
    let mut on_path = vec![false; keys];
    // (node, next child, whether this node set its class on the path)
    let mut stack: Vec<(u32, u32, bool)> = vec![(graph.root(), 0, false)];
    let root = graph.root();
    {
        let n = root;
        let k = graph.class_key(n) as usize;
        if counted(n) {
            out[slot[k] as usize].retained_bytes += graph.retained_size(n);
            if !graph.dominated(n).is_empty() {
                on_path[k] = true;
                stack[0].2 = true;
            }
        }
    }
    while let Some(top) = stack.last_mut() {
        let (n, next, set) = *top;
        let children = graph.dominated(n);
        if next as usize == children.len() {
            if set {
                on_path[graph.class_key(n) as usize] = false;
            }
            stack.pop();
            continue;
        }
        top.1 += 1;
        let c = children[next as usize];
        let k = graph.class_key(c) as usize;
        let mut set = false;
        if !on_path[k] && counted(c) {
            out[slot[k] as usize].retained_bytes += graph.retained_size(c);
            if !graph.dominated(c).is_empty() {
                on_path[k] = true;
                set = true;
            }
        }
        stack.push((c, 0, set));
    }
    out.sort_by(|a, b| {
        b.retained_bytes.cmp(&a.retained_bytes).then(b.self_bytes.cmp(&a.self_bytes)).then(a.name.cmp(&b.name))
    });
    out
}

/// The `top` nodes by retained size (neither the root nor a synthetic node), largest first, ties by id.
pub fn top_retainers(graph: &HeapGraph, top: usize) -> Vec<TopRetainer> {
    let mut nodes: Vec<u32> =
        (0..graph.node_count() as u32).filter(|&n| n != graph.root() && !graph.is_synthetic(n)).collect();
    let order =
        |a: &u32, b: &u32| graph.retained_size(*b).cmp(&graph.retained_size(*a)).then(graph.id(*a).cmp(&graph.id(*b)));
    if top < nodes.len() {
        if top == 0 {
            return Vec::new();
        }
        nodes.select_nth_unstable_by(top - 1, order);
        nodes.truncate(top);
    }
    nodes.sort_by(order);
    nodes
        .into_iter()
        .map(|n| TopRetainer {
            name: graph.display_name(n),
            id: graph.id(n),
            self_bytes: graph.self_size(n),
            retained_bytes: graph.retained_size(n),
        })
        .collect()
}

/// What `--why` names: `@ID` a node by snapshot id, otherwise a class (constructor) name, or else a node name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhyTarget<'a> {
    /// A snapshot id.
    Id(u32),
    /// A class (constructor) or node name.
    Name(&'a str),
}

impl<'a> WhyTarget<'a> {
    /// Reads `@123` as an id and anything else as a name.
    pub fn parse(query: &'a str) -> WhyTarget<'a> {
        match query.strip_prefix('@').and_then(|id| id.parse().ok()) {
            Some(id) => WhyTarget::Id(id),
            None => WhyTarget::Name(query),
        }
    }
}

/// The answer to `--why`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WhyAnswer {
    /// The query as given.
    pub query: String,
    /// Nodes that match it.
    pub matched: u64,
    /// The node explained: of those that match, the one closest to a root (ties: the first in the snapshot).
    pub id: Option<u32>,
    /// Its retained size.
    pub retained_bytes: Option<u64>,
    /// Its shortest retaining path, `global@5 -> .timers Object@7 -> ...`; `None` when nothing matches or no
    /// retaining edge reaches it.
    pub path: Option<String>,
    /// The path's steps, for tools.
    pub steps: Vec<PathStep>,
}

/// One step of a retaining path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PathStep {
    /// The edge into this node, as DevTools shows it (`.name`, `[3]`, `{internal}`, `->context`); `None` for the
    /// first node.
    pub edge: Option<String>,
    /// The node's name.
    pub name: String,
    /// Its snapshot id.
    pub id: u32,
}

/// Answers `--why QUERY`.
pub fn why(graph: &HeapGraph, query: &str) -> WhyAnswer {
    let target = WhyTarget::parse(query);
    // A constructor (class) first: `Socket` means the Socket objects, not the `Socket` function; a node name
    // (a function, a string) when no class has that name. Classes are compared once per class key, not per node.
    let mut class_matches: Vec<u8> = vec![0; graph.class_key_count()]; // 0 unknown, 1 no, 2 yes
    let mut by_class = false;
    if let WhyTarget::Name(name) = target {
        for n in 0..graph.node_count() as u32 {
            let k = graph.class_key(n) as usize;
            if class_matches[k] == 0 {
                class_matches[k] = if graph.class_name(n) == name { 2 } else { 1 };
            }
            by_class |= class_matches[k] == 2;
        }
    }
    let matches = |n: u32| match target {
        WhyTarget::Id(id) => graph.id(n) == id,
        WhyTarget::Name(_) if by_class => class_matches[graph.class_key(n) as usize] == 2,
        WhyTarget::Name(name) => graph.name(n) == name,
    };
    let matched = (0..graph.node_count() as u32).filter(|&n| matches(n)).count() as u64;
    let reached = graph.path_order().iter().copied().find(|&n| matches(n));
    let node = reached.or_else(|| (0..graph.node_count() as u32).find(|&n| matches(n)));
    let mut answer = WhyAnswer {
        query: query.to_owned(),
        matched,
        id: node.map(|n| graph.id(n)),
        retained_bytes: node.map(|n| graph.retained_size(n)),
        path: None,
        steps: Vec::new(),
    };
    if let Some(steps) = reached.and_then(|n| graph.retaining_path(n)) {
        answer.path = Some(graph.format_path(&steps));
        let mut edge = None;
        for &(n, e) in &steps {
            answer.steps.push(PathStep { edge: edge.take(), name: graph.display_name(n), id: graph.id(n) });
            edge = e.map(|e| graph.edge_label(e));
        }
    }
    answer
}

/// `summary` of a snapshot report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportSummary {
    /// Nodes of the snapshot.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Self sizes of the V8 heap nodes (what `heapUsed` counts).
    pub heap_bytes: u64,
    /// Self sizes of the embedder's nodes (native memory).
    pub native_bytes: u64,
    /// V8 heap nodes.
    pub heap_nodes: u64,
    /// Nodes no retaining edge reaches.
    pub unreachable_nodes: u64,
}

/// The JSON report of `gc-sim snapshot` (docs/report-format.md, "Heap snapshot reports").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotReport {
    /// Always [`SNAPSHOT_REPORT_SOURCE`].
    pub source: String,
    /// The snapshot files, in the order given; the summary is of the last.
    pub files: Vec<String>,
    /// Totals of the last snapshot.
    pub summary: ReportSummary,
    /// Every class, most retained bytes first.
    pub constructors: Vec<ClassSummary>,
    /// The nodes that retain most.
    pub top_retainers: Vec<TopRetainer>,
    /// The answer to `--why`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<WhyAnswer>,
    /// With two or three snapshots: the diff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<super::diff::SnapshotDiff>,
    /// With two or three snapshots: the structures suspected to leak, most bytes first.
    #[serde(default)]
    pub suspected_leaks: Vec<super::diff::SuspectedLeak>,
}

/// The `source` of a snapshot report.
pub const SNAPSHOT_REPORT_SOURCE: &str = "v8-heap-snapshot";

impl SnapshotReport {
    /// The report of `graph` (read from the last of `files`) with `top` top retainers, no `why` and no diff.
    pub fn new(files: Vec<String>, graph: &HeapGraph, top: usize) -> SnapshotReport {
        let t = graph.totals();
        SnapshotReport {
            source: SNAPSHOT_REPORT_SOURCE.to_owned(),
            files,
            summary: ReportSummary {
                nodes: t.nodes,
                edges: t.edges,
                heap_bytes: t.heap_bytes,
                native_bytes: t.native_bytes,
                heap_nodes: t.heap_nodes,
                unreachable_nodes: t.unreachable_nodes,
            },
            constructors: classes(graph),
            top_retainers: top_retainers(graph, top),
            why: None,
            diff: None,
            suspected_leaks: Vec::new(),
        }
    }
}
