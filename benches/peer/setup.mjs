// One-off Groth16 setup for the peer circuit, through the snarkjs JS API, timed step by step.
//
// INSECURE benchmark setup: the powers of tau and the zkey each get ONE contribution from a FIXED
// entropy string written below, so anyone can recompute the toxic waste. The keys exist only to
// time proving and verifying; never use them for anything else.
//
// Usage (run-snarkjs.sh calls both, after compiling build/access.r1cs):
//   node setup.mjs ptau      universal part: new bls12-381 powers of tau of the size the circuit
//                            needs, one contribution, prepare phase 2 -> build/pot_final.ptau,
//                            timings in build/ptau.json (kept across runs: it does not depend on
//                            the circuit, and preparing phase 2 is by far the slowest step)
//   node setup.mjs circuit   circuit-specific part: groth16 setup, one zkey contribution, export
//                            of the verification key -> build/access.zkey,
//                            build/verification_key.json, timings in build/setup.json
import { writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { BUILD, r1csHeader, terminateCurves } from "./common.mjs";

const ENTROPY_TAU = "consentry peer benchmark INSECURE fixed entropy: powers of tau";
const ENTROPY_ZKEY = "consentry peer benchmark INSECURE fixed entropy: groth16 phase 2";

const f = (name) => path.join(BUILD, name);
const r1cs = f("access.r1cs");

/** log2 of the smallest domain snarkjs' Groth16 accepts: nConstraints + nPublic + 1 points. */
export function ptauPower() {
  const h = r1csHeader(r1cs);
  const needed = h.nConstraints + h.nPubIn + h.nPubOut + 1;
  let power = 1;
  while (2 ** power < needed) power++;
  return power;
}

const steps = {};
async function step(name, fn) {
  const t0 = performance.now();
  const out = await fn();
  steps[name] = (performance.now() - t0) / 1000;
  console.log(`  ${name.padEnd(16)} ${steps[name].toFixed(2)} s`);
  return out;
}

const mode = process.argv[2];
if (mode === "power") {
  console.log(ptauPower());
} else if (mode === "ptau") {
  const power = ptauPower();
  console.log(`powers of tau (INSECURE, fixed entropy): bls12-381, 2^${power}`);
  const curve = await snarkjs.curves.getCurveFromName("bls12381");
  await step("ptau_new", () => snarkjs.powersOfTau.newAccumulator(curve, power, f("pot_0000.ptau")));
  await step("ptau_contribute", () =>
    snarkjs.powersOfTau.contribute(f("pot_0000.ptau"), f("pot_0001.ptau"), "INSECURE benchmark", ENTROPY_TAU),
  );
  await step("ptau_prepare", () => snarkjs.powersOfTau.preparePhase2(f("pot_0001.ptau"), f("pot_final.ptau")));
  const total = steps.ptau_new + steps.ptau_contribute + steps.ptau_prepare;
  writeFileSync(f("ptau.json"), JSON.stringify({ power, ptau_s: total, steps_s: steps }, null, 2) + "\n");
  console.log(`  total            ${total.toFixed(2)} s`);
} else if (mode === "circuit") {
  console.log("groth16 setup (INSECURE, fixed entropy)");
  await step("groth16_setup", () => snarkjs.zKey.newZKey(r1cs, f("pot_final.ptau"), f("access_0000.zkey")));
  await step("zkey_contribute", () =>
    snarkjs.zKey.contribute(f("access_0000.zkey"), f("access.zkey"), "INSECURE benchmark", ENTROPY_ZKEY),
  );
  const vkey = await step("export_vkey", () => snarkjs.zKey.exportVerificationKey(f("access.zkey")));
  writeFileSync(f("verification_key.json"), JSON.stringify(vkey, null, 1) + "\n");
  const total = steps.groth16_setup + steps.zkey_contribute + steps.export_vkey;
  writeFileSync(f("setup.json"), JSON.stringify({ circuit_setup_s: total, steps_s: steps }, null, 2) + "\n");
  console.log(`  total            ${total.toFixed(2)} s`);
} else {
  console.error("usage: node setup.mjs power|ptau|circuit");
  process.exit(2);
}
await terminateCurves();
