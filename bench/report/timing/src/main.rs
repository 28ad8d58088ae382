//! `yardstick-report-bench URL [ITERATIONS]`: times the daily report of the newest run
//! in the database at URL (made with `synth-db`): reading its data from the
//! store, planning the articles and rendering them as Markdown and HTML.
//! Prints each phase's median and the worst total.

use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};
use yardstick_report::{
    load_report_data, plan_articles, render_article, Format, ReportConfig, Templates,
};
use yardstick_store::Store;

/// The board's default stability window.
const STABILITY_WINDOW: usize = 7;

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        bail!("usage: yardstick-report-bench URL [ITERATIONS]");
    };
    let iterations: usize = args
        .get(1)
        .map(|s| s.parse().context("ITERATIONS must be a whole number"))
        .transpose()?
        .unwrap_or(10);
    let store = Store::open_existing(url).await?;
    let Some(run) = store.list_runs(1).await?.pop() else {
        bail!(
            "{} holds no run: create one with synth-db",
            store.location()
        );
    };
    let config = ReportConfig::default();
    let templates = Templates::load(None)?;
    let (mut loads, mut renders, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    let mut articles = 0;
    let mut bytes = 0;
    for _ in 0..iterations {
        let started = Instant::now();
        let data = load_report_data(&store, run.id, &config, STABILITY_WINDOW).await?;
        let loaded = started.elapsed();
        let plans = plan_articles(&data, &config, None)?;
        articles = plans.len();
        bytes = 0;
        for format in [Format::Markdown, Format::Html] {
            for plan in &plans {
                bytes += render_article(plan, &data, &config, &templates, format, None)?
                    .body
                    .len();
            }
        }
        let total = started.elapsed();
        loads.push(loaded);
        renders.push(total - loaded);
        totals.push(total);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "run #{} ({} models): {articles} articles, md + html = {bytes} bytes",
        run.id,
        run.models.len()
    );
    println!(
        "median over {iterations}: load {:.1} ms, plan + render {:.1} ms, total {:.1} ms; worst total {:.1} ms",
        ms(median(&mut loads)),
        ms(median(&mut renders)),
        ms(median(&mut totals.clone())),
        ms(*totals.iter().max().expect("at least one iteration"))
    );
    Ok(())
}
