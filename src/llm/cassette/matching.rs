//! Which recorded exchange answers a request. The key is the request hash plus an occurrence
//! counter, so identical requests (soundings, retries of a phase) replay in recorded order.
//!
//! Parallel soundings may send identical requests at the same time, and which of them arrives
//! first is up to the scheduler. So the occurrence is counted per call site as well (phase,
//! sounding index, depth, cascade-level attempt): sounding 2's first call takes the first unused exchange with that
//! hash *recorded for sounding 2*, whatever order the attempts run in. Only when no exchange of
//! that site is left (a cascade edited between record and replay, calls answered from the
//! session log on resume) does any unused exchange with the same hash serve, in file order.
//! Within one site calls are sequential (turns), so this order is the recorded one.

use super::diff;
use super::file::Exchange;
use super::site::CallSite;
use crate::llm::ChatRequest;
use std::collections::HashMap;

/// The exchanges of a cassette and what this process has used of them.
#[derive(Debug, Default)]
pub struct Reel {
    pub exchanges: Vec<Exchange>,
    used: Vec<bool>,
    /// Model calls made so far at each call site: the next one's turn is this plus one.
    turns: HashMap<CallSite, u32>,
}

fn same_site(e: &Exchange, site: &CallSite) -> bool {
    e.phase == site.phase && e.sounding == site.sounding && e.depth == site.depth && e.attempt == site.attempt
}

impl Reel {
    pub fn new(exchanges: Vec<Exchange>) -> Reel {
        Reel { used: vec![false; exchanges.len()], exchanges, turns: HashMap::new() }
    }

    /// Count a call at `site` and return its turn (1 for the first).
    pub fn next_turn(&mut self, site: &CallSite) -> u32 {
        let n = self.turns.entry(site.clone()).or_default();
        *n += 1;
        *n
    }

    /// The recorded exchange for this request, used once.
    pub fn take(&mut self, hash: &str, site: &CallSite) -> Option<&Exchange> {
        let unused = |i: &usize| !self.used[*i] && self.exchanges[*i].hash == hash;
        let at_site = (0..self.exchanges.len()).filter(unused).find(|&i| same_site(&self.exchanges[i], site));
        let i = at_site.or_else(|| (0..self.exchanges.len()).find(unused))?;
        self.used[i] = true;
        Some(&self.exchanges[i])
    }

    /// Add a new exchange; its occurrence number follows those of the same hash.
    pub fn record(&mut self, mut exchange: Exchange) {
        let before = self.exchanges.iter().filter(|e| e.hash == exchange.hash).count();
        exchange.occurrence = before as u32 + 1;
        self.exchanges.push(exchange);
        self.used.push(true);
    }

    pub fn used(&self) -> usize {
        self.used.iter().filter(|u| **u).count()
    }

    /// The recorded exchange most like `request` from `site` at `turn`: the same site and turn
    /// if there is one, else the one whose request differs least.
    pub fn closest(&self, request: &ChatRequest, site: &CallSite, turn: u32) -> Option<&Exchange> {
        let rank = |e: &Exchange| {
            let place = if same_site(e, site) && e.turn == turn {
                0
            } else if e.phase == site.phase {
                1
            } else {
                2
            };
            (place, diff::distance(&e.request, request))
        };
        self.exchanges.iter().min_by_key(|e| rank(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::cassette::file::Answer;
    use crate::llm::{Message, Usage};

    fn ex(hash: &str, sounding: Option<u32>, content: &str) -> Exchange {
        Exchange {
            hash: hash.into(),
            occurrence: 1,
            phase: "p".into(),
            turn: 1,
            sounding,
            depth: 0,
            attempt: None,
            request: ChatRequest {
                model: "m".into(),
                messages: vec![Message::user(content)],
                tools: Vec::new(),
                temperature: None,
                max_tokens: None,
            },
            response: Answer {
                model: "m".into(),
                content: content.into(),
                tool_calls: Vec::new(),
                finish_reason: None,
            },
            usage: Usage::default(),
        }
    }

    fn site(sounding: Option<u32>) -> CallSite {
        CallSite { phase: "p".into(), sounding, depth: 0, attempt: None }
    }

    #[test]
    fn identical_requests_of_parallel_soundings_get_their_own_answers_in_any_order() {
        let mut reel = Reel::new(vec![ex("h", Some(0), "zero"), ex("h", Some(1), "one"), ex("h", Some(2), "two")]);
        // Sounding 2 asks first, then 0, then 1: each gets what it was answered when recorded.
        assert_eq!(reel.take("h", &site(Some(2))).unwrap().response.content, "two");
        assert_eq!(reel.take("h", &site(Some(0))).unwrap().response.content, "zero");
        assert_eq!(reel.take("h", &site(Some(1))).unwrap().response.content, "one");
        assert!(reel.take("h", &site(Some(1))).is_none(), "each exchange serves once");
    }

    #[test]
    fn repeated_requests_replay_in_order_and_other_sites_fall_back_by_hash() {
        let mut reel = Reel::new(vec![ex("h", None, "first"), ex("h", None, "second"), ex("x", Some(4), "elsewhere")]);
        assert_eq!(reel.take("h", &site(None)).unwrap().response.content, "first");
        assert_eq!(reel.take("h", &site(None)).unwrap().response.content, "second");
        assert_eq!(reel.take("x", &site(None)).unwrap().response.content, "elsewhere");
        assert_eq!(reel.next_turn(&site(None)), 1);
        assert_eq!(reel.next_turn(&site(None)), 2);
        assert_eq!(reel.next_turn(&site(Some(1))), 1);
    }

    #[test]
    fn recorded_exchanges_number_their_occurrences() {
        let mut reel = Reel::new(vec![ex("h", None, "a")]);
        reel.record(ex("h", None, "b"));
        reel.record(ex("k", None, "c"));
        let occ: Vec<u32> = reel.exchanges.iter().map(|e| e.occurrence).collect();
        assert_eq!(occ, [1, 2, 1]);
    }
}
