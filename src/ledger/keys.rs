//! Key material of validators and issuers (Ed25519) and patients (sr25519, one key per
//! stream), with key files that hold secrets (mode 0600, never printed).

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::files::{self, FileError};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    kind: String,
    secret: String,
    public: String,
}

fn write_key(path: &Path, kind: &str, secret: &[u8], public: &[u8]) -> Result<(), FileError> {
    if path.exists() {
        return Err(FileError::Exists(path.to_path_buf()));
    }
    let file = KeyFile {
        kind: kind.into(),
        secret: hex::encode(secret),
        public: hex::encode(public),
    };
    files::write_atomic(
        path,
        &serde_json::to_vec_pretty(&file).expect("serializable"),
        0o600,
    )
}

fn read_key(path: &Path, kind: &str) -> Result<Vec<u8>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|cause| FileError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    let bad = |reason: &str| FileError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let file: KeyFile = serde_json::from_str(&text).map_err(|_| bad("not a key file"))?;
    if file.kind != kind {
        return Err(bad(&format!("a {} key, expected a {kind} key", file.kind)));
    }
    hex::decode(&file.secret).map_err(|_| bad("secret is not hex"))
}

/// Writes a new Ed25519 key (validator or issuer) to `path`; `kind` names its use.
pub fn write_ed25519(path: &Path, kind: &str, key: &SigningKey) -> Result<(), FileError> {
    write_key(path, kind, key.as_bytes(), key.verifying_key().as_bytes())
}

/// Reads an Ed25519 key written by [`write_ed25519`] with the same `kind`.
pub fn read_ed25519(path: &Path, kind: &str) -> Result<SigningKey, FileError> {
    let secret = read_key(path, kind)?;
    let bytes: [u8; 32] = secret.try_into().map_err(|_| FileError::Format {
        path: path.to_path_buf(),
        reason: "an Ed25519 secret is 32 bytes".into(),
    })?;
    Ok(SigningKey::from_bytes(&bytes))
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
    let mini = schnorrkel::MiniSecretKey::from_bytes(&secret).map_err(|_| FileError::Format {
        path: path.to_path_buf(),
        reason: "a patient secret is 32 bytes".into(),
    })?;
    Ok(mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519))
}
