//! Structured random mutation of every decoder that takes outside bytes: token (binary and
//! JSON), transaction (Borsh and JSON, the HTTP body), block, verifying and proving key files,
//! identity, leaf-list and key files. Each target starts from real encodings (a real proof,
//! real signatures) and applies seeded mutations that know the formats' soft spots (length
//! prefixes, tags, hex digits, field elements, points); it must never panic, and whatever a
//! decoder accepts must re-encode to the same value (the binary ones: to the same bytes).
//!
//! `cargo test` runs a short, bounded pass (3,000 inputs per target, seconds). The long run is
//! a documented command (README, "Fuzzing"):
//!
//! ```sh
//! CONSENTRY_FUZZ_INPUTS=1000000 cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! which prints the inputs tried and accepted per target. The seed of each target's RNG is
//! `CONSENTRY_FUZZ_SEED` (default fixed, so a failure reproduces); the failing input is
//! printed in hex.

use std::path::Path;
use std::sync::OnceLock;

use consentry::circuits::credential::Role;
use consentry::circuits::groth;
use consentry::circuits::token::Token;
use consentry::files::{self, LeafList};
use consentry::ledger::fixture::{Fixture, NOON_MS};
use consentry::ledger::*;
use consentry::store::RocksStore;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

const DEFAULT_INPUTS: usize = 3_000;

fn inputs() -> usize {
    std::env::var("CONSENTRY_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_INPUTS)
}

fn rng(target: &str) -> ChaCha20Rng {
    let seed: u64 = std::env::var("CONSENTRY_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_202);
    let tag = target
        .bytes()
        .fold(seed, |h, b| h.rotate_left(7) ^ b as u64);
    ChaCha20Rng::seed_from_u64(tag)
}

/// Real encodings to start from: a chain with a share, accesses and a revocation.
struct Seeds {
    txs: Vec<Transaction>,
    blocks: Vec<Block>,
    tokens: Vec<Token>,
    vk: Vec<u8>,
    pk: Vec<u8>,
    dir: tempfile::TempDir,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let params = dir.path().join("params");
        let mut fx = Fixture::new(4, &params, 11);
        let hospital = fx.institution(Role::Hospital, 3);
        let platform = fx.institution(Role::Platform, 1);
        let store = RocksStore::open(&dir.path().join("db")).unwrap();
        let mut ledger = Ledger::create(store, fx.genesis(300), fx.keys(), &fx.validator).unwrap();
        let issue = vec![fx.issue(hospital.leaf()), fx.issue(platform.leaf())];
        let (b1, _) = ledger
            .propose(issue.clone(), NOON_MS, &fx.validator)
            .unwrap();
        let tree = ledger.registry(1).unwrap().clone();
        let patient = fx.patient_key();
        let share = fx.consent(
            &platform,
            &patient,
            &tree,
            "s",
            Fixture::policy(&[Role::Hospital], 1),
            20_400,
        );
        let sid = Fixture::stream_id(&patient, "s");
        let access = fx.access(&hospital, &tree, &sid, 1, 20_400, 7);
        let withdraw = fx.withdraw(&patient, "s", 1);
        let (b2, rejected) = ledger
            .propose(
                vec![share.clone(), access.clone()],
                NOON_MS + 1000,
                &fx.validator,
            )
            .unwrap();
        assert!(rejected.is_empty(), "{rejected:?}");
        let mut txs = issue;
        txs.extend([share, access.clone(), withdraw, fx.revoke(0)]);
        let claim = access.body.claim().unwrap();
        let token = Token {
            depth: claim.depth,
            proof: consentry::circuits::token::proof_from_bytes(&access.auth.proof).unwrap(),
            public: consentry::circuits::access::PublicInputs {
                root: consentry::circuits::field::from_bytes(&claim.root.0).unwrap(),
                scope: consentry::circuits::field::from_bytes(&claim.scope.0).unwrap(),
                pseudonym: consentry::circuits::field::from_bytes(&claim.pseudonym.0).unwrap(),
                message: access.body.message(consentry::ledger::fixture::CHAIN_ID),
                role: claim.role,
                issuer_id: claim.issuer_id,
                min_level: claim.min_level,
                today: claim.today,
            },
            escrow: None,
        };
        let vk = std::fs::read(params.join(groth::vk_file_name(4))).unwrap();
        // A proving key small enough to decode thousands of times: depth 2.
        let (pk2, vk2) = groth::setup_from_seed(2, [3; 32]).unwrap();
        let small = dir.path().join("small");
        groth::write_keys(&small, 2, &pk2, &vk2).unwrap();
        let pk = std::fs::read(small.join(groth::pk_file_name(2))).unwrap();
        Seeds {
            txs,
            blocks: vec![b1, b2],
            tokens: vec![token],
            vk,
            pk,
            dir,
        }
    })
}

/// One mutation of `data`, chosen among the ones that break formats in interesting ways.
fn mutate(rng: &mut ChaCha20Rng, data: &mut Vec<u8>, others: &[Vec<u8>]) {
    const INTERESTING: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, b'"', b'0', b'f'];
    let n = data.len();
    match rng.gen_range(0..11) {
        0 if n > 0 => {
            let i = rng.gen_range(0..n);
            data[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if n > 0 => {
            let i = rng.gen_range(0..n);
            data[i] = rng.gen();
        }
        2 if n > 0 => {
            let i = rng.gen_range(0..n);
            data[i] = INTERESTING[rng.gen_range(0..INTERESTING.len())];
        }
        3 => {
            let i = rng.gen_range(0..=n);
            let len = rng.gen_range(1..9);
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            data.splice(i..i, bytes);
        }
        4 if n > 0 => {
            let i = rng.gen_range(0..n);
            let j = (i + rng.gen_range(1..33)).min(n);
            data.drain(i..j);
        }
        5 => data.truncate(rng.gen_range(0..=n)),
        6 if n >= 4 => {
            // A length prefix or integer: a little-endian u32 set to an edge value.
            let i = rng.gen_range(0..n - 3);
            let v: u32 = [0, 1, 63, 64, 65, 0x7fff_ffff, u32::MAX][rng.gen_range(0..7)];
            data[i..i + 4].copy_from_slice(&v.to_le_bytes());
        }
        7 if n > 0 => {
            // Duplicate a slice (repeated fields, longer lists).
            let i = rng.gen_range(0..n);
            let j = (i + rng.gen_range(1..65)).min(n);
            let chunk = data[i..j].to_vec();
            let at = rng.gen_range(0..=n);
            data.splice(at..at, chunk);
        }
        8 if !others.is_empty() => {
            // Splice the tail of another seed.
            let other = &others[rng.gen_range(0..others.len())];
            let i = rng.gen_range(0..=n);
            let j = rng.gen_range(0..=other.len());
            data.truncate(i);
            data.extend_from_slice(&other[j..]);
        }
        9 if n > 0 => {
            // A hex digit turned into another (JSON forms) or a 32-byte run set to 0xff
            // (a non-canonical field element, a point off the curve).
            let i = rng.gen_range(0..n);
            if data[i].is_ascii_hexdigit() {
                data[i] = b"0123456789abcdefABCDEFxz"[rng.gen_range(0..24)];
            } else {
                let j = (i + 32).min(n);
                data[i..j].fill(0xff);
            }
        }
        _ => {
            let i = rng.gen_range(0..=n);
            data.insert(i, INTERESTING[rng.gen_range(0..INTERESTING.len())]);
        }
    }
}

/// Runs `check` on `inputs()` mutants of the seeds (1 to 4 mutations each), reporting the
/// input of any panic; returns (tried, accepted).
fn fuzz(target: &str, seeds: &[Vec<u8>], count: usize, check: impl Fn(&[u8]) -> bool) {
    let mut rng = rng(target);
    let mut accepted = 0usize;
    for case in 0..count {
        let mut data = seeds[case % seeds.len()].clone();
        for _ in 0..rng.gen_range(1..5) {
            mutate(&mut rng, &mut data, seeds);
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data))) {
            Ok(ok) => accepted += ok as usize,
            Err(_) => panic!(
                "{target}: input {case} panicked; input (hex): {}",
                hex::encode(&data)
            ),
        }
    }
    // The seeds themselves must decode: a target that accepts nothing tests nothing.
    for s in seeds {
        assert!(check(s), "{target}: a seed does not decode");
    }
    println!("fuzz {target}: {count} inputs, {accepted} accepted, 0 panics");
}

#[test]
fn fuzz_token_binary() {
    let seeds: Vec<Vec<u8>> = seeds().tokens.iter().map(|t| t.to_bytes()).collect();
    fuzz(
        "token_binary",
        &seeds,
        inputs(),
        |data| match Token::from_bytes(data) {
            Ok(t) => {
                assert_eq!(t.to_bytes(), data, "accepted but not canonical");
                true
            }
            Err(_) => false,
        },
    );
}

#[test]
fn fuzz_token_json() {
    let seeds: Vec<Vec<u8>> = seeds()
        .tokens
        .iter()
        .map(|t| serde_json::to_vec(t).unwrap())
        .collect();
    fuzz(
        "token_json",
        &seeds,
        inputs(),
        |data| match serde_json::from_slice::<Token>(data) {
            Ok(t) => {
                let again: Token =
                    serde_json::from_slice(&serde_json::to_vec(&t).unwrap()).unwrap();
                assert_eq!(again.to_bytes(), t.to_bytes());
                true
            }
            Err(_) => false,
        },
    );
}

#[test]
fn fuzz_transaction_borsh() {
    let seeds: Vec<Vec<u8>> = seeds().txs.iter().map(|t| t.to_bytes()).collect();
    fuzz(
        "transaction_borsh",
        &seeds,
        inputs(),
        |data| match Transaction::from_bytes(data) {
            Ok(tx) => {
                assert_eq!(tx.to_bytes(), data, "accepted but not canonical");
                assert_eq!(tx.encoded_len(), data.len());
                let _ = (tx.id(), tx.body.kind(), tx.body.claim());
                true
            }
            Err(_) => false,
        },
    );
}

/// The body of `POST /v1/transactions` and `POST /v1/credentials`.
#[test]
fn fuzz_transaction_json() {
    let seeds: Vec<Vec<u8>> = seeds()
        .txs
        .iter()
        .map(|t| serde_json::to_vec(t).unwrap())
        .collect();
    fuzz(
        "transaction_json",
        &seeds,
        inputs(),
        |data| match serde_json::from_slice::<Transaction>(data) {
            Ok(tx) => {
                let json = serde_json::to_vec(&tx).unwrap();
                assert_eq!(serde_json::from_slice::<Transaction>(&json).unwrap(), tx);
                let _ = Transaction::from_bytes(&tx.to_bytes());
                true
            }
            Err(_) => false,
        },
    );
}

#[test]
fn fuzz_block() {
    let seeds: Vec<Vec<u8>> = seeds().blocks.iter().map(|b| b.to_bytes()).collect();
    fuzz("block", &seeds, inputs(), |data| {
        match Block::from_bytes(data) {
            Ok(b) => {
                assert_eq!(b.to_bytes(), data, "accepted but not canonical");
                let _ = b.header.hash();
                true
            }
            Err(_) => false,
        }
    });
}

#[test]
fn fuzz_verifying_key_file() {
    let seeds = vec![seeds().vk.clone()];
    fuzz("verifying_key", &seeds, inputs(), |data| {
        match groth::decode_verifying_key("access-d4.vk", data) {
            Ok(vk) => {
                // A key of another shape is refused when prepared, never used half-checked.
                let _ = groth::Verifier::new(4, &vk);
                true
            }
            Err(_) => false,
        }
    });
}

/// Proving keys are large (a decode checks thousands of points, about 0.14 s for this depth-2
/// key), so this target runs a thousandth of the inputs of the others, at least 20. A proving
/// key's file digest is checked against the manifest before any of its bytes is decoded.
#[test]
fn fuzz_proving_key_file() {
    let seeds = vec![seeds().pk.clone()];
    fuzz("proving_key", &seeds, (inputs() / 1000).max(20), |data| {
        groth::decode_proving_key("access-d2.pk", data).is_ok()
    });
}

/// Whether a file reader accepts the file at a path.
type FileCheck = fn(&Path) -> bool;

/// Identity, leaf-list and key files, through the readers the CLI uses (a file per input).
#[test]
fn fuzz_local_files() {
    let dir = &seeds().dir;
    let path = |name: &str| dir.path().join(name);
    let sk = consentry::circuits::credential::SecretKey::random(&mut ChaCha20Rng::seed_from_u64(1));
    files::write_identity(&path("seed.id"), &sk).unwrap();
    let mut list = LeafList::new(4);
    list.issuer_id = Some(1);
    list.leaves = vec![consentry::circuits::field::to_hex(&sk.id().0); 3];
    list.write(&path("seed.leaves")).unwrap();
    let ed = ed25519_dalek::SigningKey::generate(&mut ChaCha20Rng::seed_from_u64(2));
    keys::write_ed25519(&path("seed.key"), "issuer", &ed).unwrap();
    let mini = schnorrkel::MiniSecretKey::generate_with(ChaCha20Rng::seed_from_u64(3));
    keys::write_patient(&path("seed.patient"), &mini).unwrap();
    let read = |name: &str| std::fs::read(path(name)).unwrap();
    let targets: [(&str, FileCheck); 4] = [
        ("identity_file", |p| files::read_identity(p).is_ok()),
        ("leaf_list", |p| LeafList::read(p).is_ok()),
        ("ed25519_key_file", |p| {
            keys::read_ed25519(p, "issuer").is_ok()
        }),
        ("patient_key_file", |p| keys::read_patient(p).is_ok()),
    ];
    for ((name, check), seed) in
        targets
            .into_iter()
            .zip(["seed.id", "seed.leaves", "seed.key", "seed.patient"])
    {
        let target = path(&format!("{name}.input"));
        let seeds = vec![read(seed)];
        fuzz(name, &seeds, inputs(), |data| {
            std::fs::write(&target, data).unwrap();
            check(&target)
        });
    }
}

/// Arbitrary bytes (not only mutants of valid encodings) never panic any binary decoder.
#[test]
fn random_bytes_never_panic_a_decoder() {
    let mut rng = rng("random");
    for _ in 0..inputs() {
        let len = rng.gen_range(0..600);
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        let _ = Transaction::from_bytes(&data);
        let _ = Block::from_bytes(&data);
        let _ = Token::from_bytes(&data);
        let _ = serde_json::from_slice::<Transaction>(&data);
    }
}
