//! `synth-db URL [MODELS RUNS ITEMS_PER_DIMENSION]`: writes a synthetic
//! history into the database at URL (default size: the benchmark's 30 models
//! x 365 daily runs x 10 items, with model-01 dropping 25 points on the last day).

use anyhow::{bail, Context, Result};
use std::time::Instant;
use yardstick_store::Store;
use yardstick_synth::{generate, SynthSpec};

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        bail!("usage: synth-db URL [MODELS RUNS ITEMS_PER_DIMENSION]  (URL: sqlite://FILE or postgres://…)");
    };
    let mut spec = SynthSpec::benchmark();
    let number = |i: usize, what: &str| -> Result<Option<usize>> {
        args.get(i)
            .map(|s| {
                s.parse()
                    .with_context(|| format!("{what} must be a whole number, got `{s}`"))
            })
            .transpose()
    };
    if let Some(n) = number(1, "MODELS")? {
        spec.models = n;
    }
    if let Some(n) = number(2, "RUNS")? {
        spec.runs = n;
    }
    if let Some(n) = number(3, "ITEMS_PER_DIMENSION")? {
        spec.items_per_dimension = n;
    }
    spec.drops
        .retain(|d| d.model < spec.models && d.from_run < spec.runs);
    let store = Store::open(url).await?;
    let started = Instant::now();
    let synth = generate(&store, &spec).await?;
    println!(
        "{}: {} models x {} runs (#{}–#{}) x {} items in {:.1} s",
        store.location(),
        synth.models.len(),
        synth.run_ids.len(),
        synth.run_ids.first().unwrap_or(&0),
        synth.run_ids.last().unwrap_or(&0),
        spec.items_per_dimension * 5,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
