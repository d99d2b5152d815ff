#!/usr/bin/env bash
# Peer benchmark: Consentry's access statement (depth 20) in circom, Groth16 with snarkjs on
# BLS12-381. Installs the pinned npm tools if needed, compiles the circuit, runs an INSECURE
# fixed-entropy setup, writes a satisfying input and times witness / prove / verify in one Node
# process. Result: benches/peer/results/snarkjs.json.
#
# Env: ITERATIONS (default 10) timed iterations after one warm-up;
#      FRESH=1 redo everything, including the powers of tau (otherwise build outputs whose inputs
#      did not change are reused, with the setup timings recorded when they were made).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
BUILD="$HERE/build"
OPT="--O2" # circom's full linear simplification; see README.md (constraint counts)

if [ ! -d node_modules ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
if [ "${FRESH:-0}" = 1 ]; then rm -rf "$BUILD"; fi
mkdir -p "$BUILD" results

now() { date +%s.%N; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# 1. Compile (r1cs + wasm of the access circuit; wasm of the input helper circuit).
circuit_stamp="$(hash_of circuits/*.circom package-lock.json) $OPT"
if [ "$(cat "$BUILD/circuit.stamp" 2>/dev/null)" != "$circuit_stamp" ] ||
  [ ! -f "$BUILD/compile.json" ] || [ ! -f "$BUILD/access_js/access.wasm" ] ||
  [ ! -f "$BUILD/derive_js/derive.wasm" ]; then
  echo "== circom: compile circuits/access.circom (--prime bls12381 $OPT)"
  rm -f "$BUILD/circuit.stamp" "$BUILD/setup.stamp"
  t0=$(now)
  npx --no-install circom2 circuits/access.circom --prime bls12381 "$OPT" --r1cs --wasm --inspect \
    -o "$BUILD" | tee "$BUILD/compile.log"
  t1=$(now)
  npx --no-install circom2 circuits/derive.circom --prime bls12381 "$OPT" --wasm -o "$BUILD" >"$BUILD/derive.log"
  # circom prints ANSI colours; strip them before reading its counts.
  plain="$(sed 's/\x1b\[[0-9;]*m//g' "$BUILD/compile.log")"
  nonlinear="$(printf '%s\n' "$plain" | sed -n 's/^non-linear constraints: //p')"
  linear="$(printf '%s\n' "$plain" | sed -n 's/^linear constraints: //p')"
  printf '{"compile_s": %s, "non_linear": %s, "linear": %s, "optimization": "%s"}\n' \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "${nonlinear:-null}" "${linear:-null}" "$OPT" >"$BUILD/compile.json"
  echo "$circuit_stamp" >"$BUILD/circuit.stamp"
fi

# 2. Universal setup: powers of tau (kept while the needed size and the tools are unchanged).
power="$(node setup.mjs power)"
ptau_stamp="$power $(hash_of package-lock.json setup.mjs)"
if [ "$(cat "$BUILD/ptau.stamp" 2>/dev/null)" != "$ptau_stamp" ] || [ ! -f "$BUILD/pot_final.ptau" ] ||
  [ ! -f "$BUILD/ptau.json" ]; then
  echo "== snarkjs: powers of tau (this is the slow step: minutes)"
  rm -f "$BUILD/ptau.stamp" "$BUILD/setup.stamp"
  node setup.mjs ptau
  rm -f "$BUILD/pot_0000.ptau" "$BUILD/pot_0001.ptau"
  echo "$ptau_stamp" >"$BUILD/ptau.stamp"
fi

# 3. Circuit-specific setup.
setup_stamp="$circuit_stamp $ptau_stamp"
if [ "$(cat "$BUILD/setup.stamp" 2>/dev/null)" != "$setup_stamp" ] || [ ! -f "$BUILD/access.zkey" ] ||
  [ ! -f "$BUILD/verification_key.json" ] || [ ! -f "$BUILD/setup.json" ]; then
  echo "== snarkjs: groth16 setup"
  node setup.mjs circuit
  rm -f "$BUILD/access_0000.zkey"
  echo "$setup_stamp" >"$BUILD/setup.stamp"
fi

# 4. Input, then the timed runs.
echo "== input"
node make-input.mjs
echo "== bench"
ITERATIONS="${ITERATIONS:-10}" node bench.mjs
