//! Library replay throughput, in trace events per second: events already in memory (no parsing) applied with
//! [`Replay::apply`], with every collection they trigger; and the reader alone (group `read`), in trace bytes per
//! second. Figures and the machine are recorded in
//! `docs/performance.md`; reproduce with `cargo bench -p gc-sim --bench replay`.

mod workloads;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use gc_sim::trace::{read_trace, Flow, Problem, TraceEvent, TraceFormat, TraceHeader, TraceVisitor};
use gc_sim::{HeapConfig, Replay};
use workloads::{borrowed, Workload};

/// Events per synthetic workload: enough for the semi-space to grow to its maximum where survivors make it grow,
/// and for tens of scavenges (the setup prints each workload's collection totals).
const EVENTS: u64 = 2_000_000;

fn replay_all(header: &TraceHeader, events: &[TraceEvent<'static>]) -> Replay {
    let mut replay = Replay::from_header(header, |_| Ok(())).expect("a valid heap configuration");
    for event in events {
        let flow = replay.apply(borrowed(event)).expect("the workload is a valid trace");
        assert_eq!(flow, Flow::Continue, "the workload ran out of memory");
    }
    replay
}

fn synthetic(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    let header = TraceHeader::new("bench", HeapConfig::default());
    for workload in Workload::ALL {
        let mut events = Vec::new();
        workload.generate(EVENTS, &mut |e| events.push(e));
        // What the workload makes the collector do, once, so the figure's meaning is on record.
        let totals = *replay_all(&header, &events).heap().totals();
        eprintln!("{}: {} events, {totals:?}", workload.name(), events.len());
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_with_input(BenchmarkId::new("events", workload.name()), &events, |b, events| {
            b.iter_batched(|| (), |()| replay_all(&header, events), BatchSize::PerIteration)
        });
    }
    group.finish();
}

/// Keeps a trace's header and its events, owned.
#[derive(Default)]
struct Load {
    header: Option<TraceHeader>,
    events: Vec<TraceEvent<'static>>,
}

impl TraceVisitor for Load {
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
        self.header = Some(header);
        Ok(())
    }
    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        self.events.push(event.into_owned());
        Ok(Flow::Continue)
    }
}

/// The committed leaky ticker-server trace (`examples/traces/ticker-leaky.ndjson`), from memory.
fn ticker_leaky(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/ticker-leaky.ndjson");
    let file = std::fs::File::open(path).expect("the committed ticker trace");
    let mut load = Load::default();
    read_trace(std::io::BufReader::new(file), path, None, &mut load).expect("a valid trace");
    let header = load.header.expect("a header");
    let mut group = c.benchmark_group("replay");
    group.sample_size(20);
    group.throughput(Throughput::Elements(load.events.len() as u64));
    group.bench_with_input(BenchmarkId::new("events", "ticker-leaky"), &load.events, |b, events| {
        b.iter_batched(|| (), |()| replay_all(&header, events), BatchSize::PerIteration)
    });
    group.finish();
}

/// Counts the events it is given, and nothing else: what [`read_trace`] costs on its own.
struct Count(u64);

impl TraceVisitor for Count {
    fn header(&mut self, _: TraceHeader) -> Result<(), Problem> {
        Ok(())
    }
    fn event(&mut self, _: TraceEvent<'_>) -> Result<Flow, Problem> {
        self.0 += 1;
        Ok(Flow::Continue)
    }
}

/// The reader alone ([`read_trace`] with a visitor that counts), on a mostly-dead workload written as NDJSON and as
/// one JSON document, from memory; throughput in trace bytes.
fn reader(c: &mut Criterion) {
    let mut events = Vec::new();
    Workload::MostlyDead.generate(EVENTS / 4, &mut |e| events.push(e));
    let header = TraceHeader::new("bench", HeapConfig::default());
    let mut ndjson = serde_json::to_vec(&header).expect("a header serializes");
    let mut json = ndjson[..ndjson.len() - 1].to_vec();
    json.extend_from_slice(b", \"events\": [\n");
    for (i, event) in events.iter().enumerate() {
        ndjson.push(b'\n');
        serde_json::to_writer(&mut ndjson, event).expect("an event serializes");
        if i > 0 {
            json.extend_from_slice(b",\n");
        }
        serde_json::to_writer(&mut json, event).expect("an event serializes");
    }
    ndjson.push(b'\n');
    json.extend_from_slice(b"\n]}\n");
    let mut group = c.benchmark_group("read");
    group.sample_size(20);
    for (name, text, format) in [("ndjson", &ndjson, TraceFormat::Ndjson), ("json", &json, TraceFormat::Json)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("mostly-dead", name), text, |b, text| {
            b.iter(|| {
                let mut count = Count(0);
                read_trace(&text[..], name, Some(format), &mut count).expect("a valid trace");
                assert_eq!(count.0, events.len() as u64);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, synthetic, ticker_leaky, reader);
criterion_main!(benches);
