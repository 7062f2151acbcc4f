//! Scenario errors: a message with the line and column it is about.
//!
//! The lexer and parser produce a [`Diagnostic`] that knows only positions;
//! [`ScenarioError`] adds the file name and source so that it can print the
//! offending line with a caret under the column, the way rustc does.

use std::fmt;

/// Where in the source something is: 1-based line and column (in
/// characters), and its width in characters for the caret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub col: usize,
    pub width: usize,
}

/// A problem found in a scenario, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
        }
    }
}

/// A problem found in a scenario, ready to show a user.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    pub file: String,
    pub diagnostic: Diagnostic,
    /// The text of the offending line, for the caret display.
    pub source_line: String,
}

impl ScenarioError {
    pub fn new(file: &str, source: &str, diagnostic: Diagnostic) -> ScenarioError {
        let source_line = source
            .lines()
            .nth(diagnostic.span.line.saturating_sub(1))
            .unwrap_or("")
            .to_string();
        ScenarioError {
            file: file.to_string(),
            diagnostic,
            source_line,
        }
    }

    /// `FILE:LINE:COL: message`, the first line of the display.
    pub fn headline(&self) -> String {
        let span = self.diagnostic.span;
        if span.line == 0 {
            // Not about the text (a `--set` that does not fit): no position.
            return format!("{}: {}", self.file, self.diagnostic.message);
        }
        format!("{}:{}:{}: {}", self.file, span.line, span.col, self.diagnostic.message)
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = self.diagnostic.span;
        write!(f, "{}", self.headline())?;
        if span.line == 0 {
            return Ok(());
        }
        writeln!(f)?;
        let gutter = span.line.to_string();
        writeln!(f, "{} |", " ".repeat(gutter.len()))?;
        writeln!(f, "{} | {}", gutter, self.source_line)?;
        write!(
            f,
            "{} | {}{}",
            " ".repeat(gutter.len()),
            " ".repeat(span.col.saturating_sub(1)),
            "^".repeat(span.width.max(1))
        )
    }
}

impl std::error::Error for ScenarioError {}
