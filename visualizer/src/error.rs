//! Why a chart could not be made.

use std::path::PathBuf;

use gc_sim::HeapMapMoment;

/// Why a chart could not be rendered or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VisualizerError {
    /// The chart file could not be written.
    #[error("cannot write the chart to {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The drawing backend failed (plotters' error, as text).
    #[error("cannot draw the chart: {0}")]
    Drawing(String),
    /// The PNG encoder failed.
    #[error("cannot encode the PNG: {0}")]
    Encoding(String),
    /// The bundled font could not be loaded.
    #[error("the bundled font cannot be loaded")]
    Font,
    /// The report has nothing to plot.
    #[error("the report \"{name}\" has nothing to plot: {reason}")]
    EmptyReport {
        /// The report's (trace's) name.
        name: String,
        /// What is missing.
        reason: &'static str,
    },
    /// A heap map was asked for at a moment the report has no map of.
    #[error(
        "the report \"{name}\" has no heap map at {moment}; its heap maps are at: {}",
        moment_list(.available)
    )]
    MissingHeapMap {
        /// The report's (trace's) name.
        name: String,
        /// The moment asked for.
        moment: HeapMapMoment,
        /// The moments of the report's maps, in the report's order.
        available: Vec<HeapMapMoment>,
    },
    /// A comparison was asked for with no report.
    #[error("a comparison needs at least one report")]
    NoReports,
    /// The requested chart size is out of bounds (see [`ChartSize`](crate::ChartSize)).
    #[error(
        "a chart of {width}×{height} pixels is not possible: the width must be 480 to 16384, the height 300 to 16384"
    )]
    InvalidSize {
        /// The requested width.
        width: u32,
        /// The requested height.
        height: u32,
    },
}

/// `before:8, after:8, end`.
fn moment_list(moments: &[HeapMapMoment]) -> String {
    moments.iter().map(HeapMapMoment::to_string).collect::<Vec<_>>().join(", ")
}

/// Turns a plotters error (or any displayable error) into [`VisualizerError::Drawing`].
pub(crate) trait Drawn<T> {
    /// The result, with the error as [`VisualizerError::Drawing`].
    fn drawn(self) -> Result<T, VisualizerError>;
}

impl<T, E: std::fmt::Display> Drawn<T> for Result<T, E> {
    fn drawn(self) -> Result<T, VisualizerError> {
        self.map_err(|e| VisualizerError::Drawing(e.to_string()))
    }
}
