//! openraft's network over [`PeerClient`]: vote, append and snapshot RPCs as authenticated
//! HTTP requests to the other validators' peer listeners.

use std::sync::Arc;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::client::{PeerClient, PeerError};
use crate::consensus::raft::{NodeId, TypeConfig};

/// Paths of the Raft RPCs on the peer listener.
pub mod paths {
    /// Vote.
    pub const VOTE: &str = "/raft/vote";
    /// Append entries (and heartbeats).
    pub const APPEND: &str = "/raft/append";
    /// One chunk of a snapshot.
    pub const SNAPSHOT: &str = "/raft/snapshot";
}

/// Makes one connection per target validator.
#[derive(Clone)]
pub struct Network {
    client: Arc<PeerClient>,
}

impl Network {
    /// The network of `client`.
    pub fn new(client: Arc<PeerClient>) -> Self {
        Network { client }
    }
}

/// The connection to one validator.
pub struct Connection {
    client: Arc<PeerClient>,
    target: NodeId,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failure(String);

impl Connection {
    async fn rpc<Req, Resp, E>(
        &self,
        path: &str,
        req: &Req,
        option: RPCOption,
    ) -> Result<Resp, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let answer: Result<Resp, RaftError<NodeId, E>> = self
            .client
            .call(self.target, path, req, option.hard_ttl())
            .await
            .map_err(|e| match e {
                PeerError::Unreachable(..) => {
                    RPCError::Unreachable(Unreachable::new(&Failure(e.to_string())))
                }
                other => RPCError::Network(NetworkError::new(&Failure(other.to_string()))),
            })?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, _node: &BasicNode) -> Connection {
        Connection {
            client: self.client.clone(),
            target,
        }
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.rpc(paths::APPEND, &rpc, option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.rpc(paths::SNAPSHOT, &rpc, option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.rpc(paths::VOTE, &rpc, option).await
    }
}
