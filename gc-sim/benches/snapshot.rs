//! Heap snapshot analysis on a generated snapshot of about 1 M nodes and 2.5 M edges (the shape of
//! `scripts/bench-snapshot.sh`'s real one: 250,000 linked records of an object, a string, an array and its two
//! numbers, every tenth also in a map): reading the JSON text (in memory), building the graph (dominators, retained
//! sizes, paths), and the Summary. Figures in `docs/performance.md`; reproduce with
//! `cargo bench -p gc-sim --bench snapshot`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gc_sim::snapshot::{read_snapshot, summary, write_snapshot, HeapGraph, SnapshotBuilder};

const RECORDS: u32 = 250_000;

fn generate() -> Vec<u8> {
    let mut b = SnapshotBuilder::new();
    let mut id = 1;
    let mut next_id = || {
        id += 2;
        id
    };
    let root = b.node("synthetic", "", 1, 0).unwrap();
    let gc_roots = b.node("synthetic", "(GC roots)", next_id(), 0).unwrap();
    let global = b.node("object", "global", next_id(), 48).unwrap();
    let map = b.node("object", "Map", next_id(), 32).unwrap();
    let table = b.node("array", "(object elements)", next_id(), 16 + 16 * u64::from(RECORDS / 10)).unwrap();
    b.edge(root, "element", "1", gc_roots).unwrap();
    b.edge(root, "shortcut", "global", global).unwrap();
    b.edge(gc_roots, "element", "0", global).unwrap();
    b.edge(global, "property", "byId", map).unwrap();
    b.edge(map, "internal", "table", table).unwrap();
    let mut prev = global;
    for i in 0..RECORDS {
        let rec = b.node("object", "Rec", next_id(), 40).unwrap();
        let s = b.node("string", "rec-", next_id(), 24).unwrap();
        let vals = b.node("object", "Array", next_id(), 32).unwrap();
        let store = b.node("array", "(object elements)", next_id(), 32).unwrap();
        b.edge(prev, "property", if prev == global { "head" } else { "prev" }, rec).unwrap();
        b.edge(rec, "property", "id", s).unwrap();
        b.edge(rec, "property", "vals", vals).unwrap();
        b.edge(rec, "internal", "map", global).unwrap();
        b.edge(vals, "internal", "elements", store).unwrap();
        b.edge(vals, "weak", "map", global).unwrap();
        if i % 10 == 0 {
            b.edge(table, "element", &(i / 10).to_string(), rec).unwrap();
        }
        prev = rec;
    }
    let mut text = Vec::new();
    write_snapshot(&b.build(), &mut text).expect("in memory");
    text
}

fn snapshot(c: &mut Criterion) {
    let text = generate();
    let raw = read_snapshot(&text[..]).expect("a valid snapshot");
    eprintln!("{} nodes, {} edges, {} bytes of JSON", raw.node_count(), raw.edge_count(), text.len());
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.throughput(Throughput::Elements(raw.node_count() as u64));
    group.bench_function("read_1M_nodes", |b| b.iter(|| read_snapshot(&text[..]).expect("valid")));
    group.bench_function("graph_1M_nodes", |b| {
        b.iter_batched(|| raw.clone(), HeapGraph::new, criterion::BatchSize::LargeInput)
    });
    let graph = HeapGraph::new(raw.clone());
    group.bench_function("summary_1M_nodes", |b| {
        b.iter(|| (summary::classes(&graph), summary::top_retainers(&graph, 20)))
    });
    group.finish();
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
