//! Study commands: `institution study` (a research institution asks, with cohort criteria) and
//! the cohort part of `institution consent --study ID --values …` (the platform answers,
//! committing to the patient's values and proving them in range, never sending them).

use anyhow::{bail, Context};
use rand::RngCore;

use crate::api::StudyResponse;
use crate::cohort::{Answer, CohortError};
use crate::ledger::{Body, CohortRange, Consent, Hash32, Policy, TxId};

/// Parses `age=40..60,hba1c=48..75` (each `lo..hi`, `lo` inclusive, `hi` exclusive).
pub fn parse_criteria(s: &str) -> anyhow::Result<Vec<CohortRange>> {
    s.split(',')
        .map(|item| {
            let (attribute, range) = item
                .split_once('=')
                .with_context(|| format!("--criteria {item:?}: expected NAME=LO..HI"))?;
            let (lo, hi) = range
                .split_once("..")
                .with_context(|| format!("--criteria {item:?}: expected NAME=LO..HI"))?;
            let r = CohortRange {
                attribute: attribute.trim().into(),
                lo: lo
                    .trim()
                    .parse()
                    .with_context(|| format!("--criteria {item:?}: LO is not an integer"))?,
                hi: hi
                    .trim()
                    .parse()
                    .with_context(|| format!("--criteria {item:?}: HI is not an integer"))?,
            };
            if r.attribute.is_empty() {
                bail!("--criteria {item:?}: no attribute name");
            }
            crate::cohort::bits_for(&r.criterion())
                .map_err(|e| anyhow::anyhow!("--criteria: {e}"))?;
            Ok(r)
        })
        .collect()
}

/// Parses `age=52,hba1c=60` into one value per criterion of the study, in its order: every
/// criterion named once, nothing else.
pub fn parse_values(s: &str, criteria: &[CohortRange]) -> anyhow::Result<Vec<u64>> {
    let mut given = std::collections::BTreeMap::new();
    for item in s.split(',') {
        let (name, value) = item
            .split_once('=')
            .with_context(|| format!("--values {item:?}: expected NAME=VALUE"))?;
        let value: u64 = value
            .trim()
            .parse()
            .with_context(|| format!("--values {item:?}: not a non-negative integer"))?;
        if given.insert(name.trim().to_string(), value).is_some() {
            bail!("--values: {name} is given twice");
        }
    }
    let values = criteria
        .iter()
        .map(|c| {
            given.remove(&c.attribute).with_context(|| {
                format!("--values: the study asks for {:?}, not given", c.attribute)
            })
        })
        .collect::<anyhow::Result<Vec<u64>>>()?;
    if let Some(extra) = given.keys().next() {
        bail!("--values: the study does not ask for {extra:?}");
    }
    Ok(values)
}

/// Turns a consent being prepared into the answer to `study`: the study's policy (its
/// purpose, its role, its level), one commitment per criterion. Returns the answer, whose
/// proofs are made once the body is final. A value outside its range is refused here, with
/// nothing prepared.
pub fn answer_study(
    study_id: &str,
    study: &StudyResponse,
    values: &str,
    consent: &mut Consent,
) -> anyhow::Result<Answer> {
    let id = Hash32::from_hex(study_id).map_err(|e| anyhow::anyhow!("--study: {e}"))?;
    let criteria: Vec<CohortRange> = study
        .criteria
        .iter()
        .map(|c| CohortRange {
            attribute: c.attribute.clone(),
            lo: c.lo,
            hi: c.hi,
        })
        .collect();
    let values = parse_values(values, &criteria)?;
    let answer =
        Answer::commit(&criteria, &values, &mut rand::rngs::OsRng).map_err(|e| match e {
            CohortError::NotEligible { .. } => {
                anyhow::anyhow!("not eligible for study {study_id}: {e}; nothing was prepared")
            }
            e => anyhow::anyhow!("{e}; nothing was prepared"),
        })?;
    consent.policy = Policy {
        roles: vec![study
            .required_role
            .parse()
            .map_err(|_| anyhow::anyhow!("the node's study names an unknown role"))?],
        min_level: study.min_level,
        purpose: study.purpose.clone(),
        ..consent.policy.clone()
    };
    consent.study = Some(id);
    consent.cohort = answer.commitments.clone();
    Ok(answer)
}

/// The range proof of `answer` for the final consent `body`.
pub fn prove_answer(
    answer: &Answer,
    chain_id: &str,
    study: TxId,
    body: &Body,
) -> anyhow::Result<Vec<u8>> {
    answer
        .prove(chain_id, study, body.id(), &mut rand::rngs::OsRng)
        .map_err(|e| anyhow::anyhow!("{e}; nothing was prepared"))
}

/// A fresh nonce for a study request.
pub fn nonce() -> u64 {
    rand::rngs::OsRng.next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_and_values_parse_and_bad_ones_are_named() {
        let c = parse_criteria("age=40..60,hba1c=48..75").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[1].attribute.as_str(), c[1].lo, c[1].hi),
            ("hba1c", 48, 75)
        );
        for (bad, says) in [
            ("age", "NAME=LO..HI"),
            ("age=40-60", "NAME=LO..HI"),
            ("age=x..60", "LO is not"),
            ("age=60..40", "empty"),
            ("=1..2", "no attribute"),
        ] {
            let e = parse_criteria(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert_eq!(parse_values("hba1c=60,age=52", &c).unwrap(), vec![52, 60]);
        for (bad, says) in [
            ("age=52", "\"hba1c\", not given"),
            ("age=52,hba1c=60,bmi=30", "does not ask for \"bmi\""),
            ("age=52,age=53,hba1c=1", "twice"),
            ("age=-1,hba1c=60", "non-negative"),
        ] {
            let e = parse_values(bad, &c).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
