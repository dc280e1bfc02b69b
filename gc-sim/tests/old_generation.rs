//! Old-generation scenarios: compaction of fragmented pages, large objects, the allocation limit, and both of
//! V8's ways to run out of memory.

mod common;

use gc_sim::{
    Collection, Collector, CollectorReason, GcReason, Heap, HeapConfig, HeapError, Labels, OomLocation, Space, MIB,
};

/// Promotes 40 arrays of 1,000 objects of 200 B (about 8 MB) to old space.
fn old_arrays(heap: &mut Heap) -> Vec<gc_sim::ObjectId> {
    let mut arrays = Vec::new();
    for _ in 0..40 {
        let array = heap.alloc(16 + 8 * 1000, 1000, Labels::NONE).unwrap();
        heap.add_root("arrays", array).unwrap();
        for slot in 0..1000 {
            let item = heap.alloc(200, 0, Labels::NONE).unwrap();
            heap.write(array, slot, Some(item)).unwrap();
        }
        arrays.push(array);
    }
    heap.collect(Collection::Major).unwrap();
    arrays
}

/// Freeing 3 of every 4 objects leaves pages >= 70 % free: they are evacuated and released.
#[test]
fn a_fragmentation_pattern_is_compacted_and_pages_are_released() {
    let mut heap = Heap::default();
    let arrays = old_arrays(&mut heap);
    let pages_before = heap.usage().old_space.committed_bytes / (256 * 1024);
    let survivors: Vec<_> = arrays.iter().flat_map(|&a| (0..1000).step_by(4).map(move |s| (a, s))).collect();
    let survivor_ids: Vec<_> = survivors.iter().map(|&(a, s)| heap.read(a, s).unwrap().unwrap()).collect();
    let addresses: Vec<_> = survivor_ids.iter().map(|&id| heap.object(id).unwrap().address).collect();
    for &array in &arrays {
        for slot in 0..1000 {
            if slot % 4 != 0 {
                heap.write(array, slot, None).unwrap();
            }
        }
    }
    let e = heap.collect(Collection::Major).unwrap();
    assert_eq!(e.died_objects, 40 * 750);
    assert!(e.evacuated_pages >= pages_before / 2, "{} of {pages_before} pages evacuated", e.evacuated_pages);
    assert!(e.evacuated_bytes > 0 && e.evacuated_bytes <= 4 * MIB);
    assert!(e.released_pages >= e.evacuated_pages);
    let pages_after = heap.usage().old_space.committed_bytes / (256 * 1024);
    assert!(pages_after * 2 < pages_before, "{pages_before} -> {pages_after} pages");
    let moved = survivor_ids.iter().zip(&addresses).filter(|(id, a)| heap.object(**id).unwrap().address != **a).count();
    assert!(moved > survivor_ids.len() / 2, "{moved} of {} survivors moved", survivor_ids.len());
    assert!(survivor_ids.iter().all(|&id| heap.is_alive(id)), "compaction kept every survivor");
    assert!(heap.verify().is_clean(), "{}", heap.verify());
}

/// With only a few holes per page nothing qualifies for evacuation, and sweeping fills the free lists.
#[test]
fn lightly_fragmented_pages_are_swept_not_evacuated() {
    let mut heap = Heap::default();
    let arrays = old_arrays(&mut heap);
    for &array in &arrays {
        for slot in (0..1000).step_by(10) {
            heap.write(array, slot, None).unwrap();
        }
    }
    let e = heap.collect(Collection::Major).unwrap();
    // 90 % of every page stays live; only the partly filled last page can be >= 70 % free.
    assert!(e.evacuated_pages <= 1, "{} pages evacuated", e.evacuated_pages);
    assert!(e.holes_bytes >= 40 * 100 * 200 / 2, "most freed objects became free-list holes: {}", e.holes_bytes);
    // The next promotions reuse those holes before taking new pages.
    let committed = heap.usage().old_space.committed_bytes;
    let array = arrays[0];
    for slot in (0..1000).step_by(10) {
        let item = heap.alloc(200, 0, Labels::NONE).unwrap();
        heap.write(array, slot, Some(item)).unwrap();
    }
    heap.collect(Collection::Major).unwrap();
    assert_eq!(heap.usage().old_space.committed_bytes, committed);
    assert!(heap.verify().is_clean());
}

#[test]
fn large_objects_never_move_and_are_freed_whole() {
    let mut heap = Heap::default();
    let big: Vec<_> = (0..5)
        .map(|_| {
            let b = heap.alloc(1_000_000, 0, Labels::NONE).unwrap();
            heap.add_root("r", b).unwrap();
            b
        })
        .collect();
    let addresses: Vec<_> = big.iter().map(|&b| heap.object(b).unwrap().address).collect();
    heap.collect(Collection::Major).unwrap();
    heap.collect(Collection::Major).unwrap();
    for (&b, a) in big.iter().zip(&addresses) {
        let info = heap.object(b).unwrap();
        assert_eq!((info.space, info.address), (Space::LargeObject, *a));
    }
    let committed = heap.usage().large_object_space.committed_bytes;
    heap.remove_root("r", big[2]).unwrap();
    let e = heap.collect(Collection::Major).unwrap();
    assert_eq!((e.released_pages, e.died_bytes), (1, 1_000_000));
    assert_eq!(
        committed - heap.usage().large_object_space.committed_bytes,
        1_007_616,
        "a 4,424 B header and the object, in 246 pages of 4 KiB"
    );
    assert!(heap.verify().is_clean());
}

/// When promoted bytes reach the allocation limit, a mark-compact follows, and a new limit is computed.
#[test]
fn reaching_the_allocation_limit_triggers_a_mark_compact() {
    let config = HeapConfig { initial_old_generation_limit: Some(4 * MIB), ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    let mut list = common::List::rooted(&mut heap, "r", 16);
    while heap.totals().mark_compacts == 0 {
        heap.advance(0.1).unwrap();
        list.push(&mut heap, 512).unwrap();
    }
    let mc = heap.events().iter().find(|e| e.collector == Collector::MarkCompact).unwrap();
    assert_eq!(mc.reason, GcReason::AllocationLimit);
    assert_eq!(mc.collector_reason, Some(CollectorReason::OldSpaceRequested));
    assert!(mc.before.old_generation_bytes() >= mc.old_generation_allocation_limit.min(4 * MIB));
    // The heap controller's limit: at least size + 8 MiB + new space, at most halfway to the maximum.
    let size = mc.after.old_generation_bytes();
    assert!(mc.old_generation_allocation_limit >= size + 8 * MIB, "{} for {size}", mc.old_generation_allocation_limit);
    assert!(mc.old_generation_allocation_limit <= (size + 4096 * MIB) / 2);
    assert!(heap.verify().is_clean());
}

/// A growing rooted structure under a small heap: the heap thrashes in mark-compacts, then dies like Node
/// (a result, not a panic), leaving the heap intact for inspection.
#[test]
fn a_growing_rooted_structure_ends_in_out_of_memory() {
    // The plain model: atomic mark-compacts at the allocation limit.
    let config = HeapConfig { max_old_generation_size: 16 * MIB, ..HeapConfig::default() }.plain();
    let mut heap = Heap::new(config).unwrap();
    let mut list = common::List::rooted(&mut heap, "r", 16);
    let error = loop {
        heap.advance(0.01).unwrap();
        if let Err(e) = list.push(&mut heap, 1024) {
            break e;
        }
    };
    let HeapError::OutOfMemory(oom) = &error else { panic!("expected out-of-memory, got {error}") };
    assert!(error.to_string().ends_with("Allocation failed - JavaScript heap out of memory"), "{error}");
    assert_eq!(heap.out_of_memory(), Some(oom));
    // As in Node with --max-old-space-size=32 (docs/v8-sources.md#oom-reached-heap-limit): the last GC is a
    // mark-compact chosen because the scavenge might not succeed, and nothing it frees is enough.
    let last = heap.events().last().unwrap();
    assert_eq!(last.collector, Collector::MarkCompact);
    assert_eq!(last.collector_reason, Some(CollectorReason::ScavengeMightNotSucceed));
    assert_eq!(oom.location, OomLocation::ReachedHeapLimit);
    assert!(last.died_bytes < MIB);
    assert!(oom.old_generation_bytes > 16 * MIB);
    // The heap is intact, and the program stays dead.
    assert!(heap.verify().is_clean(), "{}", heap.verify());
    assert!(heap.is_alive(list.tail));
    assert_eq!(heap.alloc(8, 0, Labels::NONE), Err(error.clone()));
    assert_eq!(heap.collect(Collection::Major), Err(error));
}

/// A growing rooted structure of pretenured objects: once old space can take no more pages, the allocation fails,
/// V8's slow path runs two mark-compacts for the allocation failure, then the last-resort full collections, and the
/// program dies with `CALL_AND_RETRY_LAST`, the heap intact.
#[test]
fn a_growing_pretenured_structure_dies_after_last_resort_gcs() {
    // The plain model: atomic mark-compacts at the allocation limit.
    let config = HeapConfig { max_old_generation_size: 16 * MIB, ..HeapConfig::default() }.plain();
    let mut heap = Heap::new(config).unwrap();
    let holder = heap.alloc_old(16, 1, Labels::NONE).unwrap();
    let mut list = common::List::rooted_at(&mut heap, "r", holder);
    let mut allocated = 0u64;
    let error = loop {
        // Plenty of mutator time between allocations, so mutator utilization stays high and the mark-compacts
        // are never "ineffective".
        heap.advance(1.0).unwrap();
        match list.push_old(&mut heap, 4096) {
            Ok(next) => {
                assert_eq!(heap.object(next).unwrap().space, Space::Old);
                allocated += 4096;
            }
            Err(e) => break e,
        }
    };
    let HeapError::OutOfMemory(oom) = &error else { panic!("expected out-of-memory, got {error}") };
    assert_eq!(oom.location, OomLocation::CallAndRetryLast);
    assert_eq!(oom.message(), "CALL_AND_RETRY_LAST Allocation failed - JavaScript heap out of memory");
    assert!(allocated > 15 * MIB && allocated <= 16 * MIB, "{allocated} bytes allocated");
    assert_eq!(heap.totals().scavenges, 0, "nothing was ever young");
    // The failing allocation's slow path: two mark-compacts for the allocation failure, then at least two
    // last-resort ones that free nothing.
    let reasons: Vec<GcReason> = heap.events().iter().map(|e| e.reason).collect();
    let last_resort = reasons.iter().rev().take_while(|&&r| r == GcReason::LastResort).count();
    assert!((2..=7).contains(&last_resort), "{reasons:?}");
    let before = &reasons[..reasons.len() - last_resort];
    assert_eq!(before[before.len() - 2..], [GcReason::AllocationFailure, GcReason::AllocationFailure], "{reasons:?}");
    assert!(heap.events().iter().all(|e| e.collector == Collector::MarkCompact));
    assert!(heap.events().iter().rev().take(last_resort + 2).all(|e| e.died_bytes == 0));
    // Earlier mark-compacts were due to the allocation limit, as the old generation grew.
    assert!(reasons.contains(&GcReason::AllocationLimit), "{reasons:?}");
    assert!(heap.verify().is_clean(), "{}", heap.verify());
    assert!(heap.is_alive(list.tail));
    assert_eq!(heap.alloc_old(8, 0, Labels::NONE), Err(error));
}

/// Pretenured objects are old from birth: they are never copied by a scavenge, a store of a young object into one
/// goes through the write barrier, and a pretenured large object lands in the old large-object space.
#[test]
fn pretenured_objects_are_old_from_birth() {
    let mut heap = Heap::default();
    let old = heap.alloc_old(64, 1, Labels::NONE).unwrap();
    heap.add_root("r", old).unwrap();
    let address = heap.object(old).unwrap().address;
    let young = heap.alloc(32, 0, Labels::NONE).unwrap();
    heap.write(old, 0, Some(young)).unwrap();
    assert_eq!(heap.remembered_set_len(), 1);
    let e = heap.collect(Collection::Minor).unwrap();
    assert_eq!(e.copied_objects, 1, "only the young object, kept by the remembered slot");
    assert_eq!(heap.object(old).unwrap().address, address);
    assert!(heap.is_alive(young));
    let big = heap.alloc_old(200 * 1024, 0, Labels::NONE).unwrap();
    assert_eq!(heap.object(big).unwrap().space, Space::LargeObject);
    assert_eq!(heap.usage().large_object_space.used_bytes, 200 * 1024);
    heap.collect(Collection::Major).unwrap();
    assert!(!heap.is_alive(big), "unrooted, freed whole");
    assert!(heap.verify().is_clean(), "{}", heap.verify());
}

/// Back-to-back mark-compacts near the limit with no mutator time between them: "Ineffective mark-compacts".
#[test]
fn ineffective_mark_compacts_near_the_limit_are_fatal() {
    let config = HeapConfig { max_old_generation_size: 8 * MIB, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    // 6.8 MiB of live large objects: over 80 % of the 8 MiB maximum.
    let mut list = common::List::rooted(&mut heap, "r", 16);
    for _ in 0..34 {
        list.push(&mut heap, 200 * 1024).unwrap();
    }
    heap.advance(1000.0).unwrap();
    let mut results = Vec::new();
    for _ in 0..20 {
        results.push(heap.collect(Collection::Major));
    }
    let first_error = results.iter().position(Result::is_err).expect("the storm is fatal");
    let Err(HeapError::OutOfMemory(oom)) = &results[first_error] else { unreachable!() };
    assert_eq!(oom.location, OomLocation::IneffectiveMarkCompacts);
    assert_eq!(
        oom.message(),
        "Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory"
    );
    // V8 counts 4 consecutive mark-compacts with average mu < 0.4: the 1,000 ms of mutator time before the storm
    // weighs in the average (halved at every mark-compact) until it has decayed below 0.4. V8 checks in
    // `RecomputeLimits`, before the tracer counts the mark-compact that runs: each check sees the average of the
    // one before, so the 4 averages under 0.4 are those of the 4 mark-compacts before the fatal one.
    let events: Vec<_> = heap.events().iter().filter(|e| e.collector == Collector::MarkCompact).collect();
    let low: Vec<_> = events.iter().rev().skip(1).take(4).map(|e| e.average_mutator_utilization).collect();
    assert!(low.iter().all(|&mu| mu < 0.4), "{low:?}");
    assert!(events.iter().rev().nth(5).is_none_or(|e| e.average_mutator_utilization >= 0.4));
}

/// Mutator utilization follows V8's tracer: 1.000 until two mark-compacts, then mutator time over total time.
#[test]
fn mutator_utilization_is_printed_in_trace_gc_lines() {
    let mut heap = Heap::default();
    heap.collect(Collection::Major).unwrap();
    heap.advance(99.0).unwrap();
    let e = heap.collect(Collection::Major).unwrap();
    let mu = e.current_mutator_utilization;
    assert!(mu > 0.98 && mu < 1.0, "{mu}");
    let line = e.trace_gc_line();
    assert!(
        line.contains(&format!(
            "(average mu = {:.3}, current mu = {mu:.3}) testing; GC in old space requested",
            e.average_mutator_utilization
        )),
        "{line}"
    );
}

/// A slow leak among plenty of garbage: as the old generation nears its maximum, the limit (capped halfway to the
/// maximum) leaves less and less room, mark-compacts come faster and faster, and the program dies, the shape of
/// the seed server's death in real Node.
#[test]
fn a_slow_leak_thrashes_in_mark_compacts_before_dying() {
    // The plain model: atomic mark-compacts at the allocation limit (the incremental storm is in
    // tests/incremental_marking.rs).
    let config =
        HeapConfig { max_old_generation_size: 24 * MIB, max_semi_space_size: MIB, ..HeapConfig::default() }.plain();
    let mut heap = Heap::new(config).unwrap();
    let error = common::slow_leak_until_death(&mut heap, false);
    assert!(matches!(error, HeapError::OutOfMemory(_)), "{error}");
    let mark_compacts: Vec<f64> =
        heap.events().iter().filter(|e| e.collector == Collector::MarkCompact).map(|e| e.start_ms).collect();
    assert!(mark_compacts.len() >= 6, "{} mark-compacts", mark_compacts.len());
    let end = heap.now_ms();
    let in_last_tenth = mark_compacts.iter().filter(|&&t| t >= 0.9 * end).count();
    let in_first_half = mark_compacts.iter().filter(|&&t| t < 0.5 * end).count();
    assert!(in_last_tenth > in_first_half, "{in_first_half} MCs in the first half, {in_last_tenth} in the last tenth");
    assert!(heap.verify().is_clean());
}
