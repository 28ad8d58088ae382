//! What each page shows, computed from the store as plain serialisable values.
//! The JSON API returns these values as they are and the HTML templates render
//! the same values, so a page and its API route can never disagree.

use serde::Serialize;
use std::collections::HashMap;
use yardstick_core::scoring::{RunScores, MAIN_WEIGHT_CODE, MAIN_WEIGHT_GROUNDING};
use yardstick_core::{Check, Dimension};
use yardstick_report::charts::{
    dimension_bars, history_chart, scatter_chart, verdict_marker, Band, Bar, HistoryChartPoint,
    ScatterPoint,
};
use yardstick_runner::calibrate::AdjustedScore;
use yardstick_runner::leaderboard::{board, model_scores, Board};
use yardstick_runner::RunError;
use yardstick_stats::interval::{t_interval, weighted_sum, Interval};
use yardstick_store::{RunRow, Store, VerdictRow};

/// Confidence level of every interval shown.
pub const LEVEL: f64 = 0.95;
/// Runs averaged by the rolling view.
pub const ROLLING_RUNS: usize = 5;
/// Runs shown in a model's history.
pub const HISTORY_RUNS: i64 = 120;

/// A page's data could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(transparent)]
    Run(#[from] RunError),
    /// Boxed: the store's errors carry their context and are large.
    #[error(transparent)]
    Store(Box<yardstick_store::StoreError>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// An article could not be written (e.g. a user's template fails).
    #[error("{0}")]
    Report(String),
}

impl From<yardstick_store::StoreError> for ViewError {
    fn from(e: yardstick_store::StoreError) -> Self {
        ViewError::Store(Box::new(e))
    }
}

/// The leaderboard views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardKind {
    /// The latest daily smoke run.
    Smoke,
    /// The latest weekly run.
    Weekly,
    /// Each model's mean over the last five smoke runs.
    Rolling5,
}

impl BoardKind {
    pub fn parse(s: &str) -> Result<BoardKind, ViewError> {
        match s {
            "smoke" => Ok(BoardKind::Smoke),
            "weekly" => Ok(BoardKind::Weekly),
            "rolling5" => Ok(BoardKind::Rolling5),
            other => Err(ViewError::BadRequest(format!(
                "view={other}: expected smoke, weekly or rolling5"
            ))),
        }
    }

    pub fn run_kind(self) -> &'static str {
        match self {
            BoardKind::Smoke | BoardKind::Rolling5 => "smoke",
            BoardKind::Weekly => "weekly",
        }
    }
}

/// Columns the board can be sorted by.
pub const SORT_KEYS: [&str; 11] = [
    "model",
    "main",
    "code_execution",
    "grounding",
    "judgment",
    "communication",
    "integrity",
    "gate",
    "stability",
    "availability",
    "value",
];

/// One model's line on the board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardLine {
    pub model: String,
    pub main: Option<f64>,
    pub main_raw: Option<f64>,
    pub cap_reason: Option<String>,
    /// 95% interval of the raw main score from the item scores.
    pub main_interval: Option<Interval>,
    pub gate: Option<String>,
    /// Dimension id → score, in `Dimension::ALL` order.
    pub dimensions: Vec<(String, Option<f64>)>,
    pub delta_main: Option<f64>,
    pub stability: Option<f64>,
    pub availability: Option<f64>,
    pub value: Option<f64>,
    pub cost_usd: f64,
    /// Runs behind this line (1 for smoke/weekly, up to 5 for rolling).
    pub runs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardView {
    pub view: BoardKind,
    /// The run shown (the newest one for the rolling view); `None`: no runs of the kind yet.
    pub run: Option<RunSummary>,
    pub rows: Vec<BoardLine>,
    pub sort: String,
    pub order: String,
    /// Inline SVG: main scores with intervals.
    pub main_chart: String,
    /// Inline SVG: main score against availability.
    pub side_chart: String,
    /// W: runs behind the stability column.
    pub window: usize,
    /// Difficulty-adjusted scores of the run (not for the rolling view),
    /// once `yardstick calibrate` has fitted its kind.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adjusted: Vec<AdjustedScore>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub kind: String,
    pub label: String,
    pub status: String,
    pub epochs: u32,
    pub models: Vec<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl From<&RunRow> for RunSummary {
    fn from(r: &RunRow) -> Self {
        RunSummary {
            id: r.id,
            kind: r.kind.clone(),
            label: r.label.clone(),
            status: r.status.as_str().to_string(),
            epochs: r.epochs,
            models: r.models.clone(),
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

/// The raw main score's interval: the weighted sum of the code-execution and
/// grounding intervals over their item scores.
pub fn main_interval(scores: &RunScores) -> Option<Interval> {
    let part = |d: Dimension, w: f64| {
        let s = scores.dimensions.get(&d)?;
        Some((w, t_interval(&s.item_scores, LEVEL)?))
    };
    let parts = [
        part(Dimension::CodeExecution, MAIN_WEIGHT_CODE)?,
        part(Dimension::Grounding, MAIN_WEIGHT_GROUNDING)?,
    ];
    weighted_sum(&parts, LEVEL)
}

fn line(model: &str, scores: &RunScores) -> BoardLine {
    BoardLine {
        model: model.to_string(),
        main: scores.main.as_ref().map(|m| m.published),
        main_raw: scores.main.as_ref().map(|m| m.raw),
        cap_reason: scores.main.as_ref().and_then(|m| m.cap_reason.clone()),
        main_interval: main_interval(scores),
        gate: scores.gate.map(|g| g.id().to_string()),
        dimensions: Dimension::ALL
            .iter()
            .map(|d| (d.id().to_string(), scores.dimension(*d)))
            .collect(),
        delta_main: None,
        stability: None,
        availability: scores.availability,
        value: scores.value,
        cost_usd: scores.cost_usd,
        runs: 1,
    }
}

fn from_board(b: &Board) -> Vec<BoardLine> {
    b.rows
        .iter()
        .map(|r| BoardLine {
            delta_main: r.delta_main,
            stability: r.stability,
            ..line(&r.model, &r.scores)
        })
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Each model's mean over the last [`ROLLING_RUNS`] smoke runs it took part in.
async fn rolling(store: &Store, runs: &[RunRow]) -> Result<Vec<BoardLine>, ViewError> {
    let mut per_model: HashMap<String, Vec<RunScores>> = HashMap::new();
    for run in runs {
        for model in store.run_models(run.id).await? {
            let scores = model_scores(store, run, &model).await?;
            per_model.entry(model).or_default().push(scores);
        }
    }
    let mut lines = Vec::new();
    for (model, all) in per_model {
        let newest = &all[0];
        let mains: Vec<f64> = all
            .iter()
            .filter_map(|s| s.main.as_ref().map(|m| m.published))
            .collect();
        let mut l = line(&model, newest);
        l.main = mean(mains.iter().copied());
        l.main_raw = mean(all.iter().filter_map(|s| s.main.as_ref().map(|m| m.raw)));
        // Run-to-run spread of the mean, not the newest run's item spread.
        l.main_interval = t_interval(&mains, LEVEL);
        l.dimensions = Dimension::ALL
            .iter()
            .map(|d| {
                (
                    d.id().to_string(),
                    mean(all.iter().filter_map(|s| s.dimension(*d))),
                )
            })
            .collect();
        l.availability = mean(all.iter().filter_map(|s| s.availability));
        l.value = mean(all.iter().filter_map(|s| s.value));
        l.cost_usd = all.iter().map(|s| s.cost_usd).sum::<f64>() / all.len() as f64;
        l.stability = yardstick_core::scoring::stability(&mains);
        l.runs = all.len();
        lines.push(l);
    }
    Ok(lines)
}

fn gate_rank(g: &Option<String>) -> u8 {
    match g.as_deref() {
        Some("pass") => 3,
        Some("warn") => 2,
        Some("fail") => 1,
        _ => 0,
    }
}

/// Sorts lines by a column of [`SORT_KEYS`]; missing values go last either way.
pub fn sort_lines(lines: &mut [BoardLine], key: &str, descending: bool) -> Result<(), ViewError> {
    if !SORT_KEYS.contains(&key) {
        return Err(ViewError::BadRequest(format!(
            "sort={key}: expected one of {}",
            SORT_KEYS.join(", ")
        )));
    }
    let number = |l: &BoardLine| -> Option<f64> {
        match key {
            "main" => l.main,
            "gate" => Some(f64::from(gate_rank(&l.gate))),
            "stability" => l.stability,
            "availability" => l.availability,
            "value" => l.value,
            dim => l
                .dimensions
                .iter()
                .find(|(d, _)| d == dim)
                .and_then(|x| x.1),
        }
    };
    lines.sort_by(|a, b| {
        use std::cmp::Ordering::*;
        if key == "model" {
            let o = a.model.cmp(&b.model);
            return if descending { o.reverse() } else { o };
        }
        match (number(a), number(b)) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(Equal);
                let o = if descending { o.reverse() } else { o };
                o.then_with(|| a.model.cmp(&b.model))
            }
            (Some(_), None) => Less,
            (None, Some(_)) => Greater,
            (None, None) => a.model.cmp(&b.model),
        }
    });
    Ok(())
}

/// The leaderboard of `view`; `window` is W of `stability_window` in
/// yardstick.toml, as `yardstick board` uses it.
pub async fn board_view(
    store: &Store,
    window: usize,
    view: BoardKind,
    sort: &str,
    descending: bool,
) -> Result<BoardView, ViewError> {
    let limit = if view == BoardKind::Rolling5 {
        ROLLING_RUNS as i64
    } else {
        1
    };
    let runs = store.runs_of_kind(view.run_kind(), limit).await?;
    let (mut rows, adjusted) = match (view, runs.first()) {
        (_, None) => (Vec::new(), Vec::new()),
        (BoardKind::Rolling5, Some(_)) => (rolling(store, &runs).await?, Vec::new()),
        (_, Some(run)) => {
            let b = board(store, run.id, window).await?;
            (from_board(&b), b.adjusted)
        }
    };
    sort_lines(&mut rows, sort, descending)?;
    let bars: Vec<Bar> = rows
        .iter()
        .filter_map(|l| {
            Some(Bar {
                label: l.model.clone(),
                value: l.main?,
                band: l.main_interval.map(Band::from),
                previous: None,
            })
        })
        .collect();
    let points: Vec<ScatterPoint> = rows
        .iter()
        .filter_map(|l| {
            Some(ScatterPoint {
                label: l.model.clone(),
                x: l.availability? * 100.0,
                y: l.main?,
            })
        })
        .collect();
    Ok(BoardView {
        view,
        run: runs.first().map(RunSummary::from),
        main_chart: dimension_bars("Main score (95% interval)", &bars),
        side_chart: scatter_chart(
            "Main score against availability (%)",
            "availability %",
            "main",
            &points,
        ),
        rows,
        sort: sort.to_string(),
        order: if descending { "desc" } else { "asc" }.to_string(),
        window,
        adjusted,
    })
}

/// One run in a model's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub run: i64,
    pub label: String,
    pub main: Option<f64>,
    pub interval: Option<Interval>,
    pub availability: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerdictView {
    pub id: i64,
    pub run: i64,
    pub series: String,
    pub verdict: String,
    pub detected_verdict: String,
    pub explanation: String,
    pub retest_id: Option<i64>,
    pub retest_decision: Option<String>,
    pub numbers: serde_json::Value,
    pub created_at: i64,
}

impl From<VerdictRow> for VerdictView {
    fn from(v: VerdictRow) -> Self {
        VerdictView {
            numbers: serde_json::from_str(&v.numbers_json).unwrap_or(serde_json::Value::Null),
            id: v.id,
            run: v.run_id,
            series: v.series,
            verdict: v.verdict,
            detected_verdict: v.detected_verdict,
            explanation: v.explanation,
            retest_id: v.retest_id,
            retest_decision: v.retest_decision,
            created_at: v.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelView {
    pub model: String,
    pub kind: String,
    /// Oldest first.
    pub history: Vec<HistoryPoint>,
    /// The newest run's full line (dimensions, gate, availability, value).
    pub latest: Option<BoardLine>,
    pub latest_run: Option<i64>,
    pub verdicts: Vec<VerdictView>,
    pub history_chart: String,
}

/// Verdicts of the model among the newest this many (all models).
const VERDICTS_SCANNED: i64 = 5000;

pub async fn model_view(store: &Store, model: &str, kind: &str) -> Result<ModelView, ViewError> {
    let run_ids = store
        .runs_with_model(kind, model, None, HISTORY_RUNS)
        .await?;
    if run_ids.is_empty() && store.get_model(model).await?.is_none() {
        return Err(ViewError::NotFound(format!(
            "no model `{model}` in the database; the board lists the stored models"
        )));
    }
    let mut history = Vec::new();
    let mut latest = None;
    for id in run_ids.iter().rev() {
        let run = store.get_run(*id).await?.ok_or(RunError::NoSuchRun(*id))?;
        let scores = model_scores(store, &run, model).await?;
        history.push(HistoryPoint {
            run: run.id,
            label: run.label.clone(),
            main: scores.main.as_ref().map(|m| m.published),
            interval: main_interval(&scores),
            availability: scores.availability,
        });
        latest = Some(line(model, &scores));
    }
    let verdicts: Vec<VerdictView> = store
        .list_verdicts(None, VERDICTS_SCANNED)
        .await?
        .into_iter()
        .filter(|v| v.model == model)
        .map(VerdictView::from)
        .collect();
    let points: Vec<HistoryChartPoint> = history
        .iter()
        .map(|h| HistoryChartPoint {
            label: format!("#{} {}", h.run, h.label),
            value: h.main,
            band: h.interval.map(Band::from),
            marker: verdicts
                .iter()
                .find(|v| v.run == h.run && v.series == "main")
                .and_then(|v| verdict_marker(&v.verdict)),
        })
        .collect();
    Ok(ModelView {
        model: model.to_string(),
        kind: kind.to_string(),
        latest_run: run_ids.first().copied(),
        history_chart: history_chart(
            &format!("{model}: main score per `{kind}` run (95% interval)"),
            &points,
        ),
        history,
        latest,
        verdicts,
    })
}

/// One attempt with everything stored about it.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub id: i64,
    pub run: i64,
    pub model: String,
    pub item_id: String,
    pub item_version: String,
    pub epoch: u32,
    pub response: Option<String>,
    pub finish_reason: Option<String>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub latency_ms: u64,
    pub tries: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub score: Option<f64>,
    pub grader: Option<String>,
    /// What the grader took from the answer (e.g. the extracted code).
    pub extracted: Option<String>,
    /// Every check, with its detail (a code check's detail holds the sandbox log).
    pub checks: Vec<Check>,
}

fn attempt_view(
    a: yardstick_store::AttemptRow,
    g: Option<yardstick_store::GradeRow>,
) -> AttemptView {
    AttemptView {
        id: a.id,
        run: a.run_id,
        model: a.model,
        item_id: a.item_id,
        item_version: a.item_version,
        epoch: a.epoch,
        response: a.response_text,
        finish_reason: a.finish_reason,
        error_class: a.error_class.map(|c| c.id().to_string()),
        error_message: a.error_message,
        latency_ms: a.latency_ms,
        tries: a.tries,
        input_tokens: a.input_tokens,
        output_tokens: a.output_tokens,
        score: g.as_ref().map(|g| g.score),
        grader: g
            .as_ref()
            .map(|g| format!("{}@{}", g.grader_id, g.grader_version)),
        extracted: g.as_ref().and_then(|g| g.extracted.clone()),
        checks: g
            .and_then(|g| serde_json::from_str(&g.checks_json).ok())
            .unwrap_or_default(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunItemView {
    pub item_id: String,
    pub version: String,
    pub dimension: String,
    pub system: Option<String>,
    pub materials: Option<String>,
    pub prompt: String,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub run: RunSummary,
    pub config: serde_json::Value,
    pub items: Vec<RunItemView>,
}

pub async fn run_view(store: &Store, run_id: i64) -> Result<RunView, ViewError> {
    let run = store.get_run(run_id).await?.ok_or_else(|| {
        ViewError::NotFound(format!(
            "Run #{run_id} does not exist; /runs lists the stored runs"
        ))
    })?;
    let mut grades: HashMap<i64, yardstick_store::GradeRow> = store
        .current_grades_for_run(run_id)
        .await?
        .into_iter()
        .map(|g| (g.attempt_id, g))
        .collect();
    let mut by_version: HashMap<String, Vec<AttemptView>> = HashMap::new();
    for a in store.attempts_for_run(run_id).await? {
        let g = grades.remove(&a.id);
        by_version
            .entry(a.item_version.clone())
            .or_default()
            .push(attempt_view(a, g));
    }
    let items = store
        .drawn_items(run_id)
        .await?
        .into_iter()
        .map(|(version, item)| RunItemView {
            attempts: by_version.remove(&version).unwrap_or_default(),
            item_id: item.id,
            version,
            dimension: item.dimension.id().to_string(),
            system: item.system,
            materials: item.materials,
            prompt: item.prompt,
        })
        .collect();
    Ok(RunView {
        config: serde_json::from_str(&run.config_json).unwrap_or(serde_json::Value::Null),
        run: RunSummary::from(&run),
        items,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub item_id: String,
    /// (version, first seen) oldest first.
    pub versions: Vec<(String, i64)>,
    pub prompt: Option<String>,
    /// Every attempt, oldest run first.
    pub attempts: Vec<AttemptView>,
}

/// Attempts shown on an item page at most.
const ITEM_ATTEMPTS: i64 = 5000;

pub async fn item_view(store: &Store, item_id: &str) -> Result<ItemView, ViewError> {
    let versions = store.item_history(item_id).await?;
    let Some((newest, _)) = versions.last() else {
        return Err(ViewError::NotFound(format!(
            "no item `{item_id}` in the database; a run page lists its items"
        )));
    };
    let prompt = store.get_item(item_id, newest).await?.map(|i| i.prompt);
    let attempts = store
        .item_attempts(item_id, ITEM_ATTEMPTS)
        .await?
        .into_iter()
        .map(|(a, g)| attempt_view(a, g))
        .collect();
    Ok(ItemView {
        item_id: item_id.to_string(),
        versions,
        prompt,
        attempts,
    })
}

pub async fn runs_list(store: &Store, limit: i64) -> Result<Vec<RunSummary>, ViewError> {
    Ok(store
        .list_runs(limit)
        .await?
        .iter()
        .map(RunSummary::from)
        .collect())
}

/// One grade of an attempt, with its checks.
#[derive(Debug, Clone, Serialize)]
pub struct GradeView {
    pub id: i64,
    pub grader: String,
    pub score: f64,
    pub extracted: Option<String>,
    pub checks: Vec<Check>,
    pub created_at: i64,
}

/// An attempt with its request as sent and every grade (oldest first; the
/// last is current).
#[derive(Debug, Clone, Serialize)]
pub struct AttemptDetail {
    pub attempt: AttemptView,
    pub request: serde_json::Value,
    pub grades: Vec<GradeView>,
}

pub async fn attempt_detail(store: &Store, attempt_id: i64) -> Result<AttemptDetail, ViewError> {
    let a = store.get_attempt(attempt_id).await?.ok_or_else(|| {
        ViewError::NotFound(format!(
            "attempt {attempt_id} does not exist; a run page lists its attempts"
        ))
    })?;
    let grades = store.grades_for_attempt(attempt_id).await?;
    let request = serde_json::from_str(&a.request_json).unwrap_or(serde_json::Value::Null);
    let views = grades
        .iter()
        .map(|g| GradeView {
            id: g.id,
            grader: format!("{}@{}", g.grader_id, g.grader_version),
            score: g.score,
            extracted: g.extracted.clone(),
            checks: serde_json::from_str(&g.checks_json).unwrap_or_default(),
            created_at: g.created_at,
        })
        .collect();
    Ok(AttemptDetail {
        attempt: attempt_view(a, grades.last().cloned()),
        request,
        grades: views,
    })
}
