//! Data phases in other languages (cascade-format.md, "Data phases"): `python_data`, `js_data`,
//! `clojure_data` run `inputs.code` in a subprocess that sees the earlier phases' data, and
//! `bash_data` runs a script over the previous phase's table as CSV. Their tabular results are
//! kept in the session database as `_<phase>` (see [`shape`]), so `sql_data` and the next data
//! phase read them back from there.
//!
//! Each language has a small runner program ([`runners`]) that reads a context file (`data`,
//! `state`, `input`), runs the code, and writes the result to a file, so what the code prints
//! never mixes with its result. The subprocess obeys the rules of `run_code`: only with
//! `--allow-shell`, in the session's scratch folder, without secrets in its environment, with
//! the subprocess timeout and output cap.

pub mod bash;
mod inputs;
mod runners;
pub mod shape;

use super::subprocess;
use super::{args, Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::path::PathBuf;

/// The interpreters data phases run (`WINDLASS_PYTHON`, `WINDLASS_NODE`, `WINDLASS_CLOJURE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtimes {
    pub python: String,
    pub node: String,
    /// `None`: `bb` when it is on PATH, else `nbb`; the file name picks the runner
    /// (`runners::Runner::for_clojure`).
    pub clojure: Option<String>,
}

impl Default for Runtimes {
    fn default() -> Self {
        Runtimes { python: "python3".into(), node: "node".into(), clojure: None }
    }
}

/// The language of a code data phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    JavaScript,
    Clojure,
}

/// `python_data`, `js_data` or `clojure_data`: `inputs.code` with `data`, `state`, `input`.
pub struct CodeData {
    pub language: Language,
}

impl CodeData {
    pub fn all() -> [CodeData; 3] {
        [Language::Python, Language::JavaScript, Language::Clojure].map(|language| CodeData { language })
    }
}

#[async_trait]
impl Tool for CodeData {
    fn name(&self) -> &str {
        match self.language {
            Language::Python => "python_data",
            Language::JavaScript => "js_data",
            Language::Clojure => "clojure_data",
        }
    }
    fn description(&self) -> &str {
        match self.language {
            Language::Python => "Run Python over earlier phases' data (data.<phase>); the variable `result` is the output",
            Language::JavaScript => "Run JavaScript (node) over earlier phases' data (data.<phase>); the variable `result` is the output",
            Language::Clojure => "Run Clojure (bb, nbb or the JVM's clojure) over earlier phases' data ((:phase-name data)); the last expression is the output",
        }
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]})
    }
    async fn call(&self, a: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let tool = self.name();
        let code = args::text(&a, tool, "code")?;
        subprocess::require_allowed(ctx, &format!("`{tool}`"))?;
        let (program, runner) = self.runner(ctx);
        let work = Workdir::create(ctx)?;
        let data = inputs::prior_data(ctx, self.language == Language::Clojure).await?;
        let context = json!({"code": code, "phase": ctx.phase, "data": data, "state": ctx.state, "input": ctx.input});
        work.write("context.json", &serde_json::to_vec(&context).unwrap_or_default())?;
        let source = runner.source(&code);
        let script = work.write(runner.file_name(), source.as_bytes())?;
        let mut command = tokio::process::Command::new(&program);
        command.arg(&script).arg(work.path("context.json")).arg(work.path("result.json"));
        command.envs(runner.environment(|name| std::env::var_os(name)));
        let captured = subprocess::run(command, &program, tool, ctx).await;
        let result = std::fs::read(work.path("result.json"));
        drop(work);
        let captured = captured?;
        let printed = String::from_utf8_lossy(&captured.output).trim().to_string();
        let produced = match result {
            Ok(bytes) => serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| ToolError::Failed(format!("{tool}: the result is not JSON: {e}")))?,
            Err(_) => {
                let status = match captured.status.code() {
                    Some(code) => format!("exited with {code}"),
                    None => "was killed by a signal".into(),
                };
                return Err(ToolError::Failed(format!("{tool}: `{program}` {status}: {}", tail(&printed))));
            }
        };
        if let Some(error) = produced.get("error").and_then(Value::as_str) {
            return Err(ToolError::Failed(format!("{tool}: {error}")));
        }
        let produced = shape::Produced::from_runner(produced);
        let mut output = shape::keep(produced, ctx).await?;
        if !printed.is_empty() {
            if let Value::Object(m) = &mut output.value {
                m.insert("stdout".into(), Value::String(printed));
            }
        }
        Ok(output)
    }
}

impl CodeData {
    /// The program to start and the runner it takes.
    fn runner(&self, ctx: &ToolContext) -> (String, runners::Runner) {
        match self.language {
            Language::Python => (ctx.runtimes.python.clone(), runners::Runner::Python),
            Language::JavaScript => (ctx.runtimes.node.clone(), runners::Runner::Node),
            Language::Clojure => {
                let program =
                    ctx.runtimes.clojure.clone().unwrap_or_else(
                        || {
                            if on_path("bb") {
                                "bb".into()
                            } else {
                                "nbb".into()
                            }
                        },
                    );
                let runner = runners::Runner::for_clojure(&program);
                (program, runner)
            }
        }
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The last lines of what a failed runner printed (its error is at the end).
fn tail(printed: &str) -> String {
    const KEEP: usize = 4000;
    if printed.is_empty() {
        return "(it printed nothing)".into();
    }
    match printed.char_indices().rev().nth(KEEP) {
        Some((at, _)) => format!("...{}", &printed[at..]),
        None => printed.to_string(),
    }
}

/// A per-call folder under the scratch folder for the context, the runner and the result;
/// removed when dropped.
struct Workdir {
    dir: PathBuf,
}

impl Workdir {
    fn create(ctx: &ToolContext) -> Result<Self, ToolError> {
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            ctx.scratch_dir.join(".windlass-data").join(format!("{}-{}-{call}", safe(&ctx.phase), std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| ToolError::Failed(format!("create the folder {}: {e}", dir.display())))?;
        Ok(Workdir { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, ToolError> {
        let path = self.path(name);
        std::fs::write(&path, bytes).map_err(|e| ToolError::Failed(format!("write {}: {e}", path.display())))?;
        Ok(path)
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A phase name as a file name.
fn safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}
