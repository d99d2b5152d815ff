//! The one-command demo: the whole Consentry story against a real node (HTTP on 127.0.0.1,
//! RocksDB in a temp dir), printing each step and its time. Every step checks what it expects;
//! the first surprise is an error.
//!
//! With several validators ([`run`]'s `validators`), the story runs against a consortium of
//! validator processes (this binary, `node --config`): the leader is killed with SIGKILL
//! half-way, the story goes on under the new leader, and the killed validator is restarted and
//! must catch up to identical blocks.

mod datanode;
mod escrow;
mod processes;

pub use datanode::EmbeddedDataNode;
pub use processes::Processes;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use consentry_circuits::credential::{Attributes, Role, SecretKey};
use consentry_circuits::field;
use consentry_circuits::groth::Prover;
use consentry_circuits::registry::RegistryTree;
use rand::rngs::OsRng;
use rand::RngCore;

use crate::client::builder::{self, Holder};
use crate::client::data::DataNodeClient;
use crate::client::{self, ClientError, NodeClient};
use crate::ledger::{
    self, keys, stream_id_for, Body, Consent, Hash32, IssueCredential, Policy, RevokeConsent,
    RevokeCredential, Transaction,
};
use crate::node::{self, Node, NodeConfig};
use crate::params;

/// A server on a thread of its own: told to stop gracefully and waited for on
/// [`Background::shutdown`] or on drop.
struct Background {
    what: &'static str,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl Background {
    fn new(
        what: &'static str,
        stop: tokio::sync::oneshot::Sender<()>,
        thread: std::thread::JoinHandle<anyhow::Result<()>>,
    ) -> Background {
        Background {
            what,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow::anyhow!("{} thread panicked", self.what))?,
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// A node running on a background thread, stopped on drop.
pub struct EmbeddedNode {
    /// Its base URL.
    pub url: String,
    /// The shared node state.
    pub node: Arc<Node>,
    server: Background,
}

impl EmbeddedNode {
    /// Starts a node for `cfg` on an ephemeral port of 127.0.0.1.
    pub fn start(cfg: NodeConfig) -> anyhow::Result<EmbeddedNode> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1")?;
        Self::start_on(cfg, listener, None)
    }

    /// Starts a node for `cfg` serving its API on `listener` (and, for a cluster validator,
    /// the peer routes on `peer_listener`), on a thread of its own with its own runtime.
    pub fn start_on(
        cfg: NodeConfig,
        listener: std::net::TcpListener,
        peer_listener: Option<std::net::TcpListener>,
    ) -> anyhow::Result<EmbeddedNode> {
        listener.set_nonblocking(true)?;
        if let Some(p) = &peer_listener {
            p.set_nonblocking(true)?;
        }
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<anyhow::Result<Arc<Node>>>();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let node = match Node::start(&cfg).await {
                    Ok(n) => Arc::new(n),
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return Ok(());
                    }
                };
                let _ = started_tx.send(Ok(node.clone()));
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let peer_listener = match peer_listener {
                    Some(p) => Some(tokio::net::TcpListener::from_std(p)?),
                    None => None,
                };
                crate::api::serve(node, listener, peer_listener, cfg.block_interval, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        let node = match started_rx.recv() {
            Ok(Ok(node)) => node,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                return Err(match thread.join() {
                    Ok(Err(e)) => e,
                    _ => anyhow::anyhow!("the node thread stopped before the node started"),
                })
            }
        };
        Ok(EmbeddedNode {
            url,
            node,
            server: Background::new("node", stop, thread),
        })
    }

    /// Stops the node gracefully and waits for it.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.server.shutdown()
    }
}

fn today() -> u32 {
    (node::now_ms() / 86_400_000) as u32
}

/// The demo's narrative: numbered steps, each timed, with a one-line result.
struct Story<'a> {
    out: &'a mut dyn Write,
    step: usize,
    started: Instant,
}

impl Story<'_> {
    fn step<T>(
        &mut self,
        what: &str,
        f: impl FnOnce() -> anyhow::Result<(T, String)>,
    ) -> anyhow::Result<T> {
        self.step += 1;
        let t = Instant::now();
        let (value, detail) = f().with_context(|| format!("step {}: {what}", self.step))?;
        writeln!(
            self.out,
            "[{:>2}] {what:<62} {:>7.1?}  {detail}",
            self.step,
            t.elapsed()
        )?;
        Ok(value)
    }
}

fn holder(role: Role, level: u16) -> Holder {
    Holder {
        sk: SecretKey::random(&mut OsRng),
        attributes: Attributes {
            role,
            level,
            jurisdiction: 756,
            expiry_day: today() + 365,
            issuer_id: node::DEV_ISSUER_ID,
        },
    }
}

fn short(h: &Hash32) -> String {
    format!("0x{}…", &h.to_hex()[..12])
}

fn rejection_code(r: Result<crate::api::TxResponse, ClientError>) -> anyhow::Result<String> {
    match r {
        Err(ClientError::Problem { code, .. }) => Ok(code),
        Err(e) => Err(e.into()),
        Ok(r) => anyhow::bail!("expected a rejection, got {:?}", r.status),
    }
}

/// The demo chain's revocation bound, short so that the story can show a revoked credential
/// refused after the window without making any block in between.
const DEMO_ROOT_WINDOW_SECS: u32 = 2;

/// The demo data node's name (patients sign their ingests for it).
const DEMO_DATANODE: &str = "demo-datanode";

/// Where the story runs.
enum Net {
    /// One embedded validator.
    Solo(EmbeddedNode),
    /// Validator processes; the story's client talks to `client` (never the one killed).
    Cluster {
        processes: Processes,
        client: usize,
        leader: usize,
    },
}

/// Runs the story on `validators` validators (1: an embedded node; more: validator processes
/// of this binary). `data`: keep the data there (default: a temp dir).
pub fn run(
    data: Option<&Path>,
    params_dir: &Path,
    validators: usize,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data: PathBuf = data
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.path().join("node"));
    let mut story = Story {
        out,
        step: 0,
        started: Instant::now(),
    };
    let cfg = NodeConfig {
        data: data.clone(),
        params: params_dir.to_path_buf(),
        genesis: None,
        key: None,
        dev: true,
        block_interval: Duration::from_millis(50),
        admission: crate::consensus::Admission::DeferProofs,
        dev_root_window_secs: DEMO_ROOT_WINDOW_SECS,
        cluster: None,
    };

    let mut net = if validators <= 1 {
        story.step(
            "start a dev validator node (RocksDB, HTTP on 127.0.0.1)",
            || {
                let n = EmbeddedNode::start(cfg.clone())?;
                let detail = format!("{} data {}", n.url, data.display());
                Ok((Net::Solo(n), detail))
            },
        )?
    } else {
        story.step(
            &format!("start {validators} validator processes (Raft, RocksDB each)"),
            || {
                let p = Processes::start(&data, validators, params_dir, DEMO_ROOT_WINDOW_SECS)?;
                let all: Vec<usize> = (0..p.len()).collect();
                let leader = p.wait_leader(&all, None)? as usize - 1;
                let client = (leader + 1) % p.len();
                let detail = format!(
                    "validator {} leads; the story talks to validator {} ({})",
                    leader + 1,
                    client + 1,
                    p.url(client)
                );
                Ok((
                    Net::Cluster {
                        processes: p,
                        client,
                        leader,
                    },
                    detail,
                ))
            },
        )?
    };
    let (url, issuer_key, inspector_key, genesis_file, validator_urls) = match &net {
        Net::Solo(n) => {
            let dev = n.node.dev.clone().context("dev files")?;
            (
                n.url.clone(),
                dev.issuer_key,
                dev.inspector_key,
                dev.genesis,
                vec![n.url.clone()],
            )
        }
        Net::Cluster {
            processes, client, ..
        } => (
            processes.url(*client),
            processes.issuer_key(),
            processes.inspector_key(),
            processes.genesis(),
            (0..processes.len()).map(|i| processes.url(i)).collect(),
        ),
    };
    // The issuer's own records of whom it accredited (never sent): `issuer whois` reads them.
    let issuer_records = crate::client::accreditation::default_path(&data.join("issuer.key"));
    let client = NodeClient::new(&url);
    let issuer = keys::read_ed25519(&issuer_key, "issuer")?;
    let registry = client.registry()?;
    let chain = client.status()?.chain_id;
    let patient_chain = chain.clone();
    let depth = registry.depth as usize;
    let prover: Prover = story.step(
        "load the proving key (digest checked against the manifest)",
        || {
            Ok((
                params::load_prover(params_dir, depth)?,
                format!("depth {depth}"),
            ))
        },
    )?;

    let hospital = holder(Role::Hospital, 3);
    let research = holder(Role::Research, 2);
    let platform = holder(Role::Platform, 2);
    let mut indices = Vec::new();
    for (name, h) in [
        ("Hospital", &hospital),
        ("Research Centre", &research),
        ("Data Platform", &platform),
    ] {
        let index = story.step(
            &format!(
                "issuer accredits the {} (sees only its id)",
                name.to_lowercase()
            ),
            || {
                let body = Body::IssueCredential(IssueCredential {
                    issuer_id: node::DEV_ISSUER_ID,
                    leaf: Hash32(field::to_bytes(&h.leaf())),
                });
                let r = client.issue(&builder::issuer_signed(&issuer, &chain, body))?;
                crate::client::accreditation::append(
                    &issuer_records,
                    &crate::client::accreditation::Accreditation {
                        id: field::to_hex(&h.sk.id().0),
                        name: Some(format!("Demo {name}")),
                        issuer_id: r.issuer_id,
                        leaf_index: r.leaf_index,
                        tx: r.id.clone(),
                        height: r.height,
                    },
                )?;
                Ok((
                    r.leaf_index,
                    format!("leaf {} in block {}", r.leaf_index, r.height),
                ))
            },
        )?;
        indices.push(index);
    }

    let tree = story.step(
        "institutions sync the public leaf list, build paths locally",
        || {
            let t = client.sync_tree(node::DEV_ISSUER_ID)?;
            let detail = format!(
                "{} leaves, root {}…",
                t.len(),
                &field::to_hex(&t.root())[..14]
            );
            Ok((t, detail))
        },
    )?;

    let patient = schnorrkel::MiniSecretKey::generate_with(OsRng)
        .expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
    let day = today();
    let stream1 = stream_id_for(&patient.public.to_bytes(), "stream-1");
    let stream2 = stream_id_for(&patient.public.to_bytes(), "stream-2");

    // The data path: a data node beside the validators holds the stream's records.
    let datanode = story.step(
        "start a data node beside the validators (own RocksDB)",
        || {
            let genesis: ledger::Genesis = crate::files::read_json(&genesis_file)?;
            let dn = EmbeddedDataNode::start(
                &data.join("datanode"),
                DEMO_DATANODE,
                validator_urls.clone(),
                genesis,
            )?;
            let detail = format!("{}, records encrypted at rest", dn.url);
            Ok((dn, detail))
        },
    )?;
    let datanode_client = DataNodeClient::new(&datanode.url);
    let measurements: Vec<serde_json::Value> = (0..5u64)
        .map(|i| {
            serde_json::json!({
                "time_ms": node::now_ms() - (5 - i) * 60_000,
                "heart_rate": 62 + 3 * i,
                "spo2": 97 + i % 2,
            })
        })
        .collect();
    let snapshot = Hash32(crate::delivery::records_digest(&serde_json::to_vec(
        &measurements,
    )?));
    story.step(
        "patient puts 5 measurements into stream-1 (stream key)",
        || {
            let r = datanode_client.put(
                &patient,
                &chain,
                DEMO_DATANODE,
                "stream-1",
                measurements.clone(),
            )?;
            Ok((
                (),
                format!(
                    "{} records held, next sequence {}",
                    r.records, r.next_sequence
                ),
            ))
        },
    )?;

    let consent = |tree: &RegistryTree,
                   name: &str,
                   roles: Vec<Role>,
                   data_digest: Option<Hash32>,
                   escrow: bool|
     -> anyhow::Result<Transaction> {
        let scope = builder::fresh_scope(&mut OsRng);
        let body = Body::Consent(Consent {
            stream_id: stream_id_for(&patient.public.to_bytes(), name),
            stream_name: name.into(),
            policy: Policy {
                roles,
                min_level: 2,
                purpose: "care".into(),
                valid_from: day - 1,
                valid_until: day + 365,
                escrow,
            },
            data_digest,
            study: None,
            cohort: vec![],
            replaces: None,
            patient_key: patient.public.to_bytes(),
            nonce: OsRng.next_u64(),
            claim: platform.claim(tree, scope, 0, day),
        });
        let proof = platform.prove(&prover, &chain, tree, &body, &mut OsRng)?;
        Ok(builder::patient_signed(
            &patient,
            &patient_chain,
            builder::with_proof(body, proof),
        ))
    };
    story.step(
        "patient shares stream-1 (hospital, research; level >= 2; care)",
        || {
            let r = client.submit(
                &consent(
                    &tree,
                    "stream-1",
                    vec![Role::Hospital, Role::Research],
                    Some(snapshot),
                    false,
                )?,
                true,
            )?;
            ensure!(
                r.status == crate::api::TxStatus::Committed,
                "consent not committed: {r:?}"
            );
            Ok((
                (),
                format!(
                    "platform token + patient signature, block {:?}, names the 5 records",
                    r.height.unwrap_or(0)
                ),
            ))
        },
    )?;

    let access = |who: &Holder,
                  tree: &RegistryTree,
                  stream: &str|
     -> anyhow::Result<(Transaction, Hash32)> {
        let body = who.access_body(tree, stream, "care", 2, day, OsRng.next_u64());
        let nym = body.claim().map(|c| c.pseudonym).unwrap_or_default();
        let proof = who.prove(&prover, &chain, tree, &body, &mut OsRng)?;
        Ok((builder::with_proof(body, proof), nym))
    };
    let (nym1, access1) = story.step("hospital reads stream-1 anonymously (Access)", || {
        let (tx, nym) = access(&hospital, &tree, &stream1)?;
        let r = client.submit(&tx, true)?;
        ensure!(
            r.status == crate::api::TxStatus::Committed,
            "access not committed: {r:?}"
        );
        Ok((
            (nym, tx.id()),
            format!("accepted, pseudonym {}", short(&nym)),
        ))
    })?;
    let records = story.step(
        "hospital fetches its access's records from the data node",
        || {
            let got = client::data::fetch(&client, &datanode_client, &hospital.sk, access1)?;
            ensure!(
                got.count == measurements.len() && got.snapshot_checked,
                "expected the 5 shared records, got {}",
                got.count
            );
            let records: Vec<serde_json::Value> = serde_json::from_slice(&got.plaintext)?;
            ensure!(records == measurements, "not the records the patient put");
            Ok((
                records,
                "finality checked by the data node, HPKE-opened, digest = the share's".into(),
            ))
        },
    )?;
    for r in &records {
        writeln!(story.out, "       {r}")?;
    }
    story.step("hospital reads stream-1 again", || {
        let (tx, nym) = access(&hospital, &tree, &stream1)?;
        client.submit(&tx, true)?;
        ensure!(nym == nym1, "the pseudonym changed within one scope");
        Ok(((), format!("accepted, same pseudonym {}", short(&nym))))
    })?;
    story.step("research centre reads stream-1", || {
        let (tx, nym) = access(&research, &tree, &stream1)?;
        client.submit(&tx, true)?;
        ensure!(nym != nym1, "two institutions share a pseudonym");
        Ok(((), format!("accepted, different pseudonym {}", short(&nym))))
    })?;
    story.step("patient audits stream-1", || {
        let h = client.history(&stream1)?;
        ensure!(
            h.entries.len() == 4 && h.distinct_accessors == 2,
            "unexpected audit: {h:?}"
        );
        let kinds: Vec<&str> = h.entries.iter().map(|e| e.kind.as_str()).collect();
        Ok((
            (),
            format!(
                "{} entries {:?}, {} distinct readers",
                h.entries.len(),
                kinds,
                h.distinct_accessors
            ),
        ))
    })?;
    escrow::run(&mut escrow::Escrowed {
        story: &mut story,
        client: &client,
        params_dir,
        inspector_key: &inspector_key,
        issuer_records: &issuer_records,
        hospital: &hospital,
        tree: &tree,
        plain_prover: &prover,
        day,
        share: &|tree, name| consent(tree, name, vec![Role::Hospital], None, true),
        stream: stream_id_for(&patient.public.to_bytes(), "stream-3"),
    })?;
    if let Net::Cluster {
        processes, leader, ..
    } = &mut net
    {
        story.step("SIGKILL the leader half-way through the story", || {
            let killed_at = Instant::now();
            processes.signal(*leader, libc::SIGKILL)?;
            let survivors: Vec<usize> = (0..processes.len()).filter(|i| i != leader).collect();
            let new = processes.wait_leader(&survivors, Some(*leader as u64 + 1))?;
            Ok((
                (),
                format!(
                    "validator {} killed; validator {new} leads after {:.1?}",
                    *leader + 1,
                    killed_at.elapsed()
                ),
            ))
        })?;
    }
    story.step(
        "patient withdraws stream-1 alone (stream key, no platform)",
        || {
            let body = Body::RevokeConsent(RevokeConsent {
                stream_id: stream1.clone(),
                patient_key: patient.public.to_bytes(),
                nonce: OsRng.next_u64(),
            });
            let unsigned = Transaction {
                body,
                auth: Default::default(),
            };
            let r = client.submit(
                &builder::patient_signed(&patient, &patient_chain, unsigned),
                true,
            )?;
            ensure!(
                r.status == crate::api::TxStatus::Committed,
                "withdrawal not committed: {r:?}"
            );
            Ok(((), format!("block {:?}", r.height.unwrap_or(0))))
        },
    )?;
    story.step(
        "hospital fetches its earlier access after the withdrawal",
        || match client::data::fetch(&client, &datanode_client, &hospital.sk, access1) {
            Err(client::data::FetchError::DataNode(ClientError::Problem { code, .. }))
                if code == "ConsentRevoked" =>
            {
                Ok(((), format!("refused by the data node: {code}")))
            }
            Err(e) => Err(anyhow::anyhow!("expected ConsentRevoked, got: {e}")),
            Ok(_) => Err(anyhow::anyhow!("delivered after the withdrawal")),
        },
    )?;
    story.step("hospital reads stream-1 after the revocation", || {
        let (tx, _) = access(&hospital, &tree, &stream1)?;
        let code = rejection_code(client.submit(&tx, true))?;
        ensure!(
            code == "ConsentRevoked",
            "expected ConsentRevoked, got {code}"
        );
        Ok(((), format!("rejected: {code}")))
    })?;

    // Recruitment: a study learns that a patient is eligible, never the values.
    let study_purpose = "cardiology cohort";
    let study = story.step(
        "research centre asks: age in [40,60), hba1c in [48,75)",
        || {
            let body = Body::StudyRequest(ledger::StudyRequest {
                purpose: study_purpose.into(),
                required_role: Role::Research,
                min_level: 2,
                cohort: vec![
                    ledger::CohortRange {
                        attribute: "age".into(),
                        lo: 40,
                        hi: 60,
                    },
                    ledger::CohortRange {
                        attribute: "hba1c".into(),
                        lo: 48,
                        hi: 75,
                    },
                ],
                nonce: OsRng.next_u64(),
                claim: research.claim(&tree, builder::fresh_scope(&mut OsRng), 0, day),
            });
            let proof = research.prove(&prover, &chain, &tree, &body, &mut OsRng)?;
            let r = client.submit(&builder::with_proof(body, proof), true)?;
            ensure!(
                r.status == crate::api::TxStatus::Committed,
                "study not committed: {r:?}"
            );
            let detail = format!("study {}… (research token, fresh scope)", &r.id[..12]);
            Ok((r.id, detail))
        },
    )?;
    let request = client.study(&study)?;
    let criteria: Vec<ledger::CohortRange> = request
        .criteria
        .iter()
        .map(|c| ledger::CohortRange {
            attribute: c.attribute.clone(),
            lo: c.lo,
            hi: c.hi,
        })
        .collect();
    let study_id = Hash32::from_hex(&study).map_err(anyhow::Error::msg)?;
    let eligible_stream = story.step(
        "platform answers for patient A (age 52, hba1c 60): range proofs",
        || {
            let answer = crate::cohort::Answer::commit(&criteria, &[52, 60], &mut OsRng)?;
            let a = schnorrkel::MiniSecretKey::generate_with(OsRng)
                .expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
            let stream = stream_id_for(&a.public.to_bytes(), "cohort-a");
            let body = Body::Consent(Consent {
                stream_id: stream.clone(),
                stream_name: "cohort-a".into(),
                policy: Policy {
                    roles: vec![Role::Research],
                    min_level: 2,
                    purpose: study_purpose.into(),
                    valid_from: day - 1,
                    valid_until: day + 365,
                    escrow: false,
                },
                data_digest: None,
                study: Some(study_id),
                cohort: answer.commitments.clone(),
                replaces: None,
                patient_key: a.public.to_bytes(),
                nonce: OsRng.next_u64(),
                claim: platform.claim(&tree, builder::fresh_scope(&mut OsRng), 0, day),
            });
            let cohort = answer.prove(&chain, study_id, body.id(), &mut OsRng)?;
            let bytes = cohort.len();
            let proof = platform.prove(&prover, &chain, &tree, &body, &mut OsRng)?;
            let mut tx = builder::with_proof(body, proof);
            tx.auth.cohort = cohort;
            let r = client.submit(&builder::patient_signed(&a, &patient_chain, tx), true)?;
            ensure!(
                r.status == crate::api::TxStatus::Committed,
                "answer not committed: {r:?}"
            );
            Ok((
                stream,
                format!("2 commitments, one aggregated proof ({bytes} B), committed"),
            ))
        },
    )?;
    story.step(
        "platform for patient B (age 35) cannot prove, and says so",
        || match crate::cohort::Answer::commit(&criteria, &[35, 60], &mut OsRng) {
            Err(e @ crate::cohort::CohortError::NotEligible { .. }) => {
                Ok(((), format!("refused locally, nothing sent: {e}")))
            }
            other => anyhow::bail!("expected NotEligible, got {other:?}"),
        },
    )?;
    story.step("the study sees its eligible consents, no value", || {
        let s = client.study(&study)?;
        ensure!(
            s.eligible_consents == 1 && s.streams[0].stream_id == eligible_stream,
            "unexpected study view: {s:?}"
        );
        Ok((
            (),
            format!(
                "{} eligible consent: stream {}…",
                s.eligible_consents,
                &eligible_stream[..12]
            ),
        ))
    })?;
    story.step("research centre reads the eligible stream (Access)", || {
        let body = research.access_body(
            &tree,
            &eligible_stream,
            study_purpose,
            2,
            day,
            OsRng.next_u64(),
        );
        let proof = research.prove(&prover, &chain, &tree, &body, &mut OsRng)?;
        let r = client.submit(&builder::with_proof(body, proof), true)?;
        ensure!(
            r.status == crate::api::TxStatus::Committed,
            "access not committed: {r:?}"
        );
        Ok(((), "accepted, anonymous".into()))
    })?;

    // Revocation of a credential and the root window.
    story.step("patient shares stream-2 with research", || {
        client.submit(
            &consent(&tree, "stream-2", vec![Role::Research], None, false)?,
            true,
        )?;
        Ok(((), String::new()))
    })?;
    let window = registry.root_window_secs;
    story.step("issuer revokes the research centre's credential", || {
        let body = Body::RevokeCredential(RevokeCredential {
            issuer_id: node::DEV_ISSUER_ID,
            index: indices[1],
        });
        let r = client.revoke(indices[1], &builder::issuer_signed(&issuer, &chain, body))?;
        Ok((
            (),
            format!("leaf {} emptied (tx {}…)", indices[1], &r.id[..12]),
        ))
    })?;
    story.step(
        "research centre, with its old leaf list, reads stream-2",
        || {
            let (tx, _) = access(&research, &tree, &stream2)?;
            client.submit(&tx, true)?;
            Ok((
                (),
                format!("accepted: its root was replaced less than {window} s ago"),
            ))
        },
    )?;
    story.step(
        &format!("{window} s pass on a quiet chain (no block is made)"),
        || {
            let height = client.status()?.height;
            std::thread::sleep(Duration::from_millis(window as u64 * 1000 + 100));
            ensure!(client.status()?.height == height, "a block was made");
            Ok(((), format!("still at height {height}")))
        },
    )?;
    story.step("research centre's old-root token is now refused", || {
        let (tx, _) = access(&research, &tree, &stream2)?;
        let code = rejection_code(client.submit(&tx, true))?;
        ensure!(
            code == "RootNotInWindow",
            "expected RootNotInWindow, got {code}"
        );
        let fresh = client.sync_tree(node::DEV_ISSUER_ID)?;
        ensure!(
            fresh.position(&research.leaf()).is_none(),
            "the revoked leaf is still live"
        );
        Ok((
            (),
            format!("rejected: {code}; a fresh sync has no live leaf for it"),
        ))
    })?;

    story.step("stop the data node", || {
        datanode.stop()?;
        Ok(((), String::new()))
    })?;
    let dirs: Vec<PathBuf> = match net {
        Net::Solo(embedded) => {
            story.step("stop the node gracefully", || {
                embedded.stop()?;
                Ok(((), String::new()))
            })?;
            vec![data.clone()]
        }
        Net::Cluster {
            mut processes,
            leader,
            ..
        } => {
            let all: Vec<usize> = (0..processes.len()).collect();
            story.step("restart the killed validator: it catches up", || {
                let started = Instant::now();
                processes.spawn(leader)?;
                let height = processes.wait_settled(&all)?;
                Ok((
                    (),
                    format!(
                        "validator {} at the final tip {height} after {:.1?}",
                        leader + 1,
                        started.elapsed()
                    ),
                ))
            })?;
            story.step("every block identical on every validator", || {
                let clients: Vec<NodeClient> = all
                    .iter()
                    .map(|i| NodeClient::new(&processes.url(*i)))
                    .collect();
                let height = clients[0].status()?.height;
                for h in 0..=height {
                    let mut blocks = Vec::new();
                    for c in &clients {
                        blocks.push(c.block(h)?);
                    }
                    ensure!(
                        blocks
                            .iter()
                            .all(|b| b.header == blocks[0].header && b.tx_ids == blocks[0].tx_ids),
                        "block {h} differs between validators"
                    );
                }
                Ok((
                    (),
                    format!("{} blocks, same header hashes on {}", height + 1, all.len()),
                ))
            })?;
            story.step("stop the validators gracefully (SIGTERM)", || {
                for i in &all {
                    processes.signal(*i, libc::SIGTERM)?;
                }
                Ok(((), String::new()))
            })?;
            all.iter().map(|i| processes.data(*i)).collect()
        }
    };
    for dir in &dirs {
        story.step(
            "verify-chain: replay every block, signature and token",
            || {
                let store = crate::store::RocksStore::open(&dir.join("db"))?;
                let genesis = ledger::read_genesis(&store)?;
                let keys = params::load_genesis_keys(params_dir, &genesis)?;
                let scratch = tempfile::tempdir()?;
                let s = ledger::verify_chain(&store, scratch.path(), &keys)
                    .map_err(|f| anyhow::anyhow!("height {}: {}", f.height, f.reason))?;
                Ok((
                    (),
                    format!(
                        "{}: {} blocks, {} txs, {} tokens ok",
                        dir.file_name().unwrap_or_default().to_string_lossy(),
                        s.blocks,
                        s.transactions,
                        s.tokens
                    ),
                ))
            },
        )?;
    }
    let total = story.started.elapsed();
    writeln!(story.out, "demo passed in {total:.1?}")?;
    Ok(())
}
