//! The backlog of dead young headers. Dead young objects cost nothing at scavenge time (as in V8, garbage is never
//! visited): a scavenge leaves its from-space's object list here, and the headers in it that did not survive are
//! reclaimed a few per allocation.

use slotmap::SlotMap;

use crate::object::{HeapObject, ObjectId};
use crate::slots::{free_object, SlotArena};

/// Object lists of past from-spaces whose dead headers are not yet reclaimed, and emptied lists kept for reuse.
#[derive(Debug, Default)]
pub(crate) struct DeadYoungHeaders {
    /// Object lists of past from-spaces, oldest first.
    waiting: Vec<Vec<ObjectId>>,
    /// Emptied object lists, reused as the next to-space's list so that a flip allocates nothing. A mark-compact,
    /// which empties new space, frees them instead.
    spare: Vec<Vec<ObjectId>>,
    /// How many headers in the slot map are dead young objects not yet reclaimed.
    dead: u64,
}

impl DeadYoungHeaders {
    /// A scavenge left `from_space`, whose objects include `dead` dead ones.
    pub fn push(&mut self, from_space: Vec<ObjectId>, dead: u64) {
        self.dead += dead;
        self.waiting.push(from_space);
    }

    /// An empty list for the next to-space (reused if one is spare).
    pub fn take_spare_list(&mut self) -> Vec<ObjectId> {
        self.spare.pop().unwrap_or_default()
    }

    /// Number of dead young headers still in the slot map.
    pub fn dead(&self) -> u64 {
        self.dead
    }

    /// Every list held, waiting or spare (for the footprint).
    pub fn lists(&self) -> impl Iterator<Item = &Vec<ObjectId>> {
        self.waiting.iter().chain(&self.spare)
    }

    /// Reclaims the headers of objects left dead in past from-spaces: one per allocation, two while the lists of
    /// more than one from-space wait, the oldest list first, each from its last object back.
    ///
    /// The slot map reuses the entry freed last, so the allocation that follows puts its header in the entry just
    /// reclaimed (one cache miss, not two), and allocations walk the dead headers in order, cycle after cycle. Two
    /// per allocation throughout would leave every other entry on the slot map's free list, to be reused later in
    /// reverse, and shuffle the order a little more each cycle until every reuse is a miss. Going oldest first,
    /// the few entries a cycle leaves behind are cleared within a few allocations of the next cycle, not at its
    /// end. The backlog stays under two semi-spaces' worth of objects.
    #[inline]
    pub fn reclaim_some(&mut self, objects: &mut SlotMap<ObjectId, HeapObject>, slots: &mut SlotArena, epoch: u32) {
        let mut budget = if self.waiting.len() > 1 { 2 } else { 1 };
        while budget > 0 {
            let Some(list) = self.waiting.first_mut() else { return };
            let next = list.pop();
            if list.is_empty() {
                // Put aside at once, so that `waiting.len()` counts the from-spaces whose headers still wait.
                let empty = self.waiting.remove(0);
                self.spare.push(empty);
            }
            let Some(id) = next else { continue };
            budget -= 1;
            self.reclaim_if_dead(objects, slots, epoch, id);
        }
    }

    /// Frees every dead header still waiting.
    pub fn reclaim_all(&mut self, objects: &mut SlotMap<ObjectId, HeapObject>, slots: &mut SlotArena, epoch: u32) {
        while let Some(mut list) = self.waiting.pop() {
            for id in list.drain(..) {
                self.reclaim_if_dead(objects, slots, epoch, id);
            }
            self.spare.push(list);
        }
    }

    /// A mark-compact freed every dead header and emptied new space: nothing waits, and the spare lists, each sized
    /// for a full semi-space, are freed rather than kept while new space holds nothing (the next scavenges grow new
    /// ones: a few allocations, once).
    pub fn clear_after_full_gc(&mut self) {
        self.waiting.clear();
        self.spare.clear();
        self.dead = 0;
    }

    /// Frees the header of `id`, taken from a past from-space's list, if it is a dead young object (it may have
    /// survived, or been freed already).
    #[inline]
    fn reclaim_if_dead(
        &mut self,
        objects: &mut SlotMap<ObjectId, HeapObject>,
        slots: &mut SlotArena,
        epoch: u32,
        id: ObjectId,
    ) {
        if matches!(objects.get(id), Some(o) if !o.is_live(epoch)) {
            free_object(objects, slots, id);
            self.dead -= 1;
        }
    }
}
