//! Immediate dominators over a graph given as a successor function, without an edge list: the same simple
//! Lengauer-Tarjan as `crate::dominators` (path compression, no balanced linking, iterative), but the successors
//! come from the snapshot's own edge columns (filtered by the caller) and only the predecessor lists are built, so
//! a snapshot of 2.5 M edges needs 4 bytes per retaining edge here instead of 16 (an edge list of pairs and two
//! adjacency copies). `crate::dominators`' tests (a removal oracle on random graphs) cover the algorithm; the
//! snapshot tests compare the result with DevTools' rules.

use crate::analysis::dominators::NONE;

/// The edges of a graph as the snapshot holds them: node `n`'s edges are `first_edge[n]..first_edge[n + 1]`,
/// `target(e)` is edge `e`'s target, `keep(n, e)` says whether it counts; the root also has edges to `extra_root`.
pub(crate) struct Successors<'a, T, K> {
    pub first_edge: &'a [u32],
    pub target: T,
    pub keep: K,
    pub root: u32,
    pub extra_root: &'a [u32],
}

impl<T: Fn(u32) -> u32, K: Fn(u32, u32) -> bool> Successors<'_, T, K> {
    /// The end of node `n`'s cursor range: its edges, then (for the root) its extra edges.
    fn end(&self, n: u32) -> u32 {
        let end = self.first_edge[n as usize + 1];
        if n == self.root {
            end + self.extra_root.len() as u32
        } else {
            end
        }
    }

    /// The successor at cursor `c` of node `n`, if that edge counts.
    fn at(&self, n: u32, c: u32) -> Option<u32> {
        let end = self.first_edge[n as usize + 1];
        if c >= end {
            return Some(self.extra_root[(c - end) as usize]);
        }
        (self.keep)(n, c).then(|| (self.target)(c))
    }

    fn each(&self, n: u32, mut f: impl FnMut(u32)) {
        for c in self.first_edge[n as usize]..self.end(n) {
            if let Some(to) = self.at(n, c) {
                f(to);
            }
        }
    }
}

/// The immediate dominator of each of `nodes` nodes from `graph.root` (the root's is itself, an unreached node's
/// [`NONE`]).
pub(crate) fn immediate_dominators<T: Fn(u32) -> u32, K: Fn(u32, u32) -> bool>(
    nodes: usize,
    graph: &Successors<'_, T, K>,
) -> Vec<u32> {
    let root = graph.root;
    // Depth-first preorder from the root, iterative: a stack of (node, cursor).
    let mut pre = vec![NONE; nodes];
    let mut vertex: Vec<u32> = Vec::with_capacity(nodes);
    let mut parent: Vec<u32> = Vec::with_capacity(nodes);
    let mut stack: Vec<(u32, u32)> = Vec::new();
    pre[root as usize] = 0;
    vertex.push(root);
    parent.push(NONE);
    stack.push((root, graph.first_edge[root as usize]));
    while let Some(top) = stack.last_mut() {
        let (n, c) = *top;
        if c == graph.end(n) {
            stack.pop();
            continue;
        }
        top.1 += 1;
        let Some(to) = graph.at(n, c) else { continue };
        if pre[to as usize] == NONE {
            pre[to as usize] = vertex.len() as u32;
            parent.push(pre[n as usize]);
            vertex.push(to);
            stack.push((to, graph.first_edge[to as usize]));
        }
    }
    drop(stack);
    let reached = vertex.len();

    // Predecessors of the reached nodes, by preorder number, as one array.
    let mut start = vec![0u32; reached + 1];
    for &v in &vertex {
        graph.each(v, |to| {
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
        graph.each(v, |to| {
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
