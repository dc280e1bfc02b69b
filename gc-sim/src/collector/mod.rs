//! The two collectors: the [scavenger] (young generation, V8's `scavenger.cc`) and [mark-compact](mark_compact)
//! (both generations, V8's `mark-compact.cc`). Each works on [`HeapParts`], split borrows of the heap's parts, and
//! returns what it counted; when to run, limits and resizing are the [heap controller](crate::controller)'s, and the
//! event is the [GC tracer](crate::gc_tracer)'s.

pub(crate) mod incremental_marking;
pub(crate) mod mark_compact;
pub(crate) mod scavenger;

use slotmap::SlotMap;

use crate::config::HeapConfig;
use crate::label_table::LabelTable;
use crate::object::{HeapObject, ObjectId};
use crate::roots::{HandleScopes, RootSets};
use crate::slots::SlotArena;
use crate::space::large_object_space::LargeObjectSpace;
use crate::space::new_space::NewSpace;
use crate::space::old_space::OldSpace;
use crate::space::remembered_set::RememberedSet;
use crate::survival::TagPromotions;

/// The parts of the heap a collection works on, borrowed apart from the rest of the heap.
pub(crate) struct HeapParts<'h> {
    pub objects: &'h mut SlotMap<ObjectId, HeapObject>,
    pub slots: &'h mut SlotArena,
    pub new_space: &'h mut NewSpace,
    pub new_lo_space: &'h mut LargeObjectSpace,
    pub old_space: &'h mut OldSpace,
    pub lo_space: &'h mut LargeObjectSpace,
    pub remembered_set: &'h mut RememberedSet,
    pub roots: &'h RootSets,
    pub scopes: &'h HandleScopes,
    pub labels: &'h LabelTable,
    /// Where promotions of tagged objects are recorded.
    pub promotions: &'h mut TagPromotions,
    pub config: &'h HeapConfig,
    /// The number of the running collection.
    pub gc: u64,
    /// When the running collection started, ms.
    pub start_ms: f64,
}

/// Bytes of a scratch arena in use: handed out since its last reset, with the unused ends of chunks it outgrew.
pub(crate) fn scratch_in_use(scratch: &bumpalo::Bump) -> usize {
    scratch.allocated_bytes() - scratch.chunk_capacity()
}
