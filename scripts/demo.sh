#!/bin/sh
# The main job: start tritonc-server on the bundled repository (models/) on
# free ports, run the example clients against it, print their results, then
# stop the server. Usage: scripts/demo.sh BUILD_DIR
set -eu
build=${1:-build/release}
server="$build/src/server/tritonc-server"
log=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT INT TERM

"$server" --model-repository=models --http-port=0 --grpc-port=0 --metrics-port=0 >"$log" 2>&1 &
pid=$!

# Wait (bounded) for the server to print the port it bound.
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
port=${http##*:}
url="localhost:$port"
echo "== tritonc-server on models/ (HTTP $url)"

status=0
for ex in simple_http_health_metadata simple_http_infer_client simple_http_string_infer_client \
          simple_http_async_infer_client; do
    echo "== $ex -u $url"
    if ! "$build/examples/$ex" -u "$url"; then
        echo "FAILED: $ex" >&2
        status=1
    fi
done
exit $status
