#!/usr/bin/python3
"""tritonc-server's gRPC TLS against a stock implementation: Debian's
python3-grpcio with grpc.ssl_channel_credentials. Certificates are made
here with the `openssl` command line (a test CA, a server certificate for
localhost / 127.0.0.1, a client certificate, an unrelated CA). Checks:
- --grpc-use-ssl: unary calls, inference, a bidirectional stream; an
  unknown CA and a plaintext channel are refused;
- --grpc-use-ssl-mutual: a client certificate from the CA works, none or
  one from another CA is refused.

Usage: grpc_python_interop_tls.py SERVER_BIN MODELS_DIR PROTO_DIR
Exit 0 on success, 77 (skip) when grpcio, grpc_tools or openssl is missing."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import grpc
    import numpy as np
    from grpc_tools import protoc  # noqa: F401 (interop_common needs it)
except ImportError:
    print("python3-grpcio / python3-grpc-tools / python3-numpy not installed: skipping")
    sys.exit(77)

if shutil.which("openssl") is None:
    print("the openssl command line tool is not installed: skipping")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from interop_common import compile_protos, make_certs  # noqa: E402

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def start_server(binary, models, extra):
    proc = subprocess.Popen([binary, "--model-repository=" + models, "--http-port=0",
                             "--grpc-port=0", "--metrics-port=0", "--log-info=false"] + extra,
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
    fail("server did not start with %s" % extra)


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = -1
    if code != 0:
        fail("server exit status %d" % code)


def refused(ch, pb, svc, what):
    """The first call on `ch` fails with UNAVAILABLE."""
    try:
        svc.GRPCInferenceServiceStub(ch).ServerLive(pb.ServerLiveRequest(), timeout=10)
        fail("%s: the call succeeded" % what)
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.UNAVAILABLE:
            fail("%s: %s %s" % (what, e.code(), e.details()))
        print("refused as expected (%s): %s" % (what, e.details()))
    ch.close()


def exercise(ch, pb, svc):
    s = svc.GRPCInferenceServiceStub(ch)
    if not s.ServerLive(pb.ServerLiveRequest()).live:
        fail("not live")
    if s.ServerMetadata(pb.ServerMetadataRequest()).name != "triton":
        fail("server metadata")
    md = s.ModelMetadata(pb.ModelMetadataRequest(name="simple"))
    if [i.name for i in md.inputs] != ["INPUT0", "INPUT1"]:
        fail("model metadata")

    def simple(rid):
        r = pb.ModelInferRequest(model_name="simple", id=rid)
        for n in ("INPUT0", "INPUT1"):
            t = r.inputs.add()
            t.name, t.datatype = n, "INT32"
            t.shape.extend([1, 16])
        r.raw_input_contents.append(np.arange(16, dtype=np.int32).tobytes())
        r.raw_input_contents.append(np.ones(16, dtype=np.int32).tobytes())
        return r

    for comp in (grpc.Compression.NoCompression, grpc.Compression.Gzip):
        resp = s.ModelInfer(simple("1"), compression=comp)
        out0 = np.frombuffer(resp.raw_output_contents[0], dtype=np.int32)
        if resp.id != "1" or list(out0) != list(range(1, 17)):
            fail("ModelInfer result")
    # A large message crosses many TLS records.
    big = pb.ModelInferRequest(model_name="simple", id="big")
    for n in ("INPUT0", "INPUT1"):
        t = big.inputs.add()
        t.name, t.datatype = n, "INT32"
        t.shape.extend([8, 16])
    big.raw_input_contents.append(np.arange(128, dtype=np.int32).tobytes())
    big.raw_input_contents.append(np.ones(128, dtype=np.int32).tobytes())
    resp = s.ModelInfer(big)
    if list(np.frombuffer(resp.raw_output_contents[0], dtype=np.int32)) != \
            list(range(1, 129)):
        fail("batched ModelInfer result")
    reqs = [simple(str(i)) for i in range(5)]
    got = list(s.ModelStreamInfer(iter(reqs)))
    if [g.infer_response.id for g in got] != ["0", "1", "2", "3", "4"]:
        fail("stream ids %s" % [g.infer_response.id for g in got])
    if any(g.error_message for g in got):
        fail("stream error %s" % [g.error_message for g in got])
    ch.close()


def main():
    binary, models, proto_dir = sys.argv[1:4]
    out = tempfile.mkdtemp(prefix="tc_grpc_py_tls_")
    try:
        run(binary, models, proto_dir, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print("OK")


def run(binary, models, proto_dir, out):
    compile_protos(proto_dir, out)
    import grpc_service_pb2 as pb  # noqa: E402
    import grpc_service_pb2_grpc as svc  # noqa: E402

    certs = make_certs(out)
    cert = ["--grpc-use-ssl=true", "--grpc-server-cert=" + os.path.join(out, "server.pem"),
            "--grpc-server-key=" + os.path.join(out, "server.key")]

    # Server TLS only.
    proc, port = start_server(binary, models, cert)
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=certs["ca.pem"])
        exercise(grpc.secure_channel("localhost:%d" % port, creds), pb, svc)
        # 127.0.0.1 is in the certificate's subjectAltName too.
        exercise(grpc.secure_channel("127.0.0.1:%d" % port, creds), pb, svc)
        other = grpc.ssl_channel_credentials(root_certificates=certs["other-ca.pem"])
        refused(grpc.secure_channel("localhost:%d" % port, other), pb, svc, "unknown CA")
        refused(grpc.insecure_channel("localhost:%d" % port), pb, svc, "plaintext channel")
        # The server still serves after the refused connections.
        exercise(grpc.secure_channel("localhost:%d" % port, creds), pb, svc)
    finally:
        stop_server(proc)

    # Mutual TLS.
    mutual = cert + ["--grpc-use-ssl-mutual=true",
                     "--grpc-root-cert=" + os.path.join(out, "ca.pem")]
    proc, port = start_server(binary, models, mutual)
    try:
        good = grpc.ssl_channel_credentials(root_certificates=certs["ca.pem"],
                                            private_key=certs["client.key"],
                                            certificate_chain=certs["client.pem"])
        exercise(grpc.secure_channel("localhost:%d" % port, good), pb, svc)
        none = grpc.ssl_channel_credentials(root_certificates=certs["ca.pem"])
        refused(grpc.secure_channel("localhost:%d" % port, none), pb, svc,
                "no client certificate")
        rogue = grpc.ssl_channel_credentials(root_certificates=certs["ca.pem"],
                                             private_key=certs["rogue.key"],
                                             certificate_chain=certs["rogue.pem"])
        refused(grpc.secure_channel("localhost:%d" % port, rogue), pb, svc,
                "client certificate from another CA")
        exercise(grpc.secure_channel("localhost:%d" % port, good), pb, svc)
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
