//! `ticker_server`: writes the allocation trace of the seed's Koa + koa-websocket "ticker" server under a wave
//! client, leaky (the `setInterval` of each connection is never cleared) or fixed (`clearInterval` on close).
//!
//! ```sh
//! cargo run --example ticker_server -- --leaky --clients 200 | cargo run --release -- run - --trace-gc
//! ```
//!
//! The model, its calibration against Node 20 and its parameters: `docs/ticker-server.md`.

mod model;
mod simulation;
#[cfg(test)]
mod tests;
mod trace;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{ArgGroup, CommandFactory, Parser};

use crate::simulation::{Mode, Stats, Workload};
use gc_sim::compressed::{Compression, Encoder};
use gc_sim::startup_heap::StartupHeap;
use gc_sim::Replay;

use crate::trace::{Form, HeapHeader, TraceWriter};

/// Write the allocation trace (trace format v1) of the seed's ticker server under a wave client.
///
/// Each connection to `/websocket/:id` starts `setInterval(fn, TICK_MS)`, which sends `{id, n}` when
/// `Math.random() > 0.3`. The leaky server never clears it: closed connections stay reachable from the root set
/// `timers` and their timers keep firing.
#[derive(Parser, Debug)]
#[command(name = "ticker_server", group(ArgGroup::new("mode").required(true).args(["leaky", "fixed"])))]
pub struct Cli {
    /// The seed as written: the `close` handler never calls `clearInterval`.
    #[arg(long)]
    leaky: bool,
    /// The fix: the `close` handler calls `clearInterval(t)`.
    #[arg(long)]
    fixed: bool,
    /// Connections the client opens in all (at most a million).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=MAX_CLIENTS))]
    clients: u32,
    /// Connections per wave (client.js's PER_WAVE).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    wave_size: u32,
    /// Time between the starts of two waves, ms (WAVE_MS).
    #[arg(long, default_value_t = 3000)]
    wave_interval_ms: u64,
    /// The opens of a wave are spread over this time, ms (STAGGER_MS).
    #[arg(long, default_value_t = 500)]
    wave_spread_ms: u64,
    /// When the first wave starts, ms after the server (the real runs: 10000).
    #[arg(long, default_value_t = 0)]
    start_ms: u64,
    /// How long each connection stays open, ms (HOLD_MS).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    hold_ms: u64,
    /// The interval's period, ms (TICK_MS).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    tick_ms: u64,
    /// When the run ends with `gc(); gc()`, ms after the server starts (RUN_MS).
    #[arg(long, default_value_t = 150_000, value_parser = clap::value_parser!(u64).range(1..))]
    duration_ms: u64,
    /// Seed of `Math.random()`.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The trace's form.
    #[arg(long, value_enum, default_value_t = Form::Ndjson)]
    format: Form,
    /// Header: initial semi-space size, KiB (Node's --min-semi-space-size is in MiB).
    #[arg(long, value_name = "KIB")]
    min_semi_space_kib: Option<u64>,
    /// Header: maximum semi-space size, KiB (Node's --max-semi-space-size is in MiB).
    #[arg(long, value_name = "KIB")]
    max_semi_space_kib: Option<u64>,
    /// Header: maximum old generation, MiB (--max-old-space-size).
    #[arg(long, value_name = "MIB")]
    max_old_space_mib: Option<u64>,
    /// Header: the initial old-generation allocation limit, KiB (V8 computes it; a small one brings the first
    /// mark-compact early).
    #[arg(long, value_name = "KIB")]
    initial_old_limit_kib: Option<u64>,
    /// Start the server from Node's own heap with Koa loaded instead of an empty heap: Node 20's built-in startup
    /// heap scaled to the real ticker server's 6,080,488 B before its first connection (the trace header's
    /// `"initial_heap": "node20:6080488B"`; `--simulate` imports the same).
    #[arg(long)]
    node_heap: bool,
    /// Write the trace here instead of standard output; compressed as it is written when the name ends in `.zst`
    /// (zstd) or `.gz` (gzip): `-o ticker.ndjson.zst`.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print what happened to standard error: connections, timer callbacks, sends, events.
    #[arg(long)]
    stats: bool,
    /// Write no trace: replay the events in gc-sim as they are made and print how the heap ended and how much faster
    /// than real time the simulation ran (the trace of a long run is large: an hour of 1,000 clients is 0.9 GB).
    #[arg(long, conflicts_with_all = ["output", "format"])]
    simulate: bool,
}

/// Bytes of V8 heap of the real ticker server with Koa and koa-websocket loaded, before its first connection
/// (`ticker-leaky-000.heapsnapshot.gz`, imported as `gc-sim run --initial-heap` imports it: 76,431 objects,
/// 6,080,488 B); the server starts from Node 20's built-in startup heap scaled to it
/// (docs/v8-sources.md#node-startup).
pub const TICKER_STARTUP_BYTES: u64 = 6_080_488;

/// The largest `--clients`: every connection is scheduled up front.
const MAX_CLIENTS: i64 = 1_000_000;

/// The output buffer's size.
const BUFFER: usize = 64 * 1024;

impl Cli {
    /// The workload the arguments describe.
    pub fn workload(&self) -> Workload {
        Workload {
            mode: if self.leaky { Mode::Leaky } else { Mode::Fixed },
            clients: self.clients,
            wave_size: self.wave_size,
            wave_interval_ms: self.wave_interval_ms,
            wave_spread_ms: self.wave_spread_ms,
            start_ms: self.start_ms,
            hold_ms: self.hold_ms,
            tick_ms: self.tick_ms,
            duration_ms: self.duration_ms,
            seed: self.seed,
        }
    }

    /// The header's `heap` object, checked as the replay will check it.
    ///
    /// # Errors
    /// A message naming the bad option.
    pub fn heap(&self) -> Result<HeapHeader, String> {
        let bytes = |value: Option<u64>, unit: u64, option: &str| match value {
            Some(v) => v.checked_mul(unit).map(Some).ok_or_else(|| format!("--{option} {v} is too large")),
            None => Ok(None),
        };
        let heap = HeapHeader {
            min_semi_space_size: bytes(self.min_semi_space_kib, 1024, "min-semi-space-kib")?,
            max_semi_space_size: bytes(self.max_semi_space_kib, 1024, "max-semi-space-kib")?,
            max_old_generation_size: bytes(self.max_old_space_mib, 1024 * 1024, "max-old-space-mib")?,
            initial_old_generation_limit: bytes(self.initial_old_limit_kib, 1024, "initial-old-limit-kib")?,
        };
        heap.config().validate().map_err(|e| format!("invalid heap options: {e}"))?;
        Ok(heap)
    }

    /// The heap the server starts from: Node's own with Koa loaded with `--node-heap`, else none (an empty heap).
    pub fn initial_heap(&self) -> Option<StartupHeap> {
        let heap = StartupHeap::scaled(TICKER_STARTUP_BYTES).expect("a size within the limits");
        self.node_heap.then_some(heap)
    }

    /// The trace's name: the mode and the workload.
    pub fn name(&self) -> String {
        let w = self.workload();
        format!(
            "ticker server ({}): {} clients in waves of {} every {} ms, held {} ms, interval {} ms, seed {}",
            if self.leaky { "leaky" } else { "fixed" },
            w.clients,
            w.wave_size,
            w.wave_interval_ms,
            w.hold_ms,
            w.tick_ms,
            w.seed
        )
    }

    /// Writes the whole trace to `out`, with header `heap` (from [`heap`](Cli::heap)).
    ///
    /// # Errors
    /// Any error writing.
    pub fn generate<W: Write>(&self, heap: &HeapHeader, out: W) -> io::Result<(W, Stats)> {
        let mut trace = TraceWriter::new(out, self.format, &self.name(), heap, self.initial_heap())?;
        let stats = simulation::simulate(&self.workload(), &mut trace)?;
        Ok((trace.finish()?, stats))
    }

    /// Writes the whole trace to the file `path`, compressed if its name ends in `.zst` or `.gz`
    /// ([`Compression::from_path`]), as it is written.
    ///
    /// # Errors
    /// Any error creating or writing the file.
    pub fn write_file(&self, heap: &HeapHeader, path: &Path) -> io::Result<Stats> {
        let file = BufWriter::with_capacity(BUFFER, File::create(path)?);
        match Compression::from_path(path) {
            Some(compression) => {
                let (encoder, stats) = self.generate(heap, Encoder::new(compression, file))?;
                encoder.finish()?;
                Ok(stats)
            }
            None => self.generate(heap, file).map(|(_, stats)| stats),
        }
    }

    /// Replays the trace in place of writing it: the events go straight into a [`Replay`] on the heap `heap`.
    ///
    /// # Errors
    /// An invalid configuration, or an event the replay rejects (a bug of the generator).
    pub fn simulate(&self, heap: &HeapHeader) -> io::Result<(Replay, Stats)> {
        let mut trace = TraceWriter::replaying(&self.name(), heap.config(), self.initial_heap())
            .map_err(|e| io::Error::other(e.to_string()))?;
        let stats = simulation::simulate(&self.workload(), &mut trace)?;
        Ok((trace.into_replay(), stats))
    }

    /// As [`simulate`](Self::simulate), on a replay already started: on a heap imported from a snapshot, say.
    ///
    /// # Errors
    /// An event the replay rejects (a bug of the generator).
    pub fn simulate_on(&self, replay: Replay) -> io::Result<(Replay, Stats)> {
        let mut trace = TraceWriter::replaying_on(replay);
        let stats = simulation::simulate(&self.workload(), &mut trace)?;
        Ok((trace.into_replay(), stats))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let heap = cli.heap().unwrap_or_else(|message| Cli::command().error(ErrorKind::ValueValidation, message).exit());
    if cli.simulate {
        return simulate(&cli, &heap);
    }
    let result = match &cli.output {
        Some(path) => cli.write_file(&heap, path),
        None => cli.generate(&heap, BufWriter::with_capacity(BUFFER, io::stdout().lock())).map(|(_, s)| s),
    };
    match result {
        Ok(stats) => {
            if cli.stats {
                eprintln!(
                    "ticker_server: {} connections opened, {} closed; {} timer callbacks while open, {} after close; \
                     {} sends; {} events",
                    stats.opened, stats.closed, stats.ticks_open, stats.ticks_closed, stats.sends, stats.events
                );
            }
            ExitCode::SUCCESS
        }
        // The reader went away (`| head`): nothing left to do.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let target = cli.output.as_ref().map_or_else(|| "<stdout>".to_owned(), |p| p.display().to_string());
            eprintln!("ticker_server: {target}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Exit code of `--simulate` when the simulated program ran out of memory, as `gc-sim run`'s.
pub const EXIT_OUT_OF_MEMORY: u8 = 3;

/// `--simulate`: the replay without the trace, timed.
fn simulate(cli: &Cli, heap: &HeapHeader) -> ExitCode {
    let code = print_simulation(cli, heap, &mut io::stdout().lock(), &mut io::stderr().lock());
    ExitCode::from(code)
}

/// Runs `--simulate`, printing to `out` and `err` (standard output and error), and returns the exit code: 0, 1 for
/// an error, or 3 ([`EXIT_OUT_OF_MEMORY`]) when the simulated program ran out of memory, which then prints V8's
/// last GCs and `FATAL ERROR` on `err` as `gc-sim run` and Node do.
pub fn print_simulation(cli: &Cli, heap: &HeapHeader, out: &mut impl Write, err: &mut impl Write) -> u8 {
    let started = std::time::Instant::now();
    let (replay, stats) = match cli.simulate(heap) {
        Ok(done) => done,
        Err(e) => {
            let _ = writeln!(err, "ticker_server: {e}");
            return 1;
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let heap = replay.heap();
    let simulated_s = heap.now_ms() / 1000.0;
    let usage = heap.usage();
    let totals = heap.totals();
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    // Standard output may be closed (`| head`): what matters, the outcome, still goes to standard error.
    let _ = writeln!(out, "{}", replay.name());
    let _ = writeln!(
        out,
        "{} events, {simulated_s:.1} s of simulated time in {wall_s:.2} s of wall time: {:.0}x real time, {:.1} M events/s",
        replay.events(),
        simulated_s / wall_s,
        replay.events() as f64 / wall_s / 1e6
    );
    let _ = writeln!(
        out,
        "{} scavenges, {} mark-compacts; at the end {:.1} MiB in old space, {:.1} MiB in new space",
        totals.scavenges,
        totals.mark_compacts,
        mib(usage.old_space.used_bytes + usage.large_object_space.used_bytes),
        mib(usage.new_space.used_bytes + usage.new_large_object_space.used_bytes)
    );
    if let Some(oom) = heap.out_of_memory() {
        let _ = writeln!(out, "out of memory at event {}: {oom}", replay.out_of_memory_event().unwrap_or_default());
    }
    let _ = out.flush();
    if cli.stats {
        let _ = writeln!(
            err,
            "ticker_server: {} connections opened, {} closed; {} timer callbacks while open, {} after close; {} sends",
            stats.opened, stats.closed, stats.ticks_open, stats.ticks_closed, stats.sends
        );
    }
    if let Some(oom) = heap.out_of_memory() {
        // As `gc-sim run` and Node: the last GCs and the fatal error on standard error.
        let _ = writeln!(err, "\n<--- Last few GCs --->\n");
        let events = heap.events();
        for e in &events[events.len().saturating_sub(4)..] {
            let _ = writeln!(err, "{}", e.trace_gc_line());
        }
        let _ = writeln!(err, "\n{oom}");
        return EXIT_OUT_OF_MEMORY;
    }
    0
}
