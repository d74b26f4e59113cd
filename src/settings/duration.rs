//! Durations as people write them: `10s`, `60s`, `5m`, `1.5h`, `7d`, `250ms`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration parsed from `<number><unit>`; the unit is one of `ms`, `s`, `m`, `h`, `d`.
///
/// A unit is required: a bare `10` could mean seconds or minutes, and guessing wrong for a
/// lease or a timeout is worse than asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub fn get(self) -> Duration {
        self.0
    }
}

const UNITS: [(&str, f64); 5] = [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("d", 86400.0)];

const EXPECTED: &str = "write a number and a unit, like 10s, 5m, 1.5h or 7d (units: ms, s, m, h, d)";

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (number, unit) = (&text[..split], text[split..].trim());
        if number.is_empty() {
            return Err(format!("`{text}` is not a duration: {EXPECTED}"));
        }
        let value: f64 = number.parse().map_err(|_| format!("`{number}` is not a number: {EXPECTED}"))?;
        if unit.is_empty() {
            return Err(format!("`{text}` has no unit: write {text}s for seconds or {text}m for minutes"));
        }
        let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!("`{unit}` is not a unit of time: {EXPECTED}"));
        };
        Duration::try_from_secs_f64(value * scale)
            .map(HumanDuration)
            .map_err(|_| format!("`{text}` is too long a duration"))
    }
}

impl fmt::Display for HumanDuration {
    /// The largest unit that shows the duration exactly, so `90s` prints as `90s`, not `1.5m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if !millis.is_multiple_of(1000) || millis == 0 {
            return write!(f, "{millis}ms");
        }
        let secs = millis / 1000;
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] {
            if secs.is_multiple_of(size) {
                return write!(f, "{}{unit}", secs / size);
            }
        }
        write!(f, "{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Duration, String> {
        text.parse::<HumanDuration>().map(HumanDuration::get)
    }

    #[test]
    fn parses_every_unit_and_fractions() {
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse(" 2 m "), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn rejects_missing_or_unknown_units_with_a_hint() {
        assert!(parse("10").unwrap_err().contains("write 10s"));
        assert!(parse("10 parsecs").unwrap_err().contains("not a unit"));
        assert!(parse("soon").unwrap_err().contains("not a duration"));
        assert!(parse("1.2.3s").unwrap_err().contains("not a number"));
        assert!(parse("").is_err());
        assert!(parse("-5s").is_err());
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        let show = |text: &str| text.parse::<HumanDuration>().unwrap().to_string();
        assert_eq!(show("90s"), "90s");
        assert_eq!(show("1.5h"), "90m");
        assert_eq!(show("7d"), "7d");
        assert_eq!(show("250ms"), "250ms");
    }
}
