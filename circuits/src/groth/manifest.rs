//! The parameter manifest: `SHA256SUMS` in `sha256sum` format, one line per key file.
//!
//! A node records these digests in its genesis; loading a key whose bytes do not hash to the
//! manifest entry fails with an error naming the file, before any deserialization.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// File name of the manifest inside a parameter directory.
pub const MANIFEST_FILE: &str = "SHA256SUMS";

/// Why parameters could not be written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// A file could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The manifest is malformed.
    #[error("{path}, line {line}: expected '<64 hex digits>  <file name>'")]
    BadManifest {
        /// The manifest file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The manifest has no entry for a key file.
    #[error("{manifest} has no entry for {file}")]
    NotInManifest {
        /// The manifest file.
        manifest: PathBuf,
        /// The key file name.
        file: String,
    },
    /// A key file's digest differs from its manifest entry (or from the genesis digest).
    #[error("{file}: SHA-256 is {actual}, but the manifest says {expected}; refusing the key")]
    DigestMismatch {
        /// The key file.
        file: PathBuf,
        /// Expected digest (hex).
        expected: String,
        /// Actual digest (hex).
        actual: String,
    },
    /// The key file's bytes are not a valid key (bad encoding, point off the curve or outside
    /// the prime-order subgroup, trailing bytes).
    #[error("{file}: not a valid Groth16 key: {reason}")]
    InvalidKey {
        /// The key file.
        file: PathBuf,
        /// What the deserializer said.
        reason: String,
    },
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Setup(String),
    /// The prover could not be made for a loaded key.
    #[error("preparing the prover: {0}")]
    Prover(#[from] super::ProveError),
    /// The depth is not a registry depth (even, 2 to 32).
    #[error(transparent)]
    Depth(#[from] crate::registry::RegistryError),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ParamsError + '_ {
    move |cause| ParamsError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// SHA-256 of a file's bytes.
pub fn sha256_file(path: &Path) -> Result<[u8; 32], ParamsError> {
    let bytes = fs::read(path).map_err(io_err(path))?;
    Ok(Sha256::digest(&bytes).into())
}

/// Parsed `SHA256SUMS`: file name → digest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Digests by file name.
    pub entries: BTreeMap<String, [u8; 32]>,
}

impl Manifest {
    /// Reads `dir/SHA256SUMS`; a missing file is an empty manifest.
    pub fn read(dir: &Path) -> Result<Manifest, ParamsError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mut entries = BTreeMap::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = || ParamsError::BadManifest {
                path: path.clone(),
                line: i + 1,
            };
            let (digest, name) = line.split_once("  ").ok_or_else(bad)?;
            let bytes = hex::decode(digest).map_err(|_| bad())?;
            let digest: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
            if name.is_empty() || name.contains('/') {
                return Err(bad());
            }
            entries.insert(name.to_string(), digest);
        }
        Ok(Manifest { entries })
    }

    /// Writes `dir/SHA256SUMS` atomically (temporary file, then rename).
    pub fn write(&self, dir: &Path) -> Result<(), ParamsError> {
        let text: String = self
            .entries
            .iter()
            .map(|(name, d)| format!("{}  {}\n", hex::encode(d), name))
            .collect();
        write_atomic(&dir.join(MANIFEST_FILE), text.as_bytes())
    }

    /// Reads `dir/file`, checks its digest against the manifest, and returns its bytes.
    pub fn read_checked(&self, dir: &Path, file: &str) -> Result<Vec<u8>, ParamsError> {
        let expected = self
            .entries
            .get(file)
            .ok_or_else(|| ParamsError::NotInManifest {
                manifest: dir.join(MANIFEST_FILE),
                file: file.to_string(),
            })?;
        let path = dir.join(file);
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let actual: [u8; 32] = Sha256::digest(&bytes).into();
        if &actual != expected {
            return Err(ParamsError::DigestMismatch {
                file: path,
                expected: hex::encode(expected),
                actual: hex::encode(actual),
            });
        }
        Ok(bytes)
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ParamsError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_mismatch() {
        let dir = std::env::temp_dir().join(format!("consentry-manifest-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.vk"), b"key bytes").unwrap();
        let mut m = Manifest::default();
        m.entries
            .insert("a.vk".into(), sha256_file(&dir.join("a.vk")).unwrap());
        m.write(&dir).unwrap();
        let read = Manifest::read(&dir).unwrap();
        assert_eq!(read, m);
        assert_eq!(read.read_checked(&dir, "a.vk").unwrap(), b"key bytes");
        fs::write(dir.join("a.vk"), b"key bytez").unwrap();
        let err = read.read_checked(&dir, "a.vk").unwrap_err();
        assert!(matches!(err, ParamsError::DigestMismatch { .. }), "{err}");
        assert!(err.to_string().contains("a.vk"));
        assert!(matches!(
            read.read_checked(&dir, "b.vk"),
            Err(ParamsError::NotInManifest { .. })
        ));
        fs::write(dir.join(MANIFEST_FILE), "nothex  a.vk\n").unwrap();
        assert!(matches!(
            Manifest::read(&dir),
            Err(ParamsError::BadManifest { line: 1, .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
