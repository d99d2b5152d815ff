//! The actors' client commands: `issuer`, `institution`, `patient`, `status`. They talk to a
//! node over HTTP; secrets stay in local files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use consentry_circuits::credential::{InstitutionId, Role};
use consentry_circuits::groth::ProofCache;
use consentry_circuits::{field, Fr};
use ed25519_dalek::SigningKey;
use rand::RngCore;

pub use super::args::NodeArg;
use super::args::{parse_field, today, AttributeArgs, HolderArgs};
use crate::api::TxStatus;
use crate::client::builder;
use crate::client::{parse_base_url, ClientError, NodeClient};
use crate::files::{self, LeafList};
use crate::ledger::{
    keys, stream_id_for, Auth, Body, Consent, Hash32, IssueCredential, Policy, RevokeConsent,
    RevokeCredential, Transaction,
};

/// Prints `value` as JSON with `--json`, else what `human` prints.
pub(super) fn print<T: serde::Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(value).expect("serializable")
        )
    } else {
        human()
    }
}

fn status_word(r: &crate::api::TxResponse) -> &'static str {
    match r.status {
        TxStatus::Committed => "committed",
        TxStatus::Pending => "pending",
        TxStatus::Rejected => "rejected",
    }
}

/// Issuer subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum IssuerCommand {
    /// Make an issuer key (mode 0600) and print its public key (for the genesis).
    Keygen {
        /// Key file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Issue a credential to an institution's public id.
    Issue {
        /// Issuer key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The institution's public id (`consentry identity new` prints it).
        #[arg(long, value_parser = parse_field)]
        id: Fr,
        /// Attributes (the issuer id is --issuer-id).
        #[command(flatten)]
        attributes: AttributeArgs,
        /// The name the institution is accredited under, kept in this issuer's records
        /// (never sent): what `issuer whois` answers.
        #[arg(long)]
        name: Option<String>,
        /// This issuer's records (one JSON line per credential; default: beside the key,
        /// `NAME.records.jsonl`).
        #[arg(long, value_name = "FILE")]
        records: Option<PathBuf>,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// Name the institution an id belongs to, from this issuer's own records (after an
    /// inspector opened an access's escrow: `consentry inspector open`).
    Whois {
        /// The issuer key file (its records are beside it) ...
        #[arg(long, value_name = "FILE", required_unless_present = "records")]
        key: Option<PathBuf>,
        /// ... or the records file itself.
        #[arg(long, value_name = "FILE")]
        records: Option<PathBuf>,
        /// The institution's id.
        #[arg(long, value_parser = parse_field)]
        id: Fr,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke the credential at a leaf index of this issuer's registry.
    Revoke {
        /// Issuer key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The issuer's id.
        #[arg(long)]
        issuer_id: u32,
        /// Leaf index.
        #[arg(long)]
        index: u64,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
}

/// Runs an issuer subcommand.
pub fn issuer(c: IssuerCommand) -> anyhow::Result<()> {
    match c {
        IssuerCommand::Keygen { out } => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            keys::write_ed25519(&out, "issuer", &key)?;
            outln!("{}", hex::encode(key.verifying_key().to_bytes()))?;
        }
        IssuerCommand::Issue {
            key: key_path,
            id,
            attributes,
            name,
            records,
            node,
        } => {
            let records =
                records.unwrap_or_else(|| crate::client::accreditation::default_path(&key_path));
            if let Some(n) = &name {
                if n.is_empty() || n.len() > 256 {
                    bail!("--name must be 1 to 256 bytes (nothing was sent)");
                }
            }
            let key = keys::read_ed25519(&key_path, "issuer")?;
            let leaf = consentry_circuits::credential::Credential {
                id: InstitutionId(id),
                attributes: attributes.attributes(),
            }
            .leaf();
            let body = Body::IssueCredential(IssueCredential {
                issuer_id: attributes.issuer_id,
                leaf: Hash32(field::to_bytes(&leaf)),
            });
            let client = NodeClient::new(&node.node);
            let chain = client.status()?.chain_id;
            let r = client.issue(&builder::issuer_signed(&key, &chain, body))?;
            crate::client::accreditation::append(
                &records,
                &crate::client::accreditation::Accreditation {
                    id: field::to_hex(&id),
                    name,
                    issuer_id: r.issuer_id,
                    leaf_index: r.leaf_index,
                    tx: r.id.clone(),
                    height: r.height,
                },
            )
            .context("the credential is on the chain, but its record was not written")?;
            print(node.json, &r, || {
                outln!(
                    "issued: leaf index {} of issuer {}'s registry, in block {} (tx {})",
                    r.leaf_index,
                    r.issuer_id,
                    r.height,
                    r.id
                )
            })?;
        }
        IssuerCommand::Whois {
            key,
            records,
            id,
            json,
        } => {
            let path = match (records, key) {
                (Some(r), _) => r,
                (None, Some(k)) => crate::client::accreditation::default_path(&k),
                (None, None) => unreachable!("clap requires one"),
            };
            let id = field::to_hex(&id);
            let found = crate::client::accreditation::find(&path, &id)?;
            if found.is_empty() {
                bail!("{} holds no credential issued to id {id}", path.display());
            }
            print(json, &found, || {
                for a in &found {
                    outln!(
                        "{}: accredited as {} (issuer {}, leaf {}, tx {}, block {})",
                        a.id,
                        a.name.as_deref().unwrap_or("(no name recorded)"),
                        a.issuer_id,
                        a.leaf_index,
                        a.tx,
                        a.height
                    )?;
                }
                Ok(())
            })?;
        }
        IssuerCommand::Revoke {
            key,
            issuer_id,
            index,
            node,
        } => {
            let key = keys::read_ed25519(&key, "issuer")?;
            let body = Body::RevokeCredential(RevokeCredential { issuer_id, index });
            let r = {
                let client = NodeClient::new(&node.node);
                let chain = client.status()?.chain_id;
                client.revoke(index, &builder::issuer_signed(&key, &chain, body))?
            };
            print(node.json, &r, || {
                outln!("revoked leaf {index} (tx {})", r.id)
            })?;
        }
    }
    Ok(())
}

/// Institution subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum InstitutionCommand {
    /// Receive the records of one of this identity's committed accesses from a data node,
    /// sealed to the key re-derived from the identity; checked, then written (mode 0600).
    Fetch {
        /// The identity that made the access.
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
        /// The access transaction's id.
        #[arg(long)]
        tx: String,
        /// The data node's base URL.
        #[arg(long, default_value = "http://127.0.0.1:7900", value_parser = parse_base_url)]
        datanode: String,
        /// Where to write the records (a new file).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// Download the public leaf list of an issuer's registry (the client never asks for its
    /// own path).
    Sync {
        /// The issuer whose registry to sync (the credential's issuer).
        #[arg(long)]
        issuer_id: u32,
        /// Leaf-list file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// Build a token locally (same as `consentry prove`).
    Prove(super::prove::ProveArgs),
    /// Read one or more streams: prove locally, submit an Access per stream, wait for each
    /// block. Every stream id is checked and every proof made (and checked against the
    /// statement) before the first is sent, so a local error sends nothing; from the second
    /// stream on, each proof reuses what the previous one computed (a `ProofCache`), about a
    /// third of the time of the first. Stops at the first access the node does not commit,
    /// saying how many were committed before it. With `--json`, one JSON object per line and
    /// access (JSON Lines).
    ///
    /// Several streams are sent in a random order, with a random pause of up to `--spread`
    /// seconds between two accesses, so that the order given and a fixed rhythm do not mark
    /// them as one reader's batch; what timing still links is in the README.
    Access {
        /// Who acts.
        #[command(flatten)]
        holder: HolderArgs,
        /// The streams, comma-separated or repeated.
        #[arg(
            long = "stream",
            value_delimiter = ',',
            required = true,
            value_name = "STREAM"
        )]
        streams: Vec<String>,
        /// The purpose (must be the consented one).
        #[arg(long)]
        purpose: String,
        /// The level to prove (the policy's minimum).
        #[arg(long, default_value_t = 0)]
        min_level: u16,
        /// Longest random pause between two accesses, in seconds (0: back to back).
        #[arg(long, default_value_t = 2.0)]
        spread: f64,
        /// Send the streams in the order given instead of a random one (for scripts).
        #[arg(long)]
        keep_order: bool,
        /// Write the proven access to FILE instead of sending it (one stream only), to
        /// inspect it or send it later (`patient send --file`, or `POST /v1/transactions`).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Escrow every access (the id encrypted to the chain's inspector), also where the
        /// policy does not require it. Streams whose policy requires it are escrowed anyway.
        #[arg(long)]
        escrow: bool,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// As a research institution: ask for consent with cohort criteria (anonymous, through a
    /// research token). Prints the study id.
    Study {
        /// Who acts (a research institution).
        #[command(flatten)]
        holder: HolderArgs,
        /// Criteria, `NAME=LO..HI` comma-separated (`LO` inclusive, `HI` exclusive), e.g.
        /// `age=40..60,hba1c=48..75`. Consents prove each in range; no value is disclosed.
        #[arg(long)]
        criteria: String,
        /// What the data is for (consents answering the study take it as their purpose).
        #[arg(long)]
        purpose: String,
        /// The role the study's readers will have (one).
        #[arg(long = "roles", value_name = "ROLE", default_value = "research")]
        reader_role: Role,
        /// Minimum level of the study's readers.
        #[arg(long, default_value_t = 0)]
        min_level: u16,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// As a data platform: prepare a share for a patient to sign. The stream id is derived
    /// from the patient's stream key and the platform's name of the stream, and printed.
    Consent {
        /// Who acts (the data platform).
        #[command(flatten)]
        holder: HolderArgs,
        /// The platform's local name of the stream (public: prefer an opaque name).
        #[arg(long)]
        stream_name: String,
        /// The patient's per-stream public key (hex).
        #[arg(long)]
        patient_key: String,
        /// Roles allowed to read, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "hospital")]
        roles: Vec<Role>,
        /// Minimum level of readers.
        #[arg(long, default_value_t = 0)]
        reader_min_level: u16,
        /// The purpose readers must state.
        #[arg(long, default_value = "care")]
        purpose: String,
        /// Days the consent is valid from today.
        #[arg(long, default_value_t = 365)]
        valid_days: u32,
        /// Every read must carry an escrowed token: the reader's id encrypted to the chain's
        /// inspector, who can open one read under due process (on the record).
        #[arg(long)]
        escrow: bool,
        /// The records this share covers (a JSON array, as put to the data node): their
        /// records digest becomes the consent's `data_digest`, the data node then delivers
        /// exactly them and readers check it. Without it, the stream as it grows.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Answer this study request (its id): the share takes the study's purpose, role and
        /// level, and carries a commitment and a range proof per criterion for `--values`.
        #[arg(long, requires = "values")]
        study: Option<String>,
        /// The patient's values for the study's criteria, `NAME=VALUE` comma-separated (e.g.
        /// `age=52,hba1c=60`). They never leave this process: only commitments and proofs do.
        /// A value outside its range is refused here and nothing is prepared.
        #[arg(long, requires = "study")]
        values: Option<String>,
        /// Where to write the prepared consent.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Node (for the chain id and the registry roots).
        #[command(flatten)]
        node: NodeArg,
    },
}

/// Builds `holder`'s tree and checks it against the node's registry roots; warns when the
/// root is an older one.
fn holder_tree_checked(
    holder: &HolderArgs,
    client: &NodeClient,
) -> anyhow::Result<(builder::Holder, consentry_circuits::registry::RegistryTree)> {
    let (h, tree) = holder.holder_and_tree()?;
    if !client.check_root(h.attributes.issuer_id, &tree)? {
        errln!(
            "note: {} is older than the registry's current root (still accepted); sync it to prove against the newest",
            holder.leaves.display()
        );
    }
    Ok((h, tree))
}

/// Runs an institution subcommand.
pub fn institution(c: InstitutionCommand) -> anyhow::Result<()> {
    match c {
        InstitutionCommand::Fetch {
            identity,
            tx,
            datanode,
            out,
            node,
        } => super::data::fetch(&identity, &tx, &datanode, &out, &node)?,
        InstitutionCommand::Sync {
            issuer_id,
            out,
            node,
        } => {
            let client = NodeClient::new(&node.node);
            let depth = client.registry()?.depth;
            let leaves = client.all_leaves(issuer_id)?;
            let n = leaves.len();
            LeafList {
                version: files::FORMAT_VERSION,
                depth: depth as usize,
                issuer_id: Some(issuer_id),
                leaves,
            }
            .write(&out)?;
            outln!(
                "synced {n} leaves of issuer {issuer_id}'s registry to {}",
                out.display()
            )?;
        }
        InstitutionCommand::Prove(a) => super::prove::run(a)?,
        InstitutionCommand::Access {
            holder,
            streams,
            purpose,
            min_level,
            spread,
            keep_order,
            out,
            escrow,
            node,
        } => {
            if out.is_some() && streams.len() != 1 {
                bail!("--out writes one access: give one --stream (nothing was sent)");
            }
            // Everything local first: a bad stream id, a policy the credential does not meet
            // or a stale leaf list sends nothing.
            for stream in &streams {
                crate::ledger::check_stream_id(stream)
                    .map_err(|e| anyhow::anyhow!("stream {stream:?}: {e}; nothing was sent"))?;
            }
            if !(0.0..=3600.0).contains(&spread) {
                bail!("--spread must be between 0 and 3600 seconds");
            }
            let mut streams = streams;
            if !keep_order {
                rand::seq::SliceRandom::shuffle(streams.as_mut_slice(), &mut rand::rngs::OsRng);
            }
            let client = NodeClient::new(&node.node);
            let chain = client.status()?.chain_id;
            let (h, tree) = holder_tree_checked(&holder, &client)?;
            // Which streams are escrowed: all with --escrow, else those whose policy says so.
            let mut escrowed = Vec::with_capacity(streams.len());
            for stream in &streams {
                let required = match client.stream(stream)? {
                    Some(s) => s.policy.get("escrow").and_then(|e| e.as_bool()) == Some(true),
                    None => false,
                };
                escrowed.push(escrow || required);
            }
            let prover = match escrowed.iter().all(|e| *e) {
                true => None,
                false => Some(holder.prover(tree.depth())?),
            };
            let escrow_prover = match escrowed.iter().any(|e| *e) {
                true => Some(holder.escrow_prover(&client, tree.depth())?),
                false => None,
            };
            let mut cache = ProofCache::new();
            let day = today();
            let mut txs = Vec::with_capacity(streams.len());
            for (stream, escrowed) in streams.iter().zip(&escrowed) {
                // The delivery key is derived from the identity, the stream and the nonce:
                // `institution fetch` re-derives its secret from the committed access.
                let nonce = rand::rngs::OsRng.next_u64();
                let mut rng = rand::rngs::OsRng;
                let (body, proof) = match (escrowed, &prover, &escrow_prover) {
                    (true, _, Some(p)) => {
                        let (body, r) = h.escrowed_access_body(
                            &tree,
                            stream,
                            &purpose,
                            min_level,
                            day,
                            nonce,
                            p.inspector(),
                            &mut rng,
                        );
                        let proof = h.prove_escrowed(p, &chain, &tree, &body, &r, &mut rng);
                        (body, proof)
                    }
                    (false, Some(p), _) => {
                        let body = h.access_body(&tree, stream, &purpose, min_level, day, nonce);
                        let proof = h.prove_cached(p, &mut cache, &chain, &tree, &body, &mut rng);
                        (body, proof)
                    }
                    _ => unreachable!("a prover for each kind of access is loaded above"),
                };
                let proof =
                    proof.with_context(|| format!("stream {stream:?}: nothing was sent"))?;
                txs.push(builder::with_proof(body, proof));
            }
            if let Some(out) = out {
                let tx = &txs[0];
                files::write_atomic(&out, &serde_json::to_vec_pretty(tx)?, 0o644)?;
                outln!("proven access {} (tx {}, not sent)", out.display(), tx.id())?;
                return Ok(());
            }
            for (i, (stream, tx)) in streams.iter().zip(&txs).enumerate() {
                if i > 0 && spread > 0.0 {
                    let pause = spread * (rand::rngs::OsRng.next_u32() as f64 / u32::MAX as f64);
                    std::thread::sleep(std::time::Duration::from_secs_f64(pause));
                }
                let pseudonym = tx.body.claim().map(|c| c.pseudonym).unwrap_or_default();
                // Each access waits for its block, so that the report below is exact.
                let before = format!(
                    "{i} of {} committed before it, the rest not sent",
                    txs.len()
                );
                let r = match client.submit(tx, true) {
                    Ok(r) => r,
                    Err(e @ ClientError::Problem { .. }) => {
                        bail!("stream {stream:?}: refused ({before}): {e}")
                    }
                    Err(e @ ClientError::NotSent { .. }) => {
                        bail!("stream {stream:?}: not sent ({before}): {e}")
                    }
                    Err(e) => bail!(
                        "stream {stream:?}: not confirmed, tx {} may or may not be committed \
                         ({before}): {e}",
                        tx.id()
                    ),
                };
                if node.json {
                    // JSON Lines: one object per access.
                    outln!("{}", serde_json::to_string(&r).expect("serializable"))?;
                } else {
                    let escrowed = tx.body.claim().is_some_and(|c| c.escrow.is_some());
                    outln!(
                        "access to {stream} {}: tx {} in block {}, pseudonym 0x{}{}",
                        status_word(&r),
                        r.id,
                        r.height.unwrap_or(0),
                        pseudonym.to_hex(),
                        if escrowed {
                            ", escrowed to the inspector"
                        } else {
                            ""
                        }
                    )?;
                }
                match r.status {
                    TxStatus::Committed => {}
                    TxStatus::Pending => bail!(
                        "stream {stream:?}: tx {} accepted but not committed in the wait \
                         ({before}); look it up with GET /v1/transactions/{}",
                        r.id,
                        r.id
                    ),
                    TxStatus::Rejected => bail!(
                        "stream {stream:?}: rejected in its block: {} ({before})",
                        r.reason.as_deref().unwrap_or("no reason given")
                    ),
                }
            }
        }
        InstitutionCommand::Study {
            holder,
            criteria,
            purpose,
            reader_role,
            min_level,
            node,
        } => {
            let cohort = super::study::parse_criteria(&criteria)?;
            let client = NodeClient::new(&node.node);
            let chain = client.status()?.chain_id;
            let (h, tree) = holder_tree_checked(&holder, &client)?;
            let prover = holder.prover(tree.depth())?;
            let day = today();
            let body = Body::StudyRequest(crate::ledger::StudyRequest {
                purpose,
                required_role: reader_role,
                min_level,
                cohort,
                nonce: super::study::nonce(),
                // Discloses the role alone (level ≥ 0), under a fresh scope.
                claim: h.claim(&tree, builder::fresh_scope(&mut rand::rngs::OsRng), 0, day),
            });
            let proof = h.prove(&prover, &chain, &tree, &body, &mut rand::rngs::OsRng)?;
            let r = client.submit(&builder::with_proof(body, proof), true)?;
            match r.status {
                TxStatus::Committed => print(node.json, &r, || {
                    outln!(
                        "study {} committed in block {}",
                        r.id,
                        r.height.unwrap_or(0)
                    )
                })?,
                _ => bail!(
                    "study {} not committed: {:?} {}",
                    r.id,
                    r.status,
                    r.reason.unwrap_or_default()
                ),
            }
        }
        InstitutionCommand::Consent {
            holder,
            stream_name,
            patient_key,
            roles,
            reader_min_level,
            purpose,
            valid_days,
            escrow,
            snapshot,
            study,
            values,
            out,
            node,
        } => {
            let data_digest = match &snapshot {
                Some(file) => {
                    let records: Vec<serde_json::Value> = files::read_json(file)?;
                    Some(crate::ledger::Hash32(crate::delivery::records_digest(
                        &serde_json::to_vec(&records)?,
                    )))
                }
                None => None,
            };
            crate::ledger::check_stream_name(&stream_name).map_err(|e| anyhow::anyhow!("{e}"))?;
            let key = parse_patient_key(&patient_key)?;
            let client = NodeClient::new(&node.node);
            let chain = client.status()?.chain_id;
            let (h, tree) = holder_tree_checked(&holder, &client)?;
            let prover = holder.prover(tree.depth())?;
            let day = today();
            let scope = builder::fresh_scope(&mut rand::rngs::OsRng);
            let stream_id = stream_id_for(&key, &stream_name);
            // The consent replaces the stream's latest one as the node shows it now: if
            // another consent (or the patient's withdrawal) lands first, this one is refused
            // (StaleConsent) and must be prepared again.
            let replaces = match client.stream(&stream_id)? {
                Some(s) => Some(
                    crate::ledger::Hash32::from_hex(&s.latest_consent)
                        .map_err(|e| anyhow::anyhow!("the node's latest consent: {e}"))?,
                ),
                None => None,
            };
            let mut consent = Consent {
                stream_id: stream_id.clone(),
                stream_name,
                policy: Policy {
                    roles,
                    min_level: reader_min_level,
                    purpose,
                    valid_from: day,
                    valid_until: day + valid_days,
                    escrow,
                },
                data_digest,
                study: None,
                cohort: vec![],
                replaces,
                patient_key: key,
                nonce: rand::rngs::OsRng.next_u64(),
                claim: h.claim(&tree, scope, 0, day),
            };
            let answer = match (&study, &values) {
                (Some(id), Some(values)) => {
                    let request = client.study(id)?;
                    Some(super::study::answer_study(
                        id,
                        &request,
                        values,
                        &mut consent,
                    )?)
                }
                _ => None,
            };
            let body = Body::Consent(consent);
            let cohort = match (&answer, &body) {
                (Some(a), Body::Consent(Consent { study: Some(s), .. })) => {
                    super::study::prove_answer(a, &chain, *s, &body)?
                }
                _ => vec![],
            };
            let proof = h.prove(&prover, &chain, &tree, &body, &mut rand::rngs::OsRng)?;
            let mut tx = builder::with_proof(body, proof);
            tx.auth.cohort = cohort;
            files::write_atomic(&out, &serde_json::to_vec_pretty(&tx)?, 0o644)?;
            outln!(
                "prepared consent {} for stream {stream_id} (for the patient to sign)",
                out.display()
            )?;
        }
    }
    Ok(())
}

/// Patient subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum PatientCommand {
    /// Make a key for one stream (mode 0600) and print its public key.
    Keygen {
        /// Key file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Sign and submit a share consent the data platform prepared.
    Share {
        /// The stream key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The prepared consent.
        #[arg(long, value_name = "FILE")]
        consent: PathBuf,
        /// Write the signed consent to FILE instead of sending it, to send later with
        /// `patient send --file` (the node is still asked for its chain id, which the
        /// signature covers).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// Sign the records of a JSON file (an array of objects with an integer `time_ms`) with
    /// the stream key and add them to the stream on a data node.
    Put {
        /// The stream key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The stream's name (the one it was shared under).
        #[arg(long)]
        name: String,
        /// The records.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// The data node's base URL.
        #[arg(long, default_value = "http://127.0.0.1:7900", value_parser = parse_base_url)]
        datanode: String,
        /// The data node's name (its `--name`).
        #[arg(long, default_value = "datanode")]
        datanode_name: String,
        /// Node (for the chain id).
        #[command(flatten)]
        node: NodeArg,
    },
    /// The id of the stream a platform shares under `--name` with this stream key.
    StreamId {
        /// The stream key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The platform's name of the stream.
        #[arg(long)]
        name: String,
    },
    /// Withdraw a stream's consent: signed by the stream key alone, no platform needed. With
    /// `--out` the signed withdrawal is written instead of sent, to keep and send later with
    /// `patient send` (it is valid whenever the stream is shared, once).
    Revoke {
        /// The stream key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The stream id.
        #[arg(long)]
        stream: String,
        /// Write the signed withdrawal here instead of sending it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Node (for the chain id, and to send).
        #[command(flatten)]
        node: NodeArg,
    },
    /// Send a transaction file made earlier (e.g. `patient revoke --out`).
    Send {
        /// The transaction (JSON).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// A stream's audit: every consent and access, with pseudonyms.
    History {
        /// The stream.
        #[arg(long)]
        stream: String,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
}

fn parse_patient_key(hex_key: &str) -> anyhow::Result<[u8; 32]> {
    hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("--patient-key must be 64 hex digits")
}

fn read_tx(path: &Path) -> anyhow::Result<Transaction> {
    serde_json::from_str(
        &std::fs::read_to_string(path).with_context(|| path.display().to_string())?,
    )
    .with_context(|| path.display().to_string())
}

fn submit_and_print(node: &NodeArg, tx: &Transaction, what: &str) -> anyhow::Result<()> {
    let r = NodeClient::new(&node.node).submit(tx, true)?;
    print(node.json, &r, || {
        outln!(
            "{what} {}: tx {} in block {}",
            status_word(&r),
            r.id,
            r.height.unwrap_or(0)
        )
    })
}

fn sign_and_submit(
    key: &Path,
    consent: &Path,
    out: Option<&Path>,
    node: &NodeArg,
) -> anyhow::Result<()> {
    let keypair = keys::read_patient(key)?;
    let tx = read_tx(consent)?;
    let Body::Consent(c) = &tx.body else {
        bail!("{}: not a consent", consent.display())
    };
    if c.patient_key != keypair.public.to_bytes() {
        bail!("{}: prepared for another patient key", consent.display());
    }
    let chain = NodeClient::new(&node.node).status()?.chain_id;
    let tx = builder::patient_signed(&keypair, &chain, tx);
    match out {
        Some(out) => {
            files::write_atomic(out, &serde_json::to_vec_pretty(&tx)?, 0o644)?;
            outln!(
                "signed consent {} (tx {}, not sent)",
                out.display(),
                tx.id()
            )?;
            Ok(())
        }
        None => submit_and_print(node, &tx, "consent"),
    }
}

/// Runs a patient subcommand.
pub fn patient(c: PatientCommand) -> anyhow::Result<()> {
    match c {
        PatientCommand::Keygen { out } => {
            let mini = schnorrkel::MiniSecretKey::generate_with(rand::rngs::OsRng);
            keys::write_patient(&out, &mini)?;
            outln!(
                "{}",
                hex::encode(keys::read_patient(&out)?.public.to_bytes())
            )?;
        }
        PatientCommand::Share {
            key,
            consent,
            out,
            node,
        } => sign_and_submit(&key, &consent, out.as_deref(), &node)?,
        PatientCommand::Put {
            key,
            name,
            file,
            datanode,
            datanode_name,
            node,
        } => super::data::put(&key, &name, &file, &datanode, &datanode_name, &node)?,
        PatientCommand::StreamId { key, name } => {
            crate::ledger::check_stream_name(&name).map_err(|e| anyhow::anyhow!("{e}"))?;
            let keypair = keys::read_patient(&key)?;
            outln!("{}", stream_id_for(&keypair.public.to_bytes(), &name))?;
        }
        PatientCommand::Revoke {
            key,
            stream,
            out,
            node,
        } => {
            crate::ledger::check_stream_id(&stream)
                .map_err(|e| anyhow::anyhow!("--stream: {e}"))?;
            let keypair = keys::read_patient(&key)?;
            let chain = NodeClient::new(&node.node).status()?.chain_id;
            let body = Body::RevokeConsent(RevokeConsent {
                stream_id: stream,
                patient_key: keypair.public.to_bytes(),
                nonce: rand::rngs::OsRng.next_u64(),
            });
            let unsigned = Transaction {
                body,
                auth: Auth::default(),
            };
            let tx = builder::patient_signed(&keypair, &chain, unsigned);
            match out {
                Some(out) => {
                    files::write_atomic(&out, &serde_json::to_vec_pretty(&tx)?, 0o644)?;
                    outln!("signed withdrawal {} (tx {})", out.display(), tx.id())?;
                }
                None => submit_and_print(&node, &tx, "withdrawal")?,
            }
        }
        PatientCommand::Send { file, node } => {
            submit_and_print(&node, &read_tx(&file)?, "transaction")?
        }
        PatientCommand::History { stream, node } => {
            let h = NodeClient::new(&node.node).history(&stream)?;
            print(node.json, &h, || {
                outln!(
                    "stream {}: {} distinct accessors",
                    h.stream_id,
                    h.distinct_accessors
                )?;
                for e in &h.entries {
                    let by = match (&e.opens, &e.pseudonym) {
                        (Some(access), _) => format!(
                            "{}: opened access {} for case {}",
                            e.inspector.as_deref().unwrap_or("the inspector"),
                            &access[..16],
                            e.case.as_deref().unwrap_or("?")
                        ),
                        (None, Some(p)) => p[..18].to_string(),
                        (None, None) => "the patient".into(),
                    };
                    outln!(
                        "  #{:<3} block {:<5} {:<7} {} by {}{}",
                        e.seq,
                        e.height,
                        e.kind,
                        &e.tx[..16],
                        by,
                        if e.escrow.is_some() {
                            " (escrowed)"
                        } else {
                            ""
                        }
                    )?;
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// `consentry status`.
#[derive(clap::Args, Debug, Clone)]
pub struct StatusArgs {
    /// Node.
    #[command(flatten)]
    pub node: NodeArg,
    /// Wait up to SECS seconds for the node to answer (for scripts that have just started
    /// one); without it, a node that does not answer is an error at once.
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
}

/// Runs `consentry status`.
pub fn status(args: StatusArgs) -> anyhow::Result<()> {
    let StatusArgs { node, wait } = args;
    let client = NodeClient::new(&node.node);
    let wait = wait.unwrap_or(0.0);
    if !(0.0..=3600.0).contains(&wait) {
        bail!("--wait must be between 0 and 3600 seconds");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(wait);
    let s = loop {
        match client.status() {
            // Not listening yet: nothing was sent, so asking again is harmless.
            Err(ClientError::NotSent { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            other => break other?,
        }
    };
    print(node.json, &s, || {
        outln!(
            "chain {} at height {} (tip {})",
            s.chain_id,
            s.height,
            &s.tip_hash[..16]
        )?;
        outln!(
            "registry digest {} ({} leaves), {} pending",
            &s.registry_digest[..16],
            s.registry_size,
            s.pending
        )?;
        outln!("validator {} version {}", s.validator, s.version)?;
        if let Some(c) = &s.cluster {
            let leader = c.leader.map_or("none".to_string(), |l| l.to_string());
            outln!(
                "cluster: validator {} is {}, leader {leader}, term {}, final height {}",
                c.id,
                c.role,
                c.term,
                c.final_height
            )?;
            for v in &c.validators {
                let height = v.height.map_or("?".to_string(), |h| h.to_string());
                let lag = v.lag.map_or("?".to_string(), |l| l.to_string());
                outln!("  validator {}: height {height}, lag {lag}", v.id)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}
