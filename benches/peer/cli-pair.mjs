// The CLI pair: what a person waits for at a shell prompt. Times `consentry prove` and snarkjs'
// own CLI `snarkjs groth16 fullprove`, each a whole process from spawn to exit, in alternation
// (run i of one, then run i of the other, so that a machine that slows down slows both), and
// writes results/cli.json.
//
// Both prove the access statement at depth 20 with the credential at leaf index 1000:
// - consentry: `consentry prove` reads an identity file and a leaf list of 1,001 leaves (1,000
//   pseudo-random ones, then the institution's, added by `consentry leaves add`), builds the
//   registry tree, loads the shipped proving key (digest-checked), derives the matrices, proves
//   and writes the token. It is then verified with `consentry verify`.
// - snarkjs: `groth16 fullprove input.json access.wasm access.zkey proof.json public.json`
//   computes the witness from build/input.json (the Merkle path is given, no tree to build),
//   reads and parses the zkey, proves, writes the proof. It is then verified with
//   `snarkjs groth16 verify`.
// One warm-up run of each is not counted.
//
// Usage: node cli-pair.mjs <consentry binary> <params dir>   (Env: ITERATIONS, default 10)
// Needs the outputs of run-snarkjs.sh in build/.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { BUILD, HERE, RESULTS, fieldFromLabel, machine, stats } from "./common.mjs";

const [exe, params] = process.argv.slice(2);
if (!params) {
  console.error("usage: node cli-pair.mjs <consentry binary> <params dir>");
  process.exit(2);
}
const ITERATIONS = Number(process.env.ITERATIONS || 10);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 1) throw new Error(`bad ITERATIONS=${process.env.ITERATIONS}`);

const scratch = mkdtempSync(path.join(os.tmpdir(), "consentry-cli-pair-"));
const at = (name) => path.join(scratch, name);
const run = (cmd, args) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

// ---- consentry's fixture --------------------------------------------------------------------------
const attributes = ["--role", "hospital", "--level", "3", "--jurisdiction", "756", "--expiry-day", "20765", "--issuer-id", "1"];
const id = run(exe, ["identity", "new", "--out", at("hospital.id")]).split("\n")[0];
const hex = (x) => `0x${x.toString(16).padStart(64, "0")}`;
const leaves = Array.from({ length: 1000 }, (_, i) => hex(fieldFromLabel(`leaf/${i}`)));
writeFileSync(at("leaves.json"), JSON.stringify({ version: 1, depth: 20, leaves }, null, 2));
run(exe, ["leaves", "add", "--file", at("leaves.json"), "--id", id, ...attributes]);
const message = hex(fieldFromLabel("message"));
const consentryArgs = [
  "prove", "--identity", at("hospital.id"), "--leaves", at("leaves.json"), ...attributes,
  "--params", params, "--stream", "cli-pair", "--message", message, "--min-level", "2", "--today", "20400",
  "--out", at("token.json"),
];

// ---- snarkjs' command -------------------------------------------------------------------------------
const snarkjs = path.join(HERE, "node_modules", ".bin", "snarkjs");
const snarkjsArgs = [
  "groth16", "fullprove", path.join(BUILD, "input.json"), path.join(BUILD, "access_js", "access.wasm"),
  path.join(BUILD, "access.zkey"), at("proof.json"), at("public.json"),
];

function timed(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args[0]} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

function check() {
  // Each side's output is verified by its own tool; a run that wrote a bad proof fails here.
  run(exe, ["verify", at("token.json"), "--params", params]);
  const out = run(snarkjs, ["groth16", "verify", path.join(BUILD, "verification_key.json"), at("public.json"), at("proof.json")]);
  if (!/OK/.test(out)) throw new Error(`snarkjs groth16 verify: ${out}`);
  rmSync(at("token.json"));
  rmSync(at("proof.json"));
}

const c = [];
const s = [];
for (let i = 0; i <= ITERATIONS; i++) {
  const ct = timed(exe, consentryArgs);
  const st = timed(snarkjs, snarkjsArgs);
  check();
  if (i === 0) continue; // warm-up (page cache, lazily loaded code)
  c.push(ct);
  s.push(st);
  console.log(`  #${i}: consentry prove ${ct.toFixed(1)} ms, snarkjs groth16 fullprove ${st.toFixed(1)} ms, ratio ${(ct / st).toFixed(3)}`);
}
rmSync(scratch, { recursive: true, force: true });

const ratios = c.map((x, i) => x / s[i]);
const result = {
  machine: machine().text,
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  iterations: ITERATIONS,
  consentry: { command: "consentry prove (depth 20, leaf list of 1,001, shipped key)", ms: stats(c) },
  snarkjs: { command: "snarkjs groth16 fullprove (depth 20)", ms: stats(s) },
  ratio: { min: Math.min(...ratios), median: stats(ratios).median, max: Math.max(...ratios) },
};
writeFileSync(path.join(RESULTS, "cli.json"), JSON.stringify(result, null, 2) + "\n");
console.log(
  `consentry prove median ${result.consentry.ms.median} ms, snarkjs groth16 fullprove median ${result.snarkjs.ms.median} ms, ` +
    `paired ratio ${result.ratio.min.toFixed(3)}–${result.ratio.max.toFixed(3)} -> results/cli.json`,
);
