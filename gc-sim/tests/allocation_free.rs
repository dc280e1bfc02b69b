//! The hot loops allocate nothing per object: a counting global allocator shows that a scavenge and a
//! mark-compact of 100,000 objects, and the replay of 1,000,000 events (allocation, the write barrier, the id
//! table and the scavenges they trigger), make a handful of allocations once their memory is warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

use gc_sim::trace::{Flow, TraceEvent};
use gc_sim::{Collection, Heap, HeapConfig, Labels, Replay, MIB};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Builds `n` objects in a rooted list plus `n` garbage objects, all in new space.
fn build(heap: &mut Heap, n: usize) {
    let mut list = common::List::rooted(heap, "list", 32);
    for _ in 1..n {
        heap.alloc(32, 0, Labels::NONE).unwrap();
        list.push(heap, 32).unwrap();
    }
}

// One test function: the allocation counter is global, so the checks must not run in parallel threads.
#[test]
fn collections_do_not_allocate_per_object() {
    const N: usize = 100_000;
    let semi = 64 * MIB;
    let config = HeapConfig { min_semi_space_size: semi, max_semi_space_size: semi, ..HeapConfig::default() };

    // Warm-up round: scratch memory and vectors reach their working size.
    let mut heap = Heap::new(config.clone()).unwrap();
    build(&mut heap, N);
    heap.collect(Collection::Minor).unwrap();
    heap.collect(Collection::Minor).unwrap();
    heap.collect(Collection::Major).unwrap();
    build(&mut heap, N);

    let copy = allocations_during(|| {
        heap.collect(Collection::Minor).unwrap();
    });
    let promote = allocations_during(|| {
        heap.collect(Collection::Minor).unwrap();
    });
    let full = allocations_during(|| {
        heap.collect(Collection::Major).unwrap();
    });
    assert_eq!(heap.usage().old_space.objects, 2 * N as u64);
    // A few allocations per collection (the event log, a new old-space page table entry, a grown vector), never
    // one per object: 100,000 objects were copied, promoted and marked.
    for (phase, count) in [("scavenge (copy)", copy), ("scavenge (promote)", promote), ("mark-compact", full)] {
        assert!(count < 64, "{phase}: {count} allocations for {N} objects");
    }

    // The replay's hot loop: handle scopes of ten linked objects that die, ids in order.
    let mut replay = Replay::new("t", Heap::new(HeapConfig::default()).unwrap());
    let mut next_id = 0u64;
    let mut run = |replay: &mut Replay, events: u64| {
        let mut applied = 0;
        while applied < events {
            let mut apply = |event: TraceEvent<'static>| {
                assert_eq!(replay.apply(event), Ok(Flow::Continue));
                applied += 1;
            };
            apply(TraceEvent::Enter);
            for i in 0..10 {
                next_id += 1;
                let alloc = |id| TraceEvent::Alloc {
                    id,
                    size: 32,
                    slots: 2,
                    kind: None,
                    tag: None,
                    site: None,
                    root: None,
                    pretenured: false,
                };
                apply(alloc(next_id));
                if i > 0 {
                    apply(TraceEvent::Write { obj: next_id - 1, slot: 0, to: Some(next_id) });
                }
            }
            apply(TraceEvent::Exit);
        }
    };
    run(&mut replay, 1_000_000); // warm-up: the id window and the heap's tables reach their working size
    let replayed = allocations_during(|| run(&mut replay, 1_000_000));
    assert!(replay.heap().totals().scavenges > 20, "the replay collected");
    assert!(replayed < 64, "replay: {replayed} allocations for 1,000,000 events");
}
