//! Soundings as the original runs them (cascade-format.md, "Soundings"), through the binary
//! against the fake endpoint: the evaluator sees `## Attempt 1` … `## Attempt N` and the first
//! number from 1 to N in its reply wins; mutations sit where the original puts them.

mod support;

use serde_json::Value;
use support::requests::last_user;
use support::{FakeLlm, Reply, Sandbox};

const TASK: &str = "Write tagline {{ sounding_index }}.";

fn system(body: &Value) -> String {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "system")
        .filter_map(|m| m["content"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_evaluator(body: &Value) -> bool {
    system(body).contains("The attempts are numbered 1 to")
}

/// Three unmutated attempts answering `tagline <sounding_index>`, judged by `verdict`; the
/// winning output and the evaluator's request.
fn pick(verdict: &'static str) -> (String, Value) {
    let llm = FakeLlm::start();
    llm.respond_with(move |body| {
        if is_evaluator(body) {
            return Reply::text(verdict);
        }
        let n = last_user(body).chars().find(char::is_ascii_digit).unwrap_or('?');
        Reply::text(format!("tagline {n}"))
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        &format!("cascade_id: c\nphases:\n  - name: t\n    instructions: '{TASK}'\n    soundings:\n      factor: 3\n      mutate: false\n      evaluator_instructions: Pick the catchiest.\n"),
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let evaluator = llm.requests().into_iter().find(|r| is_evaluator(&r.body)).expect("an evaluator call").body;
    (out.json()["output"].as_str().unwrap().to_string(), evaluator)
}

#[test]
fn the_evaluator_sees_attempts_numbered_from_one_and_its_number_picks_the_winner() {
    let (output, evaluator) = pick("2");
    assert_eq!(output, "tagline 1", "attempt 2 is the second attempt (sounding_index 1)");
    assert!(system(&evaluator).starts_with("Pick the catchiest."), "{}", system(&evaluator));
    assert!(system(&evaluator).contains("numbered 1 to 3"));
    assert_eq!(
        last_user(&evaluator),
        "## Attempt 1\n\ntagline 0\n\n## Attempt 2\n\ntagline 1\n\n## Attempt 3\n\ntagline 2"
    );
}

#[test]
fn the_first_number_in_the_reply_wins() {
    assert_eq!(pick("Attempt 3 is best, better than 1").0, "tagline 2");
}

#[test]
fn numbers_out_of_range_are_skipped() {
    assert_eq!(pick("Attempt 0 and attempt 7 do not exist; of these, 1 is best").0, "tagline 0");
    assert_eq!(pick("Attempt 10 would win, but of the 3, number 3").0, "tagline 2");
}

/// The task as each of three attempts received it (index 0 first), and every request.
fn mutated(soundings: &str) -> (Vec<String>, Vec<Value>) {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        if is_evaluator(body) {
            return Reply::text("1");
        }
        if system(body).contains("Rewrite the prompt") {
            return Reply::text(format!("REWRITTEN: {}", last_user(body)));
        }
        Reply::text(format!("answer to: {}", last_user(body)))
    });
    let sb = Sandbox::with_llm(&llm.url());
    sb.write(
        "c.yaml",
        &format!("cascade_id: c\nphases:\n  - name: t\n    instructions: 'TASK {{{{ sounding_index }}}}'\n    soundings:\n      factor: 3\n{soundings}"),
    );
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut finished: Vec<(u64, String)> = events
        .iter()
        .filter(|e| e["event"] == "sounding_finished")
        .map(|e| (e["index"].as_u64().unwrap(), e["output"].as_str().unwrap().to_string()))
        .collect();
    finished.sort();
    let tasks = finished.into_iter().map(|(_, o)| o.strip_prefix("answer to: ").unwrap().to_string()).collect();
    (tasks, llm.requests().into_iter().map(|r| r.body).collect())
}

#[test]
fn augment_text_goes_before_the_task() {
    let (tasks, reqs) = mutated("      mutation_mode: augment\n");
    assert_eq!(tasks[0], "TASK 0", "attempt 1 is unmodified");
    let mut prefixes = Vec::new();
    for (i, task) in tasks.iter().enumerate().skip(1) {
        let before = task.strip_suffix(&format!("\n\nTASK {i}")).unwrap_or_else(|| panic!("{task:?}"));
        assert!(!before.trim().is_empty() && !before.contains("TASK"), "{task:?}");
        prefixes.push(before.to_string());
    }
    assert_ne!(prefixes[0], prefixes[1], "each mutated attempt has its own text");
    assert!(reqs.iter().all(|r| !system(r).contains("Rewrite the prompt")), "no rewrite calls");
}

#[test]
fn custom_augment_mutations_are_used_in_turn() {
    let (tasks, _) = mutated("      mutation_mode: augment\n      mutations: [BE BOLD, BE BRIEF]\n");
    assert_eq!(tasks, ["TASK 0", "BE BOLD\n\nTASK 1", "BE BRIEF\n\nTASK 2"]);
}

#[test]
fn approach_text_goes_after_the_task_under_a_heading() {
    let (tasks, _) = mutated("      mutation_mode: approach\n");
    assert_eq!(tasks[0], "TASK 0");
    for (i, task) in tasks.iter().enumerate().skip(1) {
        let after = task.strip_prefix(&format!("TASK {i}\n\n## Approach\n\n")).unwrap_or_else(|| panic!("{task:?}"));
        assert!(!after.trim().is_empty() && !after.contains('#'), "{task:?}");
    }
    assert_ne!(tasks[1].lines().last(), tasks[2].lines().last());
}

#[test]
fn rewrite_goes_through_a_separate_model_call_per_mutated_attempt() {
    let (tasks, reqs) = mutated("      mutation_mode: rewrite\n");
    assert_eq!(tasks, ["TASK 0", "REWRITTEN: TASK 1", "REWRITTEN: TASK 2"]);
    let rewrites: Vec<&Value> = reqs.iter().filter(|r| system(r).contains("Rewrite the prompt")).collect();
    assert_eq!(rewrites.len(), 2, "one rewrite call for each mutated attempt");
    let mut asked: Vec<String> = rewrites.iter().map(|r| last_user(r)).collect();
    asked.sort();
    assert_eq!(asked, ["TASK 1", "TASK 2"], "the rewrite sees the rendered task");
    assert_ne!(system(rewrites[0]), system(rewrites[1]), "each asks for a different rewrite");
}
