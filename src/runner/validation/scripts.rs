//! Running validator scripts (inline `bash:`, `python:`, `javascript:` and the code of
//! `code_execution_validator`) as local subprocesses under the shell safety rules.

use crate::runner::phase_env::PhaseEnv;
use crate::runner::validation::validators::{from_text, Verdict};
use crate::tools::subprocess;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Bash,
    Python,
    JavaScript,
}

impl Language {
    pub fn name(self) -> &'static str {
        match self {
            Language::Bash => "bash",
            Language::Python => "python",
            Language::JavaScript => "javascript",
        }
    }
}

/// What a script printed and how it ended.
pub struct ScriptOutput {
    /// `None` when ended by a signal.
    pub status: Option<i32>,
    pub output: String,
}

/// Run a script; the content is in `$CONTENT`.
pub async fn run(
    env: &PhaseEnv<'_>,
    lang: Language,
    src: &str,
    content: &str,
    phase: &str,
) -> Result<ScriptOutput, String> {
    let (program, args): (&str, Vec<String>) = match lang {
        Language::Bash => ("bash", vec!["-c".into(), src.to_string()]),
        // The original's polyglot validators read `content` and set `result`.
        Language::Python => (
            "python3",
            vec![
                "-c".into(),
                format!(
                    "import json, os\ncontent = os.environ.get('CONTENT', '')\nresult = None\n{src}\nif result is not None:\n    print(json.dumps(result))\n"
                ),
            ],
        ),
        Language::JavaScript => (
            "node",
            vec![
                "-e".into(),
                format!("const content = process.env.CONTENT || '';\nlet result;\n{src}\nif (result !== undefined) console.log(JSON.stringify(result));\n"),
            ],
        ),
    };
    let ctx = env.tool_context(phase, &Default::default());
    let what = format!("the {} validator", lang.name());
    subprocess::require_allowed(&ctx, &what).map_err(|e| e.to_string())?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(&args).env("CONTENT", content).env("WINDLASS_PHASE", phase);
    let captured = subprocess::run(cmd, program, &what, &ctx).await.map_err(|e| e.to_string())?;
    Ok(ScriptOutput { status: captured.status.code(), output: String::from_utf8_lossy(&captured.output).into_owned() })
}

/// Run a validator script and read its verdict from what it prints.
pub async fn verdict(env: &PhaseEnv<'_>, lang: Language, src: &str, content: &str, phase: &str) -> Verdict {
    match run(env, lang, src, content, phase).await {
        Ok(out) if out.status == Some(0) => from_text(&out.output),
        Ok(out) => Verdict::fail(format!(
            "the {} validator exited with {}: {}",
            lang.name(),
            out.status.map(|s| s.to_string()).unwrap_or_else(|| "a signal".into()),
            out.output.trim()
        )),
        Err(e) => Verdict::fail(e),
    }
}
