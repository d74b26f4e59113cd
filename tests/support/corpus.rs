//! Where the compatibility corpus is, what its README says about each file, and what running
//! its files needs. Tests that need it call [`dir`] and return early when it gives `None`.
//!
//! The corpus (the original project's example cascades and the README table that classes them)
//! lives beside the repository, not in it, so a clone on its own does not have it. Outside CI
//! such a clone still passes: each corpus test skips with one line saying how to get it. Under
//! `CI=true` a missing corpus fails the test, so CI never passes by skipping.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The variable that names the corpus folder, tried first.
pub const VAR: &str = "WINDLASS_CORPUS_DIR";

/// The corpus folder: `$WINDLASS_CORPUS_DIR`, else `../shared/corpus` next to the repository.
/// `None` when neither holds the corpus's `README.md`, after one line on stderr; under `CI=true`
/// that panics instead.
pub fn dir() -> Option<PathBuf> {
    let fallback = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let (dir, from) = match std::env::var_os(VAR).filter(|v| !v.is_empty()) {
        Some(v) => {
            let dir = PathBuf::from(v);
            let from = format!("{VAR}={}", dir.display());
            (dir, from)
        }
        None => (fallback, format!("{VAR} is unset; the default is ../shared/corpus next to the repository")),
    };
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    let line = format!(
        "the compatibility corpus is not at {} ({from}); to run this test, set {VAR} to a copy of \
         the corpus folder (the original Windlass example cascades with their README.md table)",
        dir.display()
    );
    if under_ci() {
        panic!("{line}; under CI=true a missing corpus is a failure, not a skip");
    }
    // Straight to stderr, not `eprintln!`: the test harness swallows a passing test's
    // `eprintln!`, and this line is the only sign that the test did nothing.
    let _ = writeln!(std::io::stderr(), "skipped: {line}");
    None
}

/// `CI=true` (as CI services set it; `1` too): absence of the corpus fails rather than skips.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// (file, class, feature tags) from the corpus README's table.
pub fn table(corpus_dir: &Path) -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(corpus_dir.join("README.md")).expect("corpus README");
    readme
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('|').map(str::trim).collect();
            (c.len() > 4 && c[1].ends_with(".yaml")).then(|| (c[1].to_string(), c[2].to_string(), c[3].to_string()))
        })
        .collect()
}

/// The feature tags the README's legend defines (`Feature tags: CTX selective context, ...`).
pub fn feature_tags(corpus_dir: &Path) -> Vec<String> {
    let readme = std::fs::read_to_string(corpus_dir.join("README.md")).expect("corpus README");
    let legend = readme.lines().find_map(|l| l.strip_prefix("Feature tags:")).expect("a `Feature tags:` line");
    legend.split(',').filter_map(|item| item.split_whitespace().next()).map(str::to_string).collect()
}

/// One input for every file: fields the corpus's templates use, long enough for its input
/// wards.
pub const INPUT: &str =
    r#"{"topic": "the tides of the North Sea and how they shape coastal life", "depth": "medium", "name": "Ada"}"#;

/// Fixtures the corpus refers to outside itself (the original repository's paths).
pub fn fixtures(sb: &super::Sandbox) {
    sb.write(
        "examples/prompts/sentiment.j2",
        "Classify the sentiment of the previous output: {{ outputs.echo_phase }}\n",
    );
    sb.write(
        "tackle/analyze_customer.yaml",
        "cascade_id: analyze_customer\ninputs_schema:\n  customer_name: name\nphases:\n  - name: analyze\n    instructions: 'Analyze {{ input.customer_name }}.'\n",
    );
    sb.write(
        "tackle/fraud_assessment_with_soundings.yaml",
        "cascade_id: fraud_assessment\ninputs_schema:\n  customer_name: name\nphases:\n  - name: assess_risk\n    instructions: 'Assess {{ input.customer_name }}.'\n    output_schema:\n      type: object\n      required: [risk_score, risk_level]\n      properties:\n        risk_score: {type: number}\n        risk_level: {type: string}\n    soundings:\n      factor: 3\n",
    );
}
