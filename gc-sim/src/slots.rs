//! Storage for the reference slots of all objects.
//!
//! Every object's slots are a contiguous run in one arena, so an object costs no separate allocation and a slot
//! has a stable global index: the remembered set records those indices, as V8's `SlotSet` records slot addresses.
//! Runs freed by the collector are kept on per-length free lists and reused by later objects.
//!
//! Short runs (most objects) have exact-length lists: one push and one pop. Long runs are kept by start and by
//! length: a free long run is merged with free neighbours, an allocation takes the smallest free run that fits and
//! frees the rest, and a free run at the end of the arena is extended rather than left behind. So objects of ever
//! different lengths that die reuse the same memory: the arena stays about the size of the largest live slots, not
//! of every long run ever allocated (20,000 dying objects of 64 to 20,063 slots used 1.6 GB).

use std::collections::{BTreeMap, BTreeSet};

use slotmap::SlotMap;

use crate::object::{HeapObject, ObjectId};

/// Runs shorter than this have a free list of their own; longer runs go to the merged free runs.
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
    /// Free runs from long runs (any length once split), by start: `start -> len`. Never adjacent to each other.
    large_by_start: BTreeMap<u32, u32>,
    /// The same runs by `(len, start)`, for the smallest that fits.
    large_by_len: BTreeSet<(u32, u32)>,
}

impl Default for SlotArena {
    fn default() -> Self {
        SlotArena {
            slots: Vec::new(),
            limit: MAX_SLOTS,
            small_free: Vec::new(),
            large_by_start: BTreeMap::new(),
            large_by_len: BTreeSet::new(),
        }
    }
}

impl SlotArena {
    /// Whether [`allocate`](Self::allocate) of `count` slots would succeed.
    #[inline]
    pub fn can_allocate(&self, count: u32) -> bool {
        let n = count as usize;
        if count == 0 || (n < SMALL_RUN_LIMIT && self.small_free.get(n).is_some_and(|free| !free.is_empty())) {
            return true;
        }
        if n >= SMALL_RUN_LIMIT && self.large_by_len.range((count, 0)..).next().is_some() {
            return true;
        }
        let start = if n >= SMALL_RUN_LIMIT { self.trailing_free_start() } else { self.slots.len() as u64 };
        start + u64::from(count) <= self.limit
    }

    /// Whether any sequence of allocations of `total` slots in all would succeed (they fit after the arena's end).
    pub fn can_allocate_total(&self, total: u32) -> bool {
        self.slots.len() as u64 + u64::from(total) <= self.limit
    }

    /// Where a new long run at the end of the arena starts: at the free run that ends the arena, if any.
    fn trailing_free_start(&self) -> u64 {
        match self.large_by_start.last_key_value() {
            Some((&start, &len)) if u64::from(start) + u64::from(len) == self.slots.len() as u64 => u64::from(start),
            _ => self.slots.len() as u64,
        }
    }

    fn insert_large(&mut self, start: u32, len: u32) {
        self.large_by_start.insert(start, len);
        self.large_by_len.insert((len, start));
    }

    fn remove_large(&mut self, start: u32, len: u32) {
        self.large_by_start.remove(&start);
        self.large_by_len.remove(&(len, start));
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
        } else if let Some(&(len, start)) = self.large_by_len.range((count, 0)..).next() {
            self.remove_large(start, len);
            if len > count {
                // The rest stays free; its right neighbour is not free (free runs are merged).
                self.insert_large(start + count, len - count);
            }
            return Some(start);
        }
        let start = if n >= SMALL_RUN_LIMIT { self.trailing_free_start() } else { self.slots.len() as u64 };
        if start + u64::from(count) > self.limit {
            return None;
        }
        if start < self.slots.len() as u64 {
            let len = self.large_by_start[&(start as u32)];
            self.remove_large(start as u32, len);
        }
        self.slots.resize(start as usize + n, None);
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
            return;
        }
        let (mut start, mut len) = (start, u64::from(count));
        if let Some((&before, &before_len)) = self.large_by_start.range(..start).next_back() {
            if u64::from(before) + u64::from(before_len) == u64::from(start) {
                self.remove_large(before, before_len);
                (start, len) = (before, len + u64::from(before_len));
            }
        }
        let end = u64::from(start) + len;
        if let Some(&after_len) = u32::try_from(end).ok().and_then(|end| self.large_by_start.get(&end)) {
            self.remove_large(end as u32, after_len);
            len += u64::from(after_len);
        }
        // Merged runs lie inside the arena, whose indices are below 2^32.
        self.insert_large(start, len as u32);
    }

    /// The slots of one object.
    #[inline]
    pub fn run(&self, start: u32, count: u32) -> &[Option<ObjectId>] {
        &self.slots[start as usize..start as usize + count as usize]
    }

    /// The slots of one object, writable.
    #[inline]
    pub fn run_mut(&mut self, start: u32, count: u32) -> &mut [Option<ObjectId>] {
        &mut self.slots[start as usize..start as usize + count as usize]
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

/// Frees the header and the slots of an object.
#[inline]
pub(crate) fn free_object(objects: &mut SlotMap<ObjectId, HeapObject>, slots: &mut SlotArena, id: ObjectId) {
    if let Some(o) = objects.remove(id) {
        slots.free(o.slot_start, o.slot_count);
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

    /// Long runs of ever different lengths, each freed before the next, used to be kept apart, one per length:
    /// 20,000 dying objects of 64 to 20,063 slots grew the arena to 200 M slots (1.6 GB). Merged and reused, the
    /// arena stays the size of the largest.
    #[test]
    fn dying_long_runs_of_different_lengths_reuse_the_same_slots() {
        let mut arena = SlotArena::default();
        for count in 64..20_064 {
            let start = arena.allocate(count).unwrap();
            arena.free(start, count);
        }
        assert_eq!(arena.len(), 20_063);
        // Decreasing lengths split the free run and merge back.
        for count in (64..1_000).rev() {
            let a = arena.allocate(count).unwrap();
            let b = arena.allocate(count).unwrap();
            arena.free(a, count);
            arena.free(b, count);
        }
        assert_eq!(arena.len(), 20_063);
        assert_eq!((arena.large_by_start.len(), arena.large_by_len.len()), (1, 1), "merged into one run");
    }

    /// Random allocations and frees of short and long runs: live runs never overlap, freed slots read empty, and
    /// the arena stays within twice the most slots live at once plus the longest run.
    #[test]
    fn random_runs_never_overlap() {
        let mut arena = SlotArena::default();
        let mut objects = slotmap::SlotMap::<ObjectId, ()>::with_key();
        let marker = objects.insert(());
        let mut live: Vec<(u32, u32)> = Vec::new();
        let (mut most_live, mut live_slots) = (0u64, 0u64);
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        for _ in 0..20_000 {
            if live.len() < 50 || next() % 2 == 0 {
                let count = if next() % 3 == 0 { next() % 40 } else { 64 + next() % 3000 };
                let start = arena.allocate(count).unwrap();
                assert!(arena.run(start, count).iter().all(Option::is_none), "a fresh run is empty");
                arena.run_mut(start, count).fill(Some(marker));
                live.push((start, count));
                live_slots += u64::from(count);
                most_live = most_live.max(live_slots);
            } else {
                let (start, count) = live.swap_remove(next() as usize % live.len());
                arena.free(start, count);
                live_slots -= u64::from(count);
            }
        }
        live.sort_unstable();
        assert!(live.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0), "overlapping runs");
        assert!(live.iter().all(|&(s, c)| arena.run(s, c).iter().all(|v| *v == Some(marker))));
        assert!((arena.len() as u64) <= 2 * most_live + 3064, "{} slots for at most {most_live} live", arena.len());
    }
}
