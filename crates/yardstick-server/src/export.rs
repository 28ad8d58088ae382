//! A run's attempts as flat rows for `yardstick export` and the API's export
//! route: one row per attempt with its current grade, written as JSON Lines or
//! RFC 4180 CSV. One implementation serves both so the files are identical.

use crate::views::{run_view, ViewError};
use serde::Serialize;
use std::io::{self, Write};
use yardstick_store::Store;

/// One attempt with its latest grade, as exported.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRow {
    pub run: i64,
    pub attempt: i64,
    pub model: String,
    pub item_id: String,
    pub item_version: String,
    pub dimension: String,
    pub epoch: u32,
    pub error_class: Option<String>,
    pub tries: u32,
    pub latency_ms: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub score: Option<f64>,
    pub grader: Option<String>,
    pub response: Option<String>,
}

/// The CSV header, in [`ExportRow`] field order.
pub const CSV_HEADER: &str = "run,attempt,model,item_id,item_version,dimension,epoch,error_class,tries,latency_ms,input_tokens,output_tokens,score,grader,response";

/// Every attempt of the run, in draw order, then model and epoch as stored.
pub async fn rows(store: &Store, run_id: i64) -> Result<Vec<ExportRow>, ViewError> {
    let view = run_view(store, run_id).await?;
    let mut rows: Vec<ExportRow> = view
        .items
        .into_iter()
        .flat_map(|item| {
            let dimension = item.dimension;
            item.attempts.into_iter().map(move |a| ExportRow {
                run: a.run,
                attempt: a.id,
                model: a.model,
                item_id: a.item_id,
                item_version: a.item_version,
                dimension: dimension.clone(),
                epoch: a.epoch,
                error_class: a.error_class,
                tries: a.tries,
                latency_ms: a.latency_ms,
                input_tokens: a.input_tokens,
                output_tokens: a.output_tokens,
                score: a.score,
                grader: a.grader,
                response: a.response,
            })
        })
        .collect();
    // Insertion order, as `yardstick export` has always written them.
    rows.sort_by_key(|r| r.attempt);
    Ok(rows)
}

pub fn write_jsonl(rows: &[ExportRow], out: &mut dyn Write) -> io::Result<()> {
    for r in rows {
        serde_json::to_writer(&mut *out, r)?;
        writeln!(out)?;
    }
    Ok(())
}

pub fn write_csv(rows: &[ExportRow], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for r in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let fields = [
            r.run.to_string(),
            r.attempt.to_string(),
            r.model.clone(),
            r.item_id.clone(),
            r.item_version.clone(),
            r.dimension.clone(),
            r.epoch.to_string(),
            opt(&r.error_class),
            r.tries.to_string(),
            r.latency_ms.to_string(),
            r.input_tokens.to_string(),
            r.output_tokens.to_string(),
            r.score.map(|s| s.to_string()).unwrap_or_default(),
            opt(&r.grader),
            opt(&r.response),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

/// RFC 4180 quoting: fields with commas, quotes or line breaks are quoted.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(response: &str) -> ExportRow {
        ExportRow {
            run: 1,
            attempt: 2,
            model: "m".into(),
            item_id: "i".into(),
            item_version: "v".into(),
            dimension: "grounding".into(),
            epoch: 0,
            error_class: None,
            tries: 1,
            latency_ms: 5,
            input_tokens: 3,
            output_tokens: 4,
            score: Some(50.0),
            grader: Some("numeric@1".into()),
            response: Some(response.into()),
        }
    }

    #[test]
    fn csv_quotes_commas_quotes_and_line_breaks() {
        let mut out = Vec::new();
        write_csv(
            &[row("first, second\nthird \"quoted\""), row("plain")],
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            format!(
                "{CSV_HEADER}\n1,2,m,i,v,grounding,0,,1,5,3,4,50,numeric@1,\"first, second\nthird \"\"quoted\"\"\"\n\
                 1,2,m,i,v,grounding,0,,1,5,3,4,50,numeric@1,plain\n"
            )
        );
    }

    #[test]
    fn jsonl_is_one_object_per_line() {
        let mut out = Vec::new();
        write_jsonl(&[row("a\nb"), row("c")], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["response"], "a\nb");
        assert_eq!(lines[0]["dimension"], "grounding");
    }
}
