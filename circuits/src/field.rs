//! Encodings of BLS12-381 scalar-field elements: 32-byte big-endian, `0x`-prefixed hex, and the
//! map from a 256-bit SHA-256 digest into the field.
//!
//! Decoding is strict: exactly 32 bytes (64 hex digits) and canonical (`< p`), so every field
//! element has exactly one encoding and encodings can be hashed and compared byte-wise.

use ark_bls12_381::Fr;
use ark_ff::{BigInteger, PrimeField};
use sha2::{Digest, Sha256};

use crate::poseidon::{self, Domain};

/// A field-element encoding that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Not 32 bytes.
    #[error("a field element is 32 bytes, got {0}")]
    Length(usize),
    /// Not valid hexadecimal.
    #[error("a field element is 64 hex digits (optionally 0x-prefixed): {0}")]
    Hex(String),
    /// The integer is not below the field modulus.
    #[error(
        "the value is not a canonical field element (it is not below the BLS12-381 scalar modulus)"
    )]
    NotCanonical,
}

/// The 32-byte big-endian encoding of `x`.
pub fn to_bytes(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&x.into_bigint().to_bytes_be());
    out
}

/// Decodes a 32-byte big-endian canonical field element.
pub fn from_bytes(bytes: &[u8]) -> Result<Fr, FieldError> {
    if bytes.len() != 32 {
        return Err(FieldError::Length(bytes.len()));
    }
    let mut le = [0u8; 32];
    le.copy_from_slice(bytes);
    le.reverse();
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(le.chunks(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
    }
    Fr::from_bigint(ark_ff::BigInt(limbs)).ok_or(FieldError::NotCanonical)
}

/// `0x` followed by 64 lowercase hex digits.
pub fn to_hex(x: &Fr) -> String {
    format!("0x{}", hex::encode(to_bytes(x)))
}

/// Decodes [`to_hex`]'s format (the `0x` prefix is optional).
pub fn from_hex(s: &str) -> Result<Fr, FieldError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() != 64 {
        return Err(FieldError::Hex(format!(
            "expected 64 hex digits, got {}",
            digits.len()
        )));
    }
    let bytes = hex::decode(digits).map_err(|e| FieldError::Hex(e.to_string()))?;
    from_bytes(&bytes)
}

/// Maps a 256-bit digest injectively-then-collision-resistantly into the field:
/// `H_domain(hi128, lo128)`. No bits of the digest are dropped or reduced.
pub fn digest_to_field(domain: Domain, digest: &[u8; 32]) -> Fr {
    let hi = Fr::from(u128::from_be_bytes(
        digest[..16].try_into().expect("16 bytes"),
    ));
    let lo = Fr::from(u128::from_be_bytes(
        digest[16..].try_into().expect("16 bytes"),
    ));
    poseidon::hash(domain, &[hi, lo])
}

/// The token `message` for a transaction body: `H_msg(SHA-256("consentry/v1/message" || 0 || body))`.
pub fn message_for_body(body: &[u8]) -> Fr {
    let digest = sha256_tagged(b"consentry/v1/message", body);
    digest_to_field(Domain::Message, &digest)
}

/// The scope of accesses to a stream: `H("access", stream_id)`, so the pseudonyms of one
/// stream's accessors can be counted but are unlinkable across streams.
pub fn access_scope(stream_id: &str) -> Fr {
    scope_for(b"access", stream_id.as_bytes())
}

/// A scope for `label` (e.g. `access`) and `value`; distinct labels give independent scopes.
pub fn scope_for(label: &[u8], value: &[u8]) -> Fr {
    let mut data = Vec::with_capacity(label.len() + 1 + value.len());
    data.extend_from_slice(label);
    data.push(0);
    data.extend_from_slice(value);
    digest_to_field(Domain::Scope, &sha256_tagged(b"consentry/v1/scope", &data))
}

/// SHA-256 of `tag || 0x00 || data`; every SHA-256 use in Consentry goes through a distinct tag.
pub fn sha256_tagged(tag: &[u8], data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tag);
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, UniformRand};
    use proptest::prelude::*;

    #[test]
    fn modulus_is_rejected_and_minus_one_accepted() {
        let minus_one = -Fr::ONE;
        let mut bytes = to_bytes(&minus_one);
        assert_eq!(from_bytes(&bytes).unwrap(), minus_one);
        // p itself = (p - 1) + 1: last byte of p-1 is 0x00, so adding one stays in the byte.
        bytes[31] += 1;
        assert_eq!(from_bytes(&bytes), Err(FieldError::NotCanonical));
        assert_eq!(from_bytes(&[0xff; 32]), Err(FieldError::NotCanonical));
    }

    #[test]
    fn wrong_lengths_and_bad_hex_are_rejected() {
        assert_eq!(from_bytes(&[0u8; 31]), Err(FieldError::Length(31)));
        assert!(matches!(from_hex("0x12"), Err(FieldError::Hex(_))));
        assert!(matches!(
            from_hex(&"zz".repeat(32)),
            Err(FieldError::Hex(_))
        ));
    }

    #[test]
    fn scopes_are_distinct_per_stream_and_label() {
        assert_ne!(access_scope("stream-1"), access_scope("stream-2"));
        assert_ne!(scope_for(b"access", b"s"), scope_for(b"study", b"s"));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(scope_for(b"ab", b"c"), scope_for(b"a", b"bc"));
    }

    proptest! {
        #[test]
        fn hex_round_trip(seed in any::<u64>()) {
            let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(seed);
            let x = Fr::rand(&mut rng);
            prop_assert_eq!(from_hex(&to_hex(&x)).unwrap(), x);
            prop_assert_eq!(from_bytes(&to_bytes(&x)).unwrap(), x);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = from_bytes(&bytes);
        }
    }
}
