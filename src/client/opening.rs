//! The inspector's side of accountable anonymity (`docs/escrow.md`): open one escrowed access
//! on the record. The access must be final, the opening is submitted and must be final too,
//! and only then is the escrow decrypted, so the honest tool never reveals an id whose opening
//! is not on the chain.

use std::time::{Duration, Instant};

use consentry_circuits::credential::InstitutionId;
use consentry_circuits::escrow::{Escrow, InspectorSecret};

use super::{builder, ClientError, NodeClient};
use crate::ledger::{keys, Body, Genesis, Hash32, Opening, Transaction};

/// How long a transaction may take to become final (a cluster's block gathers its quorum's
/// signatures just after it commits).
const FINALITY_WAIT: Duration = Duration::from_secs(30);

/// Why an access was not opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The chain names no inspector.
    #[error("chain {0} has no inspector: nothing can be opened")]
    NoInspector(String),
    /// The key is not the genesis inspector's.
    #[error("this key is not the key of the chain's inspector ({0}): it opens nothing")]
    NotTheInspector(String),
    /// The transaction is not an access carrying an escrow.
    #[error("{0} cannot be opened: {1}")]
    NotOpenable(Hash32, String),
    /// The node failed or refused, or a transaction is not final.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// An opened access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The committed opening's id.
    pub opening: Hash32,
    /// Its block.
    pub height: u64,
    /// The institution's id the escrow held.
    pub id: InstitutionId,
    /// The same opening (access and case) was on the record already.
    pub already_recorded: bool,
}

/// Waits until transaction `id` is final under `genesis`: its height and the transaction.
pub fn wait_final(
    client: &NodeClient,
    genesis: &Genesis,
    id: &Hash32,
) -> Result<(u64, Transaction), ClientError> {
    let deadline = Instant::now() + FINALITY_WAIT;
    loop {
        match client.final_tx(genesis, id) {
            Ok(found) => return Ok(found),
            Err(e) if Instant::now() > deadline => return Err(e),
            // Pending, or committed but its block short of a quorum's signatures: wait.
            Err(ClientError::Problem { code, .. }) if code == "Pending" => {}
            Err(ClientError::NotFinal(_)) => {}
            Err(e) => return Err(e),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Opens `access` for `case` with the inspector's `secret`: checks the key is `genesis`'s
/// inspector's and the access final and escrowed (nothing is sent otherwise), records the
/// `Opening` and waits for it to be final, then decrypts.
pub fn open(
    client: &NodeClient,
    genesis: &Genesis,
    secret: &InspectorSecret,
    access: Hash32,
    case: String,
) -> Result<Opened, OpenError> {
    let inspector = genesis
        .inspector
        .as_ref()
        .ok_or_else(|| OpenError::NoInspector(genesis.chain_id.clone()))?;
    // Another key would "open" every escrow to a meaningless value.
    if secret.public().to_bytes() != inspector.escrow_key {
        return Err(OpenError::NotTheInspector(inspector.name.clone()));
    }
    let (_, tx) = wait_final(client, genesis, &access)?;
    let not = |why: String| OpenError::NotOpenable(access, why);
    let Body::Access(a) = &tx.body else {
        return Err(not(format!("it is a {} transaction", tx.body.kind())));
    };
    let bytes = a
        .claim
        .escrow
        .ok_or_else(|| not("the access carries no escrow".into()))?;
    let escrow = Escrow::from_bytes(&bytes.0).map_err(|e| not(e.to_string()))?;
    let opening = builder::inspector_signed(
        &keys::inspector_signing_key(secret),
        &genesis.chain_id,
        Body::Opening(Opening { access, case }),
    );
    let deadline = Instant::now() + FINALITY_WAIT;
    let already_recorded = loop {
        match client.submit(&opening, true) {
            Ok(_) => break false,
            // The same opening (access and case) was sent before: pending or committed.
            Err(ClientError::Problem { code, .. }) if code == "Replay" => break true,
            // The access is final (checked above), but the validator that admits the opening
            // (a cluster's leader) may not have applied its block yet: a quorum of the others
            // can make it final first. Try again shortly.
            Err(ClientError::Problem { code, detail, .. })
                if code == "NotOpenable"
                    && detail.contains("no committed transaction")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let (height, _) = wait_final(client, genesis, &opening.id())?;
    Ok(Opened {
        opening: opening.id(),
        height,
        id: secret.open(&escrow),
        already_recorded,
    })
}
