//! The escrow variant's figures (accountable anonymity, `docs/escrow.md`), beside the plain
//! token's at each depth: `prove_escrow` (a fresh escrow of the institution's id and its
//! proof, with the node's prover prepared as `prove`'s) and `verify_escrow`.
//!
//! No escrow keys ship yet, so each depth generates its own for a random inspector (not
//! timed as a figure; the setup time is reported): INSECURE keys, used for nothing else.

use std::time::Instant;

use consentry_circuits::escrow::groth::EscrowProver;
use consentry_circuits::escrow::{self, InspectorSecret};
use consentry_circuits::groth::{Preparation, Verifier};
use rand::rngs::OsRng;

use super::progress::Progress;
use super::report::Figure;
use super::zk::{sample, World};
use super::BenchError;

/// Figures measured per depth with `iterations + 1` runs each.
pub const FIGURES: u64 = 2;
/// Steps beyond the samples: the keys.
pub const FIXED_STEPS: u64 = 1;

/// What one depth's escrow run gives.
pub struct EscrowFigures {
    /// `prove_escrow`, `verify_escrow`.
    pub figures: Vec<Figure>,
    /// The escrow circuit's constraints.
    pub constraints: usize,
    /// Key generation time, in seconds.
    pub setup_s: f64,
}

/// Measures the escrow variant at `world`'s depth.
pub fn figures(
    world: &World,
    iterations: usize,
    progress: &Progress,
) -> Result<EscrowFigures, BenchError> {
    let depth = world.tree.depth();
    let prove_err = |cause| BenchError::Prove { depth, cause };
    progress.phase(format!("depth {depth}: escrow keys (not timed)"));
    let inspector = InspectorSecret::random(&mut OsRng);
    let key = inspector.public();
    let started = Instant::now();
    let (pk, vk) = escrow::groth::setup(depth, &key, &mut OsRng).map_err(prove_err)?;
    let setup_s = started.elapsed().as_secs_f64();
    let prover = EscrowProver::new(depth, pk, key, Preparation::Tables).map_err(prove_err)?;
    let verifier = Verifier::escrow(depth, &vk).map_err(|e| BenchError::Invalid {
        depth,
        reason: e.to_string(),
    })?;
    progress.tick();

    progress.phase(format!("depth {depth}: prove_escrow"));
    let id = world.witness.sk.id();
    let mut made = vec![];
    let m = sample(iterations, 1, progress, |calls| {
        let publics = (0..calls)
            .map(|i| world.public(i))
            .collect::<Result<Vec<_>, _>>()?;
        let started = Instant::now();
        for public in publics {
            let (e, r) = escrow::encrypt(&id, &key, &mut OsRng);
            let token = prover
                .token(public, &world.witness, e, &r, &mut OsRng)
                .map_err(prove_err)?;
            made.push(token);
        }
        Ok(started.elapsed())
    })?;
    let mut figures = vec![Figure::new("prove_escrow", m)];

    progress.phase(format!("depth {depth}: verify_escrow"));
    let m = sample(iterations, usize::MAX, progress, |calls| {
        let started = Instant::now();
        for i in 0..calls {
            verifier
                .verify(&made[i % made.len()])
                .map_err(|e| BenchError::Invalid {
                    depth,
                    reason: format!("an escrowed token made by the bench: {e}"),
                })?;
        }
        Ok(started.elapsed())
    })?;
    figures.push(Figure::new("verify_escrow", m));
    Ok(EscrowFigures {
        figures,
        constraints: prover.num_constraints(),
        setup_s,
    })
}
