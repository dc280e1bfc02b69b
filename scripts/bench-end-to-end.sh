#!/usr/bin/env bash
# End-to-end figures of docs/performance.md: `gc-sim run` on 10 M-event NDJSON traces (events/s, peak RSS), the
# 1-hour 1,000-client leaky ticker server simulated in process (`ticker_server --simulate`), and simulator memory per
# live object. Best of RUNS runs (default 3) of each; traces are written under target/bench/ (about 1.4 GB).
#
#   scripts/bench-end-to-end.sh            # everything
#   scripts/bench-end-to-end.sh --ticker-trace   # also the 1-hour ticker trace as NDJSON through gc-sim run (0.9 GB)
#
# Peak RSS needs GNU time (/usr/bin/time, Debian package `time`); without it only wall times are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
events=10000000
ticker_args=(--leaky --clients 1000 --tick-ms 1000 --duration-ms 3600000)
dir=target/bench
mkdir -p "$dir"

cargo build --release -q -p gc-sim-cli --bin gc-sim --example ticker_server
cargo build --release -q -p gc-sim --example synthetic_trace --example memory_per_object

# best_of LABEL EVENTS COMMAND...: the fastest of $runs runs, with its peak RSS.
best_of() {
    local label=$1 count=$2
    shift 2
    local best="" rss="" wall peak
    for _ in $(seq "$runs"); do
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > /dev/null
            read -r wall peak < "$dir/time.txt"
        else
            local start end
            start=$(date +%s.%N)
            "$@" > /dev/null
            end=$(date +%s.%N)
            wall=$(echo "$end - $start" | bc -l)
            peak="?"
        fi
        if [ -z "$best" ] || (( $(echo "$wall < $best" | bc -l) )); then
            best=$wall
            rss=$peak
        fi
    done
    printf '%-40s %8.2f s  %6.2f M events/s  peak RSS %s KiB\n' "$label" "$best" \
        "$(echo "$count / $best / 1000000" | bc -l)" "$rss"
}

echo "== gc-sim run on ${events}-event NDJSON traces (best of $runs)"
for workload in mostly-dead high-survival barrier-heavy; do
    trace=$dir/$workload-10M.ndjson
    [ -s "$trace" ] || ./target/release/examples/synthetic_trace "$workload" "$events" > "$trace"
    count=$(($(wc -l < "$trace") - 1))
    best_of "gc-sim run $workload" "$count" ./target/release/gc-sim run "$trace" -q
done

echo "== the 1-hour, 1,000-client leaky ticker server, simulated in process"
./target/release/examples/ticker_server "${ticker_args[@]}" --simulate

if [ "${1:-}" = "--ticker-trace" ]; then
    trace=$dir/ticker-hour.ndjson
    [ -s "$trace" ] || ./target/release/examples/ticker_server "${ticker_args[@]}" -o "$trace"
    count=$(($(wc -l < "$trace") - 1))
    echo "== the same hour as an NDJSON trace through gc-sim run (real time: 3600 s)"
    best_of "gc-sim run ticker-hour" "$count" ./target/release/gc-sim run "$trace" -q
fi

echo "== simulator memory per live object"
for n in 1000000 10000000; do
    ./target/release/examples/memory_per_object "$n"
done
