//! The tools that start child sessions: `spawn_cascade` (one child, waited for or not) and
//! `map_cascade` (one child per item, waited for).

use super::sub_cascades::{Children, MAX_DEPTH};
use super::RunChild;
use crate::cascade::resolve::resolve_reference;
use crate::runner::emitter::Emitter;
use crate::runner::event::{RunEvent, RunResult, RunStatus};
use crate::runner::phase_env::PhaseEnv;
use crate::runner::{ids, CascadeDef, Runner};
use crate::tools::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// `spawn_cascade` or `map_cascade`, when `name` is one of them.
pub fn get(env: &PhaseEnv<'_>, name: &str) -> Option<Arc<dyn Tool>> {
    let spawner = || Spawner {
        runner: env.runner.clone(),
        run_child: env.run_child,
        emitter: env.emitter.clone(),
        children: env.children.clone(),
        dir: env.def.dir().to_path_buf(),
    };
    match name {
        "spawn_cascade" => Some(Arc::new(SpawnCascade(spawner()))),
        "map_cascade" => Some(Arc::new(MapCascade(spawner()))),
        _ => None,
    }
}

/// Starting child sessions from a tool call.
#[derive(Clone)]
struct Spawner {
    runner: Runner,
    run_child: RunChild,
    emitter: Emitter,
    children: Children,
    dir: PathBuf,
}

impl Spawner {
    fn load(&self, reference: &str) -> Result<Arc<CascadeDef>, ToolError> {
        let path = resolve_reference(reference, &self.dir, &self.runner.opts.working_dir)
            .ok_or_else(|| ToolError::InvalidArguments(format!("the cascade `{reference}` is not found")))?;
        let loaded = crate::cascade::load_file(&path);
        if loaded.has_errors() {
            return Err(ToolError::Failed(format!(
                "the cascade {} has errors; run `windlass check` on it",
                path.display()
            )));
        }
        let cascade =
            loaded.cascade.ok_or_else(|| ToolError::Failed(format!("{} is not a cascade", path.display())))?;
        Ok(Arc::new(CascadeDef { cascade, path, text: loaded.text }))
    }

    fn child(&self, ctx: &ToolContext, def: &CascadeDef, is_async: bool) -> Result<(String, Emitter), ToolError> {
        if self.emitter.depth() + 1 > MAX_DEPTH {
            return Err(ToolError::Failed(format!("cascades nest deeper than {} levels", MAX_DEPTH)));
        }
        let id = format!("{}-{}", ctx.session_id, ids::new_session_id().trim_start_matches("s-"));
        self.emitter.emit(RunEvent::SubCascadeStarted {
            phase: ctx.phase.clone(),
            child_session_id: id.clone(),
            cascade_id: def.cascade.cascade_id.clone(),
            r#async: is_async,
        });
        let e = self.emitter.child(&id);
        Ok((id, e))
    }

    async fn run(
        &self,
        ctx: &ToolContext,
        def: Arc<CascadeDef>,
        input: Map<String, Value>,
    ) -> Result<RunResult, ToolError> {
        let (id, emitter) = self.child(ctx, &def, false)?;
        let result = super::run(self.run_child, &self.runner, def, input, &emitter, Some(ctx.session_id.clone())).await;
        self.emitter.emit(RunEvent::SubCascadeFinished {
            phase: ctx.phase.clone(),
            child_session_id: id,
            status: result.status,
        });
        Ok(result)
    }
}

fn object(v: Option<&Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
        _ => Map::new(),
    }
}

fn reference(args: &Value) -> Result<String, ToolError> {
    args.get("cascade_ref")
        .or_else(|| args.get("cascade"))
        .or_else(|| args.get("ref"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ToolError::InvalidArguments("name the cascade file in `cascade_ref`".into()))
}

/// `spawn_cascade(cascade_ref, input, wait=false)`.
struct SpawnCascade(Spawner);

#[async_trait]
impl Tool for SpawnCascade {
    fn name(&self) -> &str {
        "spawn_cascade"
    }
    fn description(&self) -> &str {
        "Start another cascade: spawn_cascade(cascade_ref, input, wait=false); returns its session id (or its output with wait=true)"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "cascade_ref": {"type": "string"}, "input": {"type": "object"}, "wait": {"type": "boolean"}
        }, "required": ["cascade_ref"]})
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let def = self.0.load(&reference(&args)?)?;
        let input = object(args.get("input"));
        if args.get("wait").and_then(Value::as_bool).unwrap_or(false) {
            let r = self.0.run(ctx, def, input).await?;
            return Ok(ToolOutput {
                text: crate::runner::state::output_text(&r.output),
                value: json!({"session_id": r.session_id, "output": r.output}),
                effects: vec![],
            });
        }
        let (id, emitter) = self.0.child(ctx, &def, true)?;
        let parent = Some(ctx.session_id.clone());
        let handle = super::spawn(self.0.run_child, self.0.runner.clone(), def, input, emitter, parent);
        self.0.children.lock().expect("children lock").push((ctx.phase.clone(), handle));
        Ok(ToolOutput { text: format!("started session {id}"), value: json!({"session_id": id}), effects: vec![] })
    }
}

/// `map_cascade(cascade_ref, items, max_parallel=5)`: the cascade once per item; waits.
struct MapCascade(Spawner);

#[async_trait]
impl Tool for MapCascade {
    fn name(&self) -> &str {
        "map_cascade"
    }
    fn description(&self) -> &str {
        "Run a cascade once per item: map_cascade(cascade_ref, items, max_parallel=5); each item is the input (an object) or {item: value}"
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "cascade_ref": {"type": "string"}, "items": {"type": "array"}, "max_parallel": {"type": "integer"}
        }, "required": ["cascade_ref", "items"]})
    }
    async fn call(&self, args: Value, ctx: &ToolContext) -> Result<ToolOutput, ToolError> {
        let def = self.0.load(&reference(&args)?)?;
        let items = match args.get("items") {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
            _ => return Err(ToolError::InvalidArguments("`items` must be a list".into())),
        };
        let parallel = args.get("max_parallel").and_then(Value::as_u64).unwrap_or(5).clamp(1, 64) as usize;
        let results: Vec<Result<RunResult, ToolError>> = stream::iter(items)
            .map(|item| {
                let input = match item {
                    Value::Object(m) => m,
                    other => [("item".to_string(), other)].into_iter().collect(),
                };
                self.0.run(ctx, def.clone(), input)
            })
            .buffered(parallel)
            .collect()
            .await;
        let mut outputs = Vec::new();
        for r in results {
            let r = r?;
            outputs.push(json!({"session_id": r.session_id, "status": r.status, "output": r.output}));
            if r.status != RunStatus::Completed {
                return Err(ToolError::Failed(format!("session {} failed: {}", r.session_id, r.errors.join("; "))));
            }
        }
        Ok(ToolOutput::value(Value::Array(outputs)))
    }
}
