//! Reports from real replays, for the chart tests: NDJSON traces written here and replayed with
//! `gc_sim::replay_trace`, and helpers to read decoded PNGs.
#![allow(dead_code)]

use gc_sim::{replay_trace, Report};
use visualizer::palette::Rgb;

/// The small heap every test trace runs on: 4 KiB pages, 8–32 KiB semi-spaces, large objects from 2 KiB.
pub const SMALL_HEAP: &str = r#""page": {"page_size": 4096, "area_start": 64, "area_size": 4032}, "min_semi_space_size": 8192, "max_semi_space_size": 32768, "large_object_threshold": 2048, "lab_size": 1024, "max_lab_object_size": 256"#;

/// An NDJSON trace being written.
pub struct Trace {
    text: String,
    next_id: u64,
}

impl Trace {
    /// A trace named `name` on [`SMALL_HEAP`] plus `extra_heap` fields (e.g. `"max_old_generation_size": 65536`).
    pub fn new(name: &str, extra_heap: &str) -> Trace {
        let extra = if extra_heap.is_empty() { String::new() } else { format!(", {extra_heap}") };
        let text =
            format!(r#"{{"format": "gc-sim-trace", "version": 1, "name": "{name}", "heap": {{{SMALL_HEAP}{extra}}}}}"#);
        Trace { text, next_id: 1 }
    }

    /// Appends one event.
    pub fn event(&mut self, json: &str) -> &mut Trace {
        self.text.push('\n');
        self.text.push_str(json);
        self
    }

    /// Allocates an object and returns its id.
    pub fn alloc(&mut self, size: u32, slots: u32, kind: &str) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.event(&format!(r#"{{"op": "alloc", "id": {id}, "size": {size}, "slots": {slots}, "kind": "{kind}"}}"#));
        id
    }

    /// `obj.slots[slot] = to`.
    pub fn write(&mut self, obj: u64, slot: u32, to: u64) -> &mut Trace {
        self.event(&format!(r#"{{"op": "write", "obj": {obj}, "slot": {slot}, "to": {to}}}"#))
    }

    /// Replays the trace and returns its report, with the heap map at the end.
    pub fn report(&self) -> Report {
        let replay = replay_trace(self.text.as_bytes(), "test.ndjson", None, |h| Ok(h.heap.clone()))
            .unwrap_or_else(|e| panic!("the test trace is valid: {e}"));
        replay.heap_maps().request(gc_sim::HeapMapMoment::End);
        Report::new(&replay, None)
    }
}

/// A server handling `requests` requests, 10 ms apart. Each request makes 1.6 KB of garbage and an entry (a node
/// with a 640-B payload, and a 3000-B large object every tenth request). The leaky server keeps every entry in a
/// rooted linked list (a cache never evicted); the fixed one lets the entry die with the request. A mark every 10
/// requests, a `global.gc()` every 40.
pub fn server(name: &str, leaky: bool, requests: u32, extra_heap: &str) -> Report {
    let mut t = Trace::new(name, extra_heap);
    let mut head: Option<u64> = None;
    for i in 0..requests {
        if i % 10 == 0 {
            t.event(&format!(r#"{{"op": "mark", "label": "request {i}"}}"#));
        }
        t.event(r#"{"op": "enter"}"#);
        for _ in 0..8 {
            t.alloc(200, 1, "garbage");
        }
        let node = t.alloc(96, 3, "Entry");
        let payload = t.alloc(640, 0, "payload");
        t.write(node, 0, payload);
        if i % 10 == 9 {
            let big = t.alloc(3000, 0, "buffer");
            t.write(node, 1, big);
        }
        if leaky {
            if let Some(prev) = head {
                t.write(node, 2, prev);
                t.event(&format!(r#"{{"op": "unroot", "id": {prev}, "root": "cache"}}"#));
            }
            t.event(&format!(r#"{{"op": "root", "id": {node}, "root": "cache"}}"#));
            head = Some(node);
        }
        t.event(r#"{"op": "exit"}"#);
        t.event(r#"{"op": "tick", "ms": 10}"#);
        if i % 40 == 39 {
            t.event(r#"{"op": "gc", "kind": "major"}"#);
        }
    }
    t.report()
}

/// A decoded RGB image.
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Image {
    /// Decodes a PNG (8-bit RGB, as the visualizer writes them).
    pub fn decode(png_bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("a valid PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
        let info = reader.next_frame(&mut pixels).expect("one frame");
        assert_eq!(info.color_type, png::ColorType::Rgb, "RGB output");
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        pixels.truncate(info.buffer_size());
        Image { width: info.width, height: info.height, pixels }
    }

    /// The colour at (x, y).
    pub fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = 3 * (y as usize * self.width as usize + x as usize);
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// Pixels of exactly `color` with x in `xs`.
    pub fn count(&self, color: Rgb, xs: std::ops::Range<u32>) -> usize {
        let c = color.to_array();
        (0..self.height).map(|y| xs.clone().filter(|&x| self.at(x, y) == c).count()).sum()
    }

    /// Runs of consecutive `color` pixels in row `y`.
    pub fn runs_in_row(&self, color: Rgb, y: u32) -> usize {
        let c = color.to_array();
        let mut runs = 0;
        let mut inside = false;
        for x in 0..self.width {
            let hit = self.at(x, y) == c;
            if hit && !inside {
                runs += 1;
            }
            inside = hit;
        }
        runs
    }

    /// Columns holding a vertical run of at least `min_length` `color` pixels.
    pub fn columns_with_vertical_run(&self, color: Rgb, min_length: u32) -> Vec<u32> {
        let c = color.to_array();
        (0..self.width)
            .filter(|&x| {
                let mut run = 0;
                (0..self.height).any(|y| {
                    run = if self.at(x, y) == c { run + 1 } else { 0 };
                    run >= min_length
                })
            })
            .collect()
    }

    /// The topmost row holding `color` with x in `xs`, if any.
    pub fn top_row(&self, color: Rgb, xs: std::ops::Range<u32>) -> Option<u32> {
        let c = color.to_array();
        (0..self.height).find(|&y| xs.clone().any(|x| self.at(x, y) == c))
    }
}
