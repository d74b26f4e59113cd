//! `windlass check`: load and validate cascades without running them.

use super::Context;
use crate::cascade::check::{check_file, CheckOptions};
use crate::cascade::diagnostic::{Diagnostic, FileReport, Severity};
use crate::error::Error;
use crate::exit_code::ExitCode;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Cascade files, or folders whose *.yaml, *.yml and *.json files are all checked
    #[arg(value_name = "CASCADE", required = true)]
    pub paths: Vec<PathBuf>,

    /// Treat warnings as errors
    #[arg(long)]
    pub strict: bool,

    /// How to print the diagnostics on stdout
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t)]
    pub format: CheckFormat,
}

/// `--format` of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum CheckFormat {
    /// One `file:line:col: severity: message` line per diagnostic
    #[default]
    Human,
    /// One JSON document: {"files": [{"path", "diagnostics"}], "errors", "warnings"}
    Json,
    /// One JSON object per diagnostic, a line each: {"file", "line", "column", "severity",
    /// "code", "message", "field"}; nothing for a clean file
    Ndjson,
}

/// One line of `--format ndjson`: a diagnostic with the file it is about.
#[derive(Debug, Serialize)]
struct Located<'a> {
    file: &'a Path,
    #[serde(flatten)]
    diagnostic: &'a Diagnostic,
}

/// The JSON document of `--format json`.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    files: &'a [FileReport],
    errors: usize,
    warnings: usize,
}

impl CheckArgs {
    pub fn run(self, ctx: &Context) -> Result<ExitCode, Error> {
        let options = CheckOptions { tool_path: ctx.settings.tool_path.clone(), cwd: ctx.settings.working_dir.clone() };
        let mut files = Vec::new();
        for path in &self.paths {
            let expanded = expand(path)?;
            if expanded.is_empty() && !ctx.global.quiet {
                eprintln!("windlass check: note: {} has no *.yaml, *.yml or *.json files", path.display());
            }
            files.extend(expanded);
        }

        let mut reports: Vec<FileReport> = files.iter().map(|file| check_file(file, &options)).collect();
        if self.strict {
            // Before rendering, so every output format and the exit code agree.
            warnings_to_errors(&mut reports);
        }
        let errors: usize = reports.iter().map(FileReport::errors).sum();
        let warnings: usize = reports.iter().map(FileReport::warnings).sum();

        let stdout = match self.format {
            CheckFormat::Human => render_human(&reports),
            CheckFormat::Json => render_json(&Summary { files: &reports, errors, warnings })?,
            CheckFormat::Ndjson => render_ndjson(&reports)?,
        };
        std::io::stdout().lock().write_all(stdout.as_bytes()).map_err(Error::Stdout)?;
        if !ctx.global.quiet {
            eprintln!("{}", summary_line(reports.len(), errors, warnings));
        }
        Ok(if errors > 0 { ExitCode::InvalidCascade } else { ExitCode::Success })
    }
}

/// `--strict`.
fn warnings_to_errors(reports: &mut [FileReport]) {
    for diagnostic in reports.iter_mut().flat_map(|r| r.diagnostics.iter_mut()) {
        if diagnostic.severity == Severity::Warning {
            diagnostic.severity = Severity::Error;
        }
    }
}

/// A file as itself; a folder as its cascade files, sorted so output is stable. Not recursive:
/// a folder of cascades often has subfolders of data that are not cascades.
fn expand(path: &Path) -> Result<Vec<PathBuf>, Error> {
    if !path.is_dir() {
        // Missing and unreadable files are diagnostics of check_file.
        return Ok(vec![path.to_path_buf()]);
    }
    let read_err = |source| Error::ReadDir { path: path.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_err)? {
        let file = entry.map_err(read_err)?.path();
        let is_cascade =
            file.extension().and_then(|ext| ext.to_str()).is_some_and(|ext| ["yaml", "yml", "json"].contains(&ext));
        if is_cascade && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

fn render_human(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        for diagnostic in &report.diagnostics {
            out.push_str(&diagnostic.render(&report.path));
            out.push('\n');
        }
    }
    out
}

fn render_ndjson(reports: &[FileReport]) -> Result<String, Error> {
    let mut out = String::new();
    for report in reports {
        for diagnostic in &report.diagnostics {
            let line = serde_json::to_string(&Located { file: &report.path, diagnostic })
                .map_err(|source| Error::Json { what: "a diagnostic", source })?;
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(out)
}

fn render_json(summary: &Summary) -> Result<String, Error> {
    let mut text =
        serde_json::to_string_pretty(summary).map_err(|source| Error::Json { what: "the check report", source })?;
    text.push('\n');
    Ok(text)
}

/// `checked 3 files: 1 error, 2 warnings`.
fn summary_line(files: usize, errors: usize, warnings: usize) -> String {
    format!("checked {}: {}, {}", plural(files, "file"), plural(errors, "error"), plural(warnings, "warning"))
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(path: &str, severities: &[Severity]) -> FileReport {
        FileReport {
            path: PathBuf::from(path),
            diagnostics: severities
                .iter()
                .map(|&severity| Diagnostic {
                    severity,
                    code: "test",
                    message: "something".to_owned(),
                    line: Some(3),
                    column: Some(5),
                    field: None,
                })
                .collect(),
        }
    }

    #[test]
    fn summary_counts_with_plurals() {
        assert_eq!(summary_line(3, 1, 2), "checked 3 files: 1 error, 2 warnings");
        assert_eq!(summary_line(1, 0, 1), "checked 1 file: 0 errors, 1 warning");
    }

    #[test]
    fn strict_turns_warnings_into_errors() {
        let mut reports = [report("a.yaml", &[Severity::Warning, Severity::Error])];
        warnings_to_errors(&mut reports);
        assert_eq!((reports[0].errors(), reports[0].warnings()), (2, 0));
    }

    #[test]
    fn human_lines_are_file_line_col() {
        let text = render_human(&[report("a.yaml", &[Severity::Error, Severity::Warning])]);
        assert_eq!(text, "a.yaml:3:5: error: something\na.yaml:3:5: warning: something\n");
    }

    #[test]
    fn json_has_files_errors_and_warnings() {
        let reports = [report("a.yaml", &[Severity::Warning])];
        let text = render_json(&Summary { files: &reports, errors: 0, warnings: 1 }).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["files"][0]["path"], "a.yaml");
        assert_eq!(value["files"][0]["diagnostics"][0]["severity"], "warning");
        assert_eq!((value["errors"].as_u64(), value["warnings"].as_u64()), (Some(0), Some(1)));
    }

    #[test]
    fn ndjson_is_one_located_object_per_diagnostic() {
        let reports = [report("a.yaml", &[Severity::Error, Severity::Warning]), report("b.yaml", &[])];
        let text = render_ndjson(&reports).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["file"], "a.yaml");
        assert_eq!((lines[0]["line"].as_u64(), lines[0]["column"].as_u64()), (Some(3), Some(5)));
        assert_eq!((&lines[0]["severity"], &lines[1]["severity"]), (&"error".into(), &"warning".into()));
        assert_eq!((&lines[1]["code"], &lines[1]["message"]), (&"test".into(), &"something".into()));
    }

    #[test]
    fn folders_expand_to_sorted_cascade_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yml", "a.yaml", "c.json", "notes.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.yaml")).unwrap();
        let names: Vec<_> =
            expand(dir.path()).unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.yaml", "b.yml", "c.json"]);
    }
}
