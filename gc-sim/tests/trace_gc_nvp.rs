//! `--trace-gc-nvp` lines ([`GcEvent::trace_gc_nvp_line`]): read back by gc-sim's own GC-log reader they give the
//! run's collections, and their keys are those of the real V8 11.3 logs in `../shared`, in the same order, with
//! the same decimal places. CI always has `../shared` beside the clone: a missing file is a failure, not a skip.

mod common;

use std::path::PathBuf;

use gc_sim::gc_log::{LogCollector, LogReader, Record};
use gc_sim::{Collector, GcEvent, NvpContext, Replay};

const EXAMPLES: [&str; 6] =
    ["leak.json", "fixed.ndjson", "oom.json", "young-generation.json", "fragmentation.json", "ticker-leaky.ndjson"];

fn example(name: &str) -> String {
    format!("{}/../examples/traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn shared(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e} (../shared must be beside the clone)", p.display()))
}

/// The real V8 11.3 nvp logs (Node 20): a churning program, an array growing to OOM, the leaky ticker server.
const REAL_LOGS: [&str; 3] = [
    "real-inputs/gc-logs/churn.trace-gc-nvp.stdout.log",
    "real-inputs/gc-logs/array-oom.oom32.trace-gc-nvp.stdout.log",
    "v8/ticker/runs/leaky_tick10_nvp/gc.log",
];

/// Every collection of a replay as an nvp line, from a fresh context.
fn nvp_lines(replay: &Replay) -> (Vec<String>, &[GcEvent]) {
    let events = replay.heap().events();
    assert_eq!(events.first().map(|e| e.number), Some(1), "every collection is kept");
    assert_eq!(events.len() as u64, replay.heap().collections());
    let mut context = NvpContext::new(replay.heap().config().pause);
    (events.iter().map(|e| e.trace_gc_nvp_line(&mut context).unwrap()).collect(), events)
}

/// The `name=value` pairs of an nvp line, in order.
fn pairs(line: &str) -> Vec<(&str, &str)> {
    let body = &line[line.find("pause=").expect("an nvp line")..];
    body.split(' ').map(|p| p.split_once('=').unwrap_or_else(|| panic!("{p:?} in {line}"))).collect()
}

/// The digits after the decimal point of a value, and whether it ends with `%`.
type Shape = (usize, bool);

/// The keys of a line, in order, with the shapes of their values.
type Keys = Vec<(String, Shape)>;

/// The shape of a value.
fn shape(value: &str) -> Shape {
    let v = value.trim_end_matches('%');
    (v.split_once('.').map_or(0, |(_, d)| d.len()), value.ends_with('%'))
}

#[test]
fn gc_sims_nvp_lines_read_back_as_the_runs_collections() {
    for name in EXAMPLES {
        let replay = common::replay_file(&example(name));
        let (lines, events) = nvp_lines(&replay);
        let text = lines.join("\n") + "\n";
        let mut reader = LogReader::new(text.as_bytes(), name);
        let mut read = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            match record {
                Record::Gc(gc) => read.push(gc),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(reader.stats().nvp_lines, events.len() as u64, "{name}");
        assert_eq!(read.len(), events.len(), "{name}");
        for (gc, event) in read.iter().zip(events) {
            let at = format!("{name}, collection {}", event.number);
            let collector = match event.collector {
                Collector::Scavenge => LogCollector::Scavenge,
                Collector::MarkCompact => LogCollector::MarkCompact,
            };
            assert_eq!(gc.collector, collector, "{at}");
            assert!(gc.nvp, "{at}");
            // Times as printed: the end of the pause to the ms, the pause and the mutator time to 0.1 ms.
            assert_eq!(gc.time_ms, Some(event.end_ms().round()), "{at}");
            assert!((gc.pause_ms.unwrap() - event.pause_ms).abs() <= 0.05 + 1e-9, "{at}");
            let f = &gc.nvp_fields;
            assert!((f.mutator_ms.unwrap() - event.mutator_ms).abs() <= 0.05 + 1e-9, "{at}");
            // Sizes and bytes exactly.
            assert_eq!(f.size_before, Some(event.before.used_bytes()), "{at}");
            assert_eq!(f.size_after, Some(event.after.used_bytes()), "{at}");
            assert_eq!(f.promoted, Some(event.promoted_bytes), "{at}");
            assert_eq!(f.new_space_survived, Some(event.copied_bytes), "{at}");
            assert_eq!(f.holes_after, Some(event.holes_bytes), "{at}");
            assert_eq!(f.reduce_memory, Some(event.reduce_memory), "{at}");
            // `allocated` is the growth of the heap's object bytes since the previous collection ended.
            let previous_after = event.number.checked_sub(2).map_or(0, |i| events[i as usize].after.used_bytes());
            assert_eq!(f.allocated, Some(event.before.used_bytes() as i64 - previous_after as i64), "{at}");
        }
    }
}

#[test]
fn the_keys_are_v8_11_3s_in_its_order_with_its_decimal_places() {
    // One list of keys and one shape of value per key, for each collector, in the real logs.
    let mut real: [Option<Keys>; 2] = [None, None];
    for rel in REAL_LOGS {
        let text = shared(rel);
        let mut seen = 0;
        for line in text.lines().filter(|l| l.contains(" ms: pause=")) {
            let pairs = pairs(line);
            let slot = match pairs.iter().find(|(k, _)| *k == "gc").map(|(_, v)| *v) {
                Some("s") => 0,
                Some("mc") => 1,
                other => panic!("{rel}: gc={other:?}"),
            };
            let keys: Keys = pairs.iter().map(|(k, v)| (k.to_string(), shape(v))).collect();
            match &real[slot] {
                Some(known) => assert_eq!(known, &keys, "{rel}: a line unlike the others: {line}"),
                None => real[slot] = Some(keys),
            }
            seen += 1;
        }
        assert!(seen > 10, "{rel}: {seen} nvp lines");
    }
    let [Some(real_scavenge), Some(real_mark_compact)] = real else { panic!("the real logs lack a collector") };

    // gc-sim's lines, of runs with both collectors.
    let mut checked = [0, 0];
    for name in EXAMPLES {
        let replay = common::replay_file(&example(name));
        for line in nvp_lines(&replay).0 {
            assert!(line.starts_with("[gc-sim] ") && !line.ends_with(' '), "{line}");
            let ours: Keys = pairs(&line).iter().map(|(k, v)| (k.to_string(), shape(v))).collect();
            let (real, slot) = if line.contains(" gc=s ") { (&real_scavenge, 0) } else { (&real_mark_compact, 1) };
            let keys = |l: &[(String, Shape)]| l.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            assert_eq!(keys(&ours), keys(real), "{name}: keys or their order differ from V8's");
            assert_eq!(&ours, real, "{name}: decimal places differ from V8's: {line}");
            checked[slot] += 1;
        }
    }
    assert!(checked[0] > 10 && checked[1] > 3, "{checked:?}");
}
