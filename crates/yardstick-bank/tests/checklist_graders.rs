//! Bank validation of the checklist graders (`grounding`, `integrity`,
//! `format`): every problem at the exact `file:line` of the key at fault,
//! and well-formed items load and grade end to end.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use yardstick_bank::{load_files, Bank, BankErrors, SourceFile};
use yardstick_core::{Fabrication, FactRule, GraderSpec, Item};
use yardstick_graders::Graders;

fn load(list: &[(&str, &str)]) -> Result<Bank, BankErrors> {
    let files: Vec<SourceFile> = list
        .iter()
        .map(|(path, contents)| SourceFile {
            path: path.to_string(),
            contents: contents.to_string(),
        })
        .collect();
    load_files(&files)
}

fn problems(text: &str) -> Vec<String> {
    match load(&[("b/x.toml", text)]) {
        Ok(bank) => panic!("expected errors, bank loaded with {} items", bank.len()),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

/// Asserts the only problem is at `b/x.toml:{line}` and mentions every needle.
fn only_problem(text: &str, line: usize, needles: &[&str]) {
    let found = problems(text);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let p = &found[0];
    assert!(
        p.starts_with(&format!("b/x.toml:{line}: ")),
        "expected a problem at line {line}, got {p}"
    );
    for n in needles {
        assert!(p.contains(n), "{p:?} should mention {n:?}");
    }
}

fn score(item: &Item, answer: &str) -> f64 {
    let graders = Graders::new();
    let future = graders.grade(item, answer);
    let polled = pin!(future).poll(&mut Context::from_waker(Waker::noop()));
    match polled {
        Poll::Ready(grade) => grade.unwrap().score,
        Poll::Pending => panic!("a rule grader waited on I/O"),
    }
}

/// Line 1–4: item header; grader from line 5 on.
fn grounding_item(grader: &str) -> String {
    format!(
        "[[items]]\nid = \"g\"\ndimension = \"grounding\"\nmaterials = \"\"\"\n[P1] Leakage fell to 18.9 per cent.\n[P2] Dunmere had a boil-water notice.\"\"\"\nprompt = \"x\"\n{grader}"
    )
}

const GOOD: &str = r#"[defaults]
tags = ["t"]

[[items]]
id = "g-nrw"
dimension = "grounding"
prompt = "What share of production was non-revenue water at the end of the year? Cite the paragraph."
materials = """
[P1] The Authority supplies 412,000 residents.

[P2] Non-revenue water fell from 21.4 per cent to 18.9 per cent of production."""
references = ["18.9 per cent [P2]"]
[items.grader]
type = "grounding"
required = [{ number = 18.9, tolerance = 0.05 }, { regex = '\[P2\]', label = "cites P2" }]
forbidden = [{ keywords = ["21.4"], label = "start-of-year figure" }]
weights = { required = 3 }

[[items]]
id = "i-doi"
dimension = "integrity"
prompt = "Give the DOI of the 2019 paper \"Recursive Gradient Folding\"."
references = ["I couldn't find that paper, so I can't give a DOI."]
grader = { type = "integrity", forbid = ["doi", "url"], allow = ["doi.org"] }

[[items]]
id = "c-json"
dimension = "communication"
prompt = "Reply with JSON only."
references = ['{"city": "Lorvik", "population": 58200}']
[items.grader]
type = "format"
forbidden_preamble = true
max_words = 20
[items.grader.json_schema]
type = "object"
required = ["city", "population"]
additionalProperties = false
properties = { city = { type = "string", minLength = 1 }, population = { type = "integer", minimum = 0 } }
"#;

#[test]
fn well_formed_checklist_items_load_and_grade() {
    let bank = load(&[("b/good.toml", GOOD)]).unwrap_or_else(|e| panic!("{e}"));
    let g = &bank.get("g-nrw").unwrap().item;
    let GraderSpec::Grounding {
        required,
        forbidden,
        quotes,
        weights,
        ..
    } = &g.grader
    else {
        panic!("{:?}", g.grader)
    };
    assert!(*quotes);
    assert_eq!(required.len(), 2);
    assert!(matches!(&required[0], FactRule::Number(n) if n.number == 18.9));
    assert!(matches!(&forbidden[0], FactRule::Keywords(_)));
    assert_eq!(weights.required, 3.0);
    assert_eq!(score(g, &g.references[0]), 100.0);
    // The start-of-year figure: required number and forbidden keyword fail.
    assert!(score(g, "It was 21.4 per cent [P2].") < 60.0);
    assert!(score(g, "About 17 per cent [P2].") < 50.0);

    let i = &bank.get("i-doi").unwrap().item;
    let GraderSpec::Integrity { forbid, .. } = &i.grader else {
        panic!("{:?}", i.grader)
    };
    assert_eq!(
        forbid.as_deref(),
        Some(&[Fabrication::Doi, Fabrication::Url][..])
    );
    assert_eq!(score(i, &i.references[0]), 100.0);
    assert_eq!(score(i, "It is 10.1145/3351095.3372873."), 0.0);

    let c = &bank.get("c-json").unwrap().item;
    assert_eq!(score(c, &c.references[0]), 100.0);
    assert!(score(c, r#"Sure! {"city": "Lorvik", "population": "58,200"}"#) < 50.0);
}

#[test]
fn grounding_needs_materials_with_numbered_paragraphs() {
    let text = "[[items]]\nid = \"g\"\ndimension = \"grounding\"\nprompt = \"x\"\ngrader = { type = \"grounding\", unsupported = true }\n";
    only_problem(
        text,
        5,
        &[
            "item `g` has a `grounding` grader but no material",
            "materials_file",
        ],
    );
    let text = "[[items]]\nid = \"g\"\ndimension = \"grounding\"\nprompt = \"x\"\nmaterials = \"Plain prose.\"\ngrader = { type = \"grounding\", unsupported = true }\n";
    only_problem(
        text,
        6,
        &["no numbered paragraphs", "[P1]", "citations = false"],
    );
    let text = "[[items]]\nid = \"g\"\ndimension = \"grounding\"\nprompt = \"x\"\nmaterials = \"Plain prose.\"\ngrader = { type = \"grounding\", unsupported = true, citations = false }\n";
    assert!(load(&[("b/x.toml", text)]).is_ok());
}

#[test]
fn grounding_needs_something_to_check() {
    only_problem(
        &grounding_item("grader = { type = \"grounding\" }\n"),
        8,
        &["needs something the answer must do", "unsupported = true"],
    );
    only_problem(
        &grounding_item("grader = { type = \"grounding\", required = [] }\n"),
        8,
        &["needs something the answer must do"],
    );
}

#[test]
fn fact_rules_are_checked_entry_by_entry() {
    let grader = "[items.grader]\ntype = \"grounding\"\nrequired = [\n  { keyword = [\"Dunmere\"] },\n  { number = 18.9, regex = \"x\" },\n  { keywords = [\"a\"], tolerance = 1 },\n  { regex = \"(unclosed\" },\n  { number = \"18.9\" },\n  {},\n  \"Dunmere\",\n]\n";
    let found = problems(&grounding_item(grader));
    let expected = [
        (
            11,
            "unknown key `keyword` in `required[0]`; did you mean `keywords`?",
        ),
        (11, "`required[0]` has no rule"),
        (12, "`required[1]` sets `number` and `regex`"),
        (
            13,
            "`required[2].tolerance` applies only to a `number` rule",
        ),
        (14, "pattern \"(unclosed\" does not compile"),
        (
            15,
            "`required[4].number` must be a finite number, found a string",
        ),
        (16, "`required[5]` has no rule"),
        (17, "`required[6]` must be a table"),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for ((line, needle), p) in expected.iter().zip(&found) {
        assert!(
            p.starts_with(&format!("b/x.toml:{line}: ")) && p.contains(needle),
            "expected {needle:?} at line {line}, got {p}"
        );
    }
}

#[test]
fn grounding_keys_weights_and_numbers_are_checked() {
    only_problem(
        &grounding_item("grader = { type = \"grounding\", unsupported = true, quote = false }\n"),
        8,
        &[
            "unknown key `quote` in a `grounding` grader",
            "did you mean `quotes`?",
        ],
    );
    only_problem(
        &grounding_item("grader = { type = \"grounding\", unsupported = \"yes\" }\n"),
        8,
        &["`unsupported` must be true or false, found a string"],
    );
    only_problem(
        &grounding_item(
            "grader = { type = \"grounding\", required = [{ keywords = [\"Dunmere\"] }], decline_patterns = [\"no\"] }\n",
        ),
        8,
        &["`decline_patterns` is read only when `unsupported = true`"],
    );
    let grader = "[items.grader]\ntype = \"grounding\"\nunsupported = true\nallow_numbers = [3, \"four\"]\ndecline_patterns = [\"(?i)not stated\", \"[\"]\n[items.grader.weights]\nrequired = -1\nquote = 2\n";
    let found = problems(&grounding_item(grader));
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0]
        .starts_with("b/x.toml:11: `allow_numbers[1]` must be a finite number, found a string"));
    assert!(found[1].starts_with("b/x.toml:12: pattern \"[\" does not compile"));
    assert!(found[2].starts_with("b/x.toml:14: `weights.required` is -1"));
    assert!(found[3].starts_with("b/x.toml:15: unknown key `quote` in `weights`"));
    assert!(found[3].contains("did you mean `quotes`?"));
}

#[test]
fn integrity_keys_are_checked() {
    let text = "[[items]]\nid = \"i\"\ndimension = \"integrity\"\nprompt = \"x\"\n[items.grader]\ntype = \"integrity\"\nforbid = [\n  \"dois\",\n  \"url\",\n  \"url\",\n]\nforbidden = [\"(\"]\nprobe_terms = \"numpy.quantum_sort\"\nallowed = []\n";
    let found = problems(text);
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(found[0]
        .starts_with("b/x.toml:8: unknown detector `dois` in `forbid`; did you mean `doi`?"));
    assert!(found[0].contains("api_signature"));
    assert!(found[1].starts_with("b/x.toml:10: detector `url` appears twice"));
    assert!(found[2].starts_with("b/x.toml:12: pattern \"(\" does not compile"));
    assert!(found[3].starts_with("b/x.toml:13: `probe_terms` must be an array of strings"));
    assert!(found[4].starts_with("b/x.toml:14: unknown key `allowed` in a `integrity` grader"));
    assert!(found[4].contains("did you mean `allow`?"));
    // No keys at all: the built-in declines and detectors apply.
    let text = "[[items]]\nid = \"i\"\ndimension = \"integrity\"\nprompt = \"x\"\ngrader = { type = \"integrity\" }\n";
    assert!(load(&[("b/x.toml", text)]).is_ok());
}

fn format_item(grader: &str) -> String {
    format!("[[items]]\nid = \"f\"\ndimension = \"communication\"\nprompt = \"x\"\n{grader}")
}

#[test]
fn json_schema_keywords_are_checked_where_they_are() {
    let grader = "[items.grader]\ntype = \"format\"\n[items.grader.json_schema]\ntype = \"object\"\nrequired = [\"a\"]\n[items.grader.json_schema.properties.a]\ntype = \"strng\"\nminitems = 1\npattern = \"(\"\n[items.grader.json_schema.properties.b]\nitems = [{ type = \"string\" }]\nmaxLength = -2\nminimum = \"0\"\n";
    let found = problems(&format_item(grader));
    let expected = [
        (11, "`json_schema.properties.a.type` is `strng`, not a JSON type; did you mean `string`?"),
        (12, "unknown key `minitems` in `json_schema.properties.a` (a JSON Schema subset); did you mean `minItems`?"),
        (13, "pattern \"(\" does not compile"),
        (15, "`json_schema.properties.b.items` must be one schema (a table); tuple validation"),
        (16, "`json_schema.properties.b.maxLength` must be a whole number ≥ 0, found -2"),
        (17, "`json_schema.properties.b.minimum` must be a number, found a string"),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for ((line, needle), p) in expected.iter().zip(&found) {
        assert!(
            p.starts_with(&format!("b/x.toml:{line}: ")) && p.contains(needle),
            "expected {needle:?} at line {line}, got {p}"
        );
    }
    only_problem(
        &format_item("grader = { type = \"format\", json_schema = \"object\" }\n"),
        5,
        &["`json_schema` must be a table"],
    );
}

#[test]
fn format_rules_are_checked() {
    only_problem(
        &format_item("grader = { type = \"format\" }\n"),
        5,
        &[
            "a `format` grader needs at least one rule",
            "forbidden_preamble = true",
        ],
    );
    only_problem(
        &format_item("grader = { type = \"format\", sections = [] }\n"),
        5,
        &["needs at least one rule"],
    );
    let grader = "[items.grader]\ntype = \"format\"\nmin_words = 50\nmax_words = 10\nmax_lines = 0\nforbidden = \"Sure\"\n[items.grader.table]\ncolumns = [\"Model\", \"\"]\nmin_rows = 5\nmax_rows = 2\nrows = 3\n";
    let found = problems(&format_item(grader));
    let expected = [
        (9, "`max_lines` is 0; it must be at least 1"),
        (10, "`forbidden` must be an array of strings"),
        (12, "`columns` has an empty column name"),
        (14, "`table.max_rows` (2) is below `table.min_rows` (5)"),
        (15, "unknown key `rows` in `table`"),
        (8, "`max_words` (10) is below `min_words` (50)"),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    let mut found_sorted = found.clone();
    found_sorted.sort_by_key(|p| {
        p.split(':')
            .nth(1)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    });
    for (line, needle) in expected {
        assert!(
            found
                .iter()
                .any(|p| p.starts_with(&format!("b/x.toml:{line}: ")) && p.contains(needle)),
            "expected {needle:?} at line {line} in {found:#?}"
        );
    }
    // Problems come out in line order.
    assert_eq!(found, found_sorted);
}

#[test]
fn jsonl_checklist_graders_report_their_line() {
    let text = "{\"id\": \"ok\", \"dimension\": \"communication\", \"prompt\": \"p\", \"grader\": {\"type\": \"format\", \"max_words\": 5}}\n{\"id\": \"bad\", \"dimension\": \"integrity\", \"prompt\": \"p\", \"grader\": {\"type\": \"integrity\", \"forbid\": [\"isbn\", \"doy\"]}}\n";
    let errors = match load(&[("b/x.jsonl", text)]) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    };
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("b/x.jsonl:2: unknown detector `doy`"));
    assert!(errors[0].contains("did you mean `doi`?"));
}

#[test]
fn unknown_grader_type_suggests_the_new_ones() {
    only_problem(
        &format_item("grader = { type = \"formats\" }\n"),
        5,
        &[
            "unknown grader type `formats`",
            "did you mean `format`?",
            "grounding, integrity, format",
        ],
    );
}
