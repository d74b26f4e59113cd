//! The compatibility corpus: every class A file passes `check` with no error; every class B
//! file loads without panicking and either passes or reports diagnostics.

use std::path::{Path, PathBuf};
use windlass::cascade::check::{check_file, CheckOptions};
use windlass::cascade::Severity;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// (file, class) from the corpus README's table.
fn classes() -> Vec<(String, char)> {
    let readme = std::fs::read_to_string(corpus_dir().join("README.md")).expect("corpus README");
    readme
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let file = cells.get(1)?;
            let class = cells.get(2)?;
            (file.ends_with(".yaml") && (*class == "A" || *class == "B"))
                .then(|| (file.to_string(), class.chars().next().unwrap()))
        })
        .collect()
}

#[test]
fn corpus_checks() {
    let classes = classes();
    assert!(classes.len() >= 100, "expected the whole corpus table, found {}", classes.len());
    let opts = CheckOptions { tool_path: Vec::new(), cwd: corpus_dir() };
    let mut failures = Vec::new();
    for (file, class) in &classes {
        let path = corpus_dir().join(file);
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
