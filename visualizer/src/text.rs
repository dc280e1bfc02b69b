//! Text set in the bundled font, the same way in both formats.
//!
//! [`TextBackend`] wraps a plotters backend. It measures every text with the bundled font, at an em of
//! `size / 1.24` pixels (the size plotters' SVG backend writes as `font-size`), so that layout is the same in PNG
//! and SVG. In PNG it also draws the glyphs itself: plotters' own `ab_glyph` renderer ignores each glyph's left
//! side bearing, which squeezes narrow letters (`l`, `i`, `1`) against their left neighbour. Everything else is
//! passed to the wrapped backend unchanged.

use std::sync::LazyLock;

use ab_glyph::{point, Font, FontRef, Glyph, PxScale, ScaleFont};
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

use crate::font::DEJAVU_SANS;

/// Ratio of plotters' text size to the em size.
const SIZE_PER_EM: f32 = 1.24;

static FONT: LazyLock<Option<FontRef<'static>>> = LazyLock::new(|| FontRef::try_from_slice(DEJAVU_SANS).ok());

/// The bundled font, parsed once; `None` if the file is not a font.
pub(crate) fn font() -> Option<&'static FontRef<'static>> {
    FONT.as_ref()
}

/// One line of text, laid out from (0, 0) at its top-left corner.
struct Line {
    glyphs: Vec<Glyph>,
    width: f32,
    height: f32,
}

fn layout(font: &FontRef<'static>, size: f64, text: &str) -> Line {
    let em = size as f32 / SIZE_PER_EM;
    let scale = PxScale::from(em * font.height_unscaled() / font.units_per_em().unwrap_or(2048.0));
    let scaled = font.as_scaled(scale);
    let mut glyphs = Vec::with_capacity(text.len());
    let mut x = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(previous) = previous {
            x += scaled.kern(previous, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(x, scaled.ascent())));
        x += scaled.h_advance(id);
        previous = Some(id);
    }
    Line { glyphs, width: x, height: scaled.ascent() - scaled.descent() }
}

/// A backend whose text is measured, and in PNG drawn, with the bundled font.
pub(crate) struct TextBackend<B> {
    inner: B,
    /// Draw glyphs as pixels (bitmap backends); otherwise the inner backend draws text (SVG).
    rasterize: bool,
}

impl<B: DrawingBackend> TextBackend<B> {
    /// Wraps a bitmap backend: text is drawn here, pixel by pixel.
    pub fn pixels(inner: B) -> TextBackend<B> {
        TextBackend { inner, rasterize: true }
    }

    /// Wraps a vector backend: text is only measured here and stays text.
    pub fn vector(inner: B) -> TextBackend<B> {
        TextBackend { inner, rasterize: false }
    }
}

impl<B: DrawingBackend> DrawingBackend for TextBackend<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        match font() {
            Some(font) => {
                let line = layout(font, style.size(), text);
                Ok((line.width.ceil() as u32, line.height.ceil() as u32))
            }
            None => self.inner.estimate_text_size(text, style),
        }
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        let Some(font) = font().filter(|_| self.rasterize) else {
            return self.inner.draw_text(text, style, pos);
        };
        if color.alpha == 0.0 {
            return Ok(());
        }
        let line = layout(font, style.size(), text);
        let (width, height) = (line.width.round() as i32, line.height.round() as i32);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Center => -width / 2,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        for glyph in line.glyphs {
            let Some(outline) = font.outline_glyph(glyph) else { continue };
            let bounds = outline.px_bounds();
            let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
            let mut pixels = Vec::new();
            outline.draw(|x, y, coverage| pixels.push((left + x as i32, top + y as i32, coverage)));
            for (x, y, coverage) in pixels {
                let coverage = f64::from(coverage.clamp(0.0, 1.0));
                if coverage <= 0.0 {
                    continue;
                }
                let (x, y) = transform.transform(x + dx, y + dy);
                let (x, y) = (pos.0 + x, pos.1 + y);
                if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                    let pixel = BackendColor { alpha: color.alpha * coverage, rgb: color.rgb };
                    self.inner.draw_pixel((x, y), pixel)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_glyphs_keep_their_side_bearing() {
        let font = font().expect("the bundled font parses");
        let line = layout(font, 15.0, "l1l");
        let lefts: Vec<f32> =
            line.glyphs.iter().map(|g| font.outline_glyph(g.clone()).unwrap().px_bounds().min.x).collect();
        assert!(lefts[0] > 0.5, "the l starts after its side bearing, not at the pen position: {lefts:?}");
        assert!(line.width > 10.0 && line.width < 25.0, "{}", line.width);
        assert!((line.height - 15.0 / SIZE_PER_EM * 1.164).abs() < 0.5, "{}", line.height);
    }
}
