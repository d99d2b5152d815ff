//! Cohort proof figures: a data platform's Bulletproofs answer to k = 1, 2, 4 criteria whose
//! ranges need 32 bits (commit and prove: one aggregated proof), and a validator's
//! verification of it. Depth-independent, measured once.

use std::hint::black_box;
use std::time::Instant;

use rand::rngs::OsRng;

use super::progress::Progress;
use super::report::Figure;
use super::zk::sample;
use super::BenchError;
use crate::cohort::{verify, Answer, Statement};
use crate::ledger::{CohortRange, Hash32};

/// Criteria counts measured.
pub const CRITERIA: [usize; 3] = [1, 2, 4];
/// Figures measured, each with `iterations + 1` runs.
pub const FIGURES: usize = 2 * CRITERIA.len();

/// `k` criteria whose ranges need 32 bits (`a0`, `a1`, …; each `[1000, 1000 + 2^32)`).
pub fn criteria(k: usize) -> Vec<CohortRange> {
    (0..k)
        .map(|i| CohortRange {
            attribute: format!("a{i}"),
            lo: 1_000,
            hi: 1_000 + (1u64 << 32),
        })
        .collect()
}

fn failed(e: crate::cohort::CohortError) -> BenchError {
    BenchError::Node(anyhow::anyhow!("cohort proof: {e}"))
}

/// `cohort_prove_k` and `cohort_verify_k` for each k of [`CRITERIA`].
pub fn figures(iterations: usize, progress: &Progress) -> Result<Vec<Figure>, BenchError> {
    let statement = Statement {
        chain_id: "consentry-bench",
        study: Hash32([1; 32]),
        body: Hash32([2; 32]),
    };
    let mut out = Vec::new();
    for k in CRITERIA {
        progress.phase(format!("cohort: {k} criteria at 32 bits"));
        let criteria = criteria(k);
        let values: Vec<u64> = (0..k as u64).map(|i| 5_000_000 + i).collect();
        let prove = sample(iterations, usize::MAX, progress, |calls| {
            let started = Instant::now();
            for _ in 0..calls {
                let a = Answer::commit(&criteria, &values, &mut OsRng).map_err(failed)?;
                black_box(
                    a.prove(
                        statement.chain_id,
                        statement.study,
                        statement.body,
                        &mut OsRng,
                    )
                    .map_err(failed)?,
                );
            }
            Ok(started.elapsed())
        })?;
        out.push(Figure::new(&format!("cohort_prove_{k}"), prove));
        let answer = Answer::commit(&criteria, &values, &mut OsRng).map_err(failed)?;
        let proof = answer
            .prove(
                statement.chain_id,
                statement.study,
                statement.body,
                &mut OsRng,
            )
            .map_err(failed)?;
        let crit: Vec<_> = answer.commitments.iter().map(|c| c.criterion()).collect();
        let commitments: Vec<[u8; 32]> = answer.commitments.iter().map(|c| c.commitment).collect();
        let check = sample(iterations, usize::MAX, progress, |calls| {
            let started = Instant::now();
            for _ in 0..calls {
                verify(&statement, &crit, &commitments, black_box(&proof)).map_err(failed)?;
            }
            Ok(started.elapsed())
        })?;
        out.push(Figure::new(&format!("cohort_verify_{k}"), check));
    }
    Ok(out)
}
