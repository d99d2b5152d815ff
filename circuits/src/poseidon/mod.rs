//! Poseidon over the BLS12-381 scalar field: S-box `x^5`, 8 full rounds, and one permutation
//! width per use ([`Width`]): 3 (57 partial rounds), 5 (60) or 7 (63), the round numbers of the
//! Poseidon paper's 128-bit security table for a 255-bit field. Round constants and MDS
//! matrices are derived by the Grain LFSR exactly as `ark-crypto-primitives` derives them (no
//! copied constant tables).
//!
//! Every use of the hash is domain separated ([`Domain`]): the capacity element starts at a tag
//! that encodes the domain and the number of inputs, so a leaf can never be confused with a
//! Merkle node, an identity or a pseudonym, and inputs of different lengths never collide. The
//! domain also fixes the width: a registry node absorbs its four children in one width-5
//! permutation and a leaf its six attributes in one width-7 permutation, which is what keeps
//! the access circuit within a 4,096-point QAP domain (README, Performance).
//!
//! The native hash ([`hash`]) and the circuit gadget ([`gadget::hash_var`]) implement the same
//! sponge; tests pin both to fixed vectors and to the arkworks reference sponge.

pub mod gadget;
mod native;

pub use native::{backend, hash, permute, permute_portable, Backend, Poseidon};

/// Number of full rounds (half before, half after the partial rounds), for every width.
pub const FULL_ROUNDS: usize = 8;
/// S-box exponent.
pub const ALPHA: u64 = 5;

/// A permutation width (rate + one capacity element) Consentry uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// Width 3, rate 2: identities, pseudonyms and the digest-to-field maps.
    Three,
    /// Width 5, rate 4: registry nodes (four children).
    Five,
    /// Width 7, rate 6: registry leaves (six attributes).
    Seven,
}

impl Width {
    /// Every width, smallest first.
    pub const ALL: [Width; 3] = [Width::Three, Width::Five, Width::Seven];

    /// The number of state elements.
    pub const fn size(self) -> usize {
        match self {
            Width::Three => 3,
            Width::Five => 5,
            Width::Seven => 7,
        }
    }

    /// Elements absorbed per permutation (the width less one capacity element).
    pub const fn rate(self) -> usize {
        self.size() - 1
    }

    /// Partial rounds: the 128-bit numbers for `x^5` over a 255-bit field (Poseidon paper,
    /// Table 2 and its round-number script, as used by arkworks and circomlib).
    pub const fn partial_rounds(self) -> usize {
        match self {
            Width::Three => 57,
            Width::Five => 60,
            Width::Seven => 63,
        }
    }

    /// The width with `size` state elements, if Consentry uses it.
    pub const fn from_size(size: usize) -> Option<Width> {
        match size {
            3 => Some(Width::Three),
            5 => Some(Width::Five),
            7 => Some(Width::Seven),
            _ => None,
        }
    }
}

/// The distinct uses of Poseidon in Consentry. The discriminant is part of the capacity tag and
/// must never change once keys have been generated: it is pinned by test vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Domain {
    /// `id = H_id(sk)`: an institution's public identity. Width 3.
    Identity = 1,
    /// `leaf = H_leaf(id, role, level, jurisdiction, expiry_day, issuer_id)`. Width 7.
    Leaf = 2,
    /// `node = H_node(c0, c1, c2, c3)` in the 4-ary registry tree. Width 5.
    MerkleNode = 3,
    /// `pseudonym = H_nym(sk, scope)`. Width 3.
    Pseudonym = 4,
    /// Maps a 256-bit transaction-body digest to the token's `message` field element. Width 3.
    Message = 5,
    /// `H_escrow(x, y)` of the shared point `r·PK` that masks an escrowed id
    /// ([`crate::escrow`]: accountable anonymity). Width 3.
    Escrow = 6,
    /// Maps a 256-bit scope digest (e.g. `H("access", stream_id)`) to a field element. Width 3.
    Scope = 7,
    /// `C = H_commit(value, blinding)`: a hiding commitment inside a circuit. Used by the
    /// Groth16 cohort circuit that `benches/cohort.rs` measures beside the Bulletproofs. Width 3.
    Commitment = 8,
}

impl Domain {
    /// The initial capacity element: `domain << 32 | input_len`.
    pub fn capacity_tag(self, input_len: usize) -> u64 {
        ((self as u64) << 32) | (input_len as u64 & 0xffff_ffff)
    }

    /// The permutation width of this use: its usual input count fits in one permutation.
    pub const fn width(self) -> Width {
        match self {
            Domain::Leaf => Width::Seven,
            Domain::MerkleNode => Width::Five,
            Domain::Identity
            | Domain::Pseudonym
            | Domain::Message
            | Domain::Escrow
            | Domain::Scope
            | Domain::Commitment => Width::Three,
        }
    }
}

#[cfg(test)]
mod tests;
