//! `fallback_models` end to end: a model that keeps failing on the provider's side after its
//! retries hands the call to the next model of the phase's list (or the cascade's), and a
//! request the provider refuses is not retried elsewhere.

mod support;

use serde_json::Value;
use support::{FakeLlm, Reply, Sandbox};

/// A fake where `broken` always fails with `status` (asking for no retry delay) and every
/// other model answers with its own name.
fn fake(broken: &'static str, status: u16) -> FakeLlm {
    let llm = FakeLlm::start();
    llm.respond_with(move |body| {
        let model = body["model"].as_str().unwrap_or_default().to_string();
        if model == broken {
            return Reply::error(status, "the model is down").with_retry_after("0");
        }
        Reply::text(format!("answered by {model}"))
    });
    llm
}

fn models_asked(llm: &FakeLlm) -> Vec<String> {
    llm.requests().iter().map(|r| r.body["model"].as_str().unwrap_or_default().to_string()).collect()
}

fn run(llm: &FakeLlm, cascade: &str) -> (i32, String, Vec<Value>) {
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("c.yaml", cascade);
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    let events: Vec<Value> = out.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    // In ndjson the error is in the stream (the `cascade_finished` event), not on stderr.
    (out.code, format!("{}{}", out.stderr, out.stdout), events)
}

fn final_output(events: &[Value]) -> String {
    let end = events.iter().find(|e| e["event"] == "cascade_finished").expect("the run ended");
    end["output"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_phase_whose_model_keeps_failing_is_answered_by_its_next_fallback() {
    let llm = fake("fake/down", 503);
    let (code, stderr, events) = run(
        &llm,
        "cascade_id: c\nphases:\n  - name: ask\n    model: fake/down\n    fallback_models: [fake/second, fake/third]\n    instructions: Answer.\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(final_output(&events), "answered by fake/second");
    let asked = models_asked(&llm);
    assert_eq!(asked.iter().filter(|m| *m == "fake/down").count(), 4, "its retries first: {asked:?}");
    assert_eq!(asked.last().map(String::as_str), Some("fake/second"));
    assert!(!asked.contains(&"fake/third".to_string()), "the list is tried in order and stops at an answer");
    let warning = events.iter().find(|e| e["event"] == "warning").expect("the fallback is told");
    let message = warning["message"].as_str().unwrap();
    assert!(message.contains("fake/down kept failing") && message.contains("falling back to fake/second"), "{message}");
    // The answer is logged under the model that gave it.
    let response = events.iter().find(|e| e["event"] == "llm_response").unwrap();
    assert_eq!(response["model_requested"], "fake/second");
}

#[test]
fn the_cascade_list_serves_phases_without_one_and_a_phase_list_replaces_it() {
    let llm = fake("fake/down", 500);
    let (code, stderr, events) = run(
        &llm,
        "cascade_id: c\nfallback_models: [fake/cascade-wide]\nphases:\n  - name: one\n    model: fake/down\n    instructions: One.\n  - name: two\n    model: fake/down\n    fallback_models: [fake/own]\n    instructions: Two.\n",
    );
    assert_eq!(code, 0, "{stderr}");
    let outputs: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "llm_response")
        .map(|e| e["model_requested"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, ["fake/cascade-wide", "fake/own"]);
    assert_eq!(final_output(&events), "answered by fake/own");
}

#[test]
fn a_refused_request_is_not_sent_to_another_model() {
    let llm = fake("fake/picky", 400);
    let (code, stderr, _) = run(
        &llm,
        "cascade_id: c\nphases:\n  - name: ask\n    model: fake/picky\n    fallback_models: [fake/up]\n    instructions: Answer.\n",
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert_eq!(models_asked(&llm), ["fake/picky"], "no retry and no fallback for a refused request");
}

#[test]
fn without_fallbacks_the_failure_ends_the_run_after_the_retries() {
    let llm = fake("fake/down", 502);
    let (code, stderr, _) =
        run(&llm, "cascade_id: c\nphases:\n  - name: ask\n    model: fake/down\n    instructions: Answer.\n");
    assert_ne!(code, 0);
    assert!(stderr.contains("HTTP 502"), "{stderr}");
    assert_eq!(models_asked(&llm).len(), 4);
}

#[test]
fn check_rejects_a_fallback_list_that_names_no_model() {
    let sb = Sandbox::new();
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: ask\n    fallback_models: ['', fake/up]\n    instructions: Answer.\n",
    );
    let out = sb.run(&["check", "c.yaml"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("fallback_models[0]") && all.contains("must name a model"), "{all}");
    sb.write("d.yaml", "cascade_id: d\nfallback_models: 7\nphases:\n  - name: ask\n    instructions: Answer.\n");
    let out = sb.run(&["check", "d.yaml"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(format!("{}{}", out.stdout, out.stderr).contains("fallback_models"), "{}", out.stderr);
}
