//! `consentry verify`: check a token file against the verifying key.

use std::path::PathBuf;

use anyhow::{bail, Context};
use consentry_circuits::{field, Fr};

use super::args::parse_field;
use super::ParamsArg;
use crate::{files, params};

/// Arguments of `consentry verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The token file (JSON).
    #[arg(value_name = "TOKEN")]
    pub token: PathBuf,
    /// Also require the token to be against this registry root.
    #[arg(long, value_parser = parse_field)]
    pub root: Option<Fr>,
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

/// Runs `consentry verify`; an invalid token is an error (non-zero exit) with the reason.
pub fn run(a: VerifyArgs) -> anyhow::Result<()> {
    let token = files::read_token(&a.token)?;
    if let Some(root) = a.root {
        if token.public.root != root {
            bail!(
                "invalid: the token is against root {}, not {}",
                field::to_hex(&token.public.root),
                field::to_hex(&root)
            );
        }
    }
    let dir = params::resolve_dir(a.params.params.as_deref());
    let (verifier, _) = match token.escrow {
        None => params::load_verifier(&dir, token.depth as usize)
            .with_context(|| format!("no verifying key for depth {}", token.depth))?,
        Some(_) => params::load_escrow_verifier(&dir, token.depth as usize)
            .with_context(|| format!("no escrow verifying key for depth {}", token.depth))?,
    };
    verifier
        .verify(&token)
        .map_err(|e| anyhow::anyhow!("invalid: {e}"))?;
    let p = &token.public;
    outln!("valid")?;
    outln!(
        "role {}\nissuer_id {}\nmin_level {}\ntoday {}",
        p.role,
        p.issuer_id,
        p.min_level,
        p.today
    )?;
    outln!(
        "root {}\nscope {}\npseudonym {}\nmessage {}",
        field::to_hex(&p.root),
        field::to_hex(&p.scope),
        field::to_hex(&p.pseudonym),
        field::to_hex(&p.message)
    )?;
    if let Some(e) = &token.escrow {
        outln!("escrow {}", hex::encode(e.to_bytes()))?;
    }
    Ok(())
}
