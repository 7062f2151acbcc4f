//! The scenario language: the script every connection runs.
//!
//! Source text goes through `lexer` (tokens with line and column) and
//! [`parser`] (tokens to the [`ast`]), with `--set` overrides applied while
//! parsing. [`catalog`] holds the built-in scenarios, embedded in the binary
//! so that it needs no files next to it. The language reference, with an
//! example of every statement, is `scenarios/README.md`.

pub mod ast;
pub mod catalog;
pub mod error;
pub(crate) mod lexer;
pub(crate) mod limits;
pub(crate) mod lint;
pub mod parser;
pub(crate) mod respond;
pub(crate) mod suggest;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use ast::Scenario;
pub use error::ScenarioError;

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// Neither a built-in name nor a readable file.
    NotFound {
        /// The name or path as the user gave it.
        name: String,
        /// Why the file could not be read; `None` when a bare name is
        /// neither a built-in nor a file.
        io: Option<std::io::Error>,
    },
    /// The path is a directory.
    Directory {
        /// The path as the user gave it.
        name: String,
    },
    /// The path is a FIFO or a socket (`what`), which has no end to read to.
    NotAFile {
        /// The path as the user gave it.
        name: String,
        /// "a FIFO" or "a socket", as the message says it.
        what: String,
    },
    /// The file is larger than `limits::MAX_SOURCE_BYTES`.
    TooLarge {
        /// The path as the user gave it.
        name: String,
    },
    /// The text does not parse, or a `--set` does not fit.
    Invalid(ScenarioError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound { name, io: None } => {
                write!(
                    f,
                    "unknown scenario `{name}`: not a built-in (see `hangup list`) and no such file"
                )?;
                match catalog::nearest(name) {
                    Some(near) => write!(f, "; did you mean `{near}`?"),
                    None => Ok(()),
                }
            }
            LoadError::NotFound { name, io: Some(e) } => write!(f, "cannot read scenario file {name}: {e}"),
            LoadError::Directory { name } => {
                write!(f, "cannot read scenario file {name}: it is a directory, not a file")
            }
            LoadError::NotAFile { name, what } => {
                write!(f, "cannot read scenario file {name}: it is {what}, not a regular file")
            }
            LoadError::TooLarge { name } => write!(
                f,
                "cannot read scenario file {name}: it is over the limit of {} ({} bytes) for a scenario",
                crate::units::binary_size(limits::MAX_SOURCE_BYTES as u64),
                limits::MAX_SOURCE_BYTES
            ),
            LoadError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// The text of the first comment line: a scenario's one-line summary.
pub fn summary_of(source: &str) -> &str {
    source
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix('#'))
        .map_or("", str::trim)
}

/// Parse `source` as the scenario called `name` (shown in errors). `name`
/// is taken as the path it was read from: a relative `file "…"` is read
/// from its directory (for a bare name, the current directory).
pub fn parse_named(name: &str, source: &str, overrides: &BTreeMap<String, String>) -> Result<Scenario, ScenarioError> {
    parse_in(name, source, overrides, Path::new(name).parent())
}

/// Parse `source` as the scenario called `name` (shown in errors), with a
/// relative `file "…"` read from `dir`, the directory of the scenario file
/// (`None`: the current directory, as for a built-in).
pub fn parse_in(
    name: &str,
    source: &str,
    overrides: &BTreeMap<String, String>,
    dir: Option<&Path>,
) -> Result<Scenario, ScenarioError> {
    let mut scenario = parser::parse_in(source, overrides, dir).map_err(|d| ScenarioError::new(name, source, d))?;
    scenario.name = name.to_string();
    Ok(scenario)
}

/// True when `name_or_path` is read as a file: it has a `/`, ends in
/// `.hup`, or is no built-in's name. Otherwise it is the built-in.
pub fn names_a_file(name_or_path: &OsStr) -> bool {
    let bytes = name_or_path.as_bytes();
    let builtin = name_or_path.to_str().and_then(catalog::source).is_some();
    !builtin || bytes.contains(&b'/') || bytes.ends_with(b".hup")
}

/// True when `name` runs a built-in although a file of that name exists
/// (in the current directory): worth a note, since the file is not read.
pub fn shadows_a_file(name: &OsStr) -> bool {
    !names_a_file(name) && std::path::Path::new(name).exists()
}

/// Load a built-in scenario by name, or a scenario file by path (which
/// one: [`names_a_file`]). A path is bytes and need not be UTF-8.
pub fn load(name_or_path: &OsStr, overrides: &BTreeMap<String, String>) -> Result<Scenario, LoadError> {
    let shown = name_or_path.to_string_lossy().into_owned();
    if !names_a_file(name_or_path)
        && let Some(source) = catalog::source(&shown)
    {
        return parse_in(&shown, source, overrides, None).map_err(LoadError::Invalid);
    }
    let looks_like_path = name_or_path.as_bytes().contains(&b'/') || name_or_path.as_bytes().ends_with(b".hup");
    let name = shown.clone();
    let bytes = match read_limited(Path::new(name_or_path)) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(LoadError::TooLarge { name }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !looks_like_path => {
            return Err(LoadError::NotFound { name, io: None });
        }
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => return Err(LoadError::Directory { name }),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(LoadError::NotAFile {
                name,
                what: e.to_string(),
            });
        }
        Err(e) => return Err(LoadError::NotFound { name, io: Some(e) }),
    };
    match String::from_utf8(bytes) {
        // The real path, not the lossy `shown`: its `file "…"`s sit beside it.
        Ok(source) => {
            parse_in(&shown, &source, overrides, Path::new(name_or_path).parent()).map_err(LoadError::Invalid)
        }
        Err(e) => {
            // Say where, with the line shown as well as it can be.
            let valid = e.utf8_error().valid_up_to();
            let source = String::from_utf8_lossy(e.as_bytes());
            // The lossy text keeps the valid prefix as it is.
            let valid_text = &source[..valid];
            let line = valid_text.matches('\n').count() + 1;
            let col = valid_text[valid_text.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count()
                + 1;
            let diagnostic = error::Diagnostic::new(error::Span { line, col, width: 1 }, error::ErrorKind::NotUtf8);
            Err(LoadError::Invalid(ScenarioError::new(
                &shown,
                &source,
                vec![diagnostic],
            )))
        }
    }
}

/// The file's bytes, or `None` when it is over the size limit; reads at
/// most one byte more than the limit (a device may never end). Opened
/// without blocking, so that a FIFO with no writer is refused at once
/// (`InvalidInput`, as a socket is) instead of hanging in `open`.
pub(crate) fn read_limited(path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_dir() {
        return Err(std::io::ErrorKind::IsADirectory.into());
    }
    if kind.is_fifo() || kind.is_socket() {
        let what = if kind.is_fifo() { "a FIFO" } else { "a socket" };
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, what));
    }
    let mut bytes = Vec::new();
    file.take(limits::MAX_SOURCE_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= limits::MAX_SOURCE_BYTES).then_some(bytes))
}

#[cfg(test)]
mod tests;
