//! The example traces in `examples/traces/`: each one replays and tells the story that
//! `examples/traces/README.md` promises.

mod common;

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use gc_sim::trace::{read_trace, Flow, Problem, TraceEvent, TraceHeader, TraceVisitor};
use gc_sim::{Collector, GcReason, HeapMapMoment, OomLocation, Replay, Report, Space};

const LEAK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/leak.json");
const FIXED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/fixed.ndjson");
const WRITE_BARRIER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/write-barrier.json");
const OOM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/oom.json");
const YOUNG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/young-generation.json");
const FRAGMENTATION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/fragmentation.json");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/traces/README.md");

/// The ticker traces open 16 connections. Each keeps 7 objects (Timeout, closure, Context, KoaContext, WebSocket,
/// Socket and its read Buffer) of 23,784 bytes in all.
const CONNECTIONS: u64 = 16;
const CONNECTION_OBJECTS: u64 = 7;
const CONNECTION_BYTES: u64 = 23_784;

fn replay(path: &str) -> Replay {
    common::replay_file(path)
}

/// Live objects and bytes tagged `conn-N`, for every connection.
fn connections(replay: &Replay) -> Vec<(u64, u64)> {
    let heap = replay.heap();
    (1..=CONNECTIONS).map(|c| heap.find_label(&format!("conn-{c}")).map_or((0, 0), |tag| heap.tagged(tag))).collect()
}

fn retained_by<'r>(report: &'r Report, root: &str) -> Option<&'r gc_sim::analysis::RootRetention> {
    report.retainers.iter().find(|r| r.root == root)
}

#[test]
fn every_example_is_small_named_and_annotated_and_listed_in_the_readme() {
    let readme = std::fs::read_to_string(README).unwrap();
    for path in [LEAK, FIXED, WRITE_BARRIER, OOM, YOUNG, FRAGMENTATION] {
        let size = std::fs::metadata(path).unwrap().len();
        assert!(size < 100 * 1024, "{path} is {size} bytes");
        let report = Report::new(&replay(path), None);
        assert!(!report.name.is_empty(), "{path} has no name");
        assert!(!report.marks.is_empty(), "{path} has no mark");
        let file = Path::new(path).file_name().unwrap().to_str().unwrap();
        assert!(readme.contains(&format!("`{file}`")), "examples/traces/README.md does not list {file}");
    }
}

#[test]
fn leak_keeps_every_connection_alive_in_old_space_through_timers() {
    let replay = replay(LEAK);
    let report = Report::new(&replay, None);
    let summary = &report.summary;
    assert!(summary.oom.is_none());
    assert!(summary.scavenges >= 3, "{} scavenges", summary.scavenges);
    assert!(summary.mark_compacts >= 1);
    assert!(report.events.iter().any(|e| e.collector == Collector::Scavenge && e.promoted_bytes > 0));
    // A mark-compact at the allocation limit runs during the trace and cannot free the connections either.
    assert!(report
        .events
        .iter()
        .any(|e| e.collector == Collector::MarkCompact && e.reason == GcReason::AllocationLimit));

    // Every connection's objects are alive at the end, and in old space.
    assert_eq!(connections(&replay), vec![(CONNECTION_OBJECTS, CONNECTION_BYTES); CONNECTIONS as usize]);
    let heap = replay.heap();
    for (_, object) in heap.objects() {
        if object.labels.tag.is_some_and(|tag| heap.label_name(tag).is_ok_and(|name| name.starts_with("conn-"))) {
            assert_eq!(object.space, Space::Old, "{object:?}");
        }
    }
    assert!(summary.live_old_bytes * 10 >= summary.live_bytes * 9, "mostly old: {summary:?}");

    // The root set `timers` is what keeps them.
    let timers = retained_by(&report, "timers").expect("timers retains something");
    assert_eq!(report.retainers[0].root, "timers", "the largest retainer");
    assert_eq!(timers.handles, CONNECTIONS);
    assert_eq!(timers.retained_objects, CONNECTIONS * CONNECTION_OBJECTS);
    assert_eq!(timers.retained_bytes, CONNECTIONS * CONNECTION_BYTES);
    assert_eq!(timers.retained_old_bytes, CONNECTIONS * CONNECTION_BYTES);
    let closed = report.marks.iter().filter(|m| m.label.contains("closes")).count();
    assert_eq!(closed as u64, CONNECTIONS);
}

#[test]
fn fixed_reclaims_every_connection() {
    let fixed = Report::new(&replay(FIXED), None);
    let leak = Report::new(&replay(LEAK), None);
    assert_eq!(
        (fixed.summary.allocated_objects, fixed.summary.allocated_bytes),
        (leak.summary.allocated_objects, leak.summary.allocated_bytes),
        "the same workload"
    );
    assert!(fixed.summary.oom.is_none());
    assert!(fixed.summary.scavenges >= 3);
    assert!(fixed.summary.mark_compacts >= 1);

    let replay = replay(FIXED);
    assert_eq!(connections(&replay), vec![(0, 0); CONNECTIONS as usize]);
    assert!(retained_by(&fixed, "timers").is_none(), "{:?}", fixed.retainers);
    // Only the server itself (the app and its router, 3,072 bytes) stays.
    let globals = retained_by(&fixed, "globals").unwrap();
    assert_eq!((fixed.summary.live_objects, fixed.summary.live_bytes), (2, 3072));
    assert_eq!(globals.retained_bytes, fixed.summary.live_bytes);
    assert!(fixed.summary.live_bytes * 100 < leak.summary.live_bytes);
}

/// Replays a trace event by event, recording the remembered set's size after each event.
struct RememberedSetProbe {
    replay: Option<Replay>,
    after: Vec<(&'static str, usize)>,
}

impl TraceVisitor for RememberedSetProbe {
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
        self.replay = Some(Replay::from_header(&header, |_| Ok(()))?);
        Ok(())
    }

    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        let op = match event {
            TraceEvent::Write { .. } => "write",
            TraceEvent::Gc { .. } => "gc",
            _ => "other",
        };
        let replay = self.replay.as_mut().unwrap();
        let flow = replay.apply(event)?;
        self.after.push((op, replay.heap().remembered_set_len()));
        Ok(flow)
    }
}

#[test]
fn write_barrier_keeps_a_young_object_alive_through_the_remembered_set() {
    let mut probe = RememberedSetProbe { replay: None, after: Vec::new() };
    let file = BufReader::new(File::open(WRITE_BARRIER).unwrap());
    read_trace(file, WRITE_BARRIER, None, &mut probe).unwrap_or_else(|e| panic!("{e}"));

    // Each store of a young Session into the old cache records one slot. The slot stays while the Session is young
    // and goes when it is promoted or when the mark-compact runs.
    let first_write = probe.after.iter().position(|(op, _)| *op == "write").unwrap();
    assert!(probe.after[..first_write].iter().all(|&(_, len)| len == 0));
    let after = |op| probe.after.iter().filter(|(o, _)| *o == op).map(|&(_, len)| len).collect::<Vec<_>>();
    assert_eq!(after("write"), [1, 1]);
    assert_eq!(after("gc"), [0, 0, 1, 0, 1, 0]);

    let replay = probe.replay.unwrap();
    let report = Report::new(&replay, None);
    let e = &report.events;
    assert_eq!(e.len(), 6);
    // Scavenges 1 and 2 copy, then promote, the 512-byte cache.
    assert_eq!((e[0].copied_bytes, e[1].promoted_bytes), (512, 512));
    // Scavenge 3: nothing but the cache's remembered slot holds session-1, and it survives (copied). The 4 KiB
    // string allocated next to it, held only by the closed scope, dies.
    assert_eq!(e[2].collector, Collector::Scavenge);
    assert_eq!(e[2].before.old_space.objects, 1, "the cache is old");
    assert_eq!((e[2].copied_objects, e[2].copied_bytes, e[2].promoted_bytes), (1, 200, 0));
    assert_eq!(e[2].died_bytes, 4096);
    // Scavenge 4 promotes it.
    assert_eq!((e[3].copied_bytes, e[3].promoted_objects, e[3].promoted_bytes), (0, 1, 200));
    // Scavenge 5: the cache is no longer rooted, but its remembered slot still keeps session-2 (old garbage keeps
    // young garbage alive).
    assert_eq!((e[4].copied_objects, e[4].copied_bytes, e[4].died_bytes), (1, 200, 0));
    // The mark-compact traces from the roots: the cache and both sessions die.
    assert_eq!(e[5].collector, Collector::MarkCompact);
    assert_eq!((e[5].died_objects, e[5].died_bytes), (3, 512 + 200 + 200));
    assert_eq!((report.summary.live_objects, report.summary.live_bytes), (0, 0));
    assert!([1, 2, 4].iter().all(|&id| replay.object(id).is_none()));
}

#[test]
fn oom_dies_of_a_growing_rooted_list() {
    let replay = replay(OOM);
    let report = Report::new(&replay, None);
    let summary = &report.summary;
    let oom = summary.oom.as_ref().expect("the program runs out of memory");
    assert_eq!(oom.location, OomLocation::ReachedHeapLimit);
    assert_eq!(oom.message, "Reached heap limit Allocation failed - JavaScript heap out of memory");
    assert_eq!(oom.max_old_generation_size, 1024 * 1024);
    assert_eq!(report.config.max_old_generation_size, 1024 * 1024);
    assert_eq!(oom.event, Some(summary.trace_events - 1), "the replay stops at the event that died");
    assert_eq!(replay.out_of_memory_event(), oom.event);

    // The rest of the trace is not read.
    let text = std::fs::read_to_string(OOM).unwrap();
    let events = text.lines().filter(|line| line.trim_start().starts_with("{\"op\"")).count() as u64;
    assert!(summary.trace_events < events, "{} of {events} events", summary.trace_events);
    assert!(report.marks.iter().all(|m| !m.label.contains("never reached")));

    // The list is what fills the heap.
    assert_eq!(report.events.last().unwrap().collector, Collector::MarkCompact);
    let globals = retained_by(&report, "globals").unwrap();
    assert!(globals.retained_bytes * 10 >= summary.live_bytes * 9, "{globals:?}");
    assert!(summary.live_old_bytes * 10 >= summary.live_bytes * 9);
}

#[test]
fn leak_analysis_names_every_closed_connection_and_its_path_from_timers() {
    let leaky = replay(LEAK);
    let report = Report::new(&leaky, Some(gc_sim::WhyQuery::Text("4")));
    // Every connection closed with a `mark` (`closes`) and stayed alive: 16 suspected leaks, in closing order.
    let leaks = &report.suspected_leaks;
    assert_eq!(leaks.len() as u64, CONNECTIONS);
    assert_eq!(report.summary.suspected_leak_tags, CONNECTIONS);
    assert_eq!(report.summary.suspected_leak_bytes, CONNECTIONS * CONNECTION_BYTES);
    assert!(leaks.windows(2).all(|w| w[0].closed_at_ms <= w[1].closed_at_ms));
    for leak in leaks {
        assert_eq!(
            (leak.objects, leak.bytes, leak.retained_bytes),
            (CONNECTION_OBJECTS, CONNECTION_BYTES, CONNECTION_BYTES)
        );
        assert_eq!(leak.old_bytes, leak.bytes, "{} is all in old space", leak.tag);
        assert_eq!(leak.root, "timers");
        assert_eq!(leak.path[0].kind.as_deref(), Some("Timeout"));
        assert_eq!(leak.path.last().unwrap().tag.as_deref(), Some(leak.tag.as_str()));
    }
    // Each tag was promoted after it was opened, and every connection's objects were promoted.
    for tag in &report.tags {
        let promoted = tag.promoted.expect("promoted");
        assert_eq!(promoted.bytes, CONNECTION_BYTES, "{}", tag.retention.tag);
        assert!(promoted.first_gc <= promoted.last_gc);
        assert!(tag.closed_at_ms.is_some());
    }
    // The live objects are old: none is young at the end of a trace that ends with a full collection.
    assert!(report.ages.iter().all(|b| b.young_objects == 0));
    assert_eq!(report.ages.iter().map(|b| b.old_bytes).sum::<u64>(), report.summary.live_bytes);

    // Object 4 is conn-1's Socket: timers -> Timeout -> closure -> Context -> KoaContext -> WebSocket -> Socket.
    let why = report.why.as_ref().unwrap();
    assert_eq!(why.root.as_deref(), Some("timers"));
    let kinds: Vec<_> = why.path.iter().map(|s| s.kind.as_deref().unwrap_or("?")).collect();
    assert_eq!(kinds.first(), Some(&"Timeout"));
    assert_eq!(kinds.last(), Some(&"Socket"));
    assert_eq!(why.path.last().unwrap().id, Some(4));
    assert!(why.path.windows(2).all(|w| w[0].retained_bytes >= w[1].retained_bytes), "each step dominates the next");
    let line = gc_sim::analysis::format_path(why.root.as_deref().unwrap(), &why.path);
    assert!(line.starts_with("timers -> Timeout#") && line.ends_with("Socket#4 (conn-1)"), "{line}");

    let fixed = Report::new(&replay(FIXED), Some(gc_sim::WhyQuery::Text("conn-1")));
    assert!(fixed.suspected_leaks.is_empty());
    assert!(fixed.tags.is_empty(), "no connection object is alive");
    assert_eq!(fixed.why.unwrap().root, None, "nothing retains conn-1");
}

/// Replays a trace with heap maps requested at `moments` (as `gc-sim run --heap-map-at` does).
struct HeapMapRequests {
    moments: Vec<HeapMapMoment>,
    replay: Option<Replay>,
}

impl TraceVisitor for HeapMapRequests {
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
        let replay = Replay::from_header(&header, |_| Ok(()))?;
        for &moment in &self.moments {
            replay.heap_maps().request(moment);
        }
        self.replay = Some(replay);
        Ok(())
    }

    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        self.replay.as_mut().unwrap().apply(event)
    }
}

/// docs/tutorial.md, chapter 2: temporaries die in the scavenge that finds them; what survives one scavenge (the
/// config, the sessions) is copied within new space, and promoted by the next.
#[test]
fn young_generation_promotes_survivors_on_their_second_scavenge() {
    const REQUEST: u64 = 256 + 16_384 + 512 + 2048;
    const SESSION: u64 = 4096;
    const CONFIG_AND_ROUTES: u64 = 1024 + 2048;
    let replay = replay(YOUNG);
    let report = Report::new(&replay, None);
    let e = &report.events;
    assert_eq!((report.summary.scavenges, report.summary.mark_compacts), (8, 0));
    assert!(e.iter().all(|e| e.collector == Collector::Scavenge && e.reason == GcReason::AllocationFailure));

    // Scavenge 1: 12 finished requests die; the config, the routes, 3 sessions and the IncomingMessage of the request
    // in flight are copied within new space; nothing is promoted.
    assert_eq!(e[0].died_bytes, 12 * REQUEST);
    assert_eq!((e[0].copied_bytes, e[0].promoted_bytes), (CONFIG_AND_ROUTES + 3 * SESSION + 256, 0));
    // Scavenge 2 promotes what is still alive of it: not the IncomingMessage, whose request has returned.
    assert_eq!(e[1].promoted_bytes, CONFIG_AND_ROUTES + 3 * SESSION);
    assert_eq!(e[1].before.old_space.objects, 0);
    assert_eq!(e[1].after.old_space.objects, 2 + 3);
    // Every later scavenge promotes sessions that the one before copied, and the old space grows at each of them.
    for w in e.windows(2) {
        assert!(w[1].promoted_bytes <= w[0].copied_bytes, "{:?}", (w[0].number, w[1].number));
    }
    assert!(e[2..].iter().all(|e| e.promoted_bytes > 0 && e.promoted_bytes % SESSION == 0), "sessions only");
    assert!(e[1..].windows(2).all(|w| w[1].after.old_space.used_bytes > w[0].after.old_space.used_bytes));

    // At the end: 25 sessions (20 old, 5 still young) and the config; every old object survived two scavenges.
    let sessions = retained_by(&report, "sessions").unwrap();
    assert_eq!(
        (sessions.handles, sessions.retained_bytes, sessions.retained_old_bytes),
        (25, 25 * SESSION, 20 * SESSION)
    );
    assert_eq!(report.summary.live_old_bytes, CONFIG_AND_ROUTES + 20 * SESSION);
    assert!(report.ages.iter().all(|b| (b.age == 2) == (b.old_objects > 0) && (b.age < 2) == (b.young_objects > 0)));
    let user_1 = report.tags.iter().find(|t| t.retention.tag == "user-1").unwrap();
    assert_eq!(user_1.promoted.unwrap().first_gc, 2);
}

/// docs/tutorial.md, chapter 4: the mark-compact sweeps the full and the half-empty page, evacuates the two
/// mostly-empty pages into the half-empty one's holes, and releases them.
#[test]
fn fragmentation_evacuates_the_mostly_empty_pages_into_the_holes_of_the_swept_one() {
    const ENTRY: u64 = 4096;
    let mut probe = HeapMapRequests { moments: vec![HeapMapMoment::Before(1), HeapMapMoment::After(1)], replay: None };
    let file = BufReader::new(File::open(FRAGMENTATION).unwrap());
    read_trace(file, FRAGMENTATION, None, &mut probe).unwrap_or_else(|e| panic!("{e}"));
    let replay = probe.replay.unwrap();
    let report = Report::new(&replay, None);
    assert_eq!(report.events.len(), 1);
    let gc = &report.events[0];
    assert_eq!((gc.collector, gc.reason), (Collector::MarkCompact, GcReason::Testing));
    // 248 entries; 62 + 31 + 8 + 8 stay.
    assert_eq!((gc.died_objects, gc.died_bytes), (139, 139 * ENTRY));
    assert_eq!((gc.marked_objects, gc.marked_bytes), (109, 109 * ENTRY));
    assert_eq!((gc.swept_pages, gc.evacuated_pages, gc.evacuated_bytes, gc.released_pages), (2, 2, 16 * ENTRY, 2));
    let page = 256 * 1024;
    assert_eq!((gc.before.old_space.committed_bytes, gc.after.old_space.committed_bytes), (4 * page, 2 * page));

    // The maps: 4 old pages before (live bytes per page 62, 31, 8, 8 entries), 2 after (62 and 31 + 16).
    let live_per_page = |moment| {
        let map = report.heap_maps.iter().find(|m| m.moment == moment).unwrap();
        map.pages
            .iter()
            .filter(|p| p.space == Space::Old)
            .map(|p| (p.page, p.cells.iter().map(|c| u64::from(c.live)).sum::<u64>() / ENTRY))
            .collect::<Vec<_>>()
    };
    assert_eq!(live_per_page(HeapMapMoment::Before(1)), [(0, 62), (1, 31), (2, 8), (3, 8)]);
    assert_eq!(live_per_page(HeapMapMoment::After(1)), [(0, 62), (1, 31 + 16)]);
    assert_eq!(report.heap_maps.len(), 2, "no map at the end unless asked for");
}
