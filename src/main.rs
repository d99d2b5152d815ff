//! The `consentry` binary: parses the command line and reports errors as one line.

use clap::Parser;
use consentry::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Node(_)) {
        end_quietly_on_closed_output();
    }
    match consentry::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Restores the default action of SIGPIPE, so that a command whose output goes to a reader
/// that has gone away (`consentry … | head`) ends quietly, as Unix tools do. Rust ignores
/// SIGPIPE, which turns that case into a panic in `println!` after the work is done. The node
/// keeps Rust's setting: its sockets never raise SIGPIPE (the standard library sends with
/// `MSG_NOSIGNAL`), and a validator must not die because whoever read its log went away.
fn end_quietly_on_closed_output() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any other thread exists; `SIG_DFL` is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
