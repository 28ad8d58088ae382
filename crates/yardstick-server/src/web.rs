//! Routes. Pages and API routes share one value per page (built by
//! [`crate::views`]): the API returns it as JSON, the page renders it through
//! a minijinja template with HTML auto-escaping, so model output is always
//! shown as text. Computed values are cached until the store changes
//! ([`yardstick_store::DataVersion`]). Everything but `POST /api/actions/*`
//! is read-only; actions need `Authorization: Bearer <[serve] token>`.

use crate::articles::{self, ArticleSettings};
use crate::schedule::Job;
use crate::views::{self, BoardKind, ViewError};
use crate::Jobs;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use minijinja::{Environment, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use yardstick_store::{DataVersion, Store};

/// Computed page values kept at most, before the cache starts over.
const CACHE_ENTRIES: usize = 2000;
/// Runs listed on /runs.
const RUNS_LISTED: i64 = 500;

/// Everything a request handler needs.
pub struct AppState {
    pub store: Store,
    token: Option<String>,
    jobs: Option<Arc<dyn Jobs>>,
    articles: ArticleSettings,
    /// Held while an evaluation runs: shared with the schedule loop.
    pub job_lock: Arc<tokio::sync::Mutex<()>>,
    templates: Environment<'static>,
    cache: Mutex<(DataVersion, HashMap<String, Arc<serde_json::Value>>)>,
    /// Requests answered per route, for /metrics.
    requests: Mutex<BTreeMap<String, u64>>,
}

impl AppState {
    /// `token`: the bearer token actions require (`None`: actions refused).
    /// `jobs`: what carries actions out (`None`: actions refused).
    /// `articles`: the `[report]` settings the article pages are written with.
    pub fn new(
        store: Store,
        token: Option<String>,
        jobs: Option<Arc<dyn Jobs>>,
        articles: ArticleSettings,
    ) -> Arc<AppState> {
        Arc::new(AppState {
            store,
            token: token.filter(|t| !t.is_empty()),
            jobs,
            articles,
            job_lock: Arc::new(tokio::sync::Mutex::new(())),
            templates: templates(),
            cache: Mutex::new((DataVersion::default(), HashMap::new())),
            requests: Mutex::new(BTreeMap::new()),
        })
    }

    /// The cached value under `key`, computed by `build` if the store changed
    /// since it was cached.
    async fn cached<T, F>(&self, key: String, build: F) -> Result<Arc<serde_json::Value>, ViewError>
    where
        T: Serialize,
        F: Future<Output = Result<T, ViewError>>,
    {
        let version = self.store.data_version().await?;
        {
            let mut cache = self.cache.lock().expect("cache lock");
            if cache.0 != version {
                *cache = (version, HashMap::new());
            } else if let Some(v) = cache.1.get(&key) {
                return Ok(v.clone());
            }
        }
        let value = Arc::new(serde_json::to_value(build.await?).expect("views serialize"));
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.0 == version {
            if cache.1.len() >= CACHE_ENTRIES {
                cache.1.clear();
            }
            cache.1.insert(key, value.clone());
        }
        Ok(value)
    }

    fn render(&self, template: &str, page: &serde_json::Value) -> Response {
        let tmpl = self
            .templates
            .get_template(template)
            .expect("templates are embedded");
        match tmpl.render(minijinja::context! { page => Value::from_serialize(page) }) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!("rendering {template}: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("rendering {template} failed: {e}"),
                )
                    .into_response()
            }
        }
    }
}

fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    // Names ending in .html are auto-escaped (minijinja's default callback).
    for (name, source) in [
        ("base.html", include_str!("../templates/base.html")),
        ("board.html", include_str!("../templates/board.html")),
        ("model.html", include_str!("../templates/model.html")),
        ("run.html", include_str!("../templates/run.html")),
        ("runs.html", include_str!("../templates/runs.html")),
        ("articles.html", include_str!("../templates/articles.html")),
        (
            "run_articles.html",
            include_str!("../templates/run_articles.html"),
        ),
        ("item.html", include_str!("../templates/item.html")),
        ("attempt.html", include_str!("../templates/attempt.html")),
        ("error.html", include_str!("../templates/error.html")),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env.add_filter("num", |v: Option<f64>, digits: Option<usize>| match v {
        Some(v) => format!("{v:.*}", digits.unwrap_or(1)),
        None => "—".to_string(),
    });
    env.add_filter("pct", |v: Option<f64>| match v {
        Some(v) => format!("{:.1}%", v * 100.0),
        None => "—".to_string(),
    });
    env.add_filter("time", |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    });
    env.add_filter("urlpart", |s: String| percent_encode(&s));
    env
}

/// Percent-encodes everything but unreserved characters, for a path segment
/// or query value.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The router with every page, API route, export, metrics and action.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(board_page))
        .route("/models/{model}", get(model_page))
        .route("/runs", get(runs_page))
        .route("/runs/{run}", get(run_page))
        .route("/articles", get(articles_page))
        .route("/runs/{run}/articles", get(run_articles_page))
        .route("/runs/{run}/articles/{file}", get(article_page))
        .route("/items/{item}", get(item_page))
        .route("/attempts/{attempt}", get(attempt_page))
        .route("/api/board", get(board_api))
        .route("/api/models/{model}", get(model_api))
        .route("/api/runs", get(runs_api))
        .route("/api/runs/{run}", get(run_api))
        .route("/api/runs/{run}/export", get(export_api))
        .route("/api/articles", get(articles_api))
        .route("/api/runs/{run}/articles", get(run_articles_api))
        .route("/api/runs/{run}/articles/{file}", get(article_api))
        .route("/api/items/{item}", get(item_api))
        .route("/api/attempts/{attempt}", get(attempt_api))
        .route("/api/verdicts", get(verdicts_api))
        .route("/metrics", get(metrics))
        .route("/api/actions/run", post(start_run))
        .route("/api/actions/retest/{retest}", post(start_retest))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

async fn count_requests(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(req).await;
    let key = format!("{route}\u{0}{}", response.status().as_u16());
    *state
        .requests
        .lock()
        .expect("metrics lock")
        .entry(key)
        .or_default() += 1;
    response
}

/// A failed request, answered as HTML or JSON.
struct Failure {
    error: ViewError,
    json: bool,
    state: Arc<AppState>,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = match &self.error {
            ViewError::NotFound(_) => StatusCode::NOT_FOUND,
            ViewError::BadRequest(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!("{}", self.error);
        }
        let message = self.error.to_string();
        let mut response = if self.json {
            Json(serde_json::json!({ "error": message })).into_response()
        } else {
            self.state.render(
                "error.html",
                &serde_json::json!({ "status": status.as_u16(), "message": message }),
            )
        };
        *response.status_mut() = status;
        response
    }
}

type Page = Result<Response, Failure>;

/// A page value rendered through `template`; an error as an HTML error page.
fn html(
    state: &Arc<AppState>,
    template: &str,
    value: Result<Arc<serde_json::Value>, ViewError>,
) -> Page {
    let page = value.map_err(fail(state, false))?;
    Ok(state.render(template, &page))
}

/// A page value as JSON; an error as a JSON error body.
fn api(state: &Arc<AppState>, value: Result<Arc<serde_json::Value>, ViewError>) -> Page {
    let page = value.map_err(fail(state, true))?;
    Ok(Json(page).into_response())
}

fn fail(state: &Arc<AppState>, json: bool) -> impl FnOnce(ViewError) -> Failure + '_ {
    move |error| Failure {
        error,
        json,
        state: state.clone(),
    }
}

#[derive(Debug, Deserialize)]
struct BoardQuery {
    view: Option<String>,
    sort: Option<String>,
    order: Option<String>,
}

async fn board_value(
    state: &AppState,
    q: &BoardQuery,
) -> Result<Arc<serde_json::Value>, ViewError> {
    let view = BoardKind::parse(q.view.as_deref().unwrap_or("smoke"))?;
    let sort = q.sort.clone().unwrap_or_else(|| "main".into());
    let descending = match q.order.as_deref() {
        None => sort != "model",
        Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Err(ViewError::BadRequest(format!(
                "order={other}: expected asc or desc"
            )))
        }
    };
    let key = format!("board\u{0}{view:?}\u{0}{sort}\u{0}{descending}");
    state
        .cached(
            key,
            views::board_view(
                &state.store,
                state.articles.stability_window,
                view,
                &sort,
                descending,
            ),
        )
        .await
}

async fn board_page(State(state): State<Arc<AppState>>, Query(q): Query<BoardQuery>) -> Page {
    html(&state, "board.html", board_value(&state, &q).await)
}

async fn board_api(State(state): State<Arc<AppState>>, Query(q): Query<BoardQuery>) -> Page {
    api(&state, board_value(&state, &q).await)
}

#[derive(Debug, Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

async fn model_value(
    state: &AppState,
    model: &str,
    q: &KindQuery,
) -> Result<Arc<serde_json::Value>, ViewError> {
    let kind = q.kind.clone().unwrap_or_else(|| "smoke".into());
    let key = format!("model\u{0}{model}\u{0}{kind}");
    state
        .cached(key, views::model_view(&state.store, model, &kind))
        .await
}

async fn model_page(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    Query(q): Query<KindQuery>,
) -> Page {
    html(&state, "model.html", model_value(&state, &model, &q).await)
}

async fn model_api(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    Query(q): Query<KindQuery>,
) -> Page {
    api(&state, model_value(&state, &model, &q).await)
}

async fn runs_value(state: &AppState) -> Result<Arc<serde_json::Value>, ViewError> {
    state
        .cached("runs".into(), views::runs_list(&state.store, RUNS_LISTED))
        .await
}

async fn runs_page(State(state): State<Arc<AppState>>) -> Page {
    let page = runs_value(&state).await.map_err(fail(&state, false))?;
    Ok(state.render("runs.html", &serde_json::json!({ "runs": *page })))
}

async fn runs_api(State(state): State<Arc<AppState>>) -> Page {
    api(&state, runs_value(&state).await)
}

/// A numeric path parameter, with a clear message when it is not one.
fn number(what: &str, raw: &str) -> Result<i64, ViewError> {
    raw.parse().map_err(|_| {
        ViewError::BadRequest(format!("{what} `{raw}` is not a number (e.g. /runs/12)"))
    })
}

async fn run_value(state: &AppState, raw: &str) -> Result<Arc<serde_json::Value>, ViewError> {
    let run = number("run", raw)?;
    state
        .cached(format!("run\u{0}{run}"), views::run_view(&state.store, run))
        .await
}

async fn run_page(State(state): State<Arc<AppState>>, Path(run): Path<String>) -> Page {
    html(&state, "run.html", run_value(&state, &run).await)
}

async fn run_api(State(state): State<Arc<AppState>>, Path(run): Path<String>) -> Page {
    api(&state, run_value(&state, &run).await)
}

async fn articles_value(state: &AppState) -> Result<Arc<serde_json::Value>, ViewError> {
    state
        .cached(
            "articles".into(),
            articles::index(&state.store, RUNS_LISTED),
        )
        .await
}

async fn articles_page(State(state): State<Arc<AppState>>) -> Page {
    let page = articles_value(&state).await.map_err(fail(&state, false))?;
    Ok(state.render("articles.html", &serde_json::json!({ "runs": *page })))
}

async fn articles_api(State(state): State<Arc<AppState>>) -> Page {
    api(&state, articles_value(&state).await)
}

async fn run_articles_value(
    state: &AppState,
    raw: &str,
) -> Result<Arc<serde_json::Value>, ViewError> {
    let run = number("run", raw)?;
    state
        .cached(
            format!("run-articles\u{0}{run}"),
            articles::run_articles(&state.store, &state.articles, run),
        )
        .await
}

async fn run_articles_page(State(state): State<Arc<AppState>>, Path(run): Path<String>) -> Page {
    html(
        &state,
        "run_articles.html",
        run_articles_value(&state, &run).await,
    )
}

async fn run_articles_api(State(state): State<Arc<AppState>>, Path(run): Path<String>) -> Page {
    api(&state, run_articles_value(&state, &run).await)
}

async fn article_value(
    state: &AppState,
    raw: &str,
    file: &str,
) -> Result<Arc<serde_json::Value>, ViewError> {
    let run = number("run", raw)?;
    state
        .cached(
            format!("article\u{0}{run}\u{0}{file}"),
            articles::article(&state.store, &state.articles, run, file),
        )
        .await
}

/// The article as `yardstick report` writes it: an HTML document (escaped by
/// its template) or Markdown.
async fn article_page(
    State(state): State<Arc<AppState>>,
    Path((run, file)): Path<(String, String)>,
) -> Page {
    let page = article_value(&state, &run, &file)
        .await
        .map_err(fail(&state, false))?;
    let body = page["body"].as_str().unwrap_or_default().to_string();
    if page["format"] == "md" {
        Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            body,
        )
            .into_response())
    } else {
        Ok(Html(body).into_response())
    }
}

async fn article_api(
    State(state): State<Arc<AppState>>,
    Path((run, file)): Path<(String, String)>,
) -> Page {
    api(&state, article_value(&state, &run, &file).await)
}

async fn item_value(state: &AppState, item: &str) -> Result<Arc<serde_json::Value>, ViewError> {
    state
        .cached(
            format!("item\u{0}{item}"),
            views::item_view(&state.store, item),
        )
        .await
}

async fn item_page(State(state): State<Arc<AppState>>, Path(item): Path<String>) -> Page {
    html(&state, "item.html", item_value(&state, &item).await)
}

async fn item_api(State(state): State<Arc<AppState>>, Path(item): Path<String>) -> Page {
    api(&state, item_value(&state, &item).await)
}

async fn attempt_value(state: &AppState, raw: &str) -> Result<Arc<serde_json::Value>, ViewError> {
    let attempt = number("attempt", raw)?;
    state
        .cached(
            format!("attempt\u{0}{attempt}"),
            views::attempt_detail(&state.store, attempt),
        )
        .await
}

async fn attempt_page(State(state): State<Arc<AppState>>, Path(attempt): Path<String>) -> Page {
    html(
        &state,
        "attempt.html",
        attempt_value(&state, &attempt).await,
    )
}

async fn attempt_api(State(state): State<Arc<AppState>>, Path(attempt): Path<String>) -> Page {
    api(&state, attempt_value(&state, &attempt).await)
}

#[derive(Debug, Deserialize)]
struct VerdictQuery {
    run: Option<i64>,
    limit: Option<i64>,
}

async fn verdicts_api(State(state): State<Arc<AppState>>, Query(q): Query<VerdictQuery>) -> Page {
    let limit = q.limit.unwrap_or(200).clamp(1, 5000);
    let key = format!("verdicts\u{0}{:?}\u{0}{limit}", q.run);
    let store = state.store.clone();
    api(
        &state,
        state
            .cached(key, async move {
                Ok::<_, ViewError>(
                    store
                        .list_verdicts(q.run, limit)
                        .await?
                        .into_iter()
                        .map(views::VerdictView::from)
                        .collect::<Vec<_>>(),
                )
            })
            .await,
    )
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export_api(
    State(state): State<Arc<AppState>>,
    Path(run): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Page {
    let json = true;
    let run = number("run", &run).map_err(fail(&state, json))?;
    let format = q.format.as_deref().unwrap_or("jsonl");
    if format != "csv" && format != "jsonl" {
        return Err(fail(&state, json)(ViewError::BadRequest(format!(
            "format={format}: expected csv or jsonl"
        ))));
    }
    let rows = crate::export::rows(&state.store, run)
        .await
        .map_err(fail(&state, json))?;
    let mut body = Vec::new();
    let written = if format == "csv" {
        crate::export::write_csv(&rows, &mut body)
    } else {
        crate::export::write_jsonl(&rows, &mut body)
    };
    written.expect("writing to memory cannot fail");
    let (mime, ext) = if format == "csv" {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"run-{run}.{ext}\""))
            .expect("ascii header"),
    );
    Ok(response)
}

/// Escapes a Prometheus label value.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn metrics(State(state): State<Arc<AppState>>) -> Page {
    let json = true;
    let version = state
        .store
        .data_version()
        .await
        .map_err(|e| fail(&state, json)(e.into()))?;
    let board = board_value(
        &state,
        &BoardQuery {
            view: None,
            sort: None,
            order: None,
        },
    )
    .await
    .map_err(fail(&state, json))?;
    let mut out = String::new();
    out.push_str("# HELP yardstick_runs Runs stored (the highest run number).\n# TYPE yardstick_runs gauge\n");
    out.push_str(&format!("yardstick_runs {}\n", version.runs));
    out.push_str("# HELP yardstick_attempts Attempts stored (the highest attempt id).\n# TYPE yardstick_attempts gauge\n");
    out.push_str(&format!("yardstick_attempts {}\n", version.attempts));
    out.push_str("# HELP yardstick_grades Grades stored (the highest grade id).\n# TYPE yardstick_grades gauge\n");
    out.push_str(&format!("yardstick_grades {}\n", version.grades));
    out.push_str("# HELP yardstick_main_score Published main score in the latest smoke run.\n# TYPE yardstick_main_score gauge\n");
    out.push_str("# HELP yardstick_availability Answered share of attempts in the latest smoke run.\n# TYPE yardstick_availability gauge\n");
    let run = board["run"]["id"].as_i64();
    for row in board["rows"].as_array().into_iter().flatten() {
        let model = label(row["model"].as_str().unwrap_or_default());
        let run = run.unwrap_or_default();
        if let Some(main) = row["main"].as_f64() {
            out.push_str(&format!(
                "yardstick_main_score{{model=\"{model}\",run=\"{run}\"}} {main}\n"
            ));
        }
        if let Some(a) = row["availability"].as_f64() {
            out.push_str(&format!(
                "yardstick_availability{{model=\"{model}\",run=\"{run}\"}} {a}\n"
            ));
        }
    }
    out.push_str("# HELP yardstick_http_requests_total Requests answered, by route and status.\n# TYPE yardstick_http_requests_total counter\n");
    for (key, n) in state.requests.lock().expect("metrics lock").iter() {
        let (route, status) = key.split_once('\u{0}').unwrap_or((key, ""));
        out.push_str(&format!(
            "yardstick_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}\n",
            label(route)
        ));
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// Checks `Authorization: Bearer <token>`; the error says what to do.
fn authorise(state: &AppState, headers: &HeaderMap) -> Result<Arc<dyn Jobs>, (StatusCode, String)> {
    let Some(token) = &state.token else {
        return Err((
            StatusCode::FORBIDDEN,
            "actions are disabled: set `token` under [serve] in yardstick.toml".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => {}
        Some(_) => return Err((StatusCode::UNAUTHORIZED, "wrong bearer token".into())),
        None => {
            return Err((
                StatusCode::UNAUTHORIZED,
                "actions need `Authorization: Bearer <[serve] token>`".into(),
            ))
        }
    }
    state.jobs.clone().ok_or((
        StatusCode::SERVICE_UNAVAILABLE,
        "this server was started without a job runner".into(),
    ))
}

/// Compares without stopping at the first difference, so response time does
/// not reveal how much of a guessed token is right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Queues `job` behind any running evaluation and answers 202 at once.
fn accept(state: &Arc<AppState>, jobs: Arc<dyn Jobs>, job: Job) -> Response {
    let lock = state.job_lock.clone();
    let accepted = serde_json::json!({ "accepted": job });
    tokio::spawn(async move {
        let _one_at_a_time = lock.lock().await;
        match jobs.run(job.clone()).await {
            Ok(what) => tracing::info!(?job, what, "action done"),
            Err(why) => tracing::error!(?job, why, "action failed"),
        }
    });
    (StatusCode::ACCEPTED, Json(accepted)).into_response()
}

fn refuse((status, message): (StatusCode, String)) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRun {
    kind: String,
    /// Draw date YYYY-MM-DD (default: today, local time).
    date: Option<String>,
}

async fn start_run(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let jobs = match authorise(&state, &headers) {
        Ok(j) => j,
        Err(e) => return refuse(e),
    };
    let request: StartRun = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refuse((
                StatusCode::BAD_REQUEST,
                format!("body: {e}; expected {{\"kind\": \"smoke\", \"date\": \"YYYY-MM-DD\"}} (date optional)"),
            ))
        }
    };
    let date = match request.date.as_deref() {
        None => chrono::Local::now().date_naive(),
        Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                return refuse((
                    StatusCode::BAD_REQUEST,
                    format!("date `{d}`: expected YYYY-MM-DD"),
                ))
            }
        },
    };
    accept(
        &state,
        jobs,
        Job::Run {
            kind: request.kind,
            date,
        },
    )
}

async fn start_retest(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(retest): Path<String>,
) -> Response {
    let jobs = match authorise(&state, &headers) {
        Ok(j) => j,
        Err(e) => return refuse(e),
    };
    let retest_id = match number("retest", &retest) {
        Ok(id) => id,
        Err(e) => return refuse((StatusCode::BAD_REQUEST, e.to_string())),
    };
    match state.store.get_retest(retest_id).await {
        Ok(Some(_)) => accept(&state, jobs, Job::Retest { retest_id }),
        Ok(None) => refuse((
            StatusCode::NOT_FOUND,
            format!("retest {retest_id} does not exist"),
        )),
        Err(e) => refuse((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn not_found(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let json = req.uri().path().starts_with("/api/");
    Failure {
        error: ViewError::NotFound(format!(
            "no page at {}; see / for the board and docs/API.md for the API",
            req.uri().path()
        )),
        json,
        state,
    }
    .into_response()
}
