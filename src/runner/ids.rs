//! Session ids: sortable by start time, unique without coordination.

use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A new session id like `s-lq3k9x2a-7f3k2m9q` (time in base 36, then 8 random characters).
pub fn new_session_id() -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let mut time = String::new();
    let mut n = millis;
    while n > 0 {
        time.insert(0, ALPHABET[(n % 36) as usize] as char);
        n /= 36;
    }
    let random: String = (0..8).map(|_| ALPHABET[fastrand::usize(..36)] as char).collect();
    format!("s-{time}-{random}")
}

/// Whether a user-supplied session id is safe for paths and queries:
/// letters, digits, `-` and `_`, 1 to 128 characters.
pub fn is_valid_session_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_and_unique() {
        let a = new_session_id();
        let b = new_session_id();
        assert!(is_valid_session_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(!is_valid_session_id("x'; DROP TABLE"));
        assert!(!is_valid_session_id(""));
        assert!(!is_valid_session_id(&"a".repeat(129)));
    }
}
