#!/bin/sh
# Install the build into a temporary prefix and use it as an outside project
# would: build two examples against the installed copy (one with pkg-config,
# one with find_package(tritonc) and tritonc::tritonc), then run both against
# the installed tritonc-server on ephemeral ports.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR [C_COMPILER [EXTRA_FLAGS]]
# EXTRA_FLAGS (e.g. -fsanitize=address,undefined) go to both consumers, so a
# sanitizer build's library links.
set -eu

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=${3:-cc}
extra=${4:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tc-install.XXXXXX")
server_pid=""

cleanup() {
    if [ -n "$server_pid" ]; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "test_install: $*" >&2
    if [ -f "$tmp/server.log" ]; then
        cat "$tmp/server.log" >&2
    fi
    exit 1
}

prefix="$tmp/prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }

# ---- what must be there -----------------------------------------------------------------
pc=$(find "$prefix" -name tritonc.pc | head -n 1)
config=$(find "$prefix" -name tritoncConfig.cmake | head -n 1)
[ -n "$pc" ] || fail "tritonc.pc not installed"
[ -n "$config" ] || fail "tritoncConfig.cmake not installed"
for f in tritoncConfigVersion.cmake tritoncTargets.cmake; do
    [ -f "$(dirname "$config")/$f" ] || fail "$f not installed"
done
for h in tritonc.h common.h version.h client.h http.h grpc.h request.h result.h tensor.h; do
    [ -f "$prefix/include/tritonc/$h" ] || fail "include/tritonc/$h not installed"
done
libdir=$(dirname "$(dirname "$pc")")
[ -e "$libdir/libtritonc.so" ] || fail "libtritonc.so not in $libdir"
[ -x "$prefix/bin/tritonc-server" ] || fail "tritonc-server not installed"

# ---- 1: pkg-config ----------------------------------------------------------------------
export PKG_CONFIG_PATH="$(dirname "$pc")"
cflags=$(pkg-config --cflags tritonc) || fail "pkg-config --cflags tritonc failed"
libs=$(pkg-config --libs tritonc) || fail "pkg-config --libs tritonc failed"
[ "$(pkg-config --modversion tritonc)" = "$(sed -n 's/^Version: //p' "$pc")" ] ||
    fail "pkg-config --modversion disagrees with tritonc.pc"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Werror $extra $cflags -o "$tmp/simple_http_health_metadata" \
    "$src/examples/simple_http_health_metadata.c" $libs -Wl,-rpath,"$libdir" ||
    fail "building simple_http_health_metadata with pkg-config failed"

# ---- 2: find_package(tritonc) -----------------------------------------------------------
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.22)
project(tritonc_consumer LANGUAGES C)
find_package(tritonc 0.1 REQUIRED)
add_executable(simple_http_infer_client "$src/examples/simple_http_infer_client.c")
target_link_libraries(simple_http_infer_client PRIVATE tritonc::tritonc)
EOF
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$extra" \
    -DCMAKE_EXE_LINKER_FLAGS="$extra" >"$tmp/consumer.log" 2>&1 ||
    { cat "$tmp/consumer.log" >&2; fail "find_package(tritonc) failed"; }
cmake --build "$tmp/consumer/build" >>"$tmp/consumer.log" 2>&1 ||
    { cat "$tmp/consumer.log" >&2; fail "building against tritonc::tritonc failed"; }
# Nothing from the source or build tree may leak into the consumer's flags.
if grep -rq -e "$src/include" -e "$build" "$tmp/consumer/build/CMakeFiles" 2>/dev/null; then
    fail "the installed package points back into the source or build tree"
fi
# SameMinorVersion in 0.x: asking for another minor version must fail.
mkdir -p "$tmp/wrong"
sed 's/find_package(tritonc 0.1 REQUIRED)/find_package(tritonc 0.99 REQUIRED)/' \
    "$tmp/consumer/CMakeLists.txt" >"$tmp/wrong/CMakeLists.txt"
if cmake -S "$tmp/wrong" -B "$tmp/wrong/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >/dev/null 2>&1; then
    fail "find_package(tritonc 0.99) accepted version $(pkg-config --modversion tritonc)"
fi

# ---- run both against the installed server ----------------------------------------------
# The log exists before the server does: the background job opens its
# redirection only once it runs, and the first sed below may come earlier.
: >"$tmp/server.log"
"$prefix/bin/tritonc-server" --model-repository="$src/models" --http-port=0 --grpc-port=0 \
    --metrics-port=0 >"$tmp/server.log" 2>&1 &
server_pid=$!
port=""
i=0
while [ $i -lt 200 ]; do
    port=$(sed -n 's/^Started HTTPService at .*:\([0-9][0-9]*\)$/\1/p' "$tmp/server.log")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "tritonc-server exited early"
    sleep 0.1
    i=$((i + 1))
done
[ -n "$port" ] || fail "tritonc-server did not start"

"$tmp/simple_http_health_metadata" -u "localhost:$port" >"$tmp/hm.log" 2>&1 ||
    { cat "$tmp/hm.log" >&2; fail "simple_http_health_metadata (pkg-config build) failed"; }
"$tmp/consumer/build/simple_http_infer_client" -u "localhost:$port" >"$tmp/infer.log" 2>&1 ||
    { cat "$tmp/infer.log" >&2; fail "simple_http_infer_client (find_package build) failed"; }
grep -q PASS "$tmp/infer.log" || { cat "$tmp/infer.log" >&2; fail "no PASS from simple_http_infer_client"; }

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || fail "tritonc-server exited with status $status"
echo "test_install: OK (pkg-config and find_package consumers ran against the installed server)"
