//! `token_budget`: keep a phase's conversation inside a token budget before each call.
//!
//! Tokens are estimated by [`crate::llm::types::estimated_tokens`], the one estimate windlass
//! makes.

use crate::cascade::model::{TokenBudget, TokenBudgetStrategy};
use crate::llm::types::estimated_tokens as estimate;
use crate::llm::{Message, Role};
use crate::runner::error::RunError;

/// What the budget asks for before a call.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Within budget (maybe with a warning past `warning_threshold`).
    Fits { warning: Option<String> },
    /// Use this shorter conversation.
    Trimmed(Vec<Message>),
    /// Summarize these messages (oldest first) into one, keep the rest.
    Summarize { drop: usize },
}

/// Apply the budget's strategy to `messages`.
pub fn apply(budget: &TokenBudget, messages: &[Message], phase: &str) -> Result<Verdict, RunError> {
    let Some(max_total) = budget.max_total else { return Ok(Verdict::Fits { warning: None }) };
    let limit = u64::from(max_total).saturating_sub(u64::from(budget.reserve_for_output.unwrap_or(0)));
    let used = estimate(messages);
    if used <= limit {
        let threshold = budget.warning_threshold.unwrap_or(1.0);
        let warning = (threshold < 1.0 && used as f64 > threshold * limit as f64)
            .then(|| format!("conversation uses about {used} of {limit} budgeted tokens"));
        return Ok(Verdict::Fits { warning });
    }
    // Never drop system messages or the last message (the current task or turn prompt).
    let droppable: Vec<usize> =
        (0..messages.len().saturating_sub(1)).filter(|&i| messages[i].role != Role::System).collect();
    match budget.strategy {
        TokenBudgetStrategy::Fail => Err(RunError::phase(
            phase,
            format!("the conversation needs about {used} tokens, over the token_budget of {limit} (strategy: fail)"),
        )),
        TokenBudgetStrategy::SlidingWindow | TokenBudgetStrategy::PruneOldest => {
            // sliding_window keeps the first task message; prune_oldest may drop it too.
            let keep_first_task = budget.strategy == TokenBudgetStrategy::SlidingWindow;
            let first_user = messages.iter().position(|m| m.role == Role::User);
            let mut dropped = vec![false; messages.len()];
            let mut total = used;
            for &i in &droppable {
                if total <= limit {
                    break;
                }
                if keep_first_task && Some(i) == first_user {
                    continue;
                }
                dropped[i] = true;
                total = total.saturating_sub(estimate(std::slice::from_ref(&messages[i])));
            }
            let kept: Vec<Message> =
                messages.iter().zip(&dropped).filter(|(_, d)| !**d).map(|(m, _)| m.clone()).collect();
            Ok(Verdict::Trimmed(kept))
        }
        TokenBudgetStrategy::Summarize => {
            let mut total = used;
            let mut drop = 0;
            for &i in &droppable {
                if total <= limit {
                    break;
                }
                total = total.saturating_sub(estimate(std::slice::from_ref(&messages[i])));
                drop = i + 1;
            }
            Ok(Verdict::Summarize { drop })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(strategy: TokenBudgetStrategy, max: u32) -> TokenBudget {
        TokenBudget {
            max_total: Some(max),
            reserve_for_output: Some(0),
            strategy,
            warning_threshold: None,
            summarizer: None,
        }
    }

    fn convo() -> Vec<Message> {
        vec![
            Message::system("sys"),
            Message::user("task ".repeat(20)),
            Message::assistant("a".repeat(400)),
            Message::user("b".repeat(400)),
            Message::user("latest"),
        ]
    }

    #[test]
    fn fits_and_trims() {
        assert_eq!(
            apply(&budget(TokenBudgetStrategy::SlidingWindow, 10_000), &convo(), "p").unwrap(),
            Verdict::Fits { warning: None }
        );
        let Verdict::Trimmed(kept) = apply(&budget(TokenBudgetStrategy::SlidingWindow, 80), &convo(), "p").unwrap()
        else {
            panic!()
        };
        assert_eq!(kept.first().unwrap().content, "sys");
        assert_eq!(kept.last().unwrap().content, "latest");
        assert!(kept.iter().any(|m| m.content.starts_with("task")), "sliding window keeps the task");
        assert!(estimate(&kept) <= 80 || kept.len() == 3);
        let Verdict::Trimmed(kept) = apply(&budget(TokenBudgetStrategy::PruneOldest, 60), &convo(), "p").unwrap()
        else {
            panic!()
        };
        assert!(!kept.iter().any(|m| m.content.starts_with("task")));
    }

    #[test]
    fn fail_and_summarize() {
        assert!(apply(&budget(TokenBudgetStrategy::Fail, 50), &convo(), "p").is_err());
        let v = apply(&budget(TokenBudgetStrategy::Summarize, 80), &convo(), "p").unwrap();
        assert!(matches!(v, Verdict::Summarize { drop } if drop >= 2));
    }
}
