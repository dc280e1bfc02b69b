//! The OLD_TO_NEW remembered set and the generational write barrier.
//!
//! V8 records, for every old-generation page, a bitmap of the slots that may point into the young generation
//! (`RememberedSet<OLD_TO_NEW>` over `SlotSet`s). The scavenger treats those slots as roots, so a young object
//! reachable only from an old one survives. Here a slot is identified by its global index in the
//! [`SlotArena`](crate::slots::SlotArena); the set is a bitmap over those indices plus the list of recorded
//! indices, so inserting is O(1), duplicates are impossible and iteration does not scan the bitmap.

/// The set of old-generation slots that may hold young references.
#[derive(Debug, Default)]
pub(crate) struct RememberedSet {
    bits: Vec<u64>,
    slots: Vec<u32>,
}

impl RememberedSet {
    /// Records `slot` (V8's `RememberedSet<OLD_TO_NEW>::Insert`).
    #[inline]
    pub fn insert(&mut self, slot: u32) {
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & bit == 0 {
            self.bits[word] |= bit;
            self.slots.push(slot);
        }
    }

    /// Whether `slot` is recorded.
    #[inline]
    pub fn contains(&self, slot: u32) -> bool {
        self.bits.get(slot as usize / 64).is_some_and(|w| w & (1u64 << (slot % 64)) != 0)
    }

    /// Number of recorded slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Takes every recorded slot out of the set (the set is empty afterwards). The scavenger walks them and
    /// re-inserts those that still point into new space, dropping stale ones (V8's `KEEP_SLOT`/`REMOVE_SLOT`).
    pub fn drain(&mut self) -> Vec<u32> {
        for &slot in &self.slots {
            self.bits[slot as usize / 64] &= !(1u64 << (slot % 64));
        }
        std::mem::take(&mut self.slots)
    }

    /// Gives back the vector returned by [`drain`](Self::drain), so its capacity is reused.
    pub fn recycle(&mut self, mut buffer: Vec<u32>) {
        if self.slots.is_empty() {
            buffer.clear();
            self.slots = buffer;
        }
    }

    /// Forgets every slot (after a full GC, which leaves no young objects).
    pub fn clear(&mut self) {
        self.drain();
    }

    #[cfg(test)]
    /// Every recorded slot.
    pub fn slots(&self) -> &[u32] {
        &self.slots
    }

    /// Bytes of simulator memory held by the set.
    pub fn footprint_bytes(&self) -> usize {
        self.bits.capacity() * 8 + self.slots.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserting_twice_records_once() {
        let mut set = RememberedSet::default();
        set.insert(5);
        set.insert(5);
        set.insert(700);
        assert_eq!(set.slots(), &[5, 700]);
        assert!(set.contains(700) && !set.contains(6));
    }

    #[test]
    fn drain_empties_the_set_and_recycle_keeps_capacity() {
        let mut set = RememberedSet::default();
        set.insert(1);
        set.insert(2);
        let drained = set.drain();
        assert_eq!(drained, vec![1, 2]);
        assert_eq!(set.len(), 0);
        assert!(!set.contains(1));
        set.recycle(drained);
        set.insert(2);
        assert_eq!(set.slots(), &[2]);
    }
}
