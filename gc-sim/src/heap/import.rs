//! Importing a heap: objects placed straight into the old generation, as a heap snapshot shows them after the full
//! GC it begins with. V8's deserializer places the objects of a startup snapshot the same way, without the
//! allocation paths. No collection runs, and nothing counts as allocated by the mutator; the old generation's
//! allocation limit is then recomputed as after a mark-compact.

use super::Heap;
use crate::error::{HeapError, OomLocation};
use crate::object::{align_object_size, Address, HeapObject, Labels, ObjectId, Space, MAX_OBJECT_SIZE};

/// The objects, references and roots of a heap to import with [`Heap::import`]: a plain description, built object
/// by object, in which objects refer to each other by their index in the import.
///
/// ```
/// use gc_sim::{Heap, HeapImport, Labels};
///
/// let mut import = HeapImport::default();
/// let list = import.object(32, Labels::NONE, [1]);
/// import.object(64, Labels::NONE, []);
/// import.root("globals", list);
/// let mut heap = Heap::default();
/// let handles = heap.import(&import)?;
/// assert_eq!(heap.read(handles[0], 0)?, Some(handles[1]));
/// assert_eq!(heap.old_generation_size(), 96);
/// # Ok::<(), gc_sim::HeapError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct HeapImport {
    sizes: Vec<u32>,
    labels: Vec<Labels>,
    /// Object `i`'s references are `references[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    references: Vec<u32>,
    roots: Vec<(String, u32)>,
}

impl HeapImport {
    /// Adds an object of `size` bytes whose slots hold `references` (indices of objects of this import, given
    /// before or after it), and returns its index.
    pub fn object(&mut self, size: u32, labels: Labels, references: impl IntoIterator<Item = u32>) -> u32 {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.sizes.push(size);
        self.labels.push(labels);
        self.references.extend(references);
        self.starts.push(u32::try_from(self.references.len()).unwrap_or(u32::MAX));
        (self.sizes.len() - 1) as u32
    }

    /// Roots object `object` (an index of this import) in the root set `root`.
    pub fn root(&mut self, root: &str, object: u32) {
        self.roots.push((root.to_owned(), object));
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// Whether there is no object.
    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Bytes of all objects, each rounded up to 8 bytes as the heap stores it.
    pub fn bytes(&self) -> u64 {
        self.sizes.iter().map(|&s| u64::from(align_object_size(s.min(MAX_OBJECT_SIZE)))).sum()
    }

    /// The references of object `i`.
    fn references_of(&self, i: usize) -> &[u32] {
        &self.references[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

impl Heap {
    /// Imports `import` into the old generation (old space, or large-object space above the large-object threshold),
    /// as objects that survived many collections, with their references and roots, and returns their handles in the
    /// import's order. An object may hold more references than [`max_slots`](crate::object::max_slots) of its size
    /// (a real heap's objects are described by their references, not laid out by the simulator).
    ///
    /// No collection runs and nothing counts as the mutator's allocation. Afterwards the old generation's allocation
    /// limit is computed as after a mark-compact (V8's `RecomputeLimits`), so that the first collections see the
    /// imported heap as the program's live heap.
    ///
    /// # Errors
    /// Checked before anything changes: [`HeapError::ZeroSize`] or [`HeapError::SizeTooLarge`] for an object's size,
    /// [`HeapError::UnknownLabel`] for a label of another heap, [`HeapError::ImportReference`] for a reference or
    /// root to an index outside the import, [`HeapError::SlotsExhausted`] when the slots do not fit the simulator.
    /// [`HeapError::OutOfMemory`] (`Reached heap limit`) when the imported heap does not fit the maximum old
    /// generation: the program is dead from the start, as Node would be.
    pub fn import(&mut self, import: &HeapImport) -> Result<Vec<ObjectId>, HeapError> {
        self.check_not_dead()?;
        let count = import.len();
        for (i, (&size, labels)) in import.sizes.iter().zip(&import.labels).enumerate() {
            if size == 0 {
                return Err(HeapError::ZeroSize);
            }
            if size > MAX_OBJECT_SIZE {
                return Err(HeapError::SizeTooLarge { size, max: MAX_OBJECT_SIZE });
            }
            for label in [labels.kind, labels.tag, labels.site].into_iter().flatten() {
                if self.labels.index(label).is_none() {
                    return Err(HeapError::UnknownLabel(label));
                }
            }
            if let Some(&to) = import.references_of(i).iter().find(|&&to| to as usize >= count) {
                return Err(HeapError::ImportReference { object: i as u32, reference: to, objects: count as u32 });
            }
        }
        if let Some((_, to)) = import.roots.iter().find(|(_, to)| *to as usize >= count) {
            return Err(HeapError::ImportReference { object: u32::MAX, reference: *to, objects: count as u32 });
        }
        let total_slots = import.references.len();
        if u32::try_from(total_slots).map_or(true, |n| !self.slots.can_allocate_total(n)) {
            return Err(HeapError::SlotsExhausted {
                slots: u32::try_from(total_slots).unwrap_or(u32::MAX),
                in_use: self.slots.in_use(),
            });
        }

        let mut handles = Vec::with_capacity(count);
        for (i, (&size, &labels)) in import.sizes.iter().zip(&import.labels).enumerate() {
            let size = align_object_size(size);
            let slots = import.references_of(i).len() as u32;
            let slot_start = self.slots.allocate(slots).expect("checked by can_allocate_total before the import");
            let labels = self.labels.set_of(labels);
            let (space, address) = if size > self.config.large_object_threshold {
                let page = self.next_large_page;
                self.next_large_page = self.next_large_page.wrapping_add(1);
                (Space::LargeObject, Address { page, offset: self.config.page.area_start })
            } else {
                (Space::Old, self.old_space.allocate(size))
            };
            let mut header = HeapObject::new(size, (slot_start, slots), address, labels, space, self.new_space.epoch);
            // Like any old-generation allocation during incremental marking, an imported object is born marked: all
            // it references is imported with it.
            header.set_marked(self.marking.is_active());
            // Old objects have survived at least the promotion age's scavenges.
            for _ in 0..self.config.promotion_age {
                header.grow_older();
            }
            let id = self.objects.insert(header);
            if space == Space::LargeObject {
                self.lo_space.add(id, size, &self.config.page);
            }
            handles.push(id);
        }
        for (i, &id) in handles.iter().enumerate() {
            let o = &self.objects[id];
            let run = self.slots.run_mut(o.slot_start, o.slot_count);
            for (slot, &to) in run.iter_mut().zip(import.references_of(i)) {
                *slot = Some(handles[to as usize]);
            }
        }
        for (root, to) in &import.roots {
            self.roots.add(root, handles[*to as usize]);
        }
        // The state after the full GC a snapshot begins with: the limit from the live old generation.
        let mode = self.controller.growing_mode(false, self.old_generation_capacity(), false);
        self.controller.recompute_limits(
            self.old_generation_size(),
            self.new_space.capacity_bytes(),
            self.tracer.mark_compact_speed(),
            self.tracer.old_generation_allocation_throughput(),
            mode,
        );
        if !self.controller.can_expand_old_generation(self.old_generation_capacity(), 0) {
            return Err(self.die(OomLocation::ReachedHeapLimit));
        }
        // What the program loaded at start-up may be garbage soon: the memory reducer hears of it.
        self.old_generation_grew();
        Ok(handles)
    }
}
