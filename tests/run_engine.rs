//! `windlass run` end to end: the real binary against the fake OpenAI-compatible server.

mod support;

use serde_json::{json, Value};
use support::requests::{all_text, last_user};
use support::{FakeLlm, Reply, Sandbox};

#[test]
fn set_state_from_a_prompt_mode_tool_call_reaches_a_later_template() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("Saving it.\n```json\n{\"tool\": \"set_state\", \"arguments\": {\"key\": \"title\", \"value\": \"Moby Dick\"}}\n```"));
    llm.push(Reply::text("Stored the title."));
    llm.push(Reply::text("An outline."));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: pick\n    instructions: Pick a title and store it.\n    tackle: [set_state]\n  - name: outline\n    instructions: 'Outline for {{ state.title }}.'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "An outline.");
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 3);
    // The tool description went out in prompt mode, and the result came back to the model.
    assert!(all_text(&reqs[0].body).contains("set_state"));
    assert!(last_user(&reqs[1].body).contains("state.title set"), "{}", reqs[1].body);
    assert_eq!(last_user(&reqs[2].body), "Outline for Moby Dick.");
}

#[test]
fn context_flows_from_one_phase_to_the_next() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("FACT-8472: owls can rotate their heads 270 degrees."));
    llm.push(Reply::text("summary"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: research\n    instructions: Find a fact.\n  - name: write\n    instructions: Summarise.\n    context:\n      from: [research]\n  - name: isolated\n    instructions: Nothing before me.\n",
    );
    llm.push(Reply::text("alone"));
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert!(all_text(&reqs[1].body).contains("FACT-8472"), "{}", all_text(&reqs[1].body));
    // No context: a clean slate.
    assert!(!all_text(&reqs[2].body).contains("FACT-8472"));
}

#[test]
fn route_to_picks_one_handoff_and_the_other_never_runs() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("<tool_call>{\"name\": \"route_to\", \"arguments\": {\"target\": \"for_kids\"}}</tool_call>"));
    llm.push(Reply::text("Kids it is."));
    llm.push(Reply::text("A simple story."));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: triage\n    instructions: Decide the audience.\n    handoffs: [for_experts, for_kids]\n  - name: for_experts\n    instructions: EXPERT PHASE\n  - name: for_kids\n    instructions: KIDS PHASE\n",
    );
    let out = sb.run(&["run", "c.yaml", "--format", "json", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let phases: Vec<&str> = doc["lineage"].as_array().unwrap().iter().map(|l| l["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["triage", "for_kids"]);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 3);
    assert!(all_text(&reqs[0].body).contains("for_experts"), "the menu lists both targets");
    assert!(reqs.iter().all(|r| !all_text(&r.body).contains("EXPERT PHASE")));
    assert_eq!(last_user(&reqs[2].body), "KIDS PHASE");
}

#[test]
fn route_to_outside_the_handoffs_is_an_error_the_model_sees() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("```json\n{\"tool\": \"route_to\", \"arguments\": {\"target\": \"nowhere\"}}\n```"));
    llm.push(Reply::text("Sorry."));
    llm.push(Reply::text("b ran"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: a\n    instructions: go\n    handoffs: [b, c]\n  - name: b\n    instructions: B\n  - name: c\n    instructions: C\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert!(last_user(&reqs[1].body).contains("not a handoff"), "{}", last_user(&reqs[1].body));
    // No valid choice: the first handoff.
    assert_eq!(last_user(&reqs[2].body), "B");
}

#[test]
fn native_tool_calls_go_through_the_tools_field() {
    let llm = FakeLlm::start();
    llm.push(Reply::tool_call("call_7", "set_state", json!({"key": "color", "value": "teal"})));
    llm.push(Reply::text("done"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: a\n    instructions: Pick a colour.\n    tackle: [set_state]\n    use_native_tools: true\n",
    );
    let out = sb.run(&["run", "c.yaml", "--format", "json", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["state"]["color"], "teal");
    let reqs = llm.requests();
    assert_eq!(reqs[0].body["tools"][0]["function"]["name"], "set_state");
    let msgs = reqs[1].body["messages"].as_array().unwrap();
    let tool_msg = msgs.iter().find(|m| m["role"] == "tool").expect("a tool message");
    assert_eq!(tool_msg["tool_call_id"], "call_7");
    // Native mode does not describe tools in a system message.
    assert!(!all_text(&reqs[0].body).contains("To call a tool"));
}

#[test]
fn json_result_has_tokens_and_cost() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("one").with_usage(100, 20, Some(0.001)));
    llm.push(Reply::text("two").with_usage(50, 10, Some(0.0005)));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: costs\nphases:\n  - name: a\n    instructions: x\n  - name: b\n    instructions: y\n",
    );
    let out = sb.run(&["run", "c.yaml", "--format", "json", "--session", "my-session_1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["session_id"], "my-session_1");
    assert_eq!(doc["cascade_id"], "costs");
    assert_eq!(doc["status"], "completed");
    assert_eq!(doc["output"], "two");
    assert_eq!(doc["tokens_in"], 150);
    assert_eq!(doc["tokens_out"], 30);
    assert!((doc["cost"].as_f64().unwrap() - 0.0015).abs() < 1e-9);
    for key in ["state", "lineage", "errors", "duration_ms"] {
        assert!(doc.get(key).is_some(), "missing {key}");
    }
    // Not a terminal: plain timestamped lines on stderr.
    assert!(out.stderr.contains("phase a"), "{}", out.stderr);
}

#[test]
fn ndjson_streams_events_then_the_result() {
    let llm = FakeLlm::start();
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n");
    let out = sb.run(&["run", "c.yaml", "--format", "ndjson", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    for e in ["cascade_started", "phase_started", "llm_request", "llm_response", "phase_finished", "cascade_finished"] {
        assert!(events.contains(&e), "{e} in {events:?}");
    }
    let last = lines.last().unwrap();
    assert_eq!(last["status"], "completed");
    assert_eq!(last["output"], "ok");
}

#[test]
fn a_429_and_a_500_are_retried_into_success() {
    let llm = FakeLlm::start();
    llm.push(Reply::error(429, "slow down").with_retry_after("0"));
    llm.push(Reply::error(500, "oops"));
    llm.push(Reply::text("finally"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n");
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "finally");
    assert_eq!(llm.request_count(), 3);
}

#[test]
fn exit_codes_for_bad_cascade_missing_key_and_dead_endpoint() {
    let sb = Sandbox::new();
    sb.write("bad.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n    handoffs: [ghost]\n");
    let out = sb.run(&["run", "bad.yaml"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("bad.yaml:5") && out.stderr.contains("ghost"), "{}", out.stderr);

    sb.write("ok.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n");
    // Default endpoint (OpenRouter), no key: exit 4 naming the variable, before any call.
    let out = sb.run(&["run", "ok.yaml"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("OPENROUTER_API_KEY"), "{}", out.stderr);

    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut dead = Sandbox::new();
    dead.set("WINDLASS_BASE_URL", &format!("http://127.0.0.1:{port}/v1"));
    dead.write("ok.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n");
    let out = dead.run(&["run", "ok.yaml", "-q"]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("127.0.0.1:{port}")), "{}", out.stderr);
    assert!(out.elapsed.as_secs() < 30);
}

#[test]
fn secrets_never_reach_output() {
    let llm = FakeLlm::start();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_API_KEY", "sk-very-secret-123");
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n");
    let out = sb.run(&["run", "c.yaml", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("sk-very-secret") && !out.stderr.contains("sk-very-secret"));
    assert_eq!(llm.requests()[0].header("authorization"), Some("Bearer sk-very-secret-123"));
}

#[test]
fn inputs_are_data_not_templates() {
    let llm = FakeLlm::start();
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\ninputs_schema:\n  text: t\nphases:\n  - name: a\n    instructions: 'Echo {{ input.text }}'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "-i", "text={{ 7 * 6 }}"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(last_user(&llm.requests()[0].body), "Echo {{ 7 * 6 }}");
}

#[test]
fn turn_prompts_models_and_callouts() {
    let llm = FakeLlm::start();
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: draft\n    model: other/model::high\n    instructions: Draft it.\n    callouts: 'Draft for {{ input.who }}'\n    rules:\n      max_turns: 3\n      turn_prompt: 'Turn {{ turn }} of {{ max_turns }}: improve.'\n  - name: plain\n    instructions: Second.\n    rules:\n      max_turns: 2\n",
    );
    let out = sb.run(&["run", "c.yaml", "--format", "ndjson", "-q", "-i", "who=Ada"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[0].body["model"], "other/model");
    assert_eq!(reqs[0].body["reasoning"]["effort"], "high");
    assert_eq!(last_user(&reqs[1].body), "Turn 2 of 3: improve.");
    assert_eq!(last_user(&reqs[2].body), "Turn 3 of 3: improve.");
    assert_eq!(reqs[3].body["model"], "test/model", "phases without a model use the default");
    assert_eq!(last_user(&reqs[4].body), "Continue/Refine based on previous output.");
    let callout: Value = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event"] == "callout")
        .expect("a callout event");
    assert_eq!(callout["label"], "Draft for Ada");
}

#[test]
fn token_budget_keeps_the_conversation_small() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("x".repeat(2000)));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\ntoken_budget:\n  max_total: 1200\n  reserve_for_output: 200\n  strategy: sliding_window\nphases:\n  - name: a\n    instructions: Keep going.\n    rules:\n      max_turns: 4\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for r in llm.requests() {
        let chars: usize =
            r.body["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap_or("").len()).sum();
        assert!(chars <= 4 * 1000, "a request of {chars} characters is over the budget");
        assert_eq!(r.body["messages"][0]["content"], "Keep going.", "the task stays");
    }
    sb.write(
        "f.yaml",
        "cascade_id: f\ntoken_budget:\n  max_total: 600\n  strategy: fail\nphases:\n  - name: a\n    instructions: Keep going.\n    rules:\n      max_turns: 3\n",
    );
    let out = sb.run(&["run", "f.yaml", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("token_budget"), "{}", out.stderr);
}

#[test]
fn max_cost_stops_the_run_with_exit_5() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("pricey").with_usage(1000, 1000, Some(0.02)));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: x\n  - name: b\n    instructions: y\n  - name: c\n    instructions: z\n");
    let out = sb.run(&["run", "c.yaml", "-q", "--max-cost", "0.03", "--format", "json"]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("--max-cost"), "{}", out.stderr);
    assert_eq!(llm.request_count(), 2, "the third phase never calls the model");
    assert_eq!(out.json()["status"], "error");
}

#[test]
fn off_a_terminal_human_input_waits_for_an_answer_and_timeout_exits_75() {
    let llm = FakeLlm::start();
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("c.yaml", "cascade_id: c\nphases:\n  - name: a\n    instructions: Draft.\n    human_input: true\n  - name: b\n    instructions: NEVER\n");
    let out = sb.run(&["run", "c.yaml", "-q", "--timeout", "1s", "--session", "hi-1"]);
    assert_eq!(out.code, 75, "{}", out.stderr);
    assert!(out.stderr.contains("windlass signal hi-1"), "{}", out.stderr);
    assert!(llm.requests().iter().all(|r| !all_text(&r.body).contains("NEVER")));
}
