//! Heap configuration from the command line: Node's flags (in MiB, as Node takes them) and exact overrides of any
//! [`HeapConfig`] field.

use clap::Args;
use gc_sim::{HeapConfig, MIB};
use serde::Deserialize;
use serde_json::Value;

/// Heap options of `gc-sim run`. They override the trace header's `heap`; `--heap` is applied last.
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "Heap (Node's flags; they override the trace's `heap`)")]
pub struct HeapFlags {
    /// Maximum semi-space size in MiB, as Node's flag.
    #[arg(long, value_name = "MB", alias = "max_semi_space_size")]
    pub(crate) max_semi_space_size: Option<u64>,
    /// Initial semi-space size in MiB, as Node's flag.
    #[arg(long, value_name = "MB", alias = "min_semi_space_size")]
    pub(crate) min_semi_space_size: Option<u64>,
    /// Maximum old-generation size in MiB, as Node's flag.
    #[arg(long, value_name = "MB", alias = "max_old_space_size")]
    pub(crate) max_old_space_size: Option<u64>,
    /// Factor by which the semi-space grows, as Node's flag.
    #[arg(long, value_name = "N", alias = "semi_space_growth_factor")]
    pub(crate) semi_space_growth_factor: Option<u32>,
    /// Set any heap configuration field exactly (bytes for sizes); nested fields with dots, e.g.
    /// `--heap max_old_generation_size=33554432 --heap page.page_size=4096`. Repeatable; applied last.
    #[arg(long = "heap", value_name = "FIELD=VALUE")]
    pub(crate) exact: Vec<String>,
}

impl HeapFlags {
    /// Checks the flags on their own, before the trace is read: values that no heap configuration accepts. The
    /// message names the flag.
    pub fn check(&self) -> Result<(), String> {
        let at_least = |flag: &str, value: Option<u64>, least: u64, unit: &str| match value {
            Some(v) if v < least => Err(format!("--{flag} {v}: must be at least {least}{unit}")),
            _ => Ok(()),
        };
        at_least("max-semi-space-size", self.max_semi_space_size, 1, " (MiB)")?;
        at_least("min-semi-space-size", self.min_semi_space_size, 1, " (MiB)")?;
        at_least("max-old-space-size", self.max_old_space_size, 1, " (MiB)")?;
        at_least("semi-space-growth-factor", self.semi_space_growth_factor.map(u64::from), 2, ", as in V8")?;
        if let (Some(min), Some(max)) = (self.min_semi_space_size, self.max_semi_space_size) {
            if min > max {
                return Err(format!("--min-semi-space-size {min} exceeds --max-semi-space-size {max}"));
            }
        }
        // Overflow, unknown fields and mistyped values, whatever the trace's configuration.
        self.apply(&mut HeapConfig::default())
    }

    /// Applies the flags to the trace's own configuration and checks the result. A configuration that was valid
    /// before the flags and is not after is the flags' fault: the message names them and says that the rest of the
    /// configuration is the trace's. (A configuration the trace's header made invalid is left for [`Heap::new`] to
    /// report as the trace's fault.)
    ///
    /// [`Heap::new`]: gc_sim::Heap::new
    pub fn apply_to_trace(&self, config: &mut HeapConfig) -> Result<(), String> {
        let trace_was_valid = config.validate().is_ok();
        self.apply(config)?;
        match config.validate() {
            Err(e) if trace_was_valid => {
                let culprits = self.flags_setting(e.field);
                let flags = if culprits.is_empty() { self.flags_setting("") } else { culprits };
                Err(format!(
                    "{} conflicts with the trace's heap configuration (its header's `heap`, or the defaults): {} {}",
                    flags.join(", "),
                    e.field,
                    e.problem
                ))
            }
            _ => Ok(()),
        }
    }

    /// The flags, as given, that set the configuration field `field` (every flag for `""`).
    fn flags_setting(&self, field: &str) -> Vec<String> {
        let mut flags = Vec::new();
        let mut node = |flag: &str, sets: &str, value: Option<u64>| {
            if let Some(v) = value {
                if field.is_empty() || field == sets {
                    flags.push(format!("--{flag} {v}"));
                }
            }
        };
        node("max-semi-space-size", "max_semi_space_size", self.max_semi_space_size);
        node("min-semi-space-size", "min_semi_space_size", self.min_semi_space_size);
        node("max-old-space-size", "max_old_generation_size", self.max_old_space_size);
        node("semi-space-growth-factor", "semi_space_growth_factor", self.semi_space_growth_factor.map(u64::from));
        for assignment in &self.exact {
            let path = assignment.split_once('=').map_or(assignment.as_str(), |(path, _)| path);
            let top = path.split('.').next().unwrap_or(path);
            if field.is_empty() || top == field || derived_fields(path).contains(&field) {
                flags.push(format!("--heap {assignment}"));
            }
        }
        flags
    }

    /// Applies the flags to `config` (the trace's own configuration) without checking the result.
    fn apply(&self, config: &mut HeapConfig) -> Result<(), String> {
        let mib =
            |flag: &str, value: u64| value.checked_mul(MIB).ok_or_else(|| format!("--{flag} {value} is too large"));
        if let Some(mb) = self.max_semi_space_size {
            config.max_semi_space_size = mib("max-semi-space-size", mb)?;
            // Node lowers the initial size along with a smaller maximum.
            config.min_semi_space_size = config.min_semi_space_size.min(config.max_semi_space_size);
        }
        if let Some(mb) = self.min_semi_space_size {
            config.min_semi_space_size = mib("min-semi-space-size", mb)?;
        }
        if let Some(mb) = self.max_old_space_size {
            config.max_old_generation_size = mib("max-old-space-size", mb)?;
        }
        if let Some(factor) = self.semi_space_growth_factor {
            config.semi_space_growth_factor = factor;
        }
        if !self.exact.is_empty() {
            *config = apply_exact(config, &self.exact)?;
        }
        Ok(())
    }
}

/// The top-level configuration fields that setting `path` may also set.
fn derived_fields(path: &str) -> &'static [&'static str] {
    if path == "page.page_size" {
        &["page", "large_object_threshold", "lab_size", "max_lab_object_size"]
    } else {
        &[]
    }
}

/// V8's page geometry scaled to a page of `page_size` bytes: the header (4,424 of 262,144 B, rounded up to 8
/// bytes), the area after it, large objects above half a page, LABs of an eighth of a page and LAB objects up to a
/// 32nd. A 256 KiB page gives exactly V8's values.
fn scaled_to_page(page_size: u64) -> [(&'static str, u64); 5] {
    let v8 = HeapConfig::default();
    let v8_page = u64::from(v8.page.page_size);
    let area_start = (page_size * u64::from(v8.page.area_start)).div_ceil(v8_page).next_multiple_of(8);
    let area_start = area_start.min(page_size);
    let scaled = |v8_value: u32| (page_size * u64::from(v8_value) / v8_page).max(8);
    [
        ("page.area_start", area_start),
        ("page.area_size", page_size - area_start),
        ("large_object_threshold", scaled(v8.large_object_threshold)),
        ("lab_size", scaled(v8.lab_size)),
        ("max_lab_object_size", scaled(v8.max_lab_object_size)),
    ]
}

/// Sets `FIELD=VALUE` assignments on the serialized configuration and reads it back, so that every field and its
/// type checks come from the configuration's own serde definition. `page.page_size` also sets the page geometry's
/// other fields and the sizes that must fit in a page ([`scaled_to_page`]), unless they are assigned too.
fn apply_exact(config: &HeapConfig, assignments: &[String]) -> Result<HeapConfig, String> {
    let mut value = serde_json::to_value(config).map_err(|e| e.to_string())?;
    let mut assigned = Vec::new();
    for assignment in assignments {
        let (path, raw) =
            assignment.split_once('=').ok_or_else(|| format!("--heap {assignment}: expected FIELD=VALUE"))?;
        *field_mut(&mut value, path).map_err(|e| format!("--heap {assignment}: {e}"))? =
            serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        // A value of the wrong type is named with its assignment.
        HeapConfig::deserialize(&value).map_err(|e| format!("--heap {assignment}: {e}"))?;
        assigned.push(path);
    }
    if assigned.contains(&"page.page_size") {
        if let Some(page_size) = value["page"]["page_size"].as_u64().filter(|&size| size > 0) {
            for (path, derived) in scaled_to_page(page_size) {
                if !assigned.contains(&path) {
                    *field_mut(&mut value, path).expect("a configuration field") = Value::from(derived);
                }
            }
        }
    }
    serde_json::from_value(value).map_err(|e| format!("--heap: {e}"))
}

/// The field at the dotted `path` of a serialized configuration.
fn field_mut<'v>(value: &'v mut Value, path: &str) -> Result<&'v mut Value, String> {
    let mut slot = value;
    for (depth, field) in path.split('.').enumerate() {
        let fields: Vec<String> = slot.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        slot = match slot.as_object_mut().and_then(|o| o.get_mut(field)) {
            Some(next) => next,
            None => {
                let parent = path.split('.').take(depth).collect::<Vec<_>>().join(".");
                let within = if parent.is_empty() { String::new() } else { format!(" in `{parent}`") };
                return Err(format!("no field `{field}`{within} (fields: {})", fields.join(", ")));
            }
        };
    }
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_flags_take_mib() {
        let flags = HeapFlags { max_old_space_size: Some(32), max_semi_space_size: Some(4), ..HeapFlags::default() };
        let mut config = HeapConfig::default();
        flags.apply(&mut config).unwrap();
        assert_eq!(config.max_old_generation_size, 32 * MIB);
        assert_eq!(config.max_semi_space_size, 4 * MIB);
        assert_eq!(config.min_semi_space_size, MIB);
    }

    #[test]
    fn exact_fields_nest_and_are_checked() {
        let set = |a: &[&str]| {
            let flags = HeapFlags { exact: a.iter().map(|s| s.to_string()).collect(), ..HeapFlags::default() };
            let mut config = HeapConfig::default();
            flags.apply(&mut config).map(|()| config)
        };
        let config = set(&["page.page_size=4096", "promotion_age=0", "initial_old_generation_limit=1048576"]).unwrap();
        assert_eq!(config.page.page_size, 4096);
        assert_eq!(config.promotion_age, 0);
        assert_eq!(config.initial_old_generation_limit, Some(MIB));
        assert!(set(&["max_old=1"]).unwrap_err().contains("no field `max_old` (fields: "));
        assert!(set(&["page.size=1"]).unwrap_err().contains("no field `size` in `page`"));
        assert!(set(&["promotion_age=many"]).unwrap_err().starts_with("--heap promotion_age=many: invalid type"));
        assert!(set(&["lab_size=1024", "promotion_age=-1"]).unwrap_err().starts_with("--heap promotion_age=-1: "));
        assert!(set(&["promotion_age"]).unwrap_err().contains("expected FIELD=VALUE"));
    }

    #[test]
    fn a_page_size_alone_derives_the_page_geometry() {
        let flags = HeapFlags { exact: vec!["page.page_size=4096".into()], ..HeapFlags::default() };
        let mut config = HeapConfig::default();
        flags.apply_to_trace(&mut config).unwrap();
        assert_eq!((config.page.page_size, config.page.area_start, config.page.area_size), (4096, 72, 4024));
        assert_eq!((config.large_object_threshold, config.lab_size, config.max_lab_object_size), (2048, 512, 128));
        // V8's own page gives V8's own values; a field given too is kept.
        for (path, value) in scaled_to_page(256 * 1024) {
            let v8 = serde_json::to_value(HeapConfig::default()).unwrap();
            let top = path.split('.').fold(&v8, |v, f| &v[f]);
            assert_eq!(top.as_u64(), Some(value), "{path}");
        }
        let flags =
            HeapFlags { exact: vec!["page.page_size=8192".into(), "lab_size=2048".into()], ..HeapFlags::default() };
        let mut config = HeapConfig::default();
        flags.apply_to_trace(&mut config).unwrap();
        assert_eq!((config.page.area_size, config.lab_size), (8192 - 144, 2048));
    }

    #[test]
    fn flag_mistakes_name_the_flag() {
        let check = |flags: HeapFlags| flags.check().unwrap_err();
        assert_eq!(
            check(HeapFlags { max_semi_space_size: Some(0), ..HeapFlags::default() }),
            "--max-semi-space-size 0: must be at least 1 (MiB)"
        );
        assert_eq!(
            check(HeapFlags { semi_space_growth_factor: Some(0), ..HeapFlags::default() }),
            "--semi-space-growth-factor 0: must be at least 2, as in V8"
        );
        assert_eq!(
            check(HeapFlags { min_semi_space_size: Some(8), max_semi_space_size: Some(4), ..HeapFlags::default() }),
            "--min-semi-space-size 8 exceeds --max-semi-space-size 4"
        );
        // Valid alone, but not with the trace's maximum of 4 MiB.
        let flags = HeapFlags { min_semi_space_size: Some(8), ..HeapFlags::default() };
        flags.check().unwrap();
        let mut trace = HeapConfig { max_semi_space_size: 4 * MIB, ..HeapConfig::default() };
        assert_eq!(
            flags.apply_to_trace(&mut trace).unwrap_err(),
            "--min-semi-space-size 8 conflicts with the trace's heap configuration (its header's `heap`, or the \
             defaults): min_semi_space_size 8388608 exceeds max_semi_space_size 4194304"
        );
    }
}
