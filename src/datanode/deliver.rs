//! Whether a data node may deliver for an access, decided on what validators show and
//! checked from the genesis alone; then the delivery itself, sealed to the access's key.
//!
//! - The access must be committed and **final** in a block some validator shows
//!   ([`check_final`]): never one node's word for it.
//! - The stream's latest consent is taken as the latest one any validator proves final: a
//!   validator that hides a newer revocation is overruled by one that shows it. If that
//!   consent is a withdrawal, nothing is delivered, also for accesses committed before it.
//! - The share's policy must still admit the access now: its purpose, the token's role and
//!   level, and today inside its validity.
//!
//! The data node learns the stream, the access's pseudonym and its delivery key; never the
//! institution.

use crate::client::NodeClient;
use crate::delivery::{check_final, seal, SealedRecords};
use crate::ledger::{Access, Block, Body, Consent, Genesis, Transaction, TxId};

use super::records::{RecordStore, RecordStoreError};

/// Why a delivery is refused (the problem code an API answers with is [`Refusal::code`]).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No validator shows the access committed and final.
    #[error("no validator shows transaction {0} committed and final")]
    NotFinal(String),
    /// The transaction is not an access.
    #[error("transaction {0} is not an access")]
    NotAnAccess(String),
    /// This data node holds no record of the stream.
    #[error("this data node holds no records of stream {0}")]
    UnknownStream(String),
    /// The stream's latest final consent is a withdrawal.
    #[error("the patient withdrew the consent of stream {0}")]
    ConsentRevoked(String),
    /// The share no longer admits the access.
    #[error("the share no longer admits this access: {0}")]
    PolicyDenied(String),
    /// The share names a snapshot (`data_digest`) that no prefix of the stream's records
    /// matches: the platform does not hold the data the patient shared.
    #[error("this data node holds no snapshot of stream {0} with the digest the share names")]
    SnapshotMissing(String),
    /// The record store failed.
    #[error(transparent)]
    Store(#[from] RecordStoreError),
}

impl Refusal {
    /// A stable code for problem documents.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotFinal(_) => "NotFinal",
            Refusal::NotAnAccess(_) => "NotAnAccess",
            Refusal::UnknownStream(_) => "UnknownStream",
            Refusal::ConsentRevoked(_) => "ConsentRevoked",
            Refusal::PolicyDenied(_) => "PolicyDenied",
            Refusal::SnapshotMissing(_) => "SnapshotMissing",
            Refusal::Store(_) => "Internal",
        }
    }
}

/// A transaction some validator proved final, with its height.
fn final_tx(nodes: &[NodeClient], genesis: &Genesis, id: &str) -> Option<(u64, Transaction)> {
    nodes.iter().find_map(|n| {
        let r = n.transaction(id).ok()?;
        let height = r.height?;
        let tx: Transaction = serde_json::from_value(r.transaction?).ok()?;
        let block: Block = n.block(height).ok()?;
        if block.header.height != height || tx.id().to_hex() != id {
            return None;
        }
        check_final(genesis, &block, &tx).ok()?;
        Some((height, tx))
    })
}

/// What was decided: the access, and the share it rests on.
pub struct Admitted {
    /// The access's id.
    pub id: TxId,
    /// The access.
    pub access: Access,
    /// The share that admits it.
    pub share: Consent,
}

/// Decides whether the access `id` may be served now (`today`: days since the epoch).
pub fn admit(
    nodes: &[NodeClient],
    genesis: &Genesis,
    id: TxId,
    today: u32,
) -> Result<Admitted, Refusal> {
    let hex = id.to_hex();
    let (_, tx) = final_tx(nodes, genesis, &hex).ok_or_else(|| Refusal::NotFinal(hex.clone()))?;
    let Body::Access(access) = tx.body else {
        return Err(Refusal::NotAnAccess(hex));
    };
    // The latest consent any validator proves final.
    let latest = nodes
        .iter()
        .filter_map(|n| n.stream(&access.stream_id).ok().flatten())
        .filter_map(|s| final_tx(nodes, genesis, &s.latest_consent))
        .max_by_key(|(height, _)| *height);
    let share = match latest.map(|(_, t)| t.body) {
        Some(Body::Consent(c)) if c.stream_id == access.stream_id => c,
        Some(Body::RevokeConsent(r)) if r.stream_id == access.stream_id => {
            return Err(Refusal::ConsentRevoked(access.stream_id))
        }
        _ => {
            return Err(Refusal::NotFinal(format!(
                "the consent of {}",
                access.stream_id
            )))
        }
    };
    let p = &share.policy;
    let claim = &access.claim;
    if access.purpose != p.purpose {
        return Err(Refusal::PolicyDenied(format!(
            "purpose {:?}, the share is for {:?}",
            access.purpose, p.purpose
        )));
    }
    if !p.roles.contains(&claim.role) || claim.min_level < p.min_level {
        return Err(Refusal::PolicyDenied(
            "the token's role or level is not the share's".into(),
        ));
    }
    if today < p.valid_from || today > p.valid_until {
        return Err(Refusal::PolicyDenied(format!(
            "the share is valid on days {}..={}, today is {today}",
            p.valid_from, p.valid_until
        )));
    }
    // A patient who re-shared requiring escrow: a read made anonymously under the earlier
    // share gets nothing more (the ledger refuses new plain reads; this stops the old ones).
    if p.escrow && claim.escrow.is_none() {
        return Err(Refusal::PolicyDenied(
            "the share requires escrowed reads; this access carries no escrow".into(),
        ));
    }
    Ok(Admitted { id, access, share })
}

/// [`admit`], then the stream's records sealed to the access's delivery key: all of them, or,
/// when the share names a `data_digest`, exactly the snapshot it names (the first records
/// whose digest it is; records added later are not shared until the patient shares again).
pub fn deliver(
    store: &RecordStore,
    nodes: &[NodeClient],
    genesis: &Genesis,
    id: TxId,
    today: u32,
) -> Result<SealedRecords, Refusal> {
    let admitted = admit(nodes, genesis, id, today)?;
    let stream = &admitted.access.stream_id;
    if store.count(stream)? == 0 {
        return Err(Refusal::UnknownStream(stream.clone()));
    }
    let records = match &admitted.share.data_digest {
        None => store.records(stream)?,
        Some(digest) => store
            .snapshot(stream, &digest.0)?
            .ok_or_else(|| Refusal::SnapshotMissing(stream.clone()))?,
    };
    seal(
        &admitted.access.delivery_key,
        &genesis.chain_id,
        id,
        &records,
        &mut rand::rngs::OsRng,
    )
    .map_err(|e| Refusal::PolicyDenied(e.to_string()))
}
