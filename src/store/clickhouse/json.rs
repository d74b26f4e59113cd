//! Turning a `FORMAT JSONCompact` answer into a [`QueryResult`] (`windlass sql`).

use serde::Deserialize;
use serde_json::Value;

use crate::store::QueryResult;

#[derive(Deserialize)]
struct JsonCompact {
    meta: Vec<Column>,
    #[serde(default)]
    data: Vec<Vec<Value>>,
}

#[derive(Deserialize)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

/// Parse the body of a `JSONCompact` answer.
pub fn parse_json_compact(body: &[u8]) -> Result<QueryResult, serde_json::Error> {
    let parsed: JsonCompact = serde_json::from_slice(body)?;
    let wide: Vec<bool> = parsed.meta.iter().map(|c| is_quoted_integer(&c.kind)).collect();
    let rows = parsed
        .data
        .into_iter()
        .map(|row| row.into_iter().zip(&wide).map(|(v, &wide)| if wide { unquote_integer(v) } else { v }).collect())
        .collect();
    Ok(QueryResult { columns: parsed.meta.into_iter().map(|c| c.name).collect(), rows })
}

/// ClickHouse quotes 64-bit integers in JSON (`output_format_json_quote_64bit_integers`, on
/// by default) so JavaScript does not round them. serde_json holds them exactly, and the
/// DuckDB backend returns numbers, so both backends answer alike. The setting itself cannot
/// be changed here: the query runs with `readonly=1`.
fn is_quoted_integer(kind: &str) -> bool {
    let inner = kind.strip_prefix("Nullable(").and_then(|k| k.strip_suffix(')')).unwrap_or(kind);
    matches!(inner, "UInt64" | "Int64")
}

fn unquote_integer(value: Value) -> Value {
    let Value::String(text) = &value else { return value };
    if let Ok(n) = text.parse::<u64>() {
        Value::from(n)
    } else if let Ok(n) = text.parse::<i64>() {
        Value::from(n)
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_columns_and_unquotes_64_bit_integers() {
        let body = br#"{"meta":[{"name":"n","type":"UInt64"},{"name":"i","type":"Nullable(Int64)"},
            {"name":"s","type":"String"},{"name":"f","type":"Float64"}],
            "data":[["18446744073709551615","-5","7",1.5],[null,null,"x",0]],"rows":2}"#;
        let result = parse_json_compact(body).unwrap();
        assert_eq!(result.columns, ["n", "i", "s", "f"]);
        assert_eq!(result.rows[0], vec![json!(18446744073709551615u64), json!(-5), json!("7"), json!(1.5)]);
        assert_eq!(result.rows[1], vec![Value::Null, Value::Null, json!("x"), json!(0)]);
    }
}
