//! Growth-rate tests of the analysis paths (page release has its own, in `old_space.rs`): each times one operation on inputs of size n, 2n and
//! 4n and asserts that time grows at most about linearly (the exponent `log2(t(4n) / t(2n))` below 1.3). Times are
//! never compared with absolute figures, only with each other; each is the minimum of several repetitions, the
//! tests run one at a time, and a family over the bound is measured once more before the test fails, so that a
//! noisy machine does not fail it.

mod common;

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gc_sim::replay::Replay;
use gc_sim::trace::TraceEvent;
use gc_sim::{Heap, HeapConfig, Labels, ObjectGraph, ObjectId, Report, MIB};

/// The largest exponent accepted between 2n and 4n.
const MAX_EXPONENT: f64 = 1.3;
/// Repetitions of each measurement; the minimum counts.
const REPETITIONS: usize = 5;

/// Serializes the tests of this file: tests running side by side on a 2-core machine would slow each other down
/// unevenly.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The minimum time of `run` over [`REPETITIONS`] runs on one input of size `n` made by `setup` (setup is not
/// timed; `run` must leave the input as it found it).
fn time<S>(n: usize, setup: &mut impl FnMut(usize) -> S, run: &mut impl FnMut(&mut S)) -> Duration {
    let mut made = setup(n);
    (0..REPETITIONS)
        .map(|_| {
            let start = Instant::now();
            run(&mut made);
            start.elapsed()
        })
        .min()
        .expect("at least one repetition")
}

/// The exponent of `run`'s growth from 2n to 4n (n is timed first, as a warm-up and for the message).
fn exponent<S>(n: usize, setup: &mut impl FnMut(usize) -> S, run: &mut impl FnMut(&mut S)) -> (f64, String) {
    let times: Vec<Duration> = [n, 2 * n, 4 * n].iter().map(|&size| time(size, setup, run)).collect();
    let e = (times[2].as_secs_f64() / times[1].as_secs_f64().max(1e-9)).log2();
    (e, format!("n = {n}: {:?}, {:?}, {:?}; exponent {e:.2}", times[0], times[1], times[2]))
}

/// Asserts that `run` grows at most about linearly, measuring a second time before failing.
fn assert_near_linear<S>(what: &str, n: usize, mut setup: impl FnMut(usize) -> S, mut run: impl FnMut(&mut S)) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (e, first) = exponent(n, &mut setup, &mut run);
    eprintln!("{what}: {first}");
    if e < MAX_EXPONENT {
        return;
    }
    let (e, second) = exponent(n, &mut setup, &mut run);
    eprintln!("{what} (again): {second}");
    assert!(e < MAX_EXPONENT, "{what} grows faster than linearly: {first}; then {second}");
}

/// A heap whose old generation holds whatever a test allocates.
fn big_heap() -> Heap {
    let config = HeapConfig { max_old_generation_size: 256 * 1024 * MIB, ..HeapConfig::default() };
    Heap::new(config).unwrap()
}

/// `n` root sets, each holding its own list of 4 objects: what each root set retains comes from one pass over the
/// live graph, not one walk of it per root set.
#[test]
fn root_set_retention_is_linear_in_root_sets() {
    assert_near_linear(
        "root_set_retention",
        6_000,
        |n| {
            let mut heap = big_heap();
            for i in 0..n {
                let mut list = common::List::rooted(&mut heap, &format!("root-{i}"), 32);
                for _ in 0..3 {
                    list.push(&mut heap, 16).unwrap();
                }
            }
            heap
        },
        |heap| {
            let r = ObjectGraph::new(heap).root_set_retention();
            assert_eq!(r[0].retained_objects, 4);
        },
    );
}

/// `n` root sets that each hold one object of one list of `10 n` objects (held by `globals`): each reaches the list
/// from its object on, and what all of them reach is read off the dominator tree once, not walked per root set
/// (which is quadratic: the suffixes add up to `5 n^2` objects).
#[test]
fn root_sets_sharing_one_list_are_linear_in_root_sets() {
    assert_near_linear(
        "root sets sharing a list",
        4_000,
        |n| {
            let mut heap = big_heap();
            let mut tail = heap.alloc(16, 1, Labels::NONE).unwrap();
            heap.add_root("globals", tail).unwrap();
            for i in 0..10 * n {
                if i > 0 {
                    let next = heap.alloc(16, 1, Labels::NONE).unwrap();
                    heap.write(tail, 0, Some(next)).unwrap();
                    tail = next;
                }
                if i % 10 == 0 {
                    heap.add_root(&format!("set-{}", i / 10), tail).unwrap();
                }
            }
            heap
        },
        |heap| {
            let r = ObjectGraph::new(heap).root_set_retention();
            assert_eq!(r.iter().map(|r| r.reachable_objects).max(), Some((r.len() as u64 - 1) * 10), "globals");
        },
    );
}

/// The report of `n` closed connections, one tag each, all still held by `timers`: every one is a suspected leak.
#[test]
fn suspected_leaks_are_linear_in_closed_tags() {
    assert_near_linear(
        "suspected_leaks",
        4_000,
        |n| {
            let mut replay = Replay::new("growth", big_heap());
            for i in 0..n as u64 {
                let tag = format!("conn-{i}");
                let event = TraceEvent::Alloc {
                    id: 2 * i,
                    size: 104,
                    slots: 1,
                    kind: Some(Cow::Borrowed("Timeout")),
                    tag: Some(Cow::Owned(tag.clone())),
                    site: None,
                    root: Some(Cow::Borrowed("timers")),
                    pretenured: false,
                };
                replay.apply(event).unwrap();
                let event = TraceEvent::Alloc {
                    id: 2 * i + 1,
                    size: 64,
                    slots: 0,
                    kind: Some(Cow::Borrowed("closure")),
                    tag: Some(Cow::Owned(tag.clone())),
                    site: None,
                    root: None,
                    pretenured: false,
                };
                replay.apply(event).unwrap();
                replay.apply(TraceEvent::Write { obj: 2 * i, slot: 0, to: Some(2 * i + 1) }).unwrap();
                let mark =
                    TraceEvent::Mark { label: Cow::Owned(format!("{tag} closes")), closes: Some(Cow::Owned(tag)) };
                replay.apply(mark).unwrap();
            }
            replay
        },
        |replay| {
            let report = Report::new(replay, None);
            assert_eq!(report.suspected_leaks.len(), report.tags.len());
        },
    );
}

/// One list of `n` objects, each with its own tag: finding each tag's root set must not walk up from every tag.
#[test]
fn tag_retention_is_linear_in_tags_times_depth() {
    assert_near_linear(
        "tag_retention",
        // Large enough that all three sizes are out of the caches (at 40,000 tags 4n ran from memory while 2n ran
        // from cache: exponents 1.37 and 1.43 on a quiet machine, CI of 77c276d).
        160_000,
        |n| {
            let mut heap = big_heap();
            let mut previous: Option<ObjectId> = None;
            for i in 0..n {
                let tag = heap.label(&format!("t{i}"));
                let o = heap.alloc(16, 1, Labels { tag: Some(tag), ..Labels::NONE }).unwrap();
                match previous {
                    Some(p) => heap.write(p, 0, Some(o)).unwrap(),
                    None => heap.add_root("globals", o).unwrap(),
                }
                previous = Some(o);
            }
            // Leaked so that the graph, made outside the timing, can borrow it.
            ObjectGraph::new(Box::leak(Box::new(heap)))
        },
        |graph| assert_eq!(graph.tag_retention().len(), graph.live().objects as usize),
    );
}

/// A doubly linked list of `n` objects (as Node's timer list is a ring): the dominator tree of a deep chain with
/// back edges.
#[test]
fn dominators_of_a_doubly_linked_list_are_near_linear() {
    assert_near_linear(
        "snapshot",
        // Large enough that all three sizes are out of the caches: the library is optimized in test builds, and at
        // 40,000 objects 4n ran from memory while n and 2n ran from cache (exponent 2.09 at opt-level 3; 1.06 at
        // 320,000 objects and opt-level 1).
        320_000,
        |n| {
            let mut heap = big_heap();
            let head = heap.alloc(24, 2, Labels::NONE).unwrap();
            heap.add_root("timers", head).unwrap();
            let mut tail = head;
            for _ in 1..n {
                let next = heap.alloc(24, 2, Labels::NONE).unwrap();
                heap.write(tail, 0, Some(next)).unwrap();
                heap.write(next, 1, Some(tail)).unwrap();
                tail = next;
            }
            heap.write(tail, 0, Some(head)).unwrap();
            heap.write(head, 1, Some(tail)).unwrap();
            heap
        },
        |heap| {
            let graph = ObjectGraph::new(heap);
            assert_eq!(graph.live().objects, graph.root_set_retained().next().unwrap().1.objects);
        },
    );
}

/// Importing a heap (`--initial-heap`): a doubly linked ring of n objects with a root every 100 objects, into a fresh
/// heap each time, costs about n.
#[test]
fn heap_import_is_linear_in_objects() {
    assert_near_linear(
        "heap_import",
        50_000,
        |n| {
            let mut import = gc_sim::HeapImport::default();
            for i in 0..n as u32 {
                let (next, previous) = ((i + 1) % n as u32, (i + n as u32 - 1) % n as u32);
                import.object(32, Labels::NONE, [next, previous]);
                if i % 100 == 0 {
                    import.root(&format!("root-{}", i % 7), i);
                }
            }
            import
        },
        |import| {
            let handles = big_heap().import(import).unwrap();
            assert_eq!(handles.len(), import.len());
        },
    );
}
