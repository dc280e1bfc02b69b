//! The built-in Node 20 startup heap (`gc_sim::startup_heap`): its tables are the real empty process's
//! (`../shared/real-inputs/snapshots/empty.heapsnapshot.gz`, imported as `--initial-heap` imports it), the heap it
//! builds has their totals, size histogram, depths and out-degrees, verifies clean, is wholly reachable (a full GC
//! frees nothing), scales to other sizes keeping its shape, and is the same heap every time.
//!
//! CI always has `../shared` beside the clone: a missing file is a failure, not a skip.

use std::collections::VecDeque;
use std::path::PathBuf;

use gc_sim::snapshot::import::heap_import;
use gc_sim::snapshot::{read_snapshot_file, HeapGraph};
use gc_sim::startup_heap::{
    StartupHeap, NODE20_BYTES, NODE20_DEPTHS, NODE20_OBJECTS, NODE20_OTHER_REFERENCES, NODE20_OUT_DEGREES,
    NODE20_REFERENCES, NODE20_ROOTS, NODE20_SIZES, NODE20_TO_LEAF_ROOTS,
};
use gc_sim::{Collection, Heap, HeapConfig, ObjectId, MIB};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/real-inputs").join(rel)
}

fn big_heap() -> Heap {
    Heap::new(HeapConfig { max_old_generation_size: 1024 * MIB, ..HeapConfig::default() }).unwrap()
}

/// Objects and bytes of each row of [`NODE20_SIZES`] (a row holds the sizes above the previous row's largest).
fn size_histogram(heap: &Heap) -> Vec<(u64, u64)> {
    let mut rows = vec![(0u64, 0u64); NODE20_SIZES.len()];
    for (_, info) in heap.objects() {
        let row = NODE20_SIZES.iter().position(|&(largest, _, _)| info.size <= largest).expect("no larger object");
        rows[row].0 += 1;
        rows[row].1 += u64::from(info.size);
    }
    rows
}

/// Objects at each depth from the roots (breadth first over the references), and the references in all.
fn depths(heap: &Heap) -> (Vec<u64>, u64) {
    let mut depth: rustc_hash::FxHashMap<ObjectId, u32> = Default::default();
    let mut queue = VecDeque::new();
    for (_, objects) in heap.root_sets() {
        for (object, _) in objects {
            if depth.insert(object, 0).is_none() {
                queue.push_back(object);
            }
        }
    }
    let mut references = 0;
    while let Some(object) = queue.pop_front() {
        let d = depth[&object];
        let slots = heap.slots(object).unwrap();
        references += slots.len() as u64;
        for &to in slots.iter().flatten() {
            depth.entry(to).or_insert_with(|| {
                queue.push_back(to);
                d + 1
            });
        }
    }
    let mut levels = Vec::new();
    for &d in depth.values() {
        if levels.len() <= d as usize {
            levels.resize(d as usize + 1, 0);
        }
        levels[d as usize] += 1;
    }
    (levels, references)
}

/// The depth of every object from the roots (breadth first).
fn depth_of(heap: &Heap) -> rustc_hash::FxHashMap<ObjectId, u32> {
    let mut depth: rustc_hash::FxHashMap<ObjectId, u32> = Default::default();
    let mut queue = VecDeque::new();
    for (_, objects) in heap.root_sets() {
        for (object, _) in objects {
            if depth.insert(object, 0).is_none() {
                queue.push_back(object);
            }
        }
    }
    while let Some(object) = queue.pop_front() {
        let d = depth[&object];
        for &to in heap.slots(object).unwrap().iter().flatten() {
            depth.entry(to).or_insert_with(|| {
                queue.push_back(to);
                d + 1
            });
        }
    }
    depth
}

/// Rows of [`NODE20_OUT_DEGREES`]: objects of depth 0 and their references, deeper objects and theirs.
fn out_degrees(heap: &Heap) -> Vec<(u64, u64, u64, u64)> {
    let depth = depth_of(heap);
    let mut rows = vec![(0, 0, 0, 0); NODE20_OUT_DEGREES.len()];
    for (object, _) in heap.objects() {
        let n = heap.slots(object).unwrap().len();
        let row: &mut (u64, u64, u64, u64) = &mut rows[n.min(NODE20_OUT_DEGREES.len() - 1)];
        if depth[&object] == 0 {
            row.0 += 1;
            row.1 += n as u64;
        } else {
            row.2 += 1;
            row.3 += n as u64;
        }
    }
    rows
}

/// References that are not the first to reach their object (breadth first), from objects of depth 0 and from
/// deeper ones, by the depth of their target: 0, from 1 to the source's, the source's + 1.
fn other_references(heap: &Heap) -> [(u64, u64, u64); 2] {
    let depth = depth_of(heap);
    let mut counts = [(0, 0, 0); 2];
    for (object, _) in heap.objects() {
        let d = depth[&object];
        let row = &mut counts[usize::from(d > 0)];
        for to in heap.slots(object).unwrap().iter().flatten() {
            match depth[to] {
                0 => row.0 += 1,
                t if t <= d => row.1 += 1,
                _ => row.2 += 1,
            }
        }
    }
    // The first reference to each object of depth > 0 is its tree edge.
    for &d in depth.values().filter(|&&d| d > 0) {
        counts[usize::from(d > 1)].2 -= 1;
    }
    counts
}

/// Rows of [`NODE20_ROOTS`]: each root set with the objects it holds first (an object held by several counted in
/// the first), their references, those of them that refer to a depth-1 object, and the depth-1 objects they reach
/// first (breadth first).
fn root_table(heap: &Heap) -> Vec<(String, u64, u64, u64, u64, u64)> {
    let mut set_of: rustc_hash::FxHashMap<ObjectId, usize> = Default::default();
    let mut queue = VecDeque::new();
    let mut rows = Vec::new();
    for (k, (name, objects)) in heap.root_sets().enumerate() {
        rows.push((name.to_owned(), 0, 0, 0, 0, 0));
        for (object, _) in objects {
            if let std::collections::hash_map::Entry::Vacant(e) = set_of.entry(object) {
                e.insert(k);
                queue.push_back(object);
                rows[k].1 += 1;
                rows[k].2 += heap.slots(object).unwrap().len() as u64;
            }
        }
    }
    let depth = depth_of(heap);
    for &root in &queue {
        let to_depth_one = heap.slots(root).unwrap().iter().flatten().filter(|&to| depth[to] == 1).count() as u64;
        rows[set_of[&root]].3 += u64::from(to_depth_one > 0);
        rows[set_of[&root]].5 += to_depth_one;
    }
    while let Some(object) = queue.pop_front() {
        if depth[&object] > 0 {
            continue;
        }
        for &to in heap.slots(object).unwrap().iter().flatten() {
            if depth[&to] == 1 && !set_of.contains_key(&to) {
                set_of.insert(to, set_of[&object]);
                rows[set_of[&object]].4 += 1;
            }
        }
    }
    rows.retain(|r| r.1 > 0);
    rows
}

/// References from objects of depth > 0 to objects of depth 0 that refer to no depth-1 object, and to depth 0 in
/// all.
fn leaf_root_references(heap: &Heap) -> (u64, u64) {
    let depth = depth_of(heap);
    let leaf = |o: &ObjectId| depth[o] == 0 && !heap.slots(*o).unwrap().iter().flatten().any(|to| depth[to] == 1);
    let mut counts = (0, 0);
    for (object, _) in heap.objects() {
        if depth[&object] == 0 {
            continue;
        }
        for to in heap.slots(object).unwrap().iter().flatten().filter(|to| depth[*to] == 0) {
            counts.1 += 1;
            counts.0 += u64::from(leaf(to));
        }
    }
    counts
}

fn within(actual: u64, expected: u64, fraction: f64, what: &str) {
    let off = (actual as f64 - expected as f64).abs();
    assert!(off <= fraction * expected as f64, "{what}: {actual}, expected {expected} within {}%", fraction * 100.0);
}

/// The measured tables are the real empty process's V8 heap, as `gc-sim run --initial-heap` imports it: this test
/// is how they were made (docs/v8-sources.md#node-startup).
#[test]
fn the_tables_are_the_empty_node_process_snapshot() {
    let path = shared("snapshots/empty.heapsnapshot.gz");
    let raw = read_snapshot_file(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (../shared must be beside the clone)", path.display()));
    let graph = HeapGraph::new(raw);
    let mut heap = big_heap();
    let import = heap_import(&graph, &mut heap);
    heap.import(&import.import).unwrap();
    assert_eq!((heap.object_count(), heap.old_generation_size()), (NODE20_OBJECTS, NODE20_BYTES));
    let measured = size_histogram(&heap);
    for (row, &(largest, count, bytes)) in NODE20_SIZES.iter().enumerate() {
        within(count, measured[row].0, 0.01, &format!("objects up to {largest} B"));
        within(bytes, measured[row].1, 0.01, &format!("bytes up to {largest} B"));
    }
    let (levels, references) = depths(&heap);
    assert_eq!(levels, NODE20_DEPTHS.to_vec(), "depths");
    assert_eq!(references, NODE20_REFERENCES);
    assert_eq!(out_degrees(&heap), NODE20_OUT_DEGREES.iter().map(|r| (r.1, r.2, r.3, r.4)).collect::<Vec<_>>());
    assert_eq!(other_references(&heap), NODE20_OTHER_REFERENCES);
    assert_eq!(
        root_table(&heap),
        NODE20_ROOTS.iter().map(|&(n, a, b, c, d, e)| (n.to_owned(), a, b, c, d, e)).collect::<Vec<_>>()
    );
    assert_eq!(leaf_root_references(&heap), NODE20_TO_LEAF_ROOTS);
}

#[test]
fn the_built_in_heap_has_the_measured_totals_and_histogram() {
    let mut heap = big_heap();
    let handles = StartupHeap::node20().import_into(&mut heap).unwrap();
    assert_eq!(handles.len() as u64, NODE20_OBJECTS);
    assert_eq!((heap.object_count(), heap.old_generation_size()), (NODE20_OBJECTS, NODE20_BYTES));
    for ((largest, count, bytes), (actual_count, actual_bytes)) in NODE20_SIZES.into_iter().zip(size_histogram(&heap)) {
        within(actual_count, count, 0.01, &format!("objects up to {largest} B"));
        within(actual_bytes, bytes, 0.01, &format!("bytes up to {largest} B"));
    }
    // Its shape: references, roots and depths as measured.
    let (levels, references) = depths(&heap);
    within(references, NODE20_REFERENCES, 0.01, "references");
    assert_eq!(levels.iter().sum::<u64>(), NODE20_OBJECTS, "every object is reachable from a root");
    assert_eq!(levels.len(), NODE20_DEPTHS.len(), "the deepest object's depth");
    for (d, (&actual, &expected)) in levels.iter().zip(&NODE20_DEPTHS).enumerate() {
        within(actual, expected, 0.01, &format!("objects at depth {d}"));
    }
    for (row, (actual, measured)) in out_degrees(&heap).into_iter().zip(NODE20_OUT_DEGREES).enumerate() {
        within(actual.2, measured.3, 0.01, &format!("objects of depth > 0 with {row} references"));
    }
    let rows = other_references(&heap).into_iter().zip(NODE20_OTHER_REFERENCES);
    for (from, (actual, measured)) in ["depth 0", "deeper"].into_iter().zip(rows) {
        within(actual.0, measured.0, 0.02, &format!("other references from {from} to depth 0"));
        within(actual.1, measured.1, 0.02, &format!("other references from {from} to depths 1 to d"));
        within(actual.2, measured.2, 0.05, &format!("other references from {from} to depth d + 1"));
    }
    let (to_leaves, to_depth_zero) = leaf_root_references(&heap);
    within(to_leaves, NODE20_TO_LEAF_ROOTS.0, 0.01, "references to leaf roots");
    within(to_depth_zero, NODE20_TO_LEAF_ROOTS.1, 0.01, "references to depth 0");
    // The root sets: their objects and references, the objects that hold deeper ones, and the references to
    // depth 1 (the depth-1 objects each reaches first depend on the order of the breadth-first walk).
    let table = root_table(&heap);
    assert_eq!(table.len(), NODE20_ROOTS.len(), "{table:?}");
    for (actual, measured) in table.into_iter().zip(NODE20_ROOTS) {
        let name = measured.0;
        assert_eq!((actual.0.as_str(), actual.1, actual.3), (name, measured.1, measured.3), "{name}");
        within(actual.2, measured.2, 0.01, &format!("{name}: references"));
        let slack = (measured.5 as f64 * 0.15).max(8.0);
        assert!(
            actual.5.abs_diff(measured.5) as f64 <= slack,
            "{name}: {} references to depth 1, measured {}",
            actual.5,
            measured.5
        );
    }
}

#[test]
fn the_built_in_heap_verifies_clean_and_a_full_gc_frees_nothing() {
    let mut heap = big_heap();
    StartupHeap::node20().import_into(&mut heap).unwrap();
    assert!(heap.verify().is_clean(), "{:?}", heap.verify());
    let event = heap.collect(Collection::Major).unwrap();
    assert_eq!((event.died_objects, event.died_bytes), (0, 0), "every object is reachable");
    assert_eq!((heap.object_count(), heap.old_generation_size()), (NODE20_OBJECTS, NODE20_BYTES));
    assert!(heap.verify().is_clean(), "{:?}", heap.verify());
}

/// The ticker server with Koa loaded: 6,080,488 B of V8 heap at its first snapshot (ticker-leaky-000).
#[test]
fn a_scaled_heap_has_its_bytes_and_the_measured_shape() {
    for bytes in [6_080_488, 20 * MIB] {
        let startup = StartupHeap::scaled(bytes).unwrap();
        let mut heap = big_heap();
        startup.import_into(&mut heap).unwrap();
        assert_eq!(heap.old_generation_size(), bytes, "{startup}");
        let factor = bytes as f64 / NODE20_BYTES as f64;
        within(heap.object_count(), (NODE20_OBJECTS as f64 * factor) as u64, 0.01, &format!("{startup}: objects"));
        // The rows that hold at least 1 % of the objects keep their share within 3 %.
        for ((largest, count, _), (actual, _)) in NODE20_SIZES.into_iter().zip(size_histogram(&heap)) {
            if count * 100 >= NODE20_OBJECTS {
                within(actual, (count as f64 * factor) as u64, 0.03, &format!("{startup}: objects up to {largest} B"));
            }
        }
        let (levels, references) = depths(&heap);
        assert_eq!(levels.iter().sum::<u64>(), heap.object_count(), "{startup}: every object is reachable");
        within(references, (NODE20_REFERENCES as f64 * factor) as u64, 0.03, &format!("{startup}: references"));
        within(levels[0], (NODE20_DEPTHS[0] as f64 * factor) as u64, 0.03, &format!("{startup}: roots"));
        assert!(heap.verify().is_clean(), "{startup}: {:?}", heap.verify());
        assert_eq!(heap.collect(Collection::Major).unwrap().died_objects, 0, "{startup}");
    }
}

/// The smallest heap is a sample too small for the measured large objects (its 64 KiB hold 1,005 objects where
/// the proportion is 881), but it has its bytes and is wholly reachable.
#[test]
fn the_smallest_heap_has_its_bytes_and_is_reachable() {
    let startup: StartupHeap = "node20:64KiB".parse().unwrap();
    let mut heap = big_heap();
    startup.import_into(&mut heap).unwrap();
    assert_eq!(heap.old_generation_size(), 64 * 1024);
    let (levels, _) = depths(&heap);
    assert_eq!(levels.iter().sum::<u64>(), heap.object_count(), "every object is reachable");
    assert!(levels.len() > 10, "{levels:?}");
    assert!(heap.verify().is_clean(), "{:?}", heap.verify());
    assert_eq!(heap.collect(Collection::Major).unwrap().died_objects, 0);
}

#[test]
fn the_same_request_builds_the_same_heap() {
    let shape = |startup: StartupHeap| {
        let mut heap = big_heap();
        let handles = startup.import_into(&mut heap).unwrap();
        let index: rustc_hash::FxHashMap<ObjectId, usize> = handles.iter().enumerate().map(|(i, &h)| (h, i)).collect();
        let objects: Vec<(u32, Vec<usize>)> = handles
            .iter()
            .map(|&h| {
                let slots = heap.slots(h).unwrap().iter().map(|s| index[&s.unwrap()]).collect();
                (heap.object(h).unwrap().size, slots)
            })
            .collect();
        let roots: Vec<(String, Vec<usize>)> =
            heap.root_sets().map(|(name, set)| (name.to_owned(), set.map(|(o, _)| index[&o]).collect())).collect();
        (objects, roots)
    };
    assert!(shape(StartupHeap::node20()) == shape(StartupHeap::node20()));
    let ticker = StartupHeap::scaled(6_080_488).unwrap();
    assert!(shape(ticker) == shape(ticker));
}

#[test]
fn a_heap_over_the_maximum_old_generation_dies_at_the_start() {
    let mut heap = Heap::new(HeapConfig { max_old_generation_size: 2 * MIB, ..HeapConfig::default() }).unwrap();
    let e = StartupHeap::node20().import_into(&mut heap).unwrap_err();
    assert!(e.to_string().contains("heap limit"), "{e}");
}

/// A trace's header asks for the heap with `initial_heap`, in both forms; the replay starts from it (nothing
/// counted as allocated), and a value that is not one is a header error naming the field.
#[test]
fn a_trace_header_starts_the_replay_from_it() {
    use gc_sim::replay_trace;
    use gc_sim::trace::TraceHeader;

    let ndjson = "{\"format\": \"gc-sim-trace\", \"version\": 1, \"initial_heap\": \"node20:1MiB\"}\n\
                  {\"op\": \"alloc\", \"id\": 1, \"size\": 64, \"root\": \"globals\"}\n";
    let json = "{\"format\": \"gc-sim-trace\", \"version\": 1, \"initial_heap\": \"node20:1MiB\", \"events\": [\
                {\"op\": \"alloc\", \"id\": 1, \"size\": 64, \"root\": \"globals\"}]}";
    for (text, name) in [(ndjson, "t.ndjson"), (json, "t.json")] {
        let replay = replay_trace(text.as_bytes(), name, None, |h| Ok(h.heap.clone())).unwrap();
        assert_eq!(replay.heap().old_generation_size(), MIB, "{name}");
        assert_eq!(replay.heap().totals().allocated_bytes, 64, "{name}: only the trace's object is allocated");
        assert_eq!(
            replay.initial_usage().old_space.used_bytes + replay.initial_usage().large_object_space.used_bytes,
            MIB
        );
    }
    let header: TraceHeader =
        serde_json::from_str(r#"{"format": "gc-sim-trace", "version": 1, "initial_heap": "node20"}"#).unwrap();
    assert_eq!(header.initial_heap, Some(StartupHeap::node20()));
    assert_eq!(serde_json::to_value(&header).unwrap()["initial_heap"], "node20");
    for (text, name) in [
        (r#"{"format": "gc-sim-trace", "version": 1, "initial_heap": "node18"}"#.to_owned() + "\n", "t.ndjson"),
        (
            r#"{"format": "gc-sim-trace", "version": 1, "initial_heap": "node20:1TB", "events": []}"#.to_owned(),
            "t.json",
        ),
    ] {
        let e = replay_trace(text.as_bytes(), name, None, |h| Ok(h.heap.clone())).err().unwrap().to_string();
        assert!(e.starts_with(name) && e.contains("initial_heap"), "{e}");
    }
}
