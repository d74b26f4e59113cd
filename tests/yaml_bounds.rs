//! Hostile YAML stays bounded on every path that loads a cascade: a 1 KB "alias bomb" (nine
//! levels of nine references, 9^9 values once expanded) is refused fast, with its file and line,
//! by `check`, `run`, `submit`, a sub-cascade reference and the tool path's index.

mod support;

use std::time::Duration;
use support::{responder, FakeLlm, Sandbox};

/// Generous: the refusal takes milliseconds; without the bound it ran past 30 s and 12 GB.
const FAST: Duration = Duration::from_secs(5);

/// The bomb as a cascade file: each level lists the previous one nine times.
fn alias_bomb() -> String {
    let mut text = String::from("cascade_id: bomb\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    text.push_str("inputs_schema:\n  x: anything\nphases:\n  - name: p\n    instructions: hi\n    rules: *i\n");
    assert!(text.len() < 1024, "the bomb is a small file: {} bytes", text.len());
    text
}

/// The line the refusal names: the first `*e` (on `f:`, line 7) pushes what aliases copied in
/// past the limit (`e` alone is 66k values).
const BOMB_LINE: usize = 7;

#[test]
fn check_refuses_an_alias_bomb_fast_naming_file_and_line() {
    let sb = Sandbox::new();
    let file = sb.write("bomb.yaml", &alias_bomb());
    let out = sb.run(&["check", "bomb.yaml"]);
    eprintln!("check on the alias bomb: {:?}", out.elapsed);
    assert_eq!(out.code, 3, "{out:?}");
    let prefix = format!("bomb.yaml:{BOMB_LINE}:");
    assert!(
        out.stdout.lines().any(|l| l.starts_with(&prefix) && l.contains("error:") && l.contains("alias")),
        "expected `{prefix} ... error: ... alias ...` for {}; got {out:?}",
        file.display()
    );
    assert!(out.elapsed < FAST, "took {:?}", out.elapsed);
}

#[test]
fn run_and_submit_refuse_an_alias_bomb_fast() {
    let llm = FakeLlm::start();
    llm.respond_with(responder::cooperative);
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("bomb.yaml", &alias_bomb());
    for command in ["run", "submit"] {
        let out = sb.run(&[command, "bomb.yaml", "--input", r#"{"x": 1}"#]);
        eprintln!("{command} on the alias bomb: {:?}", out.elapsed);
        assert_eq!(out.code, 3, "{command}: {out:?}");
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(all.contains(&format!("bomb.yaml:{BOMB_LINE}:")) && all.contains("alias"), "{command}: {out:?}");
        assert!(out.elapsed < FAST, "{command} took {:?}", out.elapsed);
    }
    assert_eq!(llm.request_count(), 0);
}

#[test]
fn a_sub_cascade_that_is_an_alias_bomb_fails_its_phase_fast() {
    let llm = FakeLlm::start();
    llm.respond_with(responder::cooperative);
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("bomb.yaml", &alias_bomb());
    sb.write(
        "parent.yaml",
        "cascade_id: parent\nphases:\n  - name: p\n    instructions: hi\n    sub_cascades:\n      - ref: bomb.yaml\n",
    );
    let out = sb.run(&["run", "parent.yaml", "-q"]);
    eprintln!("run with the alias bomb as a sub-cascade: {:?}", out.elapsed);
    assert_ne!(out.code, 0, "{out:?}");
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains(&format!("bomb.yaml:{BOMB_LINE}:")) && all.contains("alias"), "{out:?}");
    assert!(out.elapsed < FAST, "took {:?}", out.elapsed);
}

#[test]
fn an_alias_bomb_on_the_tool_path_is_skipped_fast() {
    let mut sb = Sandbox::new();
    sb.write("tools/bomb.yaml", &alias_bomb());
    let tools = sb.path().join("tools").display().to_string();
    sb.set("WINDLASS_TOOL_PATH", &tools);
    // A tool name that is on no path makes check search (and so index) the tool path.
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: p\n    instructions: hi\n    tackle: [bomb]\n");
    let out = sb.run(&["check", "c.yaml"]);
    eprintln!("check with the alias bomb on the tool path: {:?}", out.elapsed);
    assert_eq!(out.code, 3, "`bomb` does not load, so it is no tool: {out:?}");
    assert!(out.elapsed < FAST, "took {:?}", out.elapsed);
}
