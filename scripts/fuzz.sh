#!/bin/sh
# Run every libFuzzer target for SECONDS on its committed corpus; new inputs
# go to a scratch directory so the committed corpus changes only by hand.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -eu
build=${1:-build/fuzz}
seconds=${2:-60}
status=0
# Every fuzz_* executable of the build, wherever CMake put it (the gRPC
# server target lives next to its frontend), in name order.
targets=$(find "$build" -type f -perm -u+x -name 'fuzz_*' ! -name '*.o' |
    while read -r t; do echo "$(basename "$t") $t"; done | sort | cut -d' ' -f2)
[ -n "$targets" ] || { echo "no fuzz targets under $build" >&2; exit 2; }
for t in $targets; do
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
