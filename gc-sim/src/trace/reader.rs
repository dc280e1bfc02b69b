//! Reading a trace: [`read_trace`] detects the form (JSON or NDJSON) and the encoding, and hands the input to the
//! document reader ([`super::json`]) or the stream reader ([`super::ndjson`]), which feed a [`TraceVisitor`].
//! What the two readers share (error wording, positions) is here.

use std::borrow::Cow;
use std::io::{BufRead, Read};

use serde::de;

use super::error::{io_problem, Problem, ProblemKind, TraceError};
use super::json::read_json;
use super::ndjson::read_ndjson;
use super::visitor::{ReadSummary, TraceVisitor};
use crate::compressed;

/// The two forms of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// One JSON document with an `events` array.
    Json,
    /// Newline-delimited JSON: the header on the first line, then one event per line.
    Ndjson,
}

impl TraceFormat {
    /// The form a file name's extension implies: `.ndjson` and `.jsonl` are NDJSON, `.json` is JSON, also under
    /// `.gz` or `.zst` (`trace.ndjson.gz`); `None` for anything else (the form is then detected from the content).
    pub fn from_path(path: &std::path::Path) -> Option<TraceFormat> {
        // `trace.ndjson.gz`, `trace.json.zst`: the form is the extension under the compression's.
        let path = match path.extension()?.to_str()? {
            "gz" | "zst" => std::path::Path::new(path.file_stem()?),
            _ => path,
        };
        match path.extension()?.to_str()? {
            "ndjson" | "jsonl" => Some(TraceFormat::Ndjson),
            "json" => Some(TraceFormat::Json),
            _ => None,
        }
    }
}

/// Reads a trace from `input` and feeds it to `visitor`, streaming. `source_name` is used in error messages.
/// `format` is the trace's form, or `None` to detect it: a first line that is a complete JSON object without
/// `events` starts an NDJSON trace. A gzip- or zstd-compressed trace (recognised by its first bytes, whatever its
/// name) is decompressed as it is read; positions are then those of the decompressed text.
///
/// # Errors
/// The first problem met, from the input or from the visitor, with its position; a corrupt or cut compressed
/// stream is an I/O problem at the line it reached.
pub fn read_trace(
    mut input: impl BufRead,
    source_name: &str,
    format: Option<TraceFormat>,
    visitor: &mut impl TraceVisitor,
) -> Result<ReadSummary, TraceError> {
    let error = |line, problem| reading_error(source_name, line, problem);
    let mut magic = Vec::with_capacity(compressed::MAGIC_LEN);
    (&mut input)
        .take(compressed::MAGIC_LEN as u64)
        .read_to_end(&mut magic)
        .map_err(|e| error(Some(1), io_problem(&e)))?;
    let compression = compressed::detect(&magic);
    let input = std::io::Cursor::new(magic).chain(input);
    match compression {
        Some(compression) => {
            let decoder = compressed::decoder(compression, input).map_err(|e| error(Some(1), io_problem(&e)))?;
            read_plain(std::io::BufReader::with_capacity(1 << 16, decoder), source_name, format, visitor)
        }
        None => read_plain(input, source_name, format, visitor),
    }
}

/// A problem met while reading the start of a trace, before any event: no column, no event index.
fn reading_error(source_name: &str, line: Option<u64>, problem: Problem) -> TraceError {
    TraceError { source_name: source_name.to_owned(), line, column: None, event: None, problem }
}

/// [`read_trace`] of text that is not compressed (a compressed stream inside is named as an error).
fn read_plain(
    mut input: impl BufRead,
    source_name: &str,
    format: Option<TraceFormat>,
    visitor: &mut impl TraceVisitor,
) -> Result<ReadSummary, TraceError> {
    let error = |line, problem| reading_error(source_name, line, problem);
    // What the input starts with: a UTF-8 byte order mark is skipped (RFC 8259 lets a parser ignore it, and editors
    // on Windows write it); compressed or UTF-16 input is named, not reported as malformed JSON at 1:1. The bytes
    // read ahead here and for form detection are put back in front of the rest.
    let mut first_line = Vec::new();
    (&mut input)
        .take(UTF8_BOM.len() as u64 + 1)
        .read_to_end(&mut first_line)
        .map_err(|e| error(Some(1), io_problem(&e)))?;
    if first_line.starts_with(UTF8_BOM) {
        first_line.drain(..UTF8_BOM.len());
    } else if let Some(problem) = unreadable_encoding(&first_line) {
        return Err(error(Some(1), problem));
    }
    // The first line (at most `DETECTION_LIMIT` bytes of it) is read ahead to detect the form.
    let format = match format {
        Some(format) => format,
        None => {
            if !first_line.contains(&b'\n') {
                (&mut input)
                    .take(DETECTION_LIMIT)
                    .read_until(b'\n', &mut first_line)
                    .map_err(|e| error(Some(1), io_problem(&e)))?;
            }
            let end = first_line.iter().position(|&b| b == b'\n').map_or(first_line.len(), |i| i + 1);
            detect_format(&first_line[..end])
        }
    };
    let input = std::io::Cursor::new(first_line).chain(input);
    match format {
        TraceFormat::Ndjson => read_ndjson(input, source_name, visitor),
        // serde_json reads a document from a reader one byte at a time (`io::Bytes`), which std serves from the
        // buffer only for a `BufReader`: through the chain above, every byte was a call to `read`. The second buffer
        // costs one copy per 8 KiB and takes 0.84x the instructions and about 0.8x the time (docs/performance.md).
        TraceFormat::Json => read_json(std::io::BufReader::new(input), source_name, visitor),
    }
}

/// The UTF-8 encoding of U+FEFF, the byte order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decompressed text that starts like a compressed file, or UTF-16 text: what it is and what to do, instead of a
/// syntax error at its first byte.
fn unreadable_encoding(start: &[u8]) -> Option<Problem> {
    let what = if compressed::detect(start).is_some() {
        "is compressed twice (its decompressed text is compressed again): decompress it once first"
    } else if start.starts_with(&[0xff, 0xfe]) || start.starts_with(&[0xfe, 0xff]) {
        "is UTF-16 text (it starts with a UTF-16 byte order mark): a trace is UTF-8 JSON"
    } else {
        return None;
    };
    Some(Problem::new(ProblemKind::Syntax, format!("the trace {what}")))
}

/// How much of the first line form detection reads; a longer first line is a JSON document's.
pub(super) const DETECTION_LIMIT: u64 = 1 << 20;

/// A first line that is a complete JSON object without an `events` key is an NDJSON header. The keys are checked
/// without building values, so a long one-line document costs nothing here.
fn detect_format(first_line: &[u8]) -> TraceFormat {
    let keys = serde_json::from_slice::<std::collections::HashMap<Cow<'_, str>, de::IgnoredAny>>(first_line);
    match keys {
        Ok(keys) if !keys.contains_key("events") => TraceFormat::Ndjson,
        _ => TraceFormat::Json,
    }
}
