//! The store backends to run an end-to-end story on: the embedded DuckDB always, and
//! ClickHouse when `WINDLASS_TEST_CLICKHOUSE_URL` names a server (CI starts one and sets
//! `WINDLASS_TEST_REQUIRE_CLICKHOUSE=1`, so there it is never skipped). Each ClickHouse run
//! gets a database of its own.

/// (name, environment for the sandbox) per backend.
pub fn backends() -> Vec<(&'static str, Vec<(String, String)>)> {
    let mut out = vec![("duckdb", Vec::new())];
    match std::env::var("WINDLASS_TEST_CLICKHOUSE_URL") {
        Ok(url) if !url.is_empty() => {
            let rest = url.trim_start_matches("http://");
            let (host, port) = rest.trim_end_matches('/').split_once(':').unwrap_or((rest, "8123"));
            let db = format!("wl_test_{}_{}", std::process::id(), fastrand::u32(..));
            out.push((
                "clickhouse",
                vec![
                    ("WINDLASS_CLICKHOUSE_HOST".into(), host.into()),
                    ("WINDLASS_CLICKHOUSE_PORT".into(), port.into()),
                    ("WINDLASS_CLICKHOUSE_DATABASE".into(), db),
                ],
            ));
        }
        _ if std::env::var("WINDLASS_TEST_REQUIRE_CLICKHOUSE").as_deref() == Ok("1") => {
            panic!("WINDLASS_TEST_REQUIRE_CLICKHOUSE=1 but WINDLASS_TEST_CLICKHOUSE_URL is not set")
        }
        _ => eprintln!("note: WINDLASS_TEST_CLICKHOUSE_URL is not set; ClickHouse stories run in CI"),
    }
    out
}
