//! The GitHub Actions workflow in `.github/workflows/cascades.yml`, which README.md shows: the
//! file and the README's copy agree, and its `windlass` steps pass as the runner runs them
//! (`GITHUB_ACTIONS=true`, a step summary file), offline, from the committed cassette. A replay
//! that misses becomes an `::error` annotation and exit 7.

mod support;

use support::sandbox::words;
use support::Sandbox;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workflow() -> String {
    std::fs::read_to_string(root().join(".github/workflows/cascades.yml")).expect("the workflow file")
}

/// The `windlass ...` steps of the workflow, as argument lists without the program name.
fn windlass_steps() -> Vec<Vec<String>> {
    workflow().lines().filter_map(|l| l.trim().strip_prefix("- run: windlass ")).map(words).collect()
}

/// A sandbox holding the repository's cascades and cassettes, with no key and no endpoint, as
/// on a GitHub runner.
fn runner() -> (Sandbox, std::path::PathBuf) {
    let mut sb = Sandbox::new();
    sb.env.retain(|(k, _)| k != "WINDLASS_DEFAULT_MODEL" && !k.contains("BASE_URL") && !k.contains("API_KEY"));
    for dir in ["cascades", "cassettes"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            sb.write(&name, &std::fs::read_to_string(&path).unwrap());
        }
    }
    let summary = sb.path().join("step-summary.md");
    sb.set("GITHUB_ACTIONS", "true");
    sb.set("GITHUB_STEP_SUMMARY", summary.to_str().unwrap());
    (sb, summary)
}

#[test]
fn the_readme_shows_the_workflow_that_is_checked_in() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let text = workflow();
    assert!(text.starts_with("# .github/workflows/cascades.yml\n"), "{text}");
    assert!(readme.contains(&format!("```yaml\n{text}```")), "README.md's workflow block differs from the file");
}

#[test]
fn the_workflow_steps_pass_offline_and_write_the_step_summary() {
    let steps = windlass_steps();
    assert!(steps.len() >= 2, "{steps:?}");
    assert!(steps.iter().any(|s| s.iter().any(|a| a == "--replay")), "{steps:?}");
    let (sb, summary) = runner();
    for step in &steps {
        let args: Vec<&str> = step.iter().map(String::as_str).collect();
        let out = sb.run(&args);
        assert_eq!(out.code, 0, "windlass {}: {}{}", step.join(" "), out.stdout, out.stderr);
        assert!(!out.stdout.contains("::error") && !out.stderr.contains("::error"), "{}", out.stderr);
        if step[0] == "run" {
            let doc: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("--format json");
            assert_eq!(doc["status"], "completed", "{doc}");
        }
    }
    let written = std::fs::read_to_string(&summary).expect("a step summary");
    assert!(written.contains("hello"), "{written}");
}

#[test]
fn a_replay_miss_in_the_workflow_is_an_error_annotation_and_exit_7() {
    let (sb, summary) = runner();
    let step = windlass_steps().into_iter().find(|s| s[0] == "run").expect("a run step");
    // Another input: a prompt the cassette never saw.
    let args: Vec<String> =
        step.iter().map(|a| if a.contains("Ada") { a.replace("Ada", "Grace") } else { a.clone() }).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sb.run(&args);
    assert_eq!(out.code, 7, "{}{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    let annotation = all.lines().find(|l| l.starts_with("::error")).unwrap_or_else(|| panic!("no ::error in {all}"));
    assert!(annotation.contains("cassette") || annotation.contains("replay"), "{annotation}");
    let written = std::fs::read_to_string(&summary).expect("a step summary");
    assert!(!written.is_empty());
}
