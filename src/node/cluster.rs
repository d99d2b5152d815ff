//! A validator in a consortium: the Raft engine, this validator's mempool (used while it
//! leads), the block-sealing loop, forwarding to the leader, and the signature exchange that
//! makes blocks final.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use openraft::error::ClientWriteError;
use openraft::{BasicNode, ServerState};

use super::now_ms;
use crate::consensus::raft::{self, LedgerStateMachine, LogStore, NodeId, Proposal, Raft, Timing};
use crate::consensus::Mempool;
use crate::ledger::{Countersign, Rejection, TxId};
use crate::peer::network::Network;
use crate::peer::{
    Forward, Forwarded, Peer, PeerClient, PeerError, Signatures, SignaturesRequest, SignedHeader,
    FORWARD_PATH, MAX_SIGNATURE_RANGE, SIGNATURES_PATH,
};
use crate::store::RocksStore;

/// How long a validator remembers a transaction a client gave it (reported `pending` until
/// its block is applied here or its rejection is known, and submitted again to each new
/// leader meanwhile).
const ACCEPTED_MEMORY_MS: u64 = 30_000;
/// Most transactions remembered that way (the mempool's bound).
const ACCEPTED_MEMORY_MAX: usize = crate::consensus::MAX_PENDING;
/// How long a validator keeps retrying a write while leadership moves.
const FORWARD_RETRY: Duration = Duration::from_secs(3);
/// Most block proposals a leader has appended and not yet applied. One at a time leaves every
/// validator idle for a round trip between small blocks; with full blocks waiting, a few let
/// the next travel while the last is replicated and executed (a partial block waits for the
/// one in flight instead, and grows).
pub const PROPOSALS_IN_FLIGHT: usize = 4;
/// How often the signature exchange asks the others for signatures on blocks not yet final.
const SIGNATURE_POLL: Duration = Duration::from_millis(100);

/// Why a write was not admitted on a cluster validator.
#[derive(Debug)]
pub enum SubmitError {
    /// Refused by the rules (by this validator or the leader).
    Rejected(Rejection),
    /// The leader answered with this status and problem document.
    Leader {
        /// HTTP status.
        status: u16,
        /// The leader's problem document.
        body: String,
    },
    /// No leader with a quorum can take writes now (HTTP 503).
    Unavailable(String),
    /// A transaction was forwarded to a validator that does not lead (any more): HTTP 421,
    /// and the forwarding validator retries on the leader it sees next.
    NotLeader,
}

impl From<Rejection> for SubmitError {
    fn from(r: Rejection) -> Self {
        SubmitError::Rejected(r)
    }
}

/// One validator as a status report sees it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ValidatorStatus {
    /// Raft node id (1-based position in the genesis).
    pub id: u64,
    /// Ed25519 key (hex).
    pub key: String,
    /// Its latest known block height (`None`: not heard from yet).
    pub height: Option<u64>,
    /// How many blocks it is behind this validator's tip.
    pub lag: Option<u64>,
    /// Milliseconds since it was last heard from.
    pub last_seen_ms: Option<u64>,
}

/// The consortium as this validator sees it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ClusterStatus {
    /// This validator's id.
    pub id: u64,
    /// The leader it follows, if any.
    pub leader: Option<u64>,
    /// The Raft term.
    pub term: u64,
    /// Its role: Leader, Follower, Candidate, Learner.
    pub role: String,
    /// Highest height whose block, and every block before it, carries a quorum of signatures.
    pub final_height: u64,
    /// Every validator of the genesis.
    pub validators: Vec<ValidatorStatus>,
}

/// A transaction a client gave this validator: kept until it is seen committed or rejected
/// here (or [`ACCEPTED_MEMORY_MS`] passed), so that if the leader that took it loses the
/// leadership (or crashes) before proposing it, the next leader gets it again.
struct Accepted {
    tx: crate::ledger::Transaction,
    source: Option<IpAddr>,
    until_ms: u64,
}

/// A running cluster validator.
pub struct Cluster {
    /// This validator's id.
    pub id: NodeId,
    /// The Raft handle.
    pub raft: Raft,
    /// Admission (used while this validator leads).
    pub pool: Arc<Mempool<Arc<RocksStore>>>,
    /// The other validators.
    pub peers: Arc<PeerClient>,
    sm: LedgerStateMachine<Arc<RocksStore>>,
    key: SigningKey,
    chain_id: String,
    validators: Vec<[u8; 32]>,
    /// Transactions clients gave this validator, not yet seen committed or rejected here.
    accepted: Mutex<HashMap<TxId, Accepted>>,
    /// Other validators' tip heights and when they were heard from.
    seen: Mutex<BTreeMap<NodeId, (u64, u64)>>,
    /// Blocks below this height are final here.
    final_below: AtomicU64,
    /// Signatures over a header different from ours (a bug or a Byzantine validator).
    pub mismatches: AtomicU64,
    /// Authenticates requests on the peer listener.
    pub auth: crate::peer::auth::PeerAuth,
}

impl Cluster {
    /// Starts the Raft engine of validator `id` over `store` and initialises the cluster on
    /// first start (every validator proposes the same membership: the genesis validators).
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        id: NodeId,
        key: SigningKey,
        store: Arc<RocksStore>,
        pool: Arc<Mempool<Arc<RocksStore>>>,
        sm: LedgerStateMachine<Arc<RocksStore>>,
        peers: BTreeMap<NodeId, Peer>,
        timing: Timing,
        faults: crate::peer::Faults,
    ) -> anyhow::Result<Arc<Cluster>> {
        let (chain_id, validators) =
            pool.with_ledger(|l| (l.genesis().chain_id.clone(), l.genesis().validators.clone()));
        let members: BTreeMap<NodeId, BasicNode> = (1..=validators.len() as u64)
            .map(|i| {
                let addr = peers.get(&i).map(|p| p.addr.clone()).unwrap_or_default();
                (i, BasicNode { addr })
            })
            .collect();
        let client = Arc::new(PeerClient::new(key.clone(), &chain_id, peers, faults));
        let (chain_id_for_auth, validators_for_auth) = (chain_id.clone(), validators.clone());
        let config = Arc::new(raft::config(&chain_id, timing).map_err(anyhow::Error::msg)?);
        let raft = Raft::new(
            id,
            config,
            Network::new(client.clone()),
            LogStore::new(store),
            sm.clone(),
        )
        .await?;
        if !raft.is_initialized().await? {
            if let Err(e) = raft.initialize(members).await {
                tracing::debug!(error = %e, "initialize (another validator may have done it)");
            }
        }
        let cluster = Arc::new(Cluster {
            id,
            raft,
            pool,
            peers: client,
            sm,
            key,
            chain_id,
            validators,
            accepted: Mutex::default(),
            seen: Mutex::default(),
            final_below: AtomicU64::new(0),
            mismatches: AtomicU64::new(0),
            auth: crate::peer::auth::PeerAuth::new(&chain_id_for_auth, validators_for_auth),
        });
        Ok(cluster)
    }

    /// The leader this validator follows, if it knows one.
    pub fn leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// Why writes cannot be taken now, if they cannot.
    fn unavailable(&self) -> Option<String> {
        let m = self.raft.metrics().borrow().clone();
        match m.current_leader {
            None => Some(format!(
                "no leader: fewer than a quorum ({} of {}) of validators can be reached",
                self.validators.len() / 2 + 1,
                self.validators.len()
            )),
            Some(l) if l == self.id => match m.millis_since_quorum_ack {
                Some(ms) if ms > 2_000 => Some(format!(
                    "this validator leads but has not heard from a quorum for {ms} ms"
                )),
                _ => None,
            },
            Some(_) => None,
        }
    }

    /// Admits a transaction here if this validator leads, or forwards it to the leader.
    pub async fn submit(
        self: &Arc<Self>,
        tx: crate::ledger::Transaction,
        source: Option<IpAddr>,
    ) -> Result<TxId, SubmitError> {
        // Leadership moves during elections: a forward that finds no leader, or a validator
        // that no longer leads, is retried on the leader as seen a moment later.
        let deadline = tokio::time::Instant::now() + FORWARD_RETRY;
        loop {
            let err = match self.submit_once(&tx, source).await {
                Err(e @ (SubmitError::Unavailable(_) | SubmitError::NotLeader)) => e,
                done => return done,
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(match err {
                    SubmitError::NotLeader => SubmitError::Unavailable(
                        "leadership is changing; no validator took the transaction".into(),
                    ),
                    e => e,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn submit_once(
        self: &Arc<Self>,
        tx: &crate::ledger::Transaction,
        source: Option<IpAddr>,
    ) -> Result<TxId, SubmitError> {
        if let Some(why) = self.unavailable() {
            return Err(SubmitError::Unavailable(why));
        }
        let id = self.route(tx, source).await?;
        self.remember(id, tx, source);
        Ok(id)
    }

    /// Admits `tx` here if this validator leads, else forwards it to the leader.
    async fn route(
        self: &Arc<Self>,
        tx: &crate::ledger::Transaction,
        source: Option<IpAddr>,
    ) -> Result<TxId, SubmitError> {
        let leader = self
            .leader()
            .ok_or_else(|| SubmitError::Unavailable("no leader".into()))?;
        if leader == self.id {
            let (me, tx) = (self.clone(), tx.clone());
            return tokio::task::spawn_blocking(move || me.pool.submit_from(tx, source, now_ms()))
                .await
                .map_err(|e| SubmitError::Unavailable(e.to_string()))?
                .map_err(SubmitError::Rejected);
        }
        let fwd = Forward {
            tx: tx.clone(),
            source,
        };
        let answer: Result<Forwarded, PeerError> = self
            .peers
            .call(leader, FORWARD_PATH, &fwd, Duration::from_secs(10))
            .await;
        match answer {
            Ok(_) => Ok(tx.id()),
            Err(PeerError::Status { status: 421, .. }) => Err(SubmitError::NotLeader),
            Err(PeerError::Status { status, body, .. }) => {
                Err(SubmitError::Leader { status, body })
            }
            Err(e) => Err(SubmitError::Unavailable(format!(
                "the leader (validator {leader}) cannot be reached: {e}"
            ))),
        }
    }

    fn remember(&self, id: TxId, tx: &crate::ledger::Transaction, source: Option<IpAddr>) {
        let mut accepted = self.accepted.lock().expect("accepted");
        let now = now_ms();
        if accepted.len() >= ACCEPTED_MEMORY_MAX {
            accepted.retain(|_, a| a.until_ms > now);
        }
        if accepted.len() >= ACCEPTED_MEMORY_MAX {
            accepted.retain(|id, _| !self.settled_here(id));
        }
        if accepted.len() < ACCEPTED_MEMORY_MAX {
            accepted.insert(
                id,
                Accepted {
                    tx: tx.clone(),
                    source,
                    until_ms: now + ACCEPTED_MEMORY_MS,
                },
            );
        }
    }

    /// Whether this validator knows the outcome of `id`: committed here or rejected.
    fn settled_here(&self, id: &TxId) -> bool {
        self.pool.rejection(id).is_some()
            || self
                .pool
                .with_ledger(|l| l.transaction(id).map(|t| t.is_some()).unwrap_or(false))
    }

    /// Submits again, to the current leader, every transaction clients gave this validator
    /// that is not committed or rejected here yet. A leader that loses the leadership drops
    /// its mempool, and one that crashes loses it; the validator a client talked to is the
    /// one that keeps the transaction going. A copy that reaches a block twice is rejected
    /// there as a replay, and the first stays committed.
    async fn resubmit(self: &Arc<Self>) {
        let now = now_ms();
        let waiting: Vec<(TxId, crate::ledger::Transaction, Option<IpAddr>)> = {
            let mut accepted = self.accepted.lock().expect("accepted");
            accepted.retain(|_, a| a.until_ms > now);
            accepted
                .iter()
                .map(|(id, a)| (*id, a.tx.clone(), a.source))
                .collect()
        };
        let mut again = 0;
        for (id, tx, source) in waiting {
            if self.settled_here(&id) {
                self.accepted.lock().expect("accepted").remove(&id);
                continue;
            }
            match self.route(&tx, source).await {
                Ok(_) => again += 1,
                // Already waiting, or committed meanwhile.
                Err(SubmitError::Rejected(Rejection::Replay(_))) => {}
                Err(e) => tracing::debug!(%id, error = ?e, "resubmitting to the new leader"),
            }
        }
        if again > 0 {
            tracing::info!(
                transactions = again,
                "submitted again to the new leader (not committed yet)"
            );
        }
    }

    /// Watches the leadership and, when a new leader (or a new term) appears, submits to it
    /// what this validator's clients are still waiting for (not committed or rejected here), until
    /// `stop` changes.
    pub async fn run_resubmit(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut metrics = self.raft.metrics();
        let mut seen = {
            let m = metrics.borrow();
            (m.current_term, m.current_leader)
        };
        loop {
            tokio::select! {
                changed = metrics.changed() => if changed.is_err() { break },
                _ = stop.changed() => break,
            }
            let now = {
                let m = metrics.borrow();
                (m.current_term, m.current_leader)
            };
            if now == seen || now.1.is_none() {
                continue;
            }
            seen = now;
            self.resubmit().await;
        }
    }

    /// The signature header of this validator's answer to a peer request with `nonce`.
    pub fn sign_response(&self, nonce: &[u8; 16], status: u16, body: &[u8]) -> String {
        crate::peer::auth::sign_response(&self.key, &self.chain_id, nonce, status, body)
    }

    /// Admits a transaction another validator forwarded, if this validator leads.
    pub fn admit_forwarded(&self, fwd: Forward) -> Result<TxId, SubmitError> {
        if self.leader() != Some(self.id) {
            return Err(SubmitError::NotLeader);
        }
        Ok(self.pool.submit_from(fwd.tx, fwd.source, now_ms())?)
    }

    /// Whether a transaction is waiting: in this validator's mempool, or given to this
    /// validator by a client and not yet committed or rejected here.
    pub fn is_pending(&self, id: &TxId) -> bool {
        if self.pool.is_pending(id) {
            return true;
        }
        let now = now_ms();
        self.accepted
            .lock()
            .expect("accepted")
            .get(id)
            .is_some_and(|a| a.until_ms > now)
            && !self.settled_here(id)
    }

    /// Proposes the oldest pending transactions not yet proposed as one block, while this
    /// validator leads, once a slot of `slots` is free; the slot is held until the proposal is
    /// applied here (or failed). Returns whether a full block was proposed (more may wait).
    async fn seal_once(self: &Arc<Self>, slots: &Arc<tokio::sync::Semaphore>) -> bool {
        if self.leader() != Some(self.id) {
            if self.pool.pending_len() > 0 {
                tracing::info!(
                    dropped = self.pool.pending_len(),
                    "no longer leading: pending transactions are left to their clients"
                );
                self.pool.clear();
            }
            return false;
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return false;
        };
        // While another proposal is in flight, only a full block goes out: a partial one
        // waits and grows, since under load it is CPU, not round trips, that bounds the rate
        // and every block costs a batch verification, a header and signatures on each
        // validator.
        let others = slots.available_permits() + 1 < PROPOSALS_IN_FLIGHT;
        if others && self.pool.unproposed_len() < self.pool.max_block_txs() {
            return false;
        }
        let batch = self.pool.take_batch();
        if batch.txs.is_empty() {
            return false;
        }
        let full = batch.txs.len() >= self.pool.max_block_txs();
        let proposal = Proposal::new(&self.chain_id, self.id, &self.key, now_ms(), &batch.txs);
        // Appended in the order proposed; the answer (once applied here) is awaited aside, so
        // the next proposal travels while this one is replicated and executed.
        let answer = match self.raft.client_write_ff(proposal).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(error = %e, "proposing a block failed");
                self.pool.release(&batch.ids);
                return false;
            }
        };
        let me = self.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match answer.await {
                Ok(Ok(_)) => me.pool.settle(&batch.ids, now_ms()),
                Ok(Err(ClientWriteError::ForwardToLeader(_))) => {
                    // Lost the leadership meanwhile: the entry may still commit under the
                    // next leader; either way these are no longer ours to order.
                    me.pool.clear();
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "proposing a block failed");
                    me.pool.release(&batch.ids);
                }
                // The engine stopped.
                Err(_) => me.pool.release(&batch.ids),
            }
        });
        full
    }

    /// Seals every `interval` until `stop` changes, and at once while full blocks wait, with
    /// at most [`PROPOSALS_IN_FLIGHT`] proposals not yet applied.
    pub async fn run_sealer(
        self: Arc<Self>,
        interval: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let slots = Arc::new(tokio::sync::Semaphore::new(PROPOSALS_IN_FLIGHT));
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            loop {
                tokio::select! {
                    more = self.seal_once(&slots) => if !more { break },
                    _ = stop.changed() => return,
                }
            }
        }
    }

    /// Collects the other validators' signatures on blocks not yet final here, until `stop`
    /// changes.
    pub async fn run_signatures(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut applied = self.sm.watch();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SIGNATURE_POLL) => {}
                _ = applied.changed() => {}
                _ = stop.changed() => break,
            }
            if let Err(e) = self.collect_signatures().await {
                tracing::warn!(error = %e, "signature exchange");
            }
        }
    }

    /// The signatures this validator holds on blocks `from..=to` (answering a peer).
    pub fn signatures(
        &self,
        req: &SignaturesRequest,
    ) -> Result<Signatures, crate::ledger::LedgerError> {
        self.pool.with_ledger(|l| {
            let tip = l.tip().height;
            let to = req
                .to
                .min(tip)
                .min(req.from.saturating_add(MAX_SIGNATURE_RANGE - 1));
            let mut blocks = Vec::new();
            for h in req.from..=to {
                if let Some(b) = l.block(h)? {
                    blocks.push(SignedHeader {
                        height: h,
                        header_hash: b.header.hash(),
                        signatures: b.signatures,
                    });
                }
            }
            Ok(Signatures {
                height: tip,
                blocks,
            })
        })
    }

    async fn collect_signatures(self: &Arc<Self>) -> anyhow::Result<()> {
        let tip = self.pool.with_ledger(|l| l.tip().height);
        // Move the final mark past blocks that already carry a quorum.
        let mut from = self.final_below.load(Ordering::Relaxed);
        while from <= tip && self.pool.with_ledger(|l| l.is_final(from))? {
            from += 1;
        }
        self.final_below.store(from, Ordering::Relaxed);
        let to = tip.min(from + MAX_SIGNATURE_RANGE - 1);
        let req = SignaturesRequest { from, to };
        let peers: Vec<NodeId> = self.peers.peers().keys().copied().collect();
        let calls = peers.iter().map(|p| {
            let req = req.clone();
            let client = self.peers.clone();
            let p = *p;
            async move {
                (
                    p,
                    client
                        .call::<_, Signatures>(p, SIGNATURES_PATH, &req, Duration::from_secs(2))
                        .await,
                )
            }
        });
        let answers = futures::future::join_all(calls).await;
        let mut offered = Vec::new();
        for (peer, answer) in answers {
            let Ok(answer) = answer else { continue };
            self.seen
                .lock()
                .expect("seen")
                .insert(peer, (answer.height, now_ms()));
            if from > tip {
                continue;
            }
            for b in answer.blocks {
                for sig in b.signatures {
                    offered.push((b.height, b.header_hash, sig, peer));
                }
            }
        }
        if offered.is_empty() {
            return Ok(());
        }
        let sigs: Vec<_> = offered
            .iter()
            .map(|(h, hash, sig, _)| (*h, *hash, sig.clone()))
            .collect();
        let me = self.clone();
        let outcomes = tokio::task::spawn_blocking(move || {
            me.pool
                .ledger()
                .lock()
                .expect("ledger lock")
                .countersign(&sigs)
        })
        .await??;
        for ((height, hash, sig, peer), outcome) in offered.iter().zip(outcomes) {
            if let Countersign::Mismatch { ours } = outcome {
                self.mismatches.fetch_add(1, Ordering::Relaxed);
                let signer = self
                    .validators
                    .iter()
                    .position(|v| *v == sig.validator)
                    .map(|i| i + 1);
                tracing::error!(
                    height,
                    signer,
                    via = peer,
                    theirs = %hash,
                    ours = %ours,
                    "a validator signed a different block header: not counted toward the quorum"
                );
            }
        }
        Ok(())
    }

    /// The consortium as this validator sees it.
    pub fn status(&self) -> ClusterStatus {
        let m = self.raft.metrics().borrow().clone();
        let tip = self.pool.with_ledger(|l| l.tip().height);
        let now = now_ms();
        let seen = self.seen.lock().expect("seen").clone();
        let validators = self
            .validators
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let id = i as u64 + 1;
                let (height, last) = if id == self.id {
                    (Some(tip), Some(0))
                } else {
                    match seen.get(&id) {
                        Some((h, at)) => (Some(*h), Some(now.saturating_sub(*at))),
                        None => (None, None),
                    }
                };
                ValidatorStatus {
                    id,
                    key: hex::encode(key),
                    height,
                    lag: height.map(|h| tip.saturating_sub(h)),
                    last_seen_ms: last,
                }
            })
            .collect();
        ClusterStatus {
            id: self.id,
            leader: m.current_leader,
            term: m.current_term,
            role: match m.state {
                ServerState::Leader => "Leader",
                ServerState::Follower => "Follower",
                ServerState::Candidate => "Candidate",
                ServerState::Learner => "Learner",
                ServerState::Shutdown => "Shutdown",
            }
            .into(),
            final_height: self.final_below.load(Ordering::Relaxed).saturating_sub(1),
            validators,
        }
    }
}
