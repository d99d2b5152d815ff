//! A real node over real HTTP on 127.0.0.1 with a real RocksDB in a temp dir: the demo story
//! through the client code, restart on the same data, every endpoint's success and bad-input
//! twins, and the OpenAPI document.

use std::path::Path;
use std::time::Duration;

use consentry::client::builder::{self, Holder};
use consentry::client::NodeClient;
use consentry::demo::EmbeddedNode;
use consentry::ledger::{stream_id_for, Body, Hash32, IssueCredential, RevokeCredential};
use consentry::node::{self, NodeConfig};
use consentry::params;
use consentry_circuits::credential::{Attributes, Role, SecretKey};
use consentry_circuits::registry::RegistryTree;
use consentry_circuits::{field, Fr};
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn params_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/params"))
}

fn config(data: &Path) -> NodeConfig {
    NodeConfig {
        data: data.to_path_buf(),
        params: params_dir().to_path_buf(),
        genesis: None,
        key: None,
        dev: true,
        block_interval: Duration::from_millis(30),
        admission: consentry::consensus::Admission::DeferProofs,
        dev_root_window_secs: node::DEV_ROOT_WINDOW_SECS,
        cluster: None,
    }
}

#[test]
fn the_demo_story_runs_over_http_and_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    let mut out = Vec::new();
    consentry::demo::run(Some(&data), params_dir(), 1, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("demo passed"), "{text}");
    assert!(
        text.contains("rejected: ConsentRevoked") && text.contains("rejected: RootNotInWindow"),
        "{text}"
    );
    assert!(
        text.contains("refused by the data node: ConsentRevoked")
            && text.contains("1 eligible consent")
            && text.contains("not eligible, no proof can be made"),
        "{text}"
    );
    assert!(
        text.contains("refused: EscrowRequired")
            && text.contains("Demo Hospital")
            && text.contains("for case DPA-DEMO-1"),
        "{text}"
    );

    // Restart on the same data directory: height, registry and history are intact.
    let n = EmbeddedNode::start(config(&data)).unwrap();
    let client = NodeClient::new(&n.url);
    let status = client.status().unwrap();
    // 3 accreditations, 3 shares (one requiring escrow), 5 accesses (one escrowed), an
    // opening, a withdrawal, a study, its answer, the study's access, a revocation.
    assert_eq!(status.height, 17, "{status:?}");
    // Block 4 holds the share of stream-1 (after three accreditations).
    let http = Client::new();
    let b4 = get_json(&http, format!("{}/v1/blocks/4", n.url));
    let share = client
        .transaction(b4["tx_ids"][0].as_str().unwrap())
        .unwrap();
    let stream = share.transaction.unwrap()["body"]["stream_id"]
        .as_str()
        .unwrap()
        .to_string();
    let history = client.history(&stream).unwrap();
    assert_eq!(history.entries.len(), 5);
    assert_eq!(history.entries[4].kind, "revoke");
    assert_eq!(history.entries[4].pseudonym, None, "the patient alone");
    assert_eq!(history.distinct_accessors, 2);
    // Each entry carries its purpose (the policy's for the share, the reader's for an
    // access, none for the withdrawal) and its block's time.
    let purposes: Vec<_> = history
        .entries
        .iter()
        .map(|e| e.purpose.as_deref())
        .collect();
    assert_eq!(
        purposes,
        [Some("care"), Some("care"), Some("care"), Some("care"), None]
    );
    for e in &history.entries {
        let block = get_json(&http, format!("{}/v1/blocks/{}", n.url, e.height));
        assert_eq!(block["header"]["time_ms"], e.time_ms, "{e:?}");
    }
    assert_eq!(client.registry().unwrap().issuers[0].size, 3);

    // The audit page: an HTML shell and its assets, served with a strict policy.
    let page = http.get(format!("{}/", n.url)).send().unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(page.text().unwrap().contains("/assets/app.js"));
    for (asset, kind) in [
        ("app.js", "text/javascript"),
        ("style.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let r = http
            .get(format!("{}/assets/{asset}", n.url))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    // An asset that does not exist is the API's 404 problem, not a page.
    problem(
        http.get(format!("{}/assets/missing.js", n.url))
            .send()
            .unwrap(),
        404,
        "NotFound",
    );
    n.stop().unwrap();
}

fn new_holder(role: Role, level: u16) -> Holder {
    Holder {
        sk: SecretKey::random(&mut rand::rngs::OsRng),
        attributes: Attributes {
            role,
            level,
            jurisdiction: 756,
            expiry_day: 40_000,
            issuer_id: node::DEV_ISSUER_ID,
        },
    }
}

/// `GET url` as JSON.
fn get_json(http: &Client, url: String) -> Value {
    http.get(url).send().unwrap().json().unwrap()
}

/// Issues `h`'s credential through the API and returns the tree built from the synced leaves.
fn issue_and_sync(
    client: &NodeClient,
    issuer: &ed25519_dalek::SigningKey,
    h: &Holder,
) -> RegistryTree {
    let body = Body::IssueCredential(IssueCredential {
        issuer_id: 1,
        leaf: Hash32(field::to_bytes(&h.leaf())),
    });
    client
        .issue(&builder::issuer_signed(issuer, "consentry-dev", body))
        .unwrap();
    client.sync_tree(1).unwrap()
}

#[track_caller]
fn problem(resp: reqwest::blocking::Response, status: u16, code: &str) -> Value {
    let got = resp.status().as_u16();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    let text = resp.text().unwrap();
    assert_eq!(
        (got, ct.as_str()),
        (status, "application/problem+json"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["type"],
        format!("urn:consentry:problem:{code}"),
        "{body}"
    );
    assert_eq!(body["status"], status);
    body
}

#[test]
fn every_endpoint_answers_and_bad_inputs_get_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let n = EmbeddedNode::start(config(&tmp.path().join("node"))).unwrap();
    let url = n.url.clone();
    let http = Client::new();
    let client = NodeClient::new(&url);
    let alive = || {
        assert_eq!(
            http.get(format!("{url}/v1/status"))
                .send()
                .unwrap()
                .status(),
            200
        )
    };
    let dev = n.node.dev.clone().unwrap();
    let issuer = consentry::ledger::keys::read_ed25519(&dev.issuer_key, "issuer").unwrap();

    // Issue a credential (success) and replay it (409).
    let holder = new_holder(Role::Hospital, 3);
    let body = Body::IssueCredential(IssueCredential {
        issuer_id: 1,
        leaf: Hash32(field::to_bytes(&holder.leaf())),
    });
    let tx = builder::issuer_signed(&issuer, "consentry-dev", body);
    assert_eq!(client.issue(&tx).unwrap().leaf_index, 0);
    problem(
        http.post(format!("{url}/v1/credentials"))
            .json(&tx)
            .send()
            .unwrap(),
        409,
        "Replay",
    );
    alive();

    // Wrong issuer signature.
    let body = Body::IssueCredential(IssueCredential {
        issuer_id: 1,
        leaf: Hash32(field::to_bytes(&Fr::from(5u64))),
    });
    let mut forged = builder::issuer_signed(&issuer, "consentry-dev", body);
    forged.auth.signature[3] ^= 1;
    problem(
        http.post(format!("{url}/v1/credentials"))
            .json(&forged)
            .send()
            .unwrap(),
        422,
        "BadIssuerSignature",
    );
    // Revoke with a path that disagrees with the body; then the real revocation later.
    let revoke = builder::issuer_signed(
        &issuer,
        "consentry-dev",
        Body::RevokeCredential(RevokeCredential {
            issuer_id: 1,
            index: 0,
        }),
    );
    problem(
        http.post(format!("{url}/v1/credentials/1/revoke"))
            .json(&revoke)
            .send()
            .unwrap(),
        400,
        "BadRequest",
    );
    alive();

    // Registry and leaves.
    let reg: Value = get_json(&http, format!("{url}/v1/registry"));
    assert_eq!(reg["issuers"][0]["size"], 1);
    assert_eq!(reg["depth"], 20);
    let leaves: Value = get_json(&http, format!("{url}/v1/registry/1/leaves?from=0&limit=10"));
    assert_eq!(leaves["leaves"][0], field::to_hex(&holder.leaf()));
    problem(
        http.get(format!("{url}/v1/registry/1/leaves?from=x"))
            .send()
            .unwrap(),
        400,
        "BadRequest",
    );
    problem(
        http.get(format!("{url}/v1/registry/7/leaves"))
            .send()
            .unwrap(),
        404,
        "NotFound",
    );

    // Token verification: valid, tampered public input, truncated proof, off-curve point.
    let patient = schnorrkel::MiniSecretKey::generate_with(rand::rngs::OsRng)
        .expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
    let s1 = stream_id_for(&patient.public.to_bytes(), "s-1");
    let tree = client.sync_tree(1).unwrap();
    let prover = params::load_prover(params_dir(), 20).unwrap();
    let day = (node::now_ms() / 86_400_000) as u32;
    let body = holder.access_body(&tree, &s1, "care", 2, day, 1);
    let proof = holder
        .prove(
            &prover,
            "consentry-dev",
            &tree,
            &body,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
    let claim = body.claim().unwrap().clone();
    let token = json!({
        "version": 1, "depth": 20, "proof": hex::encode(&proof),
        "public": {
            "root": format!("0x{}", claim.root.to_hex()), "scope": format!("0x{}", claim.scope.to_hex()),
            "pseudonym": format!("0x{}", claim.pseudonym.to_hex()), "message": field::to_hex(&body.message("consentry-dev")),
            "role": "hospital", "issuer_id": 1, "min_level": 2, "today": day
        }
    });
    let ok: Value = http
        .post(format!("{url}/v1/tokens/verify"))
        .json(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ok["valid"], true, "{ok}");
    assert_eq!(ok["root_in_window"], true);
    assert_eq!(ok["disclosed"]["role"], "hospital");
    let mut tampered = token.clone();
    tampered["public"]["min_level"] = json!(1);
    let bad: Value = http
        .post(format!("{url}/v1/tokens/verify"))
        .json(&tampered)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(bad["valid"], false);
    let mut truncated = token.clone();
    truncated["proof"] = json!(hex::encode(&proof[..100]));
    problem(
        http.post(format!("{url}/v1/tokens/verify"))
            .json(&truncated)
            .send()
            .unwrap(),
        400,
        "BadRequest",
    );
    let mut off_curve = token.clone();
    let mut p = proof.clone();
    p[1..48].fill(0x33);
    off_curve["proof"] = json!(hex::encode(&p));
    problem(
        http.post(format!("{url}/v1/tokens/verify"))
            .json(&off_curve)
            .send()
            .unwrap(),
        400,
        "BadRequest",
    );
    alive();

    // Transactions: malformed JSON, wrong content type, oversize body, unknown and bad ids.
    let raw = |b: &str| {
        http.post(format!("{url}/v1/transactions"))
            .header("content-type", "application/json")
            .body(b.to_string())
            .send()
            .unwrap()
    };
    problem(raw("{not json"), 400, "BadRequest");
    problem(raw("{\"body\":{\"kind\":\"access\"}}"), 400, "BadRequest");
    problem(
        http.post(format!("{url}/v1/transactions"))
            .body("{}")
            .send()
            .unwrap(),
        415,
        "UnsupportedMediaType",
    );
    let huge = format!("{{\"pad\":\"{}\"}}", "a".repeat(400_000));
    problem(raw(&huge), 413, "PayloadTooLarge");
    problem(
        http.delete(format!("{url}/v1/status")).send().unwrap(),
        405,
        "MethodNotAllowed",
    );
    problem(
        http.get(format!("{url}/v1/transactions/{}", "ab".repeat(32)))
            .send()
            .unwrap(),
        404,
        "NotFound",
    );
    problem(
        http.get(format!("{url}/v1/transactions/xyz"))
            .send()
            .unwrap(),
        400,
        "BadRequest",
    );
    alive();

    // An access to a stream without consent is rejected with its reason (and a 404 status).
    let tx = builder::with_proof(body.clone(), proof.clone());
    problem(
        http.post(format!("{url}/v1/transactions"))
            .json(&tx)
            .send()
            .unwrap(),
        404,
        "UnknownStream",
    );
    // Consent for s-1 (a platform credential, a patient key), so accesses pass admission.
    let platform = new_holder(Role::Platform, 1);
    let tree2 = issue_and_sync(&client, &issuer, &platform);
    let consent = Body::Consent(consentry::ledger::Consent {
        stream_id: s1.clone(),
        stream_name: "s-1".into(),
        policy: consentry::ledger::Policy {
            roles: vec![Role::Hospital],
            min_level: 2,
            purpose: "care".into(),
            valid_from: day - 1,
            valid_until: day + 1,
            escrow: false,
        },
        data_digest: None,
        study: None,
        cohort: vec![],
        replaces: None,
        patient_key: patient.public.to_bytes(),
        nonce: 1,
        claim: platform.claim(&tree2, Fr::from(99u64), 0, day),
    });
    let consent_proof = platform
        .prove(
            &prover,
            "consentry-dev",
            &tree2,
            &consent,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
    let consent_tx = builder::patient_signed(
        &patient,
        "consentry-dev",
        builder::with_proof(consent, consent_proof),
    );
    // A patient signature over another body is refused at admission.
    let mut bad_sig = consent_tx.clone();
    bad_sig.auth.signature[10] ^= 1;
    problem(
        http.post(format!("{url}/v1/transactions"))
            .json(&bad_sig)
            .send()
            .unwrap(),
        422,
        "BadPatientSignature",
    );
    assert_eq!(
        client.submit(&consent_tx, true).unwrap().status,
        consentry::api::TxStatus::Committed
    );
    // The access proven earlier (against the older root, still in the window) now commits.
    assert_eq!(
        client.submit(&tx, true).unwrap().status,
        consentry::api::TxStatus::Committed
    );
    let hist: Value = get_json(&http, format!("{url}/v1/streams/{s1}/history"));
    assert_eq!(hist["distinct_accessors"], 1);
    let st: Value = get_json(&http, format!("{url}/v1/streams/{s1}"));
    assert_eq!(st["shared"], true);

    // The same body with a proof for another body: ProofInvalid.
    let other = holder.access_body(&tree, &s1, "care", 2, day, 2);
    let mut swapped = builder::with_proof(other, proof.clone());
    swapped.auth.proof = proof.clone();
    // This address has had two proofs verified so far, too few to be trusted: its proofs are
    // verified at admission, so the swap is refused at once (a trusted address's would be
    // deferred to the block's batch and rejected there: tests/ledger.rs).
    problem(
        http.post(format!("{url}/v1/transactions"))
            .json(&swapped)
            .send()
            .unwrap(),
        422,
        "ProofInvalid",
    );
    let mut again = swapped.clone();
    if let Body::Access(a) = &mut again.body {
        a.nonce = 77;
    }
    problem(
        http.post(format!("{url}/v1/transactions?wait=true"))
            .json(&again)
            .send()
            .unwrap(),
        422,
        "ProofInvalid",
    );

    // Revoke for real; the transaction reads back as committed.
    let r = client.revoke(0, &revoke).unwrap();
    let read: Value = get_json(&http, format!("{url}/v1/transactions/{}", r.id));
    assert_eq!(read["status"], "committed");
    assert_eq!(read["transaction"]["body"]["kind"], "revoke_credential");

    // Blocks, streams, studies, status, metrics, unknown routes.
    let latest: Value = get_json(&http, format!("{url}/v1/blocks/latest"));
    let h = latest["header"]["height"].as_u64().unwrap();
    assert!(h >= 2);
    let b1: Value = get_json(&http, format!("{url}/v1/blocks/1"));
    assert_eq!(b1["header"]["height"], 1);
    problem(
        http.get(format!("{url}/v1/blocks/99999")).send().unwrap(),
        404,
        "NotFound",
    );
    problem(
        http.get(format!("{url}/v1/blocks/abc")).send().unwrap(),
        400,
        "BadRequest",
    );
    problem(
        http.get(format!("{url}/v1/streams/{}", "ab".repeat(32)))
            .send()
            .unwrap(),
        404,
        "NotFound",
    );
    problem(
        http.get(format!("{url}/v1/streams/bad%20id/history"))
            .send()
            .unwrap(),
        400,
        "BadRequest",
    );
    let studies: Value = get_json(&http, format!("{url}/v1/studies"));
    assert_eq!(studies["studies"], json!([]));
    // A research centre asks for consent; the request is listed and readable.
    let research = new_holder(Role::Research, 2);
    let tree3 = issue_and_sync(&client, &issuer, &research);
    let request = Body::StudyRequest(consentry::ledger::StudyRequest {
        purpose: "cardiology cohort".into(),
        required_role: Role::Research,
        min_level: 2,
        cohort: vec![consentry::ledger::CohortRange {
            attribute: "age".into(),
            lo: 40,
            hi: 60,
        }],
        nonce: 1,
        claim: research.claim(&tree3, builder::fresh_scope(&mut rand::rngs::OsRng), 2, day),
    });
    let request_proof = research
        .prove(
            &prover,
            "consentry-dev",
            &tree3,
            &request,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
    let study = client
        .submit(&builder::with_proof(request, request_proof), true)
        .unwrap();
    assert_eq!(study.status, consentry::api::TxStatus::Committed);
    let studies: Value = get_json(&http, format!("{url}/v1/studies"));
    assert_eq!(studies["studies"], json!([study.id.clone()]));
    let one: Value = get_json(&http, format!("{url}/v1/studies/{}", study.id));
    assert_eq!(one["purpose"], "cardiology cohort");
    assert_eq!(
        one["criteria"],
        json!([{"attribute": "age", "lo": 40, "hi": 60, "bits": 8}])
    );
    assert_eq!(one["eligible_consents"], 0);
    // A platform answers for an eligible patient: commitments and range proofs, no value.
    let platform = new_holder(Role::Platform, 1);
    let tree4 = issue_and_sync(&client, &issuer, &platform);
    let study_id = consentry::ledger::Hash32::from_hex(&study.id).unwrap();
    let answer = |age: u64, name: &str, tamper: bool| {
        let a = consentry::cohort::Answer::commit(
            &[consentry::ledger::CohortRange {
                attribute: "age".into(),
                lo: 40,
                hi: 60,
            }],
            &[age],
            &mut rand::rngs::OsRng,
        )
        .unwrap();
        let patient = schnorrkel::MiniSecretKey::generate_with(rand::rngs::OsRng)
            .expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
        let body = Body::Consent(consentry::ledger::Consent {
            stream_id: consentry::ledger::stream_id_for(&patient.public.to_bytes(), name),
            stream_name: name.into(),
            policy: consentry::ledger::Policy {
                roles: vec![Role::Research],
                min_level: 2,
                purpose: "cardiology cohort".into(),
                valid_from: day - 1,
                valid_until: day + 10,
                escrow: false,
            },
            data_digest: None,
            study: Some(study_id),
            cohort: a.commitments.clone(),
            replaces: None,
            patient_key: patient.public.to_bytes(),
            nonce: 0,
            claim: platform.claim(&tree4, builder::fresh_scope(&mut rand::rngs::OsRng), 0, day),
        });
        let mut cohort = a
            .prove("consentry-dev", study_id, body.id(), &mut rand::rngs::OsRng)
            .unwrap();
        if tamper {
            cohort[100] ^= 1;
        }
        let proof = platform
            .prove(
                &prover,
                "consentry-dev",
                &tree4,
                &body,
                &mut rand::rngs::OsRng,
            )
            .unwrap();
        let mut tx = builder::with_proof(body, proof);
        tx.auth.cohort = cohort;
        builder::patient_signed(&patient, "consentry-dev", tx)
    };
    let bad = answer(45, "cohort-bad", true);
    problem(
        http.post(format!("{url}/v1/transactions?wait=true"))
            .json(&bad)
            .send()
            .unwrap(),
        422,
        "CohortProofInvalid",
    );
    let good = answer(45, "cohort-good", false);
    let r = client.submit(&good, true).unwrap();
    assert_eq!(r.status, consentry::api::TxStatus::Committed);
    let one: Value = get_json(&http, format!("{url}/v1/studies/{}", study.id));
    assert_eq!(one["eligible_consents"], 1);
    assert_eq!(one["streams"][0]["consent"], json!(r.id));
    assert_eq!(one["streams"][0]["current"], true);
    assert!(
        !one.to_string().contains("\"45\"") && !one.to_string().contains(":45"),
        "no value: {one}"
    );
    problem(
        http.get(format!("{url}/v1/studies/{}", "00".repeat(32)))
            .send()
            .unwrap(),
        404,
        "NotFound",
    );
    let status = client.status().unwrap();
    assert_eq!(
        status.height,
        h + 4,
        "the research and platform credentials, the study request and one answer"
    );
    assert!(status.params.iter().any(|p| p.file == "access-d20.vk"));
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("consentry_tx_rejected_total{reason=\"Replay\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("consentry_block_height"));
    problem(
        http.get(format!("{url}/v1/nothing")).send().unwrap(),
        404,
        "NotFound",
    );
    alive();
    n.stop().unwrap();
}

#[test]
fn the_openapi_document_lists_every_route() {
    let tmp = tempfile::tempdir().unwrap();
    let n = EmbeddedNode::start(config(&tmp.path().join("node"))).unwrap();
    let doc: Value = Client::new()
        .get(format!("{}/v1/openapi.json", n.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/v1/status",
        "/v1/blocks/latest",
        "/v1/blocks/{height}",
        "/v1/registry",
        "/v1/registry/{issuer}/leaves",
        "/v1/credentials",
        "/v1/credentials/{index}/revoke",
        "/v1/tokens/verify",
        "/v1/transactions",
        "/v1/transactions/{id}",
        "/v1/streams/{id}",
        "/v1/streams/{id}/history",
        "/v1/studies",
        "/v1/studies/{id}",
        "/v1/openapi.json",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        paths.len(),
        16,
        "a documented route that is not served: {:?}",
        paths.keys()
    );
    n.stop().unwrap();
}

/// Hardening over HTTP: the credential answer names the leaf this transaction appended; a
/// 70 KB signature is a 413 problem and never reaches the chain, which still verifies after
/// the node stops; a full mempool would answer 429 with `Retry-After` (the mapping); and a
/// node refuses a non-dev genesis that accepts the public-seed development key.
#[test]
fn oversized_fields_are_refused_over_http_and_dev_keys_need_dev() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    let n = EmbeddedNode::start(config(&data)).unwrap();
    let url = n.url.clone();
    let http = Client::new();
    let client = NodeClient::new(&url);
    let dev = n.node.dev.clone().unwrap();
    let issuer = consentry::ledger::keys::read_ed25519(&dev.issuer_key, "issuer").unwrap();
    let first = new_holder(Role::Hospital, 3);
    let second = new_holder(Role::Hospital, 2);
    for (h, index) in [(&first, 0), (&second, 1)] {
        let body = Body::IssueCredential(IssueCredential {
            issuer_id: 1,
            leaf: Hash32(field::to_bytes(&h.leaf())),
        });
        let r = client
            .issue(&builder::issuer_signed(&issuer, "consentry-dev", body))
            .unwrap();
        assert_eq!((r.issuer_id, r.leaf_index), (1, index));
    }
    let tree = client.sync_tree(1).unwrap();
    let prover = params::load_prover(params_dir(), 20).unwrap();
    let day = (node::now_ms() / 86_400_000) as u32;
    let body = first.access_body(&tree, &"ab".repeat(32), "care", 2, day, 1);
    let proof = first
        .prove(
            &prover,
            "consentry-dev",
            &tree,
            &body,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
    let mut big = builder::with_proof(body, proof);
    big.auth.signature = vec![0xab; 70_000];
    let p = problem(
        http.post(format!("{url}/v1/transactions?wait=true"))
            .json(&big)
            .send()
            .unwrap(),
        413,
        "TooLarge",
    );
    assert!(p["detail"].as_str().unwrap().contains("65536"), "{p}");
    let height = client.status().unwrap().height;
    n.stop().unwrap();

    let store = consentry::store::RocksStore::open(&data.join("db")).unwrap();
    let genesis = consentry::ledger::read_genesis(&store).unwrap();
    let keys = params::load_genesis_keys(params_dir(), &genesis).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let summary = consentry::ledger::verify_chain(&store, scratch.path(), &keys).unwrap();
    assert_eq!(summary.blocks, height + 1);
    drop(store);

    // The problem mapping of a full mempool: 429 and Retry-After.
    let busy = consentry::api::problem::Problem::from(consentry::ledger::Rejection::Busy {
        reason: "full".into(),
        retry_after_secs: 1,
    });
    let resp = axum::response::IntoResponse::into_response(busy);
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");

    // The same genesis (dev verifying key) without --dev: refused, saying why. Its twin, with
    // --dev, is the node started above.
    let genesis_file = tmp.path().join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_vec(&genesis).unwrap()).unwrap();
    let cfg = NodeConfig {
        data: tmp.path().join("other"),
        genesis: Some(genesis_file),
        key: Some(dev.validator_key.clone()),
        dev: false,
        ..config(&data)
    };
    let err = consentry::node::Node::open(&cfg).err().unwrap().to_string();
    assert!(err.contains("INSECURE development verifying key"), "{err}");
    assert!(
        !tmp.path().join("other").join("db").exists(),
        "nothing written"
    );
}

/// `POST /v1/tokens/verify` with an escrowed token (the dev inspector's escrow circuit, as a
/// dev node's genesis names it): valid; with another escrow or without its escrow, invalid;
/// with an escrow that is no ciphertext, a bad request.
#[test]
fn escrowed_tokens_verify_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let n = EmbeddedNode::start(config(&tmp.path().join("node"))).unwrap();
    let url = n.url.clone();
    let http = Client::new();
    let client = NodeClient::new(&url);
    let dev = n.node.dev.clone().unwrap();
    let issuer = consentry::ledger::keys::read_ed25519(&dev.issuer_key, "issuer").unwrap();
    let holder = new_holder(Role::Hospital, 3);
    let tree = issue_and_sync(&client, &issuer, &holder);
    let day = (node::now_ms() / 86_400_000) as u32;
    let s1 = stream_id_for(&[7; 32], "s-1");
    // An escrowed token (the dev inspector's escrow circuit): valid; with another escrow,
    // or without its escrow, invalid; with an escrow that is no ciphertext, a bad request.
    let inspector = consentry::circuits::escrow::InspectorSecret::dev().public();
    let escrow_prover = params::load_escrow_prover(params_dir(), 20, inspector).unwrap();
    let mut rng = rand::rngs::OsRng;
    let (body, r) =
        holder.escrowed_access_body(&tree, &s1, "care", 2, day, 2, &inspector, &mut rng);
    let proof = holder
        .prove_escrowed(&escrow_prover, "consentry-dev", &tree, &body, &r, &mut rng)
        .unwrap();
    let claim = body.claim().unwrap().clone();
    let mut escrowed = json!({
        "version": 1, "depth": 20,
        "public": {
            "root": format!("0x{}", claim.root.to_hex()), "scope": format!("0x{}", claim.scope.to_hex()),
            "role": "hospital", "issuer_id": 1, "min_level": 2, "today": day
        }
    });
    escrowed["proof"] = json!(hex::encode(&proof));
    escrowed["public"]["message"] = json!(field::to_hex(&body.message("consentry-dev")));
    escrowed["public"]["pseudonym"] = json!(format!("0x{}", claim.pseudonym.to_hex()));
    escrowed["escrow"] = json!(hex::encode(claim.escrow.unwrap().0));
    let verify = |t: &Value| -> Value {
        http.post(format!("{url}/v1/tokens/verify"))
            .json(t)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    assert_eq!(verify(&escrowed)["valid"], true, "{escrowed}");
    let (other, _) = consentry::circuits::escrow::encrypt(&holder.sk.id(), &inspector, &mut rng);
    let mut swapped = escrowed.clone();
    swapped["escrow"] = json!(hex::encode(other.to_bytes()));
    assert_eq!(verify(&swapped)["valid"], false);
    let mut stripped = escrowed.clone();
    stripped.as_object_mut().unwrap().remove("escrow");
    assert_eq!(verify(&stripped)["valid"], false);
    let mut garbage = escrowed.clone();
    garbage["escrow"] = json!("5a".repeat(64));
    problem(
        http.post(format!("{url}/v1/tokens/verify"))
            .json(&garbage)
            .send()
            .unwrap(),
        400,
        "BadRequest",
    );
    assert_eq!(
        http.get(format!("{url}/v1/status"))
            .send()
            .unwrap()
            .status(),
        200
    );
}
