//! Adaptive concurrency per model (AIMD: additive increase, multiplicative
//! decrease), so a run backs off when a vendor rate-limits and creeps back
//! up when it stops, without the operator tuning limits per vendor.
//!
//! The limit starts at the configured maximum (or a chosen initial value),
//! halves on a rate limit (never below 1) and grows by one after `limit`
//! consecutive successes (never above the maximum). A lowered limit takes
//! effect at once for new permits; permits already out finish normally, and
//! no new one is handed out until enough of them are dropped.

use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// An AIMD concurrency limiter for one model. Cloning shares the limiter.
#[derive(Debug, Clone)]
pub struct AdaptiveLimiter {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    name: String,
    max: u32,
    state: Mutex<State>,
    /// Woken whenever a permit is released or the limit grows.
    released: Notify,
}

#[derive(Debug)]
struct State {
    limit: u32,
    in_flight: u32,
    /// Successes since the last change of the limit.
    successes: u32,
    /// Incremented on every decrease; a permit remembers the value it was
    /// acquired under (see [`Permit::rate_limited`]).
    decreases: u64,
}

impl AdaptiveLimiter {
    /// A limiter starting at `max` (clamped to at least 1). `name` is the
    /// model name used in log lines.
    pub fn new(name: impl Into<String>, max: u32) -> Self {
        let max = max.max(1);
        Self::with_initial(name, max, max)
    }

    /// A limiter starting at `initial` (clamped into `1..=max`), e.g. to probe a
    /// new vendor gently before growing to `max`.
    pub fn with_initial(name: impl Into<String>, max: u32, initial: u32) -> Self {
        let max = max.max(1);
        AdaptiveLimiter {
            shared: Arc::new(Shared {
                name: name.into(),
                max,
                state: Mutex::new(State {
                    limit: initial.clamp(1, max),
                    in_flight: 0,
                    successes: 0,
                    decreases: 0,
                }),
                released: Notify::new(),
            }),
        }
    }

    /// Waits until fewer than `current_limit()` permits are out, then takes one.
    /// The permit is given back when dropped. Cancel-safe: a dropped
    /// `acquire` future holds nothing.
    pub async fn acquire(&self) -> Permit {
        loop {
            // Register for a wake-up *before* checking, so a release between
            // the check and the await is not missed.
            let notified = self.shared.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.shared.lock();
                if state.in_flight < state.limit {
                    state.in_flight += 1;
                    return Permit {
                        shared: Arc::clone(&self.shared),
                        decreases_at_acquire: state.decreases,
                    };
                }
            }
            notified.await;
        }
    }

    /// The number of permits that may be out at once right now.
    pub fn current_limit(&self) -> u32 {
        self.shared.lock().limit
    }

    /// The configured maximum.
    pub fn max(&self) -> u32 {
        self.shared.max
    }

    /// Permits currently out.
    pub fn in_flight(&self) -> u32 {
        self.shared.lock().in_flight
    }

    /// The model name this limiter was created for.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Records a successful request: after `limit` successes in a row the
    /// limit grows by one, up to the maximum.
    pub fn record_success(&self) {
        self.shared.success();
    }

    /// Records a rate limit: the limit halves (rounding down, at least 1).
    /// Prefer [`Permit::rate_limited`], which does not halve again for
    /// requests that were already in flight when the limit dropped.
    pub fn record_rate_limited(&self) {
        self.shared.decrease(None);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters updated in single steps; a panic while
        // holding the lock cannot leave them half-changed, so keep going.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn success(&self) {
        let mut state = self.lock();
        state.successes += 1;
        if state.successes < state.limit {
            return;
        }
        state.successes = 0;
        if state.limit >= self.max {
            return;
        }
        let from = state.limit;
        state.limit += 1;
        let to = state.limit;
        drop(state);
        tracing::info!(model = %self.name, from, to, "concurrency raised after a run of successes");
        self.released.notify_waiters();
    }

    /// Halves the limit, unless `unless_lowered_since` is given and a decrease
    /// happened after that count was read (checked under the same lock, so two
    /// permits of one burst cannot both halve).
    fn decrease(&self, unless_lowered_since: Option<u64>) {
        let mut state = self.lock();
        if unless_lowered_since.is_some_and(|seen| seen != state.decreases) {
            return;
        }
        state.successes = 0;
        state.decreases += 1;
        let from = state.limit;
        state.limit = (from / 2).max(1);
        let to = state.limit;
        drop(state);
        if to != from {
            tracing::info!(model = %self.name, from, to, "concurrency lowered after a rate limit");
        }
    }

    fn release(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.released.notify_waiters();
    }
}

/// Permission to have one request in flight. Dropping it gives the slot back;
/// the consuming methods also report how the request went.
#[derive(Debug)]
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct Permit {
    shared: Arc<Shared>,
    decreases_at_acquire: u64,
}

impl Permit {
    /// Reports a success and releases the slot.
    pub fn succeeded(self) {
        self.shared.success();
    }

    /// Reports a rate limit and releases the slot. When the limit was already
    /// lowered after this permit was taken, the 429 belongs to the same burst
    /// that caused that decrease, so the limit is not halved again: without
    /// this, 32 requests rejected at once would take a limit of 32 down to 1.
    pub fn rate_limited(self) {
        self.shared.decrease(Some(self.decreases_at_acquire));
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.shared.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn halves_on_rate_limit_down_to_one() {
        let limiter = AdaptiveLimiter::new("m", 8);
        assert_eq!(limiter.current_limit(), 8);
        for expected in [4, 2, 1, 1] {
            limiter.record_rate_limited();
            assert_eq!(limiter.current_limit(), expected);
        }
    }

    #[tokio::test]
    async fn grows_by_one_after_limit_successes_up_to_max() {
        let limiter = AdaptiveLimiter::with_initial("m", 3, 1);
        assert_eq!(limiter.current_limit(), 1);
        limiter.record_success();
        assert_eq!(limiter.current_limit(), 2);
        limiter.record_success();
        assert_eq!(limiter.current_limit(), 2, "needs 2 successes at limit 2");
        limiter.record_success();
        assert_eq!(limiter.current_limit(), 3);
        for _ in 0..10 {
            limiter.record_success();
        }
        assert_eq!(limiter.current_limit(), 3, "never above max");
    }

    #[tokio::test]
    async fn a_rate_limit_resets_the_success_streak() {
        let limiter = AdaptiveLimiter::with_initial("m", 8, 4);
        for _ in 0..3 {
            limiter.record_success();
        }
        limiter.record_rate_limited();
        assert_eq!(limiter.current_limit(), 2);
        limiter.record_success();
        assert_eq!(limiter.current_limit(), 2);
        limiter.record_success();
        assert_eq!(limiter.current_limit(), 3);
    }

    #[tokio::test]
    async fn a_burst_of_429s_from_one_window_halves_once() {
        let limiter = AdaptiveLimiter::new("m", 8);
        let permits: Vec<Permit> = acquire_n(&limiter, 8).await;
        for p in permits {
            p.rate_limited();
        }
        assert_eq!(limiter.current_limit(), 4);
        // A request started after the decrease counts again.
        let p = limiter.acquire().await;
        p.rate_limited();
        assert_eq!(limiter.current_limit(), 2);
    }

    async fn acquire_n(limiter: &AdaptiveLimiter, n: usize) -> Vec<Permit> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(limiter.acquire().await);
        }
        out
    }

    #[tokio::test]
    async fn permits_block_at_the_limit_and_release_on_drop() {
        let limiter = AdaptiveLimiter::new("m", 2);
        let a = limiter.acquire().await;
        let _b = limiter.acquire().await;
        assert_eq!(limiter.in_flight(), 2);
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(third.is_err(), "a third permit must wait");
        assert_eq!(limiter.in_flight(), 2, "a cancelled acquire holds nothing");
        drop(a);
        let c = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(c.is_ok(), "a dropped permit frees a slot");
    }

    #[tokio::test]
    async fn a_lowered_limit_stops_new_permits_until_enough_drop() {
        let limiter = AdaptiveLimiter::new("m", 4);
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(limiter.acquire().await);
        }
        limiter.record_rate_limited(); // limit 2, 4 in flight
        held.pop();
        held.pop(); // 2 in flight: still at the limit
        let blocked = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(blocked.is_err());
        held.pop(); // 1 in flight
        let ok = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
        assert!(ok.is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_tasks_never_exceed_the_limit() {
        let limiter = AdaptiveLimiter::new("m", 3);
        let active = Arc::new(AtomicU32::new(0));
        let peak = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..24 {
            let (limiter, active, peak) = (limiter.clone(), Arc::clone(&active), Arc::clone(&peak));
            tasks.push(tokio::spawn(async move {
                let permit = limiter.acquire().await;
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                active.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(peak.load(Ordering::SeqCst), 3, "the limit is actually used");
        assert_eq!(limiter.in_flight(), 0);
    }
}
