//! Criterion benchmarks of the collector's hot paths. Figures and the machine are recorded in
//! `docs/performance.md`; reproduce with `cargo bench -p gc-sim --bench collector`.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use gc_sim::{Collection, Heap, HeapConfig, Labels, ObjectId, MIB};

/// Mutator throughput on a mostly-dead workload: every object dies in its handle scope; scavenges run as new
/// space fills (default Node 20 configuration).
fn allocation_mostly_dead(c: &mut Criterion) {
    const OBJECTS: u64 = 1_000_000;
    let mut group = c.benchmark_group("allocation");
    group.throughput(Throughput::Elements(OBJECTS));
    group.bench_function("mostly_dead_1M_objects", |b| {
        b.iter_batched_ref(
            Heap::default,
            |heap| {
                for _ in 0..OBJECTS / 10 {
                    heap.enter_scope();
                    for _ in 0..10 {
                        heap.alloc(32, 2, Labels::NONE).unwrap();
                    }
                    heap.exit_scope().unwrap();
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A heap whose new space holds `survivors` objects in a rooted linked list and `garbage_per_survivor` times
/// as many dead objects, interleaved, in a semi-space big enough that no collection runs before the measured one.
fn young_heap(survivors: u64, garbage_per_survivor: u64) -> Heap {
    let semi = 512 * MIB;
    let config = HeapConfig { min_semi_space_size: semi, max_semi_space_size: semi, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    let head = heap.alloc(32, 1, Labels::NONE).unwrap();
    heap.add_root("list", head).unwrap();
    let mut tail: ObjectId = head;
    for _ in 1..survivors {
        for _ in 0..garbage_per_survivor {
            heap.alloc(32, 0, Labels::NONE).unwrap();
        }
        let next = heap.alloc(32, 1, Labels::NONE).unwrap();
        heap.write(tail, 0, Some(next)).unwrap();
        tail = next;
    }
    heap
}

/// Scavenge cost must follow the survivors, not the garbage: same survivors, 1x, 10x, 100x more dead objects.
fn scavenge_scaling(c: &mut Criterion) {
    const SURVIVORS: u64 = 50_000;
    let mut group = c.benchmark_group("scavenge");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SURVIVORS));
    for garbage in [1u64, 10, 100] {
        group.bench_with_input(BenchmarkId::new("50k_survivors_garbage_x", garbage), &garbage, |b, &garbage| {
            b.iter_batched_ref(
                || young_heap(SURVIVORS, garbage),
                |heap| heap.collect(Collection::Minor).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// A full mark-compact of a heap with one million live objects (a rooted linked list in old space).
fn mark_compact_1m_live(c: &mut Criterion) {
    const LIVE: u64 = 1_000_000;
    let mut heap = Heap::default();
    let head = heap.alloc(48, 1, Labels::NONE).unwrap();
    heap.add_root("list", head).unwrap();
    let mut tail = head;
    for _ in 1..LIVE {
        let next = heap.alloc(48, 1, Labels::NONE).unwrap();
        heap.write(tail, 0, Some(next)).unwrap();
        tail = next;
    }
    heap.collect(Collection::Major).unwrap();
    let mut group = c.benchmark_group("mark_compact");
    group.sample_size(10);
    group.throughput(Throughput::Elements(LIVE));
    group.bench_function("1M_live_objects", |b| b.iter(|| heap.collect(Collection::Major).unwrap()));
    group.finish();
}

/// Leak analysis of a leaky server's heap: 2,000 connections of 100 tagged objects each (a Timeout in `timers`
/// holding a chain and a fan of objects), all promoted. Measures the heap snapshot (dominator tree), the per-tag
/// retention on top of it, and a heap map.
fn leak_analysis_200k(c: &mut Criterion) {
    const CONNECTIONS: u64 = 2_000;
    const PER_CONNECTION: u64 = 100;
    let mut heap = Heap::default();
    for conn in 0..CONNECTIONS {
        let tag = heap.label(&format!("conn-{conn}"));
        let labels = Labels { tag: Some(tag), ..Labels::NONE };
        let timer = heap.alloc(104, 2, labels).unwrap();
        heap.add_root("timers", timer).unwrap();
        let mut tail = timer;
        for i in 1..PER_CONNECTION {
            let next = heap.alloc(48, 2, labels).unwrap();
            heap.write(tail, (i % 2) as u32, Some(next)).unwrap();
            if i % 2 == 0 {
                tail = next;
            }
        }
    }
    heap.collect(Collection::Major).unwrap();
    let mut group = c.benchmark_group("leak_analysis");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CONNECTIONS * PER_CONNECTION));
    group.bench_function("snapshot_200k_objects", |b| b.iter(|| heap.snapshot().live()));
    group.bench_function("snapshot_and_tags_200k_objects", |b| b.iter(|| heap.snapshot().tag_retention().len()));
    group.bench_function("heap_map_200k_objects", |b| b.iter(|| heap.heap_map().pages.len()));
    group.finish();
}

criterion_group!(benches, allocation_mostly_dead, scavenge_scaling, mark_compact_1m_live, leak_analysis_200k);
criterion_main!(benches);
