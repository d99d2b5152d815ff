//! The README, followed word by word: every ```sh block runs, in order, in one bash process,
//! in an empty directory, as a newcomer would paste them (set -euo pipefail: a failing
//! command fails the test).
//!
//! What the harness supplies, and nothing else: `consentry` (on PATH) and `./consentry` (in
//! the directory) are the binary `cargo test` just built (building it is all the script
//! would do); `CONSENTRY_PARAMS` points at the repository's `params/`; the node's port 7700
//! is replaced by a free one (`127.0.0.1:7700` and `localhost:7700` in the blocks, and
//! `CONSENTRY_NODE`), so the test never meets a node a developer left running. A block
//! preceded by `<!-- readme-test: skip (reason) -->` is not run, and
//! `<!-- readme-test: without "TEXT" (reason) -->` runs its block without the lines holding
//! TEXT; each needs its reason. Background jobs a block starts are killed at the end.
//!
//! The README's three-validator block and its data node use the fixed ports it names
//! (127.0.0.1:7711–7713 and 7811–7813, 7900): they must be free while this test runs.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One ```sh block and what the README says about running it.
#[derive(Debug)]
struct Block {
    line: usize,
    text: String,
    directive: Option<String>,
}

/// The ```sh blocks of a markdown text, each with the `readme-test` directive just above
/// it (blank lines between are allowed).
fn sh_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut directive: Option<String> = None;
    let mut lines = markdown.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let t = line.trim();
        if let Some(d) = t
            .strip_prefix("<!-- readme-test:")
            .and_then(|d| d.strip_suffix("-->"))
        {
            directive = Some(d.trim().to_string());
        } else if t == "```sh" {
            let mut text = String::new();
            for (_, l) in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                text.push_str(l);
                text.push('\n');
            }
            blocks.push(Block {
                line: i + 1,
                text,
                directive: directive.take(),
            });
        } else if t.starts_with("```") {
            // Another language: skip to its end, it is not a command.
            for (_, l) in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
            }
            directive = None;
        } else if !t.is_empty() {
            directive = None;
        }
    }
    blocks
}

/// The bash script that runs `blocks`, or why a directive is malformed.
fn script(blocks: &[Block], port: u16) -> Result<String, String> {
    let mut s = String::from(
        "set -euo pipefail\n\
         trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT\n\
         harness_path=\"$PATH\"\n",
    );
    for b in blocks {
        let mut text = b.text.clone();
        match b.directive.as_deref() {
            None => {}
            Some(d) if d.starts_with("skip (") && d.ends_with(')') => continue,
            Some(d) if d.starts_with("without \"") && d.ends_with(')') => {
                let rest = &d["without \"".len()..];
                let end = rest.find('"').ok_or(format!("line {}: {d}", b.line))?;
                let (needle, reason) = (&rest[..end], rest[end + 1..].trim());
                if !reason.starts_with('(') || reason.len() < 4 {
                    return Err(format!("line {}: `without` needs a reason", b.line));
                }
                if !text.contains(needle) {
                    return Err(format!("line {}: no line holds {needle:?}", b.line));
                }
                text = text
                    .lines()
                    .filter(|l| !l.contains(needle))
                    .map(|l| format!("{l}\n"))
                    .collect();
            }
            Some(d) => return Err(format!("line {}: unknown directive {d:?}", b.line)),
        }
        let text = text
            .replace("127.0.0.1:7700", &format!("127.0.0.1:{port}"))
            .replace("localhost:7700", &format!("localhost:{port}"));
        s.push_str(&format!("echo '== README.md line {}' >&2\n", b.line));
        s.push_str(&text);
        // A block may put another `consentry` first on PATH (the README's own export):
        // the next block still runs the binary under test.
        s.push_str("export PATH=\"$harness_path\"\n");
    }
    Ok(s)
}

/// Runs `script` in `dir` with the harness's environment; its exit status and output.
fn run(script: &str, dir: &Path, port: u16) -> (bool, String) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_consentry"));
    let bin_dir = dir.join(".harness-bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(&bin, bin_dir.join("consentry")).unwrap();
    std::os::unix::fs::symlink(&bin, dir.join("consentry")).unwrap();
    let params = Path::new(env!("CARGO_MANIFEST_DIR")).join("params");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("CONSENTRY_PARAMS", &params)
        .env("CONSENTRY_NODE", format!("http://127.0.0.1:{port}"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("bash");
    // Read both pipes on threads so that a chatty block cannot fill one and stall.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).ok();
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).ok();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let ok = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if Instant::now() > deadline {
            // The whole group: bash and whatever it left in the background.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = format!("{}{}", o.join().unwrap(), e.join().unwrap());
    (ok, output)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn every_block_of_the_readme_runs_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks = sh_blocks(&readme);
    assert!(blocks.len() >= 10, "{} sh blocks", blocks.len());
    let port = free_port();
    let script = script(&blocks, port).unwrap_or_else(|e| panic!("README directive: {e}"));
    let dir = tempfile::tempdir().unwrap();
    if let Some(path) = std::env::var_os("CONSENTRY_README_SCRIPT") {
        std::fs::write(path, &script).unwrap();
    }
    let (ok, output) = run(&script, dir.path(), port);
    if std::env::var_os("CONSENTRY_README_VERBOSE").is_some() {
        eprintln!("{output}");
    }
    let tail: String = {
        let lines: Vec<&str> = output.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    };
    assert!(ok, "a README block failed; the last output:\n{tail}");
    // Every block that is not skipped ran (the script prints a marker before each).
    let skipped = blocks
        .iter()
        .filter(|b| {
            b.directive
                .as_deref()
                .is_some_and(|d| d.starts_with("skip"))
        })
        .count();
    let ran = output.matches("== README.md line ").count();
    assert_eq!(ran, blocks.len() - skipped, "{tail}");
    eprintln!("{ran} README blocks ran, {skipped} skipped (each with its reason)");
}

/// The harness can fail: a block whose command fails, a skip without a reason, a `without`
/// naming a line that is not there.
#[test]
fn the_harness_fails_on_a_failing_block_and_on_bad_directives() {
    let md = "text\n```sh\ntrue\nfalse\necho never\n```\n";
    let dir = tempfile::tempdir().unwrap();
    let (ok, output) = run(&script(&sh_blocks(md), 7).unwrap(), dir.path(), 7);
    assert!(!ok && !output.contains("never"), "{output}");

    let md = "<!-- readme-test: skip -->\n```sh\ntrue\n```\n";
    assert!(script(&sh_blocks(md), 7).is_err(), "a skip needs a reason");
    let md = "<!-- readme-test: without \"nothere\" (why) -->\n```sh\ntrue\n```\n";
    assert!(script(&sh_blocks(md), 7).is_err());
    // A directive applies to the next block only, and other fences are not run.
    let md = "<!-- readme-test: skip (slow) -->\n\n```sh\nfalse\n```\n```json\nfalse\n```\n```sh\necho ran\n```\n";
    let dir = tempfile::tempdir().unwrap();
    let (ok, output) = run(&script(&sh_blocks(md), 7).unwrap(), dir.path(), 7);
    assert!(ok && output.contains("ran"), "{output}");
}
