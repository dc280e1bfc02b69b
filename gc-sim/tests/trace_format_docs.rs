//! `docs/trace-format.md` and `docs/trace-format.schema.json` against the reader: the schema's ops, fields and
//! defaults, the document's examples and its quoted error messages must all be what `gc_sim` does.

use std::collections::BTreeSet;

use gc_sim::trace::{ProblemKind, TraceError, TraceFormat};
use gc_sim::{replay_trace, HeapConfig, Replay};
use serde_json::{Map, Value};

const DOC: &str = include_str!("../../docs/trace-format.md");
const SCHEMA: &str = include_str!("../../docs/trace-format.schema.json");

const HEADER: &str = r#"{"format": "gc-sim-trace", "version": 1, "name": "errors"}"#;
const ALLOC_1: &str = r#"{"op": "alloc", "id": 1, "size": 16, "slots": 1, "root": "r"}"#;

fn replay(text: &str, name: &str, format: Option<TraceFormat>) -> Result<Replay, TraceError> {
    replay_trace(text.as_bytes(), name, format, |header| Ok(header.heap.clone()))
}

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("docs/trace-format.schema.json is valid JSON")
}

fn object(value: &Value) -> &Map<String, Value> {
    value.as_object().unwrap_or_else(|| panic!("expected an object, found {value}"))
}

fn keys(value: &Value) -> BTreeSet<String> {
    object(value).keys().cloned().collect()
}

/// The definition a `{"$ref": "#/$defs/NAME"}` points to.
fn resolve<'a>(schema: &'a Value, reference: &Value) -> &'a Value {
    let name = reference["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")).expect("a local $ref");
    &schema["$defs"][name]
}

/// Every op of the schema's `event` union, with its definition.
fn event_defs(schema: &Value) -> Vec<(String, &Value)> {
    let branches = schema["$defs"]["event"]["oneOf"].as_array().expect("`event` is a oneOf");
    branches
        .iter()
        .map(|branch| {
            let def = resolve(schema, branch);
            let op = def["properties"]["op"]["const"].as_str().expect("each branch fixes `op` with const");
            (op.to_owned(), def)
        })
        .collect()
}

/// Checks an event against its op's definition the way the schema does: known fields only, required ones present.
fn check_against_schema(schema: &Value, event: &Value) {
    let op = event["op"].as_str().unwrap_or_else(|| panic!("no op in {event}"));
    let defs = event_defs(schema);
    let (_, def) = defs.iter().find(|(name, _)| name == op).unwrap_or_else(|| panic!("op {op} not in the schema"));
    let allowed = keys(&def["properties"]);
    for field in keys(event) {
        assert!(allowed.contains(&field), "{event}: the schema has no field `{field}` for `{op}`");
    }
    for required in def["required"].as_array().unwrap() {
        assert!(event.get(required.as_str().unwrap()).is_some(), "{event}: missing required {required}");
    }
}

/// A one-event trace after a prelude that makes every schema example possible: object 1 (one slot) in the root
/// set `timers`, and an open scope.
fn after_prelude(event: &str) -> String {
    format!("{HEADER}\n{}\n{{\"op\": \"enter\"}}\n{event}\n", ALLOC_1.replace("\"r\"", "\"timers\""))
}

#[test]
fn the_schema_lists_exactly_the_ops_the_reader_accepts() {
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let in_schema: BTreeSet<String> = event_defs(&schema).into_iter().map(|(op, _)| op).collect();

    let e = replay(&format!("{HEADER}\n{{\"op\": \"no-such-op\"}}\n"), "t.ndjson", None).err().expect("unknown op");
    assert_eq!(e.kind(), ProblemKind::UnknownOp, "{e}");
    let message = e.to_string();
    let list = message.split("(the ops: ").nth(1).unwrap_or_else(|| panic!("no op list in: {message}"));
    let in_reader: BTreeSet<String> = list.trim_end_matches(')').split(", ").map(str::to_owned).collect();
    assert_eq!(in_schema, in_reader);
    assert_eq!(in_reader.len(), 9);

    for (op, _) in event_defs(&schema) {
        let trace = after_prelude(&format!("{{\"op\": \"{op}\"}}"));
        let e = replay(&trace, "t.ndjson", None).err();
        // An op with required fields fails for lack of them, never because the op is unknown.
        assert!(e.as_ref().is_none_or(|e| e.kind() == ProblemKind::Field), "{op}: {e:?}");
    }
}

#[test]
fn every_schema_example_replays_and_the_fields_match_the_reader() {
    let schema = schema();
    let defs = event_defs(&schema);
    for (op, def) in &defs {
        let properties = keys(&def["properties"]);
        let required: BTreeSet<String> =
            def["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
        assert_eq!(def["additionalProperties"], false, "{op}");
        let examples = def["examples"].as_array().unwrap_or_else(|| panic!("{op} has no examples"));
        assert_eq!(keys(&examples[0]), required, "{op}: the first example has exactly the required fields");
        let mut covered = BTreeSet::new();
        for example in examples {
            check_against_schema(&schema, example);
            covered.extend(keys(example));
            let replay = replay(&after_prelude(&example.to_string()), "t.ndjson", None)
                .unwrap_or_else(|e| panic!("schema example {example} is refused: {e}"));
            assert_eq!(replay.events(), 3);
        }
        assert_eq!(covered, properties, "{op}: the examples use every field of the schema");

        // Without a required field, the reader refuses the event.
        for field in required.iter().filter(|f| *f != "op") {
            let mut event = examples[0].clone();
            event.as_object_mut().unwrap().remove(field);
            let e = replay(&after_prelude(&event.to_string()), "t.ndjson", None).err().expect("refused");
            assert_eq!(e.kind(), ProblemKind::Field, "{e}");
            assert!(e.to_string().contains(&format!("needs the field `{field}`")), "{e}");
        }
        // A field of another op is refused.
        for (other, other_def) in &defs {
            for (field, value) in other_def["examples"].as_array().unwrap().iter().flat_map(|e| object(e).iter()) {
                if properties.contains(field) {
                    continue;
                }
                let mut event = examples[0].clone();
                event.as_object_mut().unwrap().insert(field.clone(), value.clone());
                let e = replay(&after_prelude(&event.to_string()), "t.ndjson", None)
                    .err()
                    .unwrap_or_else(|| panic!("`{op}` accepted `{field}` of `{other}`"));
                assert!(e.to_string().contains(&format!("`{op}` has no field `{field}`")), "{e}");
            }
        }
    }
}

#[test]
fn the_schema_header_and_heap_match_heap_config() {
    let schema = schema();
    let header = &schema["$defs"]["header"];
    assert_eq!(
        keys(&header["properties"]),
        BTreeSet::from(["format", "version", "name", "heap", "initial_heap", "initial_snapshot"].map(String::from))
    );
    let mut document = keys(&header["properties"]);
    document.insert("events".to_owned());
    assert_eq!(keys(&schema["properties"]), document);

    // Every HeapConfig field, with its default, and nothing else; `page` and `pause` through their $refs.
    let defaults = serde_json::to_value(HeapConfig::default()).unwrap();
    let heap = &schema["$defs"]["heap"];
    assert_eq!(keys(&heap["properties"]), keys(&defaults));
    let mut from_schema = Map::new();
    for (field, default) in object(&defaults) {
        let property = &heap["properties"][field];
        if default.is_object() {
            let def = resolve(&schema, property);
            assert_eq!(keys(&def["properties"]), keys(default), "{field}");
            let mut nested = Map::new();
            for (inner, value) in object(default) {
                assert_eq!(&def["properties"][inner]["default"], value, "default of {field}.{inner}");
                assert!(DOC.contains(&format!("`{field}.{inner}`")), "docs/trace-format.md lacks `{field}.{inner}`");
                nested.insert(inner.clone(), def["properties"][inner]["default"].clone());
            }
            from_schema.insert(field.clone(), Value::Object(nested));
        } else {
            assert_eq!(&property["default"], default, "default of {field}");
            assert!(DOC.contains(&format!("`{field}`")), "docs/trace-format.md lacks `{field}`");
            from_schema.insert(field.clone(), property["default"].clone());
        }
    }
    // A header spelling out the schema's defaults gives the default heap.
    let header = serde_json::json!({"format": "gc-sim-trace", "version": 1, "heap": from_schema});
    let replay = replay(&format!("{header}\n"), "t.ndjson", None).unwrap();
    assert_eq!(replay.heap().config(), &HeapConfig::default());
}

/// The fenced code blocks of a Markdown text: (info string, content).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(tag)) => current = Some((tag.trim().to_owned(), String::new())),
            (Some(_), Some("")) => blocks.push(current.take().unwrap()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(current.is_none(), "unclosed code block");
    blocks
}

fn the_block(tag: &str) -> String {
    let blocks: Vec<String> = fenced_blocks(DOC).into_iter().filter(|(t, _)| t == tag).map(|(_, text)| text).collect();
    assert_eq!(blocks.len(), 1, "docs/trace-format.md must have exactly one ```{tag} block (the example)");
    blocks.into_iter().next().unwrap()
}

#[test]
fn the_examples_in_the_doc_are_one_trace_in_both_forms() {
    let json = the_block("json");
    let ndjson = the_block("ndjson");

    // The same header and events.
    let document: Value = serde_json::from_str(&json).expect("the JSON example is one JSON document");
    let lines: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    let mut header = document.clone();
    let events = header.as_object_mut().unwrap().remove("events").unwrap();
    assert_eq!(lines[0], header);
    assert_eq!(&lines[1..], events.as_array().unwrap().as_slice());
    let schema = schema();
    for event in &lines[1..] {
        check_against_schema(&schema, event);
    }

    // The same report, whichever way the form is chosen.
    let report = |text: &str, name: &str, format| {
        let replay = replay(text, name, format).unwrap_or_else(|e| panic!("the doc's example fails: {e}"));
        gc_sim::Report::new(&replay, None)
    };
    let from_json = report(&json, "example.json", Some(TraceFormat::Json));
    let from_ndjson = report(&ndjson, "example.ndjson", Some(TraceFormat::Ndjson));
    let reference = serde_json::to_string(&from_json).unwrap();
    assert_eq!(serde_json::to_string(&from_ndjson).unwrap(), reference);
    assert_eq!(serde_json::to_string(&report(&json, "-", None)).unwrap(), reference, "detected as JSON");
    assert_eq!(serde_json::to_string(&report(&ndjson, "-", None)).unwrap(), reference, "detected as NDJSON");

    // The figures the doc states.
    let summary = &from_json.summary;
    assert_eq!((summary.scavenges, summary.mark_compacts), (1, 1));
    assert_eq!((from_json.events[0].copied_bytes, from_json.events[0].died_bytes), (2168, 304));
    assert_eq!(from_json.events[1].died_bytes, 2168);
    assert_eq!((summary.live_objects, summary.live_bytes), (1, 4096));
    assert_eq!(from_json.retainers.len(), 1);
    assert_eq!((from_json.retainers[0].root.as_str(), from_json.retainers[0].retained_bytes), ("globals", 4096));
    assert_eq!(from_json.marks.len(), 2);
}

/// The rows of the Markdown table whose header row is `header`: (input, expected error), code spans unwrapped.
fn table(header: &str) -> Vec<(String, String)> {
    let mut lines = DOC.lines().skip_while(|line| *line != header);
    assert!(lines.next().is_some(), "docs/trace-format.md has no table headed {header}");
    assert!(lines.next().is_some_and(|l| l.starts_with("|---")), "{header}: no separator row");
    let code = |cell: &str| -> String {
        let cell = cell.trim();
        let inner = cell.strip_prefix("`` ").and_then(|c| c.strip_suffix(" ``"));
        let inner = inner.or_else(|| cell.strip_prefix('`').and_then(|c| c.strip_suffix('`')));
        inner.unwrap_or_else(|| panic!("{header}: not a code span: {cell}")).to_owned()
    };
    let rows: Vec<(String, String)> = lines
        .take_while(|line| line.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
            assert_eq!(cells.len(), 2, "{row}");
            (code(cells[0]), code(cells[1]))
        })
        .collect();
    assert!(!rows.is_empty(), "{header}: no rows");
    rows
}

fn error(text: &str, name: &str) -> String {
    match replay(text, name, TraceFormat::from_path(std::path::Path::new(name))) {
        Ok(_) => panic!("{name} replays without error:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_error_messages_in_the_doc_are_the_readers() {
    let ndjson_prelude = format!("```text\n{HEADER}\n{ALLOC_1}\n```");
    assert!(DOC.contains(&ndjson_prelude), "the doc shows the NDJSON prelude:\n{ndjson_prelude}");
    for (line, expected) in table("| line 3 of `trace.ndjson` | error |") {
        assert_eq!(error(&format!("{HEADER}\n{ALLOC_1}\n{line}\n"), "trace.ndjson"), expected);
    }
    for (line, expected) in table("| line 1 of `trace.ndjson` | error |") {
        assert_eq!(error(&format!("{line}\n"), "trace.ndjson"), expected);
    }
    let json_template = format!("{}, \"events\": [\n  {ALLOC_1},\n  EVENTS\n]}}\n", &HEADER[..HEADER.len() - 1]);
    assert!(DOC.contains(&format!("```text\n{json_template}```")), "the doc shows the JSON template:\n{json_template}");
    for (events, expected) in table("| `EVENTS` in `trace.json` | error |") {
        assert_eq!(error(&json_template.replace("EVENTS", &events), "trace.json"), expected);
    }

    // The messages quoted in the prose (which may wrap across lines).
    let prose = DOC.split_whitespace().collect::<Vec<_>>().join(" ");
    let freed = json_template.replace(
        "EVENTS",
        r#"{"op": "alloc", "id": 2, "size": 16}, {"op": "gc", "kind": "minor"}, {"op": "root", "id": 2, "root": "r"}"#,
    );
    let freed = replay(&freed, "trace.json", None).err().expect("a freed object");
    assert_eq!(freed.kind(), ProblemKind::FreedObject);
    assert!(DOC.contains(&format!("```text\n{}\n```", freed.problem.message)), "{}", freed.problem.message);
    let ndjson_named_json = format!("{HEADER}\n{ALLOC_1}\n");
    let quoted = [
        error(&ndjson_named_json, "trace.json"),
        error(r#"{"format": "gc-sim-trace", "events": [], "version": 1}"#, "trace.json"),
        error(r#"{"format": "gc-sim-trace", "version": 1, "hepa": {}, "events": []}"#, "trace.json"),
    ];
    for message in quoted {
        assert!(prose.contains(&message), "docs/trace-format.md does not quote: {message}");
    }
}
