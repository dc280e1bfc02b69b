//! Criterion benchmarks of the collector's hot paths. Figures and the machine are recorded in
//! `docs/performance.md`; reproduce with `cargo bench -p gc-sim --bench collector`.
//!
//! Heaps are built outside the measurement, and only for the benchmarks that run (`cargo bench ... -- sweep` builds
//! no other benchmark's heap). Where a collection changes the heap, each iteration collects a fresh one
//! (`iter_batched_ref`, `BatchSize::PerIteration`).

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use gc_sim::{Collection, Heap, HeapConfig, Labels, ObjectGraph, ObjectId, MIB};

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
/// Every object is 32 B; see [`young_heap_sized`] for other sizes.
fn young_heap(survivors: u64, garbage_per_survivor: u64) -> Heap {
    young_heap_sized(survivors, garbage_per_survivor, 32)
}

/// As [`young_heap`], with objects of `size` bytes.
fn young_heap_sized(survivors: u64, garbage_per_survivor: u64, size: u32) -> Heap {
    let semi = 512 * MIB;
    let config = HeapConfig { min_semi_space_size: semi, max_semi_space_size: semi, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    let mut list = common::List::rooted(&mut heap, "list", size);
    for _ in 1..survivors {
        for _ in 0..garbage_per_survivor {
            heap.alloc(size, 0, Labels::NONE).unwrap();
        }
        list.push(&mut heap, size).unwrap();
    }
    heap
}

/// Scavenge cost must follow the survivors, not the garbage: same survivors, 1x, 10x, 100x more dead objects.
/// `scavenge/bytes/50k_survivors_64B` reports the same kind of scavenge in surviving bytes per second.
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

    // Surviving bytes per second: 50k survivors of 64 B (3.2 MB copied within new space), 1x garbage. The
    // simulator copies headers, not payloads, so this is the survivors/s above times the object size.
    const SURVIVOR_SIZE: u32 = 64;
    let survived = SURVIVORS * u64::from(SURVIVOR_SIZE);
    group.throughput(Throughput::Bytes(survived));
    let mut checked = false;
    group.bench_function(BenchmarkId::new("bytes", "50k_survivors_64B"), |b| {
        if !std::mem::replace(&mut checked, true) {
            let event = young_heap_sized(SURVIVORS, 1, SURVIVOR_SIZE).collect(Collection::Minor).unwrap();
            assert_eq!(event.copied_bytes, survived, "every survivor is copied within new space");
        }
        b.iter_batched_ref(
            || young_heap_sized(SURVIVORS, 1, SURVIVOR_SIZE),
            |heap| heap.collect(Collection::Minor).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A full mark-compact of a heap with one million live objects (a rooted linked list in old space). See also
/// `mark_compact/live_objects/*` for the scaling.
fn mark_compact_1m_live(c: &mut Criterion) {
    const LIVE: u64 = 1_000_000;
    let mut heap = None;
    let mut group = c.benchmark_group("mark_compact");
    group.sample_size(10);
    group.throughput(Throughput::Elements(LIVE));
    group.bench_function("1M_live_objects", |b| {
        let heap = heap.get_or_insert_with(|| old_list_heap(LIVE));
        b.iter(|| heap.collect(Collection::Major).unwrap())
    });
    group.finish();
}

/// `live` objects of 48 B with one slot in a rooted linked list, allocated by the mutator (default Node 20 heap)
/// and promoted by the scavenges this triggers, then one full GC: every object is in old space. Promotion does not
/// lay objects out in allocation order, so their headers and addresses are in different orders, as in any heap
/// that was not pretenured.
fn old_list_heap(live: u64) -> Heap {
    let mut heap = Heap::default();
    common::rooted_list(&mut heap, "list", live, 48);
    heap.collect(Collection::Major).unwrap();
    heap
}

/// Mark-compact scaling: a full GC of 100 k, 1 M and 3 M live objects (a rooted list of 48 B objects in old space,
/// built as in `mark_compact/1M_live_objects`). Every page is full but the last, so at most that page's objects are
/// evacuated, and the GC leaves the heap as it found it: it is collected again and again. The cost should be
/// linear in the live objects, i.e. the same objects/s at every size.
fn mark_compact_scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("mark_compact");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for live in [100_000u64, 1_000_000, 3_000_000] {
        let mut heap = None;
        group.throughput(Throughput::Elements(live));
        group.bench_with_input(BenchmarkId::new("live_objects", live), &live, |b, &live| {
            let heap = heap.get_or_insert_with(|| {
                let mut heap = old_list_heap(live);
                // Once, outside the measurement: the steady state the benchmark claims.
                let event = heap.collect(Collection::Major).unwrap();
                assert_eq!(event.marked_objects, live);
                assert_eq!(event.died_objects, 0);
                assert!(event.evacuated_bytes < u64::from(heap.config().page.area_size), "at most a page evacuated");
                heap
            });
            b.iter(|| heap.collect(Collection::Major).unwrap())
        });
    }
    group.finish();
}

/// Objects of one sweep-benchmark page segment: a live object and the dead ones after it.
const SWEEP_LIVE_SIZE: u32 = 10_240;
const SWEEP_DEAD_SIZE: u32 = 64;
const SWEEP_DEAD_PER_SEGMENT: u32 = 343;
/// Segments per page: 8 × (10,240 + 343 × 64) = 257,536 of the page's 257,720 allocatable bytes, so the next
/// segment starts a new page.
const SWEEP_SEGMENTS_PER_PAGE: u32 = 8;

/// An old space of exactly `pages` pages (objects allocated pretenured, in address order), each holding 8 live
/// objects of 10 KiB (a rooted list: 31.8 % of the page area is live, so free bytes are 68.2 %, under V8's 70 %
/// evacuation threshold) and 2,744 dead 64 B objects between them. A full GC marks 8 objects per page and sweeps:
/// it frees every dead object and rebuilds the free lists, without evacuating anything.
fn sweep_heap(pages: u64) -> Heap {
    let mut heap = Heap::default();
    let head = heap.alloc_old(SWEEP_LIVE_SIZE, 1, Labels::NONE).unwrap();
    let mut list = common::List::rooted_at(&mut heap, "list", head);
    for segment in 0..pages * u64::from(SWEEP_SEGMENTS_PER_PAGE) {
        if segment > 0 {
            list.push_old(&mut heap, SWEEP_LIVE_SIZE).unwrap();
        }
        for _ in 0..SWEEP_DEAD_PER_SEGMENT {
            heap.alloc_old(SWEEP_DEAD_SIZE, 0, Labels::NONE).unwrap();
        }
    }
    heap
}

/// Sweeping: a full GC of an old space of 100 and 1,000 pages in which almost every object is dead (8 live
/// objects and 2,744 dead ones per page) but every page stays under the evacuation threshold, so the GC is
/// marking 8 objects per page, then sweeping. Reported in pages per second.
fn sweep_pages(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for pages in [100u64, 1_000] {
        group.throughput(Throughput::Elements(pages));
        let mut checked = false;
        group.bench_with_input(BenchmarkId::new("pages", pages), &pages, |b, &pages| {
            if !std::mem::replace(&mut checked, true) {
                // Once, outside the measurement: check that the heap and its GC are what the benchmark claims.
                let mut heap = sweep_heap(pages);
                assert_eq!(heap.usage().old_space.committed_bytes, pages * u64::from(heap.config().page.page_size));
                let event = heap.collect(Collection::Major).unwrap();
                let segments = pages * u64::from(SWEEP_SEGMENTS_PER_PAGE);
                assert_eq!(event.marked_objects, segments);
                assert_eq!(event.died_objects, segments * u64::from(SWEEP_DEAD_PER_SEGMENT));
                assert_eq!(event.swept_pages, pages, "every page is swept");
                assert_eq!(event.evacuated_pages, 0, "no page is an evacuation candidate");
            }
            b.iter_batched_ref(
                || sweep_heap(pages),
                |heap| heap.collect(Collection::Major).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Objects per page of the evacuation benchmark: 4,026 objects of 64 B fill 257,664 of a page's 257,720 bytes.
const EVACUATION_OBJECT_SIZE: u32 = 64;
const EVACUATION_OBJECTS_PER_PAGE: u64 = 4_026;

/// A heap whose old space has `pages` fragmented pages of 64 B objects (allocated pretenured, in address order):
/// 25 % of each page's area is live (3 objects in 12, a rooted list), so 75 % is free and every page is an
/// evacuation candidate under V8's 70 % rule.
///
/// The fragmentation is made by an earlier, unmeasured GC, so that the measured one has few dead objects to free:
/// the heap is built with every third object live (66.7 % free: no candidate), collected once, then a quarter of
/// the survivors are unlinked, leaving 25 % live (one object in twelve dies in the measured GC).
/// `max_evacuated_bytes` is raised from V8's 4 MiB so that every page is evacuated.
fn fragmented_heap(pages: u64) -> Heap {
    let config = HeapConfig { max_evacuated_bytes: 1024 * MIB, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    let mut survivors = Vec::with_capacity((pages * EVACUATION_OBJECTS_PER_PAGE / 3 + 1) as usize);
    for i in 0..pages * EVACUATION_OBJECTS_PER_PAGE {
        let id = heap.alloc_old(EVACUATION_OBJECT_SIZE, 1, Labels::NONE).unwrap();
        if i % 3 == 0 {
            match survivors.last() {
                Some(&tail) => heap.write(tail, 0, Some(id)).unwrap(),
                None => heap.add_root("list", id).unwrap(),
            }
            survivors.push(id);
        }
    }
    let first = heap.collect(Collection::Major).unwrap();
    assert_eq!(first.evacuated_pages, 0, "at 33 % live no page is a candidate yet");
    // Keep survivors 1, 2, 3, 5, 6, 7, ...: the root moves from survivor 0 to survivor 1 and the list is relinked
    // around every fourth survivor.
    let kept: Vec<ObjectId> = survivors.iter().enumerate().filter(|(j, _)| j % 4 != 0).map(|(_, &id)| id).collect();
    heap.remove_root("list", survivors[0]).unwrap();
    heap.add_root("list", kept[0]).unwrap();
    for pair in kept.windows(2) {
        heap.write(pair[0], 0, Some(pair[1])).unwrap();
    }
    heap
}

/// Evacuation (compaction): a full GC of 64 and 1,024 fragmented old pages (25 % live, 75 % free), every one an
/// evacuation candidate, so the survivors (about 1,006 objects, 64.4 KB, per page) are moved to fresh pages and the
/// candidates released. Reported in evacuated bytes per second; the byte count is the GC's own `evacuated_bytes`,
/// checked once before measuring.
fn evacuation(c: &mut Criterion) {
    let mut group = c.benchmark_group("evacuation");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for pages in [64u64, 1_024] {
        let survivors_of_first_gc = pages * EVACUATION_OBJECTS_PER_PAGE / 3;
        let live = survivors_of_first_gc - survivors_of_first_gc.div_ceil(4);
        let evacuated = live * u64::from(EVACUATION_OBJECT_SIZE);
        group.throughput(Throughput::Bytes(evacuated));
        let mut checked = false;
        group.bench_with_input(BenchmarkId::new("fragmented_pages", pages), &pages, |b, &pages| {
            if !std::mem::replace(&mut checked, true) {
                // Once, outside the measurement: the GC evacuates every page and every survivor, and nothing else.
                let event = fragmented_heap(pages).collect(Collection::Major).unwrap();
                assert_eq!(event.marked_objects, live);
                assert_eq!(event.died_objects, survivors_of_first_gc - live);
                assert_eq!(event.evacuated_pages, pages, "every page is an evacuation candidate");
                assert_eq!(event.evacuated_bytes, evacuated, "every survivor moves");
            }
            b.iter_batched_ref(
                || fragmented_heap(pages),
                |heap| heap.collect(Collection::Major).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Leak analysis of a leaky server's heap: 2,000 connections of 100 tagged objects each (a Timeout in `timers`
/// holding a chain and a fan of objects), all promoted. Measures the object graph (dominator tree), the per-tag
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
    group.bench_function("snapshot_200k_objects", |b| b.iter(|| ObjectGraph::new(&heap).live()));
    group
        .bench_function("snapshot_and_tags_200k_objects", |b| b.iter(|| ObjectGraph::new(&heap).tag_retention().len()));
    group.bench_function("heap_map_200k_objects", |b| b.iter(|| gc_sim::HeapMap::of(&heap).pages.len()));
    group.finish();
}

criterion_group!(
    benches,
    allocation_mostly_dead,
    scavenge_scaling,
    mark_compact_1m_live,
    mark_compact_scaling,
    sweep_pages,
    evacuation,
    leak_analysis_200k
);
criterion_main!(benches);
