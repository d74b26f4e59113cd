//! The dependency rules of src/lib.rs, checked on the source text:
//!
//! - `session` does not import `runner` (the engine sits above the durable side);
//! - `cli` builds no store rows and sends no SQL of its own (it calls `host`/`session`);
//! - the engine (`src/runner`) does no terminal IO;
//! - the engine's sub-folders import each other without a cycle, and its top-level files
//!   (the leaves every sub-folder may import) import no sub-folder.
//!
//! Comment lines are skipped, so docs may name anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its code lines (comment lines dropped), sorted by path.
fn code_files(dir: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).unwrap();
                let lines = text.lines().filter(|l| !l.trim_start().starts_with("//")).map(str::to_string).collect();
                out.push((path, lines));
            }
        }
    }
    out.sort();
    out
}

/// `path:line: text` for every code line under `dir` that contains one of `needles`.
fn offending(dir: &str, needles: &[&str]) -> Vec<String> {
    let root = src().join(dir);
    let mut hits = Vec::new();
    for (path, lines) in code_files(&root) {
        for line in &lines {
            if needles.iter().any(|n| line.contains(n)) {
                hits.push(format!("{}: {}", path.strip_prefix(src()).unwrap().display(), line.trim()));
            }
        }
    }
    hits
}

#[test]
fn session_does_not_import_the_engine() {
    let hits = offending("session", &["crate::runner"]);
    assert!(hits.is_empty(), "src/session must not use the engine:\n{}", hits.join("\n"));
}

#[test]
fn the_command_line_builds_no_rows_and_sends_no_sql() {
    // Rows are written and read by `session` and `host`; the command line prints what they
    // hand it (`windlass logs` gets decoded lines), never a store row.
    let rows = ["SessionStateRow", "CascadeSessionRow", "CheckpointRow", "SignalRow", "LogRow"];
    let hits = offending("cli", &rows);
    assert!(hits.is_empty(), "src/cli must not handle store rows:\n{}", hits.join("\n"));
    let sql = ["\"SELECT ", "\"INSERT ", "\"DELETE ", "\"UPDATE ", "\"ALTER ", "\"CREATE "];
    let hits = offending("cli", &sql);
    assert!(hits.is_empty(), "src/cli must not send SQL of its own:\n{}", hits.join("\n"));
}

#[test]
fn the_engine_does_no_terminal_io() {
    let io = ["stdin()", "stdout()", "stderr()", "println!", "eprintln!", "print!(", "eprint!(", "dbg!"];
    let hits = offending("runner", &io);
    assert!(hits.is_empty(), "src/runner must not touch the terminal:\n{}", hits.join("\n"));
}

/// The engine sub-folders (and the top-level files, as `core`) each file of `runner/` names.
fn runner_graph() -> BTreeMap<String, BTreeSet<String>> {
    let runner = src().join("runner");
    let folders: BTreeSet<String> = fs::read_dir(&runner)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, lines) in code_files(&runner) {
        let rel = path.strip_prefix(&runner).unwrap();
        let from = match rel.components().count() {
            1 => "core".to_string(),
            _ => rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned(),
        };
        // How the folders are named from this file: `crate::runner::x`, and `super::x` from
        // the files for which `super` is `runner` (a sub-folder's mod.rs, a top-level file).
        let mut prefixes = vec!["crate::runner::".to_string()];
        let is_folder_mod = rel.components().count() == 2 && rel.ends_with("mod.rs");
        if is_folder_mod || from == "core" {
            prefixes.push("super::".to_string());
        }
        if rel == Path::new("mod.rs") {
            prefixes.push("use ".to_string());
        }
        if rel.components().count() == 2 {
            prefixes.push("super::super::".to_string());
        }
        let edges = graph.entry(from.clone()).or_default();
        for line in &lines {
            for prefix in &prefixes {
                for (at, _) in line.match_indices(prefix.as_str()) {
                    let rest = &line[at + prefix.len()..];
                    for name in names_after(rest) {
                        if folders.contains(&name) && name != from {
                            edges.insert(name);
                        }
                    }
                }
            }
        }
    }
    graph
}

/// The first path segment after a prefix: `x` in `x::y`, or each `x` in `{x, y::z}`.
fn names_after(rest: &str) -> Vec<String> {
    let rest = rest.strip_prefix("pub ").unwrap_or(rest);
    if let Some(group) = rest.strip_prefix('{') {
        let inner = group.split('}').next().unwrap_or("");
        return inner.split(',').filter_map(|item| first_segment(item.trim())).collect();
    }
    first_segment(rest).into_iter().collect()
}

fn first_segment(s: &str) -> Option<String> {
    let name: String = s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// A cycle of `graph` as `a -> b -> a`, if it has one (depth-first search for a back edge).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            return Some(format!("{} -> {node}", path[at..].join(" -> ")));
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_engine_sub_folders_import_each_other_without_a_cycle() {
    let graph = runner_graph();
    assert!(graph.len() > 2, "src/runner has sub-folders: {graph:?}");
    let core = &graph["core"];
    assert!(core.is_empty(), "the top-level files of src/runner import sub-folders: {core:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("the sub-folders of src/runner import each other in a cycle: {cycle}\n{graph:#?}");
    }
}

#[test]
fn the_checks_see_grouped_imports_and_cycles() {
    assert_eq!(names_after("{run::x, children, self}"), ["run", "children", "self"]);
    assert_eq!(names_after("pub toolbox::human;"), ["toolbox"]);
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(find_cycle(&graph(&[("run", "phase"), ("phase", "children")])), None);
    let cycle = find_cycle(&graph(&[("run", "phase"), ("phase", "children"), ("children", "run")]));
    assert_eq!(cycle.as_deref(), Some("children -> run -> phase -> children"));
}
