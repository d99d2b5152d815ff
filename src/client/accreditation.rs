//! An issuer's own records of whom it accredited: one JSON line per issued credential (the
//! institution's id, the name it was accredited under, the leaf, the transaction), kept
//! beside the issuer's key and never sent anywhere. The ledger holds only the leaf; this file
//! is what lets the issuer answer an inspector who opened an access's escrow and found an id
//! (`consentry issuer whois`).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// One issued credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accreditation {
    /// The institution's public id (0x-prefixed field element, as `identity new` prints it).
    pub id: String,
    /// The name the institution was accredited under, if the issuer gave one.
    pub name: Option<String>,
    /// The issuer's id.
    pub issuer_id: u32,
    /// The leaf's index in the issuer's registry.
    pub leaf_index: u64,
    /// The `IssueCredential` transaction.
    pub tx: String,
    /// Its block.
    pub height: u64,
}

/// The records file of an issuer key when none is named: `issuer.key` →
/// `issuer.records.jsonl`, beside it.
pub fn default_path(key: &Path) -> PathBuf {
    key.with_extension("records.jsonl")
}

/// Appends `record` and syncs it to disk before returning: a credential on the chain whose
/// record was lost would leave an id the issuer cannot name.
pub fn append(path: &Path, record: &Accreditation) -> anyhow::Result<()> {
    // Who holds which id is the issuer's own knowledge: readable by the issuer alone.
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts
        .open(path)
        .with_context(|| path.display().to_string())?;
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    file.write_all(&line)
        .and_then(|_| file.sync_all())
        .with_context(|| path.display().to_string())
}

/// Every record of `id` (an id accredited twice has two), naming the file and line of a
/// malformed record.
pub fn find(path: &Path, id: &str) -> anyhow::Result<Vec<Accreditation>> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "{}: no records (they are written by `issuer issue` with this key)",
            path.display()
        )
    })?;
    let mut found = vec![];
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| path.display().to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Accreditation = serde_json::from_str(&line)
            .with_context(|| format!("{}, line {}: not a record", path.display(), i + 1))?;
        if record.id == id {
            found.push(record);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, index: u64) -> Accreditation {
        Accreditation {
            id: id.into(),
            name: Some(format!("Institution {index}")),
            issuer_id: 1,
            leaf_index: index,
            tx: "ab".repeat(32),
            height: index + 1,
        }
    }

    /// Records append and are found by id (all of them); a malformed line is named.
    #[test]
    fn records_append_and_are_found_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_path(&dir.path().join("issuer.key"));
        assert!(path.ends_with("issuer.records.jsonl"));
        assert!(find(&path, "0x1").is_err(), "no file yet");
        append(&path, &record("0x1", 0)).unwrap();
        append(&path, &record("0x2", 1)).unwrap();
        append(&path, &record("0x1", 2)).unwrap();
        assert_eq!(
            find(&path, "0x1").unwrap(),
            [record("0x1", 0), record("0x1", 2)]
        );
        assert_eq!(find(&path, "0x3").unwrap(), []);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":\n")
            .unwrap();
        let err = format!("{:#}", find(&path, "0x1").unwrap_err());
        assert!(err.contains("line 4"), "{err}");
    }
}
