//! Memory per live object: how many bytes of the simulator's own memory one simulated live object costs.
//!
//! The example builds `N` live objects through the mutator API, as a rooted linked list (each object points to
//! the next through its first slot), lets the scavenges this triggers promote them, runs a full GC so that every
//! object is in old space, and measures the process's resident set before and after:
//!
//! ```sh
//! cargo run --release -p gc-sim --example memory_per_object -- 1000000
//! cargo run --release -p gc-sim --example memory_per_object -- 10000000
//! cargo run --release -p gc-sim --example memory_per_object -- 10000000 --slots 4
//! ```
//!
//! Objects have `--slots` reference slots (default 1) and a simulated size of `24 + 8 × slots` bytes (32 B with one
//! slot); the simulated size costs no simulator memory, only the header and the slots do. The example prints `N`,
//! the slots per object, the resident set (`VmRSS` of `/proc/self/status`) before building and after the full GC,
//! the peak resident set (`VmHWM`), and
//!
//! * bytes of simulator memory per live object = (RSS after − RSS before) / N,
//! * the same minus 8 B per slot, against the target of **at most 64 B per live object plus 8 B per slot**,
//! * what the heap itself accounts for ([`Heap::footprint`]: object headers, slots, remembered set, young-generation
//!   object lists and the scratch memory collections keep), per object, in total and part by part. These are
//!   capacities: memory the heap asked for, some of which may never have been touched (the slot map doubles).
//!
//! Resident-set figures come from `/proc/self/status`, so they need Linux; elsewhere the example says so and
//! prints only the heap's own accounting. Run it in release mode: a debug build measures the same memory but
//! takes far longer.

use std::process::ExitCode;

use gc_sim::{Collection, Heap, HeapError, Labels};

/// The target: simulator bytes per live object, on top of 8 B per slot.
const TARGET_BYTES_PER_OBJECT: f64 = 64.0;
/// What one reference slot may cost on top of the per-object target.
const BYTES_PER_SLOT: f64 = 8.0;

const USAGE: &str = "usage: memory_per_object [OBJECTS] [--slots N]   (default: 1000000 objects, 1 slot)";

/// The resident set now and its peak, in bytes (`VmRSS` and `VmHWM` of `/proc/self/status`), or `None` where that
/// file does not exist (not Linux).
fn resident_set() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        let kib: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Parses `[OBJECTS] [--slots N]`; digits may be grouped with `_` or `,` (`10_000_000`).
fn parse_args() -> Result<(u64, u32), String> {
    let number = |s: &str| -> Result<u64, String> {
        s.chars()
            .filter(|&c| c != '_' && c != ',')
            .collect::<String>()
            .parse()
            .map_err(|_| format!("not a number: {s}"))
    };
    let (mut objects, mut slots) = (1_000_000u64, 1u32);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Err(String::new());
        }
        let value = if arg == "--slots" {
            Some(args.next().ok_or("--slots needs a value")?)
        } else {
            arg.strip_prefix("--slots=").map(str::to_owned)
        };
        match value {
            Some(value) => slots = u32::try_from(number(&value)?).map_err(|_| format!("too many slots: {value}"))?,
            None if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            None => objects = number(&arg)?,
        }
    }
    if objects == 0 || slots == 0 {
        return Err("the list needs at least one object and one slot per object".into());
    }
    Ok((objects, slots))
}

/// Builds `objects` live objects with `slots` slots each in a rooted list, then runs a full GC.
fn build(heap: &mut Heap, objects: u64, slots: u32) -> Result<(), HeapError> {
    let size = 24 + 8 * slots;
    let head = heap.alloc(size, slots, Labels::NONE)?;
    heap.add_root("list", head)?;
    let mut tail = head;
    for _ in 1..objects {
        let next = heap.alloc(size, slots, Labels::NONE)?;
        heap.write(tail, 0, Some(next))?;
        tail = next;
    }
    heap.collect(Collection::Major)?;
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> ExitCode {
    let (objects, slots) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("memory_per_object: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };

    let before = resident_set();
    let mut heap = Heap::default();
    if let Err(error) = build(&mut heap, objects, slots) {
        eprintln!("memory_per_object: the simulated heap failed: {error}");
        return ExitCode::FAILURE;
    }
    let after = resident_set();

    let usage = heap.usage();
    assert_eq!(usage.old_space.objects, objects, "every object is live, in old space");
    let n = objects as f64;
    let slot_allowance = BYTES_PER_SLOT * f64::from(slots);
    println!(
        "{objects} live objects, {slots} slot(s) each ({} B simulated), a rooted list in old space after a full GC",
        24 + 8 * slots
    );
    println!(
        "target: <= {TARGET_BYTES_PER_OBJECT} B of simulator memory per live object + {BYTES_PER_SLOT} B per slot"
    );
    match (before, after) {
        (Some((rss_before, _)), Some((rss_after, peak))) => {
            let per_object = rss_after.saturating_sub(rss_before) as f64 / n;
            let peak_per_object = peak.saturating_sub(rss_before) as f64 / n;
            let verdict = if per_object - slot_allowance <= TARGET_BYTES_PER_OBJECT { "meets" } else { "ABOVE" };
            println!("RSS before building:        {:10.1} MiB", mib(rss_before));
            println!("RSS after the full GC:      {:10.1} MiB", mib(rss_after));
            println!("peak RSS (VmHWM):           {:10.1} MiB", mib(peak));
            println!("per live object:            {per_object:10.1} B   (RSS after - RSS before) / N");
            let label = format!("  minus {slot_allowance} B for {slots} slot(s):");
            println!(
                "{label:<28}{:10.1} B   {verdict} the target of {TARGET_BYTES_PER_OBJECT} B",
                per_object - slot_allowance
            );
            println!("peak per live object:       {peak_per_object:10.1} B   (peak RSS - RSS before) / N");
        }
        _ => println!("resident set: not available (no /proc/self/status: this figure needs Linux)"),
    }
    let footprint = heap.footprint();
    let per_object = |bytes: usize| bytes as f64 / n;
    println!(
        "heap's own accounting:      {:10.1} B   Heap::footprint() / N, capacities:",
        per_object(footprint.total())
    );
    for (part, bytes) in [
        ("object headers", footprint.headers),
        ("slots", footprint.slots),
        ("remembered set", footprint.remembered_set),
        ("young-generation lists", footprint.young_lists),
        ("scratch memory", footprint.scratch),
    ] {
        println!("  {part:<26}{:10.1} B", per_object(bytes));
    }
    ExitCode::SUCCESS
}
