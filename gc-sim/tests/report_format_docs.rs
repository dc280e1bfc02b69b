//! `docs/report-format.md` against the report: every field of the JSON report has a row, every enum value is named,
//! and the excerpt of `examples/traces/leak.json`'s report is what the replay gives.

mod common;

use gc_sim::{Collector, CollectorReason, GcReason, OomLocation, Report};
use serde_json::Value;

const DOC: &str = include_str!("../../docs/report-format.md");

fn report(trace: &str) -> Report {
    Report::new(&common::replay_file(&common::example_path(trace)), None)
}

/// Every member name in `value`, at any depth, except inside `config` (documented with the trace's `heap`).
fn field_names(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (name, inner) in map {
                names.push(name.clone());
                if name != "config" {
                    field_names(inner, names);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| field_names(item, names)),
        _ => {}
    }
}

#[test]
fn every_field_and_enum_value_of_the_report_is_documented() {
    let mut names = Vec::new();
    // The OOM trace fills `summary.oom`; the leak trace has every collector and retainers.
    for trace in ["leak.json", "oom.json"] {
        field_names(&serde_json::to_value(report(trace)).unwrap(), &mut names);
    }
    names.sort();
    names.dedup();
    for name in &names {
        assert!(DOC.contains(&format!("| `{name}` |")), "docs/report-format.md has no row for `{name}`");
    }

    let values = [
        serde_json::to_value([Collector::Scavenge, Collector::MarkCompact]).unwrap(),
        serde_json::to_value([
            GcReason::AllocationFailure,
            GcReason::AllocationLimit,
            GcReason::Testing,
            GcReason::LastResort,
            GcReason::Task,
            GcReason::FinalizeMarkingViaTask,
            GcReason::FinalizeMarkingViaStackGuard,
        ])
        .unwrap(),
        serde_json::to_value([CollectorReason::ScavengeMightNotSucceed, CollectorReason::OldSpaceRequested]).unwrap(),
        serde_json::to_value([
            OomLocation::ReachedHeapLimit,
            OomLocation::IneffectiveMarkCompacts,
            OomLocation::CallAndRetryLast,
        ])
        .unwrap(),
    ];
    for value in values.iter().flat_map(|v| v.as_array().unwrap()) {
        let name = value.as_str().unwrap();
        assert!(DOC.contains(&format!("`{name}`")), "docs/report-format.md does not name the value `{name}`");
    }
}

#[test]
fn the_excerpt_is_the_leak_traces_report() {
    let mut blocks = DOC.split("```json\n").skip(1);
    let excerpt = blocks.next().and_then(|rest| rest.split("```").next()).expect("a ```json block");
    assert!(blocks.next().is_none(), "one ```json block");
    let excerpt: Value = serde_json::from_str(excerpt).expect("the excerpt is JSON");

    let report = report("leak.json");
    assert_eq!(excerpt["summary"], serde_json::to_value(&report.summary).unwrap());
    assert_eq!(excerpt["retainers"], serde_json::to_value(&report.retainers).unwrap());
    assert_eq!(report.timeline.len(), 2 * report.events.len() + 2, "as the timeline section says");
}
