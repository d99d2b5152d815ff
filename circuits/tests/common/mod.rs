//! Shared fixtures: a small registry with a few credentials and depth-4 keys from a fixed seed.

#![allow(dead_code)]

use std::sync::OnceLock;

use consentry_circuits::access::{AccessWitness, PublicInputs};
use consentry_circuits::credential::{Attributes, Credential, Role, SecretKey};
use consentry_circuits::field;
use consentry_circuits::groth::{setup_from_seed, Prover, Verifier, VerifyingKey};
use consentry_circuits::registry::RegistryTree;
use consentry_circuits::token::Token;
use consentry_circuits::Fr;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

pub const DEPTH: usize = 4;
pub const TODAY: u32 = 20_400;

pub struct Keys {
    pub prover: Prover,
    pub verifier: Verifier,
    pub vk: VerifyingKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (pk, vk) = setup_from_seed(DEPTH, [7u8; 32]).unwrap();
        Keys {
            prover: Prover::new(DEPTH, pk).unwrap(),
            verifier: Verifier::new(DEPTH, &vk).unwrap(),
            vk,
        }
    })
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn hospital_attrs() -> Attributes {
    Attributes {
        role: Role::Hospital,
        level: 3,
        jurisdiction: 756,
        expiry_day: TODAY + 30,
        issuer_id: 1,
    }
}

/// A registry holding three unrelated credentials and the institution's, at index 3.
pub struct World {
    pub sk: SecretKey,
    pub attrs: Attributes,
    pub tree: RegistryTree,
    pub index: u64,
}

pub fn world_with(attrs: Attributes, seed: u64) -> World {
    let mut r = rng(seed);
    let mut tree = RegistryTree::new(DEPTH).unwrap();
    for _ in 0..3 {
        let other = SecretKey::random(&mut r);
        tree.append(
            Credential {
                id: other.id(),
                attributes: hospital_attrs(),
            }
            .leaf(),
        )
        .unwrap();
    }
    let sk = SecretKey::random(&mut r);
    let index = tree
        .append(
            Credential {
                id: sk.id(),
                attributes: attrs,
            }
            .leaf(),
        )
        .unwrap();
    World {
        sk,
        attrs,
        tree,
        index,
    }
}

pub fn world() -> World {
    world_with(hospital_attrs(), 1)
}

impl World {
    pub fn witness(&self) -> AccessWitness {
        AccessWitness {
            sk: self.sk.clone(),
            attributes: self.attrs,
            path: self.tree.path(self.index).unwrap(),
        }
    }

    pub fn public(&self, stream: &str, min_level: u16) -> PublicInputs {
        let scope = field::access_scope(stream);
        PublicInputs {
            root: self.tree.root(),
            scope,
            pseudonym: self.sk.pseudonym(scope),
            message: field::message_for_body(b"body"),
            role: self.attrs.role,
            issuer_id: self.attrs.issuer_id,
            min_level,
            today: TODAY,
        }
    }

    pub fn token(&self, stream: &str, seed: u64) -> Token {
        keys()
            .prover
            .prove(&self.witness(), self.public(stream, 2), &mut rng(seed))
            .unwrap()
    }
}

pub fn fr(x: u64) -> Fr {
    Fr::from(x)
}
