// Writes build/input.json: a satisfying input of the access circuit (depth 20).
//
// The hash values (root, pseudonym) must be circomlib's Poseidon evaluated over the BLS12-381
// field, which no JS library computes (circomlibjs hard-codes BN254). Rather than re-implement the
// optimised permutation, we let circom compute them: build/derive_js/derive.wasm is the witness
// calculator of circuits/derive.circom, whose template Derive(20) uses the very same TaggedHash,
// Leaf and MerkleRoot4 templates as the access circuit and outputs (root, pseudonym). Its outputs
// are the witness entries 1 and 2 (entry 0 is the constant 1).
//
// All values are fixed (derived from labels by SHA-256 mod r), so every run proves the same
// statement: role Hospital (1), issuer 1, level 3 >= min_level 2, expiry day 20765 >= today 20400,
// leaf index 1000 of a 4-ary tree of 2^20 leaves (10 levels, 3 pseudo-random siblings each). The
// index is read as 2-bit digits, least significant first: level h uses index bits 2h and 2h + 1,
// so the running node sits at position 0, 2, 2, 3, 3, 0, 0, 0, 0, 0 on the way up.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { BUILD, DEPTH, LEVELS, fieldFromLabel } from "./common.mjs";

const require = createRequire(import.meta.url);
const builder = require(path.join(BUILD, "derive_js", "witness_calculator.js"));

const INDEX = 1000;
const priv = {
  sk: fieldFromLabel("sk"),
  role: 1n,
  level: 3n,
  jurisdiction: 756n,
  expiry_day: 20765n,
  issuer_id: 1n,
  scope: fieldFromLabel("scope"),
  siblings: Array.from({ length: LEVELS }, (_, h) =>
    Array.from({ length: 3 }, (_, j) => fieldFromLabel(`sibling/${h}/${j}`)),
  ),
  index_bits: Array.from({ length: DEPTH }, (_, i) => BigInt((INDEX >> i) & 1)),
};

const wc = await builder(readFileSync(path.join(BUILD, "derive_js", "derive.wasm")));
const w = await wc.calculateWitness(priv, true);
const [root, pseudonym] = [w[1], w[2]];

const input = {
  // public, in Consentry's order
  root,
  scope: priv.scope,
  pseudonym,
  message: fieldFromLabel("message"),
  role: priv.role,
  issuer_id: priv.issuer_id,
  min_level: 2n,
  today: 20400n,
  // private
  sk: priv.sk,
  level: priv.level,
  jurisdiction: priv.jurisdiction,
  expiry_day: priv.expiry_day,
  siblings: priv.siblings,
  index_bits: priv.index_bits,
};
const text = JSON.stringify(input, (_, v) => (typeof v === "bigint" ? v.toString() : v), 1);
writeFileSync(path.join(BUILD, "input.json"), text + "\n");
console.log(`input: build/input.json (root ${root.toString(16).slice(0, 16)}..., pseudonym ${pseudonym.toString(16).slice(0, 16)}...)`);
