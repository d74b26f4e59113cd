//! `bash_data`: `inputs.script` in bash, the previous phase's table (or `input_table`) as CSV
//! on stdin, stdout read as `output_format` (csv, json, jsonl, auto) into table `_<phase>`.
//! `$SESSION_DB`, `$SESSION_DIR`, `$SESSION_ID` and `$PHASE_NAME` are set; with
//! `persist_session` (the default) variables, functions and the current folder carry over from
//! one bash_data phase of the session to the next.

use super::shape::columns_of;
use super::Workdir;
use crate::tools::subprocess;
use crate::tools::{args, sql, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct BashData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
    Jsonl,
}

#[async_trait]
impl Tool for BashData {
    fn name(&self) -> &str {
        "bash_data"
    }
    fn description(&self) -> &str {
        "Run a bash script over the previous phase's table (CSV on stdin); its stdout (csv, json or jsonl) becomes table _<phase>"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "script": {"type": "string"},
            "input_table": {"type": "string"},
            "output_format": {"type": "string", "enum": ["csv", "json", "jsonl", "auto"]},
            "timeout": {"type": "string"},
            "env": {"type": "object"},
            "persist_session": {"type": "boolean"}
        }, "required": ["script"]})
    }
    async fn call(&self, a: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let script = args::text(&a, "bash_data", "script")?;
        subprocess::require_allowed(ctx, "`bash_data`")?;
        let format = match args::optional_text(&a, "output_format").as_deref().map(str::trim) {
            None | Some("csv") => Some(Format::Csv),
            Some("json") => Some(Format::Json),
            Some("jsonl") | Some("ndjson") => Some(Format::Jsonl),
            Some("auto") => None,
            Some(other) => {
                return Err(ToolError::InvalidArguments(format!(
                    "bash_data: output_format `{other}` is not one of csv, json, jsonl, auto"
                )))
            }
        };
        let persist = args::optional_text(&a, "persist_session")
            .map(|p| crate::cascade::lax::parse_bool(&p).unwrap_or(true))
            .unwrap_or(true);
        let mut ctx = ctx.clone();
        if let Some(t) = args::optional_text(&a, "timeout") {
            ctx.subprocess_timeout = parse_timeout(&t).ok_or_else(|| {
                ToolError::InvalidArguments(format!("bash_data: timeout `{t}` is not like 30s, 5m or 1h"))
            })?;
        }
        let ctx = &ctx;

        let work = Workdir::create(ctx)?;
        let input = work.path("input.csv");
        let output = work.path("output.txt");
        let explicit = args::optional_text(&a, "input_table");
        let table = explicit.clone().or_else(|| ctx.previous.as_ref().map(|p| format!("_{p}")));
        let db = ctx.session_db.clone();
        let (csv_file, table_for_task, explicit_task) = (input.clone(), table.clone(), explicit.is_some());
        blocking(move || export_csv(&db, table_for_task.as_deref(), &csv_file, explicit_task)).await?;
        let script_file = work.write("script.sh", script.as_bytes())?;
        let wrapper = work.write("wrapper.sh", include_str!("runners/bash_wrapper.sh").as_bytes())?;
        let state = if persist { state_file(ctx) } else { PathBuf::new() };

        let mut command = tokio::process::Command::new("bash");
        command.arg(&wrapper).arg(&state).arg(&script_file).arg(&input).arg(&output);
        if let Some(Value::Object(vars)) = a.get("env") {
            for (k, v) in vars {
                command.env(k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
            }
        }
        command
            .env("SESSION_DB", &ctx.session_db)
            .env("SESSION_DIR", &ctx.scratch_dir)
            .env("SESSION_ID", &ctx.session_id)
            .env("PHASE_NAME", &ctx.phase)
            .env("CELL_NAME", &ctx.phase);
        let captured = subprocess::run(command, "bash", "bash_data", ctx).await?;
        let stderr = String::from_utf8_lossy(&captured.output).trim().to_string();
        if !captured.status.success() {
            let status = match captured.status.code() {
                Some(code) => format!("exited with {code}"),
                None => "was killed by a signal".into(),
            };
            return Err(ToolError::Failed(format!("bash_data: the script {status}: {}", super::tail(&stderr))));
        }
        let text = std::fs::read_to_string(&output).unwrap_or_default();
        let format = format.unwrap_or_else(|| detect(&text));
        let db = ctx.session_db.clone();
        let target = format!("_{}", ctx.phase);
        let rows = if text.trim().is_empty() {
            Vec::new()
        } else {
            blocking(move || load(&db, &target, &output, format)).await?
        };
        drop(work);
        let mut value =
            json!({"rows": rows, "columns": columns_of(&rows), "row_count": rows.len(), "type": "dataframe"});
        if !stderr.is_empty() {
            value["stderr"] = Value::String(stderr);
        }
        Ok(ToolOutput { text: serde_json::to_string(&value).unwrap_or_default(), value, effects: Vec::new() })
    }
}

/// The file that carries a session's bash variables and functions between phases.
fn state_file(ctx: &ToolContext) -> PathBuf {
    ctx.scratch_dir.join(".windlass-data").join("bash-session.sh")
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ToolError::Failed(format!("the database task stopped: {e}")))?
}

fn literal(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The input table as CSV with a header (an empty file without one).
fn export_csv(db: &Path, table: Option<&str>, file: &Path, explicit: bool) -> Result<(), ToolError> {
    let write_empty =
        || std::fs::write(file, b"").map_err(|e| ToolError::Failed(format!("write {}: {e}", file.display())));
    let Some(table) = table else { return write_empty() };
    if sql::existing_tables(db, &[table.to_string()])?.is_empty() {
        if explicit {
            return Err(ToolError::Failed(format!("bash_data: input_table `{table}` is not in the session database")));
        }
        return write_empty();
    }
    let copy = format!("COPY (SELECT * FROM {}) TO {} (HEADER, DELIMITER ',')", quote_ident(table), literal(file));
    sql::run_query(db, &copy, None).map(|_| ())
}

/// Read the script's output into `table` and return its rows.
fn load(db: &Path, table: &str, file: &Path, format: Format) -> Result<Vec<Value>, ToolError> {
    let source = match format {
        Format::Csv => format!("read_csv_auto({})", literal(file)),
        Format::Json => format!("read_json_auto({})", literal(file)),
        Format::Jsonl => format!("read_json_auto({}, format = 'newline_delimited')", literal(file)),
    };
    let name = match format {
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Jsonl => "jsonl",
    };
    sql::run_query(db, &format!("SELECT * FROM {source}"), Some(table))
        .map(|rows| rows.rows)
        .map_err(|e| ToolError::Failed(format!("bash_data: the output is not {name} (set output_format): {e}")))
}

/// `auto`: JSON when the whole output parses, JSON lines when every line is an object, else CSV.
fn detect(text: &str) -> Format {
    let t = text.trim();
    if (t.starts_with('[') || t.starts_with('{')) && serde_json::from_str::<Value>(t).is_ok() {
        return Format::Json;
    }
    let mut lines = t.lines().map(str::trim).filter(|l| !l.is_empty()).peekable();
    if lines.peek().is_some() && lines.all(|l| l.starts_with('{') && serde_json::from_str::<Value>(l).is_ok()) {
        return Format::Jsonl;
    }
    Format::Csv
}

/// `30s`, `5m`, `1h`, or plain seconds.
fn parse_timeout(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => (&t[..at], &t[at..]),
        None => (t, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let secs = match unit.trim() {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return None,
    };
    Some(Duration::from_secs(secs.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_timeouts() {
        assert_eq!(detect("a,b\n1,2\n"), Format::Csv);
        assert_eq!(detect("[{\"a\": 1}]"), Format::Json);
        assert_eq!(detect("{\"a\": 1}\n{\"a\": 2}\n"), Format::Jsonl);
        assert_eq!(parse_timeout("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_timeout("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_timeout("soon"), None);
    }
}
