//! Criterion benchmark of the escrow variant of the access token (accountable anonymity)
//! beside the plain token, at registry depth 20, each with arkworks' Groth16 prover and with
//! the node's own (the ratio of a pair is the circuits', not the provers').
//!
//! - `escrow/prove/{plain,escrow}` (arkworks' prover), `escrow/prove/{plain,escrow}_consentry`
//!   (the node's prover);
//! - `escrow/verify/{plain,escrow}`;
//! - `escrow/encrypt`, `escrow/open`: the native ElGamal-style escrow and its opening.
//!
//! Setup times and constraint counts are printed once. Run: `cargo bench --bench escrow`.

use std::time::Instant;

use consentry::circuits::credential::Role;
use consentry::circuits::escrow::{self, InspectorSecret};
use consentry::circuits::groth::Verifier;
use consentry::circuits::token::Token;
use consentry::circuits::Fr;
use consentry::ledger::fixture::Fixture;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::OsRng;

const DEPTH: usize = 20;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let mut fx = Fixture::new(DEPTH, dir.path(), 50);
    eprintln!(
        "escrow bench: plain depth-{DEPTH} keys in {:.2?}",
        started.elapsed()
    );
    let (inst, tree, witness) = fx.lone_holder(Role::Hospital, 3);
    let inspector = InspectorSecret::random(&mut OsRng);
    let key = inspector.public();
    let started = Instant::now();
    let (epk, evk) = escrow::groth::setup(DEPTH, &key, &mut OsRng).expect("setup");
    let epvk = escrow::groth::prepare(&evk);
    // The node's prover for both circuits, prepared the same way.
    let eprover =
        escrow::groth::EscrowProver::new(DEPTH, epk.clone(), key, fx.prover.preparation())
            .expect("prover");
    eprintln!(
        "escrow bench: escrow depth-{DEPTH} keys in {:.2?}; constraints: plain {}, escrow {}",
        started.elapsed(),
        fx.prover.num_constraints(),
        escrow_constraints(&key)
    );
    let public = witness
        .statement(tree.root(), Fr::from(5u64), Fr::from(6u64), 2, 20_400)
        .expect("statement");
    let id = inst.sk.id();
    let plain_prover = &fx.prover;

    let mut g = c.benchmark_group("escrow");
    g.sample_size(10);
    g.bench_function("prove/plain", |b| {
        b.iter(|| {
            plain_prover
                .prove_with_arkworks(&witness, public, &mut OsRng)
                .expect("prove")
        })
    });
    g.bench_function("prove/plain_consentry", |b| {
        b.iter(|| {
            plain_prover
                .prove(&witness, public, &mut OsRng)
                .expect("prove")
        })
    });
    g.bench_function("prove/escrow", |b| {
        b.iter(|| {
            let (e, r) = escrow::encrypt(&id, &key, &mut OsRng);
            escrow::groth::prove(&epk, public, &witness, &key, e, &r, &mut OsRng).expect("prove")
        })
    });
    g.bench_function("prove/escrow_consentry", |b| {
        b.iter(|| {
            let (e, r) = escrow::encrypt(&id, &key, &mut OsRng);
            eprover
                .prove(public, &witness, e, &r, &mut OsRng)
                .expect("prove")
        })
    });
    let token = plain_prover
        .prove(&witness, public, &mut OsRng)
        .expect("prove");
    let keys = fx.keys();
    let verifier = &keys[&consentry::ledger::KeyId::plain(DEPTH as u8)].verifier;
    g.bench_function("verify/plain", |b| {
        b.iter(|| verifier.verify(&token).expect("valid"))
    });
    let (e, r) = escrow::encrypt(&id, &key, &mut OsRng);
    let proof =
        escrow::groth::prove(&epk, public, &witness, &key, e, &r, &mut OsRng).expect("prove");
    assert!(escrow::groth::verify(&epvk, &public, &e, &proof));
    let everifier = Verifier::escrow(DEPTH, &evk).expect("escrow key");
    let escrowed = Token {
        depth: DEPTH as u8,
        proof,
        public,
        escrow: Some(e),
    };
    g.bench_function("verify/escrow", |b| {
        b.iter(|| everifier.verify(&escrowed).expect("valid"))
    });
    g.bench_function("encrypt", |b| {
        b.iter(|| escrow::encrypt(&id, &key, &mut OsRng))
    });
    g.bench_function("open", |b| b.iter(|| inspector.open(&e)));
    g.finish();
}

fn escrow_constraints(key: &escrow::InspectorKey) -> usize {
    escrow::groth::num_constraints(DEPTH, key).expect("count")
}

criterion_group!(benches, bench);
criterion_main!(benches);
