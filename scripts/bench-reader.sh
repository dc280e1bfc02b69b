#!/usr/bin/env bash
# The NDJSON reader against its floor (issue 21): `read_trace` with a visitor that counts, and a bare serde_json
# syntax pass over every line of the same file (`IgnoredAny`, lines split with memchr), both from memory, on a
# mostly-dead trace of EVENTS events (default 10 M, about 460 MB, written under /tmp if absent, never committed).
# The two run in the same criterion group, ROUNDS times (default 3); prints each round's medians and the ratio
# reader / syntax pass, then the median ratio.
#
#   cargo bench -p gc-sim --bench replay --no-run          # prints the bench binary
#   cargo build --release -p gc-sim --example synthetic_trace
#   scripts/bench-reader.sh /abs/path/replay-HASH target/release/examples/synthetic_trace [EVENTS]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 BENCH_BIN SYNTHETIC_TRACE_BIN [EVENTS]" >&2
    exit 2
fi
bench=$1 synthetic=$2 events=${3:-10000000}
rounds=${ROUNDS:-3}
trace=${TRACE:-/tmp/gc-sim-mostly-dead-$events.ndjson}
[ -s "$trace" ] || "$synthetic" mostly-dead "$events" "$trace"
echo "trace: $trace ($(stat -c %s "$trace") bytes)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for round in $(seq "$rounds"); do
    (cd "$work" && GC_SIM_READ_TRACE=$trace "$bench" --bench --warm-up-time 1 --measurement-time 5 --noplot \
        --discard-baseline 'read/mostly-dead/(syntax|ndjson)' 2>/dev/null) | awk -v round="$round" '
        function ns(value, unit) {
            if (unit == "ns") return value; if (unit == "µs" || unit == "us") return value * 1e3
            if (unit == "ms") return value * 1e6; return value * 1e9
        }
        /^read\/mostly-dead\// { name = $1 }
        /time:/ { line = $0; sub(/.*time: *\[/, "", line); split(line, f, " "); t[name] = ns(f[3], f[4]) }
        END {
            s = t["read/mostly-dead/syntax"]; r = t["read/mostly-dead/ndjson"]
            printf "round %d: syntax pass %.1f ms, reader %.1f ms, ratio %.3f\n", round, s / 1e6, r / 1e6, r / s
        }'
done | tee "$work/rounds"
sort -t' ' -k11 -n "$work/rounds" | awk '{ r[NR] = $NF } END { printf "median ratio reader / syntax pass: %.3f\n", r[int((NR + 1) / 2)] }'
