//! Validation and exploration end to end: validators, wards, output schemas, soundings,
//! deterministic routing, sub-cascades, session tables, against the fake endpoint.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::requests::{all_text, last_user};
use support::{responder, FakeLlm, Reply, Sandbox};

#[test]
fn loop_until_fails_once_then_passes_and_the_retry_carries_the_reason() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("too short"));
    llm.push(Reply::text("This answer is certainly long enough to pass."));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\ninputs_schema:\n  min_length: minimum\nphases:\n  - name: write\n    instructions: Write something.\n    rules:\n      max_attempts: 3\n      loop_until: simple_validator\n      retry_instructions: 'Attempt {{ attempt }}/{{ max_attempts }} failed: {{ validation_error }}'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json", "--input", "{\"min_length\": 20}"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["output"], "This answer is certainly long enough to pass.");
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 2, "passes on the second attempt, no third");
    let retry = last_user(&reqs[1].body);
    assert!(retry.starts_with("Attempt 2/3 failed:") && retry.contains("at least 20"), "{retry}");
    // The validation goal was announced to the model (loop_until without silent).
    assert!(all_text(&reqs[0].body).contains("simple_validator"));
}

#[test]
fn a_blocking_post_ward_stops_the_cascade() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("nothing useful here"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: draft\n    instructions: Draft.\n    wards:\n      post:\n        - validator: keyword_validator\n          mode: blocking\n  - name: publish\n    instructions: PUBLISH PHASE\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json", "-i", "keywords=MUSTHAVE"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["status"], "error");
    let err = doc["errors"][0].as_str().unwrap();
    assert!(err.contains("keyword_validator") && err.contains("MUSTHAVE"), "{err}");
    assert!(out.stderr.contains("MUSTHAVE"), "the reason is on stderr: {}", out.stderr);
    assert!(llm.requests().iter().all(|r| !all_text(&r.body).contains("PUBLISH PHASE")), "the next phase never ran");
}

#[test]
fn an_output_schema_failure_is_repaired_on_the_second_attempt() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("Sure! The name is Ada."));
    llm.push(Reply::text("```json\n{\"name\": \"Ada\", \"age\": 36}\n```"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: extract\n    instructions: Extract the person.\n    rules:\n      max_attempts: 2\n      retry_instructions: 'Fix the JSON: {{ schema_error }}'\n    output_schema:\n      type: object\n      required: [name, age]\n      properties:\n        name: {type: string}\n        age: {type: integer}\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let output: Value = serde_json::from_str(out.json()["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, serde_json::json!({"name": "Ada", "age": 36}));
    let reqs = llm.requests();
    assert!(all_text(&reqs[0].body).contains("JSON Schema"), "the schema is shown to the model");
    assert!(
        last_user(&reqs[1].body).starts_with("Fix the JSON: the output is not JSON"),
        "{}",
        last_user(&reqs[1].body)
    );
}

#[test]
fn an_output_schema_that_never_passes_fails_the_phase() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("no json, ever"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: extract\n    instructions: x\n    output_schema: {type: object}\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("output_schema"), "{}", out.stderr);
}

#[test]
fn three_soundings_run_in_parallel_and_the_named_winner_continues() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let text = all_text(body);
        if text.contains("The attempts are numbered 1 to 3") {
            return Reply::text("Attempt 3 is the most vivid.");
        }
        let user = last_user(body);
        let n = user.chars().find(|c| c.is_ascii_digit()).unwrap_or('?');
        Reply::text(format!("tagline number {n}")).with_delay(Duration::from_secs(1))
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: tagline\n    instructions: 'Write tagline {{ sounding_index }}.'\n    soundings:\n      factor: 3\n      max_parallel: 3\n      mutate: false\n      evaluator_instructions: Pick the most vivid one.\n  - name: use\n    instructions: 'Use: {{ outputs.tagline }}'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let started = events.iter().filter(|e| e["event"] == "sounding_started").count();
    assert_eq!(started, 3);
    let evaluated = events.iter().find(|e| e["event"] == "soundings_evaluated").expect("evaluator event");
    assert_eq!(evaluated["winner"], 2);
    assert!(evaluated["reply"].as_str().unwrap().contains("Attempt 3"));
    let result = events.last().unwrap();
    assert_eq!(result["lineage"][0]["output"], "tagline number 2");
    // Three 1 s attempts in parallel: about one second, not three (plus the `use` phase's 1 s).
    assert!(out.elapsed < Duration::from_millis(2900), "took {:?}", out.elapsed);
}

#[test]
fn deterministic_routing_on_route_runs_only_the_matching_branch() {
    let llm = FakeLlm::start();
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: check\n    tool: python:windlass.demo_tools.validate_sql\n    inputs:\n      query: SELECT 1\n    routing:\n      valid: good\n      invalid: bad\n  - name: bad\n    instructions: BAD BRANCH\n    handoffs: [end]\n  - name: good\n    instructions: GOOD BRANCH\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let phases: Vec<String> =
        out.json()["lineage"].as_array().unwrap().iter().map(|l| l["phase"].as_str().unwrap().to_string()).collect();
    assert_eq!(phases, ["check", "good"]);
    assert!(llm.requests().iter().all(|r| !all_text(&r.body).contains("BAD BRANCH")));
}

#[test]
fn a_sub_cascade_output_feeds_a_later_parent_template() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let u = last_user(body);
        if u.contains("CHILD TASK") {
            Reply::text("CHILD-RESULT-42")
        } else {
            Reply::text("parent reply")
        }
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("child.yaml", "cascade_id: helper\ninputs_schema:\n  topic: t\nphases:\n  - name: work\n    instructions: 'CHILD TASK about {{ input.topic }}'\n");
    sb.write(
        "parent.yaml",
        "cascade_id: parent\nphases:\n  - name: delegate\n    instructions: Delegate.\n    sub_cascades:\n      - ref: child.json\n        input_map:\n          topic: '{{ input.topic }}'\n  - name: report\n    instructions: 'The helper said {{ outputs.helper }} and {{ state.output_work }}'\n",
    );
    let out = sb.run(&["run", "parent.yaml", "-q", "-i", "topic=owls"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert!(reqs.iter().any(|r| last_user(&r.body) == "CHILD TASK about owls"));
    let report =
        reqs.iter().map(|r| last_user(&r.body)).find(|u| u.starts_with("The helper said")).expect("report phase");
    assert_eq!(report, "The helper said CHILD-RESULT-42 and CHILD-RESULT-42");
}

#[test]
fn two_sql_data_phases_share_the_session_database() {
    let sb = Sandbox::new();
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: first\n    tool: sql_data\n    inputs:\n      query: SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (40, 'c')) AS t(n, s)\n  - name: second\n    tool: sql_data\n    inputs:\n      query: SELECT sum(n) AS total, count(*) AS rows FROM _first\n",
    );
    // No LLM phase: no key needed even on the default endpoint.
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let second = out.json()["output"].clone();
    assert_eq!(second["rows"][0]["total"], 43);
    assert_eq!(second["table"], "_second");
}

#[test]
fn windlass_udf_calls_the_model_from_sql() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let u = last_user(body);
        let value = u.rsplit("Value: ").next().unwrap_or("").to_string();
        Reply::text(value.to_uppercase())
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: t\n    tool: sql_data\n    inputs:\n      query: |\n        SELECT name, windlass_udf('Shout it', name) AS loud\n        FROM (VALUES ('ada'), ('bob'), ('ada')) AS t(name) ORDER BY name\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = out.json()["output"].clone();
    let loud: Vec<&str> = rows["rows"].as_array().unwrap().iter().map(|r| r["loud"].as_str().unwrap()).collect();
    assert_eq!(loud, ["ADA", "ADA", "BOB"]);
    assert_eq!(llm.request_count(), 2, "each distinct value is asked once");
}

#[test]
fn class_b_files_that_only_need_a_builtin_validator_complete() {
    let Some(corpus) = support::corpus::dir() else { return };
    let llm = FakeLlm::start();
    llm.respond_with(responder::cooperative);
    let sb = Sandbox::with_llm(&llm.url());
    let readme = std::fs::read_to_string(corpus.join("README.md")).unwrap();
    let files: Vec<String> = readme
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('|').map(str::trim).collect();
            (c.len() > 6 && c[2] == "B" && c[6] == "validator cascades (absent)").then(|| c[1].to_string())
        })
        .collect();
    assert!(files.len() >= 10, "{files:?}");
    let input = r#"{"topic": "tides", "min_length": 10, "max_length": 5000, "keywords": "important"}"#;
    let mut failures = Vec::new();
    for f in &files {
        let out = sb.run(&["run", corpus.join(f).to_str().unwrap(), "-q", "--input", input]);
        if out.code != 0 {
            failures.push(format!("{f}: exit {}: {}", out.code, out.stderr.lines().next().unwrap_or("")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_cascade_that_includes_itself_stops_at_the_depth_limit() {
    let llm = FakeLlm::start();
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "loop.yaml",
        "cascade_id: loop\nphases:\n  - name: again\n    instructions: x\n    sub_cascades:\n      - ref: loop.yaml\n",
    );
    let out = sb.run(&["run", "loop.yaml", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("deeper than 10 levels"), "{}", out.stderr);
}

#[test]
fn async_cascades_run_beside_the_parent_and_are_waited_for() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        if last_user(body).contains("BACKGROUND") {
            Reply::text("bg done").with_delay(Duration::from_millis(600))
        } else {
            Reply::text("main done")
        }
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("bg.yaml", "cascade_id: bg\nphases:\n  - name: work\n    instructions: BACKGROUND job\n");
    sb.write(
        "main.yaml",
        "cascade_id: main\nphases:\n  - name: start\n    instructions: Main job.\n    async_cascades:\n      - ref: bg.yaml\n        trigger: on_start\n      - ref: bg.yaml\n        trigger: on_end\n",
    );
    let out = sb.run(&["run", "main.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let started: Vec<&Value> =
        events.iter().filter(|e| e["event"] == "sub_cascade_started" && e["async"] == true).collect();
    assert_eq!(started.len(), 2);
    // Both children finished before the process ended, with their own session ids.
    let finished = events.iter().filter(|e| e["event"] == "cascade_finished" && e["depth"] == 1).count();
    assert_eq!(finished, 2);
    let ids: std::collections::HashSet<&str> =
        started.iter().map(|e| e["child_session_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(llm.requests().iter().filter(|r| last_user(&r.body).contains("BACKGROUND")).count(), 2);
}
