//! The shapes of the request bodies the API takes, a transaction and a presentation token,
//! for the OpenAPI document: without them a person or a client generator sees only
//! `{"type": "object"}`.
//!
//! These types describe the JSON that [`crate::ledger::Transaction`] and
//! [`consentry_circuits::token::Token`] read and write; they are never used to decode
//! anything (the handlers decode into the real types, which also check lengths, points and
//! field elements). They live here so that neither the ledger nor the circuit crate depends
//! on the documentation library, and they cannot drift unnoticed: a test below validates
//! real transactions of every kind and a real token against the generated schemas with a
//! JSON Schema validator, and tampered ones fail it.
#![allow(dead_code)] // documentation types: built by utoipa, never constructed

use serde::Serialize;
use utoipa::ToSchema;

/// A transaction: what it does (`body`, which its id hashes) and what authorises it (`auth`).
#[derive(Serialize, ToSchema)]
#[schema(as = Transaction)]
pub struct TransactionDoc {
    /// What the transaction does; `kind` says which.
    body: BodyDoc,
    /// The token's proof and/or a signature, by kind.
    auth: AuthDoc,
}

/// What authorises a body.
#[derive(Serialize, ToSchema)]
#[schema(as = Auth)]
pub struct AuthDoc {
    /// Compressed Groth16 proof, 192 bytes as hex, for kinds carrying a token; else empty.
    #[schema(pattern = "^([0-9a-f]{384})?$")]
    proof: String,
    /// Ed25519 (issuer, inspector) or sr25519 (patient) signature, 64 bytes as hex; else
    /// empty.
    #[schema(pattern = "^([0-9a-f]{128})?$")]
    signature: String,
    /// For a consent answering a study: the aggregated Bulletproofs range proof (hex).
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    cohort: Option<String>,
}

/// What a transaction does: one of eight bodies, told apart by their `kind` field. (Each
/// body is a named schema with its own `kind`, rather than serde's internally tagged form,
/// so that client generators map every kind to a type.)
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = Body, discriminator(property_name = "kind", mapping(
    ("genesis" = "#/components/schemas/Genesis"),
    ("issue_credential" = "#/components/schemas/IssueCredential"),
    ("revoke_credential" = "#/components/schemas/RevokeCredential"),
    ("study_request" = "#/components/schemas/StudyRequest"),
    ("consent" = "#/components/schemas/Consent"),
    ("revoke_consent" = "#/components/schemas/RevokeConsent"),
    ("access" = "#/components/schemas/Access"),
    ("opening" = "#/components/schemas/Opening"),
)))]
pub enum BodyDoc {
    /// Chain configuration (block 0 only).
    Genesis(GenesisDoc),
    /// An issuer appends a credential leaf (issuer-signed).
    IssueCredential(IssueCredentialDoc),
    /// An issuer empties a credential leaf (issuer-signed).
    RevokeCredential(RevokeCredentialDoc),
    /// An institution asks for consent, with cohort criteria (token).
    StudyRequest(StudyRequestDoc),
    /// A platform shares a patient's stream (token and the patient's signature).
    Consent(ConsentDoc),
    /// The patient withdraws a stream's consent (the patient's signature alone).
    RevokeConsent(RevokeConsentDoc),
    /// An institution reads a stream (token).
    Access(AccessDoc),
    /// The inspector opens an escrowed access (the inspector's signature).
    Opening(OpeningDoc),
}

/// A body's `kind`: a one-value enum per body.
macro_rules! kind {
    ($name:ident, $variant:ident) => {
        /// The `kind` of one body.
        #[derive(Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            /// Its only value.
            $variant,
        }
    };
}
kind!(GenesisKind, Genesis);
kind!(IssueCredentialKind, IssueCredential);
kind!(RevokeCredentialKind, RevokeCredential);
kind!(StudyRequestKind, StudyRequest);
kind!(ConsentKind, Consent);
kind!(RevokeConsentKind, RevokeConsent);
kind!(AccessKind, Access);
kind!(OpeningKind, Opening);

/// An institution role.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Role)]
pub enum RoleDoc {
    /// A hospital or clinic.
    Hospital,
    /// A research centre.
    Research,
    /// A data platform holding patients' streams.
    Platform,
    /// An insurer.
    Insurer,
    /// A regulator or auditor.
    Regulator,
}

/// What the transaction's token discloses; it must equal the token's public inputs.
#[derive(Serialize, ToSchema)]
#[schema(as = TokenClaim)]
pub struct TokenClaimDoc {
    /// Registry depth of the circuit the proof is for.
    #[schema(maximum = 255)]
    depth: u8,
    /// The issuer registry root the proof is against (32 bytes, hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    root: String,
    /// The pseudonym scope (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    scope: String,
    /// The institution's pseudonym in that scope (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pseudonym: String,
    /// The proven role.
    role: RoleDoc,
    /// The accrediting issuer.
    issuer_id: u32,
    /// The proven minimum accreditation level.
    #[schema(maximum = 65535)]
    min_level: u16,
    /// The day (since 1970-01-01) the credential is proven valid on.
    today: u32,
    /// An escrowed token (accesses only): the institution's id encrypted to the chain's
    /// inspector, 64 bytes as hex (compressed Jubjub point `c1`, then `c2`).
    #[schema(pattern = "^[0-9a-f]{128}$")]
    escrow: Option<String>,
}

/// The chain's inspector in the genesis.
#[derive(Serialize, ToSchema)]
#[schema(as = InspectorEntry)]
pub struct InspectorEntryDoc {
    /// Display name (shown with every opening).
    name: String,
    /// Jubjub public key escrows are encrypted to (compressed, hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    escrow_key: String,
    /// Ed25519 public key that signs openings (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    signing_key: String,
    /// The escrow circuit's accepted verifying keys.
    verifying_keys: Vec<VerifyingKeyEntryDoc>,
}

/// An issuer in the genesis.
#[derive(Serialize, ToSchema)]
#[schema(as = IssuerEntry)]
pub struct IssuerEntryDoc {
    /// Issuer id.
    issuer_id: u32,
    /// Display name.
    name: String,
    /// Ed25519 public key (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    key: String,
}

/// A verifying key the chain accepts.
#[derive(Serialize, ToSchema)]
#[schema(as = VerifyingKeyEntry)]
pub struct VerifyingKeyEntryDoc {
    /// Registry depth.
    #[schema(maximum = 255)]
    depth: u8,
    /// SHA-256 of the key file (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    digest: String,
}

/// The chain's configuration.
#[derive(Serialize, ToSchema)]
#[schema(as = Genesis)]
pub struct GenesisDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: GenesisKind,
    /// Chain id.
    chain_id: String,
    /// Validators' Ed25519 public keys, each as an array of 32 byte values.
    #[schema(value_type = Vec<Vec<u8>>)]
    validators: Vec<Vec<u8>>,
    /// Signatures that make a block final.
    quorum: u32,
    /// Accredited issuers.
    issuers: Vec<IssuerEntryDoc>,
    /// Accepted verifying keys.
    verifying_keys: Vec<VerifyingKeyEntryDoc>,
    /// How long a replaced registry root stays acceptable, in seconds.
    root_window_secs: u32,
    /// Registry depth.
    #[schema(maximum = 255)]
    registry_depth: u8,
    /// Genesis time (ms since the Unix epoch).
    time_ms: u64,
    /// The inspector, if the chain has one.
    inspector: Option<InspectorEntryDoc>,
}

/// Append a credential leaf.
#[derive(Serialize, ToSchema)]
#[schema(as = IssueCredential)]
pub struct IssueCredentialDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: IssueCredentialKind,
    /// The issuer whose tree grows.
    issuer_id: u32,
    /// The leaf, a commitment to the institution's secret and attributes (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    leaf: String,
}

/// Empty a credential leaf.
#[derive(Serialize, ToSchema)]
#[schema(as = RevokeCredential)]
pub struct RevokeCredentialDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: RevokeCredentialKind,
    /// The issuer.
    issuer_id: u32,
    /// The leaf index in that issuer's tree.
    index: u64,
}

/// A study's criterion: the attribute's value is in `[lo, hi)`.
#[derive(Serialize, ToSchema)]
#[schema(as = CohortRange)]
pub struct CohortRangeDoc {
    /// Attribute name.
    attribute: String,
    /// Lower bound (inclusive).
    lo: u64,
    /// Upper bound (exclusive).
    hi: u64,
}

/// A consent's answer to one criterion: a Pedersen commitment to the value.
#[derive(Serialize, ToSchema)]
#[schema(as = CohortCommitment)]
pub struct CohortCommitmentDoc {
    /// Attribute name.
    attribute: String,
    /// Lower bound (inclusive).
    lo: u64,
    /// Upper bound (exclusive).
    hi: u64,
    /// The compressed Ristretto commitment (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    commitment: String,
}

/// Ask for consent.
#[derive(Serialize, ToSchema)]
#[schema(as = StudyRequest)]
pub struct StudyRequestDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: StudyRequestKind,
    /// What the data is for.
    purpose: String,
    /// Role of the readers.
    required_role: RoleDoc,
    /// Minimum level of the readers.
    #[schema(maximum = 65535)]
    min_level: u16,
    /// Criteria a consenting stream proves in range.
    cohort: Vec<CohortRangeDoc>,
    /// Makes equal requests distinct transactions.
    nonce: u64,
    /// The requesting institution's token.
    claim: TokenClaimDoc,
}

/// Who may read a stream, for what, and when.
#[derive(Serialize, ToSchema)]
#[schema(as = Policy)]
pub struct PolicyDoc {
    /// Roles that may read.
    roles: Vec<RoleDoc>,
    /// Minimum accreditation level.
    #[schema(maximum = 65535)]
    min_level: u16,
    /// Purpose.
    purpose: String,
    /// First day (since 1970-01-01).
    valid_from: u32,
    /// Last day.
    valid_until: u32,
    /// Whether every read must carry an escrowed token (default false).
    escrow: Option<bool>,
}

/// Share a stream.
#[derive(Serialize, ToSchema)]
#[schema(as = Consent)]
pub struct ConsentDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: ConsentKind,
    /// Stream id: derived from the patient's stream key and the stream's name (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    stream_id: String,
    /// The platform's name of the stream.
    stream_name: String,
    /// The policy.
    policy: PolicyDoc,
    /// Digest of the records shared (hex), when the share names records.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    data_digest: Option<String>,
    /// The study this consent answers (transaction id).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    study: Option<String>,
    /// Commitments answering the study's criteria.
    cohort: Option<Vec<CohortCommitmentDoc>>,
    /// The consent this one replaces (transaction id).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    replaces: Option<String>,
    /// The patient's per-stream sr25519 public key (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    patient_key: String,
    /// Makes equal shares distinct transactions.
    nonce: u64,
    /// The platform's token.
    claim: TokenClaimDoc,
}

/// Withdraw a stream's consent.
#[derive(Serialize, ToSchema)]
#[schema(as = RevokeConsent)]
pub struct RevokeConsentDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: RevokeConsentKind,
    /// Stream id (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    stream_id: String,
    /// The patient's per-stream public key (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    patient_key: String,
    /// Makes repeated withdrawals distinct.
    nonce: u64,
}

/// Read a stream.
#[derive(Serialize, ToSchema)]
#[schema(as = Access)]
pub struct AccessDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: AccessKind,
    /// Stream id (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    stream_id: String,
    /// What the data is for.
    purpose: String,
    /// X25519 public key the data node seals the records to (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    delivery_key: String,
    /// Makes repeated reads distinct transactions.
    nonce: u64,
    /// The reader's token.
    claim: TokenClaimDoc,
}

/// The inspector opens one escrowed access's escrow, on the record.
#[derive(Serialize, ToSchema)]
#[schema(as = Opening)]
pub struct OpeningDoc {
    /// Which body this is.
    #[schema(inline)]
    kind: OpeningKind,
    /// The committed access opened (transaction id).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    access: String,
    /// The case reference (1 to 256 bytes).
    case: String,
}

/// A presentation token: a Groth16 proof and the public inputs it proves.
#[derive(Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenDoc {
    /// Encoding version (1).
    #[schema(maximum = 255)]
    version: u8,
    /// Registry depth of the circuit.
    #[schema(maximum = 255)]
    depth: u8,
    /// Compressed Groth16 proof (A, B, C), 192 bytes as hex.
    #[schema(pattern = "^[0-9a-f]{384}$")]
    proof: String,
    /// The statement.
    public: PublicInputsDoc,
    /// An escrowed token's escrow (64 bytes as hex).
    #[schema(pattern = "^[0-9a-f]{128}$")]
    escrow: Option<String>,
}

/// What a token proves: field elements as `0x` + 64 hex digits (canonical, below the
/// BLS12-381 scalar modulus).
#[derive(Serialize, ToSchema)]
#[schema(as = PublicInputs)]
pub struct PublicInputsDoc {
    /// Registry root.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    root: String,
    /// Pseudonym scope.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    scope: String,
    /// Pseudonym.
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    pseudonym: String,
    /// The bound message (the transaction body's digest, as a field element).
    #[schema(pattern = "^0x[0-9a-f]{64}$")]
    message: String,
    /// Disclosed role.
    role: RoleDoc,
    /// Disclosed issuer.
    issuer_id: u32,
    /// Minimum accreditation level.
    #[schema(maximum = 65535)]
    min_level: u16,
    /// Day the credential is valid on.
    today: u32,
}

/// A committed block: its header, the validators' signatures, its transactions' ids.
#[derive(Serialize, ToSchema)]
#[schema(as = Block)]
pub struct BlockDoc {
    /// The header.
    header: BlockHeaderDoc,
    /// Validators' signatures of the header (a quorum makes the block final).
    signatures: Vec<BlockSignatureDoc>,
    /// Transaction ids in execution order (hex).
    tx_ids: Vec<String>,
}

/// What a block's hash and signatures cover.
#[derive(Serialize, ToSchema)]
#[schema(as = BlockHeader)]
pub struct BlockHeaderDoc {
    /// Height (the genesis block is 0).
    height: u64,
    /// The previous header's hash (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    prev_hash: String,
    /// Merkle root of the transaction ids (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    tx_root: String,
    /// Digest of every issuer's registry root after this block (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    registry_root: String,
    /// Block time (ms since the Unix epoch, the proposer's clock).
    time_ms: u64,
    /// The proposing validator's Ed25519 key (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    proposer: String,
}

/// One validator's signature of a header.
#[derive(Serialize, ToSchema)]
#[schema(as = BlockSignature)]
pub struct BlockSignatureDoc {
    /// The validator's Ed25519 key (hex).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    validator: String,
    /// Ed25519 signature (hex).
    #[schema(pattern = "^[0-9a-f]{128}$")]
    signature: String,
}

#[cfg(test)]
mod tests {
    use consentry_circuits::credential::Role;
    use consentry_circuits::registry::RegistryTree;
    use consentry_circuits::Fr;
    use rand::rngs::OsRng;
    use serde_json::{json, Value};
    use utoipa::OpenApi;

    use crate::cohort::Answer;
    use crate::ledger::fixture::{Fixture, CHAIN_ID};
    use crate::ledger::*;

    /// A validator for one component schema of the served document (OpenAPI 3.1 schemas are
    /// JSON Schema 2020-12).
    fn validator(name: &str) -> jsonschema::Validator {
        let doc: Value =
            serde_json::from_str(&crate::api::ApiDoc::openapi().to_json().unwrap()).unwrap();
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/components/schemas/{name}"),
            "components": doc["components"],
        });
        jsonschema::draft202012::new(&schema).unwrap()
    }

    /// Real transactions of every kind, as their JSON, from a depth-4 fixture world.
    fn every_kind() -> Vec<Value> {
        let dir = tempfile::tempdir().unwrap();
        let mut fx = Fixture::new(4, dir.path(), 31).with_inspector();
        let platform = fx.institution(Role::Platform, 2);
        let research = fx.institution(Role::Research, 2);
        let tree = RegistryTree::from_leaves(4, &[platform.leaf(), research.leaf()]).unwrap();
        let today = 20_400;
        let genesis = Transaction {
            body: Body::Genesis(fx.genesis(2)),
            auth: Auth::default(),
        };
        let cohort = vec![CohortRange {
            attribute: "age".into(),
            lo: 40,
            hi: 60,
        }];
        let scope = fx.fresh_scope();
        let study = Body::StudyRequest(StudyRequest {
            purpose: "cardiology".into(),
            required_role: Role::Research,
            min_level: 2,
            cohort: cohort.clone(),
            nonce: 1,
            claim: fx.claim(&research, &tree, scope, 2, today),
        });
        let study = fx.finish(&research, &tree, study);
        let patient = fx.patient_key();
        let share = fx.consent(
            &platform,
            &patient,
            &tree,
            "s-1",
            Fixture::policy(&[Role::Research], 2),
            today,
        );
        // A consent answering the study: commitments in the body, the range proof in auth.
        let answer = Answer::commit(&cohort, &[52], &mut OsRng).unwrap();
        let patient2 = fx.patient_key();
        let scope = fx.fresh_scope();
        let consent = Consent {
            stream_id: Fixture::stream_id(&patient2, "s-2"),
            stream_name: "s-2".into(),
            policy: Fixture::policy(&[Role::Research], 2),
            data_digest: Some(Hash32([7; 32])),
            study: Some(study.id()),
            cohort: answer.commitments.clone(),
            replaces: None,
            patient_key: patient2.public.to_bytes(),
            nonce: 0,
            claim: fx.claim(&platform, &tree, scope, 0, today),
        };
        let id = Body::Consent(consent.clone()).id();
        let mut answered = fx.finish_consent(&platform, &patient2, &tree, Body::Consent(consent));
        answered.auth.cohort = answer.prove(CHAIN_ID, study.id(), id, &mut OsRng).unwrap();
        let stream = Fixture::stream_id(&patient, "s-1");
        let access = fx.access(&research, &tree, &stream, 2, today, 1);
        let withdraw = fx.withdraw(&patient, "s-1", 2);
        let escrowed = fx.escrowed_access(&research, &tree, &stream, today, 2);
        let opening = fx.opening(escrowed.id(), "DPA-1");
        [
            genesis,
            fx.issue(platform.leaf()),
            fx.revoke(1),
            study,
            share,
            answered,
            withdraw,
            access,
            escrowed,
            opening,
        ]
        .iter()
        .map(|tx| serde_json::to_value(tx).unwrap())
        .collect()
    }

    fn errors(v: &jsonschema::Validator, value: &Value) -> Vec<String> {
        v.iter_errors(value).map(|e| e.to_string()).collect()
    }

    /// Every kind of transaction the ledger writes validates against the `Transaction` schema
    /// the API documents, and the same transactions tampered (a field missing, a proof of the
    /// wrong length, an unknown kind or role, a number as a string) do not.
    #[test]
    fn real_transactions_match_the_documented_schema_and_tampered_ones_do_not() {
        let v = validator("Transaction");
        let txs = every_kind();
        let kinds: Vec<&str> = txs
            .iter()
            .map(|t| t["body"]["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "genesis",
                "issue_credential",
                "revoke_credential",
                "study_request",
                "consent",
                "consent",
                "revoke_consent",
                "access",
                "access",
                "opening"
            ]
        );
        for tx in &txs {
            assert!(errors(&v, tx).is_empty(), "{tx}: {:?}", errors(&v, tx));
        }
        assert!(txs[0]["body"]["inspector"].is_object());
        assert!(txs[8]["body"]["claim"]["escrow"].is_string());
        let access = txs[8].clone();
        type Tamper = Box<dyn Fn(&mut Value)>;
        let tampered: Vec<(&str, Tamper)> = vec![
            (
                "stream id missing",
                Box::new(|t| {
                    t["body"].as_object_mut().unwrap().remove("stream_id");
                }),
            ),
            (
                "short proof",
                Box::new(|t| t["auth"]["proof"] = json!("abcd")),
            ),
            (
                "unknown kind",
                Box::new(|t| t["body"]["kind"] = json!("read")),
            ),
            (
                "unknown role",
                Box::new(|t| t["body"]["claim"]["role"] = json!("king")),
            ),
            (
                "nonce as a string",
                Box::new(|t| t["body"]["nonce"] = json!("1")),
            ),
            (
                "uppercase hex",
                Box::new(|t| {
                    let up = t["body"]["delivery_key"].as_str().unwrap().to_uppercase();
                    t["body"]["delivery_key"] = json!(up);
                }),
            ),
            (
                "no auth",
                Box::new(|t| {
                    t.as_object_mut().unwrap().remove("auth");
                }),
            ),
            (
                "short escrow",
                Box::new(|t| t["body"]["claim"]["escrow"] = json!("ab")),
            ),
        ];
        for (what, tamper) in tampered {
            let mut t = access.clone();
            tamper(&mut t);
            assert!(!v.is_valid(&t), "{what}: the schema accepts {t}");
        }
    }

    /// A real token validates against the `Token` schema; a tampered one does not.
    #[test]
    fn a_real_token_matches_the_documented_schema_and_a_tampered_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut fx = Fixture::new(4, dir.path(), 32);
        let (_, tree, witness) = fx.lone_holder(Role::Hospital, 3);
        let public = witness
            .statement(tree.root(), Fr::from(5u64), Fr::from(6u64), 2, 20_400)
            .unwrap();
        let token = fx.prover.prove(&witness, public, &mut OsRng).unwrap();
        let token = serde_json::to_value(&token).unwrap();
        let v = validator("Token");
        assert!(v.is_valid(&token), "{:?}", errors(&v, &token));
        for (field, bad) in [
            ("proof", json!("00")),
            ("version", json!(-1)),
            ("depth", json!(300)),
        ] {
            let mut t = token.clone();
            t[field] = bad;
            assert!(!v.is_valid(&t), "{field}");
        }
        let mut t = token.clone();
        t["public"]["root"] = json!("0x12");
        assert!(!v.is_valid(&t), "short field element");
    }
}
