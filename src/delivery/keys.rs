//! Delivery keys derived, not stored (`docs/delivery.md`).
//!
//! `ikm = HMAC-SHA256(key = sk, DELIVERY_KEY_TAG || 0x00 || len(stream) (u16 BE) || stream ||
//! nonce (u64 BE))`, then RFC 9180's `DeriveKeyPair(ikm)` for `DHKEM(X25519, HKDF-SHA256)`.
//! HMAC keyed by the institution's secret is a PRF: without `sk`, a delivery key under a fresh
//! nonce is indistinguishable from a random one, so deliveries stay unlinkable. The same
//! `sk`, stream and nonce always give the same key, so the reader recovers the secret of any
//! of its accesses from its identity file and the committed transaction.

use consentry_circuits::credential::SecretKey;
use hmac::{Hmac, Mac};
use hpke::{Deserializable, Kem as _, Serializable};
use sha2::Sha256;

/// The HPKE KEM of deliveries.
pub type Kem = hpke::kem::X25519HkdfSha256;

/// Domain tag of the derivation (this use of the identity secret only).
pub const DELIVERY_KEY_TAG: &[u8] = b"consentry/v1/delivery-key";

/// A reader's delivery secret for one access (zeroized on drop by `hpke`).
pub struct DeliverySecret(pub(crate) <Kem as hpke::Kem>::PrivateKey);

impl std::fmt::Debug for DeliverySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeliverySecret(..)")
    }
}

impl DeliverySecret {
    /// The X25519 secret's bytes, for a key file (mode 0600) only.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    /// A secret read back from [`DeliverySecret::to_bytes`].
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        DeliverySecret(
            <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes)
                .expect("any 32 bytes are an X25519 secret (clamped when used)"),
        )
    }

    /// The public key that goes into the `Access`.
    pub fn public(&self) -> [u8; 32] {
        let pk = <Kem as hpke::Kem>::sk_to_pk(&self.0);
        pk.to_bytes().into()
    }
}

/// The delivery secret and public key of the access to `stream_id` with `nonce`, by the
/// institution whose identity secret is `sk`.
pub fn derive(sk: &SecretKey, stream_id: &str, nonce: u64) -> (DeliverySecret, [u8; 32]) {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&sk.to_bytes()[..])
        .expect("HMAC takes a key of any length");
    mac.update(DELIVERY_KEY_TAG);
    mac.update(&[0]);
    // Stream ids are at most 128 bytes (ledger::check_stream_id); the length keeps the
    // encoding injective anyway.
    mac.update(&(stream_id.len() as u16).to_be_bytes());
    mac.update(stream_id.as_bytes());
    mac.update(&nonce.to_be_bytes());
    let mut ikm = zeroize::Zeroizing::new([0u8; 32]);
    ikm.copy_from_slice(&mac.finalize().into_bytes());
    let (sk, pk) = Kem::derive_keypair(&ikm[..]);
    (DeliverySecret(sk), pk.to_bytes().into())
}

/// p = 2^255 - 19, little-endian.
const P: [u8; 32] = {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// Whether `key` is acceptable as a delivery key: a canonical X25519 u-coordinate (below
/// 2^255 - 19) of a point outside the small subgroup (eight times it is not the identity).
/// A small-order key would give a shared secret anyone can compute (HPKE refuses it when
/// sealing, but the ledger refuses it first, so no access is recorded that can never be
/// served).
pub fn check_public(key: &[u8; 32]) -> Result<(), &'static str> {
    // Little-endian comparison with p, from the most significant byte.
    let below_p = key
        .iter()
        .rev()
        .zip(P.iter().rev())
        .find(|(a, b)| a != b)
        .is_some_and(|(a, b)| a < b);
    if !below_p {
        return Err("not a canonical X25519 public key (2^255 - 19 or more)");
    }
    // [8]P by the Montgomery ladder over the bits of 8 (1000): the same value as multiplying
    // by `Scalar::from(8)`, whose ladder also walks the 251 leading zero bits (50 µs per
    // admitted Access instead of 1).
    let eight = [true, false, false, false].into_iter();
    let key_point = curve25519_dalek::montgomery::MontgomeryPoint(*key);
    if key_point.mul_bits_be(eight).to_bytes() == [0; 32] {
        return Err("an X25519 point of small order");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_circuits::Fr;

    fn sk(n: u64) -> SecretKey {
        SecretKey::from_field(Fr::from(n))
    }

    /// Fixed vector: pins the tag, the encoding and RFC 9180's derivation.
    #[test]
    fn derivation_matches_the_fixed_vector() {
        let (secret, public) = derive(&sk(42), "patient-7/vitals", 1234);
        assert_eq!(hex::encode(public), VECTOR_PUBLIC);
        assert_eq!(hex::encode(*secret.to_bytes()), VECTOR_SECRET);
        assert_eq!(secret.public(), public);
    }

    // Computed independently of this code, from the RFCs, with Python's `hmac`/`hashlib` and
    // the `cryptography` package's X25519 (the script is in docs/delivery.md).
    const VECTOR_PUBLIC: &str = "e0d15add0e6a7c62f85a5898eea0b0b8a5d3d95b0e21c4fb107fea044cd1ee23";
    const VECTOR_SECRET: &str = "8035aa409931e87a5c8f052c075abb68c7495d78f0c668f1a0ca892d8ec2c4c6";

    #[test]
    fn each_input_changes_the_key_and_the_same_inputs_give_the_same_key() {
        let base = derive(&sk(1), "s", 1).1;
        assert_eq!(derive(&sk(1), "s", 1).1, base);
        assert_ne!(derive(&sk(2), "s", 1).1, base, "secret");
        assert_ne!(derive(&sk(1), "t", 1).1, base, "stream");
        assert_ne!(derive(&sk(1), "s", 2).1, base, "nonce");
        check_public(&base).unwrap();
    }

    proptest::proptest! {
        /// The short ladder over the bits of 8 computes what multiplying by the scalar 8
        /// does, for points of the curve and of its twist alike.
        #[test]
        fn the_short_ladder_is_multiplication_by_eight(mut u in proptest::array::uniform32(0u8..)) {
            u[31] &= 0x7f;
            let p = curve25519_dalek::montgomery::MontgomeryPoint(u);
            let short = p.mul_bits_be([true, false, false, false].into_iter());
            proptest::prop_assert_eq!(short, p * curve25519_dalek::Scalar::from(8u8));
        }
    }

    #[test]
    fn small_order_and_non_canonical_keys_are_refused() {
        // The u-coordinates of the points of order 1, 2, 4 and 8 (and their non-canonical
        // twins), as listed by libsodium's blacklist.
        let hex32 = |h: &str| -> [u8; 32] { hex::decode(h).unwrap().try_into().unwrap() };
        let small: [[u8; 32]; 4] = [
            [0; 32],
            {
                let mut k = [0; 32];
                k[0] = 1;
                k
            },
            hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            hex32("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        ];
        for k in small {
            assert!(check_public(&k).is_err(), "{}", hex::encode(k));
        }
        let mut p = P;
        assert!(check_public(&p).is_err(), "p itself");
        p[31] = 0xff;
        assert!(check_public(&p).is_err(), "top bit set");
        let mut minus_one = P;
        minus_one[0] = 0xec;
        assert!(check_public(&minus_one).is_err(), "p - 1 (order 4)");
        // The basepoint (u = 9) is a valid key.
        let mut nine = [0; 32];
        nine[0] = 9;
        check_public(&nine).unwrap();
    }
}
