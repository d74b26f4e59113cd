//! Webhook triggers through `windlass serve`: a signed request queues a session of the
//! registered cascade with the trigger's inputs and the payload; a bad or missing signature,
//! a payload that breaks `payload_schema`, malformed JSON and an unknown trigger are refused
//! with the status that fits; a redelivery answers with the session already queued. The
//! queued session is then run by a worker.

mod support;

use hmac::{KeyInit, Mac};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::http::request;
use support::{FakeLlm, Reply, Sandbox};

const SECRET: &str = "a-webhook-secret-for-tests";
const CASCADE: &str = "cascade_id: c\ntriggers:\n  - name: push\n    type: webhook\n    auth: hmac:${HOOK_SECRET}\n    inputs:\n      source: hook\n    payload_schema:\n      type: object\n      required: [branch]\n      properties:\n        branch: {type: string}\nphases:\n  - name: only\n    instructions: 'Build {{ input.branch }} from {{ input.source }}'\n";

fn signature(body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn serve(sb: &Sandbox) -> (Child, String) {
    let mut child =
        sb.command(&["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.rsplit("http://").next().unwrap().trim().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    (child, addr)
}

fn post(addr: &str, path: &str, headers: &[&str], body: &str) -> support::http::Answer {
    let mut all = vec!["Content-Type: application/json"];
    all.extend_from_slice(headers);
    request(addr, "POST", path, &all, Some(body))
}

#[test]
fn a_signed_webhook_queues_a_session_and_everything_else_is_refused() {
    let llm = FakeLlm::start();
    llm.set_fallback(Reply::text("built"));
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("HOOK_SECRET", SECRET);
    sb.write("c.yaml", CASCADE);
    let out = sb.run(&["schedules", "add", "c.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("registered c.push (webhook"), "{}", out.stderr);
    let (mut server, addr) = serve(&sb);

    let body = r#"{"branch": "main"}"#;
    let sig = format!("X-Windlass-Signature-256: {}", signature(body));
    let ok = post(&addr, "/api/triggers/c.push", &[&sig, "X-GitHub-Delivery: d-1"], body);
    assert_eq!(ok.status, 201, "{}", ok.body);
    let session = ok.json()["session_id"].as_str().unwrap().to_string();
    assert_eq!(session, "c.push#d-1");
    // The same delivery again: the same session, nothing new queued.
    let again = post(&addr, "/api/triggers/c.push", &[&sig, "X-GitHub-Delivery: d-1"], body);
    assert_eq!((again.status, again.json()["session_id"].as_str()), (200, Some(session.as_str())));

    let bad = post(&addr, "/api/triggers/c.push", &["X-Hub-Signature-256: sha256=00ff"], body);
    assert_eq!(bad.status, 401, "{}", bad.body);
    assert!(bad.json()["error"].as_str().unwrap().contains("signature does not match"), "{}", bad.body);
    let tampered = post(&addr, "/api/triggers/c.push", &[&sig], r#"{"branch": "evil"}"#);
    assert_eq!(tampered.status, 401, "a signature covers its body only");
    let unsigned = post(&addr, "/api/triggers/c.push", &[], body);
    assert_eq!(unsigned.status, 401);
    assert!(unsigned.json()["error"].as_str().unwrap().contains("X-Windlass-Signature-256"), "{}", unsigned.body);

    let wrong = r#"{"branch": 7}"#;
    let schema =
        post(&addr, "/api/triggers/c.push", &[&format!("X-Windlass-Signature-256: {}", signature(wrong))], wrong);
    assert_eq!(schema.status, 400, "{}", schema.body);
    assert!(schema.json()["error"].as_str().unwrap().contains("payload_schema"), "{}", schema.body);
    let junk = "{not json";
    let malformed =
        post(&addr, "/api/triggers/c.push", &[&format!("X-Windlass-Signature-256: {}", signature(junk))], junk);
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    let unknown = post(&addr, "/api/triggers/c.nope", &[&sig], body);
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    // The secret is never echoed.
    for answer in [&ok, &bad, &unsigned, &schema, &malformed, &unknown] {
        assert!(!answer.body.contains(SECRET));
    }

    // Exactly one session was queued; a worker runs it with the trigger's inputs and the payload.
    let out = sb.run(&["worker", "--once"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let status = sb.run(&["sessions", "show", &session, "--format", "json"]);
    assert!(status.stdout.contains("\"completed\""), "{}", status.stdout);
    assert_eq!(llm.request_count(), 1, "one session ran");
    assert!(llm.requests()[0].body.to_string().contains("Build main from hook"));
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while server.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(10), "serve ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
