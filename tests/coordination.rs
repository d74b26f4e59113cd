//! Coordination between processes, on both store backends: messages and named signals sent
//! into running sessions, human answers by `windlass signal`, `cancel`, blocked sessions and
//! `--timeout`, orphans recovered by racing workers, `submit`, the worker's endpoints.

mod support;

use serde_json::json;
use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::backends::{backends, sandbox};
use support::requests::{all_text, last_user};
use support::waiting::{show, wait_for_checkpoints, wait_until};
use support::{FakeLlm, Reply, Sandbox};

fn spawn(sb: &Sandbox, args: &[&str]) -> Child {
    sb.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Wait for a child with a limit; its exit code, stdout and stderr.
fn finish(mut child: Child, limit: Duration) -> (i32, String, String) {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            let mut err = String::new();
            child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (status.code().unwrap_or(-1), out, err);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("the process did not end within {limit:?}; stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const TWO_PHASES: &str = "cascade_id: two\nphases:\n  - name: draft\n    instructions: WRITE A DRAFT\n  - name: polish\n    instructions: POLISH IT\n";

/// `windlass run` of `cascade` as session `id`, started and waited for until its first LLM
/// call (`WRITE A DRAFT`) arrived; that call is answered after 4 s, so the test can signal
/// the session meanwhile, and every other call with `then` at once.
fn run_with_a_slow_draft(
    env: &[(String, String)],
    cascade: &str,
    id: &str,
    then: &'static str,
) -> (FakeLlm, Sandbox, Child) {
    let llm = FakeLlm::start();
    llm.respond_with(move |body| {
        if last_user(body) == "WRITE A DRAFT" {
            Reply::text("a draft").with_delay(Duration::from_secs(4))
        } else {
            Reply::text(then)
        }
    });
    let sb = sandbox(&llm, env);
    sb.write("c.yaml", cascade);
    let child = spawn(&sb, &["run", "c.yaml", "-q", "--session", id]);
    wait_until("the first LLM call", Duration::from_secs(30), || llm.request_count() >= 1);
    (llm, sb, child)
}

#[test]
fn a_message_signalled_into_a_running_session_reaches_its_next_llm_request_and_its_logs() {
    for (backend, env) in backends() {
        let (llm, sb, child) = run_with_a_slow_draft(&env, TWO_PHASES, "fb-1", "polished");
        let sent = sb.run(&["signal", "fb-1", "Use British spelling, please."]);
        assert_eq!(sent.code, 0, "{backend}: {}", sent.stderr);
        let (code, stdout, stderr) = finish(child, Duration::from_secs(60));
        assert_eq!(code, 0, "{backend}: {stderr}");
        assert_eq!(stdout.trim(), "polished", "{backend}");
        let requests = llm.requests();
        assert_eq!(requests.len(), 2, "{backend}");
        assert!(!all_text(&requests[0].body).contains("British"), "{backend}");
        assert!(
            all_text(&requests[1].body).contains("Use British spelling, please."),
            "{backend}: {}",
            requests[1].body
        );
        let logs = sb.run(&["logs", "fb-1"]);
        assert!(
            logs.stdout.lines().any(|l| l.contains("signal_received [polish]") && l.contains("British")),
            "{backend}: {}",
            logs.stdout
        );
        // Consumed once: it is not delivered again to a later run of the same session.
        let sql = sb.run(&["sql", "select count(*) as n from signals where session_id = 'fb-1' and kind = 'consumed'"]);
        assert!(sql.stdout.contains('1'), "{backend}: {}", sql.stdout);
    }
}

#[test]
fn audibles_budget_caps_feedback_per_phase_and_the_rest_waits_for_the_next_phase() {
    for (backend, env) in backends() {
        let cascade = "cascade_id: aud\nphases:\n  - name: draft\n    instructions: WRITE A DRAFT\n    audibles: {budget: 1}\n    rules: {max_turns: 2, turn_prompt: KEEP GOING}\n  - name: polish\n    instructions: POLISH IT\n";
        let (llm, sb, child) = run_with_a_slow_draft(&env, cascade, "aud-1", "more");
        for note in ["first note", "second note"] {
            let sent = sb.run(&["signal", "aud-1", note]);
            assert_eq!(sent.code, 0, "{backend}: {}", sent.stderr);
        }
        let (code, _, stderr) = finish(child, Duration::from_secs(60));
        assert_eq!(code, 0, "{backend}: {stderr}");
        let bodies: Vec<String> = llm.requests().iter().map(|r| all_text(&r.body)).collect();
        assert_eq!(bodies.len(), 3, "{backend}: two turns of draft, one of polish");
        assert!(bodies[1].contains("[AUDIBLE] Feedback from the user: first note"), "{backend}: {}", bodies[1]);
        assert!(!bodies[1].contains("second note"), "{backend}: the budget of 1 is spent: {}", bodies[1]);
        assert!(bodies[2].contains("second note"), "{backend}: {}", bodies[2]);
    }
}

#[test]
fn ask_human_is_answered_by_windlass_signal_from_another_process() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.push(Reply::text(
            "<tool_call>{\"name\": \"ask_human\", \"arguments\": {\"question\": \"Which colour?\"}}</tool_call>",
        ));
        llm.push(Reply::text("You chose the colour."));
        let sb = sandbox(&llm, &env);
        sb.write(
            "c.yaml",
            "cascade_id: ask\nphases:\n  - name: pick\n    instructions: Ask which colour.\n    tackle: [ask_human]\n",
        );
        let child = spawn(&sb, &["run", "c.yaml", "-q", "--session", "ask-1", "--format", "json"]);
        wait_until("the session to block on the human", Duration::from_secs(30), || {
            show(&sb, "ask-1", "status") == "blocked"
        });
        assert_eq!(show(&sb, "ask-1", "blocked on"), "human: Which colour?", "{backend}");
        let sent = sb.run(&["signal", "ask-1", "teal"]);
        assert_eq!(sent.code, 0, "{backend}: {}", sent.stderr);
        let (code, stdout, stderr) = finish(child, Duration::from_secs(30));
        assert_eq!(code, 0, "{backend}: {stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(doc["status"], "completed", "{backend}");
        let follow = &llm.requests()[1].body;
        assert!(all_text(follow).contains("teal"), "{backend}: the answer is not in the follow-up: {follow}");
        assert_eq!(show(&sb, "ask-1", "status"), "completed", "{backend}");
    }
}

#[test]
fn human_input_after_a_phase_is_answered_by_a_signal_and_the_run_goes_on() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|body| Reply::text(format!("re: {}", last_user(body))));
        let sb = sandbox(&llm, &env);
        sb.write(
            "c.yaml",
            "cascade_id: c\nphases:\n  - name: a\n    instructions: DRAFT\n    human_input:\n      type: choice\n      options: [{id: short}, {id: long}]\n  - name: b\n    instructions: 'WRITE {{ state.human_input_a | default(outputs.a) }}'\n",
        );
        let child = spawn(&sb, &["run", "c.yaml", "-q", "--session", "hi-2", "--format", "json"]);
        wait_until("the session to block on the human", Duration::from_secs(30), || {
            show(&sb, "hi-2", "status") == "blocked"
        });
        assert!(show(&sb, "hi-2", "blocked on").starts_with("human: Phase `a` produced"), "{backend}");
        assert_eq!(llm.request_count(), 1, "{backend}: phase b must wait for the answer");
        assert_eq!(sb.run(&["signal", "hi-2", "2"]).code, 0, "{backend}");
        let (code, stdout, stderr) = finish(child, Duration::from_secs(30));
        assert_eq!(code, 0, "{backend}: {stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(doc["status"], "completed", "{backend}");
        assert_eq!(llm.request_count(), 2, "{backend}");
        assert_eq!(last_user(&llm.requests()[1].body), "WRITE long", "{backend}: the choice reaches phase b");
        let logs = sb.run(&["logs", "hi-2"]);
        assert!(logs.stdout.contains("\"as\":\"answer\""), "{backend}: {}", logs.stdout);
    }
}

const WAIT_FOR_GO: &str = "cascade_id: gate
phases:
  - name: wait
    tool: await_signal
    inputs:
      signal_name: go
      timeout: 20s
    handoffs: [got_it, too_late]
    routing:
      fired: got_it
      timeout: too_late
  - name: got_it
    instructions: 'FIRED {{ outputs.wait }}'
    handoffs: [end]
  - name: too_late
    instructions: TIMED OUT
";

#[test]
fn await_signal_routes_on_a_named_signal_and_passes_its_payload() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|body| Reply::text(format!("saw: {}", last_user(body))));
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", WAIT_FOR_GO);
        let child = spawn(&sb, &["run", "c.yaml", "-q", "--session", "gate-1"]);
        wait_until("the session to wait on the signal", Duration::from_secs(30), || {
            show(&sb, "gate-1", "blocked on") == "signal: go"
        });
        // A named signal for every waiter (no session given), with a payload.
        let fired = sb.run(&["signal", "--name", "go", "--payload", r#"{"batch": 42}"#]);
        assert_eq!(fired.code, 0, "{backend}: {}", fired.stderr);
        assert!(fired.stderr.contains("1 waiting now"), "{backend}: {}", fired.stderr);
        let (code, stdout, stderr) = finish(child, Duration::from_secs(30));
        assert_eq!(code, 0, "{backend}: {stderr}");
        let reqs = llm.requests();
        assert_eq!(reqs.len(), 1, "{backend}");
        let prompt = last_user(&reqs[0].body);
        assert!(prompt.starts_with("FIRED"), "{backend}: routed to the wrong phase: {prompt}");
        assert!(prompt.contains("42") && prompt.contains("fired"), "{backend}: {prompt}");
        assert!(stdout.contains("saw: FIRED"), "{backend}: {stdout}");
    }
}

#[test]
fn await_signal_times_out_into_its_timeout_route() {
    let llm = FakeLlm::start();
    llm.respond_with(|body| Reply::text(format!("saw: {}", last_user(body))));
    let sb = sandbox(&llm, &[]);
    sb.write("c.yaml", &WAIT_FOR_GO.replace("timeout: 20s", "timeout: 1s"));
    let out = sb.run(&["run", "c.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "saw: TIMED OUT");
}

#[test]
fn cancel_stops_a_running_session_within_two_seconds() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.set_fallback(Reply::text("slow").with_delay(Duration::from_secs(30)));
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", TWO_PHASES);
        let child = spawn(&sb, &["run", "c.yaml", "-q", "--session", "stop-1"]);
        wait_until("the first LLM call", Duration::from_secs(30), || llm.request_count() >= 1);
        let asked = Instant::now();
        let out = sb.run(&["cancel", "stop-1", "--reason", "changed my mind"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        let (code, _, stderr) = finish(child, Duration::from_secs(10));
        let took = asked.elapsed();
        assert_eq!(code, 1, "{backend}: {stderr}");
        assert!(took < Duration::from_secs(2) + out.elapsed, "{backend}: cancel took {took:?}");
        assert!(stderr.contains("cancelled"), "{backend}: {stderr}");
        assert_eq!(show(&sb, "stop-1", "status"), "cancelled", "{backend}");
        assert!(show(&sb, "stop-1", "error").contains("changed my mind"), "{backend}");
        // A finished session takes no more signals or cancels.
        let again = sb.run(&["signal", "stop-1", "hello?"]);
        assert_eq!(again.code, 1, "{backend}: {}", again.stderr);
        assert!(again.stderr.contains("stop-1") && again.stderr.contains("cancelled"), "{backend}: {}", again.stderr);
        let unknown = sb.run(&["cancel", "no-such-session"]);
        assert_eq!(unknown.code, 1, "{backend}");
        assert!(unknown.stderr.contains("no-such-session"), "{backend}: {}", unknown.stderr);
    }
}

#[test]
fn a_timeout_while_blocked_exits_75_and_the_session_resumes_with_the_answer() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|body| {
            if all_text(body).contains("yes, ship") {
                Reply::text("the human said: yes, ship")
            } else {
                Reply::text(
                    "<tool_call>{\"name\": \"ask_human\", \"arguments\": {\"question\": \"Ship it?\"}}</tool_call>",
                )
            }
        });
        let sb = sandbox(&llm, &env);
        sb.write(
            "c.yaml",
            "cascade_id: ask\nphases:\n  - name: gate\n    instructions: Ask.\n    tackle: [ask_human]\n",
        );
        let out = sb.run(&["run", "c.yaml", "-q", "--session", "wait-1", "--timeout", "2s"]);
        assert_eq!(out.code, 75, "{backend}: {}", out.stderr);
        assert!(out.stderr.contains("wait-1") && out.stderr.contains("Ship it?"), "{backend}: {}", out.stderr);
        assert_eq!(show(&sb, "wait-1", "status"), "blocked", "{backend}");
        assert_eq!(show(&sb, "wait-1", "blocked on"), "human: Ship it?", "{backend}");
        assert_eq!(sb.run(&["signal", "wait-1", "yes, ship"]).code, 0, "{backend}");
        let resumed = sb.run(&["resume", "wait-1", "-q"]);
        assert_eq!(resumed.code, 0, "{backend}: {}", resumed.stderr);
        assert!(resumed.stdout.contains("yes, ship"), "{backend}: {}", resumed.stdout);
    }
}

const THREE_PHASES: &str = "cascade_id: three\nphases:\n  - name: one\n    instructions: 'ONE {{ input.n }}'\n  - name: two\n    instructions: 'TWO {{ input.n }}'\n  - name: three\n    instructions: 'THREE {{ input.n }}'\n";

/// A fake endpoint whose phase-two answers hang (until the runs are killed), and a sandbox
/// with a short lease (2 s) holding the three-phase cascade.
fn hanging_in_phase_two(env: &[(String, String)]) -> (FakeLlm, Sandbox) {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let u = last_user(body);
        if u.starts_with("TWO") {
            Reply::text("late").with_delay(Duration::from_secs(60))
        } else {
            Reply::text(format!("done {u}"))
        }
    });
    let mut sb = sandbox(&llm, env);
    sb.set("WINDLASS_HEARTBEAT_INTERVAL", "500ms");
    sb.set("WINDLASS_HEARTBEAT_LEASE", "2s");
    sb.write("c.yaml", THREE_PHASES);
    (llm, sb)
}

#[test]
fn killed_runs_are_listed_as_orphans_and_four_racing_workers_resume_each_exactly_once() {
    four_workers_resume_five_orphans("5");
}

/// Each worker sees only two of the five orphans at once: the workers that lose the races
/// for their first picks go on to the others, so none is left behind.
#[test]
fn workers_with_less_capacity_than_orphans_go_past_lost_races_and_leave_none() {
    four_workers_resume_five_orphans("2");
}

/// Five runs killed in phase two, then four `worker --once --concurrency N` processes at once:
/// every session is resumed and completed exactly once.
fn four_workers_resume_five_orphans(concurrency: &str) {
    for (backend, env) in backends() {
        let (llm, mut sb) = hanging_in_phase_two(&env);
        let mut runs: Vec<Child> = (0..5)
            .map(|n| {
                let input = format!("{{\"n\": {n}}}");
                let id = format!("orphan-{n}");
                sb.command(&["run", "c.yaml", "-q", "--session", &id, "--input", &input])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        wait_until("every run to reach phase two", Duration::from_secs(60), || {
            llm.requests().iter().filter(|r| last_user(&r.body).starts_with("TWO")).count() == 5
        });
        // Phase two asks the model while phase one's checkpoint commits: killed before that
        // commit, phase one would rightly run again (at-least-once), and this test counts calls.
        let ids: Vec<String> = (0..5).map(|n| format!("orphan-{n}")).collect();
        wait_for_checkpoints(&sb, &ids, "one", Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(800)); // the log batches go out
        for r in &mut runs {
            r.kill().unwrap(); // SIGKILL: no goodbye, the heartbeat just stops
            r.wait().unwrap();
        }
        let before = llm.request_count();
        llm.respond_with(|body| Reply::text(format!("done {}", last_user(body))));
        // The lease runs out: no fixed sleep, the test goes on as soon as every one is listed.
        wait_until("the five leases to run out", Duration::from_secs(30), || {
            let listed = sb.run(&["orphans"]);
            (0..5).all(|n| listed.stdout.contains(&format!("orphan-{n}")))
        });
        let listed = sb.run(&["orphans"]);
        assert_eq!(listed.code, 0, "{backend}: {}", listed.stderr);
        for n in 0..5 {
            assert!(listed.stdout.contains(&format!("orphan-{n}")), "{backend}: {}", listed.stdout);
            assert_eq!(show(&sb, &format!("orphan-{n}"), "status"), "orphaned", "{backend}");
        }
        // The killed runs' rows keep their 2 s lease; the workers hold theirs for longer, so a
        // loaded machine (four debug workers taking turns with one DuckDB file) does not let
        // a live worker's lease run out and its phase run twice: at-least-once by design,
        // but this test counts calls exactly.
        sb.set("WINDLASS_HEARTBEAT_LEASE", "8s");
        let workers: Vec<Child> =
            (0..4).map(|_| spawn(&sb, &["worker", "--once", "--concurrency", concurrency])).collect();
        let mut said = String::new();
        for w in workers {
            let (code, _, stderr) = finish(w, Duration::from_secs(120));
            assert_eq!(code, 0, "{backend}: {stderr}");
            said.push_str(&stderr);
        }
        let after: Vec<String> = llm.requests()[before..].iter().map(|r| last_user(&r.body)).collect();
        for n in 0..5 {
            let count = |p: &str| after.iter().filter(|u| **u == format!("{p} {n}")).count();
            assert_eq!(count("ONE"), 0, "{backend}: completed phase one ran again: {after:?}\n{said}");
            assert_eq!(count("TWO"), 1, "{backend}: phase two of session {n}: {after:?}\n{said}");
            assert_eq!(count("THREE"), 1, "{backend}: phase three of session {n}: {after:?}\n{said}");
            assert_eq!(show(&sb, &format!("orphan-{n}"), "status"), "completed", "{backend}");
        }
        assert_eq!(after.len(), 10, "{backend}: {after:?}");
        let none = sb.run(&["orphans"]);
        assert!(!none.stdout.contains("orphan-"), "{backend}: {}", none.stdout);
    }
}

#[test]
fn a_forced_resume_fences_off_the_old_owner_at_its_next_checkpoint() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        // The first owner's phase two answers only after the takeover.
        let first = std::sync::atomic::AtomicBool::new(true);
        llm.respond_with(move |body| {
            let u = last_user(body);
            if u.starts_with("TWO") && first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                Reply::text("old owner's answer").with_delay(Duration::from_secs(4))
            } else {
                Reply::text(format!("done {u}"))
            }
        });
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", THREE_PHASES);
        let old = spawn(&sb, &["run", "c.yaml", "-q", "--session", "fence-1", "-i", "n=1"]);
        wait_until("the old owner to reach phase two", Duration::from_secs(30), || {
            llm.requests().iter().any(|r| last_user(&r.body).starts_with("TWO"))
        });
        let taken = spawn(&sb, &["resume", "fence-1", "--force", "-q"]);
        let (code, _, stderr) = finish(old, Duration::from_secs(30));
        assert_eq!(code, 1, "{backend}: the old owner must stop: {stderr}");
        assert!(stderr.contains("took the session over"), "{backend}: {stderr}");
        let (code, stdout, stderr) = finish(taken, Duration::from_secs(30));
        assert_eq!(code, 0, "{backend}: {stderr}");
        assert!(stdout.contains("done THREE 1"), "{backend}: {stdout}");
        assert_eq!(show(&sb, "fence-1", "status"), "completed", "{backend}");
        // The takeover holds a later epoch: 2, or more where a slow store made its claim
        // round withdraw and try again.
        let owner = show(&sb, "fence-1", "owner");
        let epoch = owner.rsplit("(epoch ").next().and_then(|e| e.trim_end_matches(')').parse::<u64>().ok());
        assert!(epoch.is_some_and(|e| e >= 2), "{backend}: {owner}");
        // The old owner's late phase-two checkpoint was never written.
        let sql = sb.run(&[
            "sql",
            "select count(*) as n from checkpoints where session_id = 'fence-1' and owner_epoch = 1 and phase = 'two'",
        ]);
        assert!(sql.stdout.lines().nth(1).is_some_and(|l| l.trim() == "0"), "{backend}: {}", sql.stdout);
    }
}

#[test]
fn orphans_resume_claims_and_finishes_them_in_this_process() {
    for (backend, env) in backends() {
        let (llm, sb) = hanging_in_phase_two(&env);
        let mut run = sb.command(&["run", "c.yaml", "-q", "--session", "lost-1", "-i", "n=3"]).spawn().unwrap();
        wait_until("phase two", Duration::from_secs(30), || {
            llm.requests().iter().any(|r| last_user(&r.body).starts_with("TWO"))
        });
        std::thread::sleep(Duration::from_millis(800));
        run.kill().unwrap();
        run.wait().unwrap();
        llm.respond_with(|body| Reply::text(format!("done {}", last_user(body))));
        wait_until("the lease to run out", Duration::from_secs(30), || sb.run(&["orphans"]).stdout.contains("lost-1"));
        let out = sb.run(&["orphans", "--resume"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        assert!(out.stdout.contains("lost-1"), "{backend}: {}", out.stdout);
        assert!(out.stderr.contains("lost-1 completed"), "{backend}: {}", out.stderr);
        assert_eq!(show(&sb, "lost-1", "status"), "completed", "{backend}");
    }
}

#[test]
fn submitted_sessions_are_run_by_a_worker() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|body| Reply::text(format!("done {}", last_user(body))));
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", THREE_PHASES);
        let out = sb.run(&["submit", "c.yaml", "--input", r#"{"n": 7}"#, "--format", "json"]);
        assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        let id = out.json()["session_id"].as_str().unwrap().to_string();
        assert_eq!(show(&sb, &id, "status"), "queued", "{backend}");
        assert_eq!(llm.request_count(), 0, "{backend}: submit must not run anything");
        let worker = sb.run(&["worker", "--once"]);
        assert_eq!(worker.code, 0, "{backend}: {}", worker.stderr);
        assert!(worker.stderr.contains(&id), "{backend}: {}", worker.stderr);
        assert_eq!(show(&sb, &id, "status"), "completed", "{backend}");
        let prompts: Vec<String> = llm.requests().iter().map(|r| last_user(&r.body)).collect();
        assert_eq!(prompts, ["ONE 7", "TWO 7", "THREE 7"], "{backend}");
        // Nothing left: a second worker finds no work.
        let again = sb.run(&["worker", "--once"]);
        assert_eq!(again.code, 0, "{backend}");
        assert_eq!(llm.request_count(), 3, "{backend}");
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, body)
}

#[test]
fn the_worker_serves_health_ready_and_metrics_and_stops_on_sigterm() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|body| Reply::text(format!("done {}", last_user(body))));
        let sb = sandbox(&llm, &env);
        sb.write("c.yaml", THREE_PHASES);
        let id = sb.run(&["submit", "c.yaml", "-i", "n=1"]).stdout.trim().to_string();
        let mut worker = spawn(&sb, &["worker", "--listen", "127.0.0.1:0"]);
        let mut stderr = std::io::BufReader::new(worker.stderr.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        let addr = line.rsplit("http://").next().unwrap().trim().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "{backend}: {line}");
        wait_until("the submitted session to complete", Duration::from_secs(30), || {
            show(&sb, &id, "status") == "completed"
        });
        let (code, body) = http_get(&addr, "/health");
        assert_eq!(code, 200, "{backend}: {body}");
        assert_eq!(http_get(&addr, "/ready").0, 200, "{backend}");
        assert_eq!(http_get(&addr, "/nope").0, 404, "{backend}");
        // The row says completed a moment before the worker counts it (it flushes the
        // session's log rows first).
        wait_until("the worker to count the session", Duration::from_secs(10), || {
            http_get(&addr, "/metrics").1.contains("windlass_sessions_completed_total 1\n")
        });
        let (code, metrics) = http_get(&addr, "/metrics");
        assert_eq!(code, 200, "{backend}");
        assert!(metrics.contains("windlass_sessions_completed_total 1\n"), "{backend}: {metrics}");
        assert!(metrics.contains("windlass_claims_won_total 1\n"), "{backend}: {metrics}");
        assert!(metrics.contains("windlass_sessions_running 0\n"), "{backend}: {metrics}");
        assert!(metrics.contains("windlass_store_latency_seconds "), "{backend}: {metrics}");
        // The store's calls by operation (as sent, after batching): checkpoints were written, and the histogram's
        // +Inf bucket equals its count.
        let value = |name: &str| -> f64 {
            let line = metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}: {metrics}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        let op = "put_checkpoints"; // checkpoints go out batched
        let count = value(&format!("windlass_store_operation_seconds_count{{operation=\"{op}\"}}"));
        assert!(count >= 1.0, "{backend}: {metrics}");
        assert_eq!(value(&format!("windlass_store_operation_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}}")), count);
        assert!(metrics.contains("# TYPE windlass_store_operation_seconds histogram"), "{backend}");
        // Sessions in the store by status, and this process's memory.
        assert_eq!(value("windlass_store_sessions{status=\"completed\"}"), 1.0, "{backend}: {metrics}");
        assert_eq!(value("windlass_store_sessions{status=\"running\"}"), 0.0, "{backend}: {metrics}");
        let rss = value("windlass_process_resident_memory_bytes");
        assert!(rss > 1e6 && rss < 2e9, "{backend}: {rss}");
        unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
        let t = Instant::now();
        let status = loop {
            if let Some(s) = worker.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{backend}: the worker ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "{backend}");
    }
}

#[test]
fn signals_to_unknown_sessions_fail_clearly() {
    let llm = FakeLlm::start();
    let sb = sandbox(&llm, &[]);
    let out = sb.run(&["signal", "ghost-7", "hello"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("ghost-7"), "{}", out.stderr);
    let bad = sb.run(&["signal", "--name", "go", "--payload", "{not json"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let _ = json!({});
}

/// Store writes of session rows by this worker so far, from its `/metrics` (as sent, after batching).
fn session_row_writes(addr: &str) -> f64 {
    let (_, metrics) = http_get(addr, "/metrics");
    ["put_session_state", "put_session_states"]
        .iter()
        .filter_map(|op| {
            let name = format!("windlass_store_operation_seconds_count{{operation=\"{op}\"}} ");
            metrics.lines().find_map(|l| l.strip_prefix(&name)).map(|v| v.trim().parse::<f64>().unwrap())
        })
        .sum()
}

#[test]
fn the_heartbeats_of_a_workers_sessions_go_out_together() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        // Every session waits 9 s on its one call: only heartbeats write session rows meanwhile.
        llm.set_fallback(Reply::text("done").with_delay(Duration::from_secs(9)));
        let sb = sandbox(&llm, &env);
        sb.write("one.yaml", "cascade_id: one\nphases:\n  - name: only\n    instructions: 'Wait {{ input.n }}'\n");
        for n in 0..20 {
            let out = sb.run(&["submit", "one.yaml", "-i", &format!("n={n}")]);
            assert_eq!(out.code, 0, "{}", out.stderr);
        }
        let mut worker = spawn(&sb, &["worker", "--once", "--concurrency", "20", "--listen", "127.0.0.1:0"]);
        let mut stderr = std::io::BufReader::new(worker.stderr.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        let addr = line.rsplit("http://").next().unwrap().trim().to_string();
        wait_until("all 20 calls to be in flight", Duration::from_secs(20), || llm.request_count() >= 20);
        std::thread::sleep(Duration::from_millis(500));
        let before = session_row_writes(&addr);
        std::thread::sleep(Duration::from_secs(6));
        let during = session_row_writes(&addr) - before;
        eprintln!("{backend}: {during} session-row writes in 6 s of heartbeats");
        // Six 1 s intervals of 20 sessions' heartbeats: 120 rows. All sessions beat at the
        // same moments and the batched store gathers their rows for a moment (they wake on
        // different threads, a little apart), so each beat is one insert: six or seven in
        // 6 s, at most two a beat on a loaded machine. Beats on each session's own schedule
        // made 24 or more, and beats sent as soon as the first row was ready 12 to 18.
        assert!(during <= 12.0, "{backend}: {during} session-row writes in 6 s of heartbeats");
        assert!(during >= 4.0, "{backend}: the sessions beat: {during}");
        let t = Instant::now();
        let status = loop {
            if let Some(s) = worker.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "{backend}: the worker did not finish");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(0), "{backend}");
    }
}
