//! `linux_shell` and `run_code`: local subprocesses, under the rules in `subprocess`.

use super::subprocess::{report, require_allowed, run};
use super::{args, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use tokio::process::Command;

/// `linux_shell(command)`: `sh -c command`.
pub struct LinuxShell;

#[async_trait]
impl Tool for LinuxShell {
    fn name(&self) -> &str {
        "linux_shell"
    }
    fn description(&self) -> &str {
        "Run a shell command (sh -c) in the session's scratch folder and return its output and exit code. \
         Needs --allow-shell."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"command": {"type": "string", "description": "the shell command"}},
            "required": ["command"]
        })
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        require_allowed(ctx, self.name())?;
        let script = args::text(&args, self.name(), "command")?;
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        Ok(report(&run(command, "sh", self.name(), ctx).await?))
    }
}

/// `run_code(code, language="python")`.
pub struct RunCode;

/// Language names → (interpreter, file extension).
const LANGUAGES: &[(&[&str], &str, &str)] = &[
    (&["python", "python3", "py"], "python3", "py"),
    (&["bash"], "bash", "sh"),
    (&["sh", "shell"], "sh", "sh"),
    (&["javascript", "js", "node", "nodejs"], "node", "js"),
];

#[async_trait]
impl Tool for RunCode {
    fn name(&self) -> &str {
        "run_code"
    }
    fn description(&self) -> &str {
        "Run a code snippet (python, bash, sh or javascript) in the session's scratch folder and return its \
         output and exit code. Needs --allow-shell."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "the program"},
                "language": {
                    "type": "string",
                    "enum": ["python", "bash", "sh", "javascript"],
                    "default": "python"
                }
            },
            "required": ["code"]
        })
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        require_allowed(ctx, self.name())?;
        let code = strip_fence(&args::text(&args, self.name(), "code")?);
        let language = args::optional_text(&args, "language")
            .filter(|_| args.is_object())
            .map(|language| language.trim().to_ascii_lowercase())
            .filter(|language| !language.is_empty())
            .unwrap_or_else(|| "python".into());
        let Some(&(_, interpreter, extension)) =
            LANGUAGES.iter().find(|(names, ..)| names.contains(&language.as_str()))
        else {
            return Err(ToolError::InvalidArguments(format!(
                "run_code does not know the language `{language}`; use python, bash, sh or javascript"
            )));
        };

        // A file rather than `-c`: no length limit on the command line, and tracebacks name
        // lines of a real file.
        tokio::fs::create_dir_all(&ctx.scratch_dir).await.map_err(|err| {
            ToolError::Failed(format!("could not create the scratch folder {}: {err}", ctx.scratch_dir.display()))
        })?;
        let file = ctx.scratch_dir.join(format!("run_code-{:016x}.{extension}", fastrand::u64(..)));
        tokio::fs::write(&file, code.as_bytes())
            .await
            .map_err(|err| ToolError::Failed(format!("could not write the code to {}: {err}", file.display())))?;
        let mut command = Command::new(interpreter);
        command.arg(&file);
        let result = run(command, interpreter, self.name(), ctx).await;
        let _ = tokio::fs::remove_file(&file).await;
        Ok(report(&result?))
    }
}

/// Models often wrap code in a Markdown fence; the interpreter must not see it.
fn strip_fence(code: &str) -> String {
    let trimmed = code.trim();
    if let Some(rest) = trimmed.strip_prefix("```") {
        let body = rest.split_once('\n').map(|(_, body)| body).unwrap_or("");
        let body = body.trim_end().strip_suffix("```").unwrap_or(body);
        return body.trim_end().to_string();
    }
    code.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::context;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn refused_without_the_switch() {
        let (ctx, _dir) = context(false);
        for (tool, args) in
            [(&LinuxShell as &dyn Tool, json!({"command": "echo hi"})), (&RunCode, json!({"code": "print(1)"}))]
        {
            let err = tool.call(args, &ctx).await.unwrap_err();
            assert!(matches!(err, ToolError::NotAllowed(_)));
            assert!(err.to_string().contains("WINDLASS_ALLOW_SHELL=1 or pass --allow-shell"), "{err}");
        }
        assert!(!ctx.scratch_dir.exists(), "nothing ran");
    }

    #[tokio::test]
    async fn runs_in_the_scratch_folder_with_exit_code() {
        let (ctx, _dir) = context(true);
        let output = LinuxShell.call(json!({"command": "pwd; echo oops >&2; exit 3"}), &ctx).await.unwrap();
        let scratch = ctx.scratch_dir.canonicalize().unwrap();
        assert_eq!(output.text, format!("{}\noops\n[exit code 3]", scratch.display()));
        assert_eq!(output.value["status"], "error");
        assert_eq!(output.value["exit_code"], 3);
    }

    #[tokio::test]
    async fn timeout_kills_the_process_group() {
        let (mut ctx, dir) = context(true);
        ctx.subprocess_timeout = Duration::from_millis(300);
        let marker = dir.path().join("survived");
        // The background child would outlive a kill of `sh` alone.
        let command = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let started = Instant::now();
        let err = LinuxShell.call(json!({ "command": command }), &ctx).await.unwrap_err();
        assert!(matches!(err, ToolError::Timeout { seconds: 1, .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!marker.exists(), "a process of the group survived the timeout");
    }

    #[tokio::test]
    async fn output_is_capped() {
        let (mut ctx, _dir) = context(true);
        ctx.output_cap = 100;
        let output = LinuxShell.call(json!({"command": "head -c 5000 /dev/zero | tr '\\0' x"}), &ctx).await.unwrap();
        assert!(output.text.starts_with(&"x".repeat(100)));
        assert!(
            output.text.contains("[output cut: kept the first 100 of 5000 bytes, 4900 bytes dropped]"),
            "{}",
            output.text
        );
        assert!(output.text.ends_with("[exit code 0]"));
    }

    #[tokio::test]
    async fn secrets_stay_out_of_the_child() {
        let (mut ctx, _dir) = context(true);
        let listed = format!("WINDLASS_TEST_LISTED_{}", fastrand::u32(..));
        let by_pattern = format!("WINDLASS_TEST_{}_API_KEY", fastrand::u32(..));
        let harmless = format!("WINDLASS_TEST_HARMLESS_{}", fastrand::u32(..));
        // Edition 2021; std serialises its own environment access, and the names are unique.
        for name in [&listed, &by_pattern, &harmless] {
            std::env::set_var(name, "sekret-value");
        }
        ctx.secret_env = vec![listed.clone()];
        let output = LinuxShell.call(json!({"command": "env"}), &ctx).await.unwrap();
        for name in [&listed, &by_pattern, &harmless] {
            std::env::remove_var(name);
        }
        assert!(!output.text.contains(&listed), "{}", output.text);
        assert!(!output.text.contains(&by_pattern), "{}", output.text);
        assert!(output.text.contains(&harmless), "the environment is otherwise passed on");
    }

    #[tokio::test]
    async fn run_code_languages() {
        let (ctx, _dir) = context(true);
        let output = RunCode.call(json!({"code": "print(6 * 7)", "language": "python"}), &ctx).await.unwrap();
        assert_eq!(output.text, "42\n[exit code 0]");
        let output =
            RunCode.call(json!({"code": "```bash\necho $((6 * 7))\n```", "language": "bash"}), &ctx).await.unwrap();
        assert_eq!(output.text, "42\n[exit code 0]");
        let err = RunCode.call(json!({"code": "x", "language": "cobol"}), &ctx).await.unwrap_err();
        assert!(err.to_string().contains("`cobol`"), "{err}");
        let leftovers = std::fs::read_dir(&ctx.scratch_dir).unwrap().count();
        assert_eq!(leftovers, 0, "code files are removed after the run");
    }

    #[test]
    fn fences() {
        assert_eq!(strip_fence("```python\nprint(1)\n```"), "print(1)");
        assert_eq!(strip_fence("print(1)"), "print(1)");
    }
}
