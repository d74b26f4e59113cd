//! Settings precedence through the binary: `.env` in the working folder, the real environment
//! above it, flags above both. A bad value shows which source it came from.

mod common;

use common::{run, Sandbox};

#[test]
fn a_bad_dotenv_value_names_the_file() {
    let sandbox = Sandbox::new();
    let dotenv = sandbox.write(".env", "WINDLASS_CLICKHOUSE_PORT=9000\n");
    let mut cmd = sandbox.windlass();
    cmd.args(["check", "."]);
    let out = run(cmd);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("WINDLASS_CLICKHOUSE_PORT=9000 (from {})", dotenv.display())));
    assert!(out.stderr.contains("native protocol") && out.stderr.contains("8123"));
}

#[test]
fn the_environment_wins_over_dotenv() {
    let sandbox = Sandbox::new();
    sandbox.write(".env", "WINDLASS_CLICKHOUSE_PORT=9000\n");
    let mut cmd = sandbox.windlass();
    cmd.args(["check", "."]).env("WINDLASS_CLICKHOUSE_PORT", "8123");
    assert_eq!(run(cmd).code, 0);
}

#[test]
fn a_bad_environment_value_says_it_came_from_the_environment() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.windlass();
    cmd.args(["check", "."]).env("WINDLASS_HEARTBEAT_LEASE", "soon");
    let out = run(cmd);
    assert_eq!(out.code, 4);
    assert!(out.stderr.contains("WINDLASS_HEARTBEAT_LEASE=soon (from the environment)"), "{}", out.stderr);
}

#[test]
fn a_flag_wins_over_a_bad_environment_value() {
    let sandbox = Sandbox::new();
    // `run` resolves settings, then loads the cascade: which of the two errors it reports
    // shows whether the flag hid the bad variable.
    let mut cmd = sandbox.windlass();
    cmd.args(["run", "x.yaml"]).env("WINDLASS_BASE_URL", "not-a-url");
    let out = run(cmd);
    assert!(out.stderr.contains("WINDLASS_BASE_URL=not-a-url"), "{}", out.stderr);

    let mut cmd = sandbox.windlass();
    cmd.args(["run", "x.yaml", "--base-url", "http://127.0.0.1:9/v1"]).env("WINDLASS_BASE_URL", "not-a-url");
    let out = run(cmd);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("x.yaml") && out.stderr.contains("no such file"), "{}", out.stderr);
    assert!(!out.stderr.contains("not-a-url"), "{}", out.stderr);
}

#[test]
fn secrets_do_not_appear_in_errors() {
    let sandbox = Sandbox::new();
    sandbox.write(".env", "OPENROUTER_API_KEY='sk-or-v1-unterminated\n");
    let mut cmd = sandbox.windlass();
    cmd.args(["check", "."]);
    let out = run(cmd);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("OPENROUTER_API_KEY"), "{}", out.stderr);
    assert!(!out.stderr.contains("sk-or-v1"), "{}", out.stderr);
}
