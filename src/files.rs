//! On-disk formats of the command-line tools: the institution identity file, the registry leaf
//! list, and token files. All are JSON; every reader validates what it reads and names the file
//! in its errors. Writers never leave a half-written file: they write a temporary file and
//! rename it into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use consentry_circuits::credential::{InstitutionId, SecretKey};
use consentry_circuits::token::Token;
use consentry_circuits::{field, Fr};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Version of the identity and leaf-list formats.
pub const FORMAT_VERSION: u32 = 1;

/// A file could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// I/O failure.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// Not valid JSON of the expected shape, or a bad value in it.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Refusing to overwrite a secret.
    #[error("{0} already exists; refusing to overwrite an identity (move it away first)")]
    Exists(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |cause| FileError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

fn format_err(path: &Path, reason: impl ToString) -> FileError {
    FileError::Format {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// A JSON file, parsed; the error names the file and what is wrong.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, FileError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| format_err(path, e))
}

/// [`read_json`] for a file holding a secret: the text is wiped once parsed, and a parse error
/// names its kind and place but no value (serde_json's messages quote the offending value,
/// which could be the secret).
fn read_secret_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, FileError> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io(path))?);
    serde_json::from_str(&text).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "a missing, unknown or invalid field",
            serde_json::error::Category::Eof => "truncated JSON",
        };
        format_err(
            path,
            format!("{kind} at line {} column {}", e.line(), e.column()),
        )
    })
}

/// Writes `bytes` to `path` via a temporary file and a rename, with `mode` on Unix.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// 32 secret bytes as hex after `prefix`, built without an unwiped intermediate (as
/// `hex::encode` and `format!` would leave) in a string wiped on drop.
pub(crate) fn secret_to_hex(bytes: &[u8; 32], prefix: &str) -> Zeroizing<String> {
    let mut digits = Zeroizing::new([0u8; 64]);
    hex::encode_to_slice(bytes, &mut *digits).expect("64 hex digits for 32 bytes");
    let mut s = Zeroizing::new(String::with_capacity(prefix.len() + 64));
    s.push_str(prefix);
    s.push_str(std::str::from_utf8(&*digits).expect("hex digits are ASCII"));
    s
}

/// 32 secret bytes from 64 hex digits (after an optional `0x`), in a buffer wiped on drop.
/// The error says what is wrong and where, quoting none of it (the hex crate's own message
/// quotes the offending character).
pub(crate) fn secret_from_hex(s: &str) -> Result<Zeroizing<[u8; 32]>, String> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() != 64 {
        return Err(format!(
            "expected 64 hex digits, got {} bytes",
            digits.len()
        ));
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits, &mut *bytes).map_err(|e| match e {
        hex::FromHexError::InvalidHexCharacter { index, .. } => {
            format!("a character that is not a hex digit at position {index}")
        }
        _ => "expected 64 hex digits".to_string(),
    })?;
    Ok(bytes)
}

/// Serialises `value` as pretty JSON into a buffer sized up front (a growing one would free
/// unwiped copies) and wiped on drop, for files that hold a secret.
pub(crate) fn secret_json<T: Serialize>(value: &T) -> Zeroizing<Vec<u8>> {
    let mut json = Zeroizing::new(Vec::with_capacity(1024));
    serde_json::to_writer_pretty(&mut *json, value).expect("serializable");
    json
}

/// An institution's identity file: its secret and public id. Mode 0600.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    version: u32,
    /// The secret `sk`, as `0x` and 64 hex digits. Never printed; wiped on drop, also when
    /// a later field of the file fails to parse.
    secret: Zeroizing<String>,
    id: InstitutionId,
}

/// Writes a new identity file (refusing to overwrite one) and returns the public id.
pub fn write_identity(path: &Path, sk: &SecretKey) -> Result<InstitutionId, FileError> {
    if path.exists() {
        return Err(FileError::Exists(path.to_path_buf()));
    }
    let id = sk.id();
    let file = IdentityFile {
        version: FORMAT_VERSION,
        secret: secret_to_hex(&sk.to_bytes(), "0x"),
        id,
    };
    write_atomic(path, &secret_json(&file), 0o600)?;
    Ok(id)
}

/// Reads an identity file, checking that the stored id matches the secret.
pub fn read_identity(path: &Path) -> Result<SecretKey, FileError> {
    let file: IdentityFile = read_secret_json(path)?;
    if file.version != FORMAT_VERSION {
        return Err(format_err(
            path,
            format!("unsupported identity version {}", file.version),
        ));
    }
    let bytes =
        secret_from_hex(&file.secret).map_err(|e| format_err(path, format!("secret: {e}")))?;
    let sk = field::from_bytes(&*bytes)
        .map(SecretKey::from_field)
        .map_err(|e| format_err(path, format!("secret: {e}")))?;
    if sk.id() != file.id {
        return Err(format_err(
            path,
            "the stored id does not match the secret (corrupted file?)",
        ));
    }
    Ok(sk)
}

/// The public registry leaf list, as a client syncs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafList {
    /// Format version.
    pub version: u32,
    /// Registry depth.
    pub depth: usize,
    /// The issuer whose registry tree these leaves are (absent in hand-kept lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<u32>,
    /// Leaves in index order (`0x0…0` for revoked ones).
    pub leaves: Vec<String>,
}

impl LeafList {
    /// An empty list for a registry of `depth`.
    pub fn new(depth: usize) -> Self {
        LeafList {
            version: FORMAT_VERSION,
            depth,
            issuer_id: None,
            leaves: vec![],
        }
    }

    /// Reads a leaf list, validating every leaf.
    pub fn read(path: &Path) -> Result<(LeafList, Vec<Fr>), FileError> {
        let list: LeafList = read_json(path)?;
        if list.version != FORMAT_VERSION {
            return Err(format_err(
                path,
                format!("unsupported leaf-list version {}", list.version),
            ));
        }
        let leaves = list
            .leaves
            .iter()
            .enumerate()
            .map(|(i, l)| {
                field::from_hex(l).map_err(|e| format_err(path, format!("leaf {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((list, leaves))
    }

    /// Writes the list atomically.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let json = serde_json::to_vec_pretty(self).expect("serializable");
        write_atomic(path, &json, 0o644)
    }
}

/// Reads a token file (JSON), validating every point and field element.
pub fn read_token(path: &Path) -> Result<Token, FileError> {
    read_json(path)
}

/// Writes a token file (JSON).
pub fn write_token(path: &Path, token: &Token) -> Result<(), FileError> {
    let json = serde_json::to_vec_pretty(token).expect("serializable");
    write_atomic(path, &json, 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A written identity, the path and the secret's hex as stored.
    fn identity(dir: &Path) -> (PathBuf, SecretKey, String) {
        let sk = SecretKey::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(7));
        let path = dir.join("inst.id");
        write_identity(&path, &sk).unwrap();
        let hex = field::to_hex(&sk.expose());
        (path, sk, hex)
    }

    #[test]
    fn identity_round_trips_and_is_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, sk, _) = identity(tmp.path());
        assert_eq!(read_identity(&path).unwrap(), sk);
        assert!(matches!(
            write_identity(&path, &sk),
            Err(FileError::Exists(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// Every malformed secret is refused with an error that names the problem and quotes no
    /// part of the file's secret field.
    #[test]
    fn malformed_secrets_are_refused_without_echoing_them() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, _, hex) = identity(tmp.path());
        let text = fs::read_to_string(&path).unwrap();
        let digits = &hex[2..];
        let cases = [
            // A non-hex character in place of one digit.
            (
                text.replace(digits, &format!("{}z", &digits[..63])),
                "secret: a character that is not a hex digit at position 63",
            ),
            // Truncated.
            (
                text.replace(digits, &digits[..40]),
                "secret: expected 64 hex digits, got 40 bytes",
            ),
            // Not below the field's modulus.
            (text.replace(digits, &"f".repeat(64)), "secret"),
            // A number instead of a string: serde_json's message would quote it.
            (
                text.replace(&format!("\"{hex}\""), "1234567890123456789"),
                "invalid field",
            ),
            // The file cut off half way.
            (text[..text.len() / 2].to_string(), "truncated JSON"),
        ];
        for (i, (bad, expect)) in cases.iter().enumerate() {
            let file = tmp.path().join(format!("bad{i}.id"));
            fs::write(&file, bad).unwrap();
            let err = read_identity(&file).unwrap_err().to_string();
            assert!(err.contains(expect), "case {i}: {err}");
            assert!(err.contains(&file.display().to_string()), "case {i}: {err}");
            for quoted in [&digits[..16], "1234567890123456", "ffffffffffffffff"] {
                assert!(!err.contains(quoted), "case {i} echoes {quoted}: {err}");
            }
        }
    }
}
