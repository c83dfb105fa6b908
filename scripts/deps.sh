#!/bin/sh
# Install the Debian 12 packages tritonc needs to build, test and run its demo.
# As root it runs apt-get; otherwise it prints the exact command and stops.
# Usage: scripts/deps.sh [--check]   (--check: exit 1 if something is missing, install nothing)
set -eu
# --no-install-recommends below, so a Recommends that the build needs is listed
# here: dnnl's CMake config (libdnnl-dev) finds OpenCL (ocl-icd-opencl-dev).

PACKAGES="build-essential cmake pkg-config clang
libcurl4-openssl-dev libmicrohttpd-dev libnghttp2-dev libssl-dev openssl zlib1g-dev
libprotobuf-c-dev protobuf-c-compiler libjson-c-dev libcmocka-dev
libstb-dev curl valgrind
libdnnl-dev ocl-icd-opencl-dev libonnx-testdata
python3-grpcio python3-grpc-tools python3-numpy"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "missing Debian packages:$missing" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "tritonc needs these Debian packages:$missing" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
