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

/// The arkworks reference sponge of the domain's width with the capacity preset to the tag.
fn reference(domain: Domain, xs: &[Fr]) -> Fr {
    let config = Poseidon::get(domain.width()).arkworks_config();
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
fn textbook_permute(width: Width, state: &mut [Fr]) {
    assert_eq!(state.len(), width.size());
    let p = Poseidon::get(width);
    let half = FULL_ROUNDS / 2;
    for (round, ark) in p.ark.iter().enumerate() {
        for (s, c) in state.iter_mut().zip(ark) {
            *s += c;
        }
        let sboxed = if round < half || round >= half + width.partial_rounds() {
            width.size()
        } else {
            1
        };
        for s in &mut state[..sboxed] {
            *s = s.pow([ALPHA]);
        }
        let old = state.to_vec();
        for (s, row) in state.iter_mut().zip(&p.mds) {
            *s = row.iter().zip(&old).map(|(m, x)| *m * x).sum();
        }
    }
}

/// The sponge of [`hash`] over [`textbook_permute`].
fn textbook_hash(domain: Domain, xs: &[Fr]) -> Fr {
    let width = domain.width();
    let mut state = vec![Fr::ZERO; width.size()];
    state[0] = Fr::from(domain.capacity_tag(xs.len()));
    if xs.is_empty() {
        textbook_permute(width, &mut state);
    }
    for chunk in xs.chunks(width.rate()) {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        textbook_permute(width, &mut state);
    }
    state[1]
}

fn random_state<const W: usize>(seed: u64) -> [Fr; W] {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    std::array::from_fn(|_| Fr::rand(&mut rng))
}

/// The optimized permutation of width `W` against the textbook one on `state`.
fn agrees<const W: usize>(state: [Fr; W]) -> bool {
    let mut fast = state;
    let mut slow = state;
    permute(&mut fast);
    textbook_permute(Width::from_size(W).unwrap(), &mut slow);
    fast == slow
}

proptest! {
    #[test]
    fn optimized_permutation_matches_textbook(seed in any::<u64>()) {
        prop_assert!(agrees(random_state::<3>(seed)));
        prop_assert!(agrees(random_state::<5>(seed)));
        prop_assert!(agrees(random_state::<7>(seed)));
    }

    #[test]
    fn optimized_permutation_matches_textbook_on_small_states(
        xs in proptest::array::uniform7(any::<u64>()),
    ) {
        let f = xs.map(Fr::from);
        prop_assert!(agrees([f[0], f[1], f[2]]));
        prop_assert!(agrees([f[0], f[1], f[2], f[3], f[4]]));
        prop_assert!(agrees(f));
    }
}

#[test]
fn optimized_permutation_matches_textbook_on_edge_states() {
    let minus_one = -Fr::ONE;
    for x in [Fr::ZERO, Fr::ONE, minus_one] {
        assert!(agrees([x; 3]) && agrees([x; 5]) && agrees([x; 7]), "{x}");
    }
    assert!(agrees([Fr::ZERO, Fr::ONE, minus_one]));
    assert!(agrees([Fr::ZERO, Fr::ONE, minus_one, Fr::ONE, Fr::ZERO]));
    assert!(agrees([
        minus_one,
        Fr::ZERO,
        Fr::ONE,
        minus_one,
        Fr::ONE,
        Fr::ZERO,
        minus_one
    ]));
}

#[test]
#[should_panic(expected = "not one of 3, 5, 7")]
fn an_unsupported_width_is_refused() {
    permute(&mut [Fr::ZERO; 4]);
}

#[test]
fn widths_and_round_numbers() {
    for w in Width::ALL {
        assert_eq!(Width::from_size(w.size()), Some(w));
        let p = Poseidon::get(w);
        assert_eq!(p.ark.len(), FULL_ROUNDS + w.partial_rounds());
        assert!(p.ark.iter().all(|row| row.len() == w.size()));
        assert_eq!(p.mds.len(), w.size());
    }
    assert_eq!(Domain::Leaf.width(), Width::Seven);
    assert_eq!(Domain::MerkleNode.width(), Width::Five);
    assert_eq!(Domain::Pseudonym.width(), Width::Three);
}

#[test]
fn textbook_matches_arkworks_reference_sponge() {
    for d in DOMAINS {
        for n in 0..=8 {
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
        for n in 0..=8 {
            assert_eq!(hash(d, &inputs(n)), reference(d, &inputs(n)), "{d:?} n={n}");
        }
    }
}

#[test]
fn gadget_matches_native() {
    for d in DOMAINS {
        for n in [1, 2, 4, 5, 6, 7] {
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

/// Constraints of one permutation with every rate element a variable: 3 per S-box, less the
/// capacity S-box of round one, whose input is a constant.
fn cost(domain: Domain) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let vars: Vec<FpVar<Fr>> = (0..domain.width().rate())
        .map(|i| FpVar::new_witness(cs.clone(), || Ok(Fr::from(i as u64 + 1))).unwrap())
        .collect();
    let _out = gadget::hash_var(domain, &vars).unwrap();
    assert!(cs.is_satisfied().unwrap());
    cs.num_constraints()
}

#[test]
fn one_permutation_costs_240_297_354_constraints() {
    // (8·3 + 57)·3 − 3, (8·5 + 60)·3 − 3, (8·7 + 63)·3 − 3.
    assert_eq!(cost(Domain::Pseudonym), 240);
    assert_eq!(cost(Domain::MerkleNode), 297);
    assert_eq!(cost(Domain::Leaf), 354);
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

/// Fixed vectors: `hash(domain, [1, 2])` for each domain, and each wide hash at its usual
/// arity. Changing the constants, the round structure, the widths or the tags breaks these (and
/// every key made before). The width-3 values are those of the first release (one width for
/// every use); `Leaf` and `MerkleNode` changed when they moved to widths 7 and 5.
#[test]
fn fixed_vectors() {
    let expected = [
        (
            Domain::Identity,
            "0x45c99c25e46b58c6b3ef7d48a16cae482e30b9b205b1ce1d7c7d27e17c07a178",
        ),
        (
            Domain::Leaf,
            "0x61a650937ad4ee5002b349d9293eebc36f804d70c61eacb7bb69d4ebb5561634",
        ),
        (
            Domain::MerkleNode,
            "0x3bfed2a0dd54520e8aba464a416eae23043a448566399e7031f471b02de00161",
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
    assert_eq!(
        field::to_hex(&hash(Domain::MerkleNode, &inputs(4))),
        "0x03c83ba5a49ee9ee2d81f2b3f74fa20252a2d5b8b35ab4c0e52defffa38e6467"
    );
    assert_eq!(
        field::to_hex(&hash(Domain::Leaf, &inputs(6))),
        "0x553d43ec4f210fc4c54cb85167179ce8b27d5ae939695cdcc13b633ec23c8722"
    );
}
