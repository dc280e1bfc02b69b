//! The synthesized trace's events: each snapshot step replayed (its births, references and roots), then the growth
//! of the last step repeated, every unit of time with its garbage and a `tick`, into any [`EventSink`]: a
//! [`Replay`] (`gc-sim predict`), a trace writer (`gc-sim synthesize`), or both.
//!
//! **Order within a step.** The step's births are allocated in id order, in as many chunks as the step has units
//! (or one per 100 ms of its time without a unit), each chunk followed by its garbage and a `tick` of its time. A
//! born object is held by [`CONSTRUCTION_ROOT`] from its allocation to the end of its step, so that no collection
//! frees what the step has not linked yet; its references are stored as soon as both ends exist. At the end of the
//! step, the older objects' references are rewritten (cutting loose what died), the root handles change, and the
//! construction handles are released: the heap is then the later snapshot's.
//!
//! **Time.** A sink that runs the events (a [`Replay`]) has a clock that counts the collectors' pauses too; the
//! ticks are then paced to it, so that the units of growth arrive at their rate in simulated wall time whatever the
//! collector costs, as a real client's requests do (a storm of mark-compacts leaves the program little mutator
//! time, not fewer requests). A sink that only writes gets ticks of the plain time.
//!
//! **Repetitions.** Each repetition allocates a copy of the growth (ids `r << 32 | snapshot id`; references to
//! objects outside the growth are to the same objects), one unit per `1 / rate` of time. The holders' references
//! to the growth are pointed at the new copy, and the copy they pointed at is rooted under the holder
//! ([`older_growth_root`]): the older entries of a list, map or array stay alive, as in the program.

use std::borrow::Cow;

use super::garbage::GarbageModel;
use super::growth::{
    self, older_growth_root, Birth, Growth, GrowthError, Link, Names, Step, ADDED_REFERENCES_ROOT, CONSTRUCTION_ROOT,
};
use crate::replay::Replay;
use crate::snapshot::diff::DEFAULT_MIN_OBJECTS;
use crate::snapshot::HeapGraph;
use crate::trace::{Flow, Problem, TraceEvent};

/// The kind of the garbage objects.
pub const GARBAGE_KIND: &str = "(synthesized garbage)";
/// The first id of garbage objects (above every repetition's ids).
const GARBAGE_IDS: u64 = 1 << 63;

/// Receives a synthesized trace's events.
pub trait EventSink {
    /// Why the sink failed.
    type Error;
    /// Takes one event; [`Flow::Stop`] ends the synthesis (the simulated program died).
    ///
    /// # Errors
    /// The sink's.
    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Self::Error>;

    /// The simulated clock, ms, when the sink runs the events (a [`Replay`]); `None` for a sink that only writes
    /// them.
    fn now_ms(&self) -> Option<f64> {
        None
    }
}

impl EventSink for Replay {
    type Error = Problem;

    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        self.apply(event)
    }

    fn now_ms(&self) -> Option<f64> {
        Some(self.heap().now_ms())
    }
}

/// How to read the snapshots.
#[derive(Clone, Debug)]
pub struct Options {
    /// The class counted as the unit of growth (`--unit`); inferred when `None`.
    pub unit: Option<String>,
    /// The fewest objects under one holder for its growth to count ([`DEFAULT_MIN_OBJECTS`]).
    pub min_objects: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options { unit: None, min_objects: DEFAULT_MIN_OBJECTS }
    }
}

/// How many times the growth is repeated after the snapshots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Repeat {
    /// This many times (`--repeat-growth N`; 0: the snapshots only).
    Times(u64),
    /// Until the sink stops (the program died) or the trace's time reaches this many ms (`--until-oom`).
    UntilStopped {
        /// The horizon, ms.
        horizon_ms: f64,
    },
}

/// The time and garbage of the events.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Time of each step, ms (one per pair of consecutive snapshots).
    pub step_ms: Vec<f64>,
    /// Units of growth per ms in the repetitions.
    pub units_per_ms: f64,
    /// The repetitions.
    pub repeat: Repeat,
    /// The garbage.
    pub garbage: GarbageModel,
    /// Leave the growth out of the repetitions (time and garbage stay): what the fix buys.
    pub without_growth: bool,
}

/// What the snapshots say, ready to be turned into events.
#[derive(Clone, Debug)]
pub struct Synthesis {
    /// The strings named.
    pub names: Names,
    /// One step per pair of consecutive snapshots.
    pub steps: Vec<Step>,
    /// The growth of the last step.
    pub growth: Growth,
}

/// What [`Synthesis::emit`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Emitted {
    /// Events emitted.
    pub events: u64,
    /// The program's time at the end, ms: the sum of the ticks, or with a sink that runs the events, the
    /// simulated clock the ticks were paced to.
    pub ticks_ms: f64,
    /// Units of growth: those of the steps, then of the repetitions.
    pub units: f64,
    /// Repetitions of the growth completed.
    pub repetitions: u64,
    /// Garbage objects allocated.
    pub garbage_objects: u64,
    /// Their bytes.
    pub garbage_bytes: u64,
    /// Whether the sink stopped the synthesis.
    pub stopped: bool,
}

impl Synthesis {
    /// The synthesis of `snapshots` (two or more, of one process, in order). The born objects' allocation sites
    /// come from the snapshots themselves when they were taken with allocation tracking, and from `timeline` (a
    /// `.heaptimeline` of the same process) when given ([`growth::allocation_sites`]).
    ///
    /// # Errors
    /// [`GrowthError`] when the unit asked for is not among the growth's classes.
    pub fn new(
        snapshots: &[&HeapGraph],
        timeline: Option<&HeapGraph>,
        options: &Options,
    ) -> Result<Synthesis, GrowthError> {
        let mut names = Names::default();
        let mut sites = timeline.map(|t| growth::allocation_sites(t, &mut names)).unwrap_or_default();
        let mut steps = Vec::new();
        let mut last_holders = Vec::new();
        // The slot count of every simulated object: as imported, then as born.
        let mut slots = snapshots.first().map(|&first| growth::imported_slots(first)).unwrap_or_default();
        for (i, pair) in snapshots.windows(2).enumerate() {
            let previous = i.checked_sub(1).map(|p| snapshots[p]);
            let holders = growth::growing_holders(pair[0], pair[1], previous, options.min_objects);
            // Tag each object under a growing holder with the holder's structure.
            let mut tags = rustc_hash::FxHashMap::default();
            for (_, members, description) in &holders {
                let tag = names.intern(description);
                for &n in members {
                    tags.insert(pair[1].id(n), tag);
                }
            }
            for (id, site) in growth::allocation_sites(pair[1], &mut names) {
                sites.entry(id).or_insert(site);
            }
            steps.push(growth::step(pair[0], pair[1], &mut names, &tags, &sites, &mut slots));
            last_holders = holders;
        }
        let growth = match (steps.last(), snapshots.last()) {
            (Some(step), Some(last)) => growth::growth(last, step, &last_holders, &names, options.unit.as_deref())?,
            _ => Growth::default(),
        };
        Ok(Synthesis { names, steps, growth })
    }

    /// Units in step `i`: the objects of the unit's class born in it (0 without a unit).
    pub fn step_units(&self, i: usize) -> f64 {
        let Some(unit) = &self.growth.unit else { return 0.0 };
        let Some(kind) = self.growth.members.iter().map(|b| b.kind).find(|&k| self.names.get(k) == Some(&unit.name))
        else {
            return 0.0;
        };
        self.steps[i].births.iter().filter(|b| b.kind == kind).count() as f64
    }

    /// Emits the events of `plan` into `sink`.
    ///
    /// # Errors
    /// The sink's.
    pub fn emit<S: EventSink>(&self, plan: &Plan, sink: &mut S) -> Result<Emitted, S::Error> {
        let mut e =
            Emitter { sink, names: &self.names, plan, out: Emitted::default(), young_carry: 0.0, old_carry: 0.0 };
        for (i, step) in self.steps.iter().enumerate() {
            let step_ms = plan.step_ms.get(i).copied().unwrap_or(0.0);
            if e.step(step, step_ms, self.step_units(i), i + 1)? == Flow::Stop {
                return Ok(e.out);
            }
        }
        let mut r = 0u64;
        loop {
            match plan.repeat {
                Repeat::Times(n) if r >= n => break,
                Repeat::UntilStopped { horizon_ms } if e.out.ticks_ms >= horizon_ms => break,
                _ => {}
            }
            r += 1;
            if e.repetition(&self.growth, r)? == Flow::Stop {
                break;
            }
            e.out.repetitions = r;
        }
        Ok(e.out)
    }
}

/// One emission's state.
struct Emitter<'a, S> {
    sink: &'a mut S,
    names: &'a Names,
    plan: &'a Plan,
    out: Emitted,
    /// Garbage bytes owed but smaller than an object.
    young_carry: f64,
    old_carry: f64,
}

/// `Stop` from the sink ends the emission: `?` on this.
macro_rules! emit {
    ($self:ident, $event:expr) => {
        if $self.send($event)? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    };
}

impl<'a, S: EventSink> Emitter<'a, S> {
    fn send(&mut self, event: TraceEvent<'_>) -> Result<Flow, S::Error> {
        self.out.events += 1;
        let flow = self.sink.event(event)?;
        if flow == Flow::Stop {
            self.out.stopped = true;
        }
        Ok(flow)
    }

    fn name(&self, name: u32) -> Option<Cow<'a, str>> {
        let names: &'a Names = self.names;
        names.get(name).map(Cow::Borrowed)
    }

    /// Allocates `births`, named by `id`, each held in [`CONSTRUCTION_ROOT`].
    fn allocate(&mut self, births: &[Birth], id: impl Fn(u32) -> u64) -> Result<Flow, S::Error> {
        for b in births {
            let event = TraceEvent::Alloc {
                id: id(b.id),
                size: b.size,
                slots: b.slots,
                kind: self.name(b.kind),
                tag: self.name(b.tag),
                site: self.name(b.site),
                root: Some(Cow::Borrowed(CONSTRUCTION_ROOT)),
                pretenured: false,
            };
            emit!(self, event);
        }
        Ok(Flow::Continue)
    }

    /// `dt` ms of the program: its garbage, then the tick.
    fn time(&mut self, dt: f64) -> Result<Flow, S::Error> {
        let g = &self.plan.garbage;
        let size = f64::from(g.object_size.max(8));
        self.young_carry += g.young_rate(self.out.units) * dt;
        self.old_carry += g.old_rate(self.out.units) * dt;
        for pretenured in [false, true] {
            let carry = if pretenured { &mut self.old_carry } else { &mut self.young_carry };
            let count = (*carry / size).floor().max(0.0);
            *carry -= count * size;
            for _ in 0..count as u64 {
                let id = GARBAGE_IDS + self.out.garbage_objects;
                self.out.garbage_objects += 1;
                self.out.garbage_bytes += size as u64;
                emit!(
                    self,
                    TraceEvent::Alloc {
                        id,
                        size: size as u32,
                        slots: 0,
                        kind: Some(Cow::Borrowed(GARBAGE_KIND)),
                        tag: None,
                        site: None,
                        root: None,
                        pretenured,
                    }
                );
            }
        }
        self.out.ticks_ms += dt;
        // The load does not wait for the collector: with a sink that runs the events, the tick is what is left of
        // `dt` after the pauses, so that units arrive at their rate in simulated (wall) time.
        let tick = match self.sink.now_ms() {
            Some(now) => (self.out.ticks_ms - now).max(0.0),
            None => dt,
        };
        if tick > 0.0 {
            emit!(self, TraceEvent::Tick { ms: tick });
        }
        Ok(Flow::Continue)
    }

    /// Step `number` (1 for the first pair of snapshots), over `step_ms`, with `units` units of growth.
    fn step(&mut self, step: &Step, step_ms: f64, units: f64, number: usize) -> Result<Flow, S::Error> {
        let n = step.births.len();
        let chunks = if units >= 1.0 { units as usize } else { (step_ms / 100.0).ceil() as usize }.clamp(1, n.max(1));
        let dt = step_ms / chunks as f64;
        let mut link = 0;
        for c in 0..chunks {
            let end = (c + 1) * n / chunks;
            if self.allocate(&step.births[c * n / chunks..end], u64::from)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            while link < step.links.len() && (step.links[link].0 as usize) < end {
                emit!(self, write(step.links[link].1, u64::from));
                link += 1;
            }
            self.out.units += units / chunks as f64;
            if self.time(dt)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        for &l in &step.rewrites {
            emit!(self, write(l, u64::from));
        }
        for &to in &step.added_references {
            emit!(self, TraceEvent::Root { id: u64::from(to), root: Cow::Borrowed(ADDED_REFERENCES_ROOT) });
        }
        for &(root, id) in &step.roots_added {
            let root = self.name(root).unwrap_or(Cow::Borrowed("(roots)"));
            emit!(self, TraceEvent::Root { id: u64::from(id), root });
        }
        for &(root, id) in &step.roots_removed {
            let root = self.name(root).unwrap_or(Cow::Borrowed("(roots)"));
            emit!(self, TraceEvent::Unroot { id: u64::from(id), root });
        }
        for b in &step.births {
            emit!(self, TraceEvent::Unroot { id: u64::from(b.id), root: Cow::Borrowed(CONSTRUCTION_ROOT) });
        }
        let label = format!("snapshot {} reproduced ({} objects born, {} died)", number + 1, n, step.died_objects);
        emit!(self, TraceEvent::Mark { label: Cow::Owned(label), closes: None });
        Ok(Flow::Continue)
    }

    /// Repetition `r` (from 1) of the growth.
    fn repetition(&mut self, growth: &Growth, r: u64) -> Result<Flow, S::Error> {
        let Some(unit) = &growth.unit else {
            // No growth: a unit of time (1 s) of garbage.
            return self.time(1000.0);
        };
        let chunks = unit.count.max(1) as usize;
        let dt = if self.plan.units_per_ms > 0.0 { 1.0 / self.plan.units_per_ms } else { 1000.0 };
        if self.plan.without_growth {
            for _ in 0..chunks {
                if self.time(dt)? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
            return Ok(Flow::Continue);
        }
        let copy = |id: u32| (r << 32) | u64::from(id);
        let births = &growth.members;
        let n = births.len();
        let mut link = 0;
        for c in 0..chunks {
            let end = (c + 1) * n / chunks;
            if self.allocate(&births[c * n / chunks..end], copy)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
            while link < growth.links.len() && (growth.links[link].0 as usize) < end {
                let l = growth.links[link].1;
                emit!(self, write(l, |id| if growth.is_member(id) { copy(id) } else { u64::from(id) }));
                link += 1;
            }
            self.out.units += 1.0;
            if self.time(dt)? == Flow::Stop {
                return Ok(Flow::Stop);
            }
        }
        let previous = |id: u32| if r == 1 { u64::from(id) } else { ((r - 1) << 32) | u64::from(id) };
        for &l in &growth.attachments {
            let to = l.to.expect("attachments store growth");
            let root = Cow::Owned(older_growth_root(l.obj));
            emit!(self, TraceEvent::Root { id: previous(to), root });
            emit!(self, TraceEvent::Write { obj: u64::from(l.obj), slot: l.slot, to: Some(copy(to)) });
        }
        for &to in &growth.added_references {
            emit!(self, TraceEvent::Root { id: copy(to), root: Cow::Borrowed(ADDED_REFERENCES_ROOT) });
        }
        for b in births.iter() {
            emit!(self, TraceEvent::Unroot { id: copy(b.id), root: Cow::Borrowed(CONSTRUCTION_ROOT) });
        }
        Ok(Flow::Continue)
    }
}

/// The `write` of `link`, its objects named by `id`.
fn write(link: Link, id: impl Fn(u32) -> u64) -> TraceEvent<'static> {
    TraceEvent::Write { obj: id(link.obj), slot: link.slot, to: link.to.map(id) }
}
