//! What a failed ClickHouse request means for the caller: retry later, set the data aside,
//! or report it. The log spool acts on this (store.md, "Delivery without loss or duplicates").

/// A failed request, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server could not be reached or did not answer in time, or answered that it is
    /// momentarily overloaded. The request may or may not have been applied: re-sending is
    /// the cure (rows carry deterministic ids, readers de-duplicate).
    Unreachable(String),
    /// A replicated table refused a quorum insert because the previous one has not reached
    /// its quorum yet (18.16 allows one at a time per table). Nothing was written: try again
    /// soon.
    Contended(String),
    /// The server could not parse or type-check the data. Re-sending the same rows fails
    /// the same way, so a spooled batch that fails like this is set aside.
    Poison(String),
    /// Any other answer from the server (bad credentials, missing table, bad SQL).
    Refused(String),
}

/// Server error codes meaning the data itself cannot be parsed or stored as typed.
const POISON_CODES: &[u32] = &[
    6,   // CANNOT_PARSE_TEXT
    16,  // NO_SUCH_COLUMN_IN_TABLE
    26,  // CANNOT_PARSE_QUOTED_STRING
    27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    32,  // ATTEMPT_TO_READ_AFTER_EOF
    33,  // CANNOT_READ_ALL_DATA
    38,  // CANNOT_PARSE_DATE
    41,  // CANNOT_PARSE_DATETIME
    53,  // TYPE_MISMATCH
    69,  // ARGUMENT_OUT_OF_BOUND
    70,  // CANNOT_CONVERT_TYPE
    72,  // CANNOT_PARSE_NUMBER
    117, // INCORRECT_DATA
    130, // CANNOT_READ_ARRAY_FROM_TEXT
    131, // TOO_LARGE_STRING_SIZE
];

/// Server error codes that go away by themselves: try again later.
const TRANSIENT_CODES: &[u32] = &[
    159, // TIMEOUT_EXCEEDED
    202, // TOO_MANY_SIMULTANEOUS_QUERIES
    209, // SOCKET_TIMEOUT
    210, // NETWORK_ERROR
    241, // MEMORY_LIMIT_EXCEEDED
    252, // TOO_MANY_PARTS (18.16's parts_to_throw_insert is 300)
    // Replication (WINDLASS_CLICKHOUSE_CLUSTER): a replica or ZooKeeper is away for now.
    225, // NO_ZOOKEEPER
    242, // TABLE_IS_READ_ONLY (the replica lost its ZooKeeper session)
    285, // TOO_FEW_LIVE_REPLICAS (for the insert quorum; nothing was written)
    289, // REPLICA_IS_NOT_IN_QUORUM (a consistent read on a replica that lags the quorum)
    319, // UNKNOWN_STATUS_OF_INSERT (the row may or may not have been written)
    999, // KEEPER_EXCEPTION
];

/// UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE: [`Failure::Contended`].
const CONTENDED_CODE: u32 = 286;

/// Classify an error of the `clickhouse` crate.
pub fn classify(err: &::clickhouse::error::Error) -> Failure {
    use ::clickhouse::error::Error as E;
    let detail = chain(err);
    match err {
        E::Network(_) | E::TimedOut | E::Other(_) => Failure::Unreachable(detail),
        E::BadResponse(body) => classify_response(body, detail),
        _ => Failure::Refused(detail),
    }
}

/// Classify the body of a failed HTTP answer. ClickHouse 18.16 sends no
/// `X-ClickHouse-Exception-Code` header, so the code is read from the text
/// (`Code: 27, e.displayText() = ...` on 18.16, `Code: 27. DB::Exception: ...` later).
fn classify_response(body: &str, detail: String) -> Failure {
    match exception_code(body) {
        Some(code) if POISON_CODES.contains(&code) => Failure::Poison(detail),
        Some(code) if TRANSIENT_CODES.contains(&code) => Failure::Unreachable(detail),
        Some(CONTENDED_CODE) => Failure::Contended(detail),
        Some(_) => Failure::Refused(detail),
        // No ClickHouse exception: an HTTP status from the server or a proxy in front of it.
        // 5xx (bad gateway, unavailable, gateway timeout) is a blink; the rest is a refusal.
        None if body.starts_with('5') => Failure::Unreachable(detail),
        None => Failure::Refused(detail),
    }
}

/// The ClickHouse exception code at the start of an error body.
pub fn exception_code(body: &str) -> Option<u32> {
    let rest = body.trim_start().strip_prefix("Code:")?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The error and its sources on one line: hyper's "client error (Connect)" alone does not
/// say that the connection was refused.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_of_old_and_new_servers() {
        assert_eq!(exception_code("Code: 27, e.displayText() = DB::Exception: Cannot parse"), Some(27));
        assert_eq!(exception_code("Code: 252. DB::Exception: Too many parts"), Some(252));
        assert_eq!(exception_code("500 Internal Server Error"), None);
    }

    #[test]
    fn sorts_server_answers() {
        let c = |body: &str| classify_response(body, body.to_string());
        assert!(matches!(c("Code: 27, e.displayText() = DB::Exception: Cannot parse input"), Failure::Poison(_)));
        assert!(matches!(c("Code: 16, e.displayText() = DB::Exception: No such column"), Failure::Poison(_)));
        assert!(matches!(c("Code: 252, e.displayText() = DB::Exception: Too many parts"), Failure::Unreachable(_)));
        assert!(matches!(c("Code: 60, e.displayText() = DB::Exception: Table x doesn't exist"), Failure::Refused(_)));
        assert!(matches!(c("503 Service Unavailable"), Failure::Unreachable(_)));
        assert!(matches!(
            c("Code: 286, e.displayText() = DB::Exception: Quorum for previous write"),
            Failure::Contended(_)
        ));
        assert!(matches!(
            c("Code: 285, e.displayText() = DB::Exception: Number of alive replicas"),
            Failure::Unreachable(_)
        ));
        assert!(matches!(
            c("Code: 289, e.displayText() = DB::Exception: Replica doesn't have part"),
            Failure::Unreachable(_)
        ));
        assert!(matches!(c("403 Forbidden"), Failure::Refused(_)));
    }
}
