//! Property tests: arbitrary bytes, arbitrary YAML documents built from the format's own
//! keys, and mutated corpus files go through the loader and every check without a panic.
//!
//! Bounded: `PROPTEST_CASES` (default below) cases per property, a few seconds each.

use proptest::prelude::*;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use windlass::cascade::check::{check_loaded, CheckOptions};
use windlass::cascade::load_slice;

const KEYS: &[&str] = &[
    "cascade_id",
    "phases",
    "cells",
    "name",
    "instructions",
    "tool",
    "for_each_row",
    "handoffs",
    "context",
    "from",
    "exclude",
    "include",
    "include_input",
    "rules",
    "max_turns",
    "max_attempts",
    "loop_until",
    "turn_prompt",
    "retry_instructions",
    "wards",
    "pre",
    "post",
    "turn",
    "validator",
    "mode",
    "soundings",
    "factor",
    "models",
    "reforge",
    "threshold",
    "steps",
    "tackle",
    "inputs",
    "routing",
    "on_error",
    "retry",
    "timeout",
    "sub_cascades",
    "async_cascades",
    "ref",
    "input_map",
    "trigger",
    "human_input",
    "type",
    "options",
    "output_schema",
    "target",
    "phase",
    "bash",
    "python",
    "validators",
    "token_budget",
    "strategy",
    "inputs_schema",
    "callouts",
    "table",
    "decision_points",
    "output_extraction",
    "pattern",
    "store_as",
    "use_native_tools",
    "mutation_mode",
    "<<",
];

const SCALARS: &[&str] = &[
    "a",
    "b",
    "yes",
    "no",
    "on",
    "3",
    "-1",
    "0",
    "abc",
    "{{ input.x }}",
    "{% if %}",
    "{{",
    "set_state",
    "route_to",
    "manifest",
    "simple_validator",
    "blocking",
    "advisory",
    "retry",
    "all",
    "previous",
    "first",
    "@missing.j2",
    "sql:q.sql",
    "shell:",
    "python:windlass.demo_tools.parse_json",
    "30s",
    "1.5h",
    "on_end",
    "next",
    "self",
    "",
];

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        proptest::sample::select(SCALARS).prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())),
        ]
    })
}

/// A cascade-shaped document: mostly right, with arbitrary values in the phases.
fn cascade_doc() -> impl Strategy<Value = Value> {
    (proptest::collection::vec(value(), 0..6), value()).prop_map(|(phases, extra)| {
        let mut m = Map::new();
        m.insert("cascade_id".into(), Value::String("fuzz".into()));
        m.insert("phases".into(), Value::Array(phases));
        if let Value::Object(e) = extra {
            m.extend(e);
        }
        Value::Object(m)
    })
}

fn to_yaml(v: &Value) -> String {
    fn conv(v: &Value) -> yaml_rust2::Yaml {
        use yaml_rust2::Yaml;
        match v {
            Value::Null => Yaml::Null,
            Value::Bool(b) => Yaml::Boolean(*b),
            Value::Number(n) => n.as_i64().map(Yaml::Integer).unwrap_or_else(|| Yaml::Real(n.to_string())),
            Value::String(s) => Yaml::String(s.clone()),
            Value::Array(a) => Yaml::Array(a.iter().map(conv).collect()),
            Value::Object(o) => Yaml::Hash(o.iter().map(|(k, v)| (Yaml::String(k.clone()), conv(v))).collect()),
        }
    }
    let mut out = String::new();
    let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
    emitter.multiline_strings(true);
    emitter.dump(&conv(v)).expect("emit yaml");
    out
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "yaml")).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Load and check; returns whether any error was reported.
fn run(bytes: &[u8], name: &str) -> bool {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cascades");
    let loaded = load_slice(bytes, &dir.join(name));
    let diags = check_loaded(&loaded, &CheckOptions { tool_path: Vec::new(), cwd: dir });
    diags.iter().any(|d| d.severity == windlass::cascade::Severity::Error)
}

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default_cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run(&bytes, "fuzz.yaml");
        run(&bytes, "fuzz.json");
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,600}") {
        run(text.as_bytes(), "fuzz.yaml");
    }

    #[test]
    fn arbitrary_cascade_documents_never_panic(doc in cascade_doc()) {
        run(to_yaml(&doc).as_bytes(), "fuzz.yaml");
        run(serde_json::to_string_pretty(&doc).unwrap().as_bytes(), "fuzz.json");
    }

    #[test]
    fn mutated_corpus_files_never_panic(
        pick in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0usize..40, ".{0,8}"), 1..6),
    ) {
        let files = corpus_files();
        prop_assume!(!files.is_empty());
        let mut text = std::fs::read(pick.get(&files)).unwrap();
        for (at, cut, insert) in edits {
            if text.is_empty() { break; }
            let i = at.index(text.len());
            let end = (i + cut).min(text.len());
            text.splice(i..end, insert.bytes());
        }
        run(&text, "mutated.yaml");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [1_000usize, 100_000] {
        let flow = format!("cascade_id: x\nphases: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        assert!(run(flow.as_bytes(), "deep.yaml"));
        let json = format!("{{\"cascade_id\": \"x\", \"phases\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
        assert!(run(json.as_bytes(), "deep.json"));
        let block: String = (0..depth.min(5_000)).map(|i| format!("{}- \n", "  ".repeat(i))).collect();
        assert!(run(format!("cascade_id: x\nphases:\n{block}").as_bytes(), "deep_block.yaml"));
    }
}
