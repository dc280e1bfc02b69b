#!/usr/bin/env bash
# The heap-snapshot figures of docs/performance.md: `gc-sim snapshot` (parse, dominators, report) on a real
# snapshot of about 1 M nodes, against `node -e 'JSON.parse(...)'` of the same file, in the same run, alternated;
# best of RUNS runs (default 3) of each, with peak RSS. The snapshot is made by Node (a program of 250,000 linked
# records, N=...) under target/bench/ (72 MB), not kept in git.
#
# Needs `node` and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
records=${N:-250000}
dir=target/bench
mkdir -p "$dir"
cargo build --release -q -p gc-sim-cli --bin gc-sim

snap=$dir/records-$records.heapsnapshot
if [ ! -f "$snap" ]; then
    cat > "$dir/records.js" <<'JS'
// Linked records: each an object with a string, a two-number array and a link to the previous one; every tenth
// also in a Map. About 4 nodes and 10 edges per record, plus the empty process's 39 k nodes.
const v8 = require('v8')
const N = parseInt(process.env.N, 10)
class Rec { constructor (i, prev) { this.id = 'rec-' + i; this.vals = [i, i + 1]; this.prev = prev } }
let head = null
const byId = new Map()
for (let i = 0; i < N; i++) { head = new Rec(i, head); if (i % 10 === 0) byId.set(head.id, head) }
globalThis.keep = { head, byId }
v8.writeHeapSnapshot(process.argv[2])
JS
    N=$records node "$dir/records.js" "$snap"
fi
grep -o '"node_count":[0-9]*,"edge_count":[0-9]*' "$snap" | head -1
ls -l "$snap" | awk '{print $5 " bytes"}'

best() { sort -n "$1" | head -1; }
: > "$dir/gc-sim.txt"
: > "$dir/node.txt"
for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e s, peak RSS %M KiB" -a -o "$dir/gc-sim.txt" target/release/gc-sim snapshot "$snap" --report "$dir/records.json" > /dev/null
    /usr/bin/time -f "%e s, peak RSS %M KiB" -a -o "$dir/node.txt" node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$snap"
done
echo "gc-sim snapshot (parse, dominators, report), best of $runs: $(best "$dir/gc-sim.txt")"
echo "node JSON.parse of the same file,        best of $runs: $(best "$dir/node.txt")"
