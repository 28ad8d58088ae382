//! Valid banks: multi-file loading, defaults, materials files, JSONL, and the
//! same bank read from disk with `load_dir`.

use std::fs;
use yardstick_bank::{load_dir, load_files, SourceFile};
use yardstick_core::{Dimension, GraderSpec, NumberPick};

fn src(path: &str, contents: &str) -> SourceFile {
    SourceFile {
        path: path.into(),
        contents: contents.into(),
    }
}

const GROUNDING: &str = r#"# Items about the ledger document.
[defaults]
dimension = "grounding"
tags = ["starter"]
cluster = "doc-ledger"
materials_file = "docs/ledger.md"

[[items]]
id = "grounding-ledger-1"
prompt = """How many entries? Answer with only the number."""
references = ["12"]
grader = { type = "numeric", tolerance = 0.5 }

[[items]]
id = "grounding-ledger-2"
prompt = "Who signed? Answer with only the name."
tags = ["own-tag"]
cluster = "other"
materials = "inline material"
references = ["Ada"]
grader = { type = "exact" }

[[items]]
id = "grounding-ledger-3"
dimension = "integrity"
prompt = "Quote the paragraph."
materials_file = "../shared/notes.md"
grader = { type = "regex", patterns = ['\[P1\]'] }
"#;

const JUDGMENT_JSONL: &str = concat!(
    "{\"id\":\"judgment-rank-1\",\"dimension\":\"judgment\",\"prompt\":\"Rank A, B, C.\",\"references\":[\"B > A > C\"],\"grader\":{\"type\":\"ranking\",\"order\":[\"B\",\"A\",\"C\"]},\"tags\":[\"jsonl\"]}\n",
    "\r\n",
    "{\"id\":\"judgment-json-2\",\"dimension\":\"communication\",\"prompt\":\"JSON please.\",\"system\":null,\"materials_file\":\"docs/ledger.md\",\"grader\":{\"type\":\"json_fields\",\"fields\":[{\"path\":\"a.0\",\"equals\":1},{\"path\":\"b\"}]}}\n",
);

fn bank_files() -> Vec<SourceFile> {
    vec![
        src("bank/judgment.jsonl", JUDGMENT_JSONL),
        src("bank/grounding.toml", GROUNDING),
        src("bank/docs/ledger.md", "[P1] The ledger has 12 entries."),
        src("shared/notes.md", "[P1] Notes."),
        src(
            "bank/code/exec.toml",
            "[[items]]\nid = \"code-1\"\ndimension = \"code_execution\"\nprompt = \"print(1)\"\nreferences = [\"1\"]\ngrader = { type = \"exact\", case_sensitive = true }\n",
        ),
    ]
}

#[test]
fn a_multi_file_bank_loads_in_file_order() {
    let bank = load_files(&bank_files()).unwrap();
    let ids: Vec<&str> = bank.iter().map(|b| b.item.id.as_str()).collect();
    // Files sorted by path, items in file order.
    assert_eq!(
        ids,
        [
            "code-1",
            "grounding-ledger-1",
            "grounding-ledger-2",
            "grounding-ledger-3",
            "judgment-rank-1",
            "judgment-json-2",
        ]
    );
    assert_eq!(bank.len(), 6);
    assert!(!bank.is_empty());
    let locs: Vec<String> = bank.iter().map(|b| b.source.to_string()).collect();
    assert_eq!(
        locs,
        [
            "bank/code/exec.toml:1",
            "bank/grounding.toml:8",
            "bank/grounding.toml:14",
            "bank/grounding.toml:23",
            "bank/judgment.jsonl:1",
            "bank/judgment.jsonl:3",
        ]
    );
}

#[test]
fn defaults_apply_only_where_the_item_is_silent() {
    let bank = load_files(&bank_files()).unwrap();
    let first = &bank.get("grounding-ledger-1").unwrap().item;
    assert_eq!(first.dimension, Dimension::Grounding);
    assert_eq!(first.tags, ["starter"]);
    assert_eq!(first.cluster.as_deref(), Some("doc-ledger"));
    assert_eq!(
        first.materials.as_deref(),
        Some("[P1] The ledger has 12 entries.")
    );
    assert_eq!(
        first.grader,
        GraderSpec::Numeric {
            tolerance: 0.5,
            relative: 0.0,
            pick: NumberPick::Last
        }
    );

    let second = &bank.get("grounding-ledger-2").unwrap().item;
    assert_eq!(second.tags, ["own-tag"]);
    assert_eq!(second.cluster.as_deref(), Some("other"));
    // Inline materials on the item replace the default materials_file.
    assert_eq!(second.materials.as_deref(), Some("inline material"));
    assert_eq!(
        second.grader,
        GraderSpec::Exact {
            case_sensitive: false
        }
    );

    let third = &bank.get("grounding-ledger-3").unwrap().item;
    assert_eq!(third.dimension, Dimension::Integrity);
    // `..` leaves the bank directory but stays among the given files.
    assert_eq!(third.materials.as_deref(), Some("[P1] Notes."));
    assert!(third.references.is_empty());
}

#[test]
fn jsonl_items_load_with_their_line_numbers() {
    let bank = load_files(&bank_files()).unwrap();
    let rank = bank.get("judgment-rank-1").unwrap();
    assert_eq!(rank.item.tags, ["jsonl"]);
    assert_eq!(rank.item.references, ["B > A > C"]);
    let json = bank.get("judgment-json-2").unwrap();
    assert_eq!(json.source.line, 3);
    assert_eq!(json.item.system, None);
    assert_eq!(
        json.item.materials.as_deref(),
        Some("[P1] The ledger has 12 entries.")
    );
    let GraderSpec::JsonFields { fields } = &json.item.grader else {
        panic!("json_fields grader expected")
    };
    assert_eq!(fields[0].path, "a.0");
    assert_eq!(fields[0].equals, Some(serde_json::json!(1)));
    assert_eq!(fields[1].equals, None);
}

#[test]
fn an_item_serialised_as_json_loads_back_unchanged() {
    let bank = load_files(&bank_files()).unwrap();
    let original = &bank.get("grounding-ledger-1").unwrap().item;
    let line = serde_json::to_string(original).unwrap();
    let again = load_files(&[src("x/one.jsonl", &line)]).unwrap();
    assert_eq!(&again.items[0].item, original);
    assert_eq!(again.items[0].item.version(), original.version());
}

#[test]
fn by_dimension_lists_every_dimension() {
    let bank = load_files(&bank_files()).unwrap();
    let groups = bank.by_dimension();
    assert_eq!(groups.len(), 5);
    let counts: Vec<(Dimension, usize)> = groups.iter().map(|(d, v)| (*d, v.len())).collect();
    assert_eq!(
        counts,
        [
            (Dimension::CodeExecution, 1),
            (Dimension::Grounding, 2),
            (Dimension::Judgment, 1),
            (Dimension::Communication, 1),
            (Dimension::Integrity, 1),
        ]
    );
    assert!(bank.get("nope").is_none());
}

#[test]
fn load_dir_reads_the_same_bank_from_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bank");
    fs::create_dir_all(root.join("docs")).unwrap();
    fs::create_dir_all(root.join(".hidden")).unwrap();
    fs::write(
        root.join("grounding.toml"),
        GROUNDING.replace("../shared/notes.md", "docs/notes.md"),
    )
    .unwrap();
    fs::write(
        root.join("docs/ledger.md"),
        "[P1] The ledger has 12 entries.",
    )
    .unwrap();
    fs::write(root.join("docs/notes.md"), "[P1] Notes.").unwrap();
    fs::write(root.join("judgment.jsonl"), JUDGMENT_JSONL).unwrap();
    // Hidden directories are not part of the bank.
    fs::write(root.join(".hidden/broken.toml"), "not toml [").unwrap();

    let bank = load_dir(&root).unwrap();
    assert_eq!(bank.len(), 5);
    let shown = root.to_string_lossy().replace('\\', "/");
    let g = bank.get("grounding-ledger-1").unwrap();
    assert_eq!(g.source.file, format!("{shown}/grounding.toml"));
    assert_eq!(
        g.item.materials.as_deref(),
        Some("[P1] The ledger has 12 entries.")
    );
    assert_eq!(
        bank.get("grounding-ledger-3")
            .unwrap()
            .item
            .materials
            .as_deref(),
        Some("[P1] Notes.")
    );
}

#[test]
fn load_dir_reports_problems_with_paths_under_the_dir_as_given() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bank");
    fs::create_dir_all(&root).unwrap();
    fs::write(tmp.path().join("outside.md"), "outside").unwrap();
    fs::write(
        root.join("a.toml"),
        "[[items]]\nid = \"a\"\ndimension = \"grounding\"\nprompt = \"x\"\nmaterials_file = \"../outside.md\"\ngrader = { type = \"regex\", patterns = [\"x\"] }\n",
    )
    .unwrap();
    let errors = load_dir(&root).unwrap_err();
    let shown = root.to_string_lossy().replace('\\', "/");
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors[0];
    assert_eq!(e.file, format!("{shown}/a.toml"));
    assert_eq!(e.line, 5);
    // Only files inside the bank directory can be referenced, as in the
    // embedded bank.
    assert!(e.message.contains("not found"), "{}", e.message);
}

#[test]
fn load_dir_on_a_missing_directory_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-bank");
    let errors = load_dir(&missing).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.errors[0].line, 0);
    assert!(errors.errors[0]
        .message
        .contains("cannot read the bank directory"));
}
