//! `WINDLASS_LIMITS` end to end: a per-endpoint cap on requests in flight holds across
//! parallel soundings, and waiting on it shows to the user.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::requests::all_text;
use support::{FakeLlm, Reply, Sandbox};

const TEN_SOUNDINGS: &str = "cascade_id: c\nphases:\n  - name: tagline\n    model: fake/m\n    instructions: 'Write tagline {{ sounding_index }}.'\n    soundings:\n      factor: 10\n      max_parallel: 10\n      mutate: false\n      evaluator_instructions: Pick one.\n";

fn slow_llm() -> FakeLlm {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        if all_text(body).contains("Winner:") {
            return Reply::text("Winner: 1");
        }
        Reply::text("a tagline").with_delay(Duration::from_millis(150))
    });
    llm
}

#[test]
fn a_concurrency_cap_of_two_holds_across_ten_parallel_soundings() {
    let llm = slow_llm();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "fake/=2,*=50");
    sb.write("c.yaml", TEN_SOUNDINGS);
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let answered = events.iter().filter(|e| e["event"] == "sounding_finished").count();
    assert_eq!(answered, 10, "every sounding ran");
    assert_eq!(llm.max_in_flight(), 2, "the cap of 2 held (and was reached)");
    let waits: Vec<&Value> = events.iter().filter(|e| e["event"] == "limit_wait").collect();
    assert!(waits.len() >= 8, "eight soundings at least had to wait: {}", waits.len());
    assert_eq!(waits[0]["prefix"], "fake/");
    assert_eq!(waits[0]["max_concurrent"], 2);
}

#[test]
fn without_a_limit_the_soundings_run_all_at_once_and_nothing_waits() {
    let llm = slow_llm();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "other/=1");
    sb.write("c.yaml", TEN_SOUNDINGS);
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(llm.max_in_flight() > 2, "max in flight {}", llm.max_in_flight());
    assert!(!out.stdout.contains("\"limit_wait\""));
}

#[test]
fn the_plain_display_says_a_call_waits_on_a_limit() {
    let llm = slow_llm();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "*=1");
    sb.write("c.yaml", TEN_SOUNDINGS.replace("factor: 10", "factor: 2").as_str());
    let out = sb.run(&["run", "c.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("waiting for a slot for fake/m (limit *=1)"), "{all}");
}

#[test]
fn a_malformed_limit_is_a_configuration_error_naming_the_variable() {
    let mut sb = Sandbox::new();
    sb.set("WINDLASS_LIMITS", "fake/=none");
    sb.write("c.yaml", TEN_SOUNDINGS);
    let out = sb.run(&["run", "c.yaml"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("WINDLASS_LIMITS"), "{}", out.stderr);
}
