//! Accountable anonymity: an institution's `id`, encrypted to an inspector inside the token.
//!
//! An **inspector** (a data-protection authority) holds a key pair on Jubjub, the twisted
//! Edwards curve whose base field is the BLS12-381 scalar field (Zcash Sapling's curve;
//! `ark-ed-on-bls12-381`), so that its arithmetic is native to the access circuit. Its public
//! key is fixed in genesis.
//!
//! **The escrow** of a token is a hashed-ElGamal ciphertext of the institution's
//! `id = H_id(sk)`:
//!
//! ```text
//! c1 = r·G        c2 = id + H_escrow(r·PK)        r: a fresh Jubjub scalar per token
//! ```
//!
//! where `H_escrow` is Poseidon under its own domain ([`Domain::Escrow`]) of the shared
//! point's two coordinates. The inspector recovers `id = c2 − H_escrow(sk_I·c1)`; nobody else
//! can (computational Diffie-Hellman on Jubjub's prime-order subgroup, Poseidon as the key
//! derivation), and two escrows of one institution are unlinkable without `sk_I` (decisional
//! Diffie-Hellman: `(r·G, r·PK)` looks random). Opening one escrow reveals `r·PK` for that
//! escrow alone, which says nothing about any other.
//!
//! The escrow variant of the access circuit ([`EscrowCircuit`]) proves that `(c1, c2)` is
//! such a ciphertext of the same `id` the membership proof uses, so an institution cannot
//! escrow someone else's id, a random value, or a ciphertext copied from another token (it
//! does not know that token's `r`). Both scalar multiplications are by fixed bases (`G`, and
//! the inspector's key, a constant of the circuit), done with 3-bit windowed lookups whose
//! bit products the two multiplications share, summed with incomplete Montgomery additions
//! whose exceptional cases cannot occur (the argument is on the circuit's `fixed_base_pair`).
//! Because the inspector's key is a constant, the escrow circuit's Groth16 keys belong to
//! one inspector: a new inspector is a new verifying key in genesis, like any circuit change.

mod circuit;
pub mod groth;

use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ed_on_bls12_381::{EdwardsAffine, EdwardsProjective, Fr as JubjubScalar};
use ark_ff::{PrimeField, UniformRand, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroize;

use crate::credential::InstitutionId;
use crate::poseidon::{self, Domain};
use crate::Fr;

pub use circuit::{EscrowCircuit, NUM_ESCROW_INPUTS};

/// The public seed of the development inspector ([`InspectorSecret::dev`]). **Anyone can
/// recompute its secret and open every escrow made to it: development chains only.**
pub const DEV_INSPECTOR_SEED: [u8; 32] = *b"consentry-dev-inspector-INSECURE";

/// Bits of a Jubjub scalar (the subgroup order is a 252-bit prime).
pub const SCALAR_BITS: usize = JubjubScalar::MODULUS_BIT_SIZE as usize;

/// Length of an encoded escrow: compressed `c1` (32 bytes), then `c2` (32 bytes, big-endian).
pub const ESCROW_LEN: usize = 64;

/// Why an escrow or a key could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EscrowError {
    /// Wrong length.
    #[error("an escrow is {ESCROW_LEN} bytes, got {0}")]
    Length(usize),
    /// `c1` or a key is not a point of Jubjub's prime-order subgroup.
    #[error("{0} is not a point of Jubjub's prime-order subgroup")]
    Point(&'static str),
    /// `c2` is not a canonical field element.
    #[error("c2 is not a canonical field element")]
    Field,
}

/// The inspector's secret: a Jubjub scalar. Never logged; zeroed on drop.
pub struct InspectorSecret(JubjubScalar);

impl Zeroize for InspectorSecret {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for InspectorSecret {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl std::fmt::Debug for InspectorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InspectorSecret(..)")
    }
}

/// The inspector's public key, `PK = sk_I·G` (in genesis): a point of the prime-order
/// subgroup other than the identity (made only by [`InspectorSecret::public`] or the checked
/// [`InspectorKey::from_bytes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InspectorKey(pub(crate) EdwardsAffine);

/// A token's escrow: `(c1, c2)`, public inputs of the escrow circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escrow {
    /// `r·G`.
    pub c1: EdwardsAffine,
    /// `id + H_escrow(r·PK)`.
    pub c2: Fr,
}

/// The encryption's randomness `r`: the prover's witness. Zeroed on drop.
pub struct EscrowRandomness(pub(crate) JubjubScalar);

impl Drop for EscrowRandomness {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl EscrowRandomness {
    /// A fresh `r` (what [`encrypt`] draws; public for tests of provers that guess it).
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        EscrowRandomness(JubjubScalar::rand(rng))
    }
}

/// Jubjub's prime-order subgroup generator (the one `ark-ed-on-bls12-381` fixes).
pub fn generator() -> EdwardsProjective {
    EdwardsProjective::generator()
}

impl InspectorSecret {
    /// A fresh secret from a cryptographic RNG.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        InspectorSecret(JubjubScalar::rand(rng))
    }

    /// The development inspector: its secret drawn from ChaCha20 seeded with the public
    /// [`DEV_INSPECTOR_SEED`], so the shipped escrow keys and every dev chain agree on it.
    /// INSECURE by construction.
    pub fn dev() -> Self {
        use rand::SeedableRng;
        Self::random(&mut rand_chacha::ChaCha20Rng::from_seed(DEV_INSPECTOR_SEED))
    }

    /// The public key.
    pub fn public(&self) -> InspectorKey {
        InspectorKey((generator() * self.0).into_affine())
    }

    /// The scalar's canonical 32 bytes (for the key file).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        self.0.serialize_compressed(&mut out[..]).expect("32 bytes");
        out
    }

    /// Reads a scalar written by [`InspectorSecret::to_bytes`]; refuses non-canonical bytes
    /// and zero (whose public key, the identity, would let everyone open every escrow).
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        JubjubScalar::deserialize_compressed(&bytes[..])
            .ok()
            .filter(|s| !s.is_zero())
            .map(InspectorSecret)
    }

    /// Recovers the `id` an escrow encrypts: `c2 − H_escrow(sk_I·c1)`. With another
    /// inspector's secret this is a meaningless field element, not an error: a ciphertext
    /// does not say whom it is for. Not constant-time (arkworks' scalar multiplication
    /// branches on the scalar's bits): run it where nobody else can time it, as an offline,
    /// inspector-side operation.
    pub fn open(&self, escrow: &Escrow) -> InstitutionId {
        let shared = (escrow.c1 * self.0).into_affine();
        InstitutionId(escrow.c2 - mask(&shared))
    }
}

/// `H_escrow(x, y)` of the shared point.
fn mask(shared: &EdwardsAffine) -> Fr {
    poseidon::hash(Domain::Escrow, &[shared.x, shared.y])
}

/// Encrypts `id` to the inspector: a fresh `r`, the escrow and `r` (the prover's witness).
pub fn encrypt<R: RngCore + CryptoRng>(
    id: &InstitutionId,
    key: &InspectorKey,
    rng: &mut R,
) -> (Escrow, EscrowRandomness) {
    let r = JubjubScalar::rand(rng);
    let escrow = encrypt_with(id, key, &r);
    (escrow, EscrowRandomness(r))
}

fn encrypt_with(id: &InstitutionId, key: &InspectorKey, r: &JubjubScalar) -> Escrow {
    let c1 = (generator() * r).into_affine();
    let shared = (key.0 * r).into_affine();
    Escrow {
        c1,
        c2: id.0 + mask(&shared),
    }
}

impl InspectorKey {
    /// The compressed point (32 bytes).
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        self.0.serialize_compressed(&mut out[..]).expect("32 bytes");
        out
    }

    /// Decodes a compressed point, refusing anything outside the prime-order subgroup (and
    /// the identity, which would make every escrow readable by everyone).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, EscrowError> {
        let p = EdwardsAffine::deserialize_compressed(&bytes[..])
            .map_err(|_| EscrowError::Point("the inspector key"))?;
        if p.is_zero() {
            return Err(EscrowError::Point("the inspector key"));
        }
        Ok(InspectorKey(p))
    }
}

impl Escrow {
    /// `c1` compressed, then `c2` big-endian.
    pub fn to_bytes(&self) -> [u8; ESCROW_LEN] {
        let mut out = [0u8; ESCROW_LEN];
        self.c1
            .serialize_compressed(&mut out[..32])
            .expect("32 bytes");
        out[32..].copy_from_slice(&crate::field::to_bytes(&self.c2));
        out
    }

    /// Decodes and validates: `c1` in the prime-order subgroup and not the identity (`r ≡ 0`
    /// would make the mask public: anyone could read the id), in its one canonical encoding
    /// (so that equal escrows have equal bytes); `c2` canonical.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EscrowError> {
        if bytes.len() != ESCROW_LEN {
            return Err(EscrowError::Length(bytes.len()));
        }
        let c1 = EdwardsAffine::deserialize_compressed(&bytes[..32])
            .map_err(|_| EscrowError::Point("c1"))?;
        let c2 = crate::field::from_bytes(&bytes[32..]).map_err(|_| EscrowError::Field)?;
        let escrow = Escrow { c1, c2 };
        if c1.is_zero() || escrow.to_bytes()[..] != *bytes {
            return Err(EscrowError::Point("c1"));
        }
        Ok(escrow)
    }

    /// `c1.x, c1.y, c2`: the escrow's public inputs, after the access statement's.
    pub fn to_field_elements(&self) -> [Fr; NUM_ESCROW_INPUTS] {
        [self.c1.x, self.c1.y, self.c2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::SecretKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(20)
    }

    #[test]
    fn the_inspector_opens_what_was_escrowed_and_another_key_opens_nothing() {
        let mut rng = rng();
        let inspector = InspectorSecret::random(&mut rng);
        let id = SecretKey::random(&mut rng).id();
        let (e1, _) = encrypt(&id, &inspector.public(), &mut rng);
        let (e2, _) = encrypt(&id, &inspector.public(), &mut rng);
        assert_eq!(inspector.open(&e1), id);
        assert_eq!(inspector.open(&e2), id);
        assert_ne!(e1, e2, "a fresh r per escrow: two escrows of one id differ");
        assert_ne!(e1.c2, e2.c2);
        let other = InspectorSecret::random(&mut rng);
        assert_ne!(other.open(&e1), id, "another inspector's key opens nothing");
    }

    #[test]
    fn encodings_round_trip_and_refuse_bad_bytes() {
        let mut rng = rng();
        let inspector = InspectorSecret::random(&mut rng);
        let id = SecretKey::random(&mut rng).id();
        let (e, _) = encrypt(&id, &inspector.public(), &mut rng);
        assert_eq!(Escrow::from_bytes(&e.to_bytes()), Ok(e));
        assert_eq!(
            Escrow::from_bytes(&e.to_bytes()[..63]),
            Err(EscrowError::Length(63))
        );
        // c2 above the modulus.
        let mut bad = e.to_bytes();
        bad[32..].fill(0xff);
        assert_eq!(Escrow::from_bytes(&bad), Err(EscrowError::Field));
        // c1 off the curve: flip bits until the x coordinate has no point.
        let mut rejected = 0;
        for i in 0..32u8 {
            let mut bad = e.to_bytes();
            bad[0] ^= i + 1;
            if Escrow::from_bytes(&bad).is_err() {
                rejected += 1;
            }
        }
        assert!(rejected > 0, "some corrupted c1 are not points");
        let key = inspector.public();
        assert_eq!(InspectorKey::from_bytes(&key.to_bytes()), Ok(key));
        let identity = InspectorKey(EdwardsAffine::zero()).to_bytes();
        assert!(InspectorKey::from_bytes(&identity).is_err());
        assert!(
            InspectorSecret::from_bytes(&[0; 32]).is_none(),
            "zero secret"
        );
        // The identity as c1 (r ≡ 0 would publish the mask), in either of its encodings.
        let mut zero_c1 = [0u8; ESCROW_LEN];
        EdwardsAffine::zero()
            .serialize_compressed(&mut zero_c1[..32])
            .unwrap();
        assert_eq!(Escrow::from_bytes(&zero_c1), Err(EscrowError::Point("c1")));
        zero_c1[31] ^= 0x80;
        assert!(Escrow::from_bytes(&zero_c1).is_err(), "its other encoding");
        let secret = InspectorSecret::from_bytes(&inspector.to_bytes()).unwrap();
        assert_eq!(secret.public(), key);
        assert!(InspectorSecret::from_bytes(&[0xff; 32]).is_none());
    }

    /// A fixed vector: the same secret, id and `r` always give these bytes (a change to the
    /// curve, the generator, the encoding or `H_escrow` shows here).
    #[test]
    fn fixed_vector() {
        let inspector = InspectorSecret(JubjubScalar::from(7u64));
        let id = InstitutionId(Fr::from(42u64));
        let e = encrypt_with(&id, &inspector.public(), &JubjubScalar::from(11u64));
        assert_eq!(
            hex::encode(e.to_bytes()),
            "04f6a9ac7d0356912e9ab5b27b31134f1579ccf58667ca23a959d2e44cb456244bc3e8eec3e59bdda094c97e2ce66c7249a8e22e4483889f99b5342ccf4d76d9"
        );
        assert_eq!(inspector.open(&e), id);
    }

    /// A point of small order (in Jubjub's cofactor-8 part) is not accepted as `c1`.
    #[test]
    fn small_order_points_are_refused() {
        // (0, -1) has order 2 on every twisted Edwards curve.
        let p = EdwardsAffine::new_unchecked(Fr::from(0u64), -Fr::from(1u64));
        let mut bytes = [0u8; ESCROW_LEN];
        p.serialize_compressed(&mut bytes[..32]).unwrap();
        assert_eq!(Escrow::from_bytes(&bytes), Err(EscrowError::Point("c1")));
    }
}
