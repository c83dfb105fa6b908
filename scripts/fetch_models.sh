#!/bin/sh
# Fetch the model of upstream Triton's quick start, densenet_onnx (DenseNet-121,
# ImageNet, 1000 classes), into a model repository, as upstream's
# docs/examples/fetch_models.sh does, with the configuration its example
# repository ships: input data_0 FP32 [3,224,224] NCHW, output fc6_1 [1000]
# with labels, no batching. Needs internet access.
#
# Usage: scripts/fetch_models.sh MODEL_REPOSITORY_DIR
# Then:  tritonc-server --model-repository=MODEL_REPOSITORY_DIR
#        image_client -m densenet_onnx -c 3 -s INCEPTION IMAGE
set -eu

MODEL_URL="https://contentmamluswest001.blob.core.windows.net/content/14b2744cf8d6418c87ffddc3f3127242/9502630827244d60a1214f250e3bbca7/08aed7327d694b8dbaee2c97b8d0fcba/densenet121-1.2.onnx"
LABELS_URL="https://raw.githubusercontent.com/triton-inference-server/server/main/docs/examples/model_repository/densenet_onnx/densenet_labels.txt"

die() {
    echo "fetch_models.sh: $*" >&2
    exit 1
}

[ $# -eq 1 ] || die "usage: scripts/fetch_models.sh MODEL_REPOSITORY_DIR"
dest=$1/densenet_onnx

# Download to a temporary name, so a failed fetch never leaves a partial file
# that looks like a model.
fetch() {
    url=$1
    out=$2
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 --connect-timeout 20 -o "$out.part" "$url" ||
            { rm -f "$out.part"; die "cannot download $url (no internet access?)"; }
    elif command -v wget >/dev/null 2>&1; then
        wget -q -T 20 -O "$out.part" "$url" ||
            { rm -f "$out.part"; die "cannot download $url (no internet access?)"; }
    else
        die "neither curl nor wget is installed"
    fi
    [ -s "$out.part" ] || { rm -f "$out.part"; die "empty download from $url"; }
    mv "$out.part" "$out"
}

mkdir -p "$dest/1" || die "cannot create $dest/1"
fetch "$MODEL_URL" "$dest/1/model.onnx"
fetch "$LABELS_URL" "$dest/densenet_labels.txt"

# The graph's tensors are [1,3,224,224] and [1,1000,1,1]; the config states
# them without the leading 1 (and the output as a vector) through reshape.
cat > "$dest/config.pbtxt" <<'CONFIG'
name: "densenet_onnx"
platform: "onnxruntime_onnx"
max_batch_size: 0
input [
  {
    name: "data_0"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, 224, 224 ]
    reshape { shape: [ 1, 3, 224, 224 ] }
  }
]
output [
  {
    name: "fc6_1"
    data_type: TYPE_FP32
    dims: [ 1000 ]
    reshape { shape: [ 1, 1000, 1, 1 ] }
    label_filename: "densenet_labels.txt"
  }
]
CONFIG

lines=$(wc -l < "$dest/densenet_labels.txt")
[ "$lines" -ge 1000 ] || die "densenet_labels.txt has $lines lines, expected 1000"
echo "fetch_models.sh: densenet_onnx is in $dest"
