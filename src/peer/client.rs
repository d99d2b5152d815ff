//! Calling other validators: one authenticated HTTP request per call ([`super::auth`]), the
//! response's signature checked against the key of the validator that was asked.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::auth::{self, SIGNATURE_HEADER};
use crate::consensus::raft::NodeId;

/// Another validator: its genesis key and where its peer listener is.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Ed25519 key (from the genesis).
    pub key: [u8; 32],
    /// `host:port` of its `--peer-listen` address.
    pub addr: String,
}

/// Why a call to another validator failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// Nothing answered (connection refused, timeout, dropped by the fault hook).
    #[error("validator {0} is unreachable: {1}")]
    Unreachable(NodeId, String),
    /// It answered with an error status.
    #[error("validator {peer} answered {status}: {body}")]
    Status {
        /// The validator.
        peer: NodeId,
        /// HTTP status.
        status: u16,
        /// The body (a problem document).
        body: String,
    },
    /// The answer is not signed by that validator, or does not decode.
    #[error("validator {0} sent a bad answer: {1}")]
    BadAnswer(NodeId, String),
}

/// Message loss and delay injected between validators: a test hook, off unless the node is
/// started with `CONSENTRY_PEER_FAULTS=FILE`. The file holds `drop=PER_MILLE delay=MS` and is
/// re-read at most every 100 ms, so a test can break and heal the network of a running
/// process.
#[derive(Default)]
pub struct Faults {
    file: Option<PathBuf>,
    state: Mutex<(u64, u32, u64)>,
    seq: AtomicU64,
}

impl Faults {
    /// The hook named by `CONSENTRY_PEER_FAULTS`, if set.
    pub fn from_env() -> Self {
        Faults {
            file: std::env::var_os("CONSENTRY_PEER_FAULTS").map(PathBuf::from),
            ..Faults::default()
        }
    }

    /// `(drop per mille, delay ms)` now.
    fn current(&self) -> (u32, u64) {
        let Some(file) = &self.file else {
            return (0, 0);
        };
        let now = crate::node::now_ms();
        let mut state = self.state.lock().expect("faults lock");
        if now >= state.0 {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let mut drop = 0;
            let mut delay = 0;
            for part in text.split_whitespace() {
                match part.split_once('=') {
                    Some(("drop", v)) => drop = v.parse().unwrap_or(0),
                    Some(("delay", v)) => delay = v.parse().unwrap_or(0),
                    _ => {}
                }
            }
            *state = (now + 100, drop.min(1000), delay);
        }
        (state.1, state.2)
    }

    /// Whether to drop this message (deterministic spread over calls), after sleeping the
    /// injected delay.
    async fn apply(&self) -> bool {
        let (drop, delay) = self.current();
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        // A fixed odd multiplier spreads consecutive calls over 0..1000.
        (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) % 1000 < drop as u64
    }
}

/// A validator's client to the others.
pub struct PeerClient {
    http: reqwest::Client,
    key: SigningKey,
    chain_id: String,
    peers: BTreeMap<NodeId, Peer>,
    faults: Arc<Faults>,
}

impl PeerClient {
    /// A client signing with `key` for chain `chain_id`, knowing `peers`.
    pub fn new(
        key: SigningKey,
        chain_id: &str,
        peers: BTreeMap<NodeId, Peer>,
        faults: Faults,
    ) -> Self {
        PeerClient {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_millis(500))
                .pool_idle_timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client without TLS builds"),
            key,
            chain_id: chain_id.to_string(),
            peers,
            faults: Arc::new(faults),
        }
    }

    /// The validators this client knows (the others).
    pub fn peers(&self) -> &BTreeMap<NodeId, Peer> {
        &self.peers
    }

    /// Posts `req` as JSON to `path` on validator `target` and decodes the signed answer.
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        target: NodeId,
        path: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, PeerError> {
        let peer = self
            .peers
            .get(&target)
            .ok_or_else(|| PeerError::Unreachable(target, "not a known validator".into()))?;
        if self.faults.apply().await {
            return Err(PeerError::Unreachable(
                target,
                "dropped (fault hook)".into(),
            ));
        }
        let body = serde_json::to_vec(req).expect("peer requests encode");
        let (headers, nonce) = auth::sign_request(
            &self.key,
            &self.chain_id,
            "POST",
            path,
            &body,
            crate::node::now_ms(),
        );
        let mut request = self
            .http
            .post(format!("http://{}{path}", peer.addr))
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(target, e.to_string()))?;
        let status = response.status().as_u16();
        let signature = response
            .headers()
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| PeerError::Unreachable(target, e.to_string()))?;
        auth::check_response(
            &peer.key,
            &self.chain_id,
            &nonce,
            status,
            &bytes,
            signature.as_deref(),
        )
        .map_err(|e| PeerError::BadAnswer(target, e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(PeerError::Status {
                peer: target,
                status,
                body: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| PeerError::BadAnswer(target, e.to_string()))
    }
}
