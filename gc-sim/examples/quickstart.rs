//! A leaking ticker server in miniature, driven through the library: every connection starts a timer that is
//! never cleared, so its objects survive scavenges, get promoted and pile up in old space.
//!
//! Run with `cargo run --release -p gc-sim --example quickstart`.

use gc_sim::{Collection, Heap, HeapError, Labels};

fn main() -> Result<(), HeapError> {
    let mut heap = Heap::default();
    heap.add_gc_epilogue_callback(|_, event| println!("{}", event.trace_gc_line()));
    let timeout = heap.label("Timeout");
    for connection in 0..2_000u32 {
        // A connection: a Timeout in the timer list, holding its closure and socket state.
        let tag = heap.label(&format!("conn-{connection}"));
        let labels = Labels { kind: Some(timeout), tag: Some(tag), site: None };
        let timer = heap.alloc(104, 1, labels)?;
        heap.add_root("timers", timer)?;
        let state = heap.alloc(5_200, 0, Labels { tag: Some(tag), ..Labels::NONE })?;
        heap.write(timer, 0, Some(state))?;
        // 100 ticks of about 300 B of garbage each while it is open; then it closes, but the timer stays.
        for _ in 0..100 {
            heap.enter_scope();
            heap.alloc(56, 2, Labels::NONE)?;
            heap.alloc(96, 0, Labels::NONE)?;
            heap.alloc(152, 0, Labels::NONE)?;
            heap.exit_scope()?;
            heap.advance(0.05)?;
        }
    }
    heap.collect(Collection::Major)?;
    let usage = heap.usage();
    println!(
        "\n{} scavenges, {} mark-compacts, {:.1} ms of pauses; old space holds {:.1} MB in {} objects",
        heap.totals().scavenges,
        heap.totals().mark_compacts,
        heap.totals().pause_ms,
        usage.old_space.used_bytes as f64 / 1e6,
        usage.old_space.objects,
    );
    Ok(())
}
