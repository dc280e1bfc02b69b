//! Node's runtime around the collector (issue 19): incremental marking starts at V8's limit, what is allocated while
//! it runs survives the cycle and dies in the next, the scavenge task and the memory reducer run at turns of the event
//! loop, and a slow leak dies in a storm of mark-compacts that finalize incremental marking.

mod common;

use gc_sim::{Collection, Collector, GcReason, Heap, HeapConfig, HeapError, Labels, OomLocation, MIB};

/// A 64 MiB heap whose rooted list of pretenured 4 KiB objects grew, with no turn of the event loop, until
/// incremental marking started (at the hard limit); the list's holder is the rooted head.
fn heap_that_just_started_marking() -> (Heap, common::List, gc_sim::ObjectId) {
    let config = HeapConfig { max_old_generation_size: 64 * MIB, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    let holder = heap.alloc_old(16, 1, Labels::NONE).unwrap();
    let mut list = common::List::rooted_at(&mut heap, "r", holder);
    while !heap.is_marking() {
        list.push_old(&mut heap, 4096).unwrap();
    }
    (heap, list, holder)
}

/// Pretenured 4 KiB objects on a rooted list, one at a time with a turn of the event loop after each, until
/// incremental marking starts: it starts once the old generation is over 8 MiB and the room left under the
/// allocation limit is at most new space's capacity (V8's soft limit: from a task, at the next turn), not before.
/// Without turns of the event loop it starts only at the hard limit, when no room is left.
#[test]
fn marking_starts_when_the_room_under_the_limit_is_new_space() {
    let config = HeapConfig { max_old_generation_size: 64 * MIB, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    let holder = heap.alloc_old(16, 1, Labels::NONE).unwrap();
    let mut list = common::List::rooted_at(&mut heap, "r", holder);
    let mut before = None;
    while !heap.is_marking() {
        before = Some((heap.old_generation_size(), heap.old_generation_allocation_limit()));
        list.push_old(&mut heap, 4096).unwrap();
        heap.advance(0.1).unwrap();
        assert!(heap.old_generation_size() < 64 * MIB, "marking never started");
    }
    let (size, limit) = (heap.old_generation_size(), heap.old_generation_allocation_limit());
    let capacity = heap.semi_space_capacity();
    assert!(size > 8 * MIB, "not at or under the activation threshold: {size}");
    assert!(limit.saturating_sub(size) <= capacity, "room {} > new space {capacity}", limit - size);
    let (size_before, limit_before) = before.unwrap();
    assert!(
        size_before <= 8 * MIB || limit_before.saturating_sub(size_before) > capacity,
        "the allocation before already reached the limit: before {size_before} / {limit_before}, after {size} / {limit}, new space {capacity}"
    );
    assert!(limit > size, "the soft limit: room was left");
    assert_eq!(heap.totals().mark_compacts, 0, "marking, not a mark-compact");
    assert!(heap.verify().is_clean(), "{}", heap.verify());

    // No turns of the event loop: no task starts it, the hard limit does.
    let (heap, _, _) = heap_that_just_started_marking();
    assert!(heap.old_generation_size() >= heap.old_generation_allocation_limit(), "at the hard limit");
}

/// Objects allocated in the old generation while marking runs are born marked (black allocation): one that nothing
/// references survives the mark-compact that finalizes the cycle, as floating garbage, and the next full collection
/// frees it. A young object allocated and dropped meanwhile is not kept.
#[test]
fn black_allocation_survives_the_cycle_and_dies_in_the_next() {
    let (mut heap, list, _) = heap_that_just_started_marking();
    let black = heap.alloc_old(512, 0, Labels::NONE).unwrap();
    heap.enter_scope();
    let young = heap.alloc(64, 0, Labels::NONE).unwrap();
    heap.exit_scope().unwrap();
    // Turns of the event loop: the marking job's tasks step and, once the worklist is empty, finalize.
    let mark_compacts = heap.totals().mark_compacts;
    while heap.totals().mark_compacts == mark_compacts {
        heap.advance(1.0).unwrap();
    }
    let finalizing = heap.events().last().unwrap();
    assert_eq!(finalizing.collector, Collector::MarkCompact);
    assert_eq!(finalizing.reason, GcReason::FinalizeMarkingViaTask);
    let incremental = finalizing.incremental.expect("it finalized incremental marking");
    assert!(incremental.steps > 0 && incremental.marked_bytes > 8 * MIB, "{incremental:?}");
    assert!(finalizing.trace_gc_line().contains(" steps since start of marking, biggest step "));
    assert!(heap.is_alive(black), "allocated black during the cycle");
    assert!(!heap.is_alive(young), "young objects are born white");
    assert!(heap.verify().is_clean(), "{}", heap.verify());
    heap.collect(Collection::Major).unwrap();
    assert!(!heap.is_alive(black), "the next full collection frees it");
    assert!(heap.is_alive(list.tail));
}

/// A reference stored while marking runs is marked by the barrier: an object reachable only through a slot written
/// after the cycle started (into an object marking had already visited) survives the finalizing mark-compact.
#[test]
fn a_reference_stored_during_marking_is_not_lost() {
    let (mut heap, _, holder) = heap_that_just_started_marking();
    // Let the marker visit everything there is (the root holder first).
    for _ in 0..3 {
        heap.advance(0.0).unwrap();
    }
    heap.enter_scope();
    let young = heap.alloc(64, 0, Labels::NONE).unwrap();
    let cache = heap.alloc_old(64, 1, Labels::NONE).unwrap();
    heap.write(holder, 0, Some(cache)).unwrap();
    heap.write(cache, 0, Some(young)).unwrap();
    heap.exit_scope().unwrap();
    let mark_compacts = heap.totals().mark_compacts;
    while heap.totals().mark_compacts == mark_compacts {
        heap.advance(1.0).unwrap();
    }
    assert!(heap.events().last().unwrap().incremental.is_some());
    assert!(heap.is_alive(cache) && heap.is_alive(young), "reachable through slots stored during marking");
    assert!(heap.verify().is_clean(), "{}", heap.verify());
}

/// The scavenge task: a program that turns the event loop gets its scavenges at 80 % of new space, reason `task`;
/// one that never does (no `advance`) scavenges only when new space is full.
#[test]
fn the_scavenge_task_scavenges_at_80_percent_at_a_turn_of_the_event_loop() {
    let run = |turns: bool| {
        let mut heap = Heap::default();
        for i in 0..200_000 {
            heap.enter_scope();
            heap.alloc(64, 0, Labels::NONE).unwrap();
            heap.exit_scope().unwrap();
            if turns && i % 100 == 0 {
                heap.advance(0.1).unwrap();
            }
        }
        heap.events().iter().map(|e| (e.reason, e.before.new_space.used_bytes)).collect::<Vec<_>>()
    };
    let with = run(true);
    assert!(!with.is_empty() && with.iter().all(|&(reason, _)| reason == GcReason::Task), "{with:?}");
    // 80 % of one 1 MiB semi-space (4 pages of 256 KiB): 838,860 B, give or take one turn's allocation.
    assert!(with.iter().all(|&(_, used)| (838_860..838_860 + 100 * 64 + 64 * 1024).contains(&used)), "{with:?}");
    let without = run(false);
    assert!(without.iter().all(|&(reason, _)| reason == GcReason::AllocationFailure), "{without:?}");
    assert!(with.len() > without.len());
}

/// The memory reducer: a program whose old generation grew by a megabyte before any mark-compact, and then goes
/// quiet, gets two memory-reducing mark-compacts, 8 s and about 8.6 s later, that shrink new space; the plain
/// model gets none.
#[test]
fn the_memory_reducer_collects_twice_when_the_program_goes_quiet() {
    let run = |config: HeapConfig| {
        let mut heap = Heap::new(config).unwrap();
        let mut list = common::List::rooted(&mut heap, "r", 16);
        for _ in 0..400 {
            list.push_old(&mut heap, 4096).unwrap();
        }
        heap.advance(20_000.0).unwrap();
        heap
    };
    let heap = run(HeapConfig::default());
    let reducing: Vec<_> = heap.events().iter().filter(|e| e.reduce_memory).collect();
    assert_eq!(reducing.len(), 2, "{:?}", heap.events());
    assert!((8_000.0..8_400.0).contains(&reducing[0].start_ms), "{}", reducing[0].start_ms);
    assert!((8_500.0..9_100.0).contains(&reducing[1].start_ms), "{}", reducing[1].start_ms);
    assert!(reducing.iter().all(|e| e.trace_gc_line().contains("Mark-Compact (reduce) ")));
    let plain = run(HeapConfig::default().plain());
    assert_eq!(plain.totals().mark_compacts, 0);
}

/// A slow leak among plenty of garbage, in V8's runtime: as the old generation nears its maximum, marking restarts
/// as soon as each mark-compact ends, the mark-compacts come back to back and their mutator utilization falls, and
/// the program dies of "Ineffective mark-compacts near heap limit", the way the seed server dies in Node.
#[test]
fn a_slow_leak_dies_in_a_storm_of_incremental_mark_compacts() {
    let config = HeapConfig { max_old_generation_size: 24 * MIB, max_semi_space_size: MIB, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    // Pretenured like the seed server's leaked objects (allocation-site pretenuring): each old-space allocation
    // checks the marking limit, which restarts marking right after each mark-compact.
    let error = common::slow_leak_until_death(&mut heap, true);
    let HeapError::OutOfMemory(oom) = &error else { panic!("expected out-of-memory, got {error}") };
    assert_eq!(oom.location, OomLocation::IneffectiveMarkCompacts, "{}", oom.message());
    assert!(oom.old_generation_bytes >= 24 * MIB * 8 / 10);
    let finalizing: Vec<_> = heap.events().iter().filter(|e| e.incremental.is_some()).collect();
    assert!(finalizing.len() >= 10, "{} mark-compacts finalized incremental marking", finalizing.len());
    let last: Vec<_> = heap.events().iter().rev().take(5).collect();
    assert!(last.iter().all(|e| e.collector == Collector::MarkCompact), "the end is a storm");
    assert!(last[1].average_mutator_utilization < 0.4);
    assert!(heap.verify().is_clean(), "{}", heap.verify());
}
