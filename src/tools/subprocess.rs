//! Running a local subprocess for a tool under the safety rules of cli.md: only with
//! `--allow-shell`, in the session's scratch folder, without secrets in its environment, with a
//! timeout that kills the whole process group, and with its output capped.

use super::{ToolContext, ToolError, ToolOutput};
use serde_json::json;
use std::io::Read;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::process::Command;

/// Refuses unless subprocess tools are switched on.
pub(crate) fn require_allowed(ctx: &ToolContext, tool: &str) -> Result<(), ToolError> {
    if ctx.allow_shell {
        Ok(())
    } else {
        Err(ToolError::NotAllowed(format!(
            "{tool} runs a local subprocess, which is off: set WINDLASS_ALLOW_SHELL=1 or pass --allow-shell"
        )))
    }
}

/// What a finished subprocess printed (stdout and stderr interleaved, as on a terminal).
pub(crate) struct Captured {
    pub status: ExitStatus,
    /// At most `output_cap` bytes.
    pub output: Vec<u8>,
    /// Everything it printed, kept or not.
    pub total: u64,
}

/// Runs `command` in the scratch folder and waits for it, at most `ctx.subprocess_timeout`.
/// `program` names the executable in errors.
pub(crate) async fn run(
    mut command: Command,
    program: &str,
    tool: &str,
    ctx: &ToolContext,
) -> Result<Captured, ToolError> {
    tokio::fs::create_dir_all(&ctx.scratch_dir).await.map_err(|err| {
        ToolError::Failed(format!("could not create the scratch folder {}: {err}", ctx.scratch_dir.display()))
    })?;
    // One pipe for both streams keeps their order, like a terminal would show it.
    let (reader, writer) =
        std::io::pipe().map_err(|err| ToolError::Failed(format!("could not create a pipe: {err}")))?;
    let writer_for_stderr =
        writer.try_clone().map_err(|err| ToolError::Failed(format!("could not create a pipe: {err}")))?;
    command
        .current_dir(&ctx.scratch_dir)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_for_stderr)
        // Its own process group, so a timeout kills what it started too.
        .process_group(0)
        .kill_on_drop(true);
    remove_secrets(&mut command, ctx);

    let mut child = command.spawn().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => {
            ToolError::Failed(format!("{tool} needs `{program}`, which is not installed or not on PATH"))
        }
        _ => ToolError::Failed(format!("could not start `{program}`: {err}")),
    })?;
    // The command still holds our ends of the pipe's write side; the reader sees the end of
    // the output only once every writer is closed.
    drop(command);
    let group = child.id();
    let cap = ctx.output_cap;
    let mut reading = tokio::task::spawn_blocking(move || read_capped(reader, cap));

    let deadline = tokio::time::Instant::now() + ctx.subprocess_timeout;
    let timed_out = || ToolError::Timeout { tool: tool.to_string(), seconds: whole_seconds(ctx.subprocess_timeout) };
    let status = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(status) => status.map_err(|err| ToolError::Failed(format!("waiting for `{program}` failed: {err}")))?,
        Err(_) => {
            kill_group(group, &mut child);
            let _ = child.wait().await;
            let _ = reading.await;
            return Err(timed_out());
        }
    };
    // Something it started in the background may still hold the output open.
    let read = match tokio::time::timeout_at(deadline, &mut reading).await {
        Ok(read) => read,
        Err(_) => {
            kill_group(group, &mut child);
            reading.await
        }
    };
    let (output, total) = read
        .map_err(|err| ToolError::Failed(format!("reading the output of `{program}` failed: {err}")))?
        .map_err(|err| ToolError::Failed(format!("reading the output of `{program}` failed: {err}")))?;
    Ok(Captured { status, output, total })
}

/// Text for the model: the output, what was cut, and the exit code; the value carries the same
/// for deterministic phases (`status` routes `success` / `error`).
pub(crate) fn report(captured: &Captured) -> ToolOutput {
    let mut text = String::from_utf8_lossy(&captured.output).into_owned();
    let kept = captured.output.len() as u64;
    let cut = captured.total - kept;
    if text.is_empty() {
        text.push_str("(no output)");
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if cut > 0 {
        text.push_str(&format!(
            "[output cut: kept the first {kept} of {} bytes, {cut} bytes dropped]\n",
            captured.total
        ));
    }
    let code = captured.status.code();
    match code {
        Some(code) => text.push_str(&format!("[exit code {code}]")),
        None => {
            use std::os::unix::process::ExitStatusExt;
            let signal = captured.status.signal().map(|signal| signal.to_string()).unwrap_or_else(|| "?".into());
            text.push_str(&format!("[killed by signal {signal}]"));
        }
    }
    let value = json!({
        "status": if captured.status.success() { "success" } else { "error" },
        "exit_code": code,
        "output": String::from_utf8_lossy(&captured.output),
        "output_bytes_dropped": cut,
    });
    ToolOutput { text, value, effects: Vec::new() }
}

/// Takes out every variable that may hold a secret: the names the context lists, the ones the
/// environment registry marks secret, and by pattern `*_API_KEY`, `*_SECRET` (webhook secrets,
/// `auth: hmac:${HOOK_SECRET}`) and `WINDLASS_*_PASSWORD` (keys of other providers,
/// credentials added later).
fn remove_secrets(command: &mut Command, ctx: &ToolContext) {
    for name in &ctx.secret_env {
        command.env_remove(name);
    }
    for name in crate::env::secret_names() {
        command.env_remove(name);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(looks_secret) {
            command.env_remove(&name);
        }
    }
}

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.ends_with("_API_KEY")
        || upper.ends_with("_SECRET")
        || (upper.starts_with("WINDLASS_") && upper.ends_with("_PASSWORD"))
}

/// Reads until the end, keeping the first `cap` bytes and counting the rest, so the child is
/// never blocked on a full pipe.
fn read_capped(mut reader: impl Read, cap: usize) -> std::io::Result<(Vec<u8>, u64)> {
    let mut kept = Vec::new();
    let mut total = 0u64;
    let mut chunk = [0u8; 8192];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok((kept, total)),
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        total += n as u64;
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
}

/// Kills the child's process group. The standard library cannot signal a group, so this asks
/// `kill(1)`; the direct child is killed in any case.
fn kill_group(group: Option<u32>, child: &mut tokio::process::Child) {
    if let Some(group) = group {
        let _ = std::process::Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{group}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.start_kill();
}

fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_by_pattern() {
        assert!(looks_secret("ANTHROPIC_API_KEY"));
        assert!(looks_secret("WINDLASS_CLICKHOUSE_PASSWORD"));
        assert!(looks_secret("HOOK_SECRET"), "a webhook secret named as the README says");
        assert!(!looks_secret("PATH"));
        assert!(!looks_secret("WINDLASS_DATA_DIR"));
    }

    #[test]
    fn reading_keeps_the_first_bytes_and_counts_all() {
        let input = vec![b'a'; 20_000];
        let (kept, total) = read_capped(&input[..], 100).unwrap();
        assert_eq!((kept.len(), total), (100, 20_000));
    }
}
