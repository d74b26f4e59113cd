//! `--format json|ndjson` on the commands that print data: every field, in full, parsed back
//! as JSON; on both store backends.

mod support;

use support::backends::{backends, sandbox};
use support::{FakeLlm, Reply};

const TWO: &str =
    "cascade_id: two\nphases:\n  - name: first\n    instructions: FIRST\n  - name: second\n    instructions: SECOND\n";

#[test]
fn sessions_show_and_logs_print_every_field_in_full_as_json() {
    let long = format!("PLEASE-MENTION-PENGUIN {}\nsecond line", "word ".repeat(60));
    for (backend, env) in backends() {
        let llm = FakeLlm::start();
        let answer = long.clone();
        llm.respond_with(move |_| Reply::text(&answer));
        let sb = sandbox(&llm, &env);
        sb.write("two.yaml", TWO);
        let run = sb.run(&["run", "two.yaml", "-q", "--session", "fmt-1"]);
        assert_eq!(run.code, 0, "{backend}: {}", run.stderr);

        let list = sb.run(&["sessions", "--format", "json"]);
        assert_eq!(list.code, 0, "{backend}: {}", list.stderr);
        let rows = list.json();
        let row = rows.as_array().unwrap().iter().find(|r| r["session_id"] == "fmt-1").expect("listed");
        assert_eq!(row["status"], "completed", "{backend}: {row}");
        assert_eq!(row["cascade_id"], "two", "{backend}");
        assert!(row["tokens_in"].is_u64(), "{backend}: {row}");

        let lines = sb.run(&["sessions", "--format", "ndjson"]);
        assert_eq!(lines.code, 0, "{backend}: {}", lines.stderr);
        let parsed: Vec<serde_json::Value> =
            lines.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
        assert!(parsed.iter().any(|r| r["session_id"] == "fmt-1"), "{backend}: {}", lines.stdout);

        let show = sb.run(&["sessions", "show", "fmt-1", "--format", "json"]);
        assert_eq!(show.code, 0, "{backend}: {}", show.stderr);
        assert_eq!(show.json()["session_id"], "fmt-1", "{backend}");
        assert!(show.json()["completed_at"].as_f64().unwrap() > 0.0, "{backend}");

        let logs = sb.run(&["logs", "fmt-1", "--format", "ndjson"]);
        assert_eq!(logs.code, 0, "{backend}: {}", logs.stderr);
        let events: Vec<serde_json::Value> =
            logs.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON row per line")).collect();
        let stored = sb.run(&[
            "sql",
            "SELECT count(DISTINCT message_id) AS n FROM unified_logs WHERE session_id = 'fmt-1'",
            "--format",
            "json",
        ]);
        let n = &stored.json()[0]["n"];
        let n = n.as_u64().or_else(|| n.as_str().and_then(|s| s.parse().ok())).unwrap();
        assert_eq!(events.len() as u64, n, "{backend}: every stored row");
        let answers: Vec<&serde_json::Value> = events.iter().filter(|e| e["node_type"] == "llm_response").collect();
        assert_eq!(answers.len(), 2, "{backend}");
        assert_eq!(answers[0]["content"]["content"], long.as_str(), "{backend}: full content, never cut");

        let doc = sb.run(&["logs", "fmt-1", "--format", "json"]);
        assert_eq!(doc.code, 0, "{backend}: {}", doc.stderr);
        assert_eq!(doc.json().as_array().unwrap().len(), events.len(), "{backend}");

        // Piped text keeps the whole answer on one line; only a terminal gets it shortened.
        let text = sb.run(&["logs", "fmt-1"]);
        assert_eq!(text.code, 0, "{backend}: {}", text.stderr);
        assert!(text.stdout.contains(&long.replace('\n', " ")), "{backend}: {}", text.stdout);

        let unknown = sb.run(&["sessions", "show", "nope", "--format", "json"]);
        assert_eq!(unknown.code, 1, "{backend}: {}", unknown.stderr);
        assert!(unknown.stderr.contains("nope"), "{backend}");
    }
}
