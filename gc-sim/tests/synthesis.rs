//! The synthesis library on real snapshots: each repetition of the growth adds exactly the growth's bytes to the
//! live heap (no copy lost, none kept twice), the growth holds after a forced mark-compact, and an allocation
//! timeline gives the born objects their allocation sites.

use std::path::PathBuf;

use gc_sim::snapshot::import::import_into_replay;
use gc_sim::snapshot::{read_snapshot_file, HeapGraph};
use gc_sim::synthesis::garbage::GarbageModel;
use gc_sim::synthesis::growth::{allocation_sites, Names};
use gc_sim::synthesis::synthesizer::{Options, Plan, Repeat, Synthesis};
use gc_sim::trace::{TraceEvent, TraceHeader};
use gc_sim::{Collection, HeapConfig, ObjectGraph, Replay};

fn graph(path: PathBuf) -> HeapGraph {
    let raw = read_snapshot_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    HeapGraph::new(raw)
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Live objects and bytes after a forced mark-compact.
fn live_after_full_gc(replay: &mut Replay) -> (u64, u64) {
    replay.apply(TraceEvent::Gc { kind: Collection::Major }).unwrap();
    let live = ObjectGraph::new(replay.heap()).live();
    (live.objects, live.bytes)
}

fn replay_of(snapshot: &HeapGraph) -> Replay {
    let mut replay = Replay::from_header(&TraceHeader::new("t", HeapConfig::default()), |_| Ok(())).unwrap();
    import_into_replay(snapshot, &mut replay).unwrap();
    replay
}

#[test]
fn every_repetition_adds_exactly_the_growth() {
    let (a, b) = (graph(data("emitter-leak-250.heapsnapshot.gz")), graph(data("emitter-leak-450.heapsnapshot.gz")));
    let synthesis = Synthesis::new(&[&a, &b], None, &Options::default()).unwrap();
    let unit = synthesis.growth.unit.clone().unwrap();
    assert_eq!((unit.name.as_str(), unit.count), ("RequestContext", 200));
    let mut b_alone = replay_of(&b);
    let (b_objects, b_bytes) = live_after_full_gc(&mut b_alone);
    for repeats in [0u64, 1, 3] {
        let plan = Plan {
            step_ms: vec![1000.0],
            units_per_ms: 0.2,
            repeat: Repeat::Times(repeats),
            garbage: GarbageModel::guess(synthesis.growth.bytes, 1000.0, 64),
            without_growth: false,
        };
        let mut replay = replay_of(&a);
        let emitted = synthesis.emit(&plan, &mut replay).unwrap();
        assert_eq!(emitted.repetitions, repeats);
        assert_eq!(emitted.units, 200.0 * (1 + repeats) as f64);
        let (objects, bytes) = live_after_full_gc(&mut replay);
        let members = synthesis.growth.members.len() as u64;
        let growth_bytes: u64 = synthesis.growth.members.iter().map(|m| u64::from(m.size.div_ceil(8) * 8)).sum();
        assert_eq!(objects, b_objects + repeats * members, "{repeats} repetitions");
        // B's bytes differ from the replay's only by objects V8 trimmed in place between the snapshots.
        let trimmed = synthesis.steps[0].resized_bytes;
        assert_eq!(bytes as i64, b_bytes as i64 + (repeats * growth_bytes) as i64 - trimmed, "{repeats} repetitions");
        assert!(replay.heap().verify().is_clean());
    }
}

#[test]
fn without_growth_the_repetitions_keep_the_later_heap() {
    let (a, b) = (graph(data("emitter-leak-250.heapsnapshot.gz")), graph(data("emitter-leak-450.heapsnapshot.gz")));
    let synthesis = Synthesis::new(&[&a, &b], None, &Options::default()).unwrap();
    let plan = Plan {
        step_ms: vec![1000.0],
        units_per_ms: 0.2,
        repeat: Repeat::Times(5),
        garbage: GarbageModel::guess(synthesis.growth.bytes, 1000.0, 64),
        without_growth: true,
    };
    let mut replay = replay_of(&a);
    let emitted = synthesis.emit(&plan, &mut replay).unwrap();
    assert!(emitted.garbage_bytes > 0 && emitted.ticks_ms > 5000.0);
    let (objects, _) = live_after_full_gc(&mut replay);
    let (b_objects, _) = live_after_full_gc(&mut replay_of(&b));
    assert_eq!(objects, b_objects);
}

#[test]
fn an_allocation_timeline_gives_the_sites() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/real-inputs/ticker/leaky-cdp/ticker-leaky-200.heaptimeline.gz");
    assert!(path.exists(), "{} is missing (../shared must be beside the clone)", path.display());
    let timeline = graph(path);
    let mut names = Names::default();
    let sites = allocation_sites(&timeline, &mut names);
    let texts: std::collections::BTreeSet<&str> = sites.values().filter_map(|&s| names.get(s)).collect();
    // The server's setInterval callback and ws's WebSocket constructor, as DevTools shows them.
    assert!(texts.iter().any(|s| s.starts_with("(anonymous) server.js:")), "{texts:?}");
    assert!(texts.iter().any(|s| s.starts_with("WebSocket websocket.js:")), "{texts:?}");
    // A snapshot without allocation tracking has none.
    let plain = graph(data("emitter-leak-250.heapsnapshot.gz"));
    assert!(allocation_sites(&plain, &mut names).is_empty());
}

/// Three snapshots: the two steps replay to the third's heap (the first snapshot's objects keep the slots they were
/// imported with across both steps; an object that gained references in the first step gains more in the second).
#[test]
fn three_snapshots_replay_to_the_last() {
    let [a, b, c] = [50, 250, 450].map(|n| graph(data(&format!("emitter-leak-{n}.heapsnapshot.gz"))));
    let synthesis = Synthesis::new(&[&a, &b, &c], None, &Options::default()).unwrap();
    assert_eq!(synthesis.steps.len(), 2);
    assert_eq!((synthesis.step_units(0), synthesis.step_units(1)), (200.0, 200.0));
    let plan = Plan {
        step_ms: vec![1000.0, 1000.0],
        units_per_ms: 0.2,
        repeat: Repeat::Times(0),
        garbage: GarbageModel::guess(synthesis.growth.bytes, 1000.0, 64),
        without_growth: false,
    };
    let mut replay = replay_of(&a);
    synthesis.emit(&plan, &mut replay).unwrap();
    let (objects, bytes) = live_after_full_gc(&mut replay);
    let (c_objects, c_bytes) = live_after_full_gc(&mut replay_of(&c));
    // Within 0.1 %: references beyond an object's slots are held by a root set, which keeps a target the last
    // snapshot no longer references.
    assert!(objects.abs_diff(c_objects) * 1000 <= c_objects, "{objects} objects against {c_objects}");
    assert!(bytes.abs_diff(c_bytes) * 1000 <= c_bytes, "{bytes} B against {c_bytes}");
}
