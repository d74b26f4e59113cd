//! The `llm` and `hybrid` strategies: one model call picks which earlier messages to keep.
//!
//! The call goes through [`llm_call::call`] like every engine call (events, usage, cassettes,
//! resume replay). The model sees the phase's task and one line per candidate (id, role,
//! phase, estimated tokens, the first 200 characters) and answers with the ids to keep, as a
//! JSON list (`[2, 5]`). Ids it names that do not exist are ignored; what it picks is then
//! kept, in its order of preference, while it fits the budget.

use super::selection::{fit, Candidate, Limits};
use super::Current;
use crate::llm::Message;
use crate::runner::error::RunError;
use crate::runner::llm_call::{self, Caller};
use crate::runner::phase_env::PhaseEnv;
use crate::runner::state::RunState;

/// How much of each message the model sees.
const SUMMARY_CHARS: usize = 200;

/// The system prompt of the selection call.
pub const SELECT_PROMPT: &str = "You choose which earlier messages of a workflow the next step needs as context. \
Answer with the ids of the messages to keep as a JSON list, most useful first, for example [2, 5], and nothing else.";

/// Ask the model which of `pool` (indices into `candidates`) to keep.
pub async fn pick(
    env: &PhaseEnv<'_>,
    current: Current<'_>,
    state: &mut RunState,
    model: &str,
    candidates: &[Candidate],
    pool: &[usize],
    limits: Limits,
) -> Result<Vec<usize>, RunError> {
    let ask = [Message::system(SELECT_PROMPT), Message::user(request(current.instructions, candidates, pool, limits))];
    let caller = Caller { phase: &current.phase.name, sounding_index: current.sounding_index, fallbacks: &[] };
    let resp = llm_call::call(env.runner, env.emitter, state, caller, model, &ask, &[]).await?;
    let chosen: Vec<usize> =
        ids(&resp.content).into_iter().filter_map(|id| pool.get(id.checked_sub(1)?).copied()).collect();
    Ok(fit(candidates, &chosen, limits))
}

/// The user message of the selection call. Ids are 1-based positions in `pool`.
fn request(instructions: &str, candidates: &[Candidate], pool: &[usize], limits: Limits) -> String {
    let lines: Vec<String> = pool
        .iter()
        .enumerate()
        .map(|(id, &i)| {
            let c = &candidates[i];
            let text: String = c.message.content.chars().take(SUMMARY_CHARS).collect();
            let more = if c.message.content.chars().count() > SUMMARY_CHARS { "…" } else { "" };
            let text = text.replace('\n', " ");
            format!(
                "[{}] {} in phase `{}`, ~{} tokens: {text}{more}",
                id + 1,
                c.message.role.as_str(),
                c.phase,
                c.tokens()
            )
        })
        .collect();
    format!(
        "The next step's task:\n{instructions}\n\nEarlier messages:\n{}\n\nKeep at most {} messages and about {} tokens.",
        lines.join("\n"),
        limits.messages,
        limits.tokens
    )
}

/// The ids in a reply: its first JSON list of numbers, else every number in it.
fn ids(reply: &str) -> Vec<usize> {
    if let (Some(start), Some(end)) = (reply.find('['), reply.rfind(']')) {
        if start < end {
            if let Ok(list) = serde_json::from_str::<Vec<usize>>(&reply[start..=end]) {
                return list;
            }
        }
    }
    reply.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_a_list_or_from_prose() {
        assert_eq!(ids("[3, 1]"), [3, 1]);
        assert_eq!(ids("Keep these: ```json\n[2]\n```"), [2]);
        assert_eq!(ids("messages 4 and 2"), [4, 2]);
        assert!(ids("none").is_empty());
    }
}
