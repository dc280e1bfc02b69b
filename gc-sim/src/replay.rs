//! Replaying a trace through the simulated heap.
//!
//! [`Replay`] applies [`TraceEvent`]s to a [`Heap`], translating the trace's object ids to handles and every
//! mistake in the trace (an unknown id, a freed object, a bad slot) to a [`Problem`]. [`replay_trace`] reads and
//! replays a whole trace in one call, for tests:
//!
//! ```
//! use gc_sim::replay::replay_trace;
//! use gc_sim::Report;
//!
//! let trace = r#"{"format": "gc-sim-trace", "version": 1, "name": "tiny", "events": [
//!     {"op": "alloc", "id": 1, "size": 64, "slots": 1, "root": "timers"},
//!     {"op": "alloc", "id": 2, "size": 32},
//!     {"op": "gc", "kind": "major"}
//! ]}"#;
//! let replay = replay_trace(trace.as_bytes(), "tiny.json", None, |header| Ok(header.heap.clone()))?;
//! let report = Report::new(&replay, None);
//! assert_eq!(report.summary.mark_compacts, 1);
//! assert_eq!(report.summary.live_bytes, 64);
//! # Ok::<(), gc_sim::trace::TraceError>(())
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::BufRead;

use rangemap::RangeInclusiveSet;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::config::HeapConfig;
use crate::error::HeapError;
use crate::gc_tracer::HeapUsage;
use crate::heap::Heap;
use crate::heap_map::HeapMapRecorder;
use crate::object::{Labels, ObjectId};
use crate::startup_heap::StartupHeap;
use crate::trace::{read_trace, Flow, Problem, ProblemKind, TraceError, TraceEvent, TraceFormat, TraceHeader};
use crate::trace::{ReadSummary, TraceVisitor};

/// A `mark` annotation of a trace, placed on the simulated clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Simulated time, ms.
    pub t_ms: f64,
    /// The annotation's text.
    pub label: String,
    /// Index of the `mark` event in the trace (0-based, counting events only).
    pub event: u64,
    /// The tag the mark closes, if any (see [`TraceEvent::Mark`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
}

/// A trace being replayed: the heap, the map from trace ids to handles, and the marks seen so far.
pub struct Replay {
    name: String,
    heap: Heap,
    ids: IdTable,
    marks: Vec<Mark>,
    events: u64,
    oom_event: Option<u64>,
    /// Heap usage when the replay started (both semi-spaces are committed from the start), after an import.
    initial_usage: HeapUsage,
    /// The old generation's allocation limit when the replay started, after an import.
    initial_limit: u64,
    /// The heap maps asked for (`gc-sim run --heap-map-at`), taken by GC callbacks on the heap.
    heap_maps: HeapMapRecorder,
}

impl Replay {
    /// Starts a replay named `name` on `heap`.
    pub fn new(name: impl Into<String>, mut heap: Heap) -> Replay {
        let initial_usage = heap.usage();
        let initial_limit = heap.old_generation_allocation_limit();
        let heap_maps = HeapMapRecorder::install(&mut heap);
        Replay {
            heap_maps,
            name: name.into(),
            heap,
            ids: IdTable::default(),
            marks: Vec::new(),
            events: 0,
            oom_event: None,
            initial_usage,
            initial_limit,
        }
    }

    /// Starts the replay of a trace from its header: the one place where a header becomes a heap. The heap has the
    /// header's configuration, changed by `configure` (a command line's flags, a test's limits; `|_| Ok(())` keeps
    /// the trace's own), and the replay the trace's name. Whatever else a caller wants of the heap before the first
    /// event (heap maps, observers) it asks of [`heap_mut`](Self::heap_mut).
    ///
    /// ```
    /// use gc_sim::trace::TraceHeader;
    /// use gc_sim::{HeapConfig, Replay, MIB};
    ///
    /// let header = TraceHeader::new("tiny", HeapConfig::default());
    /// let replay = Replay::from_header(&header, |config| {
    ///     config.max_old_generation_size = 64 * MIB;
    ///     Ok(())
    /// })?;
    /// assert_eq!((replay.name(), replay.heap().config().max_old_generation_size), ("tiny", 64 * MIB));
    /// # Ok::<(), gc_sim::trace::Problem>(())
    /// ```
    ///
    /// The header's `initial_heap` (Node's startup heap) is imported ([`StartupHeap::import_into`]); one that does
    /// not fit the maximum old generation leaves the program dead from the start, as Node would be
    /// ([`Heap::out_of_memory`]), and the first event stops the replay.
    ///
    /// # Errors
    /// A [`ProblemKind::Header`] problem: `configure`'s message as it is, or `heap: ...` for a configuration the
    /// heap rejects, or `initial_heap: ...` for a heap the simulator cannot hold.
    pub fn from_header(
        header: &TraceHeader,
        configure: impl FnOnce(&mut HeapConfig) -> Result<(), String>,
    ) -> Result<Replay, Problem> {
        let mut config = header.heap.clone();
        configure(&mut config).map_err(|e| Problem::new(ProblemKind::Header, e))?;
        let heap = Heap::new(config).map_err(|e| Problem::new(ProblemKind::Header, format!("heap: {e}")))?;
        let mut replay = Replay::new(header.name.clone(), heap);
        if let (Some(startup), Some(snapshot)) = (header.initial_heap, &header.initial_snapshot) {
            return Err(Problem::new(
                ProblemKind::Header,
                format!(
                    "`initial_heap` \"{startup}\" and `initial_snapshot` \"{snapshot}\": give one heap to start from"
                ),
            ));
        }
        if let Some(startup) = header.initial_heap {
            replay
                .import_startup_heap(startup)
                .map_err(|e| Problem::new(ProblemKind::Header, format!("initial_heap \"{startup}\": {e}")))?;
        }
        Ok(replay)
    }

    /// Imports Node's startup heap before the trace's events ([`StartupHeap::import_into`]); its objects have no
    /// trace id. A heap that does not fit the maximum old generation leaves the program dead from the start
    /// ([`Heap::out_of_memory`]), which is not an error here.
    ///
    /// # Errors
    /// As [`Heap::import`], but for [`HeapError::OutOfMemory`].
    pub fn import_startup_heap(&mut self, startup: StartupHeap) -> Result<(), HeapError> {
        match startup.import_into(&mut self.heap) {
            Ok(_) | Err(HeapError::OutOfMemory(_)) => {
                self.refresh_initial_usage();
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Before the first event, the heap usage the timeline starts from is the heap's as it is now (after an import).
    fn refresh_initial_usage(&mut self) {
        if self.events == 0 {
            self.initial_usage = self.heap.usage();
            self.initial_limit = self.heap.old_generation_allocation_limit();
        }
    }

    /// Applies one event. Returns [`Flow::Stop`] once the simulated program has run out of memory (the heap is
    /// then frozen, see [`Heap::out_of_memory`]).
    ///
    /// After the death, an event is ignored: it is not counted in [`events`](Self::events), changes nothing
    /// ([`out_of_memory_event`](Self::out_of_memory_event) stays the event that died), and `apply` returns
    /// [`Flow::Stop`] again, as a program that has died runs nothing more.
    ///
    /// # Errors
    /// A [`Problem`] when the event cannot happen in a real program: an id allocated twice or never allocated, an
    /// object already freed, a slot out of range, an `unroot` of a handle not held, an `exit` with no scope.
    pub fn apply(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        if self.heap.out_of_memory().is_some() {
            return Ok(Flow::Stop);
        }
        let index = self.events;
        self.events += 1;
        let result = self.apply_event(index, event);
        let collections = self.heap.totals().scavenges + self.heap.totals().mark_compacts;
        self.ids.maybe_prune(&self.heap, collections);
        match result {
            Ok(()) => Ok(Flow::Continue),
            Err(Stop::OutOfMemory) => {
                self.oom_event = Some(index);
                Ok(Flow::Stop)
            }
            Err(Stop::Problem(problem)) => Err(problem),
        }
    }

    fn apply_event(&mut self, index: u64, event: TraceEvent<'_>) -> Result<(), Stop> {
        let heap = &mut self.heap;
        match event {
            TraceEvent::Alloc { id, size, slots, kind, tag, site, root, pretenured } => {
                self.ids.check_new(id).map_err(Stop::Problem)?;
                let mut label = |name: Option<std::borrow::Cow<'_, str>>| name.map(|n| heap.label(&n));
                let labels = Labels { kind: label(kind), tag: label(tag), site: label(site) };
                let object =
                    if pretenured { heap.alloc_old(size, slots, labels) } else { heap.alloc(size, slots, labels) }?;
                self.ids.insert(heap, id, object);
                if let Some(root) = root {
                    heap.add_root(&root, object)?;
                }
            }
            TraceEvent::Write { obj, slot, to } => {
                let host = self.ids.resolve(heap, obj).map_err(Stop::Problem)?;
                let target = match to {
                    Some(to) => Some(self.ids.resolve(heap, to).map_err(Stop::Problem)?),
                    None => None,
                };
                heap.write(host, slot, target).map_err(|e| match e {
                    HeapError::SlotOutOfRange { slot, slot_count, .. } => Stop::Problem(Problem::new(
                        ProblemKind::SlotOutOfRange,
                        format!(
                            "slot {slot} is out of range: object {obj} has {slot_count} slot{}",
                            if slot_count == 1 { "" } else { "s" }
                        ),
                    )),
                    other => Stop::from(other),
                })?;
            }
            TraceEvent::Root { id, root } => {
                let object = self.ids.resolve(heap, id).map_err(Stop::Problem)?;
                heap.add_root(&root, object)?;
            }
            TraceEvent::Unroot { id, root } => {
                let object = self.ids.resolve(heap, id).map_err(Stop::Problem)?;
                heap.remove_root(&root, object).map_err(|e| match e {
                    HeapError::NotRooted { .. } => Stop::Problem(Problem::new(
                        ProblemKind::NotRooted,
                        format!("`unroot`: root set \"{root}\" holds no handle to object {id}"),
                    )),
                    other => Stop::from(other),
                })?;
            }
            TraceEvent::Enter => heap.enter_scope(),
            TraceEvent::Exit => heap.exit_scope().map_err(|e| match e {
                HeapError::NoOpenScope => Stop::Problem(Problem::new(
                    ProblemKind::NoOpenScope,
                    "`exit` with no open handle scope (no matching `enter`)",
                )),
                other => Stop::from(other),
            })?,
            TraceEvent::Tick { ms } => {
                // The reader has checked that `ms` is a finite number >= 0; what is left is the clock's overflow.
                let now = heap.now_ms();
                heap.advance(ms).map_err(|e| match e {
                    HeapError::InvalidTime { .. } => Stop::Problem(Problem::new(
                        ProblemKind::Field,
                        format!(
                            "`ms` is {ms:e}: the simulated clock, at {now:e} ms, would pass the largest finite time"
                        ),
                    )),
                    // A collection run by a task (the scavenge task, finalizing incremental marking) ended the
                    // program.
                    e => Stop::from(e),
                })?;
            }
            TraceEvent::Gc { kind } => {
                heap.collect(kind)?;
            }
            TraceEvent::Mark { label, closes } => self.marks.push(Mark {
                t_ms: heap.now_ms(),
                label: label.into_owned(),
                event: index,
                closes: closes.map(Cow::into_owned),
            }),
        }
        Ok(())
    }

    /// The heap maps of this replay: ask for one with [`HeapMapRecorder::request`] before the collection it
    /// belongs to; the report reads them (and whether the map at the end was asked for).
    pub fn heap_maps(&self) -> &HeapMapRecorder {
        &self.heap_maps
    }

    /// Imports a heap before the trace's events ([`Heap::import`]), naming its objects by `ids` (a snapshot's
    /// node ids, in the import's order): the trace can use them in `write`, `root` and `unroot`, and an `alloc` of
    /// one of these ids gives the name to the trace's new object from then on (the imported object stays, unnamed).
    ///
    /// # Errors
    /// As [`Heap::import`], and [`HeapError::ImportReference`] when `ids` and the import differ in length.
    pub fn import(&mut self, import: &crate::heap::import::HeapImport, ids: &[u64]) -> Result<(), HeapError> {
        if ids.len() != import.len() {
            return Err(HeapError::ImportReference {
                object: u32::MAX,
                reference: ids.len() as u32,
                objects: import.len() as u32,
            });
        }
        let handles = self.heap.import(import);
        if matches!(handles, Ok(_) | Err(HeapError::OutOfMemory(_))) {
            self.refresh_initial_usage();
        }
        self.ids.imported.extend(ids.iter().copied().zip(handles?));
        Ok(())
    }

    /// The trace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The simulated heap.
    pub fn heap(&self) -> &Heap {
        &self.heap
    }

    /// The simulated heap, for observers or direct inspection.
    pub fn heap_mut(&mut self) -> &mut Heap {
        &mut self.heap
    }

    /// The handle of the object the trace calls `id`, while it is alive.
    pub fn object(&self, id: u64) -> Option<ObjectId> {
        self.ids.get(id).filter(|&o| self.heap.is_alive(o))
    }

    /// The trace ids of objects that may be alive, with their handles (freed ones may linger until pruned; check
    /// [`Heap::is_alive`]). In no particular order.
    pub fn trace_ids(&self) -> impl Iterator<Item = (u64, ObjectId)> + '_ {
        self.ids.iter()
    }

    /// Whether the trace has allocated an object with id `id` (alive or not).
    pub fn was_allocated(&self, id: u64) -> bool {
        self.ids.get(id).is_some() || self.ids.was_used(id)
    }

    /// Events applied so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The `mark` annotations seen so far.
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// Index of the event during which the program ran out of memory, if it did.
    pub fn out_of_memory_event(&self) -> Option<u64> {
        self.oom_event
    }

    /// Heap usage when the replay started.
    pub fn initial_usage(&self) -> HeapUsage {
        self.initial_usage
    }

    /// The old generation's allocation limit when the replay started (after an imported heap, the limit computed
    /// from it).
    pub fn initial_old_generation_limit(&self) -> u64 {
        self.initial_limit
    }
}

/// Why applying an event stopped short.
enum Stop {
    /// The simulated program died.
    OutOfMemory,
    /// The event is impossible.
    Problem(Problem),
}

impl From<HeapError> for Stop {
    fn from(e: HeapError) -> Stop {
        match e {
            HeapError::OutOfMemory(_) => Stop::OutOfMemory,
            // The replay checks ids, slots and scopes itself; anything else is reported as the heap words it.
            other => Stop::Problem(Problem::new(ProblemKind::Field, other.to_string())),
        }
    }
}

/// Reads a whole trace and replays it. `build` turns the header into the heap configuration to use (apply
/// overrides there; `Ok(header.heap.clone())` takes the trace's own).
///
/// Running out of memory is not an error: the returned replay's heap reports it
/// ([`Heap::out_of_memory`]) and the events after it are not read.
///
/// # Errors
/// The first problem in the trace, with its position; a configuration `build` rejects is a header problem.
pub fn replay_trace(
    input: impl BufRead,
    source_name: &str,
    format: Option<TraceFormat>,
    build: impl FnOnce(&TraceHeader) -> Result<HeapConfig, String>,
) -> Result<Replay, TraceError> {
    let mut visitor = Replayer { build: Some(build), replay: None };
    let summary: ReadSummary = read_trace(input, source_name, format, &mut visitor)?;
    debug_assert_eq!(visitor.replay.as_ref().map(Replay::events), Some(summary.events));
    Ok(visitor.replay.expect("read_trace calls header() before returning Ok"))
}

struct Replayer<B> {
    build: Option<B>,
    replay: Option<Replay>,
}

impl<B: FnOnce(&TraceHeader) -> Result<HeapConfig, String>> TraceVisitor for Replayer<B> {
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
        let build = self.build.take().expect("one header per trace");
        self.replay = Some(Replay::from_header(&header, |config| {
            *config = build(&header)?;
            Ok(())
        })?);
        Ok(())
    }

    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        self.replay.as_mut().expect("the header comes first").apply(event)
    }
}

/// The trace's ids: the handles of objects that may be alive, and every id ever allocated.
///
/// Ids of freed objects are pruned from `live` after collections, so the table stays the size of the live set.
/// `used` remembers every allocated id, to tell a duplicate or a freed object from an unknown id; as a set of
/// ranges it stays tiny when ids are allocated in runs (the usual counter), and costs about 32 bytes per run
/// otherwise.
/// The trace's ids of the objects that may be alive, and every id ever allocated (to tell a freed object from
/// one never allocated).
///
/// Traces allocate ids in runs of consecutive numbers and mostly refer to recent objects, so the ids of the latest
/// run live in `recent`, a window indexed by `id - recent_start` (no hashing). Ids that leave the window, or come
/// out of order, go to the hash map `older`, but only if their object is still alive: in a mostly-dead program
/// most never get there.
#[derive(Default)]
struct IdTable {
    /// `recent[i]` is the object with id `recent_start + i`: a suffix of the current run of consecutive ids.
    recent: VecDeque<ObjectId>,
    recent_start: u64,
    older: FxHashMap<u64, ObjectId>,
    /// Objects of an imported heap (`--initial-heap`), by their snapshot ids. A trace's `alloc` of the same id
    /// names its own object from then on: ids the trace allocated come first.
    imported: FxHashMap<u64, ObjectId>,
    used: RangeInclusiveSet<u64>,
    /// The run of consecutive ids being allocated, not yet merged into `used`.
    run: Option<(u64, u64)>,
    /// Collections seen at the last pruning.
    pruned_at: u64,
    /// Size of `older` after the last pruning.
    older_after_prune: usize,
}

/// How many ids the window of recent ones holds (8 bytes each).
const RECENT_IDS: usize = 1 << 18;

impl IdTable {
    fn was_used(&self, id: u64) -> bool {
        matches!(self.run, Some((start, end)) if (start..=end).contains(&id)) || self.used.contains(&id)
    }

    fn check_new(&self, id: u64) -> Result<(), Problem> {
        if self.was_used(id) {
            return Err(Problem::new(
                ProblemKind::DuplicateId,
                format!("`alloc` reuses id {id}: ids must be unique in a trace"),
            ));
        }
        Ok(())
    }

    fn insert(&mut self, heap: &Heap, id: u64, object: ObjectId) {
        // 0 here means that the window ends at id 2^64 - 1: no id follows it, so any id starts the window again.
        let next = self.recent_start.wrapping_add(self.recent.len() as u64);
        if self.recent.is_empty() {
            self.recent_start = id;
        } else if id != next || next == 0 {
            // Out of order: the window starts again at `id`.
            for (i, &old) in self.recent.iter().enumerate() {
                if heap.is_alive(old) {
                    self.older.insert(self.recent_start + i as u64, old);
                }
            }
            self.recent.clear();
            self.recent_start = id;
        }
        self.recent.push_back(object);
        if self.recent.len() > RECENT_IDS {
            let old = self.recent.pop_front().expect("the window is not empty");
            if heap.is_alive(old) {
                self.older.insert(self.recent_start, old);
            }
            self.recent_start += 1;
        }
        self.run = match self.run {
            Some((start, end)) if end.checked_add(1) == Some(id) => Some((start, id)),
            Some((start, end)) => {
                self.used.insert(start..=end);
                Some((id, id))
            }
            None => Some((id, id)),
        };
    }

    /// The object with trace id `id`, if it may be alive (it may have been freed since: check [`Heap::is_alive`]).
    fn get(&self, id: u64) -> Option<ObjectId> {
        match id.checked_sub(self.recent_start) {
            Some(offset) if offset < self.recent.len() as u64 => Some(self.recent[offset as usize]),
            _ => match self.older.get(&id) {
                Some(&object) => Some(object),
                None if self.imported.is_empty() || self.was_used(id) => None,
                None => self.imported.get(&id).copied(),
            },
        }
    }

    fn iter(&self) -> impl Iterator<Item = (u64, ObjectId)> + '_ {
        let recent = self.recent.iter().enumerate().map(|(i, &object)| (self.recent_start + i as u64, object));
        let imported = self.imported.iter().filter(|&(&id, _)| !self.was_used(id));
        recent.chain(self.older.iter().map(|(&id, &object)| (id, object))).chain(imported.map(|(&id, &o)| (id, o)))
    }

    fn resolve(&self, heap: &Heap, id: u64) -> Result<ObjectId, Problem> {
        match self.get(id) {
            Some(object) if heap.is_alive(object) => Ok(object),
            Some(_) => Err(freed(id)),
            None if self.was_used(id) => Err(freed(id)),
            None => Err(Problem::new(
                ProblemKind::UnknownId,
                format!("object {id} was never allocated (no `alloc` with this id before)"),
            )),
        }
    }

    /// Drops freed objects from `older` once it has doubled since the last pruning and a collection has run.
    fn maybe_prune(&mut self, heap: &Heap, collections: u64) {
        if collections == self.pruned_at || self.older.len() < 2 * self.older_after_prune + 4096 {
            return;
        }
        self.older.retain(|_, object| heap.is_alive(*object));
        self.imported.retain(|_, object| heap.is_alive(*object));
        self.pruned_at = collections;
        self.older_after_prune = self.older.len();
    }

    /// Number of ids held (alive or not yet pruned).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.recent.len() + self.older.len()
    }
}

fn freed(id: u64) -> Problem {
    Problem::new(
        ProblemKind::FreedObject,
        format!(
            "the trace uses object {id}, which was unreachable at its last collection: root it or keep a reference"
        ),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::heap::Collection;
    use crate::trace::ProblemKind;

    /// Replays an NDJSON trace of `events` after a default header (for the tests of this crate).
    pub(crate) fn run(events: &[&str]) -> Result<Replay, TraceError> {
        let mut text = String::from(r#"{"format": "gc-sim-trace", "version": 1, "name": "t"}"#);
        for e in events {
            text.push('\n');
            text.push_str(e);
        }
        replay_trace(text.as_bytes(), "t.ndjson", None, |h| Ok(h.heap.clone()))
    }

    fn problem(events: &[&str]) -> TraceError {
        run(events).err().expect("the trace is invalid")
    }

    const A1: &str = r#"{"op": "alloc", "id": 1, "size": 16, "slots": 1, "root": "r"}"#;

    #[test]
    fn impossible_events_are_reported_with_their_line() {
        let cases: [(&[&str], ProblemKind, &str); 6] = [
            (&[A1, A1], ProblemKind::DuplicateId, "t.ndjson:3: `alloc` reuses id 1"),
            (&[A1, r#"{"op": "write", "obj": 1, "slot": 0, "to": 9}"#], ProblemKind::UnknownId, "t.ndjson:3: object 9 was never allocated"),
            (&[A1, r#"{"op": "write", "obj": 1, "slot": 1, "to": null}"#], ProblemKind::SlotOutOfRange, "slot 1 is out of range: object 1 has 1 slot"),
            (&[A1, r#"{"op": "unroot", "id": 1, "root": "timers"}"#], ProblemKind::NotRooted, "root set \"timers\" holds no handle to object 1"),
            (&[r#"{"op": "exit"}"#], ProblemKind::NoOpenScope, "t.ndjson:2: `exit` with no open handle scope"),
            (
                &[r#"{"op": "alloc", "id": 2, "size": 16}"#, r#"{"op": "gc", "kind": "minor"}"#, r#"{"op": "root", "id": 2, "root": "r"}"#],
                ProblemKind::FreedObject,
                "t.ndjson:4: the trace uses object 2, which was unreachable at its last collection: root it or keep a reference",
            ),
        ];
        for (events, kind, message) in cases {
            let e = problem(events);
            assert_eq!(e.kind(), kind, "{e}");
            assert!(e.to_string().contains(message), "{e}\n  expected: {message}");
        }
    }

    #[test]
    fn ids_in_any_order_are_remembered_and_pruned() {
        let mut events = vec![r#"{"op": "enter"}"#.to_owned()];
        // Ids out of order: every one is its own run.
        for i in 0..10_000u64 {
            let id = (i * 7919) % 10_007;
            events.push(format!(r#"{{"op": "alloc", "id": {id}, "size": 64}}"#));
        }
        events.push(r#"{"op": "exit"}"#.to_owned());
        events.push(r#"{"op": "gc", "kind": "minor"}"#.to_owned());
        events.push(r#"{"op": "alloc", "id": 20000, "size": 64}"#.to_owned());
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        let replay = run(&refs).unwrap();
        assert!(replay.ids.older.len() <= 1, "pruned after the scavenge: {}", replay.ids.older.len());
        assert!(replay.ids.len() <= 2, "{}", replay.ids.len());
        let dup = format!(r#"{{"op": "alloc", "id": {}, "size": 8}}"#, (5000 * 7919) % 10_007);
        let mut again = refs.clone();
        again.push(&dup);
        assert_eq!(problem(&again).kind(), ProblemKind::DuplicateId, "remembered after pruning");
        let mut freed = refs.clone();
        freed.push(r#"{"op": "root", "id": 7919, "root": "r"}"#);
        assert_eq!(problem(&freed).kind(), ProblemKind::FreedObject);
    }

    /// Ids that leave the window of recent ones still resolve while their object lives, and are reported freed
    /// once it is not.
    #[test]
    fn ids_outside_the_recent_window_resolve_until_freed() {
        let heap = Heap::new(HeapConfig::default()).unwrap();
        let mut replay = Replay::new("t", heap);
        let alloc = |id: u64, root: Option<&'static str>| TraceEvent::Alloc {
            id,
            size: 16,
            slots: 1,
            kind: None,
            tag: None,
            site: None,
            root: root.map(Cow::Borrowed),
            pretenured: false,
        };
        let count = RECENT_IDS as u64 + 1_000;
        replay.apply(TraceEvent::Enter).unwrap();
        for id in 1..=count {
            replay.apply(alloc(id, (id % 1_000 == 1).then_some("kept"))).unwrap();
        }
        replay.apply(TraceEvent::Exit).unwrap();
        assert!(replay.ids.older.len() >= 1_000, "ids evicted from the window while alive");
        replay.apply(TraceEvent::Gc { kind: Collection::Major }).unwrap();
        let last_kept = (count - 1) / 1_000 * 1_000 + 1;
        for id in [1, 1_001, last_kept] {
            assert!(replay.object(id).is_some(), "object {id} is rooted");
            let write = TraceEvent::Write { obj: id, slot: 0, to: Some(1) };
            assert_eq!(replay.apply(write), Ok(Flow::Continue));
        }
        for id in [2, count] {
            assert!(replay.object(id).is_none());
            let error = replay.apply(TraceEvent::Write { obj: id, slot: 0, to: None }).unwrap_err();
            assert_eq!(error.kind, ProblemKind::FreedObject, "{error}");
        }
        // Out of order again: the window restarts, and older ids are still known.
        replay.apply(alloc(count + 10, Some("kept"))).unwrap();
        assert!(replay.object(last_kept).is_some() && replay.object(count + 10).is_some());
        let error = replay.apply(alloc(count - 5, None)).unwrap_err();
        assert_eq!(error.kind, ProblemKind::DuplicateId);
        let kept: Vec<u64> = replay.trace_ids().filter(|&(_, o)| replay.heap().is_alive(o)).map(|(id, _)| id).collect();
        assert_eq!(kept.len() as u64, (count - 1) / 1_000 + 2, "{kept:?}");
    }

    /// `from_header` is where every header becomes a heap: the header's configuration, then `configure`'s changes;
    /// a refusal of either is a header problem, worded by whoever refused.
    #[test]
    fn from_header_configures_the_heap_or_names_the_refusal() {
        let header = TraceHeader::new("h", HeapConfig { max_semi_space_size: 2 * crate::MIB, ..HeapConfig::default() });
        let replay = Replay::from_header(&header, |config| {
            assert_eq!(config.max_semi_space_size, 2 * crate::MIB, "the header's configuration comes first");
            config.max_old_generation_size = 64 * crate::MIB;
            Ok(())
        })
        .unwrap();
        assert_eq!(replay.name(), "h");
        assert_eq!(replay.heap().config().max_semi_space_size, 2 * crate::MIB);
        assert_eq!(replay.heap().config().max_old_generation_size, 64 * crate::MIB);
        assert_eq!(replay.events(), 0);

        let refused = Replay::from_header(&header, |_| Err("--flag: no".to_owned())).err().unwrap();
        assert_eq!(refused, Problem::new(ProblemKind::Header, "--flag: no"));
        let invalid = Replay::from_header(&header, |config| {
            config.page.page_size = 3000;
            Ok(())
        })
        .err()
        .unwrap();
        assert_eq!(invalid.kind, ProblemKind::Header);
        assert!(invalid.message.starts_with("heap: invalid heap configuration: page.page_size"), "{invalid}");
    }
}
