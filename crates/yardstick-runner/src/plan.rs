//! Turning a bank and a run kind into a stored plan: the run row, its items
//! (stored by content version) and the configuration it ran with.

use crate::{now_ms, RunError};
use serde::{Deserialize, Serialize};
use yardstick_bank::{draw, Bank};
use yardstick_core::{Dimension, ModelSpec};
use yardstick_store::{NewRun, Store};

/// What a new run should draw and how often to ask.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `smoke`, `weekly`, `full`, `retest` or `custom`.
    pub kind: String,
    /// Items per dimension; `None` takes the whole bank.
    pub per_dimension: Option<usize>,
    /// Restrict the draw to these dimensions; `None` = all five.
    pub dimensions: Option<Vec<Dimension>>,
    pub epochs: u32,
    pub seed: u64,
    /// Human label of the draw, e.g. the date the seed came from.
    pub label: String,
}

/// The configuration a run was made with, stored with it so that its numbers
/// (prices, parameters) are read back as they were on the day.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    pub models: Vec<ModelSpec>,
    pub per_dimension: Option<usize>,
    pub dimensions: Option<Vec<Dimension>>,
    pub yardstick_version: String,
}

impl RunConfig {
    pub fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.name == name)
    }
}

/// Draws the items, stores them and the run, and returns the run number.
pub async fn create_run(
    store: &Store,
    bank: &Bank,
    models: &[ModelSpec],
    options: &RunOptions,
) -> Result<i64, RunError> {
    let drawn = draw(
        bank,
        options.per_dimension,
        options.dimensions.as_deref(),
        options.seed,
    );
    if drawn.is_empty() {
        return Err(RunError::EmptyDraw);
    }
    let items: Vec<_> = drawn.iter().map(|b| b.item.clone()).collect();
    store.upsert_items(&items).await?;
    for m in models {
        let spec = serde_json::to_string(m).expect("model specs always serialize");
        store.upsert_model(&m.name, m.provider.id(), &spec).await?;
    }
    let config = RunConfig {
        models: models.to_vec(),
        per_dimension: options.per_dimension,
        dimensions: options.dimensions.clone(),
        yardstick_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let run_id = store
        .create_run(&NewRun {
            kind: options.kind.clone(),
            seed: options.seed,
            label: options.label.clone(),
            epochs: options.epochs,
            models: models.iter().map(|m| m.name.clone()).collect(),
            config_json: serde_json::to_string(&config).expect("run configs always serialize"),
            created_at: now_ms(),
        })
        .await?;
    let keys: Vec<(String, String)> = items.iter().map(|i| (i.id.clone(), i.version())).collect();
    store.add_run_items(run_id, &keys).await?;
    Ok(run_id)
}
