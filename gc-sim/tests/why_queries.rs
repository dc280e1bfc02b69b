//! "Why is this alive?" queries: an object id, a tag and a kind are never confused, and the answer says what the
//! query matched, or that it matched nothing, distinct from "matched, but not alive".

mod common;

use gc_sim::analysis::{leaks, WhyMatch, WhyQuery};
use gc_sim::Replay;

/// Object 1 is rooted in `globals`; the tag "1" is on object 10, rooted in `timers` and closed by a mark (a leak);
/// object 20 is allocated and dies; `Socket`s are objects 11 and 12 (12 nearer the roots of `timers`).
const TRACE: &str = r#"{"format": "gc-sim-trace", "version": 1, "name": "why"}
{"op": "alloc", "id": 1, "size": 32, "kind": "Config", "root": "globals"}
{"op": "alloc", "id": 10, "size": 48, "slots": 2, "kind": "Timeout", "tag": "1", "root": "timers"}
{"op": "alloc", "id": 12, "size": 64, "slots": 1, "kind": "Socket", "tag": "1"}
{"op": "alloc", "id": 11, "size": 64, "kind": "Socket", "tag": "1"}
{"op": "write", "obj": 10, "slot": 0, "to": 12}
{"op": "write", "obj": 12, "slot": 0, "to": 11}
{"op": "enter"}
{"op": "alloc", "id": 20, "size": 16, "kind": "Garbage", "tag": "gone"}
{"op": "exit"}
{"op": "mark", "label": "connection 1 closes", "closes": "1"}
{"op": "gc", "kind": "major"}
"#;

fn replay() -> Replay {
    common::replay_text(TRACE, "why.ndjson").unwrap()
}

/// The leak analysis asked the path of the closed tag "1" by its name as a text, and a text "1" is object 1 first:
/// the suspected leak was reported as retained by `globals` (object 1's root), not `timers`.
#[test]
fn a_suspected_leak_whose_tag_is_a_number_reports_its_own_path() {
    let report = gc_sim::Report::new(&replay(), None);
    assert_eq!(report.suspected_leaks.len(), 1);
    let leak = &report.suspected_leaks[0];
    assert_eq!(leak.tag, "1");
    assert_eq!(leak.root, "timers");
    let ids: Vec<Option<u64>> = leak.path.iter().map(|s| s.id).collect();
    assert_eq!(ids, [Some(10)], "the path leads to the tag's object nearest to the roots, not object 1");
}

#[test]
fn typed_queries_are_never_confused() {
    let r = replay();
    let object = leaks::why(&r, WhyQuery::Object(1));
    assert_eq!((object.matched, object.root.as_deref()), (Some(WhyMatch::Object), Some("globals")));
    let tag = leaks::why(&r, WhyQuery::Tag("1"));
    assert_eq!((tag.matched, tag.root.as_deref()), (Some(WhyMatch::Tag), Some("timers")));
    assert_eq!(tag.path.last().unwrap().id, Some(10));
    // A text that is a live object's id is that object; `tag:` and `id:` choose.
    assert_eq!(leaks::why(&r, WhyQuery::Text("1")).matched, Some(WhyMatch::Object));
    assert_eq!(leaks::why(&r, WhyQuery::Text("tag:1")).path.last().unwrap().id, Some(10));
    assert_eq!(leaks::why(&r, WhyQuery::Text("id:1")).root.as_deref(), Some("globals"));
}

#[test]
fn a_kind_leads_to_its_object_nearest_to_the_roots() {
    let r = replay();
    for why in [
        leaks::why(&r, WhyQuery::Text("Socket")),
        leaks::why(&r, WhyQuery::Text("kind:Socket")),
        leaks::why(&r, WhyQuery::Kind("Socket")),
    ] {
        assert_eq!(why.matched, Some(WhyMatch::Kind));
        assert_eq!(why.root.as_deref(), Some("timers"));
        let ids: Vec<Option<u64>> = why.path.iter().map(|s| s.id).collect();
        assert_eq!(ids, [Some(10), Some(12)], "Socket#12 is nearer the roots than Socket#11");
    }
}

#[test]
fn matched_but_not_alive_is_told_from_matched_nothing() {
    let r = replay();
    let freed = leaks::why(&r, WhyQuery::Text("20"));
    assert_eq!((freed.matched, freed.root.as_deref()), (Some(WhyMatch::Object), None));
    let dead_tag = leaks::why(&r, WhyQuery::Text("gone"));
    assert_eq!((dead_tag.matched, dead_tag.root.as_deref()), (Some(WhyMatch::Label), None));
    let dead_kind = leaks::why(&r, WhyQuery::Text("kind:Garbage"));
    assert_eq!((dead_kind.matched, dead_kind.root.as_deref()), (Some(WhyMatch::Label), None));
    for nothing in ["99", "Nope", "tag:Nope", "kind:Nope", "id:x"] {
        let why = leaks::why(&r, WhyQuery::Text(nothing));
        assert_eq!((why.matched, why.root.as_deref()), (None, None), "{nothing}");
        assert!(why.path.is_empty());
    }
}
