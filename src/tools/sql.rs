//! DuckDB tools: `sql_data` (the session database; results kept as table `_<phase>`),
//! `smart_sql_run` (any DuckDB file), `research_query` / `research_execute` (the cascade's
//! `research_db`). Each call opens a short-lived connection on a blocking thread.

use super::args;
use super::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Rows kept in a tool's structured result.
const MAX_ROWS: usize = 10_000;
/// Rows shown to the model as text.
const TEXT_ROWS: usize = 200;

/// Rows of a query as JSON objects (DuckDB's own `to_json`, so every type converts).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub rows: Vec<Value>,
    pub total: usize,
}

/// SQL functions the engine adds to every session-database connection (`windlass_udf`,
/// `windlass_cascade_udf`): they call back into the engine, which this module cannot see.
pub trait SqlFunctions: Send + Sync {
    fn register(&self, conn: &duckdb::Connection) -> Result<(), String>;
}

fn open(path: &Path) -> Result<duckdb::Connection, ToolError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| ToolError::Failed(format!("create the folder {}: {e}", parent.display())))?;
    }
    duckdb::Connection::open(path).map_err(|e| ToolError::Failed(format!("open the database {}: {e}", path.display())))
}

fn strip(query: &str) -> &str {
    query.trim().trim_end_matches(';').trim()
}

/// Read every row of `from` (a table name or a parenthesised query).
fn read_rows(conn: &duckdb::Connection, from: &str) -> Result<Rows, duckdb::Error> {
    let total: i64 = conn.query_row(&format!("SELECT count(*) FROM {from} AS _q"), [], |r| r.get(0))?;
    let mut stmt = conn.prepare(&format!("SELECT CAST(to_json(_q) AS VARCHAR) FROM {from} AS _q LIMIT {MAX_ROWS}"))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .filter_map(Result::ok)
        .map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text)))
        .collect();
    Ok(Rows { rows, total: total.max(0) as usize })
}

/// Run a query: a result set when it has one, else execute it as statements.
pub fn run_query(path: &Path, query: &str, materialize_as: Option<&str>) -> Result<Rows, ToolError> {
    run_query_with(path, query, materialize_as, None)
}

/// [`run_query`] with engine functions registered on the connection.
pub fn run_query_with(
    path: &Path,
    query: &str,
    materialize_as: Option<&str>,
    functions: Option<&dyn SqlFunctions>,
) -> Result<Rows, ToolError> {
    let conn = open(path)?;
    if let Some(f) = functions {
        f.register(&conn).map_err(|e| ToolError::Failed(format!("register SQL functions: {e}")))?;
    }
    let q = strip(query);
    if let Some(table) = materialize_as {
        let create = format!("CREATE OR REPLACE TABLE \"{}\" AS {q}", table.replace('"', "\"\""));
        if conn.execute_batch(&create).is_ok() {
            return read_rows(&conn, &format!("\"{}\"", table.replace('"', "\"\""))).map_err(sql_error);
        }
    } else if let Ok(rows) = read_rows(&conn, &format!("({q})")) {
        return Ok(rows);
    }
    conn.execute_batch(q).map_err(sql_error)?;
    Ok(Rows { rows: Vec::new(), total: 0 })
}

fn sql_error(e: duckdb::Error) -> ToolError {
    ToolError::Failed(format!("SQL error: {e}"))
}

fn output(rows: Rows, table: Option<&str>) -> ToolOutput {
    let shown: Vec<String> = rows.rows.iter().take(TEXT_ROWS).map(Value::to_string).collect();
    let mut text = if rows.rows.is_empty() && rows.total == 0 {
        "the statement ran; it returned no rows".to_string()
    } else {
        format!("[{}]", shown.join(",\n "))
    };
    if rows.total > shown.len() {
        text.push_str(&format!("\n({} rows in all; {} shown)", rows.total, shown.len()));
    }
    let mut value = json!({"rows": rows.rows, "row_count": rows.total});
    if let Some(t) = table {
        value["table"] = Value::String(t.to_string());
    }
    ToolOutput { text, value, effects: Vec::new() }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ToolError::Failed(format!("the database task stopped: {e}")))?
}

/// `sql_data(query, materialize=true)` on the session database.
pub struct SqlData;

#[async_trait]
impl Tool for SqlData {
    fn name(&self) -> &str {
        "sql_data"
    }
    fn description(&self) -> &str {
        "Run SQL on the session database (DuckDB); the result is kept as table _<phase> for later phases"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"query": {"type": "string"}, "materialize": {"type": "boolean"}}, "required": ["query"]})
    }
    async fn call(&self, a: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let query = args::text(&a, "sql_data", "query")?;
        let materialize = args::optional_text(&a, "materialize")
            .map(|m| crate::cascade::lax::parse_bool(&m).unwrap_or(true))
            .unwrap_or(true);
        let table = materialize.then(|| format!("_{}", ctx.phase));
        let path = ctx.session_db.clone();
        let t = table.clone();
        let functions = ctx.sql_functions.clone();
        let rows = blocking(move || run_query_with(&path, &query, t.as_deref(), functions.as_deref())).await?;
        Ok(output(rows, table.as_deref()))
    }
}

/// `smart_sql_run(query, db_path)`: any DuckDB file (default: the session database).
pub struct SmartSqlRun;

#[async_trait]
impl Tool for SmartSqlRun {
    fn name(&self) -> &str {
        "smart_sql_run"
    }
    fn description(&self) -> &str {
        "Run SQL on a DuckDB database: smart_sql_run(query, db_path); without db_path, the session database"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"query": {"type": "string"}, "db_path": {"type": "string"}}, "required": ["query"]})
    }
    async fn call(&self, a: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let query = args::text(&a, "smart_sql_run", "query")?;
        let path = match args::optional_text(&a, "db_path") {
            Some(p) => super::paths::resolve(ctx, &p)?,
            None => ctx.session_db.clone(),
        };
        let rows = blocking(move || run_query(&path, &query, None)).await?;
        Ok(output(rows, None))
    }
}

/// `research_query(query)` and `research_execute(sql)` on the cascade's research database.
pub struct Research {
    execute: bool,
}

impl Research {
    pub fn query() -> Self {
        Research { execute: false }
    }
    pub fn execute() -> Self {
        Research { execute: true }
    }
}

/// The research database file: `<data_dir>/research/<name>.duckdb`.
pub fn research_path(data_dir: &Path, name: &str) -> PathBuf {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    data_dir.join("research").join(format!("{safe}.duckdb"))
}

#[async_trait]
impl Tool for Research {
    fn name(&self) -> &str {
        if self.execute {
            "research_execute"
        } else {
            "research_query"
        }
    }
    fn description(&self) -> &str {
        if self.execute {
            "Change the cascade's research database (CREATE/INSERT/UPDATE/DELETE): research_execute(sql)"
        } else {
            "Query the cascade's research database (SELECT): research_query(query)"
        }
    }
    fn parameters(&self) -> Value {
        let key = if self.execute { "sql" } else { "query" };
        json!({"type": "object", "properties": {key: {"type": "string"}}, "required": [key]})
    }
    async fn call(&self, a: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let tool = self.name().to_string();
        let sql = args::optional_text(&a, if self.execute { "sql" } else { "query" })
            .or_else(|| args::optional_text(&a, "query"))
            .or_else(|| args::optional_text(&a, "sql"))
            .ok_or_else(|| ToolError::InvalidArguments(format!("{tool} needs the SQL to run")))?;
        let path = ctx.research_db.clone().ok_or_else(|| {
            ToolError::Failed(format!("{tool} needs `research_db: <name>` at the top of the cascade"))
        })?;
        let rows = blocking(move || run_query(&path, &sql, None)).await?;
        Ok(output(rows, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn materialises_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.duckdb");
        let rows = run_query(&db, "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(id, name);", Some("_first")).unwrap();
        assert_eq!(rows.total, 2);
        assert_eq!(rows.rows[0], json!({"id": 1, "name": "a"}));
        let rows = run_query(&db, "SELECT sum(id) AS s FROM _first", Some("_second")).unwrap();
        assert_eq!(rows.rows[0]["s"], json!(3));
        let rows = run_query(&db, "CREATE TABLE x (v INT); INSERT INTO x VALUES (7)", None).unwrap();
        assert_eq!(rows.total, 0);
        assert_eq!(run_query(&db, "SELECT v FROM x", None).unwrap().rows[0]["v"], json!(7));
        assert!(run_query(&db, "SELEC nonsense", None).is_err());
    }
}

/// One row's outcome of a `for_each_row` fan-out.
#[derive(Debug, Clone)]
pub struct RowResult {
    pub index: usize,
    pub status: String,
    pub output: String,
    /// JSON text of the child's state (or null).
    pub state: String,
    pub error: Option<String>,
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Keep `for_each_row` results as `result_table`: the source rows plus `status`, `output`,
/// `result_state` (JSON) and `error`.
pub fn write_row_results(
    path: &Path,
    source: &str,
    result_table: &str,
    results: &[RowResult],
) -> Result<(), ToolError> {
    let conn = open(path)?;
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE __windlass_rows (row_index BIGINT, status VARCHAR, output VARCHAR, result_state VARCHAR, error VARCHAR)",
    )
    .map_err(sql_error)?;
    {
        let mut app = conn.appender("__windlass_rows").map_err(sql_error)?;
        for r in results {
            app.append_row(duckdb::params![r.index as i64, r.status, r.output, r.state, r.error]).map_err(sql_error)?;
        }
    }
    let sql = format!(
        "CREATE OR REPLACE TABLE {out} AS SELECT t.* EXCLUDE (row_index), r.status, r.output, CAST(r.result_state AS JSON) AS result_state, r.error \
         FROM (SELECT *, row_number() OVER () - 1 AS row_index FROM {src}) t JOIN __windlass_rows r USING (row_index) ORDER BY r.row_index",
        out = quote_ident(result_table),
        src = quote_ident(source),
    );
    conn.execute_batch(&sql).map_err(sql_error)
}

/// Every row of a session table, as JSON objects.
pub fn table_rows(path: &Path, table: &str) -> Result<Vec<Value>, ToolError> {
    let conn = open(path)?;
    read_rows(&conn, &quote_ident(table)).map(|r| r.rows).map_err(sql_error)
}

/// Keep a JSON array of objects as a session table (LLM phases whose `output_schema`
/// output is a list of records, compat with the original's "LLM cells").
pub fn materialize_json(path: &Path, table: &str, rows: &Value) -> Result<(), ToolError> {
    let conn = open(path)?;
    let file = path.with_extension(format!("{}.json", table.trim_start_matches('_')));
    std::fs::write(&file, serde_json::to_vec(rows).unwrap_or_default())
        .map_err(|e| ToolError::Failed(format!("write {}: {e}", file.display())))?;
    let sql = format!(
        "CREATE OR REPLACE TABLE {} AS SELECT * FROM read_json_auto('{}')",
        quote_ident(table),
        file.display().to_string().replace('\'', "''")
    );
    let result = conn.execute_batch(&sql).map_err(sql_error);
    let _ = std::fs::remove_file(&file);
    result
}

/// The rows of those of `tables` that exist in the database at `path` (a missing file has
/// none; it is not created).
pub fn existing_tables(
    path: &Path,
    tables: &[String],
) -> Result<std::collections::HashMap<String, Vec<Value>>, ToolError> {
    let mut out = std::collections::HashMap::new();
    if tables.is_empty() || !path.is_file() {
        return Ok(out);
    }
    let conn = open(path)?;
    let mut stmt =
        conn.prepare("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").map_err(sql_error)?;
    let present: Vec<String> =
        stmt.query_map([], |r| r.get::<_, String>(0)).map_err(sql_error)?.filter_map(Result::ok).collect();
    for table in tables.iter().filter(|t| present.contains(t)) {
        out.insert(table.clone(), read_rows(&conn, &quote_ident(table)).map_err(sql_error)?.rows);
    }
    Ok(out)
}
