//! `consentry identity`: an institution's credential secret.

use std::path::PathBuf;

use consentry_circuits::credential::SecretKey;
use consentry_circuits::field;

use crate::files;

/// Identity subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum IdentityCommand {
    /// Make a new secret from OS randomness, write it (mode 0600) and print the public id.
    New {
        /// Identity file to create (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the public id of an identity file.
    Show {
        /// The identity file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Runs an identity subcommand.
pub fn run(c: IdentityCommand) -> anyhow::Result<()> {
    match c {
        IdentityCommand::New { out } => {
            let sk = SecretKey::random(&mut rand::rngs::OsRng);
            let id = files::write_identity(&out, &sk)?;
            outln!("{}", field::to_hex(&id.0))?;
        }
        IdentityCommand::Show { file } => {
            outln!("{}", field::to_hex(&files::read_identity(&file)?.id().0))?;
        }
    }
    Ok(())
}
