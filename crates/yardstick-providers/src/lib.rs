//! Providers: one trait, several wire protocols.
//!
//! A [`Provider`] makes exactly one try. Retries, backoff and adaptive
//! concurrency live in one place ([`retry`], [`concurrency`]) and wrap every
//! provider alike, so a new protocol only has to map its replies and failures
//! onto [`ChatResponse`] and [`ErrorClass`].

use async_trait::async_trait;
pub use yardstick_core::{ChatRequest, ChatResponse, ErrorClass, ProviderError};

/// One try at a chat completion. Implementations classify every failure; they
/// never retry and never sleep.
#[async_trait]
pub trait Provider: Send + Sync {
    async fn send(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError>;
}
