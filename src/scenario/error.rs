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
        let (shown, col) = window(&self.source_line, span.col);
        let width = span.width.clamp(1, SHOWN_CHARS);
        writeln!(f, "{} |", " ".repeat(gutter.len()))?;
        writeln!(f, "{} | {}", gutter, shown)?;
        write!(
            f,
            "{} | {}{}",
            " ".repeat(gutter.len()),
            " ".repeat(col.saturating_sub(1)),
            "^".repeat(width)
        )
    }
}

/// Characters of the offending line shown at most: a line of a megabyte
/// is shown around the column, not whole.
const SHOWN_CHARS: usize = 100;

/// The part of `line` to show around `col`, and the column in that part.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SHOWN_CHARS {
        return (line.to_string(), col);
    }
    let first = col.saturating_sub(SHOWN_CHARS / 2).min(chars.len() - SHOWN_CHARS);
    let last = first + SHOWN_CHARS;
    let mut shown = String::new();
    if first > 0 {
        shown.push('…');
    }
    shown.extend(&chars[first..last]);
    if last < chars.len() {
        shown.push('…');
    }
    (shown, col - first + usize::from(first > 0))
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_shown_around_the_column() {
        let line = format!("write \"{}\" @", "x".repeat(300));
        let error = ScenarioError::new(
            "long.hup",
            &line,
            Diagnostic::new(
                Span {
                    line: 1,
                    col: 310,
                    width: 1,
                },
                "unexpected character `@`",
            ),
        );
        let shown = error.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[2], format!("1 | …{}\" @", "x".repeat(97)));
        // The caret is still under the `@`.
        assert_eq!(lines[3].find('^'), lines[2].char_indices().position(|(_, c)| c == '@'));
        let short = ScenarioError::new(
            "s.hup",
            "reset @",
            Diagnostic::new(
                Span {
                    line: 1,
                    col: 7,
                    width: 1,
                },
                "x",
            ),
        );
        assert_eq!(short.to_string(), "s.hup:1:7: x\n  |\n1 | reset @\n  |       ^");
    }
}
