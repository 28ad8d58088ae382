//! "Should we pay close attention?": the configured rules applied to one
//! model's history. Pure.

use crate::config::{series_name, AttentionRule};
use crate::data::ModelData;
use serde::Serialize;

/// One rule checked against one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// `main` or a dimension id.
    pub series: &'static str,
    pub series_name: &'static str,
    pub action: String,
    /// The rule in words, e.g. "code execution below 70.0 in 3 consecutive runs".
    pub condition: String,
    pub fired: bool,
    /// The scores the rule looked at, oldest first, as (run, score).
    pub values: Vec<(i64, f64)>,
    /// Why it did not apply (too little history), if so.
    pub not_enough_history: bool,
}

/// Each rule checked against `model`'s history (oldest first, ending with the
/// report's run). A rule needing N runs looks at the model's last N runs of the
/// kind; if any lacks a score for the series, or there are fewer than N (N + 1
/// for `drop`), the rule does not fire and says so.
pub fn evaluate(rules: &[AttentionRule], model: &ModelData) -> Vec<Finding> {
    rules.iter().map(|rule| check(rule, model)).collect()
}

fn check(rule: &AttentionRule, model: &ModelData) -> Finding {
    // `drop` compares with the score `runs` runs earlier, so it needs one more point.
    let needed = if rule.drop.is_some() {
        rule.runs + 1
    } else {
        rule.runs
    };
    let tail: Vec<(i64, Option<f64>)> = model
        .history
        .iter()
        .rev()
        .take(needed)
        .map(|p| (p.run_id, p.value(rule.dimension)))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let values: Vec<(i64, f64)> = tail
        .iter()
        .filter_map(|(run, v)| v.map(|v| (*run, v)))
        .collect();
    let complete = values.len() == needed;
    let below_holds = rule
        .below
        .is_none_or(|limit| values.iter().rev().take(rule.runs).all(|(_, v)| *v < limit));
    let drop_holds = rule
        .drop
        .is_none_or(|points| match (values.first(), values.last()) {
            (Some((_, then)), Some((_, now))) => then - now > points,
            _ => false,
        });
    Finding {
        series: rule.dimension.id(),
        series_name: series_name(rule.dimension),
        action: rule.action.clone(),
        condition: describe(rule),
        fired: complete && below_holds && drop_holds,
        values,
        not_enough_history: !complete,
    }
}

fn describe(rule: &AttentionRule) -> String {
    let name = series_name(rule.dimension);
    let runs = if rule.runs == 1 {
        "in the latest run".to_string()
    } else {
        format!("in {} consecutive runs", rule.runs)
    };
    match (rule.below, rule.drop) {
        (Some(b), None) => format!("{name} below {b:.1} {runs}"),
        (None, Some(d)) => format!(
            "{name} down more than {d:.1} points over {} run{}",
            rule.runs,
            if rule.runs == 1 { "" } else { "s" }
        ),
        (Some(b), Some(d)) => {
            format!("{name} below {b:.1} {runs} and down more than {d:.1} points over them")
        }
        (None, None) => unreachable!("validated: a rule has `below` or `drop`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Series;
    use crate::data::HistoryPoint;
    use yardstick_core::Dimension;

    fn model(code: &[Option<f64>]) -> ModelData {
        ModelData {
            model: "m".into(),
            rank: None,
            main: None,
            main_raw: None,
            cap_reason: None,
            previous_run: None,
            previous_main: None,
            delta_main: None,
            dimensions: Vec::new(),
            integrity: None,
            gate: None,
            availability_percent: None,
            stability: None,
            stability_runs: 0,
            cost_usd: 0.0,
            value: None,
            verdicts: Vec::new(),
            field_relative: None,
            main_interval: None,
            history: code
                .iter()
                .enumerate()
                .map(|(i, c)| HistoryPoint {
                    run_id: i as i64 + 1,
                    label: format!("d{i}"),
                    main: c.map(|c| c * 0.9),
                    dimensions: c.iter().map(|c| (Dimension::CodeExecution, *c)).collect(),
                    main_se: None,
                    main_verdict: None,
                })
                .collect(),
        }
    }

    fn rule(below: Option<f64>, drop: Option<f64>, runs: usize) -> AttentionRule {
        AttentionRule {
            dimension: Series::Dimension(Dimension::CodeExecution),
            below,
            drop,
            runs,
            action: "retest".into(),
        }
    }

    #[test]
    fn below_needs_every_one_of_the_last_runs() {
        let r = [rule(Some(70.0), None, 3)];
        let f = &evaluate(
            &r,
            &model(&[Some(90.0), Some(65.0), Some(60.0), Some(50.0)]),
        )[0];
        assert!(f.fired);
        assert_eq!(f.values, vec![(2, 65.0), (3, 60.0), (4, 50.0)]);
        assert_eq!(
            f.condition,
            "code execution below 70.0 in 3 consecutive runs"
        );
        let f = &evaluate(
            &r,
            &model(&[Some(65.0), Some(75.0), Some(60.0), Some(50.0)]),
        )[0];
        assert!(!f.fired && !f.not_enough_history);
        // A run without a code score breaks the streak: not enough history.
        let f = &evaluate(&r, &model(&[Some(60.0), None, Some(60.0)]))[0];
        assert!(!f.fired && f.not_enough_history);
        let f = &evaluate(&r, &model(&[Some(60.0), Some(60.0)]))[0];
        assert!(!f.fired && f.not_enough_history);
    }

    #[test]
    fn drop_compares_with_the_score_runs_earlier() {
        let r = [rule(None, Some(10.0), 2)];
        assert!(evaluate(&r, &model(&[Some(90.0), Some(85.0), Some(79.0)]))[0].fired);
        assert!(!evaluate(&r, &model(&[Some(90.0), Some(85.0), Some(80.0)]))[0].fired);
        assert!(!evaluate(&r, &model(&[Some(85.0), Some(70.0)]))[0].fired);
    }
}
