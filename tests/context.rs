//! `context` as the original builds it, through the binary: the exact messages (roles, order,
//! content) the fake endpoint receives.

mod support;

use serde_json::Value;
use support::requests::messages;
use support::{FakeLlm, Reply, Sandbox};

fn m(role: &str, content: &str) -> (String, String) {
    (role.to_string(), content.to_string())
}

/// Run `cascade` with `args` after `run c.yaml -q --format ndjson`; the events.
fn run(llm: &FakeLlm, cascade: &str, args: &[&str]) -> Vec<Value> {
    run_with(llm, cascade, args, &[])
}

fn run_with(llm: &FakeLlm, cascade: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    let mut sb = Sandbox::with_llm(&llm.url());
    for (k, v) in env {
        sb.set(k, v);
    }
    sb.write("c.yaml", cascade);
    let mut all = vec!["run", "c.yaml", "-q", "--format", "ndjson"];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, out.stdout);
    out.stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

const INPUT: &str = "Input:\n{\n  \"topic\": \"owls\"\n}";

#[test]
fn explicit_context_puts_the_input_first_then_the_sources_in_order_with_their_roles() {
    let llm = FakeLlm::start();
    for r in ["FACT-1", "DRAFT-2", "final"] {
        llm.push(Reply::text(r));
    }
    run(
        &llm,
        "cascade_id: c\nphases:\n  - name: research\n    instructions: Find a fact about {{ input.topic }}.\n  - name: draft\n    instructions: Draft.\n  - name: write\n    instructions: Write it up.\n    context:\n      from:\n        - draft\n        - {phase: research, as_role: system}\n",
        &["-i", "topic=owls"],
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 3);
    // No context block: a clean slate, no input.
    assert_eq!(messages(&reqs[1].body), [m("user", "Draft.")]);
    assert_eq!(
        messages(&reqs[2].body),
        [
            m("user", INPUT),
            m("user", "Output of phase `draft`:\nDRAFT-2"),
            m("system", "Output of phase `research`:\nFACT-1"),
            m("user", "Write it up."),
        ]
    );
}

#[test]
fn an_empty_input_is_never_sent_and_include_input_false_leaves_it_out() {
    let cascade = |include: &str| {
        format!("cascade_id: c\nphases:\n  - name: a\n    instructions: A.\n  - name: b\n    instructions: B.\n    context:\n      from: [previous]\n{include}")
    };
    let llm = FakeLlm::start();
    llm.push(Reply::text("A-OUT"));
    run(&llm, &cascade(""), &[]);
    assert_eq!(messages(&llm.requests()[1].body), [m("user", "Output of phase `a`:\nA-OUT"), m("user", "B.")]);

    let llm = FakeLlm::start();
    llm.push(Reply::text("A-OUT"));
    run(&llm, &cascade("      include_input: no\n"), &["-i", "topic=owls"]);
    assert_eq!(messages(&llm.requests()[1].body), [m("user", "Output of phase `a`:\nA-OUT"), m("user", "B.")]);
}

/// Three phases, then `final` with the given auto context. Conversations: a [Describe owls.,
/// Owls hunt…], b [Describe weather., Rain…], c [Summarise., Done.].
fn three_then(context: &str) -> String {
    format!(
        "cascade_id: c\nphases:\n  - name: a\n    instructions: Describe owls.\n  - name: b\n    instructions: Describe weather.\n  - name: c\n    instructions: Summarise.\n  - name: final\n    instructions: Write about owls hunting at night.\n    context:\n      mode: auto\n{context}"
    )
}

fn push_three(llm: &FakeLlm) {
    for r in ["Owls hunt at night using silent flight.", "Rain tomorrow, sunny later.", "Done."] {
        llm.push(Reply::text(r));
    }
}

const ANCHOR_C: &str = "Output of phase `c`:\nDone.";
const TASK: &str = "Write about owls hunting at night.";

#[test]
fn auto_defaults_anchor_the_input_and_the_previous_output_then_the_earlier_messages_in_order() {
    let llm = FakeLlm::start();
    push_three(&llm);
    // Everything fits the default budget: all earlier messages, and no selection call.
    run(&llm, &three_then(""), &["-i", "topic=owls"]);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 4, "no selection call when everything fits");
    assert_eq!(
        messages(&reqs[3].body),
        [
            m("user", INPUT),
            m("assistant", ANCHOR_C),
            m("user", "Describe owls."),
            m("assistant", "Owls hunt at night using silent flight."),
            m("user", "Describe weather."),
            m("assistant", "Rain tomorrow, sunny later."),
            m("user", "Summarise."),
            m("user", TASK),
        ]
    );
}

#[test]
fn auto_heuristic_keeps_the_window_and_the_best_scored_messages_within_max_tokens() {
    let llm = FakeLlm::start();
    push_three(&llm);
    // Anchor 11 tokens + window ("Summarise.", 7): 14 left, exactly the owl message (14).
    // Ranked: the owl message (keywords owls, night) beats the newer weather reply.
    run(
        &llm,
        &three_then(
            "      anchors: {window: 1, include: [output]}\n      selection: {strategy: heuristic, max_tokens: 32}\n",
        ),
        &["-i", "topic=owls"],
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(
        messages(&reqs[3].body),
        [
            m("assistant", ANCHOR_C),
            m("assistant", "Owls hunt at night using silent flight."),
            m("user", "Summarise."),
            m("user", TASK),
        ]
    );
}

#[test]
fn auto_heuristic_without_a_window_takes_the_best_scores_first() {
    let llm = FakeLlm::start();
    push_three(&llm);
    // 21 tokens: the owl message (score 0.32, 14) then "Summarise." (0.30, 7).
    run(
        &llm,
        &three_then(
            "      anchors: {window: 0, include: [output]}\n      selection: {strategy: heuristic, max_tokens: 32}\n",
        ),
        &[],
    );
    assert_eq!(
        messages(&llm.requests()[3].body),
        [
            m("assistant", ANCHOR_C),
            m("assistant", "Owls hunt at night using silent flight."),
            m("user", "Summarise."),
            m("user", TASK),
        ]
    );
}

const SELECT_PROMPT: &str = "You choose which earlier messages of a workflow the next step needs as context. Answer with the ids of the messages to keep as a JSON list, most useful first, for example [2, 5], and nothing else.";

#[test]
fn auto_llm_asks_the_model_which_messages_to_keep() {
    let llm = FakeLlm::start();
    push_three(&llm);
    llm.push(Reply::text("[3, 99]"));
    llm.push(Reply::text("final"));
    let events = run(
        &llm,
        &three_then(
            "      anchors: {window: 0, include: [output]}\n      selection: {strategy: llm, max_tokens: 32}\n",
        ),
        &[],
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 5);
    assert_eq!(
        messages(&reqs[3].body),
        [
            m("system", SELECT_PROMPT),
            m(
                "user",
                "The next step's task:\nWrite about owls hunting at night.\n\nEarlier messages:\n\
                 [1] user in phase `a`, ~8 tokens: Describe owls.\n\
                 [2] assistant in phase `a`, ~14 tokens: Owls hunt at night using silent flight.\n\
                 [3] user in phase `b`, ~9 tokens: Describe weather.\n\
                 [4] assistant in phase `b`, ~11 tokens: Rain tomorrow, sunny later.\n\
                 [5] user in phase `c`, ~7 tokens: Summarise.\n\n\
                 Keep at most 50 messages and about 21 tokens."
            ),
        ]
    );
    assert_eq!(reqs[3].body["model"], "test/model", "the phase's model by default");
    // Id 99 does not exist and is ignored.
    assert_eq!(messages(&reqs[4].body), [m("assistant", ANCHOR_C), m("user", "Describe weather."), m("user", TASK)]);
    // The selection call is an ordinary engine call of the phase.
    let asked: Vec<&Value> = events.iter().filter(|e| e["event"] == "llm_request").collect();
    assert_eq!(asked.len(), 5);
    assert_eq!(asked[3]["phase"], "final");
}

#[test]
fn auto_hybrid_gives_the_model_the_heuristic_shortlist() {
    let llm = FakeLlm::start();
    push_three(&llm);
    llm.push(Reply::text("I'd keep [3]."));
    llm.push(Reply::text("final"));
    run(
        &llm,
        &three_then(
            "      anchors: {window: 0, include: [output]}\n      selection: {strategy: hybrid, max_tokens: 32, model: fake/picker}\n",
        ),
        &[],
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[3].body["model"], "fake/picker");
    // Twice the budget (42 tokens): the four best; "Describe owls." (lowest score) is left out.
    let ask = &messages(&reqs[3].body)[1].1;
    let listed: Vec<&str> = ask.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(
        listed,
        [
            "[1] assistant in phase `a`, ~14 tokens: Owls hunt at night using silent flight.",
            "[2] user in phase `b`, ~9 tokens: Describe weather.",
            "[3] assistant in phase `b`, ~11 tokens: Rain tomorrow, sunny later.",
            "[4] user in phase `c`, ~7 tokens: Summarise.",
        ]
    );
    assert_eq!(
        messages(&reqs[4].body),
        [m("assistant", ANCHOR_C), m("assistant", "Rain tomorrow, sunny later."), m("user", TASK)]
    );
}

#[test]
fn auto_semantic_without_an_embeddings_endpoint_warns_and_uses_the_heuristic() {
    let llm = FakeLlm::start();
    push_three(&llm);
    let events = run(
        &llm,
        &three_then(
            "      anchors: {window: 0, include: [output]}\n      selection: {strategy: semantic, max_tokens: 32}\n",
        ),
        &[],
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(
        messages(&reqs[3].body),
        [
            m("assistant", ANCHOR_C),
            m("assistant", "Owls hunt at night using silent flight."),
            m("user", "Summarise."),
            m("user", TASK),
        ]
    );
    let warning = events.iter().find(|e| e["event"] == "warning").expect("the fallback is told");
    assert_eq!(warning["phase"], "final");
    assert!(warning["message"].as_str().unwrap().contains("WINDLASS_EMBEDDINGS_MODEL"), "{warning}");
    assert!(reqs.iter().all(|r| r.path.ends_with("/chat/completions")), "no embeddings call");
}

#[test]
fn auto_semantic_ranks_by_embeddings_when_a_model_is_set() {
    let llm = FakeLlm::start();
    push_three(&llm);
    // Two dimensions: weather, owls.
    llm.embed_with(|text| {
        let t = text.to_lowercase();
        vec![f32::from(u8::from(t.contains("weather") || t.contains("rain"))), f32::from(u8::from(t.contains("owl")))]
    });
    // 22 tokens: both owl messages (similarity 1; 14 + 8). The heuristic would keep the owl
    // reply and "Summarise." instead.
    let events = run_with(
        &llm,
        &three_then(
            "      anchors: {window: 0, include: [output]}\n      selection: {strategy: semantic, max_tokens: 33}\n",
        ),
        &[],
        &[("WINDLASS_EMBEDDINGS_MODEL", "fake/embed")],
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 5);
    assert!(reqs[3].path.ends_with("/v1/embeddings"), "{}", reqs[3].path);
    assert_eq!(
        reqs[3].body,
        serde_json::json!({"model": "fake/embed", "input": [
            TASK, "Describe owls.", "Owls hunt at night using silent flight.", "Describe weather.",
            "Rain tomorrow, sunny later.", "Summarise."
        ]})
    );
    assert_eq!(
        messages(&reqs[4].body),
        [
            m("assistant", ANCHOR_C),
            m("user", "Describe owls."),
            m("assistant", "Owls hunt at night using silent flight."),
            m("user", TASK),
        ]
    );
    assert!(events.iter().all(|e| e["event"] != "warning"), "no fallback");
}

#[test]
fn auto_anchors_outputs_and_callouts_of_the_named_phases() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("FACT-1"));
    llm.push(Reply::text("B-OUT"));
    run(
        &llm,
        "cascade_id: c\nphases:\n  - name: a\n    instructions: Find a fact.\n    callouts: Key fact\n  - name: b\n    instructions: Continue.\n  - name: final\n    instructions: Conclude.\n    context:\n      mode: auto\n      anchors:\n        from_phases: [a, b]\n        window: 0\n",
        &["-i", "topic=owls"],
    );
    assert_eq!(
        messages(&llm.requests()[2].body),
        [
            m("user", INPUT),
            m("assistant", "Output of phase `a`:\nFACT-1"),
            m("assistant", "Callout `Key fact` from phase `a`:\nFACT-1"),
            m("assistant", "Output of phase `b`:\nB-OUT"),
            // The anchored texts are not repeated among the earlier messages.
            m("user", "Find a fact."),
            m("user", "Continue."),
            m("user", "Conclude."),
        ]
    );
}

#[test]
fn auto_anchors_the_last_error() {
    let llm = FakeLlm::start();
    run(
        &llm,
        "cascade_id: c\nphases:\n  - name: load\n    tool: sql_data\n    inputs:\n      query: SELEC nonsense\n    on_error: report\n  - name: report\n    instructions: Explain what went wrong.\n    context:\n      mode: auto\n      anchors: {include: [errors]}\n",
        &[],
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 1);
    let got = messages(&reqs[0].body);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "assistant");
    assert!(got[0].1.starts_with("Error:\n") && got[0].1.contains("sql_data"), "{got:?}");
    assert_eq!(got[1], m("user", "Explain what went wrong."));
}

#[test]
fn check_reports_wrong_types_in_auto_context_with_their_line() {
    let sb = Sandbox::new();
    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: a\n    instructions: A.\n    context:\n      mode: auto\n      selection:\n        max_tokens: lots\n",
    );
    let out = sb.run(&["check", "c.yaml"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("c.yaml:8") && out.stdout.contains("max_tokens"), "{}{}", out.stdout, out.stderr);

    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: a\n    instructions: A.\n    context:\n      mode: auto\n      selection: {strategy: clever}\n",
    );
    let out = sb.run(&["check", "c.yaml"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("c.yaml:7") && out.stdout.contains("clever"), "{}{}", out.stdout, out.stderr);

    sb.write(
        "c.yaml",
        "cascade_id: c\nphases:\n  - name: a\n    instructions: A.\n    context:\n      mode: auto\n      anchors: {from_phases: [nowhere]}\n      from: [a]\n",
    );
    let out = sb.run(&["check", "c.yaml"]);
    assert_eq!(out.code, 0, "warnings only: {}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("c.yaml:7") && out.stdout.contains("nowhere"), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("c.yaml:8") && out.stdout.contains("anchors.from_phases"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn auto_does_not_repeat_what_an_earlier_phase_was_given_as_context() {
    let llm = FakeLlm::start();
    llm.push(Reply::text("FACT-1"));
    llm.push(Reply::text("B-OUT"));
    run(
        &llm,
        "cascade_id: c\nphases:\n  - name: a\n    instructions: Find a fact.\n  - name: b\n    instructions: Continue.\n    context: {from: [a]}\n  - name: final\n    instructions: Conclude.\n    context: {mode: auto}\n",
        &["-i", "topic=owls"],
    );
    let reqs = llm.requests();
    // b was given the input and a's output.
    assert_eq!(
        messages(&reqs[1].body),
        [m("user", INPUT), m("user", "Output of phase `a`:\nFACT-1"), m("user", "Continue.")]
    );
    assert_eq!(
        messages(&reqs[2].body),
        [
            m("user", INPUT),
            m("assistant", "Output of phase `b`:\nB-OUT"),
            m("user", "Find a fact."),
            m("assistant", "FACT-1"),
            // From b's conversation, without the input again.
            m("user", "Output of phase `a`:\nFACT-1"),
            m("user", "Continue."),
            m("user", "Conclude."),
        ]
    );
}

#[test]
fn the_llm_selection_call_is_recorded_and_replayed_by_a_cassette() {
    let llm = FakeLlm::start();
    push_three(&llm);
    llm.push(Reply::text("[3]"));
    llm.push(Reply::text("FINAL-ANSWER"));
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        &three_then(
            "      anchors: {window: 0, include: [output]}\n      selection: {strategy: llm, max_tokens: 32}\n",
        ),
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--record", "tape.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(llm.request_count(), 5);
    let tape = std::fs::read_to_string(sb.path().join("tape.yaml")).unwrap();
    assert_eq!(tape.matches("\n  - hash: ").count(), 5, "the selection call is on the tape:\n{tape}");
    drop(llm);
    // Nobody listens there any more: every answer must come from the cassette.
    sb.set("WINDLASS_BASE_URL", "http://127.0.0.1:9/v1");
    let out = sb.run(&["run", "c.yaml", "-q", "--replay", "tape.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "FINAL-ANSWER");
}
