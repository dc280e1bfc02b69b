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

/// The immediate dominator of every node of the graph with `nodes` nodes and `edges` (from, to), from `root`: the
/// root's is itself, an unreachable node's is [`NONE`]. Repeated edges and self-loops are allowed.
pub(crate) fn immediate_dominators(nodes: usize, edges: &[(u32, u32)], root: u32) -> Vec<u32> {
    let successors = Csr::new(nodes, edges.iter().map(|&(from, to)| (from, to)));
    let predecessors = Csr::new(nodes, edges.iter().map(|&(from, to)| (to, from)));

    // Depth-first preorder from the root: `vertex[i]` is the i-th node reached, `pre[node]` its number,
    // `parent[i]` the number of its depth-first parent. From here on, nodes are named by their numbers.
    let mut pre = vec![NONE; nodes];
    let mut vertex: Vec<u32> = Vec::with_capacity(nodes);
    let mut parent: Vec<u32> = Vec::with_capacity(nodes);
    let mut stack: Vec<(u32, u32)> = Vec::new();
    pre[root as usize] = 0;
    vertex.push(root);
    parent.push(NONE);
    stack.push((root, successors.start[root as usize]));
    while let Some(top) = stack.last_mut() {
        let (node, next) = *top;
        if next == successors.start[node as usize + 1] {
            stack.pop();
            continue;
        }
        top.1 += 1;
        let to = successors.targets[next as usize];
        if pre[to as usize] == NONE {
            pre[to as usize] = vertex.len() as u32;
            parent.push(pre[node as usize]);
            vertex.push(to);
            stack.push((to, successors.start[to as usize]));
        }
    }
    drop(stack);
    let reached = vertex.len();

    let mut semi: Vec<u32> = (0..reached as u32).collect();
    let mut label: Vec<u32> = (0..reached as u32).collect();
    let mut ancestor = vec![NONE; reached];
    let mut idom = vec![NONE; reached];
    // Buckets as linked lists: the nodes whose semidominator is `i`, from `bucket[i]` through `next_in_bucket`.
    let mut bucket = vec![NONE; reached];
    let mut next_in_bucket = vec![NONE; reached];
    let mut path: Vec<u32> = Vec::new();

    // The node of smallest semidominator on the forest path from `v` up to (not including) its forest root, with
    // path compression.
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
        for &from in predecessors.of(vertex[w]) {
            let v = pre[from as usize];
            if v == NONE {
                continue; // an edge from an unreachable node
            }
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
        // Every node whose semidominator is `p` now has its path from `p` in the forest.
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

    fn of(&self, node: u32) -> &[u32] {
        &self.targets[self.start[node as usize] as usize..self.start[node as usize + 1] as usize]
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
