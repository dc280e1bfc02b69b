//! Objects of the simulated heap: handles, headers, addresses and labels.
//!
//! An [`ObjectId`] is a [`slotmap`] key: an index plus a version. When the collector frees an object its slot's
//! version is bumped, so an old handle can never silently read the object that later reuses the slot; it is
//! reported as [`HeapError::FreedObject`](crate::HeapError::FreedObject) instead.

use std::num::NonZeroU32;

slotmap::new_key_type! {
    /// A handle to a simulated heap object.
    ///
    /// Handles stay valid while the object moves (a scavenge copy, a promotion, a compaction); only its
    /// [`Address`] changes, just as a V8 `Handle` keeps working across a moving GC.
    pub struct ObjectId;
}

/// Where an object lives.
///
/// The names follow V8's `AllocationSpace` (`NEW_SPACE`, `OLD_SPACE`, `NEW_LO_SPACE`, `LO_SPACE`).
/// In JSON a space is its V8 name (`"new_space"`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Space {
    /// The semi-space young generation: collected by the scavenger, objects are copied.
    #[serde(rename = "new_space")]
    New,
    /// Young large objects: each on its own page, promoted whole (never copied) when they survive a scavenge.
    #[serde(rename = "new_large_object_space")]
    NewLargeObject,
    /// The paged old generation: collected by mark-sweep-compact.
    #[serde(rename = "old_space")]
    Old,
    /// Old large objects: each on its own page, never moved, freed whole.
    #[serde(rename = "large_object_space")]
    LargeObject,
}

impl Space {
    /// Whether the space belongs to the young generation (`NEW_SPACE` or `NEW_LO_SPACE`).
    pub fn is_young(self) -> bool {
        matches!(self, Space::New | Space::NewLargeObject)
    }

    /// The space's name as V8 prints it in `--trace-gc-verbose` (`new_space`, `old_space`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Space::New => "new_space",
            Space::NewLargeObject => "new_large_object_space",
            Space::Old => "old_space",
            Space::LargeObject => "large_object_space",
        }
    }
}

/// A simulated address: a page of the object's space and a byte offset inside that page.
///
/// New-space pages are numbered per semi-space (semi-space 0 has pages `0..max`, semi-space 1 pages `max..2 × max`,
/// where `max` is the maximum number of pages of a semi-space); old-space pages by their index in old space (a
/// released page's number may be reused by a later page, as V8 reuses unmapped memory); each large object has a
/// page of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address {
    /// Page number within the object's space.
    pub page: u32,
    /// Byte offset of the object's start within the page (the page header comes first).
    pub offset: u32,
}

/// An interned string used to label objects (kind, tag or allocation site).
///
/// Create one with [`Heap::label`](crate::Heap::label) and read it back with
/// [`Heap::label_name`](crate::Heap::label_name). Interning keeps the per-object header small and allocation
/// free of string copies. A label belongs to the heap that made it: another heap refuses it with
/// [`HeapError::UnknownLabel`](crate::HeapError::UnknownLabel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label's number in its heap, from 1.
    pub(crate) number: NonZeroU32,
    /// The identity of the heap that made it.
    pub(crate) heap: u32,
}

impl Label {
    /// The label's index in its heap's table (0-based).
    #[inline]
    pub(crate) fn index(self) -> usize {
        self.number.get() as usize - 1
    }
}

/// Optional descriptive labels of an object: what it is (`kind`, e.g. `"Timeout"`), whom it belongs to (`tag`,
/// e.g. a connection id) and where it was allocated (`site`). They never change collector behaviour; they are what
/// leak analysis and heap maps group by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Labels {
    /// The object's kind or class name.
    pub kind: Option<Label>,
    /// A grouping tag, for example the connection an object belongs to.
    pub tag: Option<Label>,
    /// The allocation site.
    pub site: Option<Label>,
}

impl Labels {
    /// No labels.
    pub const NONE: Labels = Labels { kind: None, tag: None, site: None };
}

/// An object's labels as its header stores them: an index into the heap's table of the distinct label combinations
/// in use (the heap's `LabelTable` resolves it); 0 is [`Labels::NONE`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct LabelSet(pub u32);

impl LabelSet {
    /// No labels.
    pub const NONE: LabelSet = LabelSet(0);
}

/// Bits of [`HeapObject::epoch`]: the new-space epoch counts flips modulo `2^EPOCH_BITS`.
pub(crate) const EPOCH_BITS: u32 = 21;
/// The largest epoch; the flip after it wraps to 0.
pub(crate) const MAX_EPOCH: u32 = (1 << EPOCH_BITS) - 1;
const AGE_SHIFT: u32 = EPOCH_BITS;
const SPACE_SHIFT: u32 = AGE_SHIFT + 8;
const MARK_BIT: u32 = 1 << 31;

/// The collector's header of one simulated object: 28 bytes, so that with the slot map's 4-byte version an entry
/// is 32 bytes, half a cache line (`SlotMap` aligns entries to 4 bytes, so some still straddle two lines).
#[derive(Clone, Debug)]
pub(crate) struct HeapObject {
    /// Size in bytes, already rounded up to [`OBJECT_ALIGNMENT`].
    pub size: u32,
    /// First of this object's reference slots in the [`SlotArena`](crate::slots::SlotArena).
    pub slot_start: u32,
    /// Number of reference slots.
    pub slot_count: u32,
    /// Where the object currently is.
    pub address: Address,
    /// Descriptive labels.
    pub labels: LabelSet,
    /// From the low bits up: the epoch (`EPOCH_BITS`), the age (8 bits), the space (2 bits) and the mark bit.
    state: u32,
}

impl HeapObject {
    /// A new object's header: age 0, not marked.
    pub fn new(size: u32, slots: (u32, u32), address: Address, labels: LabelSet, space: Space, epoch: u32) -> Self {
        let mut o = HeapObject { size, slot_start: slots.0, slot_count: slots.1, address, labels, state: 0 };
        o.set_space(space);
        o.set_epoch(epoch);
        o
    }

    /// Whether the header is a live object when new space's epoch is `epoch`: young objects of past epochs were left
    /// dead in a from-space by a scavenge.
    #[inline]
    pub fn is_live(&self, epoch: u32) -> bool {
        self.space() != Space::New || self.epoch() == epoch
    }

    /// The space the object lives in.
    #[inline]
    pub fn space(&self) -> Space {
        match (self.state >> SPACE_SHIFT) & 3 {
            0 => Space::New,
            1 => Space::NewLargeObject,
            2 => Space::Old,
            _ => Space::LargeObject,
        }
    }

    /// Moves the object to another space (its address is set separately).
    #[inline]
    pub fn set_space(&mut self, space: Space) {
        let bits = match space {
            Space::New => 0,
            Space::NewLargeObject => 1,
            Space::Old => 2,
            Space::LargeObject => 3,
        };
        self.state = (self.state & !(3 << SPACE_SHIFT)) | (bits << SPACE_SHIFT);
    }

    /// For objects in [`Space::New`]: the new-space epoch (number of completed flips, modulo `2^EPOCH_BITS`) whose
    /// to-space holds this copy. A young object whose epoch is not the new space's is dead: its memory was in a
    /// from-space. (No dead young header waits through a wrap of the epoch: see `Heap::scavenge`.)
    #[inline]
    pub fn epoch(&self) -> u32 {
        self.state & MAX_EPOCH
    }

    /// Records the epoch of the to-space the object was just allocated or copied into.
    #[inline]
    pub fn set_epoch(&mut self, epoch: u32) {
        debug_assert!(epoch <= MAX_EPOCH);
        self.state = (self.state & !MAX_EPOCH) | epoch;
    }

    /// Number of scavenges survived (promotion included).
    #[inline]
    pub fn age(&self) -> u8 {
        (self.state >> AGE_SHIFT) as u8
    }

    /// Counts one more survived collection (saturating).
    #[inline]
    pub fn grow_older(&mut self) {
        let age = self.age().saturating_add(1);
        self.state = (self.state & !(0xff << AGE_SHIFT)) | (u32::from(age) << AGE_SHIFT);
    }

    /// Mark bit of the current mark-compact.
    #[inline]
    pub fn is_marked(&self) -> bool {
        self.state & MARK_BIT != 0
    }

    /// Sets or clears the mark bit.
    #[inline]
    pub fn set_marked(&mut self, marked: bool) {
        self.state = if marked { self.state | MARK_BIT } else { self.state & !MARK_BIT };
    }
}

/// Every V8 heap object is a multiple of the tagged size (8 bytes without pointer compression).
pub const OBJECT_ALIGNMENT: u32 = 8;

/// The largest object size: the largest multiple of [`OBJECT_ALIGNMENT`] that a `u32` holds (4,294,967,288 B).
/// A larger size cannot be rounded up to the alignment.
pub const MAX_OBJECT_SIZE: u32 = !(OBJECT_ALIGNMENT - 1);

/// Bytes of a tagged slot: 8, as Node 20 on x64 has no pointer compression (`kTaggedSize`).
pub const TAGGED_SIZE: u32 = 8;

/// Rounds `size` up to [`OBJECT_ALIGNMENT`], saturating at [`MAX_OBJECT_SIZE`] (callers reject larger sizes).
pub(crate) fn align_object_size(size: u32) -> u32 {
    size.checked_add(OBJECT_ALIGNMENT - 1).map_or(MAX_OBJECT_SIZE, |s| s & !(OBJECT_ALIGNMENT - 1))
}

/// The most reference slots an object of `size` bytes can have: its tagged words after the map word, which every
/// V8 heap object starts with. A 16-byte object holds 1, an 8-byte one none.
///
/// ```
/// use gc_sim::object::max_slots;
/// assert_eq!((max_slots(8), max_slots(16), max_slots(17), max_slots(24)), (0, 1, 2, 2));
/// ```
pub const fn max_slots(size: u32) -> u32 {
    let aligned = match size.checked_add(OBJECT_ALIGNMENT - 1) {
        Some(s) => s & !(OBJECT_ALIGNMENT - 1),
        None => MAX_OBJECT_SIZE,
    };
    (aligned / TAGGED_SIZE).saturating_sub(1)
}

/// A read-only view of one live object, returned by [`Heap::object`](crate::Heap::object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Size in bytes (rounded up to [`OBJECT_ALIGNMENT`]).
    pub size: u32,
    /// Number of reference slots.
    pub slot_count: u32,
    /// The space the object lives in.
    pub space: Space,
    /// Its current address.
    pub address: Address,
    /// Number of scavenges it has survived.
    pub age: u8,
    /// Its labels.
    pub labels: Labels,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up_to_the_tagged_size() {
        assert_eq!(align_object_size(1), 8);
        assert_eq!(align_object_size(8), 8);
        assert_eq!(align_object_size(13), 16);
        assert_eq!(align_object_size(u32::MAX), u32::MAX - 7);
    }

    #[test]
    fn header_stays_small() {
        // 28 bytes and the slot map's 4-byte version: 32-byte entries, half a cache line. The per-object budget is
        // 64 bytes plus 8 per slot; the header is most of it.
        assert_eq!(std::mem::size_of::<HeapObject>(), 28);
    }

    #[test]
    fn packed_fields_keep_their_values() {
        let spaces = [Space::New, Space::NewLargeObject, Space::Old, Space::LargeObject];
        for (i, space) in spaces.into_iter().enumerate() {
            let epoch = [0, 1, 12_345, MAX_EPOCH][i];
            let mut o = HeapObject::new(16, (3, 2), Address::default(), LabelSet(7), space, epoch);
            assert_eq!((o.space(), o.epoch(), o.age(), o.is_marked()), (space, epoch, 0, false));
            o.set_marked(true);
            for _ in 0..300 {
                o.grow_older();
            }
            assert_eq!((o.space(), o.epoch(), o.age(), o.is_marked()), (space, epoch, 255, true), "saturates");
            o.set_space(Space::Old);
            o.set_epoch(MAX_EPOCH - i as u32);
            o.set_marked(false);
            assert_eq!((o.space(), o.epoch(), o.age(), o.is_marked()), (Space::Old, MAX_EPOCH - i as u32, 255, false));
        }
    }
}
