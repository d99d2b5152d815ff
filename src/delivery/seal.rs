//! Sealing a stream's records to an access's delivery key, and opening them.
//!
//! HPKE base mode (RFC 9180) with `DHKEM(X25519, HKDF-SHA256)`, `HKDF-SHA256` and
//! `ChaCha20Poly1305`. The `info` binds the chain (`consentry/v1/delivery` and the chain id),
//! the associated data the access transaction's id: a ciphertext made for one access does not
//! open as another's, nor on another chain. The answer also carries the SHA-256 digest of the
//! plaintext under its own tag, which the reader checks after decrypting (and against the
//! consent's `data_digest` when the share named one).

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use super::keys::{DeliverySecret, Kem};
use crate::ledger::types::hex_bytes;
use crate::ledger::TxId;

/// Domain tag of the HPKE `info` (followed by the chain id).
pub const DELIVERY_INFO_TAG: &[u8] = b"consentry/v1/delivery";
/// Domain tag of the records' digest.
pub const RECORDS_DIGEST_TAG: &[u8] = b"consentry/v1/records";

/// What a data platform answers for one delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedRecords {
    /// The access transaction this delivery answers (hex).
    #[schema(value_type = String)]
    pub access_tx: TxId,
    /// HPKE encapsulated key (the sender's ephemeral X25519 public key, hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String)]
    pub enc: [u8; 32],
    /// The records, sealed (hex).
    #[serde(with = "hex::serde")]
    #[schema(value_type = String)]
    pub ciphertext: Vec<u8>,
    /// [`records_digest`] of the plaintext (hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String)]
    pub digest: [u8; 32],
}

/// Why a delivery could not be sealed or opened. Says which check failed and never carries
/// key material or plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeliveryError {
    /// The delivery key is not an acceptable X25519 public key.
    #[error("delivery key refused: {0}")]
    BadKey(&'static str),
    /// HPKE refused to seal (a small-order key gives an all-zero shared secret).
    #[error("sealing failed: {0}")]
    Seal(String),
    /// Wrong key, another access or chain, or a modified ciphertext or encapsulated key: the
    /// AEAD tag does not verify.
    #[error("decryption failed: wrong delivery key, another access, or a modified ciphertext")]
    Decrypt,
    /// The decrypted records do not hash to the digest that came with them.
    #[error("the decrypted records do not match the digest sent with them")]
    DigestMismatch,
}

/// The tagged SHA-256 of a delivery's plaintext.
pub fn records_digest(plaintext: &[u8]) -> [u8; 32] {
    consentry_circuits::field::sha256_tagged(RECORDS_DIGEST_TAG, plaintext)
}

fn info(chain_id: &str) -> Vec<u8> {
    let mut info = DELIVERY_INFO_TAG.to_vec();
    info.push(0);
    info.extend_from_slice(chain_id.as_bytes());
    info
}

/// Seals `plaintext` to `delivery_key` for the access `access_tx` on `chain_id`.
pub fn seal<R: RngCore + CryptoRng>(
    delivery_key: &[u8; 32],
    chain_id: &str,
    access_tx: TxId,
    plaintext: &[u8],
    rng: &mut R,
) -> Result<SealedRecords, DeliveryError> {
    super::keys::check_public(delivery_key).map_err(DeliveryError::BadKey)?;
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(delivery_key)
        .map_err(|e| DeliveryError::Seal(e.to_string()))?;
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
        &OpModeS::Base,
        &pk,
        &info(chain_id),
        plaintext,
        &access_tx.0,
        rng,
    )
    .map_err(|e| DeliveryError::Seal(e.to_string()))?;
    Ok(SealedRecords {
        access_tx,
        enc: enc.to_bytes().into(),
        ciphertext,
        digest: records_digest(plaintext),
    })
}

/// Opens a delivery made for the access `access_tx` on `chain_id` and checks its digest.
/// `sealed.access_tx` is not trusted: the caller names the access it asked for.
pub fn open(
    secret: &DeliverySecret,
    chain_id: &str,
    access_tx: TxId,
    sealed: &SealedRecords,
) -> Result<Vec<u8>, DeliveryError> {
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.enc)
        .map_err(|_| DeliveryError::Decrypt)?;
    let plaintext = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &secret.0,
        &enc,
        &info(chain_id),
        &sealed.ciphertext,
        &access_tx.0,
    )
    .map_err(|_| DeliveryError::Decrypt)?;
    if records_digest(&plaintext) != sealed.digest {
        return Err(DeliveryError::DigestMismatch);
    }
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::derive;
    use consentry_circuits::credential::SecretKey;
    use consentry_circuits::Fr;
    use proptest::prelude::*;
    use rand::rngs::OsRng;

    const CHAIN: &str = "consentry-test";

    fn setup() -> (DeliverySecret, [u8; 32], TxId, Vec<u8>) {
        let (secret, public) = derive(&SecretKey::from_field(Fr::from(5u64)), "s", 9);
        let tx = crate::ledger::Hash32([7; 32]);
        let records = br#"[{"t":1,"hr":61},{"t":2,"hr":64}]"#.to_vec();
        (secret, public, tx, records)
    }

    #[test]
    fn the_reader_opens_what_was_sealed_to_its_access() {
        let (secret, public, tx, records) = setup();
        let sealed = seal(&public, CHAIN, tx, &records, &mut OsRng).unwrap();
        assert_eq!(open(&secret, CHAIN, tx, &sealed).unwrap(), records);
        assert_ne!(
            sealed.ciphertext[..records.len()],
            records[..],
            "not in the clear"
        );
    }

    #[test]
    fn another_key_access_or_chain_does_not_open_it() {
        let (_, public, tx, records) = setup();
        let sealed = seal(&public, CHAIN, tx, &records, &mut OsRng).unwrap();
        let (other, _) = derive(&SecretKey::from_field(Fr::from(6u64)), "s", 9);
        assert_eq!(
            open(&other, CHAIN, tx, &sealed),
            Err(DeliveryError::Decrypt)
        );
        let (secret, ..) = setup();
        assert_eq!(
            open(&secret, CHAIN, crate::ledger::Hash32([8; 32]), &sealed),
            Err(DeliveryError::Decrypt),
            "associated data: another access"
        );
        assert_eq!(
            open(&secret, "another-chain", tx, &sealed),
            Err(DeliveryError::Decrypt)
        );
    }

    #[test]
    fn a_modified_digest_is_detected() {
        let (secret, public, tx, records) = setup();
        let mut sealed = seal(&public, CHAIN, tx, &records, &mut OsRng).unwrap();
        sealed.digest[0] ^= 1;
        assert_eq!(
            open(&secret, CHAIN, tx, &sealed),
            Err(DeliveryError::DigestMismatch)
        );
    }

    #[test]
    fn a_small_order_key_is_refused_before_sealing() {
        let (.., tx, records) = setup();
        assert!(matches!(
            seal(&[0; 32], CHAIN, tx, &records, &mut OsRng),
            Err(DeliveryError::BadKey(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any flipped bit of the ciphertext or of the encapsulated key is caught.
        #[test]
        fn every_flipped_bit_is_detected(bit in 0usize..1024, in_enc in any::<bool>()) {
            let (secret, public, tx, records) = setup();
            let mut sealed = seal(&public, CHAIN, tx, &records, &mut OsRng).unwrap();
            if in_enc {
                sealed.enc[(bit / 8) % 32] ^= 1 << (bit % 8);
            } else {
                let n = sealed.ciphertext.len();
                sealed.ciphertext[(bit / 8) % n] ^= 1 << (bit % 8);
            }
            prop_assert_eq!(open(&secret, CHAIN, tx, &sealed), Err(DeliveryError::Decrypt));
        }
    }
}
