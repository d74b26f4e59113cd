//! `windlass completions`: print a shell completion script.

use super::generated;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::Args;
use clap_complete::Shell;
use std::io::Write;

#[derive(Debug, Clone, Args)]
#[command(after_help = "Example: windlass completions bash > ~/.local/share/bash-completion/completions/windlass")]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

impl CompletionsArgs {
    /// Needs no settings: completions must work even where the configuration is broken.
    pub fn run(self) -> Result<ExitCode, Error> {
        let script = generated::completion_script(self.shell);
        std::io::stdout().lock().write_all(&script).map_err(Error::Stdout)?;
        Ok(ExitCode::Success)
    }
}
