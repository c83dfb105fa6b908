#!/usr/bin/env bash
# run_cuda_checks.sh: every CUDA shared-memory check of tritonc, in one run,
# for a machine with an NVIDIA GPU (well under five minutes on 16 cores).
#
# Usage: tests/gpu/run_cuda_checks.sh [BUILD_DIR]   (default build/gpu)
#
# What it does:
#   1. Builds tritonc-server (and the client's CUDA tests when they exist)
#      in BUILD_DIR, and tests/gpu/cuda_ipc_helper.c with plain cc -ldl.
#   2. Starts tritonc-server --allow-client-shm=true on ephemeral ports.
#   3. The helper (a separate process: CUDA IPC handles cannot be opened in
#      the process that exported them) cudaMalloc's 4096 bytes on device 0,
#      writes the `simple` model's inputs and exports the IPC handle.
#   4. Over HTTP (bash /dev/tcp, no curl needed): registers the handle as a
#      CUDA region (base64), checks status, rejects a duplicate and a
#      byte_size beyond the allocation (when libcuda's
#      cuMemGetAddressRange is available), runs `simple` with inputs and
#      outputs in the CUDA region (outputs at offset 1024), lets the helper
#      verify the sums and differences on the device, then unregisters.
#   5. Runs the ctest entries named *cuda* in BUILD_DIR (the client's
#      tc_cuda_* utilities and anything else CUDA-specific).
#
# Skips cleanly (exit 0, a line starting with SKIP) when libcudart cannot be
# loaded or reports no device. Exit 1 on the first failure. Needs bash,
# cmake, a C compiler, base64 (coreutils). Leaves the server stopped and the
# device memory freed whatever happens.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build/gpu}
WORK=$(mktemp -d /tmp/tc-gpu-XXXXXX)
SERVER_PID=
HELPER_PID=

cleanup() {
    [ -n "$HELPER_PID" ] && kill "$HELPER_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2; exit 1; }
step() { echo "== $*"; }

# ---- 0. is there a GPU at all? -----------------------------------------------------------
step "building the helper"
cc -O1 -o "$WORK/helper" "$ROOT/tests/gpu/cuda_ipc_helper.c" -ldl || fail "helper build"
probe_rc=0
"$WORK/helper" "$WORK/probe" 4096 </dev/null >"$WORK/probe.out" 2>&1 || probe_rc=$?
if [ "$probe_rc" -eq 77 ]; then
    echo "SKIP: no CUDA runtime or no device"
    exit 0
fi

# ---- 1. build ----------------------------------------------------------------------------
step "building tritonc in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug >"$WORK/cmake.log" 2>&1 || fail "configure"
cmake --build "$BUILD" -j"$(nproc)" >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; fail "build"; }
SERVER=$(find "$BUILD" -type f -name tritonc-server -perm -u+x | head -1)
[ -x "$SERVER" ] || fail "no tritonc-server in $BUILD"

# ---- 2. server ---------------------------------------------------------------------------
step "starting tritonc-server"
"$SERVER" --model-repository="$ROOT/models" --http-port=0 --grpc-port=0 --metrics-port=0 \
    --allow-client-shm=true >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 1 200); do
    PORT=$(sed -n 's/.*Started HTTPService at [^:]*:\([0-9]*\).*/\1/p' "$WORK/server.log" 2>/dev/null | head -1 || true)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || fail "server did not start"
grep -q "CUDA runtime loaded" "$WORK/server.log" || echo "note: the server log has no 'CUDA runtime loaded' line yet (it loads on first use)"

# http METHOD PATH [BODY] -> sets STATUS and BODY_OUT
http() {
    local method=$1 path=$2 body=${3:-}
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf '%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s' \
        "$method" "$path" "${#body}" "$body" >&3
    local reply
    reply=$(cat <&3)
    exec 3<&-
    STATUS=$(printf '%s' "$reply" | head -1 | awk '{print $2}')
    BODY_OUT=$(printf '%s' "$reply" | sed '1,/^\r$/d')
}
expect() { # expect STATUS SUBSTRING WHAT
    [ "$STATUS" = "$1" ] || fail "$3: status $STATUS (want $1): $BODY_OUT"
    [ -z "$2" ] || [[ "$BODY_OUT" == *"$2"* ]] || fail "$3: '$2' not in $BODY_OUT"
    echo "   ok: $3"
}

# ---- 3. helper ---------------------------------------------------------------------------
step "exporting a CUDA IPC handle from a helper process"
coproc HELPER { "$WORK/helper" "$WORK/handle" 4096; }
HELPER_PID=$HELPER_PID
read -r -t 60 line <&"${HELPER[0]}" || fail "helper did not start"
[ "$line" = "READY" ] || fail "helper: $line"
B64=$(base64 -w0 "$WORK/handle")

# ---- 4. server registry and inference through the region ---------------------------------
step "registry and inference over HTTP"
REG="{\"raw_handle\":{\"b64\":\"$B64\"},\"device_id\":0,\"byte_size\":4096}"
http POST /v2/cudasharedmemory/region/gpu/register "$REG"
expect 200 "" "register CUDA region"
http POST /v2/cudasharedmemory/region/gpu/register "$REG"
expect 400 "already in manager" "duplicate name"
http POST /v2/systemsharedmemory/region/gpu/register '{"key":"/tc-gpu-none","byte_size":16}'
expect 400 "already in manager" "duplicate across kinds"
http GET /v2/cudasharedmemory/status
expect 200 '"name":"gpu","device_id":0,"byte_size":4096' "status"
http GET /v2/systemsharedmemory/region/gpu/status
expect 404 "registered as CUDA shared memory" "cross-kind status"
http POST /v2/cudasharedmemory/region/big/register \
    "{\"raw_handle\":{\"b64\":\"$B64\"},\"device_id\":0,\"byte_size\":1048576}"
if [ "$STATUS" = 200 ]; then
    echo "   note: allocation size not checked (no cuMemGetAddressRange in libcuda)"
    http POST /v2/cudasharedmemory/region/big/unregister
else
    expect 400 "invalid args" "byte_size beyond the allocation"
fi
INFER='{"inputs":[{"name":"INPUT0","shape":[1,16],"datatype":"INT32","parameters":{"shared_memory_region":"gpu","shared_memory_byte_size":64}},{"name":"INPUT1","shape":[1,16],"datatype":"INT32","parameters":{"shared_memory_region":"gpu","shared_memory_byte_size":64,"shared_memory_offset":64}}],"outputs":[{"name":"OUTPUT0","parameters":{"shared_memory_region":"gpu","shared_memory_byte_size":64,"shared_memory_offset":1024}},{"name":"OUTPUT1","parameters":{"shared_memory_region":"gpu","shared_memory_byte_size":64,"shared_memory_offset":1088}}]}'
http POST /v2/models/simple/infer "$INFER"
expect 200 '"shape":[1,16]' "infer through the CUDA region"
http POST /v2/models/simple/infer "${INFER/\"shared_memory_offset\":64/\"shared_memory_offset\":4096}"
expect 400 "Invalid offset for shared memory region: 'gpu'" "offset past the region"
echo "check 1024" >&"${HELPER[1]}"
read -r -t 30 line <&"${HELPER[0]}" || fail "helper did not answer"
[ "$line" = OK ] || fail "outputs on the device: $line"
echo "   ok: outputs verified on the device"
http POST /v2/cudasharedmemory/unregister
expect 200 "" "unregister all CUDA regions"
http GET /v2/cudasharedmemory/status
expect 200 "[]" "status empty"
wait "$HELPER_PID" || fail "helper exit"
HELPER_PID=

# ---- 5. everything else named cuda in ctest ------------------------------------------------
step "ctest -R cuda"
(cd "$BUILD" && ctest -N -R cuda) >"$WORK/ctest-n.txt" 2>&1 || true
if grep -q "Total Tests: [1-9]" "$WORK/ctest-n.txt"; then
    (cd "$BUILD" && ctest -R cuda --output-on-failure --timeout 120) || fail "ctest -R cuda"
else
    echo "   (no ctest entries named cuda)"
fi
echo "PASS: CUDA shared memory checks"
