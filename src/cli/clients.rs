//! The actors' client commands: `issuer`, `institution`, `patient`, `status`. They talk to a
//! node over HTTP; secrets stay in local files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use consentry_circuits::credential::{InstitutionId, Role};
use consentry_circuits::groth::ProofCache;
use consentry_circuits::{field, Fr};
use ed25519_dalek::SigningKey;
use rand::RngCore;

use super::args::{parse_field, today, AttributeArgs, HolderArgs};
use crate::api::TxStatus;
use crate::client::builder;
use crate::client::{ClientError, NodeClient, DEFAULT_NODE};
use crate::files::{self, LeafList};
use crate::ledger::{
    keys, Body, Consent, ConsentAction, Hash32, IssueCredential, Policy, RevokeCredential,
    Transaction,
};

/// `--node URL` and `--json`.
#[derive(clap::Args, Debug, Clone)]
pub struct NodeArg {
    /// The node's base URL.
    #[arg(long, default_value = DEFAULT_NODE)]
    pub node: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

/// Prints `value` as JSON with `--json`, else what `human` prints.
fn print<T: serde::Serialize>(
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
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// Revoke the credential at a leaf index.
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
            key,
            id,
            attributes,
            node,
        } => {
            let key = keys::read_ed25519(&key, "issuer")?;
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
            print(node.json, &r, || {
                outln!(
                    "issued: leaf index {} in block {} (tx {})",
                    r.leaf_index,
                    r.height,
                    r.id
                )
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
    /// Download the public leaf list (the client never asks for its own path).
    Sync {
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
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// As a data platform: prepare a consent (share or revoke) for a patient to sign.
    Consent {
        /// Who acts (the data platform).
        #[command(flatten)]
        holder: HolderArgs,
        /// The stream.
        #[arg(long)]
        stream: String,
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
        /// Prepare a revocation instead of a share.
        #[arg(long)]
        revoke: bool,
        /// Where to write the prepared consent.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Runs an institution subcommand.
pub fn institution(c: InstitutionCommand) -> anyhow::Result<()> {
    match c {
        InstitutionCommand::Sync { out, node } => {
            let client = NodeClient::new(&node.node);
            let depth = client.registry()?.depth;
            let leaves = client.all_leaves()?;
            let n = leaves.len();
            LeafList {
                version: files::FORMAT_VERSION,
                depth: depth as usize,
                leaves,
            }
            .write(&out)?;
            outln!("synced {n} leaves to {}", out.display())?;
        }
        InstitutionCommand::Prove(a) => super::prove::run(a)?,
        InstitutionCommand::Access {
            holder,
            streams,
            purpose,
            min_level,
            node,
        } => {
            // Everything local first: a bad stream id, a policy the credential does not meet
            // or a stale leaf list sends nothing.
            for stream in &streams {
                crate::ledger::check_stream_id(stream)
                    .map_err(|e| anyhow::anyhow!("stream {stream:?}: {e}; nothing was sent"))?;
            }
            let (h, tree) = holder.holder_and_tree()?;
            let prover = holder.prover(tree.depth())?;
            let mut cache = ProofCache::new();
            let day = today();
            let mut txs = Vec::with_capacity(streams.len());
            for stream in &streams {
                let (_, delivery) = builder::delivery_key(&mut rand::rngs::OsRng);
                let body = h.access_body(
                    &tree,
                    stream,
                    &purpose,
                    min_level,
                    day,
                    rand::rngs::OsRng.next_u64(),
                    delivery,
                );
                let proof = h
                    .prove_cached(&prover, &mut cache, &tree, &body, &mut rand::rngs::OsRng)
                    .with_context(|| format!("stream {stream:?}: nothing was sent"))?;
                txs.push(builder::with_proof(body, proof));
            }
            let client = NodeClient::new(&node.node);
            for (i, (stream, tx)) in streams.iter().zip(&txs).enumerate() {
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
                    outln!(
                        "access to {stream} {}: tx {} in block {}, pseudonym 0x{}",
                        status_word(&r),
                        r.id,
                        r.height.unwrap_or(0),
                        pseudonym.to_hex()
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
        InstitutionCommand::Consent {
            holder,
            stream,
            patient_key,
            roles,
            reader_min_level,
            purpose,
            valid_days,
            revoke,
            out,
        } => {
            let (h, tree) = holder.holder_and_tree()?;
            let prover = holder.prover(tree.depth())?;
            let key: [u8; 32] = hex::decode(&patient_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .context("--patient-key must be 64 hex digits")?;
            let day = today();
            let scope = builder::fresh_scope(&mut rand::rngs::OsRng);
            let body = Body::Consent(Consent {
                stream_id: stream,
                action: if revoke {
                    ConsentAction::Revoke
                } else {
                    ConsentAction::Share
                },
                policy: Policy {
                    roles,
                    min_level: reader_min_level,
                    purpose,
                    valid_from: day,
                    valid_until: day + valid_days,
                },
                data_digest: None,
                study: None,
                patient_key: key,
                nonce: rand::rngs::OsRng.next_u64(),
                claim: h.claim(&tree, scope, 0, day),
            });
            let proof = h.prove(&prover, &tree, &body, &mut rand::rngs::OsRng)?;
            let tx = builder::with_proof(body, proof);
            files::write_atomic(&out, &serde_json::to_vec_pretty(&tx)?, 0o644)?;
            outln!(
                "prepared consent {} (for the patient to sign)",
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
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
    /// Sign and submit a revoke consent the data platform prepared.
    Revoke {
        /// The stream key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The prepared consent.
        #[arg(long, value_name = "FILE")]
        consent: PathBuf,
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

fn sign_and_submit(
    key: &Path,
    consent: &Path,
    action: ConsentAction,
    node: &NodeArg,
) -> anyhow::Result<()> {
    let keypair = keys::read_patient(key)?;
    let tx: Transaction = serde_json::from_str(
        &std::fs::read_to_string(consent).with_context(|| consent.display().to_string())?,
    )
    .with_context(|| consent.display().to_string())?;
    let Body::Consent(c) = &tx.body else {
        bail!("{}: not a consent", consent.display())
    };
    if c.action != action {
        bail!(
            "{}: this consent is a {:?}, not a {action:?}",
            consent.display(),
            c.action
        );
    }
    if c.patient_key != keypair.public.to_bytes() {
        bail!("{}: prepared for another patient key", consent.display());
    }
    let client = NodeClient::new(&node.node);
    let chain = client.status()?.chain_id;
    let r = client.submit(&builder::patient_signed(&keypair, &chain, tx), true)?;
    print(node.json, &r, || {
        outln!(
            "consent {}: tx {} in block {}",
            status_word(&r),
            r.id,
            r.height.unwrap_or(0)
        )
    })?;
    Ok(())
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
        PatientCommand::Share { key, consent, node } => {
            sign_and_submit(&key, &consent, ConsentAction::Share, &node)?
        }
        PatientCommand::Revoke { key, consent, node } => {
            sign_and_submit(&key, &consent, ConsentAction::Revoke, &node)?
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
                    outln!(
                        "  #{:<3} block {:<5} {:<7} {} by {}",
                        e.seq,
                        e.height,
                        e.kind,
                        &e.tx[..16],
                        &e.pseudonym[..18]
                    )?;
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Runs `consentry status`.
pub fn status(node: NodeArg) -> anyhow::Result<()> {
    let s = NodeClient::new(&node.node).status()?;
    print(node.json, &s, || {
        outln!(
            "chain {} at height {} (tip {})",
            s.chain_id,
            s.height,
            &s.tip_hash[..16]
        )?;
        outln!(
            "registry root {} ({} leaves), {} pending",
            s.registry_root,
            s.registry_size,
            s.pending
        )?;
        outln!("validator {} version {}", s.validator, s.version)
    })?;
    Ok(())
}
