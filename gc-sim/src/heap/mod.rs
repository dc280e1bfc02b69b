//! The simulated heap and its mutator API (V8's `Heap` plus the allocation paths of `HeapAllocator`).

mod allocation;
mod collection;
mod dead_young_headers;
pub(crate) mod import;
mod marking;
mod posted_tasks;
mod tasks;
pub(crate) mod verifier;

use std::sync::atomic::{AtomicU32, Ordering};

use bumpalo::Bump;
use slotmap::SlotMap;

use crate::collector::incremental_marking::IncrementalMarking;
use crate::config::{ConfigError, HeapConfig};
use crate::controller::memory_reducer::MemoryReducer;
use crate::controller::Generation;
use crate::controller::HeapController;
use crate::error::{HeapError, OutOfMemory};
use crate::gc_tracer::GcReason;
use crate::gc_tracer::{GcEvent, GcStart, GcTotals, GcTracer, HeapUsage, SpaceUsage};
use crate::label_table::LabelTable;
use crate::object::{HeapObject, Label, Labels, ObjectId, ObjectInfo, Space};
use crate::pretenuring::PretenuringFeedback;
use crate::roots::{HandleScopes, RootSets};
use crate::slots::SlotArena;
use crate::space::large_object_space::LargeObjectSpace;
use crate::space::new_space::NewSpace;
use crate::space::old_space::OldSpace;
use crate::space::remembered_set::RememberedSet;
use crate::survival::{TagPromotion, TagPromotions};
use dead_young_headers::DeadYoungHeaders;
use posted_tasks::PostedTasks;

/// A callback run before every collection, with the heap as it is then (V8's `Isolate::AddGCPrologueCallback`).
pub type GcPrologueCallback = Box<dyn FnMut(&Heap, &GcStart)>;
/// A callback run after every collection, with the heap as it is then and the collection's event (V8's
/// `Isolate::AddGCEpilogueCallback`).
pub type GcEpilogueCallback = Box<dyn FnMut(&Heap, &GcEvent)>;

/// Where the mutator asks an object to be allocated (V8's `AllocationType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AllocationType {
    Young,
    Old,
}

/// A collection the program asks for, like `global.gc()` (full) or `--expose-gc`'s `gc({type: 'minor'})`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Collection {
    /// A young-generation collection (a scavenge, unless the old generation could not take the promotions).
    Minor,
    /// A full mark-compact of both generations.
    Major,
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
    config: HeapConfig,
    /// Object headers, by handle.
    objects: SlotMap<ObjectId, HeapObject>,
    /// Every object's reference slots.
    slots: SlotArena,
    labels: LabelTable,
    roots: RootSets,
    scopes: HandleScopes,
    new_space: NewSpace,
    new_lo_space: LargeObjectSpace,
    old_space: OldSpace,
    lo_space: LargeObjectSpace,
    remembered_set: RememberedSet,
    /// Every policy decision: when to collect, limits, resizing, the checks that end the program.
    controller: HeapController,
    /// The running collection's event, the kept events and totals, the clock and speeds.
    tracer: GcTracer,
    /// Per-collection scratch memory (worklists, sort buffers), reset after every collection and given back when
    /// much larger than recent collections needed (see `collection.rs`, `recycle_scratch`).
    scratch: Bump,
    /// The most scratch memory a scavenge used since the last mark-compact.
    scavenge_scratch_used: usize,
    /// Dead young headers not yet reclaimed, and spare object lists.
    dead_young: DeadYoungHeaders,
    /// Number given to the next large page.
    next_large_page: u32,
    /// When tagged objects were promoted.
    tag_promotions: TagPromotions,
    oom: Option<OutOfMemory>,
    prologue_callbacks: Vec<GcPrologueCallback>,
    epilogue_callbacks: Vec<GcEpilogueCallback>,
    /// The incremental marking cycle, when one runs.
    marking: IncrementalMarking,
    /// Foreground tasks posted and not yet run.
    tasks: PostedTasks,
    /// The memory reducer's state.
    memory_reducer: MemoryReducer,
    /// Allocation-site pretenuring feedback and decisions.
    pretenuring: PretenuringFeedback,
    /// The old generation's capacity when the heap was made (V8's `old_generation_capacity_after_bootstrap_`).
    old_generation_capacity_at_start: u64,
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
            .field("totals", &self.tracer.totals)
            .field("now_ms", &self.tracer.now_ms)
            .finish_non_exhaustive()
    }
}

impl Heap {
    /// Creates a heap, checking the configuration.
    pub fn new(config: HeapConfig) -> Result<Heap, ConfigError> {
        config.validate()?;
        /// Identities of heaps, for their labels (wrapping after 2^32 heaps).
        static NEXT_ID: AtomicU32 = AtomicU32::new(0);
        let mut heap = Heap {
            labels: LabelTable::new(NEXT_ID.fetch_add(1, Ordering::Relaxed)),
            new_space: NewSpace::new(&config),
            old_space: OldSpace::new(config.page, config.min_free_block),
            controller: HeapController::new(&config),
            config,
            objects: SlotMap::with_key(),
            slots: SlotArena::default(),
            roots: RootSets::default(),
            scopes: HandleScopes::default(),
            new_lo_space: LargeObjectSpace::default(),
            lo_space: LargeObjectSpace::default(),
            remembered_set: RememberedSet::default(),
            tracer: GcTracer::default(),
            scratch: Bump::new(),
            scavenge_scratch_used: 0,
            dead_young: DeadYoungHeaders::default(),
            next_large_page: 0,
            tag_promotions: TagPromotions::default(),
            oom: None,
            prologue_callbacks: Vec::new(),
            epilogue_callbacks: Vec::new(),
            marking: IncrementalMarking::default(),
            tasks: PostedTasks::default(),
            memory_reducer: MemoryReducer::default(),
            old_generation_capacity_at_start: 0,
            pretenuring: PretenuringFeedback::default(),
        };
        heap.tasks.scavenge_observer_left = heap.scavenge_task_observer_step_bytes();
        Ok(heap)
    }

    /// The configuration the heap was built with.
    pub fn config(&self) -> &HeapConfig {
        &self.config
    }

    // ---------------------------------------------------------------------------------------------------------
    // Labels

    /// Interns `name` as a [`Label`] for [`Labels`].
    pub fn label(&mut self, name: &str) -> Label {
        self.labels.intern(name)
    }

    /// The label `name` if it was interned, without interning it.
    pub fn find_label(&self, name: &str) -> Option<Label> {
        self.labels.find(name)
    }

    /// The string of a label made by [`label`](Self::label).
    ///
    /// # Errors
    /// [`HeapError::UnknownLabel`] for a label of another heap.
    pub fn label_name(&self, label: Label) -> Result<&str, HeapError> {
        self.labels.name(label).ok_or(HeapError::UnknownLabel(label))
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

    /// Stores `target` (or nothing) into slot `slot` of `object`, through the write barriers: a store of a young
    /// object into an old one records the slot in the OLD_TO_NEW remembered set, and while incremental marking runs
    /// the target is marked (the marking barrier).
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
        // The marking barrier (V8's `MarkingBarrier::Write`) while incremental marking runs.
        if let Some(target) = target {
            if self.marking.is_active() {
                self.marking.record_write(&mut self.objects, self.new_space.epoch, target);
            }
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

    /// Advances the mutator's clock by `ms`, a finite number of milliseconds `>= 0`: a turn of the event loop.
    /// Tasks the heap posted run first (the scavenge task, the incremental marking job's start, step and
    /// finalization tasks), then the time passes, during which the concurrent marker works and the memory
    /// reducer's timer may fire; their collections' pauses add to the clock. The clock, and every time reported,
    /// stays finite.
    ///
    /// # Errors
    /// [`HeapError::InvalidTime`] if `ms` is negative or not finite, or would take the clock past the largest
    /// finite time; the clock is then unchanged. [`HeapError::OutOfMemory`] if a collection a task ran ends the
    /// program.
    pub fn advance(&mut self, ms: f64) -> Result<(), HeapError> {
        self.check_not_dead()?;
        let now_ms = self.tracer.now_ms;
        if !(ms.is_finite() && ms >= 0.0 && (now_ms + ms).is_finite()) {
            return Err(HeapError::InvalidTime { ms, now_ms });
        }
        if ms > 0.0 {
            self.run_event_loop(ms)?;
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
        let epoch = self.new_space.epoch;
        self.objects.iter().filter(move |(_, o)| o.is_live(epoch)).map(|(id, o)| (id, self.info(o)))
    }

    /// Number of live objects (see [`objects`](Self::objects)).
    pub fn object_count(&self) -> u64 {
        self.objects.len() as u64 - self.dead_young.dead()
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
        &self.tracer.totals
    }

    /// The collections kept, oldest first: every one up to [`MAX_KEPT_EVENTS`](crate::gc_tracer::MAX_KEPT_EVENTS),
    /// then an even sample of the whole run with the first collection, the longest pause and the last
    /// [`RECENT_EVENTS`](crate::gc_tracer::RECENT_EVENTS), so that memory does not grow with the number of
    /// collections. [`totals`](Self::totals) count every collection. An [epilogue callback](Self::add_gc_epilogue_callback) sees every event.
    pub fn events(&self) -> &[GcEvent] {
        self.tracer.events()
    }

    /// The kept events of the collections numbered after `number` (see [`GcEvent::number`]), oldest first: poll it
    /// with the [`collections`](Self::collections) seen last time. Every one is there as long as no more than
    /// [`RECENT_EVENTS`](crate::gc_tracer::RECENT_EVENTS) collections ran since.
    pub fn events_since(&self, number: u64) -> &[GcEvent] {
        self.tracer.events_since(number)
    }

    /// The allocation limit in force when each kept event started, in the order of [`events`](Self::events).
    pub(crate) fn event_limits_before(&self) -> &[u64] {
        self.tracer.limits_before()
    }

    /// Number of collections run so far (the [`number`](GcEvent::number) of the last one).
    pub fn collections(&self) -> u64 {
        self.tracer.totals.scavenges + self.tracer.totals.mark_compacts
    }

    /// Simulated time in ms: mutator time plus modelled pauses.
    pub fn now_ms(&self) -> f64 {
        self.tracer.now_ms
    }

    /// Whether an incremental marking cycle runs (started and not yet finalized by a mark-compact): the marking
    /// barrier and black allocation are on, and marks may be set.
    pub fn is_marking(&self) -> bool {
        self.marking.is_active()
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
        self.controller.allocation_limit()
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
        self.labels.index(tag)?;
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
        let young_lists =
            std::iter::once(&self.new_space.objects).chain(self.dead_young.lists()).map(Vec::capacity).sum::<usize>();
        Footprint {
            headers: self.objects.capacity() * (std::mem::size_of::<HeapObject>() + 4),
            slots: self.slots.footprint_bytes(),
            remembered_set: self.remembered_set.footprint_bytes(),
            young_lists: young_lists * std::mem::size_of::<ObjectId>(),
            scratch: self.scratch.allocated_bytes() + self.marking.worklist_capacity_bytes(),
        }
    }

    /// Bytes of simulator memory the heap holds: [`footprint`](Self::footprint)`().total()`.
    pub fn footprint_bytes(&self) -> usize {
        self.footprint().total()
    }

    // ---------------------------------------------------------------------------------------------------------
    // Read access for the analyses, the verifier and heap maps

    /// Whether a header in the slot map is a live object (young objects of past epochs are dead).
    #[inline]
    pub(crate) fn is_live_header(&self, o: &HeapObject) -> bool {
        o.is_live(self.new_space.epoch)
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

    /// The labels of an object's header.
    #[inline]
    pub(crate) fn labels_of(&self, o: &HeapObject) -> Labels {
        self.labels.resolve(o.labels)
    }

    /// The index of `label` in this heap's table, or `None` for a label of another heap.
    pub(crate) fn label_index(&self, label: Label) -> Option<usize> {
        self.labels.index(label)
    }

    /// Number of labels interned so far.
    pub(crate) fn label_count(&self) -> usize {
        self.labels.len()
    }

    /// The string of the label numbered `index` (0-based).
    pub(crate) fn label_name_at(&self, index: usize) -> &str {
        self.labels.name_at(index)
    }

    /// Every header in the slot map, live or not yet reclaimed (see [`is_live_header`](Self::is_live_header)).
    pub(crate) fn headers(&self) -> &SlotMap<ObjectId, HeapObject> {
        &self.objects
    }

    /// The reference slots of an object's header.
    pub(crate) fn slots_of(&self, o: &HeapObject) -> &[Option<ObjectId>] {
        self.slots.run(o.slot_start, o.slot_count)
    }

    /// The objects held by the open handle scopes, outermost first.
    pub(crate) fn scope_handles(&self) -> &[ObjectId] {
        self.scopes.handles()
    }

    /// New space.
    pub(crate) fn new_space(&self) -> &NewSpace {
        &self.new_space
    }

    /// Old space.
    pub(crate) fn old_space(&self) -> &OldSpace {
        &self.old_space
    }

    #[inline]
    fn check_not_dead(&self) -> Result<(), HeapError> {
        match &self.oom {
            Some(oom) => Err(HeapError::OutOfMemory(oom.clone())),
            None => Ok(()),
        }
    }

    /// The old generation's capacity: allocatable bytes of old-space pages plus large objects (V8's
    /// `OldGenerationCapacity`).
    fn old_generation_capacity(&self) -> u64 {
        self.old_space.capacity_bytes() + self.lo_space.used_bytes
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
        assert_eq!(heap.labels.set_count(), combos.len(), "one entry per combination, NONE included");
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
        assert_eq!((heap.new_space.epoch, heap.dead_young.dead()), (1, 100));
        // As after 2^21 - 2 more scavenges with no allocation in between (same parity: the same semi-space).
        heap.new_space.epoch = crate::object::MAX_EPOCH;
        heap.collect(Collection::Minor).unwrap();
        assert_eq!(heap.new_space.epoch, 0);
        assert!(dead.iter().all(|&id| !heap.is_alive(id)));
        assert_eq!((heap.object_count(), heap.dead_young.dead()), (0, 0));
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
                most = most.max(heap.dead_young.dead());
            }
            eprintln!("{survivors_in_ten}: most {most} of {semi_space_objects}, {} scavenges", heap.totals().scavenges);
            assert!(most <= 2 * semi_space_objects, "{most} dead headers");
            assert!(heap.verify().is_clean());
            assert!(heap.totals().scavenges > 10);
        }
    }
}
