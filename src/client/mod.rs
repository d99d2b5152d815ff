//! The client side: an HTTP client for a node ([`NodeClient`]) and builders that make signed
//! and proven transactions locally ([`builder`]). Secrets never leave the process: only
//! transactions, tokens and public keys are sent.

pub mod accreditation;
pub mod builder;
pub mod data;
pub mod opening;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{
    HistoryResponse, IssuedResponse, LeavesResponse, RegistryResponse, StatusResponse,
    StreamResponse, TxResponse, VerifyResponse,
};
use crate::ledger::Transaction;
use consentry_circuits::token::Token;

/// The node URL when neither `--node` nor `CONSENTRY_NODE` gives one.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:7700";

/// Checks a node or data-node URL as given on the command line: `http://` or `https://`, a
/// host, nothing after the path (`http://127.0.0.1:7700`). A URL without its scheme
/// (`127.0.0.1:7700`) is refused with an example instead of failing later as an opaque
/// request-builder error.
pub fn parse_base_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("a node URL starts with http:// or https:// (e.g. http://{s})"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "not a node URL: {s:?} (expected e.g. http://127.0.0.1:7700)"
        ));
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No connection could be made: nothing was sent.
    #[error("cannot connect to the node at {url} (nothing was sent): {reason}")]
    NotSent {
        /// The node URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The request failed after the connection was made (a timeout, a dropped connection):
    /// a transaction may or may not have reached the node.
    #[error("no answer from the node at {url}: {reason}")]
    Unreachable {
        /// The node URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The node answered with a problem.
    #[error("{code} ({status}): {detail}")]
    Problem {
        /// HTTP status.
        status: u16,
        /// Problem code (`Replay`, `RootNotInWindow`, ...).
        code: String,
        /// The problem's detail.
        detail: String,
    },
    /// The answer is not what the API documents.
    #[error("unexpected answer from the node: {0}")]
    Protocol(String),
    /// The client refused to go on with what the node answered (nothing was sent).
    #[error("{0}")]
    Refused(String),
    /// A committed transaction whose block does not (yet) carry a quorum of the genesis
    /// validators' signatures, or is not the block the transaction is in.
    #[error("{0}")]
    NotFinal(String),
}

/// A blocking HTTP client of one node.
pub struct NodeClient {
    base: String,
    http: reqwest::blocking::Client,
}

impl NodeClient {
    /// A client of the node at `base` (e.g. `http://127.0.0.1:7700`).
    pub fn new(base: &str) -> NodeClient {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client without TLS always builds");
        NodeClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    fn handle<T: DeserializeOwned>(
        &self,
        r: reqwest::Result<reqwest::blocking::Response>,
    ) -> Result<T, ClientError> {
        let r = r.map_err(|e| {
            // Show the cause (`connection refused`), not only reqwest's outer message.
            let reason = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            let url = self.base.clone();
            if e.is_connect() || e.is_builder() {
                ClientError::NotSent { url, reason }
            } else {
                ClientError::Unreachable { url, reason }
            }
        })?;
        let status = r.status().as_u16();
        let text = r.text().map_err(|e| ClientError::Protocol(e.to_string()))?;
        if status >= 400 {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            return Err(ClientError::Problem {
                status,
                code: v["code"].as_str().unwrap_or("Unknown").to_string(),
                detail: v["detail"].as_str().unwrap_or(&text).to_string(),
            });
        }
        serde_json::from_str(&text).map_err(|e| ClientError::Protocol(format!("{e}: {text}")))
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.handle(self.http.get(format!("{}{path}", self.base)).send())
    }

    pub(crate) fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.handle(
            self.http
                .post(format!("{}{path}", self.base))
                .json(body)
                .send(),
        )
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> Result<StatusResponse, ClientError> {
        self.get("/v1/status")
    }

    /// `GET /v1/registry`.
    pub fn registry(&self) -> Result<RegistryResponse, ClientError> {
        self.get("/v1/registry")
    }

    /// Every leaf of `issuer`'s registry tree, page by page.
    pub fn all_leaves(&self, issuer: u32) -> Result<Vec<String>, ClientError> {
        let mut out = Vec::new();
        loop {
            let page: LeavesResponse = self.get(&format!(
                "/v1/registry/{issuer}/leaves?from={}&limit=10000",
                out.len()
            ))?;
            let done =
                page.leaves.is_empty() || out.len() + page.leaves.len() >= page.total as usize;
            out.extend(page.leaves);
            if done {
                return Ok(out);
            }
        }
    }

    /// Syncs `issuer`'s public leaf list and builds its registry tree locally (the client
    /// never asks a node for its own path), at the depth the node reports.
    pub fn sync_tree(
        &self,
        issuer: u32,
    ) -> Result<consentry_circuits::registry::RegistryTree, ClientError> {
        let depth = self.registry()?.depth as usize;
        let leaves = self
            .all_leaves(issuer)?
            .iter()
            .map(|l| consentry_circuits::field::from_hex(l))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ClientError::Protocol(format!("a leaf: {e}")))?;
        consentry_circuits::registry::RegistryTree::from_leaves(depth, &leaves)
            .map_err(|e| ClientError::Protocol(format!("the leaf list: {e}")))
    }

    /// Refuses to prove against a leaf list the node does not vouch for: the root of `tree`
    /// (the holder's issuer's tree, built locally) must be among the roots `GET
    /// /v1/registry` lists for `issuer` now. A node that served this client a slightly
    /// different leaf list than everyone else would give it a root of its own, which its
    /// tokens would carry on every stream and link them; the ledger would refuse such tokens,
    /// and this check refuses them before any proof is made or anything is sent. Returns
    /// whether the root is the issuer's current one (else an older one, still in the window).
    pub fn check_root(
        &self,
        issuer: u32,
        tree: &consentry_circuits::registry::RegistryTree,
    ) -> Result<bool, ClientError> {
        let registry = self.registry()?;
        let root = consentry_circuits::field::to_hex(&tree.root());
        let Some(entry) = registry.issuers.iter().find(|i| i.issuer_id == issuer) else {
            return Err(ClientError::Protocol(format!(
                "the node knows no issuer {issuer}"
            )));
        };
        match entry.recent_roots.iter().position(|r| *r == root) {
            Some(i) => Ok(i == 0),
            None => Err(ClientError::Refused(format!(
                "the local leaf list gives issuer {issuer}'s registry the root {root}, which \
                     the node does not list among its roots of the last {} s; sync the leaf list \
                     again (if it still differs, the node is not serving the list the chain \
                     committed); nothing was sent",
                registry.root_window_secs
            ))),
        }
    }

    /// `POST /v1/credentials`.
    pub fn issue(&self, tx: &Transaction) -> Result<IssuedResponse, ClientError> {
        self.post("/v1/credentials", tx)
    }

    /// `POST /v1/credentials/{index}/revoke`.
    pub fn revoke(&self, index: u64, tx: &Transaction) -> Result<TxResponse, ClientError> {
        self.post(&format!("/v1/credentials/{index}/revoke"), tx)
    }

    /// `POST /v1/tokens/verify`.
    pub fn verify_token(&self, token: &Token) -> Result<VerifyResponse, ClientError> {
        self.post("/v1/tokens/verify", token)
    }

    /// `POST /v1/transactions` (with `?wait=true` when `wait`).
    pub fn submit(&self, tx: &Transaction, wait: bool) -> Result<TxResponse, ClientError> {
        self.post(&format!("/v1/transactions?wait={wait}"), tx)
    }

    /// `GET /v1/blocks/{height}`.
    pub fn block(&self, height: u64) -> Result<crate::ledger::Block, ClientError> {
        self.get(&format!("/v1/blocks/{height}"))
    }

    /// `GET /v1/transactions/{id}`.
    pub fn transaction(&self, id: &str) -> Result<TxResponse, ClientError> {
        self.get(&format!("/v1/transactions/{id}"))
    }

    /// A committed transaction, decoded: its height and the transaction. An unknown one is
    /// the node's `NotFound` problem; a pending or rejected one a `Pending` or `Rejected`
    /// problem.
    pub fn committed(&self, id: &str) -> Result<(u64, Transaction), ClientError> {
        let r = self.transaction(id)?;
        match (r.height, r.transaction) {
            (Some(h), Some(v)) => serde_json::from_value(v)
                .map(|tx| (h, tx))
                .map_err(|e| ClientError::Protocol(format!("transaction {id}: {e}"))),
            _ => {
                let (code, what) = match r.status {
                    crate::api::TxStatus::Rejected => ("Rejected", "rejected"),
                    _ => ("Pending", "pending"),
                };
                Err(ClientError::Problem {
                    status: 409,
                    code: code.into(),
                    detail: format!(
                        "transaction {id} is {what}{}",
                        r.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                    ),
                })
            }
        }
    }

    /// A committed transaction checked final against `genesis` (in its block, under the
    /// block's transaction root, the block signed by a quorum of the genesis validators), so
    /// that a node cannot pass off another transaction or an unfinalised one.
    pub fn final_tx(
        &self,
        genesis: &crate::ledger::Genesis,
        id: &crate::ledger::TxId,
    ) -> Result<(u64, Transaction), ClientError> {
        let (height, tx) = self.committed(&id.to_hex())?;
        if tx.id() != *id {
            return Err(ClientError::Refused(format!(
                "the node answered transaction {} for {id}",
                tx.id()
            )));
        }
        let block = self.block(height)?;
        crate::delivery::check_final(genesis, &block, &tx)
            .map_err(|e| ClientError::NotFinal(format!("transaction {id}: {e}")))?;
        Ok((height, tx))
    }

    /// The chain's genesis (block 0's transaction), as this node serves it.
    pub fn genesis(&self) -> Result<crate::ledger::Genesis, ClientError> {
        let block = self.block(0)?;
        let id = block
            .tx_ids
            .first()
            .ok_or_else(|| ClientError::Protocol("block 0 holds no transaction".into()))?;
        match self.committed(&id.to_hex())?.1.body {
            crate::ledger::Body::Genesis(g) => Ok(g),
            other => Err(ClientError::Protocol(format!(
                "block 0 holds a {} transaction, not the genesis",
                other.kind()
            ))),
        }
    }

    /// `GET /v1/streams/{id}`: the stream's state, or `None` if it was never shared.
    pub fn stream(&self, stream: &str) -> Result<Option<StreamResponse>, ClientError> {
        match self.get(&format!("/v1/streams/{stream}")) {
            Ok(s) => Ok(Some(s)),
            Err(ClientError::Problem { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/studies/{id}`.
    pub fn study(&self, id: &str) -> Result<crate::api::StudyResponse, ClientError> {
        self.get(&format!("/v1/studies/{id}"))
    }

    /// `GET /v1/streams/{id}/history`.
    pub fn history(&self, stream: &str) -> Result<HistoryResponse, ClientError> {
        self.get(&format!("/v1/streams/{stream}/history?limit=10000"))
    }
}
