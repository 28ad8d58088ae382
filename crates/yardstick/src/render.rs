//! Plain-text tables for the terminal. JSON output is the serde form of the
//! same values, so both always agree.

use yardstick_core::Dimension;
use yardstick_runner::leaderboard::{Board, BoardRow, Comparison, Rolling};
use yardstick_stats::interval::Interval;

/// Left-aligns the first `left` columns and right-aligns the rest.
pub fn table(headers: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < left {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(|s| s.as_str())
            .collect(),
    ));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(|s| s.as_str()).collect()));
        out.push('\n');
    }
    out
}

pub fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.decimals$}"))
}

fn signed(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:+.2}"))
}

/// A score with its interval: `88.48 ± 3.10`, or `95.0 −12.3/+5.0` when the
/// interval is lopsided (bounded at 0 or 100, Wilson near either end). The
/// estimate alone when the data carry no interval (one item, one cluster).
pub fn with_interval(estimate: f64, interval: Option<&Interval>, decimals: usize) -> String {
    let Some(i) = interval else {
        return format!("{estimate:.decimals$}");
    };
    // Rounding can leave a bound a hair past the estimate (0 − 1e-16);
    // that is a zero margin, not a negative one.
    let (down, up) = i.margins();
    let (down, up) = (down.max(0.0) + 0.0, up.max(0.0) + 0.0);
    let (down_s, up_s) = (format!("{down:.decimals$}"), format!("{up:.decimals$}"));
    if down_s == up_s {
        format!("{estimate:.decimals$} ± {up_s}")
    } else {
        format!("{estimate:.decimals$} −{down_s}/+{up_s}")
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn methods_used(board: &Board) -> String {
    let mut methods: Vec<&str> = board
        .rows
        .iter()
        .flat_map(|r| r.intervals.dimensions.values().map(|i| i.method.id()))
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods.join(", ")
}

pub fn board(board: &Board) -> String {
    let run = &board.run;
    let mut out = format!(
        "Run #{} · {} · {} · {} model(s) · epochs {} · status {}\n\n",
        run.id,
        run.kind,
        run.label,
        board.rows.len(),
        run.epochs,
        run.status.as_str()
    );
    let within = board.rows.iter().any(|r| r.stability_within.is_some());
    let mut notes = Vec::new();
    let dimension = |r: &BoardRow, d: Dimension| match r.scores.dimension(d) {
        Some(score) => with_interval(score, r.intervals.dimensions.get(&d), 1),
        None => "n/a".into(),
    };
    let main_rows: Vec<Vec<String>> = board
        .rows
        .iter()
        .enumerate()
        .map(|(rank, r)| {
            let s = &r.scores;
            let main = match &s.main {
                Some(m) if m.cap_reason.is_some() => {
                    notes.push(format!(
                        "* {}: raw main {}, {}",
                        r.model,
                        with_interval(m.raw, r.intervals.main_raw.as_ref(), 2),
                        m.cap_reason.as_deref().unwrap_or_default()
                    ));
                    format!(
                        "{}*",
                        with_interval(m.published, r.intervals.main.as_ref(), 2)
                    )
                }
                Some(m) => with_interval(m.published, r.intervals.main.as_ref(), 2),
                None => "n/a".into(),
            };
            let mut cells = vec![
                (rank + 1).to_string(),
                r.model.clone(),
                main,
                signed(r.delta_main),
                dimension(r, Dimension::CodeExecution),
                dimension(r, Dimension::Grounding),
                dimension(r, Dimension::Integrity),
                s.gate.map_or("n/a", |g| g.id()).to_string(),
                opt(r.stability, 1),
            ];
            if within {
                cells.push(opt(r.stability_within, 1));
            }
            cells.extend([
                s.availability
                    .map_or_else(|| "n/a".into(), |a| format!("{:.1}%", a * 100.0)),
                format!("${:.4}", s.cost_usd),
                opt(s.value, 1),
            ]);
            cells
        })
        .collect();
    let mut headers = vec![
        "#",
        "model",
        "main",
        "Δ main",
        "code",
        "grounding",
        "integrity",
        "gate",
        "stability",
    ];
    if within {
        headers.push("within run");
    }
    headers.extend(["avail.", "cost", "value"]);
    out.push_str("Main chart\n");
    out.push_str(&table(&headers, &main_rows, 2));

    out.push_str("\nSide chart\n");
    let side_rows: Vec<Vec<String>> = board
        .rows
        .iter()
        .map(|r| {
            vec![
                r.model.clone(),
                dimension(r, Dimension::Judgment),
                dimension(r, Dimension::Communication),
            ]
        })
        .collect();
    out.push_str(&table(
        &["model", "engineering judgment", "task expression"],
        &side_rows,
        1,
    ));

    let mut intervals_line = match board.bootstrap {
        Some(n) => {
            format!("\n± = 95% interval: cluster bootstrap, {n} resamples seeded by the run's seed")
        }
        None => format!(
            "\n± = 95% interval ({}); main propagates 0.55/0.45 with dimensions independent",
            methods_used(board)
        ),
    };
    intervals_line.push_str(".\n");
    out.push_str(&intervals_line);
    out.push_str(
        "main = 0.55 × code execution + 0.45 × grounding (material constraint); side chart: judgment, communication.\n",
    );
    out.push_str(&format!(
        "stability = max(0, 100 − 2σ) over the last {} runs of this kind (n/a below 3){}; value = main points per US dollar.\n",
        board.window,
        if within { ", within run: across epochs" } else { "" }
    ));
    for n in notes {
        out.push_str(&n);
        out.push('\n');
    }

    let paired: Vec<&Comparison> = board
        .rows
        .iter()
        .filter_map(|r| r.vs_previous.as_ref())
        .collect();
    if !paired.is_empty() {
        out.push_str(&format!(
            "\nPaired vs the previous run (items both runs share; p Holm-adjusted over the board's {} tests)\n",
            board.holm_tests
        ));
        out.push_str(&comparisons(&paired, |c| {
            format!("{} vs #{}", c.model, c.against_run)
        }));
    }
    if let Some(field) = &board.day_effect {
        out.push_str(&format!(
            "\nDay effect: the field's raw main score moved {:+.2} (SE {:.2}) against each model's earlier runs of this kind ({} models)\n",
            field.field_move, field.field_se, field.models
        ));
        let rows: Vec<Vec<String>> = board
            .rows
            .iter()
            .filter_map(|r| {
                let m = r.day_move?;
                Some(vec![
                    r.model.clone(),
                    format!("{:+.2} (SE {:.2})", m.absolute, m.absolute_se),
                    format!("{:+.2} (SE {:.2})", m.relative, m.relative_se),
                    p_value(m.relative_p),
                    m.baseline_days.to_string(),
                ])
            })
            .collect();
        out.push_str(&table(
            &["model", "own move", "vs field", "p", "earlier runs"],
            &rows,
            1,
        ));
    }
    if !board.comparisons.is_empty() {
        out.push_str("\nModel vs model on this run (raw main score, same items)\n");
        let all: Vec<&Comparison> = board.comparisons.iter().collect();
        out.push_str(&comparisons(&all, |c| {
            format!("{} − {}", c.model, c.against_model)
        }));
    }
    if let Some(first) = board.adjusted.first() {
        out.push_str(&format!(
            "\nDifficulty-adjusted (calibration #{}; irt: pass/fail items on the reference scale, additive: 0–100 items)\n",
            first.calibration
        ));
        let rows: Vec<Vec<String>> = board
            .adjusted
            .iter()
            .map(|a| {
                vec![
                    a.model.clone(),
                    a.fit.to_string(),
                    format!("{:.1} [{:.1}, {:.1}]", a.score, a.low, a.high),
                    format!("{:.1}", a.se),
                    a.items_used.to_string(),
                    a.items_skipped.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["model", "fit", "score [95%]", "SE", "items", "new items"],
            &rows,
            2,
        ));
    }
    let rolling: Vec<(&BoardRow, &Rolling)> = board
        .rows
        .iter()
        .filter_map(|r| Some((r, r.rolling.as_ref()?)))
        .collect();
    if !rolling.is_empty() {
        out.push_str("\nRolling average over the last runs of this kind (this one included)\n");
        let rows: Vec<Vec<String>> = rolling
            .iter()
            .map(|(r, roll)| {
                let dim = |d: Dimension| {
                    roll.dimensions
                        .get(&d)
                        .map_or("n/a".into(), |i| with_interval(i.estimate, Some(i), 1))
                };
                vec![
                    r.model.clone(),
                    roll.runs.len().to_string(),
                    roll.main
                        .map_or("n/a".into(), |i| with_interval(i.estimate, Some(&i), 2)),
                    dim(Dimension::CodeExecution),
                    dim(Dimension::Grounding),
                    dim(Dimension::Judgment),
                    dim(Dimension::Communication),
                    dim(Dimension::Integrity),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "model",
                "runs",
                "main",
                "code",
                "grounding",
                "judgment",
                "comm.",
                "integrity",
            ],
            &rows,
            1,
        ));
    }
    out
}

/// One line per comparison: the raw main score's paired difference, and the
/// dimensions whose move survives Holm's correction.
fn comparisons(list: &[&Comparison], name: impl Fn(&Comparison) -> String) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            let main = c.main.as_ref();
            let moved: Vec<String> = c
                .dimensions
                .iter()
                .filter(|(_, t)| t.significant)
                .map(|(d, t)| format!("{d} {:+.1}", t.diff.mean))
                .collect();
            vec![
                name(c),
                main.map_or("n/a".into(), |t| t.diff.n.to_string()),
                main.map_or("n/a".into(), |t| format!("{:+.2}", t.diff.mean)),
                main.map_or("n/a".into(), |t| format!("{:.2}", t.diff.se)),
                main.map_or("n/a".into(), |t| p_value(t.diff.p)),
                main.map_or("n/a".into(), |t| {
                    format!(
                        "{}{}",
                        p_value(t.p_holm),
                        if t.significant { " *" } else { "" }
                    )
                }),
                if moved.is_empty() {
                    "–".into()
                } else {
                    moved.join(", ")
                },
            ]
        })
        .collect();
    table(
        &[
            "comparison",
            "items",
            "Δ main",
            "SE",
            "p",
            "p Holm",
            "dimensions moved (Holm ≤ 0.05)",
        ],
        &rows,
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_show_as_plus_minus_or_both_margins() {
        let symmetric = yardstick_stats::interval::t_interval(&[80.0, 90.0, 95.0], 0.95).unwrap();
        assert_eq!(
            with_interval(88.333_333, Some(&symmetric), 1),
            format!("88.3 ± {:.1}", symmetric.high - symmetric.estimate)
        );
        let wilson = yardstick_stats::interval::wilson(10, 10, 0.95)
            .unwrap()
            .scaled(100.0);
        assert_eq!(with_interval(100.0, Some(&wilson), 1), "100.0 −27.8/+0.0");
        assert_eq!(with_interval(50.0, None, 2), "50.00");
        let none_right = yardstick_stats::interval::wilson(0, 10, 0.95)
            .unwrap()
            .scaled(100.0);
        assert_eq!(with_interval(0.0, Some(&none_right), 1), "0.0 −0.0/+27.8");
    }

    #[test]
    fn table_aligns_columns() {
        let t = table(
            &["a", "num"],
            &[
                vec!["xyz".into(), "1.5".into()],
                vec!["q".into(), "10.25".into()],
            ],
            1,
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "a      num");
        assert_eq!(lines[2], "xyz    1.5");
        assert_eq!(lines[3], "q    10.25");
    }
}
