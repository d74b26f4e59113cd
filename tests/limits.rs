//! `WINDLASS_LIMITS` end to end: a per-endpoint cap on requests in flight holds across
//! parallel soundings, and waiting on it shows to the user.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::requests::all_text;
use support::{FakeLlm, Reply, Sandbox};

const TEN_SOUNDINGS: &str = "cascade_id: c\nphases:\n  - name: tagline\n    model: fake/m\n    instructions: 'Write tagline {{ sounding_index }}.'\n    soundings:\n      factor: 10\n      max_parallel: 10\n      mutate: false\n      evaluator_instructions: Pick one.\n";

fn slow_llm() -> FakeLlm {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        if all_text(body).contains("Winner:") {
            return Reply::text("Winner: 1");
        }
        Reply::text("a tagline").with_delay(Duration::from_millis(150))
    });
    llm
}

#[test]
fn a_concurrency_cap_of_two_holds_across_ten_parallel_soundings() {
    let llm = slow_llm();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "fake/=2,*=50");
    sb.write("c.yaml", TEN_SOUNDINGS);
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let answered = events.iter().filter(|e| e["event"] == "sounding_finished").count();
    assert_eq!(answered, 10, "every sounding ran");
    assert_eq!(llm.max_in_flight(), 2, "the cap of 2 held (and was reached)");
    let waits: Vec<&Value> = events.iter().filter(|e| e["event"] == "limit_wait").collect();
    assert!(waits.len() >= 8, "eight soundings at least had to wait: {}", waits.len());
    assert_eq!(waits[0]["prefix"], "fake/");
    assert_eq!(waits[0]["max_concurrent"], 2);
}

#[test]
fn without_a_limit_the_soundings_run_all_at_once_and_nothing_waits() {
    let llm = slow_llm();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "other/=1");
    sb.write("c.yaml", TEN_SOUNDINGS);
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(llm.max_in_flight() > 2, "max in flight {}", llm.max_in_flight());
    assert!(!out.stdout.contains("\"limit_wait\""));
}

#[test]
fn the_plain_display_says_a_call_waits_on_a_limit() {
    let llm = slow_llm();
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "*=1");
    sb.write("c.yaml", TEN_SOUNDINGS.replace("factor: 10", "factor: 2").as_str());
    let out = sb.run(&["run", "c.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("waiting for a slot for fake/m (limit *=1)"), "{all}");
}

#[test]
fn a_malformed_limit_is_a_configuration_error_naming_the_variable() {
    let mut sb = Sandbox::new();
    sb.set("WINDLASS_LIMITS", "fake/=none");
    sb.write("c.yaml", TEN_SOUNDINGS);
    let out = sb.run(&["run", "c.yaml"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("WINDLASS_LIMITS"), "{}", out.stderr);
    sb.set("WINDLASS_LIMITS", "fake/=rps:3");
    let out = sb.run(&["run", "c.yaml"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("WINDLASS_LIMITS") && out.stderr.contains("unknown limit `rps`"), "{}", out.stderr);
}

/// `windlass run` of `cascade` under `limits`, streaming its ndjson events: the events seen
/// until one matches `until` (or 20 s pass), the requests the fake had by then, and whether
/// the fake got no more in the `quiet` that followed. The run is then interrupted.
fn run_until(llm: &FakeLlm, limits: &str, cascade: &str, until: &str, quiet: Duration) -> (Vec<Value>, usize, bool) {
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", limits);
    sb.write("c.yaml", cascade);
    let mut child = sb
        .command(&["run", "c.yaml", "-q", "--format", "ndjson"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str(&line).unwrap());
        }
    });
    let mut events = Vec::new();
    while let Ok(event) = rx.recv_timeout(Duration::from_secs(20)) {
        let done = event["event"] == until;
        events.push(event);
        if done {
            break;
        }
    }
    let seen = llm.request_count();
    std::thread::sleep(quiet);
    let held = llm.request_count() == seen;
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait();
    (events, seen, held)
}

const TWO_PHASES: &str = "cascade_id: c\nphases:\n  - name: one\n    model: fake/m\n    instructions: First.\n  - name: two\n    model: fake/m\n    instructions: Second.\n";

#[test]
fn a_requests_per_minute_limit_holds_the_next_call_and_the_wait_is_shown() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("ok"));
    let (events, seen, held) = run_until(&llm, "fake/=rpm:1", TWO_PHASES, "limit_wait", Duration::from_millis(1500));
    let wait = events.last().unwrap();
    assert_eq!(wait["event"], "limit_wait", "{events:?}");
    assert_eq!(wait["phase"], "two");
    assert_eq!(wait["limit"], "fake/=rpm:1");
    assert_eq!(wait["max_concurrent"], Value::Null);
    assert_eq!(seen, 1, "phase one's call went; phase two's waits for the minute to pass");
    assert!(held, "no second call within the minute");
}

#[test]
fn a_tokens_per_minute_limit_counts_the_tokens_the_provider_reported() {
    let llm = FakeLlm::start();
    // The first call used all 400 tokens of the limit (its estimate was far less); the next
    // prompt does not fit until the minute has passed.
    llm.set_fallback(Reply::text("ok").with_usage(300, 100, None));
    let (events, seen, held) = run_until(&llm, "fake/=tpm:400", TWO_PHASES, "limit_wait", Duration::from_millis(1500));
    let wait = events.last().unwrap();
    assert_eq!(wait["event"], "limit_wait", "{events:?}");
    assert_eq!(wait["limit"], "fake/=tpm:400");
    assert_eq!((seen, held), (1, true));
    // The same run under a larger limit does not wait.
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("ok").with_usage(300, 100, None));
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "fake/=tpm:5000;rpm:10;concurrency:1");
    sb.write("c.yaml", TWO_PHASES);
    let out = sb.run(&["run", "c.yaml", "-q", "--format", "ndjson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("\"limit_wait\""), "{}", out.stdout);
}

#[test]
fn the_plain_display_names_the_rate_limit_waited_on() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("ok"));
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_LIMITS", "*=rpm:1");
    sb.write("c.yaml", TWO_PHASES);
    let child = sb.command(&["run", "c.yaml", "--no-progress"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let pid = child.id() as i32;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(4));
        unsafe { libc::kill(pid, libc::SIGINT) };
    });
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("phase two waiting on the rate limit for fake/m (limit *=rpm:1)"), "{err}");
}
