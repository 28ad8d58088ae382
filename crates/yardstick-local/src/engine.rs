//! The inference engine: llama.cpp driven from one dedicated thread per model.
//!
//! llama.cpp calls block for milliseconds to seconds, and a llama context is
//! not thread-safe, so neither belongs on the async runtime. Each model file
//! gets one OS thread that owns the loaded weights and a context; requests
//! reach it over a channel and answers come back on a tokio oneshot, so an
//! `.await` never blocks a runtime worker. The thread serves requests one
//! after another, which is also the fastest schedule on a small CPU: a second
//! concurrent context would only split the same cores.
//!
//! Models are loaded once per process and per file: a registry keyed by the
//! canonical path hands every [`LocalProvider`] for the same file the same
//! engine. The registry holds weak references, so the weights are freed
//! when the last provider for them is dropped.

use crate::cache;
use crate::gguf;
use crate::template::ChatTemplate;
use crate::LocalError;
use async_trait::async_trait;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, OnceLock, Weak};
use std::thread;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use yardstick_core::{ChatRequest, ChatResponse, ErrorClass, Message, ProviderError, Usage};
use yardstick_providers::Provider;

/// Context window used unless configured (capped at the model's training
/// context): a grounding item's 2,000-word document is ~3,500 tokens before
/// the question and the answer. For SmolLM2-135M the KV cache at 8,192 tokens
/// is ~190 MB.
pub const DEFAULT_CONTEXT_SIZE: u32 = 8192;
/// Answer length when a request does not say.
pub const DEFAULT_MAX_TOKENS: u32 = 256;

/// How a local model is run. The defaults suit evaluation on a CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOptions {
    /// Tokens of context (prompt + answer). Capped at the model's training
    /// context; 0 means the training context.
    pub context_size: u32,
    /// CPU threads for llama.cpp; `None` = all available cores.
    pub threads: Option<u32>,
    /// `max_tokens` for requests that do not set it.
    pub default_max_tokens: u32,
    /// Forward llama.cpp's own log lines to `tracing` (target `llama_cpp_2`).
    /// Off by default: llama.cpp prints dozens of lines per model load.
    /// The backend is set up once per process, so the first load decides.
    pub llama_logs: bool,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            context_size: DEFAULT_CONTEXT_SIZE,
            threads: None,
            default_max_tokens: DEFAULT_MAX_TOKENS,
            llama_logs: false,
        }
    }
}

/// Why generation ended, as OpenAI-compatible APIs name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn, or a stop sequence was produced.
    Stop,
    /// `max_tokens` (or the end of the context) was reached.
    Length,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
        }
    }
}

/// Wall-clock times of one generation, measured on the model thread (queueing
/// behind other requests is not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Tokenizing and evaluating the prompt.
    pub prompt_eval: Duration,
    /// From the start of the job to the first sampled token.
    pub time_to_first_token: Duration,
    /// From the start of the job to the end of generation.
    pub total: Duration,
}

/// One answer with the numbers a benchmark wants.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: u64,
    /// Sampled tokens, including an end-of-turn token that ended generation.
    pub generated_tokens: u64,
    pub finish_reason: FinishReason,
    pub timings: Timings,
}

impl Generation {
    /// Decoding speed after the first token: (tokens − 1) / (total − TTFT).
    /// `None` with fewer than two tokens.
    pub fn tokens_per_second(&self) -> Option<f64> {
        let after_first = self
            .timings
            .total
            .saturating_sub(self.timings.time_to_first_token);
        (self.generated_tokens > 1 && !after_first.is_zero())
            .then(|| (self.generated_tokens - 1) as f64 / after_first.as_secs_f64())
    }
}

/// A local GGUF model behind the [`Provider`] trait. Cheap to clone; clones
/// and other providers for the same file share one loaded model.
#[derive(Clone)]
pub struct LocalProvider {
    engine: Arc<Engine>,
    template: Arc<ChatTemplate>,
    model_name: String,
    context: ContextKey,
    default_max_tokens: u32,
}

impl fmt::Debug for LocalProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalProvider")
            .field("path", &self.engine.path)
            .field("context_size", &self.context.n_ctx)
            .field("threads", &self.context.threads)
            .finish()
    }
}

impl LocalProvider {
    /// Loads a cached model by name or a `.gguf` by path (see [`cache::resolve`]).
    pub fn load(
        model: &str,
        cache_dir: &Path,
        options: LocalOptions,
    ) -> Result<LocalProvider, LocalError> {
        let path = cache::resolve(model, cache_dir)?;
        LocalProvider::from_file(&path, options)
    }

    /// Loads a `.gguf` file, reusing the process's copy of it if one is loaded.
    pub fn from_file(path: &Path, options: LocalOptions) -> Result<LocalProvider, LocalError> {
        let path = std::fs::canonicalize(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LocalError::FileNotFound {
                path: path.to_path_buf(),
            },
            _ => LocalError::io("cannot resolve", path, e),
        })?;
        // Our own structural check first: llama.cpp reports a bad file only as
        // a null pointer. The token list gives the template its BOS/EOS texts.
        let info = gguf::inspect(&path, true)?;
        let model_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let template = ChatTemplate::from_gguf(&info).map_err(|e| LocalError::Template {
            model: model_name.clone(),
            message: e.to_string(),
        })?;
        let engine = Engine::shared(&path, options.llama_logs)?;
        let n_ctx = match options.context_size {
            0 => engine.n_ctx_train,
            n => n.min(engine.n_ctx_train),
        }
        .max(1);
        let threads = options
            .threads
            .filter(|&t| t > 0)
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get() as u32));
        Ok(LocalProvider {
            engine,
            template: Arc::new(template),
            model_name,
            context: ContextKey {
                n_ctx,
                threads: i32::try_from(threads).unwrap_or(i32::MAX),
            },
            default_max_tokens: options.default_max_tokens.max(1),
        })
    }

    /// The canonical path of the loaded file.
    pub fn model_path(&self) -> &Path {
        &self.engine.path
    }

    /// The file name, reported as the answering model.
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// The context size requested from llama.cpp (after capping at the
    /// model's training context).
    pub fn context_size(&self) -> u32 {
        self.context.n_ctx
    }

    /// The model's training context length.
    pub fn training_context_size(&self) -> u32 {
        self.engine.n_ctx_train
    }

    pub fn template(&self) -> &ChatTemplate {
        &self.template
    }

    /// Whether both providers run on the same loaded model (and thread).
    pub fn shares_model_with(&self, other: &LocalProvider) -> bool {
        Arc::ptr_eq(&self.engine, &other.engine)
    }

    /// The exact prompt text the model will see for `messages`.
    pub fn render_prompt(&self, messages: &[Message]) -> Result<String, ProviderError> {
        if messages.is_empty() {
            return Err(bad_request("the request has no messages"));
        }
        self.template.render(messages).map_err(|e| {
            bad_request(format!(
                "the chat template of {} rejected the conversation: {e}",
                self.model_name
            ))
        })
    }

    /// Like [`Provider::send`], with timings.
    pub async fn generate(&self, request: &ChatRequest) -> Result<Generation, ProviderError> {
        let sampling = Sampling::from_request(request, self.default_max_tokens)?;
        let prompt = self.render_prompt(&request.messages)?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            prompt,
            sampling,
            context: self.context,
            reply,
        };
        self.engine
            .jobs
            .send(job)
            .map_err(|_| engine_stopped(&self.engine.path))?;
        answer
            .await
            .map_err(|_| engine_stopped(&self.engine.path))?
    }
}

#[async_trait]
impl Provider for LocalProvider {
    async fn send(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let g = self.generate(request).await?;
        Ok(ChatResponse {
            text: g.text,
            usage: Usage {
                input_tokens: g.prompt_tokens,
                output_tokens: g.generated_tokens,
            },
            finish_reason: Some(g.finish_reason.as_str().to_string()),
            model: Some(self.model_name.clone()),
        })
    }
}

fn bad_request(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorClass::BadRequest, message)
}

fn server_error(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorClass::ServerError, message)
}

fn engine_stopped(path: &Path) -> ProviderError {
    server_error(format!(
        "the llama.cpp thread for {} stopped",
        path.display()
    ))
}

/// `seed: None` with sampling: llama.cpp's `LLAMA_DEFAULT_SEED`, which it
/// replaces with a random seed.
const RANDOM_SEED: u32 = u32::MAX;

/// Sampling settings of one request, validated.
#[derive(Debug, Clone)]
struct Sampling {
    max_tokens: u32,
    /// 0 = greedy.
    temperature: f32,
    top_p: f32,
    seed: u32,
    stop: Vec<String>,
}

impl Sampling {
    fn from_request(r: &ChatRequest, default_max_tokens: u32) -> Result<Sampling, ProviderError> {
        let temperature = match r.temperature {
            None => 0.0,
            Some(t) if t.is_finite() && t >= 0.0 => t as f32,
            Some(t) => {
                return Err(bad_request(format!(
                    "temperature must be a number ≥ 0, got {t}"
                )))
            }
        };
        let top_p = match r.top_p {
            None => 1.0,
            Some(p) if p > 0.0 && p <= 1.0 => p as f32,
            Some(p) => return Err(bad_request(format!("top_p must be in (0, 1], got {p}"))),
        };
        let max_tokens = match r.max_tokens {
            None => default_max_tokens,
            Some(0) => return Err(bad_request("max_tokens must be at least 1")),
            Some(n) => n,
        };
        // llama.cpp seeds are 32-bit: fold the halves, and keep clear of the
        // value that means "random".
        let seed = match r.seed {
            None => RANDOM_SEED,
            Some(s) => match (s ^ (s >> 32)) as u32 {
                RANDOM_SEED => RANDOM_SEED - 1,
                folded => folded,
            },
        };
        let stop = r.stop.iter().filter(|s| !s.is_empty()).cloned().collect();
        Ok(Sampling {
            max_tokens,
            temperature,
            top_p,
            seed,
            stop,
        })
    }

    /// Greedy for temperature 0 (deterministic); otherwise temperature, then
    /// nucleus (top-p) on the tempered distribution as OpenAI and
    /// `transformers` apply them, then a draw seeded per request so that a
    /// fixed seed reproduces the answer.
    fn sampler(&self) -> LlamaSampler {
        if self.temperature <= 0.0 {
            return LlamaSampler::greedy();
        }
        let mut chain = vec![LlamaSampler::temp(self.temperature)];
        if self.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(self.top_p, 1));
        }
        chain.push(LlamaSampler::dist(self.seed));
        LlamaSampler::chain_simple(chain)
    }
}

/// What a llama context is created with; a request for another shape
/// replaces the model thread's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ContextKey {
    n_ctx: u32,
    threads: i32,
}

struct Job {
    prompt: String,
    sampling: Sampling,
    context: ContextKey,
    reply: oneshot::Sender<Result<Generation, ProviderError>>,
}

/// The handle to one model thread.
struct Engine {
    path: PathBuf,
    n_ctx_train: u32,
    /// Dropping the last sender ends the thread, which frees the model.
    jobs: mpsc::Sender<Job>,
}

/// The llama.cpp backend, initialised once per process (llama.cpp refuses a
/// second initialisation). Logging is configured first so that even the
/// backend's own start-up lines follow [`LocalOptions::llama_logs`].
fn backend(llama_logs: bool) -> Result<&'static LlamaBackend, LocalError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(
                llama_cpp_2::LogOptions::default().with_logs_enabled(llama_logs),
            );
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LocalError::Load {
            path: PathBuf::new(),
            message: format!("cannot initialise llama.cpp: {e}"),
        })
}

impl Engine {
    /// The process's engine for `path` (canonical), loading the model if no
    /// provider holds it. The registry lock is held while loading, so two
    /// concurrent loads of one file load it once.
    fn shared(path: &Path, llama_logs: bool) -> Result<Arc<Engine>, LocalError> {
        static ENGINES: OnceLock<Mutex<HashMap<PathBuf, Weak<Engine>>>> = OnceLock::new();
        let backend = backend(llama_logs)?;
        let mut engines = ENGINES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(engine) = engines.get(path).and_then(Weak::upgrade) {
            return Ok(engine);
        }
        engines.retain(|_, e| e.strong_count() > 0);
        let engine = Arc::new(Engine::start(path, backend)?);
        engines.insert(path.to_path_buf(), Arc::downgrade(&engine));
        Ok(engine)
    }

    fn start(path: &Path, backend: &'static LlamaBackend) -> Result<Engine, LocalError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::sync_channel(1);
        let thread_path = path.to_path_buf();
        let name = format!(
            "llama {}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        thread::Builder::new()
            .name(name)
            .spawn(move || model_thread(backend, &thread_path, &ready_tx, &inbox))
            .map_err(|e| LocalError::io("cannot start a thread for", path, e))?;
        let n_ctx_train = ready.recv().map_err(|_| LocalError::Load {
            path: path.to_path_buf(),
            message: "the model thread stopped while loading".into(),
        })??;
        tracing::debug!("loaded {} (training context {n_ctx_train})", path.display());
        Ok(Engine {
            path: path.to_path_buf(),
            n_ctx_train,
            jobs,
        })
    }
}

/// The body of a model thread: load, report, then serve jobs until every
/// sender is gone.
fn model_thread(
    backend: &'static LlamaBackend,
    path: &Path,
    ready: &mpsc::SyncSender<Result<u32, LocalError>>,
    inbox: &mpsc::Receiver<Job>,
) {
    let model = match LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()) {
        Ok(model) => model,
        Err(e) => {
            let _ = ready.send(Err(LocalError::Load {
                path: path.to_path_buf(),
                message: format!("{e} (set llama_logs to see llama.cpp's reason)"),
            }));
            return;
        }
    };
    let _ = ready.send(Ok(model.n_ctx_train()));
    let mut slot: Option<(ContextKey, LlamaContext<'_>)> = None;
    while let Ok(job) = inbox.recv() {
        if job.reply.is_closed() {
            continue; // the caller gave up while the job was queued
        }
        // A panic inside the bindings must fail this request, not kill the
        // thread every later request depends on.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            run_job(backend, &model, &mut slot, &job)
        }));
        let result = outcome.unwrap_or_else(|panic| {
            slot = None; // the context may be in any state
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(server_error(format!("llama.cpp bindings panicked: {what}")))
        });
        let _ = job.reply.send(result);
    }
}

fn run_job<'m>(
    backend: &LlamaBackend,
    model: &'m LlamaModel,
    slot: &mut Option<(ContextKey, LlamaContext<'m>)>,
    job: &Job,
) -> Result<Generation, ProviderError> {
    if slot.as_ref().is_none_or(|(key, _)| *key != job.context) {
        *slot = None; // free the old KV cache before allocating a new one
        let key = job.context;
        let n_ctx = NonZeroU32::new(key.n_ctx).unwrap_or(NonZeroU32::MIN);
        let params = LlamaContextParams::default()
            .with_n_ctx(Some(n_ctx))
            // The whole prompt is evaluated in one decode call.
            .with_n_batch(key.n_ctx)
            .with_n_threads(key.threads)
            .with_n_threads_batch(key.threads);
        let ctx = model.new_context(backend, params).map_err(|e| {
            server_error(format!(
                "llama.cpp could not create a context of {} tokens: {e}",
                key.n_ctx
            ))
        })?;
        *slot = Some((key, ctx));
    }
    let Some((_, ctx)) = slot.as_mut() else {
        unreachable!("the context was just created")
    };
    generate(model, ctx, job)
}

fn generate(
    model: &LlamaModel,
    ctx: &mut LlamaContext<'_>,
    job: &Job,
) -> Result<Generation, ProviderError> {
    let started = Instant::now();
    let vocab = model.vocab();
    // The template already wrote the special tokens as text; parse them, and
    // add BOS only if the model wants one and the template did not print it.
    let mut tokens = vocab.tokenize(job.prompt.as_bytes(), false, true);
    if vocab.should_add_bos() && tokens.first() != Some(&vocab.bos()) {
        tokens.insert(0, vocab.bos());
    }
    let n_prompt = tokens.len();
    let n_ctx = ctx.n_ctx() as usize;
    if n_prompt == 0 {
        return Err(bad_request("the rendered prompt is empty"));
    }
    if n_prompt >= n_ctx {
        return Err(bad_request(format!(
            "prompt is {n_prompt} tokens, context is {n_ctx}: shorten the prompt or load the model with a larger context (at least one token must be left for the answer)"
        )));
    }

    ctx.clear_kv_cache();
    let mut batch = LlamaBatch::new(n_prompt, 1);
    for (i, &token) in tokens.iter().enumerate() {
        batch
            .add(token, i as i32, &[0], i + 1 == n_prompt)
            .map_err(|e| server_error(format!("cannot build the prompt batch: {e}")))?;
    }
    ctx.decode(&mut batch)
        .map_err(|e| server_error(format!("llama.cpp could not evaluate the prompt: {e}")))?;
    let prompt_eval = started.elapsed();

    let budget = (job.sampling.max_tokens as usize).min(n_ctx - n_prompt);
    let mut sampler = job.sampling.sampler();
    let mut out: Vec<u8> = Vec::new();
    let mut generated = 0usize;
    let mut first_token_at = None;
    let mut finish = FinishReason::Length;
    let mut logits_at = batch.n_tokens() - 1;
    let mut step = LlamaBatch::new(1, 1);
    while generated < budget {
        let token = sampler.sample(ctx, logits_at);
        generated += 1;
        first_token_at.get_or_insert_with(|| started.elapsed());
        if vocab.is_eog(token) {
            finish = FinishReason::Stop;
            break;
        }
        let before = out.len();
        vocab.token_to_piece_into(token, &mut out, false, None);
        if let Some(cut) = find_stop(&out, before, &job.sampling.stop) {
            out.truncate(cut);
            finish = FinishReason::Stop;
            break;
        }
        if generated == budget {
            break;
        }
        if job.reply.is_closed() {
            return Err(ProviderError::new(
                ErrorClass::Timeout,
                "the caller stopped waiting; generation abandoned",
            ));
        }
        step.clear();
        step.add(token, (n_prompt + generated - 1) as i32, &[0], true)
            .map_err(|e| server_error(format!("cannot build a decode batch: {e}")))?;
        ctx.decode(&mut step)
            .map_err(|e| server_error(format!("llama.cpp could not decode: {e}")))?;
        logits_at = 0;
    }
    let total = started.elapsed();
    Ok(Generation {
        text: utf8_text(out),
        prompt_tokens: n_prompt as u64,
        generated_tokens: generated as u64,
        finish_reason: finish,
        timings: Timings {
            prompt_eval,
            time_to_first_token: first_token_at.unwrap_or(total),
            total,
        },
    })
}

/// Where the earliest stop sequence starts, looking only at matches that
/// involve bytes from `new_from` on (older text was checked before). A
/// token can carry a stop sequence in its middle, so this is a search, not
/// an `ends_with`.
fn find_stop(text: &[u8], new_from: usize, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter_map(|stop| {
            let stop = stop.as_bytes();
            let from = new_from.saturating_sub(stop.len() - 1);
            text.get(from..)?
                .windows(stop.len())
                .position(|w| w == stop)
                .map(|p| from + p)
        })
        .min()
}

/// The answer as text. A multi-byte character cut by `max_tokens` is dropped
/// rather than shown as U+FFFD; anything else invalid is replaced.
fn utf8_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let error = e.utf8_error();
            let mut bytes = e.into_bytes();
            if error.error_len().is_none() {
                bytes.truncate(error.valid_up_to());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn stop_sequences_are_found_across_and_inside_tokens() {
        let stops = vec!["\n\n".to_string(), "END".to_string()];
        assert_eq!(find_stop(b"abc\n", 3, &stops), None);
        assert_eq!(find_stop(b"abc\n\n", 4, &stops), Some(3));
        assert_eq!(find_stop(b"abc\n\nxyz", 3, &stops), Some(3));
        assert_eq!(find_stop(b"xEND and more\n\n", 1, &stops), Some(1));
        assert_eq!(find_stop(b"EN", 0, &stops), None);
    }

    #[test]
    fn a_cut_character_at_the_end_is_dropped() {
        let mut bytes = "né".as_bytes().to_vec();
        bytes.pop();
        assert_eq!(utf8_text(bytes), "n");
        assert_eq!(utf8_text(vec![b'a', 0xff, b'b']), "a\u{fffd}b");
    }

    #[test]
    fn sampling_settings_are_validated() {
        let s = Sampling::from_request(&request(), 7).unwrap();
        assert_eq!(
            (s.max_tokens, s.temperature, s.top_p, s.seed),
            (7, 0.0, 1.0, RANDOM_SEED)
        );
        let bad = |f: fn(&mut ChatRequest)| {
            let mut r = request();
            f(&mut r);
            let e = Sampling::from_request(&r, 7).unwrap_err();
            assert_eq!(e.class, ErrorClass::BadRequest);
        };
        bad(|r| r.temperature = Some(-0.5));
        bad(|r| r.temperature = Some(f64::NAN));
        bad(|r| r.top_p = Some(0.0));
        bad(|r| r.top_p = Some(1.5));
        bad(|r| r.max_tokens = Some(0));
        let mut r = request();
        r.seed = Some(u64::from(u32::MAX));
        assert_ne!(Sampling::from_request(&r, 7).unwrap().seed, RANDOM_SEED);
        r.seed = Some(42);
        assert_eq!(Sampling::from_request(&r, 7).unwrap().seed, 42);
    }
}
