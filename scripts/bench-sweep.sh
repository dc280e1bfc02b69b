#!/usr/bin/env bash
# The figure of docs/performance.md's sweep section (issue 21): a 3 x 3 `gc-sim sweep` on all cores against the same
# 9 `gc-sim run`s one after another, on a leaky ticker trace where each cell takes about 1 s (2,000 clients, 100 MB
# of NDJSON, written once under $CARGO_TARGET_DIR/bench/). The two alternate ROUNDS times (default 3), so that load
# on the machine hits both alike; prints every wall time, the best of each and the ratio sweep / one after another
# (issue 21 asks for at most 0.6 on 2 cores). Then checks that the sweep's table is the 9 runs' (`--merge` of their
# reports gives the same JSON, byte for byte).
#
#   scripts/bench-sweep.sh            # jobs = cores
#   JOBS=2 scripts/bench-sweep.sh     # gc-sim sweep --jobs 2
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-3}
target=${CARGO_TARGET_DIR:-target}
dir=$target/bench
mkdir -p "$dir"
cargo build --release -q -p gc-sim-cli --bin gc-sim --example ticker_server
bin=$target/release/gc-sim
trace=$dir/ticker-sweep.ndjson
[ -s "$trace" ] || "$target/release/examples/ticker_server" --leaky --clients 2000 --wave-size 100 \
    --wave-interval-ms 1000 --hold-ms 500 --tick-ms 1000 > "$trace"
olds=(8 16 32)
semis=(1 4 16)
jobs=()
[ -n "${JOBS:-}" ] && jobs=(--jobs "$JOBS")

# one_after_another [REPORT_PREFIX]: the 9 runs in grid order (exit 3, a death, is a result).
one_after_another() {
    local k=0
    for old in "${olds[@]}"; do
        for semi in "${semis[@]}"; do
            local report=()
            [ -n "${1:-}" ] && report=(--report "$1-$k.json")
            "$bin" run "$trace" -q --max-old-space-size "$old" --max-semi-space-size "$semi" "${report[@]}" ||
                [ $? -eq 3 ]
            k=$((k + 1))
        done
    done
}

sweep() {
    "$bin" sweep "$trace" -q --max-old-space-size "$(IFS=,; echo "${olds[*]}")" \
        --max-semi-space-size "$(IFS=,; echo "${semis[*]}")" "${jobs[@]}" "$@"
}

seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

best_sequential="" best_sweep=""
for round in $(seq "$rounds"); do
    s=$(seconds one_after_another)
    p=$(seconds sweep)
    printf 'round %d: one after another %6.2f s, sweep %6.2f s\n' "$round" "$s" "$p"
    if [ -z "$best_sequential" ] || (( $(echo "$s < $best_sequential" | bc -l) )); then best_sequential=$s; fi
    if [ -z "$best_sweep" ] || (( $(echo "$p < $best_sweep" | bc -l) )); then best_sweep=$p; fi
done
printf 'best: one after another %.2f s, sweep %.2f s (%s cores): ratio %.3f\n' "$best_sequential" "$best_sweep" \
    "$(nproc)" "$(echo "$best_sweep / $best_sequential" | bc -l)"

# The same table: the sweep's, and the one --merge builds from the 9 runs' reports.
one_after_another "$dir/cell"
sweep --report "$dir/sweep.json"
"$bin" sweep -q --merge "$dir"/cell-{0..8}.json --report "$dir/merged.json"
cmp "$dir/sweep.json" "$dir/merged.json"
echo "the sweep's table equals the 9 runs' ($dir/sweep.json)"
