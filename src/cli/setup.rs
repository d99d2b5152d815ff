//! `consentry setup`: key generation.

use std::path::PathBuf;

use anyhow::Context;
use consentry_circuits::escrow::{self, InspectorKey, InspectorSecret};
use consentry_circuits::field;
use consentry_circuits::groth::{self, Circuit, DEV_ESCROW_SEED, DEV_SEED};
use consentry_circuits::registry::DEFAULT_DEPTH;

use super::args::{parse_depth, parse_seed};

/// Arguments of `consentry setup`.
#[derive(clap::Args, Debug)]
pub struct SetupArgs {
    /// Directory to write `access-d{N}.pk`, `.pk.raw`, `.vk` (and the escrow circuit's
    /// `escrow-d{N}.*` with --inspector or --dev) and `SHA256SUMS` into.
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
    /// Also make the escrow circuit's keys (`escrow-d{N}.*`) for the inspector with this
    /// escrow key (64 hex digits, `escrow_key` of `consentry inspector keygen`): the key is a
    /// constant of that circuit. With --dev (which excludes this), the development
    /// inspector's escrow keys are made.
    #[arg(long, value_name = "HEX", value_parser = parse_escrow_key, conflicts_with = "dev")]
    pub inspector: Option<InspectorKey>,
}

pub(super) fn parse_escrow_key(s: &str) -> Result<InspectorKey, String> {
    let bytes: [u8; 32] = hex::decode(s)
        .map_err(|e| format!("not hex: {e}"))?
        .try_into()
        .map_err(|b: Vec<u8>| format!("an escrow key is 32 bytes, got {}", b.len()))?;
    InspectorKey::from_bytes(&bytes).map_err(|e| e.to_string())
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
    let mut manifest = groth::write_keys(&a.out, a.depth, &pk, &vk)?;
    errln!(
        "generated depth-{} access keys in {:.1?}",
        a.depth,
        started.elapsed()
    );
    let mut circuits = vec![Circuit::Access];
    let inspector = match (a.dev, a.inspector) {
        (true, _) => Some(InspectorSecret::dev().public()),
        (false, key) => key,
    };
    if let Some(key) = inspector {
        let started = std::time::Instant::now();
        // Its own seed: two circuits' keys from one seed would share their trapdoor.
        let seed = match (a.dev, seed) {
            (true, _) => Some(DEV_ESCROW_SEED),
            (false, Some(s)) => Some(field::sha256_tagged(b"consentry/v1/escrow-setup-seed", &s)),
            (false, None) => None,
        };
        let (pk, vk) = match seed {
            Some(seed) => escrow::groth::setup_from_seed(a.depth, &key, seed),
            None => escrow::groth::setup(a.depth, &key, &mut rand::rngs::OsRng),
        }
        .context("escrow key generation")?;
        manifest = groth::write_circuit_keys(&a.out, Circuit::Escrow, a.depth, &pk, &vk)?;
        errln!(
            "generated depth-{} escrow keys for inspector {} in {:.1?}",
            a.depth,
            hex::encode(key.to_bytes()),
            started.elapsed()
        );
        circuits.push(Circuit::Escrow);
    }
    for circuit in circuits {
        for name in [
            circuit.pk_file_name(a.depth),
            circuit.pk_raw_file_name(a.depth),
            circuit.vk_file_name(a.depth),
        ] {
            outln!(
                "{}  {}",
                hex::encode(manifest.entries[&name]),
                a.out.join(&name).display()
            )?;
        }
    }
    Ok(())
}
