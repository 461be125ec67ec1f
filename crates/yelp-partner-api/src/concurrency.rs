//! An adaptive limit on the requests of a listing in flight at once, so that a sync finds how many requests
//! Yelp serves in parallel for an account (contract §13: about ten slots) instead of a fixed number.
//!
//! The window is probed like TCP's: it grows while answers take about the shortest time seen (Yelp keeps up),
//! by half while Yelp serves a full window at once without queueing and then one at a time, and it shrinks
//! when answers take longer (requests wait at Yelp), on 429 and on 5xx. When answers slow down the window
//! drops to the most requests Yelp was seen serving at once with prompt answers (counted from when each was
//! sent and answered), plus one to keep a slot busy across the gap between an answer and the next request. It never exceeds its ceiling. The window only
//! bounds how many requests are out: each attempt still waits for the client's rate limit, retries included.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How much longer than the shortest answer an answer may take and still count as unqueued: a tenth, plus
/// 3 ms so that the jitter of a fast local server is not read as queueing.
const PROMPT_FACTOR: f64 = 1.1;
const PROMPT_SLACK: Duration = Duration::from_millis(3);

/// How one request of the window ended, as the window learns from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered (any status but 429 and 5xx): the attempt was sent at `sent` and took `rtt`.
    Answered {
        /// When the attempt that was answered went out.
        sent: Instant,
        /// How long Yelp took to answer it.
        rtt: Duration,
    },
    /// 429 or 5xx, after retries or not: Yelp is overloaded; the window halves.
    Overloaded,
    /// Anything else (transport error, request dropped): nothing learned.
    Ignored,
}

/// The window. Shared by the tasks of one listing.
#[derive(Debug)]
pub struct AdaptiveWindow {
    state: Mutex<State>,
    freed: Notify,
}

#[derive(Debug)]
struct State {
    limit: usize,
    ceiling: usize,
    in_flight: usize,
    max_in_flight: usize,
    /// Shortest answer seen.
    min_rtt: Option<Duration>,
    /// Still doubling: no sign of queueing yet.
    slow_start: bool,
    /// Most prompt answers seen served at once, since the last overload.
    prompt_at: usize,
    /// Recent prompt answers, as (sent, answered), to count how many Yelp served at once.
    prompt: VecDeque<(Instant, Instant)>,
}

/// One request's place in the window; give it back with [`AdaptiveWindow::complete`]. Dropped without that,
/// it frees its place and teaches nothing.
#[derive(Debug)]
pub struct Ticket<'a> {
    window: &'a AdaptiveWindow,
    /// Requests in flight when this one started, itself included.
    in_flight_at_start: usize,
    done: bool,
}

impl AdaptiveWindow {
    /// A window starting at `initial` requests, never above `ceiling` (both at least 1).
    pub fn new(initial: usize, ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Self {
            state: Mutex::new(State {
                limit: initial.clamp(1, ceiling),
                ceiling,
                in_flight: 0,
                max_in_flight: 0,
                min_rtt: None,
                slow_start: true,
                prompt_at: 0,
                prompt: VecDeque::new(),
            }),
            freed: Notify::new(),
        }
    }

    /// Requests that may be in flight now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// The most requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// The shortest answer seen.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.lock().min_rtt
    }

    /// Waits until the window has room, then takes a place in it.
    pub async fn acquire(&self) -> Ticket<'_> {
        loop {
            let notified = self.freed.notified();
            tokio::pin!(notified);
            // Registered before the check, so that a place freed in between wakes us.
            notified.as_mut().enable();
            if let Some(n) = self.try_take() {
                return Ticket {
                    window: self,
                    in_flight_at_start: n,
                    done: false,
                };
            }
            notified.await;
        }
    }

    fn try_take(&self) -> Option<usize> {
        let mut s = self.lock();
        if s.in_flight >= s.limit {
            return None;
        }
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        Some(s.in_flight)
    }

    /// Ends a request and adjusts the window by how it went.
    pub fn complete(&self, mut ticket: Ticket<'_>, outcome: Outcome) {
        ticket.done = true;
        let n = ticket.in_flight_at_start;
        {
            let mut s = self.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            s.learn(n, outcome);
        }
        self.freed.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn learn(&mut self, n: usize, outcome: Outcome) {
        match outcome {
            Outcome::Ignored => {}
            Outcome::Overloaded => {
                self.slow_start = false;
                self.limit = (self.limit / 2).max(1);
                self.prompt_at = 0;
                self.prompt.clear();
            }
            Outcome::Answered { sent, rtt } => {
                let min = *self.min_rtt.get_or_insert(rtt);
                let min = min.min(rtt);
                self.min_rtt = Some(min);
                let prompt = rtt <= min.mul_f64(PROMPT_FACTOR) + PROMPT_SLACK;
                if prompt {
                    let answered = sent + rtt;
                    // A prompt answer's request was being served all along: those answered already that
                    // were being served at its midpoint were served alongside it. (A prompt request was sent
                    // at most about one shortest answer ago, so older ones cannot have overlapped it.)
                    let midpoint = sent + rtt / 2;
                    let horizon = min.saturating_mul(3) + PROMPT_SLACK;
                    self.prompt
                        .retain(|&(_, done)| answered.saturating_duration_since(done) <= horizon);
                    let alongside = self
                        .prompt
                        .iter()
                        .filter(|&&(from, done)| from <= midpoint && done >= midpoint)
                        .count();
                    self.prompt.push_back((sent, answered));
                    let served_at_once = alongside + 1;
                    self.prompt_at = self.prompt_at.max(served_at_once);
                    // Only Yelp serving the whole window at once shows that it keeps up with it.
                    if served_at_once >= self.limit {
                        // By half, not double: a window that Yelp's slots just fit would otherwise queue
                        // as many requests as it has before the first queued answer comes back.
                        self.limit = if self.slow_start {
                            self.limit + self.limit.div_ceil(2)
                        } else {
                            self.limit + 1
                        };
                    }
                } else {
                    self.slow_start = false;
                    let estimate = if self.prompt_at > 0 {
                        self.prompt_at + 1
                    } else {
                        // No prompt answer yet: the slots that would serve this many at this delay.
                        let slots = n as f64 * min.as_secs_f64() / rtt.as_secs_f64().max(1e-9);
                        slots.ceil() as usize + 1
                    };
                    self.limit = self.limit.min(estimate).max(1);
                }
            }
        }
        self.limit = self.limit.clamp(1, self.ceiling);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.done {
            {
                let mut s = self.window.lock();
                s.in_flight = s.in_flight.saturating_sub(1);
            }
            self.window.freed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Runs a burst: takes `count` places at once, all sent at `sent`, then completes each in turn with
    /// `outcome(i, sent)`.
    async fn burst(
        window: &AdaptiveWindow,
        count: usize,
        sent: Instant,
        outcome: impl Fn(usize, Instant) -> Outcome,
    ) {
        let mut tickets = Vec::new();
        for _ in 0..count {
            tickets.push(window.acquire().await);
        }
        for (i, ticket) in tickets.into_iter().enumerate() {
            window.complete(ticket, outcome(i, sent));
        }
    }

    fn after(rtt: Duration) -> impl Fn(usize, Instant) -> Outcome {
        move |_, sent| Outcome::Answered { sent, rtt }
    }

    #[tokio::test]
    async fn grows_while_latency_stays_flat() {
        let t0 = Instant::now();
        let window = AdaptiveWindow::new(4, 64);
        burst(&window, 4, t0, after(250 * MS)).await;
        assert_eq!(
            window.limit(),
            6,
            "grows by half after a full window served at once"
        );
        burst(&window, 6, t0 + 1000 * MS, after(252 * MS)).await;
        assert_eq!(window.limit(), 9);
    }

    #[tokio::test]
    async fn a_partly_used_window_does_not_grow() {
        let window = AdaptiveWindow::new(8, 64);
        burst(&window, 3, Instant::now(), after(250 * MS)).await;
        assert_eq!(window.limit(), 8);
    }

    #[tokio::test]
    async fn shrinks_to_the_slots_when_answers_queue() {
        // Ten slots of 250 ms: of 16 sent at once, ten answer in 250 ms and six wait for a second turn.
        let t0 = Instant::now();
        let window = AdaptiveWindow::new(16, 64);
        burst(&window, 16, t0, |i, sent| Outcome::Answered {
            sent,
            rtt: if i < 10 { 250 * MS } else { 500 * MS },
        })
        .await;
        assert_eq!(window.limit(), 11, "the ten served at once, plus one");
        // No doubling any more: a full window served at once adds one.
        burst(&window, 11, t0 + 1000 * MS, after(250 * MS)).await;
        assert_eq!(window.limit(), 12);
    }

    #[tokio::test]
    async fn the_slots_are_counted_from_the_answers_served_at_once_not_from_the_requests_in_flight()
    {
        // 16 sent at once to four slots of 30 ms; the four served first were the last four taken.
        let t0 = Instant::now();
        let window = AdaptiveWindow::new(16, 64);
        let mut tickets: Vec<_> = Vec::new();
        for _ in 0..16 {
            tickets.push(window.acquire().await);
        }
        let late = tickets.split_off(12);
        for ticket in late {
            window.complete(
                ticket,
                Outcome::Answered {
                    sent: t0,
                    rtt: 30 * MS,
                },
            );
        }
        assert_eq!(
            window.limit(),
            16,
            "four served at once do not fill the window"
        );
        for (i, ticket) in tickets.into_iter().enumerate() {
            let rtt = 30 * MS * (2 + i as u32 / 4);
            window.complete(ticket, Outcome::Answered { sent: t0, rtt });
        }
        assert_eq!(window.limit(), 5, "the four slots, plus one");
    }

    #[tokio::test]
    async fn a_burst_sent_a_moment_apart_counts_whole_whatever_order_it_comes_back_in() {
        // Ten sent 0.1 ms apart, all served at once, answered last-sent first.
        let t0 = Instant::now();
        let window = AdaptiveWindow::new(10, 64);
        let mut tickets = Vec::new();
        for _ in 0..10 {
            tickets.push(window.acquire().await);
        }
        for (i, ticket) in tickets.into_iter().enumerate().rev() {
            let sent = t0 + Duration::from_micros(100 * i as u64);
            window.complete(
                ticket,
                Outcome::Answered {
                    sent,
                    rtt: 250 * MS,
                },
            );
        }
        assert_eq!(
            window.limit(),
            15,
            "Yelp kept up with the whole window: it grows by half"
        );
    }

    #[tokio::test]
    async fn without_a_prompt_answer_the_slots_are_estimated_from_the_delay() {
        let window = AdaptiveWindow::new(32, 64);
        window.lock().min_rtt = Some(100 * MS);
        let mut tickets = Vec::new();
        for _ in 0..32 {
            tickets.push(window.acquire().await);
        }
        let last = tickets.pop().unwrap();
        // 32 in flight, answered in four times the shortest: about eight slots.
        window.complete(
            last,
            Outcome::Answered {
                sent: Instant::now(),
                rtt: 400 * MS,
            },
        );
        assert_eq!(window.limit(), 9);
    }

    #[tokio::test]
    async fn halves_on_429_and_5xx() {
        let window = AdaptiveWindow::new(16, 64);
        let overloaded = |_, _| Outcome::Overloaded;
        burst(&window, 1, Instant::now(), overloaded).await;
        assert_eq!(window.limit(), 8);
        for _ in 0..4 {
            burst(&window, 1, Instant::now(), overloaded).await;
        }
        assert_eq!(window.limit(), 1, "never below one");
        // After an overload, growth is one at a time.
        burst(&window, 1, Instant::now(), after(10 * MS)).await;
        assert_eq!(window.limit(), 2);
    }

    #[tokio::test]
    async fn never_exceeds_the_ceiling() {
        let t0 = Instant::now();
        let window = AdaptiveWindow::new(100, 12);
        assert_eq!(window.limit(), 12);
        for round in 0..5 {
            burst(&window, 12, t0 + 1000 * MS * round, after(MS)).await;
        }
        assert_eq!(window.limit(), 12);
        assert_eq!(window.max_in_flight(), 12);
    }

    #[tokio::test]
    async fn a_full_window_makes_the_next_request_wait_for_a_place() {
        let window = std::sync::Arc::new(AdaptiveWindow::new(2, 2));
        let a = window.acquire().await;
        let b = window.acquire().await;
        let waiting = {
            let window = window.clone();
            tokio::spawn(async move {
                let ticket = window.acquire().await;
                window.complete(ticket, Outcome::Ignored);
            })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(a);
        waiting.await.unwrap();
        window.complete(b, Outcome::Ignored);
        assert_eq!(window.max_in_flight(), 2);
        assert_eq!(window.limit(), 2);
    }
}
