//! Cascade-level LLM validators (cascade-format.md, "Validators") through the binary:
//! `validators: {name: {instructions, model, max_turns}}` judged by the fake endpoint from
//! `loop_until` and wards, and what `check` says about them.

mod support;

use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::requests::last_user;
use support::{FakeLlm, Reply, Sandbox};

const JUDGE: &str = "validators:
  tidy:
    instructions: 'JUDGE whether this is tidy: {{ input.content }} (asked about {{ input.original_input.topic }})'
    model: judge/model
";

/// Messages of a request as (role, content).
fn messages(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap_or("").to_string(), m["content"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn loop_until_asks_a_cascade_level_judge_until_it_says_yes() {
    let llm = FakeLlm::start();
    let verdicts = Arc::new(AtomicUsize::new(0));
    let seen = verdicts.clone();
    llm.respond_with(move |body| {
        if last_user(body).starts_with("JUDGE") {
            return match seen.fetch_add(1, Ordering::SeqCst) {
                0 => Reply::text("Not yet.\n```json\n{\"valid\": false, \"reason\": \"too messy\"}\n```"),
                _ => Reply::text("{\"valid\": true, \"reason\": \"tidy now\"}"),
            };
        }
        let n = body["messages"].as_array().unwrap().len();
        Reply::text(format!("draft with {n} messages"))
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        &format!(
            "cascade_id: c\ninputs_schema:\n  topic: t\n{JUDGE}phases:\n  - name: write\n    instructions: Write about {{{{ input.topic }}}}.\n    rules:\n      max_attempts: 3\n      loop_until: tidy\n      retry_instructions: 'Fix: {{{{ validation_error }}}}'\n"
        ),
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson", "-i", "topic=owls"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    let roles: Vec<String> = reqs.iter().map(|r| last_user(&r.body).chars().take(5).collect()).collect();
    assert_eq!(roles, ["Write", "JUDGE", "Fix: ", "JUDGE"], "draft, no, retry, yes; nothing more");
    // The judge's request: its own model, one user message, the content and the cascade input.
    let judge = &reqs[1].body;
    assert_eq!(judge["model"], "judge/model");
    assert_eq!(
        messages(judge),
        [("user".to_string(), "JUDGE whether this is tidy: draft with 1 messages (asked about owls)".to_string())]
    );
    assert_eq!(last_user(&reqs[2].body), "Fix: too messy", "the judge's reason drives the retry");
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let verdicts: Vec<(bool, &str)> = events
        .iter()
        .filter(|e| e["event"] == "validator_verdict")
        .map(|e| (e["valid"].as_bool().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(verdicts, [(false, "too messy"), (true, "tidy now")]);
    // Logged like every other call: a request and a response event per judge call.
    let judged =
        events.iter().filter(|e| e["event"] == "llm_response" && e["model_requested"] == "judge/model").count();
    assert_eq!(judged, 2);
    assert_eq!(events.last().unwrap()["output"], "draft with 3 messages");
}

#[test]
fn a_blocking_ward_with_a_cascade_level_judge_stops_the_cascade() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        if last_user(body).starts_with("JUDGE") {
            return Reply::text("INVALID, this rambles.");
        }
        Reply::text("a rambling draft")
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        &format!(
            "cascade_id: c\ninputs_schema:\n  topic: t\n{JUDGE}phases:\n  - name: draft\n    instructions: Draft.\n    wards:\n      post:\n        - validator: tidy\n          mode: blocking\n  - name: publish\n    instructions: PUBLISH\n"
        ),
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json", "-i", "topic=owls"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let err = out.json()["errors"][0].as_str().unwrap().to_string();
    assert!(err.contains("tidy") && err.contains("this rambles"), "{err}");
    let users: Vec<String> = llm.requests().iter().map(|r| last_user(&r.body)).collect();
    assert_eq!(users, ["Draft.", "JUDGE whether this is tidy: a rambling draft (asked about owls)"]);
}

#[test]
fn a_judge_with_two_turns_is_asked_again_and_its_last_reply_is_the_verdict() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let all = messages(body);
        if all[0].1.starts_with("JUDGE") {
            // First turn says no, the second (after the turn prompt) says yes.
            return Reply::text(if all.len() == 1 {
                "{\"valid\": false}"
            } else {
                "{\"valid\": true, \"reason\": \"ok\"}"
            });
        }
        Reply::text("text")
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nvalidators:\n  twice:\n    instructions: 'JUDGE {{ input.content }}'\n    max_turns: 2\nphases:\n  - name: w\n    instructions: Write.\n    wards:\n      post:\n        - validator: twice\n          mode: blocking\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 3);
    let second = messages(&reqs[2].body);
    assert_eq!(second.len(), 3, "{second:?}");
    assert_eq!(second[1], ("assistant".to_string(), "{\"valid\": false}".to_string()));
    assert_eq!(second[2].0, "user");
    assert_eq!(reqs[2].body["model"], "test/model", "no model: the run's default");
}

#[test]
fn check_accepts_judges_and_locates_unknown_validator_names() {
    let sb = Sandbox::new();
    sb.write(
        "ok.yaml",
        "cascade_id: ok\nvalidators:\n  tidy:\n    instructions: 'Is {{ input.content }} tidy? Asked: {{ input.original_input }}'\n    model: m\n    max_turns: 2\n  alias: tidy\nphases:\n  - name: w\n    instructions: Write.\n    rules:\n      loop_until: alias\n    wards:\n      pre:\n        - validator: tidy\n",
    );
    let out = sb.run(&["check", "ok.yaml", "--strict"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    sb.write(
        "bad.yaml",
        "cascade_id: bad\nvalidators:\n  tidy:\n    instructions: 'Is {{ input.text }} tidy?'\n    max_turn: 2\n  other: nosuch\nphases:\n  - name: w\n    instructions: Write.\n    rules:\n      loop_until: tidyy\n",
    );
    let out = sb.run(&["check", "bad.yaml", "--format", "json"]);
    assert_eq!(out.code, 3, "{}", out.stdout);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let found: Vec<(String, String, u64, String)> = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |sev: &str, code: &str, line: u64, text: &str| {
        found.iter().any(|(s, c, l, m)| s == sev && c == code && *l == line && m.contains(text))
    };
    assert!(has("warning", "undeclared-input", 4, "input.text"), "{found:#?}");
    assert!(has("warning", "unknown-key", 5, "max_turn"), "{found:#?}");
    assert!(has("error", "unknown-validator", 6, "`nosuch`"), "{found:#?}");
    assert!(has("error", "unknown-validator", 11, "did you mean `tidy`?"), "{found:#?}");
}
