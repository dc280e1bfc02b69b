//! Synthetic mutator workloads, as trace events, for the replay benchmarks (`benches/replay.rs`) and for writing
//! long NDJSON traces (`examples/synthetic_trace.rs`). Each workload streams its events into a sink, so a
//! 10-million-event trace is never held in memory, and is deterministic: no randomness, the same events each time.

use std::borrow::Cow;

use gc_sim::trace::TraceEvent;

/// The workloads, by the name the example and the benchmarks use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Every object dies young: a handle scope allocates ten small objects linked in a chain, then closes. The
    /// scavenger finds (almost) nothing alive; the cost is allocation and the trace itself.
    MostlyDead,
    /// Objects outlive two scavenges and are promoted: batches of 100 linked objects, each batch rooted for the next
    /// 2,000 batches (about 10 MB live), then dropped, so old space fills with dead batches. Under Node 20's default
    /// old-generation limit no mark-compact runs even in 10 M events: this measures scavenging and promotion.
    HighSurvival,
    /// The write barrier's worst case: 64 pretenured holders of 1,024 slots each (old space) receive a new young
    /// object in a slot, round robin, and each new object points back at a holder. Every write into a holder
    /// records an OLD_TO_NEW slot; each object lives for 65,536 allocations.
    BarrierHeavy,
}

impl Workload {
    /// Every workload, in the order the benchmarks run them.
    pub const ALL: [Workload; 3] = [Workload::MostlyDead, Workload::HighSurvival, Workload::BarrierHeavy];

    /// The workload's name on the command line and in benchmark ids (`mostly-dead`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Workload::MostlyDead => "mostly-dead",
            Workload::HighSurvival => "high-survival",
            Workload::BarrierHeavy => "barrier-heavy",
        }
    }

    /// The workload called `name`.
    #[allow(dead_code)] // used by the example, not by every benchmark
    pub fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// Emits at least `events` events of the workload (it stops at the end of a unit of work, so a handle scope is
    /// never left open), then a final mark.
    pub fn generate(self, events: u64, emit: &mut impl FnMut(TraceEvent<'static>)) {
        let mut out = Emitter { emit, count: 0 };
        match self {
            Workload::MostlyDead => mostly_dead(events, &mut out),
            Workload::HighSurvival => high_survival(events, &mut out),
            Workload::BarrierHeavy => barrier_heavy(events, &mut out),
        }
        out.event(TraceEvent::Mark { label: Cow::Borrowed("end"), closes: None });
    }
}

struct Emitter<'e, F: FnMut(TraceEvent<'static>)> {
    emit: &'e mut F,
    count: u64,
}

impl<F: FnMut(TraceEvent<'static>)> Emitter<'_, F> {
    fn event(&mut self, event: TraceEvent<'static>) {
        self.count += 1;
        (self.emit)(event);
    }

    fn alloc(&mut self, id: u64, size: u32, slots: u32) {
        self.alloc_full(id, size, slots, None, false);
    }

    fn alloc_full(&mut self, id: u64, size: u32, slots: u32, root: Option<&'static str>, pretenured: bool) {
        self.event(TraceEvent::Alloc {
            id,
            size,
            slots,
            kind: None,
            tag: None,
            site: None,
            root: root.map(Cow::Borrowed),
            pretenured,
        });
    }

    fn write(&mut self, obj: u64, slot: u32, to: Option<u64>) {
        self.event(TraceEvent::Write { obj, slot, to });
    }
}

fn mostly_dead(events: u64, out: &mut Emitter<'_, impl FnMut(TraceEvent<'static>)>) {
    let mut id = 0;
    while out.count < events {
        out.event(TraceEvent::Enter);
        for i in 0..10 {
            id += 1;
            out.alloc(id, 32, 2);
            if i > 0 {
                out.write(id - 1, 0, Some(id));
            }
        }
        out.event(TraceEvent::Exit);
        if id % 10_000 == 0 {
            out.event(TraceEvent::Tick { ms: 1.0 });
        }
    }
}

fn high_survival(events: u64, out: &mut Emitter<'_, impl FnMut(TraceEvent<'static>)>) {
    const BATCH: u64 = 100;
    const KEPT_BATCHES: u64 = 2_000;
    let mut id = 0;
    let mut heads = std::collections::VecDeque::new();
    while out.count < events {
        id += 1;
        let head = id;
        out.alloc_full(head, 48, 1, Some("batches"), false);
        for _ in 1..BATCH {
            id += 1;
            out.alloc(id, 48, 1);
            out.write(id - 1, 0, Some(id));
        }
        heads.push_back(head);
        if heads.len() as u64 > KEPT_BATCHES {
            let oldest = heads.pop_front().expect("more than KEPT_BATCHES heads");
            out.event(TraceEvent::Unroot { id: oldest, root: Cow::Borrowed("batches") });
        }
        out.event(TraceEvent::Tick { ms: 0.1 });
    }
}

fn barrier_heavy(events: u64, out: &mut Emitter<'_, impl FnMut(TraceEvent<'static>)>) {
    const HOLDERS: u64 = 64;
    const SLOTS: u32 = 1_024;
    for holder in 1..=HOLDERS {
        out.alloc_full(holder, 16 + 8 * SLOTS, SLOTS, Some("holders"), true);
    }
    let mut id = HOLDERS;
    let mut n = 0u64;
    while out.count < events {
        id += 1;
        let holder = 1 + n % HOLDERS;
        let slot = ((n / HOLDERS) % u64::from(SLOTS)) as u32;
        out.alloc(id, 32, 1);
        out.write(holder, slot, Some(id));
        out.write(id, 0, Some(1 + (n + 1) % HOLDERS));
        n += 1;
    }
}

/// A borrowed copy of `event`: replaying it costs no string allocation.
#[allow(dead_code)] // used by the benchmarks, not by the example
pub fn borrowed<'a>(event: &'a TraceEvent<'_>) -> TraceEvent<'a> {
    let view = |text: &'a Option<Cow<'_, str>>| text.as_deref().map(Cow::Borrowed);
    match event {
        TraceEvent::Alloc { id, size, slots, kind, tag, site, root, pretenured } => TraceEvent::Alloc {
            id: *id,
            size: *size,
            slots: *slots,
            kind: view(kind),
            tag: view(tag),
            site: view(site),
            root: view(root),
            pretenured: *pretenured,
        },
        TraceEvent::Write { obj, slot, to } => TraceEvent::Write { obj: *obj, slot: *slot, to: *to },
        TraceEvent::Root { id, root } => TraceEvent::Root { id: *id, root: Cow::Borrowed(root) },
        TraceEvent::Unroot { id, root } => TraceEvent::Unroot { id: *id, root: Cow::Borrowed(root) },
        TraceEvent::Enter => TraceEvent::Enter,
        TraceEvent::Exit => TraceEvent::Exit,
        TraceEvent::Tick { ms } => TraceEvent::Tick { ms: *ms },
        TraceEvent::Gc { kind } => TraceEvent::Gc { kind: *kind },
        TraceEvent::Mark { label, closes } => TraceEvent::Mark { label: Cow::Borrowed(label), closes: view(closes) },
    }
}
