//! Stateless checks of a transaction (fields, signatures, the token's public part) against the
//! chain configuration and the block context. Groth16 proofs are verified afterwards, in one
//! batch per block ([`super::execute`]).

use consentry_circuits::escrow::Escrow;
use consentry_circuits::field;
use consentry_circuits::token::{proof_from_bytes, Token};
use consentry_circuits::{access::PublicInputs, credential::Role};
use ed25519_dalek::{Signature, VerifyingKey};

use super::chain::KeyId;
use super::forest::RootWindow;
use super::rejection::Rejection;
use super::transaction::{
    stream_id_for, Body, Consent, Genesis, Policy, TokenClaim, Transaction, MAX_TX_BYTES,
    PATIENT_SIGNING_CONTEXT,
};
use super::types::{Hash32, MAX_LIST, MAX_TEXT};
use crate::cohort::MAX_CRITERIA;

/// Bytes of a compressed Groth16 proof over BLS12-381 (A and C in G1, B in G2).
pub const PROOF_BYTES: usize = 192;
/// Bytes of an Ed25519 or sr25519 signature.
pub const SIGNATURE_BYTES: usize = 64;

/// What the stateless checks need to know about the chain and the block.
pub struct Context<'a> {
    /// The chain configuration.
    pub genesis: &'a Genesis,
    /// Registry roots a token may be proven against, per issuer.
    pub roots: &'a RootWindow,
    /// The block's time (milliseconds since the epoch).
    pub time_ms: u64,
    /// The block's day.
    pub day: u32,
    /// The verifying keys the chain accepts (depth, plain or escrow).
    pub keys: &'a [KeyId],
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Rejection {
    Rejection::InvalidField {
        field,
        reason: reason.into(),
    }
}

/// Stream ids: 64 lowercase hex digits, as [`stream_id_for`] makes them.
pub fn check_stream_id(s: &str) -> Result<(), Rejection> {
    let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "stream_id",
            "64 lowercase hex digits (stream_id_for(patient_key, stream_name))",
        ))
    }
}

/// Stream names (a platform's local name of a stream): 1 to 64 bytes of `A-Z a-z 0-9 . _ : -`.
pub fn check_stream_name(s: &str) -> Result<(), Rejection> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "stream_name",
            "1 to 64 characters of A-Z a-z 0-9 . _ : -",
        ))
    }
}

fn check_text(field: &'static str, s: &str) -> Result<(), Rejection> {
    if s.is_empty() || s.len() > MAX_TEXT {
        return Err(invalid(field, format!("must be 1 to {MAX_TEXT} bytes")));
    }
    Ok(())
}

fn check_policy(genesis: &Genesis, p: &Policy) -> Result<(), Rejection> {
    if p.roles.is_empty() || p.roles.len() > MAX_LIST {
        return Err(invalid("policy.roles", format!("1 to {MAX_LIST} roles")));
    }
    // A stream that requires escrow on a chain without an inspector could never be read.
    if p.escrow && genesis.inspector.is_none() {
        return Err(Rejection::NoInspector("a policy cannot require escrow"));
    }
    check_text("policy.purpose", &p.purpose)?;
    if p.valid_from > p.valid_until {
        return Err(invalid("policy.valid_until", "before valid_from"));
    }
    Ok(())
}

fn check_issuer_signature(
    genesis: &Genesis,
    issuer_id: u32,
    tx: &Transaction,
) -> Result<(), Rejection> {
    let issuer = genesis
        .issuers
        .iter()
        .find(|i| i.issuer_id == issuer_id)
        .ok_or(Rejection::UnknownIssuer(issuer_id))?;
    check_ed25519(
        &issuer.key,
        &tx.body.issuer_signing_bytes(&genesis.chain_id),
        tx,
        Rejection::BadIssuerSignature,
    )
}

/// `tx`'s signature by the Ed25519 key `key` over `message` (strict verification: no
/// small-order keys or malleable signatures), else `bad`.
fn check_ed25519(
    key: &[u8; 32],
    message: &[u8],
    tx: &Transaction,
    bad: Rejection,
) -> Result<(), Rejection> {
    let sig: [u8; 64] = tx
        .auth
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| invalid("auth.signature", "64 bytes"))?;
    let key = VerifyingKey::from_bytes(key).map_err(|_| bad.clone())?;
    key.verify_strict(message, &Signature::from_bytes(&sig))
        .map_err(|_| bad)
}

/// A patient's stream key (sr25519), or why it is none: not a Ristretto point, or the
/// identity. The Ristretto group has prime order: the identity is its only low-order point, and
/// a signature "by" it proves nothing about who signed. Used by the ledger and the data node.
pub fn patient_key(bytes: &[u8; 32]) -> Result<schnorrkel::PublicKey, &'static str> {
    let key =
        schnorrkel::PublicKey::from_bytes(bytes).map_err(|_| "not a valid Ristretto point")?;
    if curve25519_dalek::traits::IsIdentity::is_identity(key.as_point()) {
        return Err("the identity point is not a key");
    }
    Ok(key)
}

/// An opening's signature: by the genesis inspector's Ed25519 key, over its own domain.
fn check_inspector_signature(genesis: &Genesis, tx: &Transaction) -> Result<(), Rejection> {
    let inspector = genesis
        .inspector
        .as_ref()
        .ok_or(Rejection::NoInspector("nothing can be opened"))?;
    check_ed25519(
        &inspector.signing_key,
        &tx.body.inspector_signing_bytes(&genesis.chain_id),
        tx,
        Rejection::BadInspectorSignature,
    )
}

fn check_patient_signature(
    chain_id: &str,
    patient_key: &[u8; 32],
    tx: &Transaction,
) -> Result<(), Rejection> {
    let key = self::patient_key(patient_key).map_err(|why| invalid("patient_key", why))?;
    let sig = schnorrkel::Signature::from_bytes(&tx.auth.signature)
        .map_err(|_| invalid("auth.signature", "not a 64-byte sr25519 signature"))?;
    key.verify_simple(
        PATIENT_SIGNING_CONTEXT,
        &tx.body.patient_signing_bytes(chain_id),
        &sig,
    )
    .map_err(|_| Rejection::BadPatientSignature)
}

fn fe(field: &'static str, h: &Hash32) -> Result<consentry_circuits::Fr, Rejection> {
    field::from_bytes(&h.0).map_err(|e| invalid(field, e.to_string()))
}

/// Rebuilds the full token from a body's claim, the body's message and the proof bytes, after
/// the context checks (depth, issuer, root window, day).
fn token_for(
    ctx: &Context,
    claim: &TokenClaim,
    body: &Body,
    proof: &[u8],
) -> Result<Token, Rejection> {
    check_claim_context(ctx, claim)?;
    let public = PublicInputs {
        root: fe("claim.root", &claim.root)?,
        scope: fe("claim.scope", &claim.scope)?,
        pseudonym: fe("claim.pseudonym", &claim.pseudonym)?,
        message: body.message(&ctx.genesis.chain_id),
        role: claim.role,
        issuer_id: claim.issuer_id,
        min_level: claim.min_level,
        today: claim.today,
    };
    let proof = proof_from_bytes(proof).map_err(|e| invalid("auth.proof", e.to_string()))?;
    let escrow = match &claim.escrow {
        None => None,
        Some(bytes) => {
            Some(Escrow::from_bytes(&bytes.0).map_err(|e| invalid("claim.escrow", e.to_string()))?)
        }
    };
    Ok(Token {
        depth: claim.depth,
        proof,
        public,
        escrow,
    })
}

/// The checks of a claim that depend on the chain's moment (accepted depths, issuers, the
/// root window, the day): re-run at block time for transactions admitted earlier, whose
/// decoding and signatures were checked at admission.
pub fn check_claim_context(ctx: &Context, claim: &TokenClaim) -> Result<(), Rejection> {
    let key = KeyId {
        depth: claim.depth,
        escrow: claim.escrow.is_some(),
    };
    if key.escrow && ctx.genesis.inspector.is_none() {
        return Err(Rejection::NoInspector("a token cannot carry an escrow"));
    }
    if !ctx.keys.contains(&key) {
        return Err(key.unknown());
    }
    if !ctx
        .genesis
        .issuers
        .iter()
        .any(|i| i.issuer_id == claim.issuer_id)
    {
        return Err(Rejection::UnknownIssuer(claim.issuer_id));
    }
    if !ctx.roots.accepts(claim.issuer_id, &claim.root, ctx.time_ms) {
        return Err(Rejection::RootNotInWindow {
            issuer: claim.issuer_id,
            window_secs: ctx.roots.window_secs(),
        });
    }
    // A token proves `expiry_day >= today`; with `today` never before the block's day, an
    // expired credential fails on the first day after its expiry. A day ahead is allowed for
    // a client that proves for tomorrow (its clock ahead, or close to midnight on purpose); a
    // token made for day D lands only in a block of day D.
    if claim.today < ctx.day || claim.today > ctx.day + 1 {
        return Err(Rejection::StaleDay {
            token: claim.today,
            block: ctx.day,
        });
    }
    Ok(())
}

fn require_role(claim: &TokenClaim, role: Role) -> Result<(), Rejection> {
    if claim.role != role {
        return Err(Rejection::RoleNotAllowed(format!(
            "{} (this transaction needs a {role} token)",
            claim.role
        )));
    }
    Ok(())
}

/// A consent's cohort answer: none without a study; with one, a commitment per criterion and
/// one aggregated range proof that verifies for them, the study, this body and this chain.
/// Whether the criteria are the study's is checked against the study itself when the consent
/// is applied (`CriteriaMismatch`).
fn check_cohort(ctx: &Context, tx: &Transaction, b: &Consent) -> Result<(), Rejection> {
    let proof = &tx.auth.cohort;
    let Some(study) = b.study else {
        if b.cohort.is_empty() && proof.is_empty() {
            return Ok(());
        }
        return Err(Rejection::CriteriaMismatch(
            "cohort commitments or a proof without a study".into(),
        ));
    };
    if b.cohort.is_empty() {
        if proof.is_empty() {
            return Ok(());
        }
        return Err(Rejection::CohortProofInvalid(
            "a proof without commitments".into(),
        ));
    }
    if b.cohort.len() > MAX_CRITERIA {
        return Err(Rejection::CriteriaMismatch(format!(
            "at most {MAX_CRITERIA} criteria"
        )));
    }
    for c in &b.cohort {
        check_text("cohort.attribute", &c.attribute)?;
    }
    let statement = crate::cohort::Statement {
        chain_id: &ctx.genesis.chain_id,
        study,
        body: tx.id(),
    };
    let criteria: Vec<_> = b.cohort.iter().map(|c| c.criterion()).collect();
    let commitments: Vec<[u8; 32]> = b.cohort.iter().map(|c| c.commitment).collect();
    crate::cohort::verify(&statement, &criteria, &commitments, proof)
        .map_err(|e| Rejection::CohortProofInvalid(e.to_string()))
}

/// What authorises each kind: exactly a proof, a signature, or both, of their exact sizes.
/// Nothing else is stored, so nothing oversized can reach the chain.
fn check_auth_shape(tx: &Transaction) -> Result<(), Rejection> {
    let (proof, signature) = match &tx.body {
        Body::Genesis(_) => (false, false),
        Body::IssueCredential(_)
        | Body::RevokeCredential(_)
        | Body::RevokeConsent(_)
        | Body::Opening(_) => (false, true),
        Body::StudyRequest(_) | Body::Access(_) => (true, false),
        Body::Consent(_) => (true, true),
    };
    let kind = tx.body.kind();
    if !matches!(tx.body, Body::Consent(_)) && !tx.auth.cohort.is_empty() {
        return Err(invalid(
            "auth.cohort",
            format!("a {kind} transaction carries no cohort proofs"),
        ));
    }
    match (proof, tx.auth.proof.len()) {
        (false, 0) | (true, PROOF_BYTES) => {}
        (false, n) => {
            return Err(invalid(
                "auth.proof",
                format!("a {kind} transaction carries no proof, got {n} bytes"),
            ))
        }
        (true, n) => {
            return Err(invalid(
                "auth.proof",
                format!("a compressed Groth16 proof is {PROOF_BYTES} bytes, got {n}"),
            ))
        }
    }
    match (signature, tx.auth.signature.len()) {
        (false, 0) | (true, SIGNATURE_BYTES) => Ok(()),
        (false, n) => Err(invalid(
            "auth.signature",
            format!("a {kind} transaction carries no signature, got {n} bytes"),
        )),
        (true, n) => Err(invalid(
            "auth.signature",
            format!("a signature is {SIGNATURE_BYTES} bytes, got {n}"),
        )),
    }
}

/// Runs every check that does not depend on stream or registry state and returns the token
/// to verify, if the kind carries one.
pub fn check(ctx: &Context, tx: &Transaction) -> Result<Option<Token>, Rejection> {
    let size = tx.encoded_len();
    if size > MAX_TX_BYTES {
        return Err(Rejection::TooLarge {
            size,
            limit: MAX_TX_BYTES,
        });
    }
    check_auth_shape(tx)?;
    // Escrow is for reads: a share or a study request has nothing for the inspector to open.
    if let Some(claim) = tx.body.claim() {
        if claim.escrow.is_some() && !matches!(tx.body, Body::Access(_)) {
            return Err(invalid(
                "claim.escrow",
                format!("a {} transaction carries no escrow", tx.body.kind()),
            ));
        }
    }
    match &tx.body {
        Body::Genesis(_) => Err(Rejection::UnexpectedGenesis),
        Body::IssueCredential(b) => {
            let leaf = fe("leaf", &b.leaf)?;
            if leaf == consentry_circuits::registry::EMPTY_LEAF {
                return Err(invalid("leaf", "the empty value is not a credential"));
            }
            check_issuer_signature(ctx.genesis, b.issuer_id, tx)?;
            Ok(None)
        }
        Body::RevokeCredential(b) => {
            check_issuer_signature(ctx.genesis, b.issuer_id, tx)?;
            Ok(None)
        }
        Body::StudyRequest(b) => {
            check_text("purpose", &b.purpose)?;
            if b.cohort.len() > MAX_CRITERIA {
                return Err(invalid(
                    "cohort",
                    format!("at most {MAX_CRITERIA} criteria"),
                ));
            }
            for r in &b.cohort {
                check_text("cohort.attribute", &r.attribute)?;
                crate::cohort::bits_for(&r.criterion())
                    .map_err(|e| invalid("cohort", e.to_string()))?;
            }
            require_role(&b.claim, Role::Research)?;
            token_for(ctx, &b.claim, &tx.body, &tx.auth.proof).map(Some)
        }
        Body::Consent(b) => {
            check_stream_id(&b.stream_id)?;
            check_stream_name(&b.stream_name)?;
            if b.stream_id != stream_id_for(&b.patient_key, &b.stream_name) {
                return Err(Rejection::StreamNotOwned(b.stream_id.clone()));
            }
            check_policy(ctx.genesis, &b.policy)?;
            require_role(&b.claim, Role::Platform)?;
            let token = token_for(ctx, &b.claim, &tx.body, &tx.auth.proof)?;
            check_patient_signature(&ctx.genesis.chain_id, &b.patient_key, tx)?;
            check_cohort(ctx, tx, b)?;
            Ok(Some(token))
        }
        Body::RevokeConsent(b) => {
            check_stream_id(&b.stream_id)?;
            check_patient_signature(&ctx.genesis.chain_id, &b.patient_key, tx)?;
            Ok(None)
        }
        Body::Access(b) => {
            check_stream_id(&b.stream_id)?;
            check_text("purpose", &b.purpose)?;
            crate::delivery::check_public(&b.delivery_key)
                .map_err(|why| invalid("delivery_key", why))?;
            if b.claim.scope.0 != field::to_bytes(&field::access_scope(&b.stream_id)) {
                return Err(Rejection::WrongScope("H(\"access\", stream_id)"));
            }
            token_for(ctx, &b.claim, &tx.body, &tx.auth.proof).map(Some)
        }
        Body::Opening(b) => {
            check_text("case", &b.case)?;
            check_inspector_signature(ctx.genesis, tx)?;
            Ok(None)
        }
    }
}
