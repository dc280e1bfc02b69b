//! Writes a long synthetic trace as NDJSON on standard output, or to FILE, for measuring `gc-sim run` end to end:
//!
//! ```sh
//! cargo run --release -p gc-sim --example synthetic_trace -- mostly-dead 10000000 > mostly-dead-10M.ndjson
//! ./target/release/gc-sim run mostly-dead-10M.ndjson -q
//! cargo run --release -p gc-sim --example synthetic_trace -- mostly-dead 10000000 mostly-dead-10M.ndjson.zst
//! ```
//!
//! A FILE whose name ends in `.zst` or `.gz` is compressed as it is written.
//!
//! The workloads (`mostly-dead`, `high-survival`, `barrier-heavy`) are those of the replay benchmarks
//! (`benches/replay.rs`), described in `benches/workloads/mod.rs`. The trace is streamed: memory stays small
//! however many events are asked for.

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use gc_sim::compressed::{Compression, Encoder};
use gc_sim::trace::TraceHeader;
use gc_sim::HeapConfig;
use workloads::Workload;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
    let usage = format!("usage: synthetic_trace {} EVENTS [FILE] (standard output without FILE)", names.join("|"));
    let (name, events, file) = match args.as_slice() {
        [name, events] => (name, events, None),
        [name, events, file] => (name, events, Some(Path::new(file))),
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let Some(workload) = Workload::parse(name) else {
        eprintln!("unknown workload \"{name}\"\n{usage}");
        return ExitCode::from(2);
    };
    let Ok(events) = events.replace('_', "").parse::<u64>() else {
        eprintln!("EVENTS must be a whole number, not \"{events}\"\n{usage}");
        return ExitCode::from(2);
    };
    let written = match file {
        Some(path) => write_file(workload, events, path),
        None => write(workload, events, BufWriter::with_capacity(1 << 16, std::io::stdout().lock())).map(drop),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let target = file.map_or_else(|| "<stdout>".to_owned(), |p| p.display().to_string());
            eprintln!("synthetic_trace: cannot write the trace to {target}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the trace to the file `path`, compressed if its name ends in `.zst` or `.gz`.
fn write_file(workload: Workload, events: u64, path: &Path) -> std::io::Result<()> {
    let file = BufWriter::with_capacity(1 << 16, std::fs::File::create(path)?);
    match Compression::from_path(path) {
        Some(compression) => write(workload, events, Encoder::new(compression, file))?.finish().map(drop),
        None => write(workload, events, file).map(drop),
    }
}

/// Writes the trace to `out`; returns it, flushed.
fn write<W: Write>(workload: Workload, events: u64, mut out: W) -> std::io::Result<W> {
    let header = TraceHeader::new(format!("synthetic {} ({events} events)", workload.name()), HeapConfig::default());
    serde_json::to_writer(&mut out, &header)?;
    out.write_all(b"\n")?;
    let mut result = Ok(());
    workload.generate(events, &mut |event| {
        if result.is_ok() {
            result = serde_json::to_writer(&mut out, &event)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
        }
    });
    result?;
    out.flush()?;
    Ok(out)
}
