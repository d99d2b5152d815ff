//! Poseidon over the BLS12-381 scalar field, as DESIGN.md fixes it: width 3 (rate 2, capacity 1),
//! S-box `x^5`, 8 full and 57 partial rounds, round constants and MDS matrix derived by the Grain
//! LFSR exactly as `ark-crypto-primitives` derives them (no copied constant tables).
//!
//! Every use of the hash is domain separated ([`Domain`]): the capacity element starts at a tag
//! that encodes the domain and the number of inputs, so a leaf can never be confused with a
//! Merkle node, an identity or a pseudonym, and inputs of different lengths never collide.
//!
//! The native hash ([`hash`]) and the circuit gadget ([`gadget::hash_var`]) implement the same
//! sponge; tests pin both to fixed vectors and to the arkworks reference sponge.

pub mod gadget;
mod native;

pub use native::{hash, permute, Poseidon};

/// Width of the permutation (rate + capacity).
pub const WIDTH: usize = 3;
/// Absorbed elements per permutation.
pub const RATE: usize = 2;
/// Number of full rounds (half before, half after the partial rounds).
pub const FULL_ROUNDS: usize = 8;
/// Number of partial rounds (S-box on the first state element only).
pub const PARTIAL_ROUNDS: usize = 57;
/// S-box exponent.
pub const ALPHA: u64 = 5;

/// The distinct uses of Poseidon in Consentry. The discriminant is part of the capacity tag and
/// must never change once keys have been generated: it is pinned by test vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Domain {
    /// `id = H_id(sk)`: an institution's public identity.
    Identity = 1,
    /// `leaf = H_leaf(id, role, level, jurisdiction, expiry_day, issuer_id)`.
    Leaf = 2,
    /// `node = H_node(left, right)` in the registry Merkle tree.
    MerkleNode = 3,
    /// `pseudonym = H_nym(sk, scope)`.
    Pseudonym = 4,
    /// Maps a 256-bit transaction-body digest to the token's `message` field element.
    Message = 5,
    /// Reserved for the inspector escrow key (accountable anonymity); not used yet.
    Escrow = 6,
    /// Maps a 256-bit scope digest (e.g. `H("access", stream_id)`) to a field element.
    Scope = 7,
}

impl Domain {
    /// The initial capacity element: `domain << 32 | input_len`.
    pub fn capacity_tag(self, input_len: usize) -> u64 {
        ((self as u64) << 32) | (input_len as u64 & 0xffff_ffff)
    }
}

#[cfg(test)]
mod tests;
