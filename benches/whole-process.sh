#!/usr/bin/env bash
# What an institution waits for: `consentry institution access --out` as a whole process
# (start, key load, proof, signed transaction written; not sent), on a plain stream and on a
# stream whose policy requires escrow, alternated, RUNS times each. Prints "plain MS" and
# "escrow MS" lines. Sets up its own dev node (INSECURE dev keys) in a temp dir on PORT.
#
#   bash benches/whole-process.sh [BIN] [PARAMS_DIR] [RUNS] [PORT]
#   bash benches/whole-process.sh $HOME/.cache/consentry-target/release/consentry params 8
set -euo pipefail
BIN=$(realpath "${1:-$HOME/.cache/consentry-target/release/consentry}")
export CONSENTRY_PARAMS=$(realpath "${2:-params}")
RUNS=${3:-8}
PORT=${4:-7711}
export CONSENTRY_NODE=http://127.0.0.1:$PORT
WORK=$(mktemp -d)
cd "$WORK"
"$BIN" node --data ./node --dev --listen 127.0.0.1:$PORT 2>node.log &
NODE=$!
trap 'kill $NODE; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf $CONSENTRY_NODE/v1/status >/dev/null && break; sleep 0.2; done

ATTRS=(--level 3 --jurisdiction 756 --expiry-day 30000 --issuer-id 1)
"$BIN" identity new --out hospital.id >/dev/null
"$BIN" identity new --out platform.id >/dev/null
"$BIN" issuer issue --key node/issuer.key --id "$("$BIN" identity show hospital.id)" \
  --role hospital "${ATTRS[@]}" --name "St. Elsewhere Hospital" >/dev/null
"$BIN" issuer issue --key node/issuer.key --id "$("$BIN" identity show platform.id)" \
  --role platform "${ATTRS[@]}" >/dev/null
"$BIN" institution sync --issuer-id 1 --out leaves.json >/dev/null
for s in plain escrow; do
  key=$("$BIN" patient keygen --out $s.key)
  escrow=(); [ $s = escrow ] && escrow=(--escrow)
  "$BIN" institution consent --identity platform.id --leaves leaves.json --role platform \
    "${ATTRS[@]}" --stream-name $s --patient-key "$key" --roles hospital "${escrow[@]}" \
    --out consent-$s.json >/dev/null
  "$BIN" patient share --key $s.key --consent consent-$s.json >/dev/null
done
declare -A STREAM
for s in plain escrow; do STREAM[$s]=$("$BIN" patient stream-id --key $s.key --name $s); done

access() {
  "$BIN" institution access --identity hospital.id --leaves leaves.json --role hospital \
    "${ATTRS[@]}" --stream "${STREAM[$1]}" --purpose care --min-level 2 --out tx.json >/dev/null
}
access plain; access escrow   # warm the page cache
for _ in $(seq "$RUNS"); do
  for s in plain escrow; do
    t0=$(date +%s%N); access $s; t1=$(date +%s%N)
    echo "$s $(((t1 - t0) / 1000000))"
  done
done
