//! `consentry inspector`: the key of the authority that can open one access's escrow under
//! due process (accountable anonymity, `docs/escrow.md`). Opening (`inspector open`) comes
//! with the ledger's escrowed accesses; the key is what a genesis names.

use std::path::PathBuf;

use consentry_circuits::escrow::InspectorSecret;

use crate::ledger::keys;

/// Inspector subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum InspectorCommand {
    /// Make an inspector key (a Jubjub scalar from OS randomness), write it (mode 0600, never
    /// over an existing file) and print its public key (32 bytes, hex: what genesis names).
    Keygen {
        /// Key file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the public key of an inspector key file.
    Show {
        /// The key file.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
}

/// Runs an inspector subcommand.
pub fn run(c: InspectorCommand) -> anyhow::Result<()> {
    match c {
        InspectorCommand::Keygen { out } => {
            let key = InspectorSecret::random(&mut rand::rngs::OsRng);
            keys::write_inspector(&out, &key)?;
            outln!("{}", hex::encode(key.public().to_bytes()))?;
        }
        InspectorCommand::Show { key } => {
            let key = keys::read_inspector(&key)?;
            outln!("{}", hex::encode(key.public().to_bytes()))?;
        }
    }
    Ok(())
}
