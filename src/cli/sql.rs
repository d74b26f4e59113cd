//! `windlass sql`: run a read-only SQL query on the store.

use super::table;
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::{Args, ValueEnum};
use serde_json::{Map, Value};
use std::io::Write;

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
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let result = super::store_access::block_on(ctx, |store| {
            let q = self.query.clone();
            async move { store.query(&q).await }
        })?;
        let mut out = std::io::stdout().lock();
        let text = match self.format {
            SqlFormat::Table => {
                let rows: Vec<Vec<String>> = result.rows.iter().map(|r| r.iter().map(table::cell).collect()).collect();
                table::render(&result.columns, &rows, 80)
            }
            SqlFormat::Csv => {
                let rows: Vec<Vec<String>> = result.rows.iter().map(|r| r.iter().map(table::cell).collect()).collect();
                table::csv(&result.columns, &rows)
            }
            SqlFormat::Json => {
                let objects: Vec<Value> = result
                    .rows
                    .iter()
                    .map(|r| {
                        Value::Object(result.columns.iter().cloned().zip(r.iter().cloned()).collect::<Map<_, _>>())
                    })
                    .collect();
                let mut s = serde_json::to_string_pretty(&objects)
                    .map_err(|source| Error::Json { what: "the rows", source })?;
                s.push('\n');
                s
            }
        };
        out.write_all(text.as_bytes()).map_err(Error::Stdout)?;
        Ok(ExitCode::Success)
    }
}
