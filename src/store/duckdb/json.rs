//! Results of user queries on the embedded store as JSON values, read by type: columns keep
//! their order and names (duplicates included), and statements that cannot be wrapped in a
//! subquery (SHOW, DESCRIBE, EXPLAIN) work too.

use crate::store::QueryResult;
use ::duckdb::arrow::datatypes::DataType;
use ::duckdb::types::{TimeUnit, Value};
use ::duckdb::Connection;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta};
use serde_json::{Map, Number, Value as Json};

/// Run one statement and collect every row.
pub fn run_query(conn: &Connection, sql: &str) -> ::duckdb::Result<QueryResult> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let Some(executed) = rows.as_ref() else { return Ok(QueryResult::default()) };
    let columns = executed.column_names();
    // The driver panics on types it cannot convert (a column of bare NULLs): those columns
    // are answered here instead of read.
    let stand_ins: Vec<Option<Json>> = (0..columns.len())
        .map(|i| {
            let ty = executed.column_type(i);
            match ty {
                DataType::Null => Some(Json::Null),
                _ if readable(&ty) => None,
                _ => Some(Json::String(format!("<{ty}>"))),
            }
        })
        .collect();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, stand_in) in stand_ins.iter().enumerate() {
            values.push(match stand_in {
                Some(v) => v.clone(),
                None => to_json(row.get::<_, Value>(i)?),
            });
        }
        out.push(values);
    }
    Ok(QueryResult { columns, rows: out })
}

/// Whether the driver converts values of this (Arrow) type; mirrors `Row::get_ref`.
fn readable(ty: &DataType) -> bool {
    match ty {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::Map(f, _) => {
            readable(f.data_type())
        }
        DataType::Struct(fields) => fields.iter().all(|f| readable(f.data_type())),
        DataType::Union(fields, _) => fields.iter().all(|(_, f)| readable(f.data_type())),
        DataType::Dictionary(key, _) => matches!(**key, DataType::UInt8 | DataType::UInt16 | DataType::UInt32),
        _ => matches!(
            ty,
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Binary
                | DataType::LargeBinary
                | DataType::FixedSizeBinary(_)
                | DataType::Boolean
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
                | DataType::UInt64
                | DataType::Float16
                | DataType::Float32
                | DataType::Float64
                | DataType::Decimal32(..)
                | DataType::Decimal64(..)
                | DataType::Decimal128(..)
                | DataType::Date32
                | DataType::Date64
                | DataType::Time32(_)
                | DataType::Time64(_)
                | DataType::Timestamp(..)
                | DataType::Interval(_)
        ),
    }
}

/// One DuckDB value as JSON: numbers stay numbers where JSON can hold them exactly, times
/// are written as DuckDB prints them, nested values nest.
pub fn to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::TinyInt(i) => i.into(),
        Value::SmallInt(i) => i.into(),
        Value::Int(i) => i.into(),
        Value::BigInt(i) => i.into(),
        Value::UTinyInt(i) => i.into(),
        Value::USmallInt(i) => i.into(),
        Value::UInt(i) => i.into(),
        Value::UBigInt(i) => i.into(),
        Value::HugeInt(i) => i64::try_from(i)
            .map(Json::from)
            .or_else(|_| u64::try_from(i).map(Json::from))
            .unwrap_or_else(|_| Json::String(i.to_string())),
        Value::UHugeInt(i) => u64::try_from(i).map(Json::from).unwrap_or_else(|_| Json::String(i.to_string())),
        Value::Float(f) => float(f64::from(f)),
        Value::Double(f) => float(f),
        Value::Decimal(d) => {
            let text = d.to_string();
            text.parse::<f64>().ok().and_then(Number::from_f64).map(Json::Number).unwrap_or(Json::String(text))
        }
        Value::Timestamp(unit, t) => Json::String(timestamp(to_micros(unit, t))),
        Value::Date32(days) => Json::String(date(i64::from(days))),
        Value::Time64(unit, t) => Json::String(time_of_day(to_micros(unit, t))),
        Value::Interval { months, days, nanos } => {
            serde_json::json!({"months": months, "days": days, "nanos": nanos})
        }
        Value::Text(s) | Value::Enum(s) => Json::String(s),
        Value::Blob(b) | Value::Geometry(b) => Json::String(b.iter().map(|x| format!("{x:02x}")).collect()),
        Value::List(items) | Value::Array(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Value::Struct(fields) => {
            Json::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v.clone()))).collect::<Map<_, _>>())
        }
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match to_json(k.clone()) {
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_json(v.clone()))
                })
                .collect(),
        ),
        Value::Union(inner) => to_json(*inner),
        // A type added in a later DuckDB: its debug form beats failing the whole query.
        other => Json::String(format!("{other:?}")),
    }
}

fn float(f: f64) -> Json {
    Number::from_f64(f).map(Json::Number).unwrap_or_else(|| Json::String(f.to_string()))
}

fn to_micros(unit: TimeUnit, t: i64) -> i64 {
    match unit {
        TimeUnit::Second => t.saturating_mul(1_000_000),
        TimeUnit::Millisecond => t.saturating_mul(1_000),
        TimeUnit::Microsecond => t,
        TimeUnit::Nanosecond => t / 1_000,
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC.
fn timestamp(micros: i64) -> String {
    match DateTime::from_timestamp_micros(micros) {
        Some(t) => {
            t.format(if micros % 1_000_000 == 0 { "%Y-%m-%d %H:%M:%S" } else { "%Y-%m-%d %H:%M:%S%.6f" }).to_string()
        }
        // Past chrono's range (about 262,000 years), such as DuckDB's `infinity`.
        None => micros.to_string(),
    }
}

/// `HH:MM:SS[.ffffff]` of microseconds since midnight.
fn time_of_day(micros: i64) -> String {
    let time = u32::try_from(micros.div_euclid(1_000_000)).ok().and_then(|secs| {
        let nanos = u32::try_from(micros.rem_euclid(1_000_000) * 1_000).ok()?;
        NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
    });
    match time {
        Some(t) => t.format(if micros % 1_000_000 == 0 { "%H:%M:%S" } else { "%H:%M:%S%.6f" }).to_string(),
        // DuckDB allows `24:00:00`, which chrono does not.
        None if micros == 86_400_000_000 => "24:00:00".to_string(),
        None => micros.to_string(),
    }
}

/// The calendar date of a day number (days since 1970-01-01), proleptic Gregorian.
fn date(days: i64) -> String {
    let date = i32::try_from(days)
        .ok()
        .and_then(|d| NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(TimeDelta::try_days(d.into())?));
    match date {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        // Past chrono's range (about 262,000 years), such as DuckDB's `infinity`.
        None => days.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_print_as_duckdb_does() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(19_723), "2024-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(timestamp(1_709_210_096_500_000), "2024-02-29 12:34:56.500000");
        assert_eq!(time_of_day(3_723_000_000), "01:02:03");
        assert_eq!(time_of_day(3_723_000_250), "01:02:03.000250");
        assert_eq!(timestamp(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(date(11_016), "2000-02-29");
        assert_eq!(date(47_541), "2100-03-01");
    }

    #[test]
    fn numbers_stay_numbers() {
        assert_eq!(to_json(Value::HugeInt(42)), Json::from(42));
        assert_eq!(to_json(Value::HugeInt(i128::MAX)), Json::String(i128::MAX.to_string()));
        assert_eq!(to_json(Value::Double(f64::NAN)), Json::String("NaN".into()));
        assert_eq!(to_json(Value::UBigInt(u64::MAX)), Json::from(u64::MAX));
    }
}
