//! The retained-size chart of a real heap snapshot (`gc-sim snapshot --plot`): one horizontal bar per constructor,
//! as long as the class's retained bytes (light) with its self bytes over it (dark), largest first.

use gc_sim::snapshot::summary::ClassSummary;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, Rectangle, Text};
use plotters::style::Color;

use crate::error::Drawn;
use crate::frame::{self, LABEL_SIZE};
use crate::output::Chart;
use crate::palette;
use crate::units::{format_bytes, format_count};
use crate::{ChartSize, VisualizerError};

/// The chart, ready to draw.
pub(crate) struct SnapshotChart<'a> {
    pub classes: &'a [ClassSummary],
    pub title: String,
    pub subtitle: String,
    pub size: ChartSize,
}

impl Chart for SnapshotChart<'_> {
    fn size(&self) -> ChartSize {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let frame = frame::frame(root, &self.title, &self.subtitle)?;
        let (width, height) = frame.plot.dim_in_pixel();
        let row = 24u32;
        let rows = ((height.saturating_sub(16)) / row).max(1) as usize;
        let shown = &self.classes[..self.classes.len().min(rows)];
        let name_width = width * 2 / 7;
        let value_width = 170u32;
        let bar_width = width.saturating_sub(name_width + value_width + 24).max(10);
        let max = shown.iter().map(|c| c.retained_bytes.max(c.self_bytes)).max().unwrap_or(1).max(1) as f64;
        let style = frame::text(LABEL_SIZE, palette::TEXT);
        let muted = frame::text(LABEL_SIZE, palette::MUTED_TEXT);
        for (i, class) in shown.iter().enumerate() {
            let y = 8 + i as i32 * row as i32;
            let label = frame::fit(
                &frame.plot,
                &format!("{} ×{}", class.name, format_count(class.count)),
                LABEL_SIZE,
                name_width - 12,
            )?;
            frame.plot.draw(&Text::new(label, (8, y + 4), style.clone())).drawn()?;
            let x0 = name_width as i32;
            let len = |bytes: u64| ((bytes as f64 / max) * f64::from(bar_width)).round() as i32;
            let retained = len(class.retained_bytes).max(1);
            frame
                .plot
                .draw(&Rectangle::new(
                    [(x0, y + 3), (x0 + retained, y + row as i32 - 3)],
                    palette::OLD_SPACE.lighten(0.55).rgb().filled(),
                ))
                .drawn()?;
            let own = len(class.self_bytes);
            if own > 0 {
                frame
                    .plot
                    .draw(&Rectangle::new(
                        [(x0, y + 3), (x0 + own, y + row as i32 - 3)],
                        palette::OLD_SPACE.rgb().filled(),
                    ))
                    .drawn()?;
            }
            let value = format!("{} ({} self)", format_bytes(class.retained_bytes), format_bytes(class.self_bytes));
            frame.plot.draw(&Text::new(value, (x0 + retained + 6, y + 4), muted.clone())).drawn()?;
        }
        let entries = [
            crate::legend::Entry::new(crate::legend::Swatch::Fill(palette::OLD_SPACE.lighten(0.55)), "retained bytes"),
            crate::legend::Entry::new(crate::legend::Swatch::Fill(palette::OLD_SPACE), "self (shallow) bytes"),
        ];
        crate::legend::draw(&frame.legend, &entries)?;
        Ok(())
    }
}
