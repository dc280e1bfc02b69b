//! Downsampling of time series to the chart's pixel columns, so that a report with a million samples draws as
//! fast as one with a hundred and looks the same as if every sample were drawn.
//!
//! A series is piecewise linear between its samples (times sorted, ascending). [`column_max`] gives, for each pixel
//! column, the series' maximum over the column's time span: the envelope an area fill covers. [`m4`] keeps, for
//! each column, the first, lowest, highest and last sample: a line through them covers the same pixels as a line
//! through every sample.

/// The pixel columns of a plot: `count` columns of width `width` from `start`, in data units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Columns {
    /// Where the first column starts.
    pub start: f64,
    /// Width of one column.
    pub width: f64,
    /// Number of columns.
    pub count: usize,
}

impl Columns {
    /// `count` columns (at least one) spanning `start..end`.
    pub fn new(start: f64, end: f64, count: usize) -> Columns {
        let count = count.max(1);
        Columns { start, width: (end - start) / count as f64, count }
    }

    /// The middle of column `i`.
    pub fn center(&self, i: usize) -> f64 {
        self.start + (i as f64 + 0.5) * self.width
    }

    fn span(&self, i: usize) -> (f64, f64) {
        let a = self.start + i as f64 * self.width;
        (a, a + self.width)
    }

    /// The column that holds `x` (clamped to the first and last column).
    pub fn index(&self, x: f64) -> usize {
        if self.width <= 0.0 || !x.is_finite() {
            return 0;
        }
        (((x - self.start) / self.width).floor().max(0.0) as usize).min(self.count - 1)
    }
}

/// The value of the piecewise-linear series at `x` (held constant before the first and after the last sample).
fn interpolate(ts: &[f64], vs: &[f64], x: f64) -> f64 {
    let k = ts.partition_point(|&t| t <= x);
    if k == 0 {
        return vs[0];
    }
    if k == ts.len() {
        return vs[ts.len() - 1];
    }
    let (t0, t1) = (ts[k - 1], ts[k]);
    let f = if t1 > t0 { (x - t0) / (t1 - t0) } else { 1.0 };
    vs[k - 1] + (vs[k] - vs[k - 1]) * f
}

/// For each column, the maximum of the series over the column's span, or `None` where the column lies outside the
/// series' time span. `ts` must be sorted and as long as `vs`.
pub(crate) fn column_max(ts: &[f64], vs: &[f64], columns: &Columns) -> Vec<Option<f64>> {
    debug_assert_eq!(ts.len(), vs.len());
    let (Some(&first), Some(&last)) = (ts.first(), ts.last()) else {
        return vec![None; columns.count];
    };
    (0..columns.count)
        .map(|i| {
            let (a, b) = columns.span(i);
            if a > last || b < first {
                return None;
            }
            let (a, b) = (a.max(first), b.min(last));
            let mut max = interpolate(ts, vs, a).max(interpolate(ts, vs, b));
            let lo = ts.partition_point(|&t| t < a);
            let hi = ts.partition_point(|&t| t <= b);
            for &v in &vs[lo..hi.max(lo)] {
                max = max.max(v);
            }
            Some(max)
        })
        .collect()
}

/// The points of a line through the series, at most four per column (first, lowest, highest, last, in time
/// order). Series with no more than four points per column come back whole.
pub(crate) fn m4(ts: &[f64], vs: &[f64], columns: &Columns) -> Vec<(f64, f64)> {
    debug_assert_eq!(ts.len(), vs.len());
    if ts.len() <= 4 * columns.count {
        return ts.iter().copied().zip(vs.iter().copied()).collect();
    }
    let mut keep = Vec::with_capacity(4 * columns.count);
    let mut k = 0;
    while k < ts.len() {
        let column = columns.index(ts[k]);
        let (first, mut min, mut max, mut last) = (k, k, k, k);
        while k < ts.len() && columns.index(ts[k]) == column {
            if vs[k] < vs[min] {
                min = k;
            }
            if vs[k] > vs[max] {
                max = k;
            }
            last = k;
            k += 1;
        }
        let mut four = [first, min, max, last];
        four.sort_unstable();
        for (j, &i) in four.iter().enumerate() {
            if j == 0 || four[j - 1] != i {
                keep.push((ts[i], vs[i]));
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_maximum_sees_peaks_between_column_edges() {
        // A saw tooth: up to 10 at t=1.5, down to 0 at t=1.6, up to 4 at t=4.
        let ts = [0.0, 1.5, 1.6, 4.0];
        let vs = [0.0, 10.0, 0.0, 4.0];
        let columns = Columns::new(0.0, 8.0, 8);
        let max = column_max(&ts, &vs, &columns);
        assert!((max[0].unwrap() - 10.0 / 1.5).abs() < 1e-9);
        assert_eq!(max[1], Some(10.0), "the peak inside the column");
        assert!((max[2].unwrap() - 4.0 * 1.4 / 2.4).abs() < 1e-9);
        assert_eq!(max[3], Some(4.0));
        assert_eq!(max[4], Some(4.0), "the column starting at the last sample");
        assert_eq!(&max[5..], &[None, None, None]);
    }

    #[test]
    fn m4_keeps_extremes_and_order() {
        let ts: Vec<f64> = (0..1000).map(|i| i as f64 / 100.0).collect();
        let vs: Vec<f64> = (0..1000).map(|i| ((i * 37) % 101) as f64).collect();
        let columns = Columns::new(0.0, 10.0, 10);
        let points = m4(&ts, &vs, &columns);
        assert!(points.len() <= 40);
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "time order, no duplicates");
        for c in 0..10 {
            let in_column = |&&(t, _): &&(f64, f64)| columns.index(t) == c;
            let kept_max = points.iter().filter(in_column).map(|p| p.1).fold(f64::MIN, f64::max);
            let real_max = ts.iter().zip(&vs).filter(|(t, _)| columns.index(**t) == c).map(|(_, v)| *v);
            assert_eq!(kept_max, real_max.fold(f64::MIN, f64::max));
        }
        let short = m4(&ts[..5], &vs[..5], &columns);
        assert_eq!(short.len(), 5);
    }
}
