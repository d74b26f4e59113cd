//! What a deterministic phase's `tool:` names: a registered tool, a cascade on the tool
//! path, `python:windlass.demo_tools.<fn>`, `sql:<file.sql>` (templated SQL on the session
//! database) or `shell:<script>` (inputs exported as `WINDLASS_<KEY>`).

use crate::runner::error::RunError;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::toolbox::phase_toolset;
use crate::tools::subprocess;
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

pub fn resolve(env: &PhaseEnv<'_>, phase: &str, name: &str) -> Result<Arc<dyn Tool>, RunError> {
    if let Some(script) = name.strip_prefix("shell:") {
        let file = env.def.dir().join(script.trim());
        let body = if file.is_file() { Script::File(file) } else { Script::Inline(script.trim().to_string()) };
        return Ok(Arc::new(ShellSpec { body }));
    }
    if let Some(file) = name.strip_prefix("sql:") {
        let path = crate::cascade::resolve::resolve_reference(file.trim(), env.def.dir(), &env.runner.opts.working_dir)
            .ok_or_else(|| RunError::phase(phase, format!("the SQL file `{}` does not exist", file.trim())))?;
        let sql = std::fs::read_to_string(&path)
            .map_err(|e| RunError::phase(phase, format!("read the SQL file {}: {e}", path.display())))?;
        let sql_data = env
            .runner
            .tools
            .get("sql_data")
            .ok_or_else(|| RunError::phase(phase, "`sql:` needs the sql_data tool, which is not available"))?;
        return Ok(Arc::new(SqlSpec { sql, sql_data }));
    }
    phase_toolset::resolve(env, name)
        .ok_or_else(|| RunError::phase(phase, format!("tool `{name}` is not available in this build")))
}

enum Script {
    File(PathBuf),
    Inline(String),
}

/// `shell:<script>`: a script file next to the cascade, or an inline command.
struct ShellSpec {
    body: Script,
}

#[async_trait]
impl Tool for ShellSpec {
    fn name(&self) -> &str {
        "shell"
    }
    fn description(&self) -> &str {
        "run a shell script with the phase inputs as WINDLASS_<KEY> variables"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object"})
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        subprocess::require_allowed(ctx, "`shell:`")?;
        let mut env = Vec::new();
        if let Value::Object(m) = &args {
            for (k, v) in m {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                env.push((format!("WINDLASS_{}", k.to_ascii_uppercase()), text));
            }
        }
        let mut cmd = tokio::process::Command::new("bash");
        match &self.body {
            Script::File(p) => cmd.arg(p),
            Script::Inline(s) => cmd.arg("-c").arg(s),
        };
        cmd.envs(env);
        let captured = subprocess::run(cmd, "bash", "shell:", ctx).await?;
        let out = crate::runner::validation::scripts::ScriptOutput {
            status: captured.status.code(),
            output: String::from_utf8_lossy(&captured.output).into_owned(),
        };
        if out.status != Some(0) {
            return Err(ToolError::Failed(format!(
                "the script exited with {}: {}",
                out.status.map(|s| s.to_string()).unwrap_or_else(|| "a signal".into()),
                out.output.trim()
            )));
        }
        let text = out.output.trim().to_string();
        Ok(match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => ToolOutput { text, value: v, effects: Vec::new() },
            _ => ToolOutput::text(text),
        })
    }
}

/// `sql:<file.sql>`: the file's SQL, rendered with the phase inputs, through `sql_data`.
struct SqlSpec {
    sql: String,
    sql_data: Arc<dyn Tool>,
}

#[async_trait]
impl Tool for SqlSpec {
    fn name(&self) -> &str {
        "sql"
    }
    fn description(&self) -> &str {
        "run a SQL file on the session database"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object"})
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let vars = match &args {
            Value::Object(m) => {
                let mut v = m.clone();
                v.insert("input".into(), args.clone());
                v.insert("state".into(), Value::Object(ctx.state.clone()));
                v
            }
            _ => Default::default(),
        };
        let query = crate::runner::templating::render(&self.sql, &vars).map_err(ToolError::Failed)?;
        let mut call_args = match args {
            Value::Object(m) => m,
            _ => Default::default(),
        };
        call_args.insert("query".into(), Value::String(query));
        self.sql_data.call(Value::Object(call_args), ctx).await
    }
}
