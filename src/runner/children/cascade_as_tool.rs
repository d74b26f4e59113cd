//! A cascade with `inputs_schema` on the tool path, used as a tool named by its
//! `cascade_id`: the call runs it as a child session and returns its output.

use crate::cascade::load_file;
use crate::runner::children::{self, RunChild};
use crate::runner::emitter::Emitter;
use crate::runner::event::{RunEvent, RunStatus};
use crate::runner::{ids, CascadeDef, Runner};
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::sync::Arc;

pub struct CascadeTool {
    runner: Runner,
    run_child: RunChild,
    def: Arc<CascadeDef>,
    emitter: Emitter,
    description: String,
}

impl CascadeTool {
    /// Load the cascade file; `None` when it does not load cleanly.
    pub fn load(runner: Runner, run_child: RunChild, path: &Path, emitter: Emitter) -> Option<CascadeTool> {
        let loaded = load_file(path);
        if loaded.has_errors() {
            return None;
        }
        let cascade = loaded.cascade?;
        let description =
            cascade.description.clone().unwrap_or_else(|| format!("Run the cascade `{}`", cascade.cascade_id));
        let def = Arc::new(CascadeDef { cascade, path: path.to_path_buf(), text: loaded.text });
        Some(CascadeTool { runner, run_child, def, emitter, description })
    }
}

#[async_trait]
impl Tool for CascadeTool {
    fn name(&self) -> &str {
        &self.def.cascade.cascade_id
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn parameters(&self) -> Value {
        let props: Map<String, Value> = self
            .def
            .cascade
            .inputs_schema
            .iter()
            .map(|(k, v)| {
                let desc = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                (k.clone(), json!({"type": "string", "description": desc}))
            })
            .collect();
        json!({"type": "object", "properties": props})
    }

    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let input = match args {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => return Err(ToolError::InvalidArguments(format!("expected an object of inputs, got {other}"))),
        };
        let child_id = format!("{}-{}", ctx.session_id, ids::new_session_id().trim_start_matches("s-"));
        let child = self.emitter.child(&child_id);
        self.emitter.emit(RunEvent::SubCascadeStarted {
            phase: ctx.phase.clone(),
            child_session_id: child_id.clone(),
            cascade_id: self.def.cascade.cascade_id.clone(),
            r#async: false,
        });
        let result =
            children::run(self.run_child, &self.runner, self.def.clone(), input, &child, Some(ctx.session_id.clone()))
                .await;
        self.emitter.emit(RunEvent::SubCascadeFinished {
            phase: ctx.phase.clone(),
            child_session_id: child_id,
            status: result.status,
        });
        if result.status != RunStatus::Completed {
            return Err(ToolError::Failed(format!(
                "cascade `{}` failed: {}",
                self.def.cascade.cascade_id,
                result.errors.join("; ")
            )));
        }
        Ok(ToolOutput {
            text: crate::runner::state::output_text(&result.output),
            value: json!({"output": result.output, "state": result.state}),
            effects: Vec::new(),
        })
    }
}
