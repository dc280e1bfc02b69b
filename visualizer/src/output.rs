//! The two output formats: a PNG drawn by plotters' bitmap backend into memory and encoded with the `png` crate,
//! and an SVG document from plotters' SVG backend. Both are built in memory, so a failed chart writes no file.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend, WHITE};

use crate::error::Drawn;
use crate::text::TextBackend;
use crate::{font, text, ChartSize, VisualizerError};

/// The file format of a chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// A PNG image, 8-bit RGB.
    Png,
    /// An SVG document; text stays text (`font-family="sans-serif"`).
    Svg,
}

impl ImageFormat {
    /// SVG if the path's extension is `svg` (any case), PNG otherwise.
    pub fn from_path(path: &Path) -> ImageFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("svg") => ImageFormat::Svg,
            _ => ImageFormat::Png,
        }
    }
}

/// A chart that can draw itself on any plotters backend.
pub(crate) trait Chart {
    /// The chart's size.
    fn size(&self) -> ChartSize;
    /// Draws the chart on `root`, which is already filled with white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VisualizerError>;
}

/// Renders `chart` in `format`.
pub(crate) fn render<C: Chart>(chart: &C, format: ImageFormat) -> Result<Vec<u8>, VisualizerError> {
    let size = chart.size();
    size.validate()?;
    font::ensure_registered()?;
    if text::font().is_none() {
        return Err(VisualizerError::Font);
    }
    let dims = (size.width, size.height);
    match format {
        ImageFormat::Png => {
            let mut pixels = vec![0u8; size.width as usize * size.height as usize * 3];
            {
                let root = TextBackend::pixels(BitMapBackend::with_buffer(&mut pixels, dims)).into_drawing_area();
                root.fill(&WHITE).drawn()?;
                chart.draw(&root)?;
                root.present().drawn()?;
            }
            encode_png(&pixels, size)
        }
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = TextBackend::vector(SVGBackend::with_string(&mut svg, dims)).into_drawing_area();
                root.fill(&WHITE).drawn()?;
                chart.draw(&root)?;
                root.present().drawn()?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// Encodes an RGB buffer as PNG. The encoder has no clock or randomness: the same pixels give the same bytes.
fn encode_png(pixels: &[u8], size: ChartSize) -> Result<Vec<u8>, VisualizerError> {
    let mut out = Vec::with_capacity(pixels.len() / 8);
    let encoding = |e: png::EncodingError| VisualizerError::Encoding(e.to_string());
    let mut encoder = png::Encoder::new(&mut out, size.width, size.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().map_err(encoding)?;
    writer.write_image_data(pixels).map_err(encoding)?;
    writer.finish().map_err(encoding)?;
    Ok(out)
}

/// Writes a chart's bytes to `path`.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), VisualizerError> {
    std::fs::write(path, bytes).map_err(|source| VisualizerError::Io { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_chooses_the_format() {
        assert_eq!(ImageFormat::from_path(Path::new("heap.svg")), ImageFormat::Svg);
        assert_eq!(ImageFormat::from_path(Path::new("out/HEAP.SVG")), ImageFormat::Svg);
        assert_eq!(ImageFormat::from_path(Path::new("heap.png")), ImageFormat::Png);
        assert_eq!(ImageFormat::from_path(Path::new("heap")), ImageFormat::Png);
        assert_eq!(ImageFormat::from_path(Path::new("svg")), ImageFormat::Png);
    }
}
