//! Node's own startup heap, built in: the old generation of a Node 20 process when user code starts, as a
//! [`HeapImport`] that needs no file (`gc-sim run --initial-heap node20`, a trace header's `"initial_heap"`).
//!
//! The heap is generated from small tables measured on a real empty Node 20 process
//! (`empty.heapsnapshot.gz`, see docs/v8-sources.md#node-startup): its V8 heap as `--initial-heap` imports it has
//! [`NODE20_OBJECTS`] objects and [`NODE20_BYTES`] bytes. The generator is arithmetic only (no randomness at run
//! time): the same request builds the same heap, object for object.
//!
//! * **Sizes**: the measured size histogram ([`NODE20_SIZES`]: exact sizes up to 128 B, then power-of-two classes
//!   with their bytes) expanded to one size per object, and dealt out in a fixed stride order, so that any prefix of
//!   the stream is an even sample of the histogram. The built-in heap is exactly one pass of the stream; a heap
//!   scaled to `B` bytes ([`StartupHeap::scaled`]) takes the stream (cycling) until the next object would pass `B`,
//!   and one last object of the bytes left.
//! * **Roots**: the measured root sets ([`NODE20_ROOTS`]: `(global)`, `(Internalized strings)`, `(Builtins)`,
//!   `(Startup object cache)`, `(embedder)`, ...), in proportion, over the objects of depth 0.
//! * **References**: the objects are laid out by depth from the roots in the measured proportions
//!   ([`NODE20_DEPTHS`]); every object of depth `d + 1` is the child of one object of depth `d` (so everything is
//!   reachable), parents taken in proportion to their out-degree drawn from the measured distribution
//!   ([`NODE20_OUT_DEGREES`]); an object's other references go to objects of depth at most `d + 1` (shared maps,
//!   strings and code), which keeps every object's depth.
//!
//! What is not here: the young objects. Node has about 128.8 KB in new space when user code starts, and a
//! [`HeapImport`] places every object in the old generation.

use std::fmt;
use std::str::FromStr;

use crate::error::HeapError;
use crate::heap::import::HeapImport;
use crate::heap::Heap;
use crate::object::{Labels, ObjectId};

/// Objects of the V8 heap of an empty Node 20 process, as `--initial-heap` imports its snapshot.
pub const NODE20_OBJECTS: u64 = 38_979;
/// Bytes of the V8 heap of an empty Node 20 process (self sizes, each a multiple of 8), as `--initial-heap`
/// imports its snapshot.
pub const NODE20_BYTES: u64 = 2_898_248;
/// References (retaining edges between V8 heap objects) of an empty Node 20 process.
pub const NODE20_REFERENCES: u64 = 149_790;

/// The size histogram of an empty Node 20 process: `(largest size of the class, objects, bytes)`, a class holding
/// the sizes above the previous row's largest. Up to 128 B each row is one size.
pub const NODE20_SIZES: [(u32, u64, u64); 26] = [
    (8, 1, 8),
    (16, 191, 3_056),
    (24, 9_108, 218_592),
    (32, 5_044, 161_408),
    (40, 2_811, 112_440),
    (48, 2_139, 102_672),
    (56, 6_660, 372_960),
    (64, 3_205, 205_120),
    (72, 3_660, 263_520),
    (80, 797, 63_760),
    (88, 2_396, 210_848),
    (96, 189, 18_144),
    (104, 96, 9_984),
    (112, 126, 14_112),
    (120, 655, 78_600),
    (128, 33, 4_224),
    (256, 1_400, 271_096),
    (512, 235, 86_136),
    (1_024, 136, 98_680),
    (2_048, 43, 59_488),
    (4_096, 32, 82_720),
    (8_192, 12, 54_776),
    (16_384, 7, 78_128),
    (32_768, 1, 16_400),
    (65_536, 1, 49_216),
    (524_288, 1, 262_160),
];

/// The out-degree distribution of an empty Node 20 process: `(references, objects, references in all)`, the last
/// row for 16 or more.
pub const NODE20_OUT_DEGREES: [(u32, u64, u64); 17] = [
    (0, 117, 0),
    (1, 17_006, 17_006),
    (2, 4_303, 8_606),
    (3, 2_947, 8_841),
    (4, 2_965, 11_860),
    (5, 1_537, 7_685),
    (6, 6_117, 36_702),
    (7, 1_345, 9_415),
    (8, 646, 5_168),
    (9, 635, 5_715),
    (10, 658, 6_580),
    (11, 95, 1_045),
    (12, 56, 672),
    (13, 43, 559),
    (14, 45, 630),
    (15, 24, 360),
    (16, 440, 28_946),
];

/// The root sets of an empty Node 20 process and how many objects each roots first (an object rooted by several
/// is counted in the first): the objects of depth 0.
pub const NODE20_ROOTS: [(&str, u64); 12] = [
    ("(global)", 1),
    ("(Internalized strings)", 7_579),
    ("(External strings)", 93),
    ("(Read-only roots)", 287),
    ("(Strong roots)", 70),
    ("(Stack roots)", 55),
    ("(Handle scope)", 9),
    ("(Builtins)", 2_178),
    ("(Global handles)", 42),
    ("(Eternal handles)", 135),
    ("(Startup object cache)", 5_171),
    ("(embedder)", 8),
];

/// Objects of an empty Node 20 process at each depth (the fewest references from a root), from depth 0.
pub const NODE20_DEPTHS: [u64; 112] = [
    15_628, 4_443, 3_825, 3_009, 3_508, 3_763, 1_217, 1_099, 715, 364, 199, 100, 68, 50, 43, 41, 40, 37, 34, 32, 30,
    29, 26, 24, 23, 23, 23, 23, 23, 20, 20, 19, 19, 18, 18, 18, 16, 14, 13, 13, 13, 13, 12, 12, 12, 12, 12, 12, 11, 11,
    9, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3,
    3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
];

/// The kind (label) of every object of the built-in heap.
pub const KIND: &str = "(Node startup heap)";

/// The smallest scaled heap, 64 KiB.
pub const MIN_BYTES: u64 = 64 * 1024;
/// The largest scaled heap, 256 MiB: far more than a Node program starts with, and a bound on the memory that
/// building one takes (3.6 M objects).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The reserved name of the built-in heap.
pub const NAME: &str = "node20";

/// The stride of the size and out-degree streams: a prime near the golden section of [`NODE20_OBJECTS`] (so
/// coprime with it), so that any run of the stream is an even sample of the histogram.
const STRIDE: u64 = 24_091;

/// A request for Node 20's startup heap: as measured, or scaled to other total bytes keeping its shape. Written
/// `node20` or `node20:SIZE` ([`FromStr`], [`Display`](fmt::Display)), SIZE a number with an optional unit `B`,
/// `KB`, `MB`, `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024): `node20:5.7MB`.
///
/// ```
/// use gc_sim::startup_heap::{StartupHeap, NODE20_BYTES};
/// use gc_sim::Heap;
///
/// let node = StartupHeap::node20();
/// let mut heap = Heap::default();
/// node.import_into(&mut heap)?;
/// assert_eq!(heap.old_generation_size(), NODE20_BYTES);
///
/// let ticker: StartupHeap = "node20:5.7MB".parse().unwrap();
/// assert_eq!(ticker.bytes(), 5_700_000);
/// # Ok::<(), gc_sim::HeapError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StartupHeap {
    bytes: u64,
}

/// Why a startup heap cannot be built: a name or a size that is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StartupHeapError(String);

impl StartupHeap {
    /// Node 20's startup heap as measured: [`NODE20_BYTES`] in [`NODE20_OBJECTS`] objects.
    pub const fn node20() -> StartupHeap {
        StartupHeap { bytes: NODE20_BYTES }
    }

    /// Node 20's startup heap scaled to `bytes` (rounded up to 8) of old generation, keeping its shape.
    ///
    /// # Errors
    /// `bytes` below [`MIN_BYTES`] or above [`MAX_BYTES`].
    pub fn scaled(bytes: u64) -> Result<StartupHeap, StartupHeapError> {
        if !(MIN_BYTES..=MAX_BYTES).contains(&bytes) {
            return Err(StartupHeapError(format!(
                "a startup heap of {bytes} B: must be between {MIN_BYTES} B (64 KiB) and {MAX_BYTES} B (256 MiB)"
            )));
        }
        Ok(StartupHeap { bytes: bytes.div_ceil(8) * 8 })
    }

    /// Bytes of old generation the heap holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The object sizes, in the import's order: the size stream until [`bytes`](Self::bytes).
    fn sizes(&self) -> Vec<u32> {
        let base: Vec<u32> = base_sizes();
        let mut sizes = Vec::with_capacity((self.bytes / (NODE20_BYTES / NODE20_OBJECTS)) as usize + 1);
        let mut left = self.bytes;
        let n = base.len() as u64;
        for i in 0.. {
            let size = base[((i * STRIDE) % n) as usize];
            if u64::from(size) > left {
                break;
            }
            sizes.push(size);
            left -= u64::from(size);
        }
        if left > 0 {
            // A multiple of 8, below the largest object.
            sizes.push(left as u32);
        }
        sizes
    }

    /// The heap as an import into `heap` (whose label table gets [`KIND`]): objects, references and roots.
    pub fn build(&self, heap: &mut Heap) -> HeapImport {
        let kind = heap.label(KIND);
        let labels = Labels { kind: Some(kind), ..Labels::NONE };
        let sizes = self.sizes();
        let n = sizes.len() as u64;
        let levels = levels(n);
        let degrees = out_degrees(n);

        let mut import = HeapImport::default();
        // Level d's objects are [starts[d], starts[d + 1]).
        let mut starts = Vec::with_capacity(levels.len() + 1);
        starts.push(0u64);
        for &count in &levels {
            starts.push(starts.last().copied().unwrap_or(0) + count);
        }
        for d in 0..levels.len() {
            let (first, end) = (starts[d], starts[d + 1]);
            let (child_first, children) = match levels.get(d + 1) {
                Some(&c) => (end, c),
                None => (end, 0),
            };
            // Children are dealt to this level's objects in proportion to their out-degrees (at least one each
            // when the level wants none at all), as consecutive runs of the next level.
            let wanted: u64 = (first..end).map(|i| u64::from(degrees(i))).sum();
            let weight = |i: u64| if wanted == 0 { 1 } else { u64::from(degrees(i)) };
            let total = if wanted == 0 { end - first } else { wanted };
            // Objects of depth at most d + 1: the other references' targets.
            let reach = end + children;
            let mut cumulative = 0u64;
            for i in first..end {
                let from = child_first + cumulative * children / total;
                cumulative += weight(i);
                let to = child_first + cumulative * children / total;
                let extra = u64::from(degrees(i)).saturating_sub(to - from);
                let others = (0..extra).map(|e| (mix(i << 20 | e) % reach) as u32);
                import.object(sizes[i as usize], labels, (from as u32..to as u32).chain(others));
            }
        }
        // The roots: the objects of depth 0, dealt to the root sets in proportion, `(global)` first.
        let rooted = levels[0];
        let measured: u64 = NODE20_ROOTS.iter().map(|&(_, n)| n).sum();
        let mut cumulative = 0;
        let mut start = 0;
        for (k, &(name, count)) in NODE20_ROOTS.iter().enumerate() {
            cumulative += count;
            let end = if k == 0 { 1 } else { (cumulative * rooted / measured).max(start) };
            for object in start..end {
                import.root(name, object as u32);
            }
            start = end;
        }
        import
    }

    /// Imports the heap into `heap`'s old generation ([`Heap::import`]) and returns the objects' handles.
    ///
    /// # Errors
    /// As [`Heap::import`]: [`HeapError::OutOfMemory`] when the heap does not fit the maximum old generation.
    pub fn import_into(&self, heap: &mut Heap) -> Result<Vec<ObjectId>, HeapError> {
        let import = self.build(heap);
        heap.import(&import)
    }
}

impl Default for StartupHeap {
    fn default() -> StartupHeap {
        StartupHeap::node20()
    }
}

/// The measured histogram as one size per object, by row.
fn base_sizes() -> Vec<u32> {
    let mut sizes = Vec::with_capacity(NODE20_OBJECTS as usize);
    let mut previous = 0u32;
    for &(largest, count, bytes) in &NODE20_SIZES {
        // `count` sizes of 8-byte words adding up to `bytes`, all in (previous, largest].
        let words = bytes / 8;
        let (each, more) = (words / count, words % count);
        for k in 0..count {
            let size = (each + u64::from(k < more)) * 8;
            debug_assert!(size > u64::from(previous) && size <= u64::from(largest));
            sizes.push(size as u32);
        }
        previous = largest;
    }
    sizes
}

/// Objects of each depth for a heap of `n` objects: the measured profile scaled, the deepest levels that round to
/// no object left out, the rounding made up at depth 0.
fn levels(n: u64) -> Vec<u64> {
    let mut levels: Vec<u64> = Vec::with_capacity(NODE20_DEPTHS.len());
    for &count in &NODE20_DEPTHS[1..] {
        let scaled = (count * n + NODE20_OBJECTS / 2) / NODE20_OBJECTS;
        if scaled == 0 {
            break;
        }
        levels.push(scaled);
    }
    // At least one root; for the smallest heaps the deepest levels give way.
    while levels.iter().sum::<u64>() >= n {
        levels.pop();
    }
    let mut all = Vec::with_capacity(levels.len() + 1);
    all.push(n - levels.iter().sum::<u64>());
    all.extend(levels);
    all
}

/// The out-degree of each object of a heap of `n` objects: the measured distribution dealt out in the stride
/// order (the 16-or-more row's objects share its references evenly).
fn out_degrees(n: u64) -> impl Fn(u64) -> u32 {
    move |i: u64| {
        // The object's place in [0, NODE20_OBJECTS), spread evenly over the measured objects.
        let at = ((i * STRIDE) % n) * NODE20_OBJECTS / n;
        let mut cumulative = 0;
        for &(_, count, references) in &NODE20_OUT_DEGREES {
            if at < cumulative + count {
                let k = at - cumulative;
                let (each, more) = (references / count, references % count);
                return (each + u64::from(k < more)) as u32;
            }
            cumulative += count;
        }
        0
    }
}

/// A fixed mix of the bits of `x` (SplitMix64's finalizer): the targets of the references that are not tree
/// edges.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl fmt::Display for StartupHeap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes == NODE20_BYTES {
            f.write_str(NAME)
        } else {
            write!(f, "{NAME}:{}B", self.bytes)
        }
    }
}

impl FromStr for StartupHeap {
    type Err = StartupHeapError;

    fn from_str(s: &str) -> Result<StartupHeap, StartupHeapError> {
        if s == NAME {
            return Ok(StartupHeap::node20());
        }
        let Some(size) = s.strip_prefix(NAME).and_then(|rest| rest.strip_prefix(':')) else {
            return Err(StartupHeapError(format!(
                "\"{s}\" is not a built-in heap: expected \"{NAME}\" or \"{NAME}:SIZE\" (SIZE as 5.7MB, 6MiB, 6080488B)"
            )));
        };
        StartupHeap::scaled(parse_size(size).map_err(|e| StartupHeapError(format!("\"{s}\": {e}")))?)
    }
}

impl TryFrom<String> for StartupHeap {
    type Error = StartupHeapError;
    fn try_from(s: String) -> Result<StartupHeap, StartupHeapError> {
        s.parse()
    }
}

impl From<StartupHeap> for String {
    fn from(heap: StartupHeap) -> String {
        heap.to_string()
    }
}

impl serde::Serialize for StartupHeap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for StartupHeap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<StartupHeap, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `5.7MB`, `6MiB`, `6080488B`, `6080488`: bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let unit_bytes: f64 = match unit {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("unknown size unit \"{unit}\" (B, KB, MB, GB, KiB, MiB or GiB)")),
    };
    let value: f64 =
        number.parse().map_err(|_| format!("\"{number}\" is not a size (a number with an optional unit, as 5.7MB)"))?;
    let bytes = (value * unit_bytes).round();
    if !bytes.is_finite() || bytes > (MAX_BYTES * 2) as f64 {
        return Err(format!("{s} is more than {MAX_BYTES} B (256 MiB)"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_agree_with_the_totals() {
        let sizes = base_sizes();
        assert_eq!(sizes.len() as u64, NODE20_OBJECTS);
        assert_eq!(sizes.iter().map(|&s| u64::from(s)).sum::<u64>(), NODE20_BYTES);
        assert_eq!(NODE20_OUT_DEGREES.iter().map(|r| r.1).sum::<u64>(), NODE20_OBJECTS);
        assert_eq!(NODE20_OUT_DEGREES.iter().map(|r| r.2).sum::<u64>(), NODE20_REFERENCES);
        assert_eq!(NODE20_DEPTHS.iter().sum::<u64>(), NODE20_OBJECTS);
        assert_eq!(NODE20_ROOTS.iter().map(|r| r.1).sum::<u64>(), NODE20_DEPTHS[0]);
        // The stride is a permutation of one pass.
        let (mut a, mut b) = (STRIDE, NODE20_OBJECTS);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        assert_eq!(a, 1, "the stride is coprime with the object count");
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!("node20".parse(), Ok(StartupHeap::node20()));
        assert_eq!("node20:5.7MB".parse::<StartupHeap>().unwrap().bytes(), 5_700_000);
        assert_eq!("node20:6MiB".parse::<StartupHeap>().unwrap().bytes(), 6 * 1024 * 1024);
        assert_eq!("node20:100001".parse::<StartupHeap>().unwrap().bytes(), 100_008);
        for bad in ["node", "node20:", "node20:5.7XB", "node20:1KB", "node20:1GB", "node20:-1MB", "node21:1MB"] {
            let e = bad.parse::<StartupHeap>().unwrap_err().to_string();
            assert!(!e.is_empty(), "{bad}");
        }
        let scaled = StartupHeap::scaled(5_700_000).unwrap();
        assert_eq!(scaled.to_string().parse(), Ok(scaled));
        assert_eq!(StartupHeap::node20().to_string(), "node20");
    }
}
