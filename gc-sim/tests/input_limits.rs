//! Small inputs that used to crash, abort or use gigabytes (issue 15): each is now a clear error, or works in
//! bounded memory.

mod common;

use gc_sim::trace::{ProblemKind, TraceError};
use gc_sim::{Heap, HeapError, Labels, Replay};

const HEADER: &str = r#"{"format": "gc-sim-trace", "version": 1, "name": "limits"}"#;

/// Replays an NDJSON trace made of `HEADER` (or `header`) and `events`.
fn replay(header: &str, events: &[&str]) -> Result<Replay, TraceError> {
    common::replay_text(&common::ndjson(header, events), "t.ndjson")
}

/// The error of a trace that must fail.
fn error(header: &str, events: &[&str]) -> TraceError {
    match replay(header, events) {
        Ok(_) => panic!("the trace replayed: {events:?}"),
        Err(e) => e,
    }
}

/// `"slots": 4294967295` on a 16-byte object used to commit 32 GiB and abort; 300,000,000 used 2.3 GB, and the
/// second object past 2^32 slots in all panicked in the slot arena. A V8 object holds at most one 8-byte slot per
/// word after its map word.
#[test]
fn more_slots_than_an_object_holds_is_an_error_not_a_panic_or_gigabytes() {
    for slots in ["2", "300000000", "4294967295", "4294967296"] {
        let event = format!(r#"{{"op": "alloc", "id": 1, "size": 16, "slots": {slots}}}"#);
        let e = error(HEADER, &[&event, r#"{"op": "alloc", "id": 2, "size": 16, "slots": 4294967295}"#]);
        assert_eq!(e.kind(), ProblemKind::Field, "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "t.ndjson:2: `slots` is {slots}, more than an object of 16 B holds: at most 1 (8-byte slots after the \
                 map word)"
            )
        );
    }
    // The most an object holds is fine, rounded size included (17 B is 24 B: 2 slots).
    let r = replay(HEADER, &[r#"{"op": "alloc", "id": 1, "size": 17, "slots": 2, "root": "r"}"#]).unwrap();
    assert_eq!(r.heap().slots(r.object(1).unwrap()).unwrap().len(), 2);
    // The library refuses it too, and the heap is unchanged.
    let mut heap = Heap::default();
    assert_eq!(heap.alloc(16, 2, Labels::NONE), Err(HeapError::TooManySlots { size: 16, slots: 2, max_slots: 1 }));
    assert_eq!(heap.alloc(8, 1, Labels::NONE), Err(HeapError::TooManySlots { size: 8, slots: 1, max_slots: 0 }));
    assert_eq!(heap.totals().allocated_objects, 0);
}

/// A size that cannot be rounded up to 8 bytes (above 4,294,967,288) used to be rounded down.
#[test]
fn a_size_that_overflows_when_aligned_is_an_error() {
    let e = error(HEADER, &[r#"{"op": "alloc", "id": 1, "size": 4294967289}"#]);
    assert_eq!(e.to_string(), "t.ndjson:2: `size` is 4294967289, more than the maximum of 4294967288");
    let mut heap = Heap::default();
    assert_eq!(
        heap.alloc(u32::MAX, 0, Labels::NONE),
        Err(HeapError::SizeTooLarge { size: u32::MAX, max: 4_294_967_288 })
    );
}

/// Id 2^64 - 1 followed by id 0 was taken for the next id of a run: a valid trace was rejected ("uses object 0,
/// which was unreachable") in release builds and overflowed in debug builds.
#[test]
fn id_2_pow_64_minus_1_followed_by_id_0_is_a_new_run() {
    let r = replay(
        HEADER,
        &[
            r#"{"op": "alloc", "id": 18446744073709551615, "size": 16, "slots": 1, "root": "r"}"#,
            r#"{"op": "alloc", "id": 0, "size": 16, "slots": 1, "root": "r"}"#,
            r#"{"op": "alloc", "id": 1, "size": 16}"#,
            r#"{"op": "write", "obj": 0, "slot": 0, "to": 18446744073709551615}"#,
            r#"{"op": "write", "obj": 18446744073709551615, "slot": 0, "to": 1}"#,
            r#"{"op": "gc", "kind": "major"}"#,
        ],
    )
    .unwrap();
    for id in [u64::MAX, 0, 1] {
        assert!(r.object(id).is_some(), "object {id}");
    }
    let e = error(
        HEADER,
        &[
            r#"{"op": "alloc", "id": 18446744073709551615, "size": 16}"#,
            r#"{"op": "alloc", "id": 0, "size": 16}"#,
            r#"{"op": "alloc", "id": 18446744073709551615, "size": 16}"#,
        ],
    );
    assert_eq!(e.kind(), ProblemKind::DuplicateId, "{e}");
}

/// The JSON form took the second of two `heap` fields; the NDJSON header refused it. Both now refuse any header
/// field given twice, with its position.
#[test]
fn a_repeated_header_field_is_an_error_in_json_as_in_ndjson() {
    for field in
        [r#""heap": {"lab_size": 8192}"#, r#""name": "again""#, r#""version": 1"#, r#""format": "gc-sim-trace""#]
    {
        let header = format!(r#"{{"format": "gc-sim-trace", "version": 1, "name": "n", "heap": {{}}, {field}"#);
        let name = field.split('"').nth(1).unwrap();
        let json = format!("{header}, \"events\": []}}");
        let e = common::replay_text(&json, "t.json").err().expect("refused");
        assert_eq!(e.kind(), ProblemKind::Header, "{e}");
        let column = header.len() - field.len() + name.len() + 3; // just after `"NAME":`
        assert_eq!(e.to_string(), format!("t.json:1:{column}: header: duplicate field `{name}`"));
        let ndjson = format!("{header}}}\n");
        let e = common::replay_text(&ndjson, "t.ndjson").err().expect("refused");
        assert_eq!(e.to_string(), format!("t.ndjson:1: header: duplicate field `{name}`"));
    }
}

/// `Replay::apply` after the simulated death moved `out_of_memory_event` to the later event (and counted it).
#[test]
fn apply_after_the_death_changes_nothing() {
    use gc_sim::trace::{Flow, TraceEvent};
    let config = gc_sim::HeapConfig { max_old_generation_size: 1 << 20, ..gc_sim::HeapConfig::default() };
    let mut replay = Replay::new("oom", Heap::new(config).unwrap());
    let alloc = |id| TraceEvent::Alloc {
        id,
        size: 64 * 1024,
        slots: 1,
        kind: None,
        tag: None,
        site: None,
        root: Some("r".into()),
        pretenured: true,
    };
    let mut id = 0;
    while replay.apply(alloc(id)).unwrap() == Flow::Continue {
        id += 1;
    }
    let (died, events, now) = (replay.out_of_memory_event(), replay.events(), replay.heap().now_ms());
    assert_eq!(died, Some(id));
    for event in [alloc(id + 1), TraceEvent::Tick { ms: 5.0 }, TraceEvent::Gc { kind: gc_sim::Collection::Major }] {
        assert_eq!(replay.apply(event), Ok(Flow::Stop));
    }
    assert_eq!((replay.out_of_memory_event(), replay.events(), replay.heap().now_ms()), (died, events, now));
}

/// Every time and ratio of a report is a finite number (JSON has no infinity: serde writes `null`, which
/// `gc-sim plot` then refused).
fn assert_finite(report: &gc_sim::Report) {
    fn walk(value: &serde_json::Value, path: &str) {
        match value {
            serde_json::Value::Null => assert!(
                path.starts_with("report.heap_maps")
                    || [".oom", "initial_old_generation_limit", "collector_reason"].iter().any(|k| path.ends_with(k)),
                "null at {path}"
            ),
            serde_json::Value::Array(items) => {
                items.iter().enumerate().for_each(|(i, v)| walk(v, &format!("{path}[{i}]")))
            }
            serde_json::Value::Object(fields) => fields.iter().for_each(|(k, v)| walk(v, &format!("{path}.{k}"))),
            _ => {}
        }
    }
    walk(&serde_json::to_value(report).unwrap(), "report");
}

/// Two ticks of 1e308 ms took the clock to infinity, and the report's times became `null`.
#[test]
fn a_tick_that_overflows_the_clock_is_an_error() {
    let tick = r#"{"op": "tick", "ms": 1e308}"#;
    let e = error(HEADER, &[tick, tick]);
    assert_eq!(e.kind(), ProblemKind::Field);
    assert_eq!(
        e.to_string(),
        "t.ndjson:3: `ms` is 1e308: the simulated clock, at 1e308 ms, would pass the largest finite time"
    );
    // The clock may come close to the limit: pauses and everything computed from times stay finite.
    let mut events = vec![r#"{"op": "alloc", "id": 0, "size": 64, "slots": 1, "root": "r"}"#.to_owned()];
    events.push(r#"{"op": "tick", "ms": 1.7e308}"#.to_owned());
    for i in 1..2000 {
        events.push(format!(r#"{{"op": "alloc", "id": {i}, "size": 4000}}"#));
        if i % 500 == 0 {
            events.push(r#"{"op": "gc", "kind": "major"}"#.to_owned());
            events.push(r#"{"op": "tick", "ms": 1e300}"#.to_owned());
        }
    }
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let r =
        replay(r#"{"format": "gc-sim-trace", "version": 1, "heap": {"max_semi_space_size": 1048576}}"#, &refs).unwrap();
    assert!(r.heap().totals().scavenges > 2 && r.heap().totals().mark_compacts >= 3);
    assert_finite(&gc_sim::Report::new(&r, None));
    // The library refuses such a step with an error value and leaves the clock as it was; so it does a negative or
    // non-finite one.
    let mut heap = Heap::default();
    heap.advance(f64::MAX).unwrap();
    assert_eq!(heap.advance(f64::MAX), Err(HeapError::InvalidTime { ms: f64::MAX, now_ms: f64::MAX }));
    assert_eq!(heap.now_ms(), f64::MAX);
    let mut heap = Heap::default();
    for ms in [-1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(heap.advance(ms), Err(HeapError::InvalidTime { .. })), "{ms}");
    }
    heap.advance(0.0).unwrap();
    assert_eq!(heap.now_ms(), 0.0);
}

/// A pause coefficient of 1e300 made pauses, and so times, infinite: the header refuses it, naming the field.
#[test]
fn a_huge_pause_coefficient_is_a_header_error() {
    let header = r#"{"format": "gc-sim-trace", "version": 1, "heap": {"pause": {"mark_ms_per_mib": 1e300}}}"#;
    let e = error(header, &[]);
    assert_eq!(e.kind(), ProblemKind::Header);
    assert_eq!(
        e.to_string(),
        "t.ndjson:1: heap: invalid heap configuration: pause.mark_ms_per_mib must be a number from 0 to 1e6, not 1e300"
    );
    // The largest coefficients allowed keep a heavy run finite.
    let pause = r#"{"scavenge_base_ms": 1e6, "scavenge_ms_per_mib": 1e6, "mark_compact_base_ms": 1e6, "mark_ms_per_mib": 1e6, "sweep_ms_per_page": 1e6, "evacuate_ms_per_mib": 1e6}"#;
    let header = format!(r#"{{"format": "gc-sim-trace", "version": 1, "heap": {{"pause": {pause}}}}}"#);
    let mut events = vec![r#"{"op": "tick", "ms": 1.79e308}"#.to_owned()];
    for i in 0..3000 {
        events.push(format!(r#"{{"op": "alloc", "id": {i}, "size": 100000, "slots": 1, "root": "r"}}"#));
    }
    events.push(r#"{"op": "gc", "kind": "major"}"#.to_owned());
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let r = replay(&header, &refs).unwrap();
    assert!(r.heap().totals().mark_compacts >= 1);
    assert_finite(&gc_sim::Report::new(&r, None));
}

/// A header with `page_size` 1 or 8 was valid, and its end-of-run heap map (always built) had a row for each of up
/// to 2^20 new-space pages: 2.1 GB for a header-only trace, 9.5 GB of report with 20 k objects.
#[test]
fn a_tiny_page_geometry_is_refused_and_heap_maps_are_built_only_when_asked_for() {
    for page_size in [1u64, 8, 3000, 4097, 1 << 31] {
        let header = format!(
            r#"{{"format": "gc-sim-trace", "version": 1, "heap": {{"page": {{"page_size": {page_size}, "area_start": 0, "area_size": 8}}}}}}"#
        );
        let e = error(&header, &[]);
        assert_eq!(e.kind(), ProblemKind::Header);
        assert_eq!(
            e.to_string(),
            format!(
                "t.ndjson:1: heap: invalid heap configuration: page.page_size must be a power of two from 4096 (4 KiB) \
                 to 1073741824 (1 GiB), not {page_size}"
            )
        );
    }
    let semi = |bytes: u64| {
        format!(
            r#"{{"format": "gc-sim-trace", "version": 1, "heap": {{"page": {{"page_size": 4096, "area_start": 64, "area_size": 4032}}, "min_semi_space_size": {bytes}, "max_semi_space_size": {bytes}, "large_object_threshold": 4032, "lab_size": 4032, "max_lab_object_size": 4032}}}}"#
        )
    };
    let e = error(&semi(64 * gc_sim::MIB + 1), &[]);
    assert!(
        e.to_string().ends_with("max_semi_space_size is more than 16384 pages (64 MiB with pages of 4096 B)"),
        "{e}"
    );
    // The most pages a header allows: no heap map unless asked for, and the end map has one row per page.
    let r = replay(&semi(64 * gc_sim::MIB), &[r#"{"op": "alloc", "id": 1, "size": 8}"#]).unwrap();
    assert!(gc_sim::Report::new(&r, None).heap_maps.is_empty(), "a heap map only when asked for");
    let heap = Heap::new(r.heap().config().clone()).unwrap();
    let replay = Replay::new("end map", heap);
    replay.heap_maps().request(gc_sim::HeapMapMoment::End);
    let report = gc_sim::Report::new(&replay, None);
    assert_eq!(report.heap_maps.len(), 1);
    assert_eq!(report.heap_maps[0].moment, gc_sim::HeapMapMoment::End);
    assert_eq!(report.heap_maps[0].pages.len() as u64, gc_sim::MAX_SEMI_SPACE_PAGES);
}

/// Every collection's event and two timeline samples were kept: a trace of 1 M `gc` events peaked at 927 MB and
/// wrote a 3 GB report. The kept events and the timeline are now bounded, the totals exact.
#[test]
fn memory_and_report_do_not_grow_with_the_number_of_collections() {
    use gc_sim::trace::TraceEvent;
    use gc_sim::{MAX_KEPT_EVENTS, RECENT_EVENTS};
    use std::sync::{Arc, Mutex};
    const COLLECTIONS: u64 = 1_000_000;
    let mut replay = Replay::new("many gcs", Heap::default());
    // Every event as it happens, reduced to the aggregates the report must keep exactly.
    let seen = Arc::new(Mutex::new((0u64, 0.0f64, 0.0f64, 0u64)));
    let observer = Arc::clone(&seen);
    replay.heap_mut().add_gc_epilogue_callback(move |_, e| {
        let mut s = observer.lock().unwrap();
        s.0 += 1;
        s.1 += e.pause_ms;
        if e.pause_ms > s.2 {
            (s.2, s.3) = (e.pause_ms, e.number);
        }
    });
    replay
        .apply(TraceEvent::Alloc {
            id: 1,
            size: 64,
            slots: 1,
            kind: None,
            tag: None,
            site: None,
            root: Some("r".into()),
            pretenured: false,
        })
        .unwrap();
    let mut most = 0;
    for i in 0..COLLECTIONS {
        let kind = if i % 1000 == 999 { gc_sim::Collection::Major } else { gc_sim::Collection::Minor };
        replay.apply(TraceEvent::Gc { kind }).unwrap();
        if i % 4096 == 0 {
            replay
                .apply(TraceEvent::Alloc {
                    id: 2 + i,
                    size: 32,
                    slots: 0,
                    kind: None,
                    tag: None,
                    site: None,
                    root: None,
                    pretenured: false,
                })
                .unwrap();
        }
        most = most.max(replay.heap().events().len());
        // Polling after each trace event sees every collection.
        assert_eq!(replay.heap().events_since(replay.heap().collections() - 1).len(), 1);
    }
    assert!(most <= MAX_KEPT_EVENTS, "{most} events kept");
    let heap = replay.heap();
    let (count, pause_sum, max_pause, max_number) = *seen.lock().unwrap();
    assert_eq!((count, heap.collections()), (COLLECTIONS, COLLECTIONS));
    let report = gc_sim::Report::new(&replay, None);
    let s = &report.summary;
    assert_eq!(s.scavenges + s.mark_compacts, COLLECTIONS);
    assert_eq!(s.mark_compacts, COLLECTIONS / 1000);
    assert_eq!(s.pause_ms, pause_sum, "the total is the sum of every pause, in order");
    assert!((s.scavenge_pause_ms + s.mark_compact_pause_ms - pause_sum).abs() < 1e-6 * pause_sum);
    assert_eq!(s.max_pause_ms, max_pause);
    // The kept events: sorted, spread over the run, with the first, the longest pause and the last ones.
    let numbers: Vec<u64> = report.events.iter().map(|e| e.number).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(numbers[0], 1);
    assert!(numbers.contains(&max_number));
    assert_eq!(
        numbers[numbers.len() - RECENT_EVENTS..],
        (COLLECTIONS - RECENT_EVENTS as u64 + 1..=COLLECTIONS).collect::<Vec<_>>()[..]
    );
    let largest_gap = numbers.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(largest_gap <= 4 * COLLECTIONS / MAX_KEPT_EVENTS as u64, "gap of {largest_gap} collections");
    assert!(report.events.len() <= MAX_KEPT_EVENTS);
    assert_eq!(report.timeline.len(), 2 * report.events.len() + 2);
    assert!(report.timeline.windows(2).all(|w| w[0].t_ms <= w[1].t_ms), "the timeline is in time order");
    // The report's size is bounded: about 1.4 KB per kept event.
    let mut bytes = Vec::new();
    serde_json::to_writer_pretty(&mut bytes, &report).unwrap();
    assert!(bytes.len() < MAX_KEPT_EVENTS * 4096, "{} bytes", bytes.len());
}
