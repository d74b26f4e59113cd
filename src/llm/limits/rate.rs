//! Requests and tokens per minute: a sliding 60 s window of the requests started, shared by
//! every client of one endpoint and prefix in the process.
//!
//! A request is admitted when, counting it, the requests started in the last 60 s stay within
//! `rpm` and their tokens within `tpm`; otherwise it waits until enough of the window has
//! slid past. Its tokens are an estimate at admission (the prompt's size) and are corrected
//! with the usage the provider reports. A request larger than `tpm` on its own is admitted
//! into an empty window, so it waits but never forever.

use super::Cap;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The window's length.
pub const WINDOW: Duration = Duration::from_secs(60);

/// See the module docs.
#[derive(Debug)]
pub struct RateWindow {
    rpm: Option<u32>,
    tpm: Option<u32>,
    sent: Mutex<Sent>,
}

#[derive(Debug, Default)]
struct Sent {
    /// (started, ticket, tokens), oldest first.
    requests: VecDeque<(Instant, u64, u64)>,
    next_ticket: u64,
}

/// What [`RateWindow::try_admit`] decided.
#[derive(Debug, PartialEq)]
enum Verdict {
    Admitted(u64),
    Wait(Duration, Cap),
}

impl RateWindow {
    pub fn new(rpm: Option<u32>, tpm: Option<u32>) -> RateWindow {
        RateWindow { rpm, tpm, sent: Mutex::default() }
    }

    /// Wait until a request of `tokens` (estimated) fits; `on_wait` hears the limit the first
    /// time it has to wait. Returns the ticket for [`RateWindow::settle`].
    pub async fn admit(&self, tokens: u64, on_wait: impl Fn(Cap)) -> u64 {
        let mut told = false;
        loop {
            match self.try_admit(Instant::now(), tokens) {
                Verdict::Admitted(ticket) => return ticket,
                Verdict::Wait(wait, cap) => {
                    if !told {
                        on_wait(cap);
                        told = true;
                    }
                    tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
                }
            }
        }
    }

    /// Replace the estimate of an admitted request with the tokens it used.
    pub fn settle(&self, ticket: u64, tokens: u64) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = sent.requests.iter_mut().find(|(_, t, _)| *t == ticket) {
            entry.2 = tokens;
        }
    }

    fn try_admit(&self, now: Instant, tokens: u64) -> Verdict {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        while sent.requests.front().is_some_and(|(at, _, _)| now.duration_since(*at) >= WINDOW) {
            sent.requests.pop_front();
        }
        let expires = |at: Instant| (at + WINDOW).saturating_duration_since(now);
        if let Some(rpm) = self.rpm {
            let n = sent.requests.len();
            if n >= rpm as usize {
                // The request that must leave the window for this one to fit.
                return Verdict::Wait(expires(sent.requests[n - rpm as usize].0), Cap::RequestsPerMinute(rpm));
            }
        }
        if let Some(tpm) = self.tpm {
            let used: u64 = sent.requests.iter().map(|r| r.2).sum();
            if !sent.requests.is_empty() && used + tokens > tpm as u64 {
                let mut freed = 0;
                let mut until = Duration::ZERO;
                for (at, _, t) in &sent.requests {
                    freed += t;
                    until = expires(*at);
                    if used - freed + tokens <= tpm as u64 {
                        break;
                    }
                }
                return Verdict::Wait(until, Cap::TokensPerMinute(tpm));
            }
        }
        let ticket = sent.next_ticket;
        sent.next_ticket += 1;
        sent.requests.push_back((now, ticket, tokens));
        Verdict::Admitted(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_wait_for_the_window_to_slide() {
        let window = Arc::new(RateWindow::new(Some(2), None));
        let start = Instant::now();
        let heard = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..2 {
            window.admit(10, |_| panic!("the first two go at once")).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        let log = heard.clone();
        window.admit(10, move |cap| log.lock().unwrap().push(cap)).await;
        assert_eq!(start.elapsed(), WINDOW, "the third waits a whole window");
        assert_eq!(*heard.lock().unwrap(), [Cap::RequestsPerMinute(2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_per_minute_count_the_usage_reported_and_a_big_request_still_goes() {
        let window = RateWindow::new(None, Some(1000));
        let start = Instant::now();
        let first = window.admit(100, |_| panic!("fits")).await;
        // It used more than estimated: 900 of 1000.
        window.settle(first, 900);
        tokio::time::advance(Duration::from_secs(10)).await;
        let heard = Mutex::new(Vec::new());
        window.admit(200, |cap| heard.lock().unwrap().push(cap)).await;
        assert_eq!(start.elapsed(), WINDOW, "it waited until the first left the window");
        assert_eq!(*heard.lock().unwrap(), [Cap::TokensPerMinute(1000)]);
        // Alone in the window, a request larger than the whole limit is let through.
        tokio::time::advance(WINDOW).await;
        let t = Instant::now();
        window.admit(5000, |_| panic!("an empty window admits anything")).await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[test]
    fn the_wait_is_until_enough_requests_leave_the_window() {
        let window = RateWindow::new(Some(3), Some(100));
        let t0 = Instant::now();
        assert_eq!(window.try_admit(t0, 40), Verdict::Admitted(0));
        assert_eq!(window.try_admit(t0 + Duration::from_secs(20), 40), Verdict::Admitted(1));
        // 80 used; 50 more needs the first (40) to leave, at 60 s.
        let at = t0 + Duration::from_secs(30);
        assert_eq!(window.try_admit(at, 50), Verdict::Wait(Duration::from_secs(30), Cap::TokensPerMinute(100)));
        // 90 more needs both to leave: the second leaves at 80 s.
        assert_eq!(window.try_admit(at, 90), Verdict::Wait(Duration::from_secs(50), Cap::TokensPerMinute(100)));
        assert_eq!(window.try_admit(at, 10), Verdict::Admitted(2));
        assert_eq!(window.try_admit(at, 1), Verdict::Wait(Duration::from_secs(30), Cap::RequestsPerMinute(3)));
    }
}
