//! One-line statements: `read`, `write`, `respond`, `sleep`, `close`,
//! `reset`, `half-close`, `hang`, `log`, `forward`, `relay`, `upstream`,
//! `tls alert`, and the byte values they send. (`h2 …` is in `h2`.)

use super::values::decode_hex;
use super::{Parsed, Parser, fail};
use crate::scenario::ast::*;
use crate::scenario::error::{Diagnostic, ErrorKind, Expected, Span};
use crate::scenario::lexer::TokenKind;
use crate::scenario::limits::MAX_PAYLOAD_BYTES;
use crate::scenario::respond;
use crate::tls::Alert;
use crate::tls::alert::Level;
use crate::tls::options::{Stall, Versions};

impl Parser<'_> {
    /// A one-line statement (the kinds allowed after a read's `else`).
    pub(super) fn parse_simple(&mut self) -> Parsed<Stmt> {
        let Some(word) = self.peek_word().map(str::to_string) else {
            return Err(self.unexpected(Expected::Statement));
        };
        let span = self.next().span;
        Ok(match word.as_str() {
            "read" => self.parse_read()?,
            "write" => {
                let payload = self.parse_payload(Expected::WriteBytes)?;
                let every = self.parse_drip()?;
                Stmt::Write { payload, every }
            }
            "respond" => Stmt::Respond(self.parse_respond()?),
            "sleep" => Stmt::Sleep(self.parse_interval()?),
            "close" => {
                // `now` and `no-notify`, in either order.
                let (mut drain, mut notify) = (true, true);
                loop {
                    if drain && self.eat_word("now") {
                        drain = false;
                    } else if notify && self.eat_word("no-notify") {
                        notify = false;
                    } else {
                        break;
                    }
                }
                Stmt::Close { drain, notify }
            }
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
            "tls" => match self.peek_word() {
                Some("alert") => {
                    self.next();
                    Stmt::TlsAlert(self.parse_alert()?)
                }
                Some("handshake") => {
                    self.next();
                    self.handshakes = true;
                    self.needs_tls = true;
                    Stmt::TlsHandshake(self.parse_handshake()?)
                }
                Some("close-notify") => {
                    self.next();
                    self.needs_tls = true;
                    Stmt::TlsCloseNotify
                }
                Some("cut") => {
                    self.next();
                    self.expect_word("after")?;
                    let n = self.parse_number()?;
                    self.expect_word("bytes")?;
                    self.needs_tls = true;
                    Stmt::TlsCut(n)
                }
                Some("certificate") => return fail(self.peek().span, ErrorKind::CertificateNotAtTop),
                Some("alpn") => return fail(self.peek().span, ErrorKind::AlpnNotAtTop),
                _ => return Err(self.unexpected(Expected::TlsAction)),
            },
            "h2" => Stmt::H2(self.parse_h2()?),
            "loop" => return fail(span, ErrorKind::BlockAfterElse { keyword: "loop" }),
            "if" => return fail(span, ErrorKind::BlockAfterElse { keyword: "if" }),
            _ => return Err(self.unknown_statement(word, span)),
        })
    }

    /// `[SIZE [bytes]] every INTERVAL` after a write's bytes: how to drip
    /// them, a byte at a time unless a size is given; `None` without
    /// `every`, which sends them all at once.
    pub(super) fn parse_drip(&mut self) -> Parsed<Option<Drip>> {
        let piece = if matches!(self.peek().kind, TokenKind::Number(_) | TokenKind::Var(_)) {
            let span = self.peek().span;
            let piece = self.parse_number()?;
            if piece == 0 {
                return fail(span, ErrorKind::ZeroPiece);
            }
            self.eat_word("bytes");
            self.expect_word("every")?;
            piece
        } else if self.eat_word("every") {
            1
        } else {
            return Ok(None);
        };
        let every = self.parse_interval()?;
        Ok(Some(Drip { piece, every }))
    }

    /// `read (request | head | body [max SIZE] | SIZE [bytes] | until eof
    /// | tls-hello | preface) [within (DUR | between DUR and DUR) [else STMT]]`
    fn parse_read(&mut self) -> Parsed<Stmt> {
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
                    return fail(span, ErrorKind::ReadBodyWithoutHead);
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
            Some("tls-hello") => {
                self.next();
                self.reads_tls_hello = true;
                ReadGoal::TlsHello
            }
            Some("preface") => {
                self.next();
                ReadGoal::Preface
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
            return fail(self.peek().span, ErrorKind::ElseWithoutWithin);
        }
        Ok(Stmt::Read {
            what,
            within,
            on_timeout,
        })
    }

    /// `[alpn STRING…] [version 1.2 | 1.3] [stall after server-hello]`
    /// after `tls handshake`, in any order, each once.
    fn parse_handshake(&mut self) -> Parsed<TlsHandshake> {
        let mut handshake = TlsHandshake {
            alpn: Vec::new(),
            versions: Versions::Both,
            stall: None,
        };
        let (mut alpn, mut version) = (false, false);
        loop {
            let span = self.peek().span;
            match self.peek_word() {
                Some("alpn") if !alpn => {
                    self.next();
                    alpn = true;
                    handshake.alpn = self.parse_alpn()?;
                }
                Some("version") if !version => {
                    self.next();
                    version = true;
                    let token = self.next();
                    handshake.versions = match &token.kind {
                        TokenKind::Number(n) if n == "1.2" => Versions::Only12,
                        TokenKind::Number(n) if n == "1.3" => Versions::Only13,
                        TokenKind::Word(n) if n == "1.2" => Versions::Only12,
                        TokenKind::Word(n) if n == "1.3" => Versions::Only13,
                        _ => return fail(token.span, ErrorKind::NotATlsVersion),
                    };
                }
                Some("stall") if handshake.stall.is_none() => {
                    self.next();
                    self.expect_word("after")?;
                    self.expect_word("server-hello")?;
                    handshake.stall = Some(Stall::AfterServerHello);
                }
                Some("alpn" | "version") => return fail(span, ErrorKind::HandshakeOptionTwice),
                _ => {
                    self.tried(&["alpn", "version", "stall"]);
                    break;
                }
            }
        }
        Ok(handshake)
    }

    /// `NAME [warning | fatal]` after `tls alert`: the alert by its RFC 8446
    /// name (a word, a string or a string `$name`), and its level, which
    /// is the one TLS 1.3 gives it unless written.
    fn parse_alert(&mut self) -> Parsed<TlsAlert> {
        let token = self.peek().clone();
        let name = match &token.kind {
            TokenKind::Word(word) => {
                self.next();
                word.clone()
            }
            TokenKind::Str(_) | TokenKind::Var(_) => {
                String::from_utf8_lossy(&self.parse_string(Expected::AlertName)?).into_owned()
            }
            _ => return Err(self.unexpected(Expected::AlertName)),
        };
        let alert = match Alert::named(&name) {
            Ok(alert) => alert,
            Err(unknown) => {
                // A `$name` that `--set` gave the name: the blame is the flag's.
                let set = match &token.kind {
                    TokenKind::Var(param) if self.overrides.contains_key(param) => Some(param.clone()),
                    _ => None,
                };
                let span = if set.is_some() { Span::NOWHERE } else { token.span };
                return fail(
                    span,
                    ErrorKind::UnknownAlert {
                        name: unknown.name,
                        suggestion: unknown.suggestion,
                        set,
                    },
                );
            }
        };
        let level = if self.eat_word("warning") {
            Level::Warning
        } else if self.eat_word("fatal") {
            Level::Fatal
        } else {
            alert.level
        };
        let wire = Payload {
            pieces: vec![Piece::Bytes(alert.record(level).to_vec())],
        };
        Ok(TlsAlert { alert, level, wire })
    }

    /// `forward (request | SIZE [bytes])`
    fn parse_forward(&mut self) -> Parsed<Forward> {
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
    fn parse_relay(&mut self) -> Parsed<Relay> {
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
                    let n = self.parse_number()?;
                    let chunks_span = self.peek().span;
                    relay.limit = Some(if self.eat_word("chunks") {
                        if !matches!(relay.what, RelayWhat::Response | RelayWhat::Body) {
                            return fail(chunks_span, ErrorKind::ChunksOfWhat);
                        }
                        Limit::Chunks(n)
                    } else {
                        self.eat_word("bytes");
                        Limit::Bytes(n)
                    });
                }
                Some("rate") | Some("every") if relay.pace.is_some() => {
                    return fail(span, ErrorKind::TwoPaces);
                }
                Some("rate") => {
                    self.next();
                    let span = self.peek().span;
                    let rate = self.parse_number()?;
                    if rate == 0 {
                        return fail(span, ErrorKind::ZeroRate);
                    }
                    relay.pace = Some(Pace::Rate(rate));
                }
                Some("every") => {
                    self.next();
                    relay.pace = Some(Pace::Every(self.parse_duration()?));
                }
                _ => {
                    self.tried(&["limit", "rate", "every"]);
                    break;
                }
            }
        }
        Ok(relay)
    }

    /// `respond STATUS [reason "…"] [header …]... [body … [anyway]] [chunked]`; a
    /// header takes the same byte values as a body, one line in all.
    fn parse_respond(&mut self) -> Parsed<Response> {
        let status_span = self.peek().span;
        let status = self.parse_number()?;
        if !(100..=999).contains(&status) {
            return fail(status_span, ErrorKind::NotAStatus(status));
        }
        let mut response = Response {
            status: status as u16,
            reason: None,
            headers: Vec::new(),
            body: Payload::default(),
            chunked: false,
            send_body: SendBody::WhenAllowed,
            wire: Payload::default(),
            wire_for_head: Payload::default(),
            h2_fields: Vec::new(),
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
                        return fail(span, ErrorKind::HeaderWithoutColon);
                    }
                    response.headers.push(header);
                }
                Some("body") => {
                    self.next();
                    response.body = self.parse_payload(Expected::BodyBytes)?;
                    if self.eat_word("anyway") {
                        response.send_body = SendBody::Anyway;
                    }
                }
                Some("chunked") => {
                    self.next();
                    response.chunked = true;
                }
                _ => {
                    self.tried(&["reason", "header", "body", "chunked"]);
                    break;
                }
            }
        }
        response.wire = respond::wire(&response, respond::Request::Other);
        response.wire_for_head = respond::wire(&response, respond::Request::Head);
        response.h2_fields = respond::h2_fields(&response);
        // Repeats written out for HTTP/2 are held too.
        let h2_held: u64 = response.h2_fields.iter().map(|(n, v)| (n.len() + v.len()) as u64).sum();
        let h1_headers: u64 = response.headers.iter().map(Payload::held_bytes).sum();
        self.hold(
            (response.wire.held_bytes() + response.wire_for_head.held_bytes() + h2_held.saturating_sub(h1_headers))
                as usize,
            status_span,
        )?;
        Ok(response)
    }

    /// One or more byte pieces: `"…"`, `hex "…"`, `repeat N "…"`, `file "…"`,
    /// `$string`.
    pub(super) fn parse_payload(&mut self, expected: Expected) -> Parsed<Payload> {
        let mut payload = Payload::default();
        let mut total: u64 = 0;
        // A `$name` emptied by `--set name=`: the blame is the flag's.
        let mut emptied_by_set = None;
        loop {
            let token = self.peek().clone();
            let piece = match &token.kind {
                TokenKind::Str(_) => Piece::Bytes(self.parse_string(expected)?),
                // A number after the bytes is a drip's piece size.
                TokenKind::Var(name) if !payload.pieces.is_empty() && self.names_a_number(name) => {
                    self.tried(&["hex", "repeat", "file"]);
                    break;
                }
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
                        return fail(span, ErrorKind::RepeatEmpty);
                    }
                    if count
                        .checked_mul(pattern.len() as u64)
                        .is_none_or(|n| n > MAX_PAYLOAD_BYTES)
                    {
                        return fail(
                            token.span,
                            ErrorKind::RepeatOverLimit {
                                count,
                                pattern: pattern.len(),
                            },
                        );
                    }
                    Piece::Repeat { pattern, count }
                }
                TokenKind::Word(w) if w == "file" => {
                    self.next();
                    Piece::Bytes(self.parse_file_value()?)
                }
                _ => {
                    self.tried(&["hex", "repeat", "file"]);
                    break;
                }
            };
            total += piece.len();
            if total > MAX_PAYLOAD_BYTES {
                return fail(token.span, ErrorKind::PayloadOverLimit);
            }
            payload.push(piece);
        }
        if payload.pieces.is_empty() {
            if let Some((name, line)) = emptied_by_set {
                return fail(Span::NOWHERE, ErrorKind::EmptiedBySet { name, line, expected });
            }
            return Err(self.unexpected(expected));
        }
        Ok(payload)
    }
}
