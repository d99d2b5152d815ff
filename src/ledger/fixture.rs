//! A small, real world for tests, benchmarks and the crash-test writer: an issuer, a validator,
//! institutions with credentials, patients with stream keys, and helpers that build signed and
//! proven transactions. Everything is deterministic from a seed; nothing is mocked: proofs are
//! real Groth16 proofs, signatures real Ed25519/sr25519 signatures.

use std::collections::HashMap;
use std::path::Path;

use consentry_circuits::credential::{Attributes, Role, SecretKey};
use consentry_circuits::escrow::groth::EscrowProver;
use consentry_circuits::escrow::InspectorSecret;
use consentry_circuits::groth::{self, Circuit, Prover};
use consentry_circuits::registry::RegistryTree;
use consentry_circuits::{field, Fr};
use ed25519_dalek::SigningKey;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::chain::{KeyId, LoadedKey, LoadedKeys};
use super::transaction::*;
use super::types::{Hash32, TxId};
use crate::client::builder;
use crate::params;

/// Day 20,400 (2025-11-08) at noon, in milliseconds: the fixture's clock.
pub const NOON_MS: u64 = 20_400 * 86_400_000 + 43_200_000;
/// The fixture chain's id.
pub const CHAIN_ID: &str = "consentry-test";
/// The fixture's issuer id.
pub const ISSUER_ID: u32 = 1;
/// The fixture's second issuer id.
pub const SECOND_ISSUER_ID: u32 = 2;

/// An institution: its secret and credential attributes.
pub type Institution = crate::client::builder::Holder;

/// Keys and helpers shared by a test.
pub struct Fixture {
    /// Registry depth of the keys.
    pub depth: usize,
    /// Proving key for that depth.
    pub prover: Prover,
    /// Directory holding the keys and manifest.
    pub params_dir: std::path::PathBuf,
    /// The issuer's Ed25519 key.
    pub issuer: SigningKey,
    /// A second registered issuer (id [`SECOND_ISSUER_ID`]).
    pub issuer2: SigningKey,
    /// The validator's Ed25519 key.
    pub validator: SigningKey,
    /// The inspector's secret (named in the genesis once [`Fixture::with_inspector`] made
    /// its escrow keys).
    pub inspector: InspectorSecret,
    /// The escrow circuit's prover for that inspector, after [`Fixture::with_inspector`].
    pub escrow_prover: Option<EscrowProver>,
    rng: ChaCha20Rng,
}

impl Fixture {
    /// Writes seeded keys for `depth` into `params_dir` and builds the fixture.
    pub fn new(depth: usize, params_dir: &Path, seed: u64) -> Fixture {
        let (pk, vk) = groth::setup_from_seed(depth, [seed as u8; 32]).expect("setup");
        groth::write_keys(params_dir, depth, &pk, &vk).expect("write keys");
        Fixture::with_prover(
            depth,
            params_dir,
            Prover::new(depth, pk).expect("prover"),
            seed,
        )
    }

    /// Builds the fixture over existing keys in `params_dir`.
    pub fn with_prover(depth: usize, params_dir: &Path, prover: Prover, seed: u64) -> Fixture {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let issuer = SigningKey::generate(&mut rng);
        let validator = SigningKey::generate(&mut rng);
        let issuer2 = SigningKey::generate(&mut rng);
        // Its own stream of randomness, so that the institutions and patients a test makes
        // are the same with or without an inspector.
        let inspector = InspectorSecret::random(&mut ChaCha20Rng::seed_from_u64(!seed));
        Fixture {
            depth,
            prover,
            params_dir: params_dir.to_path_buf(),
            issuer,
            issuer2,
            validator,
            inspector,
            escrow_prover: None,
            rng,
        }
    }

    /// Gives the chain an inspector: seeded escrow keys for it at the fixture's depth are
    /// written beside the access keys, and [`Fixture::genesis`] names it.
    pub fn with_inspector(mut self) -> Fixture {
        let key = self.inspector.public();
        let (pk, vk) = consentry_circuits::escrow::groth::setup_from_seed(
            self.depth,
            &key,
            [self.depth as u8 ^ 0xe5; 32],
        )
        .expect("escrow setup");
        groth::write_circuit_keys(&self.params_dir, Circuit::Escrow, self.depth, &pk, &vk)
            .expect("write escrow keys");
        self.escrow_prover = Some(
            EscrowProver::new(self.depth, pk, key, groth::Preparation::Direct)
                .expect("escrow prover"),
        );
        self
    }

    /// The inspector's Ed25519 key (signs openings).
    pub fn inspector_signing(&self) -> SigningKey {
        super::keys::inspector_signing_key(&self.inspector)
    }

    /// The verifying keys as a node loads them (digests checked against the manifest): the
    /// access circuit's, and the escrow circuit's when the chain has an inspector.
    pub fn keys(&self) -> LoadedKeys {
        let (verifier, digest) = params::load_verifier(&self.params_dir, self.depth).expect("vk");
        let mut keys = HashMap::from([(
            KeyId::plain(self.depth as u8),
            LoadedKey {
                verifier,
                digest: Hash32(digest),
            },
        )]);
        if self.escrow_prover.is_some() {
            let (verifier, digest) =
                params::load_escrow_verifier(&self.params_dir, self.depth).expect("escrow vk");
            keys.insert(
                KeyId {
                    depth: self.depth as u8,
                    escrow: true,
                },
                LoadedKey {
                    verifier,
                    digest: Hash32(digest),
                },
            );
        }
        keys
    }

    /// A genesis with this fixture's validator and issuers, accepting a replaced registry root
    /// for `root_window_secs`.
    pub fn genesis(&self, root_window_secs: u32) -> Genesis {
        let keys = self.keys();
        let digest = keys[&KeyId::plain(self.depth as u8)].digest;
        let inspector = self.escrow_prover.as_ref().map(|_| InspectorEntry {
            name: "Test Data Protection Authority".into(),
            escrow_key: self.inspector.public().to_bytes(),
            signing_key: self.inspector_signing().verifying_key().to_bytes(),
            verifying_keys: vec![VerifyingKeyEntry {
                depth: self.depth as u8,
                digest: keys[&KeyId {
                    depth: self.depth as u8,
                    escrow: true,
                }]
                    .digest,
            }],
        });
        Genesis {
            chain_id: CHAIN_ID.into(),
            validators: vec![self.validator.verifying_key().to_bytes()],
            quorum: 1,
            issuers: vec![
                IssuerEntry {
                    issuer_id: ISSUER_ID,
                    name: "Test Accreditation Body".into(),
                    key: self.issuer.verifying_key().to_bytes(),
                },
                IssuerEntry {
                    issuer_id: SECOND_ISSUER_ID,
                    name: "Second Accreditation Body".into(),
                    key: self.issuer2.verifying_key().to_bytes(),
                },
            ],
            verifying_keys: vec![VerifyingKeyEntry {
                depth: self.depth as u8,
                digest,
            }],
            root_window_secs,
            registry_depth: self.depth as u8,
            time_ms: NOON_MS - 86_400_000,
            inspector,
        }
    }

    /// A new institution with a fresh secret.
    pub fn institution(&mut self, role: Role, level: u16) -> Institution {
        Institution {
            sk: SecretKey::random(&mut self.rng),
            attributes: Attributes {
                role,
                level,
                jurisdiction: 756,
                expiry_day: 30_000,
                issuer_id: ISSUER_ID,
            },
        }
    }

    /// A new institution alone in a registry tree of the fixture's depth, and its witness
    /// (for tests that prove tokens without a chain).
    pub fn lone_holder(
        &mut self,
        role: Role,
        level: u16,
    ) -> (
        Institution,
        RegistryTree,
        consentry_circuits::access::AccessWitness,
    ) {
        let inst = self.institution(role, level);
        let tree = RegistryTree::from_leaves(self.depth, &[inst.leaf()]).expect("one leaf fits");
        let witness = consentry_circuits::access::AccessWitness {
            sk: inst.sk.clone(),
            attributes: inst.attributes,
            path: tree.path(0).expect("leaf 0"),
        };
        (inst, tree, witness)
    }

    /// Signs a body as the issuer.
    pub fn issuer_signed(&self, body: Body) -> Transaction {
        builder::issuer_signed(&self.issuer, CHAIN_ID, body)
    }

    /// An issuer-signed `IssueCredential` for a leaf.
    pub fn issue(&self, leaf: Fr) -> Transaction {
        self.issuer_signed(Body::IssueCredential(IssueCredential {
            issuer_id: ISSUER_ID,
            leaf: Hash32(field::to_bytes(&leaf)),
        }))
    }

    /// An `IssueCredential` by the second issuer.
    pub fn issue_by_second_issuer(&self, leaf: Fr) -> Transaction {
        let body = Body::IssueCredential(IssueCredential {
            issuer_id: SECOND_ISSUER_ID,
            leaf: Hash32(field::to_bytes(&leaf)),
        });
        builder::issuer_signed(&self.issuer2, CHAIN_ID, body)
    }

    /// A `RevokeCredential` by the second issuer.
    pub fn revoke_by_second_issuer(&self, index: u64) -> Transaction {
        let body = Body::RevokeCredential(RevokeCredential {
            issuer_id: SECOND_ISSUER_ID,
            index,
        });
        builder::issuer_signed(&self.issuer2, CHAIN_ID, body)
    }

    /// An issuer-signed `RevokeCredential`.
    pub fn revoke(&self, index: u64) -> Transaction {
        self.issuer_signed(Body::RevokeCredential(RevokeCredential {
            issuer_id: ISSUER_ID,
            index,
        }))
    }

    /// The claim an institution makes in `scope` against `tree`'s current root.
    pub fn claim(
        &self,
        inst: &Institution,
        tree: &RegistryTree,
        scope: Fr,
        min_level: u16,
        today: u32,
    ) -> TokenClaim {
        inst.claim(tree, scope, min_level, today)
    }

    /// Proves the claim in `body` for `inst`, bound to the body; returns the proof bytes.
    pub fn prove(&mut self, inst: &Institution, tree: &RegistryTree, body: &Body) -> Vec<u8> {
        inst.prove(&self.prover, CHAIN_ID, tree, body, &mut self.rng)
            .expect("statement holds")
    }

    /// A fresh random scope (one-off actions).
    pub fn fresh_scope(&mut self) -> Fr {
        builder::fresh_scope(&mut self.rng)
    }

    /// A new per-stream patient key.
    pub fn patient_key(&mut self) -> schnorrkel::Keypair {
        let mini = schnorrkel::MiniSecretKey::generate_with(&mut self.rng);
        mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519)
    }

    /// The id of the stream `patient` shares under the local name `name`.
    pub fn stream_id(patient: &schnorrkel::Keypair, name: &str) -> String {
        stream_id_for(&patient.public.to_bytes(), name)
    }

    /// A share of `patient`'s stream named `name` (its id is
    /// [`Fixture::stream_id`]`(patient, name)`), proven by `platform` and signed by `patient`;
    /// it names no snapshot (the stream as it grows).
    pub fn consent(
        &mut self,
        platform: &Institution,
        patient: &schnorrkel::Keypair,
        tree: &RegistryTree,
        name: &str,
        policy: Policy,
        today: u32,
    ) -> Transaction {
        self.consent_of_snapshot(platform, patient, tree, name, policy, today, None)
    }

    /// [`Fixture::consent`] naming the snapshot whose records digest is `data_digest`.
    #[allow(clippy::too_many_arguments)]
    pub fn consent_of_snapshot(
        &mut self,
        platform: &Institution,
        patient: &schnorrkel::Keypair,
        tree: &RegistryTree,
        name: &str,
        policy: Policy,
        today: u32,
        data_digest: Option<Hash32>,
    ) -> Transaction {
        let scope = self.fresh_scope();
        let body = Body::Consent(Consent {
            stream_id: Self::stream_id(patient, name),
            stream_name: name.into(),
            policy,
            data_digest,
            study: None,
            cohort: vec![],
            replaces: None,
            patient_key: patient.public.to_bytes(),
            nonce: 0,
            claim: self.claim(platform, tree, scope, 0, today),
        });
        self.finish_consent(platform, patient, tree, body)
    }

    /// A new policy for `patient`'s stream named `name`, whose latest consent is `replaces`.
    #[allow(clippy::too_many_arguments)]
    pub fn reshare(
        &mut self,
        platform: &Institution,
        patient: &schnorrkel::Keypair,
        tree: &RegistryTree,
        name: &str,
        policy: Policy,
        today: u32,
        replaces: TxId,
    ) -> Transaction {
        let mut tx = self.consent(platform, patient, tree, name, policy, today);
        if let Body::Consent(c) = &mut tx.body {
            c.replaces = Some(replaces);
        }
        self.finish_consent(platform, patient, tree, tx.body)
    }

    /// The patient's withdrawal of its stream named `name`, signed by the stream key alone.
    pub fn withdraw(&self, patient: &schnorrkel::Keypair, name: &str, nonce: u64) -> Transaction {
        let body = Body::RevokeConsent(RevokeConsent {
            stream_id: Self::stream_id(patient, name),
            patient_key: patient.public.to_bytes(),
            nonce,
        });
        builder::patient_signed(
            patient,
            CHAIN_ID,
            Transaction {
                body,
                auth: Auth::default(),
            },
        )
    }

    /// Proves and signs a consent body (after a test changed it).
    pub fn finish_consent(
        &mut self,
        platform: &Institution,
        patient: &schnorrkel::Keypair,
        tree: &RegistryTree,
        body: Body,
    ) -> Transaction {
        let proof = self.prove(platform, tree, &body);
        builder::patient_signed(patient, CHAIN_ID, builder::with_proof(body, proof))
    }

    /// A policy for `roles` at `min_level` for purpose `care`, valid around the fixture day.
    pub fn policy(roles: &[Role], min_level: u16) -> Policy {
        Policy {
            roles: roles.to_vec(),
            min_level,
            purpose: "care".into(),
            valid_from: 20_000,
            valid_until: 21_000,
            escrow: false,
        }
    }

    /// An access to `stream` by `inst`, proving `min_level`, with `nonce`.
    pub fn access(
        &mut self,
        inst: &Institution,
        tree: &RegistryTree,
        stream: &str,
        min_level: u16,
        today: u32,
        nonce: u64,
    ) -> Transaction {
        let body = self.access_body(inst, tree, stream, min_level, today, nonce);
        self.finish(inst, tree, body)
    }

    /// The unproven body of an access.
    pub fn access_body(
        &mut self,
        inst: &Institution,
        tree: &RegistryTree,
        stream: &str,
        min_level: u16,
        today: u32,
        nonce: u64,
    ) -> Body {
        inst.access_body(tree, stream, "care", min_level, today, nonce)
    }

    /// An escrowed access to `stream` by `inst` (needs [`Fixture::with_inspector`]): its id
    /// encrypted to the inspector with a fresh `r`, proven by the escrow circuit.
    pub fn escrowed_access(
        &mut self,
        inst: &Institution,
        tree: &RegistryTree,
        stream: &str,
        today: u32,
        nonce: u64,
    ) -> Transaction {
        let prover = self
            .escrow_prover
            .as_ref()
            .expect("Fixture::with_inspector");
        let (body, r) = inst.escrowed_access_body(
            tree,
            stream,
            "care",
            inst.attributes.level,
            today,
            nonce,
            prover.inspector(),
            &mut self.rng,
        );
        let proof = inst
            .prove_escrowed(prover, CHAIN_ID, tree, &body, &r, &mut self.rng)
            .expect("statement holds");
        builder::with_proof(body, proof)
    }

    /// The inspector's opening of `access` for `case`, signed with its key.
    pub fn opening(&self, access: TxId, case: &str) -> Transaction {
        builder::inspector_signed(
            &self.inspector_signing(),
            CHAIN_ID,
            Body::Opening(Opening {
                access,
                case: case.into(),
            }),
        )
    }

    /// Proves a body's claim and returns the transaction.
    pub fn finish(&mut self, inst: &Institution, tree: &RegistryTree, body: Body) -> Transaction {
        let proof = self.prove(inst, tree, &body);
        builder::with_proof(body, proof)
    }
}
