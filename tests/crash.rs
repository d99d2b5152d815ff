//! Crash safety: a node process commits blocks while it is SIGKILLed at random moments; after
//! each kill the store reopens, no committed block is lost, no block is half-written, and
//! `verify-chain` passes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use consentry::ledger::{read_genesis, read_height, verify_chain, Ledger};
use consentry::params;
use consentry::store::RocksStore;
use rand::Rng;

fn params_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/params"))
}

/// Starts the writer, lets it commit for a random while, kills it, and returns the last
/// height it reported as committed.
fn run_and_kill(data: &Path, millis: u64) -> Option<u64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["dev-write-blocks", "--data"])
        .arg(data)
        .env("CONSENTRY_PARAMS", params_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the writer");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(h) = line.strip_prefix("committed ") {
                let _ = tx.send(h.parse::<u64>().unwrap());
            }
        }
    });
    // Wait for the first commit of this run, then a random time more.
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the writer commits");
    std::thread::sleep(Duration::from_millis(millis));
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    reader.join().unwrap();
    Some(rx.try_iter().last().unwrap_or(first))
}

#[test]
fn sigkill_at_random_moments_loses_and_corrupts_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let mut rng = rand::thread_rng();
    let mut last_height = 0;
    for round in 0..5 {
        let reported = run_and_kill(data, rng.gen_range(20..600)).unwrap();
        let store = RocksStore::open(&data.join("db")).unwrap();
        let height = read_height(&store).unwrap().unwrap();
        assert!(
            height >= reported,
            "round {round}: committed block {reported} lost (store at {height})"
        );
        assert!(height > last_height, "round {round}: no progress");
        last_height = height;
        let genesis = read_genesis(&store).unwrap();
        let keys = params::load_genesis_keys(params_dir(), &genesis).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let summary = verify_chain(&store, scratch.path(), &keys).unwrap();
        assert_eq!(summary.blocks, height + 1);
        // The ledger reopens on it (registry rebuilt and consistent with the tip).
        drop(Ledger::open(store, keys).unwrap());
    }
}

#[test]
fn verify_chain_command_passes_and_names_a_tampered_height() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(args)
            .arg("--data")
            .arg(data)
            .env("CONSENTRY_PARAMS", params_dir())
            .output()
            .unwrap()
    };
    let out = run(&["dev-write-blocks", "--blocks", "4", "--per-block", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["verify-chain"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("ok: 5 blocks, 13 transactions"),
        "{stdout}"
    );

    {
        use consentry::store::{Batch, Column, Store};
        let store = RocksStore::open(&data.join("db")).unwrap();
        let key = 2u64.to_be_bytes();
        let mut bytes = store.get(Column::Blocks, &key).unwrap().unwrap();
        bytes[30] ^= 0x80;
        let mut batch = Batch::default();
        batch.put(Column::Blocks, key.to_vec(), bytes);
        store.commit(batch).unwrap();
    }
    let out = run(&["verify-chain"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("at height 2"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let missing = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["verify-chain", "--data"])
        .arg(missing.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no chain"));
}
