//! `serde(with = ...)` helper: a field element as its `0x`-prefixed 64-digit hex string.

use ark_bls12_381::Fr;
use serde::{Deserialize, Deserializer, Serializer};

/// Serializes as [`crate::field::to_hex`].
pub fn serialize<S: Serializer>(x: &Fr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::field::to_hex(x))
}

/// Deserializes [`crate::field::from_hex`]'s format, rejecting non-canonical values.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fr, D::Error> {
    let s = String::deserialize(d)?;
    crate::field::from_hex(&s).map_err(serde::de::Error::custom)
}
