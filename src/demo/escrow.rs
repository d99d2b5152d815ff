//! The demo's accountable-anonymity chapter (`docs/escrow.md`): a stream whose policy requires
//! escrow, a plain read refused, an escrowed read accepted, the inspector's opening put on the
//! record before the id is decrypted, the issuer naming the institution from its own records,
//! and the patient's audit showing the opening (the inspector's procedure is
//! [`crate::client::opening`], as `consentry inspector open` runs it).

use std::path::Path;

use anyhow::ensure;
use consentry_circuits::escrow::InspectorKey;
use consentry_circuits::field;
use consentry_circuits::groth::Prover;
use consentry_circuits::registry::RegistryTree;
use rand::rngs::OsRng;
use rand::RngCore;

use super::{rejection_code, short, Story};
use crate::client::builder::{self, Holder};
use crate::client::{accreditation, opening, NodeClient};
use crate::ledger::{keys, Transaction};
use crate::params;

/// What the chapter needs from the story so far.
pub(super) struct Escrowed<'a, 'b> {
    pub story: &'a mut Story<'b>,
    pub client: &'a NodeClient,
    pub params_dir: &'a Path,
    pub inspector_key: &'a Path,
    pub issuer_records: &'a Path,
    pub hospital: &'a Holder,
    pub tree: &'a RegistryTree,
    pub plain_prover: &'a Prover,
    pub day: u32,
    /// Proves and signs a share of the named stream requiring escrow, readable by hospitals.
    pub share: &'a dyn Fn(&RegistryTree, &str) -> anyhow::Result<Transaction>,
    /// The id of that stream (`stream-3`).
    pub stream: String,
}

/// Runs the chapter.
pub(super) fn run(e: &mut Escrowed) -> anyhow::Result<()> {
    let client = e.client;
    let chain = client.status()?.chain_id;
    let genesis = client.genesis()?;
    let inspector = genesis
        .inspector
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the demo chain names no inspector"))?;
    e.story.step(
        "patient shares stream-3 requiring escrow (accountable reads)",
        || {
            let r = client.submit(&(e.share)(e.tree, "stream-3")?, true)?;
            ensure!(r.height.is_some(), "share not committed: {r:?}");
            Ok((
                (),
                format!("policy escrow: true, block {:?}", r.height.unwrap_or(0)),
            ))
        },
    )?;
    e.story
        .step("hospital reads stream-3 with a plain token", || {
            let body =
                e.hospital
                    .access_body(e.tree, &e.stream, "care", 2, e.day, OsRng.next_u64());
            let proof = e
                .hospital
                .prove(e.plain_prover, &chain, e.tree, &body, &mut OsRng)?;
            let code = rejection_code(client.submit(&builder::with_proof(body, proof), true))?;
            ensure!(
                code == "EscrowRequired",
                "expected EscrowRequired, got {code}"
            );
            Ok(((), format!("refused: {code}")))
        })?;
    let escrow_prover = e.story.step(
        "load the escrow proving key (the inspector's circuit)",
        || {
            let key = InspectorKey::from_bytes(&inspector.escrow_key)?;
            let prover = params::load_escrow_prover(e.params_dir, e.tree.depth(), key)?;
            let detail = format!("{} constraints", prover.num_constraints());
            Ok((prover, detail))
        },
    )?;
    let access = e.story.step(
        "hospital reads stream-3 escrowed (id encrypted to the inspector)",
        || {
            let (body, r) = e.hospital.escrowed_access_body(
                e.tree,
                &e.stream,
                "care",
                2,
                e.day,
                OsRng.next_u64(),
                escrow_prover.inspector(),
                &mut OsRng,
            );
            let proof =
                e.hospital
                    .prove_escrowed(&escrow_prover, &chain, e.tree, &body, &r, &mut OsRng)?;
            let tx = builder::with_proof(body, proof);
            let r = client.submit(&tx, true)?;
            ensure!(r.height.is_some(), "escrowed access not committed: {r:?}");
            let nym = tx.body.claim().map(|c| c.pseudonym).unwrap_or_default();
            Ok((
                tx.id(),
                format!("accepted, pseudonym {}, escrow recorded", short(&nym)),
            ))
        },
    )?;
    let id = e.story.step(
        "inspector opens that read on the record (Opening, then decrypt)",
        || {
            let secret = keys::read_inspector(e.inspector_key)?;
            let opened = opening::open(client, &genesis, &secret, access, "DPA-DEMO-1".into())?;
            ensure!(
                opened.id == e.hospital.sk.id(),
                "the escrow opened to another id"
            );
            let shown = field::to_hex(&opened.id.0);
            Ok((
                shown.clone(),
                format!("block {}: id {}…", opened.height, &shown[..14]),
            ))
        },
    )?;
    e.story
        .step("issuer names the institution (its own records)", || {
            let found = accreditation::find(e.issuer_records, &id)?;
            let name = found
                .first()
                .and_then(|a| a.name.clone())
                .ok_or_else(|| anyhow::anyhow!("no record of id {id}"))?;
            ensure!(name == "Demo Hospital", "whois named {name}");
            Ok(((), name))
        })?;
    e.story
        .step("patient's audit of stream-3 shows the opening", || {
            let h = client.history(&e.stream)?;
            let kinds: Vec<&str> = h.entries.iter().map(|x| x.kind.as_str()).collect();
            ensure!(
                kinds == ["share", "access", "opening"],
                "unexpected audit: {kinds:?}"
            );
            let o = &h.entries[2];
            ensure!(
                o.opens.as_deref() == Some(access.to_hex().as_str()),
                "the opening names another access"
            );
            Ok((
                (),
                format!(
                    "opened by {} for case {}",
                    o.inspector.as_deref().unwrap_or("?"),
                    o.case.as_deref().unwrap_or("?")
                ),
            ))
        })?;
    Ok(())
}
