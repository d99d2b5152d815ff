//! The data node: the data platform's service that holds a stream's records and releases
//! them, sealed to the reader, for an access the ledger committed (`docs/delivery.md`).
//!
//! Signed ingest ([`ingest`]), the record store, encrypted at rest ([`records`]), and the
//! delivery decision and sealing ([`deliver`](mod@deliver)). The HTTP service is
//! `api::datanode`; the client side (`patient put`, `institution fetch`) is `client::data`.
//!
//! Who may add records: **the patient alone**, with the stream's own key. An ingest names the
//! stream's name and patient key, and the data node checks that they derive the stream id
//! (`stream_id_for`): nobody else can sign for a stream, and no ledger lookup is needed to know
//! whose it is. A platform operator who adds data on a patient's behalf does so with a key the
//! patient gave it, like any other stream client; there is no operator bypass.

pub mod deliver;
pub mod ingest;
pub mod records;

pub use deliver::{admit, deliver, Admitted, Refusal};
pub use ingest::{Ingest, IngestError, INGEST_SIGNING_CONTEXT, MAX_RECORDS_PER_INGEST};
pub use records::{RecordStore, RecordStoreError};
