//! The compatibility corpus: every class A file passes `check` with no error; every class B
//! file loads without panicking and either passes or reports diagnostics.

mod support;

use std::path::Path;
use windlass::cascade::check::{check_file, CheckOptions};

/// (file, class) of the README table's class A and B files.
fn classes(corpus_dir: &Path) -> Vec<(String, char)> {
    support::corpus::table(corpus_dir)
        .into_iter()
        .filter(|(_, class, _)| class == "A" || class == "B")
        .map(|(file, class, _)| (file, class.chars().next().unwrap()))
        .collect()
}

#[test]
fn corpus_checks() {
    let Some(corpus_dir) = support::corpus::dir() else { return };
    let classes = classes(&corpus_dir);
    assert!(classes.len() >= 100, "expected the whole corpus table, found {}", classes.len());
    let opts = CheckOptions { tool_path: Vec::new(), cwd: corpus_dir.clone() };
    let mut failures = Vec::new();
    for (file, class) in &classes {
        let path = corpus_dir.join(file);
        let report = check_file(&path, &opts);
        for d in &report.diagnostics {
            eprintln!("[{class}] {}", d.render(&path));
        }
        if *class == 'A' && report.errors() > 0 {
            failures.push(file.clone());
        }
    }
    assert!(failures.is_empty(), "class A files with errors: {failures:?}");
}

/// The real binary over the whole corpus in one call: no panic, exit 0 (what class B files
/// lack, such as validator cascades that are not in the corpus, is a warning), and no class A
/// file has an error.
#[test]
fn corpus_through_the_binary() {
    let Some(corpus_dir) = support::corpus::dir() else { return };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_windlass"))
        .args(["check", "--format", "json"])
        .arg(&corpus_dir)
        .current_dir(&corpus_dir)
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run windlass");
    let code = out.status.code();
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let files = doc["files"].as_array().expect("files");
    assert!(files.len() >= 100, "every corpus file is checked");
    let classes = classes(&corpus_dir);
    for f in files {
        let path = f["path"].as_str().unwrap();
        let name = Path::new(path).file_name().unwrap().to_str().unwrap();
        let class = classes.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
        let errors = f["diagnostics"].as_array().unwrap().iter().filter(|d| d["severity"] == "error").count();
        if class == Some('A') {
            assert_eq!(errors, 0, "class A file {name} has errors: {}", f["diagnostics"]);
        }
    }
}
