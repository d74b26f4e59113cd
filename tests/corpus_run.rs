//! Every class A corpus file that needs no human and no signal runs to completion against
//! the fake endpoint (exit 0).

mod support;

use support::corpus::{fixtures, table, INPUT};
use support::{responder, FakeLlm, Reply, Sandbox};

fn needs_human_or_signal(tags: &str) -> bool {
    tags.split_whitespace().any(|t| t == "HITL" || t == "SIG")
}

/// Class A files that need a human although their tags do not say so, with the reason.
const INTERACTIVE: &[(&str, &str)] = &[(
    "research_cockpit_demo.yaml",
    "an interactive cockpit (ui_mode: research_cockpit) whose only handoff is itself: without a human it loops until WINDLASS_MAX_PHASE_VISITS stops it, as the spec requires",
)];

#[test]
fn class_a_files_without_humans_or_signals_complete() {
    let Some(corpus_dir) = support::corpus::dir() else { return };
    let llm = FakeLlm::start();
    llm.respond_with(responder::cooperative);
    let sb = Sandbox::with_llm(&llm.url());
    fixtures(&sb);
    let mut failures = Vec::new();
    let mut ran = 0;
    for (file, class, tags) in table(&corpus_dir) {
        if class != "A" || needs_human_or_signal(&tags) || INTERACTIVE.iter().any(|(f, _)| *f == file) {
            continue;
        }
        ran += 1;
        let path = corpus_dir.join(&file);
        let out = sb.run(&["run", path.to_str().unwrap(), "--allow-shell", "-q", "--input", INPUT]);
        if out.code != 0 {
            failures.push(format!(
                "{file}: exit {}\n{}",
                out.code,
                out.stderr.lines().take(5).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    assert!(ran >= 50, "ran only {ran} files");
    assert!(failures.is_empty(), "{} of {ran} failed:\n{}", failures.len(), failures.join("\n\n"));
}

/// The interactive file really does stop at the visit limit, with a clear error.
#[test]
fn a_self_loop_stops_at_the_visit_limit() {
    let Some(corpus_dir) = support::corpus::dir() else { return };
    let llm = FakeLlm::start();
    llm.respond_with(responder::cooperative);
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_MAX_PHASE_VISITS", "3");
    let path = corpus_dir.join(INTERACTIVE[0].0);
    let out = sb.run(&["run", path.to_str().unwrap(), "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("over the limit of 3") && out.stderr.contains("WINDLASS_MAX_PHASE_VISITS"),
        "{}",
        out.stderr
    );
}

/// The corpus's data-phase files (class B, "polyglot runtimes") whose needs are local: they
/// run to completion with the runtimes scripts/data_runtimes.sh installs.
const DATA_FILES: &[&str] = &[
    "data_cascade_test.yaml",
    "notebook_simple_chain.yaml",
    "notebook_polyglot_showcase.yaml",
    "notebook_etl_pipeline.yaml",
    "notebook_js_analytics.yaml",
    "notebook_llm_entity_extraction.yaml",
    "map_with_soundings_demo.yaml",
    "test_dynamic_soundings.yaml",
    "test_ansi_output.yaml",
    "notebook_llm_sentiment.yaml",
    "visualization_demo.yaml",
];

/// The data-phase file whose Clojure calls the JVM (`Character/isUpperCase`, which nbb, being
/// JavaScript, has not): it runs with the JVM's clojure
/// (`the_clojure_validation_file_runs_on_the_jvm`).
const JVM_CLOJURE_FILE: &str = "notebook_llm_data_cleaning.yaml";

/// Data-phase files that cannot complete here, with the reason (each also fails in the original
/// under the same conditions).
const DATA_FILES_NOT_RUN: &[(&str, &str)] = &[
    (
        "parent_with_subcascade_test.yaml",
        "its windlass_data names a cascade file (examples/test_subcascade_child.yaml) instead of a phase",
    ),
    (
        "test_subcascade_parent.yaml",
        "its windlass_data names a cascade file (examples/test_subcascade_child.yaml) instead of a phase",
    ),
];

#[test]
fn data_phase_files_complete_with_their_runtimes() {
    let Some(corpus_dir) = support::corpus::dir() else { return };
    let Some(runtimes) = support::runtimes::find() else { return };
    let llm = FakeLlm::start();
    llm.respond_with(responder::cooperative);
    let mut sb = Sandbox::with_llm(&llm.url());
    support::runtimes::configure(&mut sb, &runtimes);
    let mut failures = Vec::new();
    let uses_data = |text: &str| {
        ["python_data", "js_data", "clojure_data", "bash_data", "windlass_data"].iter().any(|t| text.contains(t))
    };
    for entry in std::fs::read_dir(&corpus_dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(corpus_dir.join(&name)).unwrap_or_default();
        if name.ends_with(".yaml") && uses_data(&text) {
            let listed = DATA_FILES.contains(&name.as_str())
                || name == JVM_CLOJURE_FILE
                || DATA_FILES_NOT_RUN.iter().any(|(f, _)| *f == name);
            assert!(listed, "{name} uses data phases: list it in DATA_FILES, JVM_CLOJURE_FILE or DATA_FILES_NOT_RUN");
        }
    }
    for file in DATA_FILES {
        let path = corpus_dir.join(file);
        let out = sb.run(&["run", path.to_str().unwrap(), "-q", "--input", r#"{"threshold": "2", "min_score": "50"}"#]);
        if out.code != 0 {
            failures.push(format!(
                "{file}: exit {}\n{}",
                out.code,
                out.stderr.lines().take(8).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} failed:\n{}", failures.len(), DATA_FILES.len(), failures.join("\n\n"));
}

/// What the fake model answers the file's cleaning phase: two contacts, one with a state code
/// in capitals and one without.
const CLEANED_CONTACTS: &str = r#"```json
[{"id": "C001", "name": "John Smith", "email": "john.smith@gmail.com", "phone": "(555) 555-1234",
  "city": "New York", "state": "NY", "is_valid_email": true, "is_international": false},
 {"id": "C008", "name": "Anna Müller", "email": "anna.mueller@berlin.de", "phone": "+49 30 12345678",
  "city": "Berlin", "state": "Be", "is_valid_email": true, "is_international": true}]
```"#;

#[test]
fn the_clojure_validation_file_runs_on_the_jvm() {
    let Some(corpus_dir) = support::corpus::dir() else { return };
    let Some(runtimes) = support::runtimes::find() else { return };
    let llm = FakeLlm::start();
    llm.push(Reply::text(CLEANED_CONTACTS));
    let mut sb = Sandbox::with_llm(&llm.url());
    support::runtimes::configure(&mut sb, &runtimes);
    sb.set("WINDLASS_CLOJURE", runtimes.clojure_jvm.to_str().unwrap());
    let path = corpus_dir.join(JVM_CLOJURE_FILE);
    let out = sb.run(&["run", path.to_str().unwrap(), "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    let doc = out.json();
    let validated = &doc["state"]["output_clojure_validate"]["rows"];
    // `Character/isUpperCase` passed "NY" and failed "Be"; the scores count the checks that
    // returned true (the regular expressions return the match, which `true?` does not count).
    assert_eq!(validated[0]["issues"], serde_json::json!([]), "{validated}");
    assert_eq!(validated[1]["issues"], serde_json::json!(["invalid_state"]), "{validated}");
    assert_eq!(
        (&validated[0]["quality_score"], &validated[1]["quality_score"]),
        (&serde_json::json!(0.6), &serde_json::json!(0.4)),
        "{validated}"
    );
    // The final SQL phase reads the table the Clojure phase kept.
    let issues: Vec<(&str, &str)> = doc["output"]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("rows in {}", doc["output"]))
        .iter()
        .map(|row| (row["id"].as_str().unwrap_or(""), row["issues"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(issues, vec![("C001", ""), ("C008", "invalid_state")], "{}", doc["output"]);
    assert_eq!(llm.request_count(), 1);
}
