//! Tables for people (`windlass sessions`) as a user sees them: columns line up on screen when
//! cells hold wide characters (CJK text and emoji take two terminal columns each).

mod support;

use support::{responder, FakeLlm, Sandbox};
use unicode_width::UnicodeWidthStr;

/// The display column where `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> usize {
    let at = line.find(needle).unwrap_or_else(|| panic!("`{needle}` not in `{line}`"));
    line[..at].width()
}

#[test]
fn sessions_table_aligns_wide_characters() {
    let llm = FakeLlm::start();
    llm.respond_with(responder::cooperative);
    let sb = Sandbox::with_llm(&llm.url());
    for (file, id) in [("a.yaml", "翻訳カスケード"), ("b.yaml", "🚀launch"), ("c.yaml", "plain")] {
        sb.write(file, &format!("cascade_id: \"{id}\"\nphases:\n  - name: step\n    instructions: hi\n"));
        let out = sb.run(&["run", file, "-q"]);
        assert_eq!(out.code, 0, "{out:?}");
    }
    let out = sb.run(&["sessions"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    let phase = column_of(lines[0], "PHASE");
    for row in &lines[1..] {
        assert_eq!(column_of(row, "step"), phase, "misaligned:\n{}", out.stdout);
    }
}
