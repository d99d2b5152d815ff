//! Proving and verifying a study's criteria `lo ≤ v < hi` over Pedersen commitments, all of a
//! consent's criteria in one aggregated range proof (see the module documentation for what it
//! shows and hides).

use std::sync::OnceLock;

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand::{CryptoRng, RngCore};

use crate::ledger::TxId;

/// The transcript label of a cohort proof.
pub const COHORT_TRANSCRIPT_LABEL: &[u8] = b"consentry/v1/cohort";
/// Most criteria a study may name.
pub const MAX_CRITERIA: usize = 8;
/// Most values one proof aggregates: two per criterion.
const MAX_PARTIES: usize = 2 * MAX_CRITERIA;

/// One criterion of a study: `lo ≤ value < hi` for the attribute `attribute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Criterion<'a> {
    /// Attribute name (e.g. `age`).
    pub attribute: &'a str,
    /// Lower bound, inclusive.
    pub lo: u64,
    /// Upper bound, exclusive.
    pub hi: u64,
}

/// What a proof is bound to: the chain, the study it answers, and the consent body.
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    /// Chain id.
    pub chain_id: &'a str,
    /// The study request's transaction id.
    pub study: TxId,
    /// The consent body's digest (its transaction id; it covers the commitments).
    pub body: TxId,
}

/// Why a cohort proof could not be made or does not verify. Never carries a value or a
/// blinding factor.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CohortError {
    /// The range is empty (`lo ≥ hi`).
    #[error("{attribute}: the range {lo}..{hi} is empty (lo must be below hi)")]
    EmptyRange {
        /// Attribute.
        attribute: String,
        /// Lower bound.
        lo: u64,
        /// Upper bound.
        hi: u64,
    },
    /// The value is outside the range: the patient is not eligible, nothing can be proven.
    #[error("{attribute}: the value is outside [{lo}, {hi}): not eligible, no proof can be made")]
    NotEligible {
        /// Attribute.
        attribute: String,
        /// Lower bound.
        lo: u64,
        /// Upper bound.
        hi: u64,
    },
    /// Not one value (or commitment) per criterion, none, or more than [`MAX_CRITERIA`].
    #[error("{given} values or commitments for {criteria} criteria (1 to {MAX_CRITERIA})")]
    Count {
        /// Criteria.
        criteria: usize,
        /// Values or commitments.
        given: usize,
    },
    /// A commitment is not a canonical encoding of a Ristretto point.
    #[error("{0}: the commitment is not a Ristretto point")]
    BadCommitment(String),
    /// The proof bytes do not parse (length, non-canonical scalar).
    #[error("the range proof is malformed")]
    Malformed,
    /// The proof does not verify for these commitments, criteria and statement.
    #[error("the range proof does not verify")]
    Invalid,
}

fn generators() -> &'static (BulletproofGens, PedersenGens) {
    static GENS: OnceLock<(BulletproofGens, PedersenGens)> = OnceLock::new();
    GENS.get_or_init(|| {
        (
            BulletproofGens::new(64, MAX_PARTIES),
            PedersenGens::default(),
        )
    })
}

/// The bit width a criterion needs: the smallest of 8, 16, 32 and 64 with
/// `hi − 1 − lo < 2^n`, so that both derived values of any eligible value fit.
pub fn bits_for(c: &Criterion) -> Result<usize, CohortError> {
    if c.lo >= c.hi {
        return Err(CohortError::EmptyRange {
            attribute: c.attribute.into(),
            lo: c.lo,
            hi: c.hi,
        });
    }
    let width = c.hi - 1 - c.lo;
    Ok([8usize, 16, 32]
        .into_iter()
        .find(|n| width < (1u64 << n))
        .unwrap_or(64))
}

/// The bit width of a proof over `criteria`: the crate proves one width for all the values
/// it aggregates, so the widest criterion's.
pub fn bits_for_all(criteria: &[Criterion]) -> Result<usize, CohortError> {
    criteria
        .iter()
        .map(bits_for)
        .try_fold(8, |n, b| Ok(n.max(b?)))
}

/// A fresh Pedersen commitment to `value`: the commitment's encoding and its blinding factor
/// (secret: whoever holds it can open the commitment).
pub fn commit<R: RngCore + CryptoRng>(value: u64, rng: &mut R) -> ([u8; 32], Scalar) {
    let blinding = Scalar::random(rng);
    let c = generators().1.commit(Scalar::from(value), blinding);
    (c.compress().to_bytes(), blinding)
}

fn transcript(s: &Statement, criteria: &[Criterion], n: usize) -> Transcript {
    let mut t = Transcript::new(COHORT_TRANSCRIPT_LABEL);
    t.append_message(b"chain", s.chain_id.as_bytes());
    t.append_message(b"study", &s.study.0);
    t.append_message(b"body", &s.body.0);
    t.append_u64(b"criteria", criteria.len() as u64);
    for c in criteria {
        t.append_message(b"attribute", c.attribute.as_bytes());
        t.append_u64(b"lo", c.lo);
        t.append_u64(b"hi", c.hi);
    }
    t.append_u64(b"n", n as u64);
    t
}

/// The number of values one proof over `k` criteria aggregates: `2k` padded to a power of
/// two, as the crate needs.
fn parties(k: usize) -> usize {
    (2 * k).next_power_of_two()
}

/// The commitments the verifier derives: `C − lo·B` and `(hi−1)·B − C` per criterion, then
/// the identity (a commitment to 0 with blinding 0) up to a power of two.
fn derived(criteria: &[Criterion], commitments: &[RistrettoPoint]) -> Vec<CompressedRistretto> {
    let b = generators().1.B;
    let mut out: Vec<CompressedRistretto> = criteria
        .iter()
        .zip(commitments)
        .flat_map(|(c, p)| {
            [
                (p - Scalar::from(c.lo) * b).compress(),
                (Scalar::from(c.hi - 1) * b - p).compress(),
            ]
        })
        .collect();
    // The identity's encoding is 32 zero bytes.
    out.resize(parties(criteria.len()), CompressedRistretto([0; 32]));
    out
}

fn check_count(criteria: usize, given: usize) -> Result<(), CohortError> {
    if criteria == 0 || criteria > MAX_CRITERIA || given != criteria {
        return Err(CohortError::Count { criteria, given });
    }
    Ok(())
}

/// Proves that the commitments made with `blindings` to `values` satisfy `criteria` (one per
/// criterion, in order), in one aggregated proof bound to `statement`. A value outside its
/// range is refused here ([`CohortError::NotEligible`]): nothing is proven.
pub fn prove<R: RngCore + CryptoRng>(
    statement: &Statement,
    criteria: &[Criterion],
    values: &[u64],
    blindings: &[Scalar],
    rng: &mut R,
) -> Result<Vec<u8>, CohortError> {
    check_count(criteria.len(), values.len())?;
    check_count(criteria.len(), blindings.len())?;
    let n = bits_for_all(criteria)?;
    let mut derived_values = Vec::with_capacity(parties(criteria.len()));
    let mut derived_blindings = Vec::with_capacity(parties(criteria.len()));
    for ((c, v), r) in criteria.iter().zip(values).zip(blindings) {
        if *v < c.lo || *v >= c.hi {
            return Err(CohortError::NotEligible {
                attribute: c.attribute.into(),
                lo: c.lo,
                hi: c.hi,
            });
        }
        derived_values.extend([v - c.lo, c.hi - 1 - v]);
        derived_blindings.extend([*r, -r]);
    }
    derived_values.resize(parties(criteria.len()), 0);
    derived_blindings.resize(parties(criteria.len()), Scalar::ZERO);
    let (bp, pc) = generators();
    let (proof, _) = RangeProof::prove_multiple_with_rng(
        bp,
        pc,
        &mut transcript(statement, criteria, n),
        &derived_values,
        &derived_blindings,
        n,
        rng,
    )
    .map_err(|_| CohortError::Invalid)?;
    Ok(proof.to_bytes())
}

/// Verifies one aggregated proof that `commitments` (one per criterion, in order) satisfy
/// `criteria`, deriving every range commitment itself from them and the criteria's bounds.
pub fn verify(
    statement: &Statement,
    criteria: &[Criterion],
    commitments: &[[u8; 32]],
    proof: &[u8],
) -> Result<(), CohortError> {
    check_count(criteria.len(), commitments.len())?;
    let n = bits_for_all(criteria)?;
    let points = criteria
        .iter()
        .zip(commitments)
        .map(|(c, bytes)| {
            CompressedRistretto(*bytes)
                .decompress()
                .ok_or_else(|| CohortError::BadCommitment(c.attribute.into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let proof = RangeProof::from_bytes(proof).map_err(|_| CohortError::Malformed)?;
    let (bp, pc) = generators();
    proof
        .verify_multiple_with_rng(
            bp,
            pc,
            &mut transcript(statement, criteria, n),
            &derived(criteria, &points),
            n,
            &mut rand::rngs::OsRng,
        )
        .map_err(|_| CohortError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Hash32;
    use proptest::prelude::*;
    use rand::rngs::OsRng;

    const AGE: Criterion = Criterion {
        attribute: "age",
        lo: 40,
        hi: 60,
    };
    const HBA1C: Criterion = Criterion {
        attribute: "hba1c",
        lo: 48,
        hi: 75,
    };

    fn statement() -> Statement<'static> {
        Statement {
            chain_id: "consentry-test",
            study: Hash32([1; 32]),
            body: Hash32([2; 32]),
        }
    }

    fn proven(criteria: &[Criterion], values: &[u64]) -> (Vec<[u8; 32]>, Vec<u8>) {
        let (commitments, blindings): (Vec<_>, Vec<_>) =
            values.iter().map(|v| commit(*v, &mut OsRng)).unzip();
        let proof = prove(&statement(), criteria, values, &blindings, &mut OsRng).unwrap();
        (commitments, proof)
    }

    #[test]
    fn bit_widths_are_the_smallest_that_cover_the_range() {
        let w = |lo, hi| {
            bits_for(&Criterion {
                attribute: "x",
                lo,
                hi,
            })
        };
        assert_eq!(w(40, 60), Ok(8));
        assert_eq!(w(0, 256), Ok(8));
        assert_eq!(w(0, 257), Ok(16));
        assert_eq!(w(10, 10 + 65_536), Ok(16));
        assert_eq!(w(0, 1 << 32), Ok(32));
        assert_eq!(w(0, (1 << 32) + 1), Ok(64));
        assert_eq!(w(0, u64::MAX), Ok(64));
        assert!(matches!(w(5, 5), Err(CohortError::EmptyRange { .. })));
        assert!(matches!(w(6, 5), Err(CohortError::EmptyRange { .. })));
        let wide = Criterion {
            attribute: "y",
            lo: 0,
            hi: 70_000,
        };
        assert_eq!(bits_for_all(&[AGE, wide, HBA1C]), Ok(32));
    }

    #[test]
    fn the_edges_of_the_range_prove_and_the_values_beyond_cannot() {
        for v in [AGE.lo, AGE.hi - 1] {
            let (c, p) = proven(&[AGE, HBA1C], &[v, 60]);
            assert_eq!(verify(&statement(), &[AGE, HBA1C], &c, &p), Ok(()), "{v}");
        }
        for v in [AGE.lo - 1, AGE.hi, 0, u64::MAX] {
            let (_, r) = commit(v, &mut OsRng);
            let (_, r2) = commit(60, &mut OsRng);
            assert!(matches!(
                prove(&statement(), &[AGE, HBA1C], &[v, 60], &[r, r2], &mut OsRng),
                Err(CohortError::NotEligible { .. })
            ));
        }
    }

    /// Three criteria aggregate six values, padded with two commitments to zero to eight.
    #[test]
    fn three_criteria_are_padded_to_a_power_of_two() {
        let wide = Criterion {
            attribute: "ldl",
            lo: 0,
            hi: 70_000,
        };
        let (c, p) = proven(&[AGE, HBA1C, wide], &[41, 50, 69_999]);
        assert_eq!(verify(&statement(), &[AGE, HBA1C, wide], &c, &p), Ok(()));
        assert!(verify(&statement(), &[AGE, HBA1C], &c[..2], &p).is_err());
    }

    /// A platform that skips the local check cannot make the crate prove a value below the
    /// range: the closest it gets is proving in-range values of other commitments.
    #[test]
    fn a_value_below_the_range_cannot_be_forced_through() {
        let v = AGE.lo - 1;
        let (commitment, r) = commit(v, &mut OsRng);
        let (bp, pc) = generators();
        let n = bits_for(&AGE).unwrap();
        let forged = RangeProof::prove_multiple_with_rng(
            bp,
            pc,
            &mut transcript(&statement(), &[AGE], n),
            &[0, AGE.hi - 1 - AGE.lo],
            &[r, -r],
            n,
            &mut OsRng,
        )
        .unwrap()
        .0
        .to_bytes();
        assert_eq!(
            verify(&statement(), &[AGE], &[commitment], &forged),
            Err(CohortError::Invalid)
        );
    }

    #[test]
    fn a_proof_is_bound_to_its_commitments_criteria_study_consent_and_chain() {
        let (c, p) = proven(&[AGE, HBA1C], &[52, 60]);
        let s = statement();
        let mut other = c.clone();
        other[1] = commit(60, &mut OsRng).0;
        assert!(verify(&s, &[AGE, HBA1C], &other, &p).is_err(), "commitment");
        let wider = Criterion { lo: 30, ..AGE };
        assert!(verify(&s, &[wider, HBA1C], &c, &p).is_err(), "bounds");
        let renamed = Criterion {
            attribute: "weight",
            ..AGE
        };
        assert!(verify(&s, &[renamed, HBA1C], &c, &p).is_err(), "attribute");
        let swapped = [c[1], c[0]];
        assert!(verify(&s, &[HBA1C, AGE], &swapped, &p).is_err(), "order");
        assert!(verify(&s, &[AGE], &c[..1], &p).is_err(), "one missing");
        for other in [
            Statement {
                chain_id: "another-chain",
                ..s
            },
            Statement {
                study: Hash32([9; 32]),
                ..s
            },
            Statement {
                body: Hash32([9; 32]),
                ..s
            },
        ] {
            assert_eq!(
                verify(&other, &[AGE, HBA1C], &c, &p),
                Err(CohortError::Invalid)
            );
        }
    }

    #[test]
    fn malformed_proofs_counts_and_commitments_are_named() {
        let (c, p) = proven(&[AGE], &[45]);
        assert_eq!(
            verify(&statement(), &[AGE], &c, &p[..p.len() - 1]),
            Err(CohortError::Malformed)
        );
        assert_eq!(
            verify(&statement(), &[AGE], &c, &[]),
            Err(CohortError::Malformed)
        );
        assert!(matches!(
            verify(&statement(), &[AGE], &[[0xff; 32]], &p),
            Err(CohortError::BadCommitment(_))
        ));
        assert!(matches!(
            verify(&statement(), &[], &[], &p),
            Err(CohortError::Count { .. })
        ));
        assert!(matches!(
            verify(&statement(), &[AGE, HBA1C], &c, &p),
            Err(CohortError::Count { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// Random bounds and values for 1 to 4 criteria: eligible values prove and verify;
        /// any flipped byte of a good proof fails; an ineligible value is refused locally.
        #[test]
        fn random_ranges_and_values(
            ranges in prop::collection::vec((0u64..1 << 40, 1u64..1 << 34, any::<u64>()), 1..=4),
            flip in any::<prop::sample::Index>(),
            out in any::<prop::sample::Index>(),
        ) {
            let names: Vec<String> = (0..ranges.len()).map(|i| format!("a{i}")).collect();
            let criteria: Vec<Criterion> = ranges
                .iter()
                .zip(&names)
                .map(|((lo, width, _), name)| Criterion { attribute: name, lo: *lo, hi: lo + width })
                .collect();
            let values: Vec<u64> = ranges.iter().map(|(lo, width, pick)| lo + pick % width).collect();
            let (commitments, p) = proven(&criteria, &values);
            prop_assert_eq!(verify(&statement(), &criteria, &commitments, &p), Ok(()));
            let mut bad = p.clone();
            bad[flip.index(p.len())] ^= 1;
            prop_assert!(verify(&statement(), &criteria, &commitments, &bad).is_err());
            let i = out.index(criteria.len());
            let mut outside = values.clone();
            outside[i] = criteria[i].hi;
            let blindings: Vec<Scalar> = outside.iter().map(|v| commit(*v, &mut OsRng).1).collect();
            let refused = matches!(
                prove(&statement(), &criteria, &outside, &blindings, &mut OsRng),
                Err(CohortError::NotEligible { .. })
            );
            prop_assert!(refused, "an ineligible value is refused locally");
        }
    }
}
