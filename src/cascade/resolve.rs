//! Finding files a cascade refers to: sub-cascades (`ref`, `cascade`, `spawn_cascade`)
//! and cascades used as tools or validators on the tool search path.

use super::tool_file::{self, ToolFile};
use super::tree;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// The folder a cascade file's relative references start from: the file's parent, and `.`
/// for a bare file name (whose parent is the empty path, which names no folder).
pub fn folder_of(file: &Path) -> &Path {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Resolve a referenced cascade file.
///
/// Order: relative to the referring file's folder, then the working directory; when that
/// exact file is missing, the same name with the other extensions; then the bare file
/// name in the referring file's folder (compat: the corpus names `.json` siblings and the
/// original repository's paths).
pub fn resolve_reference(reference: &str, referring_dir: &Path, cwd: &Path) -> Option<PathBuf> {
    let reference = reference.trim();
    if reference.is_empty() {
        return None;
    }
    let rel = Path::new(reference);
    let bases = [referring_dir, cwd];
    for base in bases {
        let candidate = base.join(rel);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    for base in bases {
        for ext in EXTENSIONS {
            let candidate = base.join(rel).with_extension(ext);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let file_name = rel.file_name()?;
    let bare = referring_dir.join(file_name);
    if bare.is_file() {
        return Some(bare);
    }
    EXTENSIONS.iter().map(|ext| bare.with_extension(ext)).find(|c| c.is_file())
}

/// A cascade found on the tool search path.
#[derive(Debug, Clone)]
pub struct IndexedCascade {
    pub cascade_id: String,
    pub path: PathBuf,
    /// Only cascades that declare inputs are usable as tools.
    pub has_inputs_schema: bool,
    pub description: Option<String>,
}

/// The cascades in the tool search path, read on first use.
#[derive(Debug)]
pub struct ToolPath {
    dirs: Vec<PathBuf>,
    index: OnceLock<Vec<IndexedCascade>>,
    tool_files: OnceLock<Vec<ToolFile>>,
}

impl ToolPath {
    /// The search path for a cascade in `cascade_dir`: that folder, `./tackle`,
    /// `./cascades`, then the extra folders (`WINDLASS_TOOL_PATH`).
    pub fn new(cascade_dir: &Path, cwd: &Path, extra: &[PathBuf]) -> ToolPath {
        let mut dirs = vec![cascade_dir.to_path_buf(), cwd.join("tackle"), cwd.join("cascades")];
        dirs.extend(extra.iter().cloned());
        dirs.dedup();
        ToolPath { dirs, index: OnceLock::new(), tool_files: OnceLock::new() }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The first cascade with this id (earlier folders win).
    pub fn find(&self, cascade_id: &str) -> Option<&IndexedCascade> {
        self.entries().iter().find(|c| c.cascade_id == cascade_id)
    }

    pub fn entries(&self) -> &[IndexedCascade] {
        self.index.get_or_init(|| self.dirs.iter().flat_map(|d| scan_dir(d)).collect())
    }

    /// The first declarative tool file (`*.tool.json`, `*.tool.yaml`) with this name.
    pub fn find_tool_file(&self, name: &str) -> Option<&ToolFile> {
        self.tool_files().iter().find(|t| t.name == name)
    }

    pub fn tool_files(&self) -> &[ToolFile] {
        self.tool_files.get_or_init(|| self.dirs.iter().flat_map(|d| tool_file::scan_dir(d)).collect())
    }
}

fn scan_dir(dir: &Path) -> Vec<IndexedCascade> {
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !tool_file::is_tool_file(p)
                && p.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e))
        })
        .collect();
    files.sort();
    files.into_iter().filter_map(|p| index_file(&p)).collect()
}

fn index_file(path: &Path) -> Option<IndexedCascade> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc =
        if path.extension().is_some_and(|e| e == "json") { tree::parse_json(&text) } else { tree::parse_yaml(&text) }
            .ok()?;
    let Value::Object(map) = &doc.value else { return None };
    let cascade_id = map.get("cascade_id")?.as_str()?.to_string();
    Some(IndexedCascade {
        cascade_id,
        path: path.to_path_buf(),
        has_inputs_schema: map.get("inputs_schema").is_some_and(|v| v.as_object().is_some_and(|o| !o.is_empty())),
        description: map.get("description").and_then(Value::as_str).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_lives_in_the_current_folder() {
        assert_eq!(folder_of(Path::new("c.yaml")), Path::new("."));
        assert_eq!(folder_of(Path::new("flows/c.yaml")), Path::new("flows"));
        assert_eq!(folder_of(Path::new("/c.yaml")), Path::new("/"));
    }

    #[test]
    fn reference_lookup_order() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("child.yaml"), "cascade_id: c\nphases: []\n").unwrap();
        // exact
        assert_eq!(resolve_reference("child.yaml", &sub, dir.path()), Some(sub.join("child.yaml")));
        // other extension
        assert_eq!(resolve_reference("child.json", &sub, dir.path()), Some(sub.join("child.yaml")));
        // bare name of a foreign path
        assert_eq!(resolve_reference("windlass/examples/child.json", &sub, dir.path()), Some(sub.join("child.yaml")));
        // working directory
        assert_eq!(
            resolve_reference("sub/child.yaml", dir.path().join("x").as_path(), dir.path()),
            Some(sub.join("child.yaml"))
        );
        assert_eq!(resolve_reference("missing.yaml", &sub, dir.path()), None);
    }
}
