//! The bundled font: DejaVu Sans 2.37 (Bitstream Vera license, `fonts/LICENSE-DejaVu.txt`), registered once with
//! plotters' `ab_glyph` renderer under the generic family name `sans-serif`.
//!
//! Registering it under the generic name means the PNG backend draws with DejaVu Sans on any machine, with no
//! system font or fontconfig, and SVG files say `font-family="sans-serif"`, which every viewer can show.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use plotters::style::{register_font, FontStyle};

use crate::VisualizerError;

/// The font file, embedded in the library.
pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The family every chart asks for.
pub(crate) const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// Registers the bundled font on the first call; later calls only report whether that worked.
pub(crate) fn ensure_registered() -> Result<(), VisualizerError> {
    REGISTER.call_once(|| {
        let ok = register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok();
        REGISTERED.store(ok, Ordering::Release);
    });
    if REGISTERED.load(Ordering::Acquire) {
        Ok(())
    } else {
        Err(VisualizerError::Font)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_font_registers_and_is_small() {
        assert!(super::ensure_registered().is_ok());
        assert!(super::ensure_registered().is_ok(), "a second call is harmless");
        assert!(super::DEJAVU_SANS.len() < 1 << 20, "the font must stay under 1 MiB");
    }
}
