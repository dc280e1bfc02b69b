//! Shared fixtures of the integration tests (each test file that uses them declares `mod common;`): the tiny heap,
//! a rooted linked list built object by object, and replays of trace texts and of the example traces.
#![allow(dead_code)]

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use gc_sim::trace::{TraceError, TraceFormat};
use gc_sim::{replay_trace, Heap, HeapConfig, HeapError, Labels, ObjectId, PageGeometry, Replay, KIB, MIB};

/// A heap with 4 KiB pages so that a few hundred small objects fill new space and trigger collections.
pub fn tiny_config() -> HeapConfig {
    HeapConfig {
        page: PageGeometry { page_size: 4096, area_start: 64, area_size: 4032 },
        min_semi_space_size: 8 * KIB,
        max_semi_space_size: 32 * KIB,
        large_object_threshold: 2048,
        lab_size: 1024,
        max_lab_object_size: 256,
        max_old_generation_size: 64 * MIB,
        ..HeapConfig::default()
    }
}

/// A singly linked list held by one root set: its head is rooted, and each object's slot 0 points at the next.
/// Built one object at a time, so that a test can do its own steps in between (advance the clock, allocate
/// garbage, collect).
#[derive(Clone, Copy, Debug)]
pub struct List {
    /// The first object, in the root set.
    pub head: ObjectId,
    /// The last object.
    pub tail: ObjectId,
    /// Objects in the list, the head included.
    pub len: u64,
}

impl List {
    /// A list whose head is `head` (an object with at least one slot), added to the root set `root`.
    pub fn rooted_at(heap: &mut Heap, root: &str, head: ObjectId) -> List {
        heap.add_root(root, head).expect("the head is alive");
        List { head, tail: head, len: 1 }
    }

    /// A list whose head is a new object of `size` bytes with one slot, in the root set `root`.
    pub fn rooted(heap: &mut Heap, root: &str, size: u32) -> List {
        let head = heap.alloc(size, 1, Labels::NONE).expect("the head fits");
        List::rooted_at(heap, root, head)
    }

    /// Allocates an object of `size` bytes with one slot and links it after the tail.
    ///
    /// # Errors
    /// The allocation's error (the program ran out of memory); the list is then unchanged.
    pub fn push(&mut self, heap: &mut Heap, size: u32) -> Result<ObjectId, HeapError> {
        let next = heap.alloc(size, 1, Labels::NONE)?;
        self.link(heap, next);
        Ok(next)
    }

    /// As [`push`](Self::push), with the object pretenured in old space.
    pub fn push_old(&mut self, heap: &mut Heap, size: u32) -> Result<ObjectId, HeapError> {
        let next = heap.alloc_old(size, 1, Labels::NONE)?;
        self.link(heap, next);
        Ok(next)
    }

    /// Links `next` after the tail.
    pub fn link(&mut self, heap: &mut Heap, next: ObjectId) {
        heap.write(self.tail, 0, Some(next)).expect("the tail is alive and has a slot");
        self.tail = next;
        self.len += 1;
    }
}

/// A rooted list of `n` objects of `size` bytes, in the root set `root`; the collections its allocation triggers
/// copy and promote it.
pub fn rooted_list(heap: &mut Heap, root: &str, n: u64, size: u32) -> List {
    let mut list = List::rooted(heap, root, size);
    for _ in 1..n {
        list.push(heap, size).expect("the list fits");
    }
    list
}

/// `header` and `events` as an NDJSON trace, one per line.
pub fn ndjson(header: &str, events: &[&str]) -> String {
    std::iter::once(header).chain(events.iter().copied()).collect::<Vec<_>>().join("\n")
}

/// Replays the trace `text`, named `name` in errors, on the heap its header configures; its form is detected.
pub fn replay_text(text: &str, name: &str) -> Result<Replay, TraceError> {
    replay_trace(text.as_bytes(), name, None, |header| Ok(header.heap.clone()))
}

/// The path of `file` in `examples/traces/`.
pub fn example_path(file: &str) -> String {
    format!("{}/../examples/traces/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Replays the trace at `path` (its form from its extension) on the heap its header configures; a missing file
/// or an invalid trace fails the test, naming the file.
pub fn replay_file(path: &str) -> Replay {
    let file = File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let format = TraceFormat::from_path(Path::new(path));
    replay_trace(BufReader::new(file), path, format, |header| Ok(header.heap.clone())).unwrap_or_else(|e| panic!("{e}"))
}

/// A slow leak among plenty of garbage, until the program dies: 20 temporaries of 300 B, 0.05 ms of mutator time
/// apart, then one more 5,000 B object on a list rooted in `timers` (pretenured when `old`), again and again.
/// Returns the error the heap died of (or any other it gave).
pub fn slow_leak_until_death(heap: &mut Heap, old: bool) -> HeapError {
    let mut list = List::rooted(heap, "timers", 16);
    loop {
        for _ in 0..20 {
            heap.enter_scope();
            let garbage = heap.alloc(300, 0, Labels::NONE);
            heap.exit_scope().unwrap();
            if let Err(e) = garbage.and_then(|_| heap.advance(0.05)) {
                return e;
            }
        }
        let pushed = if old { list.push_old(heap, 5_000) } else { list.push(heap, 5_000) };
        if let Err(e) = pushed {
            return e;
        }
    }
}
