//! Argument parsers and argument groups shared by several commands.

use consentry_circuits::credential::{Attributes, Role};
use consentry_circuits::registry::levels;
use consentry_circuits::{field, Fr};

/// Parses a `0x`-prefixed (optional) 64-digit hex field element.
pub fn parse_field(s: &str) -> Result<Fr, String> {
    field::from_hex(s).map_err(|e| e.to_string())
}

/// Parses exactly 32 bytes of hex (a seed).
pub fn parse_seed(s: &str) -> Result<[u8; 32], String> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(digits).map_err(|e| format!("not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("a seed is 32 bytes (64 hex digits), got {}", b.len()))
}

/// Parses a registry depth (even, 2..=32: the 4-ary tree has depth/2 levels).
pub fn parse_depth(s: &str) -> Result<usize, String> {
    let d: usize = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    levels(d).map(|_| d).map_err(|e| e.to_string())
}

/// Today as days since 1970-01-01 (UTC).
pub fn today() -> u32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs / 86_400) as u32
}

/// A credential's attributes on the command line.
#[derive(clap::Args, Debug, Clone)]
pub struct AttributeArgs {
    /// Role: hospital, research, platform, insurer or regulator.
    #[arg(long)]
    pub role: Role,
    /// Accreditation level (0..=65535).
    #[arg(long)]
    pub level: u16,
    /// ISO 3166-1 numeric jurisdiction (e.g. 756 for Switzerland).
    #[arg(long)]
    pub jurisdiction: u16,
    /// Last valid day, as days since 1970-01-01.
    #[arg(long)]
    pub expiry_day: u32,
    /// The accrediting issuer's id.
    #[arg(long)]
    pub issuer_id: u32,
}

impl AttributeArgs {
    /// The attributes.
    pub fn attributes(&self) -> Attributes {
        Attributes {
            role: self.role,
            level: self.level,
            jurisdiction: self.jurisdiction,
            expiry_day: self.expiry_day,
            issuer_id: self.issuer_id,
        }
    }
}

/// What an institution passes to act: identity, synced leaves, attributes, parameters.
#[derive(clap::Args, Debug, Clone)]
pub struct HolderArgs {
    /// Identity file.
    #[arg(long, value_name = "FILE")]
    pub identity: std::path::PathBuf,
    /// Leaf list (synced with `consentry institution sync`, or kept by `consentry leaves`).
    #[arg(long, value_name = "FILE")]
    pub leaves: std::path::PathBuf,
    /// The credential's attributes, as issued.
    #[command(flatten)]
    pub attributes: AttributeArgs,
    /// Parameter directory.
    #[command(flatten)]
    pub params: super::ParamsArg,
}

impl HolderArgs {
    /// The holder and the registry tree built locally from the leaf list; fails (naming the
    /// file) when the credential is not live in it.
    pub fn holder_and_tree(
        &self,
    ) -> anyhow::Result<(
        crate::client::builder::Holder,
        consentry_circuits::registry::RegistryTree,
    )> {
        use anyhow::Context;
        let sk = crate::files::read_identity(&self.identity)?;
        let (list, leaves) = crate::files::LeafList::read(&self.leaves)?;
        if let Some(issuer) = list.issuer_id.filter(|i| *i != self.attributes.issuer_id) {
            anyhow::bail!(
                "{}: the leaves of issuer {issuer}'s registry, but the credential is from issuer {} (sync with --issuer-id {})",
                self.leaves.display(),
                self.attributes.issuer_id,
                self.attributes.issuer_id
            );
        }
        let tree = consentry_circuits::registry::RegistryTree::from_leaves(list.depth, &leaves)
            .with_context(|| self.leaves.display().to_string())?;
        let holder = crate::client::builder::Holder {
            sk,
            attributes: self.attributes.attributes(),
        };
        if tree.position(&holder.leaf()).is_none() {
            anyhow::bail!(
                "{}: no live leaf for this identity with these attributes (not issued, revoked, or the list is stale)",
                self.leaves.display()
            );
        }
        Ok((holder, tree))
    }

    /// The proving key for `depth` from the parameter directory.
    pub fn prover(&self, depth: usize) -> anyhow::Result<consentry_circuits::groth::Prover> {
        let dir = crate::params::resolve_dir(self.params.params.as_deref());
        Ok(crate::params::load_prover(&dir, depth)?)
    }

    /// The escrow circuit's prover for `depth` and the chain's inspector (from the node's
    /// genesis), after checking that the local escrow verifying key is the one the genesis
    /// names: keys made for another inspector would make proofs every validator refuses.
    pub fn escrow_prover(
        &self,
        client: &crate::client::NodeClient,
        depth: usize,
    ) -> anyhow::Result<consentry_circuits::escrow::groth::EscrowProver> {
        let genesis = client.genesis()?;
        let inspector = genesis.inspector.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "chain {} has no inspector: no access can be escrowed (nothing was sent)",
                genesis.chain_id
            )
        })?;
        let named = inspector
            .verifying_keys
            .iter()
            .find(|k| k.depth as usize == depth)
            .ok_or_else(|| anyhow::anyhow!("the genesis names no escrow key for depth {depth}"))?;
        let dir = crate::params::resolve_dir(self.params.params.as_deref());
        let (_, digest) = crate::params::load_escrow_verifier(&dir, depth)?;
        anyhow::ensure!(
            digest == named.digest.0,
            "{}: the escrow verifying key is not the one the genesis names (SHA-256 {}, the \
             genesis {}); nothing was sent",
            dir.display(),
            hex::encode(digest),
            named.digest
        );
        let key = consentry_circuits::escrow::InspectorKey::from_bytes(&inspector.escrow_key)?;
        Ok(crate::params::load_escrow_prover(&dir, depth, key)?)
    }
}

/// `--node URL` and `--json`: where the client commands send, and how they print.
#[derive(clap::Args, Debug, Clone)]
pub struct NodeArg {
    /// The node's base URL (or set CONSENTRY_NODE).
    #[arg(long, env = "CONSENTRY_NODE", default_value = crate::client::DEFAULT_NODE,
          value_parser = crate::client::parse_base_url)]
    pub node: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}
