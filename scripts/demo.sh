#!/bin/sh
# The main job: start tritonc-server on the bundled repository (models/) on
# free ports, run the example clients against it and print their results,
# then the model-control example against a server in explicit mode. Every
# server is stopped on exit. Usage: scripts/demo.sh BUILD_DIR
set -eu
build=${1:-build/release}
server="$build/src/server/tritonc-server"
pids=""
logs=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    for l in $logs; do rm -rf "$l"; done
}
trap cleanup EXIT INT TERM

# start_server_repo REPO ARGS... : starts a server on REPO, waits (bounded)
# for its HTTP port, and sets $url (and $grpc_url when gRPC is served).
start_server_repo() {
    repo_dir=$1
    shift
    log=$(mktemp)
    logs="$logs $log"
    "$server" --model-repository="$repo_dir" --http-port=0 --grpc-port=0 --metrics-port=0 "$@" >"$log" 2>&1 &
    pid=$!
    pids="$pids $pid"
    http=""
    i=0
    while [ $i -lt 100 ]; do
        http=$(sed -n 's/^Started HTTPService at \(.*\)$/\1/p' "$log" | head -n 1)
        [ -n "$http" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "tritonc-server exited early" >&2; exit 1; }
        sleep 0.1
        i=$((i + 1))
    done
    [ -n "$http" ] || { cat "$log"; echo "tritonc-server did not start" >&2; exit 1; }
    url="localhost:${http##*:}"
    # The gRPC port, when the server serves gRPC (bounded wait; empty if not).
    grpc=""
    i=0
    while [ $i -lt 20 ]; do
        grpc=$(sed -n 's/^Started GRPCInferenceService at \(.*\)$/\1/p' "$log" | head -n 1)
        [ -n "$grpc" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    grpc_url=""
    if [ -n "$grpc" ]; then grpc_url="localhost:${grpc##*:}"; fi
}

# start_server ARGS... : a server on the bundled repository, models/.
start_server() {
    start_server_repo models "$@"
}

# run_grpc [MODEL] EXAMPLE ARGS... : a gRPC example against $grpc_url; skipped
# (with a note) while the server has no gRPC port or MODEL is not in models/.
run_grpc() {
    model=$1
    shift
    if [ -z "$grpc_url" ]; then
        echo
        echo "== skipped $1: tritonc-server does not serve gRPC"
        return
    fi
    if [ "$model" != "-" ] && [ ! -d "models/$model" ]; then
        echo
        echo "== skipped $1: model $model is not in models/"
        return
    fi
    ex=$1
    shift
    run "$build/examples/$ex" -u "$grpc_url" "$@"
}

status=0
run() {
    echo
    echo "== $*"
    if ! "$@"; then
        echo "FAILED: $*" >&2
        status=1
    fi
}

start_server
echo "== tritonc-server serving models/ (HTTP $url)"
for ex in simple_http_health_metadata simple_http_infer_client simple_http_string_infer_client \
          simple_http_async_infer_client; do
    run "$build/examples/$ex" -u "$url"
done
if [ -d models/simple_sequence ]; then
    run "$build/examples/simple_http_sequence_sync_infer_client" -u "$url"
fi
echo
echo "== gRPC examples (gRPC ${grpc_url:-not served})"
for ex in simple_grpc_health_metadata simple_grpc_infer_client simple_grpc_async_infer_client \
          simple_grpc_string_infer_client simple_grpc_keepalive_client \
          simple_grpc_custom_args_client grpc_explicit_int_content_client \
          grpc_explicit_int8_content_client grpc_explicit_byte_content_client; do
    run_grpc - "$ex"
done
run_grpc - simple_grpc_infer_client -C gzip
run_grpc simple_sequence simple_grpc_sequence_sync_infer_client
run_grpc simple_sequence simple_grpc_sequence_stream_infer_client
run_grpc repeat_int32 simple_grpc_custom_repeat

# The main job: classify the bundled images (held-out handwritten digits)
# with the bundled model, over HTTP and gRPC, sync, async and streaming.
ic="$build/tools/image_client/image_client"
images=tools/digits/images
echo
echo "== image classification: digits_onnx on $images (expected labels in $images/expected.txt)"
run "$ic" -m digits_onnx -c 2 -u "$url" "$images"
run "$ic" -m digits_onnx -c 1 -b 4 -a -u "$url" "$images"
if [ -n "$grpc_url" ]; then
    run "$ic" -m digits_onnx -c 1 -i grpc -u "$grpc_url" "$images"
    run "$ic" -m digits_onnx -c 1 -b 2 -i grpc --streaming -u "$grpc_url" "$images"
fi
# Real ImageNet models, when the shared test data is present beside the checkout.
imagenet=../shared/models/imagenet
if [ -f "$imagenet/mobilenet_v2.onnx" ]; then
    repo=$(mktemp -d)
    logs="$logs $repo"
    mkdir -p "$repo/mobilenet_v2/1"
    ln -s "$(cd "$imagenet" && pwd)/mobilenet_v2.onnx" "$repo/mobilenet_v2/1/model.onnx"
    ln -s "$(cd "$imagenet" && pwd)/imagenet_labels.txt" "$repo/mobilenet_v2/labels.txt"
    cat >"$repo/mobilenet_v2/config.pbtxt" <<'CFG'
name: "mobilenet_v2"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "input" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 224, 224 ] } ]
output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 1001 ] label_filename: "labels.txt" } ]
CFG
    start_server_repo "$repo"
    echo
    echo "== image classification: MobileNet v2 on $imagenet/images"
    run "$ic" -m mobilenet_v2 -s INCEPTION -c 3 -u "$url" "$imagenet/images/parrot.jpg"
    run "$ic" -m mobilenet_v2 -s INCEPTION -c 1 -b 4 -a -u "$url" "$imagenet/images"
    [ -n "$grpc_url" ] && run "$ic" -m mobilenet_v2 -s INCEPTION -c 1 -b 2 -i grpc --streaming \
        -u "$grpc_url" "$imagenet/images"
fi

# Shared memory: inputs and outputs in POSIX shared memory (and CUDA
# device buffers, which skip without a GPU); the server must allow it.
start_server --allow-client-shm=true
echo
echo "== shared memory examples (HTTP $url, gRPC ${grpc_url:-not served})"
for ex in simple_http_shm_client simple_http_shm_string_client simple_http_cudashm_client; do
    run "$build/examples/$ex" -u "$url"
done
run "$build/examples/reuse_infer_objects_client" -i http -u "$url"
for ex in simple_grpc_shm_client simple_grpc_shm_string_client simple_grpc_cudashm_client; do
    run_grpc - "$ex"
done
run_grpc - reuse_infer_objects_client -i grpc

start_server --model-control-mode=explicit
echo
echo "== tritonc-server in explicit model-control mode (HTTP $url)"
run "$build/examples/simple_http_model_control" -u "$url"
run_grpc - simple_grpc_model_control

echo
if [ $status -eq 0 ]; then echo "demo: every example passed"; else echo "demo: some examples FAILED" >&2; fi
exit $status
