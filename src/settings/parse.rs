//! Parsers for single setting values. Each returns the problem as text that reads after
//! `VAR=value (origin): `, saying what to write instead.

/// Lax booleans, because people write all of these in `.env` files.
pub fn bool_value(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected yes/no, on/off, true/false or 1/0".to_owned()),
    }
}

/// A ClickHouse HTTP port. The native protocol ports are refused with an explanation, because
/// "connection reset" from an HTTP client talking to port 9000 explains nothing.
pub fn clickhouse_port(text: &str) -> Result<u16, String> {
    let port: u16 =
        text.trim().parse().map_err(|_| "expected a port number from 1 to 65535 (ClickHouse's HTTP port is 8123)")?;
    match port {
        0 => Err("0 is not a port a server listens on; ClickHouse's HTTP port is 8123".to_owned()),
        9000 => Err("9000 is ClickHouse's native protocol port, but windlass talks to \
             ClickHouse over HTTP: set WINDLASS_CLICKHOUSE_PORT=8123 (ClickHouse's default HTTP \
             port) or to your server's http_port"
            .to_owned()),
        9440 => Err("9440 is ClickHouse's native protocol port with TLS, but windlass talks to \
             ClickHouse over HTTPS: set WINDLASS_CLICKHOUSE_PORT=8443 (ClickHouse's default \
             HTTPS port) or to your server's https_port"
            .to_owned()),
        port => Ok(port),
    }
}

/// A host name or IP address, not a URL: scheme and port have their own variables.
pub fn clickhouse_host(text: &str) -> Result<String, String> {
    let host = text.trim();
    if host.contains("://") {
        return Err("this is a URL, but only the host name goes here: put the port in \
                    WINDLASS_CLICKHOUSE_PORT and set WINDLASS_CLICKHOUSE_SECURE=true for https"
            .to_owned());
    }
    if host.contains(['/', ' ', '\t']) {
        return Err("expected a host name or IP address, like clickhouse.internal".to_owned());
    }
    Ok(host.to_owned())
}

/// A database name windlass can put into `CREATE DATABASE` without quoting surprises.
pub fn database_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("use letters, digits and underscores, starting with a letter, like windlass".to_owned());
    }
    Ok(name.to_owned())
}

/// A cluster name: it goes into the tables' ZooKeeper paths.
pub fn cluster_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("use letters, digits and underscores, like windlass".to_owned());
    }
    Ok(name.to_owned())
}

/// A whole number of at least 1.
pub fn positive_count(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(0) | Err(_) => Err("expected a whole number of at least 1".to_owned()),
        Ok(n) => Ok(n),
    }
}

/// The API token: long enough that guessing it over the network is hopeless. The problem text
/// never repeats the value (it is a secret).
pub fn api_token(text: String) -> Result<String, String> {
    let chars = text.chars().count();
    if chars < 16 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "use at least 16 characters without spaces (it has {chars}), e.g. the output of `openssl rand -hex 32`"
        ));
    }
    Ok(text)
}

/// `WINDLASS_LIMITS`: entries separated by `,`, each `PREFIX=N` (at most N requests in flight
/// for models whose name starts with `PREFIX`; `*` alone matches every model) or
/// `PREFIX=KEY:N;KEY:N` with the keys `concurrency`, `rpm` (requests per minute) and `tpm`
/// (tokens per minute), for example `openai/=concurrency:4;rpm:60;tpm:90000,*=16`.
pub fn model_limits(text: &str) -> Result<Vec<super::ModelLimit>, String> {
    let mut limits = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        let Some((prefix, spec)) = entry.split_once('=') else {
            return Err(format!(
                "expected PREFIX=N or PREFIX=rpm:N;tpm:N;concurrency:N (for example openai/=4), not `{entry}`"
            ));
        };
        let prefix = prefix.trim();
        let mut limit =
            super::ModelLimit { prefix: if prefix == "*" { "" } else { prefix }.to_owned(), ..Default::default() };
        if !spec.contains(':') {
            limit.max_concurrent = Some(positive_count(spec).map_err(|err| format!("`{entry}`: {err}"))?);
        }
        for part in spec.split(';').map(str::trim).filter(|p| p.contains(':')) {
            let (key, count) = part.split_once(':').unwrap_or_default();
            let count = Some(positive_count(count).map_err(|err| format!("`{entry}`: `{part}`: {err}"))?);
            match key.trim() {
                "concurrency" => limit.max_concurrent = count,
                "rpm" => limit.requests_per_minute = count,
                "tpm" => limit.tokens_per_minute = count,
                other => return Err(format!("`{entry}`: unknown limit `{other}` (expected concurrency, rpm or tpm)")),
            }
        }
        let parts = spec.split(';').map(str::trim).filter(|p| !p.is_empty());
        if spec.contains(':') && parts.clone().any(|p| !p.contains(':')) {
            return Err(format!(
                "`{entry}`: write every limit as KEY:N (concurrency:4;rpm:60), not a bare number among them"
            ));
        }
        limits.push(limit);
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_lax() {
        for yes in ["yes", "on", "true", "1", "TRUE", " Yes "] {
            assert_eq!(bool_value(yes), Ok(true), "{yes}");
        }
        for no in ["no", "off", "false", "0", "Off"] {
            assert_eq!(bool_value(no), Ok(false), "{no}");
        }
        assert!(bool_value("maybe").unwrap_err().contains("yes/no"));
        assert!(bool_value("2").is_err());
    }

    #[test]
    fn native_protocol_ports_are_explained() {
        let err = clickhouse_port("9000").unwrap_err();
        assert!(err.contains("native protocol") && err.contains("8123"), "{err}");
        let err = clickhouse_port("9440").unwrap_err();
        assert!(err.contains("native protocol") && err.contains("8443"), "{err}");
        assert_eq!(clickhouse_port("8123"), Ok(8123));
        assert!(clickhouse_port("http").is_err());
        assert!(clickhouse_port("70000").is_err());
    }

    #[test]
    fn hosts_are_names_not_urls() {
        assert_eq!(clickhouse_host(" ch.internal "), Ok("ch.internal".to_owned()));
        assert!(clickhouse_host("https://ch.internal:8443").unwrap_err().contains("WINDLASS_CLICKHOUSE_SECURE"));
    }

    #[test]
    fn database_names_are_plain_identifiers() {
        assert!(database_name("windlass_ci").is_ok());
        assert!(database_name("drop table; --").is_err());
        assert!(database_name("1db").is_err());
    }

    #[test]
    fn model_limits_read_prefixes_and_caps() {
        let limits = model_limits(" openai/=4, *=16 ,").unwrap();
        let cap = |prefix: &str, n| crate::settings::ModelLimit {
            prefix: prefix.into(),
            max_concurrent: Some(n),
            ..Default::default()
        };
        assert_eq!(limits[0], cap("openai/", 4));
        assert_eq!(limits[1], cap("", 16));
        assert!(model_limits("openai/").unwrap_err().contains("PREFIX=N"));
        assert!(model_limits("a=0").is_err());
    }

    #[test]
    fn model_limits_read_requests_and_tokens_per_minute() {
        let limits = model_limits("openai/=concurrency:4;rpm:60;tpm:90000,*=50").unwrap();
        let openai = crate::settings::ModelLimit {
            prefix: "openai/".into(),
            max_concurrent: Some(4),
            requests_per_minute: Some(60),
            tokens_per_minute: Some(90000),
        };
        assert_eq!(limits[0], openai);
        assert_eq!(limits[1].max_concurrent, Some(50));
        assert_eq!(limits[1].requests_per_minute, None);
        let rpm_only = &model_limits("x/=rpm:2").unwrap()[0];
        assert_eq!((rpm_only.max_concurrent, rpm_only.requests_per_minute), (None, Some(2)));
        assert!(model_limits("x/=rps:2").unwrap_err().contains("unknown limit `rps`"));
        assert!(model_limits("x/=rpm:0").unwrap_err().contains("rpm:0"));
        assert!(model_limits("x/=4;rpm:2").unwrap_err().contains("KEY:N"));
    }
}
