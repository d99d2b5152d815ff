//! What a prover keeps of a holder's previous proof, so that the next one costs less.
//!
//! Four of a Groth16 proof's five multi-scalar multiplications are *linear* in the
//! assignment `w`: `sum w_i A_i`, `sum w_i B_i` (in G2 and in G1) and `sum w_i L_i`. An
//! institution proves many tokens with one credential against one registry root; from one
//! token to the next only the scope, the pseudonym and the message change, about 240 of the
//! 3,953 variables at depth 20. Keeping the previous assignment and its four sums, the next
//! proof needs the sums only over the difference `w - w_prev`, which is zero almost
//! everywhere. The quotient polynomial `h` is not linear in `w`, so its MSM and the QAP are
//! computed in full every time.
//!
//! **Nothing about the proof changes.** The sums are the same group elements, so for the
//! same randomisers `r` and `s` the proof is bit for bit the one a fresh prover (or arkworks')
//! makes: it is as zero-knowledge, and as sound, as any other. A test pins this over a
//! sequence of holders, statements and roots.
//!
//! **Always correct, whatever is cached.** The difference is taken position by position
//! against the exact previous assignment, so a new credential, a new root or another holder
//! simply makes the difference larger (an empty cache is the all-zero assignment with zero
//! sums). A cache made by another prover (another key) is detected and discarded.
//!
//! **Secrets.** The cached assignment holds the holder's secret key and every intermediate
//! value of the circuit, and the sums are functions of them: the cache is as secret as the
//! witness. It never leaves the process, its `Debug` shows no value, and it is wiped on
//! drop and on [`ProofCache::clear`]. A proof made from a warm cache takes less time than a
//! cold one, which tells whoever times the prover that little changed since its last proof;
//! the prover runs on the institution's own machine, where that is known anyway.

use std::sync::atomic::{AtomicU64, Ordering};

use ark_bls12_381::{Fr, G1Projective, G2Projective};
use ark_ff::Zero;
use zeroize::Zeroize;

/// Identity of a [`super::Prover`] within the process, so a cache is never used with another
/// key.
pub(super) fn next_prover_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The assignment-linear sums of a proof, without the key's `alpha`, `beta` and `delta`
/// terms and without randomisers. Not `Copy`, so that no silent copy of these secret-derived
/// points is left behind; wiped on drop.
#[derive(Default, PartialEq, Eq)]
pub(super) struct Sums {
    /// `sum w_i A_i` over the whole assignment.
    pub a: G1Projective,
    /// `sum w_i B_i` in G2, over the whole assignment.
    pub b_g2: G2Projective,
    /// `sum w_i B_i` in G1, over the whole assignment.
    pub b_g1: G1Projective,
    /// `sum w_i L_i` over the witness part of the assignment.
    pub l: G1Projective,
}

impl Zeroize for Sums {
    fn zeroize(&mut self) {
        self.a.zeroize();
        self.b_g2.zeroize();
        self.b_g1.zeroize();
        self.l.zeroize();
        // Back to arkworks' canonical zero (the wiped points have all-zero coordinates, which
        // only `is_zero` of a projective point accepts). Field by field: assigning `*self`
        // would drop, and so wipe, recursively.
        self.a = G1Projective::zero();
        self.b_g2 = G2Projective::zero();
        self.b_g1 = G1Projective::zero();
        self.l = G1Projective::zero();
    }
}

impl Drop for Sums {
    fn drop(&mut self) {
        self.zeroize();
    }
}

/// Overwrites the scalars of `(position, scalar)` lists (differences, quotient coefficients)
/// before they are freed: they are as secret as the assignment.
pub(super) fn wipe(entries: &mut [(usize, Fr)]) {
    for (_, x) in entries {
        x.zeroize();
    }
}

/// The previous assignment of one holder and its four assignment-linear sums, for
/// [`super::Prover::prove_cached`].
///
/// Keep one per credential a process proves with, used with one [`super::Prover`]: a cache
/// is one slot, and is keyed to the prover object that filled it (not to the key's bytes),
/// so alternating holders, or two provers even of the same key, on one cache stays correct
/// but gains nothing. Cheap to create; about 130 KB once filled at depth 20. Moving the
/// cache moves its points with it; the old bytes of a move are not wiped (the assignment,
/// on the heap, is not moved).
#[derive(Default)]
pub struct ProofCache {
    /// The prover the sums were computed with (0: none).
    prover: u64,
    /// The full previous assignment `[1, public inputs, witnesses]` (empty: none).
    assignment: Vec<Fr>,
    sums: Sums,
    /// Variables that differed from the cached assignment at the last proof.
    last_changed: usize,
}

impl ProofCache {
    /// An empty cache: the first proof made with it costs what a fresh proof costs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the cache holds a previous proof's values.
    pub fn is_empty(&self) -> bool {
        self.assignment.is_empty()
    }

    /// How many variables of the assignment differed from the cached one at the last proof
    /// made through this cache: all the non-zero ones for a first proof, about 240 of 3,953
    /// at depth 20 for the same holder and root with a new scope and message. The cost of
    /// the cached part of a proof follows it; a service can log it to see the cache work.
    pub fn last_changed(&self) -> usize {
        self.last_changed
    }

    /// Wipes and forgets the cached values (for instance when the holder's credential is
    /// revoked or the process stops proving for it).
    pub fn clear(&mut self) {
        self.assignment.zeroize();
        self.assignment = Vec::new();
        self.sums.zeroize();
        self.prover = 0;
    }

    /// `(i, w_i - w_prev_i)` for every position where `assignment` differs from the cached
    /// one. A cache of another prover or of another length is cleared first, so the changes
    /// are then the non-zero values of `assignment` (against zero sums).
    ///
    /// The caller wipes the result ([`wipe`]) once used.
    pub(super) fn changes(&mut self, prover: u64, assignment: &[Fr]) -> Vec<(usize, Fr)> {
        // Room for every position up front: a vector that grew would leave copies of these
        // secret values in the buffers it freed, which `wipe` never sees.
        let mut changes = Vec::with_capacity(assignment.len());
        if self.prover != prover || self.assignment.len() != assignment.len() {
            self.clear();
            changes.extend(
                assignment
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| !w.is_zero())
                    .map(|(i, w)| (i, *w)),
            );
            return changes;
        }
        changes.extend(
            assignment
                .iter()
                .zip(&self.assignment)
                .enumerate()
                .filter(|(_, (w, old))| w != old)
                .map(|(i, (w, old))| (i, *w - old)),
        );
        changes
    }

    /// The sums of the cached assignment (zero when empty).
    pub(super) fn sums(&self) -> &Sums {
        &self.sums
    }

    /// Replaces the cached values with a new assignment and its sums, which differed from
    /// the old ones in `changed` variables, wiping the old ones.
    pub(super) fn store(&mut self, prover: u64, assignment: Vec<Fr>, sums: Sums, changed: usize) {
        self.clear();
        self.prover = prover;
        self.assignment = assignment;
        self.sums = sums;
        self.last_changed = changed;
    }
}

impl Drop for ProofCache {
    fn drop(&mut self) {
        self.clear();
    }
}

impl std::fmt::Debug for ProofCache {
    /// Shows whether the cache is filled, never a value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofCache")
            .field("variables", &self.assignment.len())
            .field("last_changed", &self.last_changed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::PrimeGroup;

    fn fr(x: u64) -> Fr {
        Fr::from(x)
    }

    #[test]
    fn changes_are_exact_differences_and_a_foreign_cache_is_dropped() {
        let mut cache = ProofCache::new();
        assert!(cache.is_empty());
        // Empty: the non-zero values themselves.
        let first = vec![fr(1), fr(0), fr(5), fr(7)];
        assert_eq!(
            cache.changes(1, &first),
            vec![(0, fr(1)), (2, fr(5)), (3, fr(7))]
        );
        cache.store(1, first, Sums::default(), 3);
        assert_eq!(cache.last_changed(), 3);
        // Same prover: only the differing positions, as new minus old.
        let second = vec![fr(1), fr(2), fr(5), fr(3)];
        assert_eq!(
            cache.changes(1, &second),
            vec![(1, fr(2)), (3, fr(3) - fr(7))]
        );
        assert!(cache.changes(1, &[fr(1), fr(0), fr(5), fr(7)]).is_empty());
        // Another prover, or another length: cleared, changes against zero.
        assert_eq!(cache.changes(2, &second).len(), 4);
        assert!(cache.is_empty());
        cache.store(1, second.clone(), Sums::default(), 2);
        assert_eq!(cache.changes(1, &second[..3]).len(), 3);
        assert!(cache.is_empty());
    }

    #[test]
    fn debug_shows_no_value() {
        let mut cache = ProofCache::new();
        let sums = Sums {
            a: G1Projective::generator(),
            ..Sums::default()
        };
        cache.store(1, vec![fr(123_456_789)], sums, 1);
        let shown = format!("{cache:?}");
        assert_eq!(shown, "ProofCache { variables: 1, last_changed: 1, .. }");
        cache.clear();
        assert!(cache.is_empty());
        // Wiped back to arkworks' canonical zero, not merely to a point with z = 0.
        assert!(cache.sums() == &Sums::default());
        let mut entries = vec![(3, fr(9)), (5, fr(10))];
        wipe(&mut entries);
        assert_eq!(entries, vec![(3, fr(0)), (5, fr(0))]);
    }
}
