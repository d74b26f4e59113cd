//! Settings precedence through the binary: `.env` in the working folder, the real environment
//! above it, flags above both. A bad value shows which source it came from.

mod support;

use support::Sandbox;

#[test]
fn a_bad_dotenv_value_names_the_file() {
    let sandbox = Sandbox::new();
    let dotenv = sandbox.write(".env", "WINDLASS_CLICKHOUSE_PORT=9000\n");
    let out = sandbox.run(&["check", "."]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("WINDLASS_CLICKHOUSE_PORT=9000 (from {})", dotenv.display())));
    assert!(out.stderr.contains("native protocol") && out.stderr.contains("8123"));
}

#[test]
fn the_environment_wins_over_dotenv() {
    let mut sandbox = Sandbox::new();
    sandbox.write(".env", "WINDLASS_CLICKHOUSE_PORT=9000\n");
    sandbox.write("one.yaml", "cascade_id: one\nphases:\n  - name: a\n    instructions: hi\n");
    sandbox.set("WINDLASS_CLICKHOUSE_PORT", "8123");
    let out = sandbox.run(&["check", "one.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_bad_environment_value_says_it_came_from_the_environment() {
    let mut sandbox = Sandbox::new();
    sandbox.set("WINDLASS_HEARTBEAT_LEASE", "soon");
    let out = sandbox.run(&["check", "."]);
    assert_eq!(out.code, 4);
    assert!(out.stderr.contains("WINDLASS_HEARTBEAT_LEASE=soon (from the environment)"), "{}", out.stderr);
}

#[test]
fn a_flag_wins_over_a_bad_environment_value() {
    let mut sandbox = Sandbox::new();
    sandbox.set("WINDLASS_BASE_URL", "not-a-url");
    // `run` resolves settings, then loads the cascade: which of the two errors it reports
    // shows whether the flag hid the bad variable.
    let out = sandbox.run(&["run", "x.yaml"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("WINDLASS_BASE_URL=not-a-url"), "{}", out.stderr);

    let out = sandbox.run(&["run", "x.yaml", "--base-url", "http://127.0.0.1:9/v1"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("x.yaml") && out.stderr.contains("no such file"), "{}", out.stderr);
    assert!(!out.stderr.contains("not-a-url"), "{}", out.stderr);
}

#[test]
fn secrets_do_not_appear_in_errors() {
    let sandbox = Sandbox::new();
    sandbox.write(".env", "OPENROUTER_API_KEY='sk-or-v1-unterminated\n");
    let out = sandbox.run(&["check", "."]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("OPENROUTER_API_KEY"), "{}", out.stderr);
    assert!(!out.stderr.contains("sk-or-v1"), "{}", out.stderr);
}
