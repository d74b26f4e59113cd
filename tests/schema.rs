//! `windlass schema`: the JSON Schema of the cascade format says what the loader accepts.
//!
//! Every corpus file that `windlass check` accepts validates against it, and so do the
//! hand-written cascades below, which use the short and long forms and the lax scalars; the
//! wrong-typed ones fail both `check` and the schema. (The published copy,
//! `schema/cascade.schema.json`, is kept equal to this output by `tests/generated_files.rs`.)

mod support;

use serde_json::Value;
use std::path::Path;
use support::Sandbox;
use windlass::cascade::tree;

/// The schema as the binary prints it, checked against its meta-schema.
fn schema() -> jsonschema::Validator {
    let out = Sandbox::new().run(&["schema"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let schema = out.json();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("not a valid JSON Schema: {e}"));
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// The document as the loader parses it (YAML, and so JSON too).
fn parse(text: &str) -> Value {
    tree::parse_yaml(text).unwrap_or_else(|d| panic!("does not parse: {d:?}")).value
}

/// The schema's complaints about `doc`, one line each.
fn complaints(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn every_corpus_file_that_check_accepts_validates() {
    let Some(corpus_dir) = support::corpus::dir() else { return };
    let validator = schema();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_windlass"))
        .args(["check", "--format", "json"])
        .arg(&corpus_dir)
        .current_dir(&corpus_dir)
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run windlass");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut accepted = 0;
    let mut failures = Vec::new();
    for file in report["files"].as_array().expect("files") {
        let errors = file["diagnostics"].as_array().unwrap().iter().filter(|d| d["severity"] == "error").count();
        if errors > 0 {
            continue;
        }
        let path = Path::new(file["path"].as_str().unwrap());
        let text = std::fs::read_to_string(path).unwrap();
        let problems = complaints(&validator, &parse(&text));
        if !problems.is_empty() {
            failures.push(format!("{}:\n    {}", path.display(), problems.join("\n    ")));
        }
        accepted += 1;
    }
    assert!(accepted >= 100, "expected the corpus's accepted files, found {accepted}");
    assert!(failures.is_empty(), "accepted by check, refused by the schema:\n{}", failures.join("\n"));
}

/// Cascades the loader accepts: short and long forms, aliases, and lax scalars.
const VALID: &[(&str, &str)] = &[
    ("minimal", "cascade_id: m\nphases:\n  - name: a\n    instructions: hi\n"),
    (
        "long forms",
        r#"
cascade_id: long
description: every long form
inputs_schema: { topic: The topic }
validators:
  nonempty: { bash: "test -n \"$CONTENT\"" }
token_budget: { max_total: 9000, strategy: prune_oldest, warning_threshold: "0.8" }
phases:
  - name: draft
    instructions: "Write about {{ input.topic }}"
    model: some/model
    tackle: [read_file, manifest]
    context: { from: [all, { phase: other, include: [output, winner], as_role: system }], include_input: yes }
    handoffs: [review, { target: done, description: when finished }]
    rules: { max_turns: "3", max_attempts: 2, loop_until: nonempty, loop_until_silent: on }
    wards:
      pre: [{ validator: { bash: "test -n \"$CONTENT\"" }, mode: blocking }]
      post: [{ validator: { tool: file_exists, inputs: { strict: true } }, mode: retry, max_attempts: 2 }]
    soundings:
      factor: "{{ input.n }}"
      mode: aggregate
      models: { model-a: { factor: 2 }, model-b: ~ }
      reforge: { steps: 2, threshold: { validator: nonempty } }
    human_input: { type: choice, options: [a, b], timeout_seconds: "30", on_timeout: default }
    callouts: { output: Draft }
    output_extraction: { pattern: "x(.*)", store_as: found, required: "true" }
    sub_cascades: [{ ref: child.yaml, context_in: no }]
    async_cascades: [{ ref: side.yaml, trigger: on_end }]
  - name: review
    tool: shell:echo ok
    timeout: 1.5h
    retry: { max_attempts: "4", backoff: exponential }
    on_error: { instructions: "Explain {{ error }}", traits: manifest }
  - name: rows
    for_each_row: { table: _draft, instructions: "Row {{ row }}", max_parallel: 4, on_error: fail_fast }
  - name: done
    instructions: fine
    human_input: "yes"
    callouts: Finished
    candidates: { factor: 3, models: [a, b] }
"#,
    ),
    (
        "cells and an unknown key",
        "cascade_id: c\nmade_by: me\ncells:\n  - name: a\n    tool: python:x.y\n    colour: blue\n",
    ),
];

/// Cascades the loader refuses because a value has the wrong shape.
const WRONG: &[(&str, &str)] = &[
    ("a word for a count", "cascade_id: w\nphases:\n  - name: a\n    instructions: hi\n    rules: { max_turns: lots }\n"),
    ("a number for handoffs", "cascade_id: w\nphases:\n  - name: a\n    instructions: hi\n    handoffs: 5\n"),
    ("an unknown enum value", "cascade_id: w\nphases:\n  - name: a\n    instructions: hi\n    wards: { post: [{ validator: v, mode: sometimes }] }\n"),
    ("two inline validator forms", "cascade_id: w\nphases:\n  - name: a\n    instructions: hi\n    rules: { loop_until: { bash: x, python: y } }\n"),
    ("no phases", "cascade_id: w\nphases: []\n"),
    ("no cascade_id", "phases:\n  - name: a\n    instructions: hi\n"),
    ("a phase without a name", "cascade_id: w\nphases:\n  - instructions: hi\n"),
];

#[test]
fn hand_written_cascades_validate_exactly_when_check_accepts_them() {
    let validator = schema();
    let sb = Sandbox::new();
    for (what, text) in VALID {
        sb.write("c.yaml", text);
        let check = sb.run(&["check", "c.yaml"]);
        assert_eq!(check.code, 0, "{what}: check refuses it: {}", check.stdout);
        let problems = complaints(&validator, &parse(text));
        assert!(problems.is_empty(), "{what}: the schema refuses it:\n{}", problems.join("\n"));
    }
    for (what, text) in WRONG {
        sb.write("c.yaml", text);
        let check = sb.run(&["check", "c.yaml"]);
        assert_eq!(check.code, 3, "{what}: check accepts it: {}", check.stderr);
        assert!(!validator.is_valid(&parse(text)), "{what}: the schema accepts it");
    }
}

#[test]
fn the_schema_describes_keys_for_editors() {
    let out = Sandbox::new().run(&["schema"]);
    let schema = out.json();
    let phase = &schema["$defs"]["Phase"];
    let instructions = phase["properties"]["instructions"]["description"].as_str().unwrap_or_default();
    assert!(instructions.contains("LLM phase"), "doc comments become descriptions: {instructions}");
    assert_eq!(phase["required"], serde_json::json!(["name"]));
    let mode = &schema["$defs"]["WardMode"];
    let modes: Vec<&str> = mode["oneOf"]
        .as_array()
        .map(|v| v.iter().filter_map(|m| m["const"].as_str()).collect())
        .or_else(|| mode["enum"].as_array().map(|v| v.iter().filter_map(Value::as_str).collect()))
        .unwrap_or_default();
    assert_eq!(modes, ["blocking", "retry", "advisory"], "{mode}");
}

#[test]
fn the_command_prints_the_published_file_and_needs_no_configuration() {
    let mut sb = Sandbox::new();
    sb.set("WINDLASS_CLICKHOUSE_PORT", "not a port");
    let out = sb.run(&["schema"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let published = Path::new(env!("CARGO_MANIFEST_DIR")).join(windlass::cascade::schema::PUBLISHED_PATH);
    assert_eq!(out.stdout, std::fs::read_to_string(published).expect("the published schema"));
}
