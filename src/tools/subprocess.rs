//! Local subprocesses under the safety rules of cli.md: a given folder, a timeout that
//! kills the whole process group, captured output with a cap, and no secrets in the
//! child's environment.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What to run.
#[derive(Debug, Clone)]
pub struct Command {
    pub program: String,
    pub args: Vec<String>,
    /// Created if missing.
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub stdin: Option<String>,
    pub timeout: Duration,
    /// Bytes of stdout+stderr kept.
    pub output_cap: usize,
    /// Variable names removed from the child's environment.
    pub secret_env: Vec<String>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Output {
    /// `None` when ended by a signal.
    pub status: Option<i32>,
    /// stdout, then stderr, capped.
    pub output: String,
    pub truncated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("start `{program}`: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("`{program}` did not finish within {seconds}s and was stopped")]
    Timeout { program: String, seconds: u64 },
    #[error("prepare the folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
}

/// Whether an environment variable must not reach a child process.
pub fn is_secret_name(name: &str, extra: &[String]) -> bool {
    let upper = name.to_ascii_uppercase();
    extra.iter().any(|e| e.eq_ignore_ascii_case(name))
        || upper.ends_with("_API_KEY")
        || upper.ends_with("_PASSWORD")
        || upper.ends_with("_SECRET")
        || upper.ends_with("_TOKEN")
}

pub async fn run(cmd: Command) -> Result<Output, Error> {
    std::fs::create_dir_all(&cmd.cwd)
        .map_err(|source| Error::Folder { path: cmd.cwd.display().to_string(), source })?;
    let mut c = tokio::process::Command::new(&cmd.program);
    c.args(&cmd.args)
        .current_dir(&cmd.cwd)
        .stdin(if cmd.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    for (name, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
        if is_secret_name(&name, &cmd.secret_env) {
            c.env_remove(&name);
        }
    }
    for (k, v) in &cmd.env {
        c.env(k, v);
    }
    let mut child = c.spawn().map_err(|source| Error::Spawn { program: cmd.program.clone(), source })?;
    if let (Some(input), Some(mut stdin)) = (cmd.stdin.clone(), child.stdin.take()) {
        tokio::spawn(async move {
            let _ = stdin.write_all(input.as_bytes()).await;
        });
    }
    let cap = cmd.output_cap;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let read = async {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let a = read_capped(&mut stdout, &mut out, cap);
        let b = read_capped(&mut stderr, &mut err, cap);
        let (ta, tb) = tokio::join!(a, b);
        let status = child.wait().await.ok().and_then(|s| s.code());
        (status, out, err, ta || tb)
    };
    match tokio::time::timeout(cmd.timeout, read).await {
        Ok((status, out, err, truncated)) => {
            let mut text = String::from_utf8_lossy(&out).into_owned();
            if !err.is_empty() {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&String::from_utf8_lossy(&err));
            }
            let truncated = truncated || text.len() > cap;
            if text.len() > cap {
                let mut end = cap;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            Ok(Output { status, output: text, truncated })
        }
        Err(_) => {
            if let Some(pid) = child.id() {
                // The child leads its own process group: stop everything it started.
                unsafe_kill_group(pid);
            }
            let _ = child.kill().await;
            Err(Error::Timeout { program: cmd.program, seconds: cmd.timeout.as_secs() })
        }
    }
}

/// Read a stream to the end, keeping at most `cap` bytes; true when something was cut.
async fn read_capped<R: tokio::io::AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>, cap: usize) -> bool {
    let mut chunk = [0u8; 8192];
    let mut cut = false;
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return cut,
            Ok(n) => {
                let room = cap.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
}

fn unsafe_kill_group(pid: u32) {
    // `kill -KILL -<pgid>` through the shell-free std API is not available; use /bin/kill.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(script: &str) -> Command {
        Command {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            cwd: std::env::temp_dir().join("windlass-subprocess-test"),
            env: vec![("CONTENT".into(), "hello".into())],
            stdin: None,
            timeout: Duration::from_secs(5),
            output_cap: 1000,
            secret_env: vec!["MY_PRIVATE".into()],
        }
    }

    #[tokio::test]
    async fn runs_caps_and_times_out() {
        let out = run(cmd("echo $CONTENT; exit 3")).await.unwrap();
        assert_eq!(out.status, Some(3));
        assert_eq!(out.output, "hello\n");
        let out = run(cmd("head -c 5000 /dev/zero | tr '\\0' x")).await.unwrap();
        assert!(out.truncated && out.output.len() == 1000);
        let mut slow = cmd("sleep 10");
        slow.timeout = Duration::from_millis(200);
        let started = std::time::Instant::now();
        assert!(matches!(run(slow).await, Err(Error::Timeout { .. })));
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn secret_names() {
        assert!(is_secret_name("OPENROUTER_API_KEY", &[]));
        assert!(is_secret_name("WINDLASS_CLICKHOUSE_PASSWORD", &[]));
        assert!(is_secret_name("my_private", &["MY_PRIVATE".into()]));
        assert!(!is_secret_name("PATH", &[]));
    }
}
