#!/usr/bin/env bash
# Renders the chart of docs/sweep.md: the leaky ticker server (2,000 clients in waves of 100 a second, each held
# 500 ms, a 1 s interval: about 10 MB leaked) swept over three old generations and three semi-spaces, and prints the
# sweep's table as docs/sweep.md quotes it. With --check (CI), renders into a temporary directory and fails if the
# committed image differs.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
out=docs/images
if [ "${1:-}" = "--check" ]; then
    out=$(mktemp -d)
fi
cargo build --release -q --bin gc-sim --example ticker_server
trace=$target/sweep-docs/ticker-leaky-2000.ndjson
mkdir -p "$(dirname "$trace")"
"$target/release/examples/ticker_server" --leaky --clients 2000 --wave-size 100 --wave-interval-ms 1000 --hold-ms 500 \
    --tick-ms 1000 > "$trace"
"$target/release/gc-sim" sweep "$trace" --max-old-space-size 8,16,32 --max-semi-space-size 1,4,16 \
    --plot "$out/sweep-ticker.png"

if [ "${1:-}" = "--check" ]; then
    cmp "$out/sweep-ticker.png" docs/images/sweep-ticker.png ||
        { echo "docs/images/sweep-ticker.png is stale: run $0" >&2; exit 1; }
    rm -r "$out"
    echo "docs/images/sweep-ticker.png is up to date"
fi
