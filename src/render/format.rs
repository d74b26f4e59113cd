//! Small text helpers the renderers share: durations, money, clock times, one-line excerpts.

/// `340ms`, `1.2s`, `2m05s`, `1h02m`: short enough for a status line, precise where it matters.
pub fn duration(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1_000.0)
    } else if ms < 3_600_000 {
        let seconds = ms / 1_000;
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        let minutes = ms / 60_000;
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    }
}

/// US dollars with four decimals: LLM calls often cost fractions of a cent.
pub fn cost(usd: f64) -> String {
    format!("${usd:.4}")
}

/// `HH:MM:SS` in UTC for seconds since the Unix epoch. UTC so that log lines from different
/// machines compare directly.
pub fn clock(at: f64) -> String {
    let seconds = if at.is_finite() && at > 0.0 { at as i64 } else { 0 };
    let time = chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default();
    time.format("%H:%M:%S").to_string()
}

/// The text on one line and at most `max` characters, ending in `…` when cut, so a long model
/// reply or tool argument never floods a status line.
pub fn excerpt(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(340), "340ms");
        assert_eq!(duration(1_234), "1.2s");
        assert_eq!(duration(125_000), "2m05s");
        assert_eq!(duration(3_720_000), "1h02m");
    }

    #[test]
    fn clock_is_utc_time_of_day() {
        // 2024-01-01T14:03:07Z
        assert_eq!(clock(1_704_117_787.5), "14:03:07");
    }

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(excerpt("a\n  b", 10), "a b");
        assert_eq!(excerpt("abcdefghij", 5), "abcd…");
        assert_eq!(excerpt("ééééé", 5), "ééééé");
    }
}
