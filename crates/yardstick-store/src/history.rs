//! Reads behind the board's statistics.

use crate::error::query_err;
use crate::{Reader, Result, Store, StoreError};
use std::collections::HashMap;

/// Only the field the clustered intervals need; serde skips the rest of the
/// item (documents included) without allocating it.
#[derive(serde::Deserialize)]
struct ClusterOnly {
    #[serde(default)]
    cluster: Option<String>,
}

impl Store {
    /// The clusters of a run's drawn items: (item id, version) → cluster,
    /// for the items that have one (items sharing a source document).
    pub async fn run_item_clusters(
        &self,
        run_id: i64,
    ) -> Result<HashMap<(String, String), String>> {
        let rows = sqlx::query(
            "SELECT ri.item_id, ri.version, i.content_json FROM run_items ri \
             JOIN items i ON i.item_id = ri.item_id AND i.version = ri.version \
             WHERE ri.run_id = $1",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_err(format!(
            "reading the item clusters of run #{run_id}"
        )))?;
        let mut clusters = HashMap::new();
        for row in &rows {
            let r = Reader::new(row, "items");
            let item_id: String = r.get("item_id")?;
            let version: String = r.get("version")?;
            let json: String = r.get("content_json")?;
            let item: ClusterOnly =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                    what: format!(
                        "item `{item_id}` version {version}: stored JSON does not read as an item ({e})"
                    ),
                })?;
            if let Some(cluster) = item.cluster {
                clusters.insert((item_id, version), cluster);
            }
        }
        Ok(clusters)
    }
}
