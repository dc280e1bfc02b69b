//! The discrete-event simulation of the server under the wave client: connections open, receive their first
//! message, tick, and close, in time order, each step writing what the server allocates.
//!
//! Time is an integer number of milliseconds. Events due at the same millisecond run in the order they were
//! scheduled. Before an event, a `tick` event advances the trace's clock to the event's time, so the trace's mutator
//! time follows the schedule (replaying adds the modelled GC pauses on top).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::model::{self, Part, Phase, Temporary};
use crate::trace::{Alloc, ConnTag, Sink, TraceWriter};

/// Whether the `close` handler clears the interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The seed as written: the Timeout stays in `timers` and keeps firing after close.
    Leaky,
    /// `clearInterval(t)` on close: the Timeout leaves `timers`.
    Fixed,
}

/// The workload: the wave client of the Node 20 ticker runs (`docs/v8-sources.md#run-ticker`) against the server,
/// with its timings.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Leaky or fixed server.
    pub mode: Mode,
    /// Connections opened in all.
    pub clients: u32,
    /// Connections per wave (`PER_WAVE`).
    pub wave_size: u32,
    /// Time between the starts of two waves (`WAVE_MS`).
    pub wave_interval_ms: u64,
    /// The opens of a wave are spread over this time (`STAGGER_MS`): the i-th opens at `floor(i * spread / size)`.
    pub wave_spread_ms: u64,
    /// When the first wave starts.
    pub start_ms: u64,
    /// How long a connection stays open (`HOLD_MS`).
    pub hold_ms: u64,
    /// The interval's period (`TICK_MS`).
    pub tick_ms: u64,
    /// When the run ends with `gc(); gc()` (`RUN_MS`). Events due at or after it do not happen.
    pub duration_ms: u64,
    /// Seed of `Math.random()`.
    pub seed: u64,
}

/// How long the client's first message takes to arrive after the connection opens, ms.
pub const FIRST_MESSAGE_DELAY_MS: u64 = 1;

/// What happened during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections opened.
    pub opened: u64,
    /// Connections closed.
    pub closed: u64,
    /// Timer callbacks run while their connection was open.
    pub ticks_open: u64,
    /// Timer callbacks run after their connection closed (leaky only).
    pub ticks_closed: u64,
    /// Of all timer callbacks, those that sent (`n > 0.3`).
    pub sends: u64,
    /// Trace events written.
    pub events: u64,
}

/// A table of parts with its references resolved: which slot of which object points to which object.
pub struct Graph {
    parts: &'static [Part],
    /// The position of each part among the parts of its phase, in table order: its id is that phase's first id
    /// plus this position.
    position: Vec<u64>,
    /// Every reference: `(from, slot, to)` as indices into `parts`.
    edges: Vec<(usize, u32, usize)>,
}

impl Graph {
    /// Resolves the references of `parts`.
    ///
    /// # Panics
    /// If a name is defined twice or a reference names no part: the tables are constants, and a test builds them.
    pub fn new(parts: &'static [Part]) -> Graph {
        for (i, part) in parts.iter().enumerate() {
            assert!(parts[..i].iter().all(|p| p.name != part.name), "two parts are named {:?}", part.name);
        }
        let position = parts
            .iter()
            .enumerate()
            .map(|(i, part)| parts[..i].iter().filter(|p| p.phase == part.phase).count() as u64)
            .collect();
        let edges = parts
            .iter()
            .enumerate()
            .flat_map(|(from, part)| part.refs.iter().enumerate().map(move |(slot, to)| (from, slot as u32, to)))
            .map(|(from, slot, to)| (from, slot, find(parts, to)))
            .collect();
        Graph { parts, position, edges }
    }

    /// The index of the part named `name`.
    ///
    /// # Panics
    /// If there is none.
    pub fn index(&self, name: &str) -> usize {
        find(self.parts, name)
    }

    /// The parts.
    pub fn parts(&self) -> &'static [Part] {
        self.parts
    }

    /// The references, as `(from, slot, to)` indices.
    pub fn edges(&self) -> &[(usize, u32, usize)] {
        &self.edges
    }

    /// The slot of `from` that references `to`.
    fn slot(&self, (from, to): (&str, &str)) -> u32 {
        let (from, to) = (self.index(from), self.index(to));
        self.edges.iter().find(|&&(f, _, t)| f == from && t == to).map(|&(_, slot, _)| slot).expect("a reference")
    }
}

fn find(parts: &[Part], name: &str) -> usize {
    parts.iter().position(|p| p.name == name).unwrap_or_else(|| panic!("no part is named {name:?}"))
}

/// The first trace id of each phase's objects of one connection.
#[derive(Clone, Copy, Debug, Default)]
struct Ids {
    open: u64,
    close: u64,
}

impl Ids {
    fn of(self, graph: &Graph, part: usize) -> u64 {
        let first = match graph.parts[part].phase {
            Phase::Open => self.open,
            Phase::Close => self.close,
        };
        first + graph.position[part]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    Open,
    Closed,
}

#[derive(Clone, Copy, Debug)]
struct Connection {
    state: State,
    ids: Ids,
}

/// Something due at a time. Ordered by time, then by the order of scheduling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at_ms: u64,
    seq: u64,
    what: What,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    Open(u32),
    FirstMessage(u32),
    Tick(u32),
    Close(u32),
}

/// Writes the trace of `workload` to `trace` and returns what happened. The caller writes the header before and
/// finishes the trace after.
///
/// # Errors
/// Any error writing the trace.
pub(crate) fn simulate<S: Sink>(workload: &Workload, trace: &mut TraceWriter<S>) -> io::Result<Stats> {
    Simulation::new(workload, trace).run()
}

struct Simulation<'a, S: Sink> {
    workload: &'a Workload,
    trace: &'a mut TraceWriter<S>,
    connection: Graph,
    server: Graph,
    random: Pcg64Mcg,
    /// The trace's clock: the schedule time of the last event written.
    now_ms: u64,
    queue: BinaryHeap<Reverse<Due>>,
    scheduled: u64,
    connections: Vec<Connection>,
    stats: Stats,
}

impl<'a, S: Sink> Simulation<'a, S> {
    fn new(workload: &'a Workload, trace: &'a mut TraceWriter<S>) -> Self {
        let connections = vec![Connection { state: State::Waiting, ids: Ids::default() }; workload.clients as usize];
        Simulation {
            workload,
            trace,
            connection: Graph::new(model::CONNECTION),
            server: Graph::new(model::SERVER),
            random: Pcg64Mcg::seed_from_u64(workload.seed),
            now_ms: 0,
            queue: BinaryHeap::new(),
            scheduled: 0,
            connections,
            stats: Stats::default(),
        }
    }

    fn schedule(&mut self, at_ms: u64, what: What) {
        if at_ms < self.workload.duration_ms {
            self.queue.push(Reverse(Due { at_ms, seq: self.scheduled, what }));
            self.scheduled += 1;
        }
    }

    /// When the client opens connection `id`: waves of `wave_size`, the i-th of a wave `floor(i * spread / size)`
    /// after the wave's start, as `client.js` does.
    fn open_time(&self, id: u32) -> u64 {
        let w = self.workload;
        let (wave, i) = (u64::from(id / w.wave_size), u64::from(id % w.wave_size));
        let offset = i.saturating_mul(w.wave_spread_ms) / u64::from(w.wave_size);
        w.start_ms.saturating_add(wave.saturating_mul(w.wave_interval_ms)).saturating_add(offset)
    }

    /// `Math.random()`: the top 53 bits of the generator's next output, as a double in [0, 1).
    fn math_random(&mut self) -> f64 {
        (self.random.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn run(mut self) -> io::Result<Stats> {
        self.start_server()?;
        for id in 0..self.workload.clients {
            let at = self.open_time(id);
            self.schedule(at, What::Open(id));
        }
        while let Some(Reverse(due)) = self.queue.pop() {
            self.advance_to(due.at_ms)?;
            match due.what {
                What::Open(id) => self.open(id)?,
                What::FirstMessage(id) => self.first_message(id)?,
                What::Tick(id) => self.timer_fires(id)?,
                What::Close(id) => self.close(id)?,
            }
        }
        self.advance_to(self.workload.duration_ms)?;
        self.trace.mark(format_args!("end of the run: gc(); gc()"), None)?;
        self.trace.gc_major()?;
        self.trace.gc_major()?;
        self.stats.events = self.trace.events();
        Ok(self.stats)
    }

    fn advance_to(&mut self, at_ms: u64) -> io::Result<()> {
        if at_ms > self.now_ms {
            self.trace.tick(at_ms - self.now_ms)?;
            self.now_ms = at_ms;
        }
        Ok(())
    }

    /// The Koa app, its router and the WebSocket server, held by `globals`.
    fn start_server(&mut self) -> io::Result<()> {
        self.trace.mark(format_args!("server starts"), None)?;
        self.trace.enter()?;
        alloc_phase(self.trace, &self.server, Phase::Open, Ids::default(), None)?;
        self.trace.exit()
    }

    fn alloc_temporaries(&mut self, temporaries: &[Temporary]) -> io::Result<()> {
        for t in temporaries {
            self.trace.alloc_temporary(t.size, t.kind)?;
        }
        Ok(())
    }

    /// Allocates the parts of `phase` of connection `id` and writes their references.
    fn alloc_connection_phase(&mut self, id: u32, phase: Phase) -> io::Result<()> {
        let conn = &mut self.connections[id as usize];
        conn.ids = alloc_phase(self.trace, &self.connection, phase, conn.ids, Some(ConnTag(id)))?;
        Ok(())
    }

    fn part_id(&self, id: u32, name: &str) -> u64 {
        self.connections[id as usize].ids.of(&self.connection, self.connection.index(name))
    }

    /// The upgrade arrives: Node parses it, ws completes the handshake, koa-websocket runs the middleware, and the
    /// route handler starts the interval. Temporaries first, in a scope of their own; then the connection's graph.
    fn open(&mut self, id: u32) -> io::Result<()> {
        if self.stats.opened == 0 {
            let w = self.workload;
            self.trace.mark(
                format_args!(
                    "load starts: {} clients in waves of {} every {} ms, held {} ms, interval {} ms",
                    w.clients, w.wave_size, w.wave_interval_ms, w.hold_ms, w.tick_ms
                ),
                None,
            )?;
        }
        self.stats.opened += 1;
        self.trace.enter()?;
        self.alloc_temporaries(model::HANDSHAKE)?;
        self.trace.exit()?;
        self.trace.enter()?;
        self.alloc_connection_phase(id, Phase::Open)?;
        self.trace.exit()?;
        self.connections[id as usize].state = State::Open;
        let now = self.now_ms;
        self.schedule(now.saturating_add(FIRST_MESSAGE_DELAY_MS), What::FirstMessage(id));
        self.schedule(now.saturating_add(self.workload.hold_ms), What::Close(id));
        self.schedule(now.saturating_add(self.workload.tick_ms), What::Tick(id));
        Ok(())
    }

    /// The client's first message: ws reads and unmasks the frame and emits `message` (the listener ignores it).
    fn first_message(&mut self, id: u32) -> io::Result<()> {
        if self.connections[id as usize].state != State::Open {
            return Ok(()); // closed before it arrived
        }
        self.trace.enter()?;
        self.alloc_temporaries(model::FIRST_MESSAGE)?;
        self.trace.exit()
    }

    /// The interval fires: `let n = Math.random(); if (n > 0.3) ctx.websocket.send(JSON.stringify({id, n}))`.
    /// After close (leaky only) `send` goes through ws's `sendAfterClose`.
    fn timer_fires(&mut self, id: u32) -> io::Result<()> {
        let open = match (self.connections[id as usize].state, self.workload.mode) {
            (State::Open, _) => true,
            (State::Closed, Mode::Leaky) => false,
            (State::Closed, Mode::Fixed) | (State::Waiting, _) => return Ok(()), // cleared
        };
        let n = self.math_random();
        self.trace.enter()?;
        self.trace.alloc_temporary(model::RANDOM_NUMBER.size, model::RANDOM_NUMBER.kind)?;
        if n > model::SEND_THRESHOLD {
            self.stats.sends += 1;
            let message = model::MESSAGE_OBJECT;
            self.trace.alloc_temporary(message.size, message.kind)?;
            self.trace.alloc_temporary(model::json_string_size(id, n), model::JSON_STRING_KIND)?;
            let unattributed = model::SEND_UNATTRIBUTED;
            self.trace.alloc_temporary(unattributed.size, unattributed.kind)?;
            self.alloc_temporaries(if open { model::SEND_OPEN } else { model::SEND_AFTER_CLOSE })?;
        }
        self.trace.exit()?;
        if open {
            self.stats.ticks_open += 1;
        } else {
            self.stats.ticks_closed += 1;
        }
        let next = self.now_ms.saturating_add(self.workload.tick_ms);
        self.schedule(next, What::Tick(id));
        Ok(())
    }

    /// The client closes: ws receives the close frame, keeps its reason, answers, arms and then clears its close
    /// timer when the socket closes, and clears `socket[kWebSocket]`; the socket's handle closes; then the
    /// `close` handler runs, which clears the interval only in the fixed server.
    fn close(&mut self, id: u32) -> io::Result<()> {
        let tag = ConnTag(id);
        self.trace.mark(format_args!("conn-{id} closes"), Some(tag))?;
        self.trace.enter()?;
        self.alloc_temporaries(model::CLOSE)?;
        self.alloc_connection_phase(id, Phase::Close)?;
        let socket = self.part_id(id, model::SOCKET);
        self.trace.write(socket, self.connection.slot(model::SOCKET_TO_WEBSOCKET), None)?;
        self.trace.unroot(self.part_id(id, model::CLOSE_TIMER), model::TIMERS)?;
        self.trace.unroot(socket, model::HANDLES)?;
        if self.workload.mode == Mode::Fixed {
            self.trace.unroot(self.part_id(id, model::INTERVAL_TIMEOUT), model::TIMERS)?;
        }
        self.trace.exit()?;
        self.connections[id as usize].state = State::Closed;
        self.stats.closed += 1;
        if self.stats.closed == u64::from(self.workload.clients) {
            self.trace.mark(format_args!("load ends: all {} connections closed", self.workload.clients), None)?;
        }
        Ok(())
    }
}

/// Allocates the parts of `graph` in `phase`, their ids starting at the trace's next id, and writes every reference
/// that involves one of them (references to parts of a later phase wait for it). Returns `ids` with this phase's
/// first id set.
fn alloc_phase<S: Sink>(
    trace: &mut TraceWriter<S>,
    graph: &Graph,
    phase: Phase,
    mut ids: Ids,
    tag: Option<ConnTag>,
) -> io::Result<Ids> {
    let first = trace.next_id();
    match phase {
        Phase::Open => ids.open = first,
        Phase::Close => ids.close = first,
    }
    let parts = graph.parts();
    for part in parts.iter().filter(|p| p.phase == phase) {
        let slots = part.refs.len() as u32;
        trace.alloc(Alloc { size: part.size, slots, kind: part.kind, tag, site: Some(part.site), root: part.root })?;
    }
    let written_now = |&&(from, _, to): &&(usize, u32, usize)| match phase {
        Phase::Open => parts[from].phase == Phase::Open && parts[to].phase == Phase::Open,
        Phase::Close => parts[from].phase == Phase::Close || parts[to].phase == Phase::Close,
    };
    for &(from, slot, to) in graph.edges().iter().filter(written_now) {
        trace.write(ids.of(graph, from), slot, Some(ids.of(graph, to)))?;
    }
    Ok(ids)
}
