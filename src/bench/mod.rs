//! `consentry bench`: one run measuring the figures that matter for Consentry's performance, at
//! several registry depths, with a progress bar, a table and a JSON report.
//!
//! - [`stats`]: min, median, p95 and rate of a figure's samples.
//! - [`sampler`]: the timing loop (warm-up, calibration of calls per sample).
//! - [`keys`]: which keys each depth uses (the parameter directory's, or seeded dev keys).
//! - [`zk`]: per-depth proof figures, registry insert, native Poseidon.
//! - [`cohort`]: Bulletproofs cohort answers, proven and verified (depth-independent).
//! - [`node`]: committed Access transactions per second on an embedded node.
//! - [`report`]: the JSON schema and the table.
//! - [`machine`]: CPU, cores, UTC date, command line.
//! - [`progress`]: the indicatif progress bar.
//!
//! Depths run in ascending order; the depth-independent figures (Poseidon) once before them,
//! the end-to-end node figure after them. Nothing here sets the rayon pool: the caller does
//! ([`set_threads`]), before anything touches rayon.

use std::path::PathBuf;

use consentry_circuits::groth::{ParamsError, ProveError};
use consentry_circuits::registry::{levels, RegistryError, MAX_DEPTH};

pub mod cli;
pub mod cohort;
pub mod escrow;
pub mod keys;
pub mod machine;
pub mod node;
pub mod progress;
pub mod report;
pub mod sampler;
pub mod stats;
pub mod zk;

use keys::KeySource;
use progress::Progress;
use report::{DepthReport, Machine, NodeReport, Report};

/// Depths measured when none is given: the shipped depth and one on either side.
pub const DEFAULT_DEPTHS: [usize; 3] = [16, 20, 32];

/// Why a bench run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A depth outside what the registry supports.
    #[error("depth {0} is not a registry depth: it must be even and between 2 and {MAX_DEPTH}")]
    BadDepth(usize),
    /// No depth to measure.
    #[error("no depth to measure")]
    NoDepths,
    /// Zero samples per figure.
    #[error("iterations must be at least 1 (each figure needs a sample)")]
    NoIterations,
    /// Zero transactions for the node figure.
    #[error("--txs must be at least 1 for the end-to-end figure (or use --skip-node)")]
    NoTransactions,
    /// Zero threads.
    #[error("threads must be at least 1")]
    NoThreads,
    /// The rayon pool could not be set.
    #[error("cannot set up {threads} rayon threads: {reason}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// What rayon said.
        reason: String,
    },
    /// A depth's keys could not be found, generated or loaded.
    #[error("keys for depth {depth}: {cause}")]
    Params {
        /// The depth.
        depth: usize,
        /// What went wrong.
        cause: ParamsError,
    },
    /// A token could not be made.
    #[error("proving at depth {depth}: {cause}")]
    Prove {
        /// The depth.
        depth: usize,
        /// What went wrong.
        cause: ProveError,
    },
    /// A token made by the bench did not verify (a broken key pair or verifier).
    #[error("depth {depth}: a token made by the bench did not verify: {reason}")]
    Invalid {
        /// The depth.
        depth: usize,
        /// The verifier's reason.
        reason: String,
    },
    /// The registry tree refused an operation.
    #[error("registry: {0}")]
    Registry(RegistryError),
    /// A figure had no samples.
    #[error(transparent)]
    Stats(#[from] stats::StatsError),
    /// A scratch directory could not be made.
    #[error("scratch directory: {0}")]
    Scratch(std::io::Error),
    /// The end-to-end node run failed.
    #[error("end-to-end node run: {0:#}")]
    Node(anyhow::Error),
    /// The whole-process `consentry prove` run failed.
    #[error("cli_prove: {0}")]
    Cli(String),
}

// Messages carry their cause's text (the CLI prints one line), so no variant also exposes it
// as `source()`, which would print it twice.
impl From<RegistryError> for BenchError {
    fn from(e: RegistryError) -> Self {
        BenchError::Registry(e)
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Config {
    /// Registry depths (even, 2..=32), measured in ascending order.
    pub depths: Vec<usize>,
    /// Samples per figure.
    pub iterations: usize,
    /// Parameter directory to take keys from when it has them.
    pub params: PathBuf,
    /// Transactions for the end-to-end figure; `None` skips it.
    pub node_txs: Option<usize>,
    /// Validators for the end-to-end figure.
    pub validators: usize,
    /// The `consentry` binary whose `prove` the whole-process `cli_prove` figure times (the
    /// running one, for `consentry bench`); `None` skips the figure.
    pub cli: Option<PathBuf>,
}

impl Config {
    /// Checks the arguments, naming the first bad one; sorts and deduplicates the depths.
    pub fn validated(mut self) -> Result<Config, BenchError> {
        if self.depths.is_empty() {
            return Err(BenchError::NoDepths);
        }
        if let Some(&d) = self.depths.iter().find(|d| levels(**d).is_err()) {
            return Err(BenchError::BadDepth(d));
        }
        if self.iterations == 0 {
            return Err(BenchError::NoIterations);
        }
        if self.node_txs == Some(0) {
            return Err(BenchError::NoTransactions);
        }
        self.depths.sort_unstable();
        self.depths.dedup();
        Ok(self)
    }
}

/// Sets the size of rayon's global pool (arkworks' parallelism). Call once, before any
/// parallel work.
pub fn set_threads(threads: usize) -> Result<(), BenchError> {
    if threads == 0 {
        return Err(BenchError::NoThreads);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| BenchError::Threads {
            threads,
            reason: e.to_string(),
        })
}

/// Progress steps a run of `cfg` takes, for the bar's length.
pub fn planned_steps(cfg: &Config) -> u64 {
    let runs = cfg.iterations as u64 + 1;
    let prepare_runs = cfg.iterations.min(zk::PREPARE_SAMPLES) as u64 + 1;
    let per_depth = zk::DEPTH_FIXED_STEPS
        + zk::DEPTH_FIGURES * runs
        + prepare_runs
        + zk::pool_top_up(cfg.iterations) as u64;
    let cli = if cfg.cli.is_some() { runs } else { 0 };
    let per_depth = per_depth + escrow::FIXED_STEPS + escrow::FIGURES * runs;
    let node = cfg.node_txs.map_or(0, |n| 2 * n as u64 + node::FIXED_STEPS);
    runs + cohort::FIGURES as u64 * runs + (per_depth + cli) * cfg.depths.len() as u64 + node
}

/// Runs every measurement of `cfg` (validate it first) and returns the report.
pub fn run(cfg: &Config, progress: &Progress, command: String) -> Result<Report, BenchError> {
    let date = machine::utc_now();
    let scratch = tempfile::tempdir().map_err(BenchError::Scratch)?;
    let poseidon = zk::poseidon(cfg.iterations, progress)?;
    let cohort = cohort::figures(cfg.iterations, progress)?;

    let mut depths = vec![];
    for &depth in &cfg.depths {
        progress.phase(format!("depth {depth}: keys"));
        let keys = keys::obtain(&cfg.params, depth, scratch.path())?;
        progress.tick();
        let measured = zk::depth(depth, &keys.dir, cfg.iterations, progress)?;
        let (mut figures, world) = (measured.figures, measured.world);
        if let Some(exe) = &cfg.cli {
            let (verifier, _) = crate::params::load_verifier(&keys.dir, depth)
                .map_err(|cause| BenchError::Params { depth, cause })?;
            let at = figures
                .iter()
                .position(|f| f.name == "prove")
                .map_or(figures.len(), |i| i + 1);
            let figure = cli::prove(exe, &world, &keys.dir, &verifier, cfg.iterations, progress)?;
            figures.insert(at, figure);
        }
        let escrowed = escrow::figures(&world, cfg.iterations, progress)?;
        for (figure, after) in escrowed
            .figures
            .into_iter()
            .zip(["prove_arkworks", "verify"])
        {
            let at = figures
                .iter()
                .position(|f| f.name == after)
                .map_or(figures.len(), |i| i + 1);
            figures.insert(at, figure);
        }
        let at = figures
            .iter()
            .position(|f| f.name == "registry_insert")
            .unwrap_or(figures.len());
        figures.insert(at, poseidon.clone());
        let (keys, setup_s) = match keys.source {
            KeySource::Params(_) => ("params", None),
            KeySource::Generated { setup } => ("generated", Some(setup.as_secs_f64())),
        };
        depths.push(DepthReport {
            depth,
            constraints: measured.constraints,
            keys: keys.into(),
            setup_s,
            escrow_constraints: Some(escrowed.constraints),
            escrow_setup_s: Some(escrowed.setup_s),
            figures,
        });
    }

    let node = match cfg.node_txs {
        None => None,
        Some(n) => {
            let t = node::run(n, cfg.validators, progress).map_err(BenchError::Node)?;
            Some(NodeReport {
                depth: node::NODE_DEPTH,
                transactions: t.transactions,
                committed_tx_per_s: t.committed_tx_per_s(),
                committed_s: t.committed.as_secs_f64(),
                clients: node::CLIENTS,
                validators: cfg.validators,
            })
        }
    };

    Ok(Report {
        version: report::VERSION,
        date,
        machine: Machine {
            cpu: machine::cpu_model(),
            cores: machine::cores(),
            poseidon_backend: crate::circuits::poseidon::backend().to_string(),
        },
        threads: rayon::current_num_threads(),
        iterations: cfg.iterations,
        prepare_samples: zk::PREPARE_SAMPLES,
        distinct_tokens: zk::DISTINCT_TOKENS,
        command,
        depths,
        cohort,
        node,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(depths: Vec<usize>, iterations: usize, node_txs: Option<usize>) -> Config {
        Config {
            depths,
            iterations,
            params: crate::params::resolve_dir(None),
            node_txs,
            validators: 1,
            cli: None,
        }
    }

    #[test]
    fn bad_arguments_are_named() {
        let msg = |c: Config| c.validated().unwrap_err().to_string();
        assert!(msg(cfg(vec![0], 1, None)).contains("depth 0 is not a registry depth"));
        assert!(msg(cfg(vec![20, 34], 1, None)).contains("depth 34 is not a registry depth"));
        assert!(msg(cfg(vec![20, 21], 1, None)).contains("must be even"));
        assert!(msg(cfg(vec![], 1, None)).contains("no depth"));
        assert!(msg(cfg(vec![4], 0, None)).contains("iterations must be at least 1"));
        assert!(msg(cfg(vec![4], 1, Some(0))).contains("--txs"));
        let ok = cfg(vec![32, 16, 20, 16], 1, None).validated().unwrap();
        assert_eq!(ok.depths, vec![16, 20, 32]);
        assert!(matches!(set_threads(0), Err(BenchError::NoThreads)));
    }

    /// A small run without the node: every figure, sane values, and the bar's plan matches.
    #[test]
    fn a_small_run_measures_every_figure() {
        let c = cfg(vec![4, 2], 2, None).validated().unwrap();
        let progress = Progress::hidden(planned_steps(&c));
        let r = run(&c, &progress, "test".into()).unwrap();
        assert_eq!(Some(progress.position()), progress.length());
        assert_eq!(r.depths.iter().map(|d| d.depth).collect::<Vec<_>>(), [2, 4]);
        for d in &r.depths {
            assert_eq!(d.keys, "generated");
            assert!(d.constraints > 0);
            let names: Vec<&str> = d.figures.iter().map(|f| f.name.as_str()).collect();
            // `cli_prove` needs the consentry binary (tests/cli.rs runs it through the CLI).
            let expected: Vec<&str> = report::FIGURE_NAMES
                .into_iter()
                .filter(|n| *n != "cli_prove")
                .collect();
            assert_eq!(names, expected);
            for f in &d.figures {
                assert!(f.min_us > 0.0 && f.min_us <= f.median_us && f.median_us <= f.p95_us);
                assert!(f.per_second > 0.0, "{f:?}");
            }
        }
        assert!(r.depths[0].constraints < r.depths[1].constraints);
        let cohort: Vec<&str> = r.cohort.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            cohort,
            [
                "cohort_prove_1",
                "cohort_verify_1",
                "cohort_prove_2",
                "cohort_verify_2",
                "cohort_prove_4",
                "cohort_verify_4"
            ]
        );
        assert!(r.cohort.iter().all(|f| f.median_us > 0.0));
        assert!(r.node.is_none());
    }
}
