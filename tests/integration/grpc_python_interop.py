#!/usr/bin/python3
"""Interoperability of tritonc-server's gRPC frontend with a stock gRPC
implementation: Debian's python3-grpcio. Generates Python stubs from our
proto/*.proto into a temporary directory, starts the server on ephemeral
ports, calls every unary RPC and a bidirectional stream, stops the server.

Usage: grpc_python_interop.py SERVER_BIN MODELS_DIR PROTO_DIR
Exit 0 on success, 77 (skip) when grpcio or grpc_tools is missing."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

try:
    import grpc
    import numpy  # noqa: F401
    from grpc_tools import protoc  # noqa: F401 (interop_common needs it)
except ImportError:
    print("python3-grpcio / python3-grpc-tools / python3-numpy not installed: skipping")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from interop_common import compile_protos  # noqa: E402


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def start_server(binary, models):
    proc = subprocess.Popen([binary, "--model-repository=" + models, "--http-port=0",
                             "--grpc-port=0", "--metrics-port=0", "--log-info=false"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"Started GRPCInferenceService at .*:(\d+)", line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    fail("server did not start")


def main():
    binary, models, proto_dir = sys.argv[1:4]
    out = tempfile.mkdtemp(prefix="tc_grpc_py_")
    compile_protos(proto_dir, out, ("grpc_service", "model_config", "health"))
    import numpy as np  # noqa: E402
    import grpc_service_pb2 as pb  # noqa: E402
    import grpc_service_pb2_grpc as svc  # noqa: E402
    import health_pb2  # noqa: E402
    import health_pb2_grpc  # noqa: E402

    proc, port = start_server(binary, models)
    try:
        opts = [("grpc.max_send_message_length", 2**31 - 1),
                ("grpc.max_receive_message_length", 2**31 - 1)]
        ch = grpc.insecure_channel("127.0.0.1:%d" % port, options=opts)
        s = svc.GRPCInferenceServiceStub(ch)
        if not s.ServerLive(pb.ServerLiveRequest()).live:
            fail("not live")
        if not s.ServerReady(pb.ServerReadyRequest()).ready:
            fail("not ready")
        if not s.ModelReady(pb.ModelReadyRequest(name="simple")).ready:
            fail("simple not ready")
        if s.ServerMetadata(pb.ServerMetadataRequest()).name != "triton":
            fail("server metadata")
        md = s.ModelMetadata(pb.ModelMetadataRequest(name="simple"))
        if [i.name for i in md.inputs] != ["INPUT0", "INPUT1"]:
            fail("model metadata")
        if s.ModelConfig(pb.ModelConfigRequest(name="simple")).config.max_batch_size != 8:
            fail("model config")
        h = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
        if h.status != health_pb2.HealthCheckResponse.SERVING:
            fail("health")
        try:
            s.ModelMetadata(pb.ModelMetadataRequest(name="nope"))
            fail("unknown model accepted")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                fail("unknown model: %s" % e.code())

        def simple(rid):
            r = pb.ModelInferRequest(model_name="simple", id=rid)
            for n in ("INPUT0", "INPUT1"):
                t = r.inputs.add()
                t.name, t.datatype = n, "INT32"
                t.shape.extend([1, 16])
            r.raw_input_contents.append(np.arange(16, dtype=np.int32).tobytes())
            r.raw_input_contents.append(np.ones(16, dtype=np.int32).tobytes())
            return r

        for comp in (grpc.Compression.NoCompression, grpc.Compression.Gzip,
                     grpc.Compression.Deflate):
            resp = s.ModelInfer(simple("1"), compression=comp, metadata=[("test", "1")])
            out0 = np.frombuffer(resp.raw_output_contents[0], dtype=np.int32)
            if resp.id != "1" or list(out0) != list(range(1, 17)):
                fail("ModelInfer result")
        stats = s.ModelStatistics(pb.ModelStatisticsRequest(name="simple"))
        if stats.model_stats[0].inference_count != 3:
            fail("statistics: %s" % stats)
        if not s.RepositoryIndex(pb.RepositoryIndexRequest()).models:
            fail("repository index")
        try:
            s.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="simple"))
            fail("unload accepted outside explicit mode")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAVAILABLE:
                fail("unload: %s %s" % (e.code(), e.details()))
        try:
            s.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="simple"))
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNAVAILABLE:
                fail("load: %s %s" % (e.code(), e.details()))
        s.SystemSharedMemoryStatus(pb.SystemSharedMemoryStatusRequest())
        s.CudaSharedMemoryStatus(pb.CudaSharedMemoryStatusRequest())
        for call, req in ((s.SystemSharedMemoryRegister, pb.SystemSharedMemoryRegisterRequest()),
                          (s.SystemSharedMemoryUnregister,
                           pb.SystemSharedMemoryUnregisterRequest()),
                          (s.CudaSharedMemoryRegister, pb.CudaSharedMemoryRegisterRequest()),
                          (s.CudaSharedMemoryUnregister,
                           pb.CudaSharedMemoryUnregisterRequest())):
            try:
                call(req)
                fail("shared memory call accepted")
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                    fail("shm: %s" % e.code())
        tr = s.TraceSetting(pb.TraceSettingRequest())
        if "trace_level" not in tr.settings:
            fail("trace settings")
        lr = s.LogSettings(pb.LogSettingsRequest())
        if "log_verbose_level" not in lr.settings:
            fail("log settings")

        # A bidirectional stream: non-decoupled in order, then a decoupled model.
        reqs = [simple(str(i)) for i in range(5)]
        sq = pb.ModelInferRequest(model_name="square_int32", id="sq")
        t = sq.inputs.add()
        t.name, t.datatype = "IN", "INT32"
        t.shape.extend([1])
        sq.raw_input_contents.append(np.array([3], dtype=np.int32).tobytes())
        got = list(s.ModelStreamInfer(iter(reqs + [sq])))
        ids = [g.infer_response.id for g in got]
        if [i for i in ids if i != "sq"] != ["0", "1", "2", "3", "4"] or ids.count("sq") != 3:
            fail("stream ids %s" % ids)
        if any(g.error_message for g in got):
            fail("stream error %s" % [g.error_message for g in got])
        try:
            s.ModelInfer(sq)
            fail("decoupled ModelInfer accepted")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                fail("decoupled ModelInfer: %s" % e.code())
        # A deadline the server must honour or beat.
        s.ServerLive(pb.ServerLiveRequest(), timeout=5)
        ch.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = -1
        subprocess.run(["rm", "-rf", out], check=False)
    if code != 0:
        fail("server exit status %d" % code)
    print("OK")


if __name__ == "__main__":
    main()
