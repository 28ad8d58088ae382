//! Speed of yardstick's in-process local provider next to a llama.cpp server.
//! Driven by `bench/local/run.sh`; not part of CI.
//!
//! ```text
//! yardstick-bench-local pull [NAME]
//! yardstick-bench-local inprocess --model PATH --threads N --ctx N [common]
//! yardstick-bench-local http --base-url URL --model ID [common]
//! yardstick-bench-local prompts --model PATH --prompts FILE   # rendered prompts, JSON lines
//! common: --prompts FILE --max-tokens N --round R --label L --out FILE.jsonl
//! ```
//!
//! Each measuring command makes one warm-up request, then two passes over the
//! prompts, one request at a time:
//! - `ttft`: `max_tokens = 1`; the caller's latency is the time to first token
//!   measured the same way for every path;
//! - `ttft_cold` (servers only): the same, each request preceded by an
//!   unmeasured one whose prompt shares only the template's first tokens, so
//!   a server cannot reuse the previous prompt's KV cache for the shared
//!   default system prompt (the in-process engine never reuses it: its `ttft`
//!   pass is already cold);
//! - `full`: `max_tokens = N`, greedy (`temperature = 0`).
//!
//! One JSON object per request is appended to `--out`; `report.py` turns the
//! files into the table. `tokens` never counts an end-of-turn token: the
//! in-process engine counts it in `generated_tokens`, llama-cpp-python leaves
//! it out of `completion_tokens`, and it costs no decode step in either.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::error::Error;
use std::ffi::CStr;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use yardstick_core::{ChatRequest, Message};
use yardstick_local::{cache, FinishReason, LocalOptions, LocalProvider, DEFAULT_MODEL};
use yardstick_providers::{HttpOptions, OpenAiProvider, Provider};

type Res<T> = Result<T, Box<dyn Error>>;

struct Opts(HashMap<String, String>);

impl Opts {
    fn parse(args: &[String]) -> Res<Opts> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(key) = it.next() {
            let key = key
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --option, got {key}"))?;
            let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
            map.insert(key.to_string(), value.clone());
        }
        Ok(Opts(map))
    }
    fn str(&self, key: &str) -> Res<String> {
        self.0
            .get(key)
            .cloned()
            .ok_or_else(|| format!("--{key} is required").into())
    }
    fn num<T: std::str::FromStr>(&self, key: &str) -> Res<T> {
        self.str(key)?
            .parse()
            .map_err(|_| format!("--{key} must be a number").into())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn request(model: &str, prompt: &str, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        model: model.to_string(),
        messages: vec![Message::user(prompt)],
        temperature: Some(0.0),
        top_p: None,
        max_tokens: Some(max_tokens),
        seed: None,
        stop: vec![],
    }
}

/// The common settings and the output file of one measuring command.
struct Run {
    prompts: Vec<String>,
    max_tokens: u32,
    round: u32,
    label: String,
    out: std::fs::File,
}

impl Run {
    fn new(o: &Opts) -> Res<Run> {
        let prompts: Vec<String> = std::fs::read_to_string(o.str("prompts")?)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        if prompts.is_empty() {
            return Err("the prompt file is empty".into());
        }
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(o.str("out")?)?;
        Ok(Run {
            prompts,
            max_tokens: o.num("max-tokens")?,
            round: o.num("round")?,
            label: o.str("label")?,
            out,
        })
    }

    fn record(&mut self, pass: &str, i: usize, mut fields: Value) -> Res<()> {
        let obj = fields.as_object_mut().expect("an object");
        obj.insert("path".into(), json!(self.label));
        obj.insert("round".into(), json!(self.round));
        obj.insert("pass".into(), json!(pass));
        obj.insert("i".into(), json!(i));
        writeln!(self.out, "{fields}")?;
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("pull") => {
            let name = args.get(1).map_or(DEFAULT_MODEL, String::as_str);
            let pulled = cache::pull(name, &cache::default_cache_dir())?;
            println!("{}", pulled.path.display());
            Ok(())
        }
        Some("inprocess") => inprocess(&Opts::parse(&args[1..])?).await,
        Some("http") => http(&Opts::parse(&args[1..])?).await,
        Some("prompts") => {
            // The exact text the in-process engine evaluates, to compare
            // with what a server renders from the same GGUF's template.
            let o = Opts::parse(&args[1..])?;
            let provider =
                LocalProvider::from_file(Path::new(&o.str("model")?), LocalOptions::default())?;
            for prompt in std::fs::read_to_string(o.str("prompts")?)?.lines() {
                let rendered = provider.render_prompt(&[Message::user(prompt.trim())])?;
                println!("{}", json!(rendered));
            }
            Ok(())
        }
        _ => Err(
            "usage: yardstick-bench-local pull [NAME] | inprocess … | http … (see the source)"
                .into(),
        ),
    }
}

async fn inprocess(o: &Opts) -> Res<()> {
    let mut run = Run::new(o)?;
    let model = PathBuf::from(o.str("model")?);
    let threads: u32 = o.num("threads")?;
    let loading = Instant::now();
    let provider = LocalProvider::from_file(
        Path::new(&model),
        LocalOptions {
            context_size: o.num("ctx")?,
            threads: Some(threads),
            default_max_tokens: run.max_tokens,
            llama_logs: false,
        },
    )?;
    let load = loading.elapsed();
    // Warm-up: pages the weights in and creates the context.
    provider
        .generate(&request("local", &run.prompts[0], run.max_tokens))
        .await?;
    // SAFETY: returns a pointer to a static, NUL-terminated buffer.
    let system_info = unsafe { CStr::from_ptr(llama_cpp_sys_2::llama_print_system_info()) }
        .to_string_lossy()
        .into_owned();
    writeln!(
        run.out,
        "{}",
        json!({"meta": {"path": run.label, "round": run.round, "threads": threads,
            "n_ctx": provider.context_size(), "load_ms": ms(load),
            "model": provider.model_path(), "system_info": system_info.trim()}})
    )?;

    for (i, prompt) in run.prompts.clone().iter().enumerate() {
        let started = Instant::now();
        let g = provider.generate(&request("local", prompt, 1)).await?;
        let wall = started.elapsed();
        run.record(
            "ttft",
            i,
            json!({"wall_ms": ms(wall), "ttft_ms": ms(g.timings.time_to_first_token),
                "prompt_eval_ms": ms(g.timings.prompt_eval), "prompt_tokens": g.prompt_tokens}),
        )?;
    }
    for (i, prompt) in run.prompts.clone().iter().enumerate() {
        let started = Instant::now();
        let g = provider
            .generate(&request("local", prompt, run.max_tokens))
            .await?;
        let wall = started.elapsed();
        // With no stop sequences, `Stop` means the model sampled end-of-turn.
        let eog = u64::from(g.finish_reason == FinishReason::Stop);
        let decode = g
            .timings
            .total
            .saturating_sub(g.timings.time_to_first_token);
        run.record(
            "full",
            i,
            json!({"wall_ms": ms(wall), "ttft_ms": ms(g.timings.time_to_first_token),
                "prompt_eval_ms": ms(g.timings.prompt_eval), "decode_ms": ms(decode),
                "prompt_tokens": g.prompt_tokens, "tokens": g.generated_tokens - eog,
                "sampled_tokens": g.generated_tokens,
                "finish": g.finish_reason.as_str(), "text": g.text}),
        )?;
    }
    Ok(())
}

async fn http(o: &Opts) -> Res<()> {
    let mut run = Run::new(o)?;
    let model = o.str("model")?;
    let provider = OpenAiProvider::new(
        &o.str("base-url")?,
        None,
        &HttpOptions::with_timeout(Duration::from_secs(600)),
    )?;
    provider
        .send(&request(&model, &run.prompts[0], run.max_tokens))
        .await?;
    for (i, prompt) in run.prompts.clone().iter().enumerate() {
        let started = Instant::now();
        let r = provider.send(&request(&model, prompt, 1)).await?;
        let wall = started.elapsed();
        run.record(
            "ttft",
            i,
            json!({"wall_ms": ms(wall), "prompt_tokens": r.usage.input_tokens}),
        )?;
    }
    for (i, prompt) in run.prompts.clone().iter().enumerate() {
        let mut flush = request(&model, "Zzz.", 1);
        flush.messages.insert(0, Message::system("Zzz."));
        provider.send(&flush).await?;
        let started = Instant::now();
        let r = provider.send(&request(&model, prompt, 1)).await?;
        let wall = started.elapsed();
        run.record(
            "ttft_cold",
            i,
            json!({"wall_ms": ms(wall), "prompt_tokens": r.usage.input_tokens}),
        )?;
    }
    for (i, prompt) in run.prompts.clone().iter().enumerate() {
        let started = Instant::now();
        let r = provider
            .send(&request(&model, prompt, run.max_tokens))
            .await?;
        let wall = started.elapsed();
        run.record(
            "full",
            i,
            json!({"wall_ms": ms(wall), "prompt_tokens": r.usage.input_tokens,
                "tokens": r.usage.output_tokens, "finish": r.finish_reason, "text": r.text}),
        )?;
    }
    Ok(())
}
