#!/usr/bin/env bash
# onnx_vs_ort.sh: MobileNet v2 in tritonc-server's ONNX backend versus ONNX
# Runtime (onnxruntime-node, CPU), in the same run, alternating, plus
# image_client end-to-end throughput with dynamic batching on and off.
#
# Usage: bench/onnx_vs_ort.sh [BUILD_DIR]      (default build/release)
# Environment:
#   RUNS=50         timed runs per measurement (after WARMUP=10)
#   ROUNDS=3        alternations (tritonc and ORT, 1 then 2 threads, each round)
#   COPIES=16       image_client: each of the 7 sample images repeated COPIES times
#   PERF=0          1: also `perf record -e cpu-clock -g` the server during
#                   1-thread batch-1 runs; the report goes to $PERF_OUT
#   PERF_OUT=perf-onnx.txt
#   TC_IMAGENET_DIR (default ../shared/models/imagenet next to the repository)
#   TC_BENCH_CACHE  (default ${XDG_CACHE_HOME:-$HOME/.cache}/tritonc-bench):
#                   onnxruntime-node is installed under $TC_BENCH_CACHE/ort
#
# Figures: medians of RUNS batch-1 inferences per round; the summary is the
# median over ROUNDS. "compute" is the server's compute_infer (statistics
# API), "client" the wall time of tc_client_infer() over HTTP or gRPC, and
# "engine" bench_onnx (tc_onnx alone, its own synthetic input). Ratios are
# tritonc / ORT (goal <= 1.0). Exits non-zero when a tool is missing, an
# install fails, or tritonc and ORT disagree on the top-1 class.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-$root/build/release}" 2>/dev/null && pwd) || {
    echo "onnx_vs_ort: build directory ${1:-$root/build/release} not found" >&2
    exit 1
}
RUNS=${RUNS:-50}
WARMUP=${WARMUP:-10}
ROUNDS=${ROUNDS:-3}
COPIES=${COPIES:-16}
PERF=${PERF:-0}
PERF_OUT=${PERF_OUT:-perf-onnx.txt}
imagenet=${TC_IMAGENET_DIR:-$root/../shared/models/imagenet}
cache=${TC_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tritonc-bench}

die() {
    echo "onnx_vs_ort: $*" >&2
    exit 1
}

server_bin=$build/src/server/tritonc-server
engine_bin=$build/src/onnx/bench_onnx
client_bin=$build/bench/tc_bench_onnx_server
ic_bin=$build/tools/image_client/image_client
for b in "$server_bin" "$engine_bin" "$client_bin" "$ic_bin"; do
    [ -x "$b" ] || die "$b is missing: build tritonc-server bench_onnx tc_bench_onnx_server image_client in $build"
done
model=$imagenet/mobilenet_v2.onnx
input=$imagenet/reference/mobilenet_v2.in.npy
[ -r "$model" ] && [ -r "$input" ] ||
    die "$imagenet has no mobilenet_v2.onnx or reference/mobilenet_v2.in.npy (see ../shared/models/imagenet/README.md)"

# ---- ONNX Runtime (npm onnxruntime-node, CPU binaries only) ----------------
ort_dir=$cache/ort
command -v node >/dev/null || die "node is not installed (needed for onnxruntime-node)"
if ! NODE_PATH=$ort_dir/node_modules node -e "require('onnxruntime-node')" 2>/dev/null; then
    command -v npm >/dev/null || die "npm is not installed (needed to install onnxruntime-node)"
    echo "onnx_vs_ort: installing onnxruntime-node into $ort_dir" >&2
    mkdir -p "$ort_dir"
    [ -f "$ort_dir/package.json" ] || echo '{"private": true}' >"$ort_dir/package.json"
    ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$ort_dir" --no-audit --no-fund \
        onnxruntime-node >&2 || die "npm install onnxruntime-node failed"
    NODE_PATH=$ort_dir/node_modules node -e "require('onnxruntime-node')" ||
        die "onnxruntime-node installed in $ort_dir but does not load"
fi
export NODE_PATH=$ort_dir/node_modules

# ---- temporary model repository (symlinks, never copies) -------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/onnx_vs_ort.XXXXXX")
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    [ -z "$server_pid" ] || rm -f "/tmp/perf-$server_pid.map"
}
trap cleanup EXIT

# add_model NAME MAX_BATCH EXTRA_CONFIG
add_model() {
    mkdir -p "$tmp/repo/$1/1"
    ln -s "$model" "$tmp/repo/$1/1/model.onnx"
    ln -s "$imagenet/imagenet_labels.txt" "$tmp/repo/$1/imagenet_labels.txt"
    cat >"$tmp/repo/$1/config.pbtxt" <<EOF
name: "$1"
platform: "onnxruntime_onnx"
max_batch_size: $2
input [ { name: "input" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 224, 224 ] } ]
output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 1001 ]
           label_filename: "imagenet_labels.txt" } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
$3
EOF
}
threads_param() {
    echo "parameters { key: \"intra_op_thread_count\" value: { string_value: \"$1\" } }"
}
add_model mnv2_t1 8 "$(threads_param 1)"
add_model mnv2_t2 8 "$(threads_param 2)"
add_model mnv2_dyn 8 "dynamic_batching { max_queue_delay_microseconds: 2000 }"
add_model mnv2_nodyn 8 ""

mkdir -p "$tmp/images"
n_images=0
for c in $(seq 1 "$COPIES"); do
    for f in "$imagenet"/images/*; do
        ln -s "$f" "$tmp/images/$(printf '%03d' "$c")_$(basename "$f")"
        n_images=$((n_images + 1))
    done
done

# With PERF=1, oneDNN writes /tmp/perf-PID.map so perf names its JIT kernels.
[ "$PERF" = 1 ] && export ONEDNN_JIT_PROFILE=2
: >"$tmp/server.log" # before the job: it opens its redirection only once it runs
"$server_bin" --model-repository="$tmp/repo" --http-port=0 --grpc-port=0 --metrics-port=0 \
    >"$tmp/server.log" 2>&1 &
server_pid=$!
unset ONEDNN_JIT_PROFILE
http_port=
for _ in $(seq 1 600); do
    http_port=$(sed -n 's/^Started HTTPService at .*:\([0-9]*\)$/\1/p' "$tmp/server.log")
    [ -n "$http_port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$http_port" ] || { cat "$tmp/server.log" >&2; die "tritonc-server did not start"; }
grpc_port=$(sed -n 's/^Started GRPCInferenceService at .*:\([0-9]*\)$/\1/p' "$tmp/server.log")

# ---- machine ----------------------------------------------------------------
echo "== onnx_vs_ort $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) x $(nproc)"
echo "ort: onnxruntime-node $(node -p "require('onnxruntime-node/package.json').version")"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs: $RUNS timed after $WARMUP warm-up, $ROUNDS rounds"

# ---- (1) batch-1 latency, alternating ---------------------------------------
res=$tmp/results
: >"$res"
for r in $(seq 1 "$ROUNDS"); do
    for th in 1 2; do
        "$client_bin" --url "127.0.0.1:$http_port" --model "mnv2_t$th" --input "$input" \
            --runs "$RUNS" --warmup "$WARMUP" | sed "s/^/round=$r threads=$th /" | tee -a "$res"
        node "$here/ort_bench.js" --model "$model" --input "$input" --threads "$th" \
            --runs "$RUNS" --warmup "$WARMUP" | sed "s/^/round=$r /" | tee -a "$res"
        "$client_bin" --url "127.0.0.1:$grpc_port" --grpc --model "mnv2_t$th" --input "$input" \
            --runs "$RUNS" --warmup "$WARMUP" | sed "s/^/round=$r threads=$th /" | tee -a "$res"
    done
    "$engine_bin" "$model" "$RUNS" | sed "s/^/round=$r /" | tee -a "$res"
done
echo "load after latency: $(cut -d' ' -f1-3 /proc/loadavg)"

# Summaries: median over rounds of each per-round median.
summary=$(awk '
function field(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
function med(key,   n, i, j, v, t) {
    n = cnt[key]; if (n == 0) return -1
    for (i = 1; i <= n; i++) v[i] = val[key, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((n + 1) / 2)]
}
function add(key, x) { cnt[key]++; val[key, cnt[key]] = x }
{
    th = field("threads")
    if ($2 == "SERVER" || $3 == "SERVER") {
        p = field("proto")
        add("client_" p th, field("client_median_ms")); add("compute_" p th, field("compute_mean_ms"))
        top[p th] = field("top1")
    } else if ($2 == "ORT") {
        add("ort" th, field("median_ms")); top["ort" th] = field("top1")
    } else if ($2 == "tc_onnx") {
        sub(":", "", $4); split($4, a, "="); add("engine" a[2], $6)
    }
}
END {
    for (th = 1; th <= 2; th++) {
        o = med("ort" th)
        printf "threads=%d ort_ms=%.3f compute_ms=%.3f engine_ms=%.3f http_ms=%.3f grpc_ms=%.3f ", th, o, med("compute_http" th), med("engine" th), med("client_http" th), med("client_grpc" th)
        printf "ratio_compute=%.3f ratio_engine=%.3f ratio_http=%.3f ratio_grpc=%.3f top1_tritonc=%s top1_ort=%s\n", med("compute_http" th) / o, med("engine" th) / o, med("client_http" th) / o, med("client_grpc" th) / o, top["http" th], top["ort" th]
    }
}' "$res")
echo "== batch-1 latency, median of $ROUNDS rounds (ratio = tritonc / ORT, goal <= 1.0)"
echo "$summary" | while read -r line; do
    eval "$(echo "$line" | tr ' ' '\n' | sed 's/^/s_/')"
    printf 'threads=%s  ORT %.2f ms | tritonc compute %.2f ms (x%.2f)  engine %.2f ms (x%.2f)  HTTP client %.2f ms (x%.2f)  gRPC client %.2f ms (x%.2f)  top-1 %s/%s\n' \
        "$s_threads" "$s_ort_ms" "$s_compute_ms" "$s_ratio_compute" "$s_engine_ms" "$s_ratio_engine" \
        "$s_http_ms" "$s_ratio_http" "$s_grpc_ms" "$s_ratio_grpc" "$s_top1_tritonc" "$s_top1_ort"
done
echo "$summary" | sed 's/^/SUMMARY /'
if echo "$summary" | awk '{ for (i = 1; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] } if (v["top1_tritonc"] != v["top1_ort"]) bad = 1 } END { exit !bad }'; then
    die "tritonc and ONNX Runtime disagree on the top-1 class"
fi

# ---- optional profile of the server during 1-thread batch-1 runs -----------
if [ "$PERF" = 1 ]; then
    command -v perf >/dev/null || die "PERF=1 but perf is not installed"
    perf record -q -e cpu-clock -g -p "$server_pid" -o "$tmp/perf.data" 2>/dev/null &
    perf_pid=$!
    sleep 0.5
    "$client_bin" --url "127.0.0.1:$http_port" --model mnv2_t1 --input "$input" \
        --runs $((RUNS * 6)) --warmup 0 >/dev/null
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    {
        echo "# by shared object"
        perf report -i "$tmp/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null
        echo "# by symbol (JIT kernels of one kind summed)"
        perf report -i "$tmp/perf.data" --no-children --sort dso,sym -t ';' --stdio -g none \
            2>/dev/null |
            awk -F';' '/^ *[0-9.]+%/ { sub("%", "", $1); gsub(/ +$/, "", $2); sub(/ tid [0-9]+/, "", $2)
                                        t[$2 " " $3] += $1 }
                       END { for (k in t) printf "%8.2f%%  %s\n", t[k], k }' | sort -rn
    } | grep -v '^$' >"$PERF_OUT" || true
    echo "== perf (1 thread, batch 1): where the server's time goes (full report in $PERF_OUT)"
    awk '/^# by shared object/ { s = 1; n = 0 } /^# by symbol/ { s = 2; n = 0; print "--" }
         /^ +[0-9.]+%/ { n++; if ((s == 1 && n <= 8) || (s == 2 && n <= 25)) print }' "$PERF_OUT"
fi

# ---- (2) image_client end to end: dynamic batching on and off --------------
echo "== image_client end to end: $n_images images, -b 1 -a (HTTP, 20 in flight), alternating"
ic_run() { # MODEL BATCH -> images/s
    local t0 t1
    t0=$(date +%s.%N)
    "$ic_bin" -m "$1" -s INCEPTION -c 1 -b "$2" -a -u "127.0.0.1:$http_port" "$tmp/images" \
        >"$tmp/ic.out" 2>&1 || { cat "$tmp/ic.out" >&2; die "image_client failed on $1"; }
    t1=$(date +%s.%N)
    awk -v n="$n_images" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }'
}
ic_res=$tmp/ic_results
: >"$ic_res"
ic_run mnv2_dyn 1 >/dev/null # warm-up (plans the batch sizes)
ic_run mnv2_nodyn 1 >/dev/null
for r in $(seq 1 "$ROUNDS"); do
    on=$(ic_run mnv2_dyn 1)
    off=$(ic_run mnv2_nodyn 1)
    b8=$(ic_run mnv2_nodyn 8)
    echo "round=$r dynamic_on=$on dynamic_off=$off client_batch8=$b8 images/s" | tee -a "$ic_res"
done
awk '
function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }
{ for (i = 2; i <= 4; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2] } }
END {
    for (r = 1; r <= NR; r++) { on[r] = v["dynamic_on", r]; off[r] = v["dynamic_off", r]; b8[r] = v["client_batch8", r] }
    printf "SUMMARY image_client dynamic_on=%.1f dynamic_off=%.1f client_batch8=%.1f images/s (median of %d)\n", med(on, NR), med(off, NR), med(b8, NR), NR
}' "$ic_res"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
