//! Misuse of the library API is an error value (a `HeapError` or `None`), never a panic: labels and object handles
//! of another heap, handles of freed objects.

use gc_sim::{Collection, Heap, HeapError, Labels};

/// Two heaps with different numbers of labels, so that a label of the larger has no counterpart in the smaller.
fn two_heaps() -> (Heap, Heap) {
    let mut ours = Heap::default();
    ours.label("only-one");
    let mut theirs = Heap::default();
    for name in ["a", "b", "c"] {
        theirs.label(name);
    }
    (ours, theirs)
}

#[test]
fn label_name_of_a_label_from_another_heap_is_an_error() {
    let (ours, mut theirs) = two_heaps();
    let far = theirs.label("conn-1"); // number 4: past the end of `ours`'s table
    let near = theirs.find_label("a").unwrap(); // number 1: the same number as a label of `ours`
    assert_eq!(ours.label_name(far), Err(HeapError::UnknownLabel(far)));
    assert_eq!(ours.label_name(near), Err(HeapError::UnknownLabel(near)), "a label never names another heap's");
    assert_eq!(theirs.label_name(near), Ok("a"));
    assert!(ours.label_name(far).unwrap_err().to_string().contains("not made by this heap"));
}

#[test]
fn allocating_with_a_label_from_another_heap_is_an_error() {
    let (mut ours, mut theirs) = two_heaps();
    let foreign = theirs.label("conn-1");
    for labels in [
        Labels { kind: Some(foreign), ..Labels::NONE },
        Labels { tag: Some(foreign), ..Labels::NONE },
        Labels { site: Some(foreign), ..Labels::NONE },
    ] {
        assert_eq!(ours.alloc(16, 0, labels), Err(HeapError::UnknownLabel(foreign)));
        assert_eq!(ours.alloc_old(16, 0, labels), Err(HeapError::UnknownLabel(foreign)));
    }
    assert_eq!(ours.object_count(), 0, "nothing was allocated");
    // The heap is still usable, and its report (which names every tag) does not panic.
    let own = ours.label("only-one");
    let o = ours.alloc(16, 0, Labels { tag: Some(own), ..Labels::NONE }).unwrap();
    ours.add_root("globals", o).unwrap();
    assert_eq!(gc_sim::ObjectGraph::new(&ours).tag_retention()[0].tag, "only-one");
}

#[test]
fn tag_queries_with_a_label_from_another_heap_find_nothing() {
    let (mut ours, mut theirs) = two_heaps();
    let own = ours.find_label("only-one").unwrap();
    let o = ours.alloc(16, 0, Labels { tag: Some(own), ..Labels::NONE }).unwrap();
    ours.add_root("globals", o).unwrap();
    ours.collect(Collection::Minor).unwrap();
    ours.collect(Collection::Minor).unwrap();
    assert!(ours.tag_promotion(own).is_some(), "promoted by its second scavenge");
    for foreign in [theirs.label("conn-1"), theirs.find_label("a").unwrap()] {
        assert_eq!(ours.tag_promotion(foreign), None);
        assert_eq!(ours.tagged(foreign), (0, 0));
        let snapshot = gc_sim::ObjectGraph::new(&ours);
        assert_eq!(snapshot.nearest_tagged(foreign), None);
        assert_eq!(snapshot.nearest_tagged(own), Some(o));
    }
}

#[test]
fn object_handles_of_another_heap_or_freed_are_errors() {
    let mut ours = Heap::default();
    let mut theirs = Heap::default();
    let mut last = None;
    for _ in 0..10 {
        last = Some(theirs.alloc(16, 1, Labels::NONE).unwrap());
    }
    let foreign = last.unwrap(); // no object of `ours` has its key
    let freed = ours.alloc(16, 1, Labels::NONE).unwrap();
    ours.collect(Collection::Major).unwrap();
    let live = ours.alloc(16, 1, Labels::NONE).unwrap();
    ours.add_root("globals", live).unwrap();
    for bad in [foreign, freed] {
        assert!(!ours.is_alive(bad));
        assert_eq!(ours.object(bad), Err(HeapError::FreedObject(bad)));
        assert_eq!(ours.slots(bad).err(), Some(HeapError::FreedObject(bad)));
        assert_eq!(ours.read(bad, 0), Err(HeapError::FreedObject(bad)));
        assert_eq!(ours.write(bad, 0, None), Err(HeapError::FreedObject(bad)));
        assert_eq!(ours.write(live, 0, Some(bad)), Err(HeapError::FreedObject(bad)));
        assert_eq!(ours.add_root("globals", bad), Err(HeapError::FreedObject(bad)));
        assert!(matches!(ours.remove_root("globals", bad), Err(HeapError::NotRooted { .. })));
        assert_eq!(ours.root_count("globals", bad), 0);
        let snapshot = gc_sim::ObjectGraph::new(&ours);
        assert_eq!(snapshot.retained(bad), None);
        assert_eq!(snapshot.retaining_path(bad), None);
        assert_eq!(snapshot.immediate_dominator(bad), None);
    }
    assert!(ours.verify().is_clean());
}
