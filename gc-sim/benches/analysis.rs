//! The cost of a report's analysis ([`Report::new`]: one walk of the live graph, the dominator tree, retainers,
//! tags, ages) as the number of root sets grows over the same objects and the same graph. Figures are recorded in
//! `docs/performance.md` (section "One walk per report"); reproduce with `cargo bench -p gc-sim --bench analysis`.

use std::borrow::Cow;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gc_sim::trace::TraceEvent;
use gc_sim::{Heap, HeapConfig, Replay, Report, MIB};

/// Objects of the list.
const OBJECTS: u64 = 200_000;

/// The trace of `scripts/make-growth-traces.py rootsets N`: a list of [`OBJECTS`] 16-byte objects held by
/// `globals`, and `root_sets` root sets `set0`, `set1`, ... each holding one object of it (the object
/// `r * 7919 % OBJECTS`), so that every root set reaches the list from its object on.
fn root_sets_on_one_list(root_sets: u64) -> Replay {
    let config = HeapConfig { max_old_generation_size: 1024 * MIB, ..HeapConfig::default() };
    let mut replay = Replay::new("root sets", Heap::new(config).expect("a valid configuration"));
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
    let mut apply = |event: TraceEvent<'_>| replay.apply(event).expect("a valid trace");
    apply(alloc(0, Some("globals")));
    for id in 1..OBJECTS {
        apply(alloc(id, None));
        apply(TraceEvent::Write { obj: id - 1, slot: 0, to: Some(id) });
    }
    for r in 0..root_sets {
        apply(TraceEvent::Root { id: r * 7919 % OBJECTS, root: Cow::Owned(format!("set{r}")) });
    }
    replay
}

fn report_by_root_sets(c: &mut Criterion) {
    let mut group = c.benchmark_group("report");
    group.sample_size(20);
    group.throughput(Throughput::Elements(OBJECTS));
    for root_sets in [1, 1_000] {
        let replay = root_sets_on_one_list(root_sets);
        let report = Report::new(&replay, None);
        assert_eq!(report.summary.live_objects, OBJECTS);
        assert_eq!(report.retainers.len() as u64, root_sets + 1, "globals and the sets");
        group.bench_with_input(BenchmarkId::new("root_sets_on_200k_list", root_sets), &replay, |b, replay| {
            b.iter(|| Report::new(replay, None))
        });
    }
    group.finish();
}

criterion_group!(benches, report_by_root_sets);
criterion_main!(benches);
