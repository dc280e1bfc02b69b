//! The colours of the charts.
//!
//! Fills and marks are opaque, so a pixel of one of these colours in a PNG belongs to what the colour stands for
//! (anti-aliased edges and text blend colours, their inner pixels do not). Text is grey or black, and its
//! anti-aliasing on white only makes greys, so no chart element has a grey colour. Tests use this to find chart
//! elements in decoded images.

use plotters::style::RGBColor;

/// An opaque sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// The colour as `[r, g, b]`, as in a decoded RGB image.
    pub const fn to_array(self) -> [u8; 3] {
        [self.0, self.1, self.2]
    }

    /// This colour mixed with white: `amount` 0 is the colour, 1 is white.
    pub fn lighten(self, amount: f64) -> Rgb {
        let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * amount.clamp(0.0, 1.0)).round() as u8;
        Rgb(mix(self.0), mix(self.1), mix(self.2))
    }

    pub(crate) fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// Used bytes of old space (heap chart, bottom area).
pub const OLD_SPACE: Rgb = Rgb(78, 121, 167);
/// Used bytes of large-object space (heap chart, middle area).
pub const LARGE_OBJECT_SPACE: Rgb = Rgb(242, 142, 43);
/// Used bytes of new space and young large objects (heap chart, top area).
pub const NEW_SPACE: Rgb = Rgb(140, 198, 116);
/// Committed bytes of old space (line).
pub const OLD_SPACE_COMMITTED: Rgb = Rgb(31, 63, 110);
/// Committed bytes of the old generation, old plus large-object space (line).
pub const OLD_GENERATION_COMMITTED: Rgb = Rgb(176, 88, 0);
/// Committed bytes of the whole heap (line).
pub const HEAP_COMMITTED: Rgb = Rgb(46, 112, 40);
/// The old-generation allocation limit (dashed line).
pub const ALLOCATION_LIMIT: Rgb = Rgb(60, 40, 20);
/// Scavenges: the ticks along the heap chart's time axis and the pause chart's scavenge stems.
pub const SCAVENGE: Rgb = Rgb(0, 170, 200);
/// Mark-compacts: the heap chart's vertical lines and the pause chart's mark-compact stems.
pub const MARK_COMPACT: Rgb = Rgb(140, 60, 170);
/// The trace's marks (ticks, dotted lines and labels).
pub const MARK: Rgb = Rgb(96, 104, 120);
/// The out-of-memory death (line and message).
pub const OUT_OF_MEMORY: Rgb = Rgb(220, 30, 30);
/// Titles and legend text.
pub const TEXT: Rgb = Rgb(20, 20, 20);
/// Subtitles and notes.
pub const MUTED_TEXT: Rgb = Rgb(95, 95, 95);
/// Grid lines.
pub const GRID: Rgb = Rgb(228, 228, 228);
/// The heap of a real run read from a Node GC log (`gc-sim log --plot`), before and after each collection.
pub const REAL_HEAP: Rgb = Rgb(214, 39, 120);
/// The simulated heap drawn beside a real one (`gc-sim run --compare-log --plot`).
pub const SIMULATED_HEAP: Rgb = Rgb(31, 119, 180);
/// The series of a comparison, in the order of the reports (repeating after the last).
pub const COMPARISON: [Rgb; 8] = [
    Rgb(31, 119, 180),
    Rgb(230, 110, 0),
    Rgb(44, 160, 44),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
];

/// The colour of the `index`-th report of a comparison.
pub fn comparison(index: usize) -> Rgb {
    COMPARISON[index % COMPARISON.len()]
}

/// Heap map: bytes of live (reachable) objects, in the default colouring by state (Okabe–Ito blue).
pub const HEAP_MAP_LIVE: Rgb = Rgb(0, 114, 178);
/// Heap map: bytes of dead objects not yet collected (Okabe–Ito vermillion).
pub const HEAP_MAP_DEAD: Rgb = Rgb(213, 94, 0);
/// Heap map: bytes lost to holes, page tails and LAB slack (Okabe–Ito reddish purple).
pub const HEAP_MAP_WASTE: Rgb = Rgb(204, 121, 167);
/// Heap map: free bytes, ready for allocation (a pale blue, lighter than everything else in a cell).
pub const HEAP_MAP_FREE: Rgb = Rgb(198, 226, 242);
/// Heap map: bytes of a cell that are none of the four states: the page header, a large page's rounding (a warm
/// light grey, so that grey text anti-aliasing never produces it).
pub const HEAP_MAP_HEADER: Rgb = Rgb(226, 223, 214);
/// Heap map coloured by kind or tag: the live bytes of the labels with the most live bytes, in rank order. None of
/// them is close to the dead, waste or free colours, which keep their meaning in that colouring.
pub const HEAP_MAP_LABELS: [Rgb; 10] = [
    Rgb(31, 119, 180),
    Rgb(44, 160, 44),
    Rgb(148, 103, 189),
    Rgb(23, 190, 207),
    Rgb(140, 86, 75),
    Rgb(188, 189, 34),
    Rgb(57, 59, 121),
    Rgb(152, 223, 138),
    Rgb(197, 176, 213),
    Rgb(196, 156, 148),
];
/// Heap map coloured by kind or tag: the live bytes of every label after the first [`HEAP_MAP_LABELS`]`.len()`.
pub const HEAP_MAP_OTHER_LABEL: Rgb = Rgb(128, 128, 100);

/// The colour of the label ranked `rank` (0 for the most live bytes) in a heap map coloured by kind or tag:
/// [`HEAP_MAP_LABELS`], then [`HEAP_MAP_OTHER_LABEL`] for every rank after them.
pub fn heap_map_label(rank: usize) -> Rgb {
    HEAP_MAP_LABELS.get(rank).copied().unwrap_or(HEAP_MAP_OTHER_LABEL)
}
