//! DevTools' semantics of a snapshot graph: weak edges never retain, shortcut edges only from the root, edges from
//! outside into what the global objects hold do not dominate it, nodes with only weak retainers hang from the root;
//! retained sizes on a hand-made snapshot, and on random graphs against a naive "remove the node and mark again"
//! oracle that applies the same rules independently.

use gc_sim::snapshot::{summary, HeapGraph, RawSnapshot, SnapshotBuilder};
use proptest::prelude::*;

/// root -(element)-> (GC roots) -(element)-> (Strong roots) -(element)-> H(5)
/// root -(shortcut)-> global(8)
/// global .a -> A:Foo(10) .b -> B:Foo(20);  global .c -> C(30) .b -> B
/// A [[w]] -> D(40) (weak only);  A .e (shortcut) -> E(50) (shortcut not from the root: not retaining)
/// H .a -> A (from outside the global's graph: ignored for dominators);  H .x -> X:Foo(60)
fn hand_made() -> (HeapGraph, [u32; 11]) {
    let mut b = SnapshotBuilder::new();
    let root = b.node("synthetic", "", 1, 0).unwrap();
    let gc_roots = b.node("synthetic", "(GC roots)", 3, 0).unwrap();
    let strong = b.node("synthetic", "(Strong roots)", 5, 0).unwrap();
    let h = b.node("object", "Handle", 7, 5).unwrap();
    let global = b.node("object", "global", 9, 8).unwrap();
    let a = b.node("object", "Foo", 11, 10).unwrap();
    let bb = b.node("object", "Foo", 13, 20).unwrap();
    let c = b.node("object", "Bar", 15, 30).unwrap();
    let d = b.node("object", "Weakly", 17, 40).unwrap();
    let e = b.node("object", "Shortcut", 19, 50).unwrap();
    let x = b.node("object", "Foo", 21, 60).unwrap();
    b.edge(root, "element", "1", gc_roots).unwrap();
    b.edge(root, "shortcut", "global", global).unwrap();
    b.edge(gc_roots, "element", "0", strong).unwrap();
    b.edge(strong, "element", "0", h).unwrap();
    b.edge(global, "property", "a", a).unwrap();
    b.edge(a, "property", "b", bb).unwrap();
    b.edge(global, "property", "c", c).unwrap();
    b.edge(c, "property", "b", bb).unwrap();
    b.edge(a, "weak", "w", d).unwrap();
    b.edge(a, "shortcut", "e", e).unwrap();
    b.edge(h, "property", "a", a).unwrap();
    b.edge(h, "property", "x", x).unwrap();
    (HeapGraph::new(b.build()), [root, gc_roots, strong, h, global, a, bb, c, d, e, x])
}

#[test]
fn a_hand_made_snapshot_has_devtools_retained_sizes() {
    let (g, [root, gc_roots, strong, h, global, a, bb, c, d, e, x]) = hand_made();
    assert_eq!(g.retained_size(root), 223, "the root retains everything");
    assert_eq!(g.dominator(bb), global, "B is held by A and by C");
    assert_eq!(g.retained_size(global), 8 + 10 + 20 + 30);
    assert_eq!(g.dominator(a), global, "H's edge into the global's graph does not count");
    assert_eq!(g.retained_size(a), 10, "the weak edge to D and the shortcut to E retain nothing");
    assert_eq!((g.dominator(d), g.retained_size(d)), (root, 40), "only weakly held: hangs from the root");
    assert_eq!((g.dominator(e), g.retained_size(e)), (root, 50), "only a shortcut from a non-root: from the root");
    assert_eq!(g.dominator(x), h);
    assert_eq!(g.retained_size(h), 65);
    assert_eq!(g.retained_size(strong), 65);
    assert_eq!(g.retained_size(gc_roots), 65);
    assert_eq!(g.retained_size(c), 30);

    let classes = summary::classes(&g);
    let foo = classes.iter().find(|c| c.name == "Foo").unwrap();
    assert_eq!((foo.count, foo.self_bytes, foo.retained_bytes), (3, 90, 90));
    let global_class = classes.iter().find(|c| c.name == "global").unwrap();
    assert_eq!(global_class.retained_bytes, 68);
    assert!(classes.iter().all(|c| c.name != "(synthetic)"), "no synthetic node has a size");

    let top = summary::top_retainers(&g, 3);
    let names: Vec<(&str, u64)> = top.iter().map(|t| (t.name.as_str(), t.retained_bytes)).collect();
    assert_eq!(names, [("global", 68), ("Handle", 65), ("Foo", 60)]);

    // Paths start at the global object (DevTools' user roots) when one leads there.
    let why = summary::why(&g, "Foo");
    assert_eq!(why.matched, 3);
    assert_eq!(why.path.as_deref(), Some("global@9 -> .a Foo@11"));
    let why = summary::why(&g, "@21");
    assert_eq!(why.path.as_deref(), Some("(GC roots)@3 -> [0] (Strong roots)@5 -> [0] Handle@7 -> .x Foo@21"));
    assert_eq!(summary::why(&g, "Weakly").path, None, "a weak edge is not a retaining path");
    assert_eq!(summary::why(&g, "Nothing").matched, 0);
    let t = g.totals();
    assert_eq!((t.heap_bytes, t.native_bytes, t.unreachable_nodes), (223, 0, 2));
}

/// A million-long linked list: no recursion anywhere.
#[test]
fn a_million_long_list_is_analysed() {
    let n = 1_000_000u32;
    let mut b = SnapshotBuilder::new();
    let root = b.node("synthetic", "", 1, 0).unwrap();
    let global = b.node("object", "global", 3, 16).unwrap();
    b.edge(root, "shortcut", "global", global).unwrap();
    let mut prev = global;
    for i in 0..n {
        let node = b.node("object", "Link", 5 + 2 * i, 32).unwrap();
        b.edge(prev, "property", "next", node).unwrap();
        b.edge(node, "property", "prev", prev).unwrap();
        prev = node;
    }
    let g = HeapGraph::new(b.build());
    assert_eq!(g.retained_size(global), 16 + 32 * u64::from(n));
    let link = summary::classes(&g).into_iter().find(|c| c.name == "Link").unwrap();
    assert_eq!(link.retained_bytes, 32 * u64::from(n), "the first link holds them all, counted once");
    assert_eq!(summary::why(&g, &format!("@{}", 5 + 2 * (n - 1))).steps.len(), n as usize + 1);
}

/// The independent oracle: DevTools' rules applied with plain loops, then "remove v and mark again".
fn oracle(s: &RawSnapshot) -> Vec<u64> {
    let n = s.node_count();
    let root = s.root as usize;
    let et = |e: usize| s.meta.edge_types[s.edge_type[e] as usize].as_str();
    let mut edges = Vec::new(); // (from, to, type)
    let mut k = 0;
    for from in 0..n {
        for _ in 0..s.node_edge_count[from] {
            edges.push((from, s.edge_to[k] as usize, et(k)));
            k += 1;
        }
    }
    // Page-owned: reachable without weak edges from the root's shortcut targets.
    let mut page = vec![false; n];
    let mut stack: Vec<usize> =
        edges.iter().filter(|(f, _, t)| *f == root && *t == "shortcut").map(|(_, to, _)| *to).collect();
    while let Some(v) = stack.pop() {
        if page[v] {
            continue;
        }
        page[v] = true;
        stack.extend(edges.iter().filter(|(f, _, t)| *f == v && *t != "weak").map(|(_, to, _)| *to));
    }
    let retaining = |f: usize, t: &str| t != "weak" && (t != "shortcut" || f == root);
    let mut dom_edges: Vec<(usize, usize)> = edges
        .iter()
        .filter(|(f, to, t)| retaining(*f, t) && !(*f != root && page[*to] && !page[*f]))
        .map(|(f, to, _)| (*f, *to))
        .collect();
    for v in 0..n {
        if v != root && !edges.iter().any(|(f, to, t)| *to == v && retaining(*f, t)) {
            dom_edges.push((root, v));
        }
    }
    let mark = |removed: Option<usize>| {
        let mut seen = vec![false; n];
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            if seen[v] || Some(v) == removed {
                continue;
            }
            seen[v] = true;
            stack.extend(dom_edges.iter().filter(|(f, _)| *f == v).map(|(_, to)| *to));
        }
        seen
    };
    let live = mark(None);
    (0..n)
        .map(|v| {
            if v == root {
                return s.node_self_size.iter().sum();
            }
            if !live[v] {
                return s.node_self_size[v];
            }
            let without = mark(Some(v));
            (0..n).filter(|&w| w == v || (live[w] && !without[w])).map(|w| s.node_self_size[w]).sum()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn retained_sizes_agree_with_remove_and_mark(
        nodes in 2usize..18,
        sizes in proptest::collection::vec(0u64..100, 18),
        edges in proptest::collection::vec((0usize..18, 0usize..18, 0usize..5), 0..50),
        synthetic in proptest::collection::vec(proptest::bool::weighted(0.15), 18),
    ) {
        let types = ["property", "element", "weak", "shortcut", "internal"];
        let mut b = SnapshotBuilder::new();
        for v in 0..nodes {
            let t = if v == 0 || synthetic[v] { "synthetic" } else { "object" };
            b.node(t, &format!("N{}", v % 3), 2 * v as u32 + 1, if t == "synthetic" { 0 } else { sizes[v] }).unwrap();
        }
        for (f, t, ty) in edges {
            let ty = types[ty];
            b.edge((f % nodes) as u32, ty, if ty == "element" { "0" } else { "p" }, (t % nodes) as u32).unwrap();
        }
        let snap = b.build();
        let expected = oracle(&snap);
        let g = HeapGraph::new(snap);
        let got: Vec<u64> = (0..nodes as u32).map(|v| g.retained_size(v)).collect();
        prop_assert_eq!(got, expected);
    }
}
