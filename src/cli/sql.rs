//! `windlass sql`: run a read-only SQL query on the store.

use super::data_format::{self, DataFormat};
use super::table;
use super::Context;
use crate::error::Error;
use crate::exit_code::ExitCode;
use crate::store::QueryResult;
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
    /// Tab-separated values with a header row; tabs, newlines and backslashes in a value are
    /// written \t, \n and \\
    Tsv,
    /// One JSON object per row, a line each
    Ndjson,
}

impl SqlArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let result = super::store_access::block_on(ctx, |store| {
            let q = self.query.clone();
            async move { store.query(&q).await }
        })?;
        let cells =
            || -> Vec<Vec<String>> { result.rows.iter().map(|r| r.iter().map(table::cell).collect()).collect() };
        let text = match self.format {
            SqlFormat::Table => table::render(&result.columns, &cells(), 80),
            SqlFormat::Csv => table::csv(&result.columns, &cells()),
            SqlFormat::Tsv => table::tsv(&result.columns, &cells()),
            SqlFormat::Json => return write_objects(DataFormat::Json, &result),
            SqlFormat::Ndjson => return write_objects(DataFormat::Ndjson, &result),
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).map_err(Error::Stdout)?;
        Ok(ExitCode::Success)
    }
}

/// The rows as objects of column name to value.
fn write_objects(format: DataFormat, result: &QueryResult) -> Result<ExitCode, Error> {
    let objects: Vec<Value> = result
        .rows
        .iter()
        .map(|r| Value::Object(result.columns.iter().cloned().zip(r.iter().cloned()).collect::<Map<_, _>>()))
        .collect();
    data_format::write_records(format, &objects)?;
    Ok(ExitCode::Success)
}
