//! The presentation token: a Groth16 proof with its public inputs, and its two encodings.
//!
//! Binary (version 1, 338 bytes, big-endian integers; version 2, 402 bytes, is an escrowed
//! token: version 1's fields followed by the 64-byte escrow, [`crate::escrow::Escrow`]):
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `CSTK` |
//! | 1 | version (1) |
//! | 1 | registry depth |
//! | 48 / 96 / 48 | proof A (G1), B (G2), C (G1), compressed |
//! | 4 × 32 | root, scope, pseudonym, message (canonical field elements) |
//! | 2 / 4 / 2 / 4 | role code, issuer_id, min_level, today |
//!
//! JSON: `{"version":1,"depth":20,"proof":"<384 hex digits>","public":{...}}`, and for an
//! escrowed token `"escrow":"<128 hex digits>"` beside them (version 1 still: JSON names its
//! fields, so the escrow's presence says the variant).
//!
//! Decoding validates everything: exact length, magic, version, every point on the curve and
//! in the prime-order subgroup (BLS12-381 for the proof, Jubjub for the escrow's `c1`),
//! canonical field elements, a known role.

use ark_serialize::CanonicalSerialize;
use serde::{Deserialize, Serialize};

use crate::access::PublicInputs;
use crate::credential::Role;
use crate::escrow::{Escrow, ESCROW_LEN};
use crate::field;
use crate::groth::{decompress_g1, decompress_g2, Proof};

/// Encoding version of a plain token (and of every token's JSON).
pub const TOKEN_VERSION: u8 = 1;
/// Binary encoding version of an escrowed token: version 1 followed by the escrow.
pub const TOKEN_VERSION_ESCROW: u8 = 2;
/// Magic prefix of the binary encoding.
pub const TOKEN_MAGIC: [u8; 4] = *b"CSTK";
/// Length of a compressed proof.
pub const PROOF_LEN: usize = 48 + 96 + 48;
/// Length of the binary encoding of a plain token.
pub const TOKEN_LEN: usize = 4 + 1 + 1 + PROOF_LEN + 4 * 32 + 2 + 4 + 2 + 4;
/// Length of the binary encoding of an escrowed token.
pub const ESCROWED_TOKEN_LEN: usize = TOKEN_LEN + ESCROW_LEN;

/// A token that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Wrong total length.
    #[error("a token is {expected} bytes, got {got}")]
    Length {
        /// Required length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Does not start with `CSTK`.
    #[error("not a Consentry token (bad magic bytes)")]
    Magic,
    /// Unknown encoding version.
    #[error("unsupported token version {0} (this build reads versions {TOKEN_VERSION} and {TOKEN_VERSION_ESCROW})")]
    Version(u8),
    /// A proof point is malformed, off the curve, or outside the prime-order subgroup.
    #[error("proof point {0} is not a valid compressed point in the prime-order subgroup")]
    Point(&'static str),
    /// A public field element is not canonical.
    #[error("public input {0} is not a canonical field element")]
    Field(&'static str),
    /// Unknown role code.
    #[error("unknown role code {0}")]
    Role(u16),
    /// The proof hex is malformed.
    #[error("proof: {0}")]
    ProofHex(String),
    /// The escrow is malformed (length, `c1` off Jubjub's subgroup or the identity, `c2` not
    /// canonical).
    #[error("escrow: {0}")]
    Escrow(String),
}

/// A presentation token.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// Registry depth of the circuit it was proven with.
    pub depth: u8,
    /// The Groth16 proof.
    pub proof: Proof,
    /// The public inputs.
    pub public: PublicInputs,
    /// The institution's id encrypted to the chain's inspector, for a token of the escrow
    /// circuit ([`crate::escrow`]); `None` for a plain token.
    pub escrow: Option<Escrow>,
}

/// The compressed proof bytes (A, B, C).
pub fn proof_to_bytes(proof: &Proof) -> [u8; PROOF_LEN] {
    let mut out = [0u8; PROOF_LEN];
    let mut w = &mut out[..];
    proof.a.serialize_compressed(&mut w).expect("48 bytes");
    proof.b.serialize_compressed(&mut w).expect("96 bytes");
    proof.c.serialize_compressed(&mut w).expect("48 bytes");
    out
}

/// Decodes compressed proof bytes, validating every point (on the curve, in the subgroup).
pub fn proof_from_bytes(bytes: &[u8]) -> Result<Proof, TokenError> {
    if bytes.len() != PROOF_LEN {
        return Err(TokenError::Length {
            expected: PROOF_LEN,
            got: bytes.len(),
        });
    }
    // blst checks the encoding, the curve equation and subgroup membership (several times
    // faster than arkworks' generic code; pinned to it by `decoders_agree` below).
    let g1 = |r: std::ops::Range<usize>, name| {
        decompress_g1(bytes[r].try_into().expect("48 bytes")).ok_or(TokenError::Point(name))
    };
    let a = g1(0..48, "A")?;
    let b = decompress_g2(bytes[48..144].try_into().expect("96 bytes"))
        .ok_or(TokenError::Point("B"))?;
    let c = g1(144..192, "C")?;
    Ok(Proof { a, b, c })
}

impl Token {
    /// The binary encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let p = &self.public;
        let mut out = Vec::with_capacity(ESCROWED_TOKEN_LEN);
        out.extend_from_slice(&TOKEN_MAGIC);
        out.push(match self.escrow {
            None => TOKEN_VERSION,
            Some(_) => TOKEN_VERSION_ESCROW,
        });
        out.push(self.depth);
        out.extend_from_slice(&proof_to_bytes(&self.proof));
        for x in [p.root, p.scope, p.pseudonym, p.message] {
            out.extend_from_slice(&field::to_bytes(&x));
        }
        out.extend_from_slice(&p.role.code().to_be_bytes());
        out.extend_from_slice(&p.issuer_id.to_be_bytes());
        out.extend_from_slice(&p.min_level.to_be_bytes());
        out.extend_from_slice(&p.today.to_be_bytes());
        debug_assert_eq!(out.len(), TOKEN_LEN);
        if let Some(escrow) = &self.escrow {
            out.extend_from_slice(&escrow.to_bytes());
        }
        out
    }

    /// Every public input the proof is verified against: the access statement's, then the
    /// escrow's for an escrowed token.
    pub fn inputs(&self) -> Vec<crate::Fr> {
        let mut inputs = self.public.to_field_elements().to_vec();
        if let Some(escrow) = &self.escrow {
            inputs.extend(escrow.to_field_elements());
        }
        inputs
    }

    /// Decodes and validates the binary encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Token, TokenError> {
        if bytes.len() < 5 || bytes[..4] != TOKEN_MAGIC {
            return Err(if bytes.len() < TOKEN_LEN {
                TokenError::Length {
                    expected: TOKEN_LEN,
                    got: bytes.len(),
                }
            } else {
                TokenError::Magic
            });
        }
        let expected = match bytes[4] {
            TOKEN_VERSION => TOKEN_LEN,
            TOKEN_VERSION_ESCROW => ESCROWED_TOKEN_LEN,
            v => return Err(TokenError::Version(v)),
        };
        if bytes.len() != expected {
            return Err(TokenError::Length {
                expected,
                got: bytes.len(),
            });
        }
        let escrow = match bytes[4] {
            TOKEN_VERSION_ESCROW => Some(
                Escrow::from_bytes(&bytes[TOKEN_LEN..])
                    .map_err(|e| TokenError::Escrow(e.to_string()))?,
            ),
            _ => None,
        };
        let bytes = &bytes[..TOKEN_LEN];
        let depth = bytes[5];
        let proof = proof_from_bytes(&bytes[6..6 + PROOF_LEN])?;
        let rest = &bytes[6 + PROOF_LEN..];
        let fe = |i: usize, name: &'static str| {
            field::from_bytes(&rest[32 * i..32 * (i + 1)]).map_err(|_| TokenError::Field(name))
        };
        let ints = &rest[128..];
        let role_code = u16::from_be_bytes([ints[0], ints[1]]);
        let public = PublicInputs {
            root: fe(0, "root")?,
            scope: fe(1, "scope")?,
            pseudonym: fe(2, "pseudonym")?,
            message: fe(3, "message")?,
            role: Role::from_code(role_code).ok_or(TokenError::Role(role_code))?,
            issuer_id: u32::from_be_bytes(ints[2..6].try_into().expect("4 bytes")),
            min_level: u16::from_be_bytes([ints[6], ints[7]]),
            today: u32::from_be_bytes(ints[8..12].try_into().expect("4 bytes")),
        };
        Ok(Token {
            depth,
            proof,
            public,
            escrow,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenJson {
    version: u8,
    depth: u8,
    proof: String,
    public: PublicInputs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    escrow: Option<String>,
}

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TokenJson {
            version: TOKEN_VERSION,
            depth: self.depth,
            proof: hex::encode(proof_to_bytes(&self.proof)),
            public: self.public,
            escrow: self.escrow.map(|e| hex::encode(e.to_bytes())),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let j = TokenJson::deserialize(d)?;
        if j.version != TOKEN_VERSION {
            return Err(D::Error::custom(TokenError::Version(j.version)));
        }
        let bytes = hex::decode(&j.proof)
            .map_err(|e| D::Error::custom(TokenError::ProofHex(e.to_string())))?;
        if bytes.len() != PROOF_LEN {
            return Err(D::Error::custom(TokenError::ProofHex(format!(
                "a proof is {PROOF_LEN} bytes, got {}",
                bytes.len()
            ))));
        }
        let proof = proof_from_bytes(&bytes).map_err(D::Error::custom)?;
        let escrow = match &j.escrow {
            None => None,
            Some(h) => {
                let bytes = hex::decode(h)
                    .map_err(|e| D::Error::custom(TokenError::Escrow(e.to_string())))?;
                let escrow = Escrow::from_bytes(&bytes)
                    .map_err(|e| D::Error::custom(TokenError::Escrow(e.to_string())))?;
                Some(escrow)
            }
        };
        Ok(Token {
            depth: j.depth,
            proof,
            public: j.public,
            escrow,
        })
    }
}
