//! `windlass sql`: run a read-only SQL query on the store.

use super::not_available::{not_available, planned};
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Args)]
pub struct SqlArgs {
    /// The query; the table names are the same on both backends (unified_logs, session_state,
    /// cascade_sessions, checkpoints, signals)
    #[arg(value_name = "QUERY")]
    pub query: String,

    /// How to print the rows
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: SqlFormat,
}

/// `--format` of `sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SqlFormat {
    /// An aligned table for people
    #[default]
    Table,
    /// One JSON array of row objects
    Json,
    /// CSV with a header row
    Csv,
}

impl SqlArgs {
    pub fn run(self, _ctx: &Context) -> Result<ExitCode, Error> {
        not_available("sql", planned::STORE)
    }
}
