//! `consentry completions SHELL`: a completion script for bash, zsh, fish, elvish or
//! PowerShell, generated from the same command definitions the parser uses (clap_complete),
//! so it never drifts from the commands.
//!
//! ```sh
//! consentry completions bash > ~/.local/share/bash-completion/completions/consentry
//! consentry completions zsh > "${fpath[1]}/_consentry"
//! consentry completions fish > ~/.config/fish/completions/consentry.fish
//! ```

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `consentry completions`.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Runs `consentry completions`: the script to standard output.
pub fn run(a: CompletionsArgs) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(
        a.shell,
        &mut super::Cli::command(),
        "consentry",
        &mut script,
    );
    super::output(format_args!("{}", String::from_utf8_lossy(&script)))
}
