//! Writes a long synthetic trace as NDJSON on standard output, for measuring `gc-sim run` end to end:
//!
//! ```sh
//! cargo run --release -p gc-sim --example synthetic_trace -- mostly-dead 10000000 > mostly-dead-10M.ndjson
//! ./target/release/gc-sim run mostly-dead-10M.ndjson -q
//! ```
//!
//! The workloads (`mostly-dead`, `high-survival`, `barrier-heavy`) are those of the replay benchmarks
//! (`benches/replay.rs`), described in `benches/workloads/mod.rs`. The trace is streamed: memory stays small
//! however many events are asked for.

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use gc_sim::trace::TraceHeader;
use gc_sim::HeapConfig;
use workloads::Workload;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
    let usage = format!("usage: synthetic_trace {} EVENTS > trace.ndjson", names.join("|"));
    let [name, events] = args.as_slice() else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let Some(workload) = Workload::parse(name) else {
        eprintln!("unknown workload \"{name}\"\n{usage}");
        return ExitCode::from(2);
    };
    let Ok(events) = events.replace('_', "").parse::<u64>() else {
        eprintln!("EVENTS must be a whole number, not \"{events}\"\n{usage}");
        return ExitCode::from(2);
    };
    match write(workload, events) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synthetic_trace: cannot write the trace: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(workload: Workload, events: u64) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
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
    out.flush()
}
