//! The `access` circuit: the statement behind every presentation token.
//!
//! **Shows** (to anyone holding the verifying key): the prover knows `sk`, hidden attributes
//! `level`, `jurisdiction`, `expiry_day` and a Merkle path such that
//! 1. `H_leaf(H_id(sk), role, level, jurisdiction, expiry_day, issuer_id)` is a leaf of the
//!    4-ary registry tree with root `root` (one width-7 permutation for the leaf, one width-5
//!    permutation per level);
//! 2. `role` and `issuer_id` are the disclosed public values;
//! 3. `level >= min_level` and `expiry_day >= today`: the differences are range-checked to 16
//!    and 32 bits, which excludes wrap-around because the verifier builds `min_level` and
//!    `today` from a `u16` and a `u32` ([`range`]);
//! 4. `pseudonym = H_nym(sk, scope)`;
//! 5. the proof is bound to `message` (see below).
//!
//! **Hides**: `sk`, `id`, the leaf and its position, `level`, `jurisdiction`, `expiry_day`.
//! Two tokens in different scopes cannot be linked (Groth16 is zero-knowledge and the
//! pseudonyms are independent PRF outputs); two tokens in the same scope share a pseudonym.
//!
//! **Message binding**: Groth16 proofs can be re-randomised, but never moved to other public
//! inputs. A public input that appears in no constraint, however, would have a zero
//! verifying-key element and could be changed freely; the circuit therefore constrains
//! `message * message = message_sq` (Semaphore's approach), which makes the verifier's check
//! depend on `message`. The transaction layer sets `message` to the hash of the transaction
//! body ([`crate::field::message_for_body`]), so a token serves exactly one body.
//!
//! Public inputs, in this order: `root, scope, pseudonym, message, role, issuer_id, min_level,
//! today`.

pub(crate) mod circuit;
pub mod range;
mod statement;

pub use circuit::AccessCircuit;
pub use statement::{AccessWitness, PublicInputs, StatementError, NUM_PUBLIC_INPUTS};
