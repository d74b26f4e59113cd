//! Running an LLM phase (cascade-format.md, "Running a phase"): pre-wards, the
//! conversation, then the attempt loop around the turn loop, then output_schema,
//! loop_until and post-wards deciding whether another attempt runs.

use super::{context, output_schema, prompting, turn};
use crate::cascade::model::Phase;
use crate::llm::Message;
use crate::runner::children::sub_cascades;
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::phase_env::{PhaseEnv, PhaseOutcome};
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::toolbox::phase_toolset;
use crate::runner::validation::validators::{self, Use};
use crate::runner::validation::wards;
use serde_json::{Map, Value};

/// How this run of a phase differs from the plain one (soundings, error handlers).
#[derive(Debug, Clone, Default)]
pub struct Variant {
    pub sounding: SoundingVars,
    /// Use this model instead of the phase's.
    pub model: Option<String>,
    /// Text put before the rendered instructions (an `augment` mutation).
    pub prepend: Option<String>,
    /// Text appended to the rendered instructions (an `approach` mutation under its heading,
    /// a reforge round's honing prompt).
    pub append: Option<String>,
    /// Instructions that replace the rendered ones (a `rewrite` mutation).
    pub replace: Option<String>,
    /// Extra template variables (`error` for an `on_error` handler).
    pub vars: Map<String, Value>,
}

/// Run an LLM phase (with soundings when it has them).
pub async fn run(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<PhaseOutcome, RunError> {
    sub_cascades::before(env, phase, state).await?;
    let base = Variant::default();
    let outcome = match &phase.soundings {
        Some(s) => super::soundings::run(env, phase, s, state, &base).await?,
        None => run_variant(env, phase, state, &base).await?,
    };
    sub_cascades::after(env, phase, state)?;
    if let Some(h) = phase.human_input.as_ref().filter(|h| h.is_enabled()) {
        let answer = crate::runner::toolbox::human::after_phase(
            env.runner.mailbox.as_ref(),
            env.runner.console.as_ref(),
            env.emitter,
            &phase.name,
            h,
            &outcome.output,
        )
        .await?;
        state.state.insert(format!("human_input_{}", phase.name), answer);
    }
    Ok(outcome)
}

/// One failed check of an attempt.
struct Failure {
    reason: String,
    schema_error: Option<String>,
    /// A blocking ward failed: with no attempts left the cascade stops.
    blocking: Option<String>,
    /// Only a warning once attempts run out.
    soft: bool,
}

/// Run one variant of an LLM phase: the attempt loop around the turn loop.
pub async fn run_variant(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    variant: &Variant,
) -> Result<PhaseOutcome, RunError> {
    wards::pre(env, phase, state).await?;
    let model = variant.model.clone().unwrap_or_else(|| env.model_for(phase));
    let mut vars = templating::base_for(phase.instructions.as_deref().unwrap_or_default(), state, variant.sounding);
    vars.extend(variant.vars.clone());
    let mut instructions = match &variant.replace {
        Some(text) => text.clone(),
        None => templating::render(phase.instructions.as_deref().unwrap_or_default(), &vars)
            .map_err(|e| RunError::phase(&phase.name, format!("rendering instructions: {e}")))?,
    };
    if let Some(before) = &variant.prepend {
        instructions = format!("{before}\n\n{instructions}");
    }
    if let Some(extra) = &variant.append {
        instructions = format!("{instructions}\n\n{extra}");
    }
    if let Some(schema) = &phase.output_schema {
        let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
        instructions = format!("{instructions}\n\n{}\n```json\n{pretty}\n```", prompting::SCHEMA_NOTICE);
    }
    if let Some(v) = &phase.rules.loop_until {
        if !phase.rules.loop_until_silent {
            let custom = match &phase.rules.loop_until_prompt {
                Some(t) => Some(
                    templating::render(t, &vars)
                        .map_err(|e| RunError::phase(&phase.name, format!("rendering loop_until_prompt: {e}")))?,
                ),
                None => None,
            };
            let notice = prompting::loop_until_notice(&validators::label(v), custom.as_deref());
            instructions = format!("{instructions}\n\n{notice}");
        }
    }

    let mut tools = phase_toolset::for_phase(env, phase);
    if phase.tackle.manifest {
        turn::add_manifest_tools(env, phase, state, &model, &instructions, &mut tools).await?;
    }
    let native = phase.use_native_tools;
    let specs = tools.specs();
    let mut system = Vec::new();
    if !tools.is_empty() && !native {
        system.push(prompting::tool_descriptions(&specs));
    }
    if !tools.route_targets.is_empty() {
        system.push(prompting::route_menu(&phase.handoffs));
    }
    let mut messages = Vec::new();
    if !system.is_empty() {
        messages.push(Message::system(system.join("\n\n")));
    }
    let current = context::Current {
        phase,
        instructions: &instructions,
        model: &model,
        sounding_index: variant.sounding.active.then_some(variant.sounding.index),
    };
    messages.extend(context::build(env, current, state).await?);
    messages.push(Message::user(instructions));

    let max_turns = phase.rules.max_turns();
    let max_attempts = wards::attempts(phase);
    let mut t = turn::Turns {
        env,
        phase,
        model: &model,
        tools: &tools,
        native_specs: if native { specs.clone() } else { Vec::new() },
        native,
        tool_ctx: env.tool_context(&phase.name, state),
        sounding: variant.sounding,
        route: None,
        audibles_used: 0,
    };
    let mut output = String::new();
    for attempt in 1..=max_attempts {
        let mut failure = None;
        let mut loop_result = None;
        for n in 1..=max_turns {
            env.emitter.emit(RunEvent::TurnStarted {
                phase: phase.name.clone(),
                turn: n,
                max_turns,
                attempt,
                max_attempts,
            });
            output = t.run(state, &mut messages, n, max_turns).await?;
            if let Some(f) = wards::turn(env, phase, state, &output).await.map(ward_failure) {
                failure = Some(f);
                break;
            }
            if let Some(v) = &phase.rules.loop_until {
                let verdict = validators::check(env, v, &output, state, usage(phase, "loop_until", None)).await;
                let passed = verdict.valid;
                loop_result = Some(verdict);
                if passed {
                    break;
                }
            }
        }
        if failure.is_none() {
            let loop_failure = loop_result.filter(|v| !v.valid).map(|v| v.reason);
            failure = after_turns(env, phase, state, &mut output, loop_failure).await;
        }
        let Some(f) = failure else { break };
        if attempt < max_attempts {
            env.emitter.emit(RunEvent::AttemptFailed {
                phase: phase.name.clone(),
                attempt,
                max_attempts,
                reason: f.reason.clone(),
            });
            messages.push(Message::user(retry_message(phase, state, &f, attempt + 1, max_attempts)?));
            continue;
        }
        if let Some(validator) = f.blocking {
            return Err(RunError::Blocked { phase: phase.name.clone(), validator, reason: f.reason });
        }
        if let Some(e) = f.schema_error {
            return Err(RunError::phase(&phase.name, format!("the output does not match output_schema: {e}")));
        }
        if f.soft {
            env.emitter.emit(RunEvent::Warning {
                phase: Some(phase.name.clone()),
                message: format!("validation still fails after {max_attempts} attempt(s): {}", f.reason),
            });
        }
        break;
    }
    if phase.output_schema.is_some() {
        materialize(env, phase, &output).await?;
    }
    if let Some(extraction) = &phase.output_extraction {
        super::extraction::apply(env, phase, extraction, &output, state)?;
    }
    Ok(PhaseOutcome {
        output,
        value: None,
        route: t.route,
        routing_value: None,
        on_error: None,
        conversation: messages,
    })
}

/// A validated output that is a list of records becomes table `_<phase>` in the session
/// database, so later SQL phases can read it.
async fn materialize(env: &PhaseEnv<'_>, phase: &Phase, output: &str) -> Result<(), RunError> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(output) else { return Ok(()) };
    if items.is_empty() || !items.iter().all(Value::is_object) {
        return Ok(());
    }
    let db = env.runner.opts.session_dir(env.emitter.session_id()).join("session.duckdb");
    let table = format!("_{}", phase.name);
    let rows = Value::Array(items);
    tokio::task::spawn_blocking(move || crate::tools::sql::materialize_json(&db, &table, &rows))
        .await
        .map_err(|e| RunError::phase(&phase.name, e.to_string()))?
        .map_err(|e| RunError::phase(&phase.name, format!("keep the output as a table: {e}")))
}

fn usage<'a>(phase: &'a Phase, role: &'a str, mode: Option<&'a str>) -> Use<'a> {
    Use { phase: &phase.name, role, mode }
}

/// A failed ward as a failed check of the attempt.
fn ward_failure(f: wards::Failed) -> Failure {
    match f {
        wards::Failed::Blocking { validator, reason } => {
            Failure { reason, schema_error: None, blocking: Some(validator), soft: false }
        }
        wards::Failed::Retry { reason } => Failure { reason, schema_error: None, blocking: None, soft: true },
    }
}

/// After the turns: output_schema, then loop_until, then post-wards.
async fn after_turns(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    output: &mut String,
    loop_failure: Option<String>,
) -> Option<Failure> {
    if let Some(s) = &phase.output_schema {
        match output_schema::validate(s, output) {
            Ok(json) => {
                env.emitter.emit(RunEvent::ValidatorVerdict {
                    phase: phase.name.clone(),
                    role: "schema".into(),
                    validator: "output_schema".into(),
                    valid: true,
                    reason: "the output matches output_schema".into(),
                    mode: None,
                });
                *output = serde_json::to_string_pretty(&json).unwrap_or_else(|_| output.clone());
            }
            Err(e) => {
                env.emitter.emit(RunEvent::ValidatorVerdict {
                    phase: phase.name.clone(),
                    role: "schema".into(),
                    validator: "output_schema".into(),
                    valid: false,
                    reason: e.clone(),
                    mode: None,
                });
                return Some(Failure { reason: e.clone(), schema_error: Some(e), blocking: None, soft: false });
            }
        }
    }
    // loop_until was checked after the last turn; its verdict stands here.
    if let Some(reason) = loop_failure {
        return Some(Failure { reason, schema_error: None, blocking: None, soft: true });
    }
    wards::post(env, phase, state, output).await.map(ward_failure)
}

fn retry_message(
    phase: &Phase,
    state: &RunState,
    f: &Failure,
    attempt: u32,
    max_attempts: u32,
) -> Result<String, RunError> {
    let Some(t) = &phase.rules.retry_instructions else {
        return Ok(format!(
            "The previous answer did not pass validation: {}\nPlease try again and fix exactly that.",
            f.reason
        ));
    };
    let mut vars = templating::base(state, SoundingVars::default());
    vars.insert("validation_error".into(), Value::String(f.reason.clone()));
    vars.insert("schema_error".into(), f.schema_error.clone().map(Value::String).unwrap_or(Value::Null));
    vars.insert("attempt".into(), attempt.into());
    vars.insert("max_attempts".into(), max_attempts.into());
    templating::render(t, &vars).map_err(|e| RunError::phase(&phase.name, format!("rendering retry_instructions: {e}")))
}
