//! `consentry setup`: key generation.

use std::path::PathBuf;

use anyhow::Context;
use consentry_circuits::groth::{self, DEV_SEED};
use consentry_circuits::registry::DEFAULT_DEPTH;

use super::args::{parse_depth, parse_seed};

/// Arguments of `consentry setup`.
#[derive(clap::Args, Debug)]
pub struct SetupArgs {
    /// Directory to write `access-d{N}.pk`, `access-d{N}.vk` and `SHA256SUMS` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Registry depth the circuit is built for.
    #[arg(long, default_value_t = DEFAULT_DEPTH, value_parser = parse_depth)]
    pub depth: usize,
    /// Deterministic keys from this public 32-byte seed (INSECURE: anyone with the seed can forge).
    #[arg(long, value_parser = parse_seed, conflicts_with_all = ["random", "dev"])]
    pub seed: Option<[u8; 32]>,
    /// The shipped development keys' seed (INSECURE; reproduces params/).
    #[arg(long, conflicts_with = "random")]
    pub dev: bool,
    /// Fresh keys from OS randomness (the default; the trapdoor is discarded).
    #[arg(long)]
    pub random: bool,
}

/// Runs `consentry setup`.
pub fn run(a: SetupArgs) -> anyhow::Result<()> {
    let seed = if a.dev { Some(DEV_SEED) } else { a.seed };
    let started = std::time::Instant::now();
    let (pk, vk) = match seed {
        Some(seed) => {
            errln!(
                "warning: deterministic keys from a public seed are INSECURE (development only)"
            );
            groth::setup_from_seed(a.depth, seed)
        }
        None => groth::setup(a.depth, &mut rand::rngs::OsRng),
    }
    .context("key generation")?;
    let manifest = groth::write_keys(&a.out, a.depth, &pk, &vk)?;
    errln!(
        "generated depth-{} keys in {:.1?}",
        a.depth,
        started.elapsed()
    );
    for name in [
        groth::pk_file_name(a.depth),
        groth::pk_raw_file_name(a.depth),
        groth::vk_file_name(a.depth),
    ] {
        outln!(
            "{}  {}",
            hex::encode(manifest.entries[&name]),
            a.out.join(&name).display()
        )?;
    }
    Ok(())
}
