//! Criterion benchmarks of the zero-knowledge core at the shipped depth (20): native Poseidon,
//! registry insert, proving, verifying one token, and batch verification of 64.
//!
//! Run: `cargo bench --bench token` (add `-- --quick` for a fast pass).

use consentry::circuits::access::{AccessWitness, PublicInputs};
use consentry::circuits::credential::{Attributes, Credential, Role, SecretKey};
use consentry::circuits::groth::{setup_from_seed, Prover, Verifier, DEV_SEED};
use consentry::circuits::poseidon::{self, Domain};
use consentry::circuits::registry::RegistryTree;
use consentry::circuits::token::Token;
use consentry::circuits::{field, Fr};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const DEPTH: usize = 20;
const TODAY: u32 = 20_400;

struct Fixture {
    prover: Prover,
    verifier: Verifier,
    witness: AccessWitness,
    tree: RegistryTree,
    sk: SecretKey,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (pk, vk) = setup_from_seed(DEPTH, DEV_SEED).expect("setup");
    let attributes = Attributes {
        role: Role::Hospital,
        level: 3,
        jurisdiction: 756,
        expiry_day: TODAY + 365,
        issuer_id: 1,
    };
    let mut leaves = vec![];
    for _ in 0..1000 {
        let other = SecretKey::random(&mut rng);
        leaves.push(
            Credential {
                id: other.id(),
                attributes,
            }
            .leaf(),
        );
    }
    let sk = SecretKey::random(&mut rng);
    leaves.push(
        Credential {
            id: sk.id(),
            attributes,
        }
        .leaf(),
    );
    let tree = RegistryTree::from_leaves(DEPTH, &leaves).expect("tree");
    let witness = AccessWitness {
        sk: sk.clone(),
        attributes,
        path: tree.path(1000).expect("path"),
    };
    Fixture {
        prover: Prover::new(DEPTH, pk).expect("prover"),
        verifier: Verifier::new(DEPTH, &vk),
        witness,
        tree,
        sk,
    }
}

fn public(f: &Fixture, i: u64) -> PublicInputs {
    f.witness
        .statement(
            f.tree.root(),
            field::access_scope(&format!("stream-{i}")),
            field::message_for_body(&i.to_be_bytes()),
            2,
            TODAY,
        )
        .expect("statement holds")
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(2);

    c.bench_function("poseidon/hash2", |b| {
        let (x, y) = (Fr::from(1u64), Fr::from(2u64));
        b.iter(|| poseidon::hash(Domain::MerkleNode, &[x, y]))
    });

    c.bench_function("registry/append_d20", |b| {
        b.iter_batched(
            || f.tree.clone(),
            |mut t| t.append(f.sk.id().0).expect("room"),
            BatchSize::LargeInput,
        )
    });

    let mut g = c.benchmark_group("groth16_d20");
    g.sample_size(20);
    g.bench_function("prove", |b| {
        b.iter(|| {
            f.prover
                .prove(&f.witness, public(&f, 0), &mut rng)
                .expect("prove")
        })
    });
    let tokens: Vec<Token> = (0..8)
        .map(|i| {
            f.prover
                .prove(&f.witness, public(&f, i), &mut rng)
                .expect("prove")
        })
        .collect();
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
