//! Prometheus metrics of a node.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The `reason` label of rejected transactions.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// The rejection code.
    pub reason: String,
}

/// Counters and histograms served at `/metrics`.
pub struct Metrics {
    registry: Registry,
    /// Transactions committed.
    pub tx_accepted: Counter,
    /// Transactions rejected, by reason (at admission or in a block).
    pub tx_rejected: Family<Reason, Counter>,
    /// Single-token verification latency (seconds).
    pub verify_seconds: Histogram,
    /// Block seal latency: execution, batch verification and the synced commit (seconds).
    pub commit_seconds: Histogram,
    /// Committed height.
    pub block_height: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("consentry");
        let tx_accepted = Counter::default();
        let tx_rejected = Family::<Reason, Counter>::default();
        let verify_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 12));
        let commit_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        let block_height = Gauge::default();
        registry.register("tx_accepted", "Transactions committed", tx_accepted.clone());
        registry.register(
            "tx_rejected",
            "Transactions rejected, by reason",
            tx_rejected.clone(),
        );
        registry.register(
            "verify_seconds",
            "Token verification latency",
            verify_seconds.clone(),
        );
        registry.register(
            "commit_seconds",
            "Block seal and commit latency",
            commit_seconds.clone(),
        );
        registry.register(
            "block_height",
            "Committed block height",
            block_height.clone(),
        );
        Metrics {
            registry,
            tx_accepted,
            tx_rejected,
            verify_seconds,
            commit_seconds,
            block_height,
        }
    }
}

impl Metrics {
    /// Counts a rejection.
    pub fn rejected(&self, code: &str) {
        self.tx_rejected
            .get_or_create(&Reason {
                reason: code.to_string(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}
