//! Running the real `windlass` binary in isolation: an empty environment, a temp home and data
//! dir, and a temp working folder, so no test reads the user's home, `.env` or variables.

#![allow(dead_code)] // each test binary uses a different part of this

use std::path::Path;
use std::process::{Command, Output};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        Sandbox { dir }
    }

    /// The working folder windlass runs in (where it looks for `.env`).
    pub fn work(&self) -> std::path::PathBuf {
        self.dir.path().join("work")
    }

    pub fn write(&self, relative: &str, text: &str) -> std::path::PathBuf {
        let path = self.work().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `windlass` with a cleared environment and only a temp HOME and data dir.
    pub fn windlass(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_windlass"));
        cmd.env_clear()
            .env("HOME", self.dir.path().join("home"))
            .env("WINDLASS_DATA_DIR", self.dir.path().join("data"))
            .current_dir(self.work());
        cmd
    }
}

/// The result of one run, with stdout and stderr as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(mut cmd: Command) -> Run {
    let Output { status, stdout, stderr } = cmd.output().expect("windlass runs");
    Run {
        code: status.code().expect("windlass exits, not killed by a signal"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

pub fn run_args(sandbox: &Sandbox, args: &[&str]) -> Run {
    let mut cmd = sandbox.windlass();
    cmd.args(args);
    run(cmd)
}

pub fn display(path: &Path) -> String {
    path.display().to_string()
}
