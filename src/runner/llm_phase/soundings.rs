//! Soundings (cascade-format.md, "Soundings"): N copies of a phase in parallel (copy 0
//! unmodified, the others mutated), an evaluator naming the winner by number (or an
//! aggregator merging them), optional `reforge` rounds refining the winner. The winner's
//! conversation, state and output go on.
//!
//! Mutations are placed as the original places them: an `augment` text goes before the
//! task, an `approach` text after it under an `## Approach` heading, and `rewrite` (the
//! default) asks the model, in a separate call per attempt, to rewrite the task, which the
//! rewrite then replaces. Custom `mutations` take the place of the built-in texts for the
//! mode (for `rewrite` they say how to rewrite). The evaluator sees the attempts as
//! `## Attempt 1` … `## Attempt N`; the first number from 1 to N in its reply wins.

use super::phase::{self, Variant};
use crate::cascade::model::{Factor, MutationMode, Phase, Soundings, SoundingsMode};
use crate::llm::Message;
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::llm_call::{self, Caller};
use crate::runner::phase_env::{PhaseEnv, PhaseOutcome};
use crate::runner::state::RunState;
use crate::runner::templating::{self, SoundingVars};
use crate::runner::validation::validators::{self, Use};
use futures::stream::{self, StreamExt};
use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

/// `augment`: put before the task.
const AUGMENTS: &[&str] = &[
    "Before you answer, note every constraint the task sets and keep to each one.",
    "Work through the problem in small, explicit steps, then give the result.",
    "Aim for an answer a demanding expert reviewer would accept without changes.",
    "Keep the answer tight: say what matters and leave out the filler.",
    "Check the edge cases and unusual inputs before you settle on an answer.",
    "Open with what the reader needs most, then add the rest.",
];

/// `approach`: put after the task, under [`APPROACH_HEADING`].
const APPROACHES: &[&str] = &[
    "Reason from first principles: question the usual assumptions and build the answer up from the basics.",
    "Work backwards: picture the ideal result, then find the steps that lead to it.",
    "Begin with one concrete example, then generalise from it.",
    "Take the sceptic's view: look for the weak points and answer each of them.",
    "Sketch two or three different ways to do it, then commit to the strongest.",
    "Think first about what could go wrong, and shape the answer to avoid it.",
];

/// The heading an `approach` mutation is placed under.
pub const APPROACH_HEADING: &str = "## Approach";

/// `rewrite`: how the model is asked to rewrite the task, one per mutated attempt.
const REWRITES: &[&str] = &[
    "Make it more specific and detailed.",
    "Phrase it so that it asks for step-by-step reasoning.",
    "Phrase it around concrete examples.",
    "Make it shorter and more direct.",
    "Phrase it for a reader who is an expert in the field.",
    "Reorder it so that the most important requirement comes first.",
];

/// An attempt's outcome with the state it ended in, or why it failed.
type AttemptResult = Result<(PhaseOutcome, RunState), RunError>;

/// One finished attempt.
struct Attempt {
    index: u32,
    outcome: PhaseOutcome,
    state: RunState,
}

pub async fn run(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    s: &Soundings,
    state: &mut RunState,
    base: &Variant,
) -> Result<PhaseOutcome, RunError> {
    let factor = factor(phase, s, state)?;
    let models = assign_models(s, factor);
    let factor = models.as_ref().map(|m| m.len() as u32).unwrap_or(factor);
    let mut variants = Vec::new();
    for i in 0..factor {
        let mut v = base.clone();
        v.sounding = SoundingVars { index: i, factor, active: true };
        v.model = models.as_ref().and_then(|m| m.get(i as usize).cloned());
        if i > 0 && s.mutate {
            place_mutation(&mut v, s.mutation_mode, mutation_text(s, s.mutation_mode, i));
        }
        variants.push(v);
    }
    if s.mutate && s.mutation_mode == MutationMode::Rewrite {
        rewrite(env, phase, s, state, &mut variants).await?;
    }
    let snapshot = state.clone();
    let attempts = run_attempts(env, phase, s, &snapshot, state, variants).await?;
    let mut best = choose(env, phase, s, state, &attempts).await?;
    if let Some(reforge) = &s.reforge {
        let steps = reforge.steps.unwrap_or(1);
        let per_step = reforge.factor_per_step.unwrap_or(2).max(1);
        for step in 1..=steps {
            if let Some(t) = &reforge.threshold {
                let u = Use { phase: &phase.name, role: "reforge:threshold", mode: t.mode.as_deref() };
                let verdict = validators::check(env, &t.validator, &best.outcome.output, state, u).await;
                if verdict.valid {
                    break;
                }
            }
            let mut vars = templating::base(&best.state, SoundingVars::default());
            vars.insert("step".into(), step.into());
            vars.insert("steps".into(), steps.into());
            vars.insert("validation_reason".into(), Value::String(String::new()));
            let honing = match &reforge.honing_prompt {
                Some(t) => templating::render(t, &vars)
                    .map_err(|e| RunError::phase(&phase.name, format!("rendering honing_prompt: {e}")))?,
                None => "Improve the output below: fix weaknesses, keep what works.".into(),
            };
            let refine = format!("{honing}\n\nCurrent best output:\n{}", best.outcome.output);
            let mut variants = Vec::new();
            for i in 0..per_step {
                let mut v = base.clone();
                v.sounding = SoundingVars { index: i, factor: per_step, active: true };
                v.append = Some(refine.clone());
                if i > 0 && reforge.mutate.unwrap_or(s.mutate) {
                    // No rewrite calls in reforge rounds: a rewrite mode augments instead.
                    let mode = match s.mutation_mode {
                        MutationMode::Rewrite => MutationMode::Augment,
                        m => m,
                    };
                    place_mutation(&mut v, mode, mutation_text(s, mode, i));
                }
                variants.push(v);
            }
            let base_state = best.state.clone();
            let mut round = run_attempts(env, phase, s, &base_state, state, variants).await?;
            round.push(Attempt {
                index: round.len() as u32,
                outcome: take(&mut best.outcome),
                state: best.state.clone(),
            });
            best = choose(env, phase, s, state, &round).await?;
        }
    }
    // Usage of every attempt counts, not only the winner's: `state` holds the totals.
    let mut winner_state = best.state;
    absorb_usage(&mut winner_state, state);
    *state = winner_state;
    Ok(best.outcome)
}

fn take(o: &mut PhaseOutcome) -> PhaseOutcome {
    std::mem::take(o)
}

fn factor(phase: &Phase, s: &Soundings, state: &RunState) -> Result<u32, RunError> {
    match &s.factor {
        Factor::Count(n) => Ok((*n).max(1)),
        Factor::Template(t) => {
            let vars = templating::base(state, SoundingVars::default());
            let text = templating::render(t, &vars)
                .map_err(|e| RunError::phase(&phase.name, format!("rendering soundings.factor: {e}")))?;
            text.trim().parse::<u32>().map(|n| n.max(1)).map_err(|_| {
                RunError::phase(&phase.name, format!("soundings.factor rendered to `{}`, not a number", text.trim()))
            })
        }
    }
}

/// One model per attempt, from a list (round robin or random) or a map of per-model factors.
fn assign_models(s: &Soundings, factor: u32) -> Option<Vec<String>> {
    let models = s.models.as_ref()?;
    let list = &models.0;
    if list.is_empty() {
        return None;
    }
    if list.iter().any(|m| m.factor.is_some()) {
        let mut out = Vec::new();
        for m in list {
            for _ in 0..m.factor.unwrap_or(1) {
                out.push(m.model.clone());
            }
        }
        return Some(out);
    }
    let random = s.model_strategy.as_deref() == Some("random");
    Some(
        (0..factor)
            .map(|i| {
                if random {
                    list[fastrand::usize(..list.len())].model.clone()
                } else {
                    list[i as usize % list.len()].model.clone()
                }
            })
            .collect(),
    )
}

/// Attempt `i`'s (1..) mutation text for `mode`: the custom `mutations` in turn when the
/// mode is the cascade's own, else the built-in texts.
fn mutation_text(s: &Soundings, mode: MutationMode, i: u32) -> String {
    let k = i.saturating_sub(1) as usize;
    if !s.mutations.is_empty() && mode == s.mutation_mode {
        return s.mutations[k % s.mutations.len()].clone();
    }
    let list = match mode {
        MutationMode::Augment => AUGMENTS,
        MutationMode::Approach => APPROACHES,
        MutationMode::Rewrite => REWRITES,
    };
    list[k % list.len()].to_string()
}

/// Put a mutation where the original puts it: `augment` before the task, `approach` after it
/// under its heading; a `rewrite` text is kept for [`rewrite`] to hand to the model.
fn place_mutation(v: &mut Variant, mode: MutationMode, text: String) {
    match mode {
        MutationMode::Augment | MutationMode::Rewrite => v.prepend = Some(text),
        MutationMode::Approach => {
            let section = format!("{APPROACH_HEADING}\n\n{text}");
            v.append = Some(match v.append.take() {
                Some(before) => format!("{before}\n\n{section}"),
                None => section,
            });
        }
    }
}

/// What an attempt was changed by, for its `sounding_started` event.
fn mutation_label(v: &Variant) -> Option<String> {
    v.replace.clone().or_else(|| v.prepend.clone()).or_else(|| v.append.clone())
}

/// `mutation_mode: rewrite`: for every mutated attempt (concurrently), a separate model call
/// rewrites the rendered instructions as its rewrite text says, and the rewrite replaces
/// them. An empty rewrite leaves the attempt unmodified.
async fn rewrite(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    s: &Soundings,
    state: &mut RunState,
    variants: &mut [Variant],
) -> Result<(), RunError> {
    let model = env.model_for(phase);
    let snapshot = state.clone();
    let jobs = variants.iter().enumerate().filter(|(i, _)| *i > 0).map(|(i, v)| {
        let mut st = snapshot.clone();
        let model = model.clone();
        let mut vars = templating::base(&snapshot, v.sounding);
        vars.extend(v.vars.clone());
        let how = v.prepend.clone().unwrap_or_else(|| mutation_text(s, MutationMode::Rewrite, i as u32));
        async move {
            let text = templating::render(phase.instructions.as_deref().unwrap_or_default(), &vars)
                .map_err(|e| RunError::phase(&phase.name, format!("rendering instructions: {e}")))?;
            let messages = [
                Message::system(format!(
                    "Rewrite the prompt you are given. {how} It must still ask for the same result: keep every requirement, name and number. Reply with the rewritten prompt only."
                )),
                Message::user(text),
            ];
            let caller = Caller { phase: &phase.name, sounding_index: Some(i as u32), fallbacks: &[] };
            let resp = llm_call::call(env.runner, env.emitter, &mut st, caller, &model, &messages, &[]).await?;
            Ok::<_, RunError>((i, resp.content, st))
        }
    });
    for r in futures::future::join_all(jobs).await {
        let (i, text, st) = r?;
        state.tokens_in += st.tokens_in.saturating_sub(snapshot.tokens_in);
        state.tokens_out += st.tokens_out.saturating_sub(snapshot.tokens_out);
        state.cost += (st.cost - snapshot.cost).max(0.0);
        variants[i].prepend = None;
        if !text.trim().is_empty() {
            variants[i].replace = Some(text.trim().to_string());
        }
    }
    Ok(())
}

/// Run variants in parallel from `state`; their token and cost usage is added to `totals`.
async fn run_attempts(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    s: &Soundings,
    state: &RunState,
    totals: &mut RunState,
    variants: Vec<Variant>,
) -> Result<Vec<Attempt>, RunError> {
    let factor = variants.len() as u32;
    let results: Vec<(u32, AttemptResult)> = stream::iter(variants.into_iter().enumerate())
        .map(|(i, v)| {
            let mut st = state.clone();
            async move {
                env.emitter.emit(RunEvent::SoundingStarted {
                    phase: phase.name.clone(),
                    index: i as u32,
                    factor,
                    model: v.model.clone(),
                    mutation: mutation_label(&v),
                });
                let r = phase::run_variant(env, phase, &mut st, &v).await;
                env.emitter.emit(RunEvent::SoundingFinished {
                    phase: phase.name.clone(),
                    index: i as u32,
                    ok: r.is_ok(),
                    output: r.as_ref().map(|o| o.output.clone()).unwrap_or_else(|e| e.to_string()),
                });
                (i as u32, r.map(|o| (o, st)))
            }
        })
        .buffer_unordered(s.max_parallel() as usize)
        .collect()
        .await;
    let mut ok = Vec::new();
    let mut first_error = None;
    for (index, r) in results {
        match r {
            Ok((outcome, st)) => {
                totals.tokens_in += st.tokens_in.saturating_sub(state.tokens_in);
                totals.tokens_out += st.tokens_out.saturating_sub(state.tokens_out);
                totals.cost += (st.cost - state.cost).max(0.0);
                ok.push(Attempt { index, outcome, state: st })
            }
            // Provider failures and blocking wards are not a sounding's own failure: stop.
            Err(
                e @ (RunError::Provider(_)
                | RunError::CostLimit { .. }
                | RunError::Cancelled { .. }
                | RunError::Interrupted),
            ) => return Err(e),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if ok.is_empty() {
        return Err(first_error.unwrap_or_else(|| RunError::phase(&phase.name, "every sounding failed")));
    }
    ok.sort_by_key(|a| a.index);
    Ok(ok)
}

/// Pick (or aggregate) the winner among attempts.
async fn choose(
    env: &PhaseEnv<'_>,
    phase: &Phase,
    s: &Soundings,
    state: &mut RunState,
    attempts: &[Attempt],
) -> Result<Attempt, RunError> {
    // The soundings validator filters attempts before evaluation.
    let mut candidates: Vec<usize> = (0..attempts.len()).collect();
    if let Some(v) = &s.validator {
        let mut valid = Vec::new();
        for (k, a) in attempts.iter().enumerate() {
            let u = Use { phase: &phase.name, role: "soundings", mode: None };
            if validators::check(env, v, &a.outcome.output, state, u).await.valid {
                valid.push(k);
            }
        }
        if valid.is_empty() {
            env.emitter.emit(RunEvent::Warning {
                phase: Some(phase.name.clone()),
                message: "no sounding passed the soundings validator; evaluating all of them".into(),
            });
        } else {
            candidates = valid;
        }
    }
    let model = env.model_for(phase);
    let listing = listing(candidates.iter().map(|&k| attempts[k].outcome.output.as_str()));
    let caller = Caller { phase: &phase.name, sounding_index: None, fallbacks: &[] };
    if s.mode == SoundingsMode::Aggregate {
        let instructions = s
            .aggregator_instructions
            .as_deref()
            .unwrap_or("Combine the attempts below into one answer that keeps the best of each.");
        let vars = templating::base(state, SoundingVars::default());
        let instructions = templating::render(instructions, &vars)
            .map_err(|e| RunError::phase(&phase.name, format!("rendering aggregator_instructions: {e}")))?;
        let messages = [Message::system(instructions), Message::user(listing)];
        let resp = llm_call::call(env.runner, env.emitter, state, caller, &model, &messages, &[]).await?;
        env.emitter.emit(RunEvent::SoundingsEvaluated {
            phase: phase.name.clone(),
            winner: None,
            reply: resp.content.clone(),
            mode: "aggregate".into(),
        });
        let first = &attempts[candidates[0]];
        let mut outcome = PhaseOutcome {
            output: resp.content.clone(),
            route: first.outcome.route.clone(),
            conversation: first.outcome.conversation.clone(),
            ..PhaseOutcome::default()
        };
        outcome.conversation.push(Message::assistant(resp.content.clone()));
        let mut st = first.state.clone();
        absorb_usage(&mut st, state);
        return Ok(Attempt { index: 0, outcome, state: st });
    }
    if candidates.len() == 1 {
        let a = &attempts[candidates[0]];
        env.emitter.emit(RunEvent::SoundingsEvaluated {
            phase: phase.name.clone(),
            winner: Some(a.index),
            reply: "only one attempt to choose from".into(),
            mode: "evaluate".into(),
        });
        return Ok(clone_attempt(a, state));
    }
    let instructions = s.evaluator_instructions.as_deref().unwrap_or("Pick the best attempt.");
    let vars = templating::base(state, SoundingVars::default());
    let instructions = templating::render(instructions, &vars)
        .map_err(|e| RunError::phase(&phase.name, format!("rendering evaluator_instructions: {e}")))?;
    let messages = evaluator_messages(&instructions, listing, candidates.len());
    let resp = llm_call::call(env.runner, env.emitter, state, caller, &model, &messages, &[]).await?;
    let pick = pick_or_first(env, &phase.name, &resp.content, candidates.len());
    let a = &attempts[candidates[pick]];
    env.emitter.emit(RunEvent::SoundingsEvaluated {
        phase: phase.name.clone(),
        winner: Some(a.index),
        reply: resp.content.clone(),
        mode: "evaluate".into(),
    });
    Ok(clone_attempt(a, state))
}

fn clone_attempt(a: &Attempt, totals: &RunState) -> Attempt {
    let mut st = a.state.clone();
    absorb_usage(&mut st, totals);
    Attempt {
        index: a.index,
        outcome: PhaseOutcome {
            output: a.outcome.output.clone(),
            value: a.outcome.value.clone(),
            route: a.outcome.route.clone(),
            routing_value: a.outcome.routing_value.clone(),
            on_error: a.outcome.on_error.clone(),
            conversation: a.outcome.conversation.clone(),
        },
        state: st,
    }
}

/// Usage is counted on the shared totals; the winner's state takes them over.
fn absorb_usage(winner: &mut RunState, totals: &RunState) {
    winner.tokens_in = totals.tokens_in;
    winner.tokens_out = totals.tokens_out;
    winner.cost = totals.cost;
}

/// The attempts as an evaluator or aggregator sees them: `## Attempt 1` … `## Attempt N`.
pub fn listing<'a>(outputs: impl IntoIterator<Item = &'a str>) -> String {
    outputs
        .into_iter()
        .enumerate()
        .map(|(n, out)| format!("## Attempt {}\n\n{}", n + 1, out.trim_end()))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The evaluator's request: its instructions and how to answer, then the listing.
pub fn evaluator_messages(instructions: &str, listing: String, count: usize) -> [Message; 2] {
    [
        Message::system(format!(
            "{instructions}\n\nThe attempts are numbered 1 to {count}. Start your reply with the number of the best attempt, then say briefly why."
        )),
        Message::user(listing),
    ]
}

/// The winner's index (0-based) from an evaluator reply, or the first attempt with a
/// warning when the reply names none in range.
pub fn pick_or_first(env: &PhaseEnv<'_>, phase: &str, reply: &str, count: usize) -> usize {
    winner_number(reply, count).unwrap_or_else(|| {
        env.emitter.emit(RunEvent::Warning {
            phase: Some(phase.to_string()),
            message: format!("the evaluator named no attempt from 1 to {count}; attempt 1 wins"),
        });
        0
    })
}

/// The winner in an evaluator reply, as an index (0-based): the first number in the reply
/// from 1 to `count` (attempts are numbered from 1, as in the original); numbers out of
/// range are skipped.
pub fn winner_number(reply: &str, count: usize) -> Option<usize> {
    static NUM: OnceLock<Regex> = OnceLock::new();
    let num = NUM.get_or_init(|| Regex::new(r"\d+").expect("regex"));
    num.find_iter(reply)
        .filter_map(|m| m.as_str().parse::<usize>().ok())
        .find(|n| (1..=count).contains(n))
        .map(|n| n - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_number_in_range_wins() {
        assert_eq!(winner_number("2", 3), Some(1));
        assert_eq!(winner_number("Attempt 3 is best, better than 1", 3), Some(2));
        assert_eq!(winner_number("Attempt 7 would be nice, but 0 is not an attempt; 2 wins", 3), Some(1));
        assert_eq!(winner_number("Attempt #1.", 3), Some(0));
        assert_eq!(winner_number("none", 3), None);
        assert_eq!(winner_number("Winner: 7", 3), None);
        assert_eq!(winner_number("12", 3), None, "a number is read whole, not digit by digit");
    }

    #[test]
    fn attempts_are_listed_from_one() {
        assert_eq!(listing(["a", "b\n"]), "## Attempt 1\n\na\n\n## Attempt 2\n\nb");
    }

    #[test]
    fn mutations_are_placed_by_mode() {
        let mut v = Variant::default();
        place_mutation(&mut v, MutationMode::Augment, "A".into());
        assert_eq!((v.prepend.as_deref(), v.append.as_deref()), (Some("A"), None));
        let mut v = Variant { append: Some("refine".into()), ..Variant::default() };
        place_mutation(&mut v, MutationMode::Approach, "B".into());
        assert_eq!(v.append.as_deref(), Some("refine\n\n## Approach\n\nB"));
        assert!(v.prepend.is_none());
    }
}
