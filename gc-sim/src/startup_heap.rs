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
//! * **Depths**: the objects are laid out by depth from the roots in the measured proportions ([`NODE20_DEPTHS`]);
//!   every object of depth `d + 1` is held first by one object of depth `d`, so everything is reachable.
//! * **Roots**: the objects of depth 0 are dealt to the measured root sets ([`NODE20_ROOTS`]) in proportion, with
//!   each set's references: strings and builtins hold one reference each, to a root that holds nothing deeper (a
//!   map, code); the depth-1 objects hang below the sets that hold them in the measurement (the global object, the
//!   stack, the handles, the startup object cache, the embedder).
//! * **References below**: out-degrees drawn from the measured distribution ([`NODE20_OUT_DEGREES`]); parents
//!   taken in proportion to them; the references that are not the first to their object go, in the measured
//!   shares ([`NODE20_OTHER_REFERENCES`], [`NODE20_TO_LEAF_ROOTS`]), to roots (mostly those that hold nothing
//!   deeper), to objects no deeper than the source, or to the next depth, so that every object keeps its depth.
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

/// The out-degree distribution of an empty Node 20 process: `(references, objects of depth 0, their references,
/// deeper objects, their references)`, the last row for 16 or more. Objects held by a root hold few references
/// (strings, builtins' code); deeper ones, more (functions, contexts, shapes). The generator deals the deeper
/// objects' columns; the objects of depth 0 take their root set's references ([`NODE20_ROOTS`]).
pub const NODE20_OUT_DEGREES: [(u32, u64, u64, u64, u64); 17] = [
    (0, 7, 0, 110, 0),
    (1, 12_358, 12_358, 4_648, 4_648),
    (2, 853, 1_706, 3_450, 6_900),
    (3, 631, 1_893, 2_316, 6_948),
    (4, 1_614, 6_456, 1_351, 5_404),
    (5, 24, 120, 1_513, 7_565),
    (6, 43, 258, 6_074, 36_444),
    (7, 5, 35, 1_340, 9_380),
    (8, 5, 40, 641, 5_128),
    (9, 8, 72, 627, 5_643),
    (10, 8, 80, 650, 6_500),
    (11, 6, 66, 89, 979),
    (12, 2, 24, 54, 648),
    (13, 2, 26, 41, 533),
    (14, 3, 42, 42, 588),
    (15, 0, 0, 24, 360),
    (16, 59, 4_061, 381, 24_885),
];

/// Where the references that are not the first to reach an object (126,439 of the 149,790) of an empty Node 20
/// process go, from objects of depth 0 (first row) and from deeper ones, from an object of depth `d`:
/// `(to depth 0, to depths 1 to d, to depth d + 1)`. Most go to objects a root holds (maps, strings, builtins),
/// shared by everything.
pub const NODE20_OTHER_REFERENCES: [(u64, u64, u64); 2] = [(20_820, 0, 1_974), (68_264, 33_261, 2_120)];

/// The root sets of an empty Node 20 process: `(name, objects, their references, objects that refer to depth-1
/// objects, depth-1 objects they reach first, their references to depth-1 objects)`. The objects are those of
/// depth 0, each counted in the first set that holds it. Strings and builtins hold one reference each (to a map or
/// code object itself held by a root) and nothing hangs below them; the program's graph hangs below the global
/// object, the stack, the handles and the startup object cache.
pub const NODE20_ROOTS: [(&str, u64, u64, u64, u64, u64); 12] = [
    ("(global)", 1, 227, 1, 218, 218),
    ("(Internalized strings)", 7_579, 7_579, 0, 0, 0),
    ("(External strings)", 93, 93, 0, 0, 0),
    ("(Read-only roots)", 287, 772, 1, 1, 1),
    ("(Strong roots)", 70, 425, 2, 14, 14),
    ("(Stack roots)", 55, 1_523, 46, 1_027, 1_251),
    ("(Handle scope)", 9, 47, 5, 4, 32),
    ("(Builtins)", 2_178, 2_178, 0, 0, 0),
    ("(Global handles)", 42, 342, 41, 177, 289),
    ("(Eternal handles)", 135, 305, 35, 61, 61),
    ("(Startup object cache)", 5_171, 13_598, 2_123, 2_820, 4_407),
    ("(embedder)", 8, 148, 8, 121, 144),
];

/// Of the 68,264 references from objects below depth 0 to objects of depth 0 in an empty Node 20 process, those
/// to objects of depth 0 that hold no deeper object (strings, maps, code): `(to those, in all)`.
pub const NODE20_TO_LEAF_ROOTS: (u64, u64) = (61_810, 68_264);

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
        let rooted = levels[0];
        // Level d's objects are [starts[d], starts[d + 1]).
        let mut starts = Vec::with_capacity(levels.len() + 1);
        starts.push(0u64);
        for &count in &levels {
            starts.push(starts.last().copied().unwrap_or(0) + count);
        }
        let depth_one = levels.get(1).copied().unwrap_or(0);

        // Depth 0: each root set's run of objects, in proportion (`(global)` has its one object), their references
        // and the depth-1 objects they hold first, dealt evenly to the first of them.
        let mut import = HeapImport::default();
        let measured: u64 = NODE20_ROOTS.iter().map(|r| r.1).sum();
        let mut ranges = Vec::with_capacity(NODE20_ROOTS.len());
        let (mut objects_before, mut start) = (0, 0u64);
        for (k, row) in NODE20_ROOTS.iter().enumerate() {
            objects_before += row.1;
            let end = if k == 0 { 1 } else { (objects_before * rooted / measured).max(start) };
            ranges.push((start, end - start));
            start = end;
        }
        // The depth-1 objects go to the sets that have objects, in proportion (so none is left without a holder).
        let weights: u64 = NODE20_ROOTS.iter().zip(&ranges).filter(|(_, r)| r.1 > 0).map(|(row, _)| row.4).sum();
        let (mut children_before, mut child) = (0, rooted);
        // Of each set: its objects, their references, those holding depth-1 objects, the run of depth-1 objects
        // they hold, and their other references to depth-1 objects.
        let mut sets = Vec::with_capacity(NODE20_ROOTS.len());
        // The objects of depth 0 that hold nothing deeper (strings, maps, code), and those that do.
        let (mut leaves, mut holders): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
        for (row, &(first, count)) in NODE20_ROOTS.iter().zip(&ranges) {
            let &(_, objects, references, parents, children, to_depth_one) = row;
            if count > 0 {
                children_before += children;
            }
            let child_end = rooted + children_before * depth_one / weights;
            let parents = match (parents * count).div_ceil(objects) {
                _ if child_end == child => 0,
                p => p.clamp(1, count),
            };
            holders.extend((first..first + parents).map(|i| i as u32));
            leaves.extend((first + parents..first + count).map(|i| i as u32));
            let others_to_depth_one = (to_depth_one - children) * count / objects;
            let references = references * count / objects;
            sets.push((first, count, references, parents, (child, child_end), others_to_depth_one));
            child = child_end;
        }
        if leaves.is_empty() {
            leaves.push(0);
        }
        if holders.is_empty() {
            holders.push(0);
        }
        let pick = |list: &[u32], x: u64| list[(x % list.len() as u64) as usize];
        // A root's references beyond its children: from the roots that hold depth-1 objects, to depth 1 in their
        // set's measured share; else to a leaf root (sets of strings and code refer to nothing deeper, and leaf
        // roots only to each other).
        for &(first, count, references, parents, (first_child, child_end), part) in &sets {
            let children = child_end - first_child;
            let held = |j: u64| match j < parents {
                true => (first_child + j * children / parents, first_child + (j + 1) * children / parents),
                false => (first_child, first_child),
            };
            let others_of = |j: u64| {
                let (from, to) = held(j);
                share(j, count, references).saturating_sub(to - from)
            };
            // The set's references to depth 1 that are not the first (scaled), out of the holders' other references.
            let whole = (0..parents).map(others_of).sum::<u64>().max(1);
            for j in 0..count {
                let (from, to) = held(j);
                let others = others_of(j);
                let others = (0..others).map(|e| {
                    let x = mix((first + j) << 20 | e);
                    match x % whole {
                        r if r < part && j < parents => (rooted + (x >> 32) % depth_one) as u32,
                        _ => pick(&leaves, x >> 32),
                    }
                });
                import.object(sizes[(first + j) as usize], labels, (from as u32..to as u32).chain(others));
            }
        }

        // Deeper: every object of depth d + 1 is held first by one of depth d, the parents taken in proportion to
        // their out-degrees (evenly when the level wants no reference at all), as consecutive runs of the next
        // level; the other references go, in the measured shares, to depth 0 (mostly to leaf roots: maps, strings,
        // code), to depths 1 to d, or to depth d + 1, so that every object keeps its depth.
        let degree = |i: u64| out_degree(i - rooted, n - rooted);
        let (to_roots, to_shallower, to_next) = NODE20_OTHER_REFERENCES[1];
        let other_references = to_roots + to_shallower + to_next;
        let (to_leaves, to_any_root) = NODE20_TO_LEAF_ROOTS;
        for d in 1..levels.len() {
            let (first, end) = (starts[d], starts[d + 1]);
            let children = levels.get(d + 1).copied().unwrap_or(0);
            let wanted: u64 = (first..end).map(|i| u64::from(degree(i))).sum();
            let weight = |i: u64| if wanted == 0 { 1 } else { u64::from(degree(i)) };
            let total = if wanted == 0 { end - first } else { wanted };
            let target = |x: u64| {
                let (r, y) = (x % other_references, x >> 32);
                if r < to_roots {
                    match y % to_any_root {
                        l if l < to_leaves => pick(&leaves, y >> 20),
                        _ => pick(&holders, y >> 20),
                    }
                } else if r < to_roots + to_shallower {
                    (rooted + y % (end - rooted)) as u32
                } else if children > 0 {
                    (end + y % children) as u32
                } else {
                    pick(&leaves, y)
                }
            };
            let mut cumulative = 0u64;
            for i in first..end {
                let from = end + cumulative * children / total;
                cumulative += weight(i);
                let to = end + cumulative * children / total;
                let others = u64::from(degree(i)).saturating_sub(to - from);
                let others = (0..others).map(|e| target(mix(i << 20 | e)));
                import.object(sizes[i as usize], labels, (from as u32..to as u32).chain(others));
            }
        }
        for (&(name, ..), &(first, count)) in NODE20_ROOTS.iter().zip(&ranges) {
            for object in first..first + count {
                import.root(name, object as u32);
            }
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

/// The out-degree of the deeper object at `at` of `count`: the measured distribution dealt out in the stride
/// order (the 16-or-more row's objects share its references evenly).
fn out_degree(at: u64, count: u64) -> u32 {
    let measured = NODE20_OBJECTS - NODE20_DEPTHS[0];
    // The object's place among the measured objects.
    let place = ((at * STRIDE) % count) * measured / count;
    let mut cumulative = 0;
    for &(_, _, _, objects, references) in &NODE20_OUT_DEGREES {
        if place < cumulative + objects {
            let k = place - cumulative;
            let (each, more) = (references / objects, references % objects);
            return (each + u64::from(k < more)) as u32;
        }
        cumulative += objects;
    }
    0
}

/// `total` dealt to `count` places as evenly as whole numbers allow: place `j`'s share.
fn share(j: u64, count: u64, total: u64) -> u64 {
    (j + 1) * total / count - j * total / count
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
        assert_eq!(NODE20_OUT_DEGREES.iter().map(|r| r.1 + r.3).sum::<u64>(), NODE20_OBJECTS);
        assert_eq!(NODE20_OUT_DEGREES.iter().map(|r| r.2 + r.4).sum::<u64>(), NODE20_REFERENCES);
        assert_eq!(NODE20_OUT_DEGREES.iter().map(|r| r.1).sum::<u64>(), NODE20_DEPTHS[0]);
        let other: u64 = NODE20_OTHER_REFERENCES.iter().map(|&(a, b, c)| a + b + c).sum();
        assert_eq!(other + NODE20_OBJECTS - NODE20_DEPTHS[0], NODE20_REFERENCES);
        assert_eq!(NODE20_DEPTHS.iter().sum::<u64>(), NODE20_OBJECTS);
        assert_eq!(NODE20_ROOTS.iter().map(|r| r.1).sum::<u64>(), NODE20_DEPTHS[0]);
        assert_eq!(NODE20_ROOTS.iter().map(|r| r.2).sum::<u64>(), NODE20_OUT_DEGREES.iter().map(|r| r.2).sum::<u64>());
        assert_eq!(NODE20_ROOTS.iter().map(|r| r.4).sum::<u64>(), NODE20_DEPTHS[1]);
        for (name, objects, references, parents, children, to_depth_one) in NODE20_ROOTS {
            assert!(
                objects > 0 && parents <= objects && children <= to_depth_one && to_depth_one <= references,
                "{name}"
            );
            assert_eq!(parents == 0, children == 0, "{name}");
        }
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
