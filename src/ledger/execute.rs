//! Executing a block's transactions against the committed state: stateless checks, one batch
//! verification of all tokens, then the stateful checks and effects in order, on an overlay
//! so that a rejected transaction leaves nothing behind.
//!
//! The same code runs when a validator proposes a block (rejected transactions are dropped and
//! reported) and when it re-executes a block (any rejection makes the block invalid), so every
//! validator applies exactly the same rules.

use std::collections::{HashMap, HashSet};

use consentry_circuits::field;
use consentry_circuits::registry::EMPTY_LEAF;
use consentry_circuits::token::Token;

use super::chain::{KeyId, Verifiers};
use super::checks::{self, Context};
pub use super::forest::RegistryOp;
use super::records::{
    self, HistoryEntry, HistoryKind, IssuedLeaf, LeafRecord, StreamState, TxRecord,
};
use super::rejection::Rejection;
use super::state::ChainState;
use super::transaction::{Body, Consent, StudyRequest, Transaction};
use super::types::{Hash32, TxId};
use crate::store::{Batch, Column, Store, StoreError};

/// The outcome of executing a list of transactions.
#[derive(Default)]
pub struct Execution {
    /// Accepted transactions, in order.
    pub accepted: Vec<(TxId, Transaction)>,
    /// Rejected transactions (only in proposing mode) with their reasons.
    pub rejected: Vec<(TxId, Rejection)>,
    /// Store writes of the accepted transactions (the block itself is added when sealing).
    pub batch: Batch,
    /// Registry changes, in order.
    pub registry_ops: Vec<RegistryOp>,
}

/// Whether rejections drop the transaction (proposing) or fail the block (re-executing).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Drop rejected transactions and report them.
    Propose,
    /// The first rejection fails the whole block.
    Replay,
    /// Mempool admission: only the stateful checks; the caller has run the stateless ones
    /// ([`super::Ledger::token_of`]) and decides about the proof.
    Admit,
}

/// Where and how a list of transactions is executed.
pub struct Run {
    /// The block height.
    pub height: u64,
    /// The block's time (milliseconds since the epoch): roots are checked against it.
    pub time_ms: u64,
    /// The block's day (since 1970-01-01): tokens' days and consent windows are checked
    /// against it.
    pub day: u32,
    /// Proposing, replaying or admitting.
    pub mode: Mode,
    /// For transactions admitted earlier: the tokens decoded then (one per transaction),
    /// batch-verified since.
    pub admitted: Option<VerifiedTokens>,
}

/// The tokens of transactions admitted to a mempool earlier, one per transaction, after one
/// batch verification per depth: each is either still valid or rejected with the reason.
/// Only its constructors make one, each verifying every proof that was not verified at
/// admission by this node ([`VerifiedTokens::verify_unless_admitted`]), so a block cannot skip
/// verification by accident.
pub struct VerifiedTokens {
    results: Vec<Result<Option<Token>, Rejection>>,
}

impl VerifiedTokens {
    /// Batch-verifies `tokens` (one multi-pairing per depth; bisection names the bad ones).
    /// Verification depends on nothing but the verifying keys, so it can run before the
    /// ledger is locked, while transactions keep being admitted.
    pub fn verify(verifiers: &Verifiers, tokens: Vec<Option<Token>>) -> Self {
        Self::verify_unless_admitted(verifiers, tokens, &[])
    }

    /// [`VerifiedTokens::verify`] for a mempool's batch in which `verified_at_admission[i]`
    /// says that this node verified token `i` when it admitted the transaction: those are
    /// not verified again. A proof's validity depends on nothing but its bytes and the
    /// verifying key, and neither changed since (the mempool keeps the token it decoded).
    pub fn verify_unless_admitted(
        verifiers: &Verifiers,
        tokens: Vec<Option<Token>>,
        verified_at_admission: &[bool],
    ) -> Self {
        let mut results: Vec<_> = tokens.into_iter().map(Ok).collect();
        let unverified: Vec<bool> = (0..results.len())
            .map(|i| !verified_at_admission.get(i).copied().unwrap_or(false))
            .collect();
        verify_proofs(verifiers, &mut results, &unverified);
        VerifiedTokens { results }
    }

    /// Whether each token passed (tests).
    #[cfg(test)]
    pub(crate) fn passed(&self) -> Vec<bool> {
        self.results.iter().map(Result::is_ok).collect()
    }

    /// Batch-verifies the tokens of transactions whose stateless checks ran already
    /// ([`super::Ledger::admission_context`]); a failed check stays a rejection.
    pub fn verify_checked(
        verifiers: &Verifiers,
        mut results: Vec<Result<Option<Token>, Rejection>>,
    ) -> Self {
        let unverified = vec![true; results.len()];
        verify_proofs(verifiers, &mut results, &unverified);
        VerifiedTokens { results }
    }
}

/// Batch-verifies, per key (depth, plain or escrow), the tokens in `results` whose position
/// is marked in `unverified`, turning each bad one into [`Rejection::ProofInvalid`] (and one
/// for which the chain has no key into that key's rejection).
fn verify_proofs(
    verifiers: &Verifiers,
    results: &mut [Result<Option<Token>, Rejection>],
    unverified: &[bool],
) {
    for (i, r) in results.iter_mut().enumerate() {
        if let Ok(Some(t)) = r {
            let id = KeyId::of(t);
            if unverified[i] && !verifiers.contains_key(&id) {
                *r = Err(id.unknown());
            }
        }
    }
    for (key, verifier) in verifiers {
        let (positions, tokens): (Vec<usize>, Vec<Token>) = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                Ok(Some(t)) if KeyId::of(t) == *key && unverified[i] => Some((i, t.clone())),
                _ => None,
            })
            .unzip();
        if let Err(bad) = verifier.verify_batch(&tokens) {
            for b in bad.bad {
                results[positions[b]] = Err(Rejection::ProofInvalid);
            }
        }
    }
}

/// An error that stops execution: a failed replay or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Transaction `index` of a replayed block is invalid.
    #[error("transaction {index} ({id}) is invalid: {reason}")]
    Invalid {
        /// Position in the block.
        index: usize,
        /// Its id.
        id: TxId,
        /// Why.
        reason: Rejection,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Uncommitted effects of the transactions accepted so far in this block.
struct Overlay {
    ids: HashSet<TxId>,
    streams: HashMap<String, StreamState>,
    pseudonyms: HashSet<Vec<u8>>,
    studies: HashMap<TxId, StudyRequest>,
    appended: HashMap<u32, u64>,
    revoked: HashSet<(u32, u64)>,
}

/// Executes `txs` as block `height` on day `day`, on top of `state` and `store`.
pub fn execute<S: Store>(
    store: &S,
    state: &ChainState,
    verifiers: &Verifiers,
    txs: Vec<Transaction>,
    run: Run,
) -> Result<Execution, ExecError> {
    let Run {
        height,
        time_ms,
        day,
        mode,
        admitted,
    } = run;
    let genesis = state.genesis();
    let roots = state.forest().window();
    let keys: Vec<KeyId> = verifiers.keys().copied().collect();
    let ctx = Context {
        genesis,
        roots: &roots,
        time_ms,
        day,
        keys: &keys,
    };

    // 1. Stateless checks. When admitting, the caller ran them; for transactions admitted
    //    earlier (decoded and signature-checked then), only the moment-dependent checks of
    //    the claim are re-run.
    let mut unverified = vec![true; txs.len()];
    let mut results: Vec<Result<Option<Token>, Rejection>> = match (mode, admitted) {
        (Mode::Admit, _) => txs.iter().map(|_| Ok(None)).collect(),
        (_, Some(verified)) => txs
            .iter()
            .zip(verified.results)
            .zip(unverified.iter_mut())
            .map(|((tx, token), unverified)| match (tx.body.claim(), token) {
                (_, Err(reason)) => Err(reason),
                (Some(claim), Ok(Some(token))) => {
                    *unverified = false;
                    checks::check_claim_context(&ctx, claim).map(|_| Some(token))
                }
                // No token, so nothing was verified for it at admission that the block could
                // reuse: its checks (signatures) are cheap and run again here, so a caller
                // that skipped admission cannot skip them.
                (None, Ok(None)) => checks::check(&ctx, tx),
                _ => checks::check(&ctx, tx),
            })
            .collect(),
        // Replaying or proposing without admission: every transaction's checks, including
        // its cohort range proofs, in parallel (results in block order).
        _ => {
            use rayon::prelude::*;
            txs.par_iter().map(|tx| checks::check(&ctx, tx)).collect()
        }
    };

    // 2. One batch verification per depth of every token that passed and was not verified
    //    before; bisection names the bad.
    if mode != Mode::Admit {
        verify_proofs(verifiers, &mut results, &unverified);
    }

    // 3. Stateful checks and effects, in order.
    let mut out = Execution::default();
    let mut overlay = Overlay {
        ids: HashSet::new(),
        streams: HashMap::new(),
        pseudonyms: HashSet::new(),
        studies: HashMap::new(),
        appended: HashMap::new(),
        revoked: HashSet::new(),
    };
    for (index, (tx, checked)) in txs.into_iter().zip(results).enumerate() {
        let id = tx.id();
        let outcome = checked.and_then(|_| {
            apply(store, state, &mut overlay, &mut out, &tx, id, height, day).map_err(|e| match e {
                Failure::Rejected(r) => r,
                Failure::Store(s) => Rejection::Malformed(format!("storage: {s}")),
            })
        });
        match (outcome, mode) {
            (Ok(()), _) => out.accepted.push((id, tx)),
            (Err(reason), Mode::Propose | Mode::Admit) => out.rejected.push((id, reason)),
            (Err(reason), Mode::Replay) => return Err(ExecError::Invalid { index, id, reason }),
        }
    }
    Ok(out)
}

/// The study request `id`, committed or earlier in this block.
fn study_request<S: Store>(
    store: &S,
    overlay: &Overlay,
    id: &TxId,
) -> Result<StudyRequest, Failure> {
    if let Some(s) = overlay.studies.get(id) {
        return Ok(s.clone());
    }
    match super::chain::read_tx(store, id)? {
        Some((_, tx)) => match tx.body {
            Body::StudyRequest(s) => Ok(s),
            _ => Err(Rejection::UnknownStudy(*id).into()),
        },
        None => Err(Rejection::UnknownStudy(*id).into()),
    }
}

/// Whether a consent answers `study`: exactly its criteria, in its order (the proofs were
/// verified against them with the stateless checks), and a policy that lets the study's
/// readers read (its purpose, its role, its level).
fn check_answers(study: &StudyRequest, consent: &Consent) -> Result<(), Rejection> {
    if consent.cohort.len() != study.cohort.len() {
        return Err(Rejection::CriteriaMismatch(format!(
            "the study names {} criteria, the consent answers {}",
            study.cohort.len(),
            consent.cohort.len()
        )));
    }
    for (i, (c, r)) in consent.cohort.iter().zip(&study.cohort).enumerate() {
        if !c.answers(r) {
            return Err(Rejection::CriteriaMismatch(format!(
                "criterion {i} is {} in [{}, {}) in the study, {} in [{}, {}) in the consent",
                r.attribute, r.lo, r.hi, c.attribute, c.lo, c.hi
            )));
        }
    }
    let p = &consent.policy;
    if p.purpose != study.purpose {
        return Err(Rejection::StudyPolicyMismatch(format!(
            "purpose {:?}, the study's is {:?}",
            p.purpose, study.purpose
        )));
    }
    if !p.roles.contains(&study.required_role) || p.min_level > study.min_level {
        return Err(Rejection::StudyPolicyMismatch(
            "the study's role or level is not admitted".into(),
        ));
    }
    Ok(())
}

enum Failure {
    Rejected(Rejection),
    Store(StoreError),
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Self {
        Failure::Rejected(r)
    }
}

impl From<StoreError> for Failure {
    fn from(s: StoreError) -> Self {
        Failure::Store(s)
    }
}

fn stream_state<S: Store>(
    store: &S,
    overlay: &Overlay,
    stream: &str,
) -> Result<Option<StreamState>, Failure> {
    if let Some(s) = overlay.streams.get(stream) {
        return Ok(Some(s.clone()));
    }
    match store.get(Column::Streams, &records::stream_key(stream))? {
        Some(bytes) => Ok(Some(records::decode(Column::Streams, &bytes)?)),
        None => Ok(None),
    }
}

/// Appends a history entry to a stream and writes its new state (to the batch and overlay).
#[allow(clippy::too_many_arguments)]
fn record_event(
    out: &mut Execution,
    overlay: &mut Overlay,
    stream: &str,
    mut s: StreamState,
    kind: HistoryKind,
    tx: TxId,
    height: u64,
    pseudonym: Option<Hash32>,
) {
    let entry = HistoryEntry {
        tx,
        kind,
        height,
        pseudonym,
    };
    out.batch.put(
        Column::Streams,
        records::history_key(stream, s.history_len),
        records::encode(&entry),
    );
    s.history_len += 1;
    out.batch.put(
        Column::Streams,
        records::stream_key(stream),
        records::encode(&s),
    );
    overlay.streams.insert(stream.to_string(), s);
}

/// Checks one transaction against the state plus overlay, then records its effects. Every
/// fallible step comes before the first mutation.
#[allow(clippy::too_many_arguments)]
fn apply<S: Store>(
    store: &S,
    state: &ChainState,
    overlay: &mut Overlay,
    out: &mut Execution,
    tx: &Transaction,
    id: TxId,
    height: u64,
    day: u32,
) -> Result<(), Failure> {
    if overlay.ids.contains(&id) || store.get(Column::Transactions, &id.0)?.is_some() {
        return Err(Rejection::Replay(id).into());
    }
    match &tx.body {
        Body::Genesis(_) => return Err(Rejection::UnexpectedGenesis.into()),
        Body::IssueCredential(b) => {
            let tree = state
                .forest()
                .tree(b.issuer_id)
                .ok_or(Rejection::UnknownIssuer(b.issuer_id))?;
            let appended = overlay.appended.entry(b.issuer_id).or_default();
            let index = tree.len() + *appended;
            if index >= tree.capacity() {
                return Err(Rejection::Registry(format!(
                    "issuer {}'s registry is full ({index} leaves)",
                    b.issuer_id
                ))
                .into());
            }
            let leaf = field::from_bytes(&b.leaf.0).expect("checked canonical");
            out.batch.put(
                Column::Registry,
                records::leaf_key(b.issuer_id, index),
                records::encode(&LeafRecord { leaf: b.leaf }),
            );
            out.batch.put(
                Column::Meta,
                records::issued_key(&id),
                records::encode(&IssuedLeaf {
                    issuer_id: b.issuer_id,
                    index,
                }),
            );
            out.registry_ops.push(RegistryOp::Append {
                issuer: b.issuer_id,
                leaf,
            });
            *appended += 1;
        }
        Body::RevokeCredential(b) => {
            let tree = state
                .forest()
                .tree(b.issuer_id)
                .ok_or(Rejection::UnknownIssuer(b.issuer_id))?;
            let committed = tree.len();
            if b.index >= committed {
                // Leaves appended in this block cannot be revoked in the same block.
                return Err(Rejection::Registry(format!(
                    "issuer {} has no leaf {} (its registry has {committed})",
                    b.issuer_id, b.index
                ))
                .into());
            }
            if tree.leaves()[b.index as usize] == EMPTY_LEAF
                || overlay.revoked.contains(&(b.issuer_id, b.index))
            {
                return Err(
                    Rejection::Registry(format!("leaf {} is already revoked", b.index)).into(),
                );
            }
            out.batch.put(
                Column::Registry,
                records::leaf_key(b.issuer_id, b.index),
                records::encode(&LeafRecord {
                    leaf: Hash32::default(),
                }),
            );
            out.registry_ops.push(RegistryOp::Revoke {
                issuer: b.issuer_id,
                index: b.index,
            });
            overlay.revoked.insert((b.issuer_id, b.index));
        }
        Body::StudyRequest(b) => {
            out.batch
                .put(Column::Meta, records::study_key(&id), Vec::new());
            overlay.studies.insert(id, b.clone());
        }
        Body::Consent(b) => {
            let existing = stream_state(store, overlay, &b.stream_id)?;
            if let Some(s) = &existing {
                // Unreachable but by a SHA-256 collision: the id is derived from the key.
                if s.patient_key != b.patient_key {
                    return Err(Rejection::PatientKeyMismatch.into());
                }
            }
            let latest = existing.as_ref().map(|s| s.latest_consent);
            if b.replaces != latest {
                return Err(Rejection::StaleConsent {
                    stated: b.replaces,
                    latest,
                }
                .into());
            }
            if let Some(study) = &b.study {
                let request = study_request(store, overlay, study)?;
                check_answers(&request, b)?;
                out.batch.put(
                    Column::Meta,
                    records::study_consent_key(study, &b.stream_id),
                    id.0.to_vec(),
                );
            }
            let mut s = existing.unwrap_or(StreamState {
                patient_key: b.patient_key,
                shared: true,
                policy: b.policy.clone(),
                latest_consent: id,
                latest_access: None,
                history_len: 0,
                distinct_accessors: 0,
            });
            s.shared = true;
            s.policy = b.policy.clone();
            s.latest_consent = id;
            record_event(
                out,
                overlay,
                &b.stream_id,
                s,
                HistoryKind::Share,
                id,
                height,
                Some(b.claim.pseudonym),
            );
        }
        Body::RevokeConsent(b) => {
            let mut s = match stream_state(store, overlay, &b.stream_id)? {
                Some(s) if s.patient_key != b.patient_key => {
                    return Err(Rejection::PatientKeyMismatch.into())
                }
                Some(s) if s.shared => s,
                _ => return Err(Rejection::NotShared(b.stream_id.clone()).into()),
            };
            s.shared = false;
            s.latest_consent = id;
            record_event(
                out,
                overlay,
                &b.stream_id,
                s,
                HistoryKind::Revoke,
                id,
                height,
                None,
            );
        }
        Body::Access(b) => {
            let mut s = stream_state(store, overlay, &b.stream_id)?
                .ok_or_else(|| Rejection::UnknownStream(b.stream_id.clone()))?;
            if !s.shared {
                return Err(Rejection::ConsentRevoked(b.stream_id.clone()).into());
            }
            let p = &s.policy;
            // The block's own day, never the submitter's.
            if day < p.valid_from || day > p.valid_until {
                return Err(Rejection::ConsentExpired {
                    stream: b.stream_id.clone(),
                    day,
                }
                .into());
            }
            if !p.roles.contains(&b.claim.role) {
                return Err(Rejection::RoleNotAllowed(b.claim.role.to_string()).into());
            }
            if b.claim.min_level < p.min_level {
                return Err(Rejection::LevelTooLow {
                    proven: b.claim.min_level,
                    required: p.min_level,
                }
                .into());
            }
            if b.purpose != p.purpose {
                return Err(Rejection::PurposeMismatch(b.purpose.clone()).into());
            }
            // The escrow itself was verified with the proof (it is among its public inputs).
            if p.escrow && b.claim.escrow.is_none() {
                return Err(Rejection::EscrowRequired(b.stream_id.clone()).into());
            }
            let nym_key = records::pseudonym_key(&b.claim.scope, &b.claim.pseudonym);
            let new_nym = !overlay.pseudonyms.contains(&nym_key)
                && store.get(Column::Pseudonyms, &nym_key)?.is_none();
            if new_nym {
                s.distinct_accessors += 1;
                out.batch
                    .put(Column::Pseudonyms, nym_key.clone(), id.0.to_vec());
                overlay.pseudonyms.insert(nym_key);
            }
            s.latest_access = Some(id);
            record_event(
                out,
                overlay,
                &b.stream_id,
                s,
                HistoryKind::Access,
                id,
                height,
                Some(b.claim.pseudonym),
            );
        }
        Body::Opening(b) => {
            // Only a committed access: the patient's audit shows the access before its
            // opening, and an opening never names a transaction that might not commit.
            let access = match super::chain::read_tx(store, &b.access)? {
                Some((
                    _,
                    Transaction {
                        body: Body::Access(a),
                        ..
                    },
                )) => a,
                Some(_) => return Err(Rejection::NotOpenable(b.access, "not an access").into()),
                None => {
                    return Err(Rejection::NotOpenable(b.access, "no committed transaction").into())
                }
            };
            if access.claim.escrow.is_none() {
                return Err(
                    Rejection::NotOpenable(b.access, "the access carries no escrow").into(),
                );
            }
            let s = stream_state(store, overlay, &access.stream_id)?
                .ok_or(Rejection::NotOpenable(b.access, "its stream has no state"))?;
            record_event(
                out,
                overlay,
                &access.stream_id,
                s,
                HistoryKind::Opening,
                id,
                height,
                None,
            );
        }
    }
    let record = TxRecord {
        height,
        index: out.accepted.len() as u32,
        bytes: tx.to_bytes(),
    };
    out.batch.put(
        Column::Transactions,
        id.0.to_vec(),
        records::encode(&record),
    );
    overlay.ids.insert(id);
    Ok(())
}
