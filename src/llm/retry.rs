//! [`RetryPolicy`]: how often and how long the client waits before giving up on an endpoint, and
//! reading a server's `Retry-After`.

use std::time::{Duration, SystemTime};

/// Bounded retries with exponential backoff and full jitter, for 429, 408, 5xx overload codes,
/// timeouts and dropped connections. Everything else fails on the first answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total HTTP attempts per chat call, the first included; at least 1.
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; it doubles on each retry.
    pub base_delay: Duration,
    /// Cap on any single wait, including one a server asks for with `Retry-After`, so a server
    /// cannot park a session for an hour.
    pub max_delay: Duration,
    /// Per attempt, from connecting until the whole answer is read (for a streamed answer: the
    /// longest silence between two chunks).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            timeout: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): the server's `Retry-After`
    /// when it gave one, else a random duration up to `base_delay * 2^(retry-1)` ("full jitter",
    /// so many sessions hitting one rate limit do not retry in lockstep). Never above `max_delay`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    /// `max_attempts`, never below one: a policy of zero attempts would never ask at all.
    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }
}

/// The wait a server asks for: `retry-after-ms` (OpenAI, Azure), else `Retry-After` as seconds
/// or as an HTTP date. Unreadable values are ignored and the backoff applies.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(|ms| ms.parse::<f64>().ok()) {
        return seconds(ms / 1000.0);
    }
    parse_retry_after(text("retry-after")?, SystemTime::now())
}

fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    // An HTTP date (IMF-fixdate, or the obsolete RFC 850 and asctime forms).
    let at = httpdate::parse_http_date(value).ok()?;
    // A date in the past means "now".
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs.max(0.0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn backoff_grows_and_stays_under_the_caps() {
        let policy = RetryPolicy { base_delay: Duration::from_millis(100), ..RetryPolicy::default() };
        for _ in 0..200 {
            assert!(policy.delay(1, None) <= Duration::from_millis(100));
            assert!(policy.delay(3, None) <= Duration::from_millis(400));
            assert!(policy.delay(40, None) <= policy.max_delay);
        }
        assert_eq!(policy.delay(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(policy.delay(1, Some(Duration::from_secs(3600))), policy.max_delay);
    }

    #[test]
    fn reads_retry_after_as_seconds_or_a_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // Sun, 06 Nov 1994 08:49:30 GMT
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5", now), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", now), None);
    }

    #[test]
    fn http_dates_match_known_timestamps() {
        let at = |date: &str| parse_retry_after(date, UNIX_EPOCH).map(|d| d.as_secs());
        assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(at("Tue, 29 Feb 2028 12:00:00 GMT"), Some(1_835_438_400));
        // The obsolete forms RFC 9110 says a recipient must still accept.
        assert_eq!(at("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(at("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
    }
}
