//! `--format` of the commands that print data (`sessions`, `sessions show`, `logs`, `orphans`,
//! `cleanup`): text for people, or every field in full as one JSON document or one JSON object
//! per line. `sql` and `check` have format lists of their own; `sql` prints its JSON here too.

use crate::error::Error;
use clap::ValueEnum;
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DataFormat {
    /// Aligned text for people
    #[default]
    #[value(alias = "human")]
    Text,
    /// One JSON document (an array of records, or one record)
    Json,
    /// One JSON record per line
    Ndjson,
}

impl DataFormat {
    pub fn is_text(self) -> bool {
        self == DataFormat::Text
    }
}

/// Print `records` as `format` asks (not text): a JSON array, or one line each.
pub fn write_records(format: DataFormat, records: &[Value]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    let text = match format {
        DataFormat::Ndjson => records.iter().map(|r| format!("{r}\n")).collect::<String>(),
        DataFormat::Json | DataFormat::Text => {
            serde_json::to_string_pretty(records).map_err(|source| Error::Json { what: "the records", source })? + "\n"
        }
    };
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Error::Stdout)
}

/// Print one record: pretty JSON, or one line.
pub fn write_record(format: DataFormat, record: &Value) -> Result<(), Error> {
    let text = match format {
        DataFormat::Ndjson => format!("{record}\n"),
        _ => serde_json::to_string_pretty(record).map_err(|source| Error::Json { what: "the record", source })? + "\n",
    };
    std::io::stdout().lock().write_all(text.as_bytes()).map_err(Error::Stdout)
}
