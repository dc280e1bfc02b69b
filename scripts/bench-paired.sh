#!/usr/bin/env bash
# Paired before/after figures of criterion benchmarks: two bench binaries (e.g. the `collector` bench of two
# commits, from `cargo bench -p gc-sim --no-run`, copied aside since both get the same file name) run alternately,
# ROUNDS times each (default 4), on the same benchmarks, so that load on the machine hits both alike. Prints each
# benchmark's median estimate per run, the best of each binary, and the ratio before/after (>= 1: after is no
# slower).
#
#   scripts/bench-paired.sh BEFORE_BIN AFTER_BIN 'mark_compact/1M|scavenge/bytes'
#
# Each run uses criterion's --warm-up-time 1 --measurement-time 3 (override with CRITERION_ARGS).
set -euo pipefail
if [ $# -ne 3 ]; then
    echo "usage: $0 BEFORE_BIN AFTER_BIN FILTER" >&2
    exit 2
fi
before=$1 after=$2 filter=$3
rounds=${ROUNDS:-4}
read -r -a criterion_args <<< "${CRITERION_ARGS:---warm-up-time 1 --measurement-time 3 --noplot --discard-baseline}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run BIN LABEL: one run of every matching benchmark; appends "LABEL NAME MEDIAN_NS" lines to $work/times.
run() {
    (cd "$work" && "$1" --bench "${criterion_args[@]}" "$filter" 2>/dev/null) | awk -v label="$2" '
        function ns(value, unit) {
            if (unit == "ps") return value / 1000; if (unit == "ns") return value; if (unit == "µs" || unit == "us") return value * 1e3
            if (unit == "ms") return value * 1e6; return value * 1e9
        }
        /^[^ ].*time:/ { name = $1 }
        /^[a-zA-Z_].*\// && !/time:/ && !/^Benchmarking/ { name = $1 }
        /time:/ {
            line = $0; sub(/.*time: *\[/, "", line); split(line, f, " ")
            printf "%s %s %.0f\n", label, name, ns(f[3], f[4])
        }' >> "$work/times"
}

for round in $(seq "$rounds"); do
    run "$before" before
    run "$after" after
    echo "round $round done" >&2
done
awk '
    { t = $3 + 0; key = $2; if (!(key in best_before)) { best_before[key] = 1e30; best_after[key] = 1e30 }
      if ($1 == "before") { if (t < best_before[key]) best_before[key] = t; runs_before[key] = runs_before[key] " " t }
      else { if (t < best_after[key]) best_after[key] = t; runs_after[key] = runs_after[key] " " t } }
    END {
        printf "%-48s %14s %14s %8s\n", "benchmark", "before (ns)", "after (ns)", "ratio"
        for (k in best_before)
            printf "%-48s %14.0f %14.0f %8.3f   before:%s  after:%s\n", k, best_before[k], best_after[k], best_before[k] / best_after[k], runs_before[k], runs_after[k]
    }' "$work/times" | sort
