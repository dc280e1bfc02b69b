//! The allocation paths (V8's `HeapAllocator`): the fast paths into new space, old space and the large-object
//! spaces, and the slow path that collects and retries before the program dies.

use super::{AllocationType, Heap};
use crate::controller::Generation;
use crate::error::{HeapError, OomLocation};
use crate::gc_tracer::GcReason;
use crate::object::{align_object_size, max_slots, Address, HeapObject, Labels, ObjectId, Space, MAX_OBJECT_SIZE};

impl Heap {
    #[inline]
    pub(super) fn allocate_object(
        &mut self,
        size: u32,
        slots: u32,
        labels: Labels,
        allocation: AllocationType,
    ) -> Result<ObjectId, HeapError> {
        self.check_not_dead()?;
        if size == 0 {
            return Err(HeapError::ZeroSize);
        }
        if size > MAX_OBJECT_SIZE {
            return Err(HeapError::SizeTooLarge { size, max: MAX_OBJECT_SIZE });
        }
        if slots > max_slots(size) {
            return Err(HeapError::TooManySlots { size, slots, max_slots: max_slots(size) });
        }
        for label in [labels.kind, labels.tag, labels.site].into_iter().flatten() {
            if self.label_index(label).is_none() {
                return Err(HeapError::UnknownLabel(label));
            }
        }
        // Checked before anything happens, so that a refused allocation leaves the heap as it was.
        if !self.slots.can_allocate(slots) {
            return Err(HeapError::SlotsExhausted { slots, in_use: self.slots.in_use() });
        }
        let size = align_object_size(size);
        // Allocation-site pretenuring: a tenured site's objects are born old.
        let allocation = match (allocation, labels.site) {
            (AllocationType::Young, Some(site))
                if self.config.allocation_site_pretenuring && self.pretenuring.allocate(&self.labels, site) =>
            {
                AllocationType::Old
            }
            _ => allocation,
        };
        if self.controller.mark_compact_due() {
            self.collect_garbage(Generation::Old, GcReason::AllocationLimit)?;
        }
        if self.marking.is_active() && self.marking_step_due() {
            // The step the previous allocations paid for runs before this one, so that a finalizing mark-compact
            // never sees an object the caller has not yet had the chance to store.
            self.marking_step_on_allocation()?;
        }
        let large = size > self.config.large_object_threshold;
        let (space, address) = match (allocation, large) {
            (AllocationType::Young, false) => {
                let address = match self.new_space.allocate(size) {
                    Some(address) => address,
                    None => self.allocate_slow(Generation::Young, |heap| heap.new_space.allocate(size))?,
                };
                (Space::New, address)
            }
            (AllocationType::Young, true) => {
                self.allocate_young_large(size)?;
                (Space::NewLargeObject, self.large_object_address())
            }
            (AllocationType::Old, false) => {
                let address = match self.allocate_old_raw(size) {
                    Some(address) => address,
                    None => self.allocate_slow(Generation::Old, |heap| heap.allocate_old_raw(size))?,
                };
                (Space::Old, address)
            }
            (AllocationType::Old, true) => {
                let fits = |heap: &mut Heap| heap.old_generation_may_expand(u64::from(size)).then_some(());
                if fits(self).is_none() {
                    self.allocate_slow(Generation::Old, fits)?;
                }
                (Space::LargeObject, self.large_object_address())
            }
        };
        self.dead_young.reclaim_some(&mut self.objects, &mut self.slots, self.new_space.epoch);
        // A collection on the way may only have freed slots, so the check above still holds.
        let slot_start = self.slots.allocate(slots).expect("checked by can_allocate before the allocation");
        let labels = self.labels.set_of(labels);
        let mut header = HeapObject::new(size, (slot_start, slots), address, labels, space, self.new_space.epoch);
        let young = allocation == AllocationType::Young;
        if !young && self.marking.is_active() {
            // Black allocation: its slots are empty, so later stores go through the marking barrier.
            header.set_marked(true);
        }
        let id = self.objects.insert(header);
        match space {
            Space::New => {
                self.new_space.objects.push(id);
                self.new_space.used_bytes += u64::from(size);
            }
            Space::NewLargeObject => self.new_lo_space.add(id, size, &self.config.page),
            Space::Old => {}
            Space::LargeObject => self.lo_space.add(id, size, &self.config.page),
        }
        self.scopes.hold(id);
        self.tracer.record_allocation(size, young);
        if young {
            if space == Space::New {
                self.scavenge_task_observe_allocation(u64::from(size));
            }
        } else {
            self.old_generation_grew();
        }
        if self.marking.is_active() {
            self.marking_observe_allocation(u64::from(size), young);
        }
        Ok(id)
    }

    /// The address of a new large object: a page of its own, the object at the start of its area.
    fn large_object_address(&mut self) -> Address {
        let page = self.next_large_page;
        self.next_large_page = self.next_large_page.wrapping_add(1);
        Address { page, offset: self.config.page.area_start }
    }

    /// Whether the old generation may grow by `size` bytes for the mutator (the heap controller decides).
    fn old_generation_may_expand(&self, size: u64) -> bool {
        self.controller.old_generation_may_expand(
            self.old_generation_size(),
            self.old_generation_capacity(),
            size,
            self.marking.is_active(),
        )
    }

    /// A pretenured allocation in old space, or `None` when it fails.
    fn allocate_old_raw(&mut self, size: u32) -> Option<Address> {
        let may_expand = self.old_generation_may_expand(u64::from(self.config.page.area_size));
        self.old_space.try_allocate(size, may_expand)
    }

    /// V8's `NewLargeObjectSpace::AllocateRaw` capacity test, with the retry path on failure.
    fn allocate_young_large(&mut self, size: u32) -> Result<(), HeapError> {
        let fits = |heap: &mut Heap| {
            let used = heap.new_lo_space.used_bytes;
            // Promoting the objects already there must be possible, and the space holds at most a semi-space's
            // worth, except that the first object always fits.
            let ok = heap.controller.can_expand_old_generation(heap.old_generation_capacity(), used)
                && (used == 0 || used + u64::from(size) <= heap.new_space.capacity_bytes());
            ok.then_some(())
        };
        match fits(self) {
            Some(()) => Ok(()),
            None => self.allocate_slow(Generation::Young, fits),
        }
    }

    /// V8's `AllocateRawWithRetryOrFailSlowPath`: two collections of the failing generation, then the last-resort
    /// full collections, then out-of-memory.
    fn allocate_slow<T>(
        &mut self,
        generation: Generation,
        mut try_allocate: impl FnMut(&mut Heap) -> Option<T>,
    ) -> Result<T, HeapError> {
        for _ in 0..2 {
            self.collect_garbage(generation, GcReason::AllocationFailure)?;
            if let Some(result) = try_allocate(self) {
                return Ok(result);
            }
        }
        self.collect_all_available_garbage()?;
        if let Some(result) = try_allocate(self) {
            return Ok(result);
        }
        Err(self.die(OomLocation::CallAndRetryLast))
    }

    /// V8's `CollectAllAvailableGarbage(kLastResort)`: full collections until one frees nothing (2 to 7 of them).
    fn collect_all_available_garbage(&mut self) -> Result<(), HeapError> {
        const MIN_ATTEMPTS: usize = 2;
        const MAX_ATTEMPTS: usize = 7;
        for attempt in 0..MAX_ATTEMPTS {
            let before = self.objects.len();
            self.collect_garbage(Generation::Old, GcReason::LastResort)?;
            if self.objects.len() >= before && attempt + 1 >= MIN_ATTEMPTS {
                break;
            }
        }
        Ok(())
    }
}
