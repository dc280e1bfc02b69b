#!/usr/bin/env bash
# Renders the leaky-vs-fixed plots of docs/ticker-server.md: 2,000 clients in 20 waves of 100, each held 1 s, a 100 ms
# interval, 90 s of simulated time, Node 20's default heap. With --check (CI), renders into a temporary directory and
# fails if the committed images differ.
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
# The reports are inputs of the plots, not documentation: only the images are kept.
rm "$out/ticker-leaky.json" "$out/ticker-fixed.json"

if [ "${1:-}" = "--check" ]; then
    for image in ticker-leaky.png ticker-fixed.png ticker-comparison.png; do
        cmp "$out/$image" "docs/images/$image" || { echo "docs/images/$image is stale: run $0" >&2; exit 1; }
    done
    rm -r "$out"
    echo "docs/images/ticker-*.png are up to date"
fi
