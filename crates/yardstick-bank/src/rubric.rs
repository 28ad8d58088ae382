//! Judge rubrics (`[rubrics.NAME]` in any bank TOML file), the judged parts
//! of items that name them, and the frozen judge calibration set
//! (`[[calibration]]`, by convention in `judge_calibration.toml`).
//!
//! Rubrics are read from every file before any item is checked, because an
//! item may name a rubric defined in another file.

use crate::node::{Entry, Node, Value};
use crate::validate::{describe, suggest, FileCheck};
use std::collections::{BTreeMap, HashSet};
use yardstick_core::{Anchor, CalibrationEntry, Criterion, JudgedPart, Rubric};

/// Rubrics by name, with the place each was defined.
#[derive(Debug, Default)]
pub(crate) struct Rubrics {
    pub valid: BTreeMap<String, Rubric>,
    /// Names defined but invalid (already reported), so items naming them
    /// do not repeat the problem as "unknown rubric".
    pub broken: HashSet<String>,
    /// A bank TOML file could not be parsed, so a rubric an item names may
    /// be in it: "unknown rubric" would be noise next to the syntax error.
    pub incomplete: bool,
}

impl Rubrics {
    /// The rubric `name` names, or `Err(message)`; `Ok(None)` when it is
    /// defined but broken, or may be in a file that could not be parsed
    /// (that file's own error says why).
    pub fn resolve(&self, name: &str) -> Result<Option<&Rubric>, String> {
        if let Some(r) = self.valid.get(name) {
            return Ok(Some(r));
        }
        if self.broken.contains(name) || self.incomplete {
            return Ok(None);
        }
        let names: Vec<&str> = self
            .valid
            .keys()
            .map(String::as_str)
            .chain(self.broken.iter().map(String::as_str))
            .collect();
        let hint = match suggest(name, &names) {
            Some(s) => format!("did you mean `{s}`? "),
            None => String::new(),
        };
        let known = if names.is_empty() {
            "the bank defines none; add a `[rubrics.NAME]` table to a bank TOML file".to_string()
        } else {
            format!("defined rubrics: {}", names.join(", "))
        };
        Err(format!("unknown rubric `{name}`; {hint}{known}"))
    }
}

const RUBRIC_KEYS: &[&str] = &["criteria"];
const CRITERION_KEYS: &[&str] = &["id", "description", "anchors"];
const ANCHOR_KEYS: &[&str] = &["score", "meaning"];
const JUDGED_KEYS: &[&str] = &["rubric", "weight"];
const CALIBRATION_KEYS: &[&str] = &["id", "rubric", "question", "reference", "answer", "scores"];

impl FileCheck<'_> {
    /// Checks a file's `rubrics` table; returns `(name, rubric or None when
    /// invalid, line)` for every rubric it names.
    pub fn rubric_table(&mut self, entry: &Entry) -> Vec<(String, Option<Rubric>, usize)> {
        let Value::Table(entries) = &entry.node.value else {
            self.err(
                entry.line,
                format!(
                    "`rubrics` is {}; write each rubric as a `[rubrics.NAME]` table",
                    entry.node.value.kind()
                ),
            );
            return Vec::new();
        };
        entries
            .iter()
            .map(|e| {
                let rubric = self.rubric(e);
                (e.key.clone(), rubric, e.line)
            })
            .collect()
    }

    fn rubric(&mut self, entry: &Entry) -> Option<Rubric> {
        let before = self.errors.len();
        let name = &entry.key;
        self.id_ok(name, entry.line);
        let Value::Table(entries) = &entry.node.value else {
            self.err(
                entry.line,
                format!(
                    "rubric `{name}` is {}; write it as a `[rubrics.{name}]` table with `criteria = [ … ]`",
                    entry.node.value.kind()
                ),
            );
            return None;
        };
        let mut criteria = None;
        for e in entries {
            match e.key.as_str() {
                "criteria" => criteria = Some(e),
                _ => self.unknown_key(e, &format!("rubric `{name}`"), RUBRIC_KEYS),
            }
        }
        let list = match criteria.map(|e| (e, &e.node.value)) {
            Some((_, Value::Array(list))) if !list.is_empty() => list,
            Some((e, _)) => {
                self.err(
                    e.line,
                    format!("rubric `{name}`: `criteria` must be a non-empty array of tables `{{ id, description, anchors }}`"),
                );
                return None;
            }
            None => {
                self.err(
                    entry.line,
                    format!("rubric `{name}` has no `criteria`; add `criteria = [ {{ id = \"…\", description = \"…\", anchors = [ … ] }} ]`"),
                );
                return None;
            }
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for node in list {
            if let Some(c) = self.criterion(node, name) {
                if !seen.insert(c.id.clone()) {
                    self.err(
                        node.line,
                        format!("rubric `{name}`: criterion `{}` appears twice; criterion ids must be unique within a rubric", c.id),
                    );
                }
                out.push(c);
            }
        }
        (self.errors.len() == before).then(|| Rubric {
            name: name.clone(),
            criteria: out,
        })
    }

    fn criterion(&mut self, node: &Node, rubric: &str) -> Option<Criterion> {
        let Value::Table(entries) = &node.value else {
            self.err(
                node.line,
                format!(
                    "rubric `{rubric}`: a criterion is {}, not a table `{{ id, description, anchors }}`",
                    node.value.kind()
                ),
            );
            return None;
        };
        let place = format!("a criterion of rubric `{rubric}`");
        let (mut id, mut description, mut anchors) = (None, None, None);
        for e in entries {
            match e.key.as_str() {
                "id" => id = self.string(e).filter(|s| self.id_ok(s, e.line)),
                "description" => description = self.non_blank(e),
                "anchors" => anchors = self.anchors(e, rubric),
                _ => self.unknown_key(e, &place, CRITERION_KEYS),
            }
        }
        for (key, missing) in [
            ("id", !entries.iter().any(|e| e.key == "id")),
            (
                "description",
                !entries.iter().any(|e| e.key == "description"),
            ),
            ("anchors", !entries.iter().any(|e| e.key == "anchors")),
        ] {
            if missing {
                self.err(node.line, format!("{place} has no `{key}`"));
            }
        }
        Some(Criterion {
            id: id?,
            description: description?,
            anchors: anchors?,
        })
    }

    /// Anchors: at least two, scores strictly increasing from 0.
    fn anchors(&mut self, e: &Entry, rubric: &str) -> Option<Vec<Anchor>> {
        let Value::Array(list) = &e.node.value else {
            self.err(
                e.line,
                format!("rubric `{rubric}`: `anchors` must be an array of `{{ score, meaning }}` tables, found {}", e.node.value.kind()),
            );
            return None;
        };
        let before = self.errors.len();
        let mut out: Vec<Anchor> = Vec::new();
        for node in list {
            let Value::Table(entries) = &node.value else {
                self.err(
                    node.line,
                    format!("rubric `{rubric}`: an anchor must be a table `{{ score = 0, meaning = \"…\" }}`, found {}", node.value.kind()),
                );
                continue;
            };
            let (mut score, mut meaning) = (None, None);
            for a in entries {
                match a.key.as_str() {
                    "score" => match a.node.value {
                        Value::Integer(i) if (0..=100).contains(&i) => score = Some(i as u32),
                        ref other => self.err(
                            a.line,
                            format!("rubric `{rubric}`: an anchor's `score` must be a whole number from 0 to 100, found {}", describe(other)),
                        ),
                    },
                    "meaning" => meaning = self.non_blank(a),
                    _ => self.unknown_key(a, &format!("an anchor of rubric `{rubric}`"), ANCHOR_KEYS),
                }
            }
            match (score, meaning) {
                (Some(score), Some(meaning)) => {
                    if let Some(prev) = out.last() {
                        if score <= prev.score {
                            self.err(
                                node.line,
                                format!("rubric `{rubric}`: anchors are out of order — score {score} follows {}; list anchors by strictly increasing score", prev.score),
                            );
                        }
                    } else if score != 0 {
                        self.err(
                            node.line,
                            format!("rubric `{rubric}`: the first anchor has score {score}; a scale starts at 0 so that the rubric score runs from 0 to 100"),
                        );
                    }
                    out.push(Anchor { score, meaning });
                }
                _ => {
                    for key in ANCHOR_KEYS {
                        if !entries.iter().any(|a| a.key == *key) {
                            self.err(
                                node.line,
                                format!("rubric `{rubric}`: an anchor has no `{key}`; write `{{ score = 3, meaning = \"…\" }}`"),
                            );
                        }
                    }
                }
            }
        }
        if self.errors.len() == before && out.len() < 2 {
            self.err(
                e.line,
                format!("rubric `{rubric}`: a scale needs at least two anchors (the lowest, 0, and the highest), found {}", out.len()),
            );
        }
        (self.errors.len() == before).then_some(out)
    }

    /// A string with something in it.
    fn non_blank(&mut self, e: &Entry) -> Option<String> {
        let s = self.string(e)?;
        if s.trim().is_empty() {
            self.err(e.line, format!("`{}` is empty; write it out", e.key));
            return None;
        }
        Some(s)
    }

    /// A rubric name in a grader or a judged part: the resolved rubric.
    pub fn rubric_name(&mut self, e: &Entry) -> Option<Rubric> {
        let name = self.string(e)?;
        match self.rubrics.resolve(&name) {
            Ok(found) => found.cloned(),
            Err(message) => {
                self.err(e.line, message);
                None
            }
        }
    }

    /// An item's `judged = { rubric = "…", weight = 0.3 }`.
    pub fn judged(&mut self, e: &Entry) -> Option<JudgedPart> {
        let Value::Table(entries) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`judged` is {}; write `judged = {{ rubric = \"clarity\", weight = 0.3 }}`",
                    e.node.value.kind()
                ),
            );
            return None;
        };
        let (mut rubric, mut weight) = (None, None);
        for f in entries {
            match f.key.as_str() {
                "rubric" => rubric = self.rubric_name(f),
                "weight" => {
                    let w = match f.node.value {
                        Value::Integer(i) => Some(i as f64),
                        Value::Float(x) => Some(x),
                        _ => None,
                    };
                    match w {
                        Some(w) if w > 0.0 && w <= 1.0 => weight = Some(w),
                        _ => self.err(
                            f.line,
                            format!("`judged.weight` is {}; it must be a number in (0, 1] — the judge's share of the item score (0.3 = 70% rule, 30% judge)", describe(&f.node.value)),
                        ),
                    }
                }
                _ => self.unknown_key(f, "`judged`", JUDGED_KEYS),
            }
        }
        for (key, missing) in [
            ("rubric", !entries.iter().any(|f| f.key == "rubric")),
            ("weight", !entries.iter().any(|f| f.key == "weight")),
        ] {
            if missing {
                self.err(
                    e.line,
                    format!("`judged` has no `{key}`; write `judged = {{ rubric = \"clarity\", weight = 0.3 }}`"),
                );
            }
        }
        Some(JudgedPart {
            rubric: rubric?,
            weight: weight?,
        })
    }

    /// A file's `[[calibration]]` entries.
    pub fn calibration(&mut self, entry: &Entry) -> Vec<(CalibrationEntry, usize)> {
        let Value::Array(list) = &entry.node.value else {
            self.err(
                entry.line,
                format!(
                    "`calibration` is {}; write each entry as a `[[calibration]]` section",
                    entry.node.value.kind()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for node in list {
            let Value::Table(entries) = &node.value else {
                self.err(
                    node.line,
                    format!(
                        "a `calibration` entry is {}, not a table",
                        node.value.kind()
                    ),
                );
                continue;
            };
            if let Some(c) = self.calibration_entry(entries, node.line) {
                out.push((c, node.line));
            }
        }
        out
    }

    fn calibration_entry(&mut self, entries: &[Entry], line: usize) -> Option<CalibrationEntry> {
        let before = self.errors.len();
        let field = |key: &str| entries.iter().find(|e| e.key == key);
        for key in CALIBRATION_KEYS {
            if field(key).is_none() {
                self.err(
                    line,
                    format!(
                        "a `[[calibration]]` entry has no `{key}`; each entry needs {}",
                        CALIBRATION_KEYS.join(", ")
                    ),
                );
            }
        }
        for e in entries {
            if !CALIBRATION_KEYS.contains(&e.key.as_str()) {
                self.unknown_key(e, "a `[[calibration]]` entry", CALIBRATION_KEYS);
            }
        }
        let id = field("id").and_then(|e| self.string(e).filter(|s| self.id_ok(s, e.line)));
        let rubric = field("rubric").and_then(|e| self.rubric_name(e));
        let text = |check: &mut Self, key: &str| field(key).and_then(|e| check.non_blank(e));
        let question = text(self, "question");
        let reference = text(self, "reference");
        let answer = text(self, "answer");
        let scores = match (field("scores"), &rubric) {
            (Some(e), Some(r)) => self.frozen_scores(e, r),
            _ => None,
        };
        if self.errors.len() > before {
            return None;
        }
        Some(CalibrationEntry {
            id: id?,
            rubric: rubric?,
            question: question?,
            reference: reference?,
            answer: answer?,
            scores: scores?,
        })
    }

    /// `scores = { criterion = n, … }`: exactly the rubric's criteria, each
    /// on its scale.
    fn frozen_scores(&mut self, e: &Entry, rubric: &Rubric) -> Option<BTreeMap<String, u32>> {
        let Value::Table(entries) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`scores` must be a table of criterion = score, found {}",
                    e.node.value.kind()
                ),
            );
            return None;
        };
        let before = self.errors.len();
        let ids: Vec<&str> = rubric.criteria.iter().map(|c| c.id.as_str()).collect();
        let mut out = BTreeMap::new();
        for s in entries {
            let Some(criterion) = rubric.criteria.iter().find(|c| c.id == s.key) else {
                self.unknown_key(
                    s,
                    &format!("`scores` (criteria of rubric `{}`)", rubric.name),
                    &ids,
                );
                continue;
            };
            match s.node.value {
                Value::Integer(i) if i >= 0 && i <= i64::from(criterion.max()) => {
                    out.insert(s.key.clone(), i as u32);
                }
                ref other => self.err(
                    s.line,
                    format!(
                        "score of `{}` is {}; it must be a whole number from 0 to {} (its scale)",
                        s.key,
                        describe(other),
                        criterion.max()
                    ),
                ),
            }
        }
        for id in &ids {
            if !entries.iter().any(|s| s.key == *id) {
                self.err(
                    e.line,
                    format!("`scores` has no score for criterion `{id}` of rubric `{}`; every criterion needs its frozen score", rubric.name),
                );
            }
        }
        (self.errors.len() == before).then_some(out)
    }
}
