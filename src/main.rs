//! The `consentry` binary: parses the command line and reports errors as one line.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = consentry::cli::Cli::parse();
    match consentry::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader of our output went away (`consentry … | head`): end quietly, with the
        // status of a Unix tool killed by SIGPIPE.
        Err(e) if e.is::<consentry::cli::ClosedOutput>() => std::process::ExitCode::from(141),
        Err(e) => {
            consentry::cli::diagnostic(format_args!("error: {e:#}\n"));
            std::process::ExitCode::FAILURE
        }
    }
}
