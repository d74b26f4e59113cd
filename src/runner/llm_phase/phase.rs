//! Running an LLM phase (cascade-format.md, "Running a phase"): pre-wards, the
//! conversation, then the attempt loop around the turn loop, then output_schema,
//! loop_until and post-wards deciding whether another attempt runs.

use crate::cascade::model::{Phase, WardMode};
use crate::llm::Message;
use crate::runner::children::sub_cascades as subcascades;
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::llm_phase::context;
use crate::runner::llm_phase::output_schema as schema;
use crate::runner::llm_phase::prompting;
use crate::runner::llm_phase::turn;
use crate::runner::run::run_loop::{PhaseEnv, PhaseOutcome};
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::toolbox::phase_toolset as phase_tools;
use crate::runner::validation::validators::{self as validation, Use};
use crate::tools::ToolContext;
use serde_json::{Map, Value};

/// How this run of a phase differs from the plain one (soundings, error handlers).
#[derive(Debug, Clone, Default)]
pub struct Variant {
    pub sounding: SoundingVars,
    /// Use this model instead of the phase's.
    pub model: Option<String>,
    /// Text appended to the rendered instructions (an `augment`/`approach`/custom mutation).
    pub append: Option<String>,
    /// Instructions that replace the rendered ones (a `rewrite` mutation).
    pub replace: Option<String>,
    /// Extra template variables (`error` for an `on_error` handler).
    pub vars: Map<String, Value>,
    /// Extra context messages (the outputs of the phase's sub-cascades).
    pub context: Vec<Message>,
}

/// The model a phase talks to.
pub fn model_for(env: &PhaseEnv<'_>, phase: &Phase) -> String {
    phase.model.clone().unwrap_or_else(|| env.runner.opts.default_model.clone())
}

/// The tool context for calls made by `phase`.
pub fn tool_context(env: &PhaseEnv<'_>, phase: &str, state: &RunState) -> ToolContext {
    let opts = &env.runner.opts;
    let session_id = env.emitter.session_id().to_string();
    let dir = opts.session_dir(&session_id);
    ToolContext {
        session_id,
        phase: phase.to_string(),
        working_dir: opts.working_dir.clone(),
        scratch_dir: dir.join("scratch"),
        session_db: dir.join("session.duckdb"),
        research_db: research_name(env).map(|n| crate::tools::sql::research_path(&opts.data_dir, &n)),
        allow_shell: opts.allow_shell,
        subprocess_timeout: opts.subprocess_timeout,
        output_cap: opts.output_cap,
        secret_env: opts.secret_env.clone(),
        state: state.state.clone(),
        sql_functions: None,
    }
}

/// The cascade's `research_db` name: a string, or an object with a `name`.
fn research_name(env: &PhaseEnv<'_>) -> Option<String> {
    match env.def.cascade.research_db.as_ref()? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Run an LLM phase (with soundings when it has them).
pub async fn run(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<PhaseOutcome, RunError> {
    let context = subcascades::before(env, phase, state).await?;
    let base = Variant { context, ..Variant::default() };
    let outcome = match &phase.soundings {
        Some(s) => crate::runner::llm_phase::soundings::run(env, phase, s, state, &base).await?,
        None => run_variant(env, phase, state, &base).await?,
    };
    subcascades::after(env, phase, state)?;
    if let Some(h) = phase.human_input.as_ref().filter(|h| h.is_enabled()) {
        let answer = crate::runner::toolbox::human::after_phase(
            env.runner.mailbox.as_ref(),
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
    pre_wards(env, phase, state).await?;
    let model = variant.model.clone().unwrap_or_else(|| model_for(env, phase));
    let mut vars = templating::base_for(phase.instructions.as_deref().unwrap_or_default(), state, variant.sounding);
    vars.extend(variant.vars.clone());
    let mut instructions = match &variant.replace {
        Some(text) => text.clone(),
        None => templating::render(phase.instructions.as_deref().unwrap_or_default(), &vars)
            .map_err(|e| RunError::phase(&phase.name, format!("rendering instructions: {e}")))?,
    };
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
            let notice = prompting::loop_until_notice(&validation::label(v), custom.as_deref());
            instructions = format!("{instructions}\n\n{notice}");
        }
    }

    let mut tools = phase_tools::for_phase(env, phase);
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
    messages.extend(context::build(phase.context.as_ref(), state, &phase.name));
    messages.extend(variant.context.iter().cloned());
    messages.push(Message::user(instructions));

    let max_turns = phase.rules.max_turns();
    let max_attempts = attempts(phase);
    let mut t = turn::Turns {
        env,
        phase,
        model: &model,
        tools: &tools,
        native_specs: if native { specs.clone() } else { Vec::new() },
        native,
        tool_ctx: tool_context(env, &phase.name, state),
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
            if let Some(f) = turn_wards(env, phase, state, &output).await {
                failure = Some(f);
                break;
            }
            if let Some(v) = &phase.rules.loop_until {
                let verdict = validation::check(env, v, &output, state, usage(phase, "loop_until", None)).await;
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
        crate::runner::llm_phase::extraction::apply(env, phase, extraction, &output, state)?;
    }
    Ok(PhaseOutcome { output, route: t.route, routing_value: None, on_error: None, conversation: messages })
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

fn mode_name(m: WardMode) -> &'static str {
    match m {
        WardMode::Blocking => "blocking",
        WardMode::Retry => "retry",
        WardMode::Advisory => "advisory",
    }
}

/// Attempts: the phase's `max_attempts`, raised by any retrying ward's own `max_attempts`.
fn attempts(phase: &Phase) -> u32 {
    let wards = phase.wards.post.iter().chain(&phase.wards.turn);
    let ward_max = wards.filter(|w| w.mode != WardMode::Advisory).filter_map(|w| w.max_attempts).max().unwrap_or(1);
    phase.rules.max_attempts().max(ward_max)
}

/// Pre-wards see the cascade input. Only `blocking` stops; the others warn.
async fn pre_wards(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState) -> Result<(), RunError> {
    let content = serde_json::to_string_pretty(&Value::Object(state.input.clone())).unwrap_or_default();
    for ward in &phase.wards.pre {
        let mode = mode_name(ward.mode);
        let verdict =
            validation::check(env, &ward.validator, &content, state, usage(phase, "ward:pre", Some(mode))).await;
        if verdict.valid {
            continue;
        }
        if ward.mode == WardMode::Blocking {
            return Err(RunError::Blocked {
                phase: phase.name.clone(),
                validator: validation::label(&ward.validator),
                reason: verdict.reason,
            });
        }
        env.emitter.emit(RunEvent::Warning {
            phase: Some(phase.name.clone()),
            message: format!("{mode} pre-ward `{}` failed: {}", validation::label(&ward.validator), verdict.reason),
        });
    }
    Ok(())
}

/// Turn wards run after each turn (fix: the original ignored them).
async fn turn_wards(env: &PhaseEnv<'_>, phase: &Phase, state: &mut RunState, output: &str) -> Option<Failure> {
    wards(env, phase, state, output, &phase.wards.turn, "ward:turn").await
}

async fn wards(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    state: &mut RunState,
    output: &str,
    list: &[crate::cascade::model::Ward],
    role: &str,
) -> Option<Failure> {
    for ward in list {
        let mode = mode_name(ward.mode);
        let verdict = validation::check(env, &ward.validator, output, state, usage(phase, role, Some(mode))).await;
        if verdict.valid {
            continue;
        }
        let label = validation::label(&ward.validator);
        match ward.mode {
            WardMode::Advisory => env.emitter.emit(RunEvent::Warning {
                phase: Some(phase.name.clone()),
                message: format!("advisory ward `{label}` failed: {}", verdict.reason),
            }),
            WardMode::Blocking => {
                return Some(Failure { reason: verdict.reason, schema_error: None, blocking: Some(label), soft: false })
            }
            WardMode::Retry => {
                return Some(Failure { reason: verdict.reason, schema_error: None, blocking: None, soft: true })
            }
        }
    }
    None
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
        match schema::validate(s, output) {
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
    wards(env, phase, state, output, &phase.wards.post, "ward:post").await
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
