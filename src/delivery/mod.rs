//! The data path a committed access governs: the reader's delivery key and the encryption of
//! a stream's records to it.
//!
//! An `Access` names a **delivery key**: an X25519 public key the data platform encrypts the
//! stream's records to, with HPKE (RFC 9180, base mode, `DHKEM(X25519, HKDF-SHA256)`,
//! `HKDF-SHA256`, `ChaCha20Poly1305`), bound to the chain and the access transaction's id. The
//! secret is not stored: the reader re-derives it from its identity secret, the stream and the
//! access's nonce ([`keys`]).
//!
//! Why X25519 and not the Ristretto keys the ledger first carried: HPKE defines its KEMs over
//! X25519, X448 and the NIST curves only, and a Ristretto-to-X25519 mapping would be a
//! construction of our own. The key on the ledger is the HPKE recipient key itself; the ledger
//! refuses the encodings that would make the shared secret predictable ([`keys::check_public`]).
//!
//! What a delivery shows and hides: the platform learns the stream, the access's pseudonym and
//! a fresh delivery key, never the institution (two keys of one institution are unlinkable:
//! each is a PRF output under a fresh nonce). Anyone who sees the ciphertext learns its length
//! and nothing else; only the holder of the identity that made the access can open it.

pub mod finality;
pub mod keys;
pub mod seal;

pub use finality::{check_final, FinalityError};
pub use keys::{check_public, derive, DeliverySecret, DELIVERY_KEY_TAG};
pub use seal::{
    open, records_digest, seal, DeliveryError, SealedRecords, DELIVERY_INFO_TAG, RECORDS_DIGEST_TAG,
};
