//! `consentry verify-chain` and the hidden `consentry dev-write-blocks` used by the
//! crash-safety test.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use consentry_circuits::{field, Fr};
use ed25519_dalek::SigningKey;
use rand::RngCore;

use super::ParamsArg;
use crate::ledger::{self, Body, Genesis, IssueCredential, IssuerEntry, Ledger, VerifyingKeyEntry};
use crate::params;
use crate::store::RocksStore;

/// Arguments of `consentry verify-chain`.
#[derive(clap::Args, Debug)]
pub struct VerifyChainArgs {
    /// The node's data directory.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

/// The RocksDB directory inside a node's data directory.
pub fn db_dir(data: &std::path::Path) -> PathBuf {
    data.join("db")
}

/// Runs `consentry verify-chain`; the first bad height is an error.
pub fn verify_chain(a: VerifyChainArgs) -> anyhow::Result<()> {
    let db = db_dir(&a.data);
    anyhow::ensure!(db.exists(), "{}: no chain here", db.display());
    let store = RocksStore::open(&db).with_context(|| db.display().to_string())?;
    let genesis = ledger::read_genesis(&store)?;
    let dir = params::resolve_dir(a.params.params.as_deref());
    let scratch = tempfile::tempdir().context("scratch directory")?;
    let started = std::time::Instant::now();
    let keys = params::load_genesis_keys(&dir, &genesis)?;
    let summary = ledger::verify_chain(&store, scratch.path(), &keys)
        .map_err(|f| anyhow::anyhow!("verify-chain failed at height {}: {}", f.height, f.reason))?;
    outln!(
        "ok: {} blocks, {} transactions, {} tokens verified, registry digest {} ({:.1?})",
        summary.blocks,
        summary.transactions,
        summary.tokens,
        summary.registry_digest,
        started.elapsed()
    )?;
    Ok(())
}

/// Chain id of the crash-test writer's chain.
const CRASH_CHAIN: &str = "consentry-crash-test";

/// Arguments of the hidden crash-test writer.
#[derive(clap::Args, Debug)]
pub struct WriterArgs {
    /// Data directory (a chain is created on first use).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Credentials issued per block.
    #[arg(long, default_value_t = 16)]
    pub per_block: usize,
    /// Stop after this many blocks (default: run until killed).
    #[arg(long)]
    pub blocks: Option<u64>,
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

/// Commits blocks of `IssueCredential` transactions forever, printing `committed H` after each
/// synced commit, so a test can kill it at any moment and check nothing committed is lost.
pub fn write_blocks(a: WriterArgs) -> anyhow::Result<()> {
    let issuer = SigningKey::from_bytes(&[0x11; 32]);
    let validator = SigningKey::from_bytes(&[0x22; 32]);
    let dir = params::resolve_dir(a.params.params.as_deref());
    let (_, digest) = params::load_verifier(&dir, 20)?;
    let genesis = Genesis {
        chain_id: CRASH_CHAIN.into(),
        validators: vec![validator.verifying_key().to_bytes()],
        quorum: 1,
        issuers: vec![IssuerEntry {
            issuer_id: 1,
            name: "crash test".into(),
            key: issuer.verifying_key().to_bytes(),
        }],
        verifying_keys: vec![VerifyingKeyEntry {
            depth: 20,
            digest: ledger::Hash32(digest),
        }],
        root_window_secs: 60,
        registry_depth: 20,
        time_ms: 0,
        inspector: None,
    };
    let db = db_dir(&a.data);
    std::fs::create_dir_all(&db).with_context(|| db.display().to_string())?;
    let store = RocksStore::open(&db)?;
    let keys = params::load_genesis_keys(&dir, &genesis)?;
    let mut ledger = match ledger::read_height(&store)? {
        Some(_) => Ledger::open(store, keys)?,
        None => Ledger::create(store, genesis, keys, &validator)?,
    };
    let mut rng = rand::rngs::OsRng;
    let mut out = std::io::stdout();
    let mut written = 0;
    while a.blocks.is_none_or(|n| written < n) {
        let txs = (0..a.per_block)
            .map(|_| {
                let leaf = Fr::from(rng.next_u64()) + Fr::from(1u64);
                let body = Body::IssueCredential(IssueCredential {
                    issuer_id: 1,
                    leaf: ledger::Hash32(field::to_bytes(&leaf)),
                });
                crate::client::builder::issuer_signed(&issuer, CRASH_CHAIN, body)
            })
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as u64;
        let (block, rejected) = ledger.propose(txs, now, &validator)?;
        anyhow::ensure!(
            rejected.is_empty(),
            "writer transactions rejected: {rejected:?}"
        );
        writeln!(out, "committed {}", block.header.height)?;
        out.flush()?;
        written += 1;
    }
    Ok(())
}
