//! Proof checks at admission, batched across concurrent submissions.
//!
//! A proof verified on its own costs three Miller loops and a final exponentiation (about
//! 0.9 ms of one core on the README's machine); in a batch it costs about one Miller loop
//! (0.13 ms at 256, 0.3 ms at 16). Submissions whose proof must be checked before they are
//! admitted (from a source not yet trusted, and while the mempool is under pressure: see
//! [`super::Admission`]) hand their token to one verifier thread and wait for its answer. The
//! thread takes every token queued at that moment (up to [`MAX_BATCH`]) and verifies them in
//! one batch per depth: a lone submission is verified at once, as before, and a burst is
//! verified together instead of one pairing after another. Nothing waits for a batch to
//! fill: the batch is whatever queued while the previous one was being verified.
//!
//! The answer per token is the same as [`Verifier::verify`]'s: a batch that fails is bisected
//! ([`Verifier::verify_batch`]) down to the tokens that fail on their own, so one bad proof
//! only rejects its own submission (and counts against its own source).

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;

use consentry_circuits::token::Token;

use crate::ledger::{KeyId, Rejection, Verifiers};

/// Most tokens verified in one batch: bounds a submission's wait behind a burst (a batch of
/// 64 takes about 11 ms on two cores).
pub const MAX_BATCH: usize = 64;

/// A token waiting for its check, and where to send the answer.
struct Job {
    token: Token,
    answer: SyncSender<Result<(), Rejection>>,
}

/// The handle submissions use; the verifier thread stops when the last handle is dropped.
pub struct AdmissionVerifier {
    queue: Sender<Job>,
}

impl AdmissionVerifier {
    /// Starts the verifier thread over the verifying keys by depth.
    pub fn start(verifiers: Arc<Verifiers>) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel();
        std::thread::Builder::new()
            .name("admission-verify".into())
            .spawn(move || serve(&verifiers, &jobs))?;
        Ok(AdmissionVerifier { queue })
    }

    /// Verifies `token` (blocking until its batch is done): `Ok` when the proof holds,
    /// [`Rejection::ProofInvalid`] when it does not, [`Rejection::UnknownDepth`] when no key
    /// verifies its depth.
    pub fn verify(&self, token: &Token) -> Result<(), Rejection> {
        let (answer, wait) = mpsc::sync_channel(1);
        let job = Job {
            token: token.clone(),
            answer,
        };
        let stopped = || Rejection::Busy {
            reason: "the proof verifier is stopping".into(),
            retry_after_secs: 1,
        };
        self.queue.send(job).map_err(|_| stopped())?;
        wait.recv().unwrap_or_else(|_| Err(stopped()))
    }
}

/// The verifier thread: one batch of whatever is queued, until every handle is gone.
fn serve(verifiers: &Verifiers, jobs: &Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        for (job, result) in batch.iter().zip(check(verifiers, &batch)) {
            // A submitter that gave up (its request was dropped) needs no answer.
            let _ = job.answer.send(result);
        }
    }
}

/// The answer for each job, one batch verification per depth.
fn check(verifiers: &Verifiers, batch: &[Job]) -> Vec<Result<(), Rejection>> {
    let mut results: Vec<Result<(), Rejection>> = batch
        .iter()
        .map(|j| {
            let id = KeyId::of(&j.token);
            match verifiers.contains_key(&id) {
                true => Ok(()),
                false => Err(id.unknown()),
            }
        })
        .collect();
    for (key, verifier) in verifiers {
        let (positions, tokens): (Vec<usize>, Vec<Token>) = batch
            .iter()
            .enumerate()
            .filter(|(_, j)| KeyId::of(&j.token) == *key)
            .map(|(i, j)| (i, j.token.clone()))
            .unzip();
        let bad = match tokens.as_slice() {
            [] => vec![],
            // One token: the plain check (a batch of one costs more).
            [one] => match verifier.verify(one) {
                Ok(()) => vec![],
                Err(_) => vec![0],
            },
            _ => verifier
                .verify_batch(&tokens)
                .err()
                .map_or(vec![], |e| e.bad),
        };
        for b in bad {
            results[positions[b]] = Err(Rejection::ProofInvalid);
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixture::Fixture;

    /// `n` valid depth-4 tokens of one institution (distinct scopes) and the verifying keys.
    fn tokens(n: u64) -> (Arc<Verifiers>, Vec<Token>) {
        use consentry_circuits::credential::Role;
        use consentry_circuits::Fr;

        let dir = tempfile::tempdir().unwrap();
        let mut fx = Fixture::new(4, dir.path(), 5);
        let (_, tree, witness) = fx.lone_holder(Role::Hospital, 3);
        let tokens = (0..n)
            .map(|i| {
                let public = witness
                    .statement(tree.root(), Fr::from(i + 1), Fr::from(i), 0, 20_000)
                    .unwrap();
                fx.prover
                    .prove(&witness, public, &mut rand::rngs::OsRng)
                    .unwrap()
            })
            .collect();
        let verifiers = fx
            .keys()
            .into_iter()
            .map(|(d, k)| (d, k.verifier))
            .collect();
        (Arc::new(verifiers), tokens)
    }

    #[test]
    fn concurrent_submissions_get_their_own_answers() {
        let (verifiers, mut tokens) = tokens(12);
        for i in [3, 7] {
            tokens[i].public.message += consentry_circuits::Fr::from(1u64);
        }
        let mut unknown = tokens[0].clone();
        unknown.depth = 6;
        tokens.push(unknown);
        let v = AdmissionVerifier::start(verifiers).unwrap();
        let answers: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = tokens.iter().map(|t| s.spawn(|| v.verify(t))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (i, a) in answers.iter().enumerate() {
            match i {
                3 | 7 => assert_eq!(a, &Err(Rejection::ProofInvalid), "token {i}"),
                12 => assert_eq!(a, &Err(Rejection::UnknownDepth(6))),
                _ => assert_eq!(a, &Ok(()), "token {i}"),
            }
        }
    }

    /// A block verifies every proof admission did not: a bad one is rejected there, while
    /// one this node verified at admission is not verified twice.
    #[test]
    fn the_block_verifies_what_admission_did_not() {
        use crate::ledger::execute::VerifiedTokens;
        let (verifiers, mut tokens) = tokens(3);
        tokens[1].public.message += consentry_circuits::Fr::from(1u64);
        let tokens: Vec<Option<Token>> = tokens.into_iter().map(Some).collect();
        let block = |flags: &[bool]| {
            VerifiedTokens::verify_unless_admitted(&verifiers, tokens.clone(), flags).passed()
        };
        assert_eq!(block(&[]), [true, false, true]);
        assert_eq!(block(&[true, false, true]), [true, false, true]);
        // The flag is trusted (only the mempool sets it, after its own check): a token
        // flagged verified is not checked again.
        assert_eq!(block(&[false, true, false]), [true, true, true]);
        assert_eq!(
            VerifiedTokens::verify(&verifiers, tokens.clone()).passed(),
            [true, false, true]
        );
    }

    #[test]
    fn a_lone_bad_proof_is_refused_and_a_batch_of_good_ones_accepted() {
        let (verifiers, tokens) = tokens(3);
        let jobs: Vec<Job> = tokens
            .iter()
            .map(|t| Job {
                token: t.clone(),
                answer: mpsc::sync_channel(1).0,
            })
            .collect();
        assert!(check(&verifiers, &jobs).iter().all(Result::is_ok));
        let mut bad = jobs[0].token.clone();
        bad.public.scope += consentry_circuits::Fr::from(1u64);
        let lone = [Job {
            token: bad,
            answer: mpsc::sync_channel(1).0,
        }];
        assert_eq!(check(&verifiers, &lone), [Err(Rejection::ProofInvalid)]);
    }
}
