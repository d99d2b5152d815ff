//! Key generation and the key files: `access-d{depth}.pk` / `.vk` (compressed, every point
//! validated on load), and `access-d{depth}.pk.raw`, the same proving key uncompressed, loaded
//! without re-validating its points.
//!
//! **What is checked when.** Every file is read only through the manifest (`SHA256SUMS`): its
//! SHA-256 must match first. The compressed files are then decompressed and every point checked
//! (on the curve, in the prime-order subgroup): 1.3 s for the depth-20 proving key on the 2-core
//! machine, nearly all of it the square roots and subgroup checks. The `.pk.raw` file is written
//! only by [`write_keys`], from a key that was generated here or loaded through the checked
//! path, and its digest goes into the manifest then: the manifest vouches for bytes that were
//! fully validated when they were written, so loading them again needs no point check (10 ms).
//! Why the checks matter at all for a proving key: a point outside the subgroup would let a
//! proof leak a witness's residue to whoever reads the proof; a verifier's own checks come too
//! late for that. Keys that come from anywhere else must therefore arrive without a `.pk.raw`
//! entry (or be loaded with [`load_proving_key_checked`]), and take the checked path; whoever
//! can change the manifest can change the code that reads it.

use std::path::Path;

use ark_bls12_381::G1Affine;
use ark_ec::AffineRepr;
use ark_groth16::Groth16;
use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Validate,
};
use ark_snark::SNARK;
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::manifest::{write_atomic, Manifest, ParamsError};
use super::{Curve, ProvingKey, VerifyingKey};
use crate::access::AccessCircuit;

/// The public seed of the shipped development keys. **Anyone can recompute the trapdoor from
/// it and forge tokens: these keys are for development and tests only.**
pub const DEV_SEED: [u8; 32] = *b"consentry-dev-params-INSECURE-v1";

/// The public seed of the shipped development keys of the escrow circuit (for the dev
/// inspector, [`crate::escrow::DEV_INSPECTOR_SEED`]). As insecure as [`DEV_SEED`].
pub const DEV_ESCROW_SEED: [u8; 32] = *b"consentry-dev-escrow-INSECURE-v1";

/// The circuit a key file serves: the files of each are named by its prefix
/// (`access-d20.pk`, `escrow-d20.pk`, ...) and listed in the same manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Circuit {
    /// The plain access circuit ([`crate::access`]).
    Access,
    /// The escrow variant for one inspector ([`crate::escrow`]).
    Escrow,
}

impl Circuit {
    fn prefix(self) -> &'static str {
        match self {
            Circuit::Access => "access",
            Circuit::Escrow => "escrow",
        }
    }

    /// File name of this circuit's proving key for `depth`.
    pub fn pk_file_name(self, depth: usize) -> String {
        format!("{}-d{depth}.pk", self.prefix())
    }

    /// File name of this circuit's uncompressed proving key for `depth` (see the module
    /// documentation).
    pub fn pk_raw_file_name(self, depth: usize) -> String {
        format!("{}-d{depth}.pk.raw", self.prefix())
    }

    /// File name of this circuit's verifying key for `depth`.
    pub fn vk_file_name(self, depth: usize) -> String {
        format!("{}-d{depth}.vk", self.prefix())
    }
}

/// File name of the access circuit's proving key for `depth`.
pub fn pk_file_name(depth: usize) -> String {
    Circuit::Access.pk_file_name(depth)
}

/// File name of the access circuit's uncompressed proving key for `depth`.
pub fn pk_raw_file_name(depth: usize) -> String {
    Circuit::Access.pk_raw_file_name(depth)
}

/// File name of the access circuit's verifying key for `depth`.
pub fn vk_file_name(depth: usize) -> String {
    Circuit::Access.vk_file_name(depth)
}

/// Generates keys for the access circuit at `depth`. Use OS randomness for a deployment; the
/// randomness is the trapdoor and must be destroyed.
pub fn setup<R: RngCore + CryptoRng>(
    depth: usize,
    rng: &mut R,
) -> Result<(ProvingKey, VerifyingKey), ParamsError> {
    crate::registry::levels(depth)?;
    Groth16::<Curve>::circuit_specific_setup(AccessCircuit::blank(depth), rng)
        .map_err(|e| ParamsError::Setup(e.to_string()))
}

/// Deterministic (insecure) keys from a public seed: reproducible development parameters.
pub fn setup_from_seed(
    depth: usize,
    seed: [u8; 32],
) -> Result<(ProvingKey, VerifyingKey), ParamsError> {
    setup(depth, &mut ChaCha20Rng::from_seed(seed))
}

fn to_bytes<T: CanonicalSerialize>(x: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.compressed_size());
    x.serialize_compressed(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// Writes both keys of the access circuit into `dir` and records their digests in its
/// manifest (other entries kept).
pub fn write_keys(
    dir: &Path,
    depth: usize,
    pk: &ProvingKey,
    vk: &VerifyingKey,
) -> Result<Manifest, ParamsError> {
    write_circuit_keys(dir, Circuit::Access, depth, pk, vk)
}

/// [`write_keys`] for `circuit`'s keys.
pub fn write_circuit_keys(
    dir: &Path,
    circuit: Circuit,
    depth: usize,
    pk: &ProvingKey,
    vk: &VerifyingKey,
) -> Result<Manifest, ParamsError> {
    std::fs::create_dir_all(dir).map_err(super::manifest::io_err(dir))?;
    let mut manifest = Manifest::read(dir)?;
    let mut raw = Vec::with_capacity(pk.uncompressed_size());
    pk.serialize_uncompressed(&mut raw)
        .expect("writing to a Vec cannot fail");
    for (name, bytes) in [
        (circuit.pk_file_name(depth), to_bytes(pk)),
        (circuit.pk_raw_file_name(depth), raw),
        (circuit.vk_file_name(depth), to_bytes(vk)),
    ] {
        write_atomic(&dir.join(&name), &bytes)?;
        manifest.entries.insert(name, Sha256::digest(&bytes).into());
    }
    manifest.write(dir)?;
    Ok(manifest)
}

fn decode<T: CanonicalDeserialize>(dir: &Path, name: &str, bytes: &[u8]) -> Result<T, ParamsError> {
    // `deserialize_compressed` validates every point: on the curve and in the prime-order
    // subgroup.
    decode_with(dir, name, bytes, |reader| T::deserialize_compressed(reader))
}

/// Runs `read` over `bytes`, naming the file in any error and refusing trailing bytes.
fn decode_with<T>(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    read: impl FnOnce(&mut &[u8]) -> Result<T, SerializationError>,
) -> Result<T, ParamsError> {
    let mut reader = bytes;
    let key = read(&mut reader).map_err(|e| ParamsError::InvalidKey {
        file: dir.join(name),
        reason: e.to_string(),
    })?;
    if !reader.is_empty() {
        return Err(ParamsError::InvalidKey {
            file: dir.join(name),
            reason: format!("{} trailing bytes", reader.len()),
        });
    }
    Ok(key)
}

/// Reads a compressed proving key exactly as `ProvingKey::deserialize_compressed` does, every
/// point decompressed and checked (on the curve, in the prime-order subgroup), but the points
/// of the five queries (about 30,000 at depth 20, a square root and a subgroup check each)
/// in parallel: arkworks decompresses a vector's points one after the other.
fn read_proving_key(reader: &mut &[u8]) -> Result<ProvingKey, SerializationError> {
    Ok(ProvingKey {
        vk: VerifyingKey::deserialize_compressed(&mut *reader)?,
        beta_g1: G1Affine::deserialize_compressed(&mut *reader)?,
        delta_g1: G1Affine::deserialize_compressed(&mut *reader)?,
        a_query: read_points(reader)?,
        b_g1_query: read_points(reader)?,
        b_g2_query: read_points(reader)?,
        h_query: read_points(reader)?,
        l_query: read_points(reader)?,
    })
}

/// A vector of compressed points as ark-serialize writes it (a `u64` length, then the points),
/// decompressed and checked in parallel. The length is checked against the bytes left before
/// anything is allocated.
fn read_points<P: AffineRepr>(reader: &mut &[u8]) -> Result<Vec<P>, SerializationError> {
    let len = u64::deserialize_compressed(&mut *reader)?;
    let size = P::zero().compressed_size();
    let total = usize::try_from(len)
        .ok()
        .and_then(|n| n.checked_mul(size))
        .filter(|&total| total <= reader.len())
        .ok_or(SerializationError::InvalidData)?;
    let (points, rest) = reader.split_at(total);
    let points = points
        .par_chunks(size)
        .map(|mut bytes| P::deserialize_compressed(&mut bytes))
        .collect::<Result<Vec<_>, _>>()?;
    *reader = rest;
    Ok(points)
}

/// Decodes the bytes of a `.pk` file exactly as [`load_proving_key`] does after the digest
/// check: every point validated, no trailing byte. For fuzzing and tools; `name` only names
/// the file in errors.
pub fn decode_proving_key(name: &str, bytes: &[u8]) -> Result<ProvingKey, ParamsError> {
    decode_with(Path::new(""), name, bytes, read_proving_key)
}

/// Decodes the bytes of a `.vk` file exactly as [`load_verifying_key`] does after the digest
/// check.
pub fn decode_verifying_key(name: &str, bytes: &[u8]) -> Result<VerifyingKey, ParamsError> {
    decode(Path::new(""), name, bytes)
}

/// Loads the proving key for `depth` from `dir`, checking the manifest digest first: the
/// uncompressed `.pk.raw` form without point checks when the manifest lists it (it was
/// validated when written, see the module documentation), else the compressed form with every
/// point checked.
pub fn load_proving_key(dir: &Path, depth: usize) -> Result<ProvingKey, ParamsError> {
    load_circuit_proving_key(dir, Circuit::Access, depth)
}

/// [`load_proving_key`] for `circuit`'s key.
pub fn load_circuit_proving_key(
    dir: &Path,
    circuit: Circuit,
    depth: usize,
) -> Result<ProvingKey, ParamsError> {
    let manifest = Manifest::read(dir)?;
    let raw = circuit.pk_raw_file_name(depth);
    if !manifest.entries.contains_key(&raw) {
        let name = circuit.pk_file_name(depth);
        let bytes = manifest.read_checked(dir, &name)?;
        return decode_with(dir, &name, &bytes, read_proving_key);
    }
    let bytes = manifest.read_checked(dir, &raw)?;
    decode_with(dir, &raw, &bytes, |reader| {
        ProvingKey::deserialize_with_mode(reader, Compress::No, Validate::No)
    })
}

/// Loads the compressed proving key for `depth` from `dir`, checking the manifest digest and
/// then every point, whatever else the manifest lists.
pub fn load_proving_key_checked(dir: &Path, depth: usize) -> Result<ProvingKey, ParamsError> {
    let name = pk_file_name(depth);
    let bytes = Manifest::read(dir)?.read_checked(dir, &name)?;
    decode_with(dir, &name, &bytes, read_proving_key)
}

/// Loads the verifying key for `depth` from `dir`, checking the manifest digest first. Returns
/// the key and its file digest (what a genesis pins).
pub fn load_verifying_key(
    dir: &Path,
    depth: usize,
) -> Result<(VerifyingKey, [u8; 32]), ParamsError> {
    load_circuit_verifying_key(dir, Circuit::Access, depth)
}

/// [`load_verifying_key`] for `circuit`'s key.
pub fn load_circuit_verifying_key(
    dir: &Path,
    circuit: Circuit,
    depth: usize,
) -> Result<(VerifyingKey, [u8; 32]), ParamsError> {
    let name = circuit.vk_file_name(depth);
    let manifest = Manifest::read(dir)?;
    let bytes = manifest.read_checked(dir, &name)?;
    Ok((decode(dir, &name, &bytes)?, manifest.entries[&name]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bls12_381::Fq;

    fn point_outside_the_subgroup() -> G1Affine {
        // x = 1, 2, ...: the first x whose y exists gives a point of E(Fp); the cofactor is
        // large, so it is not in the subgroup (asserted by the caller).
        (1u64..)
            .find_map(|x| G1Affine::get_point_from_x_unchecked(Fq::from(x), false))
            .unwrap()
    }

    fn read_proving_key_unchecked(bytes: &[u8]) -> ProvingKey {
        ProvingKey::deserialize_compressed_unchecked(bytes).unwrap()
    }

    fn key_bytes() -> (ProvingKey, Vec<u8>) {
        let (pk, _) = setup_from_seed(2, [5u8; 32]).unwrap();
        let bytes = to_bytes(&pk);
        (pk, bytes)
    }

    #[test]
    fn parallel_reader_agrees_with_arkworks() {
        let (pk, bytes) = key_bytes();
        let ours = read_proving_key(&mut &bytes[..]).unwrap();
        assert_eq!(ours, pk);
        assert_eq!(
            ours,
            ProvingKey::deserialize_compressed(&bytes[..]).unwrap()
        );
    }

    #[test]
    fn parallel_reader_refuses_what_arkworks_refuses() {
        let (pk, bytes) = key_bytes();
        let dir = Path::new("keys");
        // A garbage x-coordinate in the last point of `l_query` (the last 48 bytes).
        let mut bad = bytes.clone();
        let n = bad.len();
        bad[n - 47..].fill(0x33);
        assert!(ProvingKey::deserialize_compressed(&bad[..]).is_err());
        assert!(matches!(
            decode_with(dir, "k.pk", &bad, read_proving_key),
            Err(ParamsError::InvalidKey { .. })
        ));
        // A point on the curve but outside the prime-order subgroup: it decompresses, and
        // only the subgroup check refuses it.
        let outside = point_outside_the_subgroup();
        assert!(outside.is_on_curve() && !outside.is_in_correct_subgroup_assuming_on_curve());
        let mut off = bytes.clone();
        let n = off.len();
        outside.serialize_compressed(&mut off[n - 48..]).unwrap();
        assert!(ProvingKey::deserialize_compressed(&off[..]).is_err());
        assert!(read_proving_key(&mut &off[..]).is_err());
        let mut unchecked = read_proving_key_unchecked(&off);
        assert_eq!(
            unchecked.l_query.pop(),
            Some(outside),
            "the bytes are where we think"
        );
        // Truncated anywhere, or with a byte more.
        for cut in [1, 48, 1000, bytes.len() - 1] {
            assert!(decode_with(dir, "k.pk", &bytes[..cut], read_proving_key).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let err = decode_with(dir, "k.pk", &longer, read_proving_key).unwrap_err();
        assert!(err.to_string().contains("1 trailing bytes"), "{err}");
        // A vector length far beyond the bytes left allocates nothing and fails.
        let vk_and_two = pk.vk.compressed_size() + 2 * 48;
        let mut huge = bytes.clone();
        huge[vk_and_two..vk_and_two + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(read_proving_key(&mut &huge[..]).is_err());
    }
}
