//! Providers: one trait, several wire protocols.
//!
//! A [`Provider`] makes exactly one try. Retries, backoff and adaptive
//! concurrency live in one place ([`retry`], [`concurrency`]) and wrap every
//! provider alike, so a new protocol only has to map its replies and failures
//! onto [`ChatResponse`] and [`ErrorClass`].
//!
//! - [`openai`]: OpenAI-compatible chat completions (OpenAI, DeepSeek, Qwen,
//!   vLLM, llama.cpp server, Ollama, …);
//! - [`anthropic`]: the Anthropic Messages API;
//! - [`command`]: an executable speaking JSON on stdin/stdout;
//! - [`classify`]: how HTTP replies and transport failures become error classes;
//! - [`build_provider`]: a provider from a configured [`ModelSpec`](yardstick_core::ModelSpec).
//!
//! Typical use by a runner:
//! ```no_run
//! # async fn run(spec: &yardstick_core::ModelSpec, request: &yardstick_core::ChatRequest) -> Result<(), Box<dyn std::error::Error>> {
//! use yardstick_providers::{build_provider, send_with_retries, AdaptiveLimiter, RetryPolicy};
//! let provider = build_provider(spec)?;
//! let limiter = AdaptiveLimiter::new(&spec.name, spec.concurrency);
//! let policy = RetryPolicy::for_model(spec);
//! let sent = send_with_retries(provider.as_ref(), request, &policy, Some(&limiter)).await;
//! println!("{} tries, last took {:?}: {:?}", sent.tries, sent.latency, sent.result);
//! # Ok(()) }
//! ```

use async_trait::async_trait;
pub use yardstick_core::{ChatRequest, ChatResponse, ErrorClass, ProviderError};

pub mod anthropic;
mod build;
pub mod classify;
pub mod command;
pub mod concurrency;
mod http;
pub mod openai;
pub mod retry;

pub use anthropic::AnthropicProvider;
pub use build::{build_provider, build_provider_with_env, BuildError};
pub use command::CommandProvider;
pub use concurrency::{AdaptiveLimiter, Permit};
pub use http::{ClientError, HttpOptions};
pub use openai::OpenAiProvider;
pub use retry::{send_with_retries, RetryPolicy, Sent};

/// One try at a chat completion. Implementations classify every failure; they
/// never retry and never sleep.
#[async_trait]
pub trait Provider: Send + Sync {
    async fn send(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError>;
}
