//! Heap maps: every page of every space as a row of cells, each cell saying how much of it holds live objects,
//! dead objects, free memory and unusable holes, as [GCspy](https://www.cs.kent.ac.uk/projects/gc/gcspy/) draws a
//! heap.
//!
//! A map is taken by [`HeapMap::of`] (the heap as it is now), or by a [`HeapMapRecorder`] for the moments asked for
//! just before or just after a given collection (it installs GC prologue and epilogue callbacks on the heap); the
//! replay of a trace puts them in the report, and the `visualizer` crate draws them.
//!
//! Each page is cut into [`CELLS_PER_PAGE`] cells of equal size (4 KiB for V8's 256 KiB pages; a large-object page
//! is cut into the same number of larger cells, so every row has the same width). A cell's bytes are split into
//!
//! * **live**: objects reachable from the roots;
//! * **dead**: objects nothing reaches any more, still occupying memory until the next collection of their space;
//! * **free**: memory ready for allocation (old space's free lists and linear area, new space above its top);
//! * **waste**: holes too small for the free list, page tails an object did not fit in, survivor-LAB slack.
//!
//! The rest of a cell, if any, is the page header (the first `area_start` bytes) or a large page's rounding.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::str::FromStr;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::gc_tracer::Collector;
use crate::heap::Heap;
use crate::object::{Label, ObjectId, Space};
use crate::space::large_object_space::large_page_bytes;

/// Cells per page row.
pub const CELLS_PER_PAGE: u32 = 64;

/// When a heap map is taken.
///
/// In text and JSON: `before:N`, `after:N` (N is the collection's [`number`](crate::GcEvent::number), 1 for the
/// first) or `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum HeapMapMoment {
    /// Just before collection number N starts.
    Before(u64),
    /// Just after collection number N ends.
    After(u64),
    /// The end of the run (or, from [`HeapMap::of`], the heap as it is now).
    End,
}

impl fmt::Display for HeapMapMoment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapMapMoment::Before(n) => write!(f, "before:{n}"),
            HeapMapMoment::After(n) => write!(f, "after:{n}"),
            HeapMapMoment::End => f.write_str("end"),
        }
    }
}

impl FromStr for HeapMapMoment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let expected = || format!("`{s}` is not a heap-map moment: expected `before:N`, `after:N` (N >= 1) or `end`");
        if s == "end" {
            return Ok(HeapMapMoment::End);
        }
        let (when, number) = s.split_once(':').ok_or_else(expected)?;
        let number: u64 = number.parse().ok().filter(|&n| n >= 1).ok_or_else(expected)?;
        match when {
            "before" => Ok(HeapMapMoment::Before(number)),
            "after" => Ok(HeapMapMoment::After(number)),
            _ => Err(expected()),
        }
    }
}

impl From<HeapMapMoment> for String {
    fn from(moment: HeapMapMoment) -> String {
        moment.to_string()
    }
}

impl TryFrom<String> for HeapMapMoment {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// The heap, page by page, at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeapMap {
    /// When the map was taken.
    pub moment: HeapMapMoment,
    /// Simulated time, ms.
    pub t_ms: f64,
    /// The collector of the collection the moment refers to (`None` for `end`).
    pub collector: Option<Collector>,
    /// Names of the kinds and tags the cells refer to by index.
    pub labels: Vec<String>,
    /// Every page: new space's to-space pages, then old space, then the large-object spaces.
    pub pages: Vec<PageMap>,
}

/// One page's row of cells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageMap {
    /// The space the page belongs to.
    pub space: Space,
    /// The page's number within its space (see [`Address`](crate::Address)).
    pub page: u32,
    /// Bytes the page occupies.
    pub bytes: u64,
    /// Bytes each cell covers (the last cell may cover less).
    pub cell_bytes: u64,
    /// [`CELLS_PER_PAGE`] cells, in address order.
    pub cells: Vec<Cell>,
}

/// What one cell of a page holds. In JSON a cell is the array `[live, dead, free, waste, kind, tag]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "CellArray", into = "CellArray")]
pub struct Cell {
    /// Bytes of reachable objects.
    pub live: u32,
    /// Bytes of unreachable objects not yet collected.
    pub dead: u32,
    /// Bytes ready for allocation.
    pub free: u32,
    /// Bytes lost to holes and page tails until the next collection of the space.
    pub waste: u32,
    /// The kind with the most live bytes in the cell, as an index into [`HeapMap::labels`].
    pub kind: Option<u32>,
    /// The tag with the most live bytes in the cell, as an index into [`HeapMap::labels`].
    pub tag: Option<u32>,
}

type CellArray = (u32, u32, u32, u32, Option<u32>, Option<u32>);

impl From<CellArray> for Cell {
    fn from((live, dead, free, waste, kind, tag): CellArray) -> Cell {
        Cell { live, dead, free, waste, kind, tag }
    }
}

impl From<Cell> for CellArray {
    fn from(c: Cell) -> CellArray {
        (c.live, c.dead, c.free, c.waste, c.kind, c.tag)
    }
}

impl HeapMap {
    /// Bytes of each state summed over the pages of `space`: `(live, dead, free, waste)`.
    pub fn totals(&self, space: Space) -> (u64, u64, u64, u64) {
        self.pages.iter().filter(|p| p.space == space).flat_map(|p| &p.cells).fold((0, 0, 0, 0), |t, c| {
            (t.0 + u64::from(c.live), t.1 + u64::from(c.dead), t.2 + u64::from(c.free), t.3 + u64::from(c.waste))
        })
    }
}

/// What a run of bytes on a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fill {
    Live { kind: Option<Label>, tag: Option<Label> },
    Dead,
    Free,
    Waste,
}

/// A run of bytes on a page.
#[derive(Clone, Copy, Debug)]
struct Run {
    offset: u64,
    size: u64,
    fill: Fill,
}

/// Builds one page's cells from its runs, which must be sorted and must not overlap.
struct PageBuilder {
    cell_bytes: u64,
    cells: Vec<Cell>,
    /// Live bytes per (cell, label), for the dominant kind and tag of each cell.
    kinds: FxHashMap<(u32, Label), u64>,
    tags: FxHashMap<(u32, Label), u64>,
}

impl PageBuilder {
    fn new(bytes: u64) -> PageBuilder {
        PageBuilder {
            cell_bytes: bytes.div_ceil(u64::from(CELLS_PER_PAGE)).max(1),
            cells: vec![Cell::default(); CELLS_PER_PAGE as usize],
            kinds: FxHashMap::default(),
            tags: FxHashMap::default(),
        }
    }

    /// Adds `run`, split over the cells it covers.
    fn add(&mut self, run: Run) {
        let mut offset = run.offset;
        let end = run.offset + run.size;
        while offset < end {
            let index = offset / self.cell_bytes;
            let cell_end = (index + 1) * self.cell_bytes;
            let bytes = end.min(cell_end) - offset;
            let cell = &mut self.cells[index as usize];
            // A cell is at most a page / CELLS_PER_PAGE and pages are u32-sized, so `bytes` fits.
            let b = bytes as u32;
            match run.fill {
                Fill::Live { kind, tag } => {
                    cell.live += b;
                    if let Some(kind) = kind {
                        *self.kinds.entry((index as u32, kind)).or_default() += bytes;
                    }
                    if let Some(tag) = tag {
                        *self.tags.entry((index as u32, tag)).or_default() += bytes;
                    }
                }
                Fill::Dead => cell.dead += b,
                Fill::Free => cell.free += b,
                Fill::Waste => cell.waste += b,
            }
            offset += bytes;
        }
    }

    /// Finishes the page, naming each cell's dominant kind and tag through `index_of`.
    fn finish(mut self, space: Space, page: u32, bytes: u64, index_of: &mut impl FnMut(Label) -> u32) -> PageMap {
        for (map, is_kind) in [(std::mem::take(&mut self.kinds), true), (std::mem::take(&mut self.tags), false)] {
            // Most bytes wins; ties go to the label interned first, so the result does not depend on hashing.
            let mut best: FxHashMap<u32, (u64, Label)> = FxHashMap::default();
            for ((cell, label), bytes) in map {
                let entry = best.entry(cell).or_insert((bytes, label));
                if bytes > entry.0 || (bytes == entry.0 && label < entry.1) {
                    *entry = (bytes, label);
                }
            }
            let mut best: Vec<_> = best.into_iter().collect();
            best.sort_unstable_by_key(|&(cell, _)| cell);
            for (cell, (_, label)) in best {
                let index = Some(index_of(label));
                if is_kind {
                    self.cells[cell as usize].kind = index;
                } else {
                    self.cells[cell as usize].tag = index;
                }
            }
        }
        PageMap { space, page, bytes, cell_bytes: self.cell_bytes, cells: self.cells }
    }
}

/// Adds `run` to `runs`, first filling any gap since `cursor` with `gap`.
fn push_with_gap(runs: &mut Vec<Run>, cursor: &mut u64, run: Run, gap: Fill) {
    if run.offset > *cursor {
        runs.push(Run { offset: *cursor, size: run.offset - *cursor, fill: gap });
    }
    *cursor = (*cursor).max(run.offset + run.size);
    runs.push(run);
}

impl HeapMap {
    /// A map of `heap` as it is now, with [`HeapMapMoment::End`] as its moment.
    ///
    /// The cost is a walk of the live graph plus a sort of every object: meant for reports and tests, not for
    /// every allocation.
    ///
    /// ```
    /// use gc_sim::{Heap, HeapMap, Labels, Space};
    /// let mut heap = Heap::default();
    /// let kept = heap.alloc(4096, 0, Labels::NONE)?;
    /// heap.add_root("globals", kept)?;
    /// heap.alloc(1024, 0, Labels::NONE)?; // garbage: nothing holds it
    /// let map = HeapMap::of(&heap);
    /// let (live, dead, _free, _waste) = map.totals(Space::New);
    /// assert_eq!((live, dead), (4096, 1024));
    /// # Ok::<(), gc_sim::HeapError>(())
    /// ```
    pub fn of(heap: &Heap) -> HeapMap {
        heap_map_at(heap, HeapMapMoment::End, None)
    }
}

/// Heap maps taken at the moments asked for, around collections: it installs a GC prologue and a GC epilogue
/// callback on the heap ([`Heap::add_gc_prologue_callback`]), which take the map of a moment `before:N` or
/// `after:N` when collection N starts or ends. Maps cost memory in proportion to the heap's pages, so none is built
/// unless asked for. The recorder is a handle: clones share the same requests and maps.
#[derive(Clone, Debug, Default)]
pub struct HeapMapRecorder {
    state: Rc<RefCell<Recorded>>,
}

#[derive(Debug, Default)]
struct Recorded {
    /// Moments asked for and not yet taken.
    requests: Vec<HeapMapMoment>,
    /// Whether the map at the end was asked for.
    end_requested: bool,
    /// Maps taken, in the order they were taken.
    maps: Vec<HeapMap>,
}

impl HeapMapRecorder {
    /// A recorder whose callbacks are installed on `heap`.
    pub fn install(heap: &mut Heap) -> HeapMapRecorder {
        let recorder = HeapMapRecorder::default();
        let before = Rc::clone(&recorder.state);
        heap.add_gc_prologue_callback(move |heap, start| {
            take_requested(&before, heap, HeapMapMoment::Before(start.number), start.collector);
        });
        let after = Rc::clone(&recorder.state);
        heap.add_gc_epilogue_callback(move |heap, event| {
            take_requested(&after, heap, HeapMapMoment::After(event.number), event.collector);
        });
        recorder
    }

    /// Asks for a heap map at `moment`. A map `before:N` or `after:N` appears in [`maps`](Self::maps) once collection
    /// N has started or ended. [`HeapMapMoment::End`] asks for the map at the end of the run in the
    /// [`Report`](crate::Report) ([`end_requested`](Self::end_requested)); take it with [`HeapMap::of`].
    pub fn request(&self, moment: HeapMapMoment) {
        let mut state = self.state.borrow_mut();
        if moment == HeapMapMoment::End {
            state.end_requested = true;
        } else if !state.requests.contains(&moment) {
            state.requests.push(moment);
        }
    }

    /// Whether the map at the end of the run was asked for.
    pub fn end_requested(&self) -> bool {
        self.state.borrow().end_requested
    }

    /// The maps taken so far, in the order they were taken.
    pub fn maps(&self) -> Vec<HeapMap> {
        self.state.borrow().maps.clone()
    }
}

/// Takes the map for `moment` if it was asked for.
fn take_requested(state: &RefCell<Recorded>, heap: &Heap, moment: HeapMapMoment, collector: Collector) {
    let mut state = state.borrow_mut();
    if let Some(i) = state.requests.iter().position(|&m| m == moment) {
        state.requests.swap_remove(i);
        let map = heap_map_at(heap, moment, Some(collector));
        state.maps.push(map);
    }
}

fn heap_map_at(heap: &Heap, moment: HeapMapMoment, collector: Option<Collector>) -> HeapMap {
    let reachable = crate::analysis::walk::reachable(heap);
    let fill = |id: ObjectId| {
        if reachable.contains_key(id) {
            let labels = heap.labels_of(&heap.headers()[id]);
            Fill::Live { kind: labels.kind, tag: labels.tag }
        } else {
            Fill::Dead
        }
    };

    // Every object, by space, page and offset.
    let mut placed: Vec<(Space, u32, u32, ObjectId)> = heap
        .headers()
        .iter()
        .filter(|(_, o)| heap.is_live_header(o))
        .map(|(id, o)| (o.space(), o.address.page, o.address.offset, id))
        .collect();
    placed.sort_unstable_by_key(|&(space, page, offset, _)| (space, page, offset));

    let mut labels = Vec::new();
    let mut label_index: FxHashMap<Label, u32> = FxHashMap::default();
    let mut index_of = |label: Label| {
        *label_index.entry(label).or_insert_with(|| {
            labels.push(heap.label_name_at(label.index()).to_owned());
            (labels.len() - 1) as u32
        })
    };
    let geometry = heap.config().page;
    let (area_start, area_end) = (u64::from(geometry.area_start), u64::from(geometry.area_end()));
    let page_bytes = u64::from(geometry.page_size);
    let on_page = |space: Space, page: u32| {
        let from = placed.partition_point(|&(s, p, _, _)| (s, p) < (space, page));
        let to = placed.partition_point(|&(s, p, _, _)| (s, p) <= (space, page));
        &placed[from..to]
    };
    let object_run = |&(_, _, offset, id): &(Space, u32, u32, ObjectId)| Run {
        offset: u64::from(offset),
        size: u64::from(heap.headers()[id].size),
        fill: fill(id),
    };
    let mut pages = Vec::new();
    let mut runs = Vec::new();

    // New space: the to-space pages. Below the top, gaps are survivor-LAB slack and page tails; above it,
    // free.
    let (top_page, top) = heap.new_space().allocation_position();
    for index in 0..heap.new_space().capacity_pages {
        let page = heap.new_space().address(index, 0).page;
        runs.clear();
        let mut cursor = area_start;
        for placed in on_page(Space::New, page) {
            push_with_gap(&mut runs, &mut cursor, object_run(placed), Fill::Waste);
        }
        let free_from = match index.cmp(&top_page) {
            std::cmp::Ordering::Less => area_end,
            std::cmp::Ordering::Equal => u64::from(top),
            std::cmp::Ordering::Greater => area_start,
        };
        if free_from < area_end {
            let run = Run { offset: free_from, size: area_end - free_from, fill: Fill::Free };
            push_with_gap(&mut runs, &mut cursor, run, Fill::Waste);
        }
        if cursor < area_end {
            runs.push(Run { offset: cursor, size: area_end - cursor, fill: Fill::Waste });
        }
        pages.push(build_page(Space::New, page, page_bytes, &runs, &mut index_of));
    }

    // Old space: objects, free-list blocks and the linear area; any other gap is a hole.
    let mut free_blocks: Vec<(u32, u32, u32)> =
        heap.old_space().free_list.blocks().map(|b| (b.page, b.offset, b.size)).collect();
    let (lab_page, lab_top, lab_limit) = heap.old_space().linear_area();
    if lab_limit > lab_top {
        free_blocks.push((lab_page, lab_top, lab_limit - lab_top));
    }
    free_blocks.sort_unstable();
    for (page, info) in heap.old_space().pages.iter().enumerate() {
        if !info.in_use {
            continue;
        }
        let page = page as u32;
        let from = free_blocks.partition_point(|&(p, _, _)| p < page);
        let to = free_blocks.partition_point(|&(p, _, _)| p <= page);
        let free = free_blocks[from..to].iter().map(|&(_, offset, size)| Run {
            offset: u64::from(offset),
            size: u64::from(size),
            fill: Fill::Free,
        });
        let objects = on_page(Space::Old, page).iter().map(object_run);
        let mut all: Vec<Run> = free.chain(objects).collect();
        all.sort_unstable_by_key(|r| r.offset);
        runs.clear();
        let mut cursor = area_start;
        for run in all {
            push_with_gap(&mut runs, &mut cursor, run, Fill::Waste);
        }
        if cursor < area_end {
            runs.push(Run { offset: cursor, size: area_end - cursor, fill: Fill::Waste });
        }
        pages.push(build_page(Space::Old, page, page_bytes, &runs, &mut index_of));
    }

    // Large objects: one object per page, the rest of the page is its header and rounding.
    for space in [Space::NewLargeObject, Space::LargeObject] {
        let from = placed.partition_point(|&(s, _, _, _)| s < space);
        let to = placed.partition_point(|&(s, _, _, _)| s <= space);
        for placed in &placed[from..to] {
            let size = heap.headers()[placed.3].size;
            let bytes = large_page_bytes(&geometry, size);
            runs.clear();
            runs.push(object_run(placed));
            pages.push(build_page(space, placed.1, bytes, &runs, &mut index_of));
        }
    }

    HeapMap { moment, t_ms: heap.now_ms(), collector, labels, pages }
}

fn build_page(space: Space, page: u32, bytes: u64, runs: &[Run], index_of: &mut impl FnMut(Label) -> u32) -> PageMap {
    let mut builder = PageBuilder::new(bytes);
    for &run in runs {
        builder.add(run);
    }
    builder.finish(space, page, bytes, index_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Collection, HeapConfig, Labels, KIB, MIB};

    #[test]
    fn moments_parse_and_print() {
        for text in ["before:3", "after:12", "end"] {
            assert_eq!(text.parse::<HeapMapMoment>().unwrap().to_string(), text);
        }
        for bad in ["before", "after:0", "during:3", "before:x", ""] {
            assert!(bad.parse::<HeapMapMoment>().unwrap_err().contains("expected `before:N`"), "{bad}");
        }
        let json = serde_json::to_string(&HeapMapMoment::Before(4)).unwrap();
        assert_eq!(json, "\"before:4\"");
        assert_eq!(serde_json::from_str::<HeapMapMoment>(&json).unwrap(), HeapMapMoment::Before(4));
    }

    /// Every allocatable byte of every page is in exactly one state, and the states add up to the spaces'
    /// accounting.
    fn assert_accounts_for_every_byte(heap: &Heap, map: &HeapMap) {
        let geometry = heap.config().page;
        for page in &map.pages {
            let sum: u64 = page
                .cells
                .iter()
                .map(|c| u64::from(c.live) + u64::from(c.dead) + u64::from(c.free) + u64::from(c.waste))
                .sum();
            let expected = match page.space {
                Space::New | Space::Old => u64::from(geometry.area_size),
                _ => sum, // checked below through used bytes
            };
            assert_eq!(sum, expected, "{:?} page {}", page.space, page.page);
            for c in &page.cells {
                assert!(u64::from(c.live + c.dead + c.free + c.waste) <= page.cell_bytes);
            }
        }
        let usage = heap.usage();
        let (live, dead, _, _) = map.totals(Space::Old);
        assert_eq!(live + dead, usage.old_space.used_bytes);
        let (live, dead, free, _) = map.totals(Space::New);
        assert_eq!(live + dead, usage.new_space.used_bytes);
        assert!(free <= heap.semi_space_capacity());
        let (live, dead, _, _) = map.totals(Space::LargeObject);
        assert_eq!(live + dead, usage.large_object_space.used_bytes);
        let (_, _, free, waste) = map.totals(Space::Old);
        assert_eq!(free + waste, heap.old_space().capacity_bytes() - usage.old_space.used_bytes);
        let (_, top, limit) = heap.old_space().linear_area();
        assert_eq!(free, heap.old_space().free_list.available_bytes() + u64::from(limit - top));
    }

    #[test]
    fn a_map_splits_live_dead_free_and_waste() {
        let mut heap = Heap::new(HeapConfig { max_semi_space_size: MIB, ..HeapConfig::default() }).unwrap();
        let conn = heap.label("conn-1");
        let socket = heap.label("Socket");
        let kept = heap.alloc(8 * KIB as u32, 0, Labels { kind: Some(socket), tag: Some(conn), site: None }).unwrap();
        heap.add_root("timers", kept).unwrap();
        heap.alloc(3000, 0, Labels::NONE).unwrap();
        let big = heap.alloc(200_000, 0, Labels::NONE).unwrap();
        heap.add_root("globals", big).unwrap();

        let map = HeapMap::of(&heap);
        assert_eq!(map.moment, HeapMapMoment::End);
        assert_eq!(
            map.pages.iter().filter(|p| p.space == Space::New).count() as u64,
            heap.new_space().capacity_pages as u64
        );
        assert_eq!(map.totals(Space::New).0, 8192);
        assert_eq!(map.totals(Space::New).1, 3000u64.div_ceil(8) * 8);
        assert_eq!(map.totals(Space::NewLargeObject).0, 200_000);
        let first = &map.pages[0];
        assert_eq!(first.cell_bytes, 4096);
        // The page header covers the first cell and part of the second; the socket starts at 4,424.
        assert_eq!(first.cells[0], Cell::default());
        assert_eq!(first.cells[1].live, 8192 - 4424);
        assert_eq!(map.labels[first.cells[1].kind.unwrap() as usize], "Socket");
        assert_eq!(map.labels[first.cells[1].tag.unwrap() as usize], "conn-1");
        assert_accounts_for_every_byte(&heap, &map);

        heap.collect(Collection::Major).unwrap();
        let map = HeapMap::of(&heap);
        assert_eq!(map.totals(Space::Old).0, 8192, "promoted by the full collection");
        assert_eq!(map.totals(Space::Old).1, 0, "nothing dead survives a full collection");
        assert_eq!(map.totals(Space::New), (0, 0, heap.semi_space_capacity(), 0));
        assert_eq!(map.totals(Space::LargeObject).0, 200_000);
        assert_accounts_for_every_byte(&heap, &map);
    }

    #[test]
    fn requested_maps_are_taken_around_their_collection() {
        let mut heap = Heap::new(HeapConfig { max_semi_space_size: MIB, ..HeapConfig::default() }).unwrap();
        let recorder = HeapMapRecorder::install(&mut heap);
        recorder.request(HeapMapMoment::Before(2));
        recorder.request(HeapMapMoment::After(2));
        recorder.request(HeapMapMoment::After(9));
        let kept = heap.alloc(64, 1, Labels::NONE).unwrap();
        heap.add_root("globals", kept).unwrap();
        heap.collect(Collection::Minor).unwrap();
        heap.alloc(5000, 0, Labels::NONE).unwrap();
        heap.collect(Collection::Minor).unwrap();
        let maps = recorder.maps();
        assert_eq!(
            maps.iter().map(|m| m.moment).collect::<Vec<_>>(),
            [HeapMapMoment::Before(2), HeapMapMoment::After(2)]
        );
        assert_eq!(maps[0].collector, Some(Collector::Scavenge));
        let (live, dead, _, _) = maps[0].totals(Space::New);
        assert_eq!((live, dead), (64, 5000));
        assert_eq!(
            (maps[1].totals(Space::New).1, maps[1].totals(Space::Old).0),
            (0, 64),
            "the dead object is gone, the survivor promoted"
        );
        assert!(maps[0].t_ms <= maps[1].t_ms);
    }
}
