//! Outputs keep their shape: a deterministic, data or tool phase's output is the value its tool
//! returned, the same value in `outputs`, `state.output_<name>`, `lineage`, `for_each_row`,
//! routing, the JSON result document and a resumed session.

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::requests::last_user;
use support::{FakeLlm, Reply, Sandbox};

const ROWS: &str =
    "  - name: q\n    tool: sql_data\n    inputs:\n      query: SELECT * FROM (VALUES (7, 'a'), (9, 'b')) AS t(n, s)\n";

#[test]
fn a_data_phase_output_is_reached_into_by_later_templates() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("done"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        &format!("cascade_id: c\nphases:\n{ROWS}  - name: say\n    instructions: 'n={{{{ outputs.q.rows[0].n }}}} len={{{{ outputs.q.rows | length }}}} s={{{{ state.output_q.rows[1].s }}}} lin={{{{ lineage[0].output.rows[1].n }}}} whole={{{{ outputs.q.rows[1] }}}}'\n"),
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 1);
    let said = last_user(&reqs[0].body);
    assert!(said.starts_with("n=7 len=2 s=b lin=9 whole="), "{said}");
    let whole: Value = serde_json::from_str(said.split("whole=").nth(1).unwrap()).expect("JSON");
    assert_eq!(whole["n"], 9, "{said}");
    assert_eq!(whole["s"], "b", "{said}");
    // The result document holds the same values: lineage and state are not JSON text.
    let doc = out.json();
    assert_eq!(doc["lineage"][0]["phase"], "q");
    assert_eq!(doc["lineage"][0]["output"]["rows"][0]["n"], 7, "{doc}");
    assert_eq!(doc["state"]["output_q"]["row_count"], 2, "{doc}");
    assert_eq!(doc["lineage"][1]["output"], "done");
    assert_eq!(doc["output"], "done");
}

#[test]
fn routing_and_the_result_document_see_the_value() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("```json\n{\"x\": 42, \"tags\": [\"a\", \"b\"]}\n```"));
    llm.push(Reply::text("routed"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: ask\n    instructions: Give JSON.\n  - name: parse\n    tool: python:windlass.demo_tools.parse_json\n    inputs:\n      text: '{{ outputs.ask }}'\n    routing:\n      success: good\n      error: bad\n  - name: bad\n    instructions: bad\n  - name: good\n    instructions: 'x={{ outputs.parse.data.x }} tags={{ outputs.parse.data.tags | length }} route={{ lineage[1].output._route }}'\n  - name: last\n    tool: python:windlass.demo_tools.parse_json\n    inputs:\n      text: '{\"done\": true}'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    assert_eq!(last_user(&reqs[1].body), "x=42 tags=2 route=success");
    let doc = out.json();
    let phases: Vec<&str> = doc["lineage"].as_array().unwrap().iter().map(|l| l["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["ask", "parse", "good", "last"]);
    // The last phase was a tool: `output` is its value, as is every tool phase's lineage entry.
    assert_eq!(doc["output"]["data"]["done"], true, "{doc}");
    assert_eq!(doc["lineage"][1]["output"]["data"]["tags"][1], "b", "{doc}");
    // Printed for a person, a structured output is its JSON.
    llm.push(Reply::text("{\"x\": 1}"));
    llm.push(Reply::text("routed"));
    let human = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let printed: Value = serde_json::from_str(human.stdout.trim()).expect("the output as JSON");
    assert_eq!(printed["data"]["done"], true);
}

#[test]
fn for_each_row_sees_earlier_values_and_keeps_each_rows_value() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| Reply::text(format!("re: {}", last_user(body))));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "child.yaml",
        "cascade_id: child\nphases:\n  - name: double\n    tool: sql_data\n    inputs:\n      query: 'SELECT {{ input.n }} * 2 AS doubled, {{ input.of }} AS of'\n",
    );
    sb.write(
        "c.yaml",
        &format!("cascade_id: c\nphases:\n{ROWS}  - name: each\n    for_each_row:\n      table: _q\n      cascade: child.yaml\n      max_parallel: 1\n      inputs:\n        n: '{{{{ row.n }}}}'\n        of: '{{{{ outputs.q.row_count }}}}'\n  - name: ask\n    for_each_row:\n      table: _q\n      max_parallel: 1\n      instructions: 'Row {{{{ row.s }}}} of {{{{ outputs.q.rows | length }}}}, first n {{{{ outputs.q.rows[0].n }}}}'\n  - name: say\n    instructions: 'first={{{{ outputs.each.outputs[0].rows[0].doubled }}}} second={{{{ state.output_each.outputs[1].rows[0].doubled }}}} of={{{{ lineage[1].output.outputs[1].rows[0].of }}}} asked={{{{ outputs.ask.outputs[1] }}}}'\n"),
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let asked: Vec<String> = llm.requests().iter().map(|r| last_user(&r.body)).collect();
    assert_eq!(asked.len(), 3, "{asked:#?}");
    assert_eq!(asked[0], "Row a of 2, first n 7");
    assert_eq!(asked[1], "Row b of 2, first n 7");
    assert_eq!(asked[2], "first=14 second=18 of=2 asked=re: Row b of 2, first n 7");
    let doc = out.json();
    assert_eq!(doc["lineage"][1]["output"]["outputs"][0]["rows"][0]["doubled"], 14, "{doc}");
}

#[test]
fn a_resumed_session_sees_the_same_shapes() {
    let llm = FakeLlm::start();
    // Phase two's first answer hangs until the process is killed.
    llm.push(Reply::text("never seen").with_delay(Duration::from_secs(30)));
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_HEARTBEAT_INTERVAL", "1s");
    sb.set("WINDLASS_HEARTBEAT_LEASE", "3s");
    sb.write(
        "c.yaml",
        &format!("cascade_id: c\nphases:\n{ROWS}  - name: say\n    instructions: 'n={{{{ outputs.q.rows[0].n }}}} s={{{{ state.output_q.rows[1].s }}}} lin={{{{ lineage[0].output.row_count }}}}'\n"),
    );
    let mut child = sb.command(&["run", "c.yaml", "-q", "--session", "shape-resume"]).spawn().unwrap();
    let t = Instant::now();
    while llm.request_count() < 1 {
        assert!(t.elapsed() < Duration::from_secs(30), "the run never reached phase two");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800)); // the logger's batch goes out
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    llm.push(Reply::text("resumed"));
    let out = sb.run(&["resume", "shape-resume", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 2, "phase one did not run again");
    assert_eq!(last_user(&reqs[0].body), "n=7 s=b lin=2");
    assert_eq!(last_user(&reqs[1].body), "n=7 s=b lin=2", "the checkpoint kept the shapes");
    let doc = out.json();
    assert_eq!(doc["lineage"][0]["output"]["rows"][1]["s"], "b", "{doc}");
    assert_eq!(doc["output"], "resumed");
}
