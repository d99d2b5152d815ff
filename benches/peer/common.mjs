// Shared helpers of the peer benchmark scripts (paths, machine description, statistics).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const BUILD = path.join(HERE, "build");
export const RESULTS = path.join(HERE, "results");
/** The registry holds 2^DEPTH leaves: DEPTH / 2 levels of a 4-ary tree. */
export const DEPTH = 20;
export const LEVELS = DEPTH / 2;

/** BLS12-381 scalar field modulus (circom's `--prime bls12381`). */
export const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** A fixed, reproducible field element: SHA-256("consentry-peer/" + label) mod r. */
export function fieldFromLabel(label) {
  const digest = createHash("sha256").update(`consentry-peer/${label}`).digest("hex");
  return BigInt(`0x${digest}`) % R;
}

/** "<cpu model>, <n> cores" from /proc/cpuinfo (falls back to os.cpus()). */
export function machine() {
  let model = "";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) model = line.split(":").slice(1).join(":").trim();
  } catch {
    /* not Linux */
  }
  if (!model) model = os.cpus()[0]?.model?.trim() ?? "unknown CPU";
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  return { model, cores, text: `${model}, ${cores} cores` };
}

/** min / median / p95 / mean of a list of milliseconds (nearest-rank percentile). */
export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const rank = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  const round = (x) => Math.round(x * 1000) / 1000;
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return {
    min: round(s[0]),
    median: round(median),
    p95: round(rank(0.95)),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
    max: round(s[s.length - 1]),
  };
}

/** Header of a .r1cs file (iden3 binary format): wires, public/private inputs, constraints. */
export function r1csHeader(file) {
  const buf = readFileSync(file);
  if (buf.toString("latin1", 0, 4) !== "r1cs") throw new Error(`${file}: not an r1cs file`);
  const nSections = buf.readUInt32LE(8);
  let off = 12;
  for (let i = 0; i < nSections; i++) {
    const type = buf.readUInt32LE(off);
    const size = Number(buf.readBigUInt64LE(off + 4));
    off += 12;
    if (type === 1) {
      const n8 = buf.readUInt32LE(off);
      let p = off + 4;
      let prime = 0n;
      for (let k = n8 - 1; k >= 0; k--) prime = (prime << 8n) | BigInt(buf[p + k]);
      p += n8;
      return {
        prime,
        nWires: buf.readUInt32LE(p),
        nPubOut: buf.readUInt32LE(p + 4),
        nPubIn: buf.readUInt32LE(p + 8),
        nPrvIn: buf.readUInt32LE(p + 12),
        nLabels: Number(buf.readBigUInt64LE(p + 16)),
        nConstraints: buf.readUInt32LE(p + 24),
      };
    }
    off += size;
  }
  throw new Error(`${file}: no header section`);
}

/** Ends the worker threads of every ffjavascript curve snarkjs built, so Node can exit. */
export async function terminateCurves() {
  for (const name of ["curve_bls12381", "curve_bn128"]) {
    const curve = globalThis[name];
    if (curve && typeof curve.terminate === "function") await curve.terminate();
  }
}
