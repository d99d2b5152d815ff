//! The bench report: its JSON form (for machines) and its table (for people).
//!
//! JSON schema, version 7 (a report script parses these names; only add fields). Version 2
//! added the `prepare` and `prove_arkworks` figures (version 1 had the nine others), version
//! 3 `prove_repeat`, version 4 the depth-independent `cohort` figures (`cohort_prove_k`,
//! `cohort_verify_k` for k = 1, 2, 4 criteria at 32 bits; not shown below), version 5 the
//! escrow variant's `prove_escrow` and `verify_escrow` with, per depth, `escrow_constraints`
//! and `escrow_setup_s`, version 6 `registry_insert_block` (one block's appends rehashed
//! together; `per_token_us` is per leaf), version 7 `machine.poseidon_backend` (`avx512-ifma`
//! or `portable`: the `poseidon` and `registry_*` figures depend on it):
//!
//! ```json
//! {"version":3,"date":"2026-11-27T10:00:00Z","machine":{"cpu":"AMD EPYC ...","cores":2},
//!  "threads":2,"iterations":10,"command":"consentry bench",
//!  "depths":[{"depth":20,"constraints":3914,"keys":"params","setup_s":null,
//!    "figures":[{"name":"prove","min_us":1.0,"median_us":2.0,"p95_us":3.0,
//!                "per_second":500.0,"calls_per_sample":1}, ...]}],
//!  "node":{"depth":4,"transactions":256,"committed_tx_per_s":1100.0,"committed_s":0.23,
//!          "clients":16}}
//! ```
//!
//! Beyond the agreed names: `command`; per depth `keys` (`"params"` or `"generated"`) and
//! `setup_s` (the one-off key generation, excluded from `key_load`); per figure
//! `calls_per_sample` and, on `batch_verify_N`, `per_token_us`; on `node`, `committed_s` and
//! `clients`. `node` is `null` with `--skip-node`. Every depth lists every figure;
//! `poseidon` is depth-independent, measured once and repeated in each depth's list.
//!
//! `per_second` is always `1e6 / median_us`, the rate of the figure's unit: one call, or one
//! whole batch for `batch_verify_N` (tokens per second there is `1e6 / per_token_us`).

use std::fmt::Write;

use serde::{Deserialize, Serialize};

/// Current schema version.
pub const VERSION: u32 = 7;

/// Every figure name of a depth, in report order (`cli_prove` only when the run was given the
/// consentry binary, as `consentry bench` is).
pub const FIGURE_NAMES: [&str; 16] = [
    "key_load",
    "prepare",
    "witness",
    "prove",
    "cli_prove",
    "prove_repeat",
    "prove_arkworks",
    "prove_escrow",
    "verify",
    "verify_escrow",
    "batch_verify_16",
    "batch_verify_64",
    "batch_verify_256",
    "poseidon",
    "registry_insert",
    "registry_insert_block",
];

/// Figures that do not depend on the depth (shown once in the table).
const DEPTH_INDEPENDENT: [&str; 1] = ["poseidon"];

/// A whole bench run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Schema version ([`VERSION`]).
    pub version: u32,
    /// When the run started, RFC 3339 UTC.
    pub date: String,
    /// Where it ran.
    pub machine: Machine,
    /// Rayon threads (arkworks' parallelism).
    pub threads: usize,
    /// Samples per figure.
    pub iterations: usize,
    /// At most this many samples of `prepare` (seconds each).
    #[serde(default)]
    pub prepare_samples: usize,
    /// Batches are made of this many distinct valid tokens, repeated.
    #[serde(default)]
    pub distinct_tokens: usize,
    /// The command line.
    pub command: String,
    /// Per-depth figures, ascending depth.
    pub depths: Vec<DepthReport>,
    /// Cohort proof figures (Bulletproofs; depth-independent).
    #[serde(default)]
    pub cohort: Vec<Figure>,
    /// The end-to-end node figure, unless skipped.
    pub node: Option<NodeReport>,
}

/// The machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// How native Poseidon runs on this CPU ([`crate::circuits::poseidon::backend`]).
    #[serde(default)]
    pub poseidon_backend: String,
}

/// One registry depth's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthReport {
    /// Registry depth.
    pub depth: usize,
    /// R1CS constraints of the access circuit at this depth.
    pub constraints: usize,
    /// `"params"` (from the parameter directory) or `"generated"` (seeded dev setup).
    pub keys: String,
    /// Seconds the key generation took, for generated keys (not part of any figure).
    pub setup_s: Option<f64>,
    /// R1CS constraints of the escrow variant ([`super::escrow`]).
    #[serde(default)]
    pub escrow_constraints: Option<usize>,
    /// Seconds the escrow keys' generation took (they are always generated for now).
    #[serde(default)]
    pub escrow_setup_s: Option<f64>,
    /// The figures, in [`FIGURE_NAMES`] order.
    pub figures: Vec<Figure>,
}

/// One figure: per-call (or per-batch) statistics over the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// One of [`FIGURE_NAMES`].
    pub name: String,
    /// Fastest sample, µs.
    pub min_us: f64,
    /// Median sample, µs.
    pub median_us: f64,
    /// Nearest-rank 95th percentile, µs.
    pub p95_us: f64,
    /// `1e6 / median_us`.
    pub per_second: f64,
    /// For batch figures: median per token (per leaf for `registry_insert_block`), µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_token_us: Option<f64>,
    /// Calls timed together in each sample (fast operations run in loops).
    pub calls_per_sample: usize,
}

/// Committed Access transactions per second through HTTP on an embedded node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    /// Registry depth of the submitted tokens.
    pub depth: usize,
    /// Transactions submitted (all committed).
    pub transactions: usize,
    /// `transactions / committed_s`.
    pub committed_tx_per_s: f64,
    /// Seconds from the first submission until the last transaction was committed.
    pub committed_s: f64,
    /// Concurrent HTTP clients.
    pub clients: usize,
    /// Validators (1: the single-validator sequencer; more: a consortium on Raft, each
    /// verifying every token, all in one process on this machine).
    #[serde(default = "one")]
    pub validators: usize,
}

fn one() -> usize {
    1
}

/// A duration in µs with a human unit: µs, ms or s.
pub fn human_time(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A rate: thousands separated at 100 and above, two decimals below.
pub fn human_rate(per_second: f64) -> String {
    if !per_second.is_finite() {
        return "-".into();
    }
    if per_second < 100.0 {
        return format!("{per_second:.2}");
    }
    let digits = format!("{:.0}", per_second);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    /// The JSON document (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    /// The human-readable report: context lines, the table, notes.
    pub fn to_table(&self) -> String {
        let mut rows: Vec<[String; 6]> = vec![];
        let row = |depth: String, f: &Figure| {
            let rate = match f.per_token_us {
                Some(t) => format!(
                    "{} ({} {})",
                    human_rate(f.per_second),
                    human_rate(1e6 / t),
                    if f.name.starts_with("registry") {
                        "leaves"
                    } else {
                        "tokens"
                    }
                ),
                None => human_rate(f.per_second),
            };
            [
                depth,
                f.name.clone(),
                human_time(f.min_us),
                human_time(f.median_us),
                human_time(f.p95_us),
                rate,
            ]
        };
        for d in &self.depths {
            for f in &d.figures {
                if !DEPTH_INDEPENDENT.contains(&f.name.as_str()) {
                    rows.push(row(d.depth.to_string(), f));
                }
            }
        }
        if let Some(d) = self.depths.first() {
            for f in d.figures.iter() {
                if DEPTH_INDEPENDENT.contains(&f.name.as_str()) {
                    rows.push(row("any".into(), f));
                }
            }
        }
        for f in &self.cohort {
            rows.push(row("-".into(), f));
        }
        if let Some(n) = &self.node {
            rows.push([
                n.depth.to_string(),
                "node: committed Access tx".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                human_rate(n.committed_tx_per_s),
            ]);
        }

        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "consentry bench, {}", self.date);
        let _ = writeln!(w, "command:    {}", self.command);
        let _ = writeln!(
            w,
            "machine:    {} ({} logical cores), {} rayon threads, Poseidon {}",
            self.machine.cpu, self.machine.cores, self.threads, self.machine.poseidon_backend
        );
        let _ = writeln!(
            w,
            "samples:    {} per figure (after one warm-up); fast operations timed in loops",
            self.iterations
        );
        for d in &self.depths {
            let keys = match d.setup_s {
                Some(s) => format!("keys generated with the dev seed (setup {s:.1} s, not timed)"),
                None => "keys from the parameter directory".into(),
            };
            let _ = writeln!(
                w,
                "depth {:>2}:   {} constraints, {keys}",
                d.depth,
                human_rate(d.constraints as f64)
            );
            if let (Some(c), Some(s)) = (d.escrow_constraints, d.escrow_setup_s) {
                let _ = writeln!(
                    w,
                    "            escrow variant: {} constraints, keys for a random inspector \
                     (setup {s:.1} s, not timed)",
                    human_rate(c as f64)
                );
            }
        }
        let _ = writeln!(w);

        let header = ["depth", "figure", "min", "median", "p95", "per second"];
        let mut width = header.map(|h| h.chars().count());
        for r in &rows {
            for (w, cell) in width.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String; 6]| -> String {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
                let pad = w - cell.chars().count();
                if i > 0 {
                    s.push_str(" | ");
                }
                // Text left-aligned, numbers right-aligned.
                if i == 1 {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                } else {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(w, "{}", line(&header.map(String::from)));
        let _ = writeln!(
            w,
            "{}",
            width
                .iter()
                .map(|n| "-".repeat(*n))
                .collect::<Vec<_>>()
                .join("-+-")
        );
        for r in &rows {
            let _ = writeln!(w, "{}", line(r));
        }
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "per second is 1/median: calls per second, batches per second for batch_verify_N \
             (tokens per second in brackets)."
        );
        let _ = writeln!(
            w,
            "key_load: read, SHA-256 check against the manifest, deserialise the proving key \
             (uncompressed and validated when written, or compressed with every point \
             validated); key generation is not included. prepare: constraint matrices and window tables \
             of a long-lived prover, at most {} samples.",
            self.prepare_samples
        );
        let _ = writeln!(
            w,
            "witness: native statement check and full assignment (part of prove). Batches repeat \
             {} distinct valid tokens.",
            self.distinct_tokens
        );
        let _ = writeln!(
            w,
            "prove: a fresh proof. prove_repeat: the same holder and root with a new scope and \
             message each call, through a warm ProofCache (the same proofs)."
        );
        let _ = writeln!(
            w,
            "prove_escrow: a fresh escrow of the institution's id to an inspector and the escrow \
             variant's proof, with the same prover; verify_escrow: its verification, with the same \
             verifier as verify (not batched)."
        );
        let has_cli = self
            .depths
            .iter()
            .any(|d| d.figures.iter().any(|f| f.name == "cli_prove"));
        if has_cli {
            let _ = writeln!(
                w,
                "cli_prove: `consentry prove` as a separate process, spawn to exit (leaf list, \
                 key load, matrices, a fresh proof without window tables, token written and \
                 verified by the bench)."
            );
        }
        if !self.cohort.is_empty() {
            let _ = writeln!(
                w,
                "cohort_prove_k: a platform commits to k values and proves them in k 32-bit \
                 ranges (one aggregated Bulletproofs range proof); cohort_verify_k: a validator \
                 verifies it."
            );
        }
        if let Some(n) = &self.node {
            let _ = writeln!(
                w,
                "node: {} Access transactions (depth-{} tokens, proven beforehand) submitted by {} \
                 HTTP clients to {} embedded validator(s) on 127.0.0.1 with RocksDB, all \
                 committed in {:.2} s.",
                n.transactions, n.depth, n.clients, n.validators, n.committed_s
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(name: &str, median_us: f64) -> Figure {
        Figure {
            name: name.into(),
            min_us: median_us / 2.0,
            median_us,
            p95_us: median_us * 2.0,
            per_second: 1e6 / median_us,
            per_token_us: name
                .strip_prefix("batch_verify_")
                .map(|n| median_us / n.parse::<f64>().unwrap()),
            calls_per_sample: 1,
        }
    }

    fn sample() -> Report {
        Report {
            version: VERSION,
            date: "2026-11-27T10:00:00Z".into(),
            machine: Machine {
                cpu: "AMD EPYC 7B13".into(),
                cores: 2,
                poseidon_backend: "portable".into(),
            },
            threads: 2,
            iterations: 10,
            prepare_samples: 3,
            distinct_tokens: 16,
            command: "consentry bench".into(),
            depths: vec![DepthReport {
                depth: 20,
                constraints: 3914,
                keys: "params".into(),
                setup_s: None,
                escrow_constraints: Some(5337),
                escrow_setup_s: Some(0.5),
                figures: FIGURE_NAMES.iter().map(|n| figure(n, 2000.0)).collect(),
            }],
            cohort: vec![figure("cohort_verify_4", 2800.0)],
            node: Some(NodeReport {
                depth: 4,
                transactions: 256,
                committed_tx_per_s: 1100.0,
                committed_s: 0.23,
                clients: 16,
                validators: 1,
            }),
        }
    }

    #[test]
    fn json_has_the_agreed_shape() {
        let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(v["version"], 7);
        assert_eq!(v["date"], "2026-11-27T10:00:00Z");
        assert_eq!(v["machine"]["cpu"], "AMD EPYC 7B13");
        assert_eq!(v["machine"]["cores"], 2);
        assert_eq!(v["machine"]["poseidon_backend"], "portable");
        assert_eq!(v["threads"], 2);
        assert_eq!(v["iterations"], 10);
        let d = &v["depths"][0];
        assert_eq!(d["depth"], 20);
        assert_eq!(d["constraints"], 3914);
        let names: Vec<&str> = d["figures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, FIGURE_NAMES);
        let by_name = |name: &str| {
            d["figures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap()
                .clone()
        };
        let prove = by_name("prove");
        for key in ["min_us", "median_us", "p95_us", "per_second"] {
            assert!(prove[key].is_f64(), "{key}");
        }
        assert!(prove.get("per_token_us").is_none());
        assert_eq!(by_name("batch_verify_64")["per_token_us"], 2000.0 / 64.0);
        assert_eq!(v["node"]["depth"], 4);
        assert_eq!(v["node"]["transactions"], 256);
        assert_eq!(v["node"]["committed_tx_per_s"], 1100.0);

        let back: Report = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(back, sample());
        let mut skipped = sample();
        skipped.node = None;
        let v: serde_json::Value = serde_json::from_str(&skipped.to_json()).unwrap();
        assert!(v["node"].is_null());
    }

    #[test]
    fn table_lists_every_figure_with_units() {
        let t = sample().to_table();
        for name in FIGURE_NAMES {
            assert!(t.contains(name), "{name}\n{t}");
        }
        assert!(t.contains("depth | figure"));
        assert!(t.contains("2.00 ms"));
        assert!(t.contains("AMD EPYC 7B13 (2 logical cores), 2 rayon threads"));
        assert!(t.contains("3,914 constraints"));
        assert!(t.contains("1,100"));
        assert!(t.contains("500 (32,000 tokens)"));
        assert!(t.contains("depth-4 tokens"));
        assert!(t.contains("through a warm ProofCache"));
    }

    #[test]
    fn human_units() {
        assert_eq!(human_time(16.04), "16.0 µs");
        assert_eq!(human_time(2_100.0), "2.10 ms");
        assert_eq!(human_time(2_700_000.0), "2.70 s");
        assert_eq!(human_rate(1.5), "1.50");
        assert_eq!(human_rate(100.0), "100");
        assert_eq!(human_rate(62_500.4), "62,500");
        assert_eq!(human_rate(1_234_567.0), "1,234,567");
        assert_eq!(human_rate(f64::INFINITY), "-");
    }
}
