//! A format-neutral value tree in which every value remembers its line.
//!
//! TOML and JSONL items are both converted into this tree before validation,
//! so one validator serves both formats and every message it produces can
//! point at the line of the offending key or value: in TOML each key and value
//! has its own line, in JSONL everything on a line shares that line's number.

use std::ops::Range;

/// A value and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// TOML dates and times, kept as their text (no item field takes one).
    Datetime(String),
    /// JSON `null`, which the validator treats as "not set".
    Null,
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

/// One key of a table, with the line of the key itself (which can differ from
/// the line its value starts on in multi-line TOML).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub line: usize,
    pub node: Node,
}

impl Value {
    /// The word used in "must be a …" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Null => "null",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

impl Node {
    /// The equivalent JSON value, used to hand a checked grader table to serde.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::String(s) | Value::Datetime(s) => serde_json::Value::String(s.clone()),
            Value::Integer(i) => serde_json::Value::from(*i),
            Value::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Boolean(b) => serde_json::Value::Bool(*b),
            Value::Null => serde_json::Value::Null,
            Value::Array(items) => items.iter().map(Node::to_json).collect(),
            Value::Table(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.node.to_json()))
                    .collect(),
            ),
        }
    }

    /// A JSON value where every part sits on `line` (one JSONL line).
    pub fn from_json(value: &serde_json::Value, line: usize) -> Node {
        let value = match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Boolean(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(|v| Node::from_json(v, line)).collect())
            }
            serde_json::Value::Object(map) => Value::Table(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: k.clone(),
                        line,
                        node: Node::from_json(v, line),
                    })
                    .collect(),
            ),
        };
        Node { line, value }
    }
}

/// Maps byte offsets of one file to 1-based line numbers.
pub(crate) struct LineIndex {
    /// Byte offset of the first character of each line.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// The line holding byte `offset` (offsets past the end map to the last line).
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    fn line_of(&self, span: Option<Range<usize>>, fallback: usize) -> usize {
        span.map_or(fallback, |s| self.line(s.start))
    }
}

/// Converts a parsed TOML document into a [`Node`] tree with lines.
pub(crate) fn from_toml(root: &toml_edit::Table, lines: &LineIndex) -> Node {
    table_node(root, 1, lines)
}

fn table_node(table: &toml_edit::Table, fallback: usize, lines: &LineIndex) -> Node {
    // A table's span starts at its `[header]`; dotted-key tables have none.
    let line = lines.line_of(table.span(), fallback);
    let entries = table
        .iter()
        .filter_map(|(k, _)| table.get_key_value(k))
        .filter_map(|(key, item)| {
            let key_line = lines.line_of(key.span(), line);
            item_node(item, key_line, lines).map(|node| Entry {
                key: key.get().to_string(),
                line: key_line,
                node,
            })
        })
        .collect();
    Node {
        line,
        value: Value::Table(entries),
    }
}

fn item_node(item: &toml_edit::Item, fallback: usize, lines: &LineIndex) -> Option<Node> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => Some(value_node(v, fallback, lines)),
        toml_edit::Item::Table(t) => Some(table_node(t, fallback, lines)),
        toml_edit::Item::ArrayOfTables(a) => {
            let line = lines.line_of(a.span(), fallback);
            Some(Node {
                line,
                value: Value::Array(a.iter().map(|t| table_node(t, line, lines)).collect()),
            })
        }
    }
}

fn value_node(v: &toml_edit::Value, fallback: usize, lines: &LineIndex) -> Node {
    let line = lines.line_of(v.span(), fallback);
    let value = match v {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::Integer(*i.value()),
        toml_edit::Value::Float(f) => Value::Float(*f.value()),
        toml_edit::Value::Boolean(b) => Value::Boolean(*b.value()),
        toml_edit::Value::Datetime(d) => Value::Datetime(d.value().to_string()),
        toml_edit::Value::Array(a) => {
            Value::Array(a.iter().map(|e| value_node(e, line, lines)).collect())
        }
        toml_edit::Value::InlineTable(t) => Value::Table(
            t.iter()
                .filter_map(|(k, _)| t.get_key_value(k))
                .filter_map(|(key, item)| {
                    let key_line = lines.line_of(key.span(), line);
                    item_node(item, key_line, lines).map(|node| Entry {
                        key: key.get().to_string(),
                        line: key_line,
                        node,
                    })
                })
                .collect(),
        ),
    };
    Node { line, value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines() {
        let idx = LineIndex::new("ab\ncd\n\nef");
        assert_eq!(idx.line(0), 1);
        assert_eq!(idx.line(2), 1); // the newline belongs to its line
        assert_eq!(idx.line(3), 2);
        assert_eq!(idx.line(6), 3);
        assert_eq!(idx.line(7), 4);
        assert_eq!(idx.line(100), 4);
    }

    #[test]
    fn toml_keys_and_headers_keep_their_lines() {
        let text = "top = 1\n\n[[items]]\nid = \"a\"\n\n[items.grader]\ntype = \"exact\"\ncase_sensitive = true\n";
        let doc = toml_edit::ImDocument::parse(text).unwrap();
        let node = from_toml(doc.as_table(), &LineIndex::new(text));
        let Value::Table(entries) = &node.value else {
            panic!("root is a table")
        };
        assert_eq!((entries[0].key.as_str(), entries[0].line), ("top", 1));
        let Value::Array(items) = &entries[1].node.value else {
            panic!("items is an array")
        };
        assert_eq!(items[0].line, 3);
        let Value::Table(item) = &items[0].value else {
            panic!("an item is a table")
        };
        assert_eq!((item[0].key.as_str(), item[0].line), ("id", 4));
        let Value::Table(grader) = &item[1].node.value else {
            panic!("grader is a table")
        };
        assert_eq!((item[1].key.as_str(), item[1].line), ("grader", 6));
        assert_eq!(
            (grader[1].key.as_str(), grader[1].line),
            ("case_sensitive", 8)
        );
    }

    #[test]
    fn json_round_trips_through_nodes() {
        let json = serde_json::json!({"a": [1, 2.5, "x", true, null], "b": {"c": "d"}});
        let node = Node::from_json(&json, 7);
        assert_eq!(node.line, 7);
        assert_eq!(node.to_json(), json);
    }
}
