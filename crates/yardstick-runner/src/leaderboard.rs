//! The leaderboard's numbers for one run, read from the store: each model's
//! index scores with their intervals, its move against its previous run of
//! the same kind (all items, and paired on the items both runs share), the
//! day's field-wide move and each model's move relative to it, stability
//! over the last W runs (and across epochs within the run), rolling averages,
//! and model-vs-model comparisons. The statistics are `yardstick-stats`;
//! this module only gathers the stored values they need.
//!
//! Each run involved is read once (every model's outcomes in one query, the
//! item clusters in another), however many models and windows refer to it.

use crate::calibrate::{adjusted_scores_of, AdjustedScore, ModelAnswers};
use crate::plan::RunConfig;
use crate::RunError;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use yardstick_core::scoring::{
    sample_sd, score_run, stability, RunScores, MAIN_WEIGHT_CODE, MAIN_WEIGHT_GROUNDING,
};
use yardstick_core::Dimension;
use yardstick_stats::day_effect::{day_effect, ModelDays, ModelMove, Scored};
use yardstick_stats::interval::{self, BootstrapPart, Interval, LEVEL_95};
use yardstick_stats::paired::{self, holm, PairedDiff};
use yardstick_store::{OutcomeRow, RunRow, Store};

/// Family-wise error rate of Holm's correction across a board's comparisons.
pub const HOLM_ALPHA: f64 = 0.05;
/// The fewest bootstrap resamples the board accepts (METHODS.md: 1,000+).
pub const MIN_BOOTSTRAP_RESAMPLES: usize = 1_000;

/// What to compute besides the scores and their analytic intervals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardOptions {
    /// W: stability and the day effect's baseline use the last W runs of the kind.
    pub window: usize,
    /// Cluster-bootstrap intervals with this many resamples instead of t / Wilson.
    pub bootstrap: Option<usize>,
    /// Compare every pair of models of the run on their shared items.
    pub compare: bool,
    /// Rolling averages over the last R runs of the kind, this one included.
    pub rolling: Option<usize>,
}

impl BoardOptions {
    /// Analytic intervals, no pairwise comparisons, no rolling averages.
    pub fn new(window: usize) -> BoardOptions {
        BoardOptions {
            window,
            bootstrap: None,
            compare: false,
            rolling: None,
        }
    }
}

/// The 95% intervals of one model's scores in one run (0–100 points).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScoreIntervals {
    /// Per dimension: Wilson for pass/fail items (every item 0 or 100), else
    /// t — clustered when items share a cluster, with the epochs variance when
    /// items were asked more than once — or the bootstrap on request. Absent
    /// when the data carry no interval (one item, one cluster).
    pub dimensions: BTreeMap<Dimension, Interval>,
    /// The raw main score: 0.55 × code + 0.45 × grounding with the two
    /// dimensions treated as independent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_raw: Option<Interval>,
    /// The published main score: the raw interval with the integrity cap
    /// applied to its estimate and both ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main: Option<Interval>,
}

/// A paired difference with its p-value after Holm's correction across
/// every comparison on the board.
#[derive(Debug, Clone, Serialize)]
pub struct Tested {
    #[serde(flatten)]
    pub diff: PairedDiff,
    pub p_holm: f64,
    /// Holm-adjusted p ≤ [`HOLM_ALPHA`].
    pub significant: bool,
}

/// `model` in `run` minus `against_model` in `against_run`, on the items
/// both answered (same item id and version; epoch means).
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub model: String,
    pub run: i64,
    pub against_model: String,
    pub against_run: i64,
    /// The raw main score's difference (0.55/0.45 of the dimension differences).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main: Option<Tested>,
    pub dimensions: BTreeMap<Dimension, Tested>,
}

/// The average of a model's last runs of the kind, with its interval.
#[derive(Debug, Clone, Serialize)]
pub struct Rolling {
    /// The runs averaged, newest first.
    pub runs: Vec<i64>,
    /// Mean published main score over the runs that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main: Option<Interval>,
    pub dimensions: BTreeMap<Dimension, Interval>,
}

/// The field's move on this run (the day effect γ̂ on the raw main score).
#[derive(Debug, Clone, Serialize)]
pub struct FieldMove {
    /// γ̂: mean over models of (main now − the model's baseline mean).
    pub field_move: f64,
    pub field_se: f64,
    /// Models with a baseline (earlier runs of the kind within W).
    pub models: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub model: String,
    pub scores: RunScores,
    pub intervals: ScoreIntervals,
    /// The model's previous run of the same kind, if any.
    pub previous_run: Option<i64>,
    /// Published main score now minus in the previous run (all items of each).
    pub delta_main: Option<f64>,
    /// Per-dimension moves against the previous run.
    pub delta_dimensions: Vec<(Dimension, f64)>,
    /// The move against the previous run on the items both runs share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_previous: Option<Comparison>,
    /// max(0, 100 − 2σ) over the last `window` runs of this kind; `None` below 3 runs.
    pub stability: Option<f64>,
    pub stability_runs: usize,
    /// max(0, 100 − 2σ) over the raw main score of each epoch of this run;
    /// `None` with one epoch.
    pub stability_within: Option<f64>,
    /// The raw main score's move against the model's baseline, absolute and
    /// relative to the field (day effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_move: Option<ModelMove>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolling: Option<Rolling>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub run: RunRow,
    pub window: usize,
    /// Resamples when the intervals are bootstrapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<usize>,
    /// Ranked by published main score (rows without one last).
    pub rows: Vec<BoardRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_effect: Option<FieldMove>,
    /// Model vs model on this run (with `compare`), each pair once.
    pub comparisons: Vec<Comparison>,
    /// Every p-value on the board is Holm-adjusted across this many tests.
    pub holm_tests: usize,
    /// Difficulty-adjusted scores under the newest calibration of the run's
    /// kind (`yardstick calibrate`); empty before the first calibration.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adjusted: Vec<AdjustedScore>,
}

fn run_config(run: &RunRow) -> Result<RunConfig, RunError> {
    serde_json::from_str(&run.config_json).map_err(|e| RunError::BadRunConfig {
        run: run.id,
        message: e.to_string(),
    })
}

/// One item's graded answers of one model: (epoch, score) pairs.
#[derive(Debug, Clone)]
struct ItemAnswers {
    dimension: Dimension,
    cluster: Option<String>,
    graded: Vec<(u32, f64)>,
}

impl ItemAnswers {
    fn mean(&self) -> f64 {
        self.graded.iter().map(|(_, s)| s).sum::<f64>() / self.graded.len() as f64
    }
}

/// One model in one run: its index scores, graded answers by (item id,
/// version), and the intervals.
#[derive(Debug, Clone)]
struct ModelRun {
    scores: RunScores,
    items: BTreeMap<(String, String), ItemAnswers>,
    intervals: ScoreIntervals,
}

impl ModelRun {
    fn dimension_items(&self, d: Dimension) -> impl Iterator<Item = &ItemAnswers> {
        self.items.values().filter(move |i| i.dimension == d)
    }
}

/// Scores one model's outcomes with the prices stored with the run.
fn score_model(config: &RunConfig, model: &str, rows: &[OutcomeRow]) -> RunScores {
    let outcomes: Vec<_> = rows.iter().map(OutcomeRow::to_outcome).collect();
    let spec = config.model(model);
    score_run(&outcomes, |i, o| spec.map_or(0.0, |s| s.cost_usd(i, o)))
}

/// One model's scores in one run, priced with the prices stored with that run.
pub async fn model_scores(store: &Store, run: &RunRow, model: &str) -> Result<RunScores, RunError> {
    let config = run_config(run)?;
    let rows = store.outcomes(run.id, Some(model)).await?;
    Ok(score_model(&config, model, &rows))
}

/// Every model of a run, read with one outcomes query and one clusters query.
async fn load_run(
    store: &Store,
    run: &RunRow,
    bootstrap: Option<usize>,
) -> Result<BTreeMap<String, ModelRun>, RunError> {
    let config = run_config(run)?;
    let clusters = store.run_item_clusters(run.id).await?;
    let mut by_model: BTreeMap<String, Vec<OutcomeRow>> = BTreeMap::new();
    for row in store.outcomes(run.id, None).await? {
        by_model.entry(row.model.clone()).or_default().push(row);
    }
    Ok(by_model
        .into_iter()
        .map(|(model, rows)| {
            let scores = score_model(&config, &model, &rows);
            let mut items: BTreeMap<(String, String), ItemAnswers> = BTreeMap::new();
            for r in rows {
                let Some(score) = r.score else { continue };
                let key = (r.item_id, r.item_version);
                let cluster = clusters.get(&key).cloned();
                items
                    .entry(key)
                    .or_insert_with(|| ItemAnswers {
                        dimension: r.dimension,
                        cluster,
                        graded: Vec::new(),
                    })
                    .graded
                    .push((r.epoch, score));
            }
            let bootstrap = bootstrap.map(|resamples| (resamples, run.seed));
            let intervals = intervals(&scores, &items, bootstrap);
            (
                model,
                ModelRun {
                    scores,
                    items,
                    intervals,
                },
            )
        })
        .collect())
}

/// A dimension's items as the interval functions take them.
struct DimensionSample<'a> {
    means: Vec<f64>,
    clusters: Vec<Option<&'a str>>,
    answers: Vec<Vec<f64>>,
}

impl<'a> DimensionSample<'a> {
    fn new(items: impl Iterator<Item = &'a ItemAnswers>) -> DimensionSample<'a> {
        let mut sample = DimensionSample {
            means: Vec::new(),
            clusters: Vec::new(),
            answers: Vec::new(),
        };
        for item in items {
            sample.means.push(item.mean());
            sample.clusters.push(item.cluster.as_deref());
            sample
                .answers
                .push(item.graded.iter().map(|(_, s)| *s).collect());
        }
        sample
    }

    fn part(&self, weight: f64) -> BootstrapPart<'_> {
        BootstrapPart {
            weight,
            scores: &self.means,
            clusters: &self.clusters,
        }
    }

    /// Wilson for pass/fail items; clustered t when items share a cluster
    /// (`None` below two clusters: one document says nothing about others);
    /// the epochs formula when items were asked more than once; else t.
    fn analytic(&self) -> Option<Interval> {
        let n = self.means.len();
        let passed = self.means.iter().filter(|&&s| s == 100.0).count();
        let failed = self.means.iter().filter(|&&s| s == 0.0).count();
        let mut seen = std::collections::HashSet::new();
        let shared_cluster = self.clusters.iter().flatten().any(|c| !seen.insert(*c));
        if n > 0 && passed + failed == n {
            interval::wilson(passed, n, LEVEL_95).map(|i| i.scaled(100.0))
        } else if shared_cluster {
            interval::clustered_t(&self.means, &self.clusters, LEVEL_95)
        } else if self.answers.iter().any(|a| a.len() > 1) {
            interval::epochs_interval(&self.answers, LEVEL_95)
        } else {
            interval::t_interval(&self.means, LEVEL_95)
        }
    }
}

/// The intervals of one model's scores; `bootstrap` = (resamples, seed).
fn intervals(
    scores: &RunScores,
    items: &BTreeMap<(String, String), ItemAnswers>,
    bootstrap: Option<(usize, u64)>,
) -> ScoreIntervals {
    let samples: BTreeMap<Dimension, DimensionSample> = Dimension::ALL
        .into_iter()
        .map(|d| {
            (
                d,
                DimensionSample::new(items.values().filter(|i| i.dimension == d)),
            )
        })
        .filter(|(_, s)| !s.means.is_empty())
        .collect();
    let resampled = |parts: &[BootstrapPart]| {
        let (resamples, seed) = bootstrap?;
        interval::cluster_bootstrap(parts, resamples, seed, LEVEL_95)
    };
    let dimensions: BTreeMap<Dimension, Interval> = samples
        .iter()
        .filter_map(|(d, s)| {
            let i = if bootstrap.is_some() {
                resampled(&[s.part(1.0)])
            } else {
                s.analytic()
            };
            Some((*d, i?.bounded(0.0, 100.0)))
        })
        .collect();
    let main_raw = match (
        samples.get(&Dimension::CodeExecution),
        samples.get(&Dimension::Grounding),
    ) {
        (Some(code), Some(grounding)) if bootstrap.is_some() => resampled(&[
            code.part(MAIN_WEIGHT_CODE),
            grounding.part(MAIN_WEIGHT_GROUNDING),
        ]),
        _ => {
            let code = dimensions.get(&Dimension::CodeExecution);
            let grounding = dimensions.get(&Dimension::Grounding);
            code.zip(grounding).and_then(|(c, g)| {
                interval::weighted_sum(
                    &[(MAIN_WEIGHT_CODE, *c), (MAIN_WEIGHT_GROUNDING, *g)],
                    LEVEL_95,
                )
            })
        }
    }
    .map(|i| i.bounded(0.0, 100.0));
    let main = match (&scores.main, main_raw) {
        (Some(m), Some(raw)) if m.cap_reason.is_some() => Some(raw.capped(m.published)),
        (_, raw) => raw,
    };
    ScoreIntervals {
        dimensions,
        main_raw,
        main,
    }
}

/// max(0, 100 − 2σ) over the raw main score of each epoch (each epoch's
/// code-execution and grounding means); `None` below two epochs with both.
fn stability_within(run: &ModelRun) -> Option<f64> {
    let epoch_means = |d: Dimension| {
        let mut sums: BTreeMap<u32, (f64, usize)> = BTreeMap::new();
        for item in run.dimension_items(d) {
            for (epoch, score) in &item.graded {
                let e = sums.entry(*epoch).or_default();
                e.0 += score;
                e.1 += 1;
            }
        }
        sums.into_iter()
            .map(|(e, (sum, n))| (e, sum / n as f64))
            .collect::<BTreeMap<u32, f64>>()
    };
    let code = epoch_means(Dimension::CodeExecution);
    let grounding = epoch_means(Dimension::Grounding);
    let mains: Vec<f64> = code
        .iter()
        .filter_map(|(e, c)| Some(yardstick_core::scoring::main_score(*c, *grounding.get(e)?)))
        .collect();
    sample_sd(&mains).map(|sd| (100.0 - 2.0 * sd).max(0.0))
}

/// `a` minus `b` on their shared items, per dimension and for the main mix.
fn compare(
    (model, run, a): (&str, i64, &ModelRun),
    (against_model, against_run, b): (&str, i64, &ModelRun),
) -> Comparison {
    let mut diffs: BTreeMap<Dimension, PairedDiff> = BTreeMap::new();
    for d in Dimension::ALL {
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for (key, item) in a.items.iter().filter(|(_, i)| i.dimension == d) {
            if let Some(other) = b.items.get(key) {
                xs.push(item.mean());
                ys.push(other.mean());
            }
        }
        if let Some(diff) = paired::paired(&xs, &ys) {
            diffs.insert(d, diff);
        }
    }
    let main = diffs
        .get(&Dimension::CodeExecution)
        .zip(diffs.get(&Dimension::Grounding))
        .and_then(|(c, g)| {
            paired::weighted(&[(MAIN_WEIGHT_CODE, *c), (MAIN_WEIGHT_GROUNDING, *g)])
        });
    // p_holm is set once every comparison of the board is known.
    let tested = |diff: PairedDiff| Tested {
        diff,
        p_holm: diff.p,
        significant: false,
    };
    Comparison {
        model: model.to_string(),
        run,
        against_model: against_model.to_string(),
        against_run,
        main: main.map(tested),
        dimensions: diffs.into_iter().map(|(d, x)| (d, tested(x))).collect(),
    }
}

/// Holm's correction across every test of the board; returns the family size.
fn adjust_across_board<'a>(comparisons: impl Iterator<Item = &'a mut Comparison>) -> usize {
    let mut tests: Vec<&mut Tested> = comparisons
        .flat_map(|c| c.main.iter_mut().chain(c.dimensions.values_mut()))
        .collect();
    let p: Vec<f64> = tests.iter().map(|t| t.diff.p).collect();
    for (t, h) in tests.iter_mut().zip(holm(&p, HOLM_ALPHA)) {
        t.p_holm = h.adjusted_p;
        t.significant = h.reject;
    }
    tests.len()
}

/// The average of each score over `runs` (newest first, this run included),
/// with the intervals of the runs averaged as independent estimates.
fn rolling(ids: Vec<i64>, runs: &[&ModelRun]) -> Rolling {
    let average = |intervals: Vec<Interval>| {
        let w = 1.0 / intervals.len() as f64;
        let parts: Vec<(f64, Interval)> = intervals.into_iter().map(|i| (w, i)).collect();
        interval::weighted_sum(&parts, LEVEL_95).map(|i| i.bounded(0.0, 100.0))
    };
    Rolling {
        runs: ids,
        main: average(runs.iter().filter_map(|r| r.intervals.main).collect()),
        dimensions: Dimension::ALL
            .into_iter()
            .filter_map(|d| {
                let found: Vec<Interval> = runs
                    .iter()
                    .filter_map(|r| r.intervals.dimensions.get(&d).copied())
                    .collect();
                Some((d, average(found)?))
            })
            .collect(),
    }
}

/// The board of run `run_id`; `window` is W for stability.
pub async fn board(store: &Store, run_id: i64, window: usize) -> Result<Board, RunError> {
    board_with(store, run_id, &BoardOptions::new(window)).await
}

/// The board of run `run_id` with everything `options` asks for.
pub async fn board_with(
    store: &Store,
    run_id: i64,
    options: &BoardOptions,
) -> Result<Board, RunError> {
    let run = store
        .get_run(run_id)
        .await?
        .ok_or(RunError::NoSuchRun(run_id))?;
    let window = options.window;
    let lookback = window.max(options.rolling.unwrap_or(0)).saturating_sub(1);
    let mut runs: HashMap<i64, BTreeMap<String, ModelRun>> = HashMap::new();
    runs.insert(run.id, load_run(store, &run, options.bootstrap).await?);
    let models: Vec<String> = runs[&run.id].keys().cloned().collect();
    let mut histories: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for model in &models {
        let history = store
            .runs_with_model(&run.kind, model, Some(run_id), lookback as i64)
            .await?;
        for past_id in &history {
            if !runs.contains_key(past_id) {
                let past_run = store
                    .get_run(*past_id)
                    .await?
                    .ok_or(RunError::NoSuchRun(*past_id))?;
                runs.insert(
                    *past_id,
                    load_run(store, &past_run, options.bootstrap).await?,
                );
            }
        }
        histories.insert(model.clone(), history);
    }
    // A model's run in the history it was found in always has its outcomes.
    let model_run = |id: i64, model: &str| &runs[&id][model];

    let mut rows = Vec::new();
    let mut days = Vec::new();
    for model in &models {
        let now = model_run(run.id, model);
        let history = &histories[model];
        let in_window: Vec<&ModelRun> = history
            .iter()
            .take(window.saturating_sub(1))
            .map(|id| model_run(*id, model))
            .collect();
        let previous = history.first().map(|id| (*id, model_run(*id, model)));
        let delta_main = previous.and_then(|(_, then)| {
            Some(now.scores.main.as_ref()?.published - then.scores.main.as_ref()?.published)
        });
        let delta_dimensions = previous
            .map(|(_, then)| {
                Dimension::ALL
                    .into_iter()
                    .filter_map(|d| Some((d, now.scores.dimension(d)? - then.scores.dimension(d)?)))
                    .collect()
            })
            .unwrap_or_default();
        let mains: Vec<f64> = std::iter::once(now)
            .chain(in_window.iter().copied())
            .filter_map(|r| r.scores.main.as_ref().map(|m| m.published))
            .collect();
        let scored = |r: &ModelRun| {
            Some(Scored {
                score: r.scores.main.as_ref()?.raw,
                se: r.intervals.main_raw?.se,
            })
        };
        days.push(scored(now).map(|latest| ModelDays {
            latest,
            baseline: in_window.iter().filter_map(|r| scored(r)).collect(),
        }));
        let rolling = options.rolling.map(|r| {
            let ids: Vec<i64> = std::iter::once(run.id)
                .chain(history.iter().copied())
                .take(r)
                .collect();
            let averaged: Vec<&ModelRun> = ids.iter().map(|id| model_run(*id, model)).collect();
            rolling(ids, &averaged)
        });
        rows.push(BoardRow {
            model: model.clone(),
            scores: now.scores.clone(),
            intervals: now.intervals.clone(),
            previous_run: previous.map(|(id, _)| id),
            delta_main,
            delta_dimensions,
            vs_previous: previous
                .map(|(id, then)| compare((model, run.id, now), (model, id, then))),
            stability: stability(&mains),
            stability_runs: mains.len(),
            stability_within: stability_within(now),
            day_move: None,
            rolling,
        });
    }

    // Day effect: only models with a main score today take part.
    let with_day: Vec<usize> = (0..days.len()).filter(|i| days[*i].is_some()).collect();
    let inputs: Vec<ModelDays> = days.into_iter().flatten().collect();
    let effect = day_effect(&inputs);
    if let Some(e) = &effect {
        for (row_index, m) in with_day.iter().zip(&e.moves) {
            rows[*row_index].day_move = *m;
        }
    }

    let mut comparisons = Vec::new();
    if options.compare {
        for (i, a) in models.iter().enumerate() {
            for b in &models[i + 1..] {
                comparisons.push(compare(
                    (a, run.id, model_run(run.id, a)),
                    (b, run.id, model_run(run.id, b)),
                ));
            }
        }
    }
    let holm_tests = adjust_across_board(
        rows.iter_mut()
            .filter_map(|r| r.vs_previous.as_mut())
            .chain(comparisons.iter_mut()),
    );

    let answers: ModelAnswers = models
        .iter()
        .map(|m| {
            let graded = model_run(run.id, m)
                .items
                .iter()
                .flat_map(|((_, version), a)| a.graded.iter().map(|(_, s)| (version.clone(), *s)))
                .collect();
            (m.to_string(), graded)
        })
        .collect();
    let adjusted = adjusted_scores_of(store, &run.kind, run.id, answers).await?;

    rows.sort_by(|a, b| {
        let key = |r: &BoardRow| r.scores.main.as_ref().map(|m| m.published);
        match (key(a), key(b)) {
            (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.model.cmp(&b.model),
        }
    });
    Ok(Board {
        run,
        window,
        bootstrap: options.bootstrap,
        rows,
        day_effect: effect.map(|e| FieldMove {
            field_move: e.field_move,
            field_se: e.field_se,
            models: e.models,
        }),
        comparisons,
        holm_tests,
        adjusted,
    })
}
