//! Reading bank files (from memory or disk), resolving `materials_file`
//! references, and the checks that span files (duplicate ids).

use crate::node::{from_toml, LineIndex};
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
    for (path, contents) in &sources {
        let contents = match contents {
            Ok(c) => c.strip_prefix('\u{feff}').unwrap_or(c),
            Err(reason) => {
                errors.push(BankError {
                    file: path.clone(),
                    line: 0,
                    message: reason.clone(),
                });
                continue;
            }
        };
        let resolve_here = |rel: &str| resolve(path, rel, lookup);
        let mut check = FileCheck::new(path, &resolve_here);
        let found = if path.ends_with(".jsonl") {
            jsonl(contents, &mut check)
        } else {
            toml(contents, &mut check)
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
        Ok(Bank { items })
    } else {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(BankErrors { errors })
    }
}

fn toml(contents: &str, check: &mut FileCheck<'_>) -> Vec<(Item, usize)> {
    let lines = LineIndex::new(contents);
    match toml_edit::ImDocument::parse(contents) {
        Ok(doc) => check.toml_root(&from_toml(doc.as_table(), &lines)),
        Err(e) => {
            let line = e.span().map_or(1, |s| lines.line(s.start));
            let message = e
                .message()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            check.err(line, format!("TOML syntax error: {message}"));
            Vec::new()
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
