//! `windlass check`: load a cascade and collect every diagnostic in one pass.
//!
//! Each submodule owns one family of checks and only appends diagnostics:
//! `structure` (phase kinds, names, handoffs, routing, reachability), `names` (tools,
//! validators, referenced files), `templates` (syntax, variables), `features` (what this
//! build parses but cannot run).

mod features;
mod names;
mod structure;
mod templates;

use super::decode::at_value;
use super::diagnostic::{Diagnostic, FileReport, Severity};
use super::load::{load_file_in, Loaded};
use super::model::Cascade;
use super::resolve::ToolPath;
use super::template;
use std::path::{Path, PathBuf};

/// Where `check` looks for things outside the file itself.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Extra folders searched for cascades used as tools or validators (`WINDLASS_TOOL_PATH`).
    pub tool_path: Vec<PathBuf>,
    /// The working directory references are resolved against after the file's own folder.
    pub cwd: PathBuf,
}

/// Check one file. Never panics; every problem is a diagnostic in the report.
pub fn check_file(path: &Path, opts: &CheckOptions) -> FileReport {
    let cwd =
        if opts.cwd.as_os_str().is_empty() { std::env::current_dir().unwrap_or_default() } else { opts.cwd.clone() };
    let loaded = load_file_in(path, &cwd);
    let diagnostics = check_loaded(&loaded, opts);
    FileReport { path: path.to_path_buf(), diagnostics }
}

/// Every diagnostic for an already loaded file: the loader's, then the checks'.
pub fn check_loaded(loaded: &Loaded, opts: &CheckOptions) -> Vec<Diagnostic> {
    let mut out = loaded.diagnostics.clone();
    if let Some(cascade) = &loaded.cascade {
        let ctx = Ctx::new(loaded, cascade, opts);
        structure::check(&ctx, &mut out);
        names::check(&ctx, &mut out);
        templates::check(&ctx, &mut out);
        features::check(&ctx, &mut out);
    }
    out.sort_by_key(|d| (d.line.unwrap_or(0), d.column.unwrap_or(0)));
    out
}

/// What every check needs.
pub(crate) struct Ctx<'a> {
    pub loaded: &'a Loaded,
    pub cascade: &'a Cascade,
    pub tool_path: ToolPath,
    pub cwd: PathBuf,
    pub env: minijinja::Environment<'static>,
    /// Every phase name in the file, including phases that failed to decode.
    pub names: Vec<&'a str>,
}

impl<'a> Ctx<'a> {
    fn new(loaded: &'a Loaded, cascade: &'a Cascade, opts: &CheckOptions) -> Self {
        let dir = loaded.dir();
        let cwd = if opts.cwd.as_os_str().is_empty() { PathBuf::from(".") } else { opts.cwd.clone() };
        Ctx {
            loaded,
            cascade,
            tool_path: ToolPath::new(&dir, &cwd, &opts.tool_path),
            cwd,
            env: template::environment(),
            names: loaded.raw_phase_names.iter().flatten().map(String::as_str).collect(),
        }
    }

    pub fn is_phase(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// The field path of decoded phase `i`.
    pub fn phase_path(&self, i: usize) -> String {
        self.loaded.phase_path(i)
    }

    pub fn error(&self, code: &'static str, path: &str, message: String) -> Diagnostic {
        at_value(&self.loaded.spans, Severity::Error, code, path, message)
    }

    pub fn warning(&self, code: &'static str, path: &str, message: String) -> Diagnostic {
        at_value(&self.loaded.spans, Severity::Warning, code, path, message)
    }

    /// ` (did you mean `x`?)` when a phase name is close to `name`.
    pub fn suggest_phase(&self, name: &str) -> String {
        suggest(name, self.names.iter().copied())
    }
}

/// ` (did you mean `x`?)` for the closest candidate within a small edit distance.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= (name.len().max(c.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(suggest("reseach", ["research", "write"]), " (did you mean `research`?)");
        assert_eq!(suggest("zzz", ["research"]), "");
    }
}
