#!/usr/bin/python3
"""Check deploy/: the Kubernetes manifests parse and hold what docs/DEPLOY.md
promises, every server flag they pass exists, and the Containerfile builds
with the commands `make build` runs. Container engines cannot run in CI, so
this is the check that keeps the files honest.

Usage: check_deploy.py SOURCE_DIR [TRITONC_SERVER_BINARY]
Exit 0 = fine, 1 = a problem (printed), 77 = skipped (no python3-yaml).
"""
import glob
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("python3-yaml is not installed: skipping")
    sys.exit(77)

problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)


def load_all(k8s_dir):
    docs = []
    for path in sorted(glob.glob(os.path.join(k8s_dir, "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            try:
                for doc in yaml.safe_load_all(f):
                    if doc is not None:
                        docs.append((os.path.basename(path), doc))
            except yaml.YAMLError as e:
                problems.append(f"{path}: not valid YAML: {e}")
    return docs


def by_kind(docs, kind):
    return [d for _, d in docs if isinstance(d, dict) and d.get("kind") == kind]


def http_path(probe):
    return (probe or {}).get("httpGet", {}).get("path")


def flag_value(args, name):
    for a in args:
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return None


def check_deployment(dep, server_flags):
    spec = dep["spec"]["template"]["spec"]
    containers = spec["containers"]
    check(len(containers) == 1, "Deployment: expected one container")
    c = containers[0]
    ports = {p["containerPort"]: p.get("name") for p in c.get("ports", [])}
    for port in (8000, 8001, 8002):
        check(port in ports, f"Deployment: containerPort {port} missing")
    check(http_path(c.get("livenessProbe")) == "/v2/health/live",
          "Deployment: livenessProbe must GET /v2/health/live")
    check(http_path(c.get("readinessProbe")) == "/v2/health/ready",
          "Deployment: readinessProbe must GET /v2/health/ready")
    check(http_path(c.get("startupProbe")) is not None, "Deployment: startupProbe missing")
    res = c.get("resources", {})
    check("requests" in res and "limits" in res, "Deployment: resources need requests and limits")
    args = c.get("args", [])
    check(flag_value(args, "model-repository") is not None,
          "Deployment: --model-repository missing")
    for port, name in ((8000, "http-port"), (8001, "grpc-port"), (8002, "metrics-port")):
        v = flag_value(args, name)
        check(v is None or int(v) == port, f"Deployment: --{name}={v} but containerPort {port}")
    # The pod must outlive preStop + the server's own drain.
    exit_timeout = int(flag_value(args, "exit-timeout-secs") or 30)
    pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    sleep_s = int(pre_stop[1]) if len(pre_stop) == 2 and pre_stop[0] == "sleep" else 0
    grace = int(spec.get("terminationGracePeriodSeconds", 30))
    check(grace > exit_timeout + sleep_s,
          f"Deployment: terminationGracePeriodSeconds {grace} <= preStop {sleep_s} + "
          f"--exit-timeout-secs {exit_timeout}")
    check_flags("Deployment", args, server_flags)
    return dep["metadata"]["name"], dep["spec"]["selector"]["matchLabels"]


def check_flags(where, args, server_flags):
    if server_flags is None:
        return
    for a in args:
        m = re.match(r"--([a-z0-9-]+)", a)
        check(m is not None and m.group(1) in server_flags,
              f"{where}: tritonc-server has no flag '{a}'")


def check_services(services, selector):
    ports = set()
    headless = False
    for s in services:
        check(s["spec"].get("selector") == selector,
              f"Service {s['metadata']['name']}: selector does not match the Deployment")
        ports.update(p["port"] for p in s["spec"]["ports"])
        headless = headless or s["spec"].get("clusterIP") == "None"
    for port in (8000, 8001, 8002):
        check(port in ports, f"Service: port {port} missing")
    check(headless, "Service: a headless Service (clusterIP: None) for gRPC client balancing")


def check_hpa(hpas, deployment_name, adapter):
    check(len(hpas) == 1, "HorizontalPodAutoscaler: expected one")
    if not hpas:
        return
    hpa = hpas[0]
    check(hpa["apiVersion"] == "autoscaling/v2", "HPA: use autoscaling/v2")
    check(hpa["spec"]["scaleTargetRef"]["name"] == deployment_name, "HPA: wrong scale target")
    names = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    check(len(names) == 1, "HPA: expected one Pods metric")
    published = set()
    for rule in (adapter or {}).get("rules", {}).get("custom", []):
        published.add(rule["name"]["as"])
        check("nv_inference_queue_duration_us" in rule["seriesQuery"],
              "adapter rule: must read nv_inference_queue_duration_us")
    for n in names:
        check(n in published, f"HPA metric {n} is not published by prometheus-adapter-rules.yaml")


def check_serving_runtime(runtimes, server_flags):
    check(len(runtimes) == 1, "ServingRuntime: expected one")
    if not runtimes:
        return
    spec = runtimes[0]["spec"]
    check(set(spec.get("protocolVersions", [])) >= {"v2", "grpc-v2"},
          "ServingRuntime: protocolVersions must declare v2 and grpc-v2")
    formats = [f["name"] for f in spec.get("supportedModelFormats", [])]
    check("onnx" in formats, "ServingRuntime: supportedModelFormats must include onnx")
    c = spec["containers"][0]
    check(c["name"] == "kserve-container", "ServingRuntime: container must be kserve-container")
    check(flag_value(c.get("args", []), "model-repository") == "/mnt/models",
          "ServingRuntime: --model-repository must be /mnt/models (KServe's mount)")
    check_flags("ServingRuntime", c.get("args", []), server_flags)


def check_containerfile(src):
    with open(os.path.join(src, "deploy", "Containerfile"), encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(src, "Makefile"), encoding="utf-8") as f:
        makefile = f.read()
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
    check(len(froms) >= 2, "Containerfile: expected a build and a runtime stage")
    for image, _ in froms:
        check(re.match(r"debian:(12|bookworm)(-slim)?$", image) is not None,
              f"Containerfile: base image {image} is not Debian 12")
    check(re.search(r"^RUN .*\bmake build\b", text, re.M) is not None,
          "Containerfile: the build stage must run `make build`")
    # `make build` configures the release preset into build/release.
    build_rule = re.search(r"^build:.*\n((?:\t.*\n)+)", makefile, re.M)
    check(build_rule is not None and "--preset release" in build_rule.group(1),
          "Makefile: build no longer uses the release preset; update the Containerfile")
    check("cmake --install build/release" in text,
          "Containerfile: install from build/release, where `make build` builds")
    for port in ("8000", "8001", "8002"):
        check(re.search(rf"^EXPOSE .*\b{port}\b", text, re.M) is not None,
              f"Containerfile: EXPOSE {port}")


def server_flag_names(binary):
    if binary is None or not os.access(binary, os.X_OK):
        return None
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False).stdout
    return set(re.findall(r"^\s+--([a-z0-9-]+)", out, re.M))


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 1
    src = sys.argv[1]
    server_flags = server_flag_names(sys.argv[2] if len(sys.argv) > 2 else None)
    k8s = os.path.join(src, "deploy", "k8s")
    docs = load_all(k8s)
    deployments = by_kind(docs, "Deployment")
    check(len(deployments) == 1, "expected one Deployment")
    if deployments:
        name, selector = check_deployment(deployments[0], server_flags)
        check_services(by_kind(docs, "Service"), selector)
        adapter = next((d for f, d in docs if f == "prometheus-adapter-rules.yaml"), None)
        check(adapter is not None, "prometheus-adapter-rules.yaml missing")
        check_hpa(by_kind(docs, "HorizontalPodAutoscaler"), name, adapter)
    check_serving_runtime(by_kind(docs, "ServingRuntime"), server_flags)
    kust = next((d for f, d in docs if f == "kustomization.yaml"), None)
    if kust is not None:
        for r in kust.get("resources", []):
            check(os.path.exists(os.path.join(k8s, r)), f"kustomization: {r} does not exist")
    check_containerfile(src)
    for p in problems:
        print("deploy: " + p)
    if not problems:
        print(f"deploy: {len(docs)} YAML documents checked"
              + ("" if server_flags is not None else " (server flags not checked)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
