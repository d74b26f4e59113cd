//! [`SessionId`]: the id of a session, everywhere in the crate (store rows and the `Store`
//! trait, sessions, the host, the command line). A leaf: it imports nothing from the crate.

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

/// A session id. Stored as text (`#[serde(transparent)]`, the `session_id` column); it derefs
/// to `str` for formatting and comparisons. [`FromStr`] checks the shape of an id a person
/// typed (not empty, no spaces or control characters); whether the session exists is the
/// store's question. [`SessionId::new`] takes an id as it is (made by the engine, read from
/// the store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    pub fn new(id: impl Into<String>) -> SessionId {
        SessionId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for SessionId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("a session id cannot be empty".to_owned());
        }
        if text.len() > 128 {
            return Err("a session id is at most 128 characters".to_owned());
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("a session id has no spaces or control characters".to_owned());
        }
        Ok(SessionId(text.to_owned()))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Deref for SessionId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SessionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// Maps keyed by id can be looked up with a `&str`.
impl Borrow<str> for SessionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<String> for SessionId {
    fn from(id: String) -> SessionId {
        SessionId(id)
    }
}

impl From<&str> for SessionId {
    fn from(id: &str) -> SessionId {
        SessionId(id.to_owned())
    }
}

impl From<&SessionId> for SessionId {
    fn from(id: &SessionId) -> SessionId {
        id.clone()
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> String {
        id.0
    }
}

impl PartialEq<str> for SessionId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SessionId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for SessionId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<SessionId> for str {
    fn eq(&self, other: &SessionId) -> bool {
        self == other.0
    }
}

impl PartialEq<SessionId> for &str {
    fn eq(&self, other: &SessionId) -> bool {
        *self == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::SessionId;

    #[test]
    fn typed_ids_are_checked_for_shape() {
        assert_eq!("run-1".parse::<SessionId>().unwrap(), "run-1");
        for bad in ["", "a b", "tab\there", &"x".repeat(129)] {
            assert!(bad.parse::<SessionId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stored_as_plain_text() {
        let id = SessionId::new("s'1");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""s'1""#);
        assert_eq!(serde_json::from_str::<SessionId>(r#""s'1""#).unwrap(), id);
    }
}
