//! The shipped development parameters: reproducible from the public seed, refused when a file
//! does not match the manifest, and refused when a key holds an invalid point.

use std::fs;
use std::path::Path;

use consentry::circuits::groth::{self, Manifest, ParamsError, DEV_SEED};
use consentry::params;

fn shipped() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/params"))
}

fn copy_params(to: &Path) {
    for f in [
        "SHA256SUMS",
        "access-d20.pk",
        "access-d20.pk.raw",
        "access-d20.vk",
        "escrow-d20.pk",
        "escrow-d20.pk.raw",
        "escrow-d20.vk",
    ] {
        fs::copy(shipped().join(f), to.join(f)).unwrap();
    }
}

#[test]
fn dev_keys_regenerate_from_the_public_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (pk, vk) = groth::setup_from_seed(20, DEV_SEED).unwrap();
    let regenerated = groth::write_keys(dir.path(), 20, &pk, &vk).unwrap();
    let manifest = Manifest::read(shipped()).unwrap();
    for name in [
        groth::pk_file_name(20),
        groth::pk_raw_file_name(20),
        groth::vk_file_name(20),
    ] {
        assert_eq!(
            regenerated.entries[&name], manifest.entries[&name],
            "{name} is not reproducible"
        );
    }
}

/// The shipped escrow keys are the dev inspector's, from their own public seed: `consentry
/// setup --dev` remakes them byte for byte.
#[test]
fn dev_escrow_keys_regenerate_from_the_public_seed() {
    use consentry::circuits::escrow::{self, InspectorSecret};
    use consentry::circuits::groth::{Circuit, DEV_ESCROW_SEED};
    let dir = tempfile::tempdir().unwrap();
    let key = InspectorSecret::dev().public();
    let (pk, vk) = escrow::groth::setup_from_seed(20, &key, DEV_ESCROW_SEED).unwrap();
    let regenerated = groth::write_circuit_keys(dir.path(), Circuit::Escrow, 20, &pk, &vk).unwrap();
    let manifest = Manifest::read(shipped()).unwrap();
    for name in [
        Circuit::Escrow.pk_file_name(20),
        Circuit::Escrow.pk_raw_file_name(20),
        Circuit::Escrow.vk_file_name(20),
    ] {
        assert_eq!(
            regenerated.entries[&name], manifest.entries[&name],
            "{name} is not reproducible"
        );
    }
    // The shipped escrow prover loads for the dev inspector and has the circuit's shape.
    let prover = params::load_escrow_prover(shipped(), 20, key).unwrap();
    assert_eq!(
        prover.num_constraints(),
        escrow::groth::num_constraints(20, &key).unwrap()
    );
}

#[test]
fn shipped_keys_load_and_match_the_manifest() {
    let (verifier, digest) = params::load_verifier(shipped(), 20).unwrap();
    assert_eq!(verifier.depth(), 20);
    assert_eq!(
        digest,
        Manifest::read(shipped()).unwrap().entries["access-d20.vk"]
    );
    params::load_prover(shipped(), 20).unwrap();
}

/// The uncompressed proving key (loaded without point checks, under its manifest digest) is
/// the same key as the compressed one loaded with every point checked; a modified raw file is
/// refused by its digest; without a manifest entry for it, the checked path is taken.
#[test]
fn the_raw_proving_key_is_the_checked_one_and_pinned_by_its_digest() {
    let raw = groth::load_proving_key(shipped(), 20).unwrap();
    let checked = groth::load_proving_key_checked(shipped(), 20).unwrap();
    assert!(raw == checked, "the raw key differs from the checked key");

    let dir = tempfile::tempdir().unwrap();
    copy_params(dir.path());
    let file = dir.path().join("access-d20.pk.raw");
    let mut bytes = fs::read(&file).unwrap();
    bytes[5000] ^= 1;
    fs::write(&file, &bytes).unwrap();
    let err = groth::load_proving_key(dir.path(), 20).unwrap_err();
    assert!(matches!(err, ParamsError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains("access-d20.pk.raw"), "{err}");

    let mut manifest = Manifest::read(dir.path()).unwrap();
    manifest.entries.remove("access-d20.pk.raw");
    manifest.write(dir.path()).unwrap();
    assert!(groth::load_proving_key(dir.path(), 20).unwrap() == checked);
}

#[test]
fn a_modified_key_file_is_refused_by_digest() {
    let dir = tempfile::tempdir().unwrap();
    copy_params(dir.path());
    let vk = dir.path().join("access-d20.vk");
    let mut bytes = fs::read(&vk).unwrap();
    bytes[100] ^= 1;
    fs::write(&vk, &bytes).unwrap();
    let err = params::load_verifier(dir.path(), 20).err().unwrap();
    assert!(matches!(err, ParamsError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains("access-d20.vk"), "{err}");
}

#[test]
fn a_key_with_an_invalid_point_is_refused_even_with_a_matching_digest() {
    let dir = tempfile::tempdir().unwrap();
    copy_params(dir.path());
    let vk = dir.path().join("access-d20.vk");
    let mut bytes = fs::read(&vk).unwrap();
    // alpha_g1 is the first point: make its x-coordinate garbage.
    bytes[1..48].fill(0x33);
    fs::write(&vk, &bytes).unwrap();
    let mut manifest = Manifest::read(dir.path()).unwrap();
    manifest
        .entries
        .insert("access-d20.vk".into(), groth::sha256_file(&vk).unwrap());
    manifest.write(dir.path()).unwrap();
    let err = params::load_verifier(dir.path(), 20).err().unwrap();
    assert!(matches!(err, ParamsError::InvalidKey { .. }), "{err}");
    // Truncated keys too.
    fs::write(&vk, &bytes[..200]).unwrap();
    manifest
        .entries
        .insert("access-d20.vk".into(), groth::sha256_file(&vk).unwrap());
    manifest.write(dir.path()).unwrap();
    assert!(matches!(
        params::load_verifier(dir.path(), 20),
        Err(ParamsError::InvalidKey { .. })
    ));
}

#[test]
fn a_missing_key_names_the_manifest_entry() {
    let dir = tempfile::tempdir().unwrap();
    copy_params(dir.path());
    let err = params::load_verifier(dir.path(), 16).err().unwrap();
    assert!(matches!(err, ParamsError::NotInManifest { .. }), "{err}");
    assert!(err.to_string().contains("access-d16.vk"));
}
