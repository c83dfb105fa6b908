#!/bin/sh
# Source hygiene checks (STYLE.md section 4): banned calls, bare allocation,
# printing/exiting in library code, and exported symbols without the tc_ prefix.
# Usage: scripts/checksrc.sh [BUILD_DIR]   (BUILD_DIR holds libtritonc.so; default build/dev)
set -u
build=${1:-build/dev}
fail=0

report() {
    echo "checksrc: $1" >&2
    fail=1
}

# Banned everywhere in our C sources.
hits=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atof)[[:space:]]*\(' \
    $(git ls-files 'src/*.c' 'src/*.h' 'tools/*.c' 'examples/*.c' 'backends/*.c') 2>/dev/null)
[ -n "$hits" ] && report "banned calls:
$hits"

# Bare allocation outside src/common/alloc.c (library and server code).
hits=$(grep -nE '(^|[^_a-z])(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\(' \
    $(git ls-files 'src/*.c' | grep -v '^src/common/alloc.c$') 2>/dev/null |
    grep -vE '(tc__|_free|free_fn|->free|\.free)' )
[ -n "$hits" ] && report "bare allocation (use tc__malloc & co):
$hits"

# The library never prints, exits or aborts.
hits=$(grep -nE '(^|[^_a-z.>])(printf|puts|exit|abort|perror)[[:space:]]*\(' \
    $(git ls-files 'src/common/*.c' 'src/proto/*.c' 'src/client/*.c') 2>/dev/null)
[ -n "$hits" ] && report "printing/exiting in library code:
$hits"

# Exported symbols of the shared library carry the tc_ prefix.
lib=$(find "$build" -name 'libtritonc.so*' -type f 2>/dev/null | head -n 1)
if [ -n "$lib" ]; then
    bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -vE '^(tc_|_init$|_fini$)')
    [ -n "$bad" ] && report "exported symbols without tc_ prefix in $lib:
$bad"
fi

[ $fail -eq 0 ] && echo "checksrc: clean"
exit $fail
