//! Scenario errors: what is wrong ([`ErrorKind`]) and where ([`Span`]).
//!
//! The lexer and parser produce [`Diagnostic`]s that know only positions;
//! [`ScenarioError`] adds the file name and source so that it can print
//! each offending line with a caret under the column, the way rustc does.
//! A file's errors are all reported at once, up to
//! `limits::MAX_ERRORS`.

mod expected;
mod kind;

use std::fmt;

pub use expected::{Expected, Found, STATEMENT_WORDS};
pub use kind::{ErrorKind, FileProblem, OddsForm};

/// Where in the source something is: 1-based line and column (in
/// characters), and its width in characters for the caret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// 1-based line; 0 when the problem is not in the text (a `--set`).
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Characters under the caret.
    pub width: usize,
}

impl Span {
    /// No place in the text: the problem is a `--set`'s, or the file's.
    pub const NOWHERE: Span = Span {
        line: 0,
        col: 0,
        width: 0,
    };
}

/// A problem found in a scenario, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub span: Span,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl Diagnostic {
    /// A problem of `kind` at `span`.
    pub fn new(span: Span, kind: ErrorKind) -> Diagnostic {
        Diagnostic { span, kind }
    }

    /// What is wrong, in words for the user.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// One problem with the text of the line it is on.
#[derive(Debug, Clone)]
pub struct Located {
    /// What is wrong and where.
    pub diagnostic: Diagnostic,
    /// The text of the offending line, for the caret display.
    pub source_line: String,
}

/// The problems found in a scenario, ready to show a user.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    /// The scenario's name or path as the user gave it, for the headlines.
    pub file: String,
    /// Every problem, in the order of the text; never empty.
    pub problems: Vec<Located>,
}

impl ScenarioError {
    /// Name the file, and keep the offending lines of `source` to show.
    pub fn new(file: &str, source: &str, diagnostics: Vec<Diagnostic>) -> ScenarioError {
        let problems = diagnostics
            .into_iter()
            .map(|diagnostic| Located {
                source_line: source
                    .lines()
                    .nth(diagnostic.span.line.saturating_sub(1))
                    .unwrap_or("")
                    .to_string(),
                diagnostic,
            })
            .collect();
        ScenarioError {
            file: file.to_string(),
            problems,
        }
    }

    /// The first problem in the text.
    pub fn first(&self) -> &Diagnostic {
        &self.problems[0].diagnostic
    }

    /// Every problem, in the order of the text.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.problems.iter().map(|p| &p.diagnostic)
    }
}

impl Located {
    /// `FILE:LINE:COL: message`, the first line of the display.
    fn headline(&self, file: &str) -> String {
        let span = self.diagnostic.span;
        // A message quoting a character of the source (a BOM) shows it
        // escaped too.
        let message: String = self.diagnostic.message().chars().map(printed).collect();
        if span.line == 0 {
            // Not about the text (a `--set` that does not fit): no position.
            return format!("{file}: {message}");
        }
        format!("{file}:{}:{}: {message}", span.line, span.col)
    }

    /// The headline, then the line with a caret under the column.
    fn show(&self, file: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = self.diagnostic.span;
        write!(f, "{}", self.headline(file))?;
        if span.line == 0 {
            return Ok(());
        }
        writeln!(f)?;
        let gutter = span.line.to_string();
        let (shown, col, width) = window(&self.source_line, span.col, span.width.clamp(1, SHOWN_CHARS));
        writeln!(f, "{} |", " ".repeat(gutter.len()))?;
        writeln!(f, "{} | {}", gutter, shown)?;
        write!(
            f,
            "{} | {}{}",
            " ".repeat(gutter.len()),
            " ".repeat(col.saturating_sub(1)),
            "^".repeat(width.max(1))
        )
    }
}

impl fmt::Display for ScenarioError {
    /// Each problem as rustc shows one, a blank line between them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                write!(f, "\n\n")?;
            }
            problem.show(&self.file, f)?;
        }
        Ok(())
    }
}

/// Characters of the offending line shown at most: a line of a megabyte
/// is shown around the column, not whole.
const SHOWN_CHARS: usize = 100;

/// How `c` is printed in an excerpt: control characters (escape
/// sequences, CR, tabs) and invisible format characters (a BOM, bidi
/// overrides) escaped, so that a scenario cannot act on the terminal and
/// every character takes the columns it is printed in.
fn printed(c: char) -> String {
    let invisible =
        matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}');
    if c.is_control() {
        c.escape_debug().to_string()
    } else if invisible {
        c.escape_unicode().to_string()
    } else {
        c.to_string()
    }
}

/// The part of `line` to show around `col` (escaped), and the column and
/// width of the caret in what is shown.
fn window(line: &str, col: usize, width: usize) -> (String, usize, usize) {
    let chars: Vec<char> = line.chars().collect();
    let (first, last) = if chars.len() <= SHOWN_CHARS {
        (0, chars.len())
    } else {
        let first = col.saturating_sub(SHOWN_CHARS / 2).min(chars.len() - SHOWN_CHARS);
        (first, first + SHOWN_CHARS)
    };
    let mut shown = String::new();
    let mut shown_chars = 0;
    let (mut caret_col, mut caret_width) = (None, 0);
    if first > 0 {
        shown.push('…');
        shown_chars += 1;
    }
    for (index, &c) in chars.iter().enumerate().take(last).skip(first) {
        let text = printed(c);
        let len = text.chars().count();
        // `col` is 1-based; the caret covers `width` characters from it.
        if index + 1 == col {
            caret_col = Some(shown_chars + 1);
        }
        if index + 1 >= col && index + 1 < col + width {
            caret_width += len;
        }
        shown.push_str(&text);
        shown_chars += len;
    }
    if last < chars.len() {
        shown.push('…');
    }
    // A column past the end of the line (an error at its end) points just
    // after what is shown.
    let caret_col = caret_col.unwrap_or(shown_chars + 1 + col.saturating_sub(last + 1));
    (shown, caret_col, caret_width.max(width.min(1)))
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
            vec![Diagnostic::new(
                Span {
                    line: 1,
                    col: 310,
                    width: 1,
                },
                ErrorKind::UnexpectedChar('@'),
            )],
        );
        let shown = error.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[2], format!("1 | …{}\" @", "x".repeat(97)));
        // The caret is still under the `@`.
        assert_eq!(lines[3].find('^'), lines[2].char_indices().position(|(_, c)| c == '@'));
        let short = ScenarioError::new(
            "s.hup",
            "reset @",
            vec![Diagnostic::new(
                Span {
                    line: 1,
                    col: 7,
                    width: 1,
                },
                ErrorKind::UnexpectedChar('@'),
            )],
        );
        assert_eq!(
            short.to_string(),
            "s.hup:1:7: unexpected character `@`\n  |\n1 | reset @\n  |       ^"
        );
    }

    #[test]
    fn control_and_invisible_characters_are_escaped_and_the_caret_follows() {
        let error = |line: &str, col| {
            let m = ErrorKind::ElseWithoutIf;
            ScenarioError::new("e.hup", line, vec![Diagnostic::new(Span { line: 1, col, width: 1 }, m)]).to_string()
        };
        // A tab before the column: the caret still sits under the `@`.
        assert_eq!(
            error("\treset @", 8),
            "e.hup:1:8: `else` without an `if`\n  |\n1 | \\treset @\n  |         ^"
        );
        // An escape sequence never reaches the terminal.
        let shown = error("write \u{1b}]0;pwned\u{7} @", 18);
        assert!(!shown.contains('\u{1b}') && shown.contains("\\u{1b}"), "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[3].find('^'), lines[2].find('@'));
        // A CR and a BOM are shown, and so is the caret under them.
        assert_eq!(
            error("a\rb", 2),
            "e.hup:1:2: `else` without an `if`\n  |\n1 | a\\rb\n  |  ^^"
        );
        assert_eq!(
            error("\u{feff}x", 1),
            "e.hup:1:1: `else` without an `if`\n  |\n1 | \\u{feff}x\n  | ^^^^^^^^"
        );
    }
}
