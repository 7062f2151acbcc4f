//! `h2 …` statements: HTTP/2 frames by name (HEADERS, DATA, RST_STREAM,
//! GOAWAY, SETTINGS, PING, WINDOW_UPDATE) and any frame by its bytes; and
//! the top-level `h2 manual …`, which leaves the connection's automatic
//! answers to the script.
//!
//! Error codes are written by their RFC 9113 names (`INTERNAL_ERROR`, in
//! either case) or as numbers; settings by their names without the
//! `SETTINGS_` prefix, in lowercase with dashes (`max-concurrent-streams`).

use super::{Parsed, Parser, fail};
use crate::h2::ErrorCode;
use crate::h2::frame::setting;
use crate::scenario::ast::*;
use crate::scenario::error::{ErrorKind, Expected};
use crate::scenario::lexer::TokenKind;

/// The settings a scenario may name, with their identifiers.
pub const SETTING_NAMES: [(&str, u16); 6] = [
    ("header-table-size", setting::HEADER_TABLE_SIZE),
    ("enable-push", setting::ENABLE_PUSH),
    ("max-concurrent-streams", setting::MAX_CONCURRENT_STREAMS),
    ("initial-window-size", setting::INITIAL_WINDOW_SIZE),
    ("max-frame-size", setting::MAX_FRAME_SIZE),
    ("max-header-list-size", setting::MAX_HEADER_LIST_SIZE),
];

/// The answers `h2 manual` can take over.
pub const MANUAL_WORDS: [&str; 3] = ["settings-ack", "ping-ack", "window-update"];

impl Parser<'_> {
    /// After `h2`: one frame.
    pub(super) fn parse_h2(&mut self) -> Parsed<H2Frame> {
        let Some(word) = self.peek_word().map(str::to_string) else {
            return Err(self.unexpected(Expected::H2Frame));
        };
        if word == "manual" {
            return fail(self.peek().span, ErrorKind::H2ManualNotAtTop);
        }
        let frame = match word.as_str() {
            "headers" => {
                self.next();
                self.parse_h2_headers()?
            }
            "data" => {
                self.next();
                self.parse_h2_data()?
            }
            "rst-stream" => {
                self.next();
                let code = self.parse_h2_error()?;
                let stream = self.parse_h2_stream(H2Stream::Current)?;
                H2Frame::RstStream { stream, code }
            }
            "goaway" => {
                self.next();
                self.parse_h2_goaway()?
            }
            "settings" => {
                self.next();
                self.parse_h2_settings()?
            }
            "settings-ack" => {
                self.next();
                H2Frame::SettingsAck
            }
            "ping" => {
                self.next();
                let ack = self.eat_word("ack");
                let mut data = [0; 8];
                if self.eat_word("data") {
                    let span = self.peek().span;
                    let given = self.parse_string(Expected::PingData)?;
                    if given.len() > 8 {
                        return fail(span, ErrorKind::PingDataTooLong(given.len()));
                    }
                    data[..given.len()].copy_from_slice(&given);
                }
                H2Frame::Ping { ack, data }
            }
            "window-update" => {
                self.next();
                let span = self.peek().span;
                let increment = self.parse_number()?;
                let increment = u32::try_from(increment)
                    .ok()
                    .filter(|n| *n <= 0x7fff_ffff)
                    .map_or_else(|| fail(span, ErrorKind::H2ValueTooLarge { max: 0x7fff_ffff }), Ok)?;
                let stream = self.parse_h2_stream(H2Stream::Connection)?;
                H2Frame::WindowUpdate { stream, increment }
            }
            "frame" => {
                self.next();
                self.parse_h2_raw()?
            }
            _ => return Err(self.unexpected(Expected::H2Frame)),
        };
        Ok(frame)
    }

    /// `STATUS [header BYTES]… [end-stream] [stream …]` after `h2 headers`.
    fn parse_h2_headers(&mut self) -> Parsed<H2Frame> {
        let status_span = self.peek().span;
        let status = self.parse_number()?;
        if !(100..=999).contains(&status) {
            return fail(status_span, ErrorKind::NotAStatus(status));
        }
        let mut headers = Vec::new();
        let mut end_stream = false;
        let mut stream = H2Stream::Current;
        loop {
            match self.peek_word() {
                Some("header") => {
                    self.next();
                    let span = self.peek().span;
                    let line = self.parse_string(Expected::HeaderBytes)?;
                    let Some((name, value)) = split_header(&line) else {
                        return fail(span, ErrorKind::HeaderWithoutColon);
                    };
                    headers.push((name, value));
                }
                Some("end-stream") => {
                    self.next();
                    end_stream = true;
                }
                Some("stream") => stream = self.parse_h2_stream(H2Stream::Current)?,
                _ => {
                    self.tried(&["header", "end-stream", "stream"]);
                    break;
                }
            }
        }
        Ok(H2Frame::Headers {
            stream,
            status: status as u16,
            headers,
            end_stream,
        })
    }

    /// `BYTES [[SIZE] every DURATION] [end-stream] [ignore-window |
    /// stall-at-window] [stream …]` after `h2 data`.
    fn parse_h2_data(&mut self) -> Parsed<H2Frame> {
        let payload = self.parse_payload(Expected::BodyBytes)?;
        let every = self.parse_drip()?;
        let mut end_stream = false;
        let mut window = H2Window::Honour;
        let mut stream = H2Stream::Current;
        loop {
            let span = self.peek().span;
            match self.peek_word() {
                Some("end-stream") => {
                    self.next();
                    end_stream = true;
                }
                Some(word @ ("ignore-window" | "stall-at-window")) => {
                    if window != H2Window::Honour {
                        return fail(span, ErrorKind::TwoWindows);
                    }
                    window = if word == "ignore-window" {
                        H2Window::Ignore
                    } else {
                        H2Window::Stall
                    };
                    self.next();
                }
                Some("stream") => stream = self.parse_h2_stream(H2Stream::Current)?,
                _ => {
                    self.tried(&["end-stream", "ignore-window", "stall-at-window", "stream"]);
                    break;
                }
            }
        }
        Ok(H2Frame::Data {
            stream,
            payload,
            every,
            end_stream,
            window,
        })
    }

    /// `[last-stream (N | current | max)] [error ERROR] [debug STRING]`
    /// after `h2 goaway`, in any order.
    fn parse_h2_goaway(&mut self) -> Parsed<H2Frame> {
        let (mut last, mut code, mut debug) = (H2Last::Current, ErrorCode::NO_ERROR, Vec::new());
        loop {
            match self.peek_word() {
                Some("last-stream") => {
                    self.next();
                    last = match self.peek_word() {
                        Some("current") => {
                            self.next();
                            H2Last::Current
                        }
                        Some("max") => {
                            self.next();
                            H2Last::Max
                        }
                        _ => H2Last::Id(self.parse_stream_id()?),
                    };
                }
                Some("error") => {
                    self.next();
                    code = self.parse_h2_error()?;
                }
                Some("debug") => {
                    self.next();
                    debug = self.parse_string(Expected::DebugText)?;
                }
                _ => {
                    self.tried(&["last-stream", "error", "debug"]);
                    break;
                }
            }
        }
        Ok(H2Frame::GoAway { last, code, debug })
    }

    /// `[NAME VALUE]…` after `h2 settings`.
    fn parse_h2_settings(&mut self) -> Parsed<H2Frame> {
        let mut params = Vec::new();
        while let TokenKind::Word(name) = &self.peek().kind {
            let span = self.peek().span;
            let Some(id) = SETTING_NAMES.iter().find(|(n, _)| n == name).map(|(_, id)| *id) else {
                let suggestion = crate::scenario::suggest::nearest(name, SETTING_NAMES.iter().map(|(n, _)| *n));
                return fail(
                    span,
                    ErrorKind::UnknownSetting {
                        name: name.clone(),
                        suggestion,
                    },
                );
            };
            self.next();
            let span = self.peek().span;
            let value = self.parse_number()?;
            let Ok(value) = u32::try_from(value) else {
                return fail(span, ErrorKind::H2ValueTooLarge { max: u32::MAX.into() });
            };
            params.push((id, value));
        }
        Ok(H2Frame::Settings(params))
    }

    /// `type N [flags N] [stream …] [length N] [payload BYTES]` after `h2
    /// frame`.
    fn parse_h2_raw(&mut self) -> Parsed<H2Frame> {
        self.expect_word("type")?;
        let kind = self.parse_byte()?;
        let (mut flags, mut stream, mut declared_len, mut payload) = (0, H2Stream::Current, None, Vec::new());
        loop {
            match self.peek_word() {
                Some("flags") => {
                    self.next();
                    flags = self.parse_byte()?;
                }
                Some("stream") => stream = self.parse_h2_stream(H2Stream::Current)?,
                Some("length") => {
                    self.next();
                    let span = self.peek().span;
                    let n = self.parse_number()?;
                    if n > 0xff_ffff {
                        return fail(span, ErrorKind::H2ValueTooLarge { max: 0xff_ffff });
                    }
                    declared_len = Some(n as u32);
                }
                Some("payload") => {
                    self.next();
                    let span = self.peek().span;
                    let bytes = self.parse_payload(Expected::WriteBytes)?;
                    payload = materialise(&bytes);
                    if payload.len() > 0xff_ffff {
                        return fail(span, ErrorKind::H2ValueTooLarge { max: 0xff_ffff });
                    }
                }
                _ => {
                    self.tried(&["flags", "stream", "length", "payload"]);
                    break;
                }
            }
        }
        Ok(H2Frame::Raw {
            kind,
            flags,
            stream,
            declared_len,
            payload,
        })
    }

    /// `stream (N | current | connection)`, at `stream`; `default` when
    /// there is no `stream`.
    fn parse_h2_stream(&mut self, default: H2Stream) -> Parsed<H2Stream> {
        if !self.eat_word("stream") {
            return Ok(default);
        }
        Ok(match self.peek_word() {
            Some("current") => {
                self.next();
                H2Stream::Current
            }
            Some("connection") => {
                self.next();
                H2Stream::Connection
            }
            _ => match self.parse_stream_id()? {
                0 => H2Stream::Connection,
                id => H2Stream::Id(id),
            },
        })
    }

    /// A stream id: 31 bits.
    fn parse_stream_id(&mut self) -> Parsed<u32> {
        let span = self.peek().span;
        let n = self.parse_number()?;
        match u32::try_from(n) {
            Ok(id) if id <= 0x7fff_ffff => Ok(id),
            _ => fail(span, ErrorKind::H2ValueTooLarge { max: 0x7fff_ffff }),
        }
    }

    /// A number that fits a byte: a frame's type or flags.
    fn parse_byte(&mut self) -> Parsed<u8> {
        let span = self.peek().span;
        let n = self.parse_number()?;
        u8::try_from(n).map_or_else(|_| fail(span, ErrorKind::H2ValueTooLarge { max: 255 }), Ok)
    }

    /// An error code: its RFC 9113 name (a word, or a string `$name`) in
    /// either case, or a number.
    fn parse_h2_error(&mut self) -> Parsed<ErrorCode> {
        let token = self.peek().clone();
        let name = match &token.kind {
            TokenKind::Number(_) => {
                let span = token.span;
                let n = self.parse_number()?;
                return u32::try_from(n).map_or_else(
                    |_| fail(span, ErrorKind::H2ValueTooLarge { max: u32::MAX.into() }),
                    |n| Ok(ErrorCode(n)),
                );
            }
            TokenKind::Word(word) => {
                self.next();
                word.clone()
            }
            TokenKind::Str(_) | TokenKind::Var(_) => {
                String::from_utf8_lossy(&self.parse_string(Expected::H2Error)?).into_owned()
            }
            _ => return Err(self.unexpected(Expected::H2Error)),
        };
        if let Some(code) = ErrorCode::from_name(&name.to_ascii_uppercase()) {
            return Ok(code);
        }
        // A number given as a string (`--set error=13`, or `0xd`).
        let number = match name.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => name.parse().ok(),
        };
        if let Some(number) = number {
            return Ok(ErrorCode(number));
        }
        let suggestion = crate::scenario::suggest::nearest(&name.to_ascii_uppercase(), ErrorCode::names());
        // A `$name` that `--set` gave: the blame is the flag's.
        let span = match &token.kind {
            TokenKind::Var(param) if self.overrides.contains_key(param) => crate::scenario::error::Span::NOWHERE,
            _ => token.span,
        };
        fail(span, ErrorKind::UnknownH2Error { name, suggestion })
    }

    /// `h2 manual WHAT…` at the top level, at `manual`.
    pub(super) fn parse_h2_manual(&mut self, manual: &mut H2Manual) -> Parsed<()> {
        self.expect_word("manual")?;
        let mut any = false;
        loop {
            match self.peek_word() {
                Some("settings-ack") => manual.settings_ack = true,
                Some("ping-ack") => manual.ping_ack = true,
                Some("window-update") => manual.window_update = true,
                _ if any => {
                    self.tried(&MANUAL_WORDS);
                    return Ok(());
                }
                _ => return Err(self.unexpected(Expected::H2Manual)),
            }
            self.next();
            any = true;
        }
    }
}

/// `name: value` from a header line, the name lowercased (HTTP/2 wants
/// lowercase names) and the value's leading spaces dropped.
fn split_header(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let colon = line.iter().position(|&b| b == b':')?;
    // A pseudo-header (`:status`, `:path`) keeps its leading colon.
    let colon = if colon == 0 {
        1 + line[1..].iter().position(|&b| b == b':')?
    } else {
        colon
    };
    let name = line[..colon].to_ascii_lowercase();
    let value = line[colon + 1..].trim_ascii_start().to_vec();
    Some((name, value))
}

/// All the bytes of `payload`, repeats written out (a raw frame's payload
/// is at most 16 MiB, checked by the caller).
fn materialise(payload: &Payload) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in &payload.pieces {
        match piece {
            Piece::Bytes(bytes) => out.extend_from_slice(bytes),
            Piece::Repeat { pattern, count } => {
                for _ in 0..(*count).min((0x100_0000 / pattern.len().max(1)) as u64 + 1) {
                    out.extend_from_slice(pattern);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_header;

    #[test]
    fn a_header_line_splits_at_its_colon_with_the_name_lowercased() {
        assert_eq!(
            split_header(b"Content-Type: text/plain"),
            Some((b"content-type".to_vec(), b"text/plain".to_vec()))
        );
        assert_eq!(
            split_header(b":status: 200"),
            Some((b":status".to_vec(), b"200".to_vec()))
        );
        assert_eq!(split_header(b"x-empty:"), Some((b"x-empty".to_vec(), Vec::new())));
        assert_eq!(split_header(b"no colon"), None);
    }
}
