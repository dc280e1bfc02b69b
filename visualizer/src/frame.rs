//! The frame every chart shares: a title and a subtitle at the top, the plot on the left, the legend panel on the
//! right, and axes with human units and light grid lines.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::{Cartesian2d, ChartBuilder, ChartContext, DrawingArea, DrawingBackend, Text};
use plotters::style::{IntoFont, ShapeStyle, TextStyle};

use crate::error::Drawn;
use crate::palette::{self, Rgb};
use crate::units::tick_label;
use crate::{font, VisualizerError};

/// Height of the title band.
pub(crate) const HEADER_HEIGHT: u32 = 66;
/// Size of titles (plotters' size: the em is size / 1.24 pixels).
pub(crate) const TITLE_SIZE: f64 = 26.0;
/// Size of subtitles and axis descriptions.
pub(crate) const SUBTITLE_SIZE: f64 = 16.5;
/// Size of tick labels, legend text and annotations.
pub(crate) const LABEL_SIZE: f64 = 15.0;

/// Space above the plot, in pixels.
const MARGIN_TOP: u32 = 8;
/// Height of the tick labels and description under the plot.
const X_LABEL_AREA: u32 = 48;

/// The height in pixels that [`axes`] leaves for the plot itself on `area`.
pub(crate) fn plot_height<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> u32 {
    area.dim_in_pixel().1.saturating_sub(MARGIN_TOP + X_LABEL_AREA).max(1)
}

/// A text style of the bundled font.
pub(crate) fn text(size: f64, color: Rgb) -> TextStyle<'static> {
    (font::FAMILY, size).into_font().color(&color.rgb())
}

/// A chart with `f64` axes.
pub(crate) type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The areas of a chart below its title.
pub(crate) struct Frame<DB: DrawingBackend> {
    /// Where the axes and data go.
    pub plot: DrawingArea<DB, Shift>,
    /// The legend panel, right of the plot.
    pub legend: DrawingArea<DB, Shift>,
}

/// Draws the title and subtitle on `root` and splits the rest into the plot and the legend panel.
pub(crate) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<Frame<DB>, VisualizerError> {
    let (width, _) = root.dim_in_pixel();
    let body = header(root, title, subtitle)?;
    let (plot, legend) = body.split_horizontally(width - legend_width(width));
    Ok(Frame { plot, legend })
}

/// Draws the title and subtitle on `root`; returns the area below them.
pub(crate) fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, VisualizerError> {
    let (width, _) = root.dim_in_pixel();
    let (header, body) = root.split_vertically(HEADER_HEIGHT);
    let title = fit(&header, title, TITLE_SIZE, width.saturating_sub(32))?;
    header.draw(&Text::new(title, (16, 12), text(TITLE_SIZE, palette::TEXT))).drawn()?;
    let subtitle = fit(&header, subtitle, SUBTITLE_SIZE, width.saturating_sub(32))?;
    header.draw(&Text::new(subtitle, (16, 42), text(SUBTITLE_SIZE, palette::MUTED_TEXT))).drawn()?;
    Ok(body)
}

/// The width of the legend panel of a chart `width` pixels wide: 26 % of it, 230 to 360 pixels.
pub(crate) fn legend_width(width: u32) -> u32 {
    (f64::from(width) * 0.26).clamp(230.0, 360.0) as u32
}

/// `text`, cut with an ellipsis so that it fits `max_width` pixels at `size`.
pub(crate) fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text_value: &str,
    size: f64,
    max_width: u32,
) -> Result<String, VisualizerError> {
    let style = text(size, palette::TEXT);
    let width = |s: &str| area.estimate_text_size(s, &style).map(|(w, _)| w).drawn();
    if width(text_value)? <= max_width {
        return Ok(text_value.to_owned());
    }
    let chars: Vec<char> = text_value.chars().collect();
    // Binary search on the number of characters kept.
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars[..mid].iter().collect::<String>() + "…";
        if width(&candidate)? <= max_width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(chars[..lo].iter().collect::<String>().trim_end().to_owned() + "…")
}

/// Builds a plot with `x` and `y` ranges on `area`, and draws its grid, axes, tick labels and axis descriptions.
pub(crate) fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: Range<f64>,
    y: Range<f64>,
    x_desc: &str,
    y_desc: &str,
) -> Result<Plot<'a, DB>, VisualizerError> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(MARGIN_TOP)
        .margin_right(16)
        .margin_left(8)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .drawn()?;
    // Values below zero only exist as room under the data (the heap chart's scavenge strip): no labels there.
    let formatter = |v: &f64| if *v < 0.0 { String::new() } else { tick_label(*v) };
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&formatter)
        .y_label_formatter(&formatter)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(text(LABEL_SIZE, palette::TEXT))
        .axis_desc_style(text(SUBTITLE_SIZE, palette::TEXT))
        .axis_style(ShapeStyle::from(&palette::MUTED_TEXT.rgb()))
        .bold_line_style(ShapeStyle::from(&palette::GRID.rgb()))
        .light_line_style(ShapeStyle::from(&palette::GRID.lighten(0.6).rgb()))
        .max_light_lines(1)
        .draw()
        .drawn()?;
    Ok(chart)
}

/// The upper end of an axis showing values up to `max`: a little headroom, and never an empty range.
pub(crate) fn axis_end(max: f64, headroom: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * (1.0 + headroom)
    } else {
        1.0
    }
}
