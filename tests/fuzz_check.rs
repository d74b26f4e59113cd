//! Property tests: arbitrary bytes, arbitrary YAML documents built from the format's own
//! keys, and mutated corpus files go through the loader and every check without a panic.
//!
//! Bounded: `PROPTEST_CASES` (default below) cases per property, a few seconds each.

mod support;

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

/// The corpus's YAML files, looked up once (so a missing corpus is reported in one line, not
/// once per case); empty when it is absent outside CI.
fn corpus_files() -> &'static [PathBuf] {
    static FILES: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let Some(dir) = support::corpus::dir() else { return Vec::new() };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|r| {
                r.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    })
}

/// A cascade whose level `i` (a list, or a mapping when the flag is set) holds `fanout` aliases
/// to level `i - 1`, level 0 holding that many strings; the last level is used at `used_at` in
/// a phase. Returns the text and how many values the aliases copy in.
fn alias_doc(levels: &[(usize, bool)], used_at: &str) -> (String, usize) {
    let mut text = String::from("cascade_id: aliases\n");
    // Values each level holds (itself included), and what aliases copied in so far.
    let (mut size, mut copied) = (0usize, 0usize);
    for (i, &(fanout, mapping)) in levels.iter().enumerate() {
        let item = |j: usize| if i == 0 { format!("s{j}") } else { format!("*l{}", i - 1) };
        let body = if mapping {
            let entries: Vec<String> = (0..fanout).map(|j| format!("k{j}: {}", item(j))).collect();
            format!("{{{}}}", entries.join(", "))
        } else {
            format!("[{}]", (0..fanout).map(item).collect::<Vec<_>>().join(", "))
        };
        text.push_str(&format!("l{i}: &l{i} {body}\n"));
        let keys = if mapping { fanout } else { 0 };
        if i == 0 {
            size = 1 + keys + fanout;
        } else {
            copied = copied.saturating_add(fanout.saturating_mul(size));
            size = (1 + keys).saturating_add(fanout.saturating_mul(size));
        }
    }
    let last = levels.len() - 1;
    text.push_str(&format!("phases:\n  - name: p\n    instructions: hi\n    {used_at}: *l{last}\n"));
    (text, copied.saturating_add(size))
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
        // No corpus (outside CI; `support::corpus` said so once): nothing to mutate.
        if files.is_empty() { return Ok(()); }
        let mut text = std::fs::read(pick.get(files)).unwrap();
        for (at, cut, insert) in edits {
            if text.is_empty() { break; }
            let i = at.index(text.len());
            let end = (i + cut).min(text.len());
            text.splice(i..end, insert.bytes());
        }
        run(&text, "mutated.yaml");
    }
}

proptest! {
    // Fewer cases: one just under the limit expands 100k values and checks them.
    #![proptest_config(config(500))]

    #[test]
    fn alias_graphs_never_panic_and_stay_bounded(
        levels in proptest::collection::vec((0usize..12, any::<bool>()), 1..10),
        used_at in proptest::sample::select(&["rules", "instructions", "<<", "context", "soundings"][..]),
    ) {
        let (text, copied) = alias_doc(&levels, used_at);
        let started = std::time::Instant::now();
        let refused = run(text.as_bytes(), "aliases.yaml");
        // Over the limit must be refused, and nothing may take long (an unbounded expansion of
        // 11^9 values would take minutes and gigabytes).
        if copied > windlass::cascade::tree::MAX_ALIAS_NODES {
            prop_assert!(refused, "{copied} values copied in by aliases were accepted:\n{text}");
        }
        prop_assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}:\n{text}", started.elapsed());
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
