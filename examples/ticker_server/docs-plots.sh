#!/usr/bin/env bash
# Renders the leaky-vs-fixed plots of docs/ticker-server.md: 2,000 clients in 20 waves of 100, each held 1 s, a 100 ms
# interval, 90 s of simulated time, Node 20's default heap; and the model of the real leaky run beside its
# --trace-gc log (the run's own schedule, read from ../shared, which CI has beside the clone). With --check (CI),
# renders into a temporary directory and fails if the committed images differ.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=docs/images
if [ "${1:-}" = "--check" ]; then
    out=$(mktemp -d)
fi
cargo build --release -q --bin gc-sim --example ticker_server
load=(--clients 2000 --wave-size 100 --wave-interval-ms 3000 --hold-ms 1000 --tick-ms 100 --duration-ms 90000 --seed 1)
for mode in leaky fixed; do
    ./target/release/examples/ticker_server "--$mode" "${load[@]}" |
        ./target/release/gc-sim run - --quiet --report "$out/ticker-$mode.json" --plot "$out/ticker-$mode.png"
done
./target/release/gc-sim plot "$out/ticker-leaky.json" "$out/ticker-fixed.json" -o "$out/ticker-comparison.png"
# The real leaky server (Node 20, TICK_MS=10, 2,000 clients) beside gc-sim's model of the same schedule.
real_log=../shared/v8/ticker/runs/leaky_tick10_tracegc/gc.log
[ -f "$real_log" ] || { echo "$real_log is missing: ../shared must be beside the clone" >&2; exit 1; }
full=(--clients 2000 --wave-size 100 --wave-interval-ms 3000 --wave-spread-ms 500 --hold-ms 1000 --tick-ms 10
      --start-ms 10000 --duration-ms 150000)
./target/release/examples/ticker_server --leaky "${full[@]}" --node-heap |
    ./target/release/gc-sim run - --quiet --compare-log "$real_log" --plot "$out/ticker-real-vs-model.png"
# The real leaky server's death under --max-old-space-size=64 (TICK_MS=100, 100 connections a second) beside the
# model's: gc-sim exits 3 when the simulated server dies, as Node died.
oom_log=../shared/real-inputs/ticker/oom-old64/gc.log
[ -f "$oom_log" ] || { echo "$oom_log is missing: ../shared must be beside the clone" >&2; exit 1; }
oom=(--clients 15000 --wave-size 100 --wave-interval-ms 1000 --hold-ms 500 --tick-ms 100 --start-ms 5000
     --max-old-space-mib 64 --node-heap)
status=0
./target/release/examples/ticker_server --leaky "${oom[@]}" |
    ./target/release/gc-sim run - --quiet --compare-log "$oom_log" --plot "$out/ticker-oom64-real-vs-model.png" ||
    status=$?
[ "$status" -eq 3 ] || { echo "the 64 MiB model should die (exit 3), got $status" >&2; exit 1; }
# The reports are inputs of the plots, not documentation: only the images are kept.
rm "$out/ticker-leaky.json" "$out/ticker-fixed.json"

if [ "${1:-}" = "--check" ]; then
    for image in ticker-leaky.png ticker-fixed.png ticker-comparison.png ticker-real-vs-model.png ticker-oom64-real-vs-model.png; do
        cmp "$out/$image" "docs/images/$image" || { echo "docs/images/$image is stale: run $0" >&2; exit 1; }
    done
    rm -r "$out"
    echo "docs/images/ticker-*.png are up to date"
fi
