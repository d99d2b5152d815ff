//! Institutions' secrets, identities and credential attributes, and the registry leaf they make.
//!
//! The institution draws `sk` from OS randomness and shows the issuer only `id = H_id(sk)`. The
//! issuer certifies the attributes by appending `H_leaf(id, role, level, jurisdiction,
//! expiry_day, issuer_id)` to the registry; the leaf reveals neither `sk` nor (being a hash) the
//! attributes to anyone who does not already know them.

use std::fmt;

use ark_bls12_381::Fr;
use ark_ff::{PrimeField, UniformRand};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::field;
use crate::poseidon::{self, Domain};

/// Bits of `level` and `min_level`; the circuit range-checks both to this width.
pub const LEVEL_BITS: usize = 16;
/// Bits of `expiry_day` and `today` (days since 1970-01-01); range-checked to this width.
pub const DAY_BITS: usize = 32;

/// An institution's credential secret. It never leaves the institution: not in logs, errors,
/// `Debug` output or HTTP bodies. Its memory is overwritten when it is dropped (and by
/// [`Zeroize::zeroize`]); the copies [`SecretKey::expose`] hands out are the caller's to wipe.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Fr);

impl Zeroize for SecretKey {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for SecretKey {}

impl SecretKey {
    /// A fresh secret from a cryptographic RNG (use `rand::rngs::OsRng` outside tests).
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        SecretKey(Fr::rand(rng))
    }

    /// Wraps a field element (e.g. read back from an identity file).
    pub fn from_field(x: Fr) -> Self {
        SecretKey(x)
    }

    /// The secret as a field element, for the prover. The prover wipes the buffers it copies
    /// it into; arkworks' gadgets keep a copy of their own during synthesis, freed unwiped.
    pub fn expose(&self) -> Fr {
        self.0
    }

    /// The secret as 32 big-endian bytes (`field::to_bytes` of it), in a buffer wiped on
    /// drop and without a heap copy, for writing it to the institution's identity file.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut limbs = self.0.into_bigint().0;
        let mut out = Zeroizing::new([0u8; 32]);
        for (chunk, limb) in out.chunks_exact_mut(8).zip(limbs.iter().rev()) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        limbs.zeroize();
        out
    }

    /// The public identity `H_id(sk)`.
    pub fn id(&self) -> InstitutionId {
        InstitutionId(poseidon::hash(Domain::Identity, &[self.0]))
    }

    /// `H_nym(sk, scope)`: stable within a scope, unlinkable across scopes.
    pub fn pseudonym(&self, scope: Fr) -> Fr {
        poseidon::hash(Domain::Pseudonym, &[self.0, scope])
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// An institution's public identity, `H_id(sk)`; what the issuer sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstitutionId(pub Fr);

impl Serialize for InstitutionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&field::to_hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for InstitutionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        field::from_hex(&s)
            .map(InstitutionId)
            .map_err(serde::de::Error::custom)
    }
}

/// What kind of institution a credential accredits. The numeric code is what the circuit sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u16)]
pub enum Role {
    /// A hospital or clinic.
    Hospital = 1,
    /// A research centre.
    Research = 2,
    /// A data platform holding patients' streams.
    Platform = 3,
    /// An insurer.
    Insurer = 4,
    /// A regulator or auditor.
    Regulator = 5,
}

impl Role {
    /// Every role, in code order.
    pub const ALL: [Role; 5] = [
        Role::Hospital,
        Role::Research,
        Role::Platform,
        Role::Insurer,
        Role::Regulator,
    ];

    /// The numeric code used in the leaf and the public inputs.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The role with this code, if any.
    pub fn from_code(code: u16) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The lowercase name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Hospital => "hospital",
            Role::Research => "research",
            Role::Platform => "platform",
            Role::Insurer => "insurer",
            Role::Regulator => "regulator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Role::ALL.iter().map(|r| r.name()).collect();
                format!("unknown role {s:?}; expected one of {}", names.join(", "))
            })
    }
}

/// The attributes an issuer certifies in a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attributes {
    /// Institution kind; disclosed in every token.
    pub role: Role,
    /// Accreditation level; hidden, proven `>= min_level`.
    pub level: u16,
    /// ISO 3166-1 numeric country code; hidden.
    pub jurisdiction: u16,
    /// Last valid day (days since 1970-01-01); hidden, proven `>= today`.
    pub expiry_day: u32,
    /// The accrediting issuer; disclosed in every token.
    pub issuer_id: u32,
}

/// A credential as the institution holds it: its identity and certified attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// `H_id(sk)`.
    pub id: InstitutionId,
    /// The certified attributes.
    pub attributes: Attributes,
}

impl Credential {
    /// The registry leaf `H_leaf(id, role, level, jurisdiction, expiry_day, issuer_id)`.
    pub fn leaf(&self) -> Fr {
        let a = &self.attributes;
        poseidon::hash(
            Domain::Leaf,
            &[
                self.id.0,
                Fr::from(a.role.code()),
                Fr::from(a.level),
                Fr::from(a.jurisdiction),
                Fr::from(a.expiry_day),
                Fr::from(a.issuer_id),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn attrs() -> Attributes {
        Attributes {
            role: Role::Hospital,
            level: 3,
            jurisdiction: 756,
            expiry_day: 21000,
            issuer_id: 7,
        }
    }

    #[test]
    fn pseudonyms_are_stable_per_scope_and_distinct_across() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let a = SecretKey::random(&mut rng);
        let b = SecretKey::random(&mut rng);
        let s1 = field::access_scope("stream-1");
        let s2 = field::access_scope("stream-2");
        assert_eq!(a.pseudonym(s1), a.pseudonym(s1));
        assert_ne!(a.pseudonym(s1), a.pseudonym(s2));
        assert_ne!(a.pseudonym(s1), b.pseudonym(s1));
    }

    #[test]
    fn every_attribute_changes_the_leaf() {
        let id = SecretKey::from_field(Fr::from(42u64)).id();
        let base = Credential {
            id,
            attributes: attrs(),
        };
        let mut variants = vec![];
        let mut c = base;
        c.attributes.role = Role::Research;
        variants.push(c);
        let mut c = base;
        c.attributes.level = 4;
        variants.push(c);
        let mut c = base;
        c.attributes.jurisdiction = 250;
        variants.push(c);
        let mut c = base;
        c.attributes.expiry_day += 1;
        variants.push(c);
        let mut c = base;
        c.attributes.issuer_id = 8;
        variants.push(c);
        let mut c = base;
        c.id = SecretKey::from_field(Fr::from(43u64)).id();
        variants.push(c);
        for v in variants {
            assert_ne!(v.leaf(), base.leaf(), "{v:?}");
        }
    }

    #[test]
    fn secret_bytes_are_the_field_encoding_and_wiping_zeroes_the_key() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        for _ in 0..8 {
            let sk = SecretKey::random(&mut rng);
            assert_eq!(*sk.to_bytes(), field::to_bytes(&sk.expose()));
        }
        let mut sk = SecretKey::random(&mut rng);
        sk.zeroize();
        assert_eq!(sk.expose(), Fr::from(0u64));
    }

    #[test]
    fn secret_is_redacted_in_debug() {
        let sk = SecretKey::from_field(Fr::from(12345u64));
        assert_eq!(format!("{sk:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn roles_round_trip_by_code_and_name() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
            assert_eq!(r.name().parse::<Role>().unwrap(), r);
        }
        assert_eq!(Role::from_code(0), None);
        assert!("nurse".parse::<Role>().is_err());
    }
}
