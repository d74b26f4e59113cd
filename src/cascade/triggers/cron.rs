//! When a cron trigger fires: its `schedule` (five fields, or six with seconds first) in its
//! `timezone` (an IANA name, default UTC), as epoch seconds.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

/// A parsed schedule in its time zone.
#[derive(Debug, Clone)]
pub struct CronSpec {
    cron: croner::Cron,
    tz: Tz,
}

/// At most this many past ticks are looked at (a `catch_up: all` after a long outage).
pub const MAX_PAST_TICKS: usize = 100;

impl CronSpec {
    pub fn parse(schedule: &str, timezone: Option<&str>) -> Result<CronSpec, String> {
        let cron =
            croner::Cron::from_str(schedule.trim()).map_err(|e| format!("`{schedule}` is not a cron schedule: {e}"))?;
        let tz = match timezone.map(str::trim).filter(|t| !t.is_empty()) {
            None => Tz::UTC,
            Some(name) => Tz::from_str(name)
                .map_err(|_| format!("`{name}` is not a time zone (use an IANA name such as Europe/Paris or UTC)"))?,
        };
        Ok(CronSpec { cron, tz })
    }

    fn at(&self, t: f64) -> Option<DateTime<Tz>> {
        let secs = t.floor() as i64;
        let nanos = ((t - t.floor()) * 1e9) as u32;
        Some(Utc.timestamp_opt(secs, nanos).single()?.with_timezone(&self.tz))
    }

    /// The first tick strictly after `t`.
    pub fn next_after(&self, t: f64) -> Option<f64> {
        let next = self.cron.find_next_occurrence(&self.at(t)?, false).ok()?;
        Some(next.timestamp() as f64)
    }

    /// The ticks in `(after, until]`, newest first, at most [`MAX_PAST_TICKS`].
    pub fn ticks_between(&self, after: f64, until: f64) -> Vec<f64> {
        let mut out = Vec::new();
        let Some(mut at) = self.at(until) else { return out };
        while out.len() < MAX_PAST_TICKS {
            let Ok(tick) = self.cron.find_previous_occurrence(&at, true) else { break };
            let t = tick.timestamp() as f64;
            if t <= after {
                break;
            }
            out.push(t);
            // Strictly before this tick next time.
            let Some(before) = self.at(t - 1.0) else { break };
            at = before;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_follow_the_schedule_in_its_time_zone() {
        // 2026-01-05 is a Monday; 06:00 in New York is 11:00 UTC in winter.
        let spec = CronSpec::parse("0 6 * * *", Some("America/New_York")).unwrap();
        let monday_noon_utc = Utc.with_ymd_and_hms(2026, 1, 5, 12, 0, 0).unwrap().timestamp() as f64;
        let next = spec.next_after(monday_noon_utc).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 1, 6, 11, 0, 0).unwrap().timestamp() as f64);
        let day = 86_400.0;
        let ticks = spec.ticks_between(next - 3.0 * day, next);
        assert_eq!(ticks, vec![next, next - day, next - 2.0 * day], "newest first, the end included");
    }

    #[test]
    fn seconds_are_an_optional_sixth_field_and_bad_input_is_named() {
        let spec = CronSpec::parse("*/2 * * * * *", None).unwrap();
        assert_eq!(spec.next_after(100.0), Some(102.0));
        assert_eq!(spec.ticks_between(100.0, 106.5), vec![106.0, 104.0, 102.0]);
        assert_eq!(spec.ticks_between(0.0, 1e6).len(), MAX_PAST_TICKS);
        assert!(CronSpec::parse("every day", None).unwrap_err().contains("`every day` is not a cron schedule"));
        assert!(CronSpec::parse("0 6 * * *", Some("Mars/Olympus"))
            .unwrap_err()
            .contains("`Mars/Olympus` is not a time zone"));
    }
}
