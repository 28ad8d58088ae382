//! Plain-text tables for the terminal. JSON output is the serde form of the
//! same values, so both always agree.

use yardstick_core::Dimension;
use yardstick_runner::leaderboard::Board;

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
    let mut notes = Vec::new();
    let rows: Vec<Vec<String>> = board
        .rows
        .iter()
        .enumerate()
        .map(|(rank, r)| {
            let s = &r.scores;
            let main = match &s.main {
                Some(m) if m.cap_reason.is_some() => {
                    notes.push(format!(
                        "* {}: raw main {:.2}, {}",
                        r.model,
                        m.raw,
                        m.cap_reason.as_deref().unwrap_or_default()
                    ));
                    format!("{:.2}*", m.published)
                }
                Some(m) => format!("{:.2}", m.published),
                None => "n/a".into(),
            };
            let dim = |d: Dimension| opt(s.dimension(d), 1);
            vec![
                (rank + 1).to_string(),
                r.model.clone(),
                main,
                signed(r.delta_main),
                dim(Dimension::CodeExecution),
                dim(Dimension::Grounding),
                dim(Dimension::Judgment),
                dim(Dimension::Communication),
                dim(Dimension::Integrity),
                s.gate.map_or("n/a", |g| g.id()).to_string(),
                opt(r.stability, 1),
                s.availability
                    .map_or_else(|| "n/a".into(), |a| format!("{:.1}%", a * 100.0)),
                format!("${:.4}", s.cost_usd),
                opt(s.value, 1),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "#",
            "model",
            "main",
            "Δ main",
            "code",
            "grounding",
            "judgment",
            "comm.",
            "integrity",
            "gate",
            "stability",
            "avail.",
            "cost",
            "value",
        ],
        &rows,
        2,
    ));
    out.push_str(
        "\nmain = 0.55 × code execution + 0.45 × grounding (material constraint); side chart: judgment, communication.\n",
    );
    out.push_str(&format!(
        "stability = max(0, 100 − 2σ) over the last {} runs of this kind (n/a below 3); value = main points per US dollar.\n",
        board.window
    ));
    for n in notes {
        out.push_str(&n);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
