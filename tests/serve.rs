//! The HTTP API as a client meets it, with the real binary: `windlass serve` and
//! `windlass worker --listen` on one store (both backends), a session run by one process and
//! listed, streamed and answered through the other; event streams resumed with
//! `Last-Event-ID`; bad input, tokens, cross-site requests and exposed addresses; shutdown
//! with open streams.

mod support;

use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::backends::{backends, sandbox};
use support::http::{get, post, request, Sse};
use support::requests::all_text;
use support::waiting::wait_until;
use support::{FakeLlm, Reply, Sandbox};

/// A `serve` or `worker --listen` process: its address, and its stderr collected as it runs.
struct Server {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Start `args` (which must listen on 127.0.0.1:0) and wait for its address.
    fn start(sb: &Sandbox, args: &[&str]) -> Server {
        let mut child = sb.command(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut reader = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let addr = line.rsplit("http://").next().unwrap().trim().to_string();
        assert!(addr.starts_with("127.0.0.1:"), "{args:?} did not say where it listens: {line}");
        let stderr = Arc::new(Mutex::new(line));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            for l in reader.lines().map_while(Result::ok) {
                rest.push_str(&l);
                rest.push('\n');
                sink.lock().unwrap().push_str(&format!("{l}\n"));
            }
        });
        Server { child, addr, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, and the exit code within `limit`.
    fn stop(mut self, limit: Duration) -> i32 {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let t = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(t.elapsed() < limit, "the server ignored SIGTERM for {limit:?}:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ASK: &str = "cascade_id: ask\nphases:\n  - name: pick\n    instructions: Ask which colour.\n    tackle: [ask_human]\n  - name: confirm\n    instructions: CONFIRM IT\n";

fn ask_llm() -> FakeLlm {
    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let text = all_text(body);
        if text.contains("CONFIRM IT") {
            Reply::text("confirmed")
        } else if text.contains("teal") {
            Reply::text("You chose teal.")
        } else {
            Reply::text("<tool_call>{\"name\": \"ask_human\", \"arguments\": {\"question\": \"Which colour?\", \"html\": \"<b>pick</b><script>parent.x=1</script>\"}}</tool_call>")
        }
    });
    llm
}

#[test]
fn a_session_run_by_a_worker_is_listed_streamed_and_answered_through_another_server() {
    for (backend, env) in backends() {
        let llm = ask_llm();
        let sb = sandbox(&llm, &env);
        let a = Server::start(&sb, &["worker", "--listen", "127.0.0.1:0"]);
        let b = Server::start(&sb, &["serve", "--listen", "127.0.0.1:0"]);

        let made = post(
            &b.addr,
            "/api/sessions",
            &json!({"definition": ASK, "session_id": "web-1", "input": {"n": 1}}).to_string(),
        );
        assert_eq!(made.status, 201, "{backend}: {}", made.body);
        assert_eq!(made.json()["session_id"], "web-1", "{backend}");

        let events = Sse::connect(&b.addr, "/api/sessions/web-1/events", &[]);
        assert_eq!(events.status, 200, "{backend}");
        let first = events.next(Duration::from_secs(10)).expect("a first event");
        assert_eq!(first.event, "status", "{backend}: the stream starts with the session's row");

        // The worker (process A) takes it and it waits for the human.
        let seen = events.until("human_input_requested", Duration::from_secs(30));
        assert!(seen.iter().any(|e| e.event == "phase_started" && e.json()["phase_name"] == "pick"), "{backend}");
        wait_until("the session to block", Duration::from_secs(20), || {
            get(&b.addr, "/api/sessions/web-1").json()["session"]["status"] == "blocked"
        });
        let listed = get(&b.addr, "/api/sessions?status=blocked");
        assert_eq!(listed.status, 200, "{backend}");
        let ids: Vec<Value> =
            listed.json()["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].clone()).collect();
        assert_eq!(ids, [json!("web-1")], "{backend}");
        let detail = get(&b.addr, "/api/sessions/web-1").json();
        assert_eq!(detail["question"]["prompt"], "Which colour?", "{backend}: {detail}");
        assert_eq!(detail["question"]["html"], "<b>pick</b><script>parent.x=1</script>", "{backend}");
        assert_eq!(detail["phases"][0]["name"], "pick", "{backend}");
        assert_eq!(detail["phases"][0]["status"], "running", "{backend}");
        assert_eq!(detail["cascade"]["input"], json!({"n": 1}), "{backend}");
        assert!(detail["session"]["owner"].as_str().unwrap().contains(':'), "{backend}: run by the worker");

        // The answer, through process B, reaches the session in process A.
        let sent = post(&b.addr, "/api/sessions/web-1/signal", r#"{"message": "teal"}"#);
        assert_eq!(sent.status, 202, "{backend}: {}", sent.body);
        assert!(sent.json()["signal_id"].is_string(), "{backend}");
        let rest = events.until("end", Duration::from_secs(30));
        assert!(rest.iter().any(|e| e.event == "signal_received" && e.data.contains("teal")), "{backend}");
        assert!(rest.iter().any(|e| e.event == "cascade_finished"), "{backend}");
        assert_eq!(rest.last().unwrap().json()["status"], "completed", "{backend}");
        assert!(events.closed_within(Duration::from_secs(2)), "{backend}: the stream ends after `end`");
        assert!(
            llm.requests().iter().any(|r| all_text(&r.body).contains("teal")),
            "{backend}: the answer reached the model"
        );

        let detail = get(&b.addr, "/api/sessions/web-1").json();
        assert_eq!(detail["session"]["status"], "completed", "{backend}");
        let phases: Vec<&str> =
            detail["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(phases, ["pick", "confirm"], "{backend}");
        assert!(detail["phases"][0]["duration_ms"].is_u64(), "{backend}: {}", detail["phases"][0]);
        assert_eq!(detail["phases"][0]["tool_calls"][0]["tool"], "ask_human", "{backend}");

        // The same session through process A's own routes.
        assert_eq!(get(&a.addr, "/api/sessions/web-1").json()["session"]["status"], "completed", "{backend}");
        let logs = get(&a.addr, "/api/sessions/web-1/logs?limit=3");
        assert_eq!(logs.status, 200, "{backend}");
        assert_eq!(logs.json()["rows"].as_array().unwrap().len(), 3, "{backend}");
        assert!(logs.json()["next"].is_string(), "{backend}");
        assert_eq!(get(&a.addr, "/ready").status, 200, "{backend}");
        assert_eq!(b.stop(Duration::from_secs(10)), 0, "{backend}");
        assert_eq!(a.stop(Duration::from_secs(15)), 0, "{backend}");
    }
}

const FOUR: &str = "cascade_id: four\nphases:\n  - name: a\n    instructions: A\n  - name: b\n    instructions: B\n  - name: c\n    instructions: C\n  - name: d\n    instructions: D\n";

#[test]
fn an_event_stream_resumed_with_last_event_id_misses_nothing_and_repeats_nothing() {
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        llm.respond_with(|_| Reply::text("ok").with_delay(Duration::from_millis(700)));
        let sb = sandbox(&llm, &env);
        sb.write("four.yaml", FOUR);
        let server = Server::start(&sb, &["serve", "--listen", "127.0.0.1:0"]);
        let mut run = sb
            .command(&["run", "four.yaml", "-q", "--session", "sse-1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the session row", Duration::from_secs(30), || {
            get(&server.addr, "/api/sessions/sse-1").status == 200
        });

        let mut ids: Vec<String> = Vec::new();
        let first = Sse::connect(&server.addr, "/api/sessions/sse-1/events", &[]);
        let t = Instant::now();
        // Read until the second phase has started, then drop the connection mid-run.
        loop {
            let e = first.next(Duration::from_secs(20)).expect("events while it runs");
            if let Some(id) = &e.id {
                ids.push(id.clone());
            }
            if e.event == "phase_started" && e.json()["phase_name"] == "b" {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "{backend}");
        }
        drop(first);
        std::thread::sleep(Duration::from_millis(1200));
        let last = ids.last().unwrap().clone();
        let second = Sse::connect(&server.addr, "/api/sessions/sse-1/events", &[&format!("Last-Event-ID: {last}")]);
        for e in second.until("end", Duration::from_secs(60)) {
            if let Some(id) = e.id {
                ids.push(id);
            }
        }
        assert_eq!(run.wait().unwrap().code(), Some(0), "{backend}");

        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{backend}: an event came twice: {ids:?}");
        let mut stored = Vec::new();
        let mut after = String::new();
        loop {
            let page = get(&server.addr, &format!("/api/sessions/sse-1/logs?limit=7{after}")).json();
            stored.extend(page["rows"].as_array().unwrap().iter().map(|r| r["cursor"].as_str().unwrap().to_string()));
            match page["next"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => break,
            }
        }
        assert_eq!(ids, stored, "{backend}: the two connections together are every stored row, in order");
        assert!(stored.len() > 10, "{backend}");
        assert_eq!(server.stop(Duration::from_secs(10)), 0, "{backend}");
    }
}

#[test]
fn bad_input_gets_a_json_error_with_the_status_that_fits() {
    let llm = FakeLlm::start();
    llm.respond_with(|_| Reply::text("done"));
    let sb = sandbox(&llm, &[]);
    sb.write("one.yaml", "cascade_id: one\nphases:\n  - name: a\n    instructions: A\n");
    assert_eq!(sb.run(&["run", "one.yaml", "-q", "--session", "done-1"]).code, 0);
    let s = Server::start(&sb, &["serve", "--listen", "127.0.0.1:0"]);
    let error = |a: &support::http::Answer| a.json()["error"].as_str().unwrap_or_default().to_string();

    for path in ["/api/sessions/ghost-7", "/api/sessions/ghost-7/logs", "/api/sessions/ghost-7/events"] {
        let a = get(&s.addr, path);
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        assert!(error(&a).contains("ghost-7"), "{path}: {}", a.body);
    }
    let a = post(&s.addr, "/api/sessions/ghost-7/signal", r#"{"message": "hi"}"#);
    assert_eq!(a.status, 404, "{}", a.body);
    let a = post(&s.addr, "/api/sessions/done-1/signal", r#"{"message": "#);
    assert_eq!(a.status, 400, "malformed JSON: {}", a.body);
    let a = post(&s.addr, "/api/sessions/done-1/signal", r#"{"message": "hi", "name": "go"}"#);
    assert_eq!(a.status, 400, "{}", a.body);
    let a = post(&s.addr, "/api/sessions/done-1/signal", r#"{"message": "hi"}"#);
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(error(&a).contains("completed"), "{}", a.body);
    assert_eq!(post(&s.addr, "/api/sessions/done-1/cancel", "").status, 409);
    assert_eq!(post(&s.addr, "/api/sessions/done-1/resume", "").status, 409);
    let a = post(&s.addr, "/api/sessions", r#"{"cascade": "../etc/passwd"}"#);
    assert_eq!(a.status, 400, "{}", a.body);
    let a = post(&s.addr, "/api/sessions", r#"{"definition": "cascade_id: x\nphases: 7\n"}"#);
    assert_eq!(a.status, 400, "{}", a.body);
    let a = post(&s.addr, "/api/sessions", r#"{"cascade": "one.yaml", "input": [1]}"#);
    assert_eq!(a.status, 400, "{}", a.body);
    let a = post(&s.addr, "/api/sessions", r#"{"cascade": "one.yaml", "session_id": "done-1"}"#);
    assert_eq!(a.status, 409, "{}", a.body);
    let a = get(&s.addr, "/api/sessions?status=sleeping");
    assert_eq!(a.status, 400, "{}", a.body);
    let a = get(&s.addr, "/api/sessions/done-1/events?after=garbage");
    assert_eq!(a.status, 400, "{}", a.body);
    let a = request(
        &s.addr,
        "POST",
        "/api/sessions/done-1/signal",
        &["Content-Type: text/plain"],
        Some(r#"{"message": "x"}"#),
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(error(&a).contains("application/json"), "{}", a.body);

    // A submission that works, and a cancel of the queued session it made.
    let a = post(&s.addr, "/api/sessions", r#"{"cascade": "one.yaml", "input": {"x": 1}}"#);
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.json()["session_id"].as_str().unwrap().to_string();
    let a = post(&s.addr, &format!("/api/sessions/{id}/cancel"), r#"{"reason": "changed my mind"}"#);
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.json()["cancel"], "cancelled");
    assert_eq!(get(&s.addr, &format!("/api/sessions/{id}")).json()["session"]["status"], "cancelled");

    // A finished session's stream: its rows, its status, the end.
    let events = Sse::connect(&s.addr, "/api/sessions/done-1/events", &[]);
    let all = events.until("end", Duration::from_secs(10));
    assert_eq!(all.first().unwrap().event, "cascade_started");
    assert!(all.iter().any(|e| e.event == "status"));

    // Another site's page cannot post on the user's behalf, nor reach the server through a
    // rebound DNS name.
    let a =
        request(&s.addr, "POST", "/api/sessions", &["Origin: http://evil.example"], Some(r#"{"cascade": "one.yaml"}"#));
    assert_eq!(a.status, 403, "{}", a.body);
    let a =
        request(&s.addr, "POST", "/api/sessions", &["Sec-Fetch-Site: cross-site"], Some(r#"{"cascade": "one.yaml"}"#));
    assert_eq!(a.status, 403, "{}", a.body);
    let mut raw = std::net::TcpStream::connect(&s.addr).unwrap();
    std::io::Write::write_all(
        &mut raw,
        b"GET /api/sessions HTTP/1.1\r\nHost: evil.example:7070\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut text = String::new();
    raw.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    // The page itself.
    let page = get(&s.addr, "/");
    assert_eq!(page.status, 200);
    assert!(page.header("content-security-policy").unwrap().contains("script-src 'self'"));
    assert!(page.body.contains("/assets/app.js"));
    assert_eq!(get(&s.addr, "/assets/app.js").status, 200);
    assert_eq!(get(&s.addr, "/nope").status, 404);
}

/// The list's pages through the API, on both backends: following `next_cursor` gives every
/// session once and in the order of one big page, with the status filter and `since` applied
/// together with the cursor; a cursor that is not one is a 400.
#[test]
fn pages_of_the_session_list_follow_next_cursor_to_the_end() {
    let llm = FakeLlm::start();
    llm.respond_with(|_| Reply::text("done"));
    for (backend, env) in backends() {
        let sb = sandbox(&llm, &env);
        sb.write("one.yaml", "cascade_id: one\nphases:\n  - name: a\n    instructions: A\n");
        for n in 0..3 {
            let out = sb.run(&["run", "one.yaml", "-q", "--session", &format!("ran-{n}")]);
            assert_eq!(out.code, 0, "{backend}: {}", out.stderr);
        }
        let s = Server::start(&sb, &["serve", "--listen", "127.0.0.1:0"]);
        for _ in 0..5 {
            let a = post(&s.addr, "/api/sessions", r#"{"cascade": "one.yaml"}"#);
            assert_eq!(a.status, 201, "{backend}: {}", a.body);
        }
        let ids = |page: &Value| -> Vec<String> {
            page["sessions"].as_array().unwrap().iter().map(|r| r["session_id"].as_str().unwrap().to_string()).collect()
        };
        let whole = get(&s.addr, "/api/sessions?limit=1000").json();
        assert_eq!(whole["next_cursor"], Value::Null, "{backend}");
        let all = ids(&whole);
        assert_eq!(all.len(), 8, "{backend}: {all:?}");

        let follow = |query: &str| -> (Vec<String>, usize) {
            let (mut seen, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
            loop {
                let path = match &cursor {
                    None => format!("/api/sessions?limit=3{query}"),
                    Some(c) => format!("/api/sessions?limit=3{query}&cursor={}", c.replace('~', "%7E")),
                };
                let a = get(&s.addr, &path);
                assert_eq!(a.status, 200, "{backend} {path}: {}", a.body);
                let page = a.json();
                seen.extend(ids(&page));
                pages += 1;
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => return (seen, pages),
                }
                assert!(pages < 10, "{backend}: the pages never end");
            }
        };
        assert_eq!(follow(""), (all.clone(), 3), "{backend}: 3 + 3 + 2, in order, each once");
        let queued: Vec<String> = all.iter().filter(|id| !id.starts_with("ran-")).cloned().collect();
        assert_eq!(follow("&status=queued"), (queued, 2), "{backend}");

        // `since` the sixth session's place in the list: it and every session before it.
        let sort_at = |r: &Value| match r["started_at"].as_f64().unwrap() {
            at if at > 0.0 => at,
            _ => r["updated_at"].as_f64().unwrap(),
        };
        let rows = whole["sessions"].as_array().unwrap();
        let at = sort_at(&rows[5]);
        let expected: Vec<String> =
            rows.iter().filter(|r| sort_at(r) >= at).map(|r| r["session_id"].as_str().unwrap().to_string()).collect();
        assert!(expected.len() >= 6, "{backend}: {whole}");
        let (since, _) = follow(&format!("&since={at}"));
        assert_eq!(since, expected, "{backend}");

        for bad in ["nonsense", "12~", "inf~ran-1", "1~bad%20id"] {
            let a = get(&s.addr, &format!("/api/sessions?cursor={bad}"));
            assert_eq!(a.status, 400, "{backend} {bad}: {}", a.body);
            assert!(a.body.contains("cursor") || a.body.contains("session id"), "{backend}: {}", a.body);
        }
    }
}

#[test]
fn a_token_guards_every_route_and_an_exposed_address_needs_one() {
    let llm = FakeLlm::start();
    let mut sb = sandbox(&llm, &[]);
    let out = sb.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("0.0.0.0:0") && out.stderr.contains("WINDLASS_API_TOKEN"), "{}", out.stderr);
    let out = sb.run(&["worker", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.code, 4, "{}", out.stderr);

    let token = "test-token-0123456789abcdef";
    sb.set("WINDLASS_API_TOKEN", "short");
    let out = sb.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("WINDLASS_API_TOKEN") && !out.stderr.contains("short"), "{}", out.stderr);
    sb.set("WINDLASS_API_TOKEN", token);
    let s = Server::start(&sb, &["serve", "--listen", "127.0.0.1:0"]);
    let a = get(&s.addr, "/api/sessions");
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(a.json()["error"].is_string());
    let wrong = request(&s.addr, "GET", "/api/sessions", &["Authorization: Bearer not-the-token-at-all"], None);
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let right = request(&s.addr, "GET", "/api/sessions", &[&format!("Authorization: Bearer {token}")], None);
    assert_eq!(right.status, 200, "{}", right.body);
    assert_eq!(get(&s.addr, "/metrics").status, 401);
    assert_eq!(get(&s.addr, "/health").status, 200, "probes stay open");
    assert_eq!(get(&s.addr, "/").status, 200, "the page loads to show its login");

    // The login sets an HttpOnly, SameSite=Strict cookie that is not the token.
    assert_eq!(post(&s.addr, "/login", r#"{"token": "wrong-wrong-wrong-wrong"}"#).status, 401);
    let login = post(&s.addr, "/login", &json!({ "token": token }).to_string());
    assert_eq!(login.status, 204, "{}", login.body);
    let cookie = login.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(token), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let with_cookie = request(&s.addr, "GET", "/api/sessions", &[&format!("Cookie: {pair}")], None);
    assert_eq!(with_cookie.status, 200, "{}", with_cookie.body);
    // Nothing served carries the token.
    for path in ["/", "/assets/app.js", "/metrics", "/api/sessions"] {
        let a = request(&s.addr, "GET", path, &[&format!("Cookie: {pair}")], None);
        assert!(!a.body.contains(token), "{path} shows the token");
    }
}

#[test]
fn a_server_with_open_event_streams_stops_promptly_on_sigterm() {
    let llm = FakeLlm::start();
    llm.respond_with(|_| Reply::text("slow").with_delay(Duration::from_secs(20)));
    let sb = sandbox(&llm, &[]);
    sb.write("one.yaml", "cascade_id: one\nphases:\n  - name: a\n    instructions: A\n");
    let s = Server::start(&sb, &["serve", "--listen", "127.0.0.1:0"]);
    let made = post(&s.addr, "/api/sessions", r#"{"cascade": "one.yaml", "session_id": "open-1"}"#);
    assert_eq!(made.status, 201, "{}", made.body);
    let streams: Vec<Sse> = (0..3).map(|_| Sse::connect(&s.addr, "/api/sessions/open-1/events", &[])).collect();
    for e in &streams {
        assert_eq!(e.next(Duration::from_secs(10)).unwrap().event, "status");
        // The poller's first read of the session changes nothing: no second status event.
        assert!(e.next(Duration::from_secs(1)).is_none(), "an unchanged row was sent again");
    }
    let t = Instant::now();
    assert_eq!(s.stop(Duration::from_secs(5)), 0);
    assert!(t.elapsed() < Duration::from_secs(3), "took {:?}", t.elapsed());
    for e in &streams {
        assert!(e.closed_within(Duration::from_secs(2)), "the stream was not closed");
    }
}
