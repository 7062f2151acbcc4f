//! Tokens to a [`Scenario`].
//!
//! A hand-written recursive-descent parser over the lexer's tokens. The
//! grammar is in `scenarios/README.md`; each `parse_*` method below handles
//! one of its rules; conditions are in [`cond`], values and parameters in
//! [`values`]. Parameters are declared before use and substituted on the
//! spot, with `--set` overrides applied at the declaration, so the AST holds
//! only literal values and the interpreter never resolves a name.

mod cond;
mod values;

use std::collections::BTreeMap;
use std::path::Path;

pub use values::{parse_duration, parse_number};

use super::ast::*;
use super::error::{Diagnostic, ErrorKind, Expected, Span};
use super::lexer::{Token, TokenKind, tokenize};
use super::limits::{MAX_HELD_BYTES, MAX_NESTING, MAX_PAYLOAD_BYTES, MAX_SOURCE_BYTES};
use crate::http::{BadRequest, default_refusal};
use values::decode_hex;

/// Parse `source`, applying `overrides` (from `--set NAME=VALUE`) to the
/// parameters. An override that names no parameter is an error too. A
/// `file "…"` value is read relative to the current directory.
pub fn parse(source: &str, overrides: &BTreeMap<String, String>) -> Result<Scenario, Diagnostic> {
    parse_in(source, overrides, None)
}

/// [`parse`], with a relative `file "…"` value read from `base` (the
/// directory of the scenario file); `None` is the current directory.
pub fn parse_in(
    source: &str,
    overrides: &BTreeMap<String, String>,
    base: Option<&Path>,
) -> Result<Scenario, Diagnostic> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(Diagnostic::new(
            span_of_byte(source, MAX_SOURCE_BYTES),
            ErrorKind::SourceTooLarge,
        ));
    }
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        params: Vec::new(),
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
    };
    let scenario = parser.parse_file(source)?;
    if let Some(unknown) = overrides.keys().find(|name| !parser.param_index.contains_key(*name)) {
        return Err(Diagnostic::new(
            Span::NOWHERE,
            ErrorKind::UnknownOverride {
                name: unknown.clone(),
                known: scenario.params.iter().map(|p| p.name.clone()).collect(),
                suggestion: None,
            },
        ));
    }
    Ok(scenario)
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

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    /// Declared so far, in order; `param_index` finds them by name.
    params: Vec<Param>,
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
    /// Terms of the condition being parsed (see [`MAX_CONDITION_TERMS`]).
    condition_terms: usize,
    /// Bytes of strings held so far (see [`MAX_HELD_BYTES`]).
    held: usize,
    /// Places that draw by chance so far: the next one's site number.
    chance_sites: u32,
}

/// What stopped a block: its `end`, or an `else` of an `if`.
enum BlockEnd {
    End,
    Else(Span),
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if token.kind != TokenKind::Eof {
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

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word() == Some(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: Expected) -> Diagnostic {
        let token = self.peek();
        Diagnostic::new(
            token.span,
            ErrorKind::UnexpectedToken {
                expected,
                found: token.kind.found(),
                suggestion: None,
            },
        )
    }

    fn expect_word(&mut self, word: &'static str) -> Result<Span, Diagnostic> {
        if self.peek_word() == Some(word) {
            Ok(self.next().span)
        } else {
            Err(self.unexpected(Expected::Word(word)))
        }
    }

    fn expect_line_end(&mut self) -> Result<(), Diagnostic> {
        match self.peek().kind {
            TokenKind::Newline => {
                self.pos += 1;
                Ok(())
            }
            TokenKind::Eof => Ok(()),
            _ => Err(self.unexpected(Expected::LineEnd)),
        }
    }

    /// Enter a block opened at `opener`; [`Parser::leave`] when it is done.
    fn enter(&mut self, opener: Span, keyword: &'static str) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Diagnostic::new(
                opener,
                ErrorKind::NestedTooDeep {
                    keyword,
                    depth: self.depth,
                },
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Count `bytes` more as held in memory, or say where the limit is hit.
    fn hold(&mut self, bytes: usize, at: Span) -> Result<(), Diagnostic> {
        self.held = self.held.saturating_add(bytes);
        if self.held > MAX_HELD_BYTES {
            return Err(Diagnostic::new(at, ErrorKind::HeldTooMuch));
        }
        Ok(())
    }

    fn skip_blank_lines(&mut self) {
        while self.peek().kind == TokenKind::Newline {
            self.pos += 1;
        }
    }

    fn parse_file(&mut self, source: &str) -> Result<Scenario, Diagnostic> {
        let mut body = Vec::new();
        let mut on_bad_request = None;
        let mut on_headers_too_large = None;
        let mut on_upstream_error = None;
        let mut accept_never: Option<Span> = None;
        loop {
            self.skip_blank_lines();
            if self.peek().kind == TokenKind::Eof {
                break;
            }
            match self.peek_word() {
                Some("param") => self.parse_param()?,
                Some("accept") => {
                    let span = self.next().span;
                    self.expect_word("never")?;
                    self.expect_line_end()?;
                    if accept_never.is_some() {
                        return Err(Diagnostic::new(span, ErrorKind::AcceptNeverTwice));
                    }
                    accept_never = Some(span);
                }
                Some("on") => {
                    let on = self.next().span;
                    let (which, span) = match self.peek_word() {
                        Some("bad-request") => (&mut on_bad_request, self.next().span),
                        Some("headers-too-large") => (&mut on_headers_too_large, self.next().span),
                        Some("upstream-error") => (&mut on_upstream_error, self.next().span),
                        _ => return Err(self.unexpected(Expected::Handler)),
                    };
                    if which.is_some() {
                        return Err(Diagnostic::new(span, ErrorKind::HandlerTwice));
                    }
                    self.expect_line_end()?;
                    let (body, end) = self.parse_block(on, "on")?;
                    if let BlockEnd::Else(span) = end {
                        return Err(Diagnostic::new(span, ErrorKind::ElseOutsideIf { block: "on" }));
                    }
                    *which = Some(body);
                }
                Some("end") => {
                    return Err(Diagnostic::new(self.peek().span, ErrorKind::EndWithoutBlock));
                }
                Some("else") => return Err(Diagnostic::new(self.peek().span, ErrorKind::ElseWithoutIf)),
                _ => {
                    if let Some(accept) = accept_never {
                        return Err(Diagnostic::new(
                            self.peek().span,
                            ErrorKind::StatementAfterAcceptNever {
                                accept_line: accept.line,
                            },
                        ));
                    }
                    let stmt = self.parse_stmt()?;
                    body.push(stmt);
                }
            }
        }
        if let (Some(accept), false) = (accept_never, body.is_empty()) {
            return Err(Diagnostic::new(accept, ErrorKind::AcceptNeverAfterStatements));
        }
        Ok(Scenario {
            name: String::new(),
            summary: super::summary_of(source).to_string(),
            params: std::mem::take(&mut self.params),
            body,
            on_chunk_extensions_too_large: on_bad_request
                .clone()
                .unwrap_or_else(|| node_refusal(&BadRequest::ChunkExtensionsTooLarge)),
            on_bad_request: on_bad_request.unwrap_or_else(|| node_refusal(&BadRequest::Malformed(String::new()))),
            on_headers_too_large: on_headers_too_large.unwrap_or_else(|| node_refusal(&BadRequest::HeadersTooLarge)),
            on_upstream_error: on_upstream_error.unwrap_or_else(nginx_bad_gateway),
            uses_headers: self.uses_headers,
            reads_body: self.reads_body,
            proxies: self.proxies,
            chance_sites: self.chance_sites,
            accept_never: accept_never.is_some(),
        })
    }

    /// Statements until `end` (or `else`, which the caller may accept).
    fn parse_block(&mut self, opener: Span, keyword: &'static str) -> Result<(Vec<Stmt>, BlockEnd), Diagnostic> {
        self.enter(opener, keyword)?;
        let mut body = Vec::new();
        loop {
            self.skip_blank_lines();
            match self.peek_word() {
                Some("end") => {
                    self.next();
                    self.expect_line_end()?;
                    self.leave();
                    return Ok((body, BlockEnd::End));
                }
                Some("else") => {
                    self.leave();
                    return Ok((body, BlockEnd::Else(self.next().span)));
                }
                Some(word @ ("param" | "on" | "accept")) => {
                    let keyword_found = match word {
                        "param" => "param",
                        "on" => "on",
                        _ => "accept",
                    };
                    return Err(Diagnostic::new(
                        self.peek().span,
                        ErrorKind::TopLevelOnly {
                            keyword: keyword_found,
                            block: keyword,
                        },
                    ));
                }
                _ if self.peek().kind == TokenKind::Eof => {
                    return Err(Diagnostic::new(
                        opener,
                        ErrorKind::NeverClosed {
                            keyword,
                            line: opener.line,
                        },
                    ));
                }
                _ => body.push(self.parse_stmt()?),
            }
        }
    }

    fn parse_stmt(&mut self) -> Result<Stmt, Diagnostic> {
        match self.peek_word() {
            Some("loop") => self.parse_loop(),
            Some("if") => self.parse_if(),
            _ => {
                let stmt = self.parse_simple()?;
                self.expect_line_end()?;
                Ok(stmt)
            }
        }
    }

    /// A one-line statement (the kinds allowed after a read's `else`).
    fn parse_simple(&mut self) -> Result<Stmt, Diagnostic> {
        let Some(word) = self.peek_word().map(str::to_string) else {
            return Err(self.unexpected(Expected::Statement));
        };
        let span = self.next().span;
        Ok(match word.as_str() {
            "read" => self.parse_read()?,
            "write" => {
                let payload = self.parse_payload(Expected::WriteBytes)?;
                let every = if self.eat_word("every") {
                    Some(self.parse_interval()?)
                } else {
                    None
                };
                Stmt::Write { payload, every }
            }
            "respond" => Stmt::Respond(self.parse_respond()?),
            "sleep" => Stmt::Sleep(self.parse_interval()?),
            "close" => Stmt::Close {
                drain: !self.eat_word("now"),
            },
            "reset" => Stmt::Reset,
            "half-close" => Stmt::HalfClose,
            "hang" => Stmt::Hang,
            "log" => Stmt::Log(String::from_utf8_lossy(&self.parse_string(Expected::LogMessage)?).into_owned()),
            "forward" => {
                self.proxies = true;
                Stmt::Forward(self.parse_forward()?)
            }
            "relay" => {
                self.proxies = true;
                Stmt::Relay(self.parse_relay()?)
            }
            "upstream" => {
                self.proxies = true;
                let end = match self.peek_word() {
                    Some("reset") => UpstreamEnd::Reset,
                    Some("close") => UpstreamEnd::Close,
                    Some("half-close") => UpstreamEnd::HalfClose,
                    _ => return Err(self.unexpected(Expected::UpstreamEnd)),
                };
                self.next();
                Stmt::Upstream(end)
            }
            "loop" => return Err(Diagnostic::new(span, ErrorKind::BlockAfterElse { keyword: "loop" })),
            "if" => return Err(Diagnostic::new(span, ErrorKind::BlockAfterElse { keyword: "if" })),
            _ => {
                return Err(Diagnostic::new(
                    span,
                    ErrorKind::UnknownStatement { word, suggestion: None },
                ));
            }
        })
    }

    /// `read (request | head | body [max SIZE] | SIZE [bytes] | until eof)
    /// [within (DUR | between DUR and DUR) [else STMT]]`
    fn parse_read(&mut self) -> Result<Stmt, Diagnostic> {
        let what = match self.peek_word() {
            Some("request") => {
                self.next();
                ReadGoal::Request
            }
            Some("head") => {
                self.next();
                self.reads_head = true;
                ReadGoal::Head
            }
            Some("body") => {
                let span = self.next().span;
                if !self.reads_head {
                    // Whatever the path, no head could have been read yet.
                    return Err(Diagnostic::new(span, ErrorKind::ReadBodyWithoutHead));
                }
                self.reads_body = true;
                let max = if self.eat_word("max") {
                    Some(self.parse_number()?)
                } else {
                    None
                };
                ReadGoal::Body { max }
            }
            Some("until") => {
                self.next();
                self.expect_word("eof")?;
                ReadGoal::Eof
            }
            _ if matches!(self.peek().kind, TokenKind::Number(_) | TokenKind::Var(_)) => {
                let n = self.parse_number()?;
                self.eat_word("bytes");
                ReadGoal::Bytes(n)
            }
            _ => {
                return Err(self.unexpected(Expected::ReadGoal));
            }
        };
        let mut within = None;
        let mut on_timeout = None;
        if self.eat_word("within") {
            within = Some(self.parse_interval()?);
            let else_span = self.peek().span;
            if self.eat_word("else") {
                // `read … else read … else …` nests like a block.
                self.enter(else_span, "else")?;
                on_timeout = Some(Box::new(self.parse_simple()?));
                self.leave();
            }
        } else if self.peek_word() == Some("else") {
            return Err(Diagnostic::new(self.peek().span, ErrorKind::ElseWithoutWithin));
        }
        Ok(Stmt::Read {
            what,
            within,
            on_timeout,
        })
    }

    /// `forward (request | SIZE [bytes])`
    fn parse_forward(&mut self) -> Result<Forward, Diagnostic> {
        if self.eat_word("request") {
            return Ok(Forward::Request);
        }
        if matches!(self.peek().kind, TokenKind::Number(_) | TokenKind::Var(_)) {
            let n = self.parse_number()?;
            self.eat_word("bytes");
            return Ok(Forward::Bytes(n));
        }
        Err(self.unexpected(Expected::ForwardGoal))
    }

    /// `relay (response | head | body | SIZE [bytes] | until eof | both)
    /// [limit SIZE] [rate SIZE | every DURATION]`
    fn parse_relay(&mut self) -> Result<Relay, Diagnostic> {
        let what = match self.peek_word() {
            Some("response") => RelayWhat::Response,
            Some("head") => RelayWhat::Head,
            Some("body") => RelayWhat::Body,
            Some("both") => RelayWhat::Both,
            Some("until") => {
                self.next();
                self.expect_word("eof")?;
                RelayWhat::Eof
            }
            _ if matches!(self.peek().kind, TokenKind::Number(_) | TokenKind::Var(_)) => {
                let n = self.parse_number()?;
                self.eat_word("bytes");
                RelayWhat::Bytes(n)
            }
            _ => {
                return Err(self.unexpected(Expected::RelayGoal));
            }
        };
        if matches!(
            what,
            RelayWhat::Response | RelayWhat::Head | RelayWhat::Body | RelayWhat::Both
        ) {
            self.next();
        }
        let mut relay = Relay {
            what,
            limit: None,
            pace: None,
        };
        loop {
            let span = self.peek().span;
            match self.peek_word() {
                Some("limit") if relay.limit.is_none() => {
                    self.next();
                    relay.limit = Some(self.parse_number()?);
                    self.eat_word("bytes");
                }
                Some("rate") | Some("every") if relay.pace.is_some() => {
                    return Err(Diagnostic::new(span, ErrorKind::TwoPaces));
                }
                Some("rate") => {
                    self.next();
                    let span = self.peek().span;
                    let rate = self.parse_number()?;
                    if rate == 0 {
                        return Err(Diagnostic::new(span, ErrorKind::ZeroRate));
                    }
                    relay.pace = Some(Pace::Rate(rate));
                }
                Some("every") => {
                    self.next();
                    relay.pace = Some(Pace::Every(self.parse_duration()?));
                }
                _ => break,
            }
        }
        Ok(relay)
    }

    /// `respond STATUS [reason "…"] [header …]... [body …] [chunked]`; a
    /// header takes the same byte values as a body, one line in all.
    fn parse_respond(&mut self) -> Result<Response, Diagnostic> {
        let status_span = self.peek().span;
        let status = self.parse_number()?;
        if !(100..=999).contains(&status) {
            return Err(Diagnostic::new(status_span, ErrorKind::NotAStatus(status)));
        }
        let mut response = Response {
            status: status as u16,
            reason: None,
            headers: Vec::new(),
            body: Payload::default(),
            chunked: false,
            wire: Payload::default(),
            wire_for_head: Payload::default(),
        };
        loop {
            match self.peek_word() {
                Some("reason") => {
                    self.next();
                    response.reason = Some(self.parse_string(Expected::Reason)?);
                }
                Some("header") => {
                    self.next();
                    let span = self.peek().span;
                    let header = self.parse_payload(Expected::HeaderBytes)?;
                    if !header.pieces.iter().any(|piece| piece.contains(b':')) {
                        return Err(Diagnostic::new(span, ErrorKind::HeaderWithoutColon));
                    }
                    response.headers.push(header);
                }
                Some("body") => {
                    self.next();
                    response.body = self.parse_payload(Expected::BodyBytes)?;
                }
                Some("chunked") => {
                    self.next();
                    response.chunked = true;
                }
                _ => break,
            }
        }
        response.wire = super::respond::wire(&response, false);
        response.wire_for_head = super::respond::wire(&response, true);
        self.hold(
            (response.wire.held_bytes() + response.wire_for_head.held_bytes()) as usize,
            status_span,
        )?;
        Ok(response)
    }

    /// One or more byte pieces: `"…"`, `hex "…"`, `repeat N "…"`, `file "…"`,
    /// `$string`.
    fn parse_payload(&mut self, expected: Expected) -> Result<Payload, Diagnostic> {
        let mut payload = Payload::default();
        let mut total: u64 = 0;
        // A `$name` emptied by `--set name=`: the blame is the flag's.
        let mut emptied_by_set = None;
        loop {
            let token = self.peek().clone();
            let piece = match &token.kind {
                TokenKind::Str(_) => Piece::Bytes(self.parse_string(expected)?),
                TokenKind::Var(name) => {
                    let bytes = self.parse_string(expected)?;
                    if bytes.is_empty() && self.overrides.contains_key(name) {
                        emptied_by_set = Some((name.clone(), token.span.line));
                    }
                    Piece::Bytes(bytes)
                }
                TokenKind::Word(w) if w == "hex" => {
                    self.next();
                    let span = self.peek().span;
                    let text = self.parse_string(Expected::HexDigits)?;
                    Piece::Bytes(decode_hex(&text).map_err(|kind| Diagnostic::new(span, kind))?)
                }
                TokenKind::Word(w) if w == "repeat" => {
                    self.next();
                    let count = self.parse_number()?;
                    let span = self.peek().span;
                    let pattern = self.parse_string(Expected::RepeatPattern)?;
                    if pattern.is_empty() {
                        return Err(Diagnostic::new(span, ErrorKind::RepeatEmpty));
                    }
                    if count
                        .checked_mul(pattern.len() as u64)
                        .is_none_or(|n| n > MAX_PAYLOAD_BYTES)
                    {
                        return Err(Diagnostic::new(
                            token.span,
                            ErrorKind::RepeatOverLimit {
                                count,
                                pattern: pattern.len(),
                            },
                        ));
                    }
                    Piece::Repeat { pattern, count }
                }
                TokenKind::Word(w) if w == "file" => {
                    self.next();
                    Piece::Bytes(self.parse_file_value()?)
                }
                _ => break,
            };
            total += piece.len();
            if total > MAX_PAYLOAD_BYTES {
                return Err(Diagnostic::new(token.span, ErrorKind::PayloadOverLimit));
            }
            payload.push(piece);
        }
        if payload.pieces.is_empty() {
            if let Some((name, line)) = emptied_by_set {
                return Err(Diagnostic::new(
                    Span::NOWHERE,
                    ErrorKind::EmptiedBySet { name, line, expected },
                ));
            }
            return Err(self.unexpected(expected));
        }
        Ok(payload)
    }

    fn parse_loop(&mut self) -> Result<Stmt, Diagnostic> {
        let opener = self.next().span;
        let times = if self.eat_word("forever") {
            None
        } else if matches!(self.peek().kind, TokenKind::Number(_) | TokenKind::Var(_)) {
            let n = self.parse_number()?;
            self.expect_word("times")?;
            Some(n)
        } else {
            None
        };
        if !matches!(self.peek().kind, TokenKind::Newline | TokenKind::Eof) {
            return Err(self.unexpected(Expected::LoopCount));
        }
        self.expect_line_end()?;
        let (body, end) = self.parse_block(opener, "loop")?;
        if let BlockEnd::Else(span) = end {
            return Err(Diagnostic::new(span, ErrorKind::ElseOutsideIf { block: "loop" }));
        }
        Ok(Stmt::Loop { times, body })
    }

    fn parse_if(&mut self) -> Result<Stmt, Diagnostic> {
        let mut opener = self.next().span;
        let mut branches = Vec::new();
        loop {
            let cond = self.parse_cond()?;
            self.expect_line_end()?;
            let (body, end) = self.parse_block(opener, "if")?;
            branches.push((cond, body));
            match end {
                BlockEnd::End => {
                    return Ok(Stmt::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                BlockEnd::Else(span) => {
                    if self.eat_word("if") {
                        opener = span;
                        continue;
                    }
                    self.expect_line_end()?;
                    let (otherwise, end) = self.parse_block(span, "else")?;
                    if let BlockEnd::Else(span) = end {
                        return Err(Diagnostic::new(span, ErrorKind::SecondElse));
                    }
                    return Ok(Stmt::If { branches, otherwise });
                }
            }
        }
    }
}

/// nginx's answer when it cannot reach the upstream: 502, then close.
fn nginx_bad_gateway() -> Vec<Stmt> {
    let body = b"502 Bad Gateway: the upstream refused or did not answer the connection\n";
    let mut head = format!(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    head.extend_from_slice(body);
    vec![
        Stmt::Write {
            payload: Payload {
                pieces: vec![Piece::Bytes(head)],
            },
            every: None,
        },
        Stmt::Close { drain: true },
    ]
}

/// Node's default `clientError` behaviour: the refusal, then close.
fn node_refusal(bad: &BadRequest) -> Vec<Stmt> {
    vec![
        Stmt::Write {
            payload: Payload {
                pieces: vec![Piece::Bytes(default_refusal(bad).to_vec())],
            },
            every: None,
        },
        Stmt::Close { drain: true },
    ]
}
