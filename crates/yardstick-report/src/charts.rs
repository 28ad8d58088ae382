//! Inline SVG charts, rendered server-side by pure functions: values in, an
//! `<svg>` element out (no scripts, no external resources). Every piece of
//! text is escaped, so a model or item name cannot inject markup; the result
//! can be placed in HTML or Markdown as it is. Used by the articles and the
//! dashboard.

use serde::Serialize;
use std::fmt::Write;
use yardstick_stats::interval::Interval;

/// An interval drawn as a band or whisker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

impl From<Interval> for Band {
    fn from(i: Interval) -> Band {
        Band {
            low: i.low,
            high: i.high,
        }
    }
}

/// How a marker on a history chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerTone {
    /// Watch: a warning colour.
    Caution,
    /// Likely or confirmed degradation.
    Alarm,
    /// Improvement.
    Good,
    /// Anything else worth a mark (e.g. a retest).
    Neutral,
}

impl MarkerTone {
    fn colour(self) -> &'static str {
        match self {
            MarkerTone::Caution => "#d08700",
            MarkerTone::Alarm => "#c62828",
            MarkerTone::Good => "#2e7d32",
            MarkerTone::Neutral => "#555555",
        }
    }
}

/// A verdict (or other event) pinned to a point of a history chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    /// Shown as the marker's tooltip, e.g. "likely_degradation".
    pub label: String,
    pub tone: MarkerTone,
}

/// One run on a score history chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryChartPoint {
    /// The x-axis label (run label or "#N").
    pub label: String,
    /// Score 0–100; `None` leaves a gap in the line.
    pub value: Option<f64>,
    pub band: Option<Band>,
    pub marker: Option<Marker>,
}

/// One bar of a bar chart (scores on a 0–100 axis).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub band: Option<Band>,
    /// A reference value drawn as a tick (e.g. the previous run's score).
    pub previous: Option<f64>,
}

/// The field's shared move on one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayEffectPoint {
    pub label: String,
    /// Points, positive = the whole field scored higher that day.
    pub effect: f64,
    pub band: Option<Band>,
}

/// One point of a scatter plot, both axes 0–100.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScatterPoint {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

/// How a stored verdict is drawn on a history chart; `noise` is not drawn.
pub fn verdict_marker(verdict: &str) -> Option<Marker> {
    let tone = match verdict {
        "noise" => return None,
        "watch" => MarkerTone::Caution,
        "likely_degradation" | "confirmed_degradation" => MarkerTone::Alarm,
        "improvement" => MarkerTone::Good,
        _ => MarkerTone::Neutral,
    };
    Some(Marker {
        label: verdict.to_string(),
        tone,
    })
}

/// Escapes text for HTML/SVG element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const WIDTH: f64 = 640.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 28.0;
const FONT: &str = r#"font-family="sans-serif" font-size="11""#;

fn open_svg(out: &mut String, height: f64, title: &str) {
    let title = escape(title);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{title}"><title>{title}</title><text x="{LEFT}" y="16" {FONT} font-weight="bold">{title}</text>"#
    );
}

/// Maps a 0–100 score to the y coordinate of a plot of `height`.
fn score_y(score: f64, height: f64) -> f64 {
    let plot = height - TOP - BOTTOM;
    TOP + plot * (1.0 - score.clamp(0.0, 100.0) / 100.0)
}

fn score_grid(out: &mut String, height: f64) {
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let y = score_y(tick, height);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" {FONT} text-anchor="end" fill="#666">{tick:.0}</text>"##,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0
        );
    }
}

/// A main-score (or dimension) history: the line, the interval band where
/// known, and markers (verdicts) at their runs. An empty history draws a
/// labelled empty plot.
pub fn history_chart(title: &str, points: &[HistoryChartPoint]) -> String {
    let height = 240.0;
    let mut out = String::new();
    open_svg(&mut out, height, title);
    score_grid(&mut out, height);
    let n = points.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (WIDTH - LEFT - RIGHT) * i as f64 / (n - 1) as f64
        }
    };
    // Bands: one polygon per run of consecutive points that have one.
    let mut segment: Vec<(usize, Band)> = Vec::new();
    let flush = |segment: &mut Vec<(usize, Band)>, out: &mut String| {
        if segment.len() >= 2 {
            let upper = segment
                .iter()
                .map(|(i, b)| format!("{:.1},{:.1}", x(*i), score_y(b.high, height)));
            let lower = segment
                .iter()
                .rev()
                .map(|(i, b)| format!("{:.1},{:.1}", x(*i), score_y(b.low, height)));
            let all: Vec<String> = upper.chain(lower).collect();
            let _ = write!(
                out,
                r##"<polygon points="{}" fill="#90caf9" fill-opacity="0.45" stroke="none"/>"##,
                all.join(" ")
            );
        } else if let Some((i, b)) = segment.first() {
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#90caf9" stroke-width="6"/>"##,
                score_y(b.high, height),
                score_y(b.low, height),
                x = x(*i)
            );
        }
        segment.clear();
    };
    for (i, p) in points.iter().enumerate() {
        match p.band {
            Some(b) => segment.push((i, b)),
            None => flush(&mut segment, &mut out),
        }
    }
    flush(&mut segment, &mut out);
    // The line, broken where a run has no score.
    let mut line: Vec<String> = Vec::new();
    let draw = |line: &mut Vec<String>, out: &mut String| {
        if line.len() >= 2 {
            let _ = write!(
                out,
                r##"<polyline points="{}" fill="none" stroke="#1565c0" stroke-width="2"/>"##,
                line.join(" ")
            );
        }
        line.clear();
    };
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => line.push(format!("{:.1},{:.1}", x(i), score_y(v, height))),
            None => draw(&mut line, &mut out),
        }
    }
    draw(&mut line, &mut out);
    for (i, p) in points.iter().enumerate() {
        let Some(v) = p.value else { continue };
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#1565c0"><title>{}: {v:.1}</title></circle>"##,
            x(i),
            score_y(v, height),
            escape(&p.label)
        );
        if let Some(m) = &p.marker {
            let (cx, cy) = (x(i), score_y(v, height) - 10.0);
            let _ = write!(
                out,
                r#"<path d="M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{}"><title>{}: {}</title></path>"#,
                cx - 5.0,
                cy - 5.0,
                cx + 5.0,
                cy - 5.0,
                cx,
                cy + 3.0,
                m.tone.colour(),
                escape(&p.label),
                escape(&m.label)
            );
        }
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let y = height - 8.0;
        let _ = write!(
            out,
            r##"<text x="{LEFT}" y="{y}" {FONT} fill="#666">{}</text>"##,
            escape(&first.label)
        );
        if n > 1 {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{y}" {FONT} text-anchor="end" fill="#666">{}</text>"##,
                WIDTH - RIGHT,
                escape(&last.label)
            );
        }
    } else {
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" {FONT} text-anchor="middle" fill="#666">no runs yet</text>"##,
            WIDTH / 2.0,
            height / 2.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars on a 0–100 axis, one per dimension (or model): the value,
/// its interval as a whisker, and the previous value as a tick.
pub fn dimension_bars(title: &str, bars: &[Bar]) -> String {
    let row = 24.0;
    let label_width = 150.0;
    let height = TOP + row * bars.len() as f64 + 10.0;
    let plot = WIDTH - label_width - RIGHT - 44.0;
    let bx = |v: f64| label_width + plot * v.clamp(0.0, 100.0) / 100.0;
    let mut out = String::new();
    open_svg(&mut out, height, title);
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + row * i as f64;
        let label = escape(&bar.label);
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" {FONT} text-anchor="end">{label}</text><rect x="{label_width}" y="{:.1}" width="{plot:.1}" height="14" fill="#f0f0f0"/><rect x="{label_width}" y="{:.1}" width="{:.1}" height="14" fill="#1565c0"><title>{label}: {:.1}</title></rect>"##,
            label_width - 6.0,
            y + 11.0,
            y,
            y,
            bx(bar.value) - label_width,
            bar.value
        );
        if let Some(b) = bar.band {
            let _ = write!(
                out,
                r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#0d2b52" stroke-width="1.5"/>"##,
                bx(b.low),
                y + 7.0,
                bx(b.high),
                y + 7.0
            );
        }
        if let Some(p) = bar.previous {
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#c62828" stroke-width="2"><title>previous: {p:.1}</title></line>"##,
                y - 2.0,
                y + 16.0,
                x = bx(p)
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" {FONT}>{:.1}</text>"#,
            label_width + plot + 4.0,
            y + 11.0,
            bar.value
        );
    }
    out.push_str("</svg>");
    out
}

/// A scatter plot on two 0–100 axes (e.g. main score against availability),
/// each point titled with its label and values.
pub fn scatter_chart(title: &str, x_axis: &str, y_axis: &str, points: &[ScatterPoint]) -> String {
    let height = 260.0;
    let mut out = String::new();
    open_svg(&mut out, height, title);
    score_grid(&mut out, height);
    let x = |v: f64| LEFT + (WIDTH - LEFT - RIGHT) * v.clamp(0.0, 100.0) / 100.0;
    for p in points {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#c62828" fill-opacity="0.8"><title>{}: {} {:.1}, {} {:.1}</title></circle>"##,
            x(p.x),
            score_y(p.y, height),
            escape(&p.label),
            escape(x_axis),
            p.x,
            escape(y_axis),
            p.y
        );
    }
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="{:.1}" {FONT} fill="#666">{} 0</text><text x="{:.1}" y="{:.1}" {FONT} text-anchor="end" fill="#666">{} 100</text>"##,
        height - 8.0,
        escape(x_axis),
        WIDTH - RIGHT,
        height - 8.0,
        escape(x_axis)
    );
    if points.is_empty() {
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" {FONT} text-anchor="middle" fill="#666">no scores yet</text>"##,
            WIDTH / 2.0,
            height / 2.0
        );
    }
    out.push_str("</svg>");
    out
}

/// The field's day effect per run: bars up (the field scored higher) or down
/// from a zero line, with intervals as whiskers; the axis is symmetric and
/// fits the largest effect or interval end.
pub fn day_effect_chart(title: &str, points: &[DayEffectPoint]) -> String {
    let height = 200.0;
    let mut out = String::new();
    open_svg(&mut out, height, title);
    let extent = points
        .iter()
        .flat_map(|p| {
            [
                Some(p.effect),
                p.band.map(|b| b.low),
                p.band.map(|b| b.high),
            ]
            .into_iter()
            .flatten()
        })
        .filter(|v| v.is_finite())
        .fold(1.0_f64, |m, v| m.max(v.abs()))
        .ceil();
    let plot = height - TOP - BOTTOM;
    let y = |v: f64| TOP + plot / 2.0 - (plot / 2.0) * (v.clamp(-extent, extent) / extent);
    for tick in [-extent, 0.0, extent] {
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}"/><text x="{:.1}" y="{:.1}" {FONT} text-anchor="end" fill="#666">{tick:+.0}</text>"##,
            y(tick),
            WIDTH - RIGHT,
            y(tick),
            if tick == 0.0 { "#999" } else { "#e0e0e0" },
            LEFT - 4.0,
            y(tick) + 4.0
        );
    }
    let n = points.len().max(1) as f64;
    let slot = (WIDTH - LEFT - RIGHT) / n;
    for (i, p) in points.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let w = (slot * 0.7).max(1.0);
        let (top, bottom) = if p.effect >= 0.0 {
            (y(p.effect), y(0.0))
        } else {
            (y(0.0), y(p.effect))
        };
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{}: {:+.1}</title></rect>"##,
            (bottom - top).max(0.5),
            if p.effect >= 0.0 {
                "#2e7d32"
            } else {
                "#c62828"
            },
            escape(&p.label),
            p.effect
        );
        if let Some(b) = p.band {
            let cx = x + w / 2.0;
            let _ = write!(
                out,
                r##"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="#333"/>"##,
                y(b.high),
                y(b.low)
            );
        }
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            out,
            r##"<text x="{LEFT}" y="{:.1}" {FONT} fill="#666">{}</text><text x="{:.1}" y="{:.1}" {FONT} text-anchor="end" fill="#666">{}</text>"##,
            height - 8.0,
            escape(&first.label),
            WIDTH - RIGHT,
            height - 8.0,
            escape(&last.label)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, value: Option<f64>, band: Option<Band>) -> HistoryChartPoint {
        HistoryChartPoint {
            label: label.into(),
            value,
            band,
            marker: None,
        }
    }

    #[test]
    fn text_is_escaped_everywhere() {
        let evil = "<script>alert('x')</script>&\"";
        let svg = history_chart(
            evil,
            &[HistoryChartPoint {
                marker: Some(Marker {
                    label: evil.into(),
                    tone: MarkerTone::Alarm,
                }),
                ..point(evil, Some(50.0), None)
            }],
        );
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
        let bars = dimension_bars(
            evil,
            &[Bar {
                label: evil.into(),
                value: 10.0,
                band: None,
                previous: None,
            }],
        );
        assert!(!bars.contains("<script"));
        let day = day_effect_chart(
            evil,
            &[DayEffectPoint {
                label: evil.into(),
                effect: -1.0,
                band: None,
            }],
        );
        assert!(!day.contains("<script"));
        let scatter = scatter_chart(
            evil,
            evil,
            evil,
            &[ScatterPoint {
                label: evil.into(),
                x: 1.0,
                y: 2.0,
            }],
        );
        assert!(!scatter.contains("<script"));
    }

    #[test]
    fn scatter_places_points_on_both_axes() {
        let svg = scatter_chart(
            "main against availability",
            "availability %",
            "main",
            &[ScatterPoint {
                label: "m".into(),
                x: 50.0,
                y: 100.0,
            }],
        );
        // x: 40 + 588 × 0.5; y: the top of the plot (score 100).
        assert!(svg.contains(r#"<circle cx="334.0" cy="28.0""#), "{svg}");
        assert!(svg.contains("<title>m: availability % 50.0, main 100.0</title>"));
        assert!(scatter_chart("empty", "x", "y", &[]).contains("no scores yet"));
    }

    #[test]
    fn verdicts_map_to_marker_tones() {
        assert_eq!(verdict_marker("noise"), None);
        let tone = |v| verdict_marker(v).unwrap().tone;
        assert_eq!(tone("watch"), MarkerTone::Caution);
        assert_eq!(tone("confirmed_degradation"), MarkerTone::Alarm);
        assert_eq!(tone("improvement"), MarkerTone::Good);
        assert_eq!(tone("retested"), MarkerTone::Neutral);
    }

    #[test]
    fn history_draws_bands_line_gaps_and_markers_at_the_right_places() {
        let b = |l, h| Some(Band { low: l, high: h });
        let svg = history_chart(
            "m",
            &[
                point("a", Some(100.0), b(90.0, 100.0)),
                point("b", Some(50.0), b(40.0, 60.0)),
                point("c", None, None),
                HistoryChartPoint {
                    marker: Some(Marker {
                        label: "watch".into(),
                        tone: MarkerTone::Caution,
                    }),
                    ..point("d", Some(0.0), None)
                },
                point("e", Some(25.0), None),
            ],
        );
        // Plot spans y 28 (score 100) to 212 (score 0) for height 240.
        assert_eq!(svg.matches("<polygon").count(), 1);
        assert!(
            svg.contains(r#"points="40.0,28.0 187.0,101.6 187.0,138.4 40.0,46.4""#),
            "{svg}"
        );
        // The gap at "c" splits the line in two: (a, b) and (d, e).
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(r#"<polyline points="40.0,28.0 187.0,120.0""#));
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("<title>d: watch</title>"));
        assert!(svg.contains("#d08700"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn bars_and_day_effect_scale_to_their_axes() {
        let svg = dimension_bars(
            "dims",
            &[Bar {
                label: "code execution".into(),
                value: 50.0,
                band: Some(Band {
                    low: 40.0,
                    high: 60.0,
                }),
                previous: Some(100.0),
            }],
        );
        // Plot width 640 − 150 − 12 − 44 = 434: 50 → 217 wide; previous at 584.
        assert!(
            svg.contains(r##"width="217.0" height="14" fill="#1565c0""##),
            "{svg}"
        );
        assert!(svg.contains(r#"x1="584.0""#));
        assert!(svg.contains(r#"x1="323.6" y1="35.0" x2="410.4""#));
        let day = day_effect_chart(
            "field",
            &[
                DayEffectPoint {
                    label: "d1".into(),
                    effect: 2.0,
                    band: None,
                },
                DayEffectPoint {
                    label: "d2".into(),
                    effect: -4.0,
                    band: None,
                },
            ],
        );
        // Axis ±4: the −4 bar fills the lower half (72 px of 144).
        assert!(day.contains(r##"height="72.0" fill="#c62828""##), "{day}");
        assert!(day.contains(r##"height="36.0" fill="#2e7d32""##));
        assert!(day.contains(">+4</text>") && day.contains(">-4</text>"));
    }
}
