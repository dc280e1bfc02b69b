//! Storage for the reference slots of all objects.
//!
//! Every object's slots are a contiguous run in one arena, so an object costs no separate allocation and a slot
//! has a stable global index: the remembered set records those indices, as V8's `SlotSet` records slot addresses.
//! Runs freed by the collector are kept on per-length free lists and reused by later objects.

use crate::object::ObjectId;

/// Runs shorter than this have a free list of their own; longer runs share one list, reused only by a run of
/// exactly the same length.
const SMALL_RUN_LIMIT: usize = 64;

/// Most slot indices the arena hands out: indices are `u32`.
const MAX_SLOTS: u64 = 1 << 32;

/// The arena of reference slots.
#[derive(Debug)]
pub(crate) struct SlotArena {
    slots: Vec<Option<ObjectId>>,
    /// Most slot indices handed out ([`MAX_SLOTS`]; lower in tests).
    limit: u64,
    /// `small_free[n]`: starts of free runs of exactly `n` slots.
    small_free: Vec<Vec<u32>>,
    /// Free runs of `SMALL_RUN_LIMIT` slots or more, as `(start, len)`.
    large_free: Vec<(u32, u32)>,
}

impl Default for SlotArena {
    fn default() -> Self {
        SlotArena { slots: Vec::new(), limit: MAX_SLOTS, small_free: Vec::new(), large_free: Vec::new() }
    }
}

impl SlotArena {
    /// Whether [`allocate`](Self::allocate) of `count` slots would succeed.
    pub fn can_allocate(&self, count: u32) -> bool {
        let n = count as usize;
        count == 0
            || self.slots.len() as u64 + u64::from(count) <= self.limit
            || (n < SMALL_RUN_LIMIT && self.small_free.get(n).is_some_and(|free| !free.is_empty()))
            || (n >= SMALL_RUN_LIMIT && self.large_free.iter().any(|&(_, len)| len == count))
    }

    /// Reserves `count` empty slots and returns the index of the first (0 when `count` is 0), or `None` when the
    /// arena is full (2^32 slot indices handed out and no free run of that length).
    pub fn allocate(&mut self, count: u32) -> Option<u32> {
        if count == 0 {
            return Some(0);
        }
        let n = count as usize;
        if n < SMALL_RUN_LIMIT {
            if let Some(start) = self.small_free.get_mut(n).and_then(Vec::pop) {
                return Some(start);
            }
        } else if let Some(i) = self.large_free.iter().position(|&(_, len)| len == count) {
            return Some(self.large_free.swap_remove(i).0);
        }
        let start = self.slots.len();
        if start as u64 + u64::from(count) > self.limit {
            return None;
        }
        self.slots.resize(start + n, None);
        Some(start as u32)
    }

    /// Slot indices handed out so far.
    pub fn in_use(&self) -> u64 {
        self.slots.len() as u64
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

    /// Lowers the number of slot indices the arena may hand out, to test its exhaustion without 32 GiB.
    #[cfg(test)]
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_runs_are_reused_by_runs_of_the_same_length() {
        let mut arena = SlotArena::default();
        let a = arena.allocate(3).unwrap();
        let b = arena.allocate(100).unwrap();
        assert_eq!((a, b), (0, 3));
        arena.free(a, 3);
        arena.free(b, 100);
        assert_eq!(arena.allocate(3), Some(a));
        assert_eq!(arena.allocate(100), Some(b));
        assert_eq!(arena.allocate(2), Some(103), "a different length gets a fresh run");
        assert_eq!(arena.len(), 105);
    }

    #[test]
    fn freeing_clears_the_run() {
        let mut arena = SlotArena::default();
        let mut objects = slotmap::SlotMap::<ObjectId, ()>::with_key();
        let id = objects.insert(());
        let s = arena.allocate(2).unwrap();
        arena.run_mut(s, 2)[1] = Some(id);
        arena.free(s, 2);
        let t = arena.allocate(2).unwrap();
        assert_eq!(arena.run(t, 2), &[None, None]);
    }

    #[test]
    fn a_full_arena_refuses_instead_of_panicking() {
        let mut arena = SlotArena::default();
        arena.set_limit(10);
        assert_eq!(arena.allocate(6), Some(0));
        assert!(!arena.can_allocate(5));
        assert_eq!(arena.allocate(5), None);
        assert_eq!(arena.allocate(4), Some(6));
        arena.free(0, 6);
        assert!(arena.can_allocate(6), "a free run of the same length is reused");
        assert_eq!(arena.allocate(6), Some(0));
    }
}
