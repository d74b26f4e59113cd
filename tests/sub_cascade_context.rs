//! Sub-cascades' `context_out` through the real binary: the child's phases join the parent's
//! lineage (`from: all`, references by name), its state merges back, and the calling phase gets
//! no extra message.

mod support;

use support::requests::{all_text, last_user};
use support::{FakeLlm, Reply, Sandbox};

const CHILD: &str = "cascade_id: helper\nphases:\n  - name: gather\n    instructions: Gather lamps.\n  - name: mark\n    tool: set_state\n    inputs:\n      key: found\n      value: desk lamp\n";
const PARENT: &str = "cascade_id: parent\nphases:\n  - name: delegate\n    instructions: Delegate.\n    sub_cascades:\n      - ref: child.yaml\n  - name: report\n    instructions: 'Report on {{ state.found }}.'\n    context:\n      from: [all]\n  - name: by_name\n    instructions: Only the gathering.\n    context:\n      from: [gather]\n";

#[test]
fn the_childs_phases_join_the_lineage_and_its_state_merges_back() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| Reply::text(format!("re: {}", last_user(body))));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("child.yaml", CHILD);
    sb.write("parent.yaml", PARENT);
    let out = sb.run(&["run", "parent.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let texts: Vec<String> = llm.requests().iter().map(|r| all_text(&r.body)).collect();
    let find = |needle: &str| {
        texts.iter().find(|t| t.contains(needle)).unwrap_or_else(|| panic!("no request with {needle}: {texts:#?}"))
    };
    assert_eq!(texts.len(), 4, "{texts:#?}");
    // The calling phase sees no synthetic message about the child.
    let delegate = find("Delegate.");
    assert!(!delegate.contains("re: Gather lamps.") && !delegate.contains("sub-cascade"), "{delegate}");

    // `from: all` sees the child's phases with their outputs; the child's state is the parent's.
    let report = find("Report on desk lamp.");
    assert!(report.contains("Output of phase `gather`:\nre: Gather lamps."), "{report}");
    assert!(report.contains("Output of phase `mark`"), "{report}");
    assert!(report.contains("Output of phase `delegate`:\nre: Delegate."), "{report}");

    // A child's phase by name.
    let by_name = find("Only the gathering.");
    assert!(by_name.contains("Output of phase `gather`:\nre: Gather lamps."), "{by_name}");
    assert!(!by_name.contains("Output of phase `delegate`"), "{by_name}");
}
