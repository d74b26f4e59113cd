//! The interpreters the data-phase tests run: a Python with pandas (a virtual environment), node,
//! a Clojure runner (bb, else nbb from npm), and the JVM's clojure (Debian's).
//! `scripts/data_runtimes.sh` installs them outside the clone and `scripts/test.sh` exports their
//! paths:
//!
//! - `WINDLASS_TEST_PANDAS_PYTHON`: the virtual environment's python
//! - `WINDLASS_TEST_NODE`: node
//! - `WINDLASS_TEST_CLOJURE`: bb or nbb
//! - `WINDLASS_TEST_CLOJURE_JVM`: the JVM's `clojure` (with Debian's clojure.data.json jar)
//!
//! Unset, each falls back to where the script puts it (`~/.cache/windlass/runtimes`) or to
//! PATH. When one is missing the test skips with one line on stderr, unless
//! `WINDLASS_TEST_REQUIRE_DATA_RUNTIMES=1` (scripts/test.sh sets it) or `CI=true`: then it fails.

use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Runtimes {
    pub pandas_python: PathBuf,
    pub node: PathBuf,
    pub clojure: PathBuf,
    /// Not in [`configure`]'s sandbox: a test that wants it sets `WINDLASS_CLOJURE` to it.
    pub clojure_jvm: PathBuf,
}

fn cache() -> PathBuf {
    match std::env::var_os("WINDLASS_RUNTIME_CACHE").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/windlass/runtimes"),
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file())
}

fn given(var: &str, fallback: impl FnOnce() -> Option<PathBuf>) -> Result<PathBuf, String> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(v) if Path::new(&v).is_file() => Ok(PathBuf::from(v)),
        Some(v) => Err(format!("{var}={} is not a file", PathBuf::from(v).display())),
        None => fallback().ok_or_else(|| format!("{var} is unset and the default is not installed")),
    }
}

/// The runtimes, or `None` (after one line on stderr) when one is missing and not required.
pub fn find() -> Option<Runtimes> {
    let found = (|| {
        Ok::<_, String>(Runtimes {
            pandas_python: given("WINDLASS_TEST_PANDAS_PYTHON", || {
                Some(cache().join("pandas-venv/bin/python")).filter(|p| p.is_file())
            })?,
            node: given("WINDLASS_TEST_NODE", || on_path("node"))?,
            clojure: given("WINDLASS_TEST_CLOJURE", || {
                on_path("bb").or_else(|| Some(cache().join("nbb/node_modules/.bin/nbb")).filter(|p| p.is_file()))
            })?,
            clojure_jvm: given("WINDLASS_TEST_CLOJURE_JVM", || on_path("clojure"))?,
        })
    })();
    match found {
        Ok(r) => Some(r),
        Err(why) => {
            let line = format!("the data-phase runtimes are missing ({why}); run scripts/data_runtimes.sh");
            if required() {
                panic!("{line}; WINDLASS_TEST_REQUIRE_DATA_RUNTIMES=1 or CI=true makes that a failure");
            }
            let _ = writeln!(std::io::stderr(), "skipped: {line}");
            None
        }
    }
}

fn required() -> bool {
    std::env::var("WINDLASS_TEST_REQUIRE_DATA_RUNTIMES").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// A sandbox whose data phases run these runtimes, with subprocesses allowed.
pub fn configure(sb: &mut super::Sandbox, r: &Runtimes) {
    sb.set("WINDLASS_PYTHON", r.pandas_python.to_str().unwrap());
    sb.set("WINDLASS_NODE", r.node.to_str().unwrap());
    sb.set("WINDLASS_CLOJURE", r.clojure.to_str().unwrap());
    sb.set("WINDLASS_ALLOW_SHELL", "1");
    // nbb is a node script (`#!/usr/bin/env node`): node must be on PATH too.
    let node_dir = r.node.parent().unwrap().display().to_string();
    let path = std::env::var("PATH").unwrap_or_default();
    sb.set("PATH", &format!("{node_dir}:{path}"));
}
