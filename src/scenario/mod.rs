//! The scenario language: the script every connection runs.
//!
//! Source text goes through [`lexer`] (tokens with line and column) and
//! [`parser`] (tokens to the [`ast`]), with `--set` overrides applied while
//! parsing. [`catalog`] holds the built-in scenarios, embedded in the binary
//! so that it needs no files next to it. The language reference, with an
//! example of every statement, is `scenarios/README.md`.

pub mod ast;
pub mod catalog;
pub mod error;
pub mod lexer;
pub mod limits;
pub mod parser;
pub mod respond;

use std::collections::BTreeMap;

pub use ast::Scenario;
pub use error::ScenarioError;

/// Why a scenario could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// Neither a built-in name nor a readable file.
    NotFound { name: String, io: Option<std::io::Error> },
    /// The text does not parse, or a `--set` does not fit.
    Invalid(ScenarioError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound { name, io: None } => write!(
                f,
                "unknown scenario `{name}`: not a built-in (see `hangup list`) and no such file"
            ),
            LoadError::NotFound { name, io: Some(e) } => write!(f, "cannot read scenario file {name}: {e}"),
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

/// Parse `source` as the scenario called `name` (shown in errors).
pub fn parse_named(name: &str, source: &str, overrides: &BTreeMap<String, String>) -> Result<Scenario, ScenarioError> {
    let mut scenario = parser::parse(source, overrides).map_err(|d| ScenarioError::new(name, source, d))?;
    scenario.name = name.to_string();
    Ok(scenario)
}

/// Load a built-in scenario by name, or a scenario file by path. A name
/// that looks like a path (it has a `/` or ends in `.hup`) is always a file.
pub fn load(name_or_path: &str, overrides: &BTreeMap<String, String>) -> Result<Scenario, LoadError> {
    let looks_like_path = name_or_path.contains('/') || name_or_path.ends_with(".hup");
    if let Some(source) = catalog::source(name_or_path).filter(|_| !looks_like_path) {
        return parse_named(name_or_path, source, overrides).map_err(LoadError::Invalid);
    }
    match std::fs::read_to_string(name_or_path) {
        Ok(source) => parse_named(name_or_path, &source, overrides).map_err(LoadError::Invalid),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !looks_like_path => Err(LoadError::NotFound {
            name: name_or_path.to_string(),
            io: None,
        }),
        Err(e) => Err(LoadError::NotFound {
            name: name_or_path.to_string(),
            io: Some(e),
        }),
    }
}

#[cfg(test)]
mod tests;
