//! Young-generation scenarios: promotion age, the write barrier, deep structures, semi-space growth, large
//! objects and handle misuse.

mod common;

use gc_sim::{Collection, Collector, Heap, HeapConfig, HeapError, Labels, ObjectId, Space, MIB};

/// Objects are copied on their first survived scavenge and promoted on exactly the second (V8's age mark).
#[test]
fn promotion_happens_on_exactly_the_second_survived_scavenge() {
    let mut heap = Heap::default();
    let obj = heap.alloc(48, 0, Labels::NONE).unwrap();
    heap.add_root("r", obj).unwrap();
    let first_address = heap.object(obj).unwrap().address;

    let e1 = heap.collect(Collection::Minor).unwrap();
    let info = heap.object(obj).unwrap();
    assert_eq!((info.space, info.age), (Space::New, 1));
    assert_ne!(info.address, first_address, "copied to the other semi-space");
    assert_eq!((e1.copied_objects, e1.promoted_objects), (1, 0));

    let e2 = heap.collect(Collection::Minor).unwrap();
    let info = heap.object(obj).unwrap();
    assert_eq!((info.space, info.age), (Space::Old, 2));
    assert_eq!((e2.copied_objects, e2.promoted_objects, e2.promoted_bytes), (0, 1, 48));
    // As in V8's --trace-gc-nvp: each scavenge promotes what the previous one semi-space-copied.
    assert_eq!(e2.promoted_bytes, e1.copied_bytes);
    assert!(heap.verify().is_clean());
}

#[test]
fn promotion_age_is_configurable() {
    let mut heap = Heap::new(HeapConfig { promotion_age: 0, ..HeapConfig::default() }).unwrap();
    let obj = heap.alloc(48, 0, Labels::NONE).unwrap();
    heap.add_root("r", obj).unwrap();
    heap.collect(Collection::Minor).unwrap();
    assert_eq!(heap.object(obj).unwrap().space, Space::Old, "promotion age 0 promotes every survivor");
}

/// The write barrier records old->young stores, so a young object referenced only by an old one survives.
#[test]
fn a_young_object_reachable_only_from_an_old_object_survives() {
    let mut heap = Heap::default();
    let old = heap.alloc(32, 1, Labels::NONE).unwrap();
    heap.add_root("r", old).unwrap();
    heap.collect(Collection::Minor).unwrap();
    heap.collect(Collection::Minor).unwrap();
    assert_eq!(heap.object(old).unwrap().space, Space::Old);

    let young = heap.alloc(64, 0, Labels::NONE).unwrap();
    heap.write(old, 0, Some(young)).unwrap();
    assert_eq!(heap.remembered_set_len(), 1, "the barrier recorded the slot");
    heap.collect(Collection::Minor).unwrap();
    assert_eq!(heap.object(young).unwrap().space, Space::New);
    assert_eq!(heap.remembered_set_len(), 1, "the slot still points into new space: kept");
    heap.collect(Collection::Minor).unwrap();
    assert_eq!(heap.object(young).unwrap().space, Space::Old);
    assert_eq!(heap.remembered_set_len(), 0, "the target was promoted: the slot is dropped");
    assert!(heap.verify().is_clean());
}

/// Old garbage keeps young garbage alive until the next full GC, as in V8.
#[test]
fn old_garbage_keeps_young_objects_alive_until_a_full_gc() {
    let mut heap = Heap::default();
    let old = heap.alloc(32, 1, Labels::NONE).unwrap();
    heap.add_root("r", old).unwrap();
    heap.collect(Collection::Minor).unwrap();
    heap.collect(Collection::Minor).unwrap();
    let young = heap.alloc(64, 0, Labels::NONE).unwrap();
    heap.write(old, 0, Some(young)).unwrap();
    heap.remove_root("r", old).unwrap();
    heap.collect(Collection::Minor).unwrap();
    assert!(heap.is_alive(young), "a scavenge treats every old object as a root");
    heap.collect(Collection::Major).unwrap();
    assert!(!heap.is_alive(young) && !heap.is_alive(old));
}

/// A million-long linked list is copied, promoted and marked without recursion.
#[test]
fn a_million_long_linked_list_is_scavenged_promoted_and_marked_without_stack_overflow() {
    const N: usize = 1_000_000;
    let semi = 32 * MIB;
    let mut heap =
        Heap::new(HeapConfig { min_semi_space_size: semi, max_semi_space_size: semi, ..HeapConfig::default() })
            .unwrap();
    // Each new node points at the previous one, so the list is a single chain of depth N from the root.
    let mut head: Option<ObjectId> = None;
    for _ in 0..N {
        let node = heap.alloc(16, 1, Labels::NONE).unwrap();
        heap.write(node, 0, head).unwrap();
        head = Some(node);
    }
    let head = head.unwrap();
    heap.add_root("list", head).unwrap();
    assert_eq!(heap.totals().scavenges, 0, "the whole list was built in new space");

    let copied = heap.collect(Collection::Minor).unwrap();
    assert_eq!(copied.copied_objects, N as u64);
    let promoted = heap.collect(Collection::Minor).unwrap();
    assert_eq!(promoted.promoted_objects, N as u64);
    assert_eq!(heap.usage().old_space.objects, N as u64);
    let full = heap.collect(Collection::Major).unwrap();
    assert_eq!(full.marked_objects, N as u64);
    assert_eq!(full.died_objects, 0);
}

/// Under survival pressure the semi-space doubles: 1 -> 2 -> 4 MiB (4, 8, 16 pages of 257,720 B).
#[test]
fn semi_space_grows_one_two_four_mib_under_survival_pressure() {
    let mut heap = Heap::default();
    // Keep everything: a growing list of 1 KiB objects, 6 MiB in all.
    let mut list = common::List::rooted(&mut heap, "r", 16);
    for _ in 0..6 * 1024 {
        list.push(&mut heap, 1024).unwrap();
    }
    let mut capacities: Vec<u64> = heap.events().iter().map(|e| e.semi_space_capacity).collect();
    capacities.dedup();
    assert_eq!(&capacities[..3], &[1_030_880, 2_061_760, 4_123_520], "{capacities:?}");
    assert!(heap.events().iter().all(|e| e.collector == Collector::Scavenge));
    assert!(heap.verify().is_clean());
}

/// Objects over 128 KiB live in large-object space: never copied, promoted by page, freed whole.
#[test]
fn large_objects_are_never_copied() {
    let mut heap = Heap::default();
    let big = heap.alloc(200_000, 2, Labels::NONE).unwrap();
    heap.add_root("r", big).unwrap();
    let info = heap.object(big).unwrap();
    assert_eq!(info.space, Space::NewLargeObject);
    let e = heap.collect(Collection::Minor).unwrap();
    let after = heap.object(big).unwrap();
    assert_eq!(after.space, Space::LargeObject, "a surviving young large object is promoted whole");
    assert_eq!(after.address, info.address, "by moving its page, not its bytes");
    assert_eq!((e.copied_bytes, e.promoted_bytes), (0, 200_000));
    heap.collect(Collection::Major).unwrap();
    assert_eq!(heap.object(big).unwrap().address, info.address, "a full GC never moves it either");
    heap.remove_root("r", big).unwrap();
    let e = heap.collect(Collection::Major).unwrap();
    assert!(!heap.is_alive(big));
    assert_eq!(e.released_pages, 1);
    assert_eq!(heap.usage().large_object_space.committed_bytes, 0, "its page is gone");
}

#[test]
fn a_dead_young_large_object_is_freed_by_a_scavenge() {
    let mut heap = Heap::default();
    let big = heap.alloc(300_000, 0, Labels::NONE).unwrap();
    let e = heap.collect(Collection::Minor).unwrap();
    assert!(!heap.is_alive(big));
    assert_eq!((e.died_objects, e.died_bytes), (1, 300_000));
    assert_eq!(heap.usage().new_large_object_space.committed_bytes, 0);
}

/// A handle to a freed object is a typed error, never a panic or a misread, even after its slot is reused.
#[test]
fn stale_handles_are_detected() {
    let mut heap = Heap::default();
    let dead = heap.alloc(32, 1, Labels::NONE).unwrap();
    heap.collect(Collection::Minor).unwrap();
    assert_eq!(heap.object(dead), Err(HeapError::FreedObject(dead)));
    assert_eq!(heap.write(dead, 0, None), Err(HeapError::FreedObject(dead)));
    let live = heap.alloc(32, 1, Labels::NONE).unwrap();
    assert_eq!(heap.write(live, 0, Some(dead)), Err(HeapError::FreedObject(dead)));
    assert_eq!(heap.add_root("r", dead), Err(HeapError::FreedObject(dead)));
    // Reclaim its header until a new object takes the same slot-map entry (same index, a newer version): the old
    // handle still reads as freed, and the new one reads as the new object.
    use slotmap::Key;
    let index = |id: ObjectId| id.data().as_ffi() as u32;
    heap.collect(Collection::Major).unwrap();
    let reused = (0..100_000)
        .map(|_| heap.alloc(32, 0, Labels::NONE).unwrap())
        .find(|&id| index(id) == index(dead))
        .expect("the freed entry is reused");
    assert_ne!(reused, dead, "same entry, another version");
    assert_eq!(heap.object(dead), Err(HeapError::FreedObject(dead)));
    assert_eq!(heap.object(reused).unwrap().size, 32);
}

#[test]
fn misuse_of_the_mutator_api_is_a_typed_error() {
    let mut heap = Heap::default();
    let a = heap.alloc(32, 2, Labels::NONE).unwrap();
    assert_eq!(heap.write(a, 2, None), Err(HeapError::SlotOutOfRange { object: a, slot: 2, slot_count: 2 }));
    assert_eq!(heap.alloc(0, 0, Labels::NONE), Err(HeapError::ZeroSize));
    assert_eq!(heap.exit_scope(), Err(HeapError::NoOpenScope));
    assert!(matches!(heap.remove_root("timers", a), Err(HeapError::NotRooted { .. })));
    heap.add_root("timers", a).unwrap();
    heap.add_root("timers", a).unwrap();
    heap.remove_root("timers", a).unwrap();
    heap.collect(Collection::Major).unwrap();
    assert!(heap.is_alive(a), "rooted twice, removed once: still held");
}

/// Objects allocated in a handle scope are held until it exits, like V8's HandleScope.
#[test]
fn handle_scopes_hold_their_objects_until_exit() {
    let mut heap = Heap::default();
    heap.enter_scope();
    let a = heap.alloc(32, 0, Labels::NONE).unwrap();
    heap.enter_scope();
    let b = heap.alloc(32, 0, Labels::NONE).unwrap();
    heap.collect(Collection::Minor).unwrap();
    assert!(heap.is_alive(a) && heap.is_alive(b));
    heap.exit_scope().unwrap();
    heap.collect(Collection::Minor).unwrap();
    assert!(heap.is_alive(a) && !heap.is_alive(b));
    heap.exit_scope().unwrap();
    heap.collect(Collection::Major).unwrap();
    assert!(!heap.is_alive(a));
}

/// Scavenges are triggered by allocation failure and report V8's reason; observers see every event.
#[test]
fn allocation_failure_triggers_scavenges_seen_by_observers() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let mut heap = Heap::new(common::tiny_config()).unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    heap.add_gc_epilogue_callback(move |_, e| sink.borrow_mut().push(e.trace_gc_line()));
    for _ in 0..1000 {
        heap.alloc(100, 0, Labels::NONE).unwrap();
    }
    let events = heap.events();
    assert!(events.len() > 10);
    assert!(events.iter().all(|e| e.reason.v8_name() == "allocation failure"));
    assert_eq!(seen.borrow().len(), events.len());
    assert!(seen.borrow()[0].starts_with("[gc-sim]        0 ms: Scavenge "), "{}", seen.borrow()[0]);
}

/// Regression: a low allocation rate shrinks the semi-space towards max(initial, 2 × used), but a target above
/// the current capacity must not grow it (V8 applies a shrink only when it is smaller).
#[test]
fn shrinking_never_grows_the_semi_space() {
    let mut heap = Heap::default();
    let mut list = common::List::rooted(&mut heap, "r", 16);
    for _ in 0..700 {
        list.push(&mut heap, 1000).unwrap();
    }
    let before = heap.semi_space_capacity();
    heap.advance(10_000.0).unwrap(); // about 70 B/ms: below V8's 1,000 B/ms "low allocation throughput"
    heap.collect(Collection::Minor).unwrap();
    assert_eq!(heap.semi_space_capacity(), before);
}
