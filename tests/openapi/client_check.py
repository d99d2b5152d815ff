#!/usr/bin/env python3
"""A client generated from the node's OpenAPI document, used against a real node.

Generates a Python client with openapi-python-client (a standard generator) from
`consentry openapi`, plays the demo into a data directory, starts a dev node on it, then:

- calls every read route (every GET of the document) through the generated functions, with
  path and query parameters taken from the chain, and checks that each answers 200 and that
  the generated model, parsed and written back (`to_dict`), is exactly what the handler
  returned: no field the document misses, none it invents, every type right;
- reads every committed transaction into the generated `Transaction` model and back (the
  request body schema round-trips every kind), and submits one through the generated
  `submit` function: the node understands it and answers the typed 409 replay problem;
- the paging parameters reach the handler (`from`, `limit`).

Usage: client_check.py --binary PATH --generator PATH/openapi-python-client [--params DIR]
"""
import argparse
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

failures = []


def check(ok, what):
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--generator", required=True)
    ap.add_argument("--params")
    a = ap.parse_args()
    params = ["--params", a.params] if a.params else []
    work = Path(tempfile.mkdtemp(prefix="consentry-client-check-"))
    doc_path = work / "openapi.json"
    subprocess.run([a.binary, "openapi", "--out", str(doc_path)], check=True)
    doc = json.loads(doc_path.read_text())
    print("== generating a client (openapi-python-client)")
    gen = subprocess.run(
        [a.generator, "generate", "--path", str(doc_path),
         "--output-path", str(work / "consentry_client"), "--meta", "none"],
        capture_output=True, text=True)
    out = gen.stdout + gen.stderr
    check(gen.returncode == 0, "the generator accepts the document")
    # The generator skips (with a warning) every schema or endpoint it cannot turn into
    # code; its only other warning here is that no formatter (ruff) is installed.
    skipped = [l for l in out.splitlines()
               if "will not be generated" in l or "Unable to" in l or "removal of" in l]
    check(not skipped, f"nothing skipped by the generator{': ' + ' | '.join(skipped) if skipped else ''}")
    sys.path.insert(0, str(work))
    cc = importlib.import_module("consentry_client")
    models = importlib.import_module("consentry_client.models")

    print("== the demo's data, a dev node on it")
    data = work / "data"
    subprocess.run([a.binary, "demo", "--data", str(data), *params], check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(work / "node.log", "w") as log:
        node = subprocess.Popen([a.binary, "node", "--dev", "--data", str(data),
                                 "--listen", f"127.0.0.1:{port}", *params],
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        raw = lambda p: json.load(urllib.request.urlopen(base + p))
        for _ in range(100):
            try:
                status = raw("/v1/status")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit((work / "node.log").read_text())
        run_checks(doc, cc, models, base, raw, status)
    finally:
        node.terminate()
        node.wait()


def run_checks(doc, cc, models, base, raw, status):
    client = cc.Client(base_url=base)
    share = raw(f"/v1/transactions/{raw('/v1/blocks/4')['tx_ids'][0]}")
    stream = share["transaction"]["body"]["stream_id"]
    study = raw("/v1/studies")["studies"][0]
    values = {
        ("/v1/blocks/{height}", "height"): status["height"],
        ("/v1/registry/{issuer}/leaves", "issuer"): 1,
        ("/v1/transactions/{id}", "id"): share["id"],
        ("/v1/streams/{id}", "id"): stream,
        ("/v1/streams/{id}/history", "id"): stream,
        ("/v1/studies/{id}", "id"): study,
    }

    print("== every read route through the generated client")
    reads = [(path, op) for path, ops in doc["paths"].items()
             for method, op in ops.items() if method == "get"]
    check(len(reads) == 12, f"{len(reads)} read routes in the document")
    for path, op in reads:
        tag = (op.get("tags") or ["default"])[0]
        module = importlib.import_module(f"consentry_client.api.{tag}.{op['operationId']}")
        kwargs = {p["name"]: values[(path, p["name"])]
                  for p in op.get("parameters", []) if p["in"] == "path"}
        r = module.sync_detailed(client=client, **kwargs)
        if r.status_code != 200:
            check(False, f"GET {path}: {r.status_code} {r.content[:200]!r}")
            continue
        if path == "/metrics":
            check("consentry_block_height" in r.content.decode(), "GET /metrics: Prometheus text")
            continue
        answer = json.loads(r.content)
        parsed = r.parsed
        same = parsed is not None and hasattr(parsed, "to_dict") and parsed.to_dict() == answer
        check(same, f"GET {path}: the generated {type(parsed).__name__} holds exactly the handler's answer")

    history = importlib.import_module("consentry_client.api.streams.history")
    page = history.sync(client=client, id=stream, from_=1, limit=2)
    check([e.seq for e in page.entries] == [1, 2], "from and limit reach the handler as query parameters")

    print("== request bodies: every committed transaction through the generated model")
    kinds = set()
    for h in range(status["height"] + 1):
        for tx_id in raw(f"/v1/blocks/{h}")["tx_ids"]:
            tx = raw(f"/v1/transactions/{tx_id}")["transaction"]
            model = models.Transaction.from_dict(tx)
            kinds.add(tx["body"]["kind"])
            if model.to_dict() != tx:
                check(False, f"{tx['body']['kind']} {tx_id}: the Transaction model changes it")
    check(kinds >= {"genesis", "issue_credential", "revoke_credential", "study_request",
                    "consent", "revoke_consent", "access"},
          f"the Transaction model round-trips every kind ({len(kinds)} kinds)")
    submit = importlib.import_module("consentry_client.api.transactions.submit")
    # The first accreditation again (issuer-signed, no token whose root could have aged out).
    accredit = raw(f"/v1/transactions/{raw('/v1/blocks/1')['tx_ids'][0]}")["transaction"]
    body = models.Transaction.from_dict(accredit)
    r = submit.sync_detailed(client=client, body=body)
    problem = json.loads(r.content)
    check(r.status_code == 409 and problem.get("type", "").endswith(":Replay"),
          f"a typed submission is understood by the node (the replay is refused: {r.status_code} {problem.get('type')})")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report like a failed check, with the cause
        import traceback
        traceback.print_exc()
        failures.append(str(e))
    if failures:
        print(f"generated client: {len(failures)} check(s) failed")
        sys.exit(1)
    print("generated client: every check passed")
