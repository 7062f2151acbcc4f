//! HTTP/2 on a client connection: once a read finds the connection
//! preface (h2c with prior knowledge, or h2 after ALPN chose it), the
//! client's bytes go to a sans-I/O codec ([`crate::h2::conn`]) and the
//! script's steps become frames.
//!
//! [`H2`] lives in the [`Client`] and holds the codec, the requests the
//! client opened and the script has not read yet (concurrent streams wait
//! in line, oldest first), and the stream of the request read last: the
//! *current* stream, where `respond` and `h2 headers`/`data`/`rst-stream`
//! go unless told otherwise. [`reading`] is `read preface`, `read
//! request`, `read head`, `read body`, `read N bytes` and `read until eof`
//! on HTTP/2; [`sending`] is `respond` and each `h2 …` frame.
//!
//! The codec answers what any server answers by itself (the client's
//! SETTINGS, its PINGs, WINDOW_UPDATEs), unless `h2 manual` leaves that to
//! the script; those answers go out whenever the script next reads or
//! sends. A client that breaks the connection's rules gets GOAWAY with
//! the RFC's error code, and the connection closes (FIN, then the client's
//! own close awaited: not an RST for a client still sending); the log
//! says why.

mod reading;
mod sending;

use std::collections::VecDeque;
use std::time::Instant;

pub(super) use reading::H2Reading;
pub(super) use sending::H2Sending;

use super::Cx;
use super::client::Client;
use super::ending::{Drain, Ending};
use crate::h2::conn::{Answer, Config, Conn as Codec, Event as Heard, Head, LastStream};
use crate::h2::{ConnectionError, ErrorCode};
use crate::http::RequestInfo;
use crate::interp::Step;
use crate::log::Field;
use crate::scenario::ast::{H2Manual, H2Stream, ReadGoal};
use crate::stream::{Io, READ_CHUNK};
use crate::transport::Transport;

/// The HTTP/2 side of a client connection.
pub(super) struct H2 {
    codec: Codec,
    /// The stream of the request the script read last; 0 before any.
    current: u32,
    /// What the client sent of the current stream's body.
    body: Body,
    /// Requests the client opened that the script has not read, oldest
    /// first. The codec's SETTINGS_MAX_CONCURRENT_STREAMS bounds them.
    waiting: VecDeque<Waiting>,
    /// The client broke the connection's rules: GOAWAY is queued, and
    /// the connection ends once it is out.
    failed: bool,
    /// The client's FIN was read.
    eof: bool,
}

/// A request not yet read by the script.
struct Waiting {
    stream: u32,
    head: Head,
    body: Body,
}

/// A stream's request body, as far as the client sent it.
#[derive(Debug, Default, Clone, Copy)]
struct Body {
    /// Bytes arrived that no `read body` has taken yet.
    unread: u64,
    /// END_STREAM (or trailers) came: no more will.
    ended: bool,
    /// The client reset the stream with this code.
    reset: Option<ErrorCode>,
}

impl H2 {
    /// The codec for `scenario`: our SETTINGS first, the automatic answers
    /// `h2 manual` did not take over.
    fn new(manual: H2Manual) -> H2 {
        let answer = |manual: bool| if manual { Answer::Manual } else { Answer::Automatic };
        let config = Config {
            settings_ack: answer(manual.settings_ack),
            ping_ack: answer(manual.ping_ack),
            window_updates: answer(manual.window_update),
            ..Config::default()
        };
        H2 {
            codec: Codec::new(config),
            current: 0,
            body: Body::default(),
            waiting: VecDeque::new(),
            failed: false,
            eof: false,
        }
    }

    /// The stream id a statement's `stream …` names.
    fn stream(&self, stream: H2Stream) -> u32 {
        match stream {
            H2Stream::Current => self.current,
            H2Stream::Connection => 0,
            H2Stream::Id(id) => id,
        }
    }

    /// Give the codec what the client sent (all of `input`), and act on
    /// what it heard.
    fn take_in(&mut self, input: &mut Vec<u8>, cx: &mut Cx) {
        self.codec.receive(input);
        input.clear();
        while let Some(heard) = self.codec.next_event() {
            self.heard(heard, cx);
        }
    }

    fn heard(&mut self, heard: Heard, cx: &mut Cx) {
        match heard {
            Heard::Request {
                stream,
                head,
                end_stream,
            } => self.waiting.push_back(Waiting {
                stream,
                head,
                body: Body {
                    ended: end_stream.is_end(),
                    ..Body::default()
                },
            }),
            Heard::Data {
                stream,
                len,
                end_stream,
            } => {
                if let Some(body) = self.body_of(stream) {
                    body.unread += len as u64;
                    body.ended |= end_stream.is_end();
                }
            }
            Heard::Trailers { stream, .. } => {
                if let Some(body) = self.body_of(stream) {
                    body.ended = true;
                }
            }
            Heard::RstStream { stream, code } => {
                let fields = [
                    ("frame", Field::Str("RST_STREAM")),
                    ("stream", Field::Num(stream.into())),
                    ("error", Field::Str(&code.to_string())),
                ];
                cx.say("h2-recv", &fields);
                self.stream_ended(stream, code);
            }
            Heard::GoAway {
                last_stream,
                code,
                debug,
            } => {
                let fields = [
                    ("frame", Field::Str("GOAWAY")),
                    ("last_stream", Field::Num(last_stream.into())),
                    ("error", Field::Str(&code.to_string())),
                    ("debug", Field::Bytes(&debug)),
                ];
                cx.say("h2-recv", &fields);
            }
            Heard::Settings { params } => {
                let text = settings_text(&params);
                cx.say(
                    "h2-recv",
                    &[("frame", Field::Str("SETTINGS")), ("params", Field::Str(&text))],
                );
            }
            Heard::SettingsAck => cx.say(
                "h2-recv",
                &[("frame", Field::Str("SETTINGS")), ("ack", Field::Str("yes"))],
            ),
            Heard::Ping { data } => cx.say(
                "h2-recv",
                &[("frame", Field::Str("PING")), ("data", Field::Bytes(&data))],
            ),
            Heard::PingAck { data } => {
                let fields = [
                    ("frame", Field::Str("PING")),
                    ("ack", Field::Str("yes")),
                    ("data", Field::Bytes(&data)),
                ];
                cx.say("h2-recv", &fields);
            }
            // As many as DATA frames: not worth a line each.
            Heard::WindowUpdate { .. } => {}
            Heard::StreamError(error) => {
                let fields = [
                    ("stream", Field::Num(error.stream.into())),
                    ("error", Field::Str(&error.code.to_string())),
                    ("why", Field::Str(&error.why)),
                ];
                cx.say("h2-stream-error", &fields);
                self.stream_ended(error.stream, error.code);
            }
            Heard::ConnectionError(error) => self.connection_error(&error, cx),
        }
    }

    /// The client broke the connection's rules: GOAWAY with the error's
    /// code (its reason as the debug data) goes out, then the connection
    /// closes.
    fn connection_error(&mut self, error: &ConnectionError, cx: &mut Cx) {
        let code = error.code.to_string();
        cx.say(
            "h2-error",
            &[("error", Field::Str(&code)), ("why", Field::Str(&error.why))],
        );
        let last = self
            .codec
            .send_goaway(LastStream::LastSeen, error.code, error.why.as_bytes());
        let fields = [
            ("frame", Field::Str("GOAWAY")),
            ("last_stream", Field::Num(last.into())),
            ("error", Field::Str(&code)),
        ];
        cx.say("h2-send", &fields);
        self.failed = true;
    }

    /// A stream the client reset, or broke: its request is no more.
    fn stream_ended(&mut self, stream: u32, code: ErrorCode) {
        if stream == self.current {
            self.body.reset = Some(code);
            self.body.ended = true;
        }
        self.waiting.retain(|w| w.stream != stream);
    }

    /// The body a DATA frame on `stream` adds to, if its request is known.
    fn body_of(&mut self, stream: u32) -> Option<&mut Body> {
        if stream == self.current {
            return Some(&mut self.body);
        }
        self.waiting
            .iter_mut()
            .find(|w| w.stream == stream)
            .map(|w| &mut w.body)
    }

    /// Take in what the client sent meanwhile, without waiting: before an
    /// answer, a stream it reset must be known to be gone.
    fn catch_up(&mut self, client_stream: &mut Transport, input: &mut Vec<u8>, cx: &mut Cx) -> Result<(), Ending> {
        while !self.eof && client_stream.is_readable() {
            match client_stream.read(READ_CHUNK, |bytes| input.extend_from_slice(bytes)) {
                Io::Data(_) => self.take_in(input, cx),
                Io::Blocked => break,
                Io::Eof => self.eof = true,
                failed => return Err(Ending::Failed(failed)),
            }
        }
        Ok(())
    }

    /// The client sent a whole request that no read has taken yet.
    fn next_request_ready(&self) -> bool {
        self.waiting.front().is_some_and(|next| next.body.ended)
    }

    /// Write what the codec has to send. [`Io::Data`] once all of it went.
    /// After the script's `half-close` nothing can go: the answers the
    /// codec still makes (ACKs, WINDOW_UPDATEs) are dropped.
    fn flush(&mut self, stream: &mut Transport, now: Instant) -> Io {
        if stream.is_write_shut() {
            let dropped = self.codec.pending_output().len();
            self.codec.written(dropped);
            return Io::Data(0);
        }
        while !self.codec.pending_output().is_empty() {
            match stream.write(self.codec.pending_output(), now) {
                Io::Data(n) => self.codec.written(n),
                other => return other,
            }
        }
        Io::Data(0)
    }
}

/// The client sent the connection preface: from now on the connection
/// speaks HTTP/2, and our SETTINGS wait to go out. `manual` is the
/// script's `h2 manual` (none yet, when the catalog has still to choose).
pub(super) fn start(client: &mut Client, manual: H2Manual, cx: &mut Cx) {
    let alpn = client
        .stream
        .tls()
        .and_then(crate::tls::Layer::alpn)
        .map_or("none", |alpn| if alpn == b"h2" { "h2" } else { "other" });
    let how = if client.stream.tls().is_some() {
        if alpn == "h2" { "h2" } else { "h2 without ALPN h2" }
    } else {
        "h2c"
    };
    cx.say("h2-preface", &[("how", Field::Str(how))]);
    let mut h2 = Box::new(H2::new(manual));
    h2.take_in(&mut client.input, cx);
    client.h2 = Some(h2);
}

/// For the catalog: the `:path` of the first request the client opened,
/// reading its frames (and answering them) until one came. `Ok(None)`
/// while it must wait; how the connection ends, if it does first.
pub(super) fn next_path(client: &mut Client, cx: &mut Cx) -> Result<Option<Vec<u8>>, Ending> {
    let Some(h2) = client.h2.as_deref_mut() else {
        return Err(Ending::Broken("no HTTP/2 to read a path from"));
    };
    loop {
        match h2.flush(&mut client.stream, cx.now) {
            Io::Data(_) | Io::Blocked => {}
            failed => return Err(Ending::Failed(failed)),
        }
        if h2.failed {
            return Err(Ending::Close(Drain::First));
        }
        if let Some(next) = h2.waiting.front() {
            return Ok(Some(next.head.path.clone()));
        }
        if !client.stream.is_readable() {
            return Ok(None);
        }
        let input = &mut client.input;
        match client.stream.read(READ_CHUNK, |bytes| input.extend_from_slice(bytes)) {
            Io::Data(_) => h2.take_in(&mut client.input, cx),
            Io::Blocked => return Ok(None),
            Io::Eof => return Err(Ending::PeerLeft),
            failed => return Err(Ending::Failed(failed)),
        }
    }
}

/// Whether `step` is HTTP/2's own on this connection: a read (but `read
/// tls-hello`) or a send of frames, which keep the order of what is queued.
fn is_own(step: &Step<'_>) -> bool {
    match step {
        Step::Read { goal, .. } => *goal != ReadGoal::TlsHello,
        Step::Respond { .. } | Step::H2(_) | Step::H2Data { .. } => true,
        _ => false,
    }
}

/// What `if method/path/header` and the log see of an HTTP/2 request:
/// `:authority` stands for a `host` header when there is none, as HTTP/2
/// asks a server to treat it (RFC 9113 §8.3.1).
fn request_info(head: Head) -> RequestInfo {
    let mut headers = head.headers;
    if let Some(authority) = head.authority
        && !headers.iter().any(|(name, _)| name == b"host")
    {
        headers.insert(0, (b"host".to_vec(), authority));
    }
    // RFC 9113's size of a header list: each field's bytes and 32.
    let bytes = headers
        .iter()
        .map(|(n, v)| (n.len() + v.len() + 32) as u64)
        .sum::<u64>()
        + (head.method.len() + head.path.len() + 64) as u64;
    RequestInfo {
        method: head.method,
        path: head.path,
        headers,
        bytes,
    }
}

/// SETTINGS parameters as `name=value` words, by their RFC names.
fn settings_text(params: &[(u16, u32)]) -> String {
    let names = crate::scenario::parser::H2_SETTING_NAMES;
    let words: Vec<String> = params
        .iter()
        .map(|(id, value)| match names.iter().find(|(_, known)| known == id) {
            Some((name, _)) => format!("{name}={value}"),
            None => format!("0x{id:x}={value}"),
        })
        .collect();
    words.join(" ")
}
