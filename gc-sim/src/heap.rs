//! The simulated heap and its mutator API (V8's `Heap` plus the allocation paths of `HeapAllocator`).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use bumpalo::Bump;
use rustc_hash::FxHashMap;
use slotmap::SlotMap;

use crate::config::{ConfigError, HeapConfig};
use crate::error::{HeapError, OomLocation, OutOfMemory};
use crate::event_log::EventLog;
use crate::heap_controller;
use crate::heap_map::{HeapMap, HeapMapMoment};
use crate::large_object_space::LargeObjectSpace;
use crate::new_space::NewSpace;
use crate::object::{
    align_object_size, max_slots, HeapObject, Label, LabelSet, Labels, ObjectId, ObjectInfo, Space, MAX_OBJECT_SIZE,
};
use crate::old_space::OldSpace;
use crate::remembered_set::RememberedSet;
use crate::roots::{HandleScopes, RootSets};
use crate::slots::SlotArena;
use crate::survival::{TagPromotion, TagPromotions};
use crate::tracer::{Collector, CollectorReason, GcEvent, GcReason, HeapUsage, SpaceUsage, Tracer};

/// A collection the program asks for, like `global.gc()` (full) or `--expose-gc`'s `gc({type: 'minor'})`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Collection {
    /// A young-generation collection (a scavenge, unless the old generation could not take the promotions).
    Minor,
    /// A full mark-compact of both generations.
    Major,
}

/// Where the mutator asks an object to be allocated (V8's `AllocationType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AllocationType {
    Young,
    Old,
}

/// The generation a collection is requested for (V8 passes the space whose allocation failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Generation {
    Young,
    Old,
}

/// Running totals over the heap's whole life.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GcTotals {
    /// Scavenges run.
    pub scavenges: u64,
    /// Mark-compacts run.
    pub mark_compacts: u64,
    /// Sum of modelled pauses, in ms.
    pub pause_ms: f64,
    /// Sum of the scavenges' modelled pauses, in ms.
    #[serde(default)]
    pub scavenge_pause_ms: f64,
    /// Sum of the mark-compacts' modelled pauses, in ms.
    #[serde(default)]
    pub mark_compact_pause_ms: f64,
    /// The longest modelled pause, in ms.
    #[serde(default)]
    pub max_pause_ms: f64,
    /// Bytes promoted to the old generation.
    pub promoted_bytes: u64,
    /// Bytes copied within new space.
    pub copied_bytes: u64,
    /// Bytes the mutator allocated.
    pub allocated_bytes: u64,
    /// Objects the mutator allocated.
    pub allocated_objects: u64,
}

/// Bytes of simulator memory the heap holds, by what holds them ([`Heap::footprint`]). Capacities, not lengths:
/// what the heap has asked the allocator for, touched or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Object headers: the slot map's capacity, a header and its version per entry.
    pub headers: usize,
    /// Reference slots: the slot arena's capacity, 8 B per slot.
    pub slots: usize,
    /// The OLD_TO_NEW remembered set.
    pub remembered_set: usize,
    /// The young generation's object lists: to-space's, past from-spaces' whose dead headers are not yet
    /// reclaimed, and emptied ones kept for the next scavenges.
    pub young_lists: usize,
    /// Collection scratch memory kept between collections (worklists, the sweep's list of live old objects).
    pub scratch: usize,
}

impl Footprint {
    /// Every part added up.
    pub fn total(&self) -> usize {
        self.headers + self.slots + self.remembered_set + self.young_lists + self.scratch
    }
}

/// State of the old generation's allocation limit (V8's `old_generation_allocation_limit_` and friends).
#[derive(Debug)]
pub(crate) struct OldGenerationLimits {
    /// A mark-compact is due once the old generation's object bytes reach this.
    pub allocation_limit: u64,
    /// Whether the initial limit has stopped adapting to survival (set when it stops falling, or by the first
    /// mark-compact).
    pub configured: bool,
    /// Consecutive ineffective mark-compacts near the heap limit.
    pub consecutive_ineffective_mark_compacts: u32,
    /// Survival percentages (promoted + copied over young bytes) of the last 10 collections.
    pub survival_percentages: std::collections::VecDeque<f64>,
}

type Observer = Box<dyn FnMut(&GcEvent)>;

/// A simulated V8 heap: the young generation (a semi-space scavenger), the old generation (mark-sweep-compact over
/// pages), large-object spaces, roots and handle scopes, driven by a mutator API.
///
/// # Examples
///
/// A connection object that stays rooted survives two scavenges and is promoted; a temporary does not survive.
///
/// ```
/// use gc_sim::{Collection, Heap, Labels, Space};
///
/// let mut heap = Heap::default();
/// let conn = heap.alloc(64, 2, Labels::NONE)?;
/// heap.add_root("timers", conn)?;
/// let temp = heap.alloc(32, 0, Labels::NONE)?;
///
/// heap.collect(Collection::Minor)?;
/// assert_eq!(heap.object(conn)?.space, Space::New, "copied within new space on its first scavenge");
/// assert!(!heap.is_alive(temp));
///
/// let event = heap.collect(Collection::Minor)?;
/// assert_eq!(heap.object(conn)?.space, Space::Old, "promoted on its second");
/// assert_eq!(event.promoted_bytes, 64);
/// assert!(heap.verify().is_clean());
/// # Ok::<(), gc_sim::HeapError>(())
/// ```
pub struct Heap {
    /// This heap's identity, carried by its labels (see [`Heap::label_index`]).
    id: u32,
    pub(crate) config: HeapConfig,
    pub(crate) objects: SlotMap<ObjectId, HeapObject>,
    pub(crate) slots: SlotArena,
    label_names: Vec<String>,
    label_ids: FxHashMap<String, Label>,
    /// The distinct label combinations of objects, indexed by [`LabelSet`]; entry 0 is [`Labels::NONE`].
    pub(crate) label_sets: Vec<Labels>,
    label_set_ids: FxHashMap<Labels, LabelSet>,
    pub(crate) roots: RootSets,
    pub(crate) scopes: HandleScopes,
    pub(crate) new_space: NewSpace,
    pub(crate) new_lo_space: LargeObjectSpace,
    pub(crate) old_space: OldSpace,
    pub(crate) lo_space: LargeObjectSpace,
    pub(crate) remembered_set: RememberedSet,
    pub(crate) tracer: Tracer,
    pub(crate) limits: OldGenerationLimits,
    /// Per-collection scratch memory (worklists, sort buffers), reset after every collection and given back when
    /// much larger than recent collections needed (see [`recycle_scratch`](Self::recycle_scratch)).
    pub(crate) scratch: Bump,
    /// The most scratch memory the running collection has had in use at once, noted by the collector where its
    /// use peaks: the arena alone cannot tell afterwards, as freeing its last allocation hands the bytes back.
    pub(crate) scratch_used: usize,
    /// The most scratch memory a scavenge used since the last mark-compact.
    scavenge_scratch_used: usize,
    /// Objects of past from-spaces whose headers are not yet reclaimed. Dead young objects cost nothing at
    /// scavenge time (as in V8, garbage is never visited); their headers are reclaimed a few per allocation.
    pub(crate) unreclaimed: Vec<Vec<ObjectId>>,
    /// Emptied object lists, reused as the next to-space's list so that a flip allocates nothing. A mark-compact,
    /// which empties new space, frees them instead.
    pub(crate) spare_lists: Vec<Vec<ObjectId>>,
    /// How many objects in `objects` are dead young objects not yet reclaimed.
    pub(crate) unreclaimed_dead: u64,
    /// Number given to the next large page.
    pub(crate) next_large_page: u32,
    /// Set when a scavenge left the old generation at or over its limit: the next allocation runs a mark-compact
    /// first. V8 instead starts incremental marking a little earlier, once the room left under the limit is no more
    /// than new space's capacity, and finalizes it shortly after; marking is atomic here.
    pub(crate) mark_compact_pending: bool,
    pub(crate) totals: GcTotals,
    /// When tagged objects were promoted.
    pub(crate) tag_promotions: TagPromotions,
    oom: Option<OutOfMemory>,
    /// Heap maps asked for with `request_heap_map` and not yet taken.
    pub(crate) heap_map_requests: Vec<HeapMapMoment>,
    /// Whether the map at the end was asked for (`request_heap_map(HeapMapMoment::End)`).
    pub(crate) end_heap_map_requested: bool,
    /// Heap maps taken.
    pub(crate) heap_maps: Vec<HeapMap>,
    events: EventLog,
    observers: Vec<Observer>,
}

impl Default for Heap {
    /// A heap with Node 20's default configuration.
    fn default() -> Self {
        Heap::new(HeapConfig::default()).expect("the default configuration is valid")
    }
}

impl std::fmt::Debug for Heap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heap")
            .field("usage", &self.usage())
            .field("totals", &self.totals)
            .field("now_ms", &self.tracer.now_ms)
            .finish_non_exhaustive()
    }
}

/// Scratch memory a collection may keep for the next one whatever they need: below this, giving it back would only
/// cost the next collection an allocation.
const SCRATCH_KEPT_BYTES: usize = 1 << 20;
/// A mark-compact gives the scratch arena back when it is more than this many times larger than what that
/// mark-compact and the scavenges since the previous one used. The arena grows by doubling, so it may be up to
/// twice what was used without the heap having shrunk.
const SCRATCH_SLACK: usize = 4;

/// Bytes of a scratch arena in use: handed out since its last reset, with the unused ends of chunks it outgrew.
pub(crate) fn scratch_in_use(scratch: &Bump) -> usize {
    scratch.allocated_bytes() - scratch.chunk_capacity()
}

impl Heap {
    /// Creates a heap, checking the configuration.
    pub fn new(config: HeapConfig) -> Result<Heap, ConfigError> {
        config.validate()?;
        /// Identities of heaps, for their labels (wrapping after 2^32 heaps).
        static NEXT_ID: AtomicU32 = AtomicU32::new(0);
        Ok(Heap {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            new_space: NewSpace::new(&config),
            old_space: OldSpace::new(config.page, config.min_free_block),
            limits: OldGenerationLimits {
                allocation_limit: config.initial_old_generation_limit(),
                configured: false,
                consecutive_ineffective_mark_compacts: 0,
                survival_percentages: Default::default(),
            },
            config,
            objects: SlotMap::with_key(),
            slots: SlotArena::default(),
            label_names: Vec::new(),
            label_ids: FxHashMap::default(),
            label_sets: vec![Labels::NONE],
            label_set_ids: FxHashMap::default(),
            roots: RootSets::default(),
            scopes: HandleScopes::default(),
            new_lo_space: LargeObjectSpace::default(),
            lo_space: LargeObjectSpace::default(),
            remembered_set: RememberedSet::default(),
            tracer: Tracer::default(),
            scratch: Bump::new(),
            scratch_used: 0,
            scavenge_scratch_used: 0,
            unreclaimed: Vec::new(),
            spare_lists: Vec::new(),
            unreclaimed_dead: 0,
            next_large_page: 0,
            mark_compact_pending: false,
            totals: GcTotals::default(),
            tag_promotions: TagPromotions::default(),
            oom: None,
            heap_map_requests: Vec::new(),
            end_heap_map_requested: false,
            heap_maps: Vec::new(),
            events: EventLog::default(),
            observers: Vec::new(),
        })
    }

    /// The configuration the heap was built with.
    pub fn config(&self) -> &HeapConfig {
        &self.config
    }

    // ---------------------------------------------------------------------------------------------------------
    // Labels

    /// Interns `name` as a [`Label`] for [`Labels`].
    pub fn label(&mut self, name: &str) -> Label {
        if let Some(&label) = self.label_ids.get(name) {
            return label;
        }
        self.label_names.push(name.to_owned());
        let number = u32::try_from(self.label_names.len()).ok().and_then(NonZeroU32::new);
        let label = Label { number: number.expect("fewer than 2^32 labels, numbered from 1"), heap: self.id };
        self.label_ids.insert(name.to_owned(), label);
        label
    }

    /// The label `name` if it was interned, without interning it.
    pub fn find_label(&self, name: &str) -> Option<Label> {
        self.label_ids.get(name).copied()
    }

    /// The string of a label made by [`label`](Self::label).
    ///
    /// # Errors
    /// [`HeapError::UnknownLabel`] for a label of another heap.
    pub fn label_name(&self, label: Label) -> Result<&str, HeapError> {
        self.label_index(label).map(|i| self.label_names[i].as_str()).ok_or(HeapError::UnknownLabel(label))
    }

    /// The index of `label` in this heap's table, or `None` for a label of another heap.
    pub(crate) fn label_index(&self, label: Label) -> Option<usize> {
        (label.heap == self.id && label.index() < self.label_names.len()).then(|| label.index())
    }

    /// The header's index of a label combination, interned on first use.
    fn label_set(&mut self, labels: Labels) -> LabelSet {
        if labels == Labels::NONE {
            return LabelSet::NONE;
        }
        if let Some(&set) = self.label_set_ids.get(&labels) {
            return set;
        }
        let set = LabelSet(u32::try_from(self.label_sets.len()).expect("fewer than 2^32 label combinations"));
        self.label_sets.push(labels);
        self.label_set_ids.insert(labels, set);
        set
    }

    /// The labels of an object's header.
    #[inline]
    pub(crate) fn labels_of(&self, o: &HeapObject) -> Labels {
        o.labels.resolve(&self.label_sets)
    }

    /// Number of labels interned so far.
    pub(crate) fn label_count(&self) -> usize {
        self.label_names.len()
    }

    /// The string of the label numbered `index` (0-based).
    pub(crate) fn label_name_at(&self, index: usize) -> &str {
        &self.label_names[index]
    }

    // ---------------------------------------------------------------------------------------------------------
    // The mutator

    /// Allocates an object of `size` bytes with `slots` reference slots (all empty), like `new` in JavaScript.
    ///
    /// The size is rounded up to 8 bytes, as every V8 object is. Objects over
    /// [`large_object_threshold`](HeapConfig::large_object_threshold) go to the young large-object space, all
    /// others to new space; when new space is full a scavenge runs first (V8's "allocation failure"). The object
    /// is held by the innermost open handle scope; with no scope open nothing holds it, so root it or store it
    /// in a reachable object before the next allocation.
    ///
    /// # Errors
    /// [`HeapError::ZeroSize`] for a size of 0, [`HeapError::SizeTooLarge`] above
    /// [`MAX_OBJECT_SIZE`](crate::object::MAX_OBJECT_SIZE), [`HeapError::TooManySlots`] for more slots than the size
    /// holds ([`max_slots`](crate::object::max_slots)), [`HeapError::SlotsExhausted`] when the simulator already
    /// holds 2^32 slots (these four leave the heap unchanged); [`HeapError::OutOfMemory`] when the simulated program
    /// dies.
    pub fn alloc(&mut self, size: u32, slots: u32, labels: Labels) -> Result<ObjectId, HeapError> {
        self.allocate_object(size, slots, labels, AllocationType::Young)
    }

    /// Allocates a pretenured object directly in the old generation (V8's `AllocationType::kOld`, which V8 uses when
    /// allocation-site feedback says a site's objects survive, and for long-lived internals).
    ///
    /// The object goes to old space (or, over the large-object threshold, to the old large-object space) and is
    /// held like [`alloc`](Heap::alloc)'s. Old space allocates from its linear area and free lists and takes a new
    /// page only while the old generation is under its allocation limit and the heap limit; otherwise the
    /// allocation fails and V8's slow path runs: two mark-compacts ("allocation failure"), then the last-resort
    /// full collections, then out-of-memory (`CALL_AND_RETRY_LAST`).
    ///
    /// # Errors
    /// As [`alloc`](Heap::alloc).
    ///
    /// # Examples
    /// ```
    /// use gc_sim::{Heap, Labels, Space};
    ///
    /// let mut heap = Heap::default();
    /// let cache = heap.alloc_old(4096, 16, Labels::NONE)?;
    /// assert_eq!(heap.object(cache)?.space, Space::Old);
    /// # Ok::<(), gc_sim::HeapError>(())
    /// ```
    pub fn alloc_old(&mut self, size: u32, slots: u32, labels: Labels) -> Result<ObjectId, HeapError> {
        self.allocate_object(size, slots, labels, AllocationType::Old)
    }

    fn allocate_object(
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
        if self.mark_compact_pending {
            self.collect_garbage(Generation::Old, GcReason::AllocationLimit)?;
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
        self.reclaim_unreclaimed();
        // A collection on the way may only have freed slots, so the check above still holds.
        let slot_start = self.slots.allocate(slots).expect("checked by can_allocate before the allocation");
        let labels = self.label_set(labels);
        let id = self.objects.insert(HeapObject::new(
            size,
            (slot_start, slots),
            address,
            labels,
            space,
            self.new_space.epoch,
        ));
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
        if allocation == AllocationType::Young {
            self.tracer.new_space_allocated_since_gc += u64::from(size);
        } else {
            self.tracer.old_generation_allocated_since_gc += u64::from(size);
            if self.old_generation_size() >= self.limits.allocation_limit {
                self.mark_compact_pending = true;
            }
        }
        self.totals.allocated_bytes += u64::from(size);
        self.totals.allocated_objects += 1;
        Ok(id)
    }

    /// Stores `target` (or nothing) into slot `slot` of `object`, through the write barrier: a store of a young
    /// object into an old one records the slot in the OLD_TO_NEW remembered set.
    ///
    /// # Errors
    /// [`HeapError::FreedObject`] if either object was freed, [`HeapError::SlotOutOfRange`] for a bad slot.
    pub fn write(&mut self, object: ObjectId, slot: u32, target: Option<ObjectId>) -> Result<(), HeapError> {
        self.check_not_dead()?;
        let target_space = match target {
            Some(t) => Some(self.live(t)?.space()),
            None => None,
        };
        let host = self.live(object)?;
        if slot >= host.slot_count {
            return Err(HeapError::SlotOutOfRange { object, slot, slot_count: host.slot_count });
        }
        let (index, host_young) = (host.slot_start + slot, host.space().is_young());
        self.slots.run_mut(index, 1)[0] = target;
        // The generational write barrier (V8's `GenerationalBarrierSlow`).
        if !host_young && target_space.is_some_and(Space::is_young) {
            self.remembered_set.insert(index);
        }
        Ok(())
    }

    /// Reads slot `slot` of `object`.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn read(&self, object: ObjectId, slot: u32) -> Result<Option<ObjectId>, HeapError> {
        let host = self.live(object)?;
        if slot >= host.slot_count {
            return Err(HeapError::SlotOutOfRange { object, slot, slot_count: host.slot_count });
        }
        Ok(self.slots.get(host.slot_start + slot))
    }

    /// Adds one handle to `object` in the named root set (created on first use). Root sets are multisets: an
    /// object rooted twice needs two [`remove_root`](Self::remove_root) calls.
    ///
    /// # Errors
    /// [`HeapError::FreedObject`] if the object was freed.
    pub fn add_root(&mut self, root: &str, object: ObjectId) -> Result<(), HeapError> {
        self.check_not_dead()?;
        self.live(object)?;
        self.roots.add(root, object);
        Ok(())
    }

    /// Removes one handle to `object` from the named root set.
    ///
    /// # Errors
    /// [`HeapError::NotRooted`] if the set holds no handle to it.
    pub fn remove_root(&mut self, root: &str, object: ObjectId) -> Result<(), HeapError> {
        self.check_not_dead()?;
        if self.roots.remove(root, object) {
            Ok(())
        } else {
            Err(HeapError::NotRooted { root: root.to_owned(), object })
        }
    }

    /// How many handles the named root set holds on `object`.
    pub fn root_count(&self, root: &str, object: ObjectId) -> u32 {
        self.roots.count(root, object)
    }

    /// Every root set: its name and its handles with their multiplicities.
    pub fn root_sets(&self) -> impl Iterator<Item = (&str, impl Iterator<Item = (ObjectId, u32)> + '_)> + '_ {
        self.roots.sets().iter().map(|set| (set.name.as_str(), set.handles.iter().map(|(&id, &n)| (id, n))))
    }

    /// Opens a handle scope: objects allocated until the matching [`exit_scope`](Self::exit_scope) are held by it.
    pub fn enter_scope(&mut self) {
        self.scopes.enter();
    }

    /// Closes the innermost handle scope, releasing the objects it held.
    ///
    /// # Errors
    /// [`HeapError::NoOpenScope`] when no scope is open.
    pub fn exit_scope(&mut self) -> Result<(), HeapError> {
        if self.scopes.exit() {
            Ok(())
        } else {
            Err(HeapError::NoOpenScope)
        }
    }

    /// Number of open handle scopes.
    pub fn scope_depth(&self) -> usize {
        self.scopes.depth()
    }

    /// Advances the mutator's clock by `ms`, a finite number of milliseconds `>= 0`. The clock, and every time
    /// reported, stays finite.
    ///
    /// # Errors
    /// [`HeapError::InvalidTime`] if `ms` is negative or not finite, or would take the clock past the largest
    /// finite time; the clock is then unchanged.
    pub fn advance(&mut self, ms: f64) -> Result<(), HeapError> {
        let now_ms = self.tracer.now_ms;
        if !(ms.is_finite() && ms >= 0.0 && (now_ms + ms).is_finite()) {
            return Err(HeapError::InvalidTime { ms, now_ms });
        }
        if ms > 0.0 {
            self.tracer.advance(ms);
        }
        Ok(())
    }

    /// Runs a collection now, as `global.gc()` does (reason `testing`), and returns its event.
    ///
    /// # Errors
    /// [`HeapError::OutOfMemory`] if the program dies during or right after it.
    pub fn collect(&mut self, kind: Collection) -> Result<GcEvent, HeapError> {
        self.check_not_dead()?;
        let generation = match kind {
            Collection::Minor => Generation::Young,
            Collection::Major => Generation::Old,
        };
        self.collect_garbage(generation, GcReason::Testing)
    }

    /// Calls `observer` with every later collection's event.
    pub fn on_gc(&mut self, observer: impl FnMut(&GcEvent) + 'static) {
        self.observers.push(Box::new(observer));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Observation

    /// Whether `object` is alive (not freed, and not left behind in a from-space by a scavenge).
    pub fn is_alive(&self, object: ObjectId) -> bool {
        self.live(object).is_ok()
    }

    /// A read-only view of a live object.
    ///
    /// # Errors
    /// [`HeapError::FreedObject`] if it was freed.
    pub fn object(&self, object: ObjectId) -> Result<ObjectInfo, HeapError> {
        self.live(object).map(|o| self.info(o))
    }

    /// The reference slots of a live object.
    ///
    /// # Errors
    /// [`HeapError::FreedObject`] if it was freed.
    pub fn slots(&self, object: ObjectId) -> Result<&[Option<ObjectId>], HeapError> {
        let o = self.live(object)?;
        Ok(self.slots.run(o.slot_start, o.slot_count))
    }

    /// Every live object. Young objects are alive here if they have not yet been proven dead by a scavenge.
    pub fn objects(&self) -> impl Iterator<Item = (ObjectId, ObjectInfo)> + '_ {
        self.objects.iter().filter(|(_, o)| self.is_live_header(o)).map(|(id, o)| (id, self.info(o)))
    }

    /// Number of live objects (see [`objects`](Self::objects)).
    pub fn object_count(&self) -> u64 {
        self.objects.len() as u64 - self.unreclaimed_dead
    }

    /// Per-space usage now.
    pub fn usage(&self) -> HeapUsage {
        HeapUsage {
            new_space: SpaceUsage {
                used_bytes: self.new_space.used_bytes,
                committed_bytes: self.new_space.committed_bytes(),
                objects: self.new_space.objects.len() as u64,
            },
            new_large_object_space: SpaceUsage {
                used_bytes: self.new_lo_space.used_bytes,
                committed_bytes: self.new_lo_space.committed_bytes,
                objects: self.new_lo_space.objects.len() as u64,
            },
            old_space: SpaceUsage {
                used_bytes: self.old_space.used_bytes,
                committed_bytes: self.old_space.committed_bytes(),
                objects: self.old_space.objects,
            },
            large_object_space: SpaceUsage {
                used_bytes: self.lo_space.used_bytes,
                committed_bytes: self.lo_space.committed_bytes,
                objects: self.lo_space.objects.len() as u64,
            },
        }
    }

    /// Totals over the heap's life.
    pub fn totals(&self) -> &GcTotals {
        &self.totals
    }

    /// The collections kept, oldest first: every one up to [`MAX_KEPT_EVENTS`](crate::tracer::MAX_KEPT_EVENTS),
    /// then an even sample of the whole run with the first collection, the longest pause and the last
    /// [`RECENT_EVENTS`](crate::tracer::RECENT_EVENTS), so that memory does not grow with the number of
    /// collections. [`totals`](Self::totals) count every collection. [`on_gc`](Self::on_gc) sees every event.
    pub fn events(&self) -> &[GcEvent] {
        self.events.events()
    }

    /// The kept events of the collections numbered after `number` (see [`GcEvent::number`]), oldest first: poll it
    /// with the [`collections`](Self::collections) seen last time. Every one is there as long as no more than
    /// [`RECENT_EVENTS`](crate::tracer::RECENT_EVENTS) collections ran since.
    pub fn events_since(&self, number: u64) -> &[GcEvent] {
        self.events.since(number)
    }

    /// The allocation limit in force when each kept event started, in the order of [`events`](Self::events).
    pub(crate) fn event_limits_before(&self) -> &[u64] {
        self.events.limits_before()
    }

    /// Number of collections run so far (the [`number`](GcEvent::number) of the last one).
    pub fn collections(&self) -> u64 {
        self.totals.scavenges + self.totals.mark_compacts
    }

    /// Simulated time in ms: mutator time plus modelled pauses.
    pub fn now_ms(&self) -> f64 {
        self.tracer.now_ms
    }

    /// The out-of-memory outcome, once the simulated program has died.
    pub fn out_of_memory(&self) -> Option<&OutOfMemory> {
        self.oom.as_ref()
    }

    /// Current semi-space capacity in bytes (allocatable area of one semi-space).
    pub fn semi_space_capacity(&self) -> u64 {
        self.new_space.capacity_bytes()
    }

    /// Number of old-generation slots recorded in the OLD_TO_NEW remembered set.
    pub fn remembered_set_len(&self) -> usize {
        self.remembered_set.len()
    }

    /// Current old-generation allocation limit.
    pub fn old_generation_allocation_limit(&self) -> u64 {
        self.limits.allocation_limit
    }

    /// Object bytes in the old generation (old space plus large-object space).
    pub fn old_generation_size(&self) -> u64 {
        self.old_space.used_bytes + self.lo_space.used_bytes
    }

    /// Average and current mark-compact mutator utilization, as printed in `--trace-gc` lines.
    pub fn mutator_utilization(&self) -> (f64, f64) {
        (self.tracer.average_mutator_utilization(), self.tracer.current_mutator_utilization())
    }

    /// When the objects tagged `tag` were promoted, or `None` if none was.
    pub fn tag_promotion(&self, tag: Label) -> Option<TagPromotion> {
        self.label_index(tag)?;
        self.tag_promotions.get(tag)
    }

    /// Live objects carrying tag `tag`, and their bytes.
    pub fn tagged(&self, tag: Label) -> (u64, u64) {
        self.objects()
            .filter(|(_, o)| o.labels.tag == Some(tag))
            .fold((0, 0), |(n, b), (_, o)| (n + 1, b + u64::from(o.size)))
    }

    /// Bytes of simulator memory held by object headers, slots, the remembered set, the young generation's object
    /// lists and scratch memory kept between collections, part by part (for memory benchmarks and tests).
    pub fn footprint(&self) -> Footprint {
        let young_lists = std::iter::once(&self.new_space.objects)
            .chain(&self.unreclaimed)
            .chain(&self.spare_lists)
            .map(Vec::capacity)
            .sum::<usize>();
        Footprint {
            headers: self.objects.capacity() * (std::mem::size_of::<HeapObject>() + 4),
            slots: self.slots.footprint_bytes(),
            remembered_set: self.remembered_set.footprint_bytes(),
            young_lists: young_lists * std::mem::size_of::<ObjectId>(),
            scratch: self.scratch.allocated_bytes(),
        }
    }

    /// Bytes of simulator memory the heap holds: [`footprint`](Self::footprint)`().total()`.
    pub fn footprint_bytes(&self) -> usize {
        self.footprint().total()
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals shared by the collectors

    /// Whether a header in the slot map is a live object (young objects of past epochs are dead).
    #[inline]
    pub(crate) fn is_live_header(&self, o: &HeapObject) -> bool {
        o.space() != Space::New || o.epoch() == self.new_space.epoch
    }

    /// The public view of a header.
    pub(crate) fn info(&self, o: &HeapObject) -> ObjectInfo {
        ObjectInfo {
            size: o.size,
            slot_count: o.slot_count,
            space: o.space(),
            address: o.address,
            age: o.age(),
            labels: self.labels_of(o),
        }
    }

    /// The header of a live object.
    #[inline]
    pub(crate) fn live(&self, id: ObjectId) -> Result<&HeapObject, HeapError> {
        match self.objects.get(id) {
            Some(o) if self.is_live_header(o) => Ok(o),
            _ => Err(HeapError::FreedObject(id)),
        }
    }

    fn check_not_dead(&self) -> Result<(), HeapError> {
        match &self.oom {
            Some(oom) => Err(HeapError::OutOfMemory(oom.clone())),
            None => Ok(()),
        }
    }

    /// The address of a new large object: a page of its own, the object at the start of its area.
    fn large_object_address(&mut self) -> crate::object::Address {
        let page = self.next_large_page;
        self.next_large_page = self.next_large_page.wrapping_add(1);
        crate::object::Address { page, offset: self.config.page.area_start }
    }

    /// Whether the old generation may grow by `size` bytes for the mutator: V8's
    /// `ShouldExpandOldGenerationOnSlowAllocation` (room left under the allocation limit; marking is atomic here,
    /// so there is no "expand while incremental marking runs") and `CanExpandOldGeneration` (the heap limit).
    fn old_generation_may_expand(&self, size: u64) -> bool {
        self.old_generation_size() < self.limits.allocation_limit && self.can_expand_old_generation(size)
    }

    /// A pretenured allocation in old space, or `None` when it fails.
    fn allocate_old_raw(&mut self, size: u32) -> Option<crate::object::Address> {
        let may_expand = self.old_generation_may_expand(u64::from(self.config.page.area_size));
        self.old_space.try_allocate(size, may_expand)
    }

    /// Frees the header and slots of a dead object (the caller fixes space accounting).
    pub(crate) fn free_object(&mut self, id: ObjectId) {
        if let Some(o) = self.objects.remove(id) {
            self.slots.free(o.slot_start, o.slot_count);
        }
    }

    /// Reclaims the headers of objects left dead in past from-spaces: one per allocation, two while the lists of more
    /// than one from-space wait, the oldest list first, each from its last object back.
    ///
    /// The slot map reuses the entry freed last, so the allocation that follows puts its header in the entry just
    /// reclaimed (one cache miss, not two), and allocations walk the dead headers in order, cycle after cycle. Two
    /// per allocation throughout would leave every other entry on the slot map's free list, to be reused later in
    /// reverse, and shuffle the order a little more each cycle until every reuse is a miss. Going oldest first, the
    /// few entries a cycle leaves behind are cleared within a few allocations of the next cycle, not at its end.
    /// The backlog stays under two semi-spaces' worth of objects.
    fn reclaim_unreclaimed(&mut self) {
        let mut budget = if self.unreclaimed.len() > 1 { 2 } else { 1 };
        while budget > 0 {
            let Some(list) = self.unreclaimed.first_mut() else { return };
            let next = list.pop();
            if list.is_empty() {
                // Put aside at once, so that `unreclaimed.len()` counts the from-spaces whose headers still wait.
                let empty = self.unreclaimed.remove(0);
                self.spare_lists.push(empty);
            }
            let Some(id) = next else { continue };
            budget -= 1;
            self.reclaim_if_dead(id);
        }
    }

    /// Frees every dead header still waiting in `unreclaimed`.
    pub(crate) fn reclaim_all_unreclaimed(&mut self) {
        while let Some(mut list) = self.unreclaimed.pop() {
            for id in list.drain(..) {
                self.reclaim_if_dead(id);
            }
            self.spare_lists.push(list);
        }
    }

    /// Frees the header of `id`, taken from a past from-space's list, if it is a dead young object (it may have
    /// survived, or been freed already).
    #[inline]
    fn reclaim_if_dead(&mut self, id: ObjectId) {
        if matches!(self.objects.get(id), Some(o) if !self.is_live_header(o)) {
            self.free_object(id);
            self.unreclaimed_dead -= 1;
        }
    }

    /// V8's `NewLargeObjectSpace::AllocateRaw` capacity test, with the retry path on failure.
    fn allocate_young_large(&mut self, size: u32) -> Result<(), HeapError> {
        let fits = |heap: &mut Heap| {
            let used = heap.new_lo_space.used_bytes;
            // Promoting the objects already there must be possible, and the space holds at most a semi-space's
            // worth, except that the first object always fits.
            let ok = heap.can_expand_old_generation(used)
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

    /// The old generation's capacity: allocatable bytes of old-space pages plus large objects (V8's
    /// `OldGenerationCapacity`).
    pub(crate) fn old_generation_capacity(&self) -> u64 {
        self.old_space.capacity_bytes() + self.lo_space.used_bytes
    }

    /// V8's `CanExpandOldGeneration(size)`.
    pub(crate) fn can_expand_old_generation(&self, size: u64) -> bool {
        self.old_generation_capacity() + size <= self.config.max_old_generation_size
    }

    /// V8's `Heap::CollectGarbage`: choose the collector, run it, then apply the heap-limit checks.
    pub(crate) fn collect_garbage(&mut self, requested: Generation, reason: GcReason) -> Result<GcEvent, HeapError> {
        let young_bytes = self.new_space.capacity_bytes() + self.new_lo_space.used_bytes;
        let (collector, collector_reason) = match requested {
            Generation::Old => (Collector::MarkCompact, Some(CollectorReason::OldSpaceRequested)),
            Generation::Young
                if !heap_controller::can_promote_young_and_expand_old_generation(
                    self.old_generation_capacity(),
                    young_bytes,
                    self.config.max_old_generation_size,
                ) =>
            {
                (Collector::MarkCompact, Some(CollectorReason::ScavengeMightNotSucceed))
            }
            Generation::Young => (Collector::Scavenge, None),
        };
        if !self.heap_map_requests.is_empty() {
            self.take_requested_heap_map(HeapMapMoment::Before(self.tracer.collections + 1), collector);
        }
        let event = match collector {
            Collector::Scavenge => self.scavenge(reason),
            Collector::MarkCompact => self.mark_compact(reason, collector_reason),
        };
        self.recycle_scratch(collector);
        self.record_event(event.clone());
        if !self.heap_map_requests.is_empty() {
            self.take_requested_heap_map(HeapMapMoment::After(event.number), collector);
        }
        match collector {
            Collector::MarkCompact => {
                self.mark_compact_pending = false;
                self.check_ineffective_mark_compact()?;
            }
            Collector::Scavenge => {
                if self.old_generation_size() >= self.limits.allocation_limit {
                    self.mark_compact_pending = true;
                }
            }
        }
        if !self.can_expand_old_generation(0) {
            return Err(self.die(OomLocation::ReachedHeapLimit));
        }
        Ok(event)
    }

    /// Ends a collection's use of scratch memory. The arena is reset, which keeps its last (largest) chunk so that
    /// the next collection finds it in memory: faulting the sweep's list of live old objects (16 B each) in again
    /// at every full GC made full GCs of 3 M objects 15-20 % slower (docs/performance.md, "Memory per live
    /// object"). V8 frees its marking worklists' segments as they drain; the simulator gives its arena back once
    /// the heap has shrunk: after a mark-compact, when the arena is more than [`SCRATCH_SLACK`] times larger than
    /// what that mark-compact and the scavenges since the previous one used. Scavenges never give it back: what
    /// they use is bounded by new space.
    fn recycle_scratch(&mut self, collector: Collector) {
        let used = std::mem::take(&mut self.scratch_used);
        self.scratch.reset();
        match collector {
            Collector::Scavenge => self.scavenge_scratch_used = self.scavenge_scratch_used.max(used),
            Collector::MarkCompact => {
                let needed = used.max(std::mem::take(&mut self.scavenge_scratch_used));
                if self.scratch.allocated_bytes() > SCRATCH_KEPT_BYTES.max(SCRATCH_SLACK * needed) {
                    self.scratch = Bump::new();
                }
            }
        }
    }

    fn check_ineffective_mark_compact(&mut self) -> Result<(), HeapError> {
        let ineffective = heap_controller::is_ineffective_mark_compact(
            self.old_generation_size(),
            self.config.max_old_generation_size,
            self.tracer.average_mutator_utilization(),
        );
        if !ineffective {
            self.limits.consecutive_ineffective_mark_compacts = 0;
            return Ok(());
        }
        self.limits.consecutive_ineffective_mark_compacts += 1;
        if self.limits.consecutive_ineffective_mark_compacts
            >= heap_controller::MAX_CONSECUTIVE_INEFFECTIVE_MARK_COMPACTS
        {
            return Err(self.die(OomLocation::IneffectiveMarkCompacts));
        }
        Ok(())
    }

    fn record_event(&mut self, event: GcEvent) {
        self.totals.pause_ms += event.pause_ms;
        match event.collector {
            Collector::Scavenge => self.totals.scavenge_pause_ms += event.pause_ms,
            Collector::MarkCompact => self.totals.mark_compact_pause_ms += event.pause_ms,
        }
        self.totals.max_pause_ms = self.totals.max_pause_ms.max(event.pause_ms);
        self.totals.promoted_bytes += event.promoted_bytes;
        self.totals.copied_bytes += event.copied_bytes;
        match event.collector {
            Collector::Scavenge => self.totals.scavenges += 1,
            Collector::MarkCompact => self.totals.mark_compacts += 1,
        }
        for observer in &mut self.observers {
            observer(&event);
        }
        let limit_before = self
            .events()
            .last()
            .map_or_else(|| self.config.initial_old_generation_limit(), |e| e.old_generation_allocation_limit);
        self.events.push(event, limit_before);
    }

    /// Marks the program dead and returns the error to report.
    fn die(&mut self, location: OomLocation) -> HeapError {
        let oom = OutOfMemory {
            location,
            at_ms: self.tracer.now_ms,
            old_generation_bytes: self.old_generation_size(),
            max_old_generation_size: self.config.max_old_generation_size,
        };
        self.oom = Some(oom.clone());
        HeapError::OutOfMemory(oom)
    }

    /// Builds the common part of a GC event; the collector fills in its own counters.
    pub(crate) fn begin_event(
        &mut self,
        collector: Collector,
        reason: GcReason,
        collector_reason: Option<CollectorReason>,
    ) -> GcEvent {
        self.tracer.start_cycle();
        let before = self.usage();
        GcEvent {
            number: self.tracer.collections,
            collector,
            reason,
            collector_reason,
            start_ms: self.tracer.now_ms,
            pause_ms: 0.0,
            before,
            after: before,
            copied_bytes: 0,
            copied_objects: 0,
            promoted_bytes: 0,
            promoted_objects: 0,
            died_bytes: 0,
            died_objects: 0,
            marked_bytes: 0,
            marked_objects: 0,
            swept_pages: 0,
            evacuated_pages: 0,
            evacuated_bytes: 0,
            released_pages: 0,
            holes_bytes: 0,
            semi_space_capacity: 0,
            old_generation_allocation_limit: 0,
            average_mutator_utilization: 1.0,
            current_mutator_utilization: 1.0,
        }
    }

    /// Completes an event: pause, clock, usage after, limits and mutator utilization.
    pub(crate) fn finish_event(&mut self, event: &mut GcEvent, pause_ms: f64, mark_compact_live: Option<u64>) {
        self.tracer.end_cycle(pause_ms, mark_compact_live);
        self.fill_event_after(event, pause_ms);
    }

    /// Fills in an event's "after" fields, once the tracer has closed the cycle.
    pub(crate) fn fill_event_after(&mut self, event: &mut GcEvent, pause_ms: f64) {
        event.pause_ms = pause_ms;
        event.after = self.usage();
        event.holes_bytes = self.old_space.holes_bytes();
        event.semi_space_capacity = self.new_space.capacity_bytes();
        event.old_generation_allocation_limit = self.limits.allocation_limit;
        event.average_mutator_utilization = self.tracer.average_mutator_utilization();
        event.current_mutator_utilization = self.tracer.current_mutator_utilization();
    }

    // Read access for the analyses.

    /// The reference slots of an object's header.
    pub(crate) fn slots_of(&self, o: &HeapObject) -> &[Option<ObjectId>] {
        self.slots.run(o.slot_start, o.slot_count)
    }

    /// The objects held by the open handle scopes, outermost first.
    pub(crate) fn scope_handles(&self) -> &[ObjectId] {
        self.scopes.handles()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotmap::Key;

    /// The slot-map index of a handle.
    fn index(id: ObjectId) -> u32 {
        id.data().as_ffi() as u32
    }

    /// Allocations after a scavenge take the slot-map entries of the dead objects one by one, last allocated first, so
    /// the header table is walked sequentially however many cycles have passed.
    #[test]
    fn dead_young_headers_are_reused_in_order() {
        let mut heap = Heap::default();
        let mut previous: Vec<u32> = Vec::new();
        for cycle in 0..20 {
            heap.enter_scope();
            let ids: Vec<ObjectId> = (0..1_000).map(|_| heap.alloc(32, 2, Labels::NONE).unwrap()).collect();
            heap.exit_scope().unwrap();
            let indices: Vec<u32> = ids.iter().map(|&id| index(id)).collect();
            if cycle > 0 {
                let reversed: Vec<u32> = previous.iter().rev().copied().collect();
                assert_eq!(indices, reversed, "cycle {cycle}");
            }
            previous = indices;
            heap.collect(Collection::Minor).unwrap();
            assert!(heap.verify().is_clean());
        }
    }

    /// Headers hold an index into a table of label combinations: each combination is stored once, and objects read
    /// back the labels they were given.
    #[test]
    fn label_combinations_are_stored_once() {
        let mut heap = Heap::default();
        let (socket, conn) = (heap.label("Socket"), heap.label("conn-1"));
        let combos = [
            Labels { kind: Some(socket), tag: Some(conn), site: None },
            Labels { kind: Some(socket), ..Labels::NONE },
            Labels::NONE,
            Labels { tag: Some(conn), ..Labels::NONE },
        ];
        let ids: Vec<(ObjectId, Labels)> = (0..12)
            .map(|i| {
                let labels = combos[i % combos.len()];
                (heap.alloc(32, 0, labels).unwrap(), labels)
            })
            .collect();
        for (id, labels) in ids {
            assert_eq!(heap.object(id).unwrap().labels, labels);
        }
        assert_eq!(heap.label_sets.len(), combos.len(), "one entry per combination, NONE included");
    }

    /// The epoch counts flips modulo 2^21; a dead young header of epoch 0 still waiting when the epoch comes round
    /// to 0 again would read as live, so every waiting header is reclaimed before the epoch wraps.
    #[test]
    fn dead_young_headers_stay_dead_across_an_epoch_wrap() {
        let mut heap = Heap::default();
        heap.enter_scope();
        let dead: Vec<ObjectId> = (0..100).map(|_| heap.alloc(32, 1, Labels::NONE).unwrap()).collect();
        heap.exit_scope().unwrap();
        heap.collect(Collection::Minor).unwrap();
        assert_eq!((heap.new_space.epoch, heap.unreclaimed_dead), (1, 100));
        // As after 2^21 - 2 more scavenges with no allocation in between (same parity: the same semi-space).
        heap.new_space.epoch = crate::object::MAX_EPOCH;
        heap.collect(Collection::Minor).unwrap();
        assert_eq!(heap.new_space.epoch, 0);
        assert!(dead.iter().all(|&id| !heap.is_alive(id)));
        assert_eq!((heap.object_count(), heap.unreclaimed_dead), (0, 0));
        let id = heap.alloc(32, 1, Labels::NONE).unwrap();
        assert!(heap.is_alive(id));
        assert!(heap.verify().is_clean());
    }

    /// A full slot arena (2^32 slots; lowered here) used to panic; the allocation is refused and the heap unchanged.
    #[test]
    fn arena_exhaustion_is_an_error_not_a_panic() {
        let mut heap = Heap::default();
        heap.slots.set_limit(10);
        let a = heap.alloc(64, 6, Labels::NONE).unwrap();
        heap.add_root("r", a).unwrap();
        let before = (heap.object_count(), heap.totals().allocated_bytes, heap.usage());
        assert_eq!(heap.alloc(64, 5, Labels::NONE), Err(HeapError::SlotsExhausted { slots: 5, in_use: 6 }));
        assert_eq!((heap.object_count(), heap.totals().allocated_bytes, heap.usage()), before);
        assert!(heap.alloc(64, 4, Labels::NONE).is_ok());
        assert!(heap.verify().is_clean());
    }

    /// However many objects die young, and whether they die on their first scavenge or after surviving one, dead
    /// headers waiting to be reclaimed stay under two semi-spaces' worth of objects.
    #[test]
    fn the_backlog_of_dead_headers_stays_bounded() {
        for survivors_in_ten in [0, 5, 9] {
            let config = HeapConfig { max_semi_space_size: 2 * crate::MIB, ..HeapConfig::default() };
            let semi_space_objects = config.max_semi_space_size / 32;
            let mut heap = Heap::new(config).unwrap();
            let mut kept: std::collections::VecDeque<ObjectId> = Default::default();
            let mut most = 0;
            for i in 0..1_000_000u64 {
                let id = heap.alloc(32, 1, Labels::NONE).unwrap();
                if i % 10 < survivors_in_ten {
                    // Kept through one scavenge (copied), then dropped before the next (dies in new space).
                    heap.add_root("kept", id).unwrap();
                    kept.push_back(id);
                    if kept.len() > 20_000 {
                        let old = kept.pop_front().unwrap();
                        heap.remove_root("kept", old).unwrap();
                    }
                }
                most = most.max(heap.unreclaimed_dead);
            }
            eprintln!("{survivors_in_ten}: most {most} of {semi_space_objects}, {} scavenges", heap.totals().scavenges);
            assert!(most <= 2 * semi_space_objects, "{most} dead headers");
            assert!(heap.verify().is_clean());
            assert!(heap.totals().scavenges > 10);
        }
    }
}
