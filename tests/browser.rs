//! The web page in a real browser: Debian's Chromium, headless, driven over WebDriver by its
//! chromedriver (`scripts/chromium.sh` installs both). A worker process runs the session, a
//! `windlass serve` process serves the page; the test opens the list, opens the running
//! session, sees a phase appear without reloading, answers the `ask_human` question in the
//! page, and sees the session complete. Screenshots of each step are kept under the
//! target dir (`<target>/tmp/browser/`).
//!
//! Without Chromium the test says so and passes, unless `WINDLASS_TEST_REQUIRE_BROWSER=1`
//! (CI), where it fails.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::backends::sandbox;
use support::http::{post, request};
use support::requests::all_text;
use support::{FakeLlm, Reply};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(var) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    for name in names {
        if name.starts_with('/') && Path::new(name).exists() {
            return Some(PathBuf::from(name));
        }
        for dir in path.split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A chromedriver process and one browser session on it.
struct Browser {
    driver: Child,
    addr: String,
    session: String,
    shots: PathBuf,
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path, profile: &Path, shots: PathBuf) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let t = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                format!("--user-data-dir={}", profile.display()), "--window-size=1280,1000",
            ],
        }}}});
        let mut b = Browser { driver, addr, session: String::new(), shots };
        let made = b.call("POST", "/session", Some(caps));
        b.session = made["sessionId"].as_str().unwrap_or_else(|| panic!("no browser session: {made}")).to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = if path == "/session" { path.to_string() } else { format!("/session/{}{path}", self.session) };
        let body = body.map(|b| b.to_string());
        let a = request(&self.addr, method, &path, &[], body.as_deref());
        let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
        assert!(a.status == 200, "WebDriver {method} {path}: {} {}", a.status, a.body);
        v.get("value").cloned().unwrap_or(Value::Null)
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn js(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({ "script": script, "args": [] })))
    }

    /// Wait until `script` returns something truthy, without reloading the page.
    fn wait(&self, what: &str, limit: Duration, script: &str) -> Value {
        let t = Instant::now();
        loop {
            let v = self.js(script);
            if !(v.is_null() || v == json!(false) || v == json!("")) {
                return v;
            }
            if t.elapsed() > limit {
                self.shot("timeout");
                panic!(
                    "gave up after {limit:?} waiting for {what}; page text:\n{}",
                    self.js("return document.body.innerText")
                );
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn element(&self, css: &str) -> String {
        let v = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        v[ELEMENT].as_str().unwrap().to_string()
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/value"), Some(json!({ "text": text })));
    }

    /// Save a screenshot as `<n>.png` in the artifacts folder.
    fn shot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap()).unwrap();
        let p = self.shots.join(format!("{name}.png"));
        std::fs::write(&p, png).unwrap();
        p
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(&self.addr, "DELETE", &format!("/session/{}", self.session), &[], None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

struct Proc(Child, String);

impl Proc {
    fn start(sb: &support::Sandbox, args: &[&str]) -> Proc {
        use std::io::BufRead;
        let mut child = sb.command(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        if args.contains(&"--listen") {
            reader.read_line(&mut line).unwrap();
        }
        std::thread::spawn(move || for _ in reader.lines() {});
        let addr = line.rsplit("http://").next().unwrap_or("").trim().to_string();
        Proc(child, addr)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const CASCADE: &str = "cascade_id: pick_colour\nphases:\n  - name: draft\n    instructions: WRITE A DRAFT\n  - name: pick\n    instructions: Ask which colour.\n    tackle: [ask_human]\n";

#[test]
fn the_page_lists_streams_and_answers_a_session_run_by_a_worker() {
    let required = std::env::var("WINDLASS_TEST_REQUIRE_BROWSER").as_deref() == Ok("1");
    let chromium = find("WINDLASS_TEST_CHROMIUM", &["chromium", "chromium-browser", "/usr/lib/chromium/chromium"]);
    let driver = find("WINDLASS_TEST_CHROMEDRIVER", &["chromedriver", "/usr/lib/chromium/chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        assert!(
            !required,
            "WINDLASS_TEST_REQUIRE_BROWSER=1 but chromium or chromedriver is missing; run scripts/chromium.sh"
        );
        eprintln!(
            "note: chromium or chromedriver not found (scripts/chromium.sh installs them); the browser test is skipped"
        );
        return;
    };

    let llm = FakeLlm::start();
    llm.respond_with(|body| {
        let text = all_text(body);
        if text.contains("teal") {
            Reply::text("You chose teal.")
        } else if text.contains("Ask which colour") {
            Reply::text("<tool_call>{\"name\": \"ask_human\", \"arguments\": {\"question\": \"Which colour?\", \"html\": \"<p id=swatch style='color:teal'>teal or not?</p><script>parent.document.title='pwned'</script>\"}}</tool_call>")
        } else {
            // Slow enough for the page to be open before the next phase starts.
            Reply::text("a draft").with_delay(Duration::from_secs(4))
        }
    });
    let sb = sandbox(&llm, &[]);
    let server = Proc::start(&sb, &["serve", "--listen", "127.0.0.1:0"]);
    let made = post(&server.1, "/api/sessions", &json!({"definition": CASCADE, "session_id": "page-1"}).to_string());
    assert_eq!(made.status, 201, "{}", made.body);
    let _worker = Proc::start(&sb, &["worker"]);

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let b = Browser::start(&chromium, &driver, profile.path(), shots.clone());
    let base = format!("http://{}", server.1);

    b.open(&format!("{base}/"));
    b.wait(
        "the session in the list",
        Duration::from_secs(20),
        "return document.querySelector('tr[data-session=\"page-1\"]')",
    );
    b.wait(
        "it to run",
        Duration::from_secs(20),
        "return /running|starting/.test(document.querySelector('tr[data-session=\"page-1\"]').innerText)",
    );
    b.shot("1-list");
    b.click("tr[data-session=\"page-1\"]");
    b.wait("the session page", Duration::from_secs(10), "return document.querySelector('[data-phase=\"draft\"]')");
    b.shot("2-running");
    // The next phase shows up live: the page is never reloaded.
    b.js("window.__same_page = true; return true");
    b.wait("the pick phase", Duration::from_secs(30), "return document.querySelector('[data-phase=\"pick\"]')");
    b.wait("the question", Duration::from_secs(30), "return document.querySelector('#question textarea')");
    assert_eq!(b.js("return window.__same_page === true"), json!(true), "the page was reloaded");
    let frame = b.js("const f = document.querySelector('#question iframe'); return f && f.getAttribute('sandbox')");
    assert_eq!(frame, json!(""), "session HTML is framed with an empty sandbox");
    b.shot("3-question");
    b.type_into("#answer", "teal");
    b.click("#send-answer");
    b.wait(
        "the session to complete",
        Duration::from_secs(30),
        "return document.querySelector('#status .badge.completed')",
    );
    b.wait(
        "the final row in the log tail",
        Duration::from_secs(10),
        "return document.querySelector('#log [data-node=\"cascade_finished\"]')",
    );
    let last = b.shot("4-completed");
    assert_ne!(b.js("return document.title"), json!("pwned"), "the session's script ran in the page");
    assert!(llm.requests().iter().any(|r| all_text(&r.body).contains("teal")), "the answer reached the model");
    eprintln!("screenshots in {} (last: {})", shots.display(), last.display());
}
