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

    // An escrowed token for the development inspector (the shipped escrow keys): it verifies
    // and shows its escrow; another escrow in its place, or none, does not verify; an escrow
    // key that is not a point of Jubjub's subgroup is refused before anything is proven.
    let dev_inspector = consentry::circuits::escrow::InspectorSecret::dev().public();
    let dev_key = hex::encode(dev_inspector.to_bytes());
    let mut args = vec![
        "--stream",
        "s-1",
        "--message-file",
        "body.bin",
        "--min-level",
        "2",
    ];
    args.extend([
        "--today",
        "20000",
        "--escrow-to",
        &dev_key,
        "--out",
        "esc.json",
    ]);
    ok(dir, &prove_args(&args));
    let verified = ok(dir, &["verify", "esc.json"]);
    assert!(
        verified.starts_with("valid") && verified.contains("escrow "),
        "{verified}"
    );
    let escrowed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("esc.json")).unwrap()).unwrap();
    let mut other = escrowed.clone();
    let fresh = consentry::circuits::escrow::encrypt(
        &consentry::circuits::credential::InstitutionId(consentry::circuits::Fr::from(1u64)),
        &dev_inspector,
        &mut rand::rngs::OsRng,
    )
    .0;
    other["escrow"] = serde_json::json!(hex::encode(fresh.to_bytes()));
    std::fs::write(dir.join("other.json"), other.to_string()).unwrap();
    assert!(fails(dir, &["verify", "other.json"]).contains("does not verify"));
    let mut none = escrowed.clone();
    none.as_object_mut().unwrap().remove("escrow");
    std::fs::write(dir.join("none.json"), none.to_string()).unwrap();
    assert!(fails(dir, &["verify", "none.json"]).contains("does not verify"));
    let not_a_key = "5a".repeat(32);
    let mut args = vec!["--stream", "s-1", "--message-file", "body.bin"];
    args.extend(["--escrow-to", &not_a_key, "--out", "x.json"]);
    assert!(fails(dir, &prove_args(&args)).contains("subgroup"));

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
    // Escrow keys from the public dev seed for a real inspector would be forgeable.
    let real = "1af1e6ad744397124766edc2cff657897a57da7196a37e0d39f3cdfda67a0f10";
    let err = fails(dir, &["setup", "--out", "p", "--dev", "--inspector", real]);
    assert!(err.contains("cannot be used with"), "{err}");

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
    assert_eq!(out.lines().count(), 3, "{out}");
    let manifest = std::fs::read_to_string(tmp.path().join("p/SHA256SUMS")).unwrap();
    for file in ["access-d4.pk", "access-d4.pk.raw", "access-d4.vk"] {
        assert!(
            manifest.lines().any(|l| l.ends_with(&format!("  {file}"))),
            "{file} not in {manifest}"
        );
    }
}

/// `consentry bench` at a small depth: the JSON report has every figure with sane values. No
/// timing thresholds: the machine may be busy.
#[test]
fn bench_reports_every_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let table = ok(
        dir,
        &[
            "bench",
            "--depth",
            "4",
            "--iterations",
            "2",
            "--txs",
            "16",
            "--threads",
            "2",
            "--json",
            "b.json",
        ],
    );
    assert!(table.contains("depth | figure"), "{table}");
    assert!(table.contains("node: committed Access tx"), "{table}");

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("b.json")).unwrap()).unwrap();
    assert_eq!(v["version"], 7);
    assert_eq!(v["cohort"].as_array().unwrap().len(), 6);
    assert!(v["date"].as_str().unwrap().ends_with('Z'));
    assert!(!v["machine"]["cpu"].as_str().unwrap().is_empty());
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(
        ["avx512-ifma", "portable"].contains(&v["machine"]["poseidon_backend"].as_str().unwrap())
    );
    assert_eq!(v["threads"], 2);
    assert_eq!(v["iterations"], 2);
    let depths = v["depths"].as_array().unwrap();
    assert_eq!(depths.len(), 1);
    assert_eq!(depths[0]["depth"], 4);
    assert!(depths[0]["constraints"].as_u64().unwrap() > 0);
    // The escrow variant is the access circuit and more.
    assert!(
        depths[0]["escrow_constraints"].as_u64().unwrap()
            > depths[0]["constraints"].as_u64().unwrap()
    );
    let figures = depths[0]["figures"].as_array().unwrap();
    let names: Vec<&str> = figures
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "key_load",
            "prepare",
            "witness",
            "prove",
            "cli_prove",
            "prove_repeat",
            "prove_arkworks",
            "prove_escrow",
            "verify",
            "verify_escrow",
            "batch_verify_16",
            "batch_verify_64",
            "batch_verify_256",
            "poseidon",
            "registry_insert",
            "registry_insert_block"
        ]
    );
    for f in figures {
        let n = |k: &str| f[k].as_f64().unwrap_or_else(|| panic!("{k} in {f}"));
        let (min, median, p95) = (n("min_us"), n("median_us"), n("p95_us"));
        assert!(min > 0.0 && min <= median && median <= p95, "{f}");
        assert!(n("per_second") > 0.0, "{f}");
        let name = f["name"].as_str().unwrap();
        if name.starts_with("batch_verify_") || name == "registry_insert_block" {
            assert!(n("per_token_us") > 0.0 && n("per_token_us") < median, "{f}");
        }
    }
    assert_eq!(v["node"]["depth"], 4);
    assert_eq!(v["node"]["transactions"], 16);
    assert!(v["node"]["committed_tx_per_s"].as_f64().unwrap() > 0.0);

    // Bad arguments are named before anything is measured.
    let even = "registry depth must be even and between 2 and 32";
    assert!(fails(dir, &["bench", "--depth", "0"]).contains(even));
    assert!(fails(dir, &["bench", "--depth", "4,34"]).contains(even));
    assert!(fails(dir, &["bench", "--depth", "4,21"]).contains(even));
    assert!(fails(dir, &["bench", "--iterations", "0"]).contains("--iterations"));
    assert!(fails(dir, &["bench", "--params", "nowhere"]).contains("nowhere"));
    assert!(fails(dir, &["bench", "--json", "no/such/dir/b.json"]).contains("no/such/dir"));
    // Keys a parameter directory lists but cannot deliver are an error naming the file.
    std::fs::create_dir(dir.join("p")).unwrap();
    let zeros = "00".repeat(32);
    std::fs::write(
        dir.join("p/SHA256SUMS"),
        format!("{zeros}  access-d4.pk\n{zeros}  access-d4.vk\n"),
    )
    .unwrap();
    let err = fails(
        dir,
        &["bench", "--depth", "4", "--params", "p", "--skip-node"],
    );
    assert!(
        err.contains("keys for depth 4") && err.contains("access-d4.pk"),
        "{err}"
    );
}

/// Output piped into a reader that has gone away (`consentry … | head`): the command ends
/// quietly with status 141 (it did panic in `println!`), and its work is done.
#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    // A pipe whose reading end is closed before the command starts: every write fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["identity", "new", "--out", "inst.id"])
        .current_dir(tmp.path())
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(141), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("inst.id").exists());
}

/// A `consentry node --dev` child process on a free port of 127.0.0.1, killed on drop.
struct NodeProcess {
    child: std::process::Child,
    url: String,
}

impl NodeProcess {
    /// Starts the node with its data in `dir/data` and waits (a minute at most) for its
    /// `listening on` line.
    fn start(dir: &Path) -> NodeProcess {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["node", "--data", "data", "--dev", "--listen", "127.0.0.1:0"])
            .args(["--block-ms", "50"])
            .current_dir(dir)
            .env(
                "CONSENTRY_PARAMS",
                concat!(env!("CARGO_MANIFEST_DIR"), "/params"),
            )
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start consentry node");
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the node's stderr to its end, so that the node never blocks on a full pipe;
        // sends the URL, or everything seen if the node exits first.
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in stderr.lines().map_while(Result::ok) {
                match line.strip_prefix("listening on ") {
                    Some(url) => {
                        let _ = tx.send(Ok(url.to_string()));
                    }
                    None => seen.push_str(&format!("{line}\n")),
                }
            }
            let _ = tx.send(Err(seen));
        });
        let mut node = NodeProcess {
            child,
            url: String::new(),
        };
        node.url = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(Ok(url)) => url,
            Ok(Err(seen)) => panic!("the node exited before listening:\n{seen}"),
            Err(_) => panic!("the node did not listen within a minute"),
        };
        node
    }

    /// Stops the node as an operator would (SIGTERM) and waits (a minute at most) for a clean
    /// exit.
    fn stop(mut self) {
        // SAFETY: `kill` on the pid of our own child, which has not been reaped yet.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "kill(SIGTERM)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the node's exit status: {status}");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the node did not stop within a minute of SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The arguments as `&str`s.
fn run(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The number of history entries of `stream`.
fn audit_len(dir: &Path, net: &[&str], stream: &str) -> usize {
    let args = ["patient", "history", "--stream", stream, "--json"];
    let history: serde_json::Value = serde_json::from_str(&ok(dir, &on(net, &args))).unwrap();
    history["entries"].as_array().unwrap().len()
}

/// Syncs issuer 1's leaf list to `leaves.json`; the command's output.
fn sync_leaves(dir: &Path, net: &[&str]) -> String {
    let args = [
        "institution",
        "sync",
        "--issuer-id",
        "1",
        "--out",
        "leaves.json",
    ];
    ok(dir, &on(net, &args))
}

/// A patient's stream named `stream`, shared by the platform (`platform.id`, `attrs`) with the
/// consent options `extra` and signed by the patient (`{stream}.key`): its id, which the
/// patient derives too.
fn share_stream(dir: &Path, net: &[&str], attrs: &[&str], stream: &str, extra: &[&str]) -> String {
    let key = format!("{stream}.key");
    let patient_key = ok(dir, &["patient", "keygen", "--out", &key]);
    let consent = format!("{stream}.consent.json");
    let mut args = vec!["institution", "consent", "--identity", "platform.id"];
    args.extend(["--leaves", "leaves.json"]);
    args.extend(attrs);
    args.extend(["--stream-name", stream, "--patient-key", patient_key.trim()]);
    args.extend(extra);
    args.extend(["--out", &consent]);
    let out = ok(dir, &on(net, &args));
    let id = out.split("for stream ").nth(1).unwrap()[..64].to_string();
    let derived = ok(
        dir,
        &["patient", "stream-id", "--key", &key, "--name", stream],
    );
    assert_eq!(derived.trim(), id, "the patient derives the same id");
    let share = ["patient", "share", "--key", &key, "--consent", &consent];
    assert!(ok(dir, &on(net, &share)).contains("consent committed"));
    id
}

/// `args` followed by the node options `net`.
fn on<'a>(net: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    [args, net].concat()
}

/// The README's command-line flow against a real node process over HTTP: accreditation,
/// consent, anonymous access to several streams in one command (one proof cache), the
/// node's and the client's refusals, the audit, revocation, and verify-chain on the stopped
/// node's RocksDB.
#[test]
fn the_node_flow_of_the_readme_works_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = NodeProcess::start(dir);
    let url = node.url.clone();
    let net = ["--node", url.as_str()];

    let hospital = ok(dir, &["identity", "new", "--out", "hospital.id"]);
    let platform = ok(dir, &["identity", "new", "--out", "platform.id"]);
    let platform_attrs = ATTRS.map(|a| if a == "hospital" { "platform" } else { a });
    for (id, attrs, index) in [(&hospital, &ATTRS, 0), (&platform, &platform_attrs, 1)] {
        let mut args = vec!["issuer", "issue", "--key", "data/issuer.key"];
        args.extend(["--id", id.trim()]);
        args.extend(attrs);
        let out = ok(dir, &on(&net, &args));
        assert!(out.contains(&format!("leaf index {index}")), "{out}");
    }
    assert!(sync_leaves(dir, &net).contains("synced 2 leaves"));

    // Three streams: hospitals may read s-1 and s-2, only research centres s-3. Each id is
    // derived from the patient's stream key and the platform's name of the stream.
    let mut ids = std::collections::HashMap::new();
    for (stream, roles) in [
        ("s-1", "hospital"),
        ("s-2", "hospital"),
        ("s-3", "research"),
    ] {
        let id = share_stream(dir, &net, &platform_attrs, stream, &["--roles", roles]);
        ids.insert(stream, id);
    }
    let id = |name: &str| ids.get(name).cloned().unwrap_or_else(|| name.to_string());

    let access = |streams: &str, min_level: &'static str| {
        let list: Vec<String> = streams.split(',').map(id).collect();
        let mut args: Vec<String> = ["institution", "access", "--identity", "hospital.id"]
            .map(String::from)
            .to_vec();
        args.extend(["--leaves", "leaves.json"].map(String::from));
        args.extend(ATTRS.map(String::from));
        args.extend([
            "--stream".into(),
            list.join(","),
            "--purpose".into(),
            "care".into(),
        ]);
        args.extend(["--min-level", min_level, "--keep-order", "--spread", "0"].map(String::from));
        args.extend(net.map(String::from));
        args
    };
    let pseudonym = |line: &str| line.rsplit("pseudonym ").next().unwrap().to_string();

    // A leaf list the chain never committed (as a node singling this client out would serve
    // it: one extra leaf gives a root of its own that would link every token) is refused
    // before anything is proven or sent.
    let synced = std::fs::read_to_string(dir.join("leaves.json")).unwrap();
    let mut list: serde_json::Value = serde_json::from_str(&synced).unwrap();
    list["leaves"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(format!("0x{}", "0".repeat(62) + "2a")));
    std::fs::write(dir.join("leaves.json"), list.to_string()).unwrap();
    let err = fails(dir, &run(&access("s-1", "2")));
    assert!(err.contains("does not list among its roots"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    std::fs::write(dir.join("leaves.json"), synced).unwrap();
    assert_eq!(audit_len(dir, &net, &id("s-1")), 1, "only the share");

    // Three accesses in one command: stable pseudonym within a stream, another across.
    let out = ok(dir, &run(&access("s-1,s-2,s-1", "2")));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (line, stream) in lines.iter().zip(["s-1", "s-2", "s-1"]) {
        assert!(
            line.starts_with(&format!("access to {} committed", id(stream))),
            "{out}"
        );
    }
    assert_eq!(pseudonym(lines[0]), pseudonym(lines[2]));
    assert_ne!(pseudonym(lines[0]), pseudonym(lines[1]));

    // The audit of a stream: its entries (share and accesses) and distinct readers.
    let audit = |stream: &str| {
        let sid = id(stream);
        let args = ["patient", "history", "--stream", &sid, "--json"];
        let history: serde_json::Value = serde_json::from_str(&ok(dir, &on(&net, &args))).unwrap();
        let entries = history["entries"].as_array().unwrap().len();
        (entries, history["distinct_accessors"].as_u64().unwrap())
    };
    assert_eq!(audit("s-1"), (3, 1));

    // `--out`: the access is proven and written, not sent; `patient send` sends it later.
    let mut write = access("s-1", "2");
    write.extend(["--out".into(), "access.json".into()]);
    assert!(ok(dir, &run(&write)).contains("not sent"));
    assert_eq!(audit("s-1"), (3, 1), "--out sends nothing");
    let send = on(&net, &["patient", "send", "--file", "access.json"]);
    assert!(ok(dir, &send).contains("committed"));
    assert_eq!(audit("s-1"), (4, 1), "the same reader, sent later");
    let mut two = access("s-1,s-2", "2");
    two.extend(["--out".into(), "two.json".into()]);
    assert!(fails(dir, &run(&two)).contains("give one --stream"));
    assert!(!dir.join("two.json").exists());
    // The patient's share the same way: signed and written, sent later.
    let key = ok(dir, &["patient", "keygen", "--out", "s-5.key"]);
    let mut args = vec!["institution", "consent", "--identity", "platform.id"];
    args.extend(["--leaves", "leaves.json"]);
    args.extend(platform_attrs);
    args.extend(["--stream-name", "s-5", "--patient-key", key.trim()]);
    args.extend(["--roles", "hospital", "--out", "s-5.consent.json"]);
    ok(dir, &on(&net, &args));
    let share = [
        "patient",
        "share",
        "--key",
        "s-5.key",
        "--consent",
        "s-5.consent.json",
        "--out",
        "s-5.signed.json",
    ];
    assert!(ok(dir, &on(&net, &share)).contains("not sent"));
    let s5 = ok(
        dir,
        &["patient", "stream-id", "--key", "s-5.key", "--name", "s-5"],
    );
    let history = on(&net, &["patient", "history", "--stream", s5.trim()]);
    assert!(
        fails(dir, &history).contains("no consent"),
        "not shared yet"
    );
    let send = on(&net, &["patient", "send", "--file", "s-5.signed.json"]);
    assert!(ok(dir, &send).contains("committed"));
    assert!(ok(dir, &history).contains("0 distinct accessors"));

    // The node refuses a hospital on s-3 after s-1 went through; the error says what was
    // committed, and s-2, after it, was not sent.
    let err = fails(dir, &run(&access("s-1,s-3,s-2", "2")));
    assert!(
        err.contains(&format!(
            r#"stream "{}": refused (1 of 3 committed before it, the rest not sent)"#,
            id("s-3")
        )),
        "{err}"
    );
    assert!(err.contains("RoleNotAllowed"), "{err}");
    assert_eq!((audit("s-1"), audit("s-2")), ((5, 1), (2, 1)));

    // Local errors send nothing: a level the credential does not have (found while proving),
    // a malformed stream id after a good one.
    let err = fails(dir, &run(&access("s-2,s-1", "4")));
    assert!(
        err.contains(&format!(r#"stream "{}": nothing was sent"#, id("s-2"))),
        "{err}"
    );
    assert!(err.contains("below the required minimum level 4"), "{err}");
    let err = fails(dir, &run(&access("s-1,s 2", "2")));
    assert!(err.contains(r#"stream "s 2": "#), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert_eq!((audit("s-1"), audit("s-2")), ((5, 1), (2, 1)));

    // --json: one object per line and access.
    let mut args = access("s-2,s-2", "2");
    args.push("--json".into());
    let out = ok(dir, &run(&args));
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(objects.len(), 2, "{out}");
    assert!(objects.iter().all(|o| o["status"] == "committed"), "{out}");
    assert_eq!(audit("s-2"), (4, 1));

    // The data path of the README: a data node beside the node; the patient puts records
    // into s-4; the platform's share names exactly them (--snapshot); the hospital's access
    // is followed by a fetch that gets them, checked against the share's digest.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let datanode_url = format!("http://127.0.0.1:{port}");
    let mut datanode = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args([
            "datanode",
            "--data",
            "datanode",
            "--genesis",
            "data/genesis.json",
        ])
        .args(["--ledger", &url, "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let s4_key = ok(dir, &["patient", "keygen", "--out", "s-4.key"]);
    let events =
        r#"[{"time_ms":1796256000000,"glucose":5.4},{"time_ms":1796259600000,"glucose":6.1}]"#;
    std::fs::write(dir.join("events.json"), events).unwrap();
    let put = on(
        &net,
        &[
            "patient",
            "put",
            "--key",
            "s-4.key",
            "--name",
            "s-4",
            "--file",
            "events.json",
            "--datanode",
            &datanode_url,
        ],
    );
    // (The data node may still be starting: the put is retried until it answers.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let put_out = loop {
        let out = consentry(dir, &put);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() || std::time::Instant::now() > deadline {
            break text + &String::from_utf8_lossy(&out.stderr);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(put_out.contains("2 records held"), "{put_out}");
    let mut args = vec!["institution", "consent", "--identity", "platform.id"];
    args.extend(["--leaves", "leaves.json"]);
    args.extend(platform_attrs);
    args.extend(["--stream-name", "s-4", "--patient-key", s4_key.trim()]);
    args.extend(["--roles", "hospital", "--snapshot", "events.json"]);
    args.extend(["--out", "s-4.consent.json"]);
    let out = ok(dir, &on(&net, &args));
    let s4 = out.split("for stream ").nth(1).unwrap()[..64].to_string();
    let share = [
        "patient",
        "share",
        "--key",
        "s-4.key",
        "--consent",
        "s-4.consent.json",
    ];
    assert!(ok(dir, &on(&net, &share)).contains("consent committed"));
    let mut args = access(&s4, "2");
    args.push("--json".into());
    let committed: serde_json::Value = serde_json::from_str(ok(dir, &run(&args)).trim()).unwrap();
    let tx = committed["id"].as_str().unwrap().to_string();
    let fetch = [
        "institution",
        "fetch",
        "--identity",
        "hospital.id",
        "--tx",
        &tx,
        "--datanode",
        &datanode_url,
        "--out",
        "records.json",
    ];
    let out = ok(dir, &on(&net, &fetch));
    assert!(out.contains("the snapshot the share names"), "{out}");
    let got: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("records.json")).unwrap()).unwrap();
    assert_eq!(
        got,
        serde_json::from_str::<serde_json::Value>(events).unwrap()
    );
    let _ = datanode.kill();
    let _ = datanode.wait();

    // The patient withdraws s-2 alone, with a withdrawal signed in advance: the next access
    // is refused.
    let s2 = id("s-2");
    let prepared = ["patient", "revoke", "--key", "s-2.key", "--stream", &s2];
    ok(
        dir,
        &on(&net, &[&prepared[..], &["--out", "w.json"]].concat()),
    );
    let sent = ok(dir, &on(&net, &["patient", "send", "--file", "w.json"]));
    assert!(sent.contains("committed"), "{sent}");
    let err = fails(dir, &run(&access("s-2", "2")));
    assert!(err.contains("ConsentRevoked"), "{err}");

    // Revoked: the synced leaf list no longer has the credential, and the client says so.
    let revoke = [
        "issuer",
        "revoke",
        "--key",
        "data/issuer.key",
        "--issuer-id",
        "1",
    ];
    ok(dir, &on(&net, &[&revoke[..], &["--index", "0"]].concat()));
    sync_leaves(dir, &net);
    let err = fails(dir, &run(&access("s-1", "2")));
    assert!(err.contains("no live leaf"), "{err}");

    assert!(ok(dir, &on(&net, &["status"])).contains("(2 leaves), 0 pending"));
    node.stop();
    let verified = ok(dir, &["verify-chain", "--data", "data"]);
    assert!(verified.starts_with("ok: "), "{verified}");
    // Tokens: five consents, and 3 + 1 (sent from a file) + 1 + 2 + 1 accesses.
    assert!(verified.contains("13 tokens verified"), "{verified}");
}

#[test]
fn the_demo_on_three_validators_survives_its_leader_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["demo", "--validators", "3"]);
    for expected in [
        "SIGKILL the leader",
        "leads after",
        "digest = the share's",
        "refused by the data node: ConsentRevoked",
        "it catches up",
        "same header hashes on 3",
        "validator-3: ",
        "demo passed",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
}

#[test]
fn cluster_init_writes_configs_and_refuses_a_second_cluster_and_the_dev_key_without_dev() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(
        dir.path(),
        &["cluster", "init", "--validators", "3", "--out", "c"],
    );
    assert!(err.contains("INSECURE development verifying key"), "{err}");
    let out = ok(
        dir.path(),
        &[
            "cluster",
            "init",
            "--validators",
            "3",
            "--out",
            "c",
            "--dev",
        ],
    );
    assert!(out.contains("quorum 2"), "{out}");
    for f in [
        "genesis.json",
        "issuer.key",
        "validator-3.key",
        "validator-3.toml",
    ] {
        assert!(dir.path().join("c").join(f).exists(), "{f}");
    }
    let err = fails(dir.path(), &["cluster", "init", "--out", "c", "--dev"]);
    assert!(err.contains("holds a cluster already"), "{err}");
    // A config with an unknown key is refused by name.
    let toml = dir.path().join("c/validator-1.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("bogus = 1\n{text}")).unwrap();
    let err = fails(dir.path(), &["node", "--config", "c/validator-1.toml"]);
    assert!(err.contains("bogus"), "{err}");
}

/// The README's study flow against a node process: a research centre asks with criteria; a
/// platform answers for an eligible patient (commitments and range proofs, the values never
/// sent) and the patient signs; an ineligible patient's answer is refused locally with
/// nothing written; the study shows one eligible consent, which the research centre reads.
#[test]
fn the_study_flow_of_the_readme_works_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = NodeProcess::start(dir);
    let url = node.url.clone();
    let net = ["--node", url.as_str()];
    let research = ok(dir, &["identity", "new", "--out", "research.id"]);
    let platform = ok(dir, &["identity", "new", "--out", "platform.id"]);
    let attrs = |role: &'static str| ATTRS.map(|a| if a == "hospital" { role } else { a });
    for (id, role) in [(&research, "research"), (&platform, "platform")] {
        let mut args = vec!["issuer", "issue", "--key", "data/issuer.key"];
        args.extend(["--id", id.trim()]);
        args.extend(attrs(role));
        ok(dir, &on(&net, &args));
    }
    sync_leaves(dir, &net);
    let research_attrs = attrs("research");
    let mut args = vec!["institution", "study", "--identity", "research.id"];
    args.extend(["--leaves", "leaves.json"]);
    args.extend(research_attrs);
    args.extend(["--criteria", "age=40..60,hba1c=48..75"]);
    args.extend([
        "--purpose",
        "cardiology",
        "--roles",
        "research",
        "--min-level",
        "2",
    ]);
    let out = ok(dir, &on(&net, &args));
    assert!(
        out.starts_with("study ") && out.contains("committed"),
        "{out}"
    );
    let study = out.split_whitespace().nth(1).unwrap().to_string();

    let platform_attrs = attrs("platform");
    let consent = |key: &str, values: &str, out: &str| {
        let patient_key = ok(dir, &["patient", "keygen", "--out", key]);
        let mut args: Vec<String> = ["institution", "consent", "--identity", "platform.id"]
            .map(String::from)
            .to_vec();
        args.extend(["--leaves", "leaves.json"].map(String::from));
        args.extend(platform_attrs.map(String::from));
        args.extend([
            "--stream-name".into(),
            key.trim_end_matches(".key").into(),
            "--patient-key".into(),
            patient_key.trim().into(),
            "--study".into(),
            study.clone(),
            "--values".into(),
            values.into(),
            "--out".into(),
            out.into(),
        ]);
        args.extend(net.map(String::from));
        args
    };
    // Not eligible: refused locally, nothing written.
    let err = fails(dir, &run(&consent("b.key", "age=35,hba1c=60", "b.json")));
    assert!(err.contains("not eligible") && err.contains("age"), "{err}");
    assert!(!dir.join("b.json").exists());
    // Eligible: prepared (no value in the file), signed and committed by the patient.
    ok(dir, &run(&consent("a.key", "age=52,hba1c=60", "a.json")));
    let prepared: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("a.json")).unwrap()).unwrap();
    for c in prepared["body"]["cohort"].as_array().unwrap() {
        let mut keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["attribute", "commitment", "hi", "lo"],
            "no value: {c}"
        );
    }
    // One aggregated proof of both criteria (8-bit ranges, four values): 7 + 2·log2(32)
    // points and scalars for the range proof and its inner-product argument, 2 more: 608 bytes.
    assert_eq!(prepared["auth"]["cohort"].as_str().unwrap().len(), 2 * 608);
    let share = ["patient", "share", "--key", "a.key", "--consent", "a.json"];
    assert!(ok(dir, &on(&net, &share)).contains("consent committed"));

    let view: serde_json::Value = reqwest::blocking::get(format!("{url}/v1/studies/{study}"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(view["eligible_consents"], 1, "{view}");
    let stream = view["streams"][0]["stream_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut args = vec!["institution", "access", "--identity", "research.id"];
    args.extend(["--leaves", "leaves.json"]);
    args.extend(research_attrs);
    args.extend([
        "--stream",
        &stream,
        "--purpose",
        "cardiology",
        "--min-level",
        "2",
    ]);
    let out = ok(dir, &on(&net, &args));
    assert!(out.contains("committed"), "{out}");
    node.stop();
    let verified = ok(dir, &["verify-chain", "--data", "data"]);
    assert!(verified.starts_with("ok: "), "{verified}");
}

/// `consentry openapi` prints the document the node serves (the same routes, query
/// parameters declared as such) and writes it to a file with `--out`.
#[test]
fn the_openapi_command_prints_the_served_document() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let doc: serde_json::Value = serde_json::from_str(&ok(dir, &["openapi"])).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["paths"].as_object().unwrap().len(), 16);
    let wait = &doc["paths"]["/v1/transactions"]["post"]["parameters"][0];
    assert_eq!(
        (wait["name"].as_str(), wait["in"].as_str()),
        (Some("wait"), Some("query"))
    );
    ok(dir, &["openapi", "--out", "api.json"]);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("api.json")).unwrap()).unwrap();
    assert_eq!(written, doc);
    assert!(fails(dir, &["openapi", "--out", "no/such/dir/api.json"]).contains("no/such/dir"));
}

/// `--version` names the version and the shipped verifying key's digest; a diagnostic to a
/// closed stderr does not panic (exit 1 with the error unseen, not 101).
#[test]
fn version_and_a_closed_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let v = ok(tmp.path(), &["--version"]);
    assert!(v.contains(env!("CARGO_PKG_VERSION")), "{v}");
    assert!(
        v.contains("5e66817979237d2d1e22c097364e23408715a77db441a24b8be38e2708773343"),
        "{v}"
    );
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} verify {} 2>&-",
            env!("CARGO_BIN_EXE_consentry"),
            tmp.path().join("no-token.json").display()
        ))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

/// A node URL without its scheme is refused with an example; `CONSENTRY_NODE` stands in for
/// `--node`; a node that cannot be connected to is reported as "nothing was sent".
#[test]
fn node_urls_and_unreachable_nodes_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let e = fails(dir, &["status", "--node", "127.0.0.1:7700"]);
    assert!(e.contains("http://127.0.0.1:7700"), "{e}");
    let e = fails(dir, &["status", "--node", "http://"]);
    assert!(e.contains("not a node URL"), "{e}");
    // Port 1 on the loopback: nothing listens there.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
        .arg("status")
        .env("CONSENTRY_NODE", "http://127.0.0.1:1")
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("http://127.0.0.1:1"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    // `--wait` asks again until its time is up, then names the same cause.
    let started = std::time::Instant::now();
    let e = fails(
        dir,
        &["status", "--node", "http://127.0.0.1:1", "--wait", "0.5"],
    );
    assert!(e.contains("nothing was sent"), "{e}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    assert!(fails(dir, &["status", "--wait", "4000"]).contains("--wait must be"));
}

/// `consentry completions SHELL` writes a script naming the commands; an unknown shell is a
/// clean error listing the known ones.
#[test]
fn completion_scripts_name_the_commands() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(tmp.path(), &["completions", shell]);
        for command in ["institution", "verify-chain", "openapi"] {
            assert!(script.contains(command), "{shell}: {command} missing");
        }
    }
    let e = fails(tmp.path(), &["completions", "cmd.exe"]);
    assert!(e.contains("bash") && e.contains("zsh"), "{e}");
}

/// `consentry inspector keygen` writes a key (mode 0600) and prints its public key, which
/// `inspector show` prints again; a second keygen on the same file refuses, and a missing file
/// is named.
#[test]
fn inspector_keys_are_made_and_shown() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let public = ok(dir, &["inspector", "keygen", "--out", "inspector.key"]);
    let public = public.trim();
    let keys: serde_json::Value = serde_json::from_str(public).unwrap();
    for k in ["escrow_key", "signing_key"] {
        let hex = keys[k].as_str().unwrap();
        assert_eq!(hex.len(), 64, "{public}");
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert_ne!(keys["escrow_key"], keys["signing_key"]);
    let mode = std::fs::metadata(dir.join("inspector.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        ok(dir, &["inspector", "show", "--key", "inspector.key"]).trim(),
        public
    );
    assert!(fails(dir, &["inspector", "keygen", "--out", "inspector.key"]).contains("exists"));
    assert!(fails(dir, &["inspector", "show", "--key", "none.key"]).contains("none.key"));
}

/// Accountable anonymity as the README tells it, over HTTP against a dev node (which names
/// the development inspector): a platform shares a stream requiring escrow, the hospital's
/// access is escrowed without being asked, the inspector opens it on the record (a stranger's
/// key and a plain access open nothing), the issuer names the hospital from its own records,
/// and the patient's history shows the opening.
#[test]
fn the_escrow_flow_of_the_readme_works_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = NodeProcess::start(dir);
    let url = node.url.clone();
    let net = ["--node", url.as_str()];

    let hospital = ok(dir, &["identity", "new", "--out", "hospital.id"]);
    let hospital = hospital.trim();
    let platform = ok(dir, &["identity", "new", "--out", "platform.id"]);
    let platform_attrs = ATTRS.map(|a| if a == "hospital" { "platform" } else { a });
    for (id, attrs, name) in [
        (hospital, &ATTRS, "St. Elsewhere Hospital"),
        (platform.trim(), &platform_attrs, "Data Platform"),
    ] {
        let mut args = vec!["issuer", "issue", "--key", "data/issuer.key", "--id", id];
        args.extend(attrs);
        args.extend(["--name", name]);
        ok(dir, &on(&net, &args));
    }
    sync_leaves(dir, &net);
    let mut ids = vec![];
    for (stream, extra) in [
        ("s-escrow", &["--roles", "hospital", "--escrow"][..]),
        ("s-plain", &["--roles", "hospital"][..]),
    ] {
        ids.push(share_stream(dir, &net, &platform_attrs, stream, extra));
    }
    let access = |stream: &str| {
        let mut args = vec!["institution", "access", "--identity", "hospital.id"];
        args.extend(["--leaves", "leaves.json"]);
        args.extend(ATTRS);
        args.extend(["--stream", stream, "--purpose", "care", "--spread", "0"]);
        let out = ok(dir, &on(&net, &args));
        let tx = out.split("tx ").nth(1).unwrap()[..64].to_string();
        (out, tx)
    };
    let (out, escrowed) = access(&ids[0]);
    assert!(out.contains("escrowed to the inspector"), "{out}");
    let (out, plain) = access(&ids[1]);
    assert!(!out.contains("escrowed"), "{out}");

    // The history shows the escrow as opaque bytes.
    let history = |stream: &str| -> serde_json::Value {
        let args = ["patient", "history", "--stream", stream, "--json"];
        serde_json::from_str(&ok(dir, &on(&net, &args))).unwrap()
    };
    let h = history(&ids[0]);
    assert_eq!(h["entries"][1]["escrow"].as_str().unwrap().len(), 128);

    // A stranger's inspector key, and a plain access: nothing opened, nothing recorded.
    ok(dir, &["inspector", "keygen", "--out", "stranger.key"]);
    let open = |key: &'static str, tx: &str, case: &'static str| {
        let mut args = vec!["inspector", "open", "--key", key, "--case", case, "--json"];
        args.extend(["--tx", tx]);
        on(&net, &args)
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let err = fails(dir, &run(&open("stranger.key", &escrowed, "C-1")));
    assert!(
        err.contains("not the key of the chain's inspector"),
        "{err}"
    );
    let err = fails(dir, &run(&open("data/inspector.key", &plain, "C-1")));
    assert!(err.contains("carries no escrow"), "{err}");
    // Pinned to another chain's genesis: the node is not believed.
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("data/genesis.json")).unwrap())
            .unwrap();
    other["chain_id"] = "another-chain".into();
    std::fs::write(dir.join("other-genesis.json"), other.to_string()).unwrap();
    let elsewhere = open("data/inspector.key", &escrowed, "C-1");
    let mut args = run(&elsewhere);
    args.extend(["--genesis", "other-genesis.json"]);
    let err = fails(dir, &args);
    assert!(err.contains("serves another chain"), "{err}");
    assert_eq!(history(&ids[0])["entries"].as_array().unwrap().len(), 2);

    // The inspector opens the escrowed access: on the record first, then the id.
    let pinned = open("data/inspector.key", &escrowed, "C-1");
    let mut args = run(&pinned);
    args.extend(["--genesis", "data/genesis.json"]);
    let opened: serde_json::Value = serde_json::from_str(&ok(dir, &args)).unwrap();
    assert_eq!(opened["institution_id"], hospital);
    assert_eq!(opened["already_recorded"], false);
    let again: serde_json::Value = serde_json::from_str(&ok(
        dir,
        &run(&open("data/inspector.key", &escrowed, "C-1")),
    ))
    .unwrap();
    assert_eq!(again["already_recorded"], true);
    assert_eq!(again["opening"], opened["opening"]);

    // The issuer names it from its own records; an id it never accredited is refused.
    let who = ok(
        dir,
        &[
            "issuer",
            "whois",
            "--key",
            "data/issuer.key",
            "--id",
            hospital,
        ],
    );
    assert!(who.contains("St. Elsewhere Hospital"), "{who}");
    let stranger = ok(dir, &["identity", "new", "--out", "stranger.id"]);
    let err = fails(
        dir,
        &[
            "issuer",
            "whois",
            "--key",
            "data/issuer.key",
            "--id",
            stranger.trim(),
        ],
    );
    assert!(err.contains("no credential issued to id"), "{err}");

    // The patient sees the opening, by whom and for which case.
    let h = history(&ids[0]);
    let entries = h["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2]["kind"], "opening");
    assert_eq!(entries[2]["opens"], escrowed.as_str());
    assert_eq!(entries[2]["case"], "C-1");
    assert!(entries[2]["inspector"]
        .as_str()
        .unwrap()
        .contains("Data Protection"));
    drop(node);
}
