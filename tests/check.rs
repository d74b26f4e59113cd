//! `windlass check` through the binary: paths, folders, formats, exit codes. The diagnostics
//! themselves are tested with the checker (`check_errors.rs`, the corpus).

mod support;

use serde_json::Value;
use support::Sandbox;

#[test]
fn a_missing_file_is_passed_to_the_checker() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["check", "missing.yaml"]);
    // A missing file is a diagnostic like any other: an error, exit 3.
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("checked 1 file: 1 error"), "{}", out.stderr);
    assert!(out.stdout.starts_with("missing.yaml: error: cannot read the cascade file"), "{}", out.stdout);
}

#[test]
fn an_empty_folder_checks_nothing_and_passes() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path().join("empty")).unwrap();
    let out = sandbox.run(&["check", "empty"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("empty has no *.yaml"), "{}", out.stderr);
    assert!(out.stderr.contains("checked 0 files: 0 errors, 0 warnings"), "{}", out.stderr);

    let out = sandbox.run(&["check", "empty", "-q"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn a_folder_expands_to_its_cascade_files_in_order() {
    let sandbox = Sandbox::new();
    for name in ["flows/b.yml", "flows/a.yaml", "flows/c.json", "flows/readme.md"] {
        sandbox.write(name, "cascade_id: x\nphases: []\n");
    }
    let out = sandbox.run(&["check", "flows", "--format", "json"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let paths: Vec<&str> = report["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["flows/a.yaml", "flows/b.yml", "flows/c.json"]);
    assert!(out.stderr.contains("checked 3 files"), "{}", out.stderr);
}

#[test]
fn json_format_shape() {
    let sandbox = Sandbox::new();
    sandbox.write("one.yaml", "cascade_id: one\nphases: []\n");
    let out = sandbox.run(&["check", "one.yaml", "--format", "json", "--strict"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(report["errors"], 1, "{report}");
    assert_eq!(report["warnings"], 0, "--strict leaves no warnings");
    assert_eq!(report["files"][0]["path"], "one.yaml");
    let d = &report["files"][0]["diagnostics"][0];
    assert_eq!(
        (d["severity"].as_str(), d["code"].as_str(), d["line"].as_u64()),
        (Some("error"), Some("no-phases"), Some(2))
    );
    assert_eq!(out.code, 3);
}

#[test]
fn an_unreadable_configuration_is_a_setup_error_even_for_check() {
    let mut sandbox = Sandbox::new();
    sandbox.set("WINDLASS_MAX_PHASE_VISITS", "0");
    let out = sandbox.run(&["check", "."]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.starts_with("windlass: error: failed to read settings: WINDLASS_MAX_PHASE_VISITS=0"));
}
