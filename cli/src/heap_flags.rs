//! Heap configuration from the command line: Node's flags (in MiB, as Node takes them) and exact overrides of any
//! [`HeapConfig`] field.

use clap::Args;
use gc_sim::{HeapConfig, MIB};
use serde_json::Value;

/// Heap options of `gc-sim run`. They override the trace header's `heap`; `--heap` is applied last.
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "Heap (Node's flags; they override the trace's `heap`)")]
pub struct HeapFlags {
    /// Maximum semi-space size in MiB, as Node's flag.
    #[arg(long, value_name = "MB", alias = "max_semi_space_size")]
    max_semi_space_size: Option<u64>,
    /// Initial semi-space size in MiB, as Node's flag.
    #[arg(long, value_name = "MB", alias = "min_semi_space_size")]
    min_semi_space_size: Option<u64>,
    /// Maximum old-generation size in MiB, as Node's flag.
    #[arg(long, value_name = "MB", alias = "max_old_space_size")]
    max_old_space_size: Option<u64>,
    /// Factor by which the semi-space grows, as Node's flag.
    #[arg(long, value_name = "N", alias = "semi_space_growth_factor")]
    semi_space_growth_factor: Option<u32>,
    /// Set any heap configuration field exactly (bytes for sizes); nested fields with dots, e.g.
    /// `--heap max_old_generation_size=33554432 --heap page.page_size=4096`. Repeatable; applied last.
    #[arg(long = "heap", value_name = "FIELD=VALUE")]
    exact: Vec<String>,
}

impl HeapFlags {
    /// Applies the flags to `config` (the trace's own configuration).
    pub fn apply(&self, config: &mut HeapConfig) -> Result<(), String> {
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

/// Sets `FIELD=VALUE` assignments on the serialized configuration and reads it back, so that every field and its
/// type checks come from the configuration's own serde definition.
fn apply_exact(config: &HeapConfig, assignments: &[String]) -> Result<HeapConfig, String> {
    let mut value = serde_json::to_value(config).map_err(|e| e.to_string())?;
    for assignment in assignments {
        let (path, raw) =
            assignment.split_once('=').ok_or_else(|| format!("--heap {assignment}: expected FIELD=VALUE"))?;
        let mut slot = &mut value;
        for (depth, field) in path.split('.').enumerate() {
            let fields: Vec<String> = slot.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
            slot = match slot.as_object_mut().and_then(|o| o.get_mut(field)) {
                Some(next) => next,
                None => {
                    let parent = path.split('.').take(depth).collect::<Vec<_>>().join(".");
                    let within = if parent.is_empty() { String::new() } else { format!(" in `{parent}`") };
                    return Err(format!(
                        "--heap {assignment}: no field `{field}`{within} (fields: {})",
                        fields.join(", ")
                    ));
                }
            };
        }
        *slot = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    }
    serde_json::from_value(value).map_err(|e| format!("--heap: {e}"))
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
        assert!(set(&["promotion_age=many"]).unwrap_err().contains("invalid type"));
        assert!(set(&["promotion_age"]).unwrap_err().contains("expected FIELD=VALUE"));
    }
}
