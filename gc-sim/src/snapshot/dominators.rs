//! The snapshot's retaining edges as a [`DominatorGraph`], for the one Lengauer-Tarjan of
//! `crate::analysis::dominators`: the successors come from the snapshot's own edge columns (filtered by the caller),
//! so a snapshot of 2.5 M edges needs 4 bytes per retaining edge (the predecessor lists) instead of 16 (an edge list
//! of pairs and two adjacency copies). The algorithm's tests (a removal oracle on random graphs) are there; the
//! snapshot tests compare the result with DevTools' rules.

use crate::analysis::dominators::DominatorGraph;

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
}

impl<T: Fn(u32) -> u32, K: Fn(u32, u32) -> bool> DominatorGraph for Successors<'_, T, K> {
    fn cursors(&self, n: u32) -> std::ops::Range<u32> {
        self.first_edge[n as usize]..self.end(n)
    }

    fn successor(&self, n: u32, c: u32) -> Option<u32> {
        self.at(n, c)
    }
}
