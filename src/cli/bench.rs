//! `consentry bench`: measure key loading, witness generation, proving, verifying, batch
//! verifying, Poseidon, registry insert (per depth) and end-to-end committed Access tx/s.
//!
//! The measurements live in [`crate::bench`]; this is the argument parsing and the output:
//! progress bar on stderr, table on stdout, JSON to `--json FILE`. With `--json -` the JSON
//! goes to stdout and the table to stderr, so the output can be piped to a program.

use std::path::PathBuf;

use anyhow::Context;

use super::args::parse_depth;
use super::ParamsArg;
use crate::bench::{self, progress::Progress, Config};

/// Arguments of `consentry bench`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Keys: a depth whose keys the parameter directory lists uses them (the \
shipped depth 20); other depths get the seeded INSECURE development keys, generated into a \
temporary directory first (setup time reported, not part of any figure). The end-to-end figure \
uses depth-4 tokens: node-side cost does not depend on the depth."
)]
pub struct BenchArgs {
    /// Registry depths to measure (even, 2..=32), repeated or comma-separated [default: 16,20,32].
    #[arg(long = "depth", value_name = "N", value_delimiter = ',', value_parser = parse_depth)]
    pub depths: Vec<usize>,
    /// Samples per figure (after one warm-up).
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = parse_at_least_one)]
    pub iterations: usize,
    /// Rayon threads (witness, FFTs, the prover's multi-scalar multiplications on its window
    /// tables, parallel proving) [default: all cores]. blst's batch pairings use blst's own
    /// pool, which always has one thread per core.
    #[arg(long, value_name = "T", value_parser = parse_at_least_one)]
    pub threads: Option<usize>,
    /// Also write the figures as JSON to FILE (`-` for stdout; the table then goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Access transactions for the end-to-end node figure.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = parse_at_least_one)]
    pub txs: usize,
    /// Skip the end-to-end node figure.
    #[arg(long)]
    pub skip_node: bool,
    /// Skip the whole-process figure (`cli_prove`: this binary's `prove` run as a separate
    /// process per sample).
    #[arg(long)]
    pub skip_cli: bool,
    /// Validators for the end-to-end node figure: 1 is the single validator; 3 is a
    /// consortium on Raft (in this process, each with its own RocksDB and ports), every
    /// validator verifying every token.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_at_least_one)]
    pub validators: usize,
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

fn parse_at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("not a number: {s:?}")),
    }
}

/// Runs `consentry bench`.
pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    if let Some(dir) = &a.params.params {
        anyhow::ensure!(
            dir.is_dir(),
            "--params {}: no such directory",
            dir.display()
        );
    }
    if let Some(path) = a.json.as_deref().filter(|p| p.as_os_str() != "-") {
        // Fail now rather than after a run of several minutes.
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent {
            anyhow::ensure!(
                parent.is_dir(),
                "--json {}: directory {} does not exist",
                path.display(),
                parent.display()
            );
        }
    }
    let cfg = Config {
        depths: if a.depths.is_empty() {
            bench::DEFAULT_DEPTHS.to_vec()
        } else {
            a.depths
        },
        iterations: a.iterations,
        params: crate::params::resolve_dir(a.params.params.as_deref()),
        node_txs: (!a.skip_node).then_some(a.txs),
        validators: a.validators,
        cli: if a.skip_cli {
            None
        } else {
            Some(std::env::current_exe().context("the path of this binary, for cli_prove")?)
        },
    }
    .validated()?;
    if let Some(t) = a.threads {
        bench::set_threads(t)?;
    }

    let progress = Progress::stderr(bench::planned_steps(&cfg));
    let report = bench::run(&cfg, &progress, bench::machine::command_line());
    progress.finish();
    let report = report?;

    let table = report.to_table();
    match a.json.as_deref() {
        Some(p) if p.as_os_str() == "-" => {
            eprint!("{table}");
            outln!("{}", report.to_json())?;
        }
        Some(path) => {
            super::output(format_args!("{table}"))?;
            std::fs::write(path, report.to_json() + "\n")
                .with_context(|| format!("writing {}", path.display()))?;
            errln!("JSON written to {}", path.display());
        }
        None => super::output(format_args!("{table}"))?,
    }
    Ok(())
}
