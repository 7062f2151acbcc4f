//! The file and its blocks: top-level declarations (`param`, `accept
//! never`, `on`), `loop`, `if`, and where the parse recovers from an error
//! (each statement of a block, each block's first line).

use super::{Parsed, Parser, fail};
use crate::http::{BadRequest, default_refusal};
use crate::scenario::ast::*;
use crate::scenario::error::{ErrorKind, Expected, Span};
use crate::scenario::lexer::TokenKind;

/// What may close a block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Closers {
    /// Only `end`: an `else` there is an error.
    End,
    /// `end`, or an `else` of the `if` the block belongs to.
    EndOrElse,
}

/// What closed a block: its `end`, or an `else` of an `if`.
enum BlockEnd {
    End,
    Else(Span),
}

/// The handler an `on` block defines.
#[derive(Clone, Copy)]
enum Handler {
    BadRequest,
    HeadersTooLarge,
    UpstreamError,
}

/// What the top level of a file has said so far.
#[derive(Default)]
struct TopLevel {
    body: Vec<Stmt>,
    on_bad_request: Option<Vec<Stmt>>,
    on_headers_too_large: Option<Vec<Stmt>>,
    on_upstream_error: Option<Vec<Stmt>>,
    /// Where `accept never` is.
    accept_never: Option<Span>,
    /// A statement after `accept never` was reported: once is enough.
    told_statement_after_accept: bool,
    /// `tls certificate DEFECT`.
    certificate: Option<crate::tls::options::Defect>,
    /// `tls alpn STRING…`.
    alpn: Option<Vec<Vec<u8>>>,
    /// `h2 manual …`.
    h2_manual: H2Manual,
}

impl TopLevel {
    fn handler(&mut self, handler: Handler) -> &mut Option<Vec<Stmt>> {
        match handler {
            Handler::BadRequest => &mut self.on_bad_request,
            Handler::HeadersTooLarge => &mut self.on_headers_too_large,
            Handler::UpstreamError => &mut self.on_upstream_error,
        }
    }
}

impl Parser<'_> {
    /// The whole file. Errors are noted in `self.errors`; the scenario is
    /// only good when there are none.
    pub(super) fn parse_file(&mut self, source: &str) -> Scenario {
        let mut top = TopLevel::default();
        loop {
            self.skip_blank_lines();
            if self.peek().kind == TokenKind::Eof {
                break;
            }
            let line = self.parse_top_level(&mut top);
            if let Err(failure) = line
                && self.recover(failure).is_err()
            {
                break;
            }
        }
        Scenario {
            name: String::new(),
            summary: crate::scenario::summary_of(source).to_string(),
            params: std::mem::take(&mut self.params),
            body: top.body,
            on_chunk_extensions_too_large: top
                .on_bad_request
                .clone()
                .unwrap_or_else(|| node_refusal(&BadRequest::ChunkExtensionsTooLarge)),
            on_bad_request: top
                .on_bad_request
                .unwrap_or_else(|| node_refusal(&BadRequest::Malformed(String::new()))),
            on_headers_too_large: top
                .on_headers_too_large
                .unwrap_or_else(|| node_refusal(&BadRequest::HeadersTooLarge)),
            on_upstream_error: top.on_upstream_error.unwrap_or_else(nginx_bad_gateway),
            uses_headers: self.uses_headers,
            reads_body: self.reads_body,
            proxies: self.proxies,
            chance_sites: self.chance_sites,
            accept_never: top.accept_never.is_some(),
            tls_certificate: top.certificate,
            handshakes: self.handshakes,
            needs_tls: self.needs_tls || top.certificate.is_some(),
            reads_tls_hello: self.reads_tls_hello,
            alpn: top.alpn.unwrap_or_default(),
            h2_manual: top.h2_manual,
        }
    }

    /// One line of the top level (or a block, for `loop`, `if` and `on`).
    fn parse_top_level(&mut self, top: &mut TopLevel) -> Parsed<()> {
        let span = self.peek().span;
        match self.peek_word() {
            Some("param") => self.parse_param(),
            Some("accept") => {
                self.next();
                let said = self.header(|p| p.expect_word("never"))?;
                if said.is_none() {
                    return Ok(());
                }
                if top.accept_never.is_some() {
                    return self.tell(span, ErrorKind::AcceptNeverTwice);
                }
                top.accept_never = Some(span);
                if !top.body.is_empty() {
                    return self.tell(span, ErrorKind::AcceptNeverAfterStatements);
                }
                Ok(())
            }
            Some("tls") if self.word_ahead(1) == Some("certificate") => {
                self.next();
                self.next();
                let Some(defect) = self.header(|p| p.parse_defect())? else {
                    return Ok(());
                };
                if top.certificate.is_some() {
                    return self.tell(span, ErrorKind::CertificateTwice);
                }
                top.certificate = Some(defect);
                Ok(())
            }
            Some("tls") if self.word_ahead(1) == Some("alpn") => {
                self.next();
                self.next();
                let Some(protocols) = self.header(|p| p.parse_alpn())? else {
                    return Ok(());
                };
                if top.alpn.is_some() {
                    return self.tell(span, ErrorKind::AlpnTwice);
                }
                top.alpn = Some(protocols);
                Ok(())
            }
            Some("h2") if self.word_ahead(1) == Some("manual") => {
                self.next();
                let mut manual = top.h2_manual;
                if self.header(|p| p.parse_h2_manual(&mut manual))?.is_some() {
                    top.h2_manual = manual;
                }
                Ok(())
            }
            Some("on") => {
                let Some((handler, name_span, body)) = self.parse_on()? else {
                    return Ok(());
                };
                let slot = top.handler(handler);
                if slot.is_some() {
                    return self.tell(name_span, ErrorKind::HandlerTwice);
                }
                *slot = Some(body);
                Ok(())
            }
            Some("end") => fail(span, ErrorKind::EndWithoutBlock),
            Some("else") => fail(span, ErrorKind::ElseWithoutIf),
            _ => {
                if let Some(accept) = top.accept_never
                    && !top.told_statement_after_accept
                {
                    top.told_statement_after_accept = true;
                    let told = ErrorKind::StatementAfterAcceptNever {
                        accept_line: accept.line,
                    };
                    // Said, and the statement parsed all the same for its own errors.
                    self.tell(span, told)?;
                }
                let stmt = self.parse_stmt()?;
                top.body.push(stmt);
                Ok(())
            }
        }
    }

    /// The word `n` tokens ahead, if it is one.
    fn word_ahead(&self, n: usize) -> Option<&str> {
        match self.tokens.get(self.pos + n).map(|t| &t.kind) {
            Some(TokenKind::Word(w)) => Some(w),
            _ => None,
        }
    }

    /// One or more protocol names, after an `alpn`.
    pub(super) fn parse_alpn(&mut self) -> Parsed<Vec<Vec<u8>>> {
        let mut protocols = Vec::new();
        loop {
            protocols.push(self.parse_string(Expected::AlpnProtocol)?);
            if !matches!(self.peek().kind, TokenKind::Str(_) | TokenKind::Var(_)) {
                return Ok(protocols);
            }
        }
    }

    /// A certificate defect's name, after `tls certificate`.
    fn parse_defect(&mut self) -> Parsed<crate::tls::options::Defect> {
        use crate::tls::options::Defect;
        let token = self.peek().clone();
        let TokenKind::Word(name) = &token.kind else {
            return Err(self.unexpected(Expected::Defect));
        };
        match Defect::named(name) {
            Some(defect) => {
                self.next();
                Ok(defect)
            }
            None => {
                let suggestion = crate::scenario::suggest::nearest(name, Defect::ALL.iter().map(|d| d.name()));
                fail(
                    token.span,
                    ErrorKind::UnknownDefect {
                        name: name.clone(),
                        suggestion,
                    },
                )
            }
        }
    }

    /// `on HANDLER` and its block, at `on`: the handler (`None` when its
    /// name was wrong, which is noted), where its name is, and the block.
    fn parse_on(&mut self) -> Parsed<Option<(Handler, Span, Vec<Stmt>)>> {
        let on = self.next().span;
        let handler = self.header(|p| {
            let handler = match p.peek_word() {
                Some("bad-request") => Handler::BadRequest,
                Some("headers-too-large") => Handler::HeadersTooLarge,
                Some("upstream-error") => Handler::UpstreamError,
                _ => return Err(p.unexpected(Expected::Handler)),
            };
            Ok((handler, p.next().span))
        })?;
        let (body, _) = self.parse_block(on, "on", Closers::End)?;
        Ok(handler.map(|(handler, span)| (handler, span, body)))
    }

    /// The rest of a block's first line, by `header`, and its end. An error
    /// there is noted and the line passed over (`None`), so that the block
    /// is still parsed and its `end` still closes it.
    fn header<T>(&mut self, header: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<Option<T>> {
        let parsed = header(self).and_then(|value| {
            self.expect_line_end()?;
            Ok(value)
        });
        match parsed {
            Ok(value) => Ok(Some(value)),
            Err(failure) => {
                self.recover(failure)?;
                Ok(None)
            }
        }
    }

    /// Statements until `end` (or `else`, when `closers` lets the caller
    /// take it). A statement with an error is noted and dropped.
    fn parse_block(&mut self, opener: Span, keyword: &'static str, closers: Closers) -> Parsed<(Vec<Stmt>, BlockEnd)> {
        self.enter(opener, keyword)?;
        let mut body = Vec::new();
        let end = loop {
            self.skip_blank_lines();
            let span = self.peek().span;
            let line = match self.peek_word() {
                Some("end") => {
                    self.next();
                    if let Err(failure) = self.expect_line_end() {
                        self.recover(failure)?;
                    }
                    break BlockEnd::End;
                }
                Some("else") if closers == Closers::EndOrElse => {
                    self.next();
                    break BlockEnd::Else(span);
                }
                Some("else") if keyword == "else" => fail(span, ErrorKind::SecondElse),
                Some("else") => fail(span, ErrorKind::ElseOutsideIf { block: keyword }),
                Some("on") => {
                    // Parsed all the same, so that its `end` closes it and not this block.
                    self.tell(
                        span,
                        ErrorKind::TopLevelOnly {
                            keyword: "on",
                            block: keyword,
                        },
                    )?;
                    self.parse_on().map(|_| ())
                }
                Some("param") => fail(
                    span,
                    ErrorKind::TopLevelOnly {
                        keyword: "param",
                        block: keyword,
                    },
                ),
                Some("accept") => fail(
                    span,
                    ErrorKind::TopLevelOnly {
                        keyword: "accept",
                        block: keyword,
                    },
                ),
                _ if self.peek().kind == TokenKind::Eof => {
                    self.leave();
                    return fail(
                        opener,
                        ErrorKind::NeverClosed {
                            keyword,
                            line: opener.line,
                        },
                    );
                }
                _ => self.parse_stmt().map(|stmt| body.push(stmt)),
            };
            if let Err(failure) = line {
                self.recover(failure)?;
            }
        };
        self.leave();
        Ok((body, end))
    }

    /// A statement: a block, or one line.
    fn parse_stmt(&mut self) -> Parsed<Stmt> {
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

    fn parse_loop(&mut self) -> Parsed<Stmt> {
        let opener = self.next().span;
        let times = self.header(|p| p.loop_count())?.flatten();
        let (body, _) = self.parse_block(opener, "loop", Closers::End)?;
        Ok(Stmt::Loop { times, body })
    }

    /// `[N times | forever]` after `loop`: `None` for forever.
    fn loop_count(&mut self) -> Parsed<Option<u64>> {
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
        Ok(times)
    }

    fn parse_if(&mut self) -> Parsed<Stmt> {
        let mut opener = self.next().span;
        let mut branches = Vec::new();
        loop {
            let cond = self.header(|p| p.parse_cond())?;
            let (body, end) = self.parse_block(opener, "if", Closers::EndOrElse)?;
            if let Some(cond) = cond {
                branches.push((cond, body));
            }
            let BlockEnd::Else(span) = end else {
                return Ok(Stmt::If {
                    branches,
                    otherwise: Vec::new(),
                });
            };
            if self.eat_word("if") {
                opener = span;
                continue;
            }
            if let Err(failure) = self.expect_line_end() {
                self.recover(failure)?;
            }
            let (otherwise, _) = self.parse_block(span, "else", Closers::End)?;
            return Ok(Stmt::If { branches, otherwise });
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
        Stmt::Close {
            drain: true,
            notify: true,
        },
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
        Stmt::Close {
            drain: true,
            notify: true,
        },
    ]
}
