//! Proving and verifying one criterion `lo ≤ v < hi` over a Pedersen commitment (see the
//! module documentation for what it shows and hides).

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
/// Values per aggregated proof: the two derived commitments of one criterion.
const PARTIES: usize = 2;

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
    /// Not one value per criterion.
    #[error("{values} values for {criteria} criteria")]
    Count {
        /// Criteria.
        criteria: usize,
        /// Values.
        values: usize,
    },
    /// The commitment is not a canonical encoding of a Ristretto point.
    #[error("{0}: the commitment is not a Ristretto point")]
    BadCommitment(String),
    /// The proof bytes do not parse (length, non-canonical scalar).
    #[error("{0}: the proof is malformed")]
    Malformed(String),
    /// The proof does not verify for this commitment, criterion and statement.
    #[error("{0}: the range proof does not verify")]
    Invalid(String),
}

fn generators() -> &'static (BulletproofGens, PedersenGens) {
    static GENS: OnceLock<(BulletproofGens, PedersenGens)> = OnceLock::new();
    GENS.get_or_init(|| (BulletproofGens::new(64, PARTIES), PedersenGens::default()))
}

/// The bit width `n` of a criterion's proofs: the smallest of 8, 16, 32 and 64 with
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

/// A fresh Pedersen commitment to `value`: the commitment's encoding and its blinding factor
/// (secret: whoever holds it can open the commitment).
pub fn commit<R: RngCore + CryptoRng>(value: u64, rng: &mut R) -> ([u8; 32], Scalar) {
    let blinding = Scalar::random(rng);
    let c = generators().1.commit(Scalar::from(value), blinding);
    (c.compress().to_bytes(), blinding)
}

fn transcript(s: &Statement, index: usize, c: &Criterion, n: usize) -> Transcript {
    let mut t = Transcript::new(COHORT_TRANSCRIPT_LABEL);
    t.append_message(b"chain", s.chain_id.as_bytes());
    t.append_message(b"study", &s.study.0);
    t.append_message(b"body", &s.body.0);
    t.append_u64(b"index", index as u64);
    t.append_message(b"attribute", c.attribute.as_bytes());
    t.append_u64(b"lo", c.lo);
    t.append_u64(b"hi", c.hi);
    t.append_u64(b"n", n as u64);
    t
}

/// The two commitments the verifier derives: `C − lo·B` and `(hi−1)·B − C`.
fn derived(c: &Criterion, commitment: &RistrettoPoint) -> [CompressedRistretto; 2] {
    let b = generators().1.B;
    [
        (commitment - Scalar::from(c.lo) * b).compress(),
        (Scalar::from(c.hi - 1) * b - commitment).compress(),
    ]
}

/// Proves that the commitment made with `blinding` to `value` satisfies criterion number
/// `index` of the study, bound to `statement`. A value outside the range is refused here
/// ([`CohortError::NotEligible`]): nothing is proven.
pub fn prove<R: RngCore + CryptoRng>(
    statement: &Statement,
    index: usize,
    c: &Criterion,
    value: u64,
    blinding: &Scalar,
    rng: &mut R,
) -> Result<Vec<u8>, CohortError> {
    let n = bits_for(c)?;
    if value < c.lo || value >= c.hi {
        return Err(CohortError::NotEligible {
            attribute: c.attribute.into(),
            lo: c.lo,
            hi: c.hi,
        });
    }
    let (bp, pc) = generators();
    let (proof, commitments) = RangeProof::prove_multiple_with_rng(
        bp,
        pc,
        &mut transcript(statement, index, c, n),
        &[value - c.lo, c.hi - 1 - value],
        &[*blinding, -blinding],
        n,
        rng,
    )
    .map_err(|_| CohortError::Invalid(c.attribute.into()))?;
    let commitment = pc.commit(Scalar::from(value), *blinding);
    debug_assert_eq!(commitments, derived(c, &commitment));
    Ok(proof.to_bytes())
}

/// Verifies the proof of criterion number `index` for `commitment`, deriving both range
/// commitments from it and the criterion's bounds.
pub fn verify(
    statement: &Statement,
    index: usize,
    c: &Criterion,
    commitment: &[u8; 32],
    proof: &[u8],
) -> Result<(), CohortError> {
    let n = bits_for(c)?;
    let point = CompressedRistretto(*commitment)
        .decompress()
        .ok_or_else(|| CohortError::BadCommitment(c.attribute.into()))?;
    let proof =
        RangeProof::from_bytes(proof).map_err(|_| CohortError::Malformed(c.attribute.into()))?;
    let (bp, pc) = generators();
    proof
        .verify_multiple_with_rng(
            bp,
            pc,
            &mut transcript(statement, index, c, n),
            &derived(c, &point),
            n,
            &mut rand::rngs::OsRng,
        )
        .map_err(|_| CohortError::Invalid(c.attribute.into()))
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

    fn statement() -> Statement<'static> {
        Statement {
            chain_id: "consentry-test",
            study: Hash32([1; 32]),
            body: Hash32([2; 32]),
        }
    }

    fn proven(c: &Criterion, value: u64) -> ([u8; 32], Vec<u8>) {
        let (commitment, r) = commit(value, &mut OsRng);
        let proof = prove(&statement(), 0, c, value, &r, &mut OsRng).unwrap();
        (commitment, proof)
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
    }

    #[test]
    fn the_edges_of_the_range_prove_and_the_values_beyond_cannot() {
        for v in [AGE.lo, AGE.hi - 1] {
            let (c, p) = proven(&AGE, v);
            assert_eq!(verify(&statement(), 0, &AGE, &c, &p), Ok(()), "value {v}");
        }
        for v in [AGE.lo - 1, AGE.hi, 0, u64::MAX] {
            let (_, r) = commit(v, &mut OsRng);
            assert!(matches!(
                prove(&statement(), 0, &AGE, v, &r, &mut OsRng),
                Err(CohortError::NotEligible { .. })
            ));
        }
    }

    /// A platform that skips the local check and proves `v − lo` wraps below zero: the
    /// derived value is not in `[0, 2^n)`, and the crate cannot make a proof that verifies.
    #[test]
    fn a_value_below_the_range_cannot_be_forced_through() {
        let v = AGE.lo - 1;
        let (commitment, r) = commit(v, &mut OsRng);
        let (bp, pc) = generators();
        let n = bits_for(&AGE).unwrap();
        // The closest a cheater gets: prove the in-range values of another commitment.
        let forged = RangeProof::prove_multiple_with_rng(
            bp,
            pc,
            &mut transcript(&statement(), 0, &AGE, n),
            &[0, AGE.hi - 1 - AGE.lo],
            &[r, -r],
            n,
            &mut OsRng,
        )
        .unwrap()
        .0
        .to_bytes();
        assert!(matches!(
            verify(&statement(), 0, &AGE, &commitment, &forged),
            Err(CohortError::Invalid(_))
        ));
    }

    #[test]
    fn a_proof_is_bound_to_its_commitment_criterion_study_consent_and_chain() {
        let (c, p) = proven(&AGE, 52);
        let s = statement();
        let other_commitment = commit(52, &mut OsRng).0;
        assert!(verify(&s, 0, &AGE, &other_commitment, &p).is_err());
        let wider = Criterion { lo: 30, ..AGE };
        assert!(verify(&s, 0, &wider, &c, &p).is_err(), "other bounds");
        let renamed = Criterion {
            attribute: "hba1c",
            ..AGE
        };
        assert!(verify(&s, 0, &renamed, &c, &p).is_err(), "other attribute");
        assert!(verify(&s, 1, &AGE, &c, &p).is_err(), "other position");
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
            assert!(matches!(
                verify(&other, 0, &AGE, &c, &p),
                Err(CohortError::Invalid(_))
            ));
        }
    }

    #[test]
    fn malformed_proofs_and_commitments_are_named() {
        let (c, p) = proven(&AGE, 45);
        assert!(matches!(
            verify(&statement(), 0, &AGE, &c, &p[..p.len() - 1]),
            Err(CohortError::Malformed(_))
        ));
        assert!(matches!(
            verify(&statement(), 0, &AGE, &c, &[]),
            Err(CohortError::Malformed(_))
        ));
        // Not a canonical Ristretto encoding.
        assert!(matches!(
            verify(&statement(), 0, &AGE, &[0xff; 32], &p),
            Err(CohortError::BadCommitment(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Random bounds and values: eligible values prove and verify; others are refused
        /// locally; any flipped byte of a good proof fails.
        #[test]
        fn random_ranges_and_values(lo in 0u64..1 << 40, width in 1u64..1 << 34, pick in any::<u64>(), flip in any::<prop::sample::Index>()) {
            let c = Criterion { attribute: "x", lo, hi: lo + width };
            let inside = lo + pick % width;
            let (commitment, p) = proven(&c, inside);
            prop_assert_eq!(verify(&statement(), 0, &c, &commitment, &p), Ok(()));
            let mut bad = p.clone();
            bad[flip.index(p.len())] ^= 1;
            prop_assert!(verify(&statement(), 0, &c, &commitment, &bad).is_err());
            let outside = if pick % 2 == 0 { c.hi + pick % 1000 } else { lo.saturating_sub(1 + pick % 1000) };
            if outside < c.lo || outside >= c.hi {
                let (_, r) = commit(outside, &mut OsRng);
                prop_assert!(
                    matches!(
                        prove(&statement(), 0, &c, outside, &r, &mut OsRng),
                        Err(CohortError::NotEligible { .. })
                    ),
                    "not eligible is refused"
                );
            }
        }
    }
}
