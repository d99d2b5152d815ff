//! Key material of validators and issuers (Ed25519) and patients (sr25519, one key per
//! stream), with key files that hold secrets (mode 0600, never printed; the file's text and
//! the decoded secret are wiped from memory once the key is built).

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::files::{self, FileError};

/// A key file: its kind (its use), secret and public key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    kind: String,
    /// Hex of the secret; wiped on drop, also when a later field fails to parse.
    secret: Zeroizing<String>,
    public: String,
}

fn write_key(path: &Path, kind: &str, secret: &[u8; 32], public: &[u8]) -> Result<(), FileError> {
    if path.exists() {
        return Err(FileError::Exists(path.to_path_buf()));
    }
    let file = KeyFile {
        kind: kind.into(),
        secret: files::secret_to_hex(secret, ""),
        public: hex::encode(public),
    };
    files::write_atomic(path, &files::secret_json(&file), 0o600)
}

/// The secret of the key file at `path`, which must be a `kind` key. The file's text and the
/// decoded secret are wiped when dropped.
fn read_key(path: &Path, kind: &str) -> Result<Zeroizing<[u8; 32]>, FileError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|cause| FileError::Io {
            path: path.to_path_buf(),
            cause,
        })?,
    );
    let bad = |reason: &str| FileError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let file: KeyFile = serde_json::from_str(&text).map_err(|_| bad("not a key file"))?;
    if file.kind != kind {
        return Err(bad(&format!(
            "a key of kind {:?}, expected kind {kind:?}",
            file.kind
        )));
    }
    files::secret_from_hex(&file.secret).map_err(|e| bad(&format!("secret: {e}")))
}

/// Writes a new 32-byte symmetric key of `kind` to `path` (mode 0600, never over an existing
/// file), with `public` (e.g. a key-check digest) beside it.
pub fn write_symmetric(
    path: &Path,
    kind: &str,
    secret: &[u8; 32],
    public: &[u8],
) -> Result<(), FileError> {
    write_key(path, kind, secret, public)
}

/// The 32-byte secret of a `kind` key file written by [`write_symmetric`].
pub fn read_symmetric(path: &Path, kind: &str) -> Result<Zeroizing<[u8; 32]>, FileError> {
    read_key(path, kind)
}

/// Writes a new Ed25519 key (validator or issuer) to `path`; `kind` names its use.
pub fn write_ed25519(path: &Path, kind: &str, key: &SigningKey) -> Result<(), FileError> {
    write_key(path, kind, key.as_bytes(), key.verifying_key().as_bytes())
}

/// Reads an Ed25519 key written by [`write_ed25519`] with the same `kind`.
pub fn read_ed25519(path: &Path, kind: &str) -> Result<SigningKey, FileError> {
    Ok(SigningKey::from_bytes(&*read_key(path, kind)?))
}

/// Writes a new patient stream key (sr25519 mini secret) to `path`.
pub fn write_patient(path: &Path, key: &schnorrkel::MiniSecretKey) -> Result<(), FileError> {
    let public = key
        .expand_to_keypair(schnorrkel::ExpansionMode::Ed25519)
        .public
        .to_bytes();
    write_key(path, "patient-stream", key.as_bytes(), &public)
}

/// Reads a patient stream key.
pub fn read_patient(path: &Path) -> Result<schnorrkel::Keypair, FileError> {
    let secret = read_key(path, "patient-stream")?;
    let mini = schnorrkel::MiniSecretKey::from_bytes(&*secret).map_err(|_| FileError::Format {
        path: path.to_path_buf(),
        reason: "a patient secret is 32 bytes".into(),
    })?;
    Ok(mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519))
}

/// Writes a new inspector key (a Jubjub scalar, [`consentry_circuits::escrow`]) to `path`.
pub fn write_inspector(
    path: &Path,
    key: &consentry_circuits::escrow::InspectorSecret,
) -> Result<(), FileError> {
    write_key(
        path,
        "inspector",
        &Zeroizing::new(key.to_bytes()),
        &key.public().to_bytes(),
    )
}

/// The inspector's Ed25519 key, which signs its [`crate::ledger::Opening`]s: derived from the
/// inspector's Jubjub secret by a tagged SHA-256 (`consentry/v1/inspector-signing-key`), so
/// one key file holds both, and knowing the signing key says nothing about the escrow secret.
pub fn inspector_signing_key(secret: &consentry_circuits::escrow::InspectorSecret) -> SigningKey {
    let seed = Zeroizing::new(consentry_circuits::field::sha256_tagged(
        b"consentry/v1/inspector-signing-key",
        &Zeroizing::new(secret.to_bytes())[..],
    ));
    SigningKey::from_bytes(&seed)
}

/// Reads an inspector key; a scalar that is not canonical is a format error naming the file.
pub fn read_inspector(
    path: &Path,
) -> Result<consentry_circuits::escrow::InspectorSecret, FileError> {
    let secret = read_key(path, "inspector")?;
    consentry_circuits::escrow::InspectorSecret::from_bytes(&secret).ok_or_else(|| {
        FileError::Format {
            path: path.to_path_buf(),
            reason: "an inspector secret is a canonical Jubjub scalar".into(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn keys_round_trip_with_their_kind_only() {
        let tmp = tempfile::tempdir().unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let issuer = SigningKey::generate(&mut rng);
        let path = tmp.path().join("issuer.key");
        write_ed25519(&path, "issuer", &issuer).unwrap();
        assert_eq!(
            read_ed25519(&path, "issuer").unwrap().to_bytes(),
            issuer.to_bytes()
        );
        let err = read_ed25519(&path, "validator").unwrap_err().to_string();
        assert!(
            err.contains(r#"a key of kind "issuer", expected kind "validator""#),
            "{err}"
        );
        assert!(matches!(
            write_ed25519(&path, "issuer", &issuer),
            Err(FileError::Exists(_))
        ));

        let patient = schnorrkel::MiniSecretKey::generate_with(&mut rng);
        let path = tmp.path().join("stream.key");
        write_patient(&path, &patient).unwrap();
        let expected = patient.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
        assert_eq!(read_patient(&path).unwrap().public, expected.public);
    }

    /// An inspector key round-trips; a secret that is not a canonical Jubjub scalar is
    /// refused, naming the file and not the secret.
    #[test]
    fn inspector_keys_round_trip_and_refuse_non_canonical_scalars() {
        use consentry_circuits::escrow::InspectorSecret;
        let tmp = tempfile::tempdir().unwrap();
        let key = InspectorSecret::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(5));
        let path = tmp.path().join("inspector.key");
        write_inspector(&path, &key).unwrap();
        assert_eq!(read_inspector(&path).unwrap().public(), key.public());
        assert!(matches!(
            write_inspector(&path, &key),
            Err(FileError::Exists(_))
        ));
        let text = std::fs::read_to_string(&path).unwrap();
        let secret = hex::encode(key.to_bytes());
        std::fs::write(&path, text.replace(&secret, &"ff".repeat(32))).unwrap();
        let err = read_inspector(&path).unwrap_err().to_string();
        assert!(err.contains("canonical Jubjub scalar"), "{err}");
        assert!(!err.contains("ffff"), "{err}");
        // Another kind of key is not an inspector key.
        let issuer = tmp.path().join("issuer.key");
        write_ed25519(&issuer, "issuer", &SigningKey::from_bytes(&[9; 32])).unwrap();
        assert!(read_inspector(&issuer).is_err());
    }

    /// A damaged secret is refused with an error that quotes none of it.
    #[test]
    fn damaged_secrets_are_refused_without_echoing_them() {
        let tmp = tempfile::tempdir().unwrap();
        let key = SigningKey::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(4));
        let path = tmp.path().join("v.key");
        write_ed25519(&path, "validator", &key).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let secret = hex::encode(key.to_bytes());
        for (i, bad) in [
            text.replace(&secret, &secret[..62]),
            text.replace(&secret, &format!("{}zz", &secret[..62])),
            text.replace(&secret, &format!("{secret}00")),
            text[..text.len() / 2].to_string(),
        ]
        .iter()
        .enumerate()
        {
            let file = tmp.path().join(format!("bad{i}.key"));
            std::fs::write(&file, bad).unwrap();
            let err = read_ed25519(&file, "validator").unwrap_err().to_string();
            let expected = [
                "secret: expected 64 hex digits, got 62 bytes",
                "secret: a character that is not a hex digit at position 62",
                "secret: expected 64 hex digits, got 66 bytes",
                "not a key file",
            ];
            assert!(err.contains(expected[i]), "case {i}: {err}");
            assert!(
                !err.contains(&secret[..16]),
                "case {i} echoes the secret: {err}"
            );
        }
    }
}
