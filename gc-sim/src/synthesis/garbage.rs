//! The garbage between snapshots: what the program allocated and dropped, which no snapshot shows (a snapshot
//! begins with a full GC). A synthesized trace allocates it as objects that die at once: young garbage, and
//! garbage that reaches the old generation (promoted or pretenured by V8, then dropped there), at rates that may
//! grow with the units of growth (the leaked timers of a `setInterval` leak keep running and allocating).
//!
//! The rates are either a documented guess ([`GarbageModel::guess`]) or fitted to a real GC log of the program
//! ([`GarbageModel::fit`]): `--trace-gc` or `--trace-gc-nvp` lines give the heap before and after every
//! collection, so the bytes allocated between two collections are the heap before the second minus the heap after
//! the first, and what a mark-compact frees beyond that allocation was garbage in the old generation.

use super::growth::{Growth, Step};
use crate::gc_log::{LogCollector, LogEvent};

/// Without a GC log: bytes of short-lived objects allocated for every byte the growth keeps (a guess; V8's
/// scavenger typically sees 5 % to 20 % of new space survive, [`GarbageModel::guess`]).
pub const GUESSED_GARBAGE_PER_KEPT_BYTE: f64 = 4.0;

/// The size of each garbage object when the born objects give none.
pub const DEFAULT_GARBAGE_OBJECT_SIZE: u32 = 64;

/// Where a [`GarbageModel`]'s rates come from.
#[derive(Clone, Debug, PartialEq)]
pub enum GarbageSource {
    /// [`GarbageModel::guess`]: no GC log was given.
    Guessed,
    /// Fitted to a GC log's collections.
    Log {
        /// Collections used.
        collections: usize,
        /// The log's time span used, ms since the process started.
        from_ms: f64,
        /// Its end.
        to_ms: f64,
    },
}

/// Garbage rates, bytes per ms of the trace's time: `base + per_unit x units grown so far`, for young garbage and
/// for garbage that dies in the old generation.
#[derive(Clone, Debug, PartialEq)]
pub struct GarbageModel {
    /// Young garbage, bytes/ms, at no units.
    pub young_base: f64,
    /// Young garbage added by each unit grown, bytes/ms.
    pub young_per_unit: f64,
    /// Old-generation garbage, bytes/ms, at no units.
    pub old_base: f64,
    /// Old-generation garbage added by each unit, bytes/ms.
    pub old_per_unit: f64,
    /// Size of each garbage object, bytes.
    pub object_size: u32,
    /// Where the rates come from.
    pub source: GarbageSource,
}

impl GarbageModel {
    /// No garbage.
    pub fn none() -> GarbageModel {
        GarbageModel {
            young_base: 0.0,
            young_per_unit: 0.0,
            old_base: 0.0,
            old_per_unit: 0.0,
            object_size: DEFAULT_GARBAGE_OBJECT_SIZE,
            source: GarbageSource::Guessed,
        }
    }

    /// The guess without a log: [`GUESSED_GARBAGE_PER_KEPT_BYTE`] bytes of young garbage for every byte born and
    /// kept over `interval_ms`, at a constant rate; none in the old generation.
    pub fn guess(kept_bytes: u64, interval_ms: f64, object_size: u32) -> GarbageModel {
        let rate =
            if interval_ms > 0.0 { GUESSED_GARBAGE_PER_KEPT_BYTE * kept_bytes as f64 / interval_ms } else { 0.0 };
        GarbageModel { young_base: rate, object_size, ..GarbageModel::none() }
    }

    /// The rates of the log's `events` (one process, in order), as straight lines over the log's time fitted by
    /// least squares (weighted by each interval's length), turned into rates per unit with `units_per_ms`, the
    /// program's growth rate during the log (the same load as the trace's). `None` when the log has fewer than two
    /// timed collections with sizes.
    pub fn fit(events: &[LogEvent], units_per_ms: f64, object_size: u32) -> Option<GarbageModel> {
        // (start, pause, before, after, is a mark-compact) of each usable collection.
        let gcs: Vec<(f64, f64, f64, f64, bool)> = events
            .iter()
            .filter_map(|e| {
                Some((
                    e.start_ms?,
                    e.pause_ms.unwrap_or(0.0),
                    e.before_bytes? as f64,
                    e.after_bytes? as f64,
                    e.collector == LogCollector::MarkCompact,
                ))
            })
            .collect();
        if gcs.len() < 2 {
            return None;
        }
        // Young: the allocation between consecutive collections. Old: what each mark-compact freed beyond the
        // allocation since the previous collection, over the time since the previous mark-compact.
        let mut young = LineFit::default();
        let mut old = LineFit::default();
        let mut last_mark_compact_end = gcs[0].0 + gcs[0].1;
        for pair in gcs.windows(2) {
            let (previous, gc) = (pair[0], pair[1]);
            let previous_end = previous.0 + previous.1;
            let dt = gc.0 - previous_end;
            if dt <= 0.0 {
                continue;
            }
            let allocated = (gc.2 - previous.3).max(0.0);
            if gc.4 {
                let freed_old = (gc.2 - gc.3 - allocated).max(0.0);
                let since = gc.0 - last_mark_compact_end;
                if since > 0.0 {
                    old.add((gc.0 + last_mark_compact_end) / 2.0, since, freed_old);
                }
                last_mark_compact_end = gc.0 + gc.1;
                young.add((gc.0 + previous_end) / 2.0, dt, (allocated - freed_old.min(allocated)).max(0.0));
            } else {
                young.add((gc.0 + previous_end) / 2.0, dt, allocated);
            }
        }
        let (young_base, young_slope) = young.line()?;
        let (old_base, old_slope) = old.line().unwrap_or((0.0, 0.0));
        let per_unit = |slope: f64| if units_per_ms > 0.0 { (slope / units_per_ms).max(0.0) } else { 0.0 };
        Some(GarbageModel {
            young_base: young_base.max(0.0),
            young_per_unit: per_unit(young_slope),
            old_base: old_base.max(0.0),
            old_per_unit: per_unit(old_slope),
            object_size,
            source: GarbageSource::Log { collections: gcs.len(), from_ms: gcs[0].0, to_ms: gcs[gcs.len() - 1].0 },
        })
    }

    /// The garbage of a synthesis's `steps` and `growth`: fitted to the GC log's `events` when given (`None` if
    /// they cannot be fitted), else the guess over the last step's time (`step_ms`), for the growth's bytes (or,
    /// without growth, the bytes born). Objects of `object_size` bytes, or the mean size of the last step's births
    /// (16 to 1024 B).
    pub fn for_synthesis(
        steps: &[Step],
        growth: &Growth,
        events: Option<&[LogEvent]>,
        step_ms: Option<f64>,
        units_per_ms: Option<f64>,
        object_size: Option<u32>,
    ) -> Option<GarbageModel> {
        let last = steps.last();
        let object_size = object_size.unwrap_or_else(|| {
            last.filter(|s| !s.births.is_empty())
                .map(|s| (s.born_bytes / s.births.len() as u64).clamp(16, 1024) as u32)
                .unwrap_or(DEFAULT_GARBAGE_OBJECT_SIZE)
        });
        match events {
            Some(events) => GarbageModel::fit(events, units_per_ms.unwrap_or(0.0), object_size),
            None => {
                let kept = if growth.bytes > 0 { growth.bytes } else { last.map_or(0, |s| s.born_bytes) };
                Some(GarbageModel::guess(kept, step_ms.unwrap_or(0.0), object_size))
            }
        }
    }

    /// Young garbage, bytes/ms, with `units` grown.
    pub fn young_rate(&self, units: f64) -> f64 {
        self.young_base + self.young_per_unit * units
    }

    /// Old-generation garbage, bytes/ms, with `units` grown.
    pub fn old_rate(&self, units: f64) -> f64 {
        self.old_base + self.old_per_unit * units
    }
}

/// A weighted least-squares line `rate = a + b t` through interval rates (`bytes / dt` at time `t`, weight `dt`).
#[derive(Default)]
struct LineFit {
    w: f64,
    wt: f64,
    wtt: f64,
    wr: f64,
    wtr: f64,
}

impl LineFit {
    fn add(&mut self, t: f64, dt: f64, bytes: f64) {
        let rate = bytes / dt;
        self.w += dt;
        self.wt += dt * t;
        self.wtt += dt * t * t;
        self.wr += dt * rate;
        self.wtr += dt * t * rate;
    }

    /// `(a, b)`, or a flat line through the mean when the times do not spread; `None` without data.
    fn line(&self) -> Option<(f64, f64)> {
        if self.w <= 0.0 {
            return None;
        }
        let (mean_t, mean_r) = (self.wt / self.w, self.wr / self.w);
        let var = self.wtt / self.w - mean_t * mean_t;
        if var <= 1e-9 * mean_t.abs().max(1.0) {
            return Some((mean_r, 0.0));
        }
        let b = (self.wtr / self.w - mean_t * mean_r) / var;
        Some((mean_r - b * mean_t, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_through_rates_is_recovered() {
        let mut fit = LineFit::default();
        // rate = 100 + 2 t, intervals of 10 ms.
        for k in 0..50 {
            let t = 10.0 * k as f64 + 5.0;
            fit.add(t, 10.0, (100.0 + 2.0 * t) * 10.0);
        }
        let (a, b) = fit.line().unwrap();
        assert!((a - 100.0).abs() < 1e-6 && (b - 2.0).abs() < 1e-9, "{a} {b}");
    }

    #[test]
    fn the_guess_is_four_bytes_of_garbage_per_byte_kept() {
        let g = GarbageModel::guess(1000, 10.0, 64);
        assert_eq!(g.young_rate(5.0), 400.0);
        assert_eq!(g.old_rate(5.0), 0.0);
    }
}
