//! The collectors' hot loops allocate nothing per object: a counting global allocator shows that a scavenge and
//! a mark-compact of 100,000 objects make a handful of allocations once their scratch memory is warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use gc_sim::{Collection, Heap, HeapConfig, Labels, MIB};

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
    let head = heap.alloc(32, 1, Labels::NONE).unwrap();
    heap.add_root("list", head).unwrap();
    let mut tail = head;
    for _ in 1..n {
        heap.alloc(32, 0, Labels::NONE).unwrap();
        let next = heap.alloc(32, 1, Labels::NONE).unwrap();
        heap.write(tail, 0, Some(next)).unwrap();
        tail = next;
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
}
