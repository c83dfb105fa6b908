#!/bin/sh
# Run every libFuzzer target for SECONDS on its committed corpus; new inputs
# go to a scratch directory so the committed corpus changes only by hand.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -eu
build=${1:-build/fuzz}
seconds=${2:-60}
status=0
for t in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    corpus="tests/fuzz/corpus/$name"
    scratch=$(mktemp -d)
    mkdir -p "$corpus"
    echo "== $name ($seconds s)"
    if ! "$t" "$scratch" "$corpus" -max_total_time="$seconds" -print_final_stats=1 2>"$scratch.log"; then
        tail -n 40 "$scratch.log"
        status=1
    else
        grep -E 'stat::number_of_executed_units|Done' "$scratch.log" | tail -n 2
    fi
    rm -rf "$scratch" "$scratch.log"
done
exit $status
