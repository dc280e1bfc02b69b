//! The snapshot reader's memory follows what a file holds, never what it declares: a 300-byte file that declares a
//! billion nodes and edges (or a type table and field lists that are absurd) peaks at the reader's 64 KiB buffers
//! and a few small vectors. Measured with a counting global allocator (current and peak bytes), in its own test
//! binary so that nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use gc_sim::snapshot::read_snapshot;

struct Peak;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// Peak bytes allocated while reading `doc` (above what was allocated before), and whether it read.
fn peak_of(doc: &[u8]) -> (usize, bool) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let ok = read_snapshot(doc).is_ok();
    (PEAK.load(Ordering::SeqCst) - base, ok)
}

#[test]
fn declared_sizes_allocate_nothing_big() {
    let meta = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
        "node_types":[["synthetic","object"],"string","number","number","number"],
        "edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"],"string_or_number","node"]},
        "node_count":1000000000,"edge_count":1000000000,"root_index":0},"#;
    let cases = [
        format!("{meta}\"nodes\":[0,0,1,0,0],\"edges\":[],\"strings\":[\"\"]}}"),
        format!("{meta}\"nodes\":[0,0,1,0,4000000000],\"edges\":[0,0,0],\"strings\":[\"\"]}}"),
        format!("{meta}\"nodes\":[0,0,1,0,1"),
        meta.replace("\"node_count\":1000000000", "\"node_count\":18446744073709551615"),
    ];
    for doc in &cases {
        let (peak, ok) = peak_of(doc.as_bytes());
        assert!(!ok, "{doc}");
        assert!(peak < 512 * 1024, "{peak} bytes for a {}-byte file", doc.len());
        assert!(peak >= 64 * 1024, "the counter sees the reader's buffers: {peak}");
    }
    // A real snapshot's reading, for scale: its columns.
    let (small, ok) = peak_of(br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["synthetic"],"string","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"],"string_or_number","node"]}},"nodes":[0,0,1,0,0],"edges":[],"strings":[""]}"#);
    assert!(ok);
    assert!(small < 512 * 1024, "{small}");
}
