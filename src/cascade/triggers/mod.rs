//! What a cascade's `triggers` mean: cron schedules (`cron.rs`), the catch-up policy, and a
//! webhook's shared secret. Checked by `check`; run by `crate::session::schedules`.

pub mod cron;

use super::model::Trigger;
use serde::{Deserialize, Serialize};

/// What happens to cron ticks that passed while no worker ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Fire the newest missed tick, skip the older ones.
    #[default]
    Latest,
    /// Fire every missed tick (up to [`cron::MAX_PAST_TICKS`]).
    All,
    /// Fire a tick only while it is due ([`ON_TIME`]); skip missed ones.
    None,
}

/// How late a tick may fire under `catch_up: none`.
pub const ON_TIME: f64 = 30.0;

/// `catch_up`, checked.
pub fn catch_up(t: &Trigger) -> Result<CatchUp, String> {
    match t.catch_up.as_deref().map(str::trim) {
        None | Some("latest") => Ok(CatchUp::Latest),
        Some("all") => Ok(CatchUp::All),
        Some("none") => Ok(CatchUp::None),
        Some(other) => Err(format!("`catch_up: {other}` is not one of latest, all, none")),
    }
}

/// The variable named by a webhook's `auth: hmac:${VARIABLE}`.
pub fn secret_env(t: &Trigger) -> Result<Option<String>, String> {
    let Some(auth) = t.auth.as_deref().map(str::trim) else { return Ok(None) };
    let var = auth
        .strip_prefix("hmac:")
        .map(|v| v.trim().trim_start_matches("${").trim_end_matches('}').trim())
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    match var {
        Some(v) => Ok(Some(v.to_string())),
        None => Err(format!("`auth: {auth}` must be hmac:${{VARIABLE}}, naming the variable that holds the secret")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_auth_names_a_variable() {
        let t = |auth: &str| Trigger { auth: Some(auth.into()), ..serde_json::from_str::<Trigger>("{}").unwrap() };
        assert_eq!(secret_env(&t("hmac:${HOOK_SECRET}")), Ok(Some("HOOK_SECRET".into())));
        assert!(secret_env(&t("hmac:")).is_err());
        assert!(secret_env(&t("token:abc")).unwrap_err().contains("hmac:${VARIABLE}"));
    }
}
