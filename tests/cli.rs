//! The `consentry` binary as a user runs it: setup, identity, leaves, prove, verify, and a clear
//! one-line error (never a panic) for each kind of bad input.

use std::path::Path;
use std::process::{Command, Output};

fn consentry(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(args)
        .current_dir(dir)
        .env(
            "CONSENTRY_PARAMS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/params"),
        )
        .output()
        .expect("run consentry")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = consentry(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail; returns its stderr after checking it is a clean error.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = consentry(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(stderr.starts_with("error"), "{args:?}: {stderr}");
    stderr
}

const ATTRS: [&str; 10] = [
    "--role",
    "hospital",
    "--level",
    "3",
    "--jurisdiction",
    "756",
    "--expiry-day",
    "30000",
    "--issuer-id",
    "1",
];

fn prove_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["prove", "--identity", "inst.id", "--leaves", "leaves.json"];
    v.extend(ATTRS);
    v.extend(extra);
    v
}

#[test]
fn the_manual_flow_works_and_bad_inputs_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let id = ok(dir, &["identity", "new", "--out", "inst.id"])
        .trim()
        .to_string();
    assert_eq!(id.len(), 66);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("inst.id"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let secret_file = std::fs::read_to_string(dir.join("inst.id")).unwrap();
    assert_eq!(ok(dir, &["identity", "show", "inst.id"]).trim(), id);
    assert!(fails(dir, &["identity", "new", "--out", "inst.id"]).contains("already exists"));

    let mut add = vec!["leaves", "add", "--file", "leaves.json", "--id", &id];
    add.extend(ATTRS);
    assert!(ok(dir, &add).contains("index 0"));
    let root = ok(dir, &["leaves", "root", "leaves.json"])
        .trim()
        .to_string();

    std::fs::write(dir.join("body.bin"), b"transaction body").unwrap();
    let out = ok(
        dir,
        &prove_args(&[
            "--stream",
            "s-1",
            "--message-file",
            "body.bin",
            "--min-level",
            "2",
            "--today",
            "20000",
            "--out",
            "tok.json",
        ]),
    );
    assert!(out.contains("pseudonym 0x"));
    let token = std::fs::read_to_string(dir.join("tok.json")).unwrap();
    let secret_hex = secret_file.split('"').nth(5).unwrap();
    assert!(
        !token.contains(secret_hex),
        "the token must not contain the secret"
    );

    let verified = ok(dir, &["verify", "tok.json", "--root", &root]);
    assert!(verified.starts_with("valid"));
    assert!(verified.contains("role hospital"));

    // Wrong root, tampered public input, truncated file, missing file.
    let other_root = format!("0x{}", "00".repeat(31) + "01");
    assert!(fails(dir, &["verify", "tok.json", "--root", &other_root]).contains("invalid"));
    std::fs::write(
        dir.join("tampered.json"),
        token.replace("\"min_level\": 2", "\"min_level\": 1"),
    )
    .unwrap();
    assert!(fails(dir, &["verify", "tampered.json"]).contains("does not verify"));
    std::fs::write(dir.join("trunc.json"), &token[..token.len() / 2]).unwrap();
    assert!(fails(dir, &["verify", "trunc.json"]).contains("trunc.json"));
    assert!(fails(dir, &["verify", "missing.json"]).contains("missing.json"));

    // Statement failures are named before any proving.
    assert!(fails(
        dir,
        &prove_args(&[
            "--stream",
            "s",
            "--message-file",
            "body.bin",
            "--min-level",
            "4",
            "--out",
            "x.json"
        ])
    )
    .contains("level"));
    assert!(fails(
        dir,
        &prove_args(&[
            "--stream",
            "s",
            "--message-file",
            "body.bin",
            "--today",
            "30001",
            "--out",
            "x.json"
        ])
    )
    .contains("expired"));
    // Bad hex and wrong lengths.
    assert!(fails(
        dir,
        &prove_args(&["--stream", "s", "--message", "0x12", "--out", "x.json"])
    )
    .contains("64 hex digits"));
    assert!(fails(dir, &["setup", "--out", "p", "--seed", "abcd"]).contains("32 bytes"));
    assert!(fails(dir, &["setup", "--out", "p", "--depth", "0"]).contains("depth"));

    // Revocation: the credential can no longer prove.
    ok(
        dir,
        &["leaves", "revoke", "--file", "leaves.json", "--index", "0"],
    );
    assert!(fails(
        dir,
        &prove_args(&[
            "--stream",
            "s",
            "--message-file",
            "body.bin",
            "--out",
            "x.json"
        ])
    )
    .contains("no live leaf"));

    // An identity file whose id does not match its secret is refused without echoing it.
    std::fs::write(
        dir.join("bad.id"),
        secret_file.replace(&id[10..20], "0000000000"),
    )
    .unwrap();
    let err = fails(dir, &["identity", "show", "bad.id"]);
    assert!(!err.contains(secret_hex));
}

#[test]
fn setup_writes_keys_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(
        tmp.path(),
        &["setup", "--out", "p", "--depth", "4", "--random"],
    );
    assert_eq!(out.lines().count(), 2);
    let manifest = std::fs::read_to_string(tmp.path().join("p/SHA256SUMS")).unwrap();
    assert!(manifest.contains("access-d4.pk") && manifest.contains("access-d4.vk"));
}
