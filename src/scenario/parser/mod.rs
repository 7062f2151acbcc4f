//! Tokens to a [`Scenario`].
//!
//! A hand-written recursive-descent parser over the lexer's tokens. The
//! grammar is in `scenarios/README.md`; each `parse_*` method handles one
//! of its rules: the file and its blocks in `blocks`, one-line statements
//! in `stmt`, conditions in `cond`, values and parameters in
//! `values`. Parameters are declared before use and substituted on the
//! spot, with `--set` overrides applied at the declaration, so the AST holds
//! only literal values and the interpreter never resolves a name.
//!
//! An error does not end the parse: the statement it is in is dropped and
//! parsing goes on at the next line (a block's first line is dropped, its
//! block still parsed, so that its `end` still closes it), as just's and
//! rustc's parsers recover, so that `check` reports every error of a file
//! at once. A line the lexer refused is passed over without a second
//! error. Only the limits that bound the parser's own work (nesting, the
//! bytes held) and `MAX_ERRORS` end it early.

mod blocks;
mod cond;
mod h2;
mod stmt;
mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub use h2::{MANUAL_WORDS as H2_MANUAL_WORDS, SETTING_NAMES as H2_SETTING_NAMES};
pub use values::{parse_duration, parse_number};

use super::ast::*;
use super::error::{Diagnostic, ErrorKind, Expected, STATEMENT_WORDS, Span};
use super::lexer::{Token, TokenKind, tokenize};
use super::limits::{MAX_ERRORS, MAX_HELD_BYTES, MAX_NESTING, MAX_SOURCE_BYTES};
use super::suggest::nearest;

/// Words that start a line and are no statement, for "did you mean".
const DECLARATION_WORDS: &[&str] = &["param", "accept", "on", "end", "else"];

/// Parse `source`, applying `overrides` (from `--set NAME=VALUE`) to the
/// parameters. An override that names no parameter is an error too. A
/// `file "…"` value is read relative to the current directory.
pub fn parse(source: &str, overrides: &BTreeMap<String, String>) -> Result<Scenario, Vec<Diagnostic>> {
    parse_in(source, overrides, None)
}

/// [`parse`], with a relative `file "…"` value read from `base` (the
/// directory of the scenario file); `None` is the current directory.
///
/// The errors come in the order of the text (those about a `--set` last),
/// at most `MAX_ERRORS` of them; when there were more, an
/// [`ErrorKind::TooManyErrors`] ends the list.
pub fn parse_in(
    source: &str,
    overrides: &BTreeMap<String, String>,
    base: Option<&Path>,
) -> Result<Scenario, Vec<Diagnostic>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(vec![Diagnostic::new(
            span_of_byte(source, MAX_SOURCE_BYTES),
            ErrorKind::SourceTooLarge,
        )]);
    }
    let lexed = tokenize(source);
    // Inserted one by one: `collect` into a set would compile one more copy
    // of the standard sort (see `crate::sort`).
    let mut invalid_lines = BTreeSet::new();
    for token in lexed.tokens.iter().filter(|t| t.kind == TokenKind::Invalid) {
        invalid_lines.insert(token.span.line);
    }
    let mut parser = Parser {
        tokens: lexed.tokens,
        pos: 0,
        tried: Vec::new(),
        tried_at: 0,
        errors: Vec::new(),
        invalid_lines,
        params: Vec::new(),
        broken_params: BTreeSet::new(),
        param_index: BTreeMap::new(),
        overrides,
        base,
        uses_headers: false,
        reads_head: false,
        reads_body: false,
        proxies: false,
        depth: 0,
        condition_terms: 0,
        held: 0,
        chance_sites: 0,
        handshakes: false,
        needs_tls: false,
        reads_tls_hello: false,
    };
    let scenario = parser.parse_file(source);
    for unknown in overrides.keys().filter(|name| !parser.param_index.contains_key(*name)) {
        let known: Vec<String> = scenario.params.iter().map(|p| p.name.clone()).collect();
        let suggestion = nearest(unknown, known.iter().map(String::as_str)).map(str::to_string);
        parser.errors.push(Diagnostic::new(
            Span::NOWHERE,
            ErrorKind::UnknownOverride {
                name: unknown.clone(),
                known,
                suggestion,
            },
        ));
    }
    let mut errors = lexed.errors;
    errors.append(&mut parser.errors);
    if errors.is_empty() {
        return Ok(scenario);
    }
    // Stable: two errors at one place keep the order they were found in.
    crate::sort::sort_by_key(&mut errors, |d| (d.span.line == 0, d.span.line, d.span.col));
    if errors.len() > MAX_ERRORS {
        errors.truncate(MAX_ERRORS);
        errors.push(Diagnostic::new(Span::NOWHERE, ErrorKind::TooManyErrors));
    }
    Err(errors)
}

/// Where the byte at `offset` of `source` is (the char that holds it).
fn span_of_byte(source: &str, offset: usize) -> Span {
    let mut start = offset.min(source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    let before = &source[..start];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Span {
        line: before.matches('\n').count() + 1,
        col: before[line_start..].chars().count() + 1,
        width: 1,
    }
}

/// Why a `parse_*` method gave up.
#[derive(Debug)]
enum Failure {
    /// This problem. The statement it is in is dropped; whoever parses
    /// statements notes it and goes on at the next line.
    Error(Diagnostic),
    /// A problem already told (a `$name` whose `param` line had an
    /// error): the statement is dropped, and nothing more is said.
    Told,
    /// The parse is over: a limit on the parser's own work was passed, or
    /// more than [`MAX_ERRORS`] errors were found. What stopped it is
    /// noted already.
    Stop,
}

impl From<Diagnostic> for Failure {
    fn from(diagnostic: Diagnostic) -> Failure {
        Failure::Error(diagnostic)
    }
}

/// What a `parse_*` method gives.
type Parsed<T> = Result<T, Failure>;

/// An error of `kind` at `span`.
fn fail<T>(span: Span, kind: ErrorKind) -> Parsed<T> {
    Err(Failure::Error(Diagnostic::new(span, kind)))
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    /// Keywords looked for at token `tried_at` and not found there: with
    /// the expected set, the candidates for "did you mean" (just keeps
    /// its expected tokens so).
    tried: Vec<&'static str>,
    tried_at: usize,
    /// The errors found so far, in the order they were found.
    errors: Vec<Diagnostic>,
    /// Lines the lexer refused: it reported them, and the parser does not
    /// again.
    invalid_lines: BTreeSet<usize>,
    /// Declared so far, in order; `param_index` finds them by name.
    params: Vec<Param>,
    /// Names whose `param` line had an error: a `$name` of one drops its
    /// statement without another error.
    broken_params: BTreeSet<String>,
    param_index: BTreeMap<String, usize>,
    overrides: &'a BTreeMap<String, String>,
    /// Where a relative `file "…"` is read from; `None`: the current directory.
    base: Option<&'a Path>,
    /// A `header` condition was seen.
    uses_headers: bool,
    /// A `read head` was seen, so a `read body` may follow.
    reads_head: bool,
    /// A `read body` was seen.
    reads_body: bool,
    /// A statement or condition needs an upstream.
    proxies: bool,
    /// Blocks open around the statement being parsed (see [`MAX_NESTING`]).
    depth: usize,
    /// Terms of the condition being parsed (see `MAX_CONDITION_TERMS`).
    condition_terms: usize,
    /// Bytes of strings held so far (see [`MAX_HELD_BYTES`]).
    held: usize,
    /// Places that draw by chance so far: the next one's site number.
    chance_sites: u32,
    /// A `tls handshake` was seen.
    handshakes: bool,
    /// A statement needs the TLS library.
    needs_tls: bool,
    /// A `read tls-hello` was seen.
    reads_tls_hello: bool,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    /// Take the token ahead, unless it ends the line: a value missing at
    /// the end of a line must leave the line's end for recovery to find.
    fn next(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if !matches!(token.kind, TokenKind::Newline | TokenKind::Eof) {
            self.pos += 1;
        }
        token
    }

    fn peek_word(&self) -> Option<&str> {
        match &self.peek().kind {
            TokenKind::Word(w) => Some(w),
            _ => None,
        }
    }

    fn eat_word(&mut self, word: &'static str) -> bool {
        if self.peek_word() == Some(word) {
            self.pos += 1;
            true
        } else {
            self.tried(&[word]);
            false
        }
    }

    /// Remember that `words` could have been here, for "did you mean".
    fn tried(&mut self, words: &[&'static str]) {
        if self.tried_at != self.pos {
            self.tried.clear();
            self.tried_at = self.pos;
        }
        self.tried.extend_from_slice(words);
    }

    fn unexpected(&self, expected: Expected) -> Failure {
        let token = self.peek();
        let tried: &[&str] = if self.tried_at == self.pos { &self.tried } else { &[] };
        let suggestion = match &token.kind {
            TokenKind::Word(word) => {
                let keyword = match expected {
                    Expected::Word(keyword) => Some(keyword),
                    _ => None,
                };
                nearest(
                    word,
                    keyword.into_iter().chain(expected.words().iter().chain(tried).copied()),
                )
            }
            _ => None,
        };
        Failure::Error(Diagnostic::new(
            token.span,
            ErrorKind::UnexpectedToken {
                expected,
                found: token.kind.found(),
                suggestion,
            },
        ))
    }

    /// A line that starts with `word`, which is no statement's.
    fn unknown_statement(&self, word: String, at: Span) -> Failure {
        let suggestion = nearest(&word, STATEMENT_WORDS.iter().chain(DECLARATION_WORDS).copied());
        Failure::Error(Diagnostic::new(at, ErrorKind::UnknownStatement { word, suggestion }))
    }

    fn expect_word(&mut self, word: &'static str) -> Parsed<Span> {
        if self.peek_word() == Some(word) {
            Ok(self.next().span)
        } else {
            Err(self.unexpected(Expected::Word(word)))
        }
    }

    fn expect_line_end(&mut self) -> Parsed<()> {
        match self.peek().kind {
            TokenKind::Newline => {
                self.pos += 1;
                Ok(())
            }
            TokenKind::Eof => Ok(()),
            _ => Err(self.unexpected(Expected::LineEnd)),
        }
    }

    /// Note `failure` and go on where the parser is: the error's statement
    /// is over, or was dropped. [`Failure::Stop`] when the parse must end.
    fn note(&mut self, failure: Failure) -> Parsed<()> {
        let diagnostic = match failure {
            Failure::Error(diagnostic) => diagnostic,
            Failure::Told => return Ok(()),
            Failure::Stop => return Err(Failure::Stop),
        };
        let stops = diagnostic.kind.stops_parsing();
        if !stops && self.invalid_lines.contains(&diagnostic.span.line) {
            // The lexer told about this line already.
            return Ok(());
        }
        self.errors.push(diagnostic);
        if stops || self.errors.len() > MAX_ERRORS {
            return Err(Failure::Stop);
        }
        Ok(())
    }

    /// Note an error of `kind` at `span` found after its line was read:
    /// the parse goes on where it is.
    fn tell(&mut self, span: Span, kind: ErrorKind) -> Parsed<()> {
        self.note(Failure::Error(Diagnostic::new(span, kind)))
    }

    /// Note `failure` and go on at the next line.
    fn recover(&mut self, failure: Failure) -> Parsed<()> {
        self.note(failure)?;
        while !matches!(self.peek().kind, TokenKind::Newline | TokenKind::Eof) {
            self.pos += 1;
        }
        self.expect_line_end()
    }

    /// Enter a block opened at `opener`; [`Parser::leave`] when it is done.
    fn enter(&mut self, opener: Span, keyword: &'static str) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return fail(
                opener,
                ErrorKind::NestedTooDeep {
                    keyword,
                    depth: self.depth,
                },
            );
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Count `bytes` more as held in memory, or say where the limit is hit.
    fn hold(&mut self, bytes: usize, at: Span) -> Parsed<()> {
        self.held = self.held.saturating_add(bytes);
        if self.held > MAX_HELD_BYTES {
            return fail(at, ErrorKind::HeldTooMuch);
        }
        Ok(())
    }

    fn skip_blank_lines(&mut self) {
        while self.peek().kind == TokenKind::Newline {
            self.pos += 1;
        }
    }
}
