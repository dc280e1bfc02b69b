//! Storage for the reference slots of all objects.
//!
//! Every object's slots are a contiguous run in one arena, so an object costs no separate allocation and a slot
//! has a stable global index: the remembered set records those indices, as V8's `SlotSet` records slot addresses.
//! Runs freed by the collector are kept on per-length free lists and reused by later objects.

use crate::object::ObjectId;

/// Runs shorter than this have a free list of their own; longer runs share one list, reused only by a run of
/// exactly the same length.
const SMALL_RUN_LIMIT: usize = 64;

/// The arena of reference slots.
#[derive(Debug, Default)]
pub(crate) struct SlotArena {
    slots: Vec<Option<ObjectId>>,
    /// `small_free[n]`: starts of free runs of exactly `n` slots.
    small_free: Vec<Vec<u32>>,
    /// Free runs of `SMALL_RUN_LIMIT` slots or more, as `(start, len)`.
    large_free: Vec<(u32, u32)>,
}

impl SlotArena {
    /// Reserves `count` empty slots and returns the index of the first (0 when `count` is 0).
    pub fn allocate(&mut self, count: u32) -> u32 {
        if count == 0 {
            return 0;
        }
        let n = count as usize;
        if n < SMALL_RUN_LIMIT {
            if let Some(start) = self.small_free.get_mut(n).and_then(Vec::pop) {
                return start;
            }
        } else if let Some(i) = self.large_free.iter().position(|&(_, len)| len == count) {
            return self.large_free.swap_remove(i).0;
        }
        let start = self.slots.len();
        assert!(start + n <= u32::MAX as usize, "more than 2^32 reference slots in the simulated heap");
        self.slots.resize(start + n, None);
        start as u32
    }

    /// Returns a run to the arena, clearing it.
    pub fn free(&mut self, start: u32, count: u32) {
        if count == 0 {
            return;
        }
        self.run_mut(start, count).fill(None);
        let n = count as usize;
        if n < SMALL_RUN_LIMIT {
            if self.small_free.len() <= n {
                self.small_free.resize_with(n + 1, Vec::new);
            }
            self.small_free[n].push(start);
        } else {
            self.large_free.push((start, count));
        }
    }

    /// The slots of one object.
    #[inline]
    pub fn run(&self, start: u32, count: u32) -> &[Option<ObjectId>] {
        &self.slots[start as usize..(start + count) as usize]
    }

    /// The slots of one object, writable.
    #[inline]
    pub fn run_mut(&mut self, start: u32, count: u32) -> &mut [Option<ObjectId>] {
        &mut self.slots[start as usize..(start + count) as usize]
    }

    /// The value of the slot with global index `index`.
    #[inline]
    pub fn get(&self, index: u32) -> Option<ObjectId> {
        self.slots[index as usize]
    }

    /// Bytes of simulator memory held by the arena (for the memory benchmarks).
    pub fn footprint_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Option<ObjectId>>()
    }

    #[cfg(test)]
    /// Total number of slot indices handed out so far (the bound of every global slot index).
    pub fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_runs_are_reused_by_runs_of_the_same_length() {
        let mut arena = SlotArena::default();
        let a = arena.allocate(3);
        let b = arena.allocate(100);
        assert_eq!((a, b), (0, 3));
        arena.free(a, 3);
        arena.free(b, 100);
        assert_eq!(arena.allocate(3), a);
        assert_eq!(arena.allocate(100), b);
        assert_eq!(arena.allocate(2), 103, "a different length gets a fresh run");
        assert_eq!(arena.len(), 105);
    }

    #[test]
    fn freeing_clears_the_run() {
        let mut arena = SlotArena::default();
        let mut objects = slotmap::SlotMap::<ObjectId, ()>::with_key();
        let id = objects.insert(());
        let s = arena.allocate(2);
        arena.run_mut(s, 2)[1] = Some(id);
        arena.free(s, 2);
        let t = arena.allocate(2);
        assert_eq!(arena.run(t, 2), &[None, None]);
    }
}
