//! A data phase's result, kept: a table becomes `_<phase>` in the session database and the
//! output `{rows, columns, row_count, type: "dataframe"}`; anything else is `{result, type}`
//! (`dict`, `list`, `scalar`), and a dict also keeps `_<phase>` of its scalars and
//! `_<phase>_<key>` of each nested list of objects (or nested object), as the original does.

use crate::tools::sql;
use crate::tools::{ToolContext, ToolError, ToolOutput};
use serde_json::{json, Map, Value};

/// What the code produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Produced {
    /// A data frame (its columns in order, even when it has no rows).
    Table {
        columns: Vec<String>,
        rows: Vec<Value>,
    },
    Value(Value),
}

impl Produced {
    /// A runner's result file: `{kind: "table", columns, rows}` or `{kind: "value", value}`.
    pub fn from_runner(mut v: Value) -> Produced {
        if v.get("kind").and_then(Value::as_str) == Some("table") {
            let columns = match v.get("columns") {
                Some(Value::Array(c)) => {
                    c.iter().map(|c| c.as_str().map(str::to_string).unwrap_or(c.to_string())).collect()
                }
                _ => Vec::new(),
            };
            let rows = match v.get_mut("rows").map(Value::take) {
                Some(Value::Array(rows)) => rows,
                _ => Vec::new(),
            };
            return Produced::Table { columns, rows };
        }
        Produced::Value(v.get_mut("value").map(Value::take).unwrap_or(Value::Null))
    }

    /// A plain value, a list of objects read as a table.
    pub fn from_value(v: Value) -> Produced {
        match v {
            Value::Array(rows) if !rows.is_empty() && rows.iter().all(Value::is_object) => {
                Produced::Table { columns: columns_of(&rows), rows }
            }
            other => Produced::Value(other),
        }
    }
}

/// The keys of the rows, in first-seen order.
pub fn columns_of(rows: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in rows {
        if let Value::Object(m) = row {
            for k in m.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
    }
    out
}

/// Keep the result in the session database and shape the phase's output.
pub async fn keep(produced: Produced, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
    let produced = match produced {
        Produced::Value(v) => Produced::from_value(v),
        table => table,
    };
    let base = format!("_{}", ctx.phase);
    let mut tables: Vec<(String, Value)> = Vec::new();
    let value = match produced {
        Produced::Table { columns, rows } => {
            if !rows.is_empty() {
                tables.push((base, Value::Array(rows.clone())));
            }
            json!({"rows": rows, "columns": columns, "row_count": rows.len(), "type": "dataframe"})
        }
        Produced::Value(Value::Object(m)) => {
            let mut scalars = Map::new();
            for (k, v) in &m {
                match v {
                    Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
                        tables.push((format!("{base}_{k}"), v.clone()));
                    }
                    Value::Object(_) => tables.push((format!("{base}_{k}"), Value::Array(vec![v.clone()]))),
                    Value::Array(_) => {}
                    scalar => {
                        scalars.insert(k.clone(), scalar.clone());
                    }
                }
            }
            if !scalars.is_empty() {
                tables.push((base, Value::Array(vec![Value::Object(scalars)])));
            }
            json!({"result": Value::Object(m), "type": "dict"})
        }
        Produced::Value(v @ Value::Array(_)) => json!({"result": v, "type": "list"}),
        Produced::Value(v) => json!({"result": v, "type": "scalar"}),
    };
    if !tables.is_empty() {
        let db = ctx.session_db.clone();
        tokio::task::spawn_blocking(move || {
            tables.iter().try_for_each(|(table, rows)| sql::materialize_json(&db, table, rows))
        })
        .await
        .map_err(|e| ToolError::Failed(format!("the database task stopped: {e}")))??;
    }
    let text = serde_json::to_string(&value).unwrap_or_default();
    Ok(ToolOutput { text, value, effects: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_objects_are_tables() {
        let p = Produced::from_value(json!([{"a": 1}, {"b": 2, "a": 3}]));
        assert_eq!(
            p,
            Produced::Table {
                columns: vec!["a".into(), "b".into()],
                rows: vec![json!({"a": 1}), json!({"b": 2, "a": 3})]
            }
        );
        assert_eq!(Produced::from_value(json!([1, 2])), Produced::Value(json!([1, 2])));
        assert_eq!(Produced::from_value(json!([])), Produced::Value(json!([])));
    }

    #[tokio::test]
    async fn a_dict_keeps_its_scalars_and_nested_lists() {
        let (ctx, _dir) = crate::tools::testing::context(true);
        let out =
            keep(Produced::Value(json!({"n": 2, "items": [{"x": 1}, {"x": 2}], "tags": ["a"]})), &ctx).await.unwrap();
        assert_eq!(out.value["type"], "dict");
        assert_eq!(out.value["result"]["n"], 2);
        assert_eq!(sql::table_rows(&ctx.session_db, "_p").unwrap(), vec![json!({"n": 2})]);
        assert_eq!(sql::table_rows(&ctx.session_db, "_p_items").unwrap().len(), 2);
    }
}
