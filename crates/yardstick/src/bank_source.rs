//! Where the bank comes from: a directory, or the built-in bank embedded at
//! build time.

use anyhow::{bail, Result};
use std::path::Path;
use yardstick_bank::{load_dir, load_files, Bank, BankErrors, SourceFile};

const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_bank.rs"));

/// The built-in bank's files, with display paths under `builtin:bank/`.
fn builtin_files() -> Vec<SourceFile> {
    BUILTIN
        .iter()
        .map(|(path, contents)| SourceFile {
            path: format!("builtin:bank/{path}"),
            contents: contents.to_string(),
        })
        .collect()
}

/// Loads and validates a bank, or explains every problem in it.
pub fn load(dir: Option<&Path>) -> Result<Bank, BankErrors> {
    match dir {
        Some(d) => load_dir(d),
        None => load_files(&builtin_files()),
    }
}

/// Loads a bank for a run; an invalid bank stops the run before any model is asked.
pub fn load_for_run(dir: Option<&Path>) -> Result<Bank> {
    match load(dir) {
        Ok(bank) => Ok(bank),
        Err(errors) => bail!(
            "the question bank is invalid, so nothing was run:\n{errors}\nfix these and check with `yardstick bank validate`"
        ),
    }
}
