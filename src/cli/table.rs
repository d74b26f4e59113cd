//! Printing rows for people: aligned tables, CSV, and UTC times.

use serde_json::Value;

/// A cell as text: strings bare, null empty, everything else as JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An aligned table with a header; long cells are cut to `max_width` characters.
pub fn render(columns: &[String], rows: &[Vec<String>], max_width: usize) -> String {
    let cut = |s: &str| {
        let one_line = s.replace('\n', " ");
        if one_line.chars().count() > max_width {
            format!("{}…", one_line.chars().take(max_width.saturating_sub(1)).collect::<String>())
        } else {
            one_line
        }
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| cut(c)).collect()).collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in &cells {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |items: &[String]| {
        items
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(columns);
    out.push('\n');
    for r in &cells {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

/// CSV with a header row (RFC 4180 quoting).
pub fn csv(columns: &[String], rows: &[Vec<String>]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS` in UTC for epoch seconds (empty for 0).
pub fn time(epoch: f64) -> String {
    if epoch <= 0.0 {
        return String::new();
    }
    let secs = epoch as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_tables_csv() {
        assert_eq!(time(0.0), "");
        assert_eq!(time(1_700_000_000.5), "2023-11-14 22:13:20");
        let t = render(&["a".into(), "bb".into()], &[vec!["xyz".into(), "1".into()]], 40);
        assert_eq!(t, "a    bb\nxyz  1\n");
        assert_eq!(csv(&["a".into()], &[vec!["x,\"y\"".into()]]), "a\n\"x,\"\"y\"\"\"\n");
    }
}
