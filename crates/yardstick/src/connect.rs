//! Turning configured models into providers, before any run is created, so a
//! missing key or model file stops the command with nothing stored.

#[cfg(feature = "local")]
use anyhow::Context;
use anyhow::Result;
use std::sync::Arc;
use yardstick_core::{ModelSpec, ProviderKind};
use yardstick_providers::Provider;
use yardstick_runner::Model;

pub fn connect(specs: &[ModelSpec]) -> Result<Vec<Model>> {
    specs
        .iter()
        .map(|spec| {
            Ok(Model {
                spec: spec.clone(),
                provider: provider_for(spec)?,
            })
        })
        .collect()
}

fn provider_for(spec: &ModelSpec) -> Result<Arc<dyn Provider>> {
    match spec.provider {
        ProviderKind::Local => local(spec),
        _ => Ok(yardstick_providers::build_provider(spec)?),
    }
}

#[cfg(feature = "local")]
fn local(spec: &ModelSpec) -> Result<Arc<dyn Provider>> {
    let cache = yardstick_local::default_cache_dir();
    let provider = yardstick_local::LocalProvider::load(&spec.model, &cache, Default::default())
        .with_context(|| format!("cannot load the local model of `{}`", spec.name))?;
    Ok(Arc::new(provider))
}

#[cfg(not(feature = "local"))]
fn local(spec: &ModelSpec) -> Result<Arc<dyn Provider>> {
    anyhow::bail!(
        "model `{}` uses the local provider, but this yardstick was built without the `local` feature; rebuild with default features",
        spec.name
    )
}
