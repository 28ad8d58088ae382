//! Turning one file's [`Node`] tree into [`Item`]s, reporting every problem
//! with the line it is on and what to do about it.
//!
//! The validator never stops at the first problem: an author fixing a bank
//! wants the whole list in one go, so each check records its error and the
//! validation carries on with whatever else can still be checked.

use crate::node::{Entry, Node, Value};
use crate::rubric::Rubrics;
use crate::BankError;
use regex::RegexBuilder;
use std::collections::HashSet;
use yardstick_core::{
    numbered_paragraphs, CalibrationEntry, Dimension, Fabrication, GraderSpec, Item,
};

/// Keys an item may set.
const ITEM_KEYS: &[&str] = &[
    "id",
    "dimension",
    "prompt",
    "system",
    "materials",
    "materials_file",
    "cluster",
    "grader",
    "references",
    "known_bad",
    "tags",
    "judged",
];

/// Keys a TOML file's `[defaults]` table may set.
const DEFAULT_KEYS: &[&str] = &[
    "dimension",
    "system",
    "materials",
    "materials_file",
    "cluster",
    "tags",
];

const GRADER_TYPES: &[&str] = &[
    "exact",
    "regex",
    "numeric",
    "json_fields",
    "choice",
    "ranking",
    "grounding",
    "integrity",
    "format",
    "code_tests",
    "output_prediction",
    "judge",
];

/// The keys each grader type reads besides `type` (mirrors `GraderSpec`).
fn grader_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "exact" => &["case_sensitive"],
        "regex" => &["patterns", "must_match", "case_insensitive"],
        "numeric" => &["tolerance", "relative", "pick"],
        "json_fields" => &["fields"],
        "choice" => &["choices"],
        "ranking" => &["order", "rule"],
        "grounding" => &[
            "quotes",
            "citations",
            "numbers",
            "require_citation",
            "required",
            "forbidden",
            "unsupported",
            "allow_numbers",
            "decline_patterns",
            "weights",
        ],
        "integrity" => &[
            "decline_patterns",
            "probe_terms",
            "forbid",
            "forbidden",
            "allow",
        ],
        "format" => &[
            "json_schema",
            "table",
            "sections",
            "max_words",
            "min_words",
            "max_lines",
            "forbidden_preamble",
            "forbidden",
        ],
        "code_tests" => &[
            "language",
            "entry_point",
            "tests",
            "setup",
            "timeout_secs",
            "known_wrong",
        ],
        "output_prediction" => &[
            "language",
            "program",
            "combine",
            "no_fence",
            "no_explanation",
            "no_extra_blank_lines",
            "known_wrong",
        ],
        "judge" => &["rubric"],
        _ => &[],
    }
}

/// Keys of a grounding fact rule (`required` / `forbidden` entries).
const FACT_KEYS: &[&str] = &["keywords", "any", "number", "tolerance", "regex", "label"];

/// Keys of a grounding grader's `weights` (mirrors `GroundingWeights`).
const WEIGHT_KEYS: &[&str] = &[
    "quotes",
    "citations",
    "citation_present",
    "required",
    "forbidden",
    "numbers",
    "decline",
];

/// Keys of a format grader's `table` (mirrors `TableRule`).
const TABLE_KEYS: &[&str] = &["columns", "min_rows", "max_rows"];

/// The JSON Schema keywords the format grader's validator implements, plus
/// annotations it ignores. Anything else would be silently ignored by the
/// grader, so it is an error here.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$comment",
];

const SCHEMA_TYPES: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null",
];

/// Looks up a `materials_file` for the file being validated: `Ok(text)`, or
/// `Err(message)` saying why it could not be read.
pub(crate) type Resolve<'a> = dyn Fn(&str) -> Result<String, String> + 'a;

/// Validation state for one source file.
pub(crate) struct FileCheck<'a> {
    file: &'a str,
    resolve: &'a Resolve<'a>,
    /// Every rubric of the bank (they may be defined in any file).
    pub rubrics: &'a Rubrics,
    pub errors: Vec<BankError>,
    /// The file's `[[calibration]]` entries, with their lines.
    pub calibration: Vec<(CalibrationEntry, usize)>,
    /// Every well-formed item id met, with its item's line — including items
    /// invalid for other reasons, so duplicate ids are reported in the same
    /// round as everything else.
    pub ids: Vec<(String, usize)>,
}

/// A default that may be unset, set, or set but invalid (already reported,
/// so items inheriting it stay silent about it instead of repeating it).
#[derive(Debug, Clone, Default)]
enum Inherited<T> {
    #[default]
    Unset,
    Set(T),
    Broken,
}

/// A TOML file's `[defaults]`, checked once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    dimension: Inherited<Dimension>,
    system: Option<String>,
    materials: Inherited<String>,
    cluster: Option<String>,
    tags: Option<Vec<String>>,
}

/// What the reference checks need to know of a grader, available as soon as
/// its type is known (even when other parts of it are invalid).
struct GraderShape {
    kind: String,
    /// Line of the `grader` key, for problems of the grader as a whole.
    line: usize,
    /// The choice labels, when the grader is `choice` and they are strings.
    choices: Option<Vec<String>>,
    /// A grounding grader that checks paragraph citations (the default).
    citations: bool,
}

/// The known fields of one item, as found in its table.
#[derive(Default)]
struct Fields<'n> {
    id: Option<&'n Entry>,
    dimension: Option<&'n Entry>,
    prompt: Option<&'n Entry>,
    system: Option<&'n Entry>,
    materials: Option<&'n Entry>,
    materials_file: Option<&'n Entry>,
    cluster: Option<&'n Entry>,
    grader: Option<&'n Entry>,
    references: Option<&'n Entry>,
    known_bad: Option<&'n Entry>,
    tags: Option<&'n Entry>,
    judged: Option<&'n Entry>,
}

impl<'a> FileCheck<'a> {
    pub fn new(file: &'a str, resolve: &'a Resolve<'a>, rubrics: &'a Rubrics) -> Self {
        FileCheck {
            file,
            resolve,
            rubrics,
            errors: Vec::new(),
            calibration: Vec::new(),
            ids: Vec::new(),
        }
    }

    pub fn err(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(BankError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    pub(crate) fn unknown_key(&mut self, entry: &Entry, place: &str, valid: &[&str]) {
        let hint = match suggest(&entry.key, valid) {
            Some(s) => format!("did you mean `{s}`? "),
            None => String::new(),
        };
        self.err(
            entry.line,
            format!(
                "unknown key `{}` in {place}; {hint}valid keys: {}",
                entry.key,
                valid.join(", ")
            ),
        );
    }

    /// Checks a TOML file's root table and returns its items with their lines.
    pub fn toml_root(&mut self, root: &Node) -> Vec<(Item, usize)> {
        let Value::Table(entries) = &root.value else {
            return Vec::new();
        };
        let mut defaults = Defaults::default();
        if let Some(e) = entries.iter().find(|e| e.key == "defaults") {
            defaults = self.defaults(e);
        }
        let mut items = Vec::new();
        for e in entries {
            match e.key.as_str() {
                // Rubrics are read for the whole bank before any item.
                "defaults" | "rubrics" => {}
                "calibration" => {
                    let entries = self.calibration(e);
                    self.calibration.extend(entries);
                }
                "items" => match &e.node.value {
                    Value::Array(list) => {
                        for node in list {
                            match &node.value {
                                Value::Table(fields) => {
                                    if let Some(item) = self.item(fields, node.line, &defaults) {
                                        items.push((item, node.line));
                                    }
                                }
                                other => self.err(
                                    node.line,
                                    format!(
                                        "an entry of `items` is {}, not a table; write each item as an `[[items]]` section",
                                        other.kind()
                                    ),
                                ),
                            }
                        }
                    }
                    other => self.err(
                        e.line,
                        format!(
                            "`items` is {}; write each item as an `[[items]]` section (an array of tables)",
                            other.kind()
                        ),
                    ),
                },
                _ => self.unknown_key(
                    e,
                    "the file's top level",
                    &["defaults", "items", "rubrics", "calibration"],
                ),
            }
        }
        items
    }

    /// Checks one JSONL line (already parsed) and returns its item.
    pub fn json_line(&mut self, value: &serde_json::Value, line: usize) -> Option<Item> {
        let node = Node::from_json(value, line);
        match &node.value {
            Value::Table(fields) => self.item(fields, line, &Defaults::default()),
            other => {
                self.err(
                    line,
                    format!(
                        "each line must be one JSON object (an item), found {}",
                        other.kind()
                    ),
                );
                None
            }
        }
    }

    fn defaults(&mut self, entry: &Entry) -> Defaults {
        let mut d = Defaults::default();
        let Value::Table(entries) = &entry.node.value else {
            self.err(
                entry.line,
                format!(
                    "`defaults` is {}; write it as a `[defaults]` table",
                    entry.node.value.kind()
                ),
            );
            return d;
        };
        let mut materials = None;
        let mut materials_file = None;
        for e in entries.iter().filter(|e| e.node.value != Value::Null) {
            match e.key.as_str() {
                "dimension" => {
                    d.dimension = match self.string(e).map(|s| self.dimension(&s, e.line)) {
                        Some(Some(dim)) => Inherited::Set(dim),
                        _ => Inherited::Broken,
                    }
                }
                "system" => d.system = self.string(e),
                "cluster" => d.cluster = self.string(e),
                "tags" => d.tags = self.string_list(e),
                "materials" => materials = Some(e),
                "materials_file" => materials_file = Some(e),
                _ => self.unknown_key(e, "[defaults]", DEFAULT_KEYS),
            }
        }
        d.materials = self.materials(materials, materials_file, entry.line);
        d
    }

    /// Resolves `materials` / `materials_file` set at one level (item or defaults).
    fn materials(
        &mut self,
        inline: Option<&Entry>,
        file: Option<&Entry>,
        line: usize,
    ) -> Inherited<String> {
        match (inline, file) {
            (None, None) => Inherited::Unset,
            (Some(a), Some(b)) => {
                self.err(
                    a.line.max(b.line).max(line),
                    "both `materials` and `materials_file` are set; keep one: inline text or a path to a file",
                );
                Inherited::Broken
            }
            (Some(e), None) => self.string(e).map_or(Inherited::Broken, Inherited::Set),
            (None, Some(e)) => {
                let Some(path) = self.string(e) else {
                    return Inherited::Broken;
                };
                match (self.resolve)(&path) {
                    Ok(text) => Inherited::Set(text),
                    Err(message) => {
                        self.err(e.line, message);
                        Inherited::Broken
                    }
                }
            }
        }
    }

    fn dimension(&mut self, s: &str, line: usize) -> Option<Dimension> {
        let found = s.parse::<Dimension>().ok();
        if found.is_none() {
            let valid: Vec<&str> = Dimension::ALL.iter().map(|d| d.id()).collect();
            let hint = match suggest(s, &valid) {
                Some(v) => format!("did you mean `{v}`? "),
                None => String::new(),
            };
            self.err(
                line,
                format!(
                    "unknown dimension `{s}`; {hint}use one of: {}",
                    valid.join(", ")
                ),
            );
        }
        found
    }

    pub(crate) fn string(&mut self, e: &Entry) -> Option<String> {
        match &e.node.value {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(
                    e.line,
                    format!("`{}` must be a string, found {}", e.key, other.kind()),
                );
                None
            }
        }
    }

    /// An array of strings; each bad element is reported on its own line.
    fn string_list(&mut self, e: &Entry) -> Option<Vec<String>> {
        let Value::Array(list) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`{}` must be an array of strings, found {}; write `{} = [\"…\"]`",
                    e.key,
                    e.node.value.kind(),
                    e.key
                ),
            );
            return None;
        };
        let mut out = Vec::with_capacity(list.len());
        let mut ok = true;
        for (i, n) in list.iter().enumerate() {
            match &n.value {
                Value::String(s) => out.push(s.clone()),
                Value::Integer(_) | Value::Float(_) => {
                    ok = false;
                    self.err(
                        n.line,
                        format!(
                            "`{}[{i}]` is a number; quote it (`\"{}\"`) — every entry must be a string",
                            e.key,
                            n.to_json()
                        ),
                    );
                }
                other => {
                    ok = false;
                    self.err(
                        n.line,
                        format!("`{}[{i}]` must be a string, found {}", e.key, other.kind()),
                    );
                }
            }
        }
        ok.then_some(out)
    }

    fn item(&mut self, entries: &[Entry], line: usize, defaults: &Defaults) -> Option<Item> {
        let errors_before = self.errors.len();
        let mut f = Fields::default();
        for e in entries.iter().filter(|e| e.node.value != Value::Null) {
            let slot = match e.key.as_str() {
                "id" => &mut f.id,
                "dimension" => &mut f.dimension,
                "prompt" => &mut f.prompt,
                "system" => &mut f.system,
                "materials" => &mut f.materials,
                "materials_file" => &mut f.materials_file,
                "cluster" => &mut f.cluster,
                "grader" => &mut f.grader,
                "references" => &mut f.references,
                "known_bad" => &mut f.known_bad,
                "tags" => &mut f.tags,
                "judged" => &mut f.judged,
                _ => {
                    self.unknown_key(e, "item", ITEM_KEYS);
                    continue;
                }
            };
            *slot = Some(e);
        }

        let id = match f.id {
            None => {
                self.err(
                    line,
                    "item has no `id`; add a unique one such as `id = \"grounding-ledger-1\"`",
                );
                None
            }
            Some(e) => self.string(e).filter(|id| self.id_ok(id, e.line)),
        };
        if let Some(id) = &id {
            self.ids.push((id.clone(), line));
        }
        let name = id
            .as_deref()
            .map_or(String::from("item"), |i| format!("item `{i}`"));

        let dimension = match f.dimension {
            Some(e) => self.string(e).and_then(|s| self.dimension(&s, e.line)),
            None => match defaults.dimension {
                Inherited::Set(d) => Some(d),
                Inherited::Broken => None,
                Inherited::Unset => {
                    self.err(
                        line,
                        format!(
                            "{name} has no `dimension`; set it here or in `[defaults]` (one of: {})",
                            Dimension::ALL.map(|d| d.id()).join(", ")
                        ),
                    );
                    None
                }
            },
        };

        let prompt = match f.prompt {
            None => {
                self.err(
                    line,
                    format!("{name} has no `prompt`; add the question the model should answer"),
                );
                None
            }
            Some(e) => self.string(e).filter(|p| {
                let ok = !p.trim().is_empty();
                if !ok {
                    self.err(
                        e.line,
                        "`prompt` is empty; write the question the model should answer",
                    );
                }
                ok
            }),
        };

        let system = match f.system {
            Some(e) => self.string(e).map(Some),
            None => Some(defaults.system.clone()),
        };
        let cluster = match f.cluster {
            Some(e) => self.string(e).map(Some),
            None => Some(defaults.cluster.clone()),
        };
        let tags = match f.tags {
            Some(e) => self.string_list(e),
            None => Some(defaults.tags.clone().unwrap_or_default()),
        };
        let references = match f.references {
            Some(e) => self.string_list(e),
            None => Some(Vec::new()),
        };
        let known_bad = match f.known_bad {
            Some(e) => self.string_list(e),
            None => Some(Vec::new()),
        };
        let materials = match self.materials(f.materials, f.materials_file, line) {
            Inherited::Unset => match &defaults.materials {
                Inherited::Set(text) => Some(Some(text.clone())),
                Inherited::Unset => Some(None),
                Inherited::Broken => None,
            },
            Inherited::Set(text) => Some(Some(text)),
            Inherited::Broken => None,
        };

        let (grader, shape) = match f.grader {
            None => {
                self.err(
                    line,
                    format!(
                        "{name} has no `grader`; add e.g. `grader = {{ type = \"exact\" }}` (types: {})",
                        GRADER_TYPES.join(", ")
                    ),
                );
                (None, None)
            }
            Some(e) => self.grader(e),
        };
        // Checked whenever the grader's type is known, even if the grader has
        // other problems, so that one round of fixes clears them all.
        if let (Some(shape), Some(refs)) = (&shape, &references) {
            self.references_fit(shape, refs, f.references.map_or(line, |e| e.line));
        }
        if let (Some(shape), Some(materials)) = (&shape, &materials) {
            self.materials_fit(shape, materials.as_deref(), &name);
        }

        let judged = match f.judged {
            Some(e) => self.judged(e).map(Some),
            None => Some(None),
        };
        if let Some(e) = f.judged {
            if shape.as_ref().is_some_and(|s| s.kind == "judge") {
                self.err(
                    e.line,
                    "`judged` adds a judged part to a rule grader, but this item's grader is already `judge`; remove `judged`",
                );
            } else if references.as_ref().is_some_and(Vec::is_empty) {
                self.err(
                    e.line,
                    format!("{name} has a judged part but no reference; add `references = [\"…\"]` with the answer the judge compares against"),
                );
            }
        }

        if self.errors.len() > errors_before {
            return None;
        }
        Some(Item {
            id: id?,
            dimension: dimension?,
            prompt: prompt?,
            system: system?,
            materials: materials?,
            cluster: cluster?,
            grader: grader?,
            references: references?,
            tags: tags?,
            known_bad: known_bad?,
            judged: judged?,
        })
    }

    pub(crate) fn id_ok(&mut self, id: &str, line: usize) -> bool {
        if id.is_empty() {
            self.err(line, "`id` is empty; give the item a unique id");
            return false;
        }
        let bad: String = id
            .chars()
            .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .collect();
        if !bad.is_empty() {
            self.err(
                line,
                format!(
                    "id `{id}` contains {bad:?}; ids may use only letters, digits, `.`, `_` and `-` (they appear in URLs and file names)"
                ),
            );
            return false;
        }
        true
    }

    /// The grader, when it is valid, and its shape whenever its type is known.
    fn grader(&mut self, entry: &Entry) -> (Option<GraderSpec>, Option<GraderShape>) {
        let Value::Table(entries) = &entry.node.value else {
            self.err(
                entry.line,
                format!(
                    "`grader` is {}; write it as a table, e.g. `grader = {{ type = \"exact\" }}`",
                    entry.node.value.kind()
                ),
            );
            return (None, None);
        };
        let errors_before = self.errors.len();
        let kind = match entries.iter().find(|e| e.key == "type") {
            None => {
                self.err(
                    entry.line,
                    format!(
                        "`grader` has no `type`; set one of: {}",
                        GRADER_TYPES.join(", ")
                    ),
                );
                return (None, None);
            }
            Some(e) => {
                let Some(kind) = self.string(e) else {
                    return (None, None);
                };
                if !GRADER_TYPES.contains(&kind.as_str()) {
                    let hint = match suggest(&kind, GRADER_TYPES) {
                        Some(s) => format!("did you mean `{s}`? "),
                        None => String::new(),
                    };
                    self.err(
                        e.line,
                        format!(
                            "unknown grader type `{kind}`; {hint}use one of: {}",
                            GRADER_TYPES.join(", ")
                        ),
                    );
                    return (None, None);
                }
                kind
            }
        };
        let choices = entries
            .iter()
            .find(|e| kind == "choice" && e.key == "choices")
            .and_then(|e| match &e.node.value {
                Value::Array(list) => list
                    .iter()
                    .map(|n| match &n.value {
                        Value::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            });
        let citations = entries
            .iter()
            .find(|e| e.key == "citations")
            .is_none_or(|e| e.node.value != Value::Boolean(false));
        let shape = Some(GraderShape {
            kind: kind.clone(),
            line: entry.line,
            choices,
            citations,
        });
        let allowed = grader_keys(&kind);
        let mut json = serde_json::Map::new();
        json.insert("type".into(), kind.clone().into());
        for e in entries
            .iter()
            .filter(|e| e.key != "type" && e.node.value != Value::Null)
        {
            if !allowed.contains(&e.key.as_str()) {
                let place = format!("a `{kind}` grader");
                self.unknown_key(e, &place, allowed);
                continue;
            }
            if kind == "judge" && e.key == "rubric" {
                // The rubric's content, not its name, goes into the item. A
                // rubric that is broken has its own error; the grader is
                // then left unbuilt without a second one.
                match self.rubric_name(e) {
                    Some(rubric) => {
                        let content = serde_json::to_value(rubric).expect("rubrics serialize");
                        json.insert(e.key.clone(), content);
                    }
                    None => return (None, shape),
                }
                continue;
            }
            if self.grader_field(&kind, e) {
                json.insert(e.key.clone(), e.node.to_json());
            }
        }
        let required = match kind.as_str() {
            "regex" => Some("patterns"),
            "json_fields" => Some("fields"),
            "choice" => Some("choices"),
            "ranking" => Some("order"),
            "code_tests" => Some("tests"),
            "output_prediction" => Some("program"),
            "judge" => Some("rubric"),
            _ => None,
        };
        if let Some(key) = required {
            if !entries.iter().any(|e| e.key == key) {
                self.err(
                    entry.line,
                    match kind.as_str() {
                        "judge" => "a `judge` grader needs `rubric`; add `rubric = \"NAME\"` naming a `[rubrics.NAME]` table".to_string(),
                        _ => format!("a `{kind}` grader needs `{key}`; add `{key} = [ … ]`"),
                    },
                );
            }
        }
        self.grader_as_a_whole(&kind, entries, entry.line);
        if self.errors.len() > errors_before {
            return (None, shape);
        }
        let spec = match serde_json::from_value::<GraderSpec>(serde_json::Value::Object(json)) {
            Ok(spec) => Some(spec),
            Err(e) => {
                // The field checks above mirror GraderSpec; this is a backstop
                // should the two ever drift apart.
                self.err(
                    entry.line,
                    format!("the `{kind}` grader does not read: {e}"),
                );
                None
            }
        };
        (spec, shape)
    }

    /// Checks one grader field's type and contents; true when it is usable.
    /// `kind` matters only where two graders give a key different meanings
    /// (`forbidden`: fact rules for grounding, regexes elsewhere).
    fn grader_field(&mut self, kind: &str, e: &Entry) -> bool {
        let before = self.errors.len();
        match e.key.as_str() {
            "required" | "forbidden" if kind == "grounding" => self.fact_rules(e),
            "forbidden" | "decline_patterns" => self.regex_list(e, false),
            "probe_terms" | "allow" => {
                if let Some(list) = self.string_list(e) {
                    if list.iter().any(|s| s.trim().is_empty()) {
                        self.err(e.line, format!("`{}` has an empty entry", e.key));
                    }
                }
            }
            "sections" => {
                // An empty list is reported by `grader_as_a_whole` when it
                // leaves the grader with no rule at all.
                if let Some(list) = self.string_list(e) {
                    if list.iter().any(|s| s.trim().is_empty()) {
                        self.err(e.line, "`sections` has an empty heading");
                    }
                }
            }
            "allow_numbers" => self.number_list(e),
            "weights" => self.weights(e),
            "forbid" => self.detectors(e),
            "json_schema" => {
                if matches!(e.node.value, Value::Table(_)) {
                    self.schema(&e.node, "json_schema");
                } else {
                    self.err(
                        e.line,
                        format!(
                            "`json_schema` must be a table (a JSON Schema object), found {}",
                            e.node.value.kind()
                        ),
                    );
                }
            }
            "table" => self.table_rule(e),
            "max_words" | "max_lines" => {
                self.count(e, 1);
            }
            "min_words" => {
                self.count(e, 0);
            }
            "quotes"
            | "citations"
            | "numbers"
            | "require_citation"
            | "unsupported"
            | "forbidden_preamble"
            | "case_sensitive"
            | "must_match"
            | "case_insensitive"
            | "no_fence"
            | "no_explanation"
            | "no_extra_blank_lines" => {
                if !matches!(e.node.value, Value::Boolean(_)) {
                    self.err(
                        e.line,
                        format!(
                            "`{}` must be true or false, found {}",
                            e.key,
                            e.node.value.kind()
                        ),
                    );
                }
            }
            "tolerance" | "relative" => {
                let v = match e.node.value {
                    Value::Integer(i) => Some(i as f64),
                    Value::Float(f) => Some(f),
                    _ => None,
                };
                match v {
                    Some(v) if v.is_finite() && v >= 0.0 => {}
                    Some(v) => self.err(
                        e.line,
                        format!("`{}` is {v}; it must be a finite number ≥ 0", e.key),
                    ),
                    None => self.err(
                        e.line,
                        format!(
                            "`{}` must be a number, found {}",
                            e.key,
                            e.node.value.kind()
                        ),
                    ),
                }
            }
            "pick" => self.one_of(e, &["last", "first", "only"]),
            "rule" => self.one_of(e, &["pairwise", "exact_only", "position"]),
            "patterns" => self.regex_list(e, true),
            "choices" | "order" => {
                if let Some(labels) = self.non_empty_list(e) {
                    let Value::Array(nodes) = &e.node.value else {
                        unreachable!("non_empty_list checked the array")
                    };
                    let mut seen = HashSet::new();
                    for (label, n) in labels.iter().zip(nodes) {
                        if label.trim().is_empty() {
                            self.err(n.line, format!("`{}` has an empty label", e.key));
                        } else if !seen.insert(label.as_str()) {
                            self.err(
                                n.line,
                                format!(
                                    "label {label:?} appears twice in `{}`; labels must be unique",
                                    e.key
                                ),
                            );
                        }
                    }
                }
            }
            "fields" => self.json_fields(e),
            "language" => self.one_of(e, &["python", "javascript"]),
            "combine" => self.one_of(e, &["both", "correctness_only", "weighted"]),
            "entry_point" => {
                if let Some(name) = self.string(e) {
                    let identifier = name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                        && name
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
                    if !identifier {
                        self.err(
                            e.line,
                            format!("`entry_point` {name:?} is not a function or class name"),
                        );
                    }
                }
            }
            "program" | "setup" => {
                if let Some(code) = self.string(e) {
                    if code.trim().is_empty() {
                        self.err(e.line, format!("`{}` is empty", e.key));
                    }
                }
            }
            "tests" | "known_wrong" => {
                let Value::Array(nodes) = &e.node.value else {
                    self.err(
                        e.line,
                        format!(
                            "`{}` must be an array of strings (code), found {}",
                            e.key,
                            e.node.value.kind()
                        ),
                    );
                    return false;
                };
                if e.key == "tests" && nodes.is_empty() {
                    self.err(
                        e.line,
                        "`tests` is empty; with no test every answer would score 0 — add snippets such as `assert f(1) == 2`",
                    );
                }
                for (i, n) in nodes.iter().enumerate() {
                    match &n.value {
                        Value::String(code) if !code.trim().is_empty() => {}
                        Value::String(_) => self.err(n.line, format!("`{}[{i}]` is empty", e.key)),
                        other => self.err(
                            n.line,
                            format!("`{}[{i}]` must be a string, found {}", e.key, other.kind()),
                        ),
                    }
                }
            }
            "timeout_secs" => match e.node.value {
                Value::Integer(i) if (1..=300).contains(&i) => {}
                Value::Float(f) if f > 0.0 && f <= 300.0 => {}
                Value::Integer(_) | Value::Float(_) => self.err(
                    e.line,
                    format!(
                        "`timeout_secs` is {}; it must be above 0 and at most 300 seconds",
                        describe(&e.node.value)
                    ),
                ),
                _ => self.err(
                    e.line,
                    format!(
                        "`timeout_secs` must be a number of seconds, found {}",
                        e.node.value.kind()
                    ),
                ),
            },
            _ => unreachable!("grader_keys lists only the keys handled here"),
        }
        self.errors.len() == before
    }

    /// A list of regular expressions, each compiled and reported on its own
    /// line; `non_empty` when an empty list would leave nothing to check.
    fn regex_list(&mut self, e: &Entry, non_empty: bool) {
        let patterns = if non_empty {
            self.non_empty_list(e)
        } else {
            self.string_list(e)
        };
        let (Some(patterns), Value::Array(nodes)) = (patterns, &e.node.value) else {
            return;
        };
        for (p, n) in patterns.iter().zip(nodes) {
            self.regex_ok(p, n.line);
        }
    }

    fn regex_ok(&mut self, p: &str, line: usize) {
        if let Err(err) = RegexBuilder::new(p).build() {
            self.err(
                line,
                format!(
                    "pattern {p:?} does not compile: {}; fix the regular expression (Rust `regex` syntax)",
                    regex_reason(&err)
                ),
            );
        }
    }

    /// A finite number ≥ 0 (`what` names it in the message).
    fn non_negative(&mut self, node: &Node, what: &str) -> Option<f64> {
        let v = match node.value {
            Value::Integer(i) => i as f64,
            Value::Float(f) => f,
            ref other => {
                self.err(
                    node.line,
                    format!("`{what}` must be a number, found {}", other.kind()),
                );
                return None;
            }
        };
        if !(v.is_finite() && v >= 0.0) {
            self.err(
                node.line,
                format!("`{what}` is {v}; it must be a finite number ≥ 0"),
            );
            return None;
        }
        Some(v)
    }

    /// A whole number ≥ `min` (word, line and row bounds).
    fn count(&mut self, e: &Entry, min: i64) -> Option<u64> {
        match e.node.value {
            Value::Integer(i) if i >= min => Some(i as u64),
            Value::Integer(i) => {
                self.err(
                    e.line,
                    format!("`{}` is {i}; it must be at least {min}", e.key),
                );
                None
            }
            ref other => {
                self.err(
                    e.line,
                    format!("`{}` must be a whole number, found {}", e.key, other.kind()),
                );
                None
            }
        }
    }

    fn number_list(&mut self, e: &Entry) {
        let Value::Array(list) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`{}` must be an array of numbers, found {}",
                    e.key,
                    e.node.value.kind()
                ),
            );
            return;
        };
        for (i, n) in list.iter().enumerate() {
            match n.value {
                Value::Integer(_) => {}
                Value::Float(f) if f.is_finite() => {}
                ref other => self.err(
                    n.line,
                    format!(
                        "`{}[{i}]` must be a finite number, found {}",
                        e.key,
                        match other {
                            Value::Float(f) => f.to_string(),
                            v => v.kind().to_string(),
                        }
                    ),
                ),
            }
        }
    }

    /// The fact rules of a grounding grader: tables with exactly one of
    /// `keywords`, `number` or `regex`.
    fn fact_rules(&mut self, e: &Entry) {
        let example = "`{ keywords = [\"Dunmere\"] }`, `{ number = 18.9, tolerance = 0.05 }` or `{ regex = '\\[P5\\]' }`";
        let Value::Array(list) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`{}` must be an array of fact rules like {example}, found {}",
                    e.key,
                    e.node.value.kind()
                ),
            );
            return;
        };
        for (i, n) in list.iter().enumerate() {
            let place = format!("{}[{i}]", e.key);
            let Value::Table(fields) = &n.value else {
                self.err(
                    n.line,
                    format!(
                        "`{place}` must be a table like {example}, found {}",
                        n.value.kind()
                    ),
                );
                continue;
            };
            let mut kinds = Vec::new();
            for f in fields.iter().filter(|f| f.node.value != Value::Null) {
                let name = format!("{place}.{}", f.key);
                match f.key.as_str() {
                    "keywords" => {
                        kinds.push("keywords");
                        if let Some(words) = self.non_empty_list(f) {
                            if words.iter().any(|w| w.trim().is_empty()) {
                                self.err(f.line, format!("`{name}` has an empty keyword"));
                            }
                        }
                    }
                    "number" => {
                        kinds.push("number");
                        match f.node.value {
                            Value::Integer(_) => {}
                            Value::Float(v) if v.is_finite() => {}
                            ref other => self.err(
                                f.line,
                                format!("`{name}` must be a finite number, found {}", other.kind()),
                            ),
                        }
                    }
                    "regex" => {
                        kinds.push("regex");
                        if let Value::String(p) = &f.node.value {
                            self.regex_ok(p, f.line);
                        } else {
                            self.string(f);
                        }
                    }
                    "tolerance" => {
                        self.non_negative(&f.node, &name);
                    }
                    "any" => {
                        if !matches!(f.node.value, Value::Boolean(_)) {
                            self.err(
                                f.line,
                                format!(
                                    "`{name}` must be true or false, found {}",
                                    f.node.value.kind()
                                ),
                            );
                        }
                    }
                    "label" => {
                        self.string(f);
                    }
                    _ => {
                        let where_ = format!("`{place}`");
                        self.unknown_key(f, &where_, FACT_KEYS);
                    }
                }
            }
            match kinds.as_slice() {
                [] => self.err(
                    n.line,
                    format!("`{place}` has no rule; give it exactly one of `keywords`, `number` or `regex`, e.g. {example}"),
                ),
                [_] => {}
                many => self.err(
                    n.line,
                    format!(
                        "`{place}` sets {}; a fact rule is exactly one of `keywords`, `number` or `regex` — split it into several rules",
                        many.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
                    ),
                ),
            }
            for (key, belongs) in [("tolerance", "number"), ("any", "keywords")] {
                if let Some(f) = fields.iter().find(|f| f.key == key) {
                    if kinds.len() == 1 && kinds[0] != belongs {
                        self.err(
                            f.line,
                            format!(
                                "`{place}.{key}` applies only to a `{belongs}` rule, but this is a `{}` rule",
                                kinds[0]
                            ),
                        );
                    }
                }
            }
        }
    }

    fn weights(&mut self, e: &Entry) {
        let Value::Table(fields) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`weights` must be a table like `{{ required = 3, quotes = 1 }}`, found {}",
                    e.node.value.kind()
                ),
            );
            return;
        };
        for f in fields {
            if WEIGHT_KEYS.contains(&f.key.as_str()) {
                self.non_negative(&f.node, &format!("weights.{}", f.key));
            } else {
                self.unknown_key(f, "`weights`", WEIGHT_KEYS);
            }
        }
    }

    /// `forbid`: the built-in fabrication detectors to run.
    fn detectors(&mut self, e: &Entry) {
        let Some(list) = self.string_list(e) else {
            return;
        };
        let Value::Array(nodes) = &e.node.value else {
            return;
        };
        let valid: Vec<&str> = Fabrication::ALL.iter().map(|f| f.id()).collect();
        let mut seen = HashSet::new();
        for (name, n) in list.iter().zip(nodes) {
            if !valid.contains(&name.as_str()) {
                let hint = match suggest(name, &valid) {
                    Some(s) => format!("did you mean `{s}`? "),
                    None => String::new(),
                };
                self.err(
                    n.line,
                    format!(
                        "unknown detector `{name}` in `forbid`; {hint}use any of: {}",
                        valid.join(", ")
                    ),
                );
            } else if !seen.insert(name.as_str()) {
                self.err(
                    n.line,
                    format!("detector `{name}` appears twice in `forbid`"),
                );
            }
        }
    }

    fn table_rule(&mut self, e: &Entry) {
        let Value::Table(fields) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`table` must be a table like `{{ columns = [\"Model\", \"Score\"], min_rows = 3 }}`, found {}",
                    e.node.value.kind()
                ),
            );
            return;
        };
        let (mut min, mut max) = (None, None);
        for f in fields.iter().filter(|f| f.node.value != Value::Null) {
            match f.key.as_str() {
                "columns" => {
                    if let Some(cols) = self.non_empty_list(f) {
                        if cols.iter().any(|c| c.trim().is_empty()) {
                            self.err(f.line, "`columns` has an empty column name");
                        }
                    }
                }
                "min_rows" => min = self.count(f, 0).map(|v| (v, f.line)),
                "max_rows" => max = self.count(f, 1).map(|v| (v, f.line)),
                _ => self.unknown_key(f, "`table`", TABLE_KEYS),
            }
        }
        if let (Some((lo, _)), Some((hi, line))) = (min, max) {
            if lo > hi {
                self.err(
                    line,
                    format!("`table.max_rows` ({hi}) is below `table.min_rows` ({lo}); no table could pass"),
                );
            }
        }
    }

    /// A JSON Schema (sub)schema: only the keywords the grader implements,
    /// each with a usable value. `at` is its path for messages.
    fn schema(&mut self, node: &Node, at: &str) {
        let fields = match &node.value {
            Value::Table(fields) => fields,
            Value::Boolean(_) => return,
            other => {
                self.err(
                    node.line,
                    format!("`{at}` must be a schema (a table), found {}", other.kind()),
                );
                return;
            }
        };
        for f in fields {
            let here = format!("{at}.{}", f.key);
            match f.key.as_str() {
                "type" => match &f.node.value {
                    Value::String(t) => self.schema_type(t, f.line, &here),
                    Value::Array(list) if !list.is_empty() => {
                        for n in list {
                            match &n.value {
                                Value::String(t) => self.schema_type(t, n.line, &here),
                                other => self.err(
                                    n.line,
                                    format!("`{here}` entries must be type names, found {}", other.kind()),
                                ),
                            }
                        }
                    }
                    other => self.err(
                        f.line,
                        format!(
                            "`{here}` must be a type name or a non-empty list of them ({}), found {}",
                            SCHEMA_TYPES.join(", "),
                            other.kind()
                        ),
                    ),
                },
                "enum" => match &f.node.value {
                    Value::Array(list) if !list.is_empty() => {}
                    other => self.err(
                        f.line,
                        format!("`{here}` must be a non-empty array of allowed values, found {}", other.kind()),
                    ),
                },
                "required" => {
                    self.string_list(f);
                }
                "properties" => match &f.node.value {
                    Value::Table(props) => {
                        for p in props {
                            self.schema(&p.node, &format!("{here}.{}", p.key));
                        }
                    }
                    other => self.err(
                        f.line,
                        format!("`{here}` must be a table of property schemas, found {}", other.kind()),
                    ),
                },
                "additionalProperties" => self.schema(&f.node, &here),
                "items" => match &f.node.value {
                    Value::Array(_) => self.err(
                        f.line,
                        format!("`{here}` must be one schema (a table); tuple validation (a list of schemas) is not supported"),
                    ),
                    _ => self.schema(&f.node, &here),
                },
                "minItems" | "maxItems" | "minLength" | "maxLength" => {
                    if !matches!(f.node.value, Value::Integer(i) if i >= 0) {
                        self.err(
                            f.line,
                            format!("`{here}` must be a whole number ≥ 0, found {}", describe(&f.node.value)),
                        );
                    }
                }
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    if !matches!(f.node.value, Value::Integer(_) | Value::Float(_)) {
                        self.err(
                            f.line,
                            format!("`{here}` must be a number, found {}", f.node.value.kind()),
                        );
                    }
                }
                "pattern" => match &f.node.value {
                    Value::String(p) => self.regex_ok(p, f.line),
                    other => self.err(
                        f.line,
                        format!("`{here}` must be a regular expression (a string), found {}", other.kind()),
                    ),
                },
                "const" | "title" | "description" | "default" | "examples" | "$schema"
                | "$comment" => {}
                _ => {
                    let place = format!("`{at}` (a JSON Schema subset)");
                    self.unknown_key(f, &place, SCHEMA_KEYS);
                }
            }
        }
    }

    fn schema_type(&mut self, t: &str, line: usize, at: &str) {
        if !SCHEMA_TYPES.contains(&t) {
            let hint = match suggest(t, SCHEMA_TYPES) {
                Some(s) => format!("did you mean `{s}`? "),
                None => String::new(),
            };
            self.err(
                line,
                format!(
                    "`{at}` is `{t}`, not a JSON type; {hint}use one of: {}",
                    SCHEMA_TYPES.join(", ")
                ),
            );
        }
    }

    /// Problems of a grader that no single key shows: nothing to check,
    /// contradictory bounds.
    fn grader_as_a_whole(&mut self, kind: &str, entries: &[Entry], line: usize) {
        let set = |key: &str| {
            entries
                .iter()
                .find(|e| e.key == key && e.node.value != Value::Null)
        };
        // Set to anything but `false`: a wrongly typed value is reported at
        // its key, and should not also make the grader look empty.
        let is_true = |key: &str| set(key).is_some_and(|e| e.node.value != Value::Boolean(false));
        let non_empty = |key: &str| {
            set(key).is_some_and(|e| !matches!(&e.node.value, Value::Array(l) if l.is_empty()))
        };
        if kind == "grounding" && !is_true("unsupported") {
            if let Some(e) = set("decline_patterns") {
                self.err(
                    e.line,
                    "`decline_patterns` is read only when `unsupported = true` (the answer must then say the material does not contain it); remove it or set `unsupported = true`",
                );
            }
        }
        match kind {
            "grounding"
                if !non_empty("required")
                    && !is_true("unsupported")
                    && !is_true("require_citation") =>
            {
                self.err(
                    line,
                    "a `grounding` grader needs something the answer must do: `required` facts (e.g. `required = [{ number = 18.9 }]`), `unsupported = true` when the material does not answer the question, or `require_citation = true`; otherwise an empty answer scores 100",
                );
            }
            "format" => {
                let rules = [
                    "json_schema",
                    "table",
                    "sections",
                    "max_words",
                    "min_words",
                    "max_lines",
                    "forbidden",
                ];
                if !rules.iter().any(|k| non_empty(k)) && !is_true("forbidden_preamble") {
                    self.err(
                        line,
                        format!(
                            "a `format` grader needs at least one rule: {}, or `forbidden_preamble = true`",
                            rules.join(", ")
                        ),
                    );
                }
                let int = |key: &str| match set(key).map(|e| &e.node.value) {
                    Some(Value::Integer(i)) => Some(*i),
                    _ => None,
                };
                if let (Some(lo), Some(hi)) = (int("min_words"), int("max_words")) {
                    if lo > hi {
                        let at = set("max_words").map_or(line, |e| e.line);
                        self.err(
                            at,
                            format!("`max_words` ({hi}) is below `min_words` ({lo}); no answer could pass"),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// A grounding grader reads the item's material: it must have one, and
    /// if citations are checked its paragraphs must be numbered.
    fn materials_fit(&mut self, shape: &GraderShape, materials: Option<&str>, name: &str) {
        if shape.kind != "grounding" {
            return;
        }
        match materials {
            None => self.err(
                shape.line,
                format!(
                    "{name} has a `grounding` grader but no material to check answers against; add `materials` or `materials_file` (on the item or in `[defaults]`)"
                ),
            ),
            Some(text) if shape.citations && numbered_paragraphs(text).is_empty() => self.err(
                shape.line,
                format!(
                    "{name}: the material has no numbered paragraphs, so no citation could be checked; start paragraphs with `[P1]`, `[P2]`, … or set `citations = false`"
                ),
            ),
            Some(_) => {}
        }
    }

    fn one_of(&mut self, e: &Entry, valid: &[&str]) {
        match &e.node.value {
            Value::String(s) if valid.contains(&s.as_str()) => {}
            other => {
                let found = match other {
                    Value::String(s) => format!("`{s}`"),
                    v => v.kind().to_string(),
                };
                self.err(
                    e.line,
                    format!("`{}` is {found}; use one of: {}", e.key, valid.join(", ")),
                );
            }
        }
    }

    fn non_empty_list(&mut self, e: &Entry) -> Option<Vec<String>> {
        let list = self.string_list(e)?;
        if list.is_empty() {
            self.err(
                e.line,
                format!(
                    "`{}` is empty; a grader with nothing to check would score every answer 0",
                    e.key
                ),
            );
            return None;
        }
        Some(list)
    }

    fn json_fields(&mut self, e: &Entry) {
        let Value::Array(list) = &e.node.value else {
            self.err(
                e.line,
                format!(
                    "`fields` must be an array of tables like `{{ path = \"a.b\", equals = 1 }}`, found {}",
                    e.node.value.kind()
                ),
            );
            return;
        };
        if list.is_empty() {
            self.err(
                e.line,
                "`fields` is empty; list at least one `{ path = \"…\" }` to check",
            );
        }
        for (i, n) in list.iter().enumerate() {
            let Value::Table(entries) = &n.value else {
                self.err(
                    n.line,
                    format!(
                        "`fields[{i}]` must be a table like `{{ path = \"a.b\", equals = 1 }}`, found {}",
                        n.value.kind()
                    ),
                );
                continue;
            };
            let mut has_path = false;
            for f in entries {
                match f.key.as_str() {
                    "path" => {
                        has_path = true;
                        match &f.node.value {
                            Value::String(p) if !p.is_empty() && !p.split('.').any(str::is_empty) => {}
                            Value::String(p) => self.err(
                                f.line,
                                format!("`fields[{i}].path` {p:?} is not a dot-separated path like `a.b.0`"),
                            ),
                            other => self.err(
                                f.line,
                                format!("`fields[{i}].path` must be a string, found {}", other.kind()),
                            ),
                        }
                    }
                    "equals" => {}
                    _ => {
                        let place = format!("`fields[{i}]`");
                        self.unknown_key(f, &place, &["path", "equals"]);
                    }
                }
            }
            if !has_path {
                self.err(
                    n.line,
                    format!("`fields[{i}]` has no `path`; add `path = \"key\"`"),
                );
            }
        }
    }

    /// The references a grader needs: present, numeric, or one of the choices.
    fn references_fit(&mut self, shape: &GraderShape, refs: &[String], line: usize) {
        let needs = match shape.kind.as_str() {
            "exact" => "the accepted answer(s)",
            "numeric" => "the expected number",
            "choice" => "the correct label",
            "code_tests" => "a reference solution that passes every test (`yardstick selfcheck` runs it)",
            "output_prediction" => "the program's exact output (`yardstick selfcheck` compares it with what the program prints)",
            "judge" => "the reference answer the judge compares against",
            _ => return,
        };
        let Some(first) = refs.first() else {
            self.err(
                line,
                format!(
                    "a `{}` grader needs at least one reference; add `references = [\"…\"]` with {needs}",
                    shape.kind
                ),
            );
            return;
        };
        let problem = match (shape.kind.as_str(), &shape.choices) {
            ("numeric", _) if !first.trim().parse::<f64>().is_ok_and(f64::is_finite) => format!(
                "the first reference {first:?} is not a number; a `numeric` grader compares against it, so write it plainly, e.g. \"1250\" or \"0.75\""
            ),
            ("choice", Some(choices)) if !choices.contains(first) => format!(
                "the first reference {first:?} is not one of the choices [{}]; make it the correct label exactly as listed",
                choices.join(", ")
            ),
            _ => return,
        };
        self.err(line, problem);
    }
}

/// A value for "found …" messages: numbers shown, other kinds named.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        other => other.kind().to_string(),
    }
}

/// The one-line reason of a regex error (its Display spans several lines).
fn regex_reason(err: &regex::Error) -> String {
    let text = err.to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map_or_else(
            || text.split_whitespace().collect::<Vec<_>>().join(" "),
            str::to_string,
        )
}

/// The closest valid word to a likely typo, if any is close enough: a few
/// edits away, or a word the typo abbreviates (`code_exec`).
pub(crate) fn suggest<'v>(word: &str, valid: &[&'v str]) -> Option<&'v str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let close = valid
        .iter()
        .map(|v| (edit_distance(word, v), *v))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, v)| v);
    close.or_else(|| {
        let mut longer = valid
            .iter()
            .filter(|v| word.len() >= 3 && v.starts_with(word));
        match (longer.next(), longer.next()) {
            (Some(only), None) => Some(*only),
            _ => None,
        }
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_suggestions_and_strangers_do_not() {
        assert_eq!(suggest("promt", ITEM_KEYS), Some("prompt"));
        assert_eq!(suggest("refrences", ITEM_KEYS), Some("references"));
        assert_eq!(suggest("jsonfields", GRADER_TYPES), Some("json_fields"));
        assert_eq!(suggest("zzz", ITEM_KEYS), None);
        let dims = ["code_execution", "grounding"];
        assert_eq!(suggest("code_exec", &dims), Some("code_execution"));
        // An abbreviation shared by several words suggests none of them.
        assert_eq!(suggest("mat", &["materials", "materials_file"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn regex_errors_shrink_to_one_line() {
        // Built at run time so the linter does not flag the deliberate error.
        let pattern = String::from("(abc");
        let err = RegexBuilder::new(&pattern).build().unwrap_err();
        let reason = regex_reason(&err);
        assert!(!reason.contains('\n'));
        assert!(reason.contains("unclosed group"), "{reason}");
    }
}
