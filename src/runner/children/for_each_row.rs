//! `for_each_row`: run a cascade (or one LLM call) per row of a session table, in parallel,
//! and keep the results as a table.

use super::sub_cascades;
use crate::cascade::model::{ForEachRow, ForEachRowOnError, Phase};
use crate::llm::Message;
use crate::runner::error::RunError;
use crate::runner::event::RunStatus;
use crate::runner::llm_call::{self, Caller};
use crate::runner::phase_env::{PhaseEnv, PhaseOutcome};
use crate::runner::state::{output_text, RunState};
use crate::runner::templating::{self, SoundingVars};
use crate::tools::sql::{self, RowResult};
use futures::stream::{self, StreamExt};
use serde_json::{json, Map, Value};

/// A row's output (with its shape) and child state, or why it failed.
type RowOutcome = Result<(Value, Value), String>;

pub async fn run(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    spec: &ForEachRow,
    state: &mut RunState,
) -> Result<PhaseOutcome, RunError> {
    let db = env.runner.opts.session_dir(env.emitter.session_id()).join("session.duckdb");
    let table = spec.table.clone();
    let db2 = db.clone();
    let rows = tokio::task::spawn_blocking(move || sql::table_rows(&db2, &table))
        .await
        .map_err(|e| RunError::phase(&phase.name, e.to_string()))?
        .map_err(|e| RunError::phase(&phase.name, format!("read table `{}`: {e}", spec.table)))?;
    let child = match &spec.cascade {
        Some(r) => Some(sub_cascades::load_child(env, &phase.name, r)?),
        None => None,
    };
    if child.is_none() && spec.instructions.is_none() {
        return Err(RunError::phase(&phase.name, "for_each_row needs `cascade` or `instructions`"));
    }
    let total = rows.len();
    let base = templating::base(state, SoundingVars::default());
    let model = phase.model.clone().unwrap_or_else(|| env.runner.opts.default_model.clone());
    let snapshot = state.clone();
    let jobs = rows.into_iter().enumerate().map(|(index, row)| {
        let mut vars = base.clone();
        vars.insert("row".into(), row.clone());
        vars.insert("index".into(), index.into());
        vars.insert("total".into(), total.into());
        let child = child.clone();
        let model = model.clone();
        let mut st = snapshot.clone();
        async move {
            let mut input = Map::new();
            for (k, v) in &spec.inputs {
                match templating::render_value(v, &vars) {
                    Ok(r) => {
                        input.insert(k.clone(), r);
                    }
                    Err(e) => return (index, Err(format!("rendering inputs.{k}: {e}")), st),
                }
            }
            let r = match child {
                Some(def) => {
                    let id = format!("{}-r{index}-{}", env.emitter.session_id(), fastrand::u32(..));
                    let emitter = env.emitter.child(&id);
                    let result = super::run(
                        env.run_child,
                        env.runner,
                        def,
                        input,
                        &emitter,
                        Some(env.emitter.session_id().into()),
                    )
                    .await;
                    st.add_usage(result.tokens_in, result.tokens_out, Some(result.cost));
                    if result.status == RunStatus::Completed {
                        Ok((result.output, Value::Object(result.state)))
                    } else {
                        Err(result.errors.join("; "))
                    }
                }
                None => {
                    let text = spec.instructions.as_deref().unwrap_or_default();
                    match templating::render(text, &vars) {
                        Err(e) => Err(format!("rendering instructions: {e}")),
                        Ok(prompt) => {
                            let caller = Caller { phase: &phase.name, sounding_index: None, fallbacks: &[] };
                            let msgs = [Message::user(prompt)];
                            llm_call::call(env.runner, env.emitter, &mut st, caller, &model, &msgs, &[])
                                .await
                                .map(|r| (Value::String(r.content), Value::Null))
                                .map_err(|e| e.to_string())
                        }
                    }
                }
            };
            (index, r, st)
        }
    });
    let mut results: Vec<(usize, RowOutcome, RunState)> =
        stream::iter(jobs).buffer_unordered(spec.max_parallel.unwrap_or(5).max(1) as usize).collect().await;
    results.sort_by_key(|(i, _, _)| *i);
    let mut rows_out = Vec::new();
    let mut outputs = Vec::new();
    let mut errors = Vec::new();
    for (index, r, st) in &results {
        state.tokens_in += st.tokens_in.saturating_sub(snapshot.tokens_in);
        state.tokens_out += st.tokens_out.saturating_sub(snapshot.tokens_out);
        state.cost += (st.cost - snapshot.cost).max(0.0);
        match r {
            Ok((output, child_state)) => {
                outputs.push(output.clone());
                rows_out.push(RowResult {
                    index: *index,
                    status: "success".into(),
                    output: output_text(output),
                    state: child_state.to_string(),
                    error: None,
                });
            }
            Err(e) => {
                outputs.push(Value::String(String::new()));
                errors.push(format!("row {index}: {e}"));
                rows_out.push(RowResult {
                    index: *index,
                    status: "error".into(),
                    output: String::new(),
                    state: "null".into(),
                    error: Some(e.clone()),
                });
            }
        }
    }
    if !errors.is_empty() && spec.on_error != ForEachRowOnError::Continue {
        return Err(RunError::phase(
            &phase.name,
            format!("{} of {total} rows failed: {}", errors.len(), errors.join("; ")),
        ));
    }
    let result_table = spec.result_table.clone().unwrap_or_else(|| format!("_{}", phase.name));
    let (source, out_table, rows_for_db) = (spec.table.clone(), result_table.clone(), rows_out.clone());
    tokio::task::spawn_blocking(move || sql::write_row_results(&db, &source, &out_table, &rows_for_db))
        .await
        .map_err(|e| RunError::phase(&phase.name, e.to_string()))?
        .map_err(|e| RunError::phase(&phase.name, format!("write `{result_table}`: {e}")))?;
    let summary = json!({
        "rows": total,
        "succeeded": total - errors.len(),
        "failed": errors.len(),
        "table": result_table,
        "outputs": outputs,
    });
    Ok(PhaseOutcome::shaped(summary))
}
