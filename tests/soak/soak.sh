#!/bin/bash
# Soak test (issue 7; not part of ctest): run tritonc-server (Release build)
# with --allow-client-shm=true on 127.0.0.1 and drive it for DURATION seconds
# with mixed traffic from several processes:
#   - tritonc-perf over HTTP and over gRPC at moderate concurrency,
#   - tritonc-perf with gRPC streaming,
#   - system shared memory: tritonc-perf --shared-memory system when the
#     build supports it, else simple_{http,grpc}_shm_client in a loop,
#   - the other examples in a loop,
#   - the HTTP generate extension (/generate and /generate_stream) with curl.
# The server's VmRSS is sampled every 10 s. At the end: unexpected errors
# (0 expected; any failed client run counts), RSS growth after warm-up (the
# first minute) in percent (goal < 5 %), the server's exit status; the
# summary is printed and written to RESULTS (default tests/soak/RESULTS.md).
#
# Usage: tests/soak/soak.sh [BUILD_DIR] [DURATION_S] [RESULTS]
#   defaults: build/soak-rel 600 tests/soak/RESULTS.md
# Environment: PERF_CONCURRENCY (default 4), WARMUP_S (default 60).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build/soak-rel}" && pwd)
duration=${2:-600}
results=${3:-$root/tests/soak/RESULTS.md}
conc=${PERF_CONCURRENCY:-4}
warmup=${WARMUP_S:-60}
server=$build/src/server/tritonc-server
perf=$build/tools/perf/tritonc-perf
ex=$build/examples
work=$(mktemp -d /tmp/tc-soak.XXXXXX)
start_load=$(cut -d' ' -f1-3 /proc/loadavg)
start_date=$(date -u +%FT%TZ)

for f in "$server" "$perf" "$ex/simple_http_infer_client"; do
    [ -x "$f" ] || { echo "missing $f (build the release preset first)" >&2; exit 2; }
done

# ---- server ------------------------------------------------------------------------------
"$server" --model-repository="$root/models" --allow-client-shm=true \
    --http-address=127.0.0.1 --grpc-address=127.0.0.1 --metrics-address=127.0.0.1 \
    --http-port=0 --grpc-port=0 --metrics-port=0 >"$work/server.log" 2>&1 &
spid=$!
for _ in $(seq 1 200); do
    grep -q 'Started HTTPService at' "$work/server.log" && break
    sleep 0.1
done
hport=$(sed -n 's/^Started HTTPService at .*:\([0-9]*\)$/\1/p' "$work/server.log")
gport=$(sed -n 's/^Started GRPCInferenceService at .*:\([0-9]*\)$/\1/p' "$work/server.log")
if [ -z "$hport" ] || [ -z "$gport" ]; then
    echo "server did not start:" >&2
    cat "$work/server.log" >&2
    kill "$spid" 2>/dev/null
    exit 2
fi
H=127.0.0.1:$hport
G=127.0.0.1:$gport
end=$(($(date +%s) + duration))

# ---- workers: each repeats its command until the deadline -----------------------------------
# A worker writes "runs errors unstable" to $work/<name>.count; failed runs
# keep their output in $work/<name>.err. A tritonc-perf run whose only
# complaint is "Failed to obtain stable measurement" (a loaded machine, not a
# failed request) counts as unstable, not as an error.
worker() {
    local name=$1
    shift
    local runs=0 errors=0 unstable=0
    while [ "$(date +%s)" -lt "$end" ]; do
        if ! "$@" >"$work/$name.out" 2>&1; then
            if grep -q 'Failed to obtain stable measurement' "$work/$name.out" &&
                ! grep -qiE '^error|failed:' "$work/$name.out"; then
                unstable=$((unstable + 1))
            else
                errors=$((errors + 1))
                { echo "--- run $runs: $*"; tail -n 20 "$work/$name.out"; } >>"$work/$name.err"
            fi
        fi
        runs=$((runs + 1))
    done
    echo "$runs $errors $unstable" >"$work/$name.count"
}

# Each example in turn, one process at a time (they share model state such
# as sequence ids, so one loop runs them all).
examples_loop() {
    local e
    for e in simple_http_infer_client simple_http_async_infer_client simple_http_string_infer_client \
        simple_http_health_metadata simple_http_sequence_sync_infer_client \
        simple_grpc_infer_client simple_grpc_async_infer_client simple_grpc_string_infer_client \
        simple_grpc_health_metadata simple_grpc_sequence_stream_infer_client \
        simple_grpc_sequence_sync_infer_client simple_grpc_custom_repeat \
        grpc_explicit_int_content_client grpc_explicit_byte_content_client; do
        local u=$G
        case $e in simple_http_*) u=$H ;; esac
        "$ex/$e" -u "$u" || { echo "example $e failed"; return 1; }
    done
}

# The HTTP generate extension: a server-sent-events stream of three
# responses from the decoupled repeat_int32, and one /generate answer.
generate_loop() {
    local out
    out=$(curl -sS -N --max-time 30 -X POST "http://$H/v2/models/repeat_int32/generate_stream" \
        -d '{"IN":[1,2,3],"DELAY":[1,1,1],"WAIT":0}') || return 1
    [ "$(grep -c '^data: {"IDX"' <<<"$out")" -eq 3 ] || { echo "stream: $out"; return 1; }
    out=$(curl -sS --max-time 30 -X POST "http://$H/v2/models/simple/generate" \
        -d '{"INPUT0":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],"INPUT1":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}') ||
        return 1
    grep -q '"OUTPUT0":\[1,2,3' <<<"$out" || { echo "generate: $out"; return 1; }
}

shm_loop() {
    "$ex/simple_http_shm_client" -u "$H" && "$ex/simple_grpc_shm_client" -u "$G" &&
        "$ex/simple_http_shm_string_client" -u "$H" && "$ex/simple_grpc_shm_string_client" -u "$G"
}

# A wide stability band: the soak wants load, not converged latency figures.
perf_args=(-m simple --concurrency-range "$conc" -p 2000 -r 5 -s 1000)
pids=()
worker perf_http "$perf" "${perf_args[@]}" -i http -u "$H" &
pids+=($!)
worker perf_grpc "$perf" "${perf_args[@]}" -i grpc -u "$G" &
pids+=($!)
worker perf_stream "$perf" "${perf_args[@]}" -i grpc \
    --streaming -u "$G" &
pids+=($!)
if "$perf" -m simple -i http -u "$H" --shared-memory system --concurrency-range 1 -p 300 -r 3 -s 100 \
    >"$work/shm_probe.out" 2>&1; then
    shm_mode="tritonc-perf --shared-memory system (HTTP and gRPC)"
    worker perf_shm_http "$perf" "${perf_args[@]}" -i http -u "$H" --shared-memory system &
    pids+=($!)
    worker perf_shm_grpc "$perf" "${perf_args[@]}" -i grpc -u "$G" --shared-memory system &
    pids+=($!)
else
    shm_mode="simple_{http,grpc}_shm{,_string}_client in a loop (tritonc-perf: $(head -n 1 "$work/shm_probe.out"))"
    worker shm_examples shm_loop &
    pids+=($!)
fi
worker examples examples_loop &
pids+=($!)
if command -v curl >/dev/null; then
    worker generate generate_loop &
    pids+=($!)
fi

# ---- RSS samples ------------------------------------------------------------------------------
rss_kb() {
    sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$spid/status" 2>/dev/null
}
t0=$(date +%s)
: >"$work/rss.tsv"
while [ "$(date +%s)" -lt "$end" ]; do
    echo "$(($(date +%s) - t0)) $(rss_kb)" >>"$work/rss.tsv"
    sleep 10
done
for p in "${pids[@]}"; do
    wait "$p"
done
echo "$(($(date +%s) - t0)) $(rss_kb)" >>"$work/rss.tsv"
end_load=$(cut -d' ' -f1-3 /proc/loadavg)

kill -TERM "$spid"
wait "$spid"
server_rc=$?

# ---- summary ----------------------------------------------------------------------------------
total_runs=0
total_errors=0
total_unstable=0
rows=""
for c in "$work"/*.count; do
    name=$(basename "$c" .count)
    read -r runs errors unstable <"$c"
    total_runs=$((total_runs + runs))
    total_errors=$((total_errors + errors))
    total_unstable=$((total_unstable + unstable))
    rows+="| $name | $runs | $errors | $unstable |"$'\n'
done
# Growth: last sample versus the first sample at or after the warm-up.
base=$(awk -v w="$warmup" '$1 >= w && $2 != "" { print $2; exit }' "$work/rss.tsv")
last=$(awk '$2 != "" { v = $2 } END { print v }' "$work/rss.tsv")
peak=$(awk -v w="$warmup" '$1 >= w && $2 > m { m = $2 } END { print m + 0 }' "$work/rss.tsv")
first=$(awk '$2 != "" { print $2; exit }' "$work/rss.tsv")
growth=$(awk -v b="${base:-0}" -v l="${last:-0}" 'BEGIN { if (b > 0) printf "%.2f", (l - b) * 100 / b; else print "n/a" }')
verdict=PASS
[ "$total_errors" -eq 0 ] || verdict=FAIL
[ "$server_rc" -eq 0 ] || verdict=FAIL
awk -v g="$growth" 'BEGIN { exit !(g == "n/a" || g >= 5) }' && verdict=FAIL

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
    echo "# Soak results"
    echo
    echo "Written by \`tests/soak/soak.sh\` (issue 7). Verdict: **$verdict** (0 unexpected errors,"
    echo "RSS growth after the ${warmup}-s warm-up < 5 %, server exit status 0)."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date (UTC) | $start_date |"
    echo "| commit | $commit |"
    echo "| build | \`$(basename "$build")\` (Release) |"
    echo "| duration | ${duration} s |"
    echo "| machine | $(nproc) CPUs; load average at start $start_load, at end $end_load |"
    echo "| shared memory traffic | $shm_mode |"
    echo "| client runs | $total_runs |"
    echo "| unexpected errors | $total_errors |"
    echo "| tritonc-perf runs without a stable measurement (not errors) | $total_unstable |"
    echo "| server RSS | first sample ${first:-?} kB, after warm-up ${base:-?} kB, last ${last:-?} kB, peak after warm-up ${peak} kB |"
    echo "| RSS growth after warm-up | ${growth} % |"
    echo "| server exit status | $server_rc |"
    echo
    echo "| worker | runs | errors | unstable |"
    echo "|---|---|---|---|"
    printf '%s' "$rows"
    echo
    echo "RSS samples (seconds since start, VmRSS kB):"
    echo
    echo '```'
    tr '\n' ';' <"$work/rss.tsv" | sed 's/;$//; s/;/; /g'
    echo
    echo '```'
    echo
    echo "Command: \`tests/soak/soak.sh ${1:-build/soak-rel} $duration\` with PERF_CONCURRENCY=$conc;"
    echo "tritonc-perf runs \`${perf_args[*]}\` over HTTP, over gRPC and over gRPC with \`--streaming\`."
} >"$results"
cat "$results"
for e in "$work"/*.err; do
    [ -f "$e" ] && { echo "== $e"; tail -n 40 "$e"; }
done
rm -rf "$work"
[ "$verdict" = PASS ]
