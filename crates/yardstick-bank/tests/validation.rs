//! Every validation rule, each checked against the exact `file:line` it must
//! report. Banks are built in memory with `load_files`.

use yardstick_bank::{load_files, Bank, BankErrors, SourceFile};
use yardstick_core::{Dimension, GraderSpec};

fn files(list: &[(&str, &str)]) -> Vec<SourceFile> {
    list.iter()
        .map(|(path, contents)| SourceFile {
            path: path.to_string(),
            contents: contents.to_string(),
        })
        .collect()
}

fn load(list: &[(&str, &str)]) -> Result<Bank, BankErrors> {
    load_files(&files(list))
}

/// The displayed problems of a bank that must be invalid.
fn problems(list: &[(&str, &str)]) -> Vec<String> {
    match load(list) {
        Ok(bank) => panic!("expected errors, bank loaded with {} items", bank.len()),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

/// Asserts that the only problem is at `at` (`file:line`) and mentions every
/// one of `needles`.
fn only_problem(list: &[(&str, &str)], at: &str, needles: &[&str]) {
    let found = problems(list);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let p = &found[0];
    assert!(
        p.starts_with(&format!("{at}: ")),
        "expected a problem at {at}, got {p}"
    );
    for n in needles {
        assert!(p.contains(n), "{p:?} should mention {n:?}");
    }
}

const GOOD: &str = r#"[[items]]
id = "j-1"
dimension = "judgment"
prompt = "Pick one."
references = ["B"]
grader = { type = "choice", choices = ["A", "B"] }
"#;

#[test]
fn a_good_item_loads() {
    let bank = load(&[("b/j.toml", GOOD)]).unwrap();
    assert_eq!(bank.len(), 1);
    let b = bank.get("j-1").unwrap();
    assert_eq!(b.source.file, "b/j.toml");
    assert_eq!(b.source.line, 1);
    assert_eq!(b.item.dimension, Dimension::Judgment);
    assert_eq!(
        b.item.grader,
        GraderSpec::Choice {
            choices: vec!["A".into(), "B".into()]
        }
    );
}

#[test]
fn toml_syntax_errors_carry_their_line() {
    let text = "[[items]]\nid = \"a\"\nprompt = \"unterminated\n";
    only_problem(&[("b/x.toml", text)], "b/x.toml:3", &["TOML syntax error"]);
    let dup = "[[items]]\nid = \"a\"\nid = \"b\"\n";
    let found = problems(&[("b/x.toml", dup)]);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("b/x.toml:3: TOML syntax error"),
        "{found:?}"
    );
}

#[test]
fn unknown_item_key_is_reported_with_a_suggestion() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\npromt = \"x\"\nprompt = \"x\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:4",
        &["unknown key `promt`", "did you mean `prompt`?"],
    );
}

#[test]
fn unknown_grader_key_is_reported_on_its_own_line() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = [\"4\"]\n[items.grader]\ntype = \"numeric\"\ntolerence = 1\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:8",
        &[
            "unknown key `tolerence`",
            "`numeric` grader",
            "did you mean `tolerance`?",
        ],
    );
}

#[test]
fn unknown_keys_in_defaults_and_top_level_are_reported() {
    let text = "[defaults]\ndimensoin = \"judgment\"\n\n[[item]]\nid = \"a\"\n";
    let found = problems(&[("b/x.toml", text)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("b/x.toml:2: unknown key `dimensoin` in [defaults]"));
    assert!(found[1].starts_with("b/x.toml:4: unknown key `item`"));
    assert!(found[1].contains("did you mean `items`?"));
}

#[test]
fn missing_id_prompt_grader_and_dimension_point_at_the_item_header() {
    let text = "# a comment\n\n[[items]]\nreferences = []\n";
    let found = problems(&[("b/x.toml", text)]);
    assert_eq!(found.len(), 4, "{found:#?}");
    for p in &found {
        assert!(p.starts_with("b/x.toml:3: "), "{p}");
    }
    let all = found.join("\n");
    for key in ["`id`", "`dimension`", "`prompt`", "`grader`"] {
        assert!(all.contains(&format!("no {key}")), "{all}");
    }
}

#[test]
fn empty_prompt_is_reported_at_the_prompt() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"  \"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n";
    only_problem(&[("b/x.toml", text)], "b/x.toml:4", &["`prompt` is empty"]);
}

#[test]
fn unknown_dimension_lists_the_valid_ones() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"coding\"\nprompt = \"x\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:3",
        &[
            "unknown dimension `coding`",
            "code_execution, grounding, judgment, communication, integrity",
        ],
    );
}

#[test]
fn unknown_grader_type_lists_the_valid_ones() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\n\n[items.grader]\ntype = \"regexp\"\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:7",
        &[
            "unknown grader type `regexp`",
            "did you mean `regex`?",
            "exact, regex, numeric, json_fields, choice, ranking",
        ],
    );
}

#[test]
fn grader_without_type_is_reported() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\ngrader = { patterns = [\"x\"] }\n";
    only_problem(&[("b/x.toml", text)], "b/x.toml:5", &["no `type`"]);
}

#[test]
fn duplicate_ids_across_files_report_both_locations() {
    let second = format!("# another file\n{GOOD}");
    let found = problems(&[("b/a.toml", GOOD), ("b/z/b.toml", &second)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("b/z/b.toml:2: duplicate id `j-1`: also defined at b/a.toml:1"),
        "{found:?}"
    );
}

#[test]
fn duplicate_ids_within_one_file_are_reported() {
    let text = format!("{GOOD}\n{GOOD}");
    only_problem(
        &[("b/a.toml", &text)],
        "b/a.toml:8",
        &["duplicate id `j-1`", "b/a.toml:1"],
    );
}

#[test]
fn bad_regex_is_reported_at_the_pattern() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"integrity\"\nprompt = \"x\"\ngrader = { type = \"regex\", patterns = [\n  'fine',\n  '(unclosed',\n] }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:7",
        &["pattern \"(unclosed\" does not compile", "unclosed group"],
    );
}

#[test]
fn regex_needs_patterns() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"integrity\"\nprompt = \"x\"\ngrader = { type = \"regex\", patterns = [] }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:5",
        &["`patterns` is empty"],
    );
    let text = "[[items]]\nid = \"a\"\ndimension = \"integrity\"\nprompt = \"x\"\ngrader = { type = \"regex\" }\n";
    only_problem(&[("b/x.toml", text)], "b/x.toml:5", &["needs `patterns`"]);
}

#[test]
fn exact_choice_and_numeric_need_a_reference() {
    for grader in [
        "{ type = \"exact\" }",
        "{ type = \"numeric\" }",
        "{ type = \"choice\", choices = [\"A\"] }",
    ] {
        let text = format!(
            "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\ngrader = {grader}\n"
        );
        only_problem(
            &[("b/x.toml", &text)],
            "b/x.toml:1",
            &["at least one reference"],
        );
        // An explicit empty list is reported at the `references` key.
        let text = format!(
            "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = []\ngrader = {grader}\n"
        );
        only_problem(
            &[("b/x.toml", &text)],
            "b/x.toml:5",
            &["at least one reference"],
        );
    }
}

#[test]
fn numeric_reference_must_be_a_number() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = [\"about four\"]\ngrader = { type = \"numeric\" }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:5",
        &["\"about four\" is not a number"],
    );
}

#[test]
fn references_must_be_strings() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = [4]\ngrader = { type = \"numeric\" }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:5",
        &["is a number; quote it"],
    );
}

#[test]
fn choice_reference_must_be_a_choice() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = [\"E\"]\ngrader = { type = \"choice\", choices = [\"A\", \"B\"] }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:5",
        &["\"E\" is not one of the choices [A, B]"],
    );
}

#[test]
fn ranking_order_must_be_non_empty_and_unique() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\ngrader = { type = \"ranking\", order = [] }\n";
    only_problem(&[("b/x.toml", text)], "b/x.toml:5", &["`order` is empty"]);
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\n[items.grader]\ntype = \"ranking\"\norder = [\n  \"A\",\n  \"B\",\n  \"A\",\n]\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:10",
        &["label \"A\" appears twice in `order`"],
    );
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\ngrader = { type = \"ranking\", order = [\"A\", \"B\"], rule = \"kendall\" }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:5",
        &["`rule` is `kendall`", "pairwise, exact_only, position"],
    );
}

#[test]
fn json_fields_must_be_non_empty_and_well_formed() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"communication\"\nprompt = \"x\"\ngrader = { type = \"json_fields\", fields = [] }\n";
    only_problem(&[("b/x.toml", text)], "b/x.toml:5", &["`fields` is empty"]);
    let text = "[[items]]\nid = \"a\"\ndimension = \"communication\"\nprompt = \"x\"\ngrader = { type = \"json_fields\", fields = [\n  { path = \"a\", equals = 1 },\n  { pth = \"b\" },\n] }\n";
    let found = problems(&[("b/x.toml", text)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("b/x.toml:7: unknown key `pth` in `fields[1]`"));
    assert!(found[0].contains("did you mean `path`?"));
    assert!(found[1].starts_with("b/x.toml:7: `fields[1]` has no `path`"));
}

#[test]
fn grader_field_types_are_checked_at_their_key() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = [\"1\"]\n[items.grader]\ntype = \"numeric\"\ntolerance = \"small\"\npick = \"middle\"\n";
    let found = problems(&[("b/x.toml", text)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("b/x.toml:8: `tolerance` must be a number"));
    assert!(found[1].starts_with("b/x.toml:9: `pick` is `middle`"));
}

#[test]
fn id_characters_are_limited() {
    let text = "[[items]]\nid = \"bad id/1\"\ndimension = \"judgment\"\nprompt = \"x\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n";
    only_problem(
        &[("b/x.toml", text)],
        "b/x.toml:2",
        &["id `bad id/1` contains \" /\"", "letters, digits"],
    );
}

#[test]
fn materials_file_must_exist() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"grounding\"\nprompt = \"x\"\nmaterials_file = \"docs/missing.md\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n";
    only_problem(
        &[("b/x.toml", text), ("b/docs/other.md", "text")],
        "b/x.toml:5",
        &[
            "materials_file `docs/missing.md` not found",
            "b/docs/missing.md",
        ],
    );
}

#[test]
fn materials_and_materials_file_are_exclusive() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"grounding\"\nprompt = \"x\"\nmaterials = \"inline\"\nmaterials_file = \"docs/a.md\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n";
    only_problem(
        &[("b/x.toml", text), ("b/docs/a.md", "text")],
        "b/x.toml:6",
        &["both `materials` and `materials_file`"],
    );
}

#[test]
fn a_broken_default_is_reported_once_not_per_item() {
    let text = "[defaults]\ndimension = \"groundin\"\nmaterials_file = \"nope.md\"\n\n[[items]]\nid = \"a\"\nprompt = \"x\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n\n[[items]]\nid = \"b\"\nprompt = \"y\"\ngrader = { type = \"regex\", patterns = [\"y\"] }\n";
    let found = problems(&[("b/x.toml", text)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("b/x.toml:2: unknown dimension `groundin`"));
    assert!(found[0].contains("did you mean `grounding`?"));
    assert!(found[1].starts_with("b/x.toml:3: materials_file `nope.md` not found"));
}

#[test]
fn every_problem_of_a_bank_is_reported_in_file_and_line_order() {
    let a = "[[items]]\nid = \"a 1\"\ndimension = \"judgment\"\nprompt = \"x\"\ngrader = { type = \"regex\", patterns = [\"(\"] }\n";
    let b = "{\"id\": \"b\", \"dimension\": \"judgment\", \"prompt\": \"\", \"grader\": {\"type\": \"exact\"}}\n";
    let errors = load(&[("bank/b.jsonl", b), ("bank/a.toml", a)]).unwrap_err();
    let shown = errors.to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 5, "{shown}");
    assert!(lines[0].starts_with("bank/a.toml:2: id `a 1`"));
    assert!(lines[1].starts_with("bank/a.toml:5: pattern \"(\""));
    assert!(lines[2].starts_with("bank/b.jsonl:1: `prompt` is empty"));
    assert!(lines[3].starts_with("bank/b.jsonl:1: a `exact` grader needs at least one reference"));
    assert_eq!(lines[4], "4 problems found");
    assert!(!shown.ends_with('\n'));
}

#[test]
fn jsonl_errors_carry_line_numbers() {
    let text = concat!(
        "{\"id\":\"c-1\",\"dimension\":\"code_execution\",\"prompt\":\"p\",\"references\":[\"1\"],\"grader\":{\"type\":\"exact\"}}\n",
        "\n",
        "{\"id\":\"c-2\",\"dimension\":\"code_execution\",\"prompt\":\"p\"\n",
        "[1, 2]\n",
        "{\"id\":\"c-3\",\"dimension\":\"code_exec\",\"prompt\":\"p\",\"grader\":{\"type\":\"regex\",\"patterns\":[\"a\"]},\"extra\":1}\n",
    );
    let found = problems(&[("bank/c.jsonl", text)]);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        found[0].starts_with("bank/c.jsonl:3: invalid JSON at column"),
        "{found:?}"
    );
    assert!(found[1].starts_with("bank/c.jsonl:4: each line must be one JSON object"));
    // Same line: reported in the order the validator meets them (keys first).
    assert!(found[2].starts_with("bank/c.jsonl:5: unknown key `extra` in item"));
    assert!(found[3].starts_with("bank/c.jsonl:5: unknown dimension `code_exec`"));
    assert!(found[3].contains("did you mean `code_execution`?"));
}

#[test]
fn an_empty_bank_is_an_error() {
    let errors = load(&[("bank/readme.md", "hello")]).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors.errors[0]
        .message
        .contains("no .toml or .jsonl files"));
}

#[test]
fn errors_display_without_a_line_when_the_whole_file_is_meant() {
    let e = yardstick_bank::BankError {
        file: "bank".into(),
        line: 0,
        message: "gone".into(),
    };
    assert_eq!(e.to_string(), "bank: gone");
    let e = yardstick_bank::BankError {
        file: "bank/a.toml".into(),
        line: 3,
        message: "bad".into(),
    };
    assert_eq!(e.to_string(), "bank/a.toml:3: bad");
    let one = BankErrors { errors: vec![e] };
    assert_eq!(one.to_string(), "bank/a.toml:3: bad\n1 problem found");
}

#[test]
fn reference_checks_run_even_when_the_grader_has_other_problems() {
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = [\"abc\"]\ngrader = { type = \"numeric\", tolerence = 1 }\n";
    let found = problems(&[("b/x.toml", text)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("b/x.toml:5: the first reference \"abc\" is not a number"));
    assert!(found[1].starts_with("b/x.toml:6: unknown key `tolerence`"));
    let text = "[[items]]\nid = \"a\"\ndimension = \"judgment\"\nprompt = \"x\"\nreferences = [\"E\"]\ngrader = { type = \"choice\", choices = [\"A\", \"A\"] }\n";
    let found = problems(&[("b/x.toml", text)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0]
        .starts_with("b/x.toml:5: the first reference \"E\" is not one of the choices [A, A]"));
    assert!(found[1].starts_with("b/x.toml:6: label \"A\" appears twice in `choices`"));
}

#[test]
fn duplicate_ids_are_reported_even_among_invalid_items() {
    let a = "[[items]]\nid = \"same\"\ndimension = \"judgment\"\nprompt = \"\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n";
    let b = "{\"id\": \"same\", \"dimension\": \"judgment\", \"prompt\": \"p\", \"grader\": {\"type\": \"regex\", \"patterns\": [\"x\"]}}\n";
    let found = problems(&[("b/a.toml", a), ("b/b.jsonl", b)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("b/a.toml:4: `prompt` is empty"));
    assert!(found[1].starts_with("b/b.jsonl:1: duplicate id `same`: also defined at b/a.toml:1"));
}

const CODE: &str = r#"[[items]]
id = "c-1"
dimension = "code_execution"
prompt = "Write add(a, b)."
references = ["def add(a, b):\n    return a + b"]

[items.grader]
type = "code_tests"
entry_point = "add"
tests = [
  "assert add(1, 2) == 3",
  "assert add(0, 0) == 0",
]
known_wrong = ["def add(a, b):\n    return a - b"]
"#;

#[test]
fn code_graders_load_with_their_defaults() {
    let bank = load(&[("b/c.toml", CODE)]).unwrap();
    let GraderSpec::CodeTests {
        entry_point,
        tests,
        known_wrong,
        language,
        ..
    } = &bank.get("c-1").unwrap().item.grader
    else {
        panic!("not code_tests")
    };
    assert_eq!(entry_point.as_deref(), Some("add"));
    assert_eq!(tests.len(), 2);
    assert_eq!(known_wrong.len(), 1);
    assert_eq!(*language, yardstick_core::CodeLanguage::Python);
    let predict = "[[items]]\nid = \"p\"\ndimension = \"code_execution\"\nprompt = \"x\"\nreferences = [\"3\"]\ngrader = { type = \"output_prediction\", program = \"print(3)\", combine = \"weighted\", no_fence = false }\n";
    assert!(load(&[("b/p.toml", predict)]).is_ok());
}

#[test]
fn code_grader_problems_are_reported_at_their_lines() {
    let with = |from: &str, to: &str| CODE.replace(from, to);
    only_problem(
        &[(
            "b/c.toml",
            &with("entry_point = \"add\"", "entrypoint = \"add\""),
        )],
        "b/c.toml:9",
        &["entrypoint", "entry_point"],
    );
    only_problem(
        &[(
            "b/c.toml",
            &with(
                "type = \"code_tests\"",
                "type = \"code_tests\"\nlanguage = \"rust\"",
            ),
        )],
        "b/c.toml:9",
        &["`rust`", "python, javascript"],
    );
    only_problem(
        &[(
            "b/c.toml",
            &with("  \"assert add(0, 0) == 0\",", "  \"  \","),
        )],
        "b/c.toml:12",
        &["`tests[1]` is empty"],
    );
    only_problem(
        &[(
            "b/c.toml",
            &with(
                "tests = [\n  \"assert add(1, 2) == 3\",\n  \"assert add(0, 0) == 0\",\n]",
                "tests = []",
            ),
        )],
        "b/c.toml:10",
        &["`tests` is empty"],
    );
    only_problem(
        &[(
            "b/c.toml",
            &with("entry_point = \"add\"", "entry_point = \"add(a, b)\""),
        )],
        "b/c.toml:9",
        &["not a function or class name"],
    );
    only_problem(
        &[(
            "b/c.toml",
            &with("known_wrong", "timeout_secs = -1\nknown_wrong"),
        )],
        "b/c.toml:14",
        &["`timeout_secs` is -1"],
    );
    only_problem(
        &[(
            "b/c.toml",
            &with("references = [\"def add(a, b):\\n    return a + b\"]\n", ""),
        )],
        "b/c.toml:1",
        &["needs at least one reference", "reference solution"],
    );
    let no_program = "[[items]]\nid = \"p\"\ndimension = \"code_execution\"\nprompt = \"x\"\nreferences = [\"3\"]\ngrader = { type = \"output_prediction\", combine = \"all\" }\n";
    let found = problems(&[("b/p.toml", no_program)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("b/p.toml:6: `combine` is `all`"),
        "{found:#?}"
    );
    assert!(
        found[1].starts_with("b/p.toml:6: a `output_prediction` grader needs `program`"),
        "{found:#?}"
    );
}
