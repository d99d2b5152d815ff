//! The `consentry` command line. Each subcommand lives in its own file; this module only
//! declares the argument structure and dispatches.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Writes a line of command output, like `println!`, but returns an error instead of
/// panicking when standard output is closed (see [`output`]). Defined before the modules
/// that use it.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// A diagnostic line to stderr, as `errln!` but never panicking (see [`diagnostic`]).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::diagnostic(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod args;
mod bench;
mod chain;
mod clients;
pub mod cluster;
mod completions;
mod data;
mod datanode;
mod demo;
mod identity;
mod inspector;
mod leaves;
mod node;
mod openapi;
mod prove;
mod setup;
mod study;
mod verify;

/// What `--version` prints: the crate version and the digest of the verifying key this binary
/// was built with (the shipped depth-20 development key), so a bug report names both.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} (shipped parameters: access-d20.vk SHA-256 {}, INSECURE development keys)",
        env!("CARGO_PKG_VERSION"),
        hex::encode(crate::params::DEV_VK_DIGESTS[0])
    )
});

/// Consentry: privacy-preserving consent ledger for medical data sharing.
#[derive(Parser, Debug)]
#[command(name = "consentry", version = VERSION.as_str(), about, propagate_version = true)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate Groth16 keys for the access circuit and their SHA-256 manifest.
    Setup(setup::SetupArgs),
    /// Institution identities (the credential secret).
    #[command(subcommand)]
    Identity(identity::IdentityCommand),
    /// Local registry leaf lists (the issuer's side until a node serves them).
    #[command(subcommand)]
    Leaves(leaves::LeavesCommand),
    /// Build a presentation token locally (the Merkle path is computed from the leaf list).
    Prove(prove::ProveArgs),
    /// Verify a token file against the verifying key; exit 0 when valid.
    Verify(verify::VerifyArgs),
    /// Re-check a node's chain from genesis: hashes, signatures, every token, registry roots.
    VerifyChain(chain::VerifyChainArgs),
    /// A consortium of validators: `cluster init` writes its genesis, keys and configs.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Run a validator node (HTTP API, block production, RocksDB).
    Node(node::NodeArgs),
    /// Run a data platform's data node: patients' records, delivered sealed to the reader of
    /// an access the validators committed.
    Datanode(datanode::DataNodeArgs),
    /// The whole story on an embedded node: accreditation, consent, anonymous access, audit,
    /// revocation, verify-chain. Exits 0 when every step behaved as expected.
    Demo(demo::DemoArgs),
    /// Issuer: keys, issuing and revoking credentials.
    #[command(subcommand)]
    Issuer(clients::IssuerCommand),
    /// Inspector: the key that can open one access's escrow under due process.
    #[command(subcommand)]
    Inspector(inspector::InspectorCommand),
    /// Institution: sync the leaf list, prove, read streams, prepare consents (platforms).
    #[command(subcommand)]
    Institution(clients::InstitutionCommand),
    /// Patient: per-stream keys, signing consents, the stream's audit.
    #[command(subcommand)]
    Patient(clients::PatientCommand),
    /// A node's status.
    Status(clients::StatusArgs),
    /// Measure key loading, prover preparation, proving (a fresh proof, a holder's repeat
    /// proof through a proof cache, and arkworks' baseline), verifying, batch verifying, Poseidon and registry insert at registry depths 16, 20 and
    /// 32, and committed Access tx/s on an embedded node.
    Bench(bench::BenchArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the node's OpenAPI document (what `GET /v1/openapi.json` serves), for client
    /// generators and validators, without running a node.
    Openapi(openapi::OpenapiArgs),
    /// Test tool: commit blocks until killed (crash-safety test).
    #[command(hide = true)]
    DevWriteBlocks(chain::WriterArgs),
}

/// The command's output went to a reader that has gone away (`consentry … | head`). `main`
/// ends such a command quietly, with exit status 141 as a Unix tool killed by SIGPIPE would,
/// instead of reporting an error; `println!` would panic. (SIGPIPE itself stays ignored: the
/// HTTP client's and the embedded node's sockets could raise it too, and a command must not
/// die half-way because a peer reset a connection.)
#[derive(Debug, thiserror::Error)]
#[error("standard output is closed")]
pub struct ClosedOutput;

/// Writes `args` to standard output: a closed output is [`ClosedOutput`], any other failure
/// an I/O error naming standard output.
pub fn output(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => anyhow::Error::new(ClosedOutput),
            _ => anyhow::Error::new(e).context("writing to standard output"),
        })
}

/// Writes a diagnostic to stderr. A closed stderr (`2>&-`, a log reader that went away) drops
/// it instead of panicking as `errln!` does: the exit status still says how the command
/// ended.
pub fn diagnostic(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Setup(a) => setup::run(a),
        Command::Identity(c) => identity::run(c),
        Command::Leaves(c) => leaves::run(c),
        Command::Prove(a) => prove::run(a),
        Command::Verify(a) => verify::run(a),
        Command::VerifyChain(a) => chain::verify_chain(a),
        Command::DevWriteBlocks(a) => chain::write_blocks(a),
        Command::Node(a) => node::run(a),
        Command::Datanode(a) => datanode::run(a),
        Command::Cluster(c) => cluster::run(c),
        Command::Demo(a) => demo::run(a),
        Command::Issuer(c) => clients::issuer(c),
        Command::Inspector(c) => inspector::run(c),
        Command::Institution(c) => clients::institution(c),
        Command::Patient(c) => clients::patient(c),
        Command::Status(a) => clients::status(a),
        Command::Bench(a) => bench::run(a),
        Command::Openapi(a) => openapi::run(a),
        Command::Completions(a) => completions::run(a),
    }
}

/// `--params DIR`, shared by the commands that load keys.
#[derive(clap::Args, Debug, Clone)]
pub struct ParamsArg {
    /// Parameter directory (default: $CONSENTRY_PARAMS, ./params, or the source tree's params/).
    #[arg(long, value_name = "DIR")]
    pub params: Option<PathBuf>,
}
