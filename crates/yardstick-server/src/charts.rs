//! Inline SVG charts (no JavaScript, no external files). Every text that comes
//! from data is XML-escaped here, because the templates insert the SVG as is.

use std::fmt::Write;

/// One bar: a value with an optional interval.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone)]
pub struct HistoryPoint {
    pub run: i64,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// A verdict drawn on a history chart at its run.
#[derive(Debug, Clone)]
pub struct Marker {
    pub run: i64,
    pub label: String,
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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
const LABEL_WIDTH: f64 = 170.0;
const ROW: f64 = 18.0;

/// Scores are 0–100: clamp so an interval reaching past the axis stays drawn inside it.
fn clamp(v: f64) -> f64 {
    v.clamp(0.0, 100.0)
}

fn open(title: &str, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" class=\"chart\"><title>{}</title>\
         <text x=\"4\" y=\"14\" font-size=\"12\" font-weight=\"bold\">{}</text>",
        escape(title),
        escape(title)
    )
}

/// Horizontal bars on a 0–100 axis, each with its interval as a whisker.
pub fn bars(title: &str, bars: &[Bar]) -> String {
    let height = 30.0 + ROW * bars.len().max(1) as f64;
    let mut svg = open(title, height);
    let span = WIDTH - LABEL_WIDTH - 10.0;
    let x = |v: f64| LABEL_WIDTH + span * clamp(v) / 100.0;
    if bars.is_empty() {
        svg.push_str("<text x=\"4\" y=\"40\" font-size=\"12\">no scores yet</text>");
    }
    for (i, b) in bars.iter().enumerate() {
        let y = 24.0 + ROW * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a78b5\"><title>{}: {:.2}</title></rect>",
            LABEL_WIDTH - 4.0,
            y + 12.0,
            escape(&b.label),
            x(b.value) - LABEL_WIDTH,
            ROW - 4.0,
            escape(&b.label),
            b.value
        );
        if let (Some(lo), Some(hi)) = (b.low, b.high) {
            let _ = write!(
                svg,
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#222\" stroke-width=\"1.5\"/>",
                x(lo),
                x(hi),
                y + 7.0,
                y + 7.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A scatter plot on two 0–100 axes.
pub fn scatter(title: &str, points: &[Point]) -> String {
    let height = 260.0;
    let mut svg = open(title, height);
    let (left, top, size_x, size_y) = (40.0, 24.0, WIDTH - 60.0, height - 50.0);
    let _ = write!(
        svg,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{size_x}\" height=\"{size_y}\" fill=\"none\" stroke=\"#999\"/>\
         <text x=\"{left}\" y=\"{:.1}\" font-size=\"10\">0</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">100</text>",
        top + size_y + 12.0,
        left + size_x - 16.0,
        top + size_y + 12.0
    );
    for p in points {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#b5584a\"><title>{}: {:.1}, {:.2}</title></circle>",
            left + size_x * clamp(p.x) / 100.0,
            top + size_y * (1.0 - clamp(p.y) / 100.0),
            escape(&p.label),
            p.x,
            p.y
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line of scores over runs with an interval band and verdict markers.
pub fn history(title: &str, points: &[HistoryPoint], markers: &[Marker]) -> String {
    let height = 240.0;
    let mut svg = open(title, height);
    let (left, top, size_x, size_y) = (40.0, 24.0, WIDTH - 60.0, height - 50.0);
    let _ = write!(
        svg,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{size_x}\" height=\"{size_y}\" fill=\"none\" stroke=\"#999\"/>"
    );
    if points.is_empty() {
        svg.push_str("<text x=\"50\" y=\"60\" font-size=\"12\">no scored runs yet</text></svg>");
        return svg;
    }
    let step = size_x / (points.len().max(2) - 1) as f64;
    let x = |i: usize| left + step * i as f64;
    let y = |v: f64| top + size_y * (1.0 - clamp(v) / 100.0);
    // The band: upper bounds left to right, then lower bounds back.
    let banded: Vec<(usize, f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, p.low?, p.high?)))
        .collect();
    if banded.len() > 1 {
        let mut d = String::new();
        for (n, (i, _, hi)) in banded.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1} ",
                if n == 0 { "M" } else { "L" },
                x(*i),
                y(*hi)
            );
        }
        for (i, lo, _) in banded.iter().rev() {
            let _ = write!(d, "L{:.1},{:.1} ", x(*i), y(*lo));
        }
        let _ = write!(
            svg,
            "<path d=\"{d}Z\" fill=\"#4a78b5\" fill-opacity=\"0.2\" stroke=\"none\"/>"
        );
    }
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.value)))
        .collect();
    let _ = write!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#4a78b5\" stroke-width=\"1.5\"/>",
        line.join(" ")
    );
    for m in markers {
        if let Some(i) = points.iter().position(|p| p.run == m.run) {
            let colour = if m.label.contains("degradation") {
                "#c0392b"
            } else if m.label == "improvement" {
                "#27ae60"
            } else {
                "#e6a23c"
            };
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{colour}\" class=\"verdict\"><title>Run #{}: {}</title></circle>",
                x(i),
                y(points[i].value),
                m.run,
                escape(&m.label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = bars(
            "t",
            &[Bar {
                label: "<script>x</script>".into(),
                value: 50.0,
                low: Some(40.0),
                high: Some(60.0),
            }],
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn history_draws_band_and_markers() {
        let points: Vec<HistoryPoint> = (0..3)
            .map(|i| HistoryPoint {
                run: i,
                value: 50.0,
                low: Some(40.0),
                high: Some(60.0),
            })
            .collect();
        let svg = history(
            "h",
            &points,
            &[Marker {
                run: 2,
                label: "likely_degradation".into(),
            }],
        );
        assert!(svg.contains("<path d=\"M"));
        assert!(svg.contains("class=\"verdict\""));
        assert!(svg.contains("Run #2: likely_degradation"));
    }
}
