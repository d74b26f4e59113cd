//! Cassettes through the real binary (cli.md, "Cassettes"): a run recorded against the fake
//! endpoint replays with the endpoint gone and no key, giving the same result; a changed
//! prompt is exit 7 with a diff; resume and submit + worker replay too; on both stores.

mod support;

use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::backends::{backends, sandbox};
use support::requests::{all_text, last_user};
use support::{FakeLlm, Reply, Sandbox};

/// Soundings (three identical attempts in parallel and an evaluator), a prompt-mode tool call,
/// a sub-cascade, and a last phase reading all of them.
const PARENT: &str = "cascade_id: taped
phases:
  - name: draft
    instructions: DRAFT about {{ input.topic }}
    soundings:
      factor: 3
      evaluator_instructions: Pick the best draft.
  - name: store
    instructions: STORE a title for {{ input.topic }}
    tackle: [set_state]
    rules:
      max_turns: 2
  - name: delegate
    instructions: DELEGATE {{ state.title }}
    sub_cascades:
      - ref: child.yaml
        input_map:
          topic: '{{ input.topic }}'
  - name: report
    instructions: 'REPORT {{ outputs.draft }} / {{ state.title }}'
";

const CHILD: &str = "cascade_id: child\nphases:\n  - name: helper\n    instructions: HELP with {{ input.topic }}\n";

const KEY: &str = "sk-fake-cassette-key-0123456789";

/// Every answer is numbered, so an answer served to the wrong call shows in the result.
fn numbered(llm: &FakeLlm) {
    let n = Arc::new(AtomicUsize::new(0));
    llm.respond_with(move |body| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        let user = last_user(body);
        if all_text(body).contains("The attempts are numbered 1 to") {
            return Reply::text("3: the third is best.").with_usage(30, 4, Some(0.0003));
        }
        if user.starts_with("STORE") {
            return Reply::text(format!(
                "<tool_call>{{\"name\": \"set_state\", \"arguments\": {{\"key\": \"title\", \"value\": \"Title {i}\"}}}}</tool_call>"
            ));
        }
        Reply::text(format!("answer {i} to {user}")).with_usage(20, 6, Some(0.0002))
    });
}

/// The parts of a result document a replay must reproduce.
fn essence(doc: &Value) -> Value {
    serde_json::json!({
        "status": doc["status"], "output": doc["output"], "state": doc["state"], "lineage": doc["lineage"],
        "errors": doc["errors"], "tokens_in": doc["tokens_in"], "tokens_out": doc["tokens_out"], "cost": doc["cost"],
    })
}

/// The sandbox with no endpoint and no key: the default OpenRouter URL, nothing set.
fn offline(sb: &mut Sandbox) {
    sb.env.retain(|(k, _)| k != "WINDLASS_BASE_URL" && k != "OLLAMA_HOST" && k != "OPENROUTER_API_KEY");
    // Anything that tried the network anyway would find nobody listening here.
    sb.set("OLLAMA_HOST", "http://127.0.0.1:9");
}

fn record(llm: &FakeLlm, env: &[(String, String)]) -> (Sandbox, Value) {
    let mut sb = sandbox(llm, env);
    sb.set("OPENROUTER_API_KEY", KEY);
    sb.write("parent.yaml", PARENT);
    sb.write("child.yaml", CHILD);
    let out = sb.run(&["run", "parent.yaml", "-i", "topic=tides", "--record", "tape.yaml", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    (sb, out.json())
}

#[test]
fn a_recorded_run_replays_with_the_endpoint_gone_and_the_same_result() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        numbered(&llm);
        let (mut sb, recorded) = record(&llm, &env);
        let requests = llm.request_count();
        // Three soundings, the evaluator, two turns with the tool, the child, the report.
        assert!(requests >= 8, "{backend}: {requests} requests");
        assert_eq!(llm.requests()[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
        let tape = std::fs::read_to_string(sb.path().join("tape.yaml")).unwrap();
        assert_eq!(tape.matches("\n  - hash: ").count(), requests, "{backend}: one entry per exchange:\n{tape}");
        for secret in [KEY, "Bearer", "authorization", "Authorization"] {
            assert!(!tape.contains(secret), "{backend}: `{secret}` in the cassette:\n{tape}");
        }
        assert!(tape.contains("phase: helper") && tape.contains("depth: 1"), "{backend}: the child's calls:\n{tape}");
        assert!(tape.contains("sounding: 2"), "{backend}: {tape}");
        drop(llm);

        offline(&mut sb);
        // Without the cassette the preflight wants a key.
        assert_eq!(sb.run(&["run", "parent.yaml", "-i", "topic=tides"]).code, 4, "{backend}");
        let out = sb.run(&["run", "parent.yaml", "-i", "topic=tides", "--replay", "tape.yaml", "--format", "json"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        let replayed = out.json();
        assert_eq!(essence(&replayed), essence(&recorded), "{backend}");
        assert!(out.stderr.contains(&format!("replayed {requests} of {requests}")), "{backend}: {}", out.stderr);
        let id = replayed["session_id"].as_str().unwrap();
        let show = sb.run(&["sessions", "show", id]);
        assert!(show.stdout.contains("completed"), "{backend}: {}", show.stdout);
        assert_eq!(std::fs::read_to_string(sb.path().join("tape.yaml")).unwrap(), tape, "replay writes nothing");
        // With a live endpoint configured, a replay still sends it nothing.
        let idle = FakeLlm::start();
        sb.set("WINDLASS_BASE_URL", &idle.url());
        let again = sb.run(&["run", "parent.yaml", "-i", "topic=tides", "--replay", "tape.yaml", "--format", "json"]);
        assert_eq!(again.code, 0, "{backend}: {}", again.stderr);
        assert_eq!(essence(&again.json()), essence(&recorded), "{backend}");
        assert_eq!(idle.request_count(), 0, "{backend}");
    }
}

#[test]
fn a_changed_prompt_is_exit_7_naming_the_phase_and_turn_with_a_diff() {
    let llm = FakeLlm::start();
    numbered(&llm);
    let (mut sb, _) = record(&llm, &[]);
    drop(llm);
    offline(&mut sb);
    sb.write("parent.yaml", &PARENT.replace("'REPORT {{", "'SUMMARISE {{"));
    let out = sb.run(&["run", "parent.yaml", "-i", "topic=tides", "--replay", "tape.yaml"]);
    assert_eq!(out.code, 7, "{}", out.stderr);
    let err = &out.stderr;
    assert!(err.contains("has no recorded answer for the model call of phase `report`, turn 1"), "{err}");
    assert!(err.contains("closest recorded request (phase `report`, turn 1)"), "{err}");
    assert!(err.contains("- REPORT answer"), "{err}");
    assert!(err.contains("+ SUMMARISE answer"), "{err}");
    assert!(err.contains("--replay-or-record"), "{err}");

    // --replay-or-record sends only what is missing and adds it.
    let llm = FakeLlm::start();
    let mut sb = sb;
    sb.set("WINDLASS_BASE_URL", &llm.url());
    let before = std::fs::read_to_string(sb.path().join("tape.yaml")).unwrap().matches("\n  - hash: ").count();
    let out = sb.run(&["run", "parent.yaml", "-i", "topic=tides", "--replay-or-record", "tape.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(llm.request_count(), 1, "only the changed call is sent");
    assert!(last_user(&llm.requests()[0].body).starts_with("SUMMARISE"));
    let after = std::fs::read_to_string(sb.path().join("tape.yaml")).unwrap().matches("\n  - hash: ").count();
    assert_eq!(after, before + 1);
}

const ASKS: &str = "cascade_id: asks
phases:
  - name: a
    instructions: DRAFT
    human_input:
      type: choice
      options: [{id: short}, {id: long}]
  - name: b
    instructions: 'WRITE {{ state.human_input_a | default(outputs.a) }}'
";

/// Run until blocked on the human (exit 75), answer, resume: with `cassette` flags on both.
fn run_answer_resume(sb: &Sandbox, session: &str, flag: &str) -> serde_json::Value {
    let out = sb.run(&["run", "asks.yaml", "--session", session, flag, "tape.yaml", "--timeout", "2s", "-q"]);
    assert_eq!(out.code, 75, "{}", out.stderr);
    assert_eq!(sb.run(&["signal", session, "2"]).code, 0);
    let out = sb.run(&["resume", session, flag, "tape.yaml", "--format", "json", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

#[test]
fn resume_records_onto_and_replays_from_the_same_cassette() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        numbered(&llm);
        let mut sb = sandbox(&llm, &env);
        sb.write("asks.yaml", ASKS);
        let recorded = run_answer_resume(&sb, "rec", "--record");
        assert_eq!(llm.request_count(), 2, "{backend}");
        let tape = std::fs::read_to_string(sb.path().join("tape.yaml")).unwrap();
        assert_eq!(tape.matches("\n  - hash: ").count(), 2, "{backend}: resume adds to the cassette:\n{tape}");
        drop(llm);
        offline(&mut sb);
        let replayed = run_answer_resume(&sb, "rep", "--replay");
        assert_eq!(essence(&replayed), essence(&recorded), "{backend}");
        assert_eq!(replayed["output"], "answer 1 to WRITE long", "{backend}");
    }
}

#[test]
fn a_submitted_session_carries_its_cassette_to_an_offline_worker() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        numbered(&llm);
        let (mut sb, recorded) = record(&llm, &env);
        drop(llm);
        offline(&mut sb);
        let out = sb.run(&["submit", "parent.yaml", "-i", "topic=tides", "--replay", "tape.yaml", "--format", "json"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        let id = out.json()["session_id"].as_str().unwrap().to_string();
        // The text travels with the session, not the path.
        std::fs::remove_file(sb.path().join("tape.yaml")).unwrap();
        let worker = sb.run(&["worker", "--once"]);
        assert_eq!(worker.code, 0, "{backend}: {}", worker.stderr);
        let show = sb.run(&["sessions", "show", &id]);
        assert!(show.stdout.contains("completed"), "{backend}: {}\n{}", show.stdout, worker.stderr);
        let rows = sb.run(&["sql", &format!("SELECT content FROM unified_logs WHERE session_id = '{id}'")]);
        let output = recorded["output"].as_str().unwrap();
        assert!(rows.stdout.contains(&output[..20]), "{backend}: {}", rows.stdout);
    }
}

/// The repository root.
fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The arguments of the README's first `cargo run -- run` line (single quotes as a shell reads them).
fn readme_first_run() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let line = readme.lines().find(|l| l.starts_with("cargo run -- run ")).expect("a `cargo run -- run` line");
    support::sandbox::words(line.trim_start_matches("cargo run -- "))
}

#[test]
fn the_readme_first_command_runs_offline_from_the_bundled_cassette() {
    let args = readme_first_run();
    assert!(args.iter().any(|a| a == "--replay"), "the first command replays: {args:?}");
    let mut sb = Sandbox::new();
    // A fresh machine: no key, no endpoint, the default model.
    sb.env.retain(|(k, _)| k != "WINDLASS_DEFAULT_MODEL");
    for file in ["cascades/hello.yaml", "cassettes/hello.yaml"] {
        sb.write(file, &std::fs::read_to_string(root().join(file)).unwrap());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sb.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Ada"), "{}", out.stdout);
    let listed = sb.run(&["sessions"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("hello") && listed.stdout.contains("completed"), "{}", listed.stdout);
}

/// `cassettes/hello.yaml` is what recording `cascades/hello.yaml` gives (the fake endpoint
/// answering as a real model did); `WINDLASS_BLESS=1` rewrites it after the cascade changes.
#[test]
fn the_bundled_hello_cassette_matches_its_cascade() {
    let llm = FakeLlm::start();
    llm.set_fallback(
        Reply::text("Hello, Ada, it is wonderful to have you here!")
            .with_model("google/gemini-2.5-flash-lite")
            .with_usage(31, 12, Some(0.0000079))
            .with_finish_reason("stop"),
    );
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.env.retain(|(k, _)| k != "WINDLASS_DEFAULT_MODEL");
    sb.write("cascades/hello.yaml", &std::fs::read_to_string(root().join("cascades/hello.yaml")).unwrap());
    let out = sb.run(&["run", "cascades/hello.yaml", "--input", r#"{"name": "Ada"}"#, "--record", "hello.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let fresh = std::fs::read_to_string(sb.path().join("hello.yaml")).unwrap();
    let committed = root().join("cassettes/hello.yaml");
    if std::env::var_os("WINDLASS_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(committed.parent().unwrap()).unwrap();
        std::fs::write(&committed, &fresh).unwrap();
    }
    let old = std::fs::read_to_string(&committed).unwrap_or_default();
    assert_eq!(old, fresh, "cassettes/hello.yaml is stale; regenerate: WINDLASS_BLESS=1 cargo test --test cassettes");
}
