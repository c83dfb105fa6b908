#!/bin/sh
# Build the model repository upstream's model-control examples expect, from
# the bundled models: upstream's simple_http_model_control counts 7 index
# entries and simple_grpc_model_control 8 (TEST_MODELS.md). densenet_onnx is
# listed but never loaded by those examples, so it is a config-only
# placeholder here (fetch the real one with scripts/fetch_models.sh).
# Usage: scripts/upstream_repo.sh http|grpc OUTDIR
# Then:  tritonc-server --model-repository=OUTDIR --model-control-mode=explicit
set -eu
mode=${1:?usage: upstream_repo.sh http|grpc OUTDIR}
out=${2:?usage: upstream_repo.sh http|grpc OUTDIR}
here=$(cd "$(dirname "$0")/.." && pwd)
case "$mode" in
http) names="simple simple_dyna_sequence simple_int8 simple_identity simple_sequence simple_string" ;;
grpc) names="simple simple_dyna_sequence simple_int8 simple_identity simple_sequence simple_string simple_string_dyna_sequence" ;;
*) echo "upstream_repo.sh: mode must be http or grpc" >&2; exit 2 ;;
esac
mkdir -p "$out"
for n in $names; do
    ln -sfn "$here/models/$n" "$out/$n"
done
mkdir -p "$out/densenet_onnx/1"
cat >"$out/densenet_onnx/config.pbtxt" <<'CFG'
name: "densenet_onnx"
platform: "onnxruntime_onnx"
max_batch_size: 0
input [ { name: "data_0" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 224, 224 ] reshape { shape: [ 1, 3, 224, 224 ] } } ]
output [ { name: "fc6_1" data_type: TYPE_FP32 dims: [ 1000 ] reshape { shape: [ 1, 1000, 1, 1 ] } label_filename: "densenet_labels.txt" } ]
CFG
echo "placeholder: put densenet model.onnx here (scripts/fetch_models.sh)" >"$out/densenet_onnx/1/README"
echo "$out: $(ls "$out" | wc -l) models for upstream's $mode model-control example"
