//! A patient's signed batch of records for one stream.
//!
//! The signature (sr25519, schnorrkel, context [`INGEST_SIGNING_CONTEXT`]) covers the chain,
//! the data node it is meant for, the stream, its sequence number and the SHA-256 of the
//! records' canonical JSON. A replay carries a sequence number already used and is refused; a
//! batch signed for another data node or chain is refused; a record changed after signing
//! breaks the signature.

use serde::{Deserialize, Serialize};

use crate::ledger::types::hex_bytes;
use crate::ledger::{check_stream_id, check_stream_name, stream_id_for};

/// The merlin signing context of ingests (distinct from consents').
pub const INGEST_SIGNING_CONTEXT: &[u8] = b"consentry/v1/ingest";
/// Most records in one ingest.
pub const MAX_RECORDS_PER_INGEST: usize = 10_000;
/// Largest record, as canonical JSON.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// A patient's signed batch of records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ingest {
    /// The data node this batch is for (its configured name).
    pub datanode: String,
    /// The stream's name (with the patient key, it derives the stream id).
    pub stream_name: String,
    /// The stream id.
    pub stream_id: String,
    /// The stream's patient key (sr25519, hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String)]
    pub patient_key: [u8; 32],
    /// This batch's position in the stream: 0 for the first, then one more each time.
    pub sequence: u64,
    /// The records: JSON objects, each with an integer `time_ms`.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Value>,
    /// sr25519 signature over [`Ingest::signing_bytes`] (hex).
    #[serde(with = "hex_bytes")]
    #[schema(value_type = String)]
    pub signature: [u8; 64],
}

/// Why an ingest is refused. Names the problem; quotes no record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    /// A field is malformed.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The stream id is not the one the name and patient key derive.
    #[error("the stream id is not derived from this patient key and stream name")]
    NotThePatientsStream,
    /// Meant for another data node or chain.
    #[error("this ingest is for data node {0:?}")]
    OtherDataNode(String),
    /// The signature does not verify.
    #[error("the patient's signature does not verify")]
    BadSignature,
    /// Not the next sequence number (a replay, or a gap).
    #[error("sequence {got}, expected {expected} (a replayed or out-of-order ingest)")]
    Sequence {
        /// What the ingest says.
        got: u64,
        /// What the stream expects.
        expected: u64,
    },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> IngestError {
    IngestError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl Ingest {
    /// What the patient signs: chain, data node and stream (each u32-length-prefixed), the
    /// sequence (u64 big-endian), and the tagged SHA-256 of the records as compact JSON with
    /// object keys sorted (serde_json's form without `preserve_order`), which a client in any
    /// language can reproduce.
    pub fn signing_bytes(&self, chain_id: &str) -> Vec<u8> {
        let records = serde_json::to_vec(&self.records).expect("JSON values serialise");
        let mut out = Vec::new();
        for part in [
            chain_id.as_bytes(),
            self.datanode.as_bytes(),
            self.stream_id.as_bytes(),
        ] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&consentry_circuits::field::sha256_tagged(
            b"consentry/v1/ingest-records",
            &records,
        ));
        out
    }

    /// A signed ingest of `records` into the stream `stream_name` of `patient`.
    pub fn sign(
        patient: &schnorrkel::Keypair,
        chain_id: &str,
        datanode: &str,
        stream_name: &str,
        sequence: u64,
        records: Vec<serde_json::Value>,
    ) -> Ingest {
        let patient_key = patient.public.to_bytes();
        let mut ingest = Ingest {
            datanode: datanode.into(),
            stream_name: stream_name.into(),
            stream_id: stream_id_for(&patient_key, stream_name),
            patient_key,
            sequence,
            records,
            signature: [0; 64],
        };
        ingest.signature = patient
            .sign_simple(INGEST_SIGNING_CONTEXT, &ingest.signing_bytes(chain_id))
            .to_bytes();
        ingest
    }

    /// Every check that needs no store: shape, the stream is the patient's, meant for this
    /// data node, the signature. The sequence is the store's to check.
    pub fn verify(&self, chain_id: &str, datanode: &str) -> Result<(), IngestError> {
        if self.datanode != datanode {
            return Err(IngestError::OtherDataNode(self.datanode.clone()));
        }
        check_stream_name(&self.stream_name).map_err(|e| invalid("stream_name", e.to_string()))?;
        check_stream_id(&self.stream_id).map_err(|e| invalid("stream_id", e.to_string()))?;
        if self.records.is_empty() || self.records.len() > MAX_RECORDS_PER_INGEST {
            return Err(invalid(
                "records",
                format!("between 1 and {MAX_RECORDS_PER_INGEST} records"),
            ));
        }
        for (i, r) in self.records.iter().enumerate() {
            let ok = r
                .as_object()
                .is_some_and(|o| o.get("time_ms").is_some_and(|t| t.is_u64()));
            if !ok {
                return Err(invalid(
                    "records",
                    format!("record {i} is not an object with an integer time_ms"),
                ));
            }
            if serde_json::to_vec(r).map_or(usize::MAX, |b| b.len()) > MAX_RECORD_BYTES {
                return Err(invalid(
                    "records",
                    format!("record {i} is over {MAX_RECORD_BYTES} bytes"),
                ));
            }
        }
        if stream_id_for(&self.patient_key, &self.stream_name) != self.stream_id {
            return Err(IngestError::NotThePatientsStream);
        }
        let key = crate::ledger::patient_key(&self.patient_key)
            .map_err(|why| invalid("patient_key", why))?;
        let sig = schnorrkel::Signature::from_bytes(&self.signature)
            .map_err(|_| invalid("signature", "not an sr25519 signature"))?;
        key.verify_simple(INGEST_SIGNING_CONTEXT, &self.signing_bytes(chain_id), &sig)
            .map_err(|_| IngestError::BadSignature)
    }
}
