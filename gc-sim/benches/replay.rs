//! Library replay throughput, in trace events per second: events already in memory (no parsing) applied with
//! [`Replay::apply`], with every collection they trigger; and the reader alone (group `read`), in trace bytes per
//! second, beside a bare serde_json syntax pass over the same NDJSON lines. Figures and the machine are recorded in
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

/// The NDJSON trace the `read` group reads: the file named by `GC_SIM_READ_TRACE` if set (the 10 M-event trace of
/// `scripts/bench-reader.sh`), else 500 k mostly-dead events made here.
fn ndjson_trace(events: &[TraceEvent<'static>]) -> (String, Vec<u8>) {
    if let Ok(path) = std::env::var("GC_SIM_READ_TRACE") {
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("GC_SIM_READ_TRACE={path}: {e}"));
        return (path, text);
    }
    let header = TraceHeader::new("bench", HeapConfig::default());
    let mut ndjson = serde_json::to_vec(&header).expect("a header serializes");
    for event in events {
        ndjson.push(b'\n');
        serde_json::to_writer(&mut ndjson, event).expect("an event serializes");
    }
    ndjson.push(b'\n');
    (format!("{} mostly-dead events", events.len()), ndjson)
}

/// The floor the NDJSON reader is measured against: every line of the text split with `memchr` and checked by
/// serde_json, with nothing built (`IgnoredAny`). Returns the lines.
fn syntax_pass(text: &[u8]) -> u64 {
    let mut lines = 0;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len())) {
        let line = &text[start..end];
        start = end + 1;
        if line.is_empty() {
            continue;
        }
        serde_json::from_slice::<serde::de::IgnoredAny>(line).expect("a JSON line");
        lines += 1;
    }
    lines
}

/// The reader alone ([`read_trace`] with a visitor that counts), on a mostly-dead workload written as NDJSON and as
/// one JSON document, from memory; throughput in trace bytes. `read/mostly-dead/syntax` is the floor for NDJSON: a
/// bare serde_json syntax pass over the same lines ([`syntax_pass`]); the reader's time over its time is the ratio
/// of issue 21 (`docs/performance.md`).
fn reader(c: &mut Criterion) {
    let mut events = Vec::new();
    Workload::MostlyDead.generate(EVENTS / 4, &mut |e| events.push(e));
    let (source, ndjson) = ndjson_trace(&events);
    let lines = syntax_pass(&ndjson);
    eprintln!("read: {source}, {} bytes, {} lines", ndjson.len(), lines);
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(ndjson.len() as u64));
    group.bench_with_input(BenchmarkId::new("mostly-dead", "syntax"), &ndjson, |b, text| {
        b.iter(|| assert_eq!(syntax_pass(text), lines))
    });
    group.bench_with_input(BenchmarkId::new("mostly-dead", "ndjson"), &ndjson, |b, text| {
        b.iter(|| {
            let mut count = Count(0);
            read_trace(&text[..], "ndjson", Some(TraceFormat::Ndjson), &mut count).expect("a valid trace");
            assert_eq!(count.0 + 1, lines);
        })
    });
    if std::env::var_os("GC_SIM_READ_TRACE").is_none() {
        let header = TraceHeader::new("bench", HeapConfig::default());
        let mut json = serde_json::to_vec(&header).expect("a header serializes");
        json.pop();
        json.extend_from_slice(b", \"events\": [\n");
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                json.extend_from_slice(b",\n");
            }
            serde_json::to_writer(&mut json, event).expect("an event serializes");
        }
        json.extend_from_slice(b"\n]}\n");
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_with_input(BenchmarkId::new("mostly-dead", "json"), &json, |b, text| {
            b.iter(|| {
                let mut count = Count(0);
                read_trace(&text[..], "json", Some(TraceFormat::Json), &mut count).expect("a valid trace");
                assert_eq!(count.0, events.len() as u64);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, synthetic, ticker_leaky, reader);
criterion_main!(benches);
