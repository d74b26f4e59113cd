//! Running the real `windlass` binary as a user would, in a throwaway folder that stands in
//! for the working directory, HOME and the data dir. The environment is cleared, so nothing
//! from the developer's machine (keys, ClickHouse settings) leaks in.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

/// What a finished command printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not one JSON document ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let env = vec![
            ("PATH".to_string(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".to_string(), dir.path().display().to_string()),
            ("WINDLASS_DATA_DIR".to_string(), dir.path().join("data").display().to_string()),
            ("WINDLASS_DEFAULT_MODEL".to_string(), "test/model".to_string()),
        ];
        Sandbox { dir, env }
    }

    /// A sandbox whose model endpoint is the fake server.
    pub fn with_llm(url: &str) -> Sandbox {
        let mut s = Sandbox::new();
        s.set("WINDLASS_BASE_URL", url);
        s.set("OLLAMA_HOST", url.trim_end_matches("/v1"));
        s
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Write a file (a cascade, a fixture) relative to the sandbox.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_windlass"));
        c.args(args).current_dir(self.dir.path()).env_clear().stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        let started = Instant::now();
        let out = self.command(args).output().expect("run windlass");
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    }
}

/// The arguments of a command line as a shell reads them (single quotes only, as the README
/// and the workflow write them).
pub fn words(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let (arg, tail) = match rest.strip_prefix('\'') {
            Some(quoted) => quoted.split_once('\'').expect("a closing quote"),
            None => rest.split_once(' ').unwrap_or((rest, "")),
        };
        args.push(arg.to_string());
        rest = tail.trim_start();
    }
    args
}
