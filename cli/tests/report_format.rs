//! `docs/report-format.schema.json` against the reports the real binary writes, and `gc-sim plot`'s enforcement of
//! the report's `format`, `version` and compatibility rule (docs/report-format.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gc-sim");
const SCHEMA: &str = include_str!("../../docs/report-format.schema.json");
const TRACE_SCHEMA: &str = include_str!("../../docs/trace-format.schema.json");
const DOC: &str = include_str!("../../docs/report-format.md");

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/traces")
}

fn gc_sim(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("docs/report-format.schema.json is JSON")
}

/// The report schema, with the trace schema it refers to for `config`.
fn validator() -> jsonschema::Validator {
    let trace_schema: Value = serde_json::from_str(TRACE_SCHEMA).unwrap();
    let id = trace_schema["$id"].as_str().unwrap().to_owned();
    let registry = jsonschema::Registry::new().add(id, trace_schema).unwrap().prepare().unwrap();
    jsonschema::options().with_registry(&registry).build(&schema()).expect("a valid JSON Schema")
}

fn errors(validator: &jsonschema::Validator, report: &Value) -> Vec<String> {
    validator.iter_errors(report).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// `gc-sim run TRACE --report` with `extra` flags; the report as JSON.
fn report_of(trace: &Path, extra: &[&str], dir: &Path) -> Value {
    let report = dir.join(format!("{}.report.json", trace.file_name().unwrap().to_string_lossy()));
    let mut args = vec!["run", trace.to_str().unwrap(), "-q", "--report", report.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = gc_sim(&args);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{trace:?}: {}", text(&out.stderr));
    serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
}

/// The schema node that `node` stands for: `$ref`s followed, and the non-null branch of a nullable `anyOf`.
fn resolve<'a>(schema: &'a Value, mut node: &'a Value, value: &Value) -> &'a Value {
    loop {
        if let Some(name) = node["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
            node = &schema["$defs"][name];
        } else if let (Some(branches), false) = (node["anyOf"].as_array(), value.is_null()) {
            node = branches.iter().find(|b| b["type"] != "null").expect("a non-null branch");
        } else {
            return node;
        }
    }
}

/// Every member of `value`, at any depth, is listed in the schema (the schema allows unknown members, as readers
/// must, so validation alone would not find a field the schema forgot). `config` is the trace schema's.
fn assert_listed(schema: &Value, node: &Value, value: &Value, at: &str) {
    let node = resolve(schema, node, value);
    match value {
        Value::Object(members) => {
            for (name, inner) in members {
                let property = &node["properties"][name];
                assert!(!property.is_null(), "{at}.{name} is not in docs/report-format.schema.json");
                if name != "config" {
                    assert_listed(schema, property, inner, &format!("{at}.{name}"));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_node = match node["prefixItems"].as_array() {
                    Some(prefix) => &prefix[i],
                    None => &node["items"],
                };
                assert_listed(schema, item_node, item, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

#[test]
fn every_example_traces_report_matches_the_schema() {
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let validator = validator();
    let dir = tempfile::tempdir().unwrap();
    let mut traces: Vec<PathBuf> = std::fs::read_dir(traces_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "ndjson")))
        .collect();
    traces.sort();
    assert!(traces.len() >= 8, "{traces:?}");
    let mut seen_oom = false;
    for trace in &traces {
        // A heap map before the first collection and the answer to --why, so that every part is present.
        let report = report_of(trace, &["--heap-map-at", "before:1", "--why", "1"], dir.path());
        let problems = errors(&validator, &report);
        assert!(problems.is_empty(), "{trace:?}: the report does not match the schema:\n{}", problems.join("\n"));
        assert_listed(&schema, &schema, &report, "report");
        seen_oom |= !report["summary"]["oom"].is_null();
    }
    assert!(seen_oom, "an example dies, so `summary.oom` is checked too");

    // The schema does check: a wrong format, a future version, a missing part, a mistyped field.
    let report = report_of(&traces_dir().join("leak.json"), &[], dir.path());
    type Breaking = fn(&mut Value);
    let broken: [(&str, Breaking); 5] = [
        ("/format", |r| r["format"] = "gc-sim-trace".into()),
        ("/version", |r| r["version"] = 99.into()),
        ("", |r| drop(r.as_object_mut().unwrap().remove("summary"))),
        ("/events/0/collector", |r| r["events"][0]["collector"] = "full".into()),
        ("/config/page/page_size", |r| r["config"]["page"]["page_size"] = "big".into()),
    ];
    for (at, breaking) in broken {
        let mut r = report.clone();
        breaking(&mut r);
        let problems = errors(&validator, &r);
        assert!(problems.iter().any(|p| p.starts_with(&format!("{at}: "))), "{at}: {problems:?}");
    }
}

#[test]
fn the_document_links_the_schema_and_states_the_compatibility_rule() {
    assert!(DOC.contains("(report-format.schema.json)"), "docs/report-format.md links the schema");
    assert!(DOC.contains("**Compatibility rule.**"), "docs/report-format.md has a compatibility rule");
}

/// `gc-sim plot` enforces the rule: exit 1, naming the file and what is wrong; fields it does not know are ignored.
#[test]
fn plot_checks_the_reports_format_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let report = report_of(&traces_dir().join("leak.json"), &[], dir.path());
    let png = dir.path().join("heap.png");
    let plot = |value: &Value, name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
        let out = gc_sim(&["plot", path.to_str().unwrap(), "-o", png.to_str().unwrap()]);
        (out.status.code(), text(&out.stderr), path)
    };
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut r = report.clone();
        f(&mut r);
        r
    };

    let cases: [(&str, Value, &str); 6] = [
        (
            "v99.json",
            edit(&|r| r["version"] = 99.into()),
            "report version 99 is newer than this gc-sim reads (version 1)",
        ),
        ("v0.json", edit(&|r| r["version"] = 0.into()), "report version 0 is not one this gc-sim reads (version 1)"),
        ("vtext.json", edit(&|r| r["version"] = "1".into()), "`version` is \"1\"; expected the integer 1"),
        ("noformat.json", edit(&|r| drop(r.as_object_mut().unwrap().remove("format"))), "no `format` field"),
        (
            "other.json",
            edit(&|r| r["format"] = "speedscope".into()),
            "not a gc-sim report: its `format` is \"speedscope\", not \"gc-sim-report\"",
        ),
        (
            "nosummary.json",
            edit(&|r| drop(r.as_object_mut().unwrap().remove("summary"))),
            "an invalid gc-sim report version 1: missing field `summary`",
        ),
    ];
    for (name, value, message) in cases {
        let (code, stderr, path) = plot(&value, name);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        assert!(stderr.contains(&path.display().to_string()) && stderr.contains(message), "{name}: {stderr}");
        assert!(!png.exists(), "{name}: nothing is drawn");
    }

    // A trace, JSON or NDJSON, is named as one.
    for trace in ["leak.json", "fixed.ndjson"] {
        let path = traces_dir().join(trace);
        let out = gc_sim(&["plot", path.to_str().unwrap(), "-o", png.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("{} is a trace, not a report: replay it first with `gc-sim run", path.display())),
            "{stderr}"
        );
    }

    // Fields this gc-sim does not know (a newer gc-sim's additions of the same version) are ignored.
    let newer = edit(&|r| {
        r["added_later"] = serde_json::json!({"anything": [1, 2]});
        r["summary"]["added_later"] = 1.into();
        r["events"][0]["added_later"] = "x".into();
    });
    assert!(errors(&validator(), &newer).is_empty(), "the schema allows them too");
    let (code, stderr, _) = plot(&newer, "newer.json");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(png.exists());
}
