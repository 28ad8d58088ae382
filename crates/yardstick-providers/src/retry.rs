//! Retries for every provider alike: transient failures are tried again with
//! exponential backoff and full jitter, deterministic ones never are.
//!
//! Full jitter (a uniform delay between zero and the exponential bound)
//! spreads the retries of many concurrent requests, so a burst rejected
//! together does not come back together. A server's `Retry-After` is a floor
//! on the delay: retrying earlier would only earn another 429.

use crate::concurrency::AdaptiveLimiter;
use crate::Provider;
use rand::Rng;
use std::time::{Duration, Instant};
use yardstick_core::{ChatRequest, ChatResponse, ErrorClass, ModelSpec, ProviderError};

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries after the first one (so at most `max_retries + 1` tries).
    pub max_retries: u32,
    /// Upper bound of the first retry's delay; doubles with every retry.
    pub base_delay: Duration,
    /// Cap of the exponential bound.
    pub max_delay: Duration,
    /// Cap on how long a server's `Retry-After` can make us wait, so a
    /// misbehaving server cannot stall a run for an hour.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    pub const DEFAULT_MAX_RETRIES: u32 = 4;
    pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(500);
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

    /// The default delays with the given number of retries.
    pub fn new(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            base_delay: Self::DEFAULT_BASE_DELAY,
            max_delay: Self::DEFAULT_MAX_DELAY,
            max_retry_after: Self::DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// The policy of a configured model: its `max_retries`, default delays.
    pub fn for_model(spec: &ModelSpec) -> Self {
        Self::new(spec.max_retries)
    }

    /// The upper bound of the jittered delay before retry number `retry`
    /// (1 for the first retry): `base_delay × 2^(retry−1)`, capped at `max_delay`.
    pub fn backoff_bound(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(62) as i32;
        let bound = self.base_delay.as_secs_f64() * 2f64.powi(exponent);
        Duration::from_secs_f64(bound.min(self.max_delay.as_secs_f64()))
    }

    /// The delay before retry number `retry` after `error`: a uniform draw
    /// below [`backoff_bound`](Self::backoff_bound), raised to the server's
    /// `Retry-After` (capped at `max_retry_after`) when it gave one.
    pub fn delay(&self, retry: u32, error: &ProviderError, rng: &mut impl Rng) -> Duration {
        let jittered = self.backoff_bound(retry).mul_f64(rng.gen::<f64>());
        match error.retry_after_secs {
            Some(secs) if secs.is_finite() && secs > 0.0 => {
                let floor = Duration::from_secs_f64(secs.min(self.max_retry_after.as_secs_f64()));
                jittered.max(floor)
            }
            _ => jittered,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_RETRIES)
    }
}

/// The outcome of a request after all its tries.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The last try's result.
    pub result: Result<ChatResponse, ProviderError>,
    /// Tries made, at least 1.
    pub tries: u32,
    /// Duration of the last try alone (no backoff, no wait for a permit), so
    /// it measures the vendor, not our own queueing.
    pub latency: Duration,
}

/// Sends `request`, retrying failures whose class
/// [is retryable](ErrorClass::is_retryable) up to `policy.max_retries` times.
///
/// With a `limiter`, each try holds one permit only while it is in flight
/// (never while backing off) and reports its outcome: a success may grow the
/// limit, a rate limit halves it.
pub async fn send_with_retries(
    provider: &dyn Provider,
    request: &ChatRequest,
    policy: &RetryPolicy,
    limiter: Option<&AdaptiveLimiter>,
) -> Sent {
    let mut tries = 0;
    loop {
        let permit = match limiter {
            Some(limiter) => Some(limiter.acquire().await),
            None => None,
        };
        tries += 1;
        let started = Instant::now();
        let result = provider.send(request).await;
        let latency = started.elapsed();

        if let Some(permit) = permit {
            match &result {
                Ok(_) => permit.succeeded(),
                Err(e) if e.class == ErrorClass::RateLimited => permit.rate_limited(),
                Err(_) => drop(permit),
            }
        }

        let error = match &result {
            Err(e) if e.class.is_retryable() && tries <= policy.max_retries => e,
            _ => {
                return Sent {
                    result,
                    tries,
                    latency,
                }
            }
        };
        let delay = policy.delay(tries, error, &mut rand::thread_rng());
        tracing::debug!(
            model = %request.model,
            class = %error.class,
            try_number = tries,
            delay_ms = delay.as_millis() as u64,
            "retrying after a transient failure: {}",
            error.message
        );
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use rand::rngs::mock::StepRng;
    use std::sync::Mutex;
    use yardstick_core::{Message, Usage};

    /// Replies from a script, one per try; the last one repeats.
    struct Scripted {
        replies: Mutex<Vec<Result<ChatResponse, ProviderError>>>,
        calls: Mutex<u32>,
    }

    impl Scripted {
        fn new(mut replies: Vec<Result<ChatResponse, ProviderError>>) -> Self {
            replies.reverse();
            Scripted {
                replies: Mutex::new(replies),
                calls: Mutex::new(0),
            }
        }
    }

    #[async_trait]
    impl Provider for Scripted {
        async fn send(&self, _request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
            *self.calls.lock().unwrap() += 1;
            let mut replies = self.replies.lock().unwrap();
            if replies.len() > 1 {
                replies.pop().unwrap()
            } else {
                replies[0].clone()
            }
        }
    }

    fn ok() -> Result<ChatResponse, ProviderError> {
        Ok(ChatResponse {
            text: "ok".into(),
            usage: Usage::default(),
            finish_reason: None,
            model: None,
        })
    }

    fn err(class: ErrorClass) -> Result<ChatResponse, ProviderError> {
        Err(ProviderError::new(class, "scripted"))
    }

    fn request() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![Message::user("hi")],
            temperature: None,
            top_p: None,
            max_tokens: None,
            seed: None,
            stop: vec![],
        }
    }

    fn fast(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::new(max_retries)
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_bound(1), Duration::from_millis(500));
        assert_eq!(p.backoff_bound(2), Duration::from_secs(1));
        assert_eq!(p.backoff_bound(4), Duration::from_secs(4));
        assert_eq!(p.backoff_bound(10), Duration::from_secs(30));
        assert_eq!(p.backoff_bound(1000), Duration::from_secs(30));
    }

    #[test]
    fn delay_is_jittered_below_the_bound_and_respects_retry_after() {
        let p = RetryPolicy::default();
        let mut rng = rand::thread_rng();
        let plain = ProviderError::new(ErrorClass::ServerError, "x");
        for retry in 1..8 {
            assert!(p.delay(retry, &plain, &mut rng) <= p.backoff_bound(retry));
        }
        // A zero draw shows the floor alone.
        let mut zero = StepRng::new(0, 0);
        let mut limited = ProviderError::new(ErrorClass::RateLimited, "x");
        limited.retry_after_secs = Some(7.0);
        assert_eq!(p.delay(1, &limited, &mut zero), Duration::from_secs(7));
        limited.retry_after_secs = Some(3600.0);
        assert_eq!(p.delay(1, &limited, &mut zero), p.max_retry_after);
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let provider = Scripted::new(vec![
            err(ErrorClass::ServerError),
            err(ErrorClass::Timeout),
            ok(),
        ]);
        let sent = send_with_retries(&provider, &request(), &fast(4), None).await;
        assert!(sent.result.is_ok());
        assert_eq!(sent.tries, 3);
    }

    #[tokio::test]
    async fn retries_stop_at_the_limit() {
        let provider = Scripted::new(vec![err(ErrorClass::Connection)]);
        let sent = send_with_retries(&provider, &request(), &fast(2), None).await;
        assert_eq!(sent.result.unwrap_err().class, ErrorClass::Connection);
        assert_eq!(sent.tries, 3);
        let sent = send_with_retries(&provider, &request(), &fast(0), None).await;
        assert_eq!(sent.tries, 1);
    }

    #[tokio::test]
    async fn deterministic_failures_are_not_retried() {
        for class in [
            ErrorClass::BadRequest,
            ErrorClass::Auth,
            ErrorClass::ContentFilter,
        ] {
            let provider = Scripted::new(vec![err(class), ok()]);
            let sent = send_with_retries(&provider, &request(), &fast(4), None).await;
            assert_eq!(sent.result.unwrap_err().class, class);
            assert_eq!(sent.tries, 1);
        }
    }

    #[tokio::test]
    async fn the_limiter_hears_about_rate_limits_and_successes() {
        let limiter = AdaptiveLimiter::new("m", 8);
        let provider = Scripted::new(vec![err(ErrorClass::RateLimited), ok()]);
        let sent = send_with_retries(&provider, &request(), &fast(3), Some(&limiter)).await;
        assert!(sent.result.is_ok());
        assert_eq!(sent.tries, 2);
        assert_eq!(limiter.current_limit(), 4);
        assert_eq!(limiter.in_flight(), 0, "no permit is kept");
    }
}
