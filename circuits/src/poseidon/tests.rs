use ark_bls12_381::Fr;
use ark_crypto_primitives::sponge::{
    poseidon::PoseidonSponge, CryptographicSponge, FieldBasedCryptographicSponge,
};
use ark_ff::{AdditiveGroup, Field, UniformRand};
use ark_r1cs_std::{alloc::AllocVar, fields::fp::FpVar, GR1CSVar};
use ark_relations::gr1cs::ConstraintSystem;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::field;

const DOMAINS: [Domain; 7] = [
    Domain::Identity,
    Domain::Leaf,
    Domain::MerkleNode,
    Domain::Pseudonym,
    Domain::Message,
    Domain::Escrow,
    Domain::Scope,
];

fn inputs(n: usize) -> Vec<Fr> {
    (0..n as u64).map(|i| Fr::from(i + 1)).collect()
}

/// The arkworks reference sponge with the capacity preset to the domain tag.
fn reference(domain: Domain, xs: &[Fr]) -> Fr {
    let config = Poseidon::get().arkworks_config();
    let mut sponge = PoseidonSponge::new(&config);
    sponge.state[0] = Fr::from(domain.capacity_tag(xs.len()));
    for x in xs {
        sponge.absorb(x);
    }
    sponge.squeeze_native_field_elements(1)[0]
}

/// The textbook permutation, straight from the specification and [`Poseidon`]'s constants:
/// every round adds its constants, applies the S-box (to all elements in a full round, to the
/// first one in a partial round) and multiplies by the MDS matrix. The reference for the
/// optimized [`permute`].
fn textbook_permute(state: &mut [Fr; WIDTH]) {
    let p = Poseidon::get();
    let half = FULL_ROUNDS / 2;
    for (round, ark) in p.ark.iter().enumerate() {
        for (s, c) in state.iter_mut().zip(ark) {
            *s += c;
        }
        let sboxed = if round < half || round >= half + PARTIAL_ROUNDS {
            WIDTH
        } else {
            1
        };
        for s in &mut state[..sboxed] {
            *s = s.pow([ALPHA]);
        }
        let old = *state;
        for (s, row) in state.iter_mut().zip(&p.mds) {
            *s = (0..WIDTH).map(|j| row[j] * old[j]).sum();
        }
    }
}

/// The sponge of [`hash`] over [`textbook_permute`].
fn textbook_hash(domain: Domain, xs: &[Fr]) -> Fr {
    let mut state = [Fr::from(domain.capacity_tag(xs.len())), Fr::ZERO, Fr::ZERO];
    if xs.is_empty() {
        textbook_permute(&mut state);
    }
    for chunk in xs.chunks(RATE) {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        textbook_permute(&mut state);
    }
    state[1]
}

fn random_state(seed: u64) -> [Fr; WIDTH] {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    [Fr::rand(&mut rng), Fr::rand(&mut rng), Fr::rand(&mut rng)]
}

proptest! {
    #[test]
    fn optimized_permutation_matches_textbook(seed in any::<u64>()) {
        let mut fast = random_state(seed);
        let mut slow = fast;
        permute(&mut fast);
        textbook_permute(&mut slow);
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn optimized_permutation_matches_textbook_on_small_states(
        a in any::<u64>(),
        b in any::<u64>(),
        c in any::<u64>(),
    ) {
        let mut fast = [Fr::from(a), Fr::from(b), Fr::from(c)];
        let mut slow = fast;
        permute(&mut fast);
        textbook_permute(&mut slow);
        prop_assert_eq!(fast, slow);
    }
}

#[test]
fn optimized_permutation_matches_textbook_on_edge_states() {
    let minus_one = -Fr::ONE;
    for state in [
        [Fr::ZERO; WIDTH],
        [Fr::ONE; WIDTH],
        [minus_one; WIDTH],
        [Fr::ZERO, Fr::ONE, minus_one],
    ] {
        let (mut fast, mut slow) = (state, state);
        permute(&mut fast);
        textbook_permute(&mut slow);
        assert_eq!(fast, slow, "{state:?}");
    }
}

#[test]
fn textbook_matches_arkworks_reference_sponge() {
    for d in DOMAINS {
        for n in 0..=6 {
            assert_eq!(
                textbook_hash(d, &inputs(n)),
                reference(d, &inputs(n)),
                "{d:?} n={n}"
            );
        }
    }
}

#[test]
fn native_matches_arkworks_reference_sponge() {
    for d in DOMAINS {
        for n in 0..=6 {
            assert_eq!(hash(d, &inputs(n)), reference(d, &inputs(n)), "{d:?} n={n}");
        }
    }
}

#[test]
fn gadget_matches_native() {
    for d in DOMAINS {
        for n in [1, 2, 6] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let vars: Vec<FpVar<Fr>> = inputs(n)
                .iter()
                .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap())
                .collect();
            let out = gadget::hash_var(d, &vars).unwrap();
            assert!(cs.is_satisfied().unwrap());
            assert_eq!(out.value().unwrap(), hash(d, &inputs(n)), "{d:?} n={n}");
        }
    }
}

#[test]
fn a_wrong_output_does_not_satisfy_the_gadget() {
    use ark_r1cs_std::eq::EqGadget;
    let cs = ConstraintSystem::<Fr>::new_ref();
    let x = FpVar::new_witness(cs.clone(), || Ok(Fr::from(5u64))).unwrap();
    let claimed =
        FpVar::new_input(cs.clone(), || Ok(hash(Domain::Identity, &[Fr::from(6u64)]))).unwrap();
    gadget::hash_var(Domain::Identity, &[x])
        .unwrap()
        .enforce_equal(&claimed)
        .unwrap();
    assert!(!cs.is_satisfied().unwrap());
}

#[test]
fn one_permutation_costs_240_constraints() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(1u64))).unwrap();
    let b = FpVar::new_witness(cs.clone(), || Ok(Fr::from(2u64))).unwrap();
    let _out = gadget::hash_var(Domain::MerkleNode, &[a, b]).unwrap();
    // 81 S-boxes x 3, less the capacity S-box of round one, which is a constant.
    assert_eq!(cs.num_constraints(), 240);
}

#[test]
fn domains_separate() {
    let xs = inputs(2);
    let outs: Vec<Fr> = DOMAINS.iter().map(|d| hash(*d, &xs)).collect();
    for i in 0..outs.len() {
        for j in i + 1..outs.len() {
            assert_ne!(outs[i], outs[j]);
        }
    }
    // Length is part of the tag: [1] and [1, 0] differ although the sponge adds 0 for padding.
    assert_ne!(
        hash(Domain::Leaf, &[Fr::from(1u64)]),
        hash(Domain::Leaf, &[Fr::from(1u64), Fr::from(0u64)])
    );
}

/// Fixed vectors: `hash(domain, [1, 2])` for each domain. Changing the constants, the round
/// structure or the tags breaks these (and every key made before).
#[test]
fn fixed_vectors() {
    let expected = [
        (
            Domain::Identity,
            "0x45c99c25e46b58c6b3ef7d48a16cae482e30b9b205b1ce1d7c7d27e17c07a178",
        ),
        (
            Domain::Leaf,
            "0x3da2eda3f35c86c11bc815a5eb44b1b48b81a6ab0b7cd3a7ff4db76a4d5b0609",
        ),
        (
            Domain::MerkleNode,
            "0x50505124df2a81e5b4180139890879aee4b17f5b4d48894b4352040d316682d2",
        ),
        (
            Domain::Pseudonym,
            "0x2f68f24d5ce41b498b57e98789d38e4c7cb1c22a24ce2ef8655bbc59f2fc4560",
        ),
        (
            Domain::Message,
            "0x4fc00c38942b57f8a0e4777822e3faf43790ee207718778699b9d7f501369d32",
        ),
        (
            Domain::Escrow,
            "0x0d03d0b58af93a039d9b977b99d60a7ae9397119f03f3608c1894296a040390b",
        ),
        (
            Domain::Scope,
            "0x0a928c71ba046e661e287e72dcf23306eba827a7bf643d8d39584e1f870c038f",
        ),
    ];
    for (d, hex) in expected {
        assert_eq!(field::to_hex(&hash(d, &inputs(2))), hex, "{d:?}");
    }
}
