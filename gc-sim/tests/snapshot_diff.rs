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
