//! Request snapshots: for one corpus file per feature tag of the corpus README, the requests the
//! fake model receives (model, roles and order of the messages, their normalised text, which
//! phases' outputs and which tools appear) are kept under `tests/snapshots/`, so every change to
//! what the model sees shows up in review as a snapshot diff.
//!
//! Each file runs against the cooperative fake (`support::responder`), as `corpus_run.rs` runs
//! them, with one call in flight at a time (`WINDLASS_LIMITS='*=1'`) so the order is the
//! engine's, not the scheduler's. Files whose requests come from sessions running side by side
//! (async cascades, cascade soundings, `for_each_row` children) are listed sorted instead. Where
//! a tag's feature only shows when something happens, the fake makes it happen ([`Script`]): it
//! calls `ask_human` and the test answers by `windlass signal` (HITL), it calls `await_signal`
//! and the test fires the signal (SIG), it answers at length so a `token_budget` is reached (TB).
//!
//! What varies from run to run is normalised: the sandbox and corpus paths, session ids,
//! timestamps, dates, durations, random ids and temporary paths; the fake's stock answer is
//! written `[PARAGRAPH]`.
//!
//! A mismatch fails with insta's diff. To review or accept changes: `cargo insta review` (with
//! cargo-insta installed), or `INSTA_UPDATE=always cargo test --test request_snapshots` and read
//! the diff in git. Under `CI=true` a mismatch always fails and nothing is written.
//!
//! Tags not snapshotted, with the reason (kept in [`NOT_LOCAL`]; a test checks that every tag of
//! the README's legend is covered by a case or listed there):
//! - MEM: memory needs an embeddings endpoint, which the fake does not serve.
//! - RAG, PARETO, ONERR: no corpus file carries the tag.
//! - TC: its files cache `sql_query` and `sql_search` results, which need SQL connections and a
//!   schema index.

mod support;

use regex::Regex;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::corpus::{feature_tags, fixtures, table, INPUT};
use support::requests::all_text;
use support::responder::{self, PARAGRAPH};
use support::waiting::{show, wait_until};
use support::{FakeLlm, Outcome, Reply, Sandbox};
use windlass::llm::cassette::file::yaml_text;

/// How a case's requests are listed.
#[derive(Clone, Copy)]
enum Order {
    /// As they arrived (the engine's order, one call at a time).
    Arrival,
    /// Sorted by their text: sessions that run beside each other (async cascades, cascade
    /// soundings, `for_each_row` children) interleave in any order.
    Sorted,
}

/// Feature tags no case covers, with the reason.
const NOT_LOCAL: &[(&str, &str)] = &[
    ("MEM", "memory needs an embeddings endpoint, which the fake does not serve"),
    ("RAG", "no corpus file carries the tag, and rag needs an embeddings endpoint and an index"),
    ("PARETO", "no corpus file carries the tag"),
    ("ONERR", "no corpus file carries the tag"),
    ("TC", "its files cache sql_query and sql_search results, which need SQL connections and a schema index"),
];

/// How the fake answers, and what answers a session that waits.
#[derive(Clone, Copy)]
enum Script {
    /// The cooperative fake: it calls no tool that waits (the requests show such tools offered
    /// only), and nothing outside answers.
    Cooperative,
    /// A human: the fake calls `ask_human` once per phase that offers it, and the test answers
    /// each question with `windlass signal SESSION ANSWER` ([`ANSWERS`], in turn).
    Human,
    /// A signal: the fake calls `await_signal` for `test_event` once per phase that offers it,
    /// and the test fires it with `windlass signal --name test_event --payload` [`PAYLOAD`].
    Signal,
    /// Nothing waits, but the fake answers the default model at length ([`long_answer`]), so
    /// a conversation of a few turns outgrows a `token_budget`.
    Verbose,
}

/// Twenty stock paragraphs: about 3,300 estimated tokens (written `[LONG ANSWER]`).
fn long_answer() -> String {
    vec![PARAGRAPH; 20].join("\n")
}

/// What the test answers, in turn, for [`Script::Human`].
const ANSWERS: &[&str] = &["Human says: lighthouses", "Human says: curious children"];

/// The payload of the signal fired for [`Script::Signal`].
const PAYLOAD: &str = r#"{"batch": 42, "from": "the test"}"#;

macro_rules! cases {
    ($($name:ident: $file:literal, [$($tag:literal),*], $order:ident $(, $script:ident)?;)*) => {
        /// (file, the tags its snapshot stands for).
        const CASES: &[(&str, &[&str])] = &[$(($file, &[$($tag),*])),*];
        $(
            #[test]
            fn $name() {
                #[allow(unused_mut, unused_assignments)]
                let mut script = Script::Cooperative;
                $(script = Script::$script;)?
                snapshot(stringify!($name), $file, Order::$order, script);
            }
        )*
    };
}

cases! {
    context_selective_demo: "context_selective_demo.yaml", ["CTX"], Arrival;
    auto_context_comparison_with: "auto_context_comparison_WITH.yaml", ["ACTX"], Arrival;
    turn_prompt_demo: "turn_prompt_demo.yaml", ["MT", "TP"], Arrival;
    loop_until_auto_inject: "loop_until_auto_inject.yaml", ["LU", "LUP"], Arrival;
    loop_until_silent_demo: "loop_until_silent_demo.yaml", ["LUS"], Arrival;
    contact_extractor_flow: "contact_extractor_flow.yaml", ["RI", "OS"], Arrival;
    soundings_aggregate_demo: "soundings_aggregate_demo.yaml", ["SND", "AGG"], Arrival;
    reforge_cascade_strategy: "reforge_cascade_strategy.yaml", ["CSND", "RFG"], Sorted;
    multi_model_cost_aware: "multi_model_cost_aware.yaml", ["MM", "COST"], Arrival;
    soundings_rewrite_flow: "soundings_rewrite_flow.yaml", ["MUT"], Arrival;
    soundings_with_validator: "soundings_with_validator.yaml", ["SVAL"], Arrival;
    ward_comprehensive_flow: "ward_comprehensive_flow.yaml", ["W"], Arrival;
    context_demo_parent: "context_demo_parent.yaml", ["SUB"], Arrival;
    side_effect_flow: "side_effect_flow.yaml", ["ASYNC"], Sorted;
    hitl_choice_demo: "hitl_choice_demo.yaml", ["HITL"], Arrival, Human;
    decision_point_demo: "decision_point_demo.yaml", ["DP"], Arrival;
    audible_demo: "audible_demo.yaml", ["AUD"], Arrival;
    callouts_demo: "callouts_demo.yaml", ["CO"], Arrival;
    scratchpad_demo: "scratchpad_demo.yaml", ["OX"], Arrival;
    signal_quick_test: "signal_quick_test.yaml", ["SIG"], Arrival, Signal;
    test_sql_mapping: "test_sql_mapping.yaml", ["SQL", "DET", "FER"], Sorted;
    scheduled_etl_demo: "scheduled_etl_demo.yaml", ["ROUTE", "R2", "TRIG"], Arrival;
    manifest_complex_flow: "manifest_complex_flow.yaml", ["MAN"], Arrival;
    model_override_test: "model_override_test.yaml", ["MO", "PAR"], Arrival;
    research_db_demo: "research_db_demo.yaml", ["RDB"], Arrival;
    token_budget_summarize_demo: "token_budget_summarize_demo.yaml", ["TB"], Arrival, Verbose;
    test_dynamic_soundings: "test_dynamic_soundings.yaml", ["DYNF"], Arrival;
}

/// The base tag of a README token: `Wpre:blocking` is `W`, `MUT:rewrite` is `MUT`.
fn base_tag(token: &str) -> &str {
    let base = token.split(':').next().unwrap_or(token);
    if base.starts_with("Wp") || base.starts_with("Wt") {
        "W"
    } else {
        base
    }
}

#[test]
fn every_feature_tag_has_a_snapshot_or_a_reason() {
    let Some(dir) = support::corpus::dir() else { return };
    let rows = table(&dir);
    for (file, tags) in CASES {
        let row = rows.iter().find(|(f, _, _)| f == file).unwrap_or_else(|| panic!("{file} is not in the README"));
        for tag in *tags {
            assert!(row.2.split_whitespace().any(|t| base_tag(t) == *tag), "{file} does not carry {tag}: {}", row.2);
        }
    }
    for tag in feature_tags(&dir) {
        let covered = CASES.iter().any(|(_, tags)| tags.contains(&tag.as_str()));
        let excused = NOT_LOCAL.iter().any(|(t, _)| *t == tag);
        assert!(covered != excused, "{tag}: cover it with a case or list it in NOT_LOCAL (not both)");
    }
}

#[test]
fn the_normaliser_takes_out_what_varies_run_to_run() {
    let norm = Normaliser::new(Path::new("/work/sandbox-1"), Path::new("/data/corpus"));
    let text = format!(
        "{PARAGRAPH} at 2026-12-04T02:03:04.5Z on 2026-12-04 in /work/sandbox-1/scratch and /data/corpus/a.yaml, \
         session snap-r0-81234 took 12ms then 1.5s, id 123e4567-e89b-12d3-a456-426614174000, file /tmp/x1/y.json"
    );
    assert_eq!(
        norm.text(&text),
        "[PARAGRAPH] at [TIME] on [DATE] in [SANDBOX]/scratch and [CORPUS]/a.yaml, session [SESSION] took \
         [DURATION] then [DURATION], id [UUID], file [TMP]"
    );
    let request = json!({"model": "m", "stream": true, "tools": [{"function": {"name": "route_to"}}],
        "messages": [{"role": "assistant", "content": null,
                      "tool_calls": [{"id": "call_9", "function": {"name": "route_to", "arguments": "{}"}}]}]});
    assert_eq!(
        norm.request(&request),
        json!({"model": "m", "tools": ["route_to"],
               "messages": [{"assistant": null, "tool_calls": [{"name": "route_to", "arguments": "{}"}]}]})
    );
}

/// Run a corpus file against the cooperative fake and compare its requests with the snapshot.
fn snapshot(name: &str, file: &str, order: Order, script: Script) {
    let Some(dir) = support::corpus::dir() else { return };
    let llm = FakeLlm::start();
    match script {
        Script::Cooperative => llm.respond_with(responder::cooperative),
        Script::Human => llm.respond_with(|body| {
            calls_once(body, "ask_human", json!({"question": "What would you like?"}), "Human says:")
        }),
        Script::Verbose => llm.respond_with(|body| match body["model"] == "test/model" {
            true => Reply::text(long_answer()),
            false => responder::cooperative(body),
        }),
        Script::Signal => llm.respond_with(|body| {
            let args = json!({"signal_name": "test_event", "timeout": "2m", "description": "Quick signal test"});
            calls_once(body, "await_signal", args, "the test")
        }),
    }
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "*=1");
    if needs_runtimes(&dir, file) {
        let Some(runtimes) = support::runtimes::find() else { return };
        support::runtimes::configure(&mut sb, &runtimes);
    }
    fixtures(&sb);
    let path = dir.join(file);
    let args = ["run", path.to_str().unwrap(), "--allow-shell", "-q", "--session", SESSION, "--input", INPUT];
    let out = match script {
        Script::Cooperative | Script::Verbose => sb.run(&args),
        _ => run_answering(&sb, &llm, &args, script),
    };
    assert_eq!(out.code, 0, "{file}: {}", out.stderr);
    let norm = Normaliser::new(sb.path(), &dir);
    let mut requests: Vec<Value> = llm
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| norm.request(&r.body))
        .collect();
    if let Order::Sorted = order {
        requests.sort_by_key(|r| r.to_string());
    }
    insta::with_settings!({
        description => format!("the requests the model receives for corpus file {file}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, trim_line_ends(&yaml_text(&Value::Array(requests))));
    });
}

/// The cooperative fake, except that a request offering `tool` calls it with `arguments`
/// (in the text form the tool prompt asks for) until `answered` appears in the conversation.
fn calls_once(body: &Value, tool: &str, arguments: Value, answered: &str) -> Reply {
    let text = all_text(body);
    if text.contains(&format!("- {tool}:")) && !text.contains(answered) {
        return Reply::text(format!("```json\n{}\n```", json!({"tool": tool, "arguments": arguments})));
    }
    responder::cooperative(body)
}

/// Run `args`, answering each time the session waits: the next of [`ANSWERS`] for a human, or
/// the named signal with [`PAYLOAD`].
fn run_answering(sb: &Sandbox, llm: &FakeLlm, args: &[&str], script: Script) -> Outcome {
    let started = Instant::now();
    let mut child = sb.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut answers = ANSWERS.iter();
    let mut fired = 0;
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "the run did not end within a minute");
        if show(sb, SESSION, "status") == "blocked" {
            let asked = llm.request_count();
            let sent = match script {
                Script::Signal => {
                    fired += 1;
                    sb.run(&["signal", "--name", "test_event", "--payload", PAYLOAD])
                }
                _ => sb.run(&["signal", SESSION, answers.next().expect("more questions than ANSWERS")]),
            };
            assert_eq!(sent.code, 0, "{}", sent.stderr);
            // The answer goes back to the model in the next request.
            wait_until("the request with the answer", Duration::from_secs(30), || llm.request_count() > asked);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match script {
        Script::Signal => assert_eq!(fired, 1, "the session waited on a signal {fired} times"),
        _ => assert!(answers.next().is_none(), "not every answer was asked for"),
    }
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Blank lines of literal blocks carry their indent: trailing blanks go (git and editors drop them).
fn trim_line_ends(text: &str) -> String {
    text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

/// The session id every case runs under (children's ids start with it).
const SESSION: &str = "snap";

fn needs_runtimes(dir: &Path, file: &str) -> bool {
    let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
    ["python_data", "js_data", "clojure_data", "bash_data"].iter().any(|t| text.contains(t))
}

/// Turns a request into what the snapshot keeps, with run-to-run variation taken out.
struct Normaliser {
    paths: Vec<(String, &'static str)>,
    patterns: Vec<(Regex, &'static str)>,
}

impl Normaliser {
    fn new(sandbox: &Path, corpus: &Path) -> Normaliser {
        let mut paths = Vec::new();
        for (p, label) in [(corpus, "[CORPUS]"), (sandbox, "[SANDBOX]")] {
            if let Ok(real) = p.canonicalize() {
                paths.push((real.display().to_string(), label));
            }
            paths.push((p.display().to_string(), label));
        }
        let patterns = [
            (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "[UUID]"),
            (r"\bsnap(-[0-9A-Za-z]+)*\b", "[SESSION]"),
            (r"\bs-[0-9a-z]{8,}\b", "[SESSION]"),
            (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", "[TIME]"),
            (r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]"),
            (r"\b\d+(\.\d+)?\s?ms\b", "[DURATION]"),
            (r"\b\d+\.\d+\s?s\b", "[DURATION]"),
            (r"/tmp/[^\s'\x22`)]+", "[TMP]"),
        ];
        let patterns = patterns.into_iter().map(|(p, l)| (Regex::new(p).unwrap(), l)).collect();
        Normaliser { paths, patterns }
    }

    fn text(&self, s: &str) -> String {
        let mut s = s.replace(&long_answer(), "[LONG ANSWER]").replace(PARAGRAPH, "[PARAGRAPH]");
        for (p, label) in &self.paths {
            s = s.replace(p.as_str(), label);
        }
        for (re, label) in &self.patterns {
            s = re.replace_all(&s, *label).into_owned();
        }
        s
    }

    /// Strings normalised everywhere inside a value.
    fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), self.value(x))).collect()),
            other => other.clone(),
        }
    }

    /// `{model, tools, messages: [{role: text}], ...other parameters}`.
    fn request(&self, body: &Value) -> Value {
        let mut out = Map::new();
        out.insert("model".into(), body["model"].clone());
        if let Some(tools) = body["tools"].as_array() {
            let names: Vec<Value> = tools.iter().map(|t| t["function"]["name"].clone()).collect();
            out.insert("tools".into(), Value::Array(names));
        }
        let messages: Vec<Value> =
            body["messages"].as_array().map(|ms| ms.iter().map(|m| self.message(m)).collect()).unwrap_or_default();
        out.insert("messages".into(), Value::Array(messages));
        if let Some(rest) = body.as_object() {
            for (k, v) in rest {
                if !["model", "tools", "messages", "stream", "stream_options"].contains(&k.as_str()) {
                    out.insert(k.clone(), self.value(v));
                }
            }
        }
        Value::Object(out)
    }

    fn message(&self, m: &Value) -> Value {
        let role = m["role"].as_str().unwrap_or("?").to_string();
        let content = match &m["content"] {
            Value::String(s) => Value::String(self.text(s)),
            other => self.value(other),
        };
        let mut out = Map::new();
        out.insert(role, content);
        if let Some(calls) = m["tool_calls"].as_array() {
            let calls: Vec<Value> = calls
                .iter()
                .map(|c| json!({"name": c["function"]["name"], "arguments": self.value(&c["function"]["arguments"])}))
                .collect();
            out.insert("tool_calls".into(), Value::Array(calls));
        }
        Value::Object(out)
    }
}
