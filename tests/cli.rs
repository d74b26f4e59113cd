//! The command surface as a user meets it: help, usage errors, completions, version.

mod support;

use clap::CommandFactory;
use support::Sandbox;
use windlass::cli::Cli;

/// Every subcommand path, nested ones included: `["run"]`, `["sessions", "show"]`, ...
fn subcommand_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &[], &mut out);
    out
}

#[test]
fn help_works_for_every_subcommand() {
    let sandbox = Sandbox::new();
    let paths = subcommand_paths();
    assert!(paths.len() >= 14, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = sandbox.run(&args);
        assert_eq!(out.code, 0, "windlass {}: {}", args.join(" "), out.stderr);
        assert!(out.stdout.contains("Usage: windlass"), "{}", out.stdout);
    }
    let out = sandbox.run(&["--help"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("WINDLASS_CLICKHOUSE_PORT") && out.stdout.contains("130"));
}

#[test]
fn bad_flags_are_usage_errors() {
    let sandbox = Sandbox::new();
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["run"],
        &["run", "x.yaml", "--format", "xml"],
        &["run", "x.yaml", "--input", "[1, 2]"],
        &["run", "x.yaml", "-i", "novalue"],
        &["run", "x.yaml", "--timeout", "10"],
        &["run", "x.yaml", "--max-cost", "lots"],
        &["run", "x.yaml", "--base-url", "openrouter.ai"],
        &["signal", "s1"],
        &["signal", "s1", "--payload", "{}"],
        &["worker", "--concurrency", "0"],
        &["worker", "--listen", "nowhere"],
        &["sessions", "--status", "sleeping"],
        &["cleanup", "--older-than", "7"],
        &["check"],
        &["check", "x.yaml", "--format", "xml"],
        &["sql", "select 1", "--format", "xml"],
        &["completions", "tcsh"],
        &["--color", "sometimes", "check", "x.yaml"],
    ];
    for args in cases {
        let out = sandbox.run(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
}

#[test]
fn completions_print_a_script() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = sandbox.run(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("windlass"), "{shell}");
    }
}

#[test]
fn completions_work_even_with_broken_configuration() {
    let mut sandbox = Sandbox::new();
    sandbox.set("WINDLASS_CLICKHOUSE_PORT", "9000");
    let out = sandbox.run(&["completions", "bash"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("windlass"));
}

#[test]
fn version_prints_the_package_version() {
    let out = Sandbox::new().run(&["--version"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout.trim(), format!("windlass {}", env!("CARGO_PKG_VERSION")));
}
