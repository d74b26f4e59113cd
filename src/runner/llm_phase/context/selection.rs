//! `mode: auto`: ranking earlier messages and keeping those that fit the budget.
//!
//! The heuristic is deterministic. Each candidate message gets
//! `0.4 × keyword overlap + 0.3 × recency + 0.3 × callout`, where
//!
//! - keyword overlap is the share of the instructions' keywords the message contains
//!   (keywords: lowercased runs of letters and digits of four or more characters, without a
//!   short list of common English words);
//! - recency is `(i + 1) / n` for the i-th of n candidates, oldest first;
//! - callout is 1 when the message's text was called out by a phase (`callouts`), else 0.
//!
//! Candidates are taken best score first (a tie goes to the newer message) while they fit
//! the remaining token estimate ([`crate::llm::types::estimated_tokens`]) and the
//! message limit; one that does not fit is passed over for smaller ones after it.

use crate::llm::Message;
use std::collections::BTreeSet;

/// One earlier message that selection may keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub phase: String,
    pub message: Message,
    /// Its text was called out by a phase.
    pub called_out: bool,
}

impl Candidate {
    pub fn tokens(&self) -> u64 {
        self.message.estimated_tokens()
    }
}

/// What selection may keep: estimated tokens and a number of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub tokens: u64,
    pub messages: usize,
}

const KEYWORD_WEIGHT: f64 = 0.4;
const RECENCY_WEIGHT: f64 = 0.3;
const CALLOUT_WEIGHT: f64 = 0.3;

const STOPWORDS: &[&str] = &[
    "about", "after", "also", "been", "before", "being", "between", "both", "each", "from", "have", "here", "into",
    "just", "like", "make", "more", "most", "much", "only", "other", "over", "should", "some", "such", "than", "that",
    "their", "them", "then", "there", "these", "they", "this", "those", "through", "very", "were", "what", "when",
    "where", "which", "while", "will", "with", "would", "your",
];

/// The keywords of a text.
pub fn keywords(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// The heuristic score of each candidate, in candidate order.
pub fn scores(candidates: &[Candidate], instructions: &str) -> Vec<f64> {
    let wanted = keywords(instructions);
    let n = candidates.len() as f64;
    candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let overlap = if wanted.is_empty() {
                0.0
            } else {
                keywords(&c.message.content).intersection(&wanted).count() as f64 / wanted.len() as f64
            };
            let recency = (i + 1) as f64 / n;
            let callout = if c.called_out { 1.0 } else { 0.0 };
            KEYWORD_WEIGHT * overlap + RECENCY_WEIGHT * recency + CALLOUT_WEIGHT * callout
        })
        .collect()
}

/// Candidate indices, best heuristic score first (a tie goes to the newer).
pub fn ranked(candidates: &[Candidate], instructions: &str) -> Vec<usize> {
    let scores = scores(candidates, instructions);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(b.cmp(&a)));
    order
}

/// Take indices in the given order of preference while they fit; the kept ones, sorted.
pub fn fit(candidates: &[Candidate], preference: &[usize], limits: Limits) -> Vec<usize> {
    let mut left = limits.tokens;
    let mut kept = Vec::new();
    for &i in preference {
        if kept.len() >= limits.messages {
            break;
        }
        let t = candidates[i].tokens();
        if t <= left && !kept.contains(&i) {
            left -= t;
            kept.push(i);
        }
    }
    kept.sort_unstable();
    kept
}

/// The heuristic strategy: the best-ranked candidates that fit.
pub fn heuristic(candidates: &[Candidate], instructions: &str, limits: Limits) -> Vec<usize> {
    fit(candidates, &ranked(candidates, instructions), limits)
}

/// Whether every candidate fits: then there is nothing to choose.
pub fn all_fit(candidates: &[Candidate], limits: Limits) -> bool {
    candidates.len() <= limits.messages && candidates.iter().map(Candidate::tokens).sum::<u64>() <= limits.tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str, called_out: bool) -> Candidate {
        Candidate { phase: "p".into(), message: Message::assistant(text), called_out }
    }

    #[test]
    fn keywords_skip_short_and_common_words() {
        let k: Vec<String> = keywords("The Owls, which hunt at NIGHT, with 270-degree necks").into_iter().collect();
        assert_eq!(k, ["degree", "hunt", "necks", "night", "owls"]);
    }

    #[test]
    fn overlap_beats_recency_and_callouts_count() {
        let cands = [c("owls hunt mice at night", false), c("weather report", false), c("unrelated", true)];
        // Keywords tell, owls, night. First: 0.4*2/3 + 0.3*1/3 = 0.37; callout: 0.3 + 0.3 = 0.6;
        // weather: 0.3*2/3 = 0.2.
        assert_eq!(ranked(&cands, "Tell me about owls at night"), [2, 0, 1]);
    }

    #[test]
    fn fit_passes_over_what_is_too_big_and_keeps_order() {
        let cands = [c("small", false), c(&"big ".repeat(100), false), c("tiny", false)];
        let limits = Limits { tokens: 12, messages: 10 };
        assert_eq!(fit(&cands, &[1, 2, 0], limits), [0, 2]);
        assert_eq!(fit(&cands, &[2, 0], Limits { tokens: 100, messages: 1 }), [2]);
        assert!(!all_fit(&cands, limits));
    }
}
