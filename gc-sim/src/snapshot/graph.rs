//! A read snapshot as a graph with DevTools' semantics: which edges retain, the roots, V8 heap vs native nodes,
//! the dominator tree, retained sizes and shortest retaining paths. docs/heap-snapshots.md says where each rule
//! comes from (DevTools' `HeapSnapshot.ts`, V8's `heap-snapshot-generator.cc`).
//!
//! Every pass is iterative over flat arrays (CSR adjacency, one `u32` or `u64` per node or edge): a million-long
//! linked list neither overflows the stack nor allocates per node.

use super::reader::RawSnapshot;
use crate::analysis::dominators::NONE;

/// Where a node's bytes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeSpace {
    /// An object of V8's heap (everything but `native` and `synthetic` nodes): counted in `heapUsed`.
    V8Heap,
    /// An embedder node (`native`, or `synthetic` with a size: an embedder root such as Node's `Environment`):
    /// memory outside V8's heap (array buffer backing stores, C++ objects).
    Native,
    /// A synthetic node of V8's (the root, `(GC roots)` and its categories): no memory.
    Synthetic,
}

/// The type indices of the node and edge types the semantics depend on, resolved by name from the file's tables.
#[derive(Clone, Copy, Debug)]
struct Types {
    node_native: Option<u8>,
    node_synthetic: Option<u8>,
    node_hidden: Option<u8>,
    node_object: Option<u8>,
    node_code: Option<u8>,
    node_closure: Option<u8>,
    edge_weak: Option<u8>,
    edge_shortcut: Option<u8>,
    edge_element: Option<u8>,
    edge_hidden: Option<u8>,
}

/// A heap snapshot with its dominator tree and retained sizes. See the [module documentation](self).
#[derive(Debug)]
pub struct HeapGraph {
    raw: RawSnapshot,
    types: Types,
    /// The edges of node `n` are `first_edge[n]..first_edge[n + 1]`.
    first_edge: Vec<u32>,
    /// Immediate dominator of each node (the root's is itself).
    idom: Vec<u32>,
    /// Retained size of each node.
    retained: Vec<u64>,
    /// The dominator tree's children of node `n`: `dom_children[dom_first[n]..dom_first[n + 1]]`.
    dom_first: Vec<u32>,
    dom_children: Vec<u32>,
    /// On a shortest retaining path from a root: the node before, and the edge from it (`NONE` for the root and
    /// nodes no retaining edge reaches).
    path_parent: Vec<u32>,
    path_edge: Vec<u32>,
    /// Nodes in the order of the path search (a node's `path_parent` comes before it).
    path_order: Vec<u32>,
}

/// Totals of a snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Nodes.
    pub nodes: u64,
    /// Edges.
    pub edges: u64,
    /// Self sizes of V8 heap nodes ([`NodeSpace::V8Heap`]).
    pub heap_bytes: u64,
    /// Self sizes of embedder nodes ([`NodeSpace::Native`]).
    pub native_bytes: u64,
    /// V8 heap nodes.
    pub heap_nodes: u64,
    /// Nodes that no retaining edge reaches from the root (kept alive only by weak edges, or garbage V8 left).
    pub unreachable_nodes: u64,
}

impl HeapGraph {
    /// Builds the graph: edge ranges, the dominator tree, retained sizes and shortest paths.
    pub fn new(raw: RawSnapshot) -> HeapGraph {
        let find = |table: &[String], name: &str| table.iter().position(|t| t == name).map(|i| i as u8);
        let nt = &raw.meta.node_types;
        let et = &raw.meta.edge_types;
        let types = Types {
            node_native: find(nt, "native"),
            node_synthetic: find(nt, "synthetic"),
            node_hidden: find(nt, "hidden"),
            node_object: find(nt, "object"),
            node_code: find(nt, "code"),
            node_closure: find(nt, "closure"),
            edge_weak: find(et, "weak"),
            edge_shortcut: find(et, "shortcut"),
            edge_element: find(et, "element"),
            edge_hidden: find(et, "hidden"),
        };
        let n = raw.node_count();
        let mut first_edge = Vec::with_capacity(n + 1);
        let mut sum = 0u32;
        for &c in &raw.node_edge_count {
            first_edge.push(sum);
            sum += c; // the reader checked that the counts add up to the edges
        }
        first_edge.push(sum);
        let mut graph = HeapGraph {
            raw,
            types,
            first_edge,
            idom: Vec::new(),
            retained: Vec::new(),
            dom_first: Vec::new(),
            dom_children: Vec::new(),
            path_parent: Vec::new(),
            path_edge: Vec::new(),
            path_order: Vec::new(),
        };
        graph.dominators();
        graph.retained_sizes();
        graph.shortest_paths();
        graph
    }

    /// The snapshot as read.
    pub fn raw(&self) -> &RawSnapshot {
        &self.raw
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.raw.node_count()
    }

    /// The root node (the synthetic node every root hangs from).
    pub fn root(&self) -> u32 {
        self.raw.root
    }

    /// Node `n`'s snapshot id.
    pub fn id(&self, n: u32) -> u32 {
        self.raw.node_id[n as usize]
    }

    /// Node `n`'s self size.
    pub fn self_size(&self, n: u32) -> u64 {
        self.raw.node_self_size[n as usize]
    }

    /// Node `n`'s retained size: its self size and that of every node it dominates (that no retaining path
    /// reaches without passing through it).
    pub fn retained_size(&self, n: u32) -> u64 {
        self.retained[n as usize]
    }

    /// Node `n`'s immediate dominator (the root's is the root).
    pub fn dominator(&self, n: u32) -> u32 {
        self.idom[n as usize]
    }

    /// The nodes `n` immediately dominates.
    pub fn dominated(&self, n: u32) -> &[u32] {
        &self.dom_children[self.dom_first[n as usize] as usize..self.dom_first[n as usize + 1] as usize]
    }

    /// Node `n`'s name (a string of the snapshot: a constructor, a function, a string's text, ...).
    pub fn name(&self, n: u32) -> &str {
        self.raw.strings.get(self.raw.node_name[n as usize])
    }

    /// Node `n`'s type name (`object`, `closure`, `native`, ...).
    pub fn type_name(&self, n: u32) -> &str {
        &self.raw.meta.node_types[self.raw.node_type[n as usize] as usize]
    }

    /// Where node `n`'s bytes live.
    pub fn space(&self, n: u32) -> NodeSpace {
        let t = Some(self.raw.node_type[n as usize]);
        if t == self.types.node_native {
            NodeSpace::Native
        } else if t == self.types.node_synthetic {
            if self.self_size(n) > 0 {
                NodeSpace::Native
            } else {
                NodeSpace::Synthetic
            }
        } else {
            NodeSpace::V8Heap
        }
    }

    /// Whether node `n` is `native` (counted by DevTools' Summary even with a self size of 0).
    pub fn is_native_type(&self, n: u32) -> bool {
        Some(self.raw.node_type[n as usize]) == self.types.node_native
    }

    /// Whether node `n` is a JS `object` (not a closure, string, array, code or hidden node).
    pub fn is_object(&self, n: u32) -> bool {
        Some(self.raw.node_type[n as usize]) == self.types.node_object
    }

    /// Whether node `n` is a `synthetic` node.
    pub fn is_synthetic(&self, n: u32) -> bool {
        Some(self.raw.node_type[n as usize]) == self.types.node_synthetic
    }

    /// Node `n`'s class in DevTools' Summary (`JSHeapSnapshotNode.className`): an object's or native node's name
    /// (its constructor), `(system)` for hidden nodes, `(compiled code)` for code, `(TYPE)` for the rest
    /// (`(closure)`, `(string)`, `(array)`, ...).
    pub fn class_name(&self, n: u32) -> std::borrow::Cow<'_, str> {
        let t = Some(self.raw.node_type[n as usize]);
        if t == self.types.node_object || t == self.types.node_native {
            self.name(n).into()
        } else if t == self.types.node_hidden {
            "(system)".into()
        } else if t == self.types.node_code {
            "(compiled code)".into()
        } else {
            format!("({})", self.type_name(n)).into()
        }
    }

    /// A class key per node: equal keys are the same [`class_name`](Self::class_name) (objects and native nodes
    /// by name string, the others by type), below [`class_key_count`](Self::class_key_count).
    pub fn class_key(&self, n: u32) -> u32 {
        let t = self.raw.node_type[n as usize];
        if Some(t) == self.types.node_object || Some(t) == self.types.node_native {
            self.raw.node_name[n as usize]
        } else {
            self.raw.strings.len() as u32 + u32::from(t)
        }
    }

    /// One more than the largest [`class_key`](Self::class_key).
    pub fn class_key_count(&self) -> usize {
        self.raw.strings.len() + 256
    }

    /// A short label for node `n` in a path: an object's constructor, a function's name with `()`, otherwise its
    /// class; then `@id`.
    pub fn label(&self, n: u32) -> String {
        format!("{}@{}", self.display_name(n), self.id(n))
    }

    /// Node `n`'s name in a path or a list: an object's constructor, a function's name with `()`, a synthetic
    /// node's name, otherwise its class.
    pub fn display_name(&self, n: u32) -> String {
        let t = Some(self.raw.node_type[n as usize]);
        if t == self.types.node_closure {
            let f = self.name(n);
            if f.is_empty() {
                "(anonymous)()".to_owned()
            } else {
                format!("{f}()")
            }
        } else if t == self.types.node_synthetic {
            self.name(n).to_owned()
        } else {
            self.class_name(n).into_owned()
        }
    }

    /// Edge `e`'s name as DevTools shows it: `.name` for a property, `[i]` for an element, `{name}` for an
    /// internal or hidden edge, `->name` for a context variable, `[[name]]` for a weak edge.
    pub fn edge_label(&self, e: u32) -> String {
        let t = self.raw.edge_type[e as usize];
        let v = self.raw.edge_name[e as usize];
        let numbered = Some(t) == self.types.edge_element || Some(t) == self.types.edge_hidden;
        let name = if numbered { v.to_string() } else { self.raw.strings.get(v).to_owned() };
        match self.raw.meta.edge_types[t as usize].as_str() {
            "context" => format!("->{name}"),
            "element" => format!("[{name}]"),
            "weak" => format!("[[{name}]]"),
            "property" | "shortcut" if name.contains(' ') => format!("[\"{name}\"]"),
            "property" | "shortcut" => format!(".{name}"),
            _ => format!("{{{name}}}"),
        }
    }

    /// Edge `e`'s name string (`None` for element and hidden edges, which have an index).
    pub fn edge_name(&self, e: u32) -> Option<&str> {
        let t = Some(self.raw.edge_type[e as usize]);
        if t == self.types.edge_element || t == self.types.edge_hidden {
            None
        } else {
            Some(self.raw.strings.get(self.raw.edge_name[e as usize]))
        }
    }

    /// Whether edge `e` is an element (array index) edge.
    pub fn is_element_edge(&self, e: u32) -> bool {
        Some(self.raw.edge_type[e as usize]) == self.types.edge_element
    }

    /// The edges of node `n`, as edge indexes.
    pub fn edges(&self, n: u32) -> std::ops::Range<u32> {
        self.first_edge[n as usize]..self.first_edge[n as usize + 1]
    }

    /// Edge `e`'s target.
    pub fn edge_target(&self, e: u32) -> u32 {
        self.raw.edge_to[e as usize]
    }

    /// The retaining edges of node `n` (see [`is_retaining`](Self::is_retaining)) as (edge, target) pairs: with
    /// [`id`](Self::id), [`self_size`](Self::self_size), [`name`](Self::name), [`type_name`](Self::type_name)
    /// and [`space`](Self::space), what a simulation needs to rebuild the V8 heap's objects and references.
    pub fn retaining_edges(&self, n: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.edges(n).filter(move |&e| self.is_retaining(n, e)).map(|e| (e, self.edge_target(e)))
    }

    /// Whether edge `e` from node `from` retains its target in DevTools' rules (`isEssentialEdge`): weak edges never
    /// do, shortcut edges only from the root (where V8 uses them to mark the global objects).
    pub fn is_retaining(&self, from: u32, e: u32) -> bool {
        let t = Some(self.raw.edge_type[e as usize]);
        t != self.types.edge_weak && (t != self.types.edge_shortcut || from == self.raw.root)
    }

    /// The shortest retaining path to node `n` from a root, as (node, edge into the next node) steps from the
    /// root's child to `n` (whose edge is `None`). Paths from the global objects (the root's non-synthetic
    /// children) come first, as DevTools' distances do; `None` when no retaining edge reaches `n`.
    pub fn retaining_path(&self, n: u32) -> Option<Vec<(u32, Option<u32>)>> {
        if n == self.raw.root {
            return Some(vec![(n, None)]);
        }
        if self.path_parent[n as usize] == NONE {
            return None;
        }
        let mut steps = vec![(n, None)];
        let mut at = n;
        loop {
            let parent = self.path_parent[at as usize];
            if parent == self.raw.root || parent == NONE {
                break;
            }
            steps.push((parent, Some(self.path_edge[at as usize])));
            at = parent;
        }
        steps.reverse();
        Some(steps)
    }

    /// The node before `n` on its shortest retaining path (`None` for the root and unreached nodes).
    pub fn path_parent(&self, n: u32) -> Option<u32> {
        let p = self.path_parent[n as usize];
        (p != NONE).then_some(p)
    }

    /// The edge into `n` on its shortest retaining path (`None` for the root and unreached nodes).
    pub fn path_edge(&self, n: u32) -> Option<u32> {
        let e = self.path_edge[n as usize];
        (e != NONE).then_some(e)
    }

    /// Nodes reached by retaining edges, each after the node before it on its shortest path.
    pub fn path_order(&self) -> &[u32] {
        &self.path_order
    }

    /// A path as `global@5 -> .timers Object@7 -> ._idleNext Timeout@9`.
    pub fn format_path(&self, steps: &[(u32, Option<u32>)]) -> String {
        let mut out = String::new();
        for (i, &(node, _)) in steps.iter().enumerate() {
            if i > 0 {
                out.push_str(" -> ");
                if let Some(e) = steps[i - 1].1 {
                    out.push_str(&self.edge_label(e));
                    out.push(' ');
                }
            }
            out.push_str(&self.label(node));
        }
        out
    }

    /// The nodes whose id is `id` (ids are unique in V8's snapshots).
    pub fn node_by_id(&self, id: u32) -> Option<u32> {
        self.raw.node_id.iter().position(|&i| i == id).map(|n| n as u32)
    }

    /// Totals: nodes, edges, V8 heap and native bytes.
    pub fn totals(&self) -> Totals {
        let mut t =
            Totals { nodes: self.node_count() as u64, edges: self.raw.edge_count() as u64, ..Totals::default() };
        for n in 0..self.node_count() as u32 {
            match self.space(n) {
                NodeSpace::V8Heap => {
                    t.heap_bytes += self.self_size(n);
                    t.heap_nodes += 1;
                }
                NodeSpace::Native => t.native_bytes += self.self_size(n),
                NodeSpace::Synthetic => {}
            }
            if n != self.raw.root && self.path_parent[n as usize] == NONE {
                t.unreachable_nodes += 1;
            }
        }
        t
    }

    /// DevTools' `_markPageOwnedNodes`: the nodes reachable without weak edges from the root's shortcut edges (the
    /// global objects) and from `(Document DOM trees)`. Edges from other nodes into these do not count for the
    /// dominator tree (so that what the debugger or a handle also holds stays attributed to the page).
    fn page_owned(&self) -> Vec<bool> {
        let root = self.raw.root;
        let mut flags = vec![false; self.node_count()];
        let mut stack = Vec::new();
        for e in self.edges(root) {
            let t = Some(self.raw.edge_type[e as usize]);
            let to = self.edge_target(e);
            let entry = t == self.types.edge_shortcut
                || (t == self.types.edge_element && self.is_synthetic(to) && self.name(to) == "(Document DOM trees)");
            if entry && !flags[to as usize] {
                flags[to as usize] = true;
                stack.push(to);
            }
        }
        while let Some(n) = stack.pop() {
            for e in self.edges(n) {
                let to = self.edge_target(e);
                if flags[to as usize] || Some(self.raw.edge_type[e as usize]) == self.types.edge_weak {
                    continue;
                }
                flags[to as usize] = true;
                stack.push(to);
            }
        }
        flags
    }

    /// The dominator tree over the retaining edges (DevTools' `_isEssentialEdge` and page-owned filter). A node
    /// with no retaining edge at all (only weak retainers) hangs from the root, as DevTools' `orphanNode`; a node
    /// still unreached (a cycle only weak edges lead to) is dominated by the root too.
    fn dominators(&mut self) {
        let n = self.node_count();
        let root = self.raw.root;
        let page = self.page_owned();
        let mut has_retainer = vec![false; n];
        for from in 0..n as u32 {
            for e in self.edges(from) {
                if self.is_retaining(from, e) {
                    has_retainer[self.edge_target(e) as usize] = true;
                }
            }
        }
        let orphans: Vec<u32> = (0..n as u32).filter(|&v| !has_retainer[v as usize] && v != root).collect();
        drop(has_retainer);
        let successors = super::dominators::Successors {
            first_edge: &self.first_edge,
            target: |e: u32| self.raw.edge_to[e as usize],
            keep: |from: u32, e: u32| {
                let to = self.raw.edge_to[e as usize] as usize;
                self.is_retaining(from, e) && (from == root || !page[to] || page[from as usize])
            },
            root,
            extra_root: &orphans,
        };
        let mut idom = crate::analysis::dominators::dominators_of(n, successors.root, &successors);
        drop(page);
        for d in &mut idom {
            if *d == NONE {
                *d = root;
            }
        }
        // Children lists of the dominator tree.
        let mut first = vec![0u32; n + 1];
        for (v, &d) in idom.iter().enumerate() {
            if v as u32 != root {
                first[d as usize + 1] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut children = vec![0u32; n.saturating_sub(1)];
        for (v, &d) in idom.iter().enumerate() {
            if v as u32 != root {
                children[fill[d as usize] as usize] = v as u32;
                fill[d as usize] += 1;
            }
        }
        self.idom = idom;
        self.dom_first = first;
        self.dom_children = children;
    }

    /// Retained sizes: self sizes summed up the dominator tree, children before parents (a breadth-first order of
    /// the tree, walked backwards).
    fn retained_sizes(&mut self) {
        let n = self.node_count();
        let mut order = Vec::with_capacity(n);
        order.push(self.raw.root);
        let mut i = 0;
        while i < order.len() {
            let v = order[i];
            order.extend_from_slice(self.dominated(v));
            i += 1;
        }
        let mut retained = self.raw.node_self_size.clone();
        for &v in order.iter().rev() {
            if v != self.raw.root {
                let d = self.idom[v as usize] as usize;
                retained[d] += retained[v as usize];
            }
        }
        self.retained = retained;
    }

    /// Breadth-first search over retaining edges, first from the root's non-synthetic children (the global
    /// objects, DevTools' user roots at distance 1), then from the root for the rest (DevTools'
    /// `calculateDistances`), recording each node's parent on a shortest path.
    fn shortest_paths(&mut self) {
        let n = self.node_count();
        let root = self.raw.root;
        let mut parent = vec![NONE; n];
        let mut via = vec![NONE; n];
        let mut order: Vec<u32> = Vec::with_capacity(n);
        parent[root as usize] = root; // visited; reset below
        order.push(root);
        for e in self.edges(root) {
            let to = self.edge_target(e);
            if self.is_retaining(root, e) && !self.is_synthetic(to) && parent[to as usize] == NONE {
                parent[to as usize] = root;
                via[to as usize] = e;
                order.push(to);
            }
        }
        let mut i = 1;
        let mut root_done = false;
        loop {
            while i < order.len() {
                let v = order[i];
                i += 1;
                for e in self.edges(v) {
                    let to = self.edge_target(e);
                    if parent[to as usize] == NONE && self.is_retaining(v, e) {
                        parent[to as usize] = v;
                        via[to as usize] = e;
                        order.push(to);
                    }
                }
            }
            if root_done {
                break;
            }
            root_done = true;
            for e in self.edges(root) {
                let to = self.edge_target(e);
                if parent[to as usize] == NONE && self.is_retaining(root, e) {
                    parent[to as usize] = root;
                    via[to as usize] = e;
                    order.push(to);
                }
            }
        }
        parent[root as usize] = NONE;
        self.path_parent = parent;
        self.path_edge = via;
        self.path_order = order;
    }
}
