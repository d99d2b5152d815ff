//! The ledger: creates the genesis block, proposes and applies blocks, commits each as one
//! atomic store batch, and answers queries about the committed state.

use std::collections::HashMap;

use std::collections::BTreeMap;
use std::sync::Arc;

use consentry_circuits::groth::Verifier;
use consentry_circuits::registry::RegistryTree;
use consentry_circuits::token::Token;
use consentry_circuits::{field, Fr};
use ed25519_dalek::SigningKey;

use super::block::{self, Block, BlockHeader};
use super::checks::{self, Context};
use super::execute::{self, ExecError, Execution, Mode, VerifiedTokens};
use super::forest::{Forest, RootWindow};
use super::records::{
    self, HistoryEntry, IssuedLeaf, LeafRecord, ReplacedRoots, StreamState, TxRecord, HEIGHT_KEY,
};
use super::rejection::Rejection;
use super::state::ChainState;
use super::transaction::{Body, Genesis, Transaction};
use super::types::{Hash32, TxId};
use crate::store::{Batch, Column, Store, StoreError};

/// A committed block and the transactions left out of it, with their reasons.
pub type Proposal = (Block, Vec<(TxId, Rejection)>);

/// The outcome of sealing admitted transactions: the committed block, if any transaction was
/// accepted, and the rejected ones with their reasons.
#[derive(Debug)]
pub struct Sealed {
    /// The committed block.
    pub block: Option<Block>,
    /// Transactions left out, with why.
    pub rejected: Vec<(TxId, Rejection)>,
}

/// What became of one signature offered by another validator ([`Ledger::countersign`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Countersign {
    /// Stored: it counts toward the block's quorum.
    Added,
    /// Already stored.
    Known,
    /// The block is not applied here yet.
    Ahead,
    /// It signs a different header than this validator's block of that height.
    Mismatch {
        /// This validator's header hash.
        ours: Hash32,
    },
    /// It does not verify.
    BadSignature,
    /// The key is not a genesis validator.
    NotValidator,
}

/// Which verifying key a token needs: the registry depth of its circuit, and whether it is
/// the escrow circuit (for the genesis inspector) or the plain access circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    /// Registry depth.
    pub depth: u8,
    /// The escrow circuit's key.
    pub escrow: bool,
}

impl KeyId {
    /// The plain access circuit's key for `depth`.
    pub fn plain(depth: u8) -> Self {
        KeyId {
            depth,
            escrow: false,
        }
    }

    /// The key `token` is verified with.
    pub fn of(token: &Token) -> Self {
        KeyId {
            depth: token.depth,
            escrow: token.escrow.is_some(),
        }
    }

    /// Why no key of this id is accepted, as a rejection.
    pub fn unknown(self) -> Rejection {
        match self.escrow {
            false => Rejection::UnknownDepth(self.depth),
            true => Rejection::UnknownEscrowDepth(self.depth),
        }
    }
}

/// The prepared verifier of every key the genesis accepts.
pub type Verifiers = HashMap<KeyId, Verifier>;

/// The verifying keys a node loaded for a genesis ([`crate::params::load_genesis_keys`]).
pub type LoadedKeys = HashMap<KeyId, LoadedKey>;

/// A verifying key the node loaded, with the digest of its file.
#[derive(Clone)]
pub struct LoadedKey {
    /// The prepared verifier.
    pub verifier: Verifier,
    /// SHA-256 of the `.vk` file.
    pub digest: Hash32,
}

/// Why a ledger operation failed (as opposed to a transaction being rejected).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store holds no chain yet.
    #[error("the data directory holds no chain (no genesis block)")]
    NotInitialised,
    /// The store already holds a chain.
    #[error("the data directory already holds a chain")]
    AlreadyInitialised,
    /// The genesis or the loaded keys are inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// A block failed after the in-memory state had already moved (its registry changes were
    /// applied) or its write failed: the ledger refuses everything until it is reopened,
    /// which rebuilds the state from what was committed.
    #[error("the ledger's in-memory state is ahead of its store ({0}); reopen it")]
    Stale(String),
    /// A block failed validation.
    #[error("block {height} is invalid: {reason}")]
    InvalidBlock {
        /// Its height.
        height: u64,
        /// Why.
        reason: String,
    },
}

fn invalid(height: u64, reason: impl Into<String>) -> LedgerError {
    LedgerError::InvalidBlock {
        height,
        reason: reason.into(),
    }
}

/// The ledger over a store.
pub struct Ledger<S: Store> {
    store: S,
    state: ChainState,
    verifiers: Verifiers,
    /// Set when the in-memory state moved past the store ([`LedgerError::Stale`]).
    stale: Option<String>,
}

/// Every verifying key the genesis accepts, with its id: the access circuit's, then the
/// inspector's escrow circuit's.
pub fn genesis_key_ids(genesis: &Genesis) -> Vec<(KeyId, Hash32)> {
    let plain = genesis
        .verifying_keys
        .iter()
        .map(|e| (KeyId::plain(e.depth), e.digest));
    let escrow = genesis.inspector.iter().flat_map(|i| {
        i.verifying_keys.iter().map(|e| {
            (
                KeyId {
                    depth: e.depth,
                    escrow: true,
                },
                e.digest,
            )
        })
    });
    plain.chain(escrow).collect()
}

fn check_keys(genesis: &Genesis, mut keys: LoadedKeys) -> Result<Verifiers, LedgerError> {
    let mut verifiers = HashMap::new();
    for (id, digest) in genesis_key_ids(genesis) {
        let circuit = if id.escrow { "escrow" } else { "access" };
        let key = keys.remove(&id).ok_or_else(|| {
            LedgerError::Config(format!(
                "no {circuit} verifying key loaded for depth {}",
                id.depth
            ))
        })?;
        if key.digest != digest {
            return Err(LedgerError::Config(format!(
                "the depth-{} {circuit} verifying key has SHA-256 {}, the genesis requires {}",
                id.depth, key.digest, digest
            )));
        }
        if key.verifier.escrowed() != id.escrow {
            return Err(LedgerError::Config(format!(
                "the depth-{} {circuit} verifying key is not one of that circuit",
                id.depth
            )));
        }
        verifiers.insert(id, key.verifier);
    }
    Ok(verifiers)
}

fn empty_forest(genesis: &Genesis) -> Result<Forest, LedgerError> {
    Forest::new(genesis, &BTreeMap::new()).map_err(LedgerError::Config)
}

fn genesis_header(
    genesis: &Genesis,
    genesis_id: TxId,
    proposer: [u8; 32],
) -> Result<BlockHeader, LedgerError> {
    Ok(BlockHeader {
        height: 0,
        prev_hash: Hash32::default(),
        tx_root: block::tx_root(&[genesis_id]),
        registry_root: empty_forest(genesis)?.digest(),
        time_ms: genesis.time_ms,
        proposer,
    })
}

fn check_genesis(genesis: &Genesis) -> Result<(), LedgerError> {
    let bad = |m: &str| Err(LedgerError::Config(m.into()));
    // The chain id is framed by a zero byte in what is hashed and signed: keep it printable.
    if genesis.chain_id.is_empty()
        || genesis.chain_id.len() > 64
        || !genesis
            .chain_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
    {
        return bad("chain_id must be 1 to 64 characters of A-Z a-z 0-9 . _ : -");
    }
    if genesis.validators.is_empty()
        || genesis.quorum == 0
        || genesis.quorum as usize > genesis.validators.len()
    {
        return bad("quorum must be between 1 and the number of validators");
    }
    if genesis.root_window_secs == 0 {
        return bad("root_window_secs must be at least 1");
    }
    if genesis.issuers.len() > super::types::MAX_LIST {
        return bad("at most 64 issuers");
    }
    let mut ids = std::collections::HashSet::new();
    if !genesis.issuers.iter().all(|i| ids.insert(i.issuer_id)) {
        return bad("issuer ids must be distinct");
    }
    if genesis.verifying_keys.is_empty() {
        return bad("at least one verifying key is required");
    }
    for v in &genesis.validators {
        ed25519_dalek::VerifyingKey::from_bytes(v).map_err(|_| {
            LedgerError::Config("a validator key is not a valid Ed25519 key".into())
        })?;
    }
    for i in &genesis.issuers {
        ed25519_dalek::VerifyingKey::from_bytes(&i.key).map_err(|_| {
            LedgerError::Config(format!(
                "issuer {} key is not a valid Ed25519 key",
                i.issuer_id
            ))
        })?;
    }
    if let Some(i) = &genesis.inspector {
        if i.name.is_empty() || i.name.len() > super::types::MAX_TEXT {
            return bad("the inspector's name must be 1 to 256 bytes");
        }
        consentry_circuits::escrow::InspectorKey::from_bytes(&i.escrow_key)
            .map_err(|e| LedgerError::Config(format!("the inspector's escrow key: {e}")))?;
        ed25519_dalek::VerifyingKey::from_bytes(&i.signing_key).map_err(|_| {
            LedgerError::Config("the inspector's signing key is not a valid Ed25519 key".into())
        })?;
        if i.verifying_keys.is_empty() {
            return bad("an inspector needs at least one escrow verifying key");
        }
    }
    Ok(())
}

/// Whether `sigs` are valid signatures over `header` by at least a quorum of distinct genesis
/// validators (and by no other key): what makes a block final, checked from the genesis alone.
pub fn check_quorum(
    genesis: &Genesis,
    header: &BlockHeader,
    sigs: &[block::BlockSignature],
) -> Result<(), LedgerError> {
    let hash = header.hash();
    let mut signers = std::collections::HashSet::new();
    for sig in sigs {
        if !genesis.validators.contains(&sig.validator) {
            return Err(invalid(
                header.height,
                "signed by a key that is not a validator",
            ));
        }
        if !block::signature_valid(sig, &genesis.chain_id, &hash) {
            return Err(invalid(
                header.height,
                "a validator signature does not verify",
            ));
        }
        signers.insert(sig.validator);
    }
    if signers.len() < genesis.quorum as usize {
        return Err(invalid(
            header.height,
            format!(
                "{} of {} required signatures",
                signers.len(),
                genesis.quorum
            ),
        ));
    }
    Ok(())
}

impl<S: Store> Ledger<S> {
    /// Writes the genesis block (signed by `key`, which must be a validator) into an empty store.
    pub fn create(
        store: S,
        genesis: Genesis,
        keys: LoadedKeys,
        key: &SigningKey,
    ) -> Result<Self, LedgerError> {
        let tx = Transaction {
            body: Body::Genesis(genesis.clone()),
            auth: Default::default(),
        };
        if !genesis.validators.contains(&key.verifying_key().to_bytes()) {
            return Err(LedgerError::Config(
                "this validator's key is not among the genesis validators".into(),
            ));
        }
        // Block 0 is derived from the genesis alone, so every validator builds the same one
        // (its proposer is the first genesis validator) and signs it like any other block;
        // the other validators' signatures are collected afterwards.
        let proposer = *genesis
            .validators
            .first()
            .ok_or_else(|| LedgerError::Config("the genesis names no validator".into()))?;
        let header = genesis_header(&genesis, tx.id(), proposer)?;
        let block = Block {
            signatures: vec![block::sign_header(key, &genesis.chain_id, &header.hash())],
            tx_ids: vec![tx.id()],
            header,
        };
        Self::init(store, tx, block, keys, false)
    }

    /// Initialises an empty store from a genesis transaction and its signed block 0.
    pub fn create_from_block(
        store: S,
        tx: Transaction,
        block: Block,
        keys: LoadedKeys,
    ) -> Result<Self, LedgerError> {
        Self::init(store, tx, block, keys, true)
    }

    fn init(
        store: S,
        tx: Transaction,
        block: Block,
        keys: LoadedKeys,
        need_quorum: bool,
    ) -> Result<Self, LedgerError> {
        if store.get(Column::Meta, HEIGHT_KEY)?.is_some() {
            return Err(LedgerError::AlreadyInitialised);
        }
        let Body::Genesis(genesis) = &tx.body else {
            return Err(invalid(0, "block 0 must hold the genesis transaction"));
        };
        check_genesis(genesis)?;
        let verifiers = check_keys(genesis, keys)?;
        let expected = genesis_header(genesis, tx.id(), block.header.proposer)?;
        if block.header != expected || block.tx_ids != vec![tx.id()] {
            return Err(invalid(
                0,
                "the genesis header does not match the genesis transaction",
            ));
        }
        if need_quorum {
            check_quorum(genesis, &block.header, &block.signatures)?;
        }
        let mut batch = crate::store::Batch::default();
        batch.put(
            Column::Transactions,
            tx.id().0.to_vec(),
            records::encode(&TxRecord {
                height: 0,
                index: 0,
                bytes: tx.to_bytes(),
            }),
        );
        batch.put(
            Column::Blocks,
            0u64.to_be_bytes().to_vec(),
            block.to_bytes(),
        );
        batch.put(
            Column::Meta,
            HEIGHT_KEY.to_vec(),
            0u64.to_be_bytes().to_vec(),
        );
        store.commit(batch)?;
        let state = ChainState::new(genesis.clone(), block.header, empty_forest(genesis)?);
        Ok(Ledger {
            store,
            state,
            verifiers,
            stale: None,
        })
    }

    /// Opens an initialised store, rebuilding the in-memory state (registry tree, root window).
    pub fn open(store: S, keys: LoadedKeys) -> Result<Self, LedgerError> {
        let height = read_height(&store)?.ok_or(LedgerError::NotInitialised)?;
        let block0 = read_block(&store, 0)?.ok_or(LedgerError::NotInitialised)?;
        let tx0 = read_tx(&store, &block0.tx_ids[0])?
            .ok_or_else(|| invalid(0, "genesis transaction missing"))?;
        let Body::Genesis(genesis) = tx0.1.body else {
            return Err(invalid(0, "block 0 does not hold a genesis transaction"));
        };
        let verifiers = check_keys(&genesis, keys)?;

        let corrupt = |reason: String| StoreError::Corrupt {
            column: "registry",
            reason,
        };
        let mut leaves: BTreeMap<u32, Vec<Fr>> = BTreeMap::new();
        for (k, v) in store.scan(Column::Registry, &[], None, usize::MAX)? {
            let rec: LeafRecord = records::decode(Column::Registry, &v)?;
            if k.len() != 12 {
                return Err(corrupt(format!("leaf key of {} bytes", k.len())).into());
            }
            let issuer = u32::from_be_bytes(k[..4].try_into().expect("4 bytes"));
            let index = u64::from_be_bytes(k[4..].try_into().expect("8 bytes"));
            let tree = leaves.entry(issuer).or_default();
            if index != tree.len() as u64 {
                return Err(
                    corrupt(format!("issuer {issuer}'s leaf {index} is out of order")).into(),
                );
            }
            tree.push(field::from_bytes(&rec.leaf.0).map_err(|e| corrupt(e.to_string()))?);
        }
        let mut forest = Forest::new(&genesis, &leaves).map_err(corrupt)?;
        let tip = read_block(&store, height)?
            .ok_or_else(|| invalid(height, "block missing"))?
            .header;
        if forest.digest() != tip.registry_root {
            return Err(corrupt("leaves do not match the tip's registry digest".into()).into());
        }
        // The root window: the roots replaced by the blocks of the last `root_window_secs`.
        let window_ms = genesis.root_window_secs as u64 * 1000;
        let since = first_height_at(&store, height, tip.time_ms.saturating_sub(window_ms))?;
        for (_, v) in store.scan(
            Column::Meta,
            b"replaced/",
            Some(&records::replaced_key(since)),
            usize::MAX,
        )? {
            let rec: ReplacedRoots = records::decode(Column::Meta, &v)?;
            for (issuer, root) in rec.roots {
                forest.restore_replaced(issuer, root, rec.time_ms);
            }
        }
        forest.rebuild_window(tip.time_ms);
        let state = ChainState::new(genesis, tip, forest);
        Ok(Ledger {
            store,
            state,
            verifiers,
            stale: None,
        })
    }

    /// Executes `txs` as the next block, signs it with `key` and commits it. Rejected
    /// transactions are left out and returned with their reasons. With a quorum above one the
    /// block still needs the other validators' signatures (the cluster issue); here it is
    /// final when `key` alone is a quorum.
    pub fn propose(
        &mut self,
        txs: Vec<Transaction>,
        time_ms: u64,
        key: &SigningKey,
    ) -> Result<Proposal, LedgerError> {
        let proposer = key.verifying_key().to_bytes();
        let sealed = self.build(txs, None, time_ms, proposer, key, true, Batch::default())?;
        Ok((
            sealed
                .block
                .expect("an empty block is committed on request"),
            sealed.rejected,
        ))
    }

    /// [`Ledger::propose`] for transactions that passed [`Ledger::token_of`] at admission,
    /// with the tokens it returned: their decoding and signatures are not checked again, the
    /// claims' root window and day are; their proofs were batch-verified by the caller
    /// ([`VerifiedTokens::verify`]). When every transaction is rejected no block is committed: otherwise a flood of invalid proofs would make empty blocks and slide the
    /// root window, expiring honest clients' roots early.
    pub fn propose_admitted(
        &mut self,
        txs: Vec<Transaction>,
        admitted: VerifiedTokens,
        time_ms: u64,
        key: &SigningKey,
    ) -> Result<Sealed, LedgerError> {
        let proposer = key.verifying_key().to_bytes();
        self.build(
            txs,
            Some(admitted),
            time_ms,
            proposer,
            key,
            false,
            Batch::default(),
        )
    }

    /// Executes a block proposal ordered by the consensus engine: `txs` in the proposer's
    /// order at the proposer's time, their tokens checked and batch-verified by the caller
    /// ([`Ledger::admission_context`], [`VerifiedTokens::verify_checked`]). Every validator runs
    /// this on the same proposal and the same state, so all build the same block (or, when
    /// every transaction is rejected, none); `key` signs the header as this validator's vote
    /// for it, and `extra` (the engine's applied point) is written in the block's batch.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_proposal(
        &mut self,
        txs: Vec<Transaction>,
        checked: VerifiedTokens,
        time_ms: u64,
        proposer: [u8; 32],
        key: &SigningKey,
        extra: Batch,
    ) -> Result<Sealed, LedgerError> {
        self.build(txs, Some(checked), time_ms, proposer, key, false, extra)
    }

    /// Commits `batch` (the consensus engine's own records, e.g. an entry that made no
    /// block) through the ledger, so it is ordered with the blocks.
    pub fn commit_extra(&mut self, batch: Batch) -> Result<(), LedgerError> {
        self.fresh()?;
        Ok(self.store.commit(batch)?)
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        txs: Vec<Transaction>,
        admitted: Option<VerifiedTokens>,
        time_ms: u64,
        proposer: [u8; 32],
        key: &SigningKey,
        commit_empty: bool,
        extra: Batch,
    ) -> Result<Sealed, LedgerError> {
        self.fresh()?;
        let height = self.state.tip().height + 1;
        let time_ms = time_ms.max(self.state.tip().time_ms);
        let exec = self.execute(
            txs,
            execute::Run {
                height,
                time_ms,
                day: (time_ms / 86_400_000) as u32,
                mode: Mode::Propose,
                admitted,
            },
        )?;
        let rejected = exec.rejected.clone();
        if exec.accepted.is_empty() && !commit_empty {
            if !extra.ops.is_empty() {
                self.store.commit(extra)?;
            }
            return Ok(Sealed {
                block: None,
                rejected,
            });
        }
        let replaced = match self.state.apply_registry(&exec.registry_ops, time_ms) {
            Ok(r) => r,
            Err(e) => return Err(self.go_stale(invalid(height, e))),
        };
        let header = BlockHeader {
            height,
            prev_hash: self.state.tip_hash(),
            tx_root: block::tx_root(&exec.accepted.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
            registry_root: self.state.forest().digest(),
            time_ms,
            proposer,
        };
        let block = Block {
            signatures: vec![block::sign_header(
                key,
                &self.state.genesis().chain_id,
                &header.hash(),
            )],
            tx_ids: exec.accepted.iter().map(|(id, _)| *id).collect(),
            header,
        };
        let mut exec = exec;
        exec.batch.ops.extend(extra.ops);
        self.commit(exec, &block, replaced)?;
        Ok(Sealed {
            block: Some(block),
            rejected,
        })
    }

    /// Validates and applies a block made elsewhere (another validator, or a replay).
    pub fn apply(&mut self, block: &Block, txs: Vec<Transaction>) -> Result<(), LedgerError> {
        self.fresh()?;
        let h = block.header.height;
        let tip = self.state.tip();
        if h != tip.height + 1 {
            return Err(invalid(h, format!("expected height {}", tip.height + 1)));
        }
        if block.header.prev_hash != self.state.tip_hash() {
            return Err(invalid(h, "previous-hash link is broken"));
        }
        if block.header.time_ms < tip.time_ms {
            return Err(invalid(h, "time goes backwards"));
        }
        let ids: Vec<TxId> = txs.iter().map(|t| t.id()).collect();
        if ids != block.tx_ids || block::tx_root(&ids) != block.header.tx_root {
            return Err(invalid(
                h,
                "transactions do not match the header's Merkle root",
            ));
        }
        check_quorum(self.state.genesis(), &block.header, &block.signatures)?;
        let exec = self.execute(
            txs,
            execute::Run {
                height: h,
                time_ms: block.header.time_ms,
                day: block.header.day(),
                mode: Mode::Replay,
                admitted: None,
            },
        )?;
        // From here the registry in memory moves before the block is known good: a failure
        // leaves the ledger stale until reopened (cloning the forest for every block would
        // make a replay quadratic in the registry's size).
        let replaced = match self
            .state
            .apply_registry(&exec.registry_ops, block.header.time_ms)
        {
            Ok(r) => r,
            Err(e) => return Err(self.go_stale(invalid(h, e))),
        };
        if self.state.forest().digest() != block.header.registry_root {
            return Err(self.go_stale(invalid(
                h,
                "registry digest after the block differs from the header",
            )));
        }
        self.commit(exec, block, replaced)
    }

    /// Adds other validators' signatures to the blocks they signed, in one write. Each is
    /// checked: by a genesis validator, over this validator's own header hash of that height.
    /// A signature over a different header (a bug, or a peer that built another block from
    /// the same proposal) is never stored: it is reported as [`Countersign::Mismatch`].
    pub fn countersign(
        &mut self,
        sigs: &[(u64, Hash32, block::BlockSignature)],
    ) -> Result<Vec<Countersign>, LedgerError> {
        self.fresh()?;
        let genesis = self.state.genesis().clone();
        let mut outcomes = Vec::with_capacity(sigs.len());
        let mut changed: BTreeMap<u64, Block> = BTreeMap::new();
        for (height, hash, sig) in sigs {
            if !genesis.validators.contains(&sig.validator) {
                outcomes.push(Countersign::NotValidator);
                continue;
            }
            if !block::signature_valid(sig, &genesis.chain_id, hash) {
                outcomes.push(Countersign::BadSignature);
                continue;
            }
            if *height > self.state.tip().height {
                outcomes.push(Countersign::Ahead);
                continue;
            }
            let block = match changed.get_mut(height) {
                Some(b) => b,
                None => {
                    let Some(b) = read_block(&self.store, *height)? else {
                        outcomes.push(Countersign::Ahead);
                        continue;
                    };
                    changed.entry(*height).or_insert(b)
                }
            };
            let ours = block.header.hash();
            if ours != *hash {
                outcomes.push(Countersign::Mismatch { ours });
                continue;
            }
            if block
                .signatures
                .iter()
                .any(|s| s.validator == sig.validator)
            {
                outcomes.push(Countersign::Known);
                continue;
            }
            block.signatures.push(sig.clone());
            outcomes.push(Countersign::Added);
        }
        if outcomes.contains(&Countersign::Added) {
            let mut batch = Batch::default();
            for (h, b) in changed {
                batch.put(Column::Blocks, h.to_be_bytes().to_vec(), b.to_bytes());
            }
            self.store.commit(batch)?;
        }
        Ok(outcomes)
    }

    /// Whether the block at `height` carries a quorum of genesis validators' signatures.
    pub fn is_final(&self, height: u64) -> Result<bool, LedgerError> {
        Ok(match read_block(&self.store, height)? {
            Some(b) => check_quorum(self.state.genesis(), &b.header, &b.signatures).is_ok(),
            None => false,
        })
    }

    fn fresh(&self) -> Result<(), LedgerError> {
        match &self.stale {
            Some(why) => Err(LedgerError::Stale(why.clone())),
            None => Ok(()),
        }
    }

    /// Marks the ledger stale because of `e`, and returns `e`.
    fn go_stale(&mut self, e: LedgerError) -> LedgerError {
        self.stale = Some(e.to_string());
        e
    }

    /// Executes `txs` on the committed state; a failed replay is an invalid block.
    fn execute(&self, txs: Vec<Transaction>, run: execute::Run) -> Result<Execution, LedgerError> {
        let height = run.height;
        execute::execute(&self.store, &self.state, &self.verifiers, txs, run).map_err(|e| match e {
            ExecError::Store(s) => LedgerError::Store(s),
            other => invalid(height, other.to_string()),
        })
    }

    /// Writes a block and its effects (with the roots it replaced) as one synced batch, then
    /// moves the tip.
    fn commit(
        &mut self,
        mut exec: Execution,
        block: &Block,
        replaced: Vec<(u32, Hash32)>,
    ) -> Result<(), LedgerError> {
        let h = block.header.height;
        if !replaced.is_empty() {
            exec.batch.put(
                Column::Meta,
                records::replaced_key(h),
                records::encode(&ReplacedRoots {
                    time_ms: block.header.time_ms,
                    roots: replaced,
                }),
            );
        }
        exec.batch
            .put(Column::Blocks, h.to_be_bytes().to_vec(), block.to_bytes());
        exec.batch
            .put(Column::Meta, HEIGHT_KEY.to_vec(), h.to_be_bytes().to_vec());
        // If this fails the in-memory registry is ahead of the store: the ledger goes stale
        // and the caller must reopen it, which rebuilds the state from what was committed.
        if let Err(e) = self.store.commit(exec.batch) {
            return Err(self.go_stale(e.into()));
        }
        self.state.advance(block.header.clone());
        Ok(())
    }

    /// Checks a transaction against the committed state as if it were the only one in the
    /// next block (mempool admission; the block is not written), proof included.
    pub fn check(&self, tx: &Transaction, time_ms: u64) -> Result<(), Rejection> {
        if let Some(token) = self.token_of(tx, time_ms)? {
            let id = KeyId::of(&token);
            let verifier = self.verifiers.get(&id).ok_or_else(|| id.unknown())?;
            verifier
                .verify(&token)
                .map_err(|_| Rejection::ProofInvalid)?;
        }
        self.check_state(tx, time_ms)
    }

    /// The time the next block will have if sealed at `time_ms` (block times never go back).
    fn next_time(&self, time_ms: u64) -> u64 {
        time_ms.max(self.state.tip().time_ms)
    }

    /// The stateless checks of `tx` for the next block, returning its token for the caller to
    /// verify (e.g. outside a lock).
    pub fn token_of(&self, tx: &Transaction, time_ms: u64) -> Result<Option<Token>, Rejection> {
        self.admission_context(time_ms).token_of(tx)
    }

    /// What the stateless checks of a transaction for the next block depend on, copied out so
    /// that they (signatures, token decoding and point validation: most of admission's CPU)
    /// run without holding the ledger.
    pub fn admission_context(&self, time_ms: u64) -> AdmissionContext {
        let time_ms = self.next_time(time_ms);
        AdmissionContext {
            genesis: self.state.genesis().clone(),
            roots: self.state.forest().window(),
            time_ms,
            day: (time_ms / 86_400_000) as u32,
            keys: self.verifiers.keys().copied().collect(),
        }
    }

    /// The verifiers of every key the genesis accepts.
    pub fn verifiers(&self) -> &Verifiers {
        &self.verifiers
    }

    /// The stateful checks of `tx` for the next block (replay, registry, stream, policy),
    /// after [`Ledger::token_of`] ran the stateless ones.
    pub fn check_state(&self, tx: &Transaction, time_ms: u64) -> Result<(), Rejection> {
        let height = self.state.tip().height + 1;
        let time_ms = self.next_time(time_ms);
        let txs = vec![tx.clone()];
        match execute::execute(
            &self.store,
            &self.state,
            &self.verifiers,
            txs,
            execute::Run {
                height,
                time_ms,
                day: (time_ms / 86_400_000) as u32,
                mode: Mode::Admit,
                admitted: None,
            },
        ) {
            Ok(exec) => match exec.rejected.into_iter().next() {
                Some((_, r)) => Err(r),
                None => Ok(()),
            },
            Err(e) => Err(Rejection::Malformed(e.to_string())),
        }
    }

    /// The chain configuration.
    pub fn genesis(&self) -> &Genesis {
        self.state.genesis()
    }

    /// The latest block header.
    pub fn tip(&self) -> &BlockHeader {
        self.state.tip()
    }

    /// The registry tree of `issuer`, if registered.
    pub fn registry(&self, issuer: u32) -> Option<&RegistryTree> {
        self.state.forest().tree(issuer)
    }

    /// Every issuer's registry tree, by issuer id.
    pub fn registries(&self) -> impl Iterator<Item = (u32, &RegistryTree)> {
        self.state.forest().trees()
    }

    /// What the tip's header commits to: the digest of every issuer's registry root.
    pub fn registry_digest(&self) -> Hash32 {
        self.state.forest().digest()
    }

    /// The roots of `issuer`'s registry that a token in a block at `time_ms` may be proven
    /// against, newest first.
    pub fn recent_roots(&self, issuer: u32, time_ms: u64) -> Vec<Hash32> {
        self.state
            .forest()
            .recent_roots(issuer, self.next_time(time_ms))
    }

    /// Where the `IssueCredential` transaction `id` appended its leaf, once committed.
    pub fn issued_leaf(&self, id: &TxId) -> Result<Option<IssuedLeaf>, LedgerError> {
        match self.store.get(Column::Meta, &records::issued_key(id))? {
            Some(b) => Ok(Some(records::decode(Column::Meta, &b)?)),
            None => Ok(None),
        }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// A committed block.
    pub fn block(&self, height: u64) -> Result<Option<Block>, LedgerError> {
        Ok(read_block(&self.store, height)?)
    }

    /// A committed transaction and its height.
    pub fn transaction(&self, id: &TxId) -> Result<Option<(u64, Transaction)>, LedgerError> {
        Ok(read_tx(&self.store, id)?)
    }

    /// Study request ids, oldest key first, at most `limit`.
    pub fn studies(&self, limit: usize) -> Result<Vec<TxId>, LedgerError> {
        let prefix = b"study/";
        Ok(self
            .store
            .scan(Column::Meta, prefix, None, limit)?
            .into_iter()
            .filter_map(|(k, _)| k[prefix.len()..].try_into().ok().map(Hash32))
            .collect())
    }

    /// The streams whose consent answered `study` and those consents, in stream id order, at
    /// most `limit`.
    pub fn study_consents(
        &self,
        study: &TxId,
        limit: usize,
    ) -> Result<Vec<(String, TxId)>, LedgerError> {
        let prefix = records::study_consents_prefix(study);
        self.store
            .scan(Column::Meta, &prefix, None, limit)?
            .into_iter()
            .map(|(k, v)| {
                let stream = String::from_utf8(k[prefix.len()..].to_vec());
                let id: Result<[u8; 32], _> = v.as_slice().try_into();
                match (stream, id) {
                    (Ok(s), Ok(id)) => Ok((s, Hash32(id))),
                    _ => Err(LedgerError::from(StoreError::Corrupt {
                        column: "meta",
                        reason: "a study consent record".into(),
                    })),
                }
            })
            .collect()
    }

    /// A stream's state.
    pub fn stream(&self, stream: &str) -> Result<Option<StreamState>, LedgerError> {
        match self
            .store
            .get(Column::Streams, &records::stream_key(stream))?
        {
            Some(b) => Ok(Some(records::decode(Column::Streams, &b)?)),
            None => Ok(None),
        }
    }

    /// A stream's history entries from `from`, at most `limit`.
    pub fn history(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, LedgerError> {
        let start = records::history_key(stream, from);
        self.store
            .scan(
                Column::Streams,
                &records::history_prefix(stream),
                Some(&start),
                limit,
            )?
            .into_iter()
            .map(|(_, v)| records::decode(Column::Streams, &v).map_err(LedgerError::from))
            .collect()
    }
}

/// The committed height, if the store holds a chain.
pub fn read_height<S: Store>(store: &S) -> Result<Option<u64>, StoreError> {
    match store.get(Column::Meta, HEIGHT_KEY)? {
        None => Ok(None),
        Some(b) => {
            let arr: [u8; 8] = b.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                column: "meta",
                reason: "height is not 8 bytes".into(),
            })?;
            Ok(Some(u64::from_be_bytes(arr)))
        }
    }
}

/// A stored block.
pub fn read_block<S: Store>(store: &S, height: u64) -> Result<Option<Block>, StoreError> {
    match store.get(Column::Blocks, &height.to_be_bytes())? {
        None => Ok(None),
        Some(b) => Block::from_bytes(&b)
            .map(Some)
            .map_err(|reason| StoreError::Corrupt {
                column: "blocks",
                reason,
            }),
    }
}

/// A stored transaction with its height.
pub fn read_tx<S: Store>(store: &S, id: &TxId) -> Result<Option<(u64, Transaction)>, StoreError> {
    match store.get(Column::Transactions, &id.0)? {
        None => Ok(None),
        Some(b) => {
            let rec: TxRecord = records::decode(Column::Transactions, &b)?;
            let tx = Transaction::from_bytes(&rec.bytes).map_err(|reason| StoreError::Corrupt {
                column: "transactions",
                reason,
            })?;
            Ok(Some((rec.height, tx)))
        }
    }
}

/// The genesis configuration of a stored chain.
pub fn read_genesis<S: Store>(store: &S) -> Result<Genesis, LedgerError> {
    let block0 = read_block(store, 0)?.ok_or(LedgerError::NotInitialised)?;
    let id = block0
        .tx_ids
        .first()
        .ok_or_else(|| invalid(0, "block 0 is empty"))?;
    match read_tx(store, id)?.map(|(_, tx)| tx.body) {
        Some(Body::Genesis(g)) => Ok(g),
        _ => Err(invalid(0, "block 0 does not hold a genesis transaction")),
    }
}

/// The first height whose block time is at least `time_ms` (block times never decrease), or
/// `tip` + 1 if none is: a binary search over the stored headers.
fn first_height_at<S: Store>(store: &S, tip: u64, time_ms: u64) -> Result<u64, LedgerError> {
    let (mut lo, mut hi) = (0u64, tip + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let b = read_block(store, mid)?.ok_or_else(|| invalid(mid, "block missing"))?;
        if b.header.time_ms >= time_ms {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// An owned copy of the stateless checks' context at one moment ([`Ledger::admission_context`]).
pub struct AdmissionContext {
    genesis: Genesis,
    roots: Arc<RootWindow>,
    time_ms: u64,
    day: u32,
    keys: Vec<KeyId>,
}

impl AdmissionContext {
    /// The stateless checks of `tx` (everything but the proof's pairing and the state),
    /// returning its decoded token.
    pub fn token_of(&self, tx: &Transaction) -> Result<Option<Token>, Rejection> {
        let ctx = Context {
            genesis: &self.genesis,
            roots: &self.roots,
            time_ms: self.time_ms,
            day: self.day,
            keys: &self.keys,
        };
        checks::check(&ctx, tx)
    }
}
