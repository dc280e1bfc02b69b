//! Immediate dominators of a graph: the simple version of Lengauer and Tarjan's algorithm ("A fast algorithm for
//! finding dominators in a flowgraph", 1979), with path compression and without balanced linking, so
//! O(m log n) for n nodes and m edges.
//!
//! It replaces `petgraph`'s `simple_fast` (Cooper, Harvey and Kennedy's iteration), which is quadratic on a deep
//! chain with back edges, such as a doubly linked list: every iteration moves the dominators one step along the
//! chain. Everything here is iterative (a million-long chain must not overflow the stack) and allocates only its
//! arrays, a few words per node and one per edge.

/// No node: the dominator of an unreachable node, the end of a bucket list and the ancestor of a tree root.
pub(crate) const NONE: u32 = u32::MAX;

/// A graph as the dominator computation reads it: node `n`'s edges are numbered by the cursors `cursors(n)`, and
/// `successor(n, c)` is the target of edge `c` if that edge counts. Nothing else is asked of it, so a caller can hand
/// its own edge arrays over without copying them into an edge list (the heap-snapshot analysis does).
pub(crate) trait DominatorGraph {
    /// The cursors of node `n`'s edges.
    fn cursors(&self, n: u32) -> std::ops::Range<u32>;
    /// The target of node `n`'s edge `c`, or `None` if the edge does not count.
    fn successor(&self, n: u32, c: u32) -> Option<u32>;
}

/// Calls `f` with every successor of `n`.
fn each_successor(graph: &impl DominatorGraph, n: u32, mut f: impl FnMut(u32)) {
    for c in graph.cursors(n) {
        if let Some(to) = graph.successor(n, c) {
            f(to);
        }
    }
}

/// The immediate dominator of every node of the graph with `nodes` nodes and `edges` (from, to), from `root`: the
/// root's is itself, an unreachable node's is [`NONE`]. Repeated edges and self-loops are allowed.
pub(crate) fn immediate_dominators(nodes: usize, edges: &[(u32, u32)], root: u32) -> Vec<u32> {
    dominators_of(nodes, root, &Csr::new(nodes, edges.iter().copied()))
}

/// The immediate dominator of each of `nodes` nodes of `graph` from `root` (the root's is itself, an unreached
/// node's [`NONE`]). Only the predecessor lists of the reached nodes are built, numbered in depth-first preorder: a
/// few words per node and one per edge.
pub(crate) fn dominators_of(nodes: usize, root: u32, graph: &impl DominatorGraph) -> Vec<u32> {
    // Depth-first preorder from the root, iterative: a stack of (node, cursor).
    let mut pre = vec![NONE; nodes];
    let mut vertex: Vec<u32> = Vec::with_capacity(nodes);
    let mut parent: Vec<u32> = Vec::with_capacity(nodes);
    let mut stack: Vec<(u32, u32)> = Vec::new();
    pre[root as usize] = 0;
    vertex.push(root);
    parent.push(NONE);
    stack.push((root, graph.cursors(root).start));
    while let Some(top) = stack.last_mut() {
        let (n, c) = *top;
        if c == graph.cursors(n).end {
            stack.pop();
            continue;
        }
        top.1 += 1;
        let Some(to) = graph.successor(n, c) else { continue };
        if pre[to as usize] == NONE {
            pre[to as usize] = vertex.len() as u32;
            parent.push(pre[n as usize]);
            vertex.push(to);
            stack.push((to, graph.cursors(to).start));
        }
    }
    drop(stack);
    let reached = vertex.len();

    // Predecessors of the reached nodes, by preorder number, as one array.
    let mut start = vec![0u32; reached + 1];
    for &v in &vertex {
        each_successor(graph, v, |to| {
            let w = pre[to as usize];
            if w != NONE {
                start[w as usize + 1] += 1;
            }
        });
    }
    for i in 0..reached {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut preds = vec![0u32; start[reached] as usize];
    for (i, &v) in vertex.iter().enumerate() {
        each_successor(graph, v, |to| {
            let w = pre[to as usize];
            if w != NONE {
                preds[fill[w as usize] as usize] = i as u32;
                fill[w as usize] += 1;
            }
        });
    }
    drop(fill);

    let mut semi: Vec<u32> = (0..reached as u32).collect();
    let mut label: Vec<u32> = (0..reached as u32).collect();
    let mut ancestor = vec![NONE; reached];
    let mut idom = vec![NONE; reached];
    let mut bucket = vec![NONE; reached];
    let mut next_in_bucket = vec![NONE; reached];
    let mut path: Vec<u32> = Vec::new();
    let mut eval = |v: u32, semi: &[u32], label: &mut [u32], ancestor: &mut [u32]| -> u32 {
        if ancestor[v as usize] == NONE {
            return v;
        }
        let mut x = v;
        while ancestor[ancestor[x as usize] as usize] != NONE {
            path.push(x);
            x = ancestor[x as usize];
        }
        while let Some(y) = path.pop() {
            let a = ancestor[y as usize] as usize;
            if semi[label[a] as usize] < semi[label[y as usize] as usize] {
                label[y as usize] = label[a];
            }
            ancestor[y as usize] = ancestor[a];
        }
        label[v as usize]
    };
    for w in (1..reached).rev() {
        for &v in &preds[start[w] as usize..start[w + 1] as usize] {
            let u = eval(v, &semi, &mut label, &mut ancestor);
            if semi[u as usize] < semi[w] {
                semi[w] = semi[u as usize];
            }
        }
        let s = semi[w] as usize;
        next_in_bucket[w] = bucket[s];
        bucket[s] = w as u32;
        let p = parent[w];
        ancestor[w] = p;
        let mut v = std::mem::replace(&mut bucket[p as usize], NONE);
        while v != NONE {
            let u = eval(v, &semi, &mut label, &mut ancestor);
            idom[v as usize] = if semi[u as usize] < semi[v as usize] { u } else { p };
            v = next_in_bucket[v as usize];
        }
    }
    for w in 1..reached {
        if idom[w] != semi[w] {
            idom[w] = idom[idom[w] as usize];
        }
    }
    let mut result = vec![NONE; nodes];
    result[root as usize] = root;
    for w in 1..reached {
        result[vertex[w] as usize] = vertex[idom[w] as usize];
    }
    result
}

/// Adjacency lists as one array: the targets of node `n` are `targets[start[n]..start[n + 1]]`, in edge order.
struct Csr {
    start: Vec<u32>,
    targets: Vec<u32>,
}

impl Csr {
    fn new(nodes: usize, edges: impl Iterator<Item = (u32, u32)> + Clone) -> Csr {
        let mut start = vec![0u32; nodes + 1];
        for (from, _) in edges.clone() {
            start[from as usize + 1] += 1;
        }
        for n in 0..nodes {
            start[n + 1] += start[n];
        }
        let mut fill = start.clone();
        let mut targets = vec![0u32; start[nodes] as usize];
        for (from, to) in edges {
            targets[fill[from as usize] as usize] = to;
            fill[from as usize] += 1;
        }
        Csr { start, targets }
    }
}

impl DominatorGraph for Csr {
    fn cursors(&self, n: u32) -> std::ops::Range<u32> {
        self.start[n as usize]..self.start[n as usize + 1]
    }

    fn successor(&self, _: u32, c: u32) -> Option<u32> {
        Some(self.targets[c as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether each node is reachable from `root` without entering `removed`.
    fn reachable(nodes: usize, edges: &[(u32, u32)], root: u32, removed: Option<u32>) -> Vec<bool> {
        let mut seen = vec![false; nodes];
        if removed == Some(root) {
            return seen;
        }
        seen[root as usize] = true;
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            for &(from, to) in edges {
                if from == n && Some(to) != removed && !seen[to as usize] {
                    seen[to as usize] = true;
                    stack.push(to);
                }
            }
        }
        seen
    }

    /// The naive oracle: `d` strictly dominates `v` iff `v` is unreachable once `d` is removed. Checks that the
    /// strict dominators of every reachable node are exactly its ancestors in the computed tree.
    fn check(nodes: usize, edges: &[(u32, u32)], root: u32) {
        let idom = immediate_dominators(nodes, edges, root);
        let live = reachable(nodes, edges, root, None);
        let without: Vec<Vec<bool>> = (0..nodes as u32).map(|d| reachable(nodes, edges, root, Some(d))).collect();
        for v in 0..nodes {
            if !live[v] {
                assert_eq!(idom[v], NONE, "node {v} is unreachable");
                continue;
            }
            let oracle: Vec<u32> = (0..nodes as u32).filter(|&d| d as usize != v && !without[d as usize][v]).collect();
            let mut ancestors = Vec::new();
            let mut n = v as u32;
            while n != root {
                n = idom[n as usize];
                ancestors.push(n);
            }
            ancestors.sort_unstable();
            assert_eq!(ancestors, oracle, "strict dominators of {v} in {edges:?}");
        }
        assert_eq!(idom[root as usize], root);
    }

    #[test]
    fn a_diamond_and_a_loop() {
        // 0 -> 1 -> {2, 3} -> 4 -> 5 -> 4
        check(6, &[(0, 1), (1, 2), (1, 3), (2, 4), (3, 4), (4, 5), (5, 4)], 0);
        assert_eq!(immediate_dominators(3, &[(0, 1), (1, 1)], 0), [0, 0, NONE]);
    }

    #[test]
    fn a_million_long_doubly_linked_ring_does_not_overflow_the_stack() {
        let n = 1_000_000u32;
        let mut edges: Vec<(u32, u32)> = (0..n - 1).flat_map(|i| [(i, i + 1), (i + 1, i)]).collect();
        edges.push((n - 1, 0));
        let idom = immediate_dominators(n as usize, &edges, 0);
        assert!(idom.iter().enumerate().skip(1).all(|(i, &d)| d as usize == i - 1));
    }

    proptest::proptest! {
        /// Random graphs, and chains with random back and forward edges (where Cooper, Harvey and Kennedy's
        /// iteration needs many rounds), against the oracle.
        #[test]
        fn dominators_agree_with_removal(
            nodes in 1usize..24,
            edges in proptest::collection::vec((0u32..24, 0u32..24), 0..60),
            chain in proptest::bool::ANY,
        ) {
            let mut edges: Vec<(u32, u32)> =
                edges.into_iter().map(|(a, b)| (a % nodes as u32, b % nodes as u32)).collect();
            if chain {
                edges.extend((1..nodes as u32).map(|i| (i - 1, i)));
            }
            check(nodes, &edges, 0);
        }
    }
}
