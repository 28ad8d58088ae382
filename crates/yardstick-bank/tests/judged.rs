//! Judged items, rubrics and the judge calibration set: loading, rubric
//! content inlined into items, and every validation rule at its `file:line`.

use yardstick_bank::{load_files, Bank, BankErrors, SourceFile};
use yardstick_core::GraderSpec;

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

fn problems(list: &[(&str, &str)]) -> Vec<String> {
    match load(list) {
        Ok(bank) => panic!("expected errors, bank loaded with {} items", bank.len()),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

/// Asserts that the only problem is at `at` and mentions every needle.
fn only_problem(list: &[(&str, &str)], at: &str, needles: &[&str]) {
    let found = problems(list);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let p = &found[0];
    assert!(p.starts_with(&format!("{at}: ")), "expected {at}, got {p}");
    for n in needles {
        assert!(p.contains(n), "{p:?} should mention {n:?}");
    }
}

const RUBRICS: &str = r#"[[rubrics.incident.criteria]]
id = "first_step"
description = "Is the first step the right one?"
anchors = [ { score = 0, meaning = "harmful or absent" }, { score = 3, meaning = "plausible" }, { score = 5, meaning = "the reference's step" } ]

[[rubrics.incident.criteria]]
id = "reasoning"
description = "Is the why stated?"
anchors = [ { score = 0, meaning = "none" }, { score = 2, meaning = "clear" } ]

[rubrics.clarity]
criteria = [
  { id = "clarity", description = "Easy to follow for the stated reader?", anchors = [ { score = 0, meaning = "confusing" }, { score = 5, meaning = "clear" } ] },
]
"#;

const ITEMS: &str = r#"[[items]]
id = "judgment-incident-first-step-1"
dimension = "judgment"
prompt = "The database is down. What first?"
references = ["Check whether the primary is reachable before failing over."]
known_bad = ["Restart everything."]
grader = { type = "judge", rubric = "incident" }

[[items]]
id = "communication-summary-1"
dimension = "communication"
prompt = "Summarise for a manager."
references = ["Summary: the release slipped a week."]
grader = { type = "format", sections = ["Summary"], max_words = 120 }
judged = { rubric = "clarity", weight = 0.3 }
"#;

const CALIBRATION: &str = r#"[[calibration]]
id = "cal-incident-1"
rubric = "incident"
question = "The database is down. What first?"
reference = "Check whether the primary is reachable before failing over."
answer = "Fail over immediately."
scores = { first_step = 1, reasoning = 0 }
"#;

#[test]
fn judged_items_carry_their_rubric_and_the_calibration_set_loads() {
    let bank = load(&[
        ("b/rubrics.toml", RUBRICS),
        ("b/judgment.toml", ITEMS),
        ("b/judge_calibration.toml", CALIBRATION),
    ])
    .unwrap();
    assert_eq!(bank.len(), 2);
    assert_eq!(bank.rubrics.len(), 2);
    let judged = &bank.get("judgment-incident-first-step-1").unwrap().item;
    let GraderSpec::Judge { rubric } = &judged.grader else {
        panic!("not a judge grader: {:?}", judged.grader)
    };
    assert_eq!(rubric.name, "incident");
    assert_eq!(rubric.criteria.len(), 2);
    assert_eq!(rubric.max_total(), 7);
    assert_eq!(judged.judge_rubric(), Some(rubric));
    let mixed = &bank.get("communication-summary-1").unwrap().item;
    let part = mixed.judged.as_ref().unwrap();
    assert_eq!((part.rubric.name.as_str(), part.weight), ("clarity", 0.3));
    assert_eq!(mixed.grader.grader_id(), "format");
    assert_eq!(bank.calibration.len(), 1);
    let cal = &bank.calibration[0];
    assert_eq!(cal.rubric.name, "incident");
    assert_eq!(cal.scores["first_step"], 1);
    // The stored item (JSON) round-trips with the rubric's content.
    let json = serde_json::to_string(judged).unwrap();
    assert!(json.contains("the reference's step"), "{json}");
    let back: yardstick_core::Item = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, judged);
}

#[test]
fn a_changed_rubric_changes_the_version_of_items_that_use_it() {
    let before = load(&[("b/rubrics.toml", RUBRICS), ("b/j.toml", ITEMS)]).unwrap();
    let edited = RUBRICS.replace("the reference's step", "the reference's first step");
    let after = load(&[("b/rubrics.toml", &edited), ("b/j.toml", ITEMS)]).unwrap();
    let version = |b: &Bank, id: &str| b.get(id).unwrap().item.version();
    let judged = "judgment-incident-first-step-1";
    assert_ne!(version(&before, judged), version(&after, judged));
    // The clarity rubric did not change, so neither did its item.
    let other = "communication-summary-1";
    assert_eq!(version(&before, other), version(&after, other));
}

#[test]
fn a_jsonl_item_names_a_rubric_too() {
    let line = r#"{"id":"j-1","dimension":"judgment","prompt":"p","references":["r"],"grader":{"type":"judge","rubric":"clarity"}}"#;
    let bank = load(&[("b/rubrics.toml", RUBRICS), ("b/j.jsonl", line)]).unwrap();
    assert!(
        matches!(&bank.get("j-1").unwrap().item.grader, GraderSpec::Judge { rubric } if rubric.name == "clarity")
    );
}

#[test]
fn an_unknown_rubric_name_suggests_the_close_one() {
    let items = ITEMS.replace(r#"rubric = "incident""#, r#"rubric = "incidnet""#);
    only_problem(
        &[("b/rubrics.toml", RUBRICS), ("b/j.toml", &items)],
        "b/j.toml:7",
        &["unknown rubric `incidnet`", "did you mean `incident`?"],
    );
    let items = ITEMS.replace(r#"rubric = "clarity""#, r#"rubric = "tone""#);
    only_problem(
        &[("b/rubrics.toml", RUBRICS), ("b/j.toml", &items)],
        "b/j.toml:15",
        &[
            "unknown rubric `tone`",
            "defined rubrics: clarity, incident",
        ],
    );
}

#[test]
fn anchors_out_of_order_are_reported_at_the_anchor() {
    let rubrics = RUBRICS.replace(
        r#"{ score = 3, meaning = "plausible" }, { score = 5"#,
        r#"{ score = 5, meaning = "plausible" }, { score = 3"#,
    );
    only_problem(
        &[("b/rubrics.toml", &rubrics), ("b/j.toml", ITEMS)],
        "b/rubrics.toml:4",
        &["out of order", "score 3 follows 5"],
    );
    // A scale must start at 0 and have two anchors.
    let rubrics = RUBRICS.replace(
        r#"anchors = [ { score = 0, meaning = "confusing" }, { score = 5, meaning = "clear" } ]"#,
        r#"anchors = [ { score = 1, meaning = "clear" } ]"#,
    );
    let found = problems(&[("b/rubrics.toml", &rubrics), ("b/j.toml", ITEMS)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("b/rubrics.toml:13: ") && found[0].contains("starts at 0"));
}

#[test]
fn an_item_naming_a_broken_rubric_is_not_reported_twice() {
    let rubrics = RUBRICS.replace("description = \"Is the why stated?\"\n", "");
    let found = problems(&[("b/rubrics.toml", &rubrics), ("b/j.toml", ITEMS)]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("b/rubrics.toml:") && found[0].contains("no `description`"));
}

#[test]
fn judged_weight_must_be_in_zero_one() {
    for bad in ["0", "1.5", "-0.2", "\"high\""] {
        let items = ITEMS.replace("weight = 0.3", &format!("weight = {bad}"));
        only_problem(
            &[("b/rubrics.toml", RUBRICS), ("b/j.toml", &items)],
            "b/j.toml:15",
            &["`judged.weight`", "(0, 1]"],
        );
    }
    let items = ITEMS.replace("weight = 0.3", "weight = 1");
    assert!(load(&[("b/rubrics.toml", RUBRICS), ("b/j.toml", &items)]).is_ok());
}

#[test]
fn a_judge_grader_needs_a_reference_and_a_rubric() {
    let items = ITEMS.replace(
        "references = [\"Check whether the primary is reachable before failing over.\"]\n",
        "",
    );
    only_problem(
        &[("b/rubrics.toml", RUBRICS), ("b/j.toml", &items)],
        "b/j.toml:1",
        &[
            "`judge` grader needs at least one reference",
            "the judge compares against",
        ],
    );
    let items = ITEMS.replace(
        r#"{ type = "judge", rubric = "incident" }"#,
        r#"{ type = "judge" }"#,
    );
    only_problem(
        &[("b/rubrics.toml", RUBRICS), ("b/j.toml", &items)],
        "b/j.toml:7",
        &["needs `rubric`", "[rubrics.NAME]"],
    );
    let items = ITEMS.replace(
        "references = [\"Summary: the release slipped a week.\"]\n",
        "",
    );
    only_problem(
        &[("b/rubrics.toml", RUBRICS), ("b/j.toml", &items)],
        "b/j.toml:14",
        &["judged part but no reference"],
    );
}

#[test]
fn rubric_names_are_unique_across_files() {
    let clarity_again = "[rubrics.clarity]\ncriteria = [ { id = \"c\", description = \"d\", anchors = [ { score = 0, meaning = \"a\" }, { score = 1, meaning = \"b\" } ] } ]\n";
    only_problem(
        &[
            ("b/rubrics.toml", RUBRICS),
            ("b/z.toml", clarity_again),
            ("b/j.toml", ITEMS),
        ],
        "b/z.toml:1",
        &["rubric `clarity` is defined twice", "b/rubrics.toml:"],
    );
}

#[test]
fn calibration_scores_must_match_the_rubric_scales() {
    let bank = |cal: &str| {
        problems(&[
            ("b/rubrics.toml", RUBRICS),
            ("b/j.toml", ITEMS),
            ("b/judge_calibration.toml", cal),
        ])
    };
    let over = bank(&CALIBRATION.replace("reasoning = 0", "reasoning = 3"));
    assert_eq!(over.len(), 1, "{over:#?}");
    assert!(over[0].starts_with("b/judge_calibration.toml:7: ") && over[0].contains("from 0 to 2"));
    let misspelt = bank(&CALIBRATION.replace("reasoning = 0", "reasonin = 0"));
    assert_eq!(misspelt.len(), 2, "{misspelt:#?}");
    assert!(misspelt
        .iter()
        .any(|p| p.contains("did you mean `reasoning`?")));
    assert!(misspelt
        .iter()
        .any(|p| p.contains("no score for criterion `reasoning`")));
    let missing = bank(&CALIBRATION.replace("answer = \"Fail over immediately.\"\n", ""));
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert!(
        missing[0].starts_with("b/judge_calibration.toml:1: ")
            && missing[0].contains("no `answer`")
    );
    let twice = bank(&format!("{CALIBRATION}\n{CALIBRATION}"));
    assert_eq!(twice.len(), 1, "{twice:#?}");
    assert!(twice[0].contains("duplicate calibration id `cal-incident-1`"));
}
