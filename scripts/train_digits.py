#!/usr/bin/python3
"""Train the small `digits_onnx` classifier offline and export it to ONNX.

Everything comes from Debian packages, nothing is downloaded:
  * data:     the UCI handwritten digits (8x8, values 0..16) bundled in
              python3-sklearn (sklearn.datasets.load_digits reads
              sklearn/datasets/data/digits.csv.gz from the package);
  * training: python3-torch (1.13), CPU, fixed seeds, one thread;
  * export:   torch.onnx.export, opset 13; checked with python3-onnx.

Pipeline: load -> fixed permutation, last 20% held out -> upscale 8x8 to
28x28 bilinearly, scale 0..16 to 0..255 and round to 8-bit (exactly what a
PNG holds) -> train a small CNN -> evaluate on the held-out split -> export
ONNX -> write config.pbtxt, labels.txt, README.md, 10 held-out test PNGs,
expected.txt and reference.txt -> read the PNGs back and check the exported
model (both its torch twin and an independent numpy evaluation of the ONNX
graph) against what was recorded.

The model takes raw pixel values 0..255 (FP32, NCHW [N,1,28,28], dynamic N)
and multiplies by 1/255 as its first op, so a client can send pixels with
no scaling. Output `probabilities` is softmax over the 10 digits, [N,10].
Ops used: Mul, Conv, Relu, MaxPool, Flatten, Gemm, Softmax.

Usage:
  /usr/bin/python3 scripts/train_digits.py --out tools/digits
    (writes <out>/digits_onnx/{config.pbtxt,labels.txt,README.md,1/model.onnx},
     <out>/images/{digit_<label>_<n>.png,expected.txt}, <out>/reference.txt)
"""

import argparse
import os
import struct
import sys
import time
import zlib

import numpy as np

SEED = 20240601
HELD_OUT_FRACTION = 0.2
SIZE = 28
EPOCHS = 80
BATCH = 32
LR = 3e-3
MODEL_NAME = "digits_onnx"
LABELS = [str(i) for i in range(10)]
OPSET = 13
ALLOWED_OPS = {"Conv", "Relu", "MaxPool", "Flatten", "Reshape", "Gemm",
               "MatMul", "Add", "Softmax", "Mul"}


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------

def load_data():
    from sklearn.datasets import load_digits
    d = load_digits()
    x = d.images.astype(np.float32)  # [1797, 8, 8], 0..16
    y = d.target.astype(np.int64)
    return x, y


def split(n):
    perm = np.random.RandomState(SEED).permutation(n)
    n_test = int(round(n * HELD_OUT_FRACTION))
    return perm[: n - n_test], perm[n - n_test:]


def upscale_to_u8(images8):
    """8x8 values 0..16 -> 28x28 uint8 0..255 (bilinear, half-pixel centers)."""
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(images8).unsqueeze(1)  # [N,1,8,8]
    up = F.interpolate(t, size=(SIZE, SIZE), mode="bilinear",
                       align_corners=False)
    up = up * (255.0 / 16.0)
    return np.clip(np.rint(up.squeeze(1).numpy()), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------

def build_model():
    import torch
    import torch.nn as nn

    class DigitsNet(nn.Module):
        def __init__(self):
            super().__init__()
            # A 1-element buffer (not a Python scalar) so the export holds it
            # as an initializer of a Mul node rather than a Constant node.
            self.register_buffer("scale",
                                 torch.tensor([1.0 / 255.0], dtype=torch.float32))
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc1 = nn.Linear(16 * 7 * 7, 32)
            self.fc2 = nn.Linear(32, 10)
            self.relu = nn.ReLU()

        def logits(self, x):
            x = x * self.scale                               # Mul
            x = self.pool(self.relu(self.conv1(x)))          # [N,8,14,14]
            x = self.pool(self.relu(self.conv2(x)))          # [N,16,7,7]
            x = torch.flatten(x, 1)                          # Flatten
            x = self.relu(self.fc1(x))                       # Gemm, Relu
            return self.fc2(x)                               # Gemm

        def forward(self, x):
            return torch.softmax(self.logits(x), dim=1)      # Softmax

    return DigitsNet()


def augment(xb, gen):
    """Random integer shifts of up to 2 pixels (zero fill), per sample."""
    import torch
    n = xb.shape[0]
    shifts = torch.randint(-2, 3, (n, 2), generator=gen)
    out = torch.zeros_like(xb)
    for i in range(n):
        dy, dx = int(shifts[i, 0]), int(shifts[i, 1])
        ys, yd = (slice(0, SIZE - dy), slice(dy, SIZE)) if dy >= 0 else \
            (slice(-dy, SIZE), slice(0, SIZE + dy))
        xs, xd = (slice(0, SIZE - dx), slice(dx, SIZE)) if dx >= 0 else \
            (slice(-dx, SIZE), slice(0, SIZE + dx))
        out[i, :, yd, xd] = xb[i, :, ys, xs]
    return out


def train(model, x_train, y_train):
    import torch
    import torch.nn.functional as F
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    n = x_train.shape[0]
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            xb = augment(x_train[idx], gen)
            yb = y_train[idx]
            logits = model.logits(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
        sched.step()
        if epoch % 5 == 4 or epoch == EPOCHS - 1:
            print(f"  epoch {epoch + 1:2d}/{EPOCHS}: loss {loss_sum / total:.4f} "
                  f"train acc {correct / total:.4f}", flush=True)


# --------------------------------------------------------------------------
# PNG (8-bit grayscale), written and read without extra dependencies
# --------------------------------------------------------------------------

def write_png_gray(path, img):
    img = np.asarray(img, dtype=np.uint8)
    h, w = img.shape

    def chunk(tag, data):
        body = tag + data
        return (struct.pack(">I", len(data)) + body +
                struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))  # filter 0
    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(raw, 9)) +
           chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def read_png_gray(path):
    """Read a PNG as 8-bit grayscale (PIL if present, else a minimal decoder
    for the 8-bit grayscale, non-interlaced files this script writes)."""
    try:
        from PIL import Image
        with Image.open(path) as im:
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except ImportError:
        pass
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 0 and interlace == 0
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    out = np.zeros((h, w), dtype=np.uint8)
    prev = np.zeros(w, dtype=np.int32)
    for r in range(h):
        ft = raw[r * (w + 1)]
        line = np.frombuffer(raw, np.uint8, w, r * (w + 1) + 1).astype(np.int32)
        cur = np.zeros(w, dtype=np.int32)
        for c in range(w):
            a = cur[c - 1] if c else 0
            b = prev[c]
            cc = prev[c - 1] if c else 0
            if ft == 0:
                p = 0
            elif ft == 1:
                p = a
            elif ft == 2:
                p = b
            elif ft == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - cc), abs(a - cc), abs(a + b - 2 * cc)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
            cur[c] = (line[c] + p) & 0xFF
        out[r] = cur
        prev = cur
    return out


# --------------------------------------------------------------------------
# independent numpy evaluation of the exported ONNX graph
# --------------------------------------------------------------------------

def onnx_numpy_run(model_proto, x):
    from onnx import numpy_helper
    g = model_proto.graph
    env = {t.name: numpy_helper.to_array(t).astype(np.float32)
           for t in g.initializer}
    env[g.input[0].name] = x.astype(np.float32)

    def attrs(node):
        import onnx
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    for node in g.node:
        a = attrs(node)
        ins = [env[i] for i in node.input if i]
        if node.op_type == "Mul":
            y = ins[0] * ins[1]
        elif node.op_type == "Add":
            y = ins[0] + ins[1]
        elif node.op_type == "Relu":
            y = np.maximum(ins[0], 0)
        elif node.op_type == "Conv":
            xx, w = ins[0], ins[1]
            b = ins[2] if len(ins) > 2 else np.zeros(w.shape[0], np.float32)
            assert a.get("group", 1) == 1
            assert list(a.get("strides", [1, 1])) == [1, 1]
            assert list(a.get("dilations", [1, 1])) == [1, 1]
            pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
            kh, kw = w.shape[2], w.shape[3]
            xp = np.pad(xx, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
            n, c, hp, wp = xp.shape
            oh, ow = hp - kh + 1, wp - kw + 1
            y = np.zeros((n, w.shape[0], oh, ow), np.float64)
            for i in range(kh):
                for j in range(kw):
                    patch = xp[:, :, i:i + oh, j:j + ow]
                    y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
            y = (y + b[None, :, None, None]).astype(np.float32)
        elif node.op_type == "MaxPool":
            k = a["kernel_shape"]
            s = a.get("strides", k)
            assert list(k) == [2, 2] and list(s) == [2, 2]
            assert not any(a.get("pads", [0, 0, 0, 0]))
            xx = ins[0]
            n, c, h, w = xx.shape
            y = xx[:, :, :h // 2 * 2, :w // 2 * 2].reshape(
                n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        elif node.op_type == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif node.op_type == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * (A.astype(np.float64) @ B)
            if len(ins) > 2:
                y = y + a.get("beta", 1.0) * ins[2]
            y = y.astype(np.float32)
        elif node.op_type == "Softmax":
            ax = a.get("axis", -1)
            z = ins[0] - ins[0].max(axis=ax, keepdims=True)
            e = np.exp(z)
            y = e / e.sum(axis=ax, keepdims=True)
        else:
            raise RuntimeError(f"numpy evaluator: unsupported op {node.op_type}")
        env[node.output[0]] = y
    return env[g.output[0].name]


# --------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------

CONFIG_PBTXT = """name: "digits_onnx"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [
  {
    name: "input"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 1, 28, 28 ]
  }
]
output [
  {
    name: "probabilities"
    data_type: TYPE_FP32
    dims: [ 10 ]
    label_filename: "labels.txt"
  }
]
instance_group [
  {
    count: 1
    kind: KIND_CPU
  }
]
"""


def write_readme(path, info):
    text = f"""# digits_onnx

A small convolutional classifier for handwritten digits, trained by this
project, offline, from data shipped in a Debian package. It exists so the
demo can classify real images on a machine with no network.

- Input `input`: FP32, NCHW `[N, 1, 28, 28]` (N dynamic, config
  `max_batch_size: 8`), raw grayscale pixel values **0..255**. The network
  multiplies by 1/255 itself, so a client sends pixels unscaled
  (image_client `-s NONE`). Images are white digit on black background, as
  in the test images under `tools/digits/images/`.
- Output `probabilities`: FP32 `[N, 10]`, softmax over the labels in
  `labels.txt` ("0".."9", in class order).
- ONNX: opset {OPSET}, IR version {info['ir_version']}, {info['size']} bytes,
  {info['params']} parameters. Operators: {', '.join(info['ops'])}.
  Graph: Mul(1/255) -> Conv 3x3 1->8 pad 1 -> Relu -> MaxPool 2x2 ->
  Conv 3x3 8->16 pad 1 -> Relu -> MaxPool 2x2 -> Flatten -> Gemm 784->32 ->
  Relu -> Gemm 32->10 -> Softmax.

## Held-out accuracy

**{info['acc'] * 100:.2f}%** ({info['correct']}/{info['n_test']}) on the
held-out split, measured with the exported model's torch twin.

## Data provenance

The UCI "Optical Recognition of Handwritten Digits" data set (test part,
1797 images of 8x8 pixels, values 0..16, 43 writers), as bundled in Debian's
`python3-sklearn` package ({info['sklearn']}) and read by
`sklearn.datasets.load_digits()` from the package's own
`sklearn/datasets/data/digits.csv.gz`; nothing is downloaded.

## How it was trained

- Split: a fixed permutation (`numpy.random.RandomState({SEED})`) of the
  1797 samples; the last 20% ({info['n_test']} samples) are held out, the
  other {info['n_train']} are used for training.
- Preprocessing: each 8x8 image is upscaled to 28x28 with bilinear
  interpolation (torch `interpolate`, `align_corners=False`), scaled from
  0..16 to 0..255 and rounded to 8-bit, exactly the values a PNG holds.
- Training: Debian's `python3-torch` ({info['torch']}), CPU, one thread,
  seeds fixed; Adam lr {LR}, cosine schedule, {EPOCHS} epochs, batch {BATCH},
  random shifts of up to 2 pixels as augmentation; cross-entropy on the
  logits. About 20 s on one CPU core of the project's 2-core machine;
  rerunning gives a byte-identical `model.onnx`.
- Export: `torch.onnx.export`, opset {OPSET}, dynamic batch dimension;
  checked with `onnx.checker` and by an independent numpy evaluation of the
  ONNX graph.

## Retrain

    apt-get install -y python3-sklearn python3-torch python3-onnx python3-pil
    /usr/bin/python3 scripts/train_digits.py --out tools/digits

(Debian's `/usr/bin/python3`; a `python3` earlier on PATH may lack these
packages.) This rewrites `tools/digits/digits_onnx/` (copy it to
`models/digits_onnx/`, where the bundled repository serves it: this file,
`config.pbtxt`, `labels.txt`, `1/model.onnx`), `tools/digits/images/`
(10 held-out test PNGs, one per digit, 28x28 8-bit grayscale, and
`expected.txt`) and `tools/digits/reference.txt` (top-3 probabilities per
test image, for checking another inference engine against).
"""
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True,
                    help="output directory (e.g. tools/digits)")
    args = ap.parse_args()

    import torch
    import sklearn
    import onnx

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    out = args.out
    mdir = os.path.join(out, MODEL_NAME)
    idir = os.path.join(out, "images")
    os.makedirs(os.path.join(mdir, "1"), exist_ok=True)
    os.makedirs(idir, exist_ok=True)

    print("loading digits from python3-sklearn ...", flush=True)
    x8, y = load_data()
    tr, te = split(len(y))
    x_u8 = upscale_to_u8(x8)  # [N,28,28] uint8
    xt = torch.from_numpy(x_u8.astype(np.float32)).unsqueeze(1)
    yt = torch.from_numpy(y)
    print(f"  {len(y)} samples: {len(tr)} train, {len(te)} held out", flush=True)

    model = build_model()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"training ({n_params} parameters) ...", flush=True)
    t0 = time.time()
    train(model, xt[tr], yt[tr])
    train_s = time.time() - t0
    print(f"  trained in {train_s:.1f} s", flush=True)

    model.eval()
    with torch.no_grad():
        probs_te = model(xt[te]).numpy()
    pred_te = probs_te.argmax(1)
    correct = int((pred_te == y[te]).sum())
    acc = correct / len(te)
    print(f"held-out accuracy: {acc * 100:.2f}% ({correct}/{len(te)})", flush=True)

    # ---- export ----
    onnx_path = os.path.join(mdir, "1", "model.onnx")
    dummy = torch.zeros(1, 1, SIZE, SIZE)
    torch.onnx.export(model, dummy, onnx_path, opset_version=OPSET,
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}},
                      do_constant_folding=True, export_params=True,
                      keep_initializers_as_inputs=False)
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    ops = []
    for node in m.graph.node:
        if node.op_type not in ops:
            ops.append(node.op_type)
    bad = [o for o in ops if o not in ALLOWED_OPS]
    if bad:
        sys.exit(f"exported graph uses ops outside the allowed set: {bad}")
    size = os.path.getsize(onnx_path)
    if size >= 200 * 1024:
        sys.exit(f"model.onnx is {size} bytes, over the 200 KB limit")
    gin, gout = m.graph.input[0], m.graph.output[0]
    print(f"exported {onnx_path}: {size} bytes, opset "
          f"{m.opset_import[0].version}, IR {m.ir_version}", flush=True)
    print(f"  nodes: {[n.op_type for n in m.graph.node]}")
    print(f"  input  {gin.name}: {[d.dim_param or d.dim_value for d in gin.type.tensor_type.shape.dim]}")
    print(f"  output {gout.name}: {[d.dim_param or d.dim_value for d in gout.type.tensor_type.shape.dim]}")
    assert gin.name == "input" and gout.name == "probabilities"

    with open(os.path.join(mdir, "config.pbtxt"), "w") as f:
        f.write(CONFIG_PBTXT)
    with open(os.path.join(mdir, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")

    # ---- test images: first correctly classified held-out sample per digit ----
    chosen = {}
    for pos, idx in enumerate(te):
        lab = int(y[idx])
        if lab not in chosen and pred_te[pos] == lab:
            chosen[lab] = (int(idx), pos)
    assert len(chosen) == 10, "no correctly classified held-out sample for some digit"
    for f_ in os.listdir(idir):
        if f_.startswith("digit_") and f_.endswith(".png"):
            os.remove(os.path.join(idir, f_))
    files = []
    for lab in range(10):
        idx, _ = chosen[lab]
        name = f"digit_{lab}_{idx}.png"
        write_png_gray(os.path.join(idir, name), x_u8[idx])
        files.append((name, lab))

    # ---- verify: read PNGs back as a client would, run torch twin + ONNX ----
    imgs = np.stack([read_png_gray(os.path.join(idir, n)) for n, _ in files])
    assert imgs.shape == (10, SIZE, SIZE) and imgs.dtype == np.uint8
    batch = imgs.astype(np.float32)[:, None, :, :]  # raw 0..255, no scaling
    with torch.no_grad():
        p_torch = model(torch.from_numpy(batch)).numpy()
    p_onnx = onnx_numpy_run(m, batch)
    max_diff = float(np.abs(p_torch - p_onnx).max())
    print(f"verify: {len(files)} PNGs read back; max |torch - onnx(numpy)| "
          f"= {max_diff:.3g}", flush=True)
    assert max_diff < 1e-5, "ONNX graph disagrees with its torch twin"
    # batch of 1 and of 8 too (dynamic batch), must agree with the batch of 10
    with torch.no_grad():
        p1 = model(torch.from_numpy(batch[:1])).numpy()
    assert np.abs(p1 - p_torch[:1]).max() < 1e-5
    assert np.abs(onnx_numpy_run(m, batch[:8]) - p_torch[:8]).max() < 1e-5
    for (name, lab), p in zip(files, p_torch):
        top = int(p.argmax())
        if top != lab:
            sys.exit(f"verify failed: {name} true {lab} predicted {top}")
    # held-out accuracy through the ONNX graph as well
    p_onnx_te = onnx_numpy_run(m, x_u8[te].astype(np.float32)[:, None])
    acc_onnx = float((p_onnx_te.argmax(1) == y[te]).mean())
    print(f"  held-out accuracy via numpy ONNX evaluation: {acc_onnx * 100:.2f}%")
    assert acc_onnx == acc

    with open(os.path.join(idir, "expected.txt"), "w") as f:
        f.write("# file  true_label  model_top1  probability_of_top1\n")
        f.write("# 28x28 8-bit grayscale PNGs from the held-out split; feed raw\n")
        f.write("# pixel values 0..255 (image_client -s NONE) to digits_onnx.\n")
        for (name, lab), p in zip(files, p_torch):
            top = int(p.argmax())
            f.write(f"{name}  {lab}  {LABELS[top]}  {p[top]:.8g}\n")

    with open(os.path.join(out, "reference.txt"), "w") as f:
        f.write("# digits_onnx reference outputs: top-3 of `probabilities` for each\n")
        f.write("# test image in images/, computed with the exported model's torch\n")
        f.write("# twin on the PNGs read back from disk (raw 0..255 FP32, NCHW,\n")
        f.write("# [1,28,28] per image). Agreement with the ONNX graph (numpy eval):\n")
        f.write(f"# max abs difference {max_diff:.3g}. Format:\n")
        f.write("# file  true_label  label:probability x3 (descending)\n")
        for (name, lab), p in zip(files, p_torch):
            order = np.argsort(-p, kind="stable")[:3]
            tops = "  ".join(f"{LABELS[k]}:{p[k]:.8g}" for k in order)
            f.write(f"{name}  {lab}  {tops}\n")

    write_readme(os.path.join(mdir, "README.md"), {
        "acc": acc, "correct": correct, "n_test": len(te), "n_train": len(tr),
        "ops": ops, "size": size, "params": n_params, "ir_version": m.ir_version,
        "sklearn": f"scikit-learn {sklearn.__version__}",
        "torch": f"torch {torch.__version__}",
    })
    print("wrote", mdir, idir, os.path.join(out, "reference.txt"))
    print("done.")


if __name__ == "__main__":
    main()
