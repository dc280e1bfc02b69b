#!/usr/bin/env bash
# Writes the two traces of docs/tutorial.md: young-generation.json (chapter 2) and fragmentation.json (chapter 4).
# With --check, writes them to a temporary directory and fails if the committed files differ.
set -euo pipefail
cd "$(dirname "$0")"

out=.
if [ "${1:-}" = "--check" ]; then
    out=$(mktemp -d)
fi

# Chapter 2: an API server. Each request allocates its temporaries in a handle scope (they die when the handler
# returns); every 4th request logs a user in, and the session stays in the root set `sessions`.
young() {
    local id=3 request
    echo '{"format": "gc-sim-trace", "version": 1,'
    echo ' "name": "young generation: short-lived requests, long-lived sessions",'
    echo ' "heap": {"min_semi_space_size": 262144, "max_semi_space_size": 262144, "max_old_generation_size": 16777216, "incremental_marking": false, "scavenge_task_trigger_percent": 0, "memory_reducer": false, "allocation_site_pretenuring": false},'
    echo ' "events": ['
    echo '  {"op": "mark", "label": "server starts: its config (1 KiB) and routes (2 KiB), held by globals"},'
    echo '  {"op": "enter"},'
    echo '  {"op": "alloc", "id": 1, "size": 1024, "slots": 1, "kind": "Config", "root": "globals"},'
    echo '  {"op": "alloc", "id": 2, "size": 2048, "kind": "Array"},'
    echo '  {"op": "write", "obj": 1, "slot": 0, "to": 2},'
    echo '  {"op": "exit"},'
    echo '  {"op": "mark", "label": "100 requests, one every 5 ms: each allocates 19,200 B that die when it returns"},'
    for request in $(seq 1 100); do
        echo '  {"op": "tick", "ms": 5},'
        echo '  {"op": "enter"},'
        echo "  {\"op\": \"alloc\", \"id\": $id, \"size\": 256, \"slots\": 1, \"kind\": \"IncomingMessage\"},"
        echo "  {\"op\": \"alloc\", \"id\": $((id + 1)), \"size\": 16384, \"kind\": \"string\", \"site\": \"request body\"},"
        echo "  {\"op\": \"write\", \"obj\": $id, \"slot\": 0, \"to\": $((id + 1))},"
        echo "  {\"op\": \"alloc\", \"id\": $((id + 2)), \"size\": 512, \"kind\": \"Object\", \"site\": \"JSON.parse(body)\"},"
        echo "  {\"op\": \"alloc\", \"id\": $((id + 3)), \"size\": 2048, \"kind\": \"string\", \"site\": \"JSON.stringify(response)\"},"
        id=$((id + 4))
        if [ $((request % 4)) -eq 0 ]; then
            echo "  {\"op\": \"alloc\", \"id\": $id, \"size\": 4096, \"kind\": \"Session\", \"tag\": \"user-$((request / 4))\", \"root\": \"sessions\"},"
            id=$((id + 1))
        fi
        echo '  {"op": "exit"},'
    done
    echo '  {"op": "mark", "label": "the load ends: 25 sessions stay"}'
    echo ']}'
}

# Chapter 4: a cache warmed at start-up, then mostly evicted. 4 old-space pages of 62 entries of 4 KiB each; after
# the eviction page 0 is still full, page 1 keeps every other entry and pages 2 and 3 keep one entry in 8.
fragmentation() {
    local entry page keep
    echo '{"format": "gc-sim-trace", "version": 1,'
    echo ' "name": "fragmentation: a cache warmed up, then mostly evicted",'
    echo ' "heap": {"min_semi_space_size": 262144, "max_semi_space_size": 262144, "max_old_generation_size": 16777216, "incremental_marking": false, "scavenge_task_trigger_percent": 0, "memory_reducer": false, "allocation_site_pretenuring": false},'
    echo ' "events": ['
    echo '  {"op": "mark", "label": "warm-up: 248 cache entries of 4 KiB, pretenured into old space, 62 per page"},'
    for entry in $(seq 1 248); do
        echo "  {\"op\": \"alloc\", \"id\": $entry, \"size\": 4096, \"kind\": \"CacheEntry\", \"root\": \"cache\", \"pretenured\": true},"
        if [ $((entry % 62)) -eq 0 ]; then
            echo '  {"op": "tick", "ms": 10},'
        fi
    done
    echo '  {"op": "mark", "label": "eviction: page 0 keeps all its entries, page 1 every other one, pages 2 and 3 one in 8"},'
    for entry in $(seq 1 248); do
        page=$(((entry - 1) / 62))
        case $page in
            0) keep=1 ;;
            1) keep=$(((entry - 1) % 62 % 2 == 0)) ;;
            *) keep=$(((entry - 1) % 62 % 8 == 0)) ;;
        esac
        if [ "$keep" -eq 0 ]; then
            echo "  {\"op\": \"unroot\", \"id\": $entry, \"root\": \"cache\"},"
        fi
    done
    echo '  {"op": "tick", "ms": 10},'
    echo '  {"op": "mark", "label": "gc(): mark, sweep, and evacuate the fragmented pages"},'
    echo '  {"op": "gc", "kind": "major"}'
    echo ']}'
}

young > "$out/young-generation.json"
fragmentation > "$out/fragmentation.json"

if [ "${1:-}" = "--check" ]; then
    for trace in young-generation.json fragmentation.json; do
        cmp "$out/$trace" "$trace" || { echo "examples/traces/$trace is stale: run $0" >&2; exit 1; }
    done
    rm -r "$out"
fi
