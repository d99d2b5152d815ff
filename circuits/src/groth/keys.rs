//! Key generation and the key files `access-d{depth}.pk` / `.vk` (compressed, validated on load).

use std::path::Path;

use ark_groth16::Groth16;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use super::manifest::{write_atomic, Manifest, ParamsError};
use super::{Curve, ProvingKey, VerifyingKey};
use crate::access::AccessCircuit;

/// The public seed of the shipped development keys. **Anyone can recompute the trapdoor from
/// it and forge tokens: these keys are for development and tests only.**
pub const DEV_SEED: [u8; 32] = *b"consentry-dev-params-INSECURE-v1";

/// File name of the proving key for `depth`.
pub fn pk_file_name(depth: usize) -> String {
    format!("access-d{depth}.pk")
}

/// File name of the verifying key for `depth`.
pub fn vk_file_name(depth: usize) -> String {
    format!("access-d{depth}.vk")
}

/// Generates keys for the access circuit at `depth`. Use OS randomness for a deployment; the
/// randomness is the trapdoor and must be destroyed.
pub fn setup<R: RngCore + CryptoRng>(
    depth: usize,
    rng: &mut R,
) -> Result<(ProvingKey, VerifyingKey), ParamsError> {
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

/// Writes both keys into `dir` and records their digests in its manifest (other entries kept).
pub fn write_keys(
    dir: &Path,
    depth: usize,
    pk: &ProvingKey,
    vk: &VerifyingKey,
) -> Result<Manifest, ParamsError> {
    std::fs::create_dir_all(dir).map_err(super::manifest::io_err(dir))?;
    let mut manifest = Manifest::read(dir)?;
    for (name, bytes) in [
        (pk_file_name(depth), to_bytes(pk)),
        (vk_file_name(depth), to_bytes(vk)),
    ] {
        write_atomic(&dir.join(&name), &bytes)?;
        manifest.entries.insert(name, Sha256::digest(&bytes).into());
    }
    manifest.write(dir)?;
    Ok(manifest)
}

fn decode<T: CanonicalDeserialize>(dir: &Path, name: &str, bytes: &[u8]) -> Result<T, ParamsError> {
    let mut reader = bytes;
    // `deserialize_compressed` validates every point: on the curve and in the prime-order
    // subgroup.
    let key = T::deserialize_compressed(&mut reader).map_err(|e| ParamsError::InvalidKey {
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

/// Loads the proving key for `depth` from `dir`, checking the manifest digest first.
pub fn load_proving_key(dir: &Path, depth: usize) -> Result<ProvingKey, ParamsError> {
    let name = pk_file_name(depth);
    let bytes = Manifest::read(dir)?.read_checked(dir, &name)?;
    decode(dir, &name, &bytes)
}

/// Loads the verifying key for `depth` from `dir`, checking the manifest digest first. Returns
/// the key and its file digest (what a genesis pins).
pub fn load_verifying_key(
    dir: &Path,
    depth: usize,
) -> Result<(VerifyingKey, [u8; 32]), ParamsError> {
    let name = vk_file_name(depth);
    let manifest = Manifest::read(dir)?;
    let bytes = manifest.read_checked(dir, &name)?;
    Ok((decode(dir, &name, &bytes)?, manifest.entries[&name]))
}
