#!/usr/bin/env node
// ort_bench.js: MobileNet v2 batch-1 latency in ONNX Runtime (onnxruntime-node,
// CPU execution provider), the anchor of bench/onnx_vs_ort.sh.
//
// Usage: node ort_bench.js --model FILE.onnx --input FILE.npy --threads N
//                          [--runs 50] [--warmup 10]
// FILE.npy: float32 [K,3,224,224], C order; entry 0 is the input (the same
// bytes bench_onnx_server sends). onnxruntime-node is found through
// NODE_PATH (the script sets it to its cache directory).
// Prints one line:
//   ORT threads=N median_ms=.. p10_ms=.. p90_ms=.. runs=N top1=C prob=P
'use strict';

const fs = require('fs');

function parseArgs(argv) {
  const a = { runs: 50, warmup: 10 };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (i + 1 >= argv.length) throw new Error(`missing value for ${argv[i]}`);
    a[k] = ['runs', 'warmup', 'threads'].includes(k) ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!a.model || !a.input || !(a.threads >= 1) || !(a.runs >= 1)) {
    throw new Error('usage: ort_bench.js --model FILE.onnx --input FILE.npy --threads N ' +
                    '[--runs N] [--warmup N]');
  }
  return a;
}

// Entry 0 of a little-endian float32 .npy file.
function readNpyFirst(path, count) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not .npy`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = (major === 1 ? 10 : 12) + hlen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, off);
  if (!header.includes("'<f4'") || !header.includes("'fortran_order': False")) {
    throw new Error(`${path}: expected C-order float32`);
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(off + 4 * i);
  return out;
}

async function main() {
  const a = parseArgs(process.argv);
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const x = readNpyFirst(a.input, 3 * 224 * 224);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
  const t = [];
  let out = null;
  for (let i = -a.warmup; i < a.runs; i++) {
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 0) t.push(dt);
  }
  t.sort((p, q) => p - q);
  const probs = out[session.outputNames[0]].data;
  let top = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[top]) top = i;
  const n = t.length;
  console.log(`ORT threads=${a.threads} median_ms=${t[n >> 1].toFixed(3)} ` +
              `p10_ms=${t[Math.floor(n / 10)].toFixed(3)} ` +
              `p90_ms=${t[Math.floor(n * 9 / 10)].toFixed(3)} runs=${n} ` +
              `top1=${top} prob=${probs[top].toFixed(4)} version=${ort.env.versions.common}`);
}

main().catch((e) => {
  console.error(`ort_bench.js: ${e.message}`);
  process.exit(1);
});
