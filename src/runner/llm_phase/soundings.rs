//! Soundings: N copies of a phase in parallel (copy 0 unmodified, the others mutated), an
//! evaluator naming the winner by number (or an aggregator merging them), optional
//! `reforge` rounds refining the winner. The winner's conversation, state and output go on.

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

const AUGMENTS: &[&str] = &[
    "Think step by step before you answer.",
    "Be concise: keep only what matters.",
    "Be thorough: cover edge cases and details others would miss.",
    "Start with the most important point.",
];

const APPROACHES: &[&str] = &[
    "Approach this from first principles.",
    "Approach this by working backwards from the ideal result.",
    "Approach this through a concrete example first, then generalise.",
    "Approach this as a sceptical expert looking for weaknesses.",
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
            v.append = mutation(s, i);
        }
        variants.push(v);
    }
    if s.mutate && s.mutations.is_empty() && s.mutation_mode == MutationMode::Rewrite {
        rewrite(env, phase, state, &mut variants).await?;
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
                    v.append = Some(format!("{refine}\n\n{}", mutation(s, i).unwrap_or_default()));
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

fn mutation(s: &Soundings, i: u32) -> Option<String> {
    let k = (i - 1) as usize;
    if !s.mutations.is_empty() {
        return Some(s.mutations[k % s.mutations.len()].clone());
    }
    Some(match s.mutation_mode {
        MutationMode::Augment => AUGMENTS[k % AUGMENTS.len()].to_string(),
        MutationMode::Approach => APPROACHES[k % APPROACHES.len()].to_string(),
        // Replaced by an LLM rewrite of the whole prompt in `rewrite`; this is the fallback
        // used by reforge rounds.
        MutationMode::Rewrite => AUGMENTS[k % AUGMENTS.len()].to_string(),
    })
}

/// `mutation_mode: rewrite`: an LLM rewrites the rendered instructions for every mutated
/// attempt (concurrently), and the rewrite replaces them.
async fn rewrite(
    env: &PhaseEnv<'_>,
    phase: &Phase,
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
        async move {
            let text = templating::render(phase.instructions.as_deref().unwrap_or_default(), &vars)
                .map_err(|e| RunError::phase(&phase.name, format!("rendering instructions: {e}")))?;
            let messages = [
                Message::system(format!(
                    "Rewrite the prompt you are given so that it asks for exactly the same result in different words (variation {i}). Keep every requirement, name and number. Reply with the rewritten prompt only."
                )),
                Message::user(text),
            ];
            let caller = Caller { phase: &phase.name, sounding_index: Some(i as u32) };
            let resp = llm_call::call(env.runner, env.emitter, &mut st, caller, &model, &messages, &[]).await?;
            Ok::<_, RunError>((i, resp.content, st))
        }
    });
    for r in futures::future::join_all(jobs).await {
        let (i, text, st) = r?;
        state.tokens_in += st.tokens_in.saturating_sub(snapshot.tokens_in);
        state.tokens_out += st.tokens_out.saturating_sub(snapshot.tokens_out);
        state.cost += (st.cost - snapshot.cost).max(0.0);
        if !text.trim().is_empty() {
            variants[i].replace = Some(text);
            variants[i].append = None;
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
                    mutation: v.append.clone(),
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
    let listing: String = candidates
        .iter()
        .enumerate()
        .map(|(n, &k)| format!("Attempt {n}:\n{}\n", attempts[k].outcome.output))
        .collect::<Vec<_>>()
        .join("\n");
    let caller = Caller { phase: &phase.name, sounding_index: None };
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
    let messages = [
        Message::system(format!(
            "{instructions}\n\nThe attempts are numbered from 0 to {}. End your reply with a line `Winner: <number>`.",
            candidates.len() - 1
        )),
        Message::user(listing),
    ];
    let resp = llm_call::call(env.runner, env.emitter, state, caller, &model, &messages, &[]).await?;
    let pick = winner_number(&resp.content, candidates.len()).unwrap_or(0);
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

/// The winner's number in an evaluator reply: `Winner: N` (or similar), else the last
/// number in range.
pub fn winner_number(reply: &str, count: usize) -> Option<usize> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)(?:winner|best|choose|chose|pick|select(?:ed)?)\W{0,20}?(?:attempt|index|number|#)?\s*#?(\d+)")
            .expect("regex")
    });
    if let Some(n) = re.captures_iter(reply).filter_map(|c| c[1].parse::<usize>().ok()).filter(|n| *n < count).last() {
        return Some(n);
    }
    static NUM: OnceLock<Regex> = OnceLock::new();
    let num = NUM.get_or_init(|| Regex::new(r"\b(\d+)\b").expect("regex"));
    num.captures_iter(reply).filter_map(|c| c[1].parse::<usize>().ok()).filter(|n| *n < count).last()
}

#[cfg(test)]
mod tests {
    use super::winner_number;

    #[test]
    fn parses_winners() {
        assert_eq!(winner_number("Attempt 2 is clearest.\nWinner: 1", 3), Some(1));
        assert_eq!(winner_number("I pick attempt #2", 3), Some(2));
        assert_eq!(winner_number("The best is 0.", 3), Some(0));
        assert_eq!(winner_number("none", 3), None);
        assert_eq!(winner_number("Winner: 7", 3), None);
    }
}
