//! The whole-process figure: `consentry prove` as a person runs it.
//!
//! `cli_prove` times a separate `consentry prove` process from spawn to exit: process start,
//! reading the identity and the leaf list, building the registry tree from the leaves (about a
//! thousand, as in the other figures), loading the proving key (digest check), deriving the
//! constraint matrices, the witness, a fresh proof on the key's bases as they are (no window
//! tables: they would cost more than they save for one proof), and writing the token. It is
//! the figure to set beside snarkjs' `groth16 fullprove`, which also starts a process and
//! reads its key for every proof (`benches/peer/cli-pair.mjs` times the two in alternation).
//!
//! The token each run writes is read back, compared with the statement asked for (root,
//! scope, message, level, day) and verified: a run that exits 0 with a bad token, a token for
//! another statement, or none fails the bench instead of giving a figure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use consentry_circuits::access::PublicInputs;
use consentry_circuits::field;
use consentry_circuits::groth::Verifier;

use super::progress::Progress;
use super::report::Figure;
use super::zk::{sample, World, TODAY};
use super::BenchError;
use crate::files::{self, LeafList};

/// The stream whose scope the runs prove for.
const STREAM: &str = "bench-cli";
/// The policy's minimum level in the runs' statement.
const MIN_LEVEL: u16 = 2;

/// Times `exe prove` for the bench institution of `world` with the keys in `keys_dir`.
pub fn prove(
    exe: &Path,
    world: &World,
    keys_dir: &Path,
    verifier: &Verifier,
    iterations: usize,
    progress: &Progress,
) -> Result<Figure, BenchError> {
    let depth = world.tree.depth();
    progress.phase(format!("depth {depth}: cli_prove (whole process)"));
    let scratch = tempfile::tempdir().map_err(BenchError::Scratch)?;
    let fixture = Fixture::write(scratch.path(), world)?;
    let expected = Fixture::statement(world)?;
    let m = sample(iterations, 1, progress, |_| {
        let (took, token) = fixture.run(exe, keys_dir, depth)?;
        if token.public != expected {
            return Err(BenchError::Cli(
                "`consentry prove` wrote a token for another statement".into(),
            ));
        }
        verifier.verify(&token).map_err(|e| BenchError::Invalid {
            depth,
            reason: format!("the token of `consentry prove`: {e}"),
        })?;
        Ok(took)
    })?;
    Ok(Figure::new("cli_prove", m))
}

/// The files `consentry prove` reads, written once for all runs.
struct Fixture {
    identity: PathBuf,
    leaves: PathBuf,
    token: PathBuf,
    attributes: Vec<String>,
}

impl Fixture {
    fn write(dir: &Path, world: &World) -> Result<Fixture, BenchError> {
        let cli = |what: &str, e: &dyn std::fmt::Display| BenchError::Cli(format!("{what}: {e}"));
        let identity = dir.join("bench.id");
        files::write_identity(&identity, &world.witness.sk).map_err(|e| cli("identity", &e))?;
        let leaves = dir.join("leaves.json");
        let mut list = LeafList::new(world.tree.depth());
        list.leaves = world.tree.leaves().iter().map(field::to_hex).collect();
        list.write(&leaves).map_err(|e| cli("leaf list", &e))?;
        let a = &world.witness.attributes;
        let attributes = [
            ("--role", a.role.to_string()),
            ("--level", a.level.to_string()),
            ("--jurisdiction", a.jurisdiction.to_string()),
            ("--expiry-day", a.expiry_day.to_string()),
            ("--issuer-id", a.issuer_id.to_string()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect();
        Ok(Fixture {
            identity,
            leaves,
            token: dir.join("token.json"),
            attributes,
        })
    }

    /// The statement every run proves: the arguments [`Fixture::run`] passes.
    fn statement(world: &World) -> Result<PublicInputs, BenchError> {
        world
            .witness
            .statement(
                world.tree.root(),
                field::access_scope(STREAM),
                Self::message(),
                MIN_LEVEL,
                TODAY,
            )
            .map_err(|e| BenchError::Prove {
                depth: world.tree.depth(),
                cause: e.into(),
            })
    }

    fn message() -> consentry_circuits::Fr {
        field::message_for_body(b"cli_prove")
    }

    /// One run: its wall time and the token it wrote.
    fn run(
        &self,
        exe: &Path,
        keys_dir: &Path,
        depth: usize,
    ) -> Result<(Duration, consentry_circuits::token::Token), BenchError> {
        // A stale token from the previous run must not pass for this run's.
        let _ = std::fs::remove_file(&self.token);
        let message = field::to_hex(&Self::message());
        let mut command = Command::new(exe);
        command
            .arg("prove")
            .arg("--identity")
            .arg(&self.identity)
            .arg("--leaves")
            .arg(&self.leaves)
            .args(&self.attributes)
            .arg("--params")
            .arg(keys_dir)
            .args(["--stream", STREAM, "--message", &message])
            .args(["--min-level", &MIN_LEVEL.to_string()])
            .args(["--today", &TODAY.to_string()])
            .arg("--out")
            .arg(&self.token)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let output = command
            .output()
            .map_err(|e| BenchError::Cli(format!("{}: {e}", exe.display())))?;
        let took = started.elapsed();
        if !output.status.success() {
            return Err(BenchError::Cli(format!(
                "`{} prove` at depth {depth} exited with {}: {}",
                exe.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let token = files::read_token(&self.token)
            .map_err(|e| BenchError::Cli(format!("the token of `consentry prove`: {e}")))?;
        Ok((took, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary that exits 0 without a token, or that fails, gives no figure.
    #[test]
    fn a_run_without_a_valid_token_fails_the_bench() {
        let scratch = tempfile::tempdir().unwrap();
        let keys = super::super::keys::obtain(scratch.path(), 4, scratch.path()).unwrap();
        let (verifier, _) = crate::params::load_verifier(&keys.dir, 4).unwrap();
        let world = World::new(4).unwrap();
        let quiet = Progress::hidden(0);
        let run = |exe: &str| {
            prove(Path::new(exe), &world, &keys.dir, &verifier, 1, &quiet)
                .unwrap_err()
                .to_string()
        };
        assert!(run("true").contains("the token of `consentry prove`"));
        // A valid token, but for another message than the one asked for.
        let pk = consentry_circuits::groth::load_proving_key(&keys.dir, 4).unwrap();
        let prover = consentry_circuits::groth::Prover::new(4, pk).unwrap();
        let mut other = Fixture::statement(&world).unwrap();
        other.message = field::message_for_body(b"something else");
        let token = prover
            .prove(&world.witness, other, &mut rand::rngs::OsRng)
            .unwrap();
        verifier.verify(&token).unwrap();
        let stored = scratch.path().join("other-token.json");
        files::write_token(&stored, &token).unwrap();
        let script = scratch.path().join("fake-prove");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = --out ] && cp {} \"$2\"; shift; done\n",
                stored.display()
            ),
        )
        .unwrap();
        let mut perms = std::fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&script, perms).unwrap();
        assert!(run(script.to_str().unwrap()).contains("a token for another statement"));
        assert!(run("false").contains("exited with"));
        assert!(run("/no/such/consentry").contains("/no/such/consentry"));
    }
}
