//! A streaming reader of V8's heap snapshot JSON (`.heapsnapshot`, and `.heaptimeline` with allocation tracking).
//!
//! The file is one JSON object (V8's `HeapSnapshotJSONSerializer`, `src/profiler/heap-snapshot-generator.cc`):
//! `snapshot` (the `meta` field and type tables, the counts), then the flat numeric arrays `nodes`, `edges`,
//! `trace_function_infos`, `trace_tree` (nested), `samples`, `locations`, and `strings`. It is read in one pass
//! over a byte buffer, as DevTools' `HeapSnapshotLoader` does: each numeric array goes straight into one column
//! vector per field (`Vec<u8>`, `Vec<u32>`, `Vec<u64>`), strings into one text buffer, and only the small
//! `snapshot` header goes through serde. Fields are found by name in `snapshot.meta` (their order, and fields
//! V8 may add, are followed; unknown fields are read and dropped), and type values are checked against the type
//! tables. A gzip or zstd file is recognised by its first bytes (`crate::compressed`).
//!
//! Memory: the columns, the strings and a 64 KiB buffer. Vectors grow as numbers arrive, never to a size a header
//! declares, so a small file declaring a billion nodes allocates nothing big.

use std::io::{self, BufRead, BufReader, Read};

use serde::Deserialize;

/// What went wrong reading a snapshot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The input could not be read (or a gzip or zstd stream is corrupt).
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// The text is not a heap snapshot: malformed JSON, a missing field, a value of the wrong type.
    #[error("byte {offset}{gz}: {message}", gz = if *.gzip { " (of the decompressed text)" } else { "" })]
    Syntax {
        /// Byte offset of the problem in the (decompressed) text.
        offset: u64,
        /// Whether the input was compressed (the offset is then in the decompressed text).
        gzip: bool,
        /// What is wrong.
        message: String,
    },
    /// The JSON is well formed, but its arrays do not describe a graph: an edge to a node that does not exist, edge
    /// counts that do not add up, a string index past the strings.
    #[error("{0}")]
    Inconsistent(String),
}

/// The node types V8 11.3 writes (`HeapEntry::Type`), in its order. Files name their own table in
/// `snapshot.meta.node_types`; this is only the vocabulary the analysis gives a meaning to.
pub const NODE_TYPES: [&str; 16] = [
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
    "wasm object",
];

/// The edge types V8 11.3 writes (`HeapGraphEdge::Type`), in its order.
pub const EDGE_TYPES: [&str; 7] = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"];

/// The `snapshot` header as written: `meta` and the counts.
#[derive(Clone, Debug, Default, Deserialize)]
struct Header {
    meta: MetaJson,
    #[serde(default)]
    node_count: Option<u64>,
    #[serde(default)]
    edge_count: Option<u64>,
    #[serde(default)]
    root_index: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct MetaJson {
    node_fields: Vec<String>,
    node_types: Vec<TypeEntry>,
    edge_fields: Vec<String>,
    edge_types: Vec<TypeEntry>,
    #[serde(default)]
    trace_function_info_fields: Vec<String>,
    #[serde(default)]
    trace_node_fields: Vec<String>,
    #[serde(default)]
    sample_fields: Vec<String>,
    #[serde(default)]
    location_fields: Vec<String>,
}

/// An entry of `node_types`/`edge_types`: the table of an enumerated field, or the kind of a plain one.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum TypeEntry {
    Table(Vec<String>),
    Kind(#[allow(dead_code)] String),
}

/// The layout a file declares in `snapshot.meta`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// `node_fields`, in file order.
    pub node_fields: Vec<String>,
    /// The node type table (`node_types[index of "type"]`).
    pub node_types: Vec<String>,
    /// `edge_fields`, in file order.
    pub edge_fields: Vec<String>,
    /// The edge type table.
    pub edge_types: Vec<String>,
    /// `trace_function_info_fields` (empty without allocation tracking).
    pub trace_function_info_fields: Vec<String>,
    /// `trace_node_fields`.
    pub trace_node_fields: Vec<String>,
    /// `sample_fields`.
    pub sample_fields: Vec<String>,
    /// `location_fields`.
    pub location_fields: Vec<String>,
}

/// The strings of a snapshot, in one buffer.
#[derive(Clone, Debug, Default)]
pub struct Strings {
    text: String,
    ends: Vec<usize>,
}

impl Strings {
    /// The number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// String `index`, or `""` past the end (indexes are checked when a snapshot is read).
    pub fn get(&self, index: u32) -> &str {
        let i = index as usize;
        if i >= self.ends.len() {
            return "";
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Appends a string (for tests and generators).
    pub fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len());
        (self.ends.len() - 1) as u32
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

/// One node of the allocation trace tree (`trace_tree`, with allocation tracking).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceNode {
    /// `id`: the value nodes' `trace_node_id` refers to.
    pub id: u32,
    /// `function_info_index`: an index into the trace function infos.
    pub function_info_index: u32,
    /// `count`: live objects allocated here when the tree was written.
    pub count: u32,
    /// `size`: their bytes.
    pub size: u64,
    /// Index of the parent in [`RawSnapshot::trace_tree`], `u32::MAX` for a top node.
    pub parent: u32,
}

/// A heap snapshot as read: one column per node and edge field, the strings, and the allocation-tracking arrays.
/// Edges are in node order (node `n`'s edges follow node `n - 1`'s); `edge_to` holds node ordinals (V8 writes the
/// index of the target's first field, `ordinal * node_fields`).
#[derive(Clone, Debug, Default)]
pub struct RawSnapshot {
    /// The declared layout.
    pub meta: Meta,
    /// The root node's ordinal (`snapshot.root_index`, 0 when absent).
    pub root: u32,
    /// Node `type`, an index into [`Meta::node_types`].
    pub node_type: Vec<u8>,
    /// Node `name`, a string index.
    pub node_name: Vec<u32>,
    /// Node `id`: stable for an object within one process (V8's `HeapObjectsMap`).
    pub node_id: Vec<u32>,
    /// Node `self_size` in bytes.
    pub node_self_size: Vec<u64>,
    /// Node `edge_count`.
    pub node_edge_count: Vec<u32>,
    /// Node `trace_node_id` (empty when the file has no such field).
    pub node_trace_node_id: Vec<u32>,
    /// Node `detachedness` (empty when the file has no such field).
    pub node_detachedness: Vec<u8>,
    /// Edge `type`, an index into [`Meta::edge_types`].
    pub edge_type: Vec<u8>,
    /// Edge `name_or_index`: a string index, or an element/hidden index.
    pub edge_name: Vec<u32>,
    /// Edge `to_node`, as a node ordinal.
    pub edge_to: Vec<u32>,
    /// `strings`.
    pub strings: Strings,
    /// `trace_function_infos`, flat (`meta.trace_function_info_fields.len()` numbers each).
    pub trace_function_infos: Vec<u32>,
    /// `trace_tree`, flattened.
    pub trace_tree: Vec<TraceNode>,
    /// `samples`, flat (`meta.sample_fields.len()` numbers each: timestamp in µs, last assigned id).
    pub samples: Vec<u64>,
    /// `locations`, flat (`meta.location_fields.len()` numbers each; `object_index` converted to an ordinal).
    pub locations: Vec<u32>,
}

impl RawSnapshot {
    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.node_type.len()
    }

    /// The number of edges.
    pub fn edge_count(&self) -> usize {
        self.edge_type.len()
    }

    /// Gives back the room the vectors grew into while reading (up to half of each).
    fn shrink_to_fit(&mut self) {
        self.node_type.shrink_to_fit();
        self.node_name.shrink_to_fit();
        self.node_id.shrink_to_fit();
        self.node_self_size.shrink_to_fit();
        self.node_edge_count.shrink_to_fit();
        self.node_trace_node_id.shrink_to_fit();
        self.node_detachedness.shrink_to_fit();
        self.edge_type.shrink_to_fit();
        self.edge_name.shrink_to_fit();
        self.edge_to.shrink_to_fit();
        self.strings.text.shrink_to_fit();
        self.strings.ends.shrink_to_fit();
        self.trace_function_infos.shrink_to_fit();
        self.trace_tree.shrink_to_fit();
        self.samples.shrink_to_fit();
        self.locations.shrink_to_fit();
    }

    /// Bytes held by the columns and strings (capacity, so what the reader allocated).
    pub fn heap_bytes(&self) -> usize {
        fn cap<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        cap(&self.node_type)
            + cap(&self.node_name)
            + cap(&self.node_id)
            + cap(&self.node_self_size)
            + cap(&self.node_edge_count)
            + cap(&self.node_trace_node_id)
            + cap(&self.node_detachedness)
            + cap(&self.edge_type)
            + cap(&self.edge_name)
            + cap(&self.edge_to)
            + self.strings.heap_bytes()
            + cap(&self.trace_function_infos)
            + cap(&self.trace_tree)
            + cap(&self.samples)
            + cap(&self.locations)
    }
}

/// The largest `snapshot` header read (it is a few hundred bytes in V8's files).
const MAX_HEADER: usize = 1 << 20;
/// The most elements reserved ahead of time for an array (the rest grows as numbers arrive).
const MAX_RESERVE: usize = 1 << 12;
/// The deepest nesting skipped or read in `trace_tree` or an unknown field (V8's trace tree is as deep as the
/// deepest allocation stack, bounded by its stack depth limit).
const MAX_DEPTH: usize = 100_000;

/// Reads a snapshot from `input`, gzip- or zstd-compressed or not (recognised by its first bytes).
pub fn read_snapshot(input: impl Read) -> Result<RawSnapshot, SnapshotError> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let head = buffered.fill_buf()?;
    match crate::compressed::detect(head) {
        Some(compression) => Parser::new(crate::compressed::decoder(compression, buffered)?, true).parse(),
        None => Parser::new(buffered, false).parse(),
    }
}

/// Reads the snapshot file at `path` (see [`read_snapshot`]).
pub fn read_snapshot_file(path: &std::path::Path) -> Result<RawSnapshot, SnapshotError> {
    read_snapshot(std::fs::File::open(path)?)
}

/// Where each node field goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NodeField {
    Type,
    Name,
    Id,
    SelfSize,
    EdgeCount,
    TraceNodeId,
    Detachedness,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EdgeField {
    Type,
    Name,
    To,
    Other,
}

struct Parser<R> {
    input: R,
    gzip: bool,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Bytes of the text before `buf[0]`.
    base: u64,
    eof: bool,
}

impl<R: Read> Parser<R> {
    fn new(input: R, gzip: bool) -> Parser<R> {
        Parser { input, gzip, buf: vec![0; 1 << 16].into_boxed_slice(), pos: 0, len: 0, base: 0, eof: false }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, SnapshotError> {
        Err(SnapshotError::Syntax { offset: self.offset(), gzip: self.gzip, message: message.into() })
    }

    fn error_at<T>(&self, offset: u64, message: impl Into<String>) -> Result<T, SnapshotError> {
        Err(SnapshotError::Syntax { offset, gzip: self.gzip, message: message.into() })
    }

    /// Refills the buffer when it is used up; false at the end of the input.
    #[inline]
    fn fill(&mut self) -> Result<bool, SnapshotError> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.base += self.len as u64;
        self.pos = 0;
        self.len = 0;
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A compressed stream cut short or corrupt (the error names the compression): say where in the text
                // it stopped.
                Err(e) if self.gzip => {
                    return self.error(format!("the compressed stream is cut short or corrupt: {e}"))
                }
                Err(e) => return Err(SnapshotError::Io(e)),
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> Result<Option<u8>, SnapshotError> {
        Ok(if self.fill()? { Some(self.buf[self.pos]) } else { None })
    }

    /// The next byte that is not JSON whitespace (not consumed).
    #[inline]
    fn peek_token(&mut self) -> Result<Option<u8>, SnapshotError> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                other => return Ok(other),
            }
        }
    }

    fn describe(byte: Option<u8>) -> String {
        match byte {
            None => "the end of the input (the file is truncated)".to_owned(),
            Some(b) if b.is_ascii_graphic() => format!("'{}'", b as char),
            Some(b) => format!("byte 0x{b:02x}"),
        }
    }

    fn expect(&mut self, want: u8, what: &str) -> Result<(), SnapshotError> {
        match self.peek_token()? {
            Some(b) if b == want => {
                self.pos += 1;
                Ok(())
            }
            other => self.error(format!("expected {what}, found {}", Self::describe(other))),
        }
    }

    fn parse(mut self) -> Result<RawSnapshot, SnapshotError> {
        let mut snap = RawSnapshot::default();
        let mut header: Option<(Header, u64)> = None;
        let mut seen: Vec<String> = Vec::new();
        let mut array_offsets = ArrayOffsets::default();
        match self.peek_token()? {
            Some(b'{') => self.pos += 1,
            None => return self.error("the input is empty: not a heap snapshot"),
            other => {
                return self.error(format!(
                    "expected '{{' (a heap snapshot is one JSON object), found {}",
                    Self::describe(other)
                ))
            }
        }
        let mut first = true;
        loop {
            match self.peek_token()? {
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(b',') if !first => self.pos += 1,
                other if !first => {
                    return self.error(format!("expected ',' or '}}' after a field, found {}", Self::describe(other)))
                }
                _ => {}
            }
            first = false;
            let key_offset = self.offset();
            let key = self.string_value("a field name")?;
            self.expect(b':', "':' after a field name")?;
            if seen.contains(&key) {
                return self.error_at(key_offset, format!("the field \"{key}\" appears twice"));
            }
            let start = self.offset();
            if key != "snapshot" && key != "strings" && header.is_none() && is_known_array(&key) {
                return self.error_at(
                    key_offset,
                    format!("\"{key}\" comes before \"snapshot\": its meta must come first, as V8 writes it"),
                );
            }
            match key.as_str() {
                "snapshot" => {
                    let h = self.header()?;
                    snap.meta = h.0.clone();
                    header = Some((h.1, start));
                }
                "nodes" => {
                    array_offsets.nodes = start;
                    let (h, _) = header.as_ref().expect("checked above");
                    self.nodes(&mut snap, h)?;
                }
                "edges" => {
                    array_offsets.edges = start;
                    let (h, _) = header.as_ref().expect("checked above");
                    self.edges(&mut snap, h)?;
                }
                "strings" => {
                    array_offsets.strings = start;
                    self.strings(&mut snap.strings)?;
                }
                "trace_function_infos" => {
                    snap.trace_function_infos = self.u32_array("trace_function_infos")?;
                }
                "trace_tree" => {
                    array_offsets.trace_tree = start;
                    snap.trace_tree = self.trace_tree(&snap.meta.trace_node_fields)?;
                }
                "samples" => {
                    snap.samples = self.u64_array("samples")?;
                }
                "locations" => {
                    array_offsets.locations = start;
                    snap.locations = self.u32_array("locations")?;
                }
                _ => self.skip_value()?,
            }
            seen.push(key);
        }
        if let Some(b) = self.peek_token()? {
            return self.error(format!("{} after the end of the snapshot object", Self::describe(Some(b))));
        }
        let Some((header, header_offset)) = header else {
            return self.error_at(0, "no \"snapshot\" field: not a V8 heap snapshot");
        };
        for (name, present) in [
            ("nodes", seen.iter().any(|k| k == "nodes")),
            ("edges", seen.iter().any(|k| k == "edges")),
            ("strings", seen.iter().any(|k| k == "strings")),
        ] {
            if !present {
                return Err(SnapshotError::Inconsistent(format!("no \"{name}\" array: not a complete heap snapshot")));
            }
        }
        self.check(&mut snap, &header, header_offset, &array_offsets)?;
        snap.shrink_to_fit();
        Ok(snap)
    }

    /// The `snapshot` header: its raw bytes, then serde.
    fn header(&mut self) -> Result<(Meta, Header), SnapshotError> {
        let start = self.offset();
        let mut raw = Vec::new();
        self.capture_value(&mut raw)?;
        let header: Header = match serde_json::from_slice(&raw) {
            Ok(h) => h,
            Err(e) => {
                // serde counts lines and columns within the header; turn them into a byte offset.
                let mut offset = 0usize;
                for (i, line) in raw.split(|&b| b == b'\n').enumerate() {
                    if i + 1 == e.line() {
                        offset += e.column().saturating_sub(1).min(line.len());
                        break;
                    }
                    offset += line.len() + 1;
                }
                return self.error_at(start + offset as u64, format!("in \"snapshot\": {e}"));
            }
        };
        let m = &header.meta;
        let table = |fields: &[String], types: &[TypeEntry], what: &str| -> Result<Vec<String>, String> {
            let at = fields.iter().position(|f| f == "type").ok_or(format!("{what}_fields has no \"type\""))?;
            match types.get(at) {
                Some(TypeEntry::Table(t)) if t.len() <= 256 => Ok(t.clone()),
                Some(TypeEntry::Table(t)) => Err(format!("{what}_types has {} types; at most 256 are read", t.len())),
                _ => Err(format!("{what}_types[{at}] (the \"type\" field) is not a list of type names")),
            }
        };
        let node_types = table(&m.node_fields, &m.node_types, "node").or_else(|e| self.error_at(start, e))?;
        let edge_types = table(&m.edge_fields, &m.edge_types, "edge").or_else(|e| self.error_at(start, e))?;
        for (fields, need, what) in [
            (&m.node_fields, &["type", "name", "id", "self_size", "edge_count"][..], "node_fields"),
            (&m.edge_fields, &["type", "name_or_index", "to_node"][..], "edge_fields"),
        ] {
            for n in need {
                if !fields.iter().any(|f| f == n) {
                    return self.error_at(start, format!("snapshot.meta.{what} has no \"{n}\" field"));
                }
            }
        }
        if m.trace_node_fields.iter().any(|f| f == "children") && !m.trace_node_fields.iter().any(|f| f == "id") {
            return self.error_at(start, "snapshot.meta.trace_node_fields has \"children\" but no \"id\"");
        }
        let meta = Meta {
            node_fields: m.node_fields.clone(),
            node_types,
            edge_fields: m.edge_fields.clone(),
            edge_types,
            trace_function_info_fields: m.trace_function_info_fields.clone(),
            trace_node_fields: m.trace_node_fields.clone(),
            sample_fields: m.sample_fields.clone(),
            location_fields: m.location_fields.clone(),
        };
        Ok((meta, header))
    }

    /// Copies one JSON value's bytes (at most [`MAX_HEADER`]).
    fn capture_value(&mut self, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
        let start = self.offset();
        self.peek_token()?;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let Some(b) = self.peek()? else {
                return self.error("the input ends inside \"snapshot\" (the file is truncated)");
            };
            self.pos += 1;
            out.push(b);
            if out.len() > MAX_HEADER {
                return self.error_at(start, format!("\"snapshot\" is longer than {MAX_HEADER} bytes"));
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return self.error("unbalanced bracket in \"snapshot\"");
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ if depth == 0 => {
                    // A scalar: read to its end.
                    while let Some(c) = self.peek()? {
                        if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                            break;
                        }
                        out.push(c);
                        self.pos += 1;
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
    }

    /// An unsigned integer (JSON number without sign, fraction or exponent), or the error naming `what`.
    #[inline]
    fn number(&mut self, what: &str) -> Result<u64, SnapshotError> {
        let start = self.offset();
        let mut value: u64 = 0;
        let mut digits = 0usize;
        loop {
            if self.pos >= self.len && !self.fill()? {
                break;
            }
            let b = self.buf[self.pos];
            if !b.is_ascii_digit() {
                break;
            }
            value = match value.checked_mul(10).and_then(|v| v.checked_add(u64::from(b - b'0'))) {
                Some(v) => v,
                None => return self.error_at(start, format!("{what}: the number is larger than 2^64 - 1")),
            };
            digits += 1;
            self.pos += 1;
        }
        if digits == 0 {
            let found = self.peek()?;
            return self.error(format!("{what}: expected an unsigned integer, found {}", Self::describe(found)));
        }
        if let Some(b'.' | b'e' | b'E') = self.peek()? {
            return self.error(format!("{what}: expected an unsigned integer, found a fraction or an exponent"));
        }
        Ok(value)
    }

    /// Calls `each(parser, number)` for every number of a flat array, with its index.
    fn array(
        &mut self,
        what: &str,
        mut each: impl FnMut(&mut Self, usize, u64, u64) -> Result<(), SnapshotError>,
    ) -> Result<usize, SnapshotError> {
        match self.peek_token()? {
            Some(b'[') => self.pos += 1,
            other => return self.error(format!("\"{what}\": expected '[', found {}", Self::describe(other))),
        }
        if self.peek_token()? == Some(b']') {
            self.pos += 1;
            return Ok(0);
        }
        let mut i = 0usize;
        loop {
            self.peek_token()?;
            let at = self.offset();
            let v = self.number(what)?;
            each(self, i, v, at)?;
            i += 1;
            match self.peek_token()? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(i);
                }
                other => {
                    return self.error(format!("\"{what}\": expected ',' or ']', found {}", Self::describe(other)))
                }
            }
        }
    }

    fn u32_array(&mut self, what: &str) -> Result<Vec<u32>, SnapshotError> {
        let mut out = Vec::new();
        self.array(what, |p, _, v, at| {
            let v = u32::try_from(v).or_else(|_| p.error_at(at, format!("\"{what}\": {v} is larger than 2^32 - 1")))?;
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    fn u64_array(&mut self, what: &str) -> Result<Vec<u64>, SnapshotError> {
        let mut out = Vec::new();
        self.array(what, |_, _, v, _| {
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    fn nodes(&mut self, snap: &mut RawSnapshot, header: &Header) -> Result<(), SnapshotError> {
        let fields: Vec<NodeField> = snap
            .meta
            .node_fields
            .iter()
            .map(|f| match f.as_str() {
                "type" => NodeField::Type,
                "name" => NodeField::Name,
                "id" => NodeField::Id,
                "self_size" => NodeField::SelfSize,
                "edge_count" => NodeField::EdgeCount,
                "trace_node_id" => NodeField::TraceNodeId,
                "detachedness" => NodeField::Detachedness,
                _ => NodeField::Other,
            })
            .collect();
        let per = fields.len();
        let reserve = header.node_count.unwrap_or(0).min(MAX_RESERVE as u64) as usize;
        snap.node_type.reserve(reserve);
        snap.node_name.reserve(reserve);
        snap.node_id.reserve(reserve);
        snap.node_self_size.reserve(reserve);
        snap.node_edge_count.reserve(reserve);
        let types = snap.meta.node_types.len() as u64;
        let count = self.array("nodes", |p, i, v, at| {
            let field = fields[i % per];
            let small = |p: &Self, name: &str| {
                u32::try_from(v).or_else(|_| {
                    p.error_at(at, format!("\"nodes\": node {} {name} {v} is larger than 2^32 - 1", i / per))
                })
            };
            match field {
                NodeField::Type => {
                    if v >= types {
                        return p.error_at(
                            at,
                            format!("\"nodes\": node {} has type {v}, but node_types has {types} types", i / per),
                        );
                    }
                    snap.node_type.push(v as u8);
                }
                NodeField::Name => snap.node_name.push(small(p, "name")?),
                NodeField::Id => snap.node_id.push(small(p, "id")?),
                NodeField::SelfSize => snap.node_self_size.push(v),
                NodeField::EdgeCount => snap.node_edge_count.push(small(p, "edge_count")?),
                NodeField::TraceNodeId => snap.node_trace_node_id.push(small(p, "trace_node_id")?),
                NodeField::Detachedness => snap.node_detachedness.push(v.min(255) as u8),
                NodeField::Other => {}
            }
            Ok(())
        })?;
        if count % per != 0 {
            return self.error(format!(
                "\"nodes\" has {count} numbers, not a multiple of the {per} node fields (the last node is cut short)"
            ));
        }
        Ok(())
    }

    fn edges(&mut self, snap: &mut RawSnapshot, header: &Header) -> Result<(), SnapshotError> {
        let fields: Vec<EdgeField> = snap
            .meta
            .edge_fields
            .iter()
            .map(|f| match f.as_str() {
                "type" => EdgeField::Type,
                "name_or_index" => EdgeField::Name,
                "to_node" => EdgeField::To,
                _ => EdgeField::Other,
            })
            .collect();
        let per = fields.len();
        let reserve = header.edge_count.unwrap_or(0).min(MAX_RESERVE as u64) as usize;
        snap.edge_type.reserve(reserve);
        snap.edge_name.reserve(reserve);
        snap.edge_to.reserve(reserve);
        let types = snap.meta.edge_types.len() as u64;
        let count = self.array("edges", |p, i, v, at| {
            match fields[i % per] {
                EdgeField::Type => {
                    if v >= types {
                        return p.error_at(
                            at,
                            format!("\"edges\": edge {} has type {v}, but edge_types has {types} types", i / per),
                        );
                    }
                    snap.edge_type.push(v as u8);
                }
                EdgeField::Name | EdgeField::To => {
                    let v = u32::try_from(v).or_else(|_| {
                        p.error_at(at, format!("\"edges\": edge {}: {v} is larger than 2^32 - 1", i / per))
                    })?;
                    if fields[i % per] == EdgeField::Name {
                        snap.edge_name.push(v);
                    } else {
                        snap.edge_to.push(v);
                    }
                }
                EdgeField::Other => {}
            }
            Ok(())
        })?;
        if count % per != 0 {
            return self.error(format!(
                "\"edges\" has {count} numbers, not a multiple of the {per} edge fields (the last edge is cut short)"
            ));
        }
        Ok(())
    }

    fn strings(&mut self, strings: &mut Strings) -> Result<(), SnapshotError> {
        match self.peek_token()? {
            Some(b'[') => self.pos += 1,
            other => return self.error(format!("\"strings\": expected '[', found {}", Self::describe(other))),
        }
        if self.peek_token()? == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut bytes = Vec::new();
        loop {
            match self.peek_token()? {
                Some(b'"') => {}
                other => return self.error(format!("\"strings\": expected a string, found {}", Self::describe(other))),
            }
            bytes.clear();
            self.string_bytes(&mut bytes)?;
            strings.text.push_str(&String::from_utf8_lossy(&bytes));
            strings.ends.push(strings.text.len());
            match self.peek_token()? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                other => {
                    return self.error(format!("\"strings\": expected ',' or ']', found {}", Self::describe(other)))
                }
            }
        }
    }

    fn string_value(&mut self, what: &str) -> Result<String, SnapshotError> {
        match self.peek_token()? {
            Some(b'"') => {}
            other => return self.error(format!("expected {what} (a string), found {}", Self::describe(other))),
        }
        let mut bytes = Vec::new();
        self.string_bytes(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A JSON string (at its opening quote), unescaped into `out` as UTF-8. Lone surrogates (V8 writes them as
    /// `\uD800`) become U+FFFD, as invalid UTF-8 does.
    fn string_bytes(&mut self, out: &mut Vec<u8>) -> Result<(), SnapshotError> {
        let start = self.offset();
        self.pos += 1; // the quote
        let mut pending_high: Option<u16> = None;
        loop {
            if self.pos >= self.len && !self.fill()? {
                return self.error_at(start, "a string is not closed (the file is truncated)");
            }
            // Copy the plain run at once.
            let run = &self.buf[self.pos..self.len];
            let plain = run.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(run.len());
            if plain > 0 {
                if let Some(_high) = pending_high.take() {
                    out.extend_from_slice("\u{fffd}".as_bytes());
                }
                out.extend_from_slice(&run[..plain]);
                self.pos += plain;
                continue;
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            match b {
                b'"' => {
                    if pending_high.take().is_some() {
                        out.extend_from_slice("\u{fffd}".as_bytes());
                    }
                    return Ok(());
                }
                b'\\' => {
                    let Some(e) = self.peek()? else {
                        return self.error_at(start, "a string is not closed (the file is truncated)");
                    };
                    self.pos += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        other => {
                            return self.error(format!("invalid escape '\\{}' in a string", other as char));
                        }
                    };
                    if let Some(c) = simple {
                        if pending_high.take().is_some() {
                            out.extend_from_slice("\u{fffd}".as_bytes());
                        }
                        out.push(c);
                        continue;
                    }
                    let mut unit: u16 = 0;
                    for _ in 0..4 {
                        let Some(h) = self.peek()? else {
                            return self.error_at(start, "a string is not closed (the file is truncated)");
                        };
                        let d = match (h as char).to_digit(16) {
                            Some(d) => d as u16,
                            None => return self.error("invalid \\u escape in a string (expected 4 hex digits)"),
                        };
                        unit = unit * 16 + d;
                        self.pos += 1;
                    }
                    match (pending_high.take(), unit) {
                        (Some(high), 0xDC00..=0xDFFF) => {
                            let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                            let c = char::from_u32(c).unwrap_or('\u{fffd}');
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        (previous, 0xD800..=0xDBFF) => {
                            if previous.is_some() {
                                out.extend_from_slice("\u{fffd}".as_bytes());
                            }
                            pending_high = Some(unit);
                        }
                        (previous, _) => {
                            if previous.is_some() {
                                out.extend_from_slice("\u{fffd}".as_bytes());
                            }
                            let c = char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}');
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                    }
                }
                _ => return self.error("a control character inside a string (JSON requires it escaped)"),
            }
        }
    }

    /// `trace_tree`: `[id, function_info_index, count, size, [children], ...]` in `trace_node_fields` order,
    /// nested; read with an explicit stack.
    fn trace_tree(&mut self, fields: &[String]) -> Result<Vec<TraceNode>, SnapshotError> {
        let per = fields.len();
        let children_at = fields.iter().position(|f| f == "children");
        let mut out: Vec<TraceNode> = Vec::new();
        // Per open array: the parent node's index and the position within the current node's fields.
        let mut stack: Vec<(u32, usize)> = Vec::new();
        match self.peek_token()? {
            Some(b'[') => self.pos += 1,
            other => return self.error(format!("\"trace_tree\": expected '[', found {}", Self::describe(other))),
        }
        stack.push((u32::MAX, 0));
        let mut need_value = false;
        loop {
            let tok = self.peek_token()?;
            if tok == Some(b']') && !need_value {
                self.pos += 1;
                let (_, at) = stack.pop().expect("an open array");
                if at != 0 {
                    return self.error("\"trace_tree\": an array ends inside a node's fields");
                }
                let Some(top) = stack.last_mut() else { return Ok(out) };
                top.1 = (top.1 + 1) % per.max(1);
                if self.after_value("trace_tree")? {
                    need_value = true;
                }
                continue;
            }
            let (parent, at) = *stack.last().expect("an open array");
            if per == 0 {
                return self.error("\"trace_tree\" has values but snapshot.meta.trace_node_fields is empty");
            }
            if Some(at) == children_at {
                if tok != Some(b'[') {
                    return self
                        .error(format!("\"trace_tree\": expected a children array, found {}", Self::describe(tok)));
                }
                self.pos += 1;
                if stack.len() > MAX_DEPTH {
                    return self.error(format!("\"trace_tree\" is nested deeper than {MAX_DEPTH}"));
                }
                let node = out.len() as u32 - 1;
                stack.push((node, 0));
                need_value = false;
                continue;
            }
            let v = self.number("trace_tree")?;
            if at == 0 {
                out.push(TraceNode { id: 0, function_info_index: 0, count: 0, size: 0, parent });
            }
            let node = out.last_mut().expect("pushed");
            match fields[at].as_str() {
                "id" => node.id = v.min(u64::from(u32::MAX)) as u32,
                "function_info_index" => node.function_info_index = v.min(u64::from(u32::MAX)) as u32,
                "count" => node.count = v.min(u64::from(u32::MAX)) as u32,
                "size" => node.size = v,
                _ => {}
            }
            stack.last_mut().expect("open").1 = (at + 1) % per;
            need_value = self.after_value("trace_tree")?;
        }
    }

    /// After a value in an array: consumes a ',' (true: a value must follow) or sees a ']' (false).
    fn after_value(&mut self, what: &str) -> Result<bool, SnapshotError> {
        match self.peek_token()? {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b']') => Ok(false),
            other => self.error(format!("\"{what}\": expected ',' or ']', found {}", Self::describe(other))),
        }
    }

    /// Skips any JSON value (an unknown field), checking its syntax, with a depth counter instead of recursion.
    fn skip_value(&mut self) -> Result<(), SnapshotError> {
        let mut stack: Vec<u8> = Vec::new();
        loop {
            // A value.
            match self.peek_token()? {
                Some(b'{') => {
                    self.pos += 1;
                    if self.peek_token()? == Some(b'}') {
                        self.pos += 1;
                    } else {
                        stack.push(b'}');
                        if stack.len() > MAX_DEPTH {
                            return self.error("a value nested too deeply");
                        }
                        self.string_value("a field name")?;
                        self.expect(b':', "':'")?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    if self.peek_token()? == Some(b']') {
                        self.pos += 1;
                    } else {
                        stack.push(b']');
                        if stack.len() > MAX_DEPTH {
                            return self.error("a value nested too deeply");
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    let mut sink = Vec::new();
                    self.string_bytes(&mut sink)?;
                }
                Some(b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                    while let Some(c) = self.peek()? {
                        if !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')) {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                other => return self.error(format!("expected a value, found {}", Self::describe(other))),
            }
            // After a value: close what is closed, or go on after a comma.
            loop {
                let Some(&close) = stack.last() else { return Ok(()) };
                match self.peek_token()? {
                    Some(b',') => {
                        self.pos += 1;
                        if close == b'}' {
                            self.string_value("a field name")?;
                            self.expect(b':', "':'")?;
                        }
                        break;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        stack.pop();
                    }
                    other => {
                        return self.error(format!(
                            "expected ',' or '{}', found {}",
                            close as char,
                            Self::describe(other)
                        ))
                    }
                }
            }
        }
    }

    /// Checks the arrays against each other and converts `to_node` and location indexes to ordinals.
    fn check(
        &self,
        snap: &mut RawSnapshot,
        header: &Header,
        header_offset: u64,
        at: &ArrayOffsets,
    ) -> Result<(), SnapshotError> {
        let inconsistent = |m: String| Err(SnapshotError::Inconsistent(m));
        let nodes = snap.node_type.len();
        let per_node = snap.meta.node_fields.len() as u64;
        if let Some(declared) = header.node_count {
            if declared != nodes as u64 {
                return inconsistent(format!(
                    "snapshot.node_count (byte {header_offset}) is {declared}, but \"nodes\" (byte {}) holds {nodes} nodes",
                    at.nodes
                ));
            }
        }
        let edges = snap.edge_type.len();
        if let Some(declared) = header.edge_count {
            if declared != edges as u64 {
                return inconsistent(format!(
                    "snapshot.edge_count (byte {header_offset}) is {declared}, but \"edges\" (byte {}) holds {edges} edges",
                    at.edges
                ));
            }
        }
        let sum: u64 = snap.node_edge_count.iter().map(|&c| u64::from(c)).sum();
        if sum != edges as u64 {
            return inconsistent(format!(
                "the nodes' edge_count fields add up to {sum} edges, but \"edges\" (byte {}) holds {edges}",
                at.edges
            ));
        }
        if nodes == 0 {
            return inconsistent("\"nodes\" is empty: a snapshot has at least its root node".to_owned());
        }
        if nodes as u64 >= u64::from(u32::MAX) || edges as u64 >= u64::from(u32::MAX) {
            return inconsistent(format!("{nodes} nodes and {edges} edges: gc-sim reads up to 2^32 - 2 of each"));
        }
        let root = header.root_index.unwrap_or(0);
        if root % per_node != 0 || root / per_node >= nodes as u64 {
            return inconsistent(format!(
                "snapshot.root_index {root} is not the index of a node ({nodes} nodes of {per_node} fields)"
            ));
        }
        snap.root = (root / per_node) as u32;
        for (k, to) in snap.edge_to.iter_mut().enumerate() {
            let v = u64::from(*to);
            if v % per_node != 0 || v / per_node >= nodes as u64 {
                return inconsistent(format!(
                    "\"edges\" (byte {}): edge {k} goes to node index {v}, which is not the first field of one of the \
                     {nodes} nodes ({per_node} fields each)",
                    at.edges
                ));
            }
            *to = (v / per_node) as u32;
        }
        let strings = snap.strings.len() as u64;
        for (n, &name) in snap.node_name.iter().enumerate() {
            if u64::from(name) >= strings {
                return inconsistent(format!(
                    "\"nodes\" (byte {}): node {n} (id {}) is named by string {name}, but there are {strings} strings",
                    at.nodes, snap.node_id[n]
                ));
            }
        }
        let numbered: Vec<bool> = snap.meta.edge_types.iter().map(|t| t == "element" || t == "hidden").collect();
        for (k, (&t, &name)) in snap.edge_type.iter().zip(&snap.edge_name).enumerate() {
            if !numbered[t as usize] && u64::from(name) >= strings {
                return inconsistent(format!(
                    "\"edges\" (byte {}): edge {k} ({}) is named by string {name}, but there are {strings} strings",
                    at.edges, snap.meta.edge_types[t as usize]
                ));
            }
        }
        let per_location = snap.meta.location_fields.len();
        if per_location > 0 {
            if snap.locations.len() % per_location != 0 {
                return inconsistent(format!(
                    "\"locations\" (byte {}) has {} numbers, not a multiple of {per_location}",
                    at.locations,
                    snap.locations.len()
                ));
            }
            if let Some(object) = snap.meta.location_fields.iter().position(|f| f == "object_index") {
                for (k, loc) in snap.locations.chunks_exact_mut(per_location).enumerate() {
                    let v = u64::from(loc[object]);
                    if v % per_node != 0 || v / per_node >= nodes as u64 {
                        return inconsistent(format!(
                            "\"locations\" (byte {}): location {k} names node index {v}, not a node",
                            at.locations
                        ));
                    }
                    loc[object] = (v / per_node) as u32;
                }
            }
        } else if !snap.locations.is_empty() {
            return inconsistent("\"locations\" has values but snapshot.meta.location_fields is empty".to_owned());
        }
        let _ = at.trace_tree;
        let _ = at.strings;
        Ok(())
    }
}

fn is_known_array(key: &str) -> bool {
    matches!(key, "nodes" | "edges" | "trace_function_infos" | "trace_tree" | "samples" | "locations")
}

#[derive(Default)]
struct ArrayOffsets {
    nodes: u64,
    edges: u64,
    strings: u64,
    trace_tree: u64,
    locations: u64,
}

/// Writes `snap` as V8 writes a snapshot (`meta` with V8 11.3's field lists, one node per line), for tests,
/// benches and tools that make snapshots. Location and allocation-tracking arrays are written empty.
pub fn write_snapshot(snap: &RawSnapshot, out: &mut dyn io::Write) -> io::Result<()> {
    let quoted = |v: &[String]| serde_json::to_string(v).map_err(io::Error::other);
    writeln!(
        out,
        "{{\"snapshot\":{{\"meta\":{{\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\",\"edge_count\",\"trace_node_id\",\
         \"detachedness\"],\"node_types\":[{},\"string\",\"number\",\"number\",\"number\",\"number\",\"number\"],\
         \"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],\"edge_types\":[{},\"string_or_number\",\"node\"],\
         \"trace_function_info_fields\":[],\"trace_node_fields\":[],\"sample_fields\":[],\"location_fields\":[]}},\
         \"node_count\":{},\"edge_count\":{},\"trace_function_count\":0}},",
        quoted(&snap.meta.node_types)?,
        quoted(&snap.meta.edge_types)?,
        snap.node_count(),
        snap.edge_count()
    )?;
    write!(out, "\"nodes\":[")?;
    for n in 0..snap.node_count() {
        let sep = if n == 0 { "" } else { "\n," };
        write!(
            out,
            "{sep}{},{},{},{},{},{},0",
            snap.node_type[n],
            snap.node_name[n],
            snap.node_id[n],
            snap.node_self_size[n],
            snap.node_edge_count[n],
            snap.node_trace_node_id.get(n).copied().unwrap_or(0)
        )?;
    }
    write!(out, "],\n\"edges\":[")?;
    for e in 0..snap.edge_count() {
        let sep = if e == 0 { "" } else { "\n," };
        write!(out, "{sep}{},{},{}", snap.edge_type[e], snap.edge_name[e], u64::from(snap.edge_to[e]) * 7)?;
    }
    write!(
        out,
        "],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[],\n\"strings\":["
    )?;
    for s in 0..snap.strings.len() {
        let sep = if s == 0 { "" } else { "\n," };
        write!(out, "{sep}{}", serde_json::to_string(snap.strings.get(s as u32)).map_err(io::Error::other)?)?;
    }
    writeln!(out, "]}}")
}

/// A snapshot builder for tests and generators: nodes and edges with V8 11.3's type tables.
#[derive(Clone, Debug)]
pub struct SnapshotBuilder {
    snap: RawSnapshot,
    strings: rustc_hash::FxHashMap<String, u32>,
    /// Edges in insertion order: (from, type, name, to).
    edges: Vec<(u32, u8, u32, u32)>,
}

impl Default for SnapshotBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SnapshotBuilder {
    /// An empty snapshot with V8 11.3's type tables; add the root first.
    pub fn new() -> SnapshotBuilder {
        let mut snap = RawSnapshot::default();
        snap.meta.node_fields = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]
            .map(String::from)
            .to_vec();
        snap.meta.node_types = NODE_TYPES.map(String::from).to_vec();
        snap.meta.edge_fields = ["type", "name_or_index", "to_node"].map(String::from).to_vec();
        snap.meta.edge_types = EDGE_TYPES.map(String::from).to_vec();
        SnapshotBuilder { snap, strings: rustc_hash::FxHashMap::default(), edges: Vec::new() }
    }

    /// A string's index (added when new).
    pub fn string(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.strings.get(s) {
            return i;
        }
        let i = self.snap.strings.push(s);
        self.strings.insert(s.to_owned(), i);
        i
    }

    /// Adds a node of type `node_type` (a name of [`NODE_TYPES`]); returns its ordinal.
    ///
    /// # Errors
    /// [`SnapshotError::Inconsistent`] for a type name that is not one of [`NODE_TYPES`].
    pub fn node(&mut self, node_type: &str, name: &str, id: u32, self_size: u64) -> Result<u32, SnapshotError> {
        let t = NODE_TYPES
            .iter()
            .position(|&t| t == node_type)
            .ok_or_else(|| SnapshotError::Inconsistent(format!("\"{node_type}\" is not a V8 node type")))?;
        let name = self.string(name);
        self.snap.node_type.push(t as u8);
        self.snap.node_name.push(name);
        self.snap.node_id.push(id);
        self.snap.node_self_size.push(self_size);
        self.snap.node_edge_count.push(0);
        self.snap.node_trace_node_id.push(0);
        Ok((self.snap.node_type.len() - 1) as u32)
    }

    /// Adds an edge of type `edge_type` (a name of [`EDGE_TYPES`]) named `name` (an index for element and hidden
    /// edges) between two nodes added before.
    ///
    /// # Errors
    /// [`SnapshotError::Inconsistent`] for a type name that is not one of [`EDGE_TYPES`], a name of an element or
    /// hidden edge that is not an index, or a node that was not added.
    pub fn edge(&mut self, from: u32, edge_type: &str, name: &str, to: u32) -> Result<(), SnapshotError> {
        let bad = |m: String| Err(SnapshotError::Inconsistent(m));
        let Some(t) = EDGE_TYPES.iter().position(|&t| t == edge_type) else {
            return bad(format!("\"{edge_type}\" is not a V8 edge type"));
        };
        let nodes = self.snap.node_type.len() as u32;
        if from >= nodes || to >= nodes {
            return bad(format!("an edge from node {from} to node {to}, but there are {nodes} nodes"));
        }
        let name = if edge_type == "element" || edge_type == "hidden" {
            match name.parse() {
                Ok(i) => i,
                Err(_) => return bad(format!("an {edge_type} edge is named by an index, not \"{name}\"")),
            }
        } else {
            self.string(name)
        };
        self.edges.push((from, t as u8, name, to));
        Ok(())
    }

    /// The snapshot: edges grouped by their source node, in insertion order.
    pub fn build(mut self) -> RawSnapshot {
        self.edges.sort_by_key(|e| e.0);
        for c in &mut self.snap.node_edge_count {
            *c = 0;
        }
        for &(from, t, name, to) in &self.edges {
            self.snap.node_edge_count[from as usize] += 1;
            self.snap.edge_type.push(t);
            self.snap.edge_name.push(name);
            self.snap.edge_to.push(to);
        }
        self.snap
    }
}
