//! The heap map: every page of the heap as a row of 64 cells, as GCspy draws a heap, each cell filled from the
//! bottom with its shares of live, dead, waste and free bytes; several maps side by side as panels.
//!
//! Layout: the plot area is cut into equal panels, one per map, side by side and then in rows ([`Panels`]). A panel
//! has a two-line header (the moment, the totals); below it, its pages flow top to bottom and then into the next
//! column ([`flow`]): a heading per space, then one row per page, with page numbers in a gutter at the left. The
//! cell size is the largest (up to [`MAX_CELL`]) at which the pages of every panel fit ([`layout`]); with rows of 1
//! pixel, the pages that still do not fit are left out and counted. Cells that look the same side by side are
//! drawn as one rectangle per share, and the white gaps between cells as one line per cell boundary over a run of
//! rows, which keeps SVG files small.

use std::collections::BTreeMap;

use gc_sim::heap_map::{Cell, HeapMap, PageMap, CELLS_PER_PAGE};
use gc_sim::{HeapMapMoment, Report, Space};
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, Rectangle, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::Color;

use crate::error::Drawn;
use crate::frame::{self, fit, text, LABEL_SIZE};
use crate::legend::{self, Entry, Swatch};
use crate::output::Chart;
use crate::palette::{self, Rgb};
use crate::units::{format_bytes, format_count, format_duration, heap_config_summary};
use crate::{ChartSize, HeapMapColoring, HeapMapOptions, VisualizerError};

/// Cells per row.
const CELLS: i32 = CELLS_PER_PAGE as i32;
/// The largest cell, in pixels.
const MAX_CELL: i32 = 14;
/// Cells at least this wide (tall) are separated by a 1-pixel gap from their right (lower) neighbour.
const GAP_FROM: i32 = 5;
/// Cells with at least this many pixels of height show their shares; lower ones only their largest share.
const STACK_FROM: i32 = 3;
/// The narrowest and the lowest panel; maps that would make panels smaller are left out.
const MIN_PANEL_WIDTH: i32 = 160;
const MIN_PANEL_HEIGHT: i32 = 130;
/// Space between panels side by side, between rows of panels, and between the columns of a panel.
const PANEL_GAP: i32 = 28;
const PANEL_ROW_GAP: i32 = 16;
const COLUMN_GAP: i32 = 14;
/// Margins of the plot area.
const MARGIN_LEFT: i32 = 16;
const MARGIN_RIGHT: i32 = 16;
const MARGIN_TOP: i32 = 8;
const MARGIN_BOTTOM: i32 = 8;
/// Height of a panel's title and totals lines.
const PANEL_HEADER: i32 = 46;
/// Height of a space's heading, and the extra space above it when it follows another group.
const GROUP_HEADER: i32 = 18;
const GROUP_GAP: i32 = 6;
/// Size of the page numbers, and the least distance between two of them in pixels.
const PAGE_LABEL_SIZE: f64 = LABEL_SIZE - 3.0;
const PAGE_LABEL_SPACING: i32 = 13;
/// How many panels the legend gives totals for, separated by arrows.
const MAX_LEGEND_AMOUNTS: usize = 3;

/// The chart, ready to draw.
pub(crate) struct HeapMapChart<'r> {
    report: &'r Report,
    maps: Vec<&'r HeapMap>,
    options: HeapMapOptions,
}

impl<'r> HeapMapChart<'r> {
    pub fn new(report: &'r Report, options: &HeapMapOptions) -> Result<HeapMapChart<'r>, VisualizerError> {
        options.size.validate()?;
        if report.heap_maps.is_empty() {
            return Err(VisualizerError::EmptyReport {
                name: report.name.clone(),
                reason: "it has no heap map (replay the trace with `gc-sim run --heap-map-at end` to get one)",
            });
        }
        let maps = match options.moments.as_deref() {
            None | Some([]) => report.heap_maps.iter().collect(),
            Some(moments) => moments
                .iter()
                .map(|&moment| {
                    report.heap_maps.iter().find(|m| m.moment == moment).ok_or_else(|| {
                        VisualizerError::MissingHeapMap {
                            name: report.name.clone(),
                            moment,
                            available: report.heap_maps.iter().map(|m| m.moment).collect(),
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(HeapMapChart { report, maps, options: options.clone() })
    }
}

/// The pages of one space, consecutive in a map.
struct Group<'m> {
    space: Space,
    pages: Vec<&'m PageMap>,
}

/// A map's pages grouped by space, in the map's order.
fn groups(map: &HeapMap) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for page in &map.pages {
        match groups.last_mut() {
            Some(group) if group.space == page.space => group.pages.push(page),
            _ => groups.push(Group { space: page.space, pages: vec![page] }),
        }
    }
    groups
}

/// A space's name in headings, long and short.
fn space_names(space: Space) -> (&'static str, &'static str) {
    match space {
        Space::New => ("new space (to-space)", "new space"),
        Space::NewLargeObject => ("young large objects", "young large"),
        Space::Old => ("old space", "old space"),
        Space::LargeObject => ("large-object space", "large objects"),
    }
}

/// Bytes of each state, plus those of no state (page headers, large pages' rounding).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    live: u64,
    dead: u64,
    waste: u64,
    free: u64,
    header: u64,
}

impl Totals {
    fn of<'a>(pages: impl IntoIterator<Item = &'a PageMap>) -> Totals {
        let mut t = Totals::default();
        for page in pages {
            for (i, cell) in page.cells.iter().enumerate() {
                let [live, dead, waste, free, header] = shares(cell, capacity(page, i));
                t.live += live;
                t.dead += dead;
                t.waste += waste;
                t.free += free;
                t.header += header;
            }
        }
        t
    }
}

/// Bytes cell `index` of `page` covers (the last cell may cover less).
fn capacity(page: &PageMap, index: usize) -> u64 {
    page.bytes.saturating_sub(page.cell_bytes.saturating_mul(index as u64)).min(page.cell_bytes)
}

/// A cell's bytes bottom-up: live, dead, waste, free, and the rest of its capacity.
fn shares(cell: &Cell, capacity: u64) -> [u64; 5] {
    let (live, dead, waste, free) =
        (u64::from(cell.live), u64::from(cell.dead), u64::from(cell.waste), u64::from(cell.free));
    let used = live + dead + waste + free;
    [live, dead, waste, free, capacity.saturating_sub(used)]
}

/// Splits `height` pixels among `bytes` in proportion. Every non-empty share gets at least one pixel when there
/// are enough; the pixels left go to the largest remainders (ties to the lower share). Integer arithmetic only.
fn split(height: i32, bytes: &[u64; 5]) -> [i32; 5] {
    let total: u128 = bytes.iter().map(|&b| u128::from(b)).sum();
    let mut out = [0i32; 5];
    if total == 0 || height <= 0 {
        return out;
    }
    let h = height as u128;
    let mut remainders = [0u128; 5];
    let non_empty = bytes.iter().filter(|&&b| b > 0).count() as i32;
    for (i, &b) in bytes.iter().enumerate() {
        let exact = h * u128::from(b);
        out[i] = (exact / total) as i32;
        remainders[i] = exact % total;
        if b > 0 && out[i] == 0 && non_empty <= height {
            out[i] = 1;
            remainders[i] = 0;
        }
    }
    let mut sum: i32 = out.iter().sum();
    while sum > height {
        // Only reachable after minimums were given: take from the tallest share, which has more than one pixel.
        let tallest = (0..5).rev().max_by_key(|&i| out[i]).expect("five shares");
        out[tallest] -= 1;
        sum -= 1;
    }
    while sum < height {
        let next = (0..5).filter(|&i| bytes[i] > 0).rev().max_by_key(|&i| remainders[i]).expect("a non-empty share");
        out[next] += 1;
        remainders[next] = 0;
        sum += 1;
    }
    out
}

/// The index of the largest share (ties to the lower one).
fn dominant(bytes: &[u64; 5]) -> usize {
    (0..5).rev().max_by_key(|&i| bytes[i]).expect("five shares")
}

/// The live bytes of the drawn maps by dominant label, ranked: the most live bytes first.
struct Ranking {
    /// Label names with their live bytes per panel, most bytes first (ties by name).
    labels: Vec<(String, Vec<u64>)>,
    /// Rank of each name.
    rank: BTreeMap<String, usize>,
}

/// The name of what colours the live part of `cell`, in kind or tag colouring.
fn label_name<'m>(map: &'m HeapMap, cell: &Cell, coloring: HeapMapColoring) -> &'m str {
    let (index, none) = match coloring {
        HeapMapColoring::Tag => (cell.tag, "(no tag)"),
        _ => (cell.kind, "(no kind)"),
    };
    index.and_then(|i| map.labels.get(i as usize)).map_or(none, String::as_str)
}

impl Ranking {
    fn new(maps: &[&HeapMap], coloring: HeapMapColoring) -> Ranking {
        let mut bytes: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        if coloring != HeapMapColoring::State {
            for (panel, map) in maps.iter().enumerate() {
                for cell in map.pages.iter().flat_map(|p| &p.cells).filter(|c| c.live > 0) {
                    let name = label_name(map, cell, coloring);
                    if !bytes.contains_key(name) {
                        bytes.insert(name.to_owned(), vec![0; maps.len()]);
                    }
                    bytes.get_mut(name).expect("just inserted")[panel] += u64::from(cell.live);
                }
            }
        }
        let mut labels: Vec<(String, Vec<u64>)> = bytes.into_iter().collect();
        // Stable: equal totals stay in name order.
        labels.sort_by_key(|(_, per_panel)| std::cmp::Reverse(per_panel.iter().sum::<u64>()));
        let rank = labels.iter().enumerate().map(|(i, (name, _))| (name.clone(), i)).collect();
        Ranking { labels, rank }
    }

    /// The colour of a cell's live part.
    fn live_color(&self, map: &HeapMap, cell: &Cell, coloring: HeapMapColoring) -> Rgb {
        match coloring {
            HeapMapColoring::State => palette::HEAP_MAP_LIVE,
            _ => palette::heap_map_label(self.rank.get(label_name(map, cell, coloring)).copied().unwrap_or(usize::MAX)),
        }
    }
}

/// Sizes of the cells and columns, the same in every panel.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    /// Cell pitch, pixels.
    cell_width: i32,
    row_height: i32,
    /// Width of the page numbers' gutter left of the cells.
    gutter: i32,
    /// Columns per panel.
    columns: i32,
}

impl Geometry {
    fn column_width(&self) -> i32 {
        self.gutter + CELLS * self.cell_width
    }

    fn h_gap(&self) -> i32 {
        i32::from(self.cell_width >= GAP_FROM)
    }

    fn v_gap(&self) -> i32 {
        i32::from(self.row_height >= GAP_FROM)
    }

    /// Drawn height of a cell.
    fn inner_height(&self) -> i32 {
        self.row_height - self.v_gap()
    }
}

/// One thing placed in a panel's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    /// A space's heading, or its continuation at the top of the next column.
    Heading { group: usize, continued: bool },
    /// Page `index` of a group.
    Row { group: usize, index: usize },
}

/// Where an item goes: a column of the panel and a y offset from the top of the columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Placed {
    column: i32,
    y: i32,
    item: Item,
}

/// A panel's pages placed in its columns.
struct Flow {
    placed: Vec<Placed>,
    /// Pages that did not fit.
    hidden: usize,
}

/// Places `groups` top to bottom in at most `columns` columns of `height` pixels, rows `row_height` high.
fn flow(groups: &[Group<'_>], row_height: i32, height: i32, columns: i32) -> Flow {
    let mut placed = Vec::new();
    let (mut column, mut y) = (0, 0);
    let left_from = |group: usize, index: usize| {
        groups[group].pages.len() - index + groups[group + 1..].iter().map(|g| g.pages.len()).sum::<usize>()
    };
    for (g, group) in groups.iter().enumerate() {
        let gap = if y > 0 { GROUP_GAP } else { 0 };
        // A heading stays with at least one row.
        if y + gap + GROUP_HEADER + row_height > height {
            column += 1;
            y = 0;
        } else {
            y += gap;
        }
        if column >= columns {
            return Flow { placed, hidden: left_from(g, 0) };
        }
        placed.push(Placed { column, y, item: Item::Heading { group: g, continued: false } });
        y += GROUP_HEADER;
        for index in 0..group.pages.len() {
            if y + row_height > height {
                column += 1;
                y = 0;
                if column >= columns || GROUP_HEADER + row_height > height {
                    return Flow { placed, hidden: left_from(g, index) };
                }
                placed.push(Placed { column, y, item: Item::Heading { group: g, continued: true } });
                y += GROUP_HEADER;
            }
            placed.push(Placed { column, y, item: Item::Row { group: g, index } });
            y += row_height;
        }
    }
    Flow { placed, hidden: 0 }
}

/// The largest cells at which every panel's pages fit in `width` × `height` pixels: the tallest rows (shares are
/// stacked vertically), then the widest cells, cells at most twice as wide as tall or tall as wide; with rows of 1
/// pixel if nothing fits (some pages are then left out).
fn layout(panels: &[Vec<Group<'_>>], width: i32, height: i32, gutter: i32) -> (Geometry, Vec<Flow>) {
    let geometry = |cell_width: i32, row_height: i32| {
        let mut g = Geometry { cell_width, row_height, gutter, columns: 0 };
        g.columns = (width + COLUMN_GAP) / (g.column_width() + COLUMN_GAP);
        g
    };
    for row_height in (1..=MAX_CELL).rev() {
        for cell_width in ((row_height + 1) / 2..=(2 * row_height).min(MAX_CELL)).rev() {
            let g = geometry(cell_width, row_height);
            if g.columns == 0 {
                continue;
            }
            let flows: Vec<Flow> = panels.iter().map(|groups| flow(groups, row_height, height, g.columns)).collect();
            if flows.iter().all(|f| f.hidden == 0) {
                return (g, flows);
            }
        }
    }
    let mut g = geometry(1, 1);
    g.columns = g.columns.max(1);
    let flows = panels.iter().map(|groups| flow(groups, 1, height, g.columns)).collect();
    (g, flows)
}

/// Rows between two page numbers: 1, 2, 5, 10, 20, 50, ... so that labels are at least
/// [`PAGE_LABEL_SPACING`] pixels apart.
fn label_every(row_height: i32) -> usize {
    let steps = (0..).flat_map(|exponent| [1, 2, 5].map(|m| m * 10usize.pow(exponent)));
    steps.into_iter().find(|&step| step * row_height.max(1) as usize >= PAGE_LABEL_SPACING as usize).expect("a step")
}

/// One cell's look: its layers bottom-up, (colour, pixels).
type Look = Vec<(Rgb, i32)>;

fn fill<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: (i32, i32),
    y: (i32, i32),
    color: Rgb,
) -> Result<(), VisualizerError> {
    area.draw(&Rectangle::new([(x.0, y.0), (x.1, y.1)], color.rgb().filled())).drawn()
}

/// The first of `candidates` that fits `max_width` pixels at `size`, or the last one cut to fit.
fn first_fitting<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    candidates: &[String],
    size: f64,
    max_width: i32,
) -> Result<String, VisualizerError> {
    let style = text(size, palette::TEXT);
    for candidate in candidates {
        if area.estimate_text_size(candidate, &style).drawn()?.0 as i32 <= max_width {
            return Ok(candidate.clone());
        }
    }
    fit(area, candidates.last().map_or("", String::as_str), size, max_width.max(0) as u32)
}

/// A map to draw, with its pages grouped and placed.
struct Panel<'m> {
    map: &'m HeapMap,
    groups: Vec<Group<'m>>,
    flow: Flow,
}

/// How cells are drawn, the same in every panel.
struct Cells<'a> {
    geometry: Geometry,
    coloring: HeapMapColoring,
    ranking: &'a Ranking,
}

impl Cells<'_> {
    /// The looks of a page's cells.
    fn looks(&self, map: &HeapMap, page: &PageMap) -> Vec<Look> {
        let height = self.geometry.inner_height();
        page.cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let bytes = shares(cell, capacity(page, i));
                let live = if cell.live > 0 {
                    self.ranking.live_color(map, cell, self.coloring)
                } else {
                    palette::HEAP_MAP_LIVE
                };
                let colors = [
                    live,
                    palette::HEAP_MAP_DEAD,
                    palette::HEAP_MAP_WASTE,
                    palette::HEAP_MAP_FREE,
                    palette::HEAP_MAP_HEADER,
                ];
                if bytes.iter().all(|&b| b == 0) {
                    Vec::new()
                } else if height < STACK_FROM {
                    vec![(colors[dominant(&bytes)], height)]
                } else {
                    let heights = split(height, &bytes);
                    (0..5).filter(|&i| heights[i] > 0).map(|i| (colors[i], heights[i])).collect()
                }
            })
            .collect()
    }

    /// Draws a page's cells from (`x`, `y`), merging neighbours that look the same into one rectangle per layer.
    fn draw_row<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        (x, y): (i32, i32),
        map: &HeapMap,
        page: &PageMap,
    ) -> Result<(), VisualizerError> {
        let g = &self.geometry;
        let looks = self.looks(map, page);
        let bottom = y + g.inner_height();
        let mut start = 0;
        while start < looks.len() {
            let end = (start..looks.len()).find(|&i| looks[i] != looks[start]).unwrap_or(looks.len());
            let x0 = x + start as i32 * g.cell_width;
            let x1 = x + end as i32 * g.cell_width - g.h_gap();
            let mut top = bottom;
            for &(color, height) in &looks[start] {
                fill(area, (x0, x1), (top - height, top), color)?;
                top -= height;
            }
            start = end;
        }
        Ok(())
    }

    /// Draws `panel` with its top-left corner at `origin`, `width` pixels wide.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        (x, y0): (i32, i32),
        width: i32,
        panel: &Panel<'_>,
    ) -> Result<(), VisualizerError> {
        let (map, groups, flow, g) = (panel.map, &panel.groups, &panel.flow, &self.geometry);
        let title = first_fitting(area, &moment_titles(map), LABEL_SIZE + 1.0, width)?;
        area.draw(&Text::new(title, (x, y0), text(LABEL_SIZE + 1.0, palette::TEXT))).drawn()?;
        let t = Totals::of(&map.pages);
        let mut totals = format!(
            "{} · live {} · dead {} · waste {} · free {}",
            pages(map.pages.len()),
            format_bytes(t.live),
            format_bytes(t.dead),
            format_bytes(t.waste),
            format_bytes(t.free)
        );
        if flow.hidden > 0 {
            totals = format!("+{} more pages not shown · {totals}", format_count(flow.hidden as u64));
        }
        let totals = fit(area, &totals, LABEL_SIZE - 1.0, width as u32)?;
        area.draw(&Text::new(totals, (x, y0 + 21), text(LABEL_SIZE - 1.0, palette::MUTED_TEXT))).drawn()?;

        let top = y0 + PANEL_HEADER;
        let column_x = |column: i32| x + column * (g.column_width() + COLUMN_GAP);
        let heading_style = text(LABEL_SIZE - 1.0, palette::TEXT);
        let number_style = text(PAGE_LABEL_SIZE, palette::MUTED_TEXT).pos(Pos::new(HPos::Right, VPos::Center));
        let every = label_every(g.row_height);
        // Runs of rows in one column and group: (column, first y, end y), for the gaps between cells.
        let mut segments: Vec<(i32, i32, i32)> = Vec::new();
        for placed in &flow.placed {
            let cx = column_x(placed.column);
            let y = top + placed.y;
            match placed.item {
                Item::Heading { group, continued } => {
                    let group = &groups[group];
                    let (name, short) = space_names(group.space);
                    // The longest heading that fits the column.
                    let candidates = if continued {
                        vec![format!("{name} (continued)"), format!("{short} (cont.)"), short.to_owned()]
                    } else {
                        let count = pages(group.pages.len());
                        let live = format_bytes(Totals::of(group.pages.iter().copied()).live);
                        vec![
                            format!("{name} · {count} · {live} live"),
                            format!("{short} · {count} · {live} live"),
                            format!("{short} · {count}"),
                            short.to_owned(),
                        ]
                    };
                    let label = first_fitting(area, &candidates, LABEL_SIZE - 1.0, g.column_width())?;
                    area.draw(&Text::new(label, (cx, y + 1), heading_style.clone())).drawn()?;
                }
                Item::Row { group, index } => {
                    let page = groups[group].pages[index];
                    self.draw_row(area, (cx + g.gutter, y), map, page)?;
                    if index % every == 0 {
                        let center = (cx + g.gutter - 5, y + g.inner_height() / 2);
                        area.draw(&Text::new(page.page.to_string(), center, number_style.clone())).drawn()?;
                    }
                    match segments.last_mut() {
                        Some(s) if s.0 == placed.column && s.2 == y && index > 0 => s.2 = y + g.row_height,
                        _ => segments.push((placed.column, y, y + g.row_height)),
                    }
                }
            }
        }
        // The gaps between the cells of a row: one white line per cell boundary over each run of rows.
        if g.h_gap() > 0 {
            for (column, y0, y1) in segments {
                let cells_x = column_x(column) + g.gutter;
                for i in 1..CELLS {
                    let gx = cells_x + i * g.cell_width - 1;
                    fill(area, (gx, gx + 1), (y0, y1 - g.v_gap()), Rgb(255, 255, 255))?;
                }
            }
        }
        if map.pages.is_empty() {
            area.draw(&Text::new("(no pages)", (x, top), text(LABEL_SIZE, palette::MUTED_TEXT))).drawn()?;
        }
        Ok(())
    }
}

/// `1 page`, `2,001 pages`.
fn pages(count: usize) -> String {
    format!("{} page{}", format_count(count as u64), if count == 1 { "" } else { "s" })
}

/// A panel's title, longest first: `before GC #8 (Mark-Compact), 283 ms`, `before GC #8, 283 ms`, `before:8`;
/// `end of the run, 405 ms`, `end, 405 ms`, `end`.
fn moment_titles(map: &HeapMap) -> Vec<String> {
    let at = format_duration(map.t_ms);
    let collector = map.collector.map(|c| format!(" ({})", c.v8_name())).unwrap_or_default();
    let (when, n) = match map.moment {
        HeapMapMoment::Before(n) => ("before", n),
        HeapMapMoment::After(n) => ("after", n),
        HeapMapMoment::End => return vec![format!("end of the run, {at}"), format!("end, {at}"), "end".to_owned()],
    };
    vec![format!("{when} GC #{n}{collector}, {at}"), format!("{when} GC #{n}, {at}"), map.moment.to_string()]
}

/// How the panels are arranged: rows of up to `per_row` panels of `width` × `height` pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Panels {
    /// Maps drawn (the first ones).
    shown: usize,
    per_row: usize,
    width: i32,
    height: i32,
}

impl Panels {
    /// Panels for `maps` maps in `width` × `height` pixels: as many side by side as fit at
    /// [`MIN_PANEL_WIDTH`], in as many rows as needed (balanced) and fit at [`MIN_PANEL_HEIGHT`]; the maps beyond
    /// are not shown.
    fn new(maps: usize, width: i32, height: i32) -> Panels {
        let fit = |space: i32, min: i32, gap: i32| ((space + gap) / (min + gap)).max(1) as usize;
        let (max_per_row, max_rows) =
            (fit(width, MIN_PANEL_WIDTH, PANEL_GAP), fit(height, MIN_PANEL_HEIGHT, PANEL_ROW_GAP));
        let shown = maps.clamp(1, max_per_row * max_rows);
        let rows = shown.div_ceil(max_per_row);
        let per_row = shown.div_ceil(rows);
        Panels {
            shown,
            per_row,
            width: (width - (per_row as i32 - 1) * PANEL_GAP) / per_row as i32,
            height: (height - (rows as i32 - 1) * PANEL_ROW_GAP) / rows as i32,
        }
    }

    /// The top-left corner of panel `index`.
    fn origin(&self, index: usize) -> (i32, i32) {
        let (row, column) = ((index / self.per_row) as i32, (index % self.per_row) as i32);
        (MARGIN_LEFT + column * (self.width + PANEL_GAP), MARGIN_TOP + row * (self.height + PANEL_ROW_GAP))
    }
}

/// `: 282 KiB → 375 KiB`: the values of every panel, or nothing if there are too many panels.
fn amounts(values: &[u64]) -> String {
    if values.is_empty() || values.len() > MAX_LEGEND_AMOUNTS {
        return String::new();
    }
    format!(": {}", values.iter().map(|&v| format_bytes(v)).collect::<Vec<_>>().join(" → "))
}

impl Chart for HeapMapChart<'_> {
    fn size(&self) -> ChartSize {
        self.options.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError> {
        let r = self.report;
        let coloring = self.options.color_by;
        let (width, height) = root.dim_in_pixel();
        let panels = Panels::new(
            self.maps.len(),
            (width - frame::legend_width(width)) as i32 - MARGIN_LEFT - MARGIN_RIGHT,
            height.saturating_sub(frame::HEADER_HEIGHT) as i32 - MARGIN_TOP - MARGIN_BOTTOM,
        );
        let maps = &self.maps[..panels.shown.min(self.maps.len())];

        let name = if r.name.is_empty() { "(unnamed trace)" } else { &r.name };
        let title = format!("{name}: heap map{}", if maps.len() > 1 { "s" } else { "" });
        let shown = if maps.len() < self.maps.len() {
            format!("{} of {} heap maps (no room for more)", maps.len(), self.maps.len())
        } else if maps.len() > 1 {
            format!("{} heap maps", maps.len())
        } else {
            "1 heap map".to_owned()
        };
        let mut subtitle = format!(
            "{} · {shown} · a row per page, 64 cells of {}",
            heap_config_summary(&r.config),
            format_bytes(u64::from(r.config.page.page_size) / u64::from(CELLS_PER_PAGE)),
        );
        match coloring {
            HeapMapColoring::State => {}
            HeapMapColoring::Kind => subtitle.push_str(" · live bytes by kind"),
            HeapMapColoring::Tag => subtitle.push_str(" · live bytes by tag"),
        }
        let frame = frame::frame(root, &title, &subtitle)?;
        let area = &frame.plot;
        let mut hidden = 0;

        let groups: Vec<Vec<Group<'_>>> = maps.iter().map(|m| groups(m)).collect();
        let number_style = text(PAGE_LABEL_SIZE, palette::MUTED_TEXT);
        let widest = maps.iter().flat_map(|m| &m.pages).map(|p| p.page).max().unwrap_or(0);
        let gutter = area.estimate_text_size(&widest.to_string(), &number_style).drawn()?.0 as i32 + 9;
        let (geometry, flows) = layout(&groups, panels.width, panels.height - PANEL_HEADER, gutter);
        let ranking = Ranking::new(maps, coloring);
        let cells = Cells { geometry, coloring, ranking: &ranking };
        for (i, ((&map, groups), flow)) in maps.iter().zip(groups).zip(flows).enumerate() {
            let panel = Panel { map, groups, flow };
            cells.draw_panel(area, panels.origin(i), panels.width, &panel)?;
            hidden += panel.flow.hidden;
        }

        let totals: Vec<Totals> = maps.iter().map(|m| Totals::of(&m.pages)).collect();
        let per_panel = |f: fn(&Totals) -> u64| amounts(&totals.iter().map(f).collect::<Vec<u64>>());
        let mut entries = Vec::new();
        let several = if maps.len() > 1 && maps.len() <= MAX_LEGEND_AMOUNTS { ", panel by panel" } else { "" };
        match coloring {
            HeapMapColoring::State => {
                entries.push(Entry::new(Swatch::Heading, format!("Cell contents{several}")));
                entries
                    .push(Entry::new(Swatch::Fill(palette::HEAP_MAP_LIVE), format!("live{}", per_panel(|t| t.live))));
            }
            HeapMapColoring::Kind | HeapMapColoring::Tag => {
                let what = if coloring == HeapMapColoring::Kind { "kind" } else { "tag" };
                entries.push(Entry::new(Swatch::Heading, format!("Live bytes by dominant {what}{several}")));
                let colored = palette::HEAP_MAP_LABELS.len();
                for (rank, (label, bytes)) in ranking.labels.iter().enumerate().take(colored) {
                    entries.push(Entry::new(
                        Swatch::Fill(palette::heap_map_label(rank)),
                        format!("{label}{}", amounts(bytes)),
                    ));
                }
                if ranking.labels.len() > colored {
                    let rest = &ranking.labels[colored..];
                    let sums: Vec<u64> =
                        (0..maps.len()).map(|p| rest.iter().map(|(_, bytes)| bytes[p]).sum()).collect();
                    entries.push(Entry::new(
                        Swatch::Fill(palette::HEAP_MAP_OTHER_LABEL),
                        format!("{} other {what}s{}", format_count(rest.len() as u64), amounts(&sums)),
                    ));
                }
                entries.push(Entry::new(Swatch::Heading, "Other contents"));
            }
        }
        entries.push(Entry::new(
            Swatch::Fill(palette::HEAP_MAP_DEAD),
            format!("dead, not yet collected{}", per_panel(|t| t.dead)),
        ));
        entries.push(Entry::new(
            Swatch::Fill(palette::HEAP_MAP_WASTE),
            format!("waste: holes, page tails{}", per_panel(|t| t.waste)),
        ));
        entries.push(Entry::new(Swatch::Fill(palette::HEAP_MAP_FREE), format!("free{}", per_panel(|t| t.free))));
        entries.push(Entry::new(Swatch::Fill(palette::HEAP_MAP_HEADER), "page header, large-page rounding"));
        let mut note = format!(
            "Each row is a page, each of its 64 cells 1/64 of it, filled from the bottom by its shares of bytes. Cells of {}×{} px",
            geometry.cell_width, geometry.row_height
        );
        if geometry.inner_height() < STACK_FROM {
            note.push_str(": each shows only its largest share.");
        } else {
            note.push('.');
        }
        if hidden > 0 {
            note.push_str(&format!(
                " {} pages did not fit and are left out; the totals count them.",
                format_count(hidden as u64)
            ));
        }
        entries.push(Entry::new(Swatch::Note, note));
        legend::draw(&frame.legend, &entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_split_into_whole_pixels() {
        assert_eq!(split(13, &[4096, 0, 0, 0, 0]), [13, 0, 0, 0, 0]);
        assert_eq!(split(13, &[2048, 0, 0, 2048, 0]), [7, 0, 0, 6, 0], "ties go to the lower share");
        // A sliver still shows.
        assert_eq!(split(13, &[8, 0, 0, 4088, 0]), [1, 0, 0, 12, 0]);
        assert_eq!(split(2, &[1, 1, 1, 4000, 0]), [0, 0, 0, 2, 0], "no room for every share");
        assert_eq!(split(4, &[0; 5]), [0; 5]);
        for (h, bytes) in [(9, [100, 200, 300, 400, 500]), (3, [1, 1, 1, 0, 0]), (13, [4095, 1, 0, 0, 0])] {
            assert_eq!(split(h, &bytes).iter().sum::<i32>(), h, "{bytes:?}");
        }
        assert_eq!(dominant(&[10, 30, 30, 5, 0]), 1);
    }

    #[test]
    fn panels_wrap_into_rows_and_the_rest_is_left_out() {
        let one = Panels::new(1, 900, 600);
        assert_eq!(one, Panels { shown: 1, per_row: 1, width: 900, height: 600 });
        assert_eq!(one.origin(0), (MARGIN_LEFT, MARGIN_TOP));
        let two = Panels::new(2, 900, 600);
        assert_eq!((two.per_row, two.width, two.height), (2, 436, 600));
        assert_eq!(two.origin(1), (MARGIN_LEFT + 436 + PANEL_GAP, MARGIN_TOP));
        // Four fit side by side: six make two rows of three.
        let six = Panels::new(6, 900, 600);
        assert_eq!((six.shown, six.per_row, six.height), (6, 3, 292));
        assert_eq!(six.origin(4).1, MARGIN_TOP + 292 + PANEL_ROW_GAP);
        assert_eq!(Panels::new(50, 900, 600).shown, 16, "four per row, four rows");
        assert_eq!(Panels::new(3, 100, 100).shown, 1, "one panel, however small");
    }

    #[test]
    fn page_numbers_are_spaced() {
        assert_eq!(label_every(14), 1);
        assert_eq!(label_every(12), 2);
        assert_eq!(label_every(5), 5);
        assert_eq!(label_every(1), 20);
    }

    #[test]
    fn pages_wrap_into_columns_and_the_rest_is_counted() {
        let page =
            PageMap { space: Space::Old, page: 0, bytes: 262_144, cell_bytes: 4096, cells: vec![Cell::default(); 64] };
        let pages: Vec<&PageMap> = vec![&page; 100];
        let groups = vec![Group { space: Space::Old, pages: pages.clone() }];
        // 100 rows of 2 px under an 18-px heading: 100 + 9 per column of 118 px... in two columns.
        let f = flow(&groups, 2, 118, 2);
        assert_eq!(f.hidden, 0);
        assert_eq!(f.placed.iter().filter(|p| matches!(p.item, Item::Row { .. })).count(), 100);
        assert_eq!(f.placed.iter().map(|p| p.column).max(), Some(1));
        assert!(f.placed.contains(&Placed { column: 1, y: 0, item: Item::Heading { group: 0, continued: true } }));
        let f = flow(&groups, 2, 118, 1);
        assert_eq!(f.hidden, 50);
    }
}
