//! Reading real Node.js GC logs: `--trace-gc`, `--trace-gc-nvp`, `--trace-gc-verbose` and the out-of-memory
//! text on stderr, of Node 6 to 24 (V8 5.x to 13.x). docs/gc-log.md describes the formats.
//!
//! [`LogReader`] streams over any [`BufRead`](std::io::BufRead) in constant memory (one line buffer, a bounded list of warnings
//! and of JS stack lines) and yields one [`Record`] per collection, verbose space line, ring-buffer entry or
//! death; [`LogSummary`] folds those records into the figures `gc-sim log` prints.
//!
//! ```
//! use gc_sim::gc_log::{LogReader, LogSummary};
//!
//! let log = "\
//! [5927:0x28fb9d70]       35 ms: Scavenge 4.4 (4.5) -> 3.9 (5.5) MB, 1.20 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; \n\
//! listening on :3000\n";
//! let mut reader = LogReader::new(log.as_bytes(), "stdout");
//! let mut summary = LogSummary::default();
//! while let Some(record) = reader.next_record()? {
//!     summary.add(&record);
//! }
//! summary.finish(&reader);
//! assert_eq!(summary.scavenges, 1);
//! assert_eq!(reader.stats().program_lines, 1);
//! # Ok::<(), std::io::Error>(())
//! ```

mod line;
mod oom;
mod reader;
mod report;
mod summary;

pub use line::{is_tool_reason, IncrementalMarking, LineError, LogCollector, LogGc, NvpFields, SpaceLine};
pub use oom::{parse_death, Death, DeathKind};
pub use reader::{LineStats, LogReader, Record, Warning, MAX_GC_LINE, MAX_JS_STACK_LINES, MAX_WARNINGS};
pub use report::{
    LogEvent, LogOom, LogReasonCount, LogReport, LogReportSummary, LogStorm, Percentiles, LOG_REPORT_SOURCE,
};
pub use summary::{
    LogSummary, PauseStats, ReasonCount, Storm, MAX_ISOLATES, MAX_RING_ENTRIES, MAX_SPACES, STORM_MAX_MU,
    STORM_MIN_FULL_GCS,
};
