//! Building transactions locally: token claims, proofs bound to a body, issuer and patient
//! signatures. Used by the command-line clients, the demo, tests and benchmarks alike.

use consentry_circuits::access::{AccessWitness, PublicInputs};
use consentry_circuits::credential::{Attributes, Credential, SecretKey};
use consentry_circuits::escrow::groth::EscrowProver;
use consentry_circuits::escrow::{self, EscrowRandomness, InspectorKey};
use consentry_circuits::groth::{ProofCache, ProveError, Prover};
use consentry_circuits::registry::RegistryTree;
use consentry_circuits::token::proof_to_bytes;
use consentry_circuits::{field, Fr};
use ed25519_dalek::{Signer, SigningKey};
use rand::{CryptoRng, RngCore};

use crate::ledger::{
    Access, Auth, Body, EscrowBytes, Hash32, TokenClaim, Transaction, PATIENT_SIGNING_CONTEXT,
};

/// An institution as it acts: its secret and its credential's attributes. Its `Debug`
/// shows only what every token discloses (role and issuer).
#[derive(Clone)]
pub struct Holder {
    /// The secret.
    pub sk: SecretKey,
    /// The attributes as issued.
    pub attributes: Attributes,
}

impl Holder {
    /// The delivery secret and public key of this holder's access to `stream` with `nonce`:
    /// derived, never stored ([`crate::delivery::derive`]).
    pub fn delivery_key(
        &self,
        stream: &str,
        nonce: u64,
    ) -> (crate::delivery::DeliverySecret, [u8; 32]) {
        crate::delivery::derive(&self.sk, stream, nonce)
    }
}

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Holder")
            .field("sk", &self.sk)
            .field("role", &self.attributes.role)
            .field("issuer_id", &self.attributes.issuer_id)
            .finish_non_exhaustive()
    }
}

impl Holder {
    /// The registry leaf of this credential.
    pub fn leaf(&self) -> Fr {
        Credential {
            id: self.sk.id(),
            attributes: self.attributes,
        }
        .leaf()
    }

    /// The claim this holder makes in `scope` against `tree`'s current root.
    pub fn claim(&self, tree: &RegistryTree, scope: Fr, min_level: u16, today: u32) -> TokenClaim {
        TokenClaim {
            depth: tree.depth() as u8,
            root: Hash32(field::to_bytes(&tree.root())),
            scope: Hash32(field::to_bytes(&scope)),
            pseudonym: Hash32(field::to_bytes(&self.sk.pseudonym(scope))),
            role: self.attributes.role,
            issuer_id: self.attributes.issuer_id,
            min_level,
            today,
            escrow: None,
        }
    }

    /// Proves the claim in `body`, bound to the body on chain `chain_id`; returns the
    /// compressed proof bytes. The Merkle path comes from the locally built `tree`, this
    /// holder's issuer's registry (never fetched by index from a node).
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        prover: &Prover,
        chain_id: &str,
        tree: &RegistryTree,
        body: &Body,
        rng: &mut R,
    ) -> Result<Vec<u8>, ProveError> {
        let (witness, public) = self.statement(chain_id, tree, body)?;
        let token = prover.prove(&witness, public, rng)?;
        Ok(proof_to_bytes(&token.proof).to_vec())
    }

    /// [`Holder::prove`] through `cache` ([`Prover::prove_cached`]): the same proof, made
    /// faster from the second one on by what `cache` kept of this holder's previous proof.
    /// For a process proving many transactions; keep one cache per holder.
    #[allow(clippy::too_many_arguments)]
    pub fn prove_cached<R: RngCore + CryptoRng>(
        &self,
        prover: &Prover,
        cache: &mut ProofCache,
        chain_id: &str,
        tree: &RegistryTree,
        body: &Body,
        rng: &mut R,
    ) -> Result<Vec<u8>, ProveError> {
        let (witness, public) = self.statement(chain_id, tree, body)?;
        let token = prover.prove_cached(cache, &witness, public, rng)?;
        Ok(proof_to_bytes(&token.proof).to_vec())
    }

    /// The witness and public inputs of the claim in `body`, bound to the body on `chain_id`.
    fn statement(
        &self,
        chain_id: &str,
        tree: &RegistryTree,
        body: &Body,
    ) -> Result<(AccessWitness, PublicInputs), ProveError> {
        let claim = body.claim().ok_or_else(|| {
            ProveError::Synthesis("this transaction kind carries no token".into())
        })?;
        let index = tree
            .position(&self.leaf())
            .ok_or(consentry_circuits::access::StatementError::NotInRegistry)?;
        let path = tree
            .path(index)
            .map_err(|e| ProveError::Synthesis(e.to_string()))?;
        let witness = AccessWitness {
            sk: self.sk.clone(),
            attributes: self.attributes,
            path,
        };
        let fe =
            |h: &Hash32| field::from_bytes(&h.0).map_err(|e| ProveError::Synthesis(e.to_string()));
        let public = PublicInputs {
            root: fe(&claim.root)?,
            scope: fe(&claim.scope)?,
            pseudonym: fe(&claim.pseudonym)?,
            message: body.message(chain_id),
            role: claim.role,
            issuer_id: claim.issuer_id,
            min_level: claim.min_level,
            today: claim.today,
        };
        Ok((witness, public))
    }

    /// The body of an access to `stream` (scope `H("access", stream)`), with the delivery key
    /// derived from this holder's secret, the stream and `nonce` ([`Holder::delivery_key`]).
    pub fn access_body(
        &self,
        tree: &RegistryTree,
        stream: &str,
        purpose: &str,
        min_level: u16,
        today: u32,
        nonce: u64,
    ) -> Body {
        Body::Access(Access {
            stream_id: stream.into(),
            purpose: purpose.into(),
            delivery_key: self.delivery_key(stream, nonce).1,
            nonce,
            claim: self.claim(tree, field::access_scope(stream), min_level, today),
        })
    }
}

impl Holder {
    /// The body of an escrowed access ([`Holder::access_body`] whose claim carries this
    /// holder's id encrypted to `inspector` with a fresh `r`), and `r`, which the proof
    /// needs ([`Holder::prove_escrowed`]) and nobody keeps afterwards.
    #[allow(clippy::too_many_arguments)]
    pub fn escrowed_access_body<R: RngCore + CryptoRng>(
        &self,
        tree: &RegistryTree,
        stream: &str,
        purpose: &str,
        min_level: u16,
        today: u32,
        nonce: u64,
        inspector: &InspectorKey,
        rng: &mut R,
    ) -> (Body, EscrowRandomness) {
        let (escrow, r) = escrow::encrypt(&self.sk.id(), inspector, rng);
        let mut body = self.access_body(tree, stream, purpose, min_level, today, nonce);
        if let Body::Access(a) = &mut body {
            a.claim.escrow = Some(EscrowBytes(escrow.to_bytes()));
        }
        (body, r)
    }

    /// Proves the escrowed claim in `body` with the escrow circuit: the access statement and
    /// that the claim's escrow encrypts this holder's id with `r`; checks the proof against
    /// the escrow key's own verifying key ([`EscrowProver::check`]). Returns the compressed
    /// proof bytes.
    pub fn prove_escrowed<R: RngCore + CryptoRng>(
        &self,
        prover: &EscrowProver,
        chain_id: &str,
        tree: &RegistryTree,
        body: &Body,
        r: &EscrowRandomness,
        rng: &mut R,
    ) -> Result<Vec<u8>, ProveError> {
        let (witness, public) = self.statement(chain_id, tree, body)?;
        let bytes = body
            .claim()
            .and_then(|c| c.escrow)
            .ok_or_else(|| ProveError::Synthesis("the claim carries no escrow to prove".into()))?;
        let escrow = escrow::Escrow::from_bytes(&bytes.0)
            .map_err(|e| ProveError::Synthesis(e.to_string()))?;
        let token = prover.token(public, &witness, escrow, r, rng)?;
        // The inspector key may come from a node: a proof for a key the escrow keys were not
        // made for is never sent (it would have encrypted this holder's id to that key).
        prover.check(&token)?;
        Ok(proof_to_bytes(&token.proof).to_vec())
    }
}

/// A fresh uniformly random scope for a one-off action (consents, study requests), so the
/// acting institution's pseudonym there links to nothing else.
pub fn fresh_scope<R: RngCore + CryptoRng>(rng: &mut R) -> Fr {
    <Fr as ark_ff::UniformRand>::rand(rng)
}

/// A transaction carrying a token and no signature.
pub fn with_proof(body: Body, proof: Vec<u8>) -> Transaction {
    Transaction {
        body,
        auth: Auth {
            proof,
            ..Auth::default()
        },
    }
}

/// Signs `body` as an issuer of chain `chain_id` (Ed25519 over the tagged canonical body).
pub fn issuer_signed(key: &SigningKey, chain_id: &str, body: Body) -> Transaction {
    let message = body.issuer_signing_bytes(chain_id);
    ed25519_signed(key, &message, body)
}

/// `body` with `key`'s Ed25519 signature of `message` (its signing bytes for a role).
fn ed25519_signed(key: &SigningKey, message: &[u8], body: Body) -> Transaction {
    Transaction {
        body,
        auth: Auth {
            signature: key.sign(message).to_bytes().to_vec(),
            ..Auth::default()
        },
    }
}

/// Signs `body` (an opening) as the inspector of chain `chain_id`.
pub fn inspector_signed(key: &SigningKey, chain_id: &str, body: Body) -> Transaction {
    let message = body.inspector_signing_bytes(chain_id);
    ed25519_signed(key, &message, body)
}

/// Adds the patient's per-stream sr25519 signature to a consent the platform proved.
pub fn patient_signed(
    patient: &schnorrkel::Keypair,
    chain_id: &str,
    tx: Transaction,
) -> Transaction {
    let signature = patient
        .sign_simple(
            PATIENT_SIGNING_CONTEXT,
            &tx.body.patient_signing_bytes(chain_id),
        )
        .to_bytes()
        .to_vec();
    Transaction {
        auth: Auth {
            signature,
            ..tx.auth
        },
        body: tx.body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consentry_circuits::credential::Role;

    /// A holder in a log line or a panic message shows no secret and no hidden attribute.
    #[test]
    fn debug_shows_only_disclosed_attributes() {
        let holder = Holder {
            sk: SecretKey::from_field(Fr::from(987_654_321u64)),
            attributes: Attributes {
                role: Role::Research,
                level: 31_337,
                jurisdiction: 756,
                expiry_day: 24_680,
                issuer_id: 9,
            },
        };
        let shown = format!("{holder:?}");
        for hidden in ["987654321", "31337", "756", "24680"] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        assert!(
            shown.contains("Research") && shown.contains("issuer_id: 9"),
            "{shown}"
        );
    }
}
