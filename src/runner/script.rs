//! Running validator scripts (inline `bash:`, `python:`, `javascript:` and the code of
//! `code_execution_validator`) as local subprocesses under the shell safety rules.

use super::session::PhaseEnv;
use super::validation::{from_text, Verdict};
use crate::tools::subprocess::{self, Command as Sub};

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

/// Run a script; the content is in `$CONTENT` (and on stdin).
pub async fn run(
    env: &PhaseEnv<'_>,
    lang: Language,
    src: &str,
    content: &str,
    phase: &str,
) -> Result<subprocess::Output, String> {
    let opts = &env.runner.opts;
    if !opts.allow_shell {
        return Err(format!(
            "{} validators run a local subprocess; allow it with --allow-shell or WINDLASS_ALLOW_SHELL=1",
            lang.name()
        ));
    }
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
    let dir = opts.session_dir(env.emitter.session_id()).join("scratch");
    let cmd = Sub {
        program: program.to_string(),
        args,
        cwd: dir,
        env: vec![("CONTENT".into(), content.to_string()), ("WINDLASS_PHASE".into(), phase.to_string())],
        stdin: Some(content.to_string()),
        timeout: opts.subprocess_timeout,
        output_cap: opts.output_cap,
        secret_env: opts.secret_env.clone(),
    };
    subprocess::run(cmd).await.map_err(|e| e.to_string())
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
