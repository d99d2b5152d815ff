// Times the peer: witness calculation, groth16.prove and groth16.verify, in one Node process
// through the snarkjs JS API (no CLI start-up in the figures), and writes results/snarkjs.json.
//
// Per iteration: the circom witness calculator (WASM, instantiated once, like a prover that keeps
// it loaded) builds the .wtns in memory; groth16.prove reads the zkey from a buffer in memory
// (snarkjs parses it on every call; that is part of its proving cost); groth16.verify checks the
// proof against the verification key. One warm-up iteration is not counted.
//
// Env: ITERATIONS (default 10). Needs the outputs of run-snarkjs.sh in build/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { BUILD, HERE, RESULTS, machine, r1csHeader, stats, terminateCurves } from "./common.mjs";

const ITERATIONS = Number(process.env.ITERATIONS || 10);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1) throw new Error(`bad ITERATIONS=${process.env.ITERATIONS}`);

const require = createRequire(import.meta.url);
const f = (name) => path.join(BUILD, name);
const pkgVersion = (name) => JSON.parse(readFileSync(path.join(HERE, "node_modules", name, "package.json"), "utf8")).version;

const input = JSON.parse(readFileSync(f("input.json"), "utf8"));
const vkey = JSON.parse(readFileSync(f("verification_key.json"), "utf8"));
const zkey = { type: "mem", data: new Uint8Array(readFileSync(f("access.zkey"))) };
const wasmPath = f("access_js/access.wasm");
const wasm = readFileSync(wasmPath);
const builder = require(f("access_js/witness_calculator.js"));
const wc = await builder(wasm);
const header = r1csHeader(f("access.r1cs"));
const ptau = JSON.parse(readFileSync(f("ptau.json"), "utf8"));
const setup = JSON.parse(readFileSync(f("setup.json"), "utf8"));
const compile = JSON.parse(readFileSync(f("compile.json"), "utf8"));

// A proof for the same statement with another message must fail: checks the message binding.
const tampered = (signals) => signals.map((s, i) => (i === 3 ? (BigInt(s) + 1n).toString() : s));

async function once() {
  const t0 = performance.now();
  const wtns = await wc.calculateWTNSBin(input, 0);
  const t1 = performance.now();
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, { type: "mem", data: wtns });
  const t2 = performance.now();
  const ok = await snarkjs.groth16.verify(vkey, publicSignals, proof);
  const t3 = performance.now();
  if (!ok) throw new Error("proof did not verify");
  return { witness: t1 - t0, prove: t2 - t1, verify: t3 - t2, proof, publicSignals };
}

console.log(`bench: ${ITERATIONS} iterations after 1 warm-up`);
const warm = await once();
if (warm.publicSignals.length !== 8) throw new Error(`expected 8 public signals, got ${warm.publicSignals.length}`);
if (await snarkjs.groth16.verify(vkey, tampered(warm.publicSignals), warm.proof)) {
  throw new Error("a proof verified against another message");
}
const t = { witness: [], prove: [], verify: [], witness_api: [] };
for (let i = 0; i < ITERATIONS; i++) {
  const r = await once();
  for (const k of ["witness", "prove", "verify"]) t[k].push(r[k]);
  // What snarkjs.groth16.fullProve pays for the witness: wtns.calculate compiles the WASM anew.
  const a = performance.now();
  await snarkjs.wtns.calculate(input, wasmPath, { type: "mem" });
  t.witness_api.push(performance.now() - a);
  console.log(
    `  #${i + 1}: witness ${r.witness.toFixed(1)} ms, prove ${r.prove.toFixed(1)} ms, verify ${r.verify.toFixed(1)} ms`,
  );
}

let circom = "circom (unknown)";
try {
  const v = execFileSync(path.join(HERE, "node_modules/.bin/circom2"), ["--version"], { encoding: "utf8" });
  const m = v.match(/circom compiler (\S+)/);
  if (m) circom = `circom ${m[1]} (circom2 npm ${pkgVersion("circom2")})`;
} catch {
  /* keep unknown */
}

const m = machine();
const result = {
  tool: `snarkjs ${pkgVersion("snarkjs")}`,
  circom,
  circomlib: pkgVersion("circomlib"),
  node: process.version,
  curve: "bls12-381",
  depth: 20,
  constraints: header.nConstraints,
  constraints_detail: {
    non_linear: compile.non_linear,
    linear: compile.linear,
    optimization: compile.optimization,
    wires: header.nWires,
    public_inputs: header.nPubIn,
  },
  compile_s: round(compile.compile_s),
  setup_s: round(ptau.ptau_s + setup.circuit_setup_s),
  setup_detail_s: {
    powers_of_tau: round(ptau.ptau_s),
    circuit_specific: round(setup.circuit_setup_s),
    ptau_power: ptau.power,
    steps: Object.fromEntries(
      Object.entries({ ...ptau.steps_s, ...setup.steps_s }).map(([k, v]) => [k, round(v)]),
    ),
    note: "INSECURE: one contribution each with a fixed entropy string",
  },
  witness_ms: stats(t.witness),
  witness_snarkjs_api_ms: stats(t.witness_api),
  prove_ms: stats(t.prove),
  verify_ms: stats(t.verify),
  iterations: ITERATIONS,
  threads: globalThis.curve_bls12381?.tm?.concurrency ?? null,
  machine: m.text,
  date: new Date().toISOString(),
};
function round(x) {
  return Math.round(x * 1000) / 1000;
}

if (!existsSync(RESULTS)) mkdirSync(RESULTS, { recursive: true });
writeFileSync(path.join(RESULTS, "snarkjs.json"), JSON.stringify(result, null, 2) + "\n");
console.log(
  `witness median ${result.witness_ms.median} ms, prove median ${result.prove_ms.median} ms ` +
    `(p95 ${result.prove_ms.p95}), verify median ${result.verify_ms.median} ms -> results/snarkjs.json`,
);
await terminateCurves();
