//! The zero-knowledge figures: per depth key loading, witness generation, proving, verifying
//! one token, batch verification and registry insert; once, native Poseidon.
//!
//! What each figure times (everything else in its sample is prepared untimed):
//! - `key_load`: [`groth::load_proving_key`]: read the file, check its SHA-256 against the
//!   manifest, deserialise: the uncompressed `.pk.raw` without point checks when the manifest
//!   lists it (validated when written), else the compressed key with every point validated.
//! - `prepare`: [`Prover::with_preparation`] with [`Preparation::Tables`]: derive the
//!   constraint matrices and build the window tables of the proving key's bases, once per
//!   process for a long-lived prover. At most [`PREPARE_SAMPLES`] samples: it takes seconds.
//!   The other prover figures use this prover.
//! - `witness`: [`Prover::witness`]: the native statement check and the full assignment, the
//!   part of proving before the multi-scalar multiplications.
//! - `prove`: [`Prover::prove`] (witness included), one token per call: a fresh proof, which
//!   is what a process that proves once pays, and any proof after a new credential.
//! - `prove_repeat`: [`Prover::prove_cached`] (witness included) for the same holder and
//!   root, a new scope and message each call (a distinct statement, as every token of an
//!   institution is), its [`ProofCache`] filled by the warm-up: what a long-lived
//!   institution service pays per token.
//! - `prove_arkworks`: [`Prover::prove_with_arkworks`], arkworks' own Groth16 prover on the same
//!   key and statement: the baseline before Consentry's optimisations.
//! - `verify`: [`groth::Verifier::verify`] of one token with the prepared key.
//! - `batch_verify_N`: [`groth::Verifier::verify_batch`] of N tokens (the figure is the whole batch;
//!   `per_token_us` is the median over N).
//! - `registry_insert`: [`RegistryTree::append`] to a tree of that depth already holding
//!   `min(1000, 2^depth / 2)` leaves: one leaf, `depth / 2` node hashes.
//! - `registry_insert_block`: [`REGISTRY_BLOCK`] appends (fewer if the tree has less room) to
//!   the same tree in one [`RegistryTree::batch`], as the ledger applies a block's enrollments
//!   (each shared node hashed once); `per_token_us` is per leaf.
//! - `poseidon`: the native 2-input hash (`H_node`), measured once: it does not depend on the
//!   depth.
//!
//! **Batch tokens.** Batches are made of a pool of [`DISTINCT_TOKENS`] distinct valid tokens
//! (the `prove` samples' tokens, topped up with proofs made in parallel), repeated to the batch
//! size. This is faithful: `verify_batch` does not deduplicate, and every token in a batch
//! costs the same (its own random coefficient, scalar multiplication, G2 preparation and
//! Miller loop) whether or not it repeats another. It saves proving 256 tokens per depth
//! (about two minutes at depth 32 on two cores).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use consentry_circuits::access::{AccessWitness, PublicInputs};
use consentry_circuits::credential::{Attributes, Credential, Role, SecretKey};
use consentry_circuits::groth::{self, Preparation, ProofCache, Prover};
use consentry_circuits::poseidon::{self, Domain};
use consentry_circuits::registry::RegistryTree;
use consentry_circuits::token::Token;
use consentry_circuits::{field, Fr};
use rand::rngs::OsRng;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use super::progress::Progress;
use super::report::Figure;
use super::sampler::{measure, Measured};
use super::BenchError;

/// Distinct valid tokens the batches are built from.
pub const DISTINCT_TOKENS: usize = 16;
/// Batch sizes measured, in order.
pub const BATCH_SIZES: [usize; 3] = [16, 64, 256];
/// Steps (progress ticks) of one depth, beyond the per-figure samples: obtaining the keys and
/// building the registry.
pub const DEPTH_FIXED_STEPS: u64 = 2;
/// Samples of `prepare` at most (plus its warm-up): the tables take seconds to build at depth
/// 32, and the figure varies little.
pub const PREPARE_SAMPLES: usize = 3;
/// Figures measured per depth with `iterations + 1` runs each (poseidon is measured once).
pub const DEPTH_FIGURES: u64 = 8 + BATCH_SIZES.len() as u64;
/// Appends per batch in `registry_insert_block`: the ledger's block size
/// (a node cuts a block at [`crate::node::BLOCK_CUT_TXS`] pending transactions).
pub const REGISTRY_BLOCK: usize = crate::node::BLOCK_CUT_TXS;

/// The day the bench's tokens are valid on (2025-11-08); the statement does not care.
pub(super) const TODAY: u32 = 20_400;

/// Extra proofs needed to fill the token pool after the `prove` samples (`iterations + 1`,
/// with the warm-up).
pub fn pool_top_up(iterations: usize) -> usize {
    DISTINCT_TOKENS.saturating_sub(iterations + 1)
}

/// A registry of that depth with the bench institution's credential as its last leaf (about
/// a thousand credentials, fewer at small depths). The criterion benches use it too.
pub struct World {
    /// The institution's witness (secret, attributes, path to its leaf).
    pub witness: AccessWitness,
    /// The registry.
    pub tree: RegistryTree,
}

impl World {
    /// The world at `depth`, from a seed fixed per depth.
    pub fn new(depth: usize) -> Result<World, BenchError> {
        let mut rng = ChaCha20Rng::seed_from_u64(depth as u64);
        let attributes = Attributes {
            role: Role::Hospital,
            level: 3,
            jurisdiction: 756,
            expiry_day: TODAY + 365,
            issuer_id: 1,
        };
        let leaf = |sk: &SecretKey| {
            Credential {
                id: sk.id(),
                attributes,
            }
            .leaf()
        };
        let filled = 1000.min((1u64 << depth) / 2).max(1) as usize;
        let mut leaves: Vec<Fr> = (1..filled)
            .map(|_| leaf(&SecretKey::random(&mut rng)))
            .collect();
        let sk = SecretKey::random(&mut rng);
        leaves.push(leaf(&sk));
        let tree = RegistryTree::from_leaves(depth, &leaves)?;
        let path = tree.path(filled as u64 - 1)?;
        Ok(World {
            witness: AccessWitness {
                sk,
                attributes,
                path,
            },
            tree,
        })
    }

    /// The statement of token `i`: its own stream scope and message, so tokens are distinct.
    pub fn public(&self, i: usize) -> Result<PublicInputs, BenchError> {
        self.witness
            .statement(
                self.tree.root(),
                field::access_scope(&format!("bench-{i}")),
                field::message_for_body(&(i as u64).to_be_bytes()),
                2,
                TODAY,
            )
            .map_err(|e| BenchError::Prove {
                depth: self.tree.depth(),
                cause: e.into(),
            })
    }
}

/// [`measure`] with the bench's error type (fixes the error type the closures' `?` infers).
pub(super) fn sample(
    iterations: usize,
    max_calls: usize,
    progress: &Progress,
    run: impl FnMut(usize) -> Result<Duration, BenchError>,
) -> Result<Measured, BenchError> {
    measure(iterations, max_calls, progress, run)
}

fn timed<T>(
    calls: usize,
    mut f: impl FnMut(usize) -> Result<T, BenchError>,
) -> Result<(Duration, Vec<T>), BenchError> {
    let mut out = Vec::with_capacity(calls);
    let started = Instant::now();
    for i in 0..calls {
        out.push(f(i)?);
    }
    // The outputs are dropped by the caller, after the clock stopped.
    Ok((started.elapsed(), out))
}

/// Native Poseidon, width 3 with 2 inputs (`H_nym`, the digest-to-field maps; the same
/// two-to-one hash this figure measured when every use had width 3), chained so no call can be
/// skipped. The wider registry hashes are in the criterion benches (`benches/token.rs`).
pub fn poseidon(iterations: usize, progress: &Progress) -> Result<Figure, BenchError> {
    progress.phase("poseidon (native, width 3, 2 inputs)");
    let m = sample(iterations, usize::MAX, progress, |calls| {
        let (mut x, y) = (Fr::from(1u64), Fr::from(2u64));
        let started = Instant::now();
        for _ in 0..calls {
            x = poseidon::hash(Domain::Pseudonym, black_box(&[x, y]));
        }
        let took = started.elapsed();
        black_box(x);
        Ok(took)
    })?;
    Ok(Figure::new("poseidon", m))
}

/// What one depth measured.
pub struct DepthFigures {
    /// R1CS constraints of the access circuit at this depth.
    pub constraints: usize,
    /// The figures, in report order (without `poseidon`).
    pub figures: Vec<Figure>,
    /// The registry and institution the figures used (the CLI and escrow figures reuse it).
    pub world: World,
}

/// Measures every per-depth figure with the keys in `keys_dir`.
pub fn depth(
    depth: usize,
    keys_dir: &Path,
    iterations: usize,
    progress: &Progress,
) -> Result<DepthFigures, BenchError> {
    let params_err = |cause| BenchError::Params { depth, cause };
    let mut figures = vec![];
    let phase = |what: &str| progress.phase(format!("depth {depth}: {what}"));

    phase("key_load");
    let mut pk = None;
    let m = sample(iterations, usize::MAX, progress, |calls| {
        let (took, mut keys) = timed(calls, |_| {
            groth::load_proving_key(keys_dir, depth).map_err(params_err)
        })?;
        pk = keys.pop();
        Ok(took)
    })?;
    figures.push(Figure::new("key_load", m));

    let pk = pk.expect("measure runs at least once");
    let prove_err = |cause| BenchError::Prove { depth, cause };

    phase("prepare");
    let mut prepared = None;
    let m = sample(iterations.min(PREPARE_SAMPLES), 1, progress, |_| {
        let key = pk.clone();
        let started = Instant::now();
        let prover =
            Prover::with_preparation(depth, key, Preparation::Tables).map_err(prove_err)?;
        let took = started.elapsed();
        prepared = Some(prover); // the previous one is dropped off the clock
        Ok(took)
    })?;
    figures.push(Figure::new("prepare", m));
    let prover = prepared.expect("measure runs at least once");

    phase("building the registry (not timed)");
    let (verifier, _) = crate::params::load_verifier(keys_dir, depth).map_err(params_err)?;
    let constraints = prover.num_constraints();
    let world = World::new(depth)?;
    progress.tick();

    phase("witness");
    let public = world.public(0)?;
    let m = sample(iterations, usize::MAX, progress, |calls| {
        Ok(timed(calls, |_| {
            prover.witness(&world.witness, public).map_err(prove_err)
        })?
        .0)
    })?;
    figures.push(Figure::new("witness", m));

    phase("prove");
    let mut pool: Vec<Token> = vec![];
    let m = sample(iterations, 1, progress, |calls| {
        let publics = (pool.len()..pool.len() + calls)
            .map(|i| world.public(i))
            .collect::<Result<Vec<_>, _>>()?;
        let (took, tokens) = timed(calls, |i| {
            prover
                .prove(&world.witness, publics[i], &mut OsRng)
                .map_err(prove_err)
        })?;
        pool.extend(tokens);
        Ok(took)
    })?;
    figures.push(Figure::new("prove", m));

    phase("prove_repeat");
    let mut cache = ProofCache::new();
    let mut next = pool.len();
    let m = sample(iterations, 1, progress, |calls| {
        let publics = (next..next + calls)
            .map(|i| world.public(i))
            .collect::<Result<Vec<_>, _>>()?;
        next += calls;
        Ok(timed(calls, |i| {
            prover
                .prove_cached(&mut cache, &world.witness, publics[i], &mut OsRng)
                .map_err(prove_err)
        })?
        .0)
    })?;
    figures.push(Figure::new("prove_repeat", m));

    phase("prove_arkworks");
    let m = sample(iterations, 1, progress, |calls| {
        let publics = (0..calls)
            .map(|i| world.public(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(timed(calls, |i| {
            prover
                .prove_with_arkworks(&world.witness, publics[i], &mut OsRng)
                .map_err(prove_err)
        })?
        .0)
    })?;
    figures.push(Figure::new("prove_arkworks", m));

    phase(&format!(
        "proving {DISTINCT_TOKENS} distinct tokens for the batches"
    ));
    let first = pool.len();
    let more = (first..first + pool_top_up(iterations))
        .into_par_iter()
        .map(|i| {
            let token = prover
                .prove(&world.witness, world.public(i)?, &mut OsRng)
                .map_err(prove_err);
            progress.tick();
            token
        })
        .collect::<Result<Vec<_>, _>>()?;
    pool.extend(more);
    pool.truncate(DISTINCT_TOKENS);
    let invalid = |reason: String| BenchError::Invalid { depth, reason };

    phase("verify");
    let m = sample(iterations, usize::MAX, progress, |calls| {
        Ok(timed(calls, |i| {
            verifier
                .verify(&pool[i % pool.len()])
                .map_err(|e| invalid(e.to_string()))
        })?
        .0)
    })?;
    figures.push(Figure::new("verify", m));

    for n in BATCH_SIZES {
        phase(&format!("batch_verify_{n}"));
        let batch: Vec<Token> = pool.iter().cycle().take(n).cloned().collect();
        let m = sample(iterations, usize::MAX, progress, |calls| {
            Ok(timed(calls, |_| {
                verifier
                    .verify_batch(&batch)
                    .map_err(|e| invalid(e.to_string()))
            })?
            .0)
        })?;
        figures.push(Figure::new(&format!("batch_verify_{n}"), m).per_token(n));
    }

    phase("registry_insert");
    let room = (world.tree.capacity() - world.tree.len()) as usize;
    let m = sample(iterations, room, progress, |calls| {
        let mut tree = world.tree.clone();
        let leaves: Vec<Fr> = (1..=calls as u64).map(Fr::from).collect();
        let started = Instant::now();
        for leaf in leaves {
            tree.append(leaf)?;
        }
        let took = started.elapsed();
        drop(tree);
        Ok(took)
    })?;
    figures.push(Figure::new("registry_insert", m));

    phase("registry_insert_block");
    let block = room.clamp(1, REGISTRY_BLOCK);
    let m = sample(iterations, (room / block).max(1), progress, |calls| {
        let mut tree = world.tree.clone();
        let leaves: Vec<Fr> = (1..=(calls * block) as u64).map(Fr::from).collect();
        let started = Instant::now();
        for chunk in leaves.chunks(block) {
            let mut batch = tree.batch();
            for leaf in chunk {
                batch.append(*leaf)?;
            }
        }
        let took = started.elapsed();
        drop(tree);
        Ok(took)
    })?;
    figures.push(Figure::new("registry_insert_block", m).per_token(block));

    Ok(DepthFigures {
        constraints,
        figures,
        world,
    })
}

impl Figure {
    /// A figure named `name` from a measurement.
    pub fn new(name: &str, m: Measured) -> Figure {
        Figure {
            name: name.to_string(),
            min_us: m.summary.min_us,
            median_us: m.summary.median_us,
            p95_us: m.summary.p95_us,
            per_second: m.summary.per_second(),
            per_token_us: None,
            calls_per_sample: m.calls_per_sample,
        }
    }

    /// Adds `per_token_us` for a batch of `n` tokens.
    pub fn per_token(mut self, n: usize) -> Figure {
        self.per_token_us = Some(self.median_us / n as f64);
        self
    }
}
