//! Cascade-level soundings: run the whole cascade N times in parallel, let an evaluator
//! pick the best final output (listed and numbered from 1 as for phase soundings), optionally refine it in `reforge` rounds (each round's
//! input carries `_refinement_context`). The winner's state becomes the session's.

use super::run_loop;
use crate::cascade::model::{Factor, Soundings};
use crate::runner::children::sub_cascades;
use crate::runner::emitter::Emitter;
use crate::runner::error::RunError;
use crate::runner::event::{RunEvent, RunResult};
use crate::runner::llm_call::{self, Caller};
use crate::runner::llm_phase::soundings;
use crate::runner::phase_env::PhaseEnv;
use crate::runner::resolve_tool_path;
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::validation::validators::{self, Use};
use crate::runner::{CascadeDef, Runner};
use futures::future::join_all;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// Pseudo phase name for events of cascade-level soundings.
const PHASE: &str = "(cascade soundings)";

pub async fn run(runner: &Runner, def: Arc<CascadeDef>, input: Map<String, Value>, emitter: &Emitter) -> RunResult {
    let started = Instant::now();
    let s = def.cascade.soundings.clone().expect("called for cascades with soundings");
    let tool_path = resolve_tool_path(runner, &def);
    let env = PhaseEnv {
        runner,
        def: &def,
        emitter,
        tool_path: &tool_path,
        children: Default::default(),
        durable: None,
        keep_conversations: false,
        run_child: run_loop::run_child,
    };
    let mut totals = RunState::new(input.clone());
    let result = rounds(&env, &s, &input, &mut totals).await;
    sub_cascades::wait_all(&env.children, emitter).await;
    let (state, result) = match result {
        Ok(mut winner) => {
            winner.tokens_in = totals.tokens_in;
            winner.tokens_out = totals.tokens_out;
            winner.cost = totals.cost;
            (winner, Ok(()))
        }
        Err(e) => (totals, Err(e)),
    };
    run_loop::finish(&def, state, result, emitter, started)
}

async fn rounds(
    env: &PhaseEnv<'_>,
    s: &Soundings,
    input: &Map<String, Value>,
    totals: &mut RunState,
) -> Result<RunState, RunError> {
    let factor = match &s.factor {
        Factor::Count(n) => (*n).max(1),
        Factor::Template(t) => {
            let vars = templating::base(totals, SoundingVars::default());
            templating::render(t, &vars).ok().and_then(|r| r.trim().parse().ok()).unwrap_or(1).max(1)
        }
    };
    let mut best = attempts(env, input, factor, totals).await?;
    let mut winner = pick(env, s, totals, best).await?;
    if let Some(reforge) = &s.reforge {
        for step in 1..=reforge.steps.unwrap_or(1) {
            if let Some(t) = &reforge.threshold {
                let u = Use { phase: PHASE, role: "reforge:threshold", mode: t.mode.as_deref() };
                if validators::check(env, &t.validator, &winner.last_output_text(), totals, u).await.valid {
                    break;
                }
            }
            let mut vars = templating::base(&winner, SoundingVars::default());
            vars.insert("step".into(), step.into());
            let honing = match &reforge.honing_prompt {
                Some(t) => templating::render(t, &vars)
                    .map_err(|e| RunError::phase(PHASE, format!("rendering honing_prompt: {e}")))?,
                None => "Improve on the previous best result.".into(),
            };
            let mut refined = input.clone();
            refined.insert(
                "_refinement_context".into(),
                Value::String(format!("{honing}\n\nPrevious best result:\n{}", winner.last_output_text())),
            );
            best = attempts(env, &refined, reforge.factor_per_step.unwrap_or(2).max(1), totals).await?;
            best.insert(0, winner);
            winner = pick(env, s, totals, best).await?;
        }
    }
    Ok(winner)
}

async fn attempts(
    env: &PhaseEnv<'_>,
    input: &Map<String, Value>,
    factor: u32,
    totals: &mut RunState,
) -> Result<Vec<RunState>, RunError> {
    let jobs = (0..factor).map(|i| {
        let mut state = RunState::new(input.clone());
        async move {
            env.emitter.emit(RunEvent::SoundingStarted {
                phase: PHASE.into(),
                index: i,
                factor,
                model: None,
                mutation: None,
            });
            // Identical first calls of parallel attempts replay by attempt, not arrival order.
            let r = crate::llm::cassette::site::attempt(i, run_loop::phases(env, &mut state, Some(0))).await;
            env.emitter.emit(RunEvent::SoundingFinished {
                phase: PHASE.into(),
                index: i,
                ok: r.is_ok(),
                output: r.as_ref().map(|_| state.last_output_text()).unwrap_or_else(|e| e.to_string()),
            });
            r.map(|_| state)
        }
    });
    let mut ok = Vec::new();
    let mut first_error = None;
    for r in join_all(jobs).await {
        match r {
            Ok(st) => {
                totals.add_usage(st.tokens_in, st.tokens_out, Some(st.cost));
                ok.push(st);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if ok.is_empty() {
        return Err(first_error.unwrap_or_else(|| RunError::phase(PHASE, "every cascade sounding failed")));
    }
    Ok(ok)
}

async fn pick(
    env: &PhaseEnv<'_>,
    s: &Soundings,
    totals: &mut RunState,
    mut candidates: Vec<RunState>,
) -> Result<RunState, RunError> {
    if candidates.len() == 1 {
        return Ok(candidates.remove(0));
    }
    let outputs: Vec<String> = candidates.iter().map(RunState::last_output_text).collect();
    let listing = soundings::listing(outputs.iter().map(String::as_str));
    let instructions = s.evaluator_instructions.as_deref().unwrap_or("Pick the best attempt.");
    let messages = soundings::evaluator_messages(instructions, listing, candidates.len());
    let model = env.runner.opts.default_model.clone();
    let resp = llm_call::call(
        env.runner,
        env.emitter,
        totals,
        Caller { phase: PHASE, sounding_index: None, fallbacks: &[] },
        &model,
        &messages,
        &[],
    )
    .await?;
    let n = soundings::pick_or_first(env, PHASE, &resp.content, candidates.len());
    env.emitter.emit(RunEvent::SoundingsEvaluated {
        phase: PHASE.into(),
        winner: Some(n as u32),
        reply: resp.content,
        mode: "evaluate".into(),
    });
    Ok(candidates.swap_remove(n))
}
