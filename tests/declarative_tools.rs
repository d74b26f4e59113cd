//! Declarative tools (`*.tool.json`, `*.tool.yaml` on the tool path) through the real binary:
//! a shell tool whose arguments arrive literally, an http tool against a local server, the
//! shell switch, and a malformed tool file in `check`.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use support::{FakeLlm, Reply, Sandbox};

const USES_SAY: &str = "cascade_id: main\nphases:\n  - name: a\n    instructions: Say it.\n    tackle: [echo_words]\n    use_native_tools: true\n";
const SAY: &str = "tool_id: echo_words\ndescription: Print a message\ninputs_schema:\n  message: what to print\ntype: shell\ncommand: \"printf '%s|' {{ message }}; echo \\\"key=${WINDLASS_DECL_API_KEY:-none}\\\"; touch ran\"\n";
/// Quotes, a command substitution and a separator: a shell would act on each if unquoted.
const TRICKY: &str = "it's \"quoted\" $(echo INJECTED) `id`; echo pwned";

/// The content of every `tool` message of a recorded request.
fn tool_results(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .map(|m| {
            m.iter().filter(|x| x["role"] == "tool").filter_map(|x| x["content"].as_str().map(String::from)).collect()
        })
        .unwrap_or_default()
}

fn say_sandbox(llm: &FakeLlm) -> Sandbox {
    llm.push(Reply::tool_call("call_1", "echo_words", json!({ "message": TRICKY })));
    llm.push(Reply::text("said"));
    let mut sb = Sandbox::with_llm(&llm.url());
    sb.set("WINDLASS_DECL_API_KEY", "sekret-value");
    sb.write("main.yaml", USES_SAY);
    sb.write("echo_words.tool.yaml", SAY);
    sb
}

#[test]
fn a_shell_tool_gets_its_arguments_literally_and_no_secrets() {
    let llm = FakeLlm::start();
    let sb = say_sandbox(&llm);
    let check = sb.run(&["check", "main.yaml"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);

    let out = sb.run(&["run", "main.yaml", "-q", "--allow-shell"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 2);
    let offered = reqs[0].body["tools"].to_string();
    assert!(offered.contains("\"echo_words\"") && offered.contains("what to print"), "{offered}");
    let results = tool_results(&reqs[1].body);
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0].trim_end(), format!("{TRICKY}|key=none"), "the argument arrives as one literal word");
    assert!(!results[0].contains("sekret-value"));
    assert!(walk_has(sb.path(), "ran"), "the command ran (in the scratch folder)");
}

#[test]
fn a_shell_tool_is_refused_without_the_shell_switch() {
    let llm = FakeLlm::start();
    let sb = say_sandbox(&llm);
    let out = sb.run(&["run", "main.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let results = tool_results(&llm.requests()[1].body);
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(results[0].contains("WINDLASS_ALLOW_SHELL=1 or pass --allow-shell"), "{}", results[0]);
    assert!(!walk_has(sb.path(), "ran"), "the command did not run");
}

fn walk_has(dir: &std::path::Path, name: &str) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
        let p = e.path();
        p.file_name().is_some_and(|n| n == name) || (p.is_dir() && walk_has(&p, name))
    })
}

/// A one-request HTTP server on 127.0.0.1; sends back what it received.
fn one_shot_server(reply: &'static str) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        head.push_str(&String::from_utf8_lossy(&body));
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
        tx.send(head).unwrap();
    });
    (port, rx)
}

#[test]
fn an_http_tool_calls_the_endpoint_and_picks_from_the_reply() {
    let (port, received) = one_shot_server(r#"{"data": {"items": [{"name": "desk lamp"}, {"name": "other"}]}}"#);
    let llm = FakeLlm::start();
    llm.push(Reply::tool_call("call_1", "catalogue_search", json!({ "q": "lamps" })));
    llm.push(Reply::text("found"));
    let sb = Sandbox::with_llm(&llm.url());
    sb.write("main.yaml", "cascade_id: main\nphases:\n  - name: a\n    instructions: Find.\n    tackle: [catalogue_search]\n    use_native_tools: true\n");
    sb.write(
        "tools/catalogue_search.tool.json",
        &json!({
            "tool_id": "catalogue_search",
            "description": "Search the catalogue",
            "inputs_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
            "type": "http",
            "method": "post",
            "url": format!("http://127.0.0.1:{port}/search?q={{{{ q }}}}"),
            "headers": {"X-Query": "q-{{ q }}"},
            "body": {"query": "{{ q }}"},
            "response_jq": ".data.items[0].name",
            "timeout": 5
        })
        .to_string(),
    );
    let mut sb = sb;
    sb.set("WINDLASS_TOOL_PATH", &sb.path().join("tools").display().to_string());
    let check = sb.run(&["check", "main.yaml"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let out = sb.run(&["run", "main.yaml", "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let request = received.recv_timeout(std::time::Duration::from_secs(5)).expect("the tool called the server");
    assert!(request.starts_with("POST /search?q=lamps HTTP/1.1\r\n"), "{request}");
    assert!(request.to_ascii_lowercase().contains("x-query: q-lamps"), "{request}");
    assert!(request.ends_with(r#"{"query":"lamps"}"#), "{request}");
    assert_eq!(tool_results(&llm.requests()[1].body), ["desk lamp"]);
}

#[test]
fn check_names_a_malformed_tool_file_and_its_line() {
    let sb = Sandbox::new();
    sb.write("main.yaml", USES_SAY);
    let tool = sb.write("echo_words.tool.yaml", "tool_id: echo_words\ntype: shell\ncommand: [printf, hi]\n");
    let out = sb.run(&["check", "main.yaml"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("echo_words.tool.yaml:3:"), "{} {all}", tool.display());
    assert!(all.contains("tool `echo_words`"), "{all}");

    // `run` names the file too, rather than calling the tool unavailable.
    let llm = FakeLlm::start();
    llm.push(Reply::text("no tool"));
    let mut sb = sb;
    sb.set("WINDLASS_BASE_URL", &llm.url());
    let out = sb.run(&["run", "main.yaml"]);
    assert!(out.stderr.contains("echo_words.tool.yaml:3:"), "{}", out.stderr);
    assert!(!out.stderr.contains("not available in this build"), "{}", out.stderr);
}
