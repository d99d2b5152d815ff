//! `consentry inspector`: the authority that can open one access's escrow under due process
//! (accountable anonymity, `docs/escrow.md`). Its key file holds a Jubjub secret (escrows are
//! encrypted to its public key) from which its Ed25519 signing key is derived (openings are
//! signed with it); the genesis names both public keys.

use std::path::PathBuf;

use anyhow::bail;
use consentry_circuits::escrow::InspectorSecret;
use serde::Serialize;

use super::args::NodeArg;
use super::clients::print;
use crate::client::opening::OpenError;
use crate::client::NodeClient;
use crate::ledger::{keys, Body, Hash32};

/// Inspector subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum InspectorCommand {
    /// Make an inspector key (a Jubjub scalar from OS randomness), write it (mode 0600, never
    /// over an existing file) and print its public keys as JSON: `escrow_key` (what escrows
    /// are encrypted to, and `consentry setup --inspector` takes) and `signing_key` (what
    /// signs openings); the genesis names both.
    Keygen {
        /// Key file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the public keys of an inspector key file (as `keygen`).
    Show {
        /// The key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
    /// Open one escrowed access: record the opening on the ledger (an `Opening` signed by
    /// this key, naming the access and the case), wait for it to commit, then decrypt the
    /// access's escrow and print the institution's id (which its issuer maps to a name with
    /// `consentry issuer whois`). Nothing is decrypted unless the opening is on the record.
    Open {
        /// The inspector key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The access transaction's id.
        #[arg(long, value_name = "ID", value_parser = parse_tx_id)]
        tx: Hash32,
        /// The case reference the opening is recorded under (public, 1 to 256 bytes).
        #[arg(long, value_name = "REF")]
        case: String,
        /// The chain's genesis (JSON) to check the node against: the access and the opening
        /// must be final under its validators. Without it the node's own genesis is used, so
        /// use a node you trust (your own validator).
        #[arg(long, value_name = "FILE")]
        genesis: Option<PathBuf>,
        /// Node.
        #[command(flatten)]
        node: NodeArg,
    },
}

fn parse_tx_id(s: &str) -> Result<Hash32, String> {
    Hash32::from_hex(s)
}

/// An inspector's public keys, as `keygen` and `show` print them.
#[derive(Serialize)]
struct PublicKeys {
    escrow_key: String,
    signing_key: String,
}

fn public_keys(secret: &InspectorSecret) -> PublicKeys {
    PublicKeys {
        escrow_key: hex::encode(secret.public().to_bytes()),
        signing_key: hex::encode(
            keys::inspector_signing_key(secret)
                .verifying_key()
                .to_bytes(),
        ),
    }
}

/// What `inspector open` prints.
#[derive(Serialize)]
struct Printed {
    /// The opened access.
    access: String,
    /// The committed opening.
    opening: String,
    /// Its block.
    height: u64,
    /// The institution's id (0x-prefixed field element, as `identity new` prints it).
    institution_id: String,
    /// The opening was already on the record under this case (a second run).
    already_recorded: bool,
}

/// Runs an inspector subcommand.
pub fn run(c: InspectorCommand) -> anyhow::Result<()> {
    match c {
        InspectorCommand::Keygen { out } => {
            let key = InspectorSecret::random(&mut rand::rngs::OsRng);
            keys::write_inspector(&out, &key)?;
            outln!("{}", serde_json::to_string(&public_keys(&key))?)?;
        }
        InspectorCommand::Show { key } => {
            let key = keys::read_inspector(&key)?;
            outln!("{}", serde_json::to_string(&public_keys(&key))?)?;
        }
        InspectorCommand::Open {
            key,
            tx,
            case,
            genesis,
            node,
        } => open(key, tx, case, genesis, node)?,
    }
    Ok(())
}

fn open(
    key: PathBuf,
    tx: Hash32,
    case: String,
    pinned: Option<PathBuf>,
    node: NodeArg,
) -> anyhow::Result<()> {
    let secret = keys::read_inspector(&key)?;
    let client = NodeClient::new(&node.node);
    let served = client.genesis()?;
    let genesis = match pinned {
        None => served,
        Some(file) => {
            let pinned: crate::ledger::Genesis = crate::files::read_json(&file)?;
            let id = |g: &crate::ledger::Genesis| Body::Genesis(g.clone()).id();
            if id(&pinned) != id(&served) {
                bail!(
                    "the node at {} serves another chain than {} (nothing was sent)",
                    node.node,
                    file.display()
                );
            }
            pinned
        }
    };
    let opened = crate::client::opening::open(&client, &genesis, &secret, tx, case).map_err(
        |e| match e {
            e @ (OpenError::NoInspector(_)
            | OpenError::NotTheInspector(_)
            | OpenError::NotOpenable(..)) => {
                anyhow::anyhow!("{}: {e} (nothing was sent)", key.display())
            }
            e => anyhow::Error::new(e).context("nothing was decrypted"),
        },
    )?;
    let out = Printed {
        access: tx.to_hex(),
        opening: opened.opening.to_hex(),
        height: opened.height,
        institution_id: consentry_circuits::field::to_hex(&opened.id.0),
        already_recorded: opened.already_recorded,
    };
    print(node.json, &out, || {
        outln!(
            "opening {} recorded in block {}{}",
            out.opening,
            out.height,
            if out.already_recorded {
                " (earlier, under this case)"
            } else {
                ""
            }
        )?;
        outln!(
            "access {} was made by institution id {}",
            out.access,
            out.institution_id
        )?;
        outln!(
            "ask its issuer: consentry issuer whois --id {}",
            out.institution_id
        )
    })?;
    Ok(())
}
