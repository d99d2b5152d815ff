//! Transactions: typed bodies, their canonical binary encoding, ids and signing messages.
//!
//! Canonical encoding: one version byte ([`TX_VERSION`]) followed by the Borsh encoding of the
//! value. Borsh is deterministic by construction (fixed-width little-endian integers, u32
//! length prefixes, declared field order, enum tags), which is what hashing and signing need.
//!
//! A transaction is a [`Body`] (everything that is signed, bound and hashed) and an [`Auth`]
//! (the Groth16 proof bytes and the signature). The id is the SHA-256 of the body only, so a
//! re-randomised Groth16 proof or a second valid signature cannot make a new transaction; the
//! token's `message` is the Poseidon image of the body's digest, so the proof serves this body
//! and no other.

use borsh::{BorshDeserialize, BorshSerialize};
use consentry_circuits::credential::Role;
use consentry_circuits::field::{self, sha256_tagged};
use consentry_circuits::Fr;
use serde::{Deserialize, Serialize};

use super::types::{hex_bytes, EscrowBytes, Hash32, TxId};

/// Version byte of the canonical encoding. Version 2 added the escrow fields (a claim's
/// `escrow`, a policy's `escrow`, the genesis `inspector`) and the `Opening` kind; a chain
/// written in version 1 is refused with that reason rather than misread.
pub const TX_VERSION: u8 = 2;
/// Largest encoded transaction accepted, in bytes.
pub const MAX_TX_BYTES: usize = 64 * 1024;

/// Borsh helpers for [`Role`] (its numeric code).
mod role_code {
    use super::Role;
    use std::io;

    pub fn serialize<W: io::Write>(r: &Role, w: &mut W) -> io::Result<()> {
        borsh::BorshSerialize::serialize(&r.code(), w)
    }

    pub fn deserialize<R: io::Read>(r: &mut R) -> io::Result<Role> {
        let code: u16 = borsh::BorshDeserialize::deserialize_reader(r)?;
        Role::from_code(code).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown role code {code}"),
            )
        })
    }

    pub fn serialize_vec<W: io::Write>(v: &[Role], w: &mut W) -> io::Result<()> {
        let codes: Vec<u16> = v.iter().map(|r| r.code()).collect();
        borsh::BorshSerialize::serialize(&codes, w)
    }

    pub fn deserialize_vec<R: io::Read>(r: &mut R) -> io::Result<Vec<Role>> {
        let codes: Vec<u16> = borsh::BorshDeserialize::deserialize_reader(r)?;
        codes
            .into_iter()
            .map(|code| {
                Role::from_code(code).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unknown role code {code}"),
                    )
                })
            })
            .collect()
    }
}

/// The public part of a presentation token, carried in a body. With the body's `message` and
/// the proof bytes in [`Auth`] it is a complete token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenClaim {
    /// Registry depth of the circuit.
    pub depth: u8,
    /// Registry root proven against (32-byte big-endian field element).
    pub root: Hash32,
    /// Pseudonym scope.
    pub scope: Hash32,
    /// `H_nym(sk, scope)`.
    pub pseudonym: Hash32,
    /// Disclosed role.
    #[borsh(
        serialize_with = "role_code::serialize",
        deserialize_with = "role_code::deserialize"
    )]
    pub role: Role,
    /// Disclosed issuer.
    pub issuer_id: u32,
    /// Proven minimum level.
    pub min_level: u16,
    /// Day the credential is proven valid on.
    pub today: u32,
    /// For a token of the escrow circuit: the institution's id encrypted to the chain's
    /// inspector ([`consentry_circuits::escrow`]), proven by the same proof. Only accesses
    /// carry one; a stream whose policy sets `escrow` admits no access without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<EscrowBytes>,
}

/// A registered credential issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerEntry {
    /// The id tokens disclose.
    pub issuer_id: u32,
    /// Human-readable name.
    pub name: String,
    /// Ed25519 public key.
    #[serde(with = "hex_bytes")]
    pub key: [u8; 32],
}

/// A verifying key the chain accepts, by registry depth and file digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyingKeyEntry {
    /// Registry depth.
    pub depth: u8,
    /// SHA-256 of the `.vk` file.
    pub digest: Hash32,
}

/// The chain's inspector (a data-protection authority): who can open an escrowed access's
/// institution id, under due process and on the record ([`Opening`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectorEntry {
    /// Who the inspector is (shown in the audit of every opening).
    pub name: String,
    /// Its Jubjub public key (compressed, 32 bytes): what escrows are encrypted to, and a
    /// constant of the escrow circuit whose keys are below.
    #[serde(with = "hex_bytes")]
    pub escrow_key: [u8; 32],
    /// Its Ed25519 public key, which signs [`Opening`]s.
    #[serde(with = "hex_bytes")]
    pub signing_key: [u8; 32],
    /// The escrow circuit's verifying keys for this inspector, by depth and file digest.
    pub verifying_keys: Vec<VerifyingKeyEntry>,
}

/// Block 0's only transaction: the chain's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Chain identifier (also in every signature domain).
    pub chain_id: String,
    /// Validators' Ed25519 public keys.
    pub validators: Vec<[u8; 32]>,
    /// Signatures needed for finality.
    pub quorum: u32,
    /// Registered issuers.
    pub issuers: Vec<IssuerEntry>,
    /// Accepted verifying keys.
    pub verifying_keys: Vec<VerifyingKeyEntry>,
    /// How long, in seconds of block time, a registry root stays acceptable after a later
    /// root of the same issuer replaced it: the bound on the revocation delay
    /// ([`crate::ledger::RootWindow`]).
    pub root_window_secs: u32,
    /// Registry depth.
    pub registry_depth: u8,
    /// Genesis time (milliseconds since the epoch).
    pub time_ms: u64,
    /// The inspector, if the chain has one: without it, no escrow is accepted and no policy
    /// may require one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspector: Option<InspectorEntry>,
}

/// An issuer appends a credential leaf to its own registry tree. The issuer saw only the
/// institution's `id`. Each issuer has a tree of its own (see [`crate::ledger::RootWindow`]),
/// so a leaf appended here can only ever serve tokens that disclose this issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueCredential {
    /// The issuing issuer.
    pub issuer_id: u32,
    /// `H_leaf(...)`.
    pub leaf: Hash32,
}

/// An issuer empties a leaf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeCredential {
    /// The issuer that appended the leaf (its tree is the one revoked in).
    pub issuer_id: u32,
    /// Leaf index in that issuer's tree.
    pub index: u64,
}

/// A criterion of a study: `lo ≤ value < hi` for a patient attribute the data platform holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortRange {
    /// Attribute name (e.g. `age`).
    pub attribute: String,
    /// Lower bound (inclusive).
    pub lo: u64,
    /// Upper bound (exclusive).
    pub hi: u64,
}

impl CohortRange {
    /// As the cohort proofs take it.
    pub fn criterion(&self) -> crate::cohort::Criterion<'_> {
        crate::cohort::Criterion {
            attribute: &self.attribute,
            lo: self.lo,
            hi: self.hi,
        }
    }
}

/// A consent's answer to one criterion of a study: the criterion, repeated from the study so
/// that a validator verifies the proof before looking anything up (a consent whose criteria
/// differ from the study's in any way is refused, `CriteriaMismatch`), and the data
/// platform's Pedersen commitment to the patient's value. The range proof of all of a
/// consent's criteria is [`Auth::cohort`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortCommitment {
    /// Attribute name, as the study's criterion.
    pub attribute: String,
    /// Lower bound (inclusive), as the study's criterion.
    pub lo: u64,
    /// Upper bound (exclusive), as the study's criterion.
    pub hi: u64,
    /// Pedersen commitment `v·B + r·B̃` to the value (compressed Ristretto, hex).
    #[serde(with = "hex_bytes")]
    pub commitment: [u8; 32],
}

impl CohortCommitment {
    /// The criterion it answers.
    pub fn criterion(&self) -> crate::cohort::Criterion<'_> {
        crate::cohort::Criterion {
            attribute: &self.attribute,
            lo: self.lo,
            hi: self.hi,
        }
    }

    /// Whether it answers exactly the criterion `r`.
    pub fn answers(&self, r: &CohortRange) -> bool {
        self.attribute == r.attribute && self.lo == r.lo && self.hi == r.hi
    }
}

/// A research institution asks for consent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyRequest {
    /// What the data is for.
    pub purpose: String,
    /// Role the readers will have.
    #[borsh(
        serialize_with = "role_code::serialize",
        deserialize_with = "role_code::deserialize"
    )]
    pub required_role: Role,
    /// Minimum level of the readers.
    pub min_level: u16,
    /// Cohort criteria (at most `cohort::MAX_CRITERIA`); a consent answering the study proves
    /// each with a range proof over a committed value, never disclosing it.
    pub cohort: Vec<CohortRange>,
    /// Makes otherwise identical requests distinct.
    pub nonce: u64,
    /// The research institution's token (role research, fresh scope).
    pub claim: TokenClaim,
}

/// Who may read a stream, for what, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Roles allowed to read.
    #[borsh(
        serialize_with = "role_code::serialize_vec",
        deserialize_with = "role_code::deserialize_vec"
    )]
    pub roles: Vec<Role>,
    /// Minimum accreditation level.
    pub min_level: u16,
    /// The one purpose reads must state.
    pub purpose: String,
    /// First valid day (inclusive).
    pub valid_from: u32,
    /// Last valid day (inclusive).
    pub valid_until: u32,
    /// Whether every read must carry an escrowed token: the reader's id encrypted to the
    /// chain's inspector, so that a misuse can be traced to one institution under due
    /// process. Off by default (readers stay anonymous to everyone).
    #[serde(default)]
    pub escrow: bool,
}

/// A patient shares a stream (or replaces its policy), through the data platform holding it.
///
/// One patient key per stream, and the stream id is derived from it
/// ([`stream_id_for`]`(patient_key, stream_name)`): nobody but the holder of that key can ever
/// share the stream, and two streams of one patient have independent keys and ids that cannot
/// be linked through them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The stream: `stream_id_for(patient_key, stream_name)`.
    pub stream_id: String,
    /// The platform's local name of the stream (1 to 64 bytes of `A-Z a-z 0-9 . _ : -`); it
    /// is public, so platforms should use opaque names.
    pub stream_name: String,
    /// The access policy.
    pub policy: Policy,
    /// The snapshot shared, when the share names one: the records digest
    /// (`delivery::records_digest`: SHA-256 of `consentry/v1/records‖0‖[r0,…,rk]`, each record
    /// compact JSON with sorted keys) of the stream's first records. The data node then
    /// delivers exactly those records, and the reader checks the digest it receives against
    /// this one; records added later are not shared until the patient shares again. `None`:
    /// the stream as it grows.
    pub data_digest: Option<Hash32>,
    /// The study request this consent answers, if any.
    pub study: Option<TxId>,
    /// With `study`: one commitment per criterion of the study, in its order (the proof is
    /// [`Auth::cohort`]); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cohort: Vec<CohortCommitment>,
    /// The stream's latest consent (share or withdrawal) when this one was prepared; none for
    /// a first share. A consent applies only while that is still the latest, so a signed but
    /// unsent consent cannot undo a later withdrawal (or a later policy).
    pub replaces: Option<TxId>,
    /// The patient's per-stream sr25519 public key.
    #[serde(with = "hex_bytes")]
    pub patient_key: [u8; 32],
    /// Makes otherwise identical consents distinct.
    pub nonce: u64,
    /// The data platform's token (role platform, fresh scope).
    pub claim: TokenClaim,
}

/// A patient withdraws a stream's consent alone: signed by the stream key, no platform token,
/// no registry root, so no platform can keep a consent alive by refusing to cooperate. It
/// can be signed in advance and kept; it is valid whenever the stream is shared, and once
/// (its id is then on the chain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeConsent {
    /// The stream.
    pub stream_id: String,
    /// The stream's patient key (must be the one the stream is bound to).
    #[serde(with = "hex_bytes")]
    pub patient_key: [u8; 32],
    /// Makes otherwise identical withdrawals distinct.
    pub nonce: u64,
}

/// An institution reads a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// The stream.
    pub stream_id: String,
    /// The stated purpose (must be the consent's).
    pub purpose: String,
    /// X25519 public key the data platform encrypts the data to (HPKE, [`crate::delivery`]);
    /// derived from the reader's identity secret, the stream and `nonce`.
    #[serde(with = "hex_bytes")]
    pub delivery_key: [u8; 32],
    /// Makes repeated reads distinct transactions.
    pub nonce: u64,
    /// The reader's token, scope `H("access", stream_id)`.
    pub claim: TokenClaim,
}

/// The inspector records that it opens one escrowed access's escrow, for a case: signed with
/// its Ed25519 key, committed before the inspector's tool reveals the id (`consentry
/// inspector open`), and shown in the stream's history, so a patient sees that an access to
/// their data was opened, by whom and under which case. The id itself never goes on the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// The committed access whose escrow is opened.
    pub access: TxId,
    /// The case reference under which it is opened (the authority's file number): 1 to 256
    /// bytes, public.
    pub case: String,
}

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Chain configuration (block 0 only).
    Genesis(Genesis),
    /// Append a credential leaf.
    IssueCredential(IssueCredential),
    /// Empty a credential leaf.
    RevokeCredential(RevokeCredential),
    /// Ask for consent.
    StudyRequest(StudyRequest),
    /// Share a stream.
    Consent(Consent),
    /// Withdraw a stream's consent (the patient alone).
    RevokeConsent(RevokeConsent),
    /// Read a stream.
    Access(Access),
    /// Open an access's escrow (the inspector).
    Opening(Opening),
}

/// What authorises a body: the token's proof bytes and/or a signature, by kind.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Compressed Groth16 proof (192 bytes) for kinds carrying a token, else empty.
    #[serde(with = "hex::serde", default)]
    pub proof: Vec<u8>,
    /// Ed25519 (issuer, inspector) or sr25519 (patient) signature, 64 bytes, else empty.
    #[serde(with = "hex::serde", default)]
    pub signature: Vec<u8>,
    /// A consent answering a study with criteria: one aggregated Bulletproofs range proof of
    /// every criterion (hex), bound to the consent body's digest; empty otherwise.
    #[serde(with = "hex::serde", default, skip_serializing_if = "Vec::is_empty")]
    pub cohort: Vec<u8>,
}

/// A transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// What it does.
    pub body: Body,
    /// What authorises it.
    #[serde(default)]
    pub auth: Auth,
}

fn canonical<T: BorshSerialize>(value: &T) -> Vec<u8> {
    let mut out = vec![TX_VERSION];
    borsh::to_writer(&mut out, value).expect("writing to a Vec cannot fail");
    out
}

impl Body {
    /// The canonical encoding of the body: what is hashed, signed and bound.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical(self)
    }

    /// The transaction id.
    pub fn id(&self) -> TxId {
        Hash32(sha256_tagged(b"consentry/v1/txid", &self.canonical_bytes()))
    }

    /// The token `message` for this body on chain `chain_id`: the chain id is hashed in, so a
    /// token serves this body on this chain and on no other chain that shares its keys.
    pub fn message(&self, chain_id: &str) -> Fr {
        let mut bytes = chain_id.as_bytes().to_vec();
        bytes.push(0);
        bytes.extend_from_slice(&self.canonical_bytes());
        field::message_for_body(&bytes)
    }

    /// The stream this body acts on, if any.
    pub fn stream(&self) -> Option<&str> {
        match self {
            Body::Consent(b) => Some(&b.stream_id),
            Body::RevokeConsent(b) => Some(&b.stream_id),
            Body::Access(b) => Some(&b.stream_id),
            _ => None,
        }
    }

    /// The bytes an issuer signs with Ed25519: a domain tag, the chain id, then the body, so
    /// a signature is valid on one chain only.
    pub fn issuer_signing_bytes(&self, chain_id: &str) -> Vec<u8> {
        let mut out = b"consentry/v1/issuer-signature\0".to_vec();
        out.extend_from_slice(chain_id.as_bytes());
        out.push(0);
        out.extend_from_slice(&self.canonical_bytes());
        out
    }

    /// The bytes the inspector signs with Ed25519 (an [`Opening`]): its own domain tag, the
    /// chain id, then the body.
    pub fn inspector_signing_bytes(&self, chain_id: &str) -> Vec<u8> {
        let mut out = b"consentry/v1/inspector-signature\0".to_vec();
        out.extend_from_slice(chain_id.as_bytes());
        out.push(0);
        out.extend_from_slice(&self.canonical_bytes());
        out
    }

    /// The message a patient signs (sr25519, context [`PATIENT_SIGNING_CONTEXT`]): the chain
    /// id, then the body.
    pub fn patient_signing_bytes(&self, chain_id: &str) -> Vec<u8> {
        let mut out = chain_id.as_bytes().to_vec();
        out.push(0);
        out.extend_from_slice(&self.canonical_bytes());
        out
    }

    /// The token claim, for kinds that carry one.
    pub fn claim(&self) -> Option<&TokenClaim> {
        match self {
            Body::StudyRequest(b) => Some(&b.claim),
            Body::Consent(b) => Some(&b.claim),
            Body::Access(b) => Some(&b.claim),
            _ => None,
        }
    }

    /// The kind's name, as in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Genesis(_) => "genesis",
            Body::IssueCredential(_) => "issue_credential",
            Body::RevokeCredential(_) => "revoke_credential",
            Body::StudyRequest(_) => "study_request",
            Body::Consent(_) => "consent",
            Body::RevokeConsent(_) => "revoke_consent",
            Body::Access(_) => "access",
            Body::Opening(_) => "opening",
        }
    }
}

/// The id of the stream a patient shares under `stream_name` with the stream key
/// `patient_key`: 64 lowercase hex digits of `SHA-256("consentry/v1/stream-id" || 0 ||
/// patient_key || stream_name)`. Sharing an id needs the key it is derived from, so nobody
/// can squat a patient's stream; finding another key for a given id is a SHA-256 second
/// preimage.
pub fn stream_id_for(patient_key: &[u8; 32], stream_name: &str) -> String {
    let mut data = patient_key.to_vec();
    data.extend_from_slice(stream_name.as_bytes());
    hex::encode(sha256_tagged(b"consentry/v1/stream-id", &data))
}

/// The merlin signing context of patients' consent signatures.
pub const PATIENT_SIGNING_CONTEXT: &[u8] = b"consentry/v1/consent";

impl Transaction {
    /// The transaction id (of the body).
    pub fn id(&self) -> TxId {
        self.body.id()
    }

    /// The canonical encoding of the whole transaction (body and auth).
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical(self)
    }

    /// The length of [`Transaction::to_bytes`], without encoding it.
    pub fn encoded_len(&self) -> usize {
        1 + borsh::object_length(self).expect("length of an in-memory value")
    }

    /// Decodes [`Transaction::to_bytes`], refusing trailing bytes, other versions and
    /// oversized input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Transaction, String> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(format!(
                "{} bytes exceeds the {MAX_TX_BYTES}-byte limit",
                bytes.len()
            ));
        }
        match bytes.split_first() {
            None => Err("empty".into()),
            Some((&TX_VERSION, rest)) => borsh::from_slice(rest).map_err(|e| e.to_string()),
            Some((v, _)) => Err(format!("unsupported transaction version {v}")),
        }
    }
}
