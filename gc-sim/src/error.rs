//! Errors of the mutator API and the out-of-memory outcome.

use std::fmt;

use crate::object::ObjectId;

/// What went wrong in a call on a [`Heap`](crate::Heap).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HeapError {
    /// The handle names an object the collector has freed: it was unreachable at a collection.
    #[error("object {0:?} was freed: it was unreachable at its last collection (root it or keep a reference)")]
    FreedObject(ObjectId),
    /// A slot index past the object's slot count.
    #[error("slot {slot} is out of range for object {object:?}, which has {slot_count} slots")]
    SlotOutOfRange {
        /// The object written to.
        object: ObjectId,
        /// The slot index used.
        slot: u32,
        /// The object's number of slots.
        slot_count: u32,
    },
    /// A root set does not hold the object it was asked to release.
    #[error("root set '{root}' holds no handle to object {object:?}")]
    NotRooted {
        /// The root set's name.
        root: String,
        /// The object.
        object: ObjectId,
    },
    /// `exit_scope` without an open handle scope.
    #[error("no handle scope is open")]
    NoOpenScope,
    /// A time step that is negative, not finite, or would take the clock past the largest finite time
    /// ([`Heap::advance`](crate::Heap::advance)).
    #[error("cannot advance the clock by {ms:e} ms from {now_ms:e} ms: a step is a finite number >= 0 that keeps the clock finite")]
    InvalidTime {
        /// The step asked for.
        ms: f64,
        /// The clock when it was asked for.
        now_ms: f64,
    },
    /// A [`Label`](crate::Label) this heap did not make (one of another heap).
    #[error("label {0:?} was not made by this heap: use a label from this heap's `label`")]
    UnknownLabel(crate::Label),
    /// An allocation of 0 bytes.
    #[error("an object must have a size of at least 1 byte")]
    ZeroSize,
    /// An allocation larger than [`MAX_OBJECT_SIZE`](crate::object::MAX_OBJECT_SIZE), which cannot be rounded up
    /// to a multiple of 8 bytes.
    #[error("an object of {size} bytes is larger than the maximum of {max} bytes")]
    SizeTooLarge {
        /// The size asked for.
        size: u32,
        /// [`MAX_OBJECT_SIZE`](crate::object::MAX_OBJECT_SIZE).
        max: u32,
    },
    /// An allocation with more reference slots than its size holds (see
    /// [`max_slots`](crate::object::max_slots)): every slot is an 8-byte tagged word after the map word.
    #[error(
        "an object of {size} bytes holds at most {max_slots} slots (8 bytes each after the map word), not {slots}"
    )]
    TooManySlots {
        /// The size asked for.
        size: u32,
        /// The slots asked for.
        slots: u32,
        /// The most the size holds.
        max_slots: u32,
    },
    /// The simulator's slot arena is full: the heap already holds 2^32 reference slots (32 GiB of simulated
    /// slots). The allocation did not happen and the heap is unchanged.
    #[error("the simulator cannot hold {slots} more reference slots: its heap already has {in_use} of at most 2^32")]
    SlotsExhausted {
        /// The slots asked for.
        slots: u32,
        /// Slot indices handed out so far (live objects' slots, and free runs kept for reuse).
        in_use: u64,
    },
    /// A [`HeapImport`](crate::HeapImport) refers to an object it does not have (`object` is the referring
    /// object's index, or `u32::MAX` for a root).
    #[error("the import's object {object} refers to object {reference}, but the import has {objects} objects")]
    ImportReference {
        /// The index of the referring object (`u32::MAX`: a root).
        object: u32,
        /// The index referred to.
        reference: u32,
        /// Objects in the import.
        objects: u32,
    },
    /// The simulated program ran out of memory. The heap stays as it was at that moment, for inspection; every
    /// later mutator call returns this error again.
    #[error("{0}")]
    OutOfMemory(OutOfMemory),
}

/// Where V8 gave up, i.e. the `location` of `FatalProcessOutOfMemory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OomLocation {
    /// After a collection the old generation still exceeded its maximum (`Heap::CollectGarbage`).
    ReachedHeapLimit,
    /// Four consecutive mark-compacts with the old generation at >= 80 % of its maximum and mutator utilization
    /// below 0.4 (`Heap::CheckIneffectiveMarkCompact`).
    IneffectiveMarkCompacts,
    /// An allocation still failed after two collections and the last-resort full collections
    /// (`HeapAllocator::AllocateRawWithRetryOrFailSlowPath`).
    CallAndRetryLast,
}

impl OomLocation {
    /// The location string V8 passes to `FatalProcessOutOfMemory`.
    pub fn v8_name(self) -> &'static str {
        match self {
            OomLocation::ReachedHeapLimit => "Reached heap limit",
            OomLocation::IneffectiveMarkCompacts => "Ineffective mark-compacts near heap limit",
            OomLocation::CallAndRetryLast => "CALL_AND_RETRY_LAST",
        }
    }
}

/// The simulated program's death by heap exhaustion.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutOfMemory {
    /// Where V8 gave up.
    pub location: OomLocation,
    /// Simulated time of death, in ms.
    pub at_ms: f64,
    /// Old-generation object bytes at that moment.
    pub old_generation_bytes: u64,
    /// The old generation's maximum.
    pub max_old_generation_size: u64,
}

impl OutOfMemory {
    /// Node's message: `<location> Allocation failed - JavaScript heap out of memory`, printed by Node after
    /// `FATAL ERROR: `.
    pub fn message(&self) -> String {
        format!("{} Allocation failed - JavaScript heap out of memory", self.location.v8_name())
    }
}

impl fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FATAL ERROR: {}", self.message())
    }
}

impl std::error::Error for OutOfMemory {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_reads_like_node() {
        let oom = OutOfMemory {
            location: OomLocation::ReachedHeapLimit,
            at_ms: 1.0,
            old_generation_bytes: 0,
            max_old_generation_size: 0,
        };
        assert_eq!(
            HeapError::OutOfMemory(oom).to_string(),
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
        );
    }
}
