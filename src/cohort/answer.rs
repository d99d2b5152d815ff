//! The data platform's side: committing to a patient's values for a study's criteria and
//! proving them for one consent body.

use curve25519_dalek::scalar::Scalar;
use rand::{CryptoRng, RngCore};
use zeroize::Zeroize;

use super::proof::{commit, prove, CohortError, Statement};
use crate::ledger::{CohortCommitment, CohortRange, TxId};

/// Commitments to a patient's values for a study's criteria, with their blinding factors.
/// The values and blindings are secret (whoever holds them can open the commitments): they
/// are wiped on drop and never printed.
pub struct Answer {
    /// The commitments, one per criterion, in the study's order (public: they go into the
    /// consent body).
    pub commitments: Vec<CohortCommitment>,
    values: Vec<u64>,
    blindings: Vec<Scalar>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.values.zeroize();
        self.blindings.zeroize();
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("commitments", &self.commitments)
            .finish_non_exhaustive()
    }
}

impl Answer {
    /// Commits to `values`, one per criterion of `criteria` in order. Refuses, before
    /// committing to anything, a wrong number of values or a value outside its range
    /// ([`CohortError::NotEligible`] names the first such criterion).
    pub fn commit<R: RngCore + CryptoRng>(
        criteria: &[CohortRange],
        values: &[u64],
        rng: &mut R,
    ) -> Result<Answer, CohortError> {
        if criteria.is_empty()
            || criteria.len() > super::MAX_CRITERIA
            || criteria.len() != values.len()
        {
            return Err(CohortError::Count {
                criteria: criteria.len(),
                given: values.len(),
            });
        }
        for (r, v) in criteria.iter().zip(values) {
            super::bits_for(&r.criterion())?;
            if *v < r.lo || *v >= r.hi {
                return Err(CohortError::NotEligible {
                    attribute: r.attribute.clone(),
                    lo: r.lo,
                    hi: r.hi,
                });
            }
        }
        let (commitments, blindings) = criteria
            .iter()
            .zip(values)
            .map(|(r, v)| {
                let (commitment, blinding) = commit(*v, rng);
                let c = CohortCommitment {
                    attribute: r.attribute.clone(),
                    lo: r.lo,
                    hi: r.hi,
                    commitment,
                };
                (c, blinding)
            })
            .unzip();
        Ok(Answer {
            commitments,
            values: values.to_vec(),
            blindings,
        })
    }

    /// The aggregated range proof of every criterion for the consent body whose digest
    /// (transaction id) is `body`, answering `study` on `chain_id`: it goes into
    /// `Auth::cohort`.
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        chain_id: &str,
        study: TxId,
        body: TxId,
        rng: &mut R,
    ) -> Result<Vec<u8>, CohortError> {
        let statement = Statement {
            chain_id,
            study,
            body,
        };
        let criteria: Vec<_> = self.commitments.iter().map(|c| c.criterion()).collect();
        prove(&statement, &criteria, &self.values, &self.blindings, rng)
    }
}
