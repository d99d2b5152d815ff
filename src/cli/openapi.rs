//! `consentry openapi`: the node's OpenAPI document without a node.
//!
//! The same document `GET /v1/openapi.json` serves, generated from the handlers' annotations:
//! `.ci/run` checks it with an outside validator (`openapi-spec-validator`), and client
//! generators can read it from a file.

use std::path::PathBuf;

use utoipa::OpenApi;

use crate::api::ApiDoc;
use crate::files;

/// Arguments of `consentry openapi`.
#[derive(clap::Args, Debug)]
pub struct OpenapiArgs {
    /// Write the document to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `consentry openapi`.
pub fn run(a: OpenapiArgs) -> anyhow::Result<()> {
    let json = ApiDoc::openapi().to_pretty_json()?;
    match &a.out {
        Some(path) => files::write_atomic(path, format!("{json}\n").as_bytes(), 0o644)?,
        None => outln!("{json}")?,
    }
    Ok(())
}
