//! Measures time to first token and decoding speed of a local model, as a
//! baseline for comparing the in-process engine with a llama.cpp server.
//!
//! ```text
//! cargo run --release -p yardstick-local --example speed -- [MODEL] [THREADS] [MAX_TOKENS] [RUNS]
//! ```
//!
//! MODEL is a cached name or a `.gguf` path (default: the default model,
//! pulled if needed); THREADS defaults to 2, MAX_TOKENS to 128, RUNS to 5.
//! Decoding is greedy on a fixed short prompt, after one warm-up run.

use std::time::Instant;
use yardstick_core::{ChatRequest, Message};
use yardstick_local::{cache, LocalOptions, LocalProvider, DEFAULT_MODEL};

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = args
        .first()
        .cloned()
        .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let threads: u32 = arg(&args, 1, 2);
    let max_tokens: u32 = arg(&args, 2, 128);
    let runs: usize = arg(&args, 3, 5);

    let dir = cache::default_cache_dir();
    if !cache::is_path(&model) && cache::resolve(&model, &dir).is_err() {
        cache::pull(&model, &dir)?;
    }
    let loaded = Instant::now();
    let provider = LocalProvider::load(
        &model,
        &dir,
        LocalOptions {
            threads: Some(threads),
            ..LocalOptions::default()
        },
    )?;
    let load_ms = loaded.elapsed().as_secs_f64() * 1e3;

    let request = ChatRequest {
        model: model.clone(),
        messages: vec![Message::user(
            "Write a short story about a robot who learns to paint.",
        )],
        temperature: Some(0.0),
        top_p: None,
        max_tokens: Some(max_tokens),
        seed: Some(1),
        stop: vec![],
    };
    provider.generate(&request).await?; // warm-up: page in the weights, allocate the context

    println!(
        "model {} · {threads} threads · context {}",
        provider.model_name(),
        provider.context_size()
    );
    println!("load {load_ms:.0} ms");
    let (mut ttfts, mut speeds, mut prompt_speeds) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=runs {
        let g = provider.generate(&request).await?;
        let ttft = g.timings.time_to_first_token.as_secs_f64() * 1e3;
        let tps = g.tokens_per_second().unwrap_or(0.0);
        let pps = g.prompt_tokens as f64 / g.timings.prompt_eval.as_secs_f64();
        println!(
            "run {run}: prompt {} tok ({pps:.0} tok/s) · ttft {ttft:.1} ms · {} tok generated ({}) · {tps:.1} tok/s",
            g.prompt_tokens,
            g.generated_tokens,
            g.finish_reason.as_str(),
        );
        ttfts.push(ttft);
        speeds.push(tps);
        prompt_speeds.push(pps);
    }
    println!(
        "median: ttft {:.1} ms · generation {:.1} tok/s · prompt {:.0} tok/s",
        median(ttfts),
        median(speeds),
        median(prompt_speeds)
    );
    Ok(())
}
