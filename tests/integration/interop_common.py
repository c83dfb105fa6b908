"""Shared by the grpcio interop tests: Python stubs generated from our own
.proto files, and a throw-away TLS PKI made with the openssl tool.

Import only after the caller has checked that grpc_tools and openssl exist
(those tests exit 77, skipped, otherwise)."""
import os
import subprocess
import sys

from grpc_tools import protoc

CONFIG = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = tritonc test
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
"""


def compile_protos(proto_dir, out, names=("grpc_service", "model_config")):
    """Generate <name>_pb2 (and _pb2_grpc) modules into `out` and make them
    importable; exits 1 when protoc fails."""
    rc = protoc.main(["protoc", "-I" + proto_dir, "--python_out=" + out,
                      "--grpc_python_out=" + out] +
                     [os.path.join(proto_dir, n + ".proto") for n in names])
    if rc != 0:
        print("FAIL: protoc failed")
        sys.exit(1)
    sys.path.insert(0, out)


def make_certs(d):
    """Two CAs ("ca", "other-ca"); signed by "ca": "server" (localhost and
    127.0.0.1) and "client"; signed by "other-ca": "rogue" (a client). Files
    NAME.pem / NAME.key in `d`; returns their bytes by file name. Exits 1
    when openssl fails."""
    with open(os.path.join(d, "tls.cnf"), "w", encoding="utf-8") as f:
        f.write(CONFIG)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args):
        r = subprocess.run(["openssl"] + list(args), cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, check=False)
        if r.returncode != 0:
            print("FAIL: openssl %s: %s" % (" ".join(args), r.stdout))
            sys.exit(1)

    for ca in ("ca", "other-ca"):
        openssl("req", "-config", "tls.cnf", "-x509", *key, "-keyout", ca + ".key",
                "-out", ca + ".pem", "-days", "2", "-extensions", "v3_ca",
                "-subj", "/CN=tritonc " + ca)
    serial = 2
    for name, ca, ext in (("server", "ca", "server"), ("client", "ca", "client"),
                          ("rogue", "other-ca", "client")):
        openssl("req", "-config", "tls.cnf", "-new", *key, "-keyout", name + ".key",
                "-out", name + ".csr", "-subj",
                "/CN=localhost" if name == "server" else "/CN=tritonc " + name)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey",
                ca + ".key", "-set_serial", str(serial), "-days", "2", "-extfile", "tls.cnf",
                "-extensions", ext, "-out", name + ".pem")
        serial += 1

    def read(n):
        with open(os.path.join(d, n), "rb") as f:
            return f.read()
    return {n: read(n) for n in ("ca.pem", "other-ca.pem", "server.pem", "server.key",
                                 "client.pem", "client.key", "rogue.pem", "rogue.key")}
