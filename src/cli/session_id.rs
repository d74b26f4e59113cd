//! [`SessionId`]: the id of a session as given on the command line.

use std::fmt;
use std::str::FromStr;

/// A session id. Checked only for shape here (not empty, no spaces or control characters);
/// whether the session exists is the store's question.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    pub fn as_str(&self) -> &str {
        &self.0
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
