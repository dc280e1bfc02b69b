//! The leak diff on real snapshots: the leaky ticker server's growth over 200 closed connections is found, per
//! connection as `../shared/v8/ticker/runs/snapshot_diff_500.txt` measured it (leaky minus fixed at 500
//! connections), and named as the timer list's linked list; the fixed server shows none; the EventEmitter leak
//! (gc-sim/tests/data, made with `../shared/real-inputs/programs/emitter-leak.js`, see docs/heap-snapshots.md) is
//! named as the listener array and keeps growing over three snapshots.

use std::path::PathBuf;

use gc_sim::snapshot::diff::{diff, DEFAULT_MIN_OBJECTS};
use gc_sim::snapshot::{read_snapshot_file, HeapGraph};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared").join(rel)
}

fn graph(path: PathBuf) -> HeapGraph {
    HeapGraph::new(
        read_snapshot_file(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (../shared must be beside the clone)", path.display())),
    )
}

fn ticker(kind: &str, n: &str) -> HeapGraph {
    graph(shared(&format!("real-inputs/ticker/{kind}/ticker-{kind}-{n}.heapsnapshot.gz")))
}

/// `-> 5342 B per leaked connection` and `-> 83.5 per leaked connection` from the reference file.
fn reference() -> (f64, f64) {
    let path = shared("v8/ticker/runs/snapshot_diff_500.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let after = |line_start: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(line_start)).expect(line_start);
        let tail = line.rsplit("-> ").next().unwrap();
        tail.split_whitespace().next().unwrap().parse().unwrap()
    };
    (after("total self_size:"), after("node count:"))
}

#[test]
fn the_leaky_ticker_grows_per_connection_in_the_timer_list() {
    let (a, b) = (ticker("leaky", "000"), ticker("leaky", "200"));
    let (_, leaks) = diff(&[&a, &b], DEFAULT_MIN_OBJECTS);
    assert_eq!(leaks.len(), 1, "{leaks:#?}");
    let leak = &leaks[0];
    let (bytes_per, nodes_per) = reference();
    let (ours_bytes, ours_nodes) = (leak.bytes as f64 / 200.0, leak.count as f64 / 200.0);
    assert!((ours_bytes / bytes_per - 1.0).abs() < 0.05, "{ours_bytes} B per connection vs {bytes_per}");
    assert!((ours_nodes / nodes_per - 1.0).abs() < 0.05, "{ours_nodes} objects per connection vs {nodes_per}");
    assert_eq!(leak.structure, "linked list");
    assert!(leak.description.contains("of Timeout through ._idle") && leak.description.contains("TimersList@"));
    assert!(leak.holder_path.ends_with("->timerListMap Object@69477"), "{}", leak.holder_path);
    // One Socket per closed connection (the ten largest classes are listed).
    assert!(leak.constructors.iter().any(|c| c.name == "Socket" && c.count == 200), "{:?}", leak.constructors);
    assert_eq!(leak.growth_objects, [leak.count]);
}

#[test]
fn the_fixed_ticker_shows_no_leak() {
    let (a, b) = (ticker("fixed", "000"), ticker("fixed", "200"));
    let (d, leaks) = diff(&[&a, &b], DEFAULT_MIN_OBJECTS);
    assert!(leaks.is_empty(), "{leaks:#?}");
    assert!(d.new_objects > 0, "code and caches still grew: {d:?}");
    assert!(!d.constructors.iter().any(|c| c.name == "Socket" && c.count >= 100), "{:?}", d.constructors);
}

#[test]
fn the_emitter_leak_names_the_listener_array_and_keeps_growing() {
    let data =
        |n: u32| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/emitter-leak-{n}.heapsnapshot.gz"));
    let (a, b, c) = (graph(data(50)), graph(data(250)), graph(data(450)));
    let (d, leaks) = diff(&[&a, &b, &c], DEFAULT_MIN_OBJECTS);
    assert_eq!(leaks.len(), 1, "{leaks:#?}");
    let leak = &leaks[0];
    assert_eq!(leak.structure, "array");
    assert!(leak.holder_path.contains("->bus ConfigBus@") && leak.holder_path.contains("._events Object@"));
    assert!(leak.holder_path.ends_with(&format!(".config Array@{}", leak.holder_id)), "{}", leak.holder_path);
    assert!(leak.description.contains("holds 200 of them as elements"), "{}", leak.description);
    let ctx = leak.constructors.iter().find(|c| c.name == "RequestContext").expect("the contexts");
    assert_eq!(ctx.count, 200, "200 requests from 50 to 250");
    assert_eq!(leak.growth_objects.len(), 2);
    assert!(leak.growth_objects[1] >= 2000, "it keeps growing: {:?}", leak.growth_objects);
    assert!(d.new_in_final_objects >= leak.growth_objects[1]);
    // Two snapshots only: the warm-up of the first requests (code, shapes) may show too, but the leak comes first.
    let (_, two) = diff(&[&a, &b], DEFAULT_MIN_OBJECTS);
    assert_eq!(two[0].holder_id, leak.holder_id);
}

/// Hand-made baselines and targets: the structure is named from the shape of the new objects under the holder.
mod shapes {
    use gc_sim::snapshot::diff::diff;
    use gc_sim::snapshot::{HeapGraph, SnapshotBuilder};

    /// root -> global -> holder (ids 1, 3, 5, the same in both snapshots), and `grow` adds the new objects.
    fn pair(grow: impl Fn(&mut SnapshotBuilder, u32)) -> (HeapGraph, HeapGraph) {
        let make = |with: bool| {
            let mut b = SnapshotBuilder::new();
            let root = b.node("synthetic", "", 1, 0).unwrap();
            let global = b.node("object", "global", 3, 16).unwrap();
            let holder = b.node("object", "Holder", 5, 32).unwrap();
            b.edge(root, "shortcut", "global", global).unwrap();
            b.edge(global, "property", "holder", holder).unwrap();
            if with {
                grow(&mut b, holder);
            }
            HeapGraph::new(b.build())
        };
        (make(false), make(true))
    }

    #[test]
    fn a_linked_list_an_array_a_map_and_plain_objects() {
        let (a, b) = pair(|b, holder| {
            let mut prev = holder;
            for i in 0..150 {
                let node = b.node("object", "Node", 101 + 2 * i, 40).unwrap();
                b.edge(prev, "property", if prev == holder { "head" } else { "next" }, node).unwrap();
                prev = node;
            }
        });
        let (_, leaks) = diff(&[&a, &b], 100);
        assert_eq!(leaks.len(), 1);
        assert_eq!(leaks[0].structure, "linked list", "{leaks:?}");
        assert!(leaks[0].description.contains("of Node through .next from Holder@5"), "{}", leaks[0].description);
        assert_eq!((leaks[0].count, leaks[0].bytes), (150, 6000));

        let (a, b) = pair(|b, holder| {
            let array = b.node("object", "Array", 99, 32).unwrap();
            b.edge(holder, "property", "items", array).unwrap();
            for i in 0..150 {
                let item = b.node("closure", "onEvent", 101 + 2 * i, 56).unwrap();
                b.edge(array, "element", &i.to_string(), item).unwrap();
            }
        });
        let (_, leaks) = diff(&[&a, &b], 100);
        assert_eq!(leaks[0].structure, "array", "{leaks:?}");
        assert!(leaks[0].description.contains("Array@99 (in Holder@5) holds 150"), "{}", leaks[0].description);

        let (a, b) = pair(|b, holder| {
            let table = b.node("array", "(object elements)", 99, 1024).unwrap();
            b.edge(holder, "internal", "table", table).unwrap();
            for i in 0..150 {
                let value = b.node("object", "Entry", 101 + 2 * i, 24).unwrap();
                b.edge(table, "internal", &i.to_string(), value).unwrap();
            }
        });
        let (_, leaks) = diff(&[&a, &b], 100);
        assert_eq!(leaks[0].structure, "map", "{leaks:?}");
        assert!(leaks[0].description.contains("a Holder: Holder@5 holds 150 of them as entries"), "{leaks:?}");

        let (a, b) = pair(|b, holder| {
            for i in 0..150 {
                let value = b.node("object", "Thing", 101 + 2 * i, 24).unwrap();
                b.edge(holder, "property", &format!("p{i}"), value).unwrap();
            }
        });
        let (_, leaks) = diff(&[&a, &b], 100);
        assert_eq!(leaks[0].structure, "objects", "{leaks:?}");
        // Below the threshold: nothing suspected.
        assert!(diff(&[&a, &b], 151).1.is_empty());
    }
}
