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
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

/// Runs the demo, printing to stdout.
pub fn run(a: DemoArgs) -> anyhow::Result<()> {
    let dir = params::resolve_dir(a.params.params.as_deref());
    crate::demo::run(a.data.as_deref(), &dir, &mut std::io::stdout())
}
