//! Heap verification (V8's `heap-verifier.cc`): checks every invariant the collectors rely on and reports each
//! violation with the object it concerns.

use std::fmt;

use crate::heap::Heap;
use crate::object::{ObjectId, Space};

/// One broken heap invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A root set holds a handle to a freed object.
    DanglingRoot {
        /// The root set.
        root: String,
        /// The freed object.
        object: ObjectId,
    },
    /// An open handle scope holds a freed object.
    DanglingScopeHandle {
        /// The freed object.
        object: ObjectId,
    },
    /// A live object's slot points to a freed object.
    DanglingSlot {
        /// The object holding the slot.
        host: ObjectId,
        /// The slot index.
        slot: u32,
        /// The freed target.
        target: ObjectId,
    },
    /// An old-generation slot points to a young object but is not in the OLD_TO_NEW remembered set.
    MissingRememberedSlot {
        /// The old object.
        host: ObjectId,
        /// The slot index.
        slot: u32,
        /// The young target.
        target: ObjectId,
    },
    /// A space's counters disagree with its objects.
    SpaceAccounting {
        /// The space.
        space: Space,
        /// The counter (`used_bytes` or `objects`).
        counter: &'static str,
        /// What the counter says.
        recorded: u64,
        /// What the objects add up to.
        actual: u64,
    },
    /// An old-space page's live bytes disagree with its objects.
    PageAccounting {
        /// The page.
        page: u32,
        /// What the page records.
        recorded: u64,
        /// What its objects add up to.
        actual: u64,
    },
    /// Free-list blocks do not add up to the free list's available bytes.
    FreeListAccounting {
        /// What the free list records.
        recorded: u64,
        /// Sum of its blocks.
        actual: u64,
    },
    /// An object lies outside its page's allocatable area, or on a page that is not in use.
    OutsidePage {
        /// The object.
        object: ObjectId,
    },
    /// Two objects, or an object and a free block, overlap in memory.
    Overlap {
        /// The space.
        space: Space,
        /// The page.
        page: u32,
        /// Offset where the overlap starts.
        offset: u32,
    },
    /// To-space's object list holds an object that is not a live new-space object.
    NurseryOrder {
        /// The object.
        object: ObjectId,
    },
    /// A new-space object's age disagrees with the age mark (survivors lie below it, new objects above it), or it
    /// is older than the promotion age.
    AgeMark {
        /// The object.
        object: ObjectId,
        /// Its age.
        age: u8,
    },
    /// An object is still marked outside a mark-compact and outside an incremental marking cycle.
    StaleMark {
        /// The object.
        object: ObjectId,
    },
    /// While incremental marking runs, a marked object that is not on the marking worklist (black: its references
    /// were visited) references an unmarked live object: the marking barrier or black allocation failed, and the
    /// finalizing mark-compact could free a reachable object.
    BlackToWhite {
        /// The black object.
        host: ObjectId,
        /// The unmarked object it references.
        object: ObjectId,
    },
    /// The count of dead young headers awaiting reclamation is wrong.
    UnreclaimedCount {
        /// What the heap records.
        recorded: u64,
        /// What the slot map holds.
        actual: u64,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// The result of [`Heap::verify`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Every violation found (empty for a healthy heap).
    pub violations: Vec<Violation>,
}

impl VerifyReport {
    /// Whether no invariant is broken.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return write!(f, "heap verified: no violations");
        }
        writeln!(f, "{} heap violation(s):", self.violations.len())?;
        for v in &self.violations {
            writeln!(f, "  {v}")?;
        }
        Ok(())
    }
}

impl Heap {
    /// Checks the heap's invariants: no dangling handles or slots, remembered-set completeness, per-space and
    /// per-page byte accounting, free-list accounting (a free block on a released page is reported as an
    /// [`Violation::Overlap`]), no overlapping objects, the to-space object list and the age mark, no stale
    /// mark bits, and while incremental marking runs, no black object referencing a white one. Costs O(n log n) in the number of objects; meant for tests.
    pub fn verify(&self) -> VerifyReport {
        let mut v = Vec::new();
        self.verify_handles(&mut v);
        self.verify_objects(&mut v);
        self.verify_nursery(&mut v);
        self.verify_old_space_layout(&mut v);
        self.verify_marking(&mut v);
        VerifyReport { violations: v }
    }

    /// The tri-colour invariant of incremental marking: no black object references a white live one.
    fn verify_marking(&self, v: &mut Vec<Violation>) {
        if !self.marking.is_active() {
            return;
        }
        let grey: std::collections::HashSet<ObjectId> = self.marking.worklist().iter().copied().collect();
        for (host, o) in &self.objects {
            if !(self.is_live_header(o) && o.is_marked()) || grey.contains(&host) {
                continue;
            }
            for object in self.slots.run(o.slot_start, o.slot_count).iter().flatten() {
                if self.objects.get(*object).is_some_and(|t| self.is_live_header(t) && !t.is_marked()) {
                    v.push(Violation::BlackToWhite { host, object: *object });
                }
            }
        }
    }

    fn verify_handles(&self, v: &mut Vec<Violation>) {
        for (name, handles) in self.root_sets() {
            for (object, _) in handles {
                if !self.is_alive(object) {
                    v.push(Violation::DanglingRoot { root: name.to_owned(), object });
                }
            }
        }
        for &object in self.scopes.handles() {
            if !self.is_alive(object) {
                v.push(Violation::DanglingScopeHandle { object });
            }
        }
    }

    fn verify_objects(&self, v: &mut Vec<Violation>) {
        // Index: New, NewLargeObject, Old, LargeObject.
        let index = |s: Space| match s {
            Space::New => 0,
            Space::NewLargeObject => 1,
            Space::Old => 2,
            Space::LargeObject => 3,
        };
        let mut bytes = [0u64; 4];
        let mut counts = [0u64; 4];
        let mut dead_headers = 0u64;
        let mut page_bytes = vec![0u64; self.old_space.pages.len()];
        for (id, o) in &self.objects {
            if !self.is_live_header(o) {
                dead_headers += 1;
                continue;
            }
            bytes[index(o.space())] += u64::from(o.size);
            counts[index(o.space())] += 1;
            if o.is_marked() && !self.marking.is_active() {
                v.push(Violation::StaleMark { object: id });
            }
            if o.space() == Space::Old {
                match page_bytes.get_mut(o.address.page as usize) {
                    Some(b) if self.old_space.pages[o.address.page as usize].in_use => *b += u64::from(o.size),
                    _ => v.push(Violation::OutsidePage { object: id }),
                }
            }
            let geometry = self.config.page;
            let outside = matches!(o.space(), Space::New | Space::Old)
                && (o.address.offset < geometry.area_start
                    || u64::from(o.address.offset) + u64::from(o.size) > u64::from(geometry.area_end()));
            if outside {
                v.push(Violation::OutsidePage { object: id });
            }
            for (slot, target) in self.slots.run(o.slot_start, o.slot_count).iter().enumerate() {
                let Some(target) = *target else { continue };
                let slot = slot as u32;
                match self.live(target) {
                    Err(_) => v.push(Violation::DanglingSlot { host: id, slot, target }),
                    Ok(t) => {
                        if !o.space().is_young()
                            && t.space().is_young()
                            && !self.remembered_set.contains(o.slot_start + slot)
                        {
                            v.push(Violation::MissingRememberedSlot { host: id, slot, target });
                        }
                    }
                }
            }
        }
        let usage = self.usage();
        let recorded = [usage.new_space, usage.new_large_object_space, usage.old_space, usage.large_object_space];
        for (i, space) in [Space::New, Space::NewLargeObject, Space::Old, Space::LargeObject].into_iter().enumerate() {
            // New space counts every object allocated since the last scavenge (V8's SizeOfObjects); all of them
            // are live headers until a scavenge proves otherwise, so the counts must agree exactly.
            for (counter, recorded, actual) in
                [("used_bytes", recorded[i].used_bytes, bytes[i]), ("objects", recorded[i].objects, counts[i])]
            {
                if recorded != actual {
                    v.push(Violation::SpaceAccounting { space, counter, recorded, actual });
                }
            }
        }
        for (page, &actual) in page_bytes.iter().enumerate() {
            let recorded = u64::from(self.old_space.pages[page].live_bytes);
            if recorded != actual {
                v.push(Violation::PageAccounting { page: page as u32, recorded, actual });
            }
        }
        if dead_headers != self.dead_young.dead() {
            v.push(Violation::UnreclaimedCount { recorded: self.dead_young.dead(), actual: dead_headers });
        }
    }

    fn verify_nursery(&self, v: &mut Vec<Violation>) {
        let age_mark = self.new_space.age_mark;
        let mut extents = Vec::with_capacity(self.new_space.objects.len());
        for &id in &self.new_space.objects {
            let o = match self.live(id) {
                Ok(o) if o.space() == Space::New => o,
                _ => {
                    v.push(Violation::NurseryOrder { object: id });
                    continue;
                }
            };
            extents.push((o.address.page, o.address.offset, o.size));
            let below_mark = (o.address.page, o.address.offset) < (age_mark.page, age_mark.offset);
            if below_mark != (o.age() >= 1) || o.age() > self.config.promotion_age {
                v.push(Violation::AgeMark { object: id, age: o.age() });
            }
        }
        // Survivor LABs and individually copied large survivors interleave, so the list is not in address order;
        // the objects must still not overlap.
        report_overlaps(&mut extents, Space::New, v);
    }

    fn verify_old_space_layout(&self, v: &mut Vec<Violation>) {
        let free = &self.old_space.free_list;
        let actual: u64 = free.blocks().map(|b| u64::from(b.size)).sum();
        if actual != free.available_bytes() {
            v.push(Violation::FreeListAccounting { recorded: free.available_bytes(), actual });
        }
        // Objects and free blocks of a page must not overlap.
        let mut intervals: Vec<(u32, u32, u32)> = self
            .objects
            .values()
            .filter(|o| o.space() == Space::Old)
            .map(|o| (o.address.page, o.address.offset, o.size))
            .chain(free.blocks().map(|b| (b.page, b.offset, b.size)))
            .collect();
        report_overlaps(&mut intervals, Space::Old, v);
        for b in free.blocks() {
            if !self.old_space.pages.get(b.page as usize).is_some_and(|p| p.in_use) {
                v.push(Violation::Overlap { space: Space::Old, page: b.page, offset: b.offset });
            }
        }
    }
}

/// Sorts `(page, offset, size)` extents and reports every one that starts before its predecessor ends.
fn report_overlaps(extents: &mut [(u32, u32, u32)], space: Space, v: &mut Vec<Violation>) {
    extents.sort_unstable();
    for pair in extents.windows(2) {
        let ((page_a, start_a, size_a), (page_b, start_b, _)) = (pair[0], pair[1]);
        if page_a == page_b && start_a + size_a > start_b {
            v.push(Violation::Overlap { space, page: page_b, offset: start_b });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Collection, Labels};

    /// An old object pointing at a young one, both rooted through the old one.
    fn heap_with_old_to_young_edge() -> (Heap, ObjectId, ObjectId) {
        let mut heap = Heap::default();
        let old = heap.alloc(32, 1, Labels::NONE).unwrap();
        heap.add_root("r", old).unwrap();
        heap.collect(Collection::Minor).unwrap();
        heap.collect(Collection::Minor).unwrap();
        let young = heap.alloc(32, 0, Labels::NONE).unwrap();
        heap.write(old, 0, Some(young)).unwrap();
        assert!(heap.verify().is_clean());
        (heap, old, young)
    }

    #[test]
    fn a_forgotten_remembered_slot_is_reported() {
        let (mut heap, old, young) = heap_with_old_to_young_edge();
        heap.remembered_set.clear();
        assert_eq!(
            heap.verify().violations,
            vec![Violation::MissingRememberedSlot { host: old, slot: 0, target: young }]
        );
    }

    #[test]
    fn broken_byte_accounting_is_reported() {
        let (mut heap, _, _) = heap_with_old_to_young_edge();
        heap.old_space.used_bytes += 8;
        let v = heap.verify().violations;
        assert!(
            v.contains(&Violation::SpaceAccounting {
                space: Space::Old,
                counter: "used_bytes",
                recorded: 40,
                actual: 32
            }),
            "{v:?}"
        );
    }

    #[test]
    fn a_dangling_slot_and_root_are_reported() {
        let (mut heap, old, young) = heap_with_old_to_young_edge();
        heap.roots.add("r", young);
        crate::slots::free_object(&mut heap.objects, &mut heap.slots, young);
        heap.new_space.objects.retain(|&id| id != young);
        heap.new_space.used_bytes -= 32;
        let v = heap.verify().violations;
        assert!(v.contains(&Violation::DanglingSlot { host: old, slot: 0, target: young }), "{v:?}");
        assert!(v.contains(&Violation::DanglingRoot { root: "r".into(), object: young }), "{v:?}");
    }

    #[test]
    fn overlapping_objects_are_reported() {
        let (mut heap, old, _) = heap_with_old_to_young_edge();
        let other = heap.alloc(32, 0, Labels::NONE).unwrap();
        heap.add_root("r", other).unwrap();
        heap.collect(Collection::Major).unwrap();
        let address = heap.objects[old].address;
        let moved_page = heap.objects[other].address.page;
        assert_eq!(moved_page, address.page);
        heap.objects[other].address.offset = address.offset + 8;
        let v = heap.verify().violations;
        assert!(v.iter().any(|x| matches!(x, Violation::Overlap { space: Space::Old, .. })), "{v:?}");
    }
}
