#!/usr/bin/python3
"""Our gRPC client library against a stock gRPC server: Debian's
python3-grpcio (gRPC core, as Triton's own server). The reverse of
grpc_python_interop.py: stubs are generated from our proto/*.proto into a
temporary directory, a small GRPCInferenceService servicer serves the
models "simple" (INT32 add/sub), "repeat_int32" (decoupled, on the stream)
and "slow" (sleeps 2 s), with the configs read from MODELS_DIR; then our
gRPC examples and grpc_peer_client call it:
- plain: health/metadata/config, infer (raw, gzip and deflate requests,
  typed contents), async, the decoupled stream, keepalive and channel
  argument options, an unknown model, a client deadline;
- the server compressing every response with gzip (and a byte count
  through a relay showing the responses were smaller on the wire);
- TLS (a test CA made with `openssl`), ALPN h2, and a CA that must fail.

Usage: grpc_python_server_interop.py EXAMPLES_DIR PEER_CLIENT PROTO_DIR MODELS_DIR
TC_INTEROP_VERBOSE=1 prints every client's output.
Exit 0 when every check passes, 1 else, 77 (skip) when grpcio, grpc_tools
or openssl is missing."""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

try:
    import grpc
    from google.protobuf import text_format
    from grpc_tools import protoc  # noqa: F401 (interop_common needs it)
except ImportError:
    print("python3-grpcio / python3-grpc-tools not installed: skipping")
    sys.exit(77)

if shutil.which("openssl") is None:
    print("the openssl command line tool is not installed: skipping")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from interop_common import compile_protos, make_certs  # noqa: E402

FINAL = "triton_final_response"
EMPTY_FINAL = "triton_enable_empty_final_response"
DTYPE_SIZE = {"INT32": 4, "UINT32": 4}

failures = []


def check(name, ok, detail=""):
    print("%s: %s" % ("PASS" if ok else "FAIL", name))
    if not ok:
        failures.append(name)
        if detail:
            print("  " + detail.rstrip().replace("\n", "\n  "))


class InferError(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code
        self.msg = msg


def make_servicer(pb, mc, svc, models_dir):
    configs = {}
    for name in ("simple", "repeat_int32"):
        cfg = mc.ModelConfig()
        with open(os.path.join(models_dir, name, "config.pbtxt"), encoding="utf-8") as f:
            text_format.Parse(f.read(), cfg)
        configs[name] = cfg
    dtype = {v: k[len("TYPE_"):] for k, v in mc.DataType.items()}

    class Servicer(svc.GRPCInferenceServiceServicer):
        def __init__(self):
            self.lock = threading.Lock()
            self.count = {n: 0 for n in configs}
            self.deadlines = []  # time_remaining() seen by "slow"

        def model(self, name, context=None):
            if name not in configs:
                msg = "Request for unknown model: '%s' is not found" % name
                if context is None:
                    raise InferError(grpc.StatusCode.NOT_FOUND, msg)
                context.abort(grpc.StatusCode.NOT_FOUND, msg)
            return configs[name]

        def ServerLive(self, request, context):
            return pb.ServerLiveResponse(live=True)

        def ServerReady(self, request, context):
            return pb.ServerReadyResponse(ready=True)

        def ModelReady(self, request, context):
            self.model(request.name, context)
            return pb.ModelReadyResponse(ready=True)

        def ServerMetadata(self, request, context):
            return pb.ServerMetadataResponse(
                name="triton", version="2.0.0",
                extensions=["classification", "sequence", "model_repository",
                            "schedule_policy", "model_configuration", "binary_tensor_data",
                            "parameters", "statistics"])

        def ModelMetadata(self, request, context):
            cfg = self.model(request.name, context)
            r = pb.ModelMetadataResponse(name=cfg.name, versions=["1"],
                                         platform=cfg.platform or cfg.backend)
            batch = [-1] if cfg.max_batch_size > 0 else []
            for src, dst in ((cfg.input, r.inputs), (cfg.output, r.outputs)):
                for t in src:
                    dst.add(name=t.name, datatype=dtype[t.data_type],
                            shape=batch + list(t.dims))
            return r

        def ModelConfig(self, request, context):
            return pb.ModelConfigResponse(config=self.model(request.name, context))

        def ModelStatistics(self, request, context):
            r = pb.ModelStatisticsResponse()
            with self.lock:
                for name in ([request.name] if request.name else sorted(configs)):
                    self.model(name, context)
                    n = self.count[name]
                    s = r.model_stats.add(name=name, version="1", inference_count=n,
                                          execution_count=n)
                    s.inference_stats.success.count = n
            return r

        def inputs(self, req, cfg):
            """{name: (datatype, shape, bytes)}, checked against the config."""
            typed = [t.name for t in req.inputs if t.HasField("contents")]
            if typed and req.raw_input_contents:
                raise InferError(grpc.StatusCode.INVALID_ARGUMENT,
                                 "contents field must not be specified when using "
                                 "raw_input_contents for '%s' for model '%s'"
                                 % (typed[0], req.model_name))
            if not typed and len(req.raw_input_contents) != len(req.inputs):
                raise InferError(grpc.StatusCode.INVALID_ARGUMENT,
                                 "expected %d raw_input_contents, got %d"
                                 % (len(req.inputs), len(req.raw_input_contents)))
            want = {t.name: t for t in cfg.input}
            out = {}
            for i, t in enumerate(req.inputs):
                if t.name not in want or t.datatype != dtype[want[t.name].data_type]:
                    raise InferError(grpc.StatusCode.INVALID_ARGUMENT,
                                     "unexpected input '%s' (%s) for model '%s'"
                                     % (t.name, t.datatype, req.model_name))
                if typed:
                    c = t.contents
                    vals = c.int_contents if t.datatype == "INT32" else c.uint_contents
                    data = struct.pack("<%d%s" % (len(vals), "i" if t.datatype == "INT32"
                                                  else "I"), *vals)
                else:
                    data = req.raw_input_contents[i]
                n = 1
                for d in t.shape:
                    n *= d
                if len(data) != n * DTYPE_SIZE[t.datatype]:
                    raise InferError(grpc.StatusCode.INVALID_ARGUMENT,
                                     "input '%s' has %d bytes for shape %s"
                                     % (t.name, len(data), list(t.shape)))
                out[t.name] = (t.datatype, list(t.shape), data)
            missing = set(want) - set(out)
            if missing:
                raise InferError(grpc.StatusCode.INVALID_ARGUMENT,
                                 "missing inputs %s for model '%s'"
                                 % (sorted(missing), req.model_name))
            return out

        def response(self, req, outputs, final=None):
            r = pb.ModelInferResponse(model_name=req.model_name, model_version="1", id=req.id)
            asked = [o.name for o in req.outputs]
            for name, datatype, shape, data in outputs:
                if asked and name not in asked:
                    continue
                r.outputs.add(name=name, datatype=datatype, shape=shape)
                r.raw_output_contents.append(data)
            if final is not None:
                r.parameters[FINAL].bool_param = final
            return r

        def simple(self, req, final=None):
            cfg = self.model(req.model_name)
            if cfg.model_transaction_policy.decoupled:
                raise InferError(grpc.StatusCode.UNIMPLEMENTED,
                                 "ModelInfer RPC doesn't support models with decoupled "
                                 "transaction policy")
            ins = self.inputs(req, cfg)
            shape = ins["INPUT0"][1]
            if shape != ins["INPUT1"][1] or len(shape) != 2 or shape[1] != 16 or \
                    not 1 <= shape[0] <= cfg.max_batch_size:
                raise InferError(grpc.StatusCode.INVALID_ARGUMENT,
                                 "unexpected shape %s for model 'simple'" % shape)
            n = shape[0] * 16
            a = struct.unpack("<%di" % n, ins["INPUT0"][2])
            b = struct.unpack("<%di" % n, ins["INPUT1"][2])
            wrap = lambda v: (v + 2**31) % 2**32 - 2**31  # noqa: E731 (int32 overflow)
            add = struct.pack("<%di" % n, *[wrap(x + y) for x, y in zip(a, b)])
            sub = struct.pack("<%di" % n, *[wrap(x - y) for x, y in zip(a, b)])
            with self.lock:
                self.count["simple"] += 1
            return self.response(req, [("OUTPUT0", "INT32", shape, add),
                                       ("OUTPUT1", "INT32", shape, sub)], final)

        def ModelInfer(self, request, context):
            if request.model_name == "slow":
                with self.lock:
                    self.deadlines.append(context.time_remaining())
                end = time.monotonic() + 2
                while context.is_active() and time.monotonic() < end:
                    time.sleep(0.02)
                return pb.ModelInferResponse(model_name="slow", id=request.id)
            try:
                return self.simple(request)
            except InferError as e:
                context.abort(e.code, e.msg)

        def repeat(self, req):
            cfg = self.model(req.model_name)
            ins = self.inputs(req, cfg)
            n = ins["IN"][1][0]
            if ins["DELAY"][1] != [n] or ins["WAIT"][1] != [1]:
                raise InferError(grpc.StatusCode.INVALID_ARGUMENT,
                                 "IN and DELAY must have the same length")
            vals = struct.unpack("<%di" % n, ins["IN"][2])
            delays = struct.unpack("<%dI" % n, ins["DELAY"][2])
            wait = struct.unpack("<I", ins["WAIT"][2])[0]
            for i in range(n):
                time.sleep(delays[i] / 1000.0)
                yield self.response(req, [("OUT", "INT32", [1], struct.pack("<i", vals[i])),
                                          ("IDX", "UINT32", [1], struct.pack("<I", i))], False)
            time.sleep(wait / 1000.0)
            p = req.parameters.get(EMPTY_FINAL)
            if p is not None and p.bool_param:
                yield self.response(req, [], True)

        def ModelStreamInfer(self, request_iterator, context):
            for req in request_iterator:
                try:
                    if req.model_name == "repeat_int32":
                        for r in self.repeat(req):
                            yield pb.ModelStreamInferResponse(infer_response=r)
                    else:
                        yield pb.ModelStreamInferResponse(infer_response=self.simple(req, True))
                except InferError as e:
                    yield pb.ModelStreamInferResponse(
                        error_message=e.msg, infer_response=pb.ModelInferResponse(id=req.id))

    return Servicer()


class Relay:
    """A TCP relay 127.0.0.1:port -> target that counts the bytes the
    server sent, to see whether responses were compressed on the wire."""

    def __init__(self, target_port):
        self.target = target_port
        self.down = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.pipe, args=(c, s, False), daemon=True).start()
            threading.Thread(target=self.pipe, args=(s, c, True), daemon=True).start()

    def pipe(self, src, dst, count):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if count:
                    with self.lock:
                        self.down += len(b)
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.sock.close()


def run(argv, what, expect, env=None, timeout=60):
    """Run one client; check its exit status 0 and `expect` in its stdout."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, check=False, env=env)
        out, rc = r.stdout, r.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        out, rc = out or "", "timeout"
    ok = rc == 0 and expect in out
    check(what, ok, "%s -> exit %s\n%s" % (" ".join(argv), rc, out))
    if ok and os.environ.get("TC_INTEROP_VERBOSE"):
        print("  " + out.rstrip().replace("\n", "\n  "))
    return out


def start(servicer, svc, compression=None, creds=None):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), compression=compression)
    svc.add_GRPCInferenceServiceServicer_to_server(servicer, server)
    if creds is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port("127.0.0.1:0", creds)
    if port == 0:
        print("FAIL: grpcio could not bind 127.0.0.1:0")
        sys.exit(1)
    server.start()  # the port is bound: clients may connect at once
    return server, port


def main():
    examples, peer, proto_dir, models_dir = sys.argv[1:5]
    tmp = tempfile.mkdtemp(prefix="tc_grpc_pysrv_")
    try:
        scenarios(examples, peer, proto_dir, models_dir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed: %s" % (len(failures), ", ".join(failures)))
        sys.exit(1)
    print("OK")


def scenarios(examples, peer, proto_dir, models_dir, tmp):
    compile_protos(proto_dir, tmp)
    import grpc_service_pb2 as pb  # noqa: E402
    import grpc_service_pb2_grpc as svc  # noqa: E402
    import model_config_pb2 as mc  # noqa: E402

    def ex(name):
        return os.path.join(examples, name)

    servicer = make_servicer(pb, mc, svc, models_dir)
    wire = {}

    # 1. Plain text, no compression from the server.
    server, port = start(servicer, svc)
    url = "127.0.0.1:%d" % port
    try:
        run([ex("simple_grpc_health_metadata"), "-u", url], "plain: health and metadata",
            "PASS: Health Metadata")
        out = run([ex("simple_grpc_infer_client"), "-u", url], "plain: infer", "PASS: infer")
        check("plain: infer unknown model is NOT_FOUND", "expected error (TC_E_NOT_FOUND): "
              "Request for unknown model: 'wrong_model_name' is not found" in out, out)
        run([ex("simple_grpc_infer_client"), "-u", url, "-C", "gzip"],
            "plain: infer, gzip request", "PASS: infer")
        run([ex("simple_grpc_infer_client"), "-u", url, "-C", "deflate"],
            "plain: infer, deflate request", "PASS: infer")
        run([ex("grpc_explicit_int_content_client"), "-u", url], "plain: typed int contents",
            "PASS: explicit int content")
        run([ex("simple_grpc_async_infer_client"), "-u", url], "plain: async infer",
            "PASS: Async infer")
        run([ex("simple_grpc_custom_repeat"), "-u", url], "plain: decoupled stream",
            "PASS: repeat_int32")
        run([ex("simple_grpc_custom_repeat"), "-u", url, "-r", "200", "-d", "0"],
            "plain: decoupled stream, 200 responses", "PASS: repeat_int32")
        run([ex("simple_grpc_keepalive_client"), "-u", url], "plain: keepalive options",
            "PASS: KeepAlive")
        run([ex("simple_grpc_custom_args_client"), "-u", url], "plain: channel arguments",
            "PASS")
        run([peer, url, "notfound"], "plain: unknown model via grpc_peer_client",
            "PASS: notfound")
        run([peer, url, "deadline"], "plain: 300 ms client deadline on a 2 s call",
            "PASS: deadline")
        with servicer.lock:
            seen = list(servicer.deadlines)
        check("plain: the server saw the grpc-timeout (time_remaining <= 0.3 s)",
              len(seen) == 1 and seen[0] is not None and 0 < seen[0] <= 0.3, repr(seen))
        relay = Relay(port)
        run([peer, "127.0.0.1:%d" % relay.port, "infer"], "plain: infer through a relay",
            "PASS: infer")
        wire["identity"] = relay.down
        relay.close()
    finally:
        server.stop(grace=None)

    # 2. The server compresses every response with gzip.
    server, port = start(servicer, svc, compression=grpc.Compression.Gzip)
    url = "127.0.0.1:%d" % port
    try:
        run([ex("simple_grpc_health_metadata"), "-u", url], "gzip: health and metadata",
            "PASS: Health Metadata")
        run([ex("simple_grpc_infer_client"), "-u", url], "gzip: infer", "PASS: infer")
        run([ex("simple_grpc_infer_client"), "-u", url, "-C", "gzip"],
            "gzip: infer, gzip request", "PASS: infer")
        run([ex("simple_grpc_async_infer_client"), "-u", url], "gzip: async infer",
            "PASS: Async infer")
        run([ex("simple_grpc_custom_repeat"), "-u", url], "gzip: decoupled stream",
            "PASS: repeat_int32")
        relay = Relay(port)
        run([peer, "127.0.0.1:%d" % relay.port, "infer"], "gzip: infer through a relay",
            "PASS: infer")
        wire["gzip"] = relay.down
        relay.close()
        check("gzip: responses were compressed on the wire (%d bytes vs %d identity)"
              % (wire["gzip"], wire["identity"]),
              0 < wire["gzip"] < wire["identity"] - 500, repr(wire))
    finally:
        server.stop(grace=None)

    # 3. TLS with a test CA (ALPN h2 is grpcio's own).
    make_certs(tmp)
    with open(os.path.join(tmp, "server.key"), "rb") as f:
        key = f.read()
    with open(os.path.join(tmp, "server.pem"), "rb") as f:
        cert = f.read()
    ca = os.path.join(tmp, "ca.pem")
    creds = grpc.ssl_server_credentials([(key, cert)])
    server, port = start(servicer, svc, compression=grpc.Compression.Gzip, creds=creds)
    url = "grpcs://127.0.0.1:%d" % port
    # The examples have no certificate flags: they trust the system's store,
    # which OpenSSL lets SSL_CERT_FILE replace.
    env = dict(os.environ, SSL_CERT_FILE=ca)
    try:
        run([peer, "127.0.0.1:%d" % port, "infer", ca], "tls: infer (root certificates set)",
            "PASS: infer")
        # By name (SNI, the DNS name checked) where localhost is 127.0.0.1 first:
        # the server listens on 127.0.0.1 only.
        first = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)[0][4][0]
        if first == "127.0.0.1":
            run([peer, "localhost:%d" % port, "infer", ca],
                "tls: infer by host name (SNI, DNS name checked)", "PASS: infer")
        else:
            print("SKIP: tls: infer by host name: localhost is %s first" % first)
        run([peer, "127.0.0.1:%d" % port, "deadline", ca], "tls: 300 ms client deadline",
            "PASS: deadline")
        run([peer, "127.0.0.1:%d" % port, "badca", os.path.join(tmp, "other-ca.pem")],
            "tls: a CA that did not sign the server's certificate is refused", "PASS: badca")
        run([ex("simple_grpc_health_metadata"), "-u", url], "tls: health and metadata",
            "PASS: Health Metadata", env=env)
        run([ex("simple_grpc_infer_client"), "-u", url, "-C", "gzip"], "tls: infer",
            "PASS: infer", env=env)
        run([ex("simple_grpc_async_infer_client"), "-u", url], "tls: async infer",
            "PASS: Async infer", env=env)
        run([ex("simple_grpc_custom_repeat"), "-u", url], "tls: decoupled stream",
            "PASS: repeat_int32", env=env)
    finally:
        server.stop(grace=None)


if __name__ == "__main__":
    main()
