//! Built-in tools with the original's interface, and tool lookup from a bare file name,
//! through the real binary against the fake endpoint.

mod support;

use serde_json::json;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::requests::{all_text, last_user};
use support::{FakeLlm, Reply, Sandbox};

const USES_HELPER: &str =
    "cascade_id: main\nphases:\n  - name: a\n    instructions: Use the helper.\n    tackle: [helper]\n";
const HELPER: &str = "cascade_id: helper\ndescription: helps\ninputs_schema:\n  topic: what to help with\nphases:\n  - name: h\n    instructions: 'Help with {{ input.topic }}'\n";

#[test]
fn a_tool_beside_a_cascade_named_by_its_bare_file_name_is_found() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("done without help"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("flows/main.yaml", USES_HELPER);
    sb.write("flows/helper.yaml", HELPER);
    let folder = sb.path().join("flows");
    let check = sb.command(&["check", "main.yaml"]).current_dir(&folder).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!format!("{stdout}{stderr}").contains("unknown tool"), "{stdout}{stderr}");

    let run = sb.command(&["run", "main.yaml", "-q"]).current_dir(&folder).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("not available"), "{stderr}");
    // The helper went out as a tool.
    assert!(all_text(&llm.requests()[0].body).contains("helper"), "{}", llm.requests()[0].body);
}

#[test]
fn validate_sql_gives_the_original_fields_to_templates() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| Reply::text(format!("re: {}", last_user(body))));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: gate\nphases:\n  - name: validate_request\n    tool: python:windlass.demo_tools.validate_sql\n    inputs:\n      query: '  SELECT * FROM users WHERE active = true  '\n    routing:\n      valid: approve\n      invalid: reject\n    handoffs: [approve, reject]\n  - name: reject\n    instructions: 'REJECT {{ state.output_validate_request.error }}'\n  - name: approve\n    instructions: 'Query: [{{ state.output_validate_request.cleaned_query }}] valid={{ outputs.validate_request.valid }} error={{ outputs.validate_request.error }}'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(last_user(&reqs[0].body), "Query: [SELECT * FROM users WHERE active = true] valid=True error=None");
}

#[test]
fn transform_data_count_and_parse_json_type_reach_templates() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| Reply::text(format!("re: {}", last_user(body))));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: etl\nphases:\n  - name: transform_data\n    tool: python:windlass.demo_tools.transform_data\n    inputs:\n      data: '[{\"id\": 1, \"value\": 100}, {\"id\": 2, \"value\": 200}]'\n      operation: sum_numeric\n    routing:\n      success: parse\n      error: fail\n    handoffs: [parse, fail]\n  - name: fail\n    instructions: FAILED\n  - name: parse\n    tool: python:windlass.demo_tools.parse_json\n    inputs:\n      text: '[1, 2]'\n    handoffs: [report]\n  - name: report\n    instructions: 'count={{ state.output_transform_data.count }} sum={{ outputs.transform_data.result.value }} type={{ outputs.parse.type }}'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(last_user(&llm.requests()[0].body), "count=2 sum=300 type=list");
}

#[test]
fn ask_human_takes_context_options_and_ui_hint_and_stores_the_answer() {
    let llm = FakeLlm::start();
    llm.push(Reply::tool_call(
        "call_1",
        "ask_human",
        json!({"question": "Which format?", "context": "The report is 40 pages.", "ui_hint": "choice", "options": ["PDF", "Word"]}),
    ));
    llm.push(Reply::text("Word it is."));
    llm.respond_with(|body| Reply::text(format!("re: {}", last_user(body))));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: ask\nphases:\n  - name: pick\n    instructions: Ask which format.\n    tackle: [ask_human]\n    use_native_tools: true\n  - name: write\n    instructions: 'WRITE AS {{ state.pick }}'\n",
    );
    let mut child = sb
        .command(&["run", "c.yaml", "-q", "--session", "ask-1", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !sb.run(&["sessions", "show", "ask-1"]).stdout.contains("human: Which format?") {
        assert!(started.elapsed() < Duration::from_secs(30), "the session never blocked on the question");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The model was offered the original's parameters.
    let params = &llm.requests()[0].body["tools"][0]["function"]["parameters"]["properties"];
    for key in ["question", "context", "ui_hint", "options"] {
        assert!(params.get(key).is_some(), "{key} missing from {params}");
    }
    assert_eq!(sb.run(&["signal", "ask-1", "2"]).code, 0);
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["state"]["pick"], "Word", "option 2 picked by number: {doc}");
    let reqs = llm.requests();
    let tool_msg = reqs[1].body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").cloned();
    assert_eq!(tool_msg.unwrap()["content"], "Word");
    assert_eq!(last_user(&reqs[2].body), "WRITE AS Word");
}
