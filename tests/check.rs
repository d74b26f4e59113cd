//! `windlass check` through the binary: paths, folders, formats, exit codes.
//!
//! The cascade checker behind it is still a stub that finds nothing, so these tests pin the
//! command's plumbing; the diagnostics themselves are tested with the checker.

mod common;

use common::{run_args, Sandbox};
use serde_json::Value;

#[test]
fn a_missing_file_is_passed_to_the_checker() {
    let sandbox = Sandbox::new();
    let out = run_args(&sandbox, &["check", "missing.yaml"]);
    // The checker reports missing files as diagnostics: error, exit 3. The stub reports none.
    assert!(matches!(out.code, 0 | 3), "{}", out.stderr);
    assert!(out.stderr.contains("checked 1 file"), "{}", out.stderr);
    if out.code == 3 {
        assert!(out.stdout.starts_with("missing.yaml"), "{}", out.stdout);
    }
}

#[test]
fn an_empty_folder_checks_nothing_and_passes() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.work().join("empty")).unwrap();
    let out = run_args(&sandbox, &["check", "empty"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("empty has no *.yaml"), "{}", out.stderr);
    assert!(out.stderr.contains("checked 0 files: 0 errors, 0 warnings"), "{}", out.stderr);

    let out = run_args(&sandbox, &["check", "empty", "-q"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn a_folder_expands_to_its_cascade_files_in_order() {
    let sandbox = Sandbox::new();
    for name in ["flows/b.yml", "flows/a.yaml", "flows/c.json", "flows/readme.md"] {
        sandbox.write(name, "cascade_id: x\nphases: []\n");
    }
    let out = run_args(&sandbox, &["check", "flows", "--format", "json"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let paths: Vec<&str> = report["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["flows/a.yaml", "flows/b.yml", "flows/c.json"]);
    assert!(out.stderr.contains("checked 3 files"), "{}", out.stderr);
}

#[test]
fn json_format_shape() {
    let sandbox = Sandbox::new();
    sandbox.write("one.yaml", "cascade_id: one\nphases: []\n");
    let out = run_args(&sandbox, &["check", "one.yaml", "--format", "json", "--strict"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let errors = report["errors"].as_u64().expect("errors is a number");
    assert!(report["warnings"].is_u64());
    assert_eq!(report["warnings"], 0, "--strict leaves no warnings");
    assert_eq!(report["files"][0]["path"], "one.yaml");
    assert!(report["files"][0]["diagnostics"].is_array());
    assert_eq!(out.code, if errors > 0 { 3 } else { 0 });
}

#[test]
fn an_unreadable_configuration_is_a_setup_error_even_for_check() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.windlass();
    cmd.args(["check", "."]).env("WINDLASS_MAX_PHASE_VISITS", "0");
    let out = common::run(cmd);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.starts_with("windlass: error: failed to read settings: WINDLASS_MAX_PHASE_VISITS=0"));
}
