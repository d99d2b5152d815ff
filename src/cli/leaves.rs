//! `consentry leaves`: a local registry leaf list. Until a node serves the registry, this is
//! how an issuer records credentials and how an institution obtains the public list.

use std::path::{Path, PathBuf};

use anyhow::Context;
use consentry_circuits::credential::{Credential, InstitutionId};
use consentry_circuits::registry::{RegistryTree, DEFAULT_DEPTH};
use consentry_circuits::{field, Fr};

use super::args::{parse_field, AttributeArgs};
use crate::files::LeafList;

/// Leaf-list subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum LeavesCommand {
    /// Append the leaf of a credential for an institution id (creates the file if needed).
    Add {
        /// Leaf-list file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// The institution's public id (from `consentry identity new`).
        #[arg(long, value_parser = parse_field)]
        id: Fr,
        /// The credential's attributes.
        #[command(flatten)]
        attributes: AttributeArgs,
        /// Registry depth when creating the file.
        #[arg(long, default_value_t = DEFAULT_DEPTH, value_parser = super::args::parse_depth)]
        depth: usize,
    },
    /// Empty the leaf at an index (revocation).
    Revoke {
        /// Leaf-list file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Leaf index.
        #[arg(long)]
        index: u64,
    },
    /// Print the registry root of a leaf list.
    Root {
        /// Leaf-list file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

fn load_or_new(file: &Path, depth: usize) -> anyhow::Result<(LeafList, RegistryTree)> {
    if !file.exists() {
        return Ok((LeafList::new(depth), RegistryTree::new(depth)?));
    }
    let (list, leaves) = LeafList::read(file)?;
    let tree = RegistryTree::from_leaves(list.depth, &leaves)
        .with_context(|| format!("{}", file.display()))?;
    Ok((list, tree))
}

/// Runs a leaf-list subcommand.
pub fn run(c: LeavesCommand) -> anyhow::Result<()> {
    match c {
        LeavesCommand::Add {
            file,
            id,
            attributes,
            depth,
        } => {
            let (mut list, mut tree) = load_or_new(&file, depth)?;
            let leaf = Credential {
                id: InstitutionId(id),
                attributes: attributes.attributes(),
            }
            .leaf();
            let index = tree.append(leaf)?;
            list.leaves.push(field::to_hex(&leaf));
            list.write(&file)?;
            outln!(
                "index {index}\nleaf {}\nroot {}",
                field::to_hex(&leaf),
                field::to_hex(&tree.root())
            )?;
        }
        LeavesCommand::Revoke { file, index } => {
            anyhow::ensure!(file.exists(), "{}: no such leaf list", file.display());
            let (mut list, mut tree) = load_or_new(&file, DEFAULT_DEPTH)?;
            tree.revoke(index)?;
            list.leaves[index as usize] = field::to_hex(&consentry_circuits::registry::EMPTY_LEAF);
            list.write(&file)?;
            outln!("revoked {index}\nroot {}", field::to_hex(&tree.root()))?;
        }
        LeavesCommand::Root { file } => {
            anyhow::ensure!(file.exists(), "{}: no such leaf list", file.display());
            let (_, tree) = load_or_new(&file, DEFAULT_DEPTH)?;
            outln!("{}", field::to_hex(&tree.root()))?;
        }
    }
    Ok(())
}
