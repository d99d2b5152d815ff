//! `consentry prove`: build a presentation token locally.

use std::path::PathBuf;

use anyhow::Context;
use consentry_circuits::access::AccessWitness;
use consentry_circuits::escrow::{self, InspectorKey};
use consentry_circuits::{field, Fr};

use super::args::{parse_field, today, HolderArgs};
use crate::files;

/// Arguments of `consentry prove`.
#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// Who proves: identity, leaf list, attributes, parameters.
    #[command(flatten)]
    pub holder: HolderArgs,
    /// Scope as a field element (hex); or use --stream.
    #[arg(long, value_parser = parse_field, required_unless_present = "stream", conflicts_with = "stream")]
    pub scope: Option<Fr>,
    /// Stream id: the scope is `H("access", stream)`.
    #[arg(long)]
    pub stream: Option<String>,
    /// The message to bind, as a field element (hex); or use --message-file.
    #[arg(long, value_parser = parse_field, required_unless_present = "message_file", conflicts_with = "message_file")]
    pub message: Option<Fr>,
    /// Bind the token to this file's bytes (message `H_msg(SHA-256(tag || bytes))`). For a
    /// ledger transaction the bytes are the chain id, a zero byte, then the canonical body:
    /// the institution commands build those themselves.
    #[arg(long, value_name = "FILE")]
    pub message_file: Option<PathBuf>,
    /// The policy's minimum level.
    #[arg(long, default_value_t = 0)]
    pub min_level: u16,
    /// The day the credential must be valid on (default: today, UTC).
    #[arg(long)]
    pub today: Option<u32>,
    /// Make an escrowed token: the institution's id encrypted to the inspector with this
    /// escrow key (64 hex digits), with the escrow circuit's keys of the parameter directory
    /// (made for that inspector).
    #[arg(long, value_name = "HEX", value_parser = super::setup::parse_escrow_key)]
    pub escrow_to: Option<InspectorKey>,
    /// Where to write the token (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `consentry prove`.
pub fn run(a: ProveArgs) -> anyhow::Result<()> {
    let (holder, tree) = a.holder.holder_and_tree()?;
    let index = tree
        .position(&holder.leaf())
        .expect("holder_and_tree checked it is live");
    let witness = AccessWitness {
        sk: holder.sk,
        attributes: holder.attributes,
        path: tree.path(index)?,
    };
    let scope = match (a.scope, &a.stream) {
        (Some(s), _) => s,
        (None, Some(stream)) => field::access_scope(stream),
        (None, None) => unreachable!("clap requires --scope or --stream"),
    };
    let message = match (a.message, &a.message_file) {
        (Some(m), _) => m,
        (None, Some(path)) => field::message_for_body(
            &std::fs::read(path).with_context(|| format!("{}", path.display()))?,
        ),
        (None, None) => unreachable!("clap requires --message or --message-file"),
    };
    let public = witness.statement(
        tree.root(),
        scope,
        message,
        a.min_level,
        a.today.unwrap_or_else(today),
    )?;

    let load = std::time::Instant::now();
    let mut rng = rand::rngs::OsRng;
    let (token, loaded, proved) = match a.escrow_to {
        None => {
            let prover = a.holder.prover(tree.depth())?;
            let loaded = load.elapsed();
            let start = std::time::Instant::now();
            let token = prover.prove(&witness, public, &mut rng)?;
            (token, loaded, start.elapsed())
        }
        Some(inspector) => {
            let dir = crate::params::resolve_dir(a.holder.params.params.as_deref());
            let prover = crate::params::load_escrow_prover(&dir, tree.depth(), inspector)?;
            let loaded = load.elapsed();
            let start = std::time::Instant::now();
            let (escrow, r) = escrow::encrypt(&witness.sk.id(), &inspector, &mut rng);
            let token = prover.token(public, &witness, escrow, &r, &mut rng)?;
            (token, loaded, start.elapsed())
        }
    };
    files::write_token(&a.out, &token)?;
    errln!("keys loaded in {loaded:.1?}, proof in {proved:.1?}");
    outln!("pseudonym {}", field::to_hex(&token.public.pseudonym))?;
    outln!("token {}", a.out.display())?;
    Ok(())
}
