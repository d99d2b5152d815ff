#!/usr/bin/env bash
# Side-by-side benchmark: Consentry (arkworks Groth16) vs the snarkjs peer, same statement at
# depth 20. Runs both, then writes benches/report.md (node benches/peer/report.mjs).
#
# Env: ITERATIONS (default 10) timed iterations on both sides
#      (CONSENTRY_ITERATIONS / PEER_ITERATIONS override one side);
#      SKIP_PEER=1       reuse benches/peer/results/snarkjs.json if it exists;
#      SKIP_CONSENTRY=1  reuse benches/peer/results/consentry.json if it exists;
#      SKIP_CLI=1        reuse benches/peer/results/cli.json (the CLI pair) if it exists;
#      CLI_ITERATIONS    paired runs of the CLI pair (default ITERATIONS);
#      CONSENTRY_JSON=f  take Consentry's figures from file f instead of running cargo
#                        (e.g. benches/peer/testdata/consentry.sample.json to test the report).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RESULTS="$HERE/results"
ITERATIONS="${ITERATIONS:-10}"
mkdir -p "$RESULTS"

# 1. The peer (snarkjs).
if [ "${SKIP_PEER:-0}" = 1 ] && [ -f "$RESULTS/snarkjs.json" ]; then
  echo "== snarkjs: reusing $RESULTS/snarkjs.json (SKIP_PEER=1)"
else
  ITERATIONS="${PEER_ITERATIONS:-$ITERATIONS}" bash "$HERE/run-snarkjs.sh"
fi

# 2. Consentry.
if [ -n "${CONSENTRY_JSON:-}" ]; then
  consentry_json="$(cd "$(dirname "$CONSENTRY_JSON")" && pwd)/$(basename "$CONSENTRY_JSON")"
  echo "== consentry: using $consentry_json (CONSENTRY_JSON)"
elif [ "${SKIP_CONSENTRY:-0}" = 1 ] && [ -f "$RESULTS/consentry.json" ]; then
  consentry_json="$RESULTS/consentry.json"
  echo "== consentry: reusing $consentry_json (SKIP_CONSENTRY=1)"
else
  consentry_json="$RESULTS/consentry.json"
  echo "== consentry: cargo run --release -- bench"
  (cd "$ROOT" && cargo run --release -- bench --depth 20 \
    --iterations "${CONSENTRY_ITERATIONS:-$ITERATIONS}" --json benches/peer/results/consentry.json)
fi

# 3. The CLI pair: `consentry prove` and `snarkjs groth16 fullprove`, whole processes, in
#    alternation (cli-pair.mjs). Needs the release binary and the peer's build outputs.
if [ "${SKIP_CLI:-0}" = 1 ] && [ -f "$RESULTS/cli.json" ]; then
  echo "== cli pair: reusing $RESULTS/cli.json (SKIP_CLI=1)"
elif [ -n "${CONSENTRY_JSON:-}" ]; then
  echo "== cli pair: skipped (CONSENTRY_JSON: no cargo run)"
else
  echo "== cli pair: consentry prove vs snarkjs groth16 fullprove"
  (cd "$ROOT" && cargo build --release --quiet)
  target_dir="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
  ITERATIONS="${CLI_ITERATIONS:-$ITERATIONS}" node "$HERE/cli-pair.mjs" "$target_dir/release/consentry" "$ROOT/params"
fi

# 4. The report.
node "$HERE/report.mjs" "$consentry_json" "$RESULTS/snarkjs.json" "$ROOT/benches/report.md" "$RESULTS/cli.json"
