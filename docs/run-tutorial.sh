#!/usr/bin/env bash
# Runs every command of docs/tutorial.md, so that the tutorial cannot rot.
#
#   docs/run-tutorial.sh [--check]   run the commands and check them; fail if an image in docs/images/ is stale
#   docs/run-tutorial.sh --update    run the commands and check them; copy the fresh images into docs/images/
#
# The tutorial's conventions, which this script enforces:
# - Each ```sh block runs on its own, from the repository root, as `bash -euo pipefail`, in order. A block must
#   succeed, unless it contains `# exits N`: then its exit code must be N.
# - A ```text block right after a line `<!-- output -->` quotes the output (standard output and standard error) of
#   the ```sh block before it. Every line of the quote must be a line of that output, in the same order, trailing
#   spaces aside; a line `...` stands for any number of lines.
# - The commands write into target/tutorial/ (git ignores target/), which this script empties first. An image
#   embedded as images/tutorial-NAME.png must be what the commands rendered as target/tutorial/NAME.png, byte for
#   byte (rendering is deterministic), and smaller than 300 KiB; a docs/images/tutorial-*.png that the tutorial does
#   not embed is an error.
# - The traces the tutorial replays are what examples/traces/make-tutorial-traces.sh writes.
# - The ```toml block with `gc-sim = ...` works in the Cargo.toml of a crate beside a clone named gc-sim.
# Rust snippets are not run here: they are doc tests of the gc-sim crate (`cargo test --workspace` runs them).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:---check}
case "$mode" in
    --check | --update) ;;
    *) echo "usage: $0 [--check | --update]" >&2; exit 2 ;;
esac

tutorial=docs/tutorial.md
out=target/tutorial
max_image_bytes=$((300 * 1024))
started=$SECONDS

blocks=$(mktemp -d)
trap 'rm -rf "$blocks"' EXIT

# Split the tutorial into NNN.sh (the commands of the Nth sh block) and NNN.expect.K (its Kth quoted output).
awk -v dir="$blocks" -v file="$tutorial" '
    function fail(message) { printf "%s:%d: %s\n", file, NR, message > "/dev/stderr"; failed = 1; exit 1 }
    fence != "" && /^```[ \t]*$/ { fence = ""; out = ""; next }
    fence != "" { if (out != "") print > out; next }
    marker && !/^```text[ \t]*$/ { fail("<!-- output --> must be followed by a ```text block") }
    /^```sh[ \t]*$/ { n++; fence = "sh"; out = sprintf("%s/%03d.sh", dir, n); printf "" > out; next }
    /^```text[ \t]*$/ && marker {
        if (n == 0) fail("quoted output before any command")
        quotes[n]++; fence = "text"; marker = 0
        out = sprintf("%s/%03d.expect.%d", dir, n, quotes[n]); printf "" > out; next
    }
    /^```/ { fence = "other"; out = ""; next }
    /^<!-- output -->[ \t]*$/ { marker = 1; next }
    END { if (!failed && fence != "") fail("unclosed code block"); if (!failed && n == 0) fail("no ```sh block") }
' "$tutorial"

rm -rf "$out"
for script in "$blocks"/*.sh; do
    block=$(basename "$script" .sh)
    expected=0
    if grep -qE '# exits [0-9]+' "$script"; then
        expected=$(grep -oE '# exits [0-9]+' "$script" | tail -n 1 | awk '{print $3}')
    fi
    status=0
    block_started=$SECONDS
    bash -euo pipefail "$script" > "$blocks/$block.out" 2>&1 || status=$?
    echo "== $(head -n 1 "$script")$( [ "$(wc -l < "$script")" -gt 1 ] && echo ' ...') ($((SECONDS - block_started)) s)"
    if [ "$status" -ne "$expected" ]; then
        echo "docs/tutorial.md: sh block $((10#$block)) exited with $status, expected $expected:" >&2
        sed 's/^/    /' "$script" >&2
        echo "its output:" >&2
        tail -n 40 "$blocks/$block.out" >&2
        exit 1
    fi
    for quote in "$blocks/$block".expect.*; do
        [ -e "$quote" ] || continue
        # Each line of the quote, in order, must be a whole line of the output; `...` skips any lines.
        missing=$(awk '
            { sub(/[ \t\r]+$/, "") }
            FILENAME == ARGV[1] { output[++lines] = $0; next }
            $0 ~ /^[ \t]*\.\.\.$/ { next }
            { while (at < lines && output[at + 1] != $0) at++
              if (at == lines) { print; exit }
              at++ }
        ' "$blocks/$block.out" "$quote")
        if [ -n "$missing" ]; then
            echo "docs/tutorial.md: the output quoted after sh block $((10#$block)) is not what it prints:" >&2
            sed 's/^/    /' "$script" >&2
            echo "the first quoted line not found (in order) in its output:" >&2
            echo "    $missing" >&2
            echo "its output:" >&2
            tail -n 40 "$blocks/$block.out" >&2
            exit 1
        fi
    done
done

# The tutorial's `gc-sim = { path = ... }` works for a crate beside a clone named gc-sim (cargo resolves it).
beside=$(mktemp -d)
trap 'rm -rf "$blocks" "$beside"' EXIT
ln -s "$PWD" "$beside/gc-sim"
mkdir -p "$beside/my-app/src"
touch "$beside/my-app/src/lib.rs"
{
    printf '[package]\nname = "my-app"\nversion = "0.1.0"\nedition = "2021"\n\n'
    awk '/^```toml[ \t]*$/ {inside = 1; block = ""; next}
         inside && /^```/ {inside = 0; if (block ~ /gc-sim = /) {printf "%s", block; exit}; next}
         inside {block = block $0 "\n"}' "$tutorial"
} > "$beside/my-app/Cargo.toml"
grep -q '^gc-sim = ' "$beside/my-app/Cargo.toml" || { echo "$tutorial: no \`gc-sim = ...\` in a toml block" >&2; exit 1; }
if ! (cd "$beside/my-app" && cargo metadata --offline --format-version 1 > /dev/null 2> "$beside/metadata.err"); then
    echo "$tutorial: its Cargo.toml snippet does not work for a crate beside the clone:" >&2
    sed 's/^/    /' "$beside/my-app/Cargo.toml" "$beside/metadata.err" >&2
    exit 1
fi

# The traces the tutorial replays are what their generator writes.
examples/traces/make-tutorial-traces.sh --check

# The images the tutorial embeds are what its commands rendered.
stale=0
mapfile -t images < <(grep -oE 'images/tutorial-[A-Za-z0-9_-]+\.png' "$tutorial" | sort -u)
for image in "${images[@]}"; do
    name=${image#images/tutorial-}
    render="$out/$name"
    if [ ! -f "$render" ]; then
        echo "docs/tutorial.md embeds $image, but no command renders $render" >&2
        exit 1
    fi
    size=$(wc -c < "$render")
    if [ "$size" -ge "$max_image_bytes" ]; then
        echo "$render is $size bytes: keep tutorial images under 300 KiB" >&2
        exit 1
    fi
    if [ "$mode" = --update ]; then
        cp "$render" "docs/$image"
    elif ! cmp -s "$render" "docs/$image"; then
        echo "docs/$image is stale (or missing): run docs/run-tutorial.sh --update" >&2
        stale=1
    fi
done
for committed in docs/images/tutorial-*.png; do
    [ -e "$committed" ] || continue
    if ! printf '%s\n' "${images[@]}" | grep -qxF "${committed#docs/}"; then
        echo "$committed is not embedded in docs/tutorial.md: delete it" >&2
        stale=1
    fi
done
[ "$stale" -eq 0 ] || exit 1
echo "docs/tutorial.md: ${#images[@]} images up to date, every command ran as quoted ($((SECONDS - started)) s)"
