//! The articles of a run: which ones to write ([`plan_articles`]), their
//! deterministic prose, and their rendering through the templates
//! ([`render_article`]). Pure: [`ReportData`] in, text out.

use crate::charts::{
    day_effect_chart, dimension_bars, history_chart, verdict_marker, Band, Bar, DayEffectPoint,
    HistoryChartPoint,
};
use crate::config::ReportConfig;
use crate::data::HistoryPoint;
use crate::data::{ModelData, ReportData};
use crate::narrator::Narration;
use crate::rules::{evaluate, Finding};
use crate::templates::{fmt_score, fmt_signed, Templates};
use crate::ReportError;
use serde::{Deserialize, Serialize};
use yardstick_core::Dimension;
use yardstick_stats::dist::normal_quantile;
use yardstick_stats::interval::Interval;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleKind {
    Roundup,
    Anomaly,
}

/// The prose of an article, the part a narrator may rewrite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prose {
    pub lead: String,
    pub fluctuation: String,
    pub attention: String,
}

impl Prose {
    pub fn paragraphs(&self) -> [&str; 3] {
        [&self.lead, &self.fluctuation, &self.attention]
    }
}

/// An article to write: what it is about and its deterministic prose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticlePlan {
    pub kind: ArticleKind,
    /// The model of an anomaly article.
    pub model: Option<String>,
    pub headline: String,
    pub prose: Prose,
    pub findings: Vec<Finding>,
    /// File name without extension: `run-N-roundup`, `run-N-MODEL`.
    pub stem: String,
}

/// A rendered article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Article {
    pub kind: ArticleKind,
    pub model: Option<String>,
    pub headline: String,
    /// File name with the format's extension.
    pub file_name: String,
    #[serde(skip)]
    pub body: String,
    /// What the narrator did, if one is configured.
    pub narration: Option<Narration>,
}

/// The articles of a run: the roundup and one anomaly article per model
/// whose published main score moved more than the threshold — or, with
/// `only_model`, that model's article alone, whatever its move.
pub fn plan_articles(
    data: &ReportData,
    config: &ReportConfig,
    only_model: Option<&str>,
) -> Result<Vec<ArticlePlan>, ReportError> {
    if let Some(name) = only_model {
        let model = data.model(name).ok_or_else(|| ReportError::UnknownModel {
            run: data.run.id,
            model: name.into(),
            known: data
                .models
                .iter()
                .map(|m| m.model.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        return Ok(vec![anomaly_plan(data, config, model)]);
    }
    let mut plans = vec![roundup_plan(data, config)];
    plans.extend(
        anomalous(data, config)
            .into_iter()
            .map(|m| anomaly_plan(data, config, m)),
    );
    Ok(plans)
}

fn anomalous<'a>(data: &'a ReportData, config: &ReportConfig) -> Vec<&'a ModelData> {
    data.models
        .iter()
        .filter(|m| {
            m.delta_main
                .is_some_and(|d| d.abs() > config.anomaly_threshold)
        })
        .collect()
}

/// Files are named after the model; anything but letters, digits, `.`, `-`
/// and `_` becomes `_` so a model name cannot leave the output directory.
fn file_stem(run: i64, what: &str) -> String {
    let safe: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("run-{run}-{}", safe.trim_start_matches('.'))
}

fn move_words(delta: f64) -> &'static str {
    if delta < 0.0 {
        "drops"
    } else {
        "rises"
    }
}

fn headline_of(model: &ModelData) -> String {
    match model.delta_main {
        Some(d) => format!("{} {} {:.1} points", model.model, move_words(d), d.abs()),
        None => format!("{}: no earlier run to compare with", model.model),
    }
}

fn roundup_plan(data: &ReportData, config: &ReportConfig) -> ArticlePlan {
    let run = &data.run;
    let anomalies = anomalous(data, config);
    let leader = data.models.iter().find(|m| m.rank == Some(1));
    let headline = match leader {
        Some(l) => format!(
            "Run #{}: {} leads with {}",
            run.id,
            l.model,
            fmt_score(l.main)
        ),
        None => format!("Run #{}: no model has a main score", run.id),
    };
    let mut lead = format!(
        "Run #{} ({}, {}) asked {} models {} items.",
        run.id,
        run.kind,
        run.label,
        data.models.len(),
        run.items
    );
    if let Some(l) = leader {
        lead.push_str(&format!(
            " {} ranks first with a published main score of {}.",
            l.model,
            fmt_score(l.main)
        ));
    }
    if let Some(e) = &data.field_move {
        lead.push_str(&format!(
            " Across the field, raw main scores moved {:+.1} points (SE {:.1}, {} models) against each model's earlier runs.",
            e.field_move, e.field_se, e.models
        ));
    }
    if anomalies.is_empty() {
        lead.push_str(&format!(
            " No model moved more than {:.1} points since its previous {} run.",
            config.anomaly_threshold, run.kind
        ));
    } else {
        let moves: Vec<String> = anomalies
            .iter()
            .map(|m| headline_of(m).to_string())
            .collect();
        lead.push_str(&format!(
            " {} of them moved more than {:.1} points: {}.",
            anomalies.len(),
            config.anomaly_threshold,
            moves.join("; ")
        ));
    }
    let flagged: Vec<String> = data
        .models
        .iter()
        .flat_map(|m| {
            m.verdicts
                .iter()
                .filter(|v| v.verdict != "noise")
                .map(move |v| {
                    format!(
                        "{} on the {}: {}",
                        m.model,
                        series_name(&v.series),
                        v.verdict
                    )
                })
        })
        .collect();
    let stored = data.models.iter().any(|m| !m.verdicts.is_empty());
    let mut fluctuation = match (stored, flagged.is_empty()) {
        (false, _) => "No verdict is stored for this run yet.".to_string(),
        (true, true) => "Every verdict stored for this run is noise.".to_string(),
        (true, false) => format!("Verdicts other than noise: {}.", flagged.join("; ")),
    };
    if anomalies.is_empty() {
        fluctuation
            .push_str(" No move crossed the threshold, so no model gets an anomaly article today.");
    } else {
        for m in &anomalies {
            fluctuation.push(' ');
            fluctuation.push_str(&range_text(data, m));
        }
    }
    let findings: Vec<(String, Finding)> = data
        .models
        .iter()
        .flat_map(|m| {
            evaluate(&config.rules, m)
                .into_iter()
                .map(move |f| (m.model.clone(), f))
        })
        .filter(|(_, f)| f.fired)
        .collect();
    let attention = if findings.is_empty() {
        format!(
            "None of the {} configured rules fired for any model.",
            config.rules.len()
        )
    } else {
        findings
            .iter()
            .map(|(model, f)| format!("{model}: {} → {}.", finding_text(f), f.action))
            .collect::<Vec<_>>()
            .join(" ")
    };
    ArticlePlan {
        kind: ArticleKind::Roundup,
        model: None,
        headline,
        prose: Prose {
            lead,
            fluctuation,
            attention,
        },
        findings: findings.into_iter().map(|(_, f)| f).collect(),
        stem: file_stem(run.id, "roundup"),
    }
}

fn anomaly_plan(data: &ReportData, config: &ReportConfig, model: &ModelData) -> ArticlePlan {
    let run = &data.run;
    let mut lead = match (model.delta_main, model.previous_run, model.previous_main) {
        (Some(d), Some(prev_run), Some(prev)) => format!(
            "{}'s published main score {} from {} in Run #{} to {} in Run #{} ({}), a move of {:.1} points{}.",
            model.model,
            if d < 0.0 { "fell" } else { "rose" },
            fmt_score(Some(prev)),
            prev_run,
            fmt_score(model.main),
            run.id,
            run.label,
            d.abs(),
            if d.abs() > config.anomaly_threshold {
                format!(
                    ", more than the {:.1}-point threshold for an anomaly article",
                    config.anomaly_threshold
                )
            } else {
                String::new()
            }
        ),
        _ => format!(
            "{} scored {} in Run #{} ({}); it has no earlier {} run with a main score to compare with.",
            model.model,
            fmt_score(model.main),
            run.id,
            run.label,
            run.kind
        ),
    };
    let biggest = model
        .dimensions
        .iter()
        .filter_map(|d| d.delta.map(|x| (d, x)))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    if let Some((d, x)) = biggest {
        lead.push_str(&format!(
            " The largest dimension move was in {}: {} to {} ({}).",
            d.name,
            fmt_score(d.previous),
            fmt_score(Some(d.score)),
            fmt_signed(Some(x))
        ));
    }
    if let Some(reason) = &model.cap_reason {
        lead.push_str(&format!(" Its main score is capped: {reason}."));
    }
    let findings = evaluate(&config.rules, model);
    let fired: Vec<&Finding> = findings.iter().filter(|f| f.fired).collect();
    let attention = if fired.is_empty() {
        let mut text = format!(
            "No: none of the {} configured rules fired for {}.",
            findings.len(),
            model.model
        );
        for f in &findings {
            text.push_str(&format!(" {}.", finding_text(f)));
        }
        text
    } else {
        let actions: Vec<String> = fired
            .iter()
            .map(|f| format!("{} → {}", finding_text(f), f.action))
            .collect();
        format!("Yes. {}.", actions.join("; "))
    };
    ArticlePlan {
        kind: ArticleKind::Anomaly,
        model: Some(model.model.clone()),
        headline: headline_of(model),
        prose: Prose {
            lead,
            fluctuation: fluctuation_text(data, model),
            attention,
        },
        findings,
        stem: file_stem(run.id, &model.model),
    }
}

/// What the stored numbers say about the size of a move: where today's score
/// sits in the model's own recent range, its stability, how many items carry
/// the main score's dimensions.
fn fluctuation_text(data: &ReportData, model: &ModelData) -> String {
    let mut text = verdict_text(model);
    if let (Some(m), Some(field)) = (&model.field_relative, &data.field_move) {
        text.push_str(&format!(
            " Against its {} earlier runs, the raw main score moved {:+.1} (SE {:.1}); the field moved {:+.1}, so relative to the field the move is {:+.1} (SE {:.1}, p = {:.3}).",
            m.baseline_days, m.absolute, m.absolute_se, field.field_move, m.relative, m.relative_se, m.relative_p
        ));
    }
    text.push(' ');
    text.push_str(&range_text(data, model));
    text
}

/// The stored verdicts of this run: the main score's in full (verdict,
/// retest, explanation), other series only when they are not noise.
fn verdict_text(model: &ModelData) -> String {
    if model.verdicts.is_empty() {
        return format!(
            "No verdict is stored for {} in this run, so the detectors' view is not available here.",
            model.model
        );
    }
    let mut parts = Vec::new();
    for v in &model.verdicts {
        let name = series_name(&v.series);
        if v.series != "main" && v.verdict == "noise" {
            continue;
        }
        let mut sentence = format!("Verdict on the {name}: {}", v.verdict);
        if v.detected_verdict != v.verdict {
            sentence.push_str(&format!(" (detected as {})", v.detected_verdict));
        }
        sentence.push('.');
        match (v.retest_id, &v.retest_decision) {
            (Some(_), Some(decision)) => {
                sentence.push_str(&format!(" Its confirmation retest decided: {decision}."))
            }
            (Some(_), None) => sentence.push_str(" A confirmation retest is scheduled."),
            (None, _) => {}
        }
        if !v.explanation.is_empty() {
            sentence.push(' ');
            sentence.push_str(v.explanation.trim());
        }
        parts.push(sentence);
    }
    if parts.is_empty() {
        parts.push(format!(
            "Every verdict stored for {} in this run is noise.",
            model.model
        ));
    }
    parts.join(" ")
}

/// "main score" or a dimension's display name for a stored series id.
fn series_name(series: &str) -> &str {
    match crate::config::Series::parse(series) {
        Ok(known) => crate::config::series_name(known),
        Err(_) => series,
    }
}

fn range_text(data: &ReportData, model: &ModelData) -> String {
    let mains: Vec<(i64, f64)> = model
        .history
        .iter()
        .filter_map(|p| p.main.map(|v| (p.run_id, v)))
        .collect();
    let mut text = String::new();
    if let (Some(now), true) = (model.main, mains.len() >= 2) {
        let earlier = &mains[..mains.len() - 1];
        let low = earlier.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
        let high = earlier
            .iter()
            .map(|x| x.1)
            .fold(f64::NEG_INFINITY, f64::max);
        let place = if now < low {
            "below all of them"
        } else if now > high {
            "above all of them"
        } else {
            "within that range"
        };
        text.push_str(&format!(
            "In its {} earlier {} runs shown here (Run #{} to Run #{}), {}'s main score ranged from {} to {}; today's {} is {}.",
            earlier.len(),
            data.run.kind,
            earlier[0].0,
            earlier[earlier.len() - 1].0,
            model.model,
            fmt_score(Some(low)),
            fmt_score(Some(high)),
            fmt_score(Some(now)),
            place
        ));
    } else {
        text.push_str(&format!(
            "{} has no earlier {} run with a main score in this history.",
            model.model, data.run.kind
        ));
    }
    match model.stability {
        Some(s) => text.push_str(&format!(
            " Its stability over the last {} runs is {}.",
            model.stability_runs,
            fmt_score(Some(s))
        )),
        None => text.push_str(&format!(
            " Its stability needs 3 runs; it has {}.",
            model.stability_runs
        )),
    }
    let items: Vec<String> = [Dimension::CodeExecution, Dimension::Grounding]
        .into_iter()
        .filter_map(|d| model.dimension(d))
        .map(|d| format!("{} on {} items", d.name, d.items))
        .collect();
    if !items.is_empty() {
        text.push_str(&format!(
            " The main score rests on {} in this run.",
            items.join(" and ")
        ));
    }
    text
}

fn finding_text(f: &Finding) -> String {
    let values: Vec<String> = f
        .values
        .iter()
        .map(|(run, v)| format!("{} in Run #{run}", fmt_score(Some(*v))))
        .collect();
    let state = if f.fired {
        "met"
    } else if f.not_enough_history {
        "not enough runs to tell"
    } else {
        "not met"
    };
    if values.is_empty() {
        format!("{}: {state}", f.condition)
    } else {
        format!("{}: {state} ({})", f.condition, values.join(", "))
    }
}

/// One line of an anomaly article's score table.
#[derive(Debug, Serialize)]
struct TableRow {
    name: &'static str,
    now: Option<f64>,
    interval: Option<Interval>,
    previous: Option<f64>,
    delta: Option<f64>,
}

/// A roundup leaderboard line, flattened for templates.
#[derive(Debug, Serialize)]
struct RoundupRow<'a> {
    #[serde(flatten)]
    model: &'a ModelData,
    code_execution: Option<f64>,
    grounding: Option<f64>,
    judgment: Option<f64>,
    communication: Option<f64>,
}

#[derive(Debug, Serialize)]
struct AnomalyLink {
    headline: String,
    file: String,
    main: Option<f64>,
    previous: Option<f64>,
}

#[derive(Debug, Serialize)]
struct NarrationView<'a> {
    generated: bool,
    model: Option<&'a str>,
}

/// A history point's 95% band: the board's interval for the report's run,
/// else the main score ± z·SE of item sampling (as the verdicts use it).
fn history_band(p: &HistoryPoint, model: &ModelData, run: i64) -> Option<Band> {
    if p.run_id == run {
        return model.main_interval.map(Band::from);
    }
    let (main, se) = (p.main?, p.main_se?);
    (se > 0.0).then(|| {
        let z = normal_quantile(0.975);
        Band {
            low: (main - z * se).max(0.0),
            high: (main + z * se).min(100.0),
        }
    })
}

/// The field's move per run with 95% bands; `None` without any.
fn day_effect_svg(data: &ReportData) -> Option<String> {
    if data.day_effects.is_empty() {
        return None;
    }
    let z = normal_quantile(0.975);
    let points: Vec<DayEffectPoint> = data
        .day_effects
        .iter()
        .map(|e| DayEffectPoint {
            label: format!("#{} {}", e.run_id, e.label),
            effect: e.field_move,
            band: Some(Band {
                low: e.field_move - z * e.field_se,
                high: e.field_move + z * e.field_se,
            }),
        })
        .collect();
    Some(day_effect_chart(
        "The field's move per run (day effect on the main score, 95% interval)",
        &points,
    ))
}

/// Renders one planned article; an accepted narration replaces the prose.
pub fn render_article(
    plan: &ArticlePlan,
    data: &ReportData,
    config: &ReportConfig,
    templates: &Templates,
    format: Format,
    narration: Option<Narration>,
) -> Result<Article, ReportError> {
    let accepted = narration.as_ref().and_then(|n| n.accepted_prose());
    let prose = accepted.unwrap_or(&plan.prose);
    let narration_view = NarrationView {
        generated: accepted.is_some(),
        model: narration.as_ref().map(|n| n.model.as_str()),
    };
    let data_source = format!("{}/runs/{}", config.run_page_base, data.run.id);
    let name = match plan.kind {
        ArticleKind::Roundup => "roundup",
        ArticleKind::Anomaly => "anomaly",
    };
    let template = format!("{name}.{}", format.extension());
    let body = match plan.kind {
        ArticleKind::Roundup => {
            let rows: Vec<RoundupRow> = data
                .models
                .iter()
                .map(|m| RoundupRow {
                    model: m,
                    code_execution: m.dimension(Dimension::CodeExecution).map(|d| d.score),
                    grounding: m.dimension(Dimension::Grounding).map(|d| d.score),
                    judgment: m.dimension(Dimension::Judgment).map(|d| d.score),
                    communication: m.dimension(Dimension::Communication).map(|d| d.score),
                })
                .collect();
            let anomalies: Vec<AnomalyLink> = anomalous(data, config)
                .into_iter()
                .map(|m| AnomalyLink {
                    headline: headline_of(m),
                    file: format!(
                        "{}.{}",
                        file_stem(data.run.id, &m.model),
                        format.extension()
                    ),
                    main: m.main,
                    previous: m.previous_main,
                })
                .collect();
            let bars: Vec<Bar> = data
                .models
                .iter()
                .filter_map(|m| {
                    Some(Bar {
                        label: m.model.clone(),
                        value: m.main?,
                        band: m.main_interval.map(Band::from),
                        previous: m.previous_main,
                    })
                })
                .collect();
            templates.render(
                &template,
                minijinja::context! {
                    headline => &plan.headline,
                    run => &data.run,
                    prose => prose,
                    narration => &narration_view,
                    models => rows,
                    anomalies => anomalies,
                    threshold => config.anomaly_threshold,
                    charts => minijinja::context! {
                        main => dimension_bars(&format!("Main score, Run #{} (tick: previous run)", data.run.id), &bars),
                        day_effect => day_effect_svg(data),
                    },
                    data_source => data_source,
                },
            )?
        }
        ArticleKind::Anomaly => {
            let model_name = plan.model.as_deref().unwrap_or_default();
            let model = data
                .model(model_name)
                .expect("planned from this data: the model exists");
            let mut table = vec![TableRow {
                name: "main score",
                now: model.main,
                interval: model.main_interval,
                previous: model.previous_main,
                delta: model.delta_main,
            }];
            table.extend(model.dimensions.iter().map(|d| TableRow {
                name: d.name,
                now: Some(d.score),
                interval: d.interval,
                previous: d.previous,
                delta: d.delta,
            }));
            let points: Vec<HistoryChartPoint> = model
                .history
                .iter()
                .map(|p| HistoryChartPoint {
                    label: format!("#{} {}", p.run_id, p.label),
                    value: p.main,
                    band: history_band(p, model, data.run.id),
                    marker: p.main_verdict.as_deref().and_then(verdict_marker),
                })
                .collect();
            let bars: Vec<Bar> = model
                .dimensions
                .iter()
                .map(|d| Bar {
                    label: d.name.to_string(),
                    value: d.score,
                    band: d.interval.map(Band::from),
                    previous: d.previous,
                })
                .collect();
            templates.render(
                &template,
                minijinja::context! {
                    headline => &plan.headline,
                    run => &data.run,
                    model => model,
                    prose => prose,
                    narration => &narration_view,
                    table => table,
                    findings => &plan.findings,
                    charts => minijinja::context! {
                        history => history_chart(&format!("{} — main score, last {} runs", model.model, model.history.len()), &points),
                        dimensions => dimension_bars(&format!("{} — dimensions, Run #{} (tick: previous run)", model.model, data.run.id), &bars),
                    },
                    data_source => data_source,
                },
            )?
        }
    };
    Ok(Article {
        kind: plan.kind,
        model: plan.model.clone(),
        headline: plan.headline.clone(),
        file_name: format!("{}.{}", plan.stem, format.extension()),
        body,
        narration,
    })
}
