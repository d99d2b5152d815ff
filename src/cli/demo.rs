//! `consentry demo`.

use std::path::PathBuf;

use super::ParamsArg;
use crate::params;

/// Arguments of `consentry demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Keep the node's data here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Validators: 1 runs an embedded node; 3 (or more) run validator processes of this
    /// binary on Raft, kill the leader with SIGKILL half-way, restart it and check it caught
    /// up to identical blocks.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=7))]
    pub validators: u64,
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

/// Runs the demo, printing to stdout.
pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let dir = params::resolve_dir(a.params.params.as_deref());
    crate::demo::run(
        a.data.as_deref(),
        &dir,
        a.validators as usize,
        &mut std::io::stdout(),
    )
}
