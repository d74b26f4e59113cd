//! Printing rows for people: aligned tables, CSV, and UTC times.

use chrono::DateTime;
use comfy_table::{presets, ContentArrangement, Table};
use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A cell as text: strings bare, null empty, everything else as JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An aligned table with a header, columns two spaces apart; long cells are cut to `max_width`
/// terminal columns. Widths are display widths (comfy-table measures with `unicode-width`), so
/// CJK text and emoji, two columns wide each, keep the columns aligned.
pub fn render(columns: &[String], rows: &[Vec<String>], max_width: usize) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(columns.iter().map(|c| cut(c, usize::MAX)))
        .add_rows(rows.iter().map(|r| r.iter().map(|c| cut(c, max_width)).collect::<Vec<_>>()));
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut out = String::new();
    for line in table.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One line, at most `max` terminal columns wide, ending in `…` when cut.
fn cut(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.width() <= max {
        return one_line;
    }
    let mut out = String::new();
    let mut width = 0;
    for c in one_line.chars() {
        let w = c.width().unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
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

/// Tab-separated values with a header row, one line per row: a backslash, tab, newline or
/// carriage return inside a cell is written `\\`, `\t`, `\n`, `\r`, so every row stays on one
/// line with one tab between cells.
pub fn tsv(columns: &[String], rows: &[Vec<String>]) -> String {
    let escape = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out
    };
    let mut out = String::new();
    for r in std::iter::once(columns).chain(rows.iter().map(Vec::as_slice)) {
        out.push_str(&r.iter().map(|c| escape(c)).collect::<Vec<_>>().join("\t"));
        out.push('\n');
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS` in UTC for epoch seconds (empty for 0).
pub fn time(epoch: f64) -> String {
    if epoch <= 0.0 {
        return String::new();
    }
    match DateTime::from_timestamp(epoch as i64, 0) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        // Past chrono's range (about 262,000 years): no store writes such a time.
        None => format!("{epoch}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_escapes_so_each_row_is_one_line() {
        let rows = vec![vec!["a\tb".to_string(), "line 1\nline 2\r".into(), "C:\\dir\\t".into()]];
        let t = tsv(&["x".into(), "y".into(), "z".into()], &rows);
        assert_eq!(t, "x\ty\tz\na\\tb\tline 1\\nline 2\\r\tC:\\\\dir\\\\t\n");
    }

    #[test]
    fn times_tables_csv() {
        assert_eq!(time(0.0), "");
        assert_eq!(time(1_700_000_000.5), "2023-11-14 22:13:20");
        let t = render(&["a".into(), "bb".into()], &[vec!["xyz".into(), "1".into()]], 40);
        assert_eq!(t, "a    bb\nxyz  1\n");
        assert_eq!(csv(&["a".into()], &[vec!["x,\"y\"".into()]]), "a\n\"x,\"\"y\"\"\"\n");
    }

    #[test]
    fn times_follow_the_calendar() {
        assert_eq!(time(951_782_400.0), "2000-02-29 00:00:00");
        assert_eq!(time(4_107_542_399.0), "2100-02-28 23:59:59");
        assert_eq!(time(4_107_542_400.0), "2100-03-01 00:00:00");
    }

    /// Display columns of `s` up to `needle`.
    fn column_of(line: &str, needle: &str) -> usize {
        line[..line.find(needle).unwrap()].width()
    }

    #[test]
    fn wide_characters_keep_columns_aligned() {
        let columns = ["id".to_string(), "cascade".to_string(), "status".to_string()];
        let rows = [
            vec!["s-1".to_string(), "翻訳カスケード".to_string(), "running".to_string()],
            vec!["s-2".to_string(), "🚀 launch".to_string(), "ok".to_string()],
            vec!["s-3".to_string(), "plain".to_string(), "failed".to_string()],
        ];
        let out = render(&columns, &rows, 48);
        let lines: Vec<&str> = out.lines().collect();
        let at = column_of(lines[0], "status");
        assert_eq!(column_of(lines[1], "running"), at, "{out}");
        assert_eq!(column_of(lines[2], "ok"), at, "{out}");
        assert_eq!(column_of(lines[3], "failed"), at, "{out}");
        // 翻訳カスケード is 14 columns wide: the widest cell, two spaces, then `status`.
        assert_eq!(at, "s-1".len() + 2 + 14 + 2);
    }

    #[test]
    fn cells_are_cut_by_display_width() {
        let out = render(&["x".into()], &[vec!["漢字漢字漢字".into()]], 7);
        let cell = out.lines().nth(1).unwrap();
        assert_eq!(cell, "漢字漢…");
        assert!(cell.width() <= 7);
    }
}
