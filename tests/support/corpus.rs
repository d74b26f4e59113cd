//! Where the compatibility corpus is: tests that need it call [`dir`] and return early when it
//! gives `None`.
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
