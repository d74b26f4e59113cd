//! Options every subcommand takes: colour and how much goes to stderr.

use clap::{Args, ValueEnum};

/// Listed under their own heading so a subcommand's own options come first in its help.
const GLOBAL: &str = "Global options";

/// Options that apply to every command; they may be given before or after the subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// When to colour output: auto colours a terminal unless NO_COLOR is set
    #[arg(long, value_enum, value_name = "WHEN", default_value_t, global = true, help_heading = GLOBAL)]
    pub color: ColorChoice,

    /// Print nothing on stderr except errors: no progress, no summaries
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// Print plain timestamped lines on stderr instead of the live progress display
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_progress: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set
    #[default]
    Auto,
    /// Always colour, even into a pipe
    Always,
    /// Never colour
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream. `no_color_env` is whether `NO_COLOR` is set to something
    /// non-empty (no-color.org); an explicit `--color always` still wins over it.
    pub fn enabled(self, is_terminal: bool, no_color_env: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color_env,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_the_terminal_and_no_color() {
        assert!(ColorChoice::Auto.enabled(true, false));
        assert!(!ColorChoice::Auto.enabled(true, true));
        assert!(!ColorChoice::Auto.enabled(false, false));
        assert!(ColorChoice::Always.enabled(false, true));
        assert!(!ColorChoice::Never.enabled(true, false));
    }
}
