//! Criterion benchmarks of the zero-knowledge core at the shipped depth (20): native Poseidon,
//! registry insert, proving (with the window tables, and directly with blst's Pippenger; and a
//! holder's repeat proof through a `ProofCache`: same credential and root, a new scope and
//! message each time), verifying one token, and batch verification of 64.
//!
//! Run: `cargo bench --bench token` (add `-- --quick` for a fast pass).

use consentry::bench::zk::World;
use consentry::circuits::groth::{
    setup_from_seed, Preparation, ProofCache, Prover, Verifier, DEV_SEED,
};
use consentry::circuits::poseidon::{self, Domain};
use consentry::circuits::token::Token;
use consentry::circuits::Fr;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;

const DEPTH: usize = 20;

struct Fixture {
    prover: Prover,
    direct: Prover,
    verifier: Verifier,
    world: World,
}

fn fixture() -> Fixture {
    let (pk, vk) = setup_from_seed(DEPTH, DEV_SEED).expect("setup");
    Fixture {
        prover: Prover::with_preparation(DEPTH, pk.clone(), Preparation::Tables).expect("prover"),
        direct: Prover::new(DEPTH, pk).expect("prover"),
        verifier: Verifier::new(DEPTH, &vk).expect("verifier"),
        world: World::new(DEPTH).expect("world"),
    }
}

fn prove(f: &Fixture, prover: &Prover, i: usize, rng: &mut ChaCha20Rng) -> Token {
    let public = f.world.public(i).expect("statement holds");
    prover.prove(&f.world.witness, public, rng).expect("prove")
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(2);

    // One permutation each: width 3 (H_nym), width 5 (a registry node), width 7 (a leaf).
    c.bench_function("poseidon/hash2_w3", |b| {
        let xs = [Fr::from(1u64), Fr::from(2u64)];
        b.iter(|| poseidon::hash(Domain::Pseudonym, black_box(&xs)))
    });
    c.bench_function("poseidon/node4_w5", |b| {
        let xs: [Fr; 4] = std::array::from_fn(|i| Fr::from(i as u64 + 1));
        b.iter(|| poseidon::hash(Domain::MerkleNode, black_box(&xs)))
    });
    c.bench_function("poseidon/leaf6_w7", |b| {
        let xs: [Fr; 6] = std::array::from_fn(|i| Fr::from(i as u64 + 1));
        b.iter(|| poseidon::hash(Domain::Leaf, black_box(&xs)))
    });
    // The same permutations without AVX-512 IFMA (what `permute` runs on other CPUs).
    c.bench_function("poseidon/permute_w3_portable", |b| {
        let state: [Fr; 3] = std::array::from_fn(|i| Fr::from(i as u64 + 1));
        b.iter(|| {
            let mut s = black_box(state);
            poseidon::permute_portable(&mut s);
            s
        })
    });
    c.bench_function("poseidon/permute_w5_portable", |b| {
        let state: [Fr; 5] = std::array::from_fn(|i| Fr::from(i as u64 + 1));
        b.iter(|| {
            let mut s = black_box(state);
            poseidon::permute_portable(&mut s);
            s
        })
    });

    c.bench_function("registry/append_d20", |b| {
        b.iter_batched(
            // A clone's vectors are full: its first append would copy them to grow. That append
            // is made in the set-up, as a ledger's tree has room; the tree is returned so that
            // criterion drops it outside the timed routine.
            || {
                let mut t = f.world.tree.clone();
                t.append(Fr::from(7u64)).expect("room");
                t
            },
            |mut t| {
                t.append(f.world.witness.sk.id().0).expect("room");
                t
            },
            BatchSize::LargeInput,
        )
    });
    // A block's 256 enrollments applied as the ledger applies them: one batch, each shared
    // node hashed once (divide by 256 for the cost per leaf).
    c.bench_function("registry/append_block256_d20", |b| {
        let leaves: Vec<Fr> = (1..=256u64).map(Fr::from).collect();
        b.iter_batched(
            || f.world.tree.clone(),
            |mut t| {
                let mut batch = t.batch();
                for leaf in &leaves {
                    batch.append(*leaf).expect("room");
                }
                drop(batch);
                t
            },
            BatchSize::LargeInput,
        )
    });

    let mut g = c.benchmark_group("groth16_d20");
    g.sample_size(20);
    g.bench_function("prove", |b| b.iter(|| prove(&f, &f.prover, 0, &mut rng)));
    // Each iteration a new statement (scope and message) for the same holder and root, as an
    // institution proving token after token.
    let mut cache = ProofCache::new();
    let mut i = 0;
    g.bench_function("prove_repeat", |b| {
        b.iter(|| {
            i += 1;
            let public = f.world.public(i).expect("statement holds");
            f.prover
                .prove_cached(&mut cache, &f.world.witness, public, &mut rng)
                .expect("prove")
        })
    });
    g.bench_function("prove_direct", |b| {
        b.iter(|| prove(&f, &f.direct, 0, &mut rng))
    });
    let tokens: Vec<Token> = (0..8).map(|i| prove(&f, &f.prover, i, &mut rng)).collect();
    g.bench_function("verify", |b| {
        b.iter(|| f.verifier.verify(&tokens[0]).expect("valid"))
    });
    let batch: Vec<Token> = (0..64).map(|i| tokens[i % tokens.len()].clone()).collect();
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("verify_batch_64", |b| {
        b.iter(|| f.verifier.verify_batch(&batch).expect("valid"))
    });
    g.finish();
}

criterion_group!(token, benches);
criterion_main!(token);
