//! The exit codes of windlass: the contract CI jobs and scripts rely on (cli.md, "Exit codes").
//!
//! Every process exit goes through [`ExitCode`]; no other module picks a number.

/// How a `windlass` process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExitCode {
    /// The command did what was asked: the cascade completed, `check` found no errors.
    Success = 0,
    /// The cascade ran and failed: a phase error, a blocking ward, a failed output schema, or it
    /// was cancelled.
    CascadeFailed = 1,
    /// Bad flags or arguments. clap exits with this code itself when parsing fails.
    Usage = 2,
    /// A cascade could not be loaded, or `check` found errors.
    InvalidCascade = 3,
    /// Setup error: missing API key, unreadable file, bad configuration, or a command this build
    /// does not provide yet.
    Setup = 4,
    /// The LLM provider failed after retries (unreachable, rejected key), or `--max-cost` was
    /// reached.
    Provider = 5,
    /// The store (ClickHouse or the local database) was unavailable and nothing could be saved.
    Store = 6,
    /// `--replay` met a model call its cassette has no recorded answer for (the cascade or its
    /// input changed since recording): re-record, or use `--replay-or-record`.
    CassetteMiss = 7,
    /// The session is blocked on a human or a signal and `--timeout` ran out; it can be resumed.
    /// 75 is `EX_TEMPFAIL` from sysexits.h: "try again later".
    Waiting = 75,
    /// Interrupted by Ctrl-C, SIGINT or SIGTERM after a checkpoint was written. 130 is the
    /// shell's convention for "killed by SIGINT" (128 + 2).
    Interrupted = 130,
}

impl ExitCode {
    /// Every exit code, in numeric order (for help text and documentation).
    pub const ALL: [ExitCode; 10] = [
        ExitCode::Success,
        ExitCode::CascadeFailed,
        ExitCode::Usage,
        ExitCode::InvalidCascade,
        ExitCode::Setup,
        ExitCode::Provider,
        ExitCode::Store,
        ExitCode::CassetteMiss,
        ExitCode::Waiting,
        ExitCode::Interrupted,
    ];

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// One line for `windlass --help` and the man page.
    pub fn meaning(self) -> &'static str {
        match self {
            ExitCode::Success => "the cascade completed (check: no errors)",
            ExitCode::CascadeFailed => "the cascade ran and failed, or was cancelled",
            ExitCode::Usage => "usage error (bad flags)",
            ExitCode::InvalidCascade => "invalid cascade (load or check errors)",
            ExitCode::Setup => "setup error (missing API key, unreadable file, bad configuration)",
            ExitCode::Provider => "LLM provider error after retries, or --max-cost reached",
            ExitCode::Store => "store error: nothing could be saved",
            ExitCode::CassetteMiss => "--replay: the cassette has no answer for a model call",
            ExitCode::Waiting => "waiting on a human or a signal when --timeout ran out; resumable",
            ExitCode::Interrupted => "interrupted; a checkpoint was written, resume to continue",
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_contract() {
        let numbers: Vec<u8> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4, 5, 6, 7, 75, 130]);
    }
}
