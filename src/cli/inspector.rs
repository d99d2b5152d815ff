//! `consentry inspector`: the authority that can open one access's escrow under due process
//! (accountable anonymity, `docs/escrow.md`). Its key file holds a Jubjub secret (escrows are
//! encrypted to its public key) from which its Ed25519 signing key is derived (openings are
//! signed with it); the genesis names both public keys.

use std::path::PathBuf;

use anyhow::{bail, Context};
use consentry_circuits::escrow::{Escrow, InspectorSecret};
use serde::Serialize;

use super::args::NodeArg;
use super::clients::print;
use crate::client::{builder, ClientError, NodeClient};
use crate::ledger::{keys, Body, Hash32, Opening};

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

/// What `inspector open` found.
#[derive(Serialize)]
struct Opened {
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
            node,
        } => open(key, tx, case, node)?,
    }
    Ok(())
}

fn open(key: PathBuf, tx: Hash32, case: String, node: NodeArg) -> anyhow::Result<()> {
    let secret = keys::read_inspector(&key)?;
    let client = NodeClient::new(&node.node);
    let genesis = client.genesis()?;
    // A key that is not the chain's inspector's would "open" every escrow to a meaningless
    // value: refuse before anything is sent.
    let Some(inspector) = &genesis.inspector else {
        bail!(
            "chain {} has no inspector: nothing can be opened",
            genesis.chain_id
        );
    };
    if secret.public().to_bytes() != inspector.escrow_key {
        bail!(
            "{} is not the key of this chain's inspector ({}): it opens nothing (nothing was sent)",
            key.display(),
            inspector.name
        );
    }
    let (_, access) = client
        .committed(&tx.to_hex())
        .with_context(|| format!("access {tx} (nothing was sent)"))?;
    let Body::Access(a) = &access.body else {
        bail!(
            "{tx} is a {} transaction, not an access (nothing was sent)",
            access.body.kind()
        );
    };
    let Some(bytes) = a.claim.escrow else {
        bail!("access {tx} carries no escrow: it cannot be opened (nothing was sent)");
    };
    let escrow = Escrow::from_bytes(&bytes.0).context("the access's escrow")?;
    // On the record first: the opening commits (or already has, under this case) before the
    // id is decrypted.
    let opening = builder::inspector_signed(
        &keys::inspector_signing_key(&secret),
        &genesis.chain_id,
        Body::Opening(Opening { access: tx, case }),
    );
    let (height, already_recorded) = match client.submit(&opening, true) {
        Ok(r) => match r.height {
            Some(h) => (h, false),
            None => bail!("the opening {} was not committed in time; run again", r.id),
        },
        Err(ClientError::Problem { code, .. }) if code == "Replay" => {
            (client.committed(&opening.id().to_hex())?.0, true)
        }
        Err(e) => return Err(e).context("recording the opening (nothing was decrypted)"),
    };
    let id = secret.open(&escrow);
    let out = Opened {
        access: tx.to_hex(),
        opening: opening.id().to_hex(),
        height,
        institution_id: consentry_circuits::field::to_hex(&id.0),
        already_recorded,
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
