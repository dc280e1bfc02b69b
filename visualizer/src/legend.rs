//! The legend panel: a column of entries, each a small swatch drawn like the chart element it names, and text
//! wrapped to the panel's width.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, PathElement, Rectangle, Text};
use plotters::style::ShapeStyle;

use crate::error::Drawn;
use crate::frame::{text, LABEL_SIZE};
use crate::palette::{self, Rgb};
use crate::VisualizerError;

/// How an entry's swatch looks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Swatch {
    /// A filled rectangle (an area).
    Fill(Rgb),
    /// A horizontal line of the given width.
    Line(Rgb, u32),
    /// A dashed horizontal line.
    Dashed(Rgb),
    /// A short vertical tick standing on a baseline (scavenges).
    Tick(Rgb),
    /// A tall vertical line (mark-compacts, marks, out of memory).
    Rule(Rgb),
    /// A stem with a dot (pause chart).
    Stem(Rgb),
    /// No swatch: a note in muted text.
    Note,
    /// No swatch: a heading in bold-looking text.
    Heading,
}

/// One line of the legend.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// The swatch.
    pub swatch: Swatch,
    /// The text (wrapped as needed).
    pub text: String,
}

impl Entry {
    /// An entry with a swatch.
    pub fn new(swatch: Swatch, text: impl Into<String>) -> Entry {
        Entry { swatch, text: text.into() }
    }

    /// The entry for the report's out-of-memory line, if the program died.
    pub fn out_of_memory(report: &gc_sim::Report) -> Option<Entry> {
        report.summary.oom.as_ref().map(|oom| {
            Entry::new(
                Swatch::Rule(palette::OUT_OF_MEMORY),
                format!("out of memory at {}", crate::units::format_duration(oom.at_ms)),
            )
        })
    }
}

const SWATCH_WIDTH: i32 = 24;
/// Words that are never the first on a line.
const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "ms", "s", "%"];
const LINE_HEIGHT: i32 = 17;
const ENTRY_GAP: i32 = 7;

/// Draws `entries` top to bottom on `area`; entries that do not fit in its height are left out, with a note.
pub(crate) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> Result<(), VisualizerError> {
    let (width, height) = area.dim_in_pixel();
    let (width, height) = (width as i32, height as i32);
    let left = 10;
    let mut y = 14;
    for (index, entry) in entries.iter().enumerate() {
        let text_left = match entry.swatch {
            Swatch::Note | Swatch::Heading => left,
            _ => left + SWATCH_WIDTH + 8,
        };
        let color = match entry.swatch {
            Swatch::Note => palette::MUTED_TEXT,
            _ => palette::TEXT,
        };
        let size = if entry.swatch == Swatch::Heading { LABEL_SIZE + 1.0 } else { LABEL_SIZE };
        let style = text(size, color);
        let lines = wrap(area, &entry.text, &style, (width - text_left - 16).max(40) as u32)?;
        let needed = lines.len() as i32 * LINE_HEIGHT;
        if y + needed > height - 4 {
            let rest = entries.len() - index;
            let note = format!("({rest} more not shown)");
            area.draw(&Text::new(note, (left, y.min(height - LINE_HEIGHT)), text(LABEL_SIZE, palette::MUTED_TEXT)))
                .drawn()?;
            break;
        }
        draw_swatch(area, entry.swatch, left, y)?;
        for (i, line) in lines.into_iter().enumerate() {
            area.draw(&Text::new(line, (text_left, y + i as i32 * LINE_HEIGHT), style.clone())).drawn()?;
        }
        y += needed + ENTRY_GAP;
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    x: i32,
    y: i32,
) -> Result<(), VisualizerError> {
    let mid = y + 8;
    let style = |c: Rgb, w: u32| ShapeStyle { color: c.rgb().into(), filled: true, stroke_width: w };
    match swatch {
        Swatch::Fill(c) => area.draw(&Rectangle::new([(x, y + 2), (x + SWATCH_WIDTH, y + 14)], style(c, 1))).drawn(),
        Swatch::Line(c, w) => {
            area.draw(&PathElement::new(vec![(x, mid), (x + SWATCH_WIDTH, mid)], style(c, w))).drawn()
        }
        Swatch::Dashed(c) => {
            for dash in 0..3 {
                let x0 = x + dash * 9;
                area.draw(&PathElement::new(vec![(x0, mid), (x0 + 5, mid)], style(c, 2))).drawn()?;
            }
            Ok(())
        }
        Swatch::Tick(c) => {
            let base = style(palette::MUTED_TEXT, 1);
            area.draw(&PathElement::new(vec![(x, y + 15), (x + SWATCH_WIDTH, y + 15)], base)).drawn()?;
            for dx in [5, 12, 19] {
                area.draw(&PathElement::new(vec![(x + dx, y + 14), (x + dx, y + 7)], style(c, 1))).drawn()?;
            }
            Ok(())
        }
        Swatch::Rule(c) => {
            let cx = x + SWATCH_WIDTH / 2;
            area.draw(&PathElement::new(vec![(cx, y), (cx, y + 16)], style(c, 2))).drawn()
        }
        Swatch::Stem(c) => {
            let cx = x + SWATCH_WIDTH / 2;
            area.draw(&PathElement::new(vec![(cx, y + 16), (cx, y + 5)], style(c, 1))).drawn()?;
            area.draw(&plotters::element::Circle::new((cx, y + 5), 3, style(c, 1))).drawn()
        }
        Swatch::Note | Swatch::Heading => Ok(()),
    }
}

/// Breaks `text` into lines of at most `max_width` pixels, at spaces (a word longer than a line stays whole).
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text_value: &str,
    style: &plotters::style::TextStyle<'_>,
    max_width: u32,
) -> Result<Vec<String>, VisualizerError> {
    // A unit stays on the line of its number.
    let mut words: Vec<String> = Vec::new();
    for word in text_value.split(' ').filter(|w| !w.is_empty()) {
        let unit = UNITS.contains(&word.trim_end_matches([',', '.', ';', ')']));
        match words.last_mut() {
            Some(last) if unit => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_owned()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in &words {
        let candidate = if line.is_empty() { word.clone() } else { format!("{line} {word}") };
        if line.is_empty() || area.estimate_text_size(&candidate, style).drawn()?.0 <= max_width {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.clone()));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    Ok(lines)
}
