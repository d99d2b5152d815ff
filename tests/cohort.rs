//! Cohort eligibility on the ledger over a real RocksDB: a study's criteria, consents that
//! answer it with Bulletproofs range proofs, and each way an answer can be wrong beside the
//! valid one (a flipped proof byte, a changed commitment, a proof made for another study or
//! chain, criteria in another order or one missing, a policy that admits nobody the study
//! names, criteria without a study), each refused with its named code.

use consentry::circuits::credential::Role;
use consentry::cohort::{Answer, CohortError};
use consentry::ledger::fixture::{Fixture, CHAIN_ID};
use consentry::ledger::*;
use rand::rngs::OsRng;

mod common;
use common::{World, TODAY};

const PURPOSE: &str = "cardiology cohort";

fn criteria() -> Vec<CohortRange> {
    vec![
        CohortRange {
            attribute: "age".into(),
            lo: 40,
            hi: 60,
        },
        CohortRange {
            attribute: "hba1c".into(),
            lo: 48,
            hi: 75,
        },
    ]
}

/// The research centre's study request for `cohort`, committed.
fn study(w: &mut World, cohort: Vec<CohortRange>, nonce: u64) -> Transaction {
    let r = w.research.clone();
    let tree = w.tree();
    let scope = w.fx.fresh_scope();
    let body = Body::StudyRequest(StudyRequest {
        purpose: PURPOSE.into(),
        required_role: Role::Research,
        min_level: 2,
        cohort,
        nonce,
        claim: w.fx.claim(&r, &tree, scope, 2, TODAY),
    });
    let tx = w.fx.finish(&r, &tree, body);
    w.block_ok(vec![tx.clone()]);
    tx
}

/// A new patient's share of stream `name` answering `study` with `answer`'s commitments, the
/// policy letting the study's readers read.
fn body(
    w: &mut World,
    study: &Transaction,
    answer: &Answer,
    name: &str,
) -> (Consent, schnorrkel::Keypair) {
    let patient = w.fx.patient_key();
    let tree = w.tree();
    let p = w.platform.clone();
    let scope = w.fx.fresh_scope();
    let mut policy = Fixture::policy(&[Role::Research], 2);
    policy.purpose = PURPOSE.into();
    let consent = Consent {
        stream_id: Fixture::stream_id(&patient, name),
        stream_name: name.into(),
        policy,
        data_digest: None,
        study: Some(study.id()),
        cohort: answer.commitments.clone(),
        replaces: None,
        patient_key: patient.public.to_bytes(),
        nonce: 0,
        claim: w.fx.claim(&p, &tree, scope, 0, TODAY),
    };
    (consent, patient)
}

/// The platform's token and the patient's signature over `consent`, with `proofs`.
fn seal(
    w: &mut World,
    consent: Consent,
    patient: &schnorrkel::Keypair,
    proof: Vec<u8>,
) -> Transaction {
    let tree = w.tree();
    let p = w.platform.clone();
    let mut tx =
        w.fx.finish_consent(&p, patient, &tree, Body::Consent(consent));
    // The proof is bound to the body through its transcript, not by the signature.
    tx.auth.cohort = proof;
    tx
}

/// An honest answer with `values` to `study`'s criteria `cohort`.
fn answer(
    w: &mut World,
    study: &Transaction,
    cohort: &[CohortRange],
    values: &[u64],
    name: &str,
) -> Transaction {
    let a = Answer::commit(cohort, values, &mut OsRng).unwrap();
    let (consent, patient) = body(w, study, &a, name);
    let id = Body::Consent(consent.clone()).id();
    let proofs = a.prove(CHAIN_ID, study.id(), id, &mut OsRng).unwrap();
    seal(w, consent, &patient, proofs)
}

/// An answer to `study` with the values 52 and 60, `tweak`ed before it is proven: proven for
/// the study the tweaked consent names, with no proof when it names none or has no
/// commitments.
fn tweaked(
    w: &mut World,
    study: &Transaction,
    name: &str,
    tweak: impl FnOnce(&mut Consent),
) -> Transaction {
    let a = Answer::commit(&criteria(), &[52, 60], &mut OsRng).unwrap();
    let (mut consent, patient) = body(w, study, &a, name);
    tweak(&mut consent);
    let proof = match consent.study {
        Some(named) if !consent.cohort.is_empty() => {
            let id = Body::Consent(consent.clone()).id();
            a.prove(CHAIN_ID, named, id, &mut OsRng).unwrap()
        }
        _ => vec![],
    };
    seal(w, consent, &patient, proof)
}

/// An answer to `study` with the values 52 and 60, proven honestly and then `changed`: what a
/// relay or the platform alters after the proof was made.
fn changed_after_proving(
    w: &mut World,
    study: &Transaction,
    name: &str,
    changed: impl FnOnce(&mut Consent),
) -> Transaction {
    let a = Answer::commit(&criteria(), &[52, 60], &mut OsRng).unwrap();
    let (mut consent, patient) = body(w, study, &a, name);
    let id = Body::Consent(consent.clone()).id();
    let proof = a.prove(CHAIN_ID, study.id(), id, &mut OsRng).unwrap();
    changed(&mut consent);
    seal(w, consent, &patient, proof)
}

#[test]
fn an_eligible_answer_is_recorded_and_every_wrong_one_is_refused_by_name() {
    let mut w = World::new(4);
    let s = study(&mut w, criteria(), 1);
    let cohort = criteria();

    // The valid answer, at both edges of both ranges.
    let ok = answer(&mut w, &s, &cohort, &[40, 74], "p-1");
    let ok2 = answer(&mut w, &s, &cohort, &[59, 48], "p-2");
    w.block_ok(vec![ok, ok2]);

    // A flipped byte in a proof.
    let mut tx = answer(&mut w, &s, &cohort, &[52, 60], "p-3");
    tx.auth.cohort[40] ^= 1;
    assert_eq!(w.reject(tx), "CohortProofInvalid");

    // A changed commitment (the token and the signature made over the changed body).
    let other = Answer::commit(&cohort, &[41, 60], &mut OsRng).unwrap();
    let tx = changed_after_proving(&mut w, &s, "p-4", |c| {
        c.cohort[0].commitment = other.commitments[0].commitment
    });
    assert_eq!(w.reject(tx), "CohortProofInvalid");

    // Proofs made for another study (same criteria), or on another chain.
    let other = study(&mut w, criteria(), 2);
    for (chain, study_id) in [(CHAIN_ID, other.id()), ("another-chain", s.id())] {
        let a = Answer::commit(&cohort, &[52, 60], &mut OsRng).unwrap();
        let (consent, patient) = body(&mut w, &s, &a, "p-5");
        let proofs = a
            .prove(
                chain,
                study_id,
                Body::Consent(consent.clone()).id(),
                &mut OsRng,
            )
            .unwrap();
        let tx = seal(&mut w, consent, &patient, proofs);
        assert_eq!(w.reject(tx), "CohortProofInvalid", "{chain}");
    }
    // The proof of one consent moved to another (same study, same values).
    let donor = answer(&mut w, &s, &cohort, &[52, 60], "p-6");
    let a = Answer::commit(&cohort, &[52, 60], &mut OsRng).unwrap();
    let (consent, patient) = body(&mut w, &s, &a, "p-7");
    let tx = seal(&mut w, consent, &patient, donor.auth.cohort.clone());
    assert_eq!(w.reject(tx), "CohortProofInvalid");
    // A truncated proof, and none at all.
    let mut tx = answer(&mut w, &s, &cohort, &[52, 60], "p-8");
    tx.auth.cohort.truncate(tx.auth.cohort.len() - 32);
    assert_eq!(w.reject(tx), "CohortProofInvalid");
    let mut tx = answer(&mut w, &s, &cohort, &[52, 60], "p-8b");
    tx.auth.cohort.clear();
    assert_eq!(w.reject(tx), "CohortProofInvalid");

    // Criteria in another order, or one missing: valid proofs, but not the study's criteria.
    let swapped: Vec<CohortRange> = cohort.iter().rev().cloned().collect();
    let tx = answer(&mut w, &s, &swapped, &[60, 52], "p-9");
    assert_eq!(w.reject(tx), "CriteriaMismatch");
    let tx = answer(&mut w, &s, &cohort[..1], &[52], "p-10");
    assert_eq!(w.reject(tx), "CriteriaMismatch");
    // No answer at all to a study with criteria.
    let tx = tweaked(&mut w, &s, "p-11", |c| c.cohort.clear());
    assert_eq!(w.reject(tx), "CriteriaMismatch");
    // Wider bounds than the study's (an easier statement) with a valid proof for them.
    let mut wider = cohort.clone();
    wider[0].lo = 18;
    let tx = answer(&mut w, &s, &wider, &[30, 60], "p-12");
    assert_eq!(w.reject(tx), "CriteriaMismatch");

    // A policy that does not let the study read: another purpose.
    let tx = tweaked(&mut w, &s, "p-13", |c| c.policy.purpose = "care".into());
    assert_eq!(w.reject(tx), "StudyPolicyMismatch");

    // Commitments without a study.
    let tx = tweaked(&mut w, &s, "p-14", |c| c.study = None);
    assert_eq!(w.reject(tx), "CriteriaMismatch");
    // A proof on a consent without commitments.
    let tx = changed_after_proving(&mut w, &s, "p-14b", |c| c.cohort.clear());
    assert_eq!(w.reject(tx), "CohortProofInvalid");

    // A study nobody asked.
    let tx = tweaked(&mut w, &s, "p-15", |c| c.study = Some(Hash32([9; 32])));
    assert_eq!(w.reject(tx), "UnknownStudy");
}

#[test]
fn a_patient_outside_the_range_cannot_answer_and_the_platform_says_so() {
    for (values, attribute) in [
        ([39u64, 60u64], "age"),
        ([60, 60], "age"),
        ([52, 75], "hba1c"),
        ([52, 47], "hba1c"),
    ] {
        match Answer::commit(&criteria(), &values, &mut OsRng) {
            Err(CohortError::NotEligible { attribute: a, .. }) => assert_eq!(a, attribute),
            other => panic!("{values:?}: {other:?}"),
        }
    }
    assert!(matches!(
        Answer::commit(&criteria(), &[52], &mut OsRng),
        Err(CohortError::Count {
            criteria: 2,
            given: 1
        })
    ));
}

#[test]
fn study_criteria_are_checked_when_asked() {
    let mut w = World::new(4);
    let r = w.research.clone();
    let tree = w.tree();
    for (cohort, why) in [
        (
            vec![CohortRange {
                attribute: "age".into(),
                lo: 60,
                hi: 60,
            }],
            "empty range",
        ),
        (
            (0..9)
                .map(|i| CohortRange {
                    attribute: format!("a{i}"),
                    lo: 0,
                    hi: 10,
                })
                .collect(),
            "too many criteria",
        ),
    ] {
        let scope = w.fx.fresh_scope();
        let body = Body::StudyRequest(StudyRequest {
            purpose: PURPOSE.into(),
            required_role: Role::Research,
            min_level: 2,
            cohort,
            nonce: 3,
            claim: w.fx.claim(&r, &tree, scope, 2, TODAY),
        });
        let tx = w.fx.finish(&r, &tree, body);
        assert_eq!(w.reject(tx), "InvalidField", "{why}");
    }
}
