//! Outputs keep their shape: a data phase's output is the value its tool returned.

mod support;

use support::requests::last_user;
use support::{FakeLlm, Reply, Sandbox};

#[test]
fn a_data_phase_output_is_reached_into_by_later_templates() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("done"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: q\n    tool: sql_data\n    inputs:\n      query: SELECT * FROM (VALUES (7, 'a'), (9, 'b')) AS t(n, s)\n  - name: say\n    instructions: 'n={{ outputs.q.rows[0].n }} len={{ outputs.q.rows | length }} s={{ state.output_q.rows[1].s }} whole={{ outputs.q.rows[1] }}'\n",
    );
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 1);
    let said = last_user(&reqs[0].body);
    assert!(said.starts_with("n=7 len=2 s=b whole="), "{said}");
    let whole: serde_json::Value = serde_json::from_str(said.split("whole=").nth(1).unwrap()).expect("JSON");
    assert_eq!(whole["n"], 9, "{said}");
    assert_eq!(whole["s"], "b", "{said}");
}
