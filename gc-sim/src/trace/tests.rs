//! The reader's tests, through [`read_trace`]: both forms, detection, encodings, positions and messages.

use std::borrow::Cow;

use super::reader::DETECTION_LIMIT;
use super::*;
use crate::heap::Collection;
use crate::object::{max_slots, MAX_OBJECT_SIZE};

/// Collects events as owned debug strings.
#[derive(Default, Debug)]
struct Collect {
    header: Option<TraceHeader>,
    events: Vec<String>,
    stop_after: Option<usize>,
}

impl TraceVisitor for Collect {
    fn header(&mut self, header: TraceHeader) -> Result<(), Problem> {
        self.header = Some(header);
        Ok(())
    }
    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        self.events.push(format!("{event:?}"));
        Ok(if Some(self.events.len()) == self.stop_after { Flow::Stop } else { Flow::Continue })
    }
}

const HEADER: &str =
    r#"{"format": "gc-sim-trace", "version": 1, "name": "t", "heap": {"max_semi_space_size": 2097152}}"#;
const EVENTS: [&str; 4] = [
    r#"{"op": "alloc", "id": 1, "size": 24, "slots": 2, "tag": "conn-1", "root": "timers"}"#,
    r#"{"op": "write", "obj": 1, "slot": 0, "to": null}"#,
    r#"{"op": "tick", "ms": 1.5}"#,
    r#"{"op": "gc", "kind": "minor"}"#,
];

fn json() -> String {
    format!("{}, \"events\": [\n{}\n]}}", &HEADER[..HEADER.len() - 1], EVENTS.join(",\n"))
}

fn ndjson() -> String {
    format!("{HEADER}\n{}\n", EVENTS.join("\n"))
}

fn read(text: &str, format: Option<TraceFormat>) -> Result<Collect, TraceError> {
    let mut collect = Collect::default();
    read_trace(text.as_bytes(), "t", format, &mut collect)?;
    Ok(collect)
}

#[test]
fn json_and_ndjson_give_the_same_events() {
    let a = read(&json(), Some(TraceFormat::Json)).unwrap();
    let b = read(&ndjson(), Some(TraceFormat::Ndjson)).unwrap();
    assert_eq!(a.events, b.events);
    assert_eq!(a.events.len(), 4);
    assert_eq!(a.header, b.header);
    assert_eq!(a.header.unwrap().heap.max_semi_space_size, 2 * 1024 * 1024);
    assert!(a.events[1].contains("to: None"), "{}", a.events[1]);
}

#[test]
fn the_form_is_detected_from_the_first_line() {
    assert_eq!(read(&json(), None).unwrap().events.len(), 4);
    assert_eq!(read(&ndjson(), None).unwrap().events.len(), 4);
    let one_line_json = json().replace('\n', "");
    assert_eq!(read(&one_line_json, None).unwrap().events.len(), 4);
}

#[test]
fn a_one_line_document_longer_than_the_detection_limit_is_json() {
    let event = r#"{"op": "alloc", "id": 1, "size": 24, "kind": "a long label to make the line long"}"#;
    let events = vec![event; (DETECTION_LIMIT as usize / event.len()) * 2].join(",");
    let text = format!("{}, \"events\": [{events}]}}", &HEADER[..HEADER.len() - 1]);
    assert!(text.len() as u64 > 2 * DETECTION_LIMIT - 1000);
    assert_eq!(read(&text, None).unwrap().events.len(), events.matches("alloc").count());
}

#[test]
fn a_utf8_byte_order_mark_is_skipped() {
    for (text, format) in [(json(), Some(TraceFormat::Json)), (ndjson(), Some(TraceFormat::Ndjson)), (ndjson(), None)] {
        let with_bom = format!("\u{feff}{text}");
        for capacity in [1, 2, 4096] {
            let input = std::io::BufReader::with_capacity(capacity, with_bom.as_bytes());
            let mut collect = Collect::default();
            read_trace(input, "t", format, &mut collect).unwrap();
            assert_eq!(collect.events.len(), 4, "capacity {capacity}, {format:?}");
        }
    }
    // A short input still reads: the look-ahead gives back what it read.
    let e = read("{", None).unwrap_err();
    assert_eq!(e.kind(), ProblemKind::Syntax, "{e}");
    assert_eq!(read("", None).unwrap_err().line, Some(1));
}

#[test]
fn utf16_and_doubly_compressed_traces_are_named_not_malformed() {
    let utf16: Vec<u8> = [0xff, 0xfe].into_iter().chain(ndjson().encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let gzip = |bytes: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    };
    let twice = gzip(&gzip(ndjson().as_bytes()));
    for (bytes, what) in [(utf16, "UTF-16"), (twice, "compressed twice")] {
        for format in [None, Some(TraceFormat::Json), Some(TraceFormat::Ndjson)] {
            let e = read_trace(&bytes[..], "t", format, &mut Collect::default()).unwrap_err();
            assert_eq!((e.kind(), e.line), (ProblemKind::Syntax, Some(1)), "{e}");
            assert!(e.to_string().contains(what), "{e}");
        }
    }
}

/// gzip and zstd traces are read as they are decompressed, recognised by their first bytes: the same events as
/// the plain text; a cut stream is an error that names the compression.
#[test]
fn compressed_traces_are_decompressed_as_they_are_read() {
    let text = ndjson();
    let plain = read(&text, None).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let zst = ruzstd::encoding::compress_to_vec(text.as_bytes(), ruzstd::encoding::CompressionLevel::Fastest);
    for (bytes, what) in [(gz, "gzip"), (zst, "zstd")] {
        for format in [None, Some(TraceFormat::Ndjson)] {
            let mut collected = Collect::default();
            read_trace(&bytes[..], "t", format, &mut collected).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(collected.events, plain.events, "{what}");
        }
        let cut = &bytes[..bytes.len() / 2];
        let e = read_trace(cut, "t", None, &mut Collect::default()).unwrap_err();
        assert_eq!(e.kind(), ProblemKind::Io, "{what}: {e}");
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
}

#[test]
fn a_header_or_heap_written_as_an_array_is_a_type_error() {
    let header = |heap: &str| format!(r#"{{"format": "gc-sim-trace", "version": 1, "heap": {heap}}}"#);
    for text in [
        header("[]"),
        header("[{}, 1048576]"),
        header(r#"{"page": []}"#),
        header(r#"{"pause": [1.0]}"#),
        r#"["gc-sim-trace", 1]"#.to_owned(),
    ] {
        for (text, format) in [
            (format!("{text}\n"), TraceFormat::Ndjson),
            (format!("{}, \"events\": []}}", &text[..text.len() - 1]), TraceFormat::Json),
        ] {
            if text.starts_with('[') && format == TraceFormat::Json {
                continue;
            }
            let e = read(&text, Some(format)).unwrap_err();
            assert_eq!(e.kind(), ProblemKind::Header, "{text}: {e}");
            assert!(e.to_string().contains("expected an object"), "{text}: {e}");
        }
    }
}

#[test]
fn a_header_type_error_names_its_field_in_both_forms() {
    for (fields, named) in [
        (r#""version": "1""#, "`version`"),
        (r#""version": 1, "name": 7"#, "`name`"),
        (r#""version": 1, "heap": {"page": {"page_size": "big"}}"#, "`heap.page.page_size`"),
        (r#""version": 1, "heap": {"pause": {"scavenge_base_ms": true}}"#, "`heap.pause.scavenge_base_ms`"),
        (r#""version": 1, "heap": {"page": {"colour": 1}}"#, "`heap.page`: unknown field `colour`"),
    ] {
        let header = format!(r#"{{"format": "gc-sim-trace", {fields}}}"#);
        for (text, format) in [
            (format!("{header}\n"), TraceFormat::Ndjson),
            (format!("{}, \"events\": []}}", &header[..header.len() - 1]), TraceFormat::Json),
        ] {
            let e = read(&text, Some(format)).unwrap_err();
            assert_eq!((e.kind(), e.line), (ProblemKind::Header, Some(1)), "{text}: {e}");
            assert!(e.to_string().contains(&format!("header: {named}")), "{text}: {e}");
        }
    }
}

#[test]
fn a_visitor_can_stop_the_reading() {
    for (text, format) in [(json(), TraceFormat::Json), (ndjson(), TraceFormat::Ndjson)] {
        let mut collect = Collect { stop_after: Some(2), ..Collect::default() };
        let summary = read_trace(text.as_bytes(), "t", Some(format), &mut collect).unwrap();
        assert_eq!(summary, ReadSummary { events: 2, stopped: true });
    }
}

/// Lines that cross the end of the reader's buffer, CRLF line ends, blank lines, a
/// missing final newline and bad bytes must read the same whatever the buffer's size.
#[test]
fn ndjson_lines_read_the_same_across_buffer_boundaries() {
    let expected = read(&ndjson(), Some(TraceFormat::Ndjson)).unwrap().events;
    let variants =
        [ndjson(), ndjson().replace('\n', "\r\n"), ndjson().replace('\n', "\n\n  \n"), ndjson().trim_end().to_owned()];
    for text in &variants {
        for capacity in [1, 2, 3, 7, 16, 64, 4096] {
            let input = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let mut collect = Collect::default();
            let summary = read_trace(input, "t", None, &mut collect).unwrap();
            assert_eq!(collect.events, expected, "capacity {capacity}, text {text:?}");
            assert_eq!(summary, ReadSummary { events: 4, stopped: false });
            let input = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let mut collect = Collect { stop_after: Some(3), ..Collect::default() };
            let summary = read_trace(input, "t", Some(TraceFormat::Ndjson), &mut collect).unwrap();
            assert_eq!(summary, ReadSummary { events: 3, stopped: true });
        }
    }
    // Invalid UTF-8 inside a string is a syntax error at its line, not a panic or a skipped line.
    let mut bytes = ndjson().into_bytes();
    let at = bytes.windows(6).position(|w| w == b"conn-1").unwrap();
    bytes[at] = 0xff;
    for capacity in [5, 4096] {
        let input = std::io::BufReader::with_capacity(capacity, &bytes[..]);
        let e = read_trace(input, "t", Some(TraceFormat::Ndjson), &mut Collect::default()).unwrap_err();
        assert_eq!((e.kind(), e.line), (ProblemKind::Syntax, Some(2)), "{e}");
        assert!(e.to_string().ends_with("the line is not valid UTF-8"), "{e}");
    }
}

fn arbitrary_event() -> impl proptest::strategy::Strategy<Value = TraceEvent<'static>> {
    use proptest::prelude::*;
    let text = || proptest::option::of("[a-z\\-\"\\\\é ]{0,6}".prop_map(Cow::Owned));
    let name = || "[a-z\"]{1,4}".prop_map(Cow::<'static, str>::Owned);
    prop_oneof![
        (any::<u64>(), 1..=MAX_OBJECT_SIZE, any::<u32>(), text(), text(), text(), text(), any::<bool>()).prop_map(
            |(id, size, slots, kind, tag, site, root, pretenured)| TraceEvent::Alloc {
                id,
                size,
                slots: slots % (max_slots(size) + 1),
                kind,
                tag,
                site,
                root,
                pretenured
            }
        ),
        (any::<u64>(), any::<u32>(), proptest::option::of(any::<u64>()))
            .prop_map(|(obj, slot, to)| TraceEvent::Write { obj, slot, to }),
        (any::<u64>(), name()).prop_map(|(id, root)| TraceEvent::Root { id, root }),
        (any::<u64>(), name()).prop_map(|(id, root)| TraceEvent::Unroot { id, root }),
        Just(TraceEvent::Enter),
        Just(TraceEvent::Exit),
        (0.0..1e9f64).prop_map(|ms| TraceEvent::Tick { ms }),
        prop_oneof![Just(Collection::Minor), Just(Collection::Major)].prop_map(|kind| TraceEvent::Gc { kind }),
        (name(), text()).prop_map(|(label, closes)| TraceEvent::Mark { label, closes }),
    ]
}

/// Owns every event it reads.
#[derive(Default)]
struct Keep(Vec<TraceEvent<'static>>);

impl TraceVisitor for Keep {
    fn header(&mut self, _: TraceHeader) -> Result<(), Problem> {
        Ok(())
    }
    fn event(&mut self, event: TraceEvent<'_>) -> Result<Flow, Problem> {
        self.0.push(event.into_owned());
        Ok(Flow::Continue)
    }
}

proptest::proptest! {
    /// Serialized events, one per line after a header, read back as the same events.
    #[test]
    fn serialized_events_read_back_the_same(events in proptest::collection::vec(arbitrary_event(), 0..40)) {
        let mut text = format!("{HEADER}\n");
        for event in &events {
            text += &serde_json::to_string(event).unwrap();
            text.push('\n');
        }
        let mut keep = Keep::default();
        read_trace(text.as_bytes(), "t", None, &mut keep).unwrap();
        proptest::prop_assert_eq!(keep.0, events);
    }
}

fn error(text: &str, format: TraceFormat) -> TraceError {
    match read(text, Some(format)) {
        Ok(c) => panic!("expected an error, read {:?}", c.events),
        Err(e) => e,
    }
}

#[test]
fn ndjson_errors_name_the_line() {
    let bad = |event: &str| format!("{HEADER}\n{}\n{event}\n", EVENTS[0]);
    let cases = [
        (r#"{"op": "alloc", "id": 2"#, ProblemKind::Syntax, "t:3:"),
        (r#"{"op": "free", "id": 2}"#, ProblemKind::UnknownOp, "t:3: unknown op \"free\" (the ops: alloc, write,"),
        (r#"{"op": "alloc", "id": 2}"#, ProblemKind::Field, "t:3: `alloc` needs the field `size`"),
        (r#"{"op": "alloc", "id": "x", "size": 8}"#, ProblemKind::Field, "t:3: event: `id`: invalid type"),
        (r#"{"op": "alloc", "id": 2, "size": 0}"#, ProblemKind::ZeroSize, "t:3: `size` is 0"),
        (r#"{"op": "tick", "ms": 1, "id": 3}"#, ProblemKind::Field, "t:3: `tick` has no field `id`"),
        (r#"{"op": "gc", "kind": "full"}"#, ProblemKind::Field, "t:3: `gc` has kind \"full\""),
        (r#"{"op": "write", "obj": 1, "slot": 0}"#, ProblemKind::Field, "t:3: `write` needs the field `to`"),
        (r#"{"op": "alloc", "id": 2, "size": 8, "colour": 1}"#, ProblemKind::Field, "unknown field `colour`"),
        (r#"{"op": "alloc", "id": 2, "id": 3, "size": 8}"#, ProblemKind::Field, "t:3: event: duplicate field `id`"),
        (r#"{"id": 2, "size": 8}"#, ProblemKind::Field, "t:3: event: missing field `op`"),
        (r#"{"op": null}"#, ProblemKind::Field, "t:3: event: `op`: invalid type: null, expected a string"),
        (r#"[1, 2]"#, ProblemKind::Field, "t:3: event: invalid type: sequence, expected an event object"),
        (r#"{"op": "enter"} {"op": "exit"}"#, ProblemKind::Syntax, "t:3:17: malformed JSON: trailing characters"),
        (r#"{"op": "enter", "to": null}"#, ProblemKind::Field, "t:3: `enter` has no field `to` (its fields: none)"),
    ];
    for (event, kind, expected) in cases {
        let e = error(&bad(event), TraceFormat::Ndjson);
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(expected), "{e} does not contain {expected}");
        assert_eq!(e.line, Some(3));
    }
}

#[test]
fn null_operands_are_absent_and_escaped_strings_are_read() {
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        r#"{"op": "alloc", "id": 1, "size": 8, "slots": null, "obj": null, "kind": "a\"b\u00e9", "tag": null}"#,
        r#"{"to": null, "slot": 0, "obj": 1, "op": "write"}"#,
    );
    let mut keep = Keep::default();
    read_trace(text.as_bytes(), "t", None, &mut keep).unwrap();
    let expected = [
        TraceEvent::Alloc {
            id: 1,
            size: 8,
            slots: 0,
            kind: Some("a\"bé".into()),
            tag: None,
            site: None,
            root: None,
            pretenured: false,
        },
        TraceEvent::Write { obj: 1, slot: 0, to: None },
    ];
    assert_eq!(keep.0, expected);
}

#[test]
fn json_errors_name_the_event_index() {
    let text = json().replace(r#""op": "tick", "ms": 1.5"#, r#""op": "tick""#);
    let e = error(&text, TraceFormat::Json);
    assert_eq!(e.event, Some(2));
    assert!(e.to_string().starts_with("t: events[2]: `tick` needs the field `ms`"), "{e}");
    let text = json().replace(r#""op": "tick", "ms": 1.5"#, r#""op": "tick", "ms": "soon""#);
    let e = error(&text, TraceFormat::Json);
    assert_eq!((e.kind(), e.event), (ProblemKind::Field, Some(2)), "{e}");
    assert!(e.line.is_some(), "serde's position is kept: {e}");
    let text = json().replace(r#"{"op": "tick", "ms": 1.5}"#, r#"{"op": "tick", "ms": 1.5"#);
    let e = error(&text, TraceFormat::Json);
    assert_eq!(e.kind(), ProblemKind::Syntax);
    assert_eq!(e.line, Some(5), "{e}");
}

#[test]
fn header_problems() {
    let cases = [
        (r#"{"format": "other", "version": 1}"#, "`format` is \"other\""),
        (r#"{"format": "gc-sim-trace", "version": 2}"#, "version 2 is not supported"),
        (r#"{"format": "gc-sim-trace"}"#, "header: missing field `version`"),
        (r#"{"format": "gc-sim-trace", "version": 1, "heap": {"max_old": 1}}"#, "unknown field `max_old`"),
    ];
    for (header, expected) in cases {
        for format in [TraceFormat::Json, TraceFormat::Ndjson] {
            let e = error(&format!("{header}\n"), format);
            assert_eq!(e.kind(), ProblemKind::Header, "{e}");
            assert!(e.to_string().contains(expected), "{e}: expected {expected}");
        }
    }
    let late = r#"{"format": "gc-sim-trace", "events": [], "version": 1}"#;
    assert!(error(late, TraceFormat::Json)
        .to_string()
        .contains("missing field `version` (the header fields must come before `events`)"));
    assert_eq!(error("", TraceFormat::Ndjson).kind(), ProblemKind::Header);
    assert_eq!(error("", TraceFormat::Json).kind(), ProblemKind::Syntax);
}

#[test]
fn sizes_over_u32_are_rejected_not_truncated() {
    let e = error(&format!("{HEADER}\n{{\"op\": \"alloc\", \"id\": 1, \"size\": 4294967296}}\n"), TraceFormat::Ndjson);
    assert!(e.to_string().contains("`size` is 4294967296, more than the maximum"), "{e}");
}

/// Each op, with and without its optional fields, serializes as the hand-written serializer before the split did:
/// `op` first, the fields in their order, absent options, `slots: 0` and `pretenured: false` left out, `to: null`
/// kept.
#[test]
fn events_serialize_as_a_trace_writes_them() {
    let text = |t: &'static str| Some(Cow::Borrowed(t));
    let cases = [
        (
            TraceEvent::Alloc {
                id: 1,
                size: 24,
                slots: 0,
                kind: None,
                tag: None,
                site: None,
                root: None,
                pretenured: false,
            },
            r#"{"op":"alloc","id":1,"size":24}"#,
        ),
        (
            TraceEvent::Alloc {
                id: 2,
                size: 32,
                slots: 2,
                kind: text("Socket"),
                tag: text("conn-1"),
                site: text("a\"b"),
                root: text("timers"),
                pretenured: true,
            },
            r#"{"op":"alloc","id":2,"size":32,"slots":2,"kind":"Socket","tag":"conn-1","site":"a\"b","root":"timers","pretenured":true}"#,
        ),
        (TraceEvent::Write { obj: 7, slot: 1, to: Some(8) }, r#"{"op":"write","obj":7,"slot":1,"to":8}"#),
        (TraceEvent::Write { obj: 7, slot: 0, to: None }, r#"{"op":"write","obj":7,"slot":0,"to":null}"#),
        (TraceEvent::Root { id: 3, root: Cow::Borrowed("r") }, r#"{"op":"root","id":3,"root":"r"}"#),
        (TraceEvent::Unroot { id: 3, root: Cow::Borrowed("r") }, r#"{"op":"unroot","id":3,"root":"r"}"#),
        (TraceEvent::Enter, r#"{"op":"enter"}"#),
        (TraceEvent::Exit, r#"{"op":"exit"}"#),
        (TraceEvent::Tick { ms: 1.5 }, r#"{"op":"tick","ms":1.5}"#),
        (TraceEvent::Tick { ms: 0.0 }, r#"{"op":"tick","ms":0.0}"#),
        (TraceEvent::Gc { kind: Collection::Minor }, r#"{"op":"gc","kind":"minor"}"#),
        (TraceEvent::Gc { kind: Collection::Major }, r#"{"op":"gc","kind":"major"}"#),
        (TraceEvent::Mark { label: Cow::Borrowed("end"), closes: None }, r#"{"op":"mark","label":"end"}"#),
        (
            TraceEvent::Mark { label: Cow::Borrowed("close"), closes: text("conn-1") },
            r#"{"op":"mark","label":"close","closes":"conn-1"}"#,
        ),
    ];
    for (event, expected) in cases {
        assert_eq!(serde_json::to_string(&event).unwrap(), expected);
    }
    let pretty = serde_json::to_string_pretty(&TraceEvent::Enter).unwrap();
    assert_eq!(pretty, "{\n  \"op\": \"enter\"\n}");
}

/// An event line read by serde alone (the reader's path when the fast path gives up): serde's error as text, or the
/// event and the format's verdict.
fn by_serde(text: &str) -> Result<Result<TraceEvent<'_>, Problem>, String> {
    use serde::de::DeserializeSeed;
    let failed = std::cell::Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    super::decoder::EventSeed { failed: &failed }
        .deserialize(&mut deserializer)
        .and_then(|event| deserializer.end().map(|()| event))
        .map_err(|e| e.to_string())
}

/// The fast path reads `text` as serde does, or gives up.
fn assert_fast_reads_as_serde(text: &str) {
    if let Some(fast) = super::decoder::fast_event(text) {
        assert_eq!(Ok(fast), by_serde(text), "{text}");
    }
}

#[test]
fn the_fast_path_reads_as_serde_or_gives_up() {
    for text in [
        r#"{"op":"alloc","id":1,"size":8}"#,
        r#"{ "op" : "alloc" , "id" : 1 , "size" : 8 }"#,
        "{\"op\":\t\"enter\"\r}",
        r#"{"op":"alloc","id":01,"size":8}"#,
        r#"{"op":"alloc","id":0,"size":8}"#,
        r#"{"op":"alloc","id":-1,"size":8}"#,
        r#"{"op":"alloc","id":1.0,"size":8}"#,
        r#"{"op":"alloc","id":1e3,"size":8}"#,
        r#"{"op":"alloc","id":18446744073709551615,"size":8}"#,
        r#"{"op":"alloc","id":18446744073709551616,"size":8}"#,
        r#"{"op":"alloc","id":1,"size":8,}"#,
        r#"{"op":"alloc","id":1,"size":8}}"#,
        r#"{"op":"alloc","id":1,"size":8} "#,
        r#"{"op":"alloc","id":1,"size":0}"#,
        r#"{"op":"alloc","id":1,"size":8,"slots":null,"kind":null,"pretenured":null}"#,
        r#"{"op":"alloc","id":1,"size":8,"pretenured":true,"kind":"a b","tag":"é"}"#,
        r#"{"op":"alloc","id":1,"size":8,"pretenured":nul}"#,
        r#"{"op":"alloc","id":1,"size":8,"pretenured":truex}"#,
        r#"{"op":"alloc","id":1,"size":8,"kind":"a\"b"}"#,
        "{\"op\":\"alloc\",\"id\":1,\"size\":8,\"kind\":\"a\u{1}b\"}",
        r#"{"op":"alloc","id":1,"id":2,"size":8}"#,
        r#"{"op":"alloc","id":1,"size":8,"colour":1}"#,
        r#"{"op":"free","id":1}"#,
        r#"{"op":null}"#,
        r#"{}"#,
        r#"{"id":1}"#,
        r#"[1]"#,
        r#"{"op":"write","obj":1,"slot":0,"to":null}"#,
        r#"{"op":"write","obj":1,"slot":4294967296,"to":2}"#,
        r#"{"op":"write","obj":1,"slot":0}"#,
        r#"{"op":"tick","ms":1.5}"#,
        r#"{"op":"tick","ms":-0}"#,
        r#"{"op":"tick","ms":-1}"#,
        r#"{"op":"tick","ms":1e400}"#,
        r#"{"op":"tick","ms":0.1e-2}"#,
        r#"{"op":"tick","ms":1.}"#,
        r#"{"op":"tick","ms":--1}"#,
        r#"{"op":"tick","ms":2.2250738585072011e-308}"#,
        r#"{"op":"tick","ms":"1"}"#,
        r#"{"op":"gc","kind":"major"}"#,
        r#"{"op":"mark","label":"x","closes":"conn-1"}"#,
        r#"{"op":"enter","to":null}"#,
    ] {
        assert_fast_reads_as_serde(text);
    }
    // What the writers write takes the fast path.
    for text in [
        r#"{"op":"alloc","id":1,"size":8,"slots":1,"kind":"Timeout","tag":"conn-1","root":"timers"}"#,
        r#"{"op":"tick","ms":1.5}"#,
    ] {
        assert!(super::decoder::fast_event(text).is_some(), "{text}");
    }
}

/// The characters the fast path's property test puts into event lines: JSON's punctuation, digits, number and
/// keyword letters, a control character.
const MUTATIONS: &[char] =
    &[' ', '"', '\\', ',', ':', '{', '}', '[', '0', '1', '9', '-', '+', '.', 'e', 'n', 'u', 'l', 't', 'x', '\u{1}'];

proptest::proptest! {
    /// Serialized events, and the same lines with one character replaced or inserted: the fast path reads each as
    /// serde does, or gives up; a written event without an escape always takes it.
    #[test]
    fn the_fast_path_reads_as_serde(
        event in arbitrary_event(),
        at in 0usize..200,
        insert in proptest::bool::ANY,
        with in proptest::sample::select(MUTATIONS),
    ) {
        let text = serde_json::to_string(&event).unwrap();
        assert_fast_reads_as_serde(&text);
        if !text.contains('\\') {
            proptest::prop_assert!(super::decoder::fast_event(&text).is_some(), "{}", text);
        }
        let mut chars: Vec<char> = text.chars().collect();
        let at = at % chars.len();
        if insert {
            chars.insert(at, with);
        } else {
            chars[at] = with;
        }
        let changed: String = chars.into_iter().collect();
        assert_fast_reads_as_serde(changed.trim());
    }
}
