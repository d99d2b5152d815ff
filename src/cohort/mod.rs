//! Cohort eligibility: a study learns that a consenting patient's attribute lies in the range
//! it asked for (`lo ≤ v < hi`) and never the value (Bulletproofs range proofs over
//! Ristretto, the `bulletproofs` crate with `merlin` transcripts).
//!
//! The data platform that holds the patient's data commits to each value a study's criteria
//! name with a Pedersen commitment `C = v·B + r·B̃` ([`PedersenGens`](bulletproofs::PedersenGens))
//! and proves, per criterion, with one aggregated range proof, that the two commitments the
//! verifier derives itself, `C − lo·B` and `(hi−1)·B − C`, both open to values in `[0, 2^n)`.
//!
//! - **What it shows.** `v − lo = a` and `hi − 1 − v = b` with `a, b ∈ [0, 2^n)`. Then
//!   `a + b = hi − 1 − lo` holds modulo the group order ℓ ≈ 2^252, and as integers too since
//!   both sides are below 2^65; so `b ≥ 0` gives `a ≤ hi − 1 − lo`, that is `lo ≤ v < hi`.
//!   The commitment is binding (discrete log), so the platform cannot later open `C` to
//!   another value.
//! - **What it hides.** Everything about `v` beyond the range: the commitment is perfectly
//!   hiding and the proof zero-knowledge.
//! - **Bounds the verifier chose.** The verifier derives both commitments from `C` and the
//!   study's public bounds; a proof made for other bounds does not verify.
//! - **Binding to one consent.** The merlin transcript is labelled `consentry/v1/cohort` and
//!   carries the chain id, the study id, the consent body's digest (its transaction id, which
//!   covers the commitments) and the criterion (position, attribute, bounds, bit width): a
//!   proof does not verify for another study, consent, chain, or criterion.
//! - **Bit width.** The crate proves ranges `[0, 2^n)` for `n ∈ {8, 16, 32, 64}`. Completeness
//!   needs `hi − 1 − lo < 2^n` (both derived values are at most that), soundness only `n ≤ 64`
//!   (above). So `n` is the smallest of the four that covers the width of the study's range:
//!   an age range of 20 years proves in 8 bits (a proof of 7 + 2·4 points and scalars), and
//!   cost grows with `n` only where a study's range needs it.

mod answer;
mod proof;

pub use answer::Answer;
pub use proof::{
    bits_for, commit, prove, verify, CohortError, Criterion, Statement, COHORT_TRANSCRIPT_LABEL,
    MAX_CRITERIA,
};
