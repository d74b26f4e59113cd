//! `windlass check` on bad input, as a user runs it: exit 3 and a message naming the file,
//! the line where there is one, and the problem.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    file: PathBuf,
}

impl Outcome {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
    /// Assert exit 3 and a diagnostic line that starts with `file:line` and holds `needle`.
    fn expect_error(&self, line: Option<usize>, needle: &str) {
        assert_eq!(self.code, 3, "exit code; output:\n{}", self.all());
        let prefix = match line {
            Some(l) => format!("{}:{l}:", self.file.display()),
            None => format!("{}:", self.file.display()),
        };
        assert!(
            self.stdout.lines().any(|l| l.starts_with(&prefix) && l.contains("error:") && l.contains(needle)),
            "expected an error line starting with `{prefix}` containing `{needle}`; output:\n{}",
            self.all()
        );
    }
}

fn windlass(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_windlass"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("WINDLASS_DATA_DIR", cwd.join("data"))
        .output()
        .expect("run windlass");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check_bytes(name: &str, content: &[u8]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, content).unwrap();
    let (code, stdout, stderr) = windlass(&["check", file.to_str().unwrap()], dir.path());
    // Keep the directory alive until the assertions ran: leak it (tests are short-lived).
    std::mem::forget(dir);
    Outcome { code, stdout, stderr, file }
}

fn check(content: &str) -> Outcome {
    check_bytes("cascade.yaml", content.as_bytes())
}

#[test]
fn empty_file() {
    check("").expect_error(None, "empty");
    check("\n\n   \n").expect_error(None, "empty");
}

#[test]
fn binary_garbage() {
    let bytes: Vec<u8> = (0..512u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    check_bytes("cascade.yaml", &bytes).expect_error(None, "binary");
}

#[test]
fn yaml_syntax_error_names_the_line() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: [unclosed\n  - name: b\n")
        .expect_error(Some(5), "YAML syntax error");
}

#[test]
fn truncated_json() {
    let o = check_bytes("cascade.json", b"{\n  \"cascade_id\": \"x\",\n  \"phases\": [\n    {\"name\": \"a\", ");
    o.expect_error(Some(4), "JSON syntax error");
}

#[test]
fn missing_cascade_id() {
    check("phases:\n  - name: a\n    instructions: hi\n").expect_error(Some(1), "missing required key `cascade_id`");
}

#[test]
fn phases_not_a_list() {
    check("cascade_id: x\nphases:\n  name: a\n").expect_error(Some(3), "`phases` must be a list");
}

#[test]
fn phase_without_a_name() {
    check("cascade_id: x\nphases:\n  - instructions: hi\n").expect_error(Some(3), "has no `name`");
}

#[test]
fn phase_with_instructions_and_tool() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    tool: set_state\n")
        .expect_error(Some(3), "has both `instructions` and `tool`");
}

#[test]
fn handoff_to_a_missing_phase() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    handoffs: [b, nowhere]\n  - name: b\n    instructions: yo\n")
        .expect_error(Some(5), "hands off to `nowhere`");
}

#[test]
fn unknown_tool() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    tackle:\n      - set_state\n      - frobnicate\n")
        .expect_error(Some(7), "unknown tool `frobnicate`");
}

#[test]
fn unknown_validator() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    rules:\n      loop_until: grammar_chek\n")
        .expect_error(Some(6), "unknown validator `grammar_chek`");
}

#[test]
fn ward_mode_that_does_not_exist() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    wards:\n      post:\n        - validator: simple_validator\n          mode: sometimes\n")
        .expect_error(Some(8), "`sometimes`");
}

#[test]
fn unclosed_template_tag() {
    let o = check("cascade_id: x\nphases:\n  - name: a\n    instructions: |\n      Hello\n      {% if input.x %}\n      never closed\n");
    o.expect_error(None, "template syntax error in `phases[0].instructions` (phase `a`)");
}

#[test]
fn max_turns_not_a_number() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    rules:\n      max_turns: abc\n")
        .expect_error(Some(6), "`phases[0].rules.max_turns`");
}

#[test]
fn duplicate_phase_names() {
    check("cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n  - name: a\n    instructions: again\n")
        .expect_error(Some(5), "duplicate phase name `a` (first defined at line 3)");
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    let o = check(concat!(
        "cascade_id: x\n",
        "phases:\n",
        "  - name: a\n",
        "    instructions: hi\n",
        "    handoffs: [ghost]\n",
        "    rules: {max_turns: abc}\n",
        "  - name: b\n",
        "    instructions: '{{ unclosed'\n",
        "    tackle: [nope]\n",
        "  - name: a\n",
        "    tool: set_state\n",
    ));
    o.expect_error(Some(6), "max_turns");
    o.expect_error(Some(8), "template syntax error");
    o.expect_error(Some(9), "unknown tool `nope`");
    o.expect_error(Some(10), "duplicate phase name `a`");
}

#[test]
fn a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = windlass(&["check", "nope.yaml"], dir.path());
    assert_eq!(code, 3);
    assert!(stdout.contains("nope.yaml") && stdout.contains("no such file"), "{stdout}");
}

#[test]
fn strict_turns_warnings_into_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.yaml");
    std::fs::write(
        &file,
        "cascade_id: x\nphases:\n  - name: a\n    instructions: '{{ input.undeclared }}'\n    colour: blue\n",
    )
    .unwrap();
    let (code, stdout, _) = windlass(&["check", "w.yaml"], dir.path());
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("warning: unknown key `colour`"), "{stdout}");
    assert!(stdout.contains("warning:") && stdout.contains("input.undeclared"), "{stdout}");
    let (code, stdout, _) = windlass(&["check", "--strict", "w.yaml"], dir.path());
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("error: unknown key `colour`"), "{stdout}");
}

#[test]
fn json_format_lists_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "cascade_id: x\nphases:\n  - name: a\n    instructions: hi\n    handoffs: [zz]\n",
    )
    .unwrap();
    let (code, stdout, _) = windlass(&["check", "--format", "json", "bad.yaml"], dir.path());
    assert_eq!(code, 3);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(doc["errors"], 1);
    let d = &doc["files"][0]["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "unknown-phase");
    assert_eq!(d["line"], 5);
    assert_eq!(d["field"], "phases[0].handoffs[0]");
}

#[test]
fn a_valid_cascade_passes() {
    let (code, stdout, stderr) = windlass(
        &["check", Path::new(env!("CARGO_MANIFEST_DIR")).join("cascades/hello.yaml").to_str().unwrap()],
        &std::env::temp_dir(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}
