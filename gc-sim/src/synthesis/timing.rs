//! The time of a synthesized trace: how long each step between snapshots took and how fast the program grows. A
//! heap snapshot holds no time; it comes from the user (`--interval`, `--rate`) or from the snapshots' file names
//! when Node named them (`Heap.20261204.222946.23455.0.001.heapsnapshot`: `--heapsnapshot-signal`,
//! `v8.writeHeapSnapshot()`'s default name, `--heapsnapshot-near-heap-limit`).

use std::path::Path;

use super::synthesizer::Synthesis;

/// The time of the events.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Time of each step, ms; `None` when nothing gives it.
    pub step_ms: Option<Vec<f64>>,
    /// Units of growth per ms; `None` when nothing gives it (or nothing grows).
    pub units_per_ms: Option<f64>,
    /// Where the time comes from, in words.
    pub source: String,
}

/// `16 s`, `1.5 s`, `2.0 min`.
pub fn seconds(ms: f64) -> String {
    if ms >= 120_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else {
        format!("{} s", (ms / 100.0).round() / 10.0)
    }
}

/// The seconds since the epoch (UTC) in a file name Node gave a snapshot,
/// `Heap.YYYYMMDD.HHMMSS.PID.TID.SEQ.heapsnapshot` (any folder, any further extension).
pub fn time_from_file_name(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let mut parts = name.split('.');
    if parts.next()? != "Heap" {
        return None;
    }
    let (date, time) = (parts.next()?, parts.next()?);
    if date.len() != 8 || time.len() != 6 || !date.bytes().chain(time.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = (n(&date[..4])?, n(&date[4..6])?, n(&date[6..])?);
    let (hh, mm, ss) = (n(&time[..2])?, n(&time[2..4])?, n(&time[4..])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's `days_from_civil`).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

impl Timing {
    /// The time of `synthesis`'s events: each step lasts `interval_ms` if given, else the time between the
    /// snapshots' file names (`paths`); the growth runs at `rate_per_ms` units per ms if given, else at the last
    /// step's units over its time; a step whose time is still unknown lasts as long as its units take at that rate.
    pub fn new(synthesis: &Synthesis, paths: &[&Path], interval_ms: Option<f64>, rate_per_ms: Option<f64>) -> Timing {
        let steps = synthesis.steps.len();
        let from_names: Option<Vec<f64>> = paths
            .windows(2)
            .map(|pair| {
                let (a, b) = (time_from_file_name(pair[0])?, time_from_file_name(pair[1])?);
                (b > a).then(|| (b - a) as f64 * 1000.0)
            })
            .collect::<Option<Vec<f64>>>()
            .filter(|v| v.len() == steps);
        let (mut step_ms, mut source) = match (interval_ms, from_names) {
            (Some(ms), _) => (Some(vec![ms; steps]), format!("{} between the snapshots (--interval)", seconds(ms))),
            (None, Some(v)) => {
                let text = v.iter().map(|&ms| seconds(ms)).collect::<Vec<_>>().join(", ");
                (Some(v), format!("{text} between the snapshots (from their file names)"))
            }
            (None, None) => (None, String::new()),
        };
        let last_units = synthesis.growth.unit.as_ref().map(|u| u.count as f64);
        let units_per_ms = match (rate_per_ms, &step_ms, last_units) {
            (Some(rate), _, _) => {
                if !source.is_empty() {
                    source.push_str("; ");
                }
                source.push_str(&format!("{} units/s (--rate)", rate * 1000.0));
                Some(rate)
            }
            (None, Some(v), Some(units)) => {
                let rate = units / v[v.len() - 1];
                source.push_str(&format!(" = {:.2} units/s", rate * 1000.0));
                Some(rate)
            }
            _ => None,
        };
        if step_ms.is_none() {
            match units_per_ms {
                Some(rate) => {
                    step_ms = Some((0..steps).map(|i| synthesis.step_units(i).max(1.0) / rate).collect());
                    source.push_str(", each step as long as its units take");
                }
                None => source = "unknown (give --interval or --rate)".to_owned(),
            }
        }
        Timing { step_ms, units_per_ms, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_snapshot_names_give_their_time() {
        let a = time_from_file_name(Path::new("x/Heap.20261204.222946.23455.0.001.heapsnapshot")).unwrap();
        let b = time_from_file_name(Path::new("Heap.20261204.223002.23455.0.002.heapsnapshot.gz")).unwrap();
        assert_eq!(b - a, 16);
        // 2026-12-04 22:29:46 UTC.
        assert_eq!(a, 1_796_423_386);
        assert_eq!(time_from_file_name(Path::new("ticker-leaky-000.heapsnapshot.gz")), None);
        assert_eq!(time_from_file_name(Path::new("Heap.20261304.222946.1.0.001.heapsnapshot")), None);
    }
}
