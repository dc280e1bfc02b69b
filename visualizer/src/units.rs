//! Human units for the charts: bytes in B, KiB, MiB or GiB and time in ms or s, chosen by the range shown, and
//! the one-line summary of a heap configuration used in titles.
//!
//! ```
//! use visualizer::units::{format_bytes, ByteUnit, TimeUnit};
//!
//! assert_eq!(ByteUnit::for_max(3.5 * 1024.0 * 1024.0), ByteUnit::MiB);
//! assert_eq!(TimeUnit::for_max(12_000.0), TimeUnit::S);
//! assert_eq!(format_bytes(1536), "1.5 KiB");
//! ```

use gc_sim::HeapConfig;

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A unit for an axis of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteUnit {
    /// Bytes.
    B,
    /// 1024 bytes.
    KiB,
    /// 2^20 bytes.
    MiB,
    /// 2^30 bytes.
    GiB,
}

impl ByteUnit {
    /// The unit for an axis from 0 to `max_bytes`: the largest unit in which the maximum is at least 1.
    pub fn for_max(max_bytes: f64) -> ByteUnit {
        match max_bytes {
            m if m >= GIB => ByteUnit::GiB,
            m if m >= MIB => ByteUnit::MiB,
            m if m >= KIB => ByteUnit::KiB,
            _ => ByteUnit::B,
        }
    }

    /// Bytes in one unit.
    pub fn bytes(self) -> f64 {
        match self {
            ByteUnit::B => 1.0,
            ByteUnit::KiB => KIB,
            ByteUnit::MiB => MIB,
            ByteUnit::GiB => GIB,
        }
    }

    /// The unit's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            ByteUnit::B => "B",
            ByteUnit::KiB => "KiB",
            ByteUnit::MiB => "MiB",
            ByteUnit::GiB => "GiB",
        }
    }
}

/// A unit for an axis of simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
}

impl TimeUnit {
    /// The unit for an axis from 0 to `max_ms`: seconds from 5 s on, milliseconds below.
    pub fn for_max(max_ms: f64) -> TimeUnit {
        if max_ms >= 5_000.0 {
            TimeUnit::S
        } else {
            TimeUnit::Ms
        }
    }

    /// Milliseconds in one unit.
    pub fn ms(self) -> f64 {
        match self {
            TimeUnit::Ms => 1.0,
            TimeUnit::S => 1000.0,
        }
    }

    /// The unit's symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Ms => "ms",
            TimeUnit::S => "s",
        }
    }
}

/// `value` with at most `decimals` decimals and no trailing zeros: `1.50` is `"1.5"`, `2.00` is `"2"`.
pub fn format_number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// A value with about three significant digits (at most two decimals), for legends: `0.42`, `3.14`, `27.2`,
/// `1234`.
fn significant(value: f64) -> String {
    let decimals = match value.abs() {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format_number(value, decimals)
}

/// A byte count in the largest binary unit that keeps it at least 1, with up to two decimals: `812 B`,
/// `1.5 KiB`, `4096 KiB` is `4 MiB`, `3.25 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    let unit = ByteUnit::for_max(bytes as f64);
    format!("{} {}", significant(bytes as f64 / unit.bytes()), unit.symbol())
}

/// A size as Node's flags give it: in MiB from 1 MiB on (never GiB, so that `--max-old-space-size=4096` reads
/// `4096 MiB`), KiB or B below.
pub fn format_size_flag(bytes: u64) -> String {
    let unit = ByteUnit::for_max(bytes as f64).min_mib();
    format!("{} {}", significant(bytes as f64 / unit.bytes()), unit.symbol())
}

impl ByteUnit {
    fn min_mib(self) -> ByteUnit {
        if self == ByteUnit::GiB {
            ByteUnit::MiB
        } else {
            self
        }
    }
}

/// A duration of simulated time: `0.42 ms`, `27.2 ms`, `1234 ms` below 5 s, then `12.3 s`.
pub fn format_duration(ms: f64) -> String {
    let unit = TimeUnit::for_max(ms);
    format!("{} {}", significant(ms / unit.ms()), unit.symbol())
}

/// An integer with thousands separators: `1234567` is `"1,234,567"`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The heap configuration in one line, for titles: `semi-space 1–16 MiB, old 4096 MiB`.
pub fn heap_config_summary(config: &HeapConfig) -> String {
    let (min, max) = (config.min_semi_space_size, config.max_semi_space_size);
    let semi = if min == max {
        format_size_flag(min)
    } else {
        let (min_text, max_text) = (format_size_flag(min), format_size_flag(max));
        match (min_text.split_once(' '), max_text.split_once(' ')) {
            (Some((a, unit_a)), Some((b, unit_b))) if unit_a == unit_b => format!("{a}–{b} {unit_b}"),
            _ => format!("{min_text}–{max_text}"),
        }
    };
    format!("semi-space {semi}, old {}", format_size_flag(config.max_old_generation_size))
}

/// The heap configuration fields in which several runs differ, and each run's values of them: what names the runs
/// of a sweep, and the series of a comparison whose reports share a name ([`config_differences`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigDifferences {
    /// The fields that differ, as dotted paths of the configuration's JSON form (`max_old_generation_size`,
    /// `page.page_size`), in alphabetical order.
    pub fields: Vec<String>,
    /// For each configuration, its value of each field (in the order of [`fields`](Self::fields)).
    pub values: Vec<Vec<serde_json::Value>>,
    /// For each configuration, those values in a few words, Node's flags in MiB: `old 16 MiB, semi 4 MiB`,
    /// `promotion_age=0`. Empty when nothing differs.
    pub labels: Vec<String>,
}

/// The fields in which `configs` differ (compared as their JSON form, nested fields by dotted path), with each one's
/// values and label. The sizes Node's flags set are named as the flags (`old`, `semi`, `min semi`, `semi growth`),
/// any other field as `path=value`.
///
/// ```
/// use gc_sim::{HeapConfig, MIB};
/// use visualizer::units::config_differences;
///
/// let small = HeapConfig { max_old_generation_size: 16 * MIB, ..HeapConfig::default() };
/// let no_aging = HeapConfig { promotion_age: 0, ..small.clone() };
/// let d = config_differences(&[&HeapConfig::default(), &small, &no_aging]);
/// assert_eq!(d.fields, ["max_old_generation_size", "promotion_age"]);
/// assert_eq!(d.labels, ["old 4096 MiB, promotion_age=1", "old 16 MiB, promotion_age=1", "old 16 MiB, promotion_age=0"]);
/// ```
pub fn config_differences(configs: &[&HeapConfig]) -> ConfigDifferences {
    let flat: Vec<Vec<(String, serde_json::Value)>> = configs
        .iter()
        .map(|config| {
            let mut fields = Vec::new();
            // A configuration is plain data: its JSON form cannot fail; if it ever did, it would differ in nothing.
            if let Ok(value) = serde_json::to_value(config) {
                flatten(String::new(), value, &mut fields);
            }
            fields
        })
        .collect();
    let mut fields: Vec<String> = Vec::new();
    for (path, first) in flat.first().into_iter().flatten() {
        let differs =
            |run: &[(String, serde_json::Value)]| run.iter().find(|(p, _)| p == path).map(|(_, v)| v) != Some(first);
        if flat.iter().any(|run| differs(run)) {
            fields.push(path.clone());
        }
    }
    let values: Vec<Vec<serde_json::Value>> = flat
        .iter()
        .map(|run| {
            fields
                .iter()
                .map(|f| run.iter().find(|(p, _)| p == f).map_or(serde_json::Value::Null, |(_, v)| v.clone()))
                .collect()
        })
        .collect();
    let labels = values
        .iter()
        .map(|run| {
            fields.iter().zip(run).map(|(field, value)| setting_label(field, value)).collect::<Vec<_>>().join(", ")
        })
        .collect();
    ConfigDifferences { fields, values, labels }
}

/// The leaves of a configuration's JSON form, by dotted path, in its (alphabetical) order.
fn flatten(path: String, value: serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let path = if path.is_empty() { key } else { format!("{path}.{key}") };
                flatten(path, value, out);
            }
        }
        leaf => out.push((path, leaf)),
    }
}

/// One field's value in a few words: Node's flags by their names, in MiB; another field as `path=value`.
fn setting_label(field: &str, value: &serde_json::Value) -> String {
    let size = |name: &str| value.as_u64().map(|bytes| format!("{name} {}", format_size_flag(bytes)));
    let named = match field {
        "max_old_generation_size" => size("old"),
        "max_semi_space_size" => size("semi"),
        "min_semi_space_size" => size("min semi"),
        "semi_space_growth_factor" => value.as_u64().map(|n| format!("semi growth {n}")),
        _ => None,
    };
    named.unwrap_or_else(|| match value {
        serde_json::Value::String(text) => format!("{field}={text}"),
        other => format!("{field}={other}"),
    })
}

/// The label of an axis tick: up to three decimals, trailing zeros dropped.
pub(crate) fn tick_label(value: f64) -> String {
    format_number(value, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_range() {
        assert_eq!(ByteUnit::for_max(0.0), ByteUnit::B);
        assert_eq!(ByteUnit::for_max(1023.0), ByteUnit::B);
        assert_eq!(ByteUnit::for_max(1024.0), ByteUnit::KiB);
        assert_eq!(ByteUnit::for_max(900.0 * KIB), ByteUnit::KiB);
        assert_eq!(ByteUnit::for_max(2.0 * GIB), ByteUnit::GiB);
        assert_eq!(TimeUnit::for_max(4_999.0), TimeUnit::Ms);
        assert_eq!(TimeUnit::for_max(60_000.0), TimeUnit::S);
    }

    #[test]
    fn numbers_read_like_a_person_wrote_them() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(812), "812 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(4 << 20), "4 MiB");
        assert_eq!(format_bytes(3 << 30), "3 GiB");
        assert_eq!(format_size_flag(4096 << 20), "4096 MiB");
        assert_eq!(format_duration(0.4234), "0.42 ms");
        assert_eq!(format_duration(27.25), "27.2 ms");
        assert_eq!(format_duration(12_345.0), "12.3 s");
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1_234_567), "1,234,567");
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(tick_label(-0.0001), "0");
        assert_eq!(tick_label(1500.0), "1500");
    }

    #[test]
    fn the_config_summary_names_semi_and_old_sizes() {
        assert_eq!(heap_config_summary(&HeapConfig::default()), "semi-space 1–16 MiB, old 4096 MiB");
        let small = HeapConfig {
            min_semi_space_size: 8192,
            max_semi_space_size: 32768,
            max_old_generation_size: 96 * 1024,
            ..HeapConfig::default()
        };
        assert_eq!(heap_config_summary(&small), "semi-space 8–32 KiB, old 96 KiB");
        let mixed = HeapConfig { min_semi_space_size: 512 * 1024, ..HeapConfig::default() };
        assert_eq!(heap_config_summary(&mixed), "semi-space 512 KiB–16 MiB, old 4096 MiB");
    }
}
