//! Question bank: TOML/JSONL files, validation with `file:line` errors, and
//! seeded draws.
//!
//! A bank is a directory tree of `.toml` files (several items per file, with
//! optional file-level `[defaults]`) and `.jsonl` files (one JSON
//! `yardstick_core::Item` per line; a JSONL item may also use
//! `materials_file` instead of inline `materials`). Other files, such as the
//! documents grounding items quote, are read only when an item names them in
//! `materials_file`; `materials` and `materials_file` are mutually exclusive.
//!
//! Loading works over in-memory [`SourceFile`]s ([`load_files`]) so the binary
//! can embed its built-in bank and still report problems against readable
//! paths; [`load_dir`] reads the same layout from disk. Either way the bank is
//! validated as a whole and *every* problem is reported, each as
//! `file:line: message` with what to do about it, because an author fixing a
//! bank wants the full list, not one error per attempt.
//!
//! [`draw`] picks a run's items from a seed ([`seed_for_date`] derives one from
//! the date), so every model of a daily run gets the same items and anyone
//! can reproduce the draw.
//!
//! ```toml
//! [defaults]               # optional; applies to items that don't set a key
//! dimension = "grounding"
//! cluster = "doc-ledger"
//! materials_file = "docs/ledger.md"   # relative to this file's directory
//!
//! [[items]]
//! id = "grounding-ledger-1"
//! prompt = "How many … ? Answer with only the number."
//! references = ["1250"]
//! grader = { type = "numeric" }
//! ```

mod draw;
mod load;
mod node;
mod rubric;
mod validate;

pub use draw::{draw, seed_for_date};
pub use load::{load_dir, load_files};

use std::collections::BTreeMap;
use std::fmt;
use yardstick_core::{CalibrationEntry, Dimension, Item, Rubric};

/// One bank file held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Display path, relative (e.g. `bank/grounding.toml`); errors quote it and
    /// `materials_file` paths are resolved against its directory.
    pub path: String,
    pub contents: String,
}

/// Where an item was defined: the line of its `[[items]]` header in TOML, its
/// line in JSONL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceLoc {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A validated item and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct BankItem {
    pub item: Item,
    pub source: SourceLoc,
}

/// A validated bank: ids are unique, every grader is well-formed. Items are in
/// file order (files sorted by path), then in order within each file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bank {
    pub items: Vec<BankItem>,
    /// The judge rubrics by name (`[rubrics.NAME]` of any file); judged
    /// items already carry their rubric's content.
    pub rubrics: BTreeMap<String, Rubric>,
    /// The frozen judge calibration set (`[[calibration]]` entries), in
    /// file order.
    pub calibration: Vec<CalibrationEntry>,
}

impl Bank {
    /// The item with this id.
    pub fn get(&self, id: &str) -> Option<&BankItem> {
        self.items.iter().find(|b| b.item.id == id)
    }

    /// Items grouped by dimension; every dimension of [`Dimension::ALL`] is a
    /// key (with an empty list when the bank has none), so callers can report
    /// gaps without special cases.
    pub fn by_dimension(&self) -> BTreeMap<Dimension, Vec<&BankItem>> {
        let mut map: BTreeMap<Dimension, Vec<&BankItem>> =
            Dimension::ALL.iter().map(|d| (*d, Vec::new())).collect();
        for b in &self.items {
            map.entry(b.item.dimension).or_default().push(b);
        }
        map
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, BankItem> {
        self.items.iter()
    }
}

impl<'a> IntoIterator for &'a Bank {
    type Item = &'a BankItem;
    type IntoIter = std::slice::Iter<'a, BankItem>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// One problem in a bank. `line` is 1-based; 0 means the problem concerns the
/// file as a whole (it could not be read, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BankError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Every problem found in a bank, sorted by file and line. Displays one
/// problem per line followed by a count (no trailing newline).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BankErrors {
    pub errors: Vec<BankError>,
}

impl BankErrors {
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, BankError> {
        self.errors.iter()
    }
}

impl fmt::Display for BankErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "{e}")?;
        }
        let n = self.errors.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

impl<'a> IntoIterator for &'a BankErrors {
    type Item = &'a BankError;
    type IntoIter = std::slice::Iter<'a, BankError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}
