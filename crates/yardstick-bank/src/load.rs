//! Reading bank files (from memory or disk), resolving `materials_file`
//! references, and the checks that span files (duplicate ids).

use crate::node::{from_toml, LineIndex, Node, Value};
use crate::rubric::Rubrics;
use crate::validate::FileCheck;
use crate::{Bank, BankError, BankErrors, BankItem, SourceFile, SourceLoc};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use yardstick_core::Item;

/// How a referenced file is found: `None` when no such file exists,
/// `Some(Err(reason))` when it exists but cannot be read.
type Lookup<'a> = dyn Fn(&str) -> Option<Result<String, String>> + 'a;

/// Loads and validates a bank held in memory. `.toml` and `.jsonl` files are
/// item files; any other file is available to `materials_file`, which is
/// resolved against the referring file's directory by normalised relative
/// path (`docs/../docs/a.md` finds `docs/a.md`).
pub fn load_files(files: &[SourceFile]) -> Result<Bank, BankErrors> {
    let by_path: HashMap<String, &SourceFile> =
        files.iter().map(|f| (normalise(&f.path), f)).collect();
    let lookup = |path: &str| by_path.get(path).map(|f| Ok(f.contents.clone()));
    let sources = files
        .iter()
        .filter(|f| is_item_file(&f.path))
        .map(|f| (display(&f.path), Ok(f.contents.clone())))
        .collect();
    load_sources(sources, &lookup, "(in-memory bank)")
}

/// Loads and validates the bank under `dir` (recursively; names starting with
/// `.` are skipped). Every `.toml` and `.jsonl` file is read; other files are
/// read only when an item names them in `materials_file`, and only files
/// inside `dir` can be named, so a bank that validates here also validates
/// when the same tree is embedded and loaded with [`load_files`]. Paths in
/// errors are relative to `dir`, prefixed by `dir` as given.
pub fn load_dir(dir: &Path) -> Result<Bank, BankErrors> {
    let base = dir.to_string_lossy().replace('\\', "/");
    let base = match base.trim_end_matches('/') {
        "" if base.starts_with('/') => "/".to_string(),
        trimmed => trimmed.to_string(),
    };
    let mut files = Vec::new();
    if let Err(e) = walk(dir, "", &mut files) {
        return Err(BankErrors {
            errors: vec![BankError {
                file: base,
                line: 0,
                message: format!("cannot read the bank directory: {e}"),
            }],
        });
    }
    files.sort();
    let shown = |rel: &str| match base.as_str() {
        "/" => format!("/{rel}"),
        b => format!("{b}/{rel}"),
    };
    let on_disk: HashMap<String, PathBuf> = files
        .iter()
        .map(|(rel, path)| (normalise(&shown(rel)), path.clone()))
        .collect();
    let lookup = |path: &str| {
        on_disk.get(path).map(|p| {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        })
    };
    let sources = files
        .iter()
        .filter(|(rel, _)| is_item_file(rel))
        .map(|(rel, path)| {
            let contents = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"));
            (shown(rel), contents)
        })
        .collect();
    load_sources(sources, &lookup, &base)
}

/// Collects `(relative path with '/', full path)` of every file under `dir`.
/// Symlinked files are followed; symlinked directories are not, so a link
/// cycle cannot make the walk endless.
fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, &child, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push((child, path));
        }
    }
    Ok(())
}

fn is_item_file(path: &str) -> bool {
    path.ends_with(".toml") || path.ends_with(".jsonl")
}

fn display(path: &str) -> String {
    path.replace('\\', "/")
}

/// Collapses `.`, `..` and repeated separators, lexically: `a/./b/../c` is
/// `a/c`; leading `..` of a relative path are kept.
fn normalise(path: &str) -> String {
    let path = path.replace('\\', "/");
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The file `rel` names, seen from the file at `from`.
fn resolve(from: &str, rel: &str, lookup: &Lookup<'_>) -> Result<String, String> {
    let rel_unix = rel.replace('\\', "/");
    if rel_unix.trim().is_empty() {
        return Err(
            "`materials_file` is empty; give a path relative to this file's directory".into(),
        );
    }
    if rel_unix.starts_with('/') || rel_unix.get(1..2) == Some(":") {
        return Err(format!(
            "materials_file `{rel}` is absolute; give a path relative to this file's directory, inside the bank"
        ));
    }
    let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
    let target = if dir.is_empty() {
        normalise(&rel_unix)
    } else {
        normalise(&format!("{dir}/{rel_unix}"))
    };
    match lookup(&target) {
        Some(Ok(text)) => Ok(text),
        Some(Err(reason)) => Err(format!("materials_file `{rel}`: {reason}")),
        None => Err(format!(
            "materials_file `{rel}` not found (looked for `{target}`); the path is relative to this file's directory and must name a file inside the bank"
        )),
    }
}

/// Validates every item file, then the cross-file rules.
fn load_sources(
    mut sources: Vec<(String, Result<String, String>)>,
    lookup: &Lookup<'_>,
    bank_name: &str,
) -> Result<Bank, BankErrors> {
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    let mut errors = Vec::new();
    let mut items = Vec::new();
    // (file, id, line) of every item whose id could be read, valid or not.
    let mut ids: Vec<(String, String, usize)> = Vec::new();
    if sources.is_empty() {
        errors.push(BankError {
            file: bank_name.to_string(),
            line: 0,
            message:
                "no .toml or .jsonl files found; a bank is a directory of TOML/JSONL item files"
                    .into(),
        });
    }
    // Every TOML file is parsed first: rubrics may be defined in any file
    // and named by items in any other.
    let lines: Vec<Option<LineIndex>> = sources
        .iter()
        .map(|(path, c)| match c {
            Ok(c) if !path.ends_with(".jsonl") => Some(LineIndex::new(without_bom(c))),
            _ => None,
        })
        .collect();
    let mut roots: Vec<Option<Node>> = Vec::with_capacity(sources.len());
    for ((path, contents), lines) in sources.iter().zip(&lines) {
        let root = match (contents, lines) {
            (Err(reason), _) => {
                errors.push(BankError {
                    file: path.clone(),
                    line: 0,
                    message: reason.clone(),
                });
                None
            }
            (Ok(c), Some(lines)) => match toml_root(without_bom(c), lines) {
                Ok(root) => Some(root),
                Err(e) => {
                    errors.push(BankError {
                        file: path.clone(),
                        ..e
                    });
                    None
                }
            },
            (Ok(_), None) => None,
        };
        roots.push(root);
    }
    // Rubric checks never read other files.
    let no_files = |_: &str| Err(String::new());
    let mut rubrics = Rubrics {
        incomplete: sources
            .iter()
            .zip(&roots)
            .any(|((path, _), root)| !path.ends_with(".jsonl") && root.is_none()),
        ..Rubrics::default()
    };
    let mut rubric_seen: BTreeMap<String, SourceLoc> = BTreeMap::new();
    for ((path, _), root) in sources.iter().zip(&roots) {
        let Some(Value::Table(entries)) = root.as_ref().map(|r| &r.value) else {
            continue;
        };
        let empty = Rubrics::default();
        let mut check = FileCheck::new(path, &no_files, &empty);
        for e in entries.iter().filter(|e| e.key == "rubrics") {
            for (name, rubric, line) in check.rubric_table(e) {
                let here = SourceLoc {
                    file: path.clone(),
                    line,
                };
                match rubric_seen.entry(name.clone()) {
                    Entry::Occupied(first) => check.err(
                        line,
                        format!(
                            "rubric `{name}` is defined twice: also at {}; rubric names must be unique across the bank",
                            first.get()
                        ),
                    ),
                    Entry::Vacant(slot) => {
                        slot.insert(here);
                        match rubric {
                            Some(r) => {
                                rubrics.valid.insert(name, r);
                            }
                            None => {
                                rubrics.broken.insert(name);
                            }
                        }
                    }
                }
            }
        }
        errors.append(&mut check.errors);
    }

    let mut calibration = Vec::new();
    for ((path, contents), root) in sources.iter().zip(&roots) {
        let Ok(contents) = contents else { continue };
        let resolve_here = |rel: &str| resolve(path, rel, lookup);
        let mut check = FileCheck::new(path, &resolve_here, &rubrics);
        let found = if path.ends_with(".jsonl") {
            jsonl(without_bom(contents), &mut check)
        } else if let Some(root) = root {
            check.toml_root(root)
        } else {
            Vec::new()
        };
        errors.append(&mut check.errors);
        ids.extend(
            check
                .ids
                .drain(..)
                .map(|(id, line)| (path.clone(), id, line)),
        );
        items.extend(found.into_iter().map(|(item, line)| BankItem {
            item,
            source: SourceLoc {
                file: path.clone(),
                line,
            },
        }));
        calibration.extend(check.calibration.drain(..).map(|(entry, line)| {
            (
                entry,
                SourceLoc {
                    file: path.clone(),
                    line,
                },
            )
        }));
    }
    let mut calibration_seen: BTreeMap<&str, &SourceLoc> = BTreeMap::new();
    for (entry, here) in &calibration {
        if let Some(first) = calibration_seen.insert(&entry.id, here) {
            errors.push(BankError {
                file: here.file.clone(),
                line: here.line,
                message: format!(
                    "duplicate calibration id `{}`: also defined at {first}; calibration ids must be unique",
                    entry.id
                ),
            });
        }
    }

    let mut first_seen: BTreeMap<&str, SourceLoc> = BTreeMap::new();
    for (file, id, line) in &ids {
        let here = SourceLoc {
            file: file.clone(),
            line: *line,
        };
        match first_seen.entry(id) {
            Entry::Vacant(slot) => {
                slot.insert(here);
            }
            Entry::Occupied(first) => errors.push(BankError {
                message: format!(
                    "duplicate id `{id}`: also defined at {}; ids must be unique across the bank, so rename one of them",
                    first.get()
                ),
                file: here.file,
                line: here.line,
            }),
        }
    }

    if errors.is_empty() {
        Ok(Bank {
            items,
            rubrics: rubrics.valid,
            calibration: calibration.into_iter().map(|(entry, _)| entry).collect(),
        })
    } else {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(BankErrors { errors })
    }
}

fn without_bom(contents: &str) -> &str {
    contents.strip_prefix('\u{feff}').unwrap_or(contents)
}

/// A TOML file's root table, or its syntax error (`file` left empty).
fn toml_root(contents: &str, lines: &LineIndex) -> Result<Node, BankError> {
    match toml_edit::ImDocument::parse(contents) {
        Ok(doc) => Ok(from_toml(doc.as_table(), lines)),
        Err(e) => {
            let line = e.span().map_or(1, |s| lines.line(s.start));
            let message = e
                .message()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            Err(BankError {
                file: String::new(),
                line,
                message: format!("TOML syntax error: {message}"),
            })
        }
    }
}

fn jsonl(contents: &str, check: &mut FileCheck<'_>) -> Vec<(Item, usize)> {
    let mut items = Vec::new();
    for (i, text) in contents.lines().enumerate() {
        let line = i + 1;
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => {
                if let Some(item) = check.json_line(&value, line) {
                    items.push((item, line));
                }
            }
            Err(e) => {
                let full = e.to_string();
                let reason = full
                    .rsplit_once(" at line ")
                    .map_or(full.as_str(), |(r, _)| r);
                check.err(
                    line,
                    format!(
                        "invalid JSON at column {}: {reason}; each line must be one complete JSON object",
                        e.column()
                    ),
                );
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_collapses_dots_lexically() {
        assert_eq!(normalise("bank/docs/../docs/./a.md"), "bank/docs/a.md");
        assert_eq!(normalise("./a.toml"), "a.toml");
        assert_eq!(normalise("../../bank/x.md"), "../../bank/x.md");
        assert_eq!(normalise("a/../../b"), "../b");
        assert_eq!(normalise("/work//bank/../x"), "/work/x");
        assert_eq!(normalise("/.."), "/");
        assert_eq!(
            normalise("builtin:bank\\docs\\a.md"),
            "builtin:bank/docs/a.md"
        );
    }

    #[test]
    fn resolve_is_relative_to_the_referring_file() {
        let lookup = |p: &str| (p == "b/docs/a.md").then(|| Ok("text".to_string()));
        assert_eq!(resolve("b/x.toml", "docs/a.md", &lookup), Ok("text".into()));
        assert_eq!(
            resolve("b/sub/x.toml", "../docs/a.md", &lookup),
            Ok("text".into())
        );
        let missing = resolve("b/sub/x.toml", "docs/a.md", &lookup).unwrap_err();
        assert!(
            missing.contains("looked for `b/sub/docs/a.md`"),
            "{missing}"
        );
        assert!(resolve("b/x.toml", "/etc/passwd", &lookup)
            .unwrap_err()
            .contains("absolute"));
    }
}
