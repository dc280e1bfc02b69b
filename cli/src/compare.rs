//! `gc-sim run TRACE --compare-log LOG`: the simulated run beside a real one read from its Node GC log, as a table
//! of figures with their ratio, and `--max-deviation PCT` to fail (exit 4) when any is further apart.
//! docs/gc-log.md#a-simulation-beside-a-real-run explains every figure.

use std::io::{self, Write};

use gc_sim::gc_log::LogReport;
use gc_sim::Report;

/// One compared figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its name, as printed.
    pub name: &'static str,
    /// The unit it is printed in.
    unit: Unit,
    /// The simulated and the real value; `None` where that run has none (it did not die).
    pub simulated: Option<f64>,
    /// The real value.
    pub real: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Count,
    Bytes,
    Ms,
}

impl Row {
    /// How far apart the two are, in percent of the real value: 0 when both are 0 or both absent, infinite when
    /// only one is there or the real value is 0 and the simulated one not.
    pub fn deviation_pct(&self) -> f64 {
        match (self.simulated, self.real) {
            (None, None) => 0.0,
            (Some(s), Some(r)) if s == r => 0.0,
            (Some(s), Some(r)) if r != 0.0 => 100.0 * (s - r).abs() / r.abs(),
            _ => f64::INFINITY,
        }
    }

    fn value(&self, v: Option<f64>) -> String {
        match v {
            None => "-".to_owned(),
            Some(v) => match self.unit {
                Unit::Count => format!("{v:.0}"),
                Unit::Bytes => format!("{:.1} MiB", v / (1024.0 * 1024.0)),
                Unit::Ms => format!("{v:.1} ms"),
            },
        }
    }

    fn ratio(&self) -> String {
        match (self.simulated, self.real) {
            (Some(s), Some(r)) if r != 0.0 => format!("{:.2}", s / r),
            (Some(0.0), Some(_)) => "1.00".to_owned(),
            (Some(_), None) => "only simulated".to_owned(),
            (None, Some(_)) => "only real".to_owned(),
            _ => "-".to_owned(),
        }
    }
}

/// The figures compared, in the order printed. Promoted bytes only when the log has them (`--trace-gc-nvp`); the
/// time and heap at death only when either run died.
pub fn rows(sim: &Report, log: &LogReport) -> Vec<Row> {
    let (s, l) = (&sim.summary, &log.summary);
    let row = |name, unit, simulated: f64, real: f64| Row { name, unit, simulated: Some(simulated), real: Some(real) };
    let mut rows = vec![
        row("scavenges", Unit::Count, s.scavenges as f64, (l.scavenges + l.minor_mark_sweeps) as f64),
        row("mark-compacts", Unit::Count, s.mark_compacts as f64, l.mark_compacts as f64),
    ];
    if let Some(promoted) = l.promoted_bytes {
        rows.push(row("promoted bytes", Unit::Bytes, s.promoted_bytes as f64, promoted as f64));
    }
    rows.push(row("scavenge pauses", Unit::Ms, s.scavenge_pause_ms, l.scavenge_pause_ms));
    rows.push(row("mark-compact pauses", Unit::Ms, s.mark_compact_pause_ms, l.mark_compact_pause_ms));
    rows.push(row("all pauses", Unit::Ms, s.pause_ms, l.pause_ms));
    rows.push(Row { name: "end time", unit: Unit::Ms, simulated: Some(s.end_ms), real: l.end_ms });
    if s.oom.is_some() || l.oom.is_some() {
        // The heap after the last collection, all spaces: what a log prints at death.
        let sim_heap = s.oom.as_ref().and_then(|_| sim.events.last()).map(|e| e.after.used_bytes() as f64);
        rows.push(Row {
            name: "time at death",
            unit: Unit::Ms,
            simulated: s.oom.as_ref().map(|o| o.at_ms),
            real: l.oom.as_ref().map(|o| o.at_ms.unwrap_or(f64::NAN)),
        });
        rows.push(Row {
            name: "heap at death",
            unit: Unit::Bytes,
            simulated: sim_heap.or(s.oom.as_ref().map(|o| o.old_generation_bytes as f64)),
            real: l.oom.as_ref().map(|o| o.heap_bytes.map_or(f64::NAN, |b| b as f64)),
        });
    }
    rows
}

/// Prints the table: each figure, simulated and real, their ratio (simulated / real) and deviation.
pub fn print(out: &mut impl Write, sim: &Report, log: &LogReport, rows: &[Row]) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "compared with the real run in {}:", log.name)?;
    writeln!(out, "  {:<22}{:>16}{:>16}{:>16}{:>12}", "", "simulated", "real", "sim / real", "deviation")?;
    for r in rows {
        let d = r.deviation_pct();
        let deviation = if d.is_finite() { format!("{d:.1} %") } else { "-".to_owned() };
        writeln!(
            out,
            "  {:<22}{:>16}{:>16}{:>16}{:>12}",
            r.name,
            r.value(r.simulated),
            r.value(r.real),
            r.ratio(),
            deviation
        )?;
    }
    match (sim.summary.oom.is_some(), log.summary.oom.is_some()) {
        (true, false) => writeln!(out, "  note: only the simulated run died"),
        (false, true) => writeln!(out, "  note: only the real run died"),
        _ => Ok(()),
    }
}

/// The figures further apart than `max_pct` percent, as `name (simulated vs real, N %)`.
pub fn deviations(rows: &[Row], max_pct: f64) -> Vec<String> {
    rows.iter()
        .filter(|r| r.deviation_pct() > max_pct || r.deviation_pct().is_nan())
        .map(|r| {
            let d = r.deviation_pct();
            let how = if d.is_finite() { format!("{d:.1} %") } else { r.ratio() };
            format!("{} ({} vs {}, {how})", r.name, r.value(r.simulated), r.value(r.real))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(simulated: Option<f64>, real: Option<f64>) -> Row {
        Row { name: "x", unit: Unit::Count, simulated, real }
    }

    #[test]
    fn deviation_is_relative_to_the_real_run_and_infinite_when_one_side_is_missing() {
        assert_eq!(row(Some(110.0), Some(100.0)).deviation_pct(), 10.0);
        assert_eq!(row(Some(50.0), Some(100.0)).deviation_pct(), 50.0);
        assert_eq!(row(Some(0.0), Some(0.0)).deviation_pct(), 0.0);
        assert_eq!(row(None, None).deviation_pct(), 0.0);
        assert!(row(Some(1.0), Some(0.0)).deviation_pct().is_infinite());
        assert!(row(Some(1.0), None).deviation_pct().is_infinite());
        assert!(row(None, Some(1.0)).deviation_pct().is_infinite());
        let rows = [row(Some(110.0), Some(100.0)), row(Some(1.0), None)];
        assert_eq!(deviations(&rows, 10.0), ["x (1 vs -, only simulated)"]);
        assert_eq!(deviations(&rows, 9.9).len(), 2);
    }
}
