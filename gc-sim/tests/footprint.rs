//! The simulator's own memory after a full GC: the young generation's object lists and the collectors' scratch
//! memory do not stay sized for a heap that no longer needs them (`Heap::footprint`, docs/performance.md "Memory
//! per live object").

mod common;

use gc_sim::{Collection, Heap, HeapConfig, ObjectId, MIB};

/// Bytes of an object list holding a full semi-space (`semi_space_capacity` bytes) of 32 B objects.
fn full_list_bytes(semi_space_capacity: u64) -> usize {
    (semi_space_capacity / 32) as usize * std::mem::size_of::<ObjectId>()
}

/// Allocates `n` objects of 32 B in a list rooted at `root`; the scavenges this triggers copy and promote them.
fn rooted_list(heap: &mut Heap, root: &str, n: u64) -> ObjectId {
    common::rooted_list(heap, root, n, 32).head
}

#[test]
fn a_full_gc_frees_the_object_lists_of_past_from_spaces() {
    let semi = 2 * MIB;
    let config = HeapConfig { min_semi_space_size: semi, max_semi_space_size: semi, ..HeapConfig::default() };
    let mut heap = Heap::new(config).unwrap();
    rooted_list(&mut heap, "list", 300_000);
    let full_list = full_list_bytes(heap.semi_space_capacity());
    let before = heap.footprint().young_lists;
    assert!(heap.totals().scavenges >= 4, "new space filled several times");
    assert!(before > 2 * full_list, "to-space's list and past from-spaces': {before} B");

    heap.collect(Collection::Major).unwrap();
    let after = heap.footprint().young_lists;
    // New space is empty: to-space keeps its list for the mutator (allowing for one doubling), the others are
    // freed.
    assert!(after <= 2 * full_list, "{after} B of young-generation lists kept for an empty new space");

    // They come back when new space fills again.
    rooted_list(&mut heap, "more", 300_000);
    assert!(heap.footprint().young_lists > 2 * full_list);
}

#[test]
fn scratch_memory_is_kept_for_a_heap_of_the_same_size_and_given_back_when_it_shrinks() {
    const LIVE: u64 = 200_000;
    let mut heap = Heap::default();
    let head = rooted_list(&mut heap, "list", LIVE);
    // The first full GC promotes the young part of the list; the second sweeps all of it in old space.
    heap.collect(Collection::Major).unwrap();
    heap.collect(Collection::Major).unwrap();
    let large = heap.footprint().scratch;
    // The sweep's list of live old objects, in scratch memory.
    assert!(large >= 8 * LIVE as usize, "{large} B of scratch memory for {LIVE} live objects");

    // The next full GC of the same heap needs as much: the memory stays, so it is not faulted in again.
    heap.collect(Collection::Major).unwrap();
    assert_eq!(heap.footprint().scratch, large);

    // The list dies. The full GC that frees it still needs the list (its objects were live until then); the next
    // one does not, and the arena goes back to the allocator.
    heap.remove_root("list", head).unwrap();
    heap.collect(Collection::Major).unwrap();
    assert_eq!(heap.usage().old_space.objects, 0);
    heap.collect(Collection::Major).unwrap();
    let small = heap.footprint().scratch;
    assert!(small <= MIB as usize && small * 8 <= large, "{small} B of scratch memory kept for an empty heap");
}
