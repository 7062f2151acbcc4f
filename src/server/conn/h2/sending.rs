//! What a script sends on an HTTP/2 connection: `respond` as HEADERS and
//! DATA with END_STREAM, and each `h2 …` frame as written, valid or not.
//!
//! Frames are queued in the codec and written out before the step is
//! over, with one exception: while the client has another request ready
//! (concurrent streams that came together), a finished step leaves up to
//! [`CORK`] bytes queued, so that the answers to all of them leave in one
//! write instead of one write each. The next read writes them before it
//! reads or waits, and any step that is not HTTP/2's own waits for them
//! to leave first ([`H2Sending::before`]), so no step sees them unsent.
//!
//! DATA keeps within the client's flow-control windows unless told
//! otherwise: the rest waits for its WINDOW_UPDATEs (the client's frames
//! are read meanwhile), or with `stall-at-window` is never sent, as by a
//! server that stopped reading them.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::H2;
use crate::h2::ErrorCode;
use crate::h2::conn::{Conn as Codec, Flow, LastStream};
use crate::h2::frame::{Ack, EndStream, RawFrame};
use crate::interp::{Event, Step};
use crate::log::Field;
use crate::scenario::ast::{H2Frame, H2Last, H2Window, Payload, Piece, Response};
use crate::scenario::respond::{Request, sends_body};
use crate::server::conn::client::Client;
use crate::server::conn::ending::{Drain, Ending, Lingering};
use crate::server::conn::{Cx, Progress, State};
use crate::stream::{Io, READ_CHUNK};

/// DATA bytes queued at a time: the queue is written out between pieces,
/// so that a large body is never all in memory.
const PIECE: u64 = 64 * 1024;

/// Bytes a finished step may leave queued while the client has another
/// request ready: a hundred small responses, in one write of under a
/// loopback segment (64 KiB).
const CORK: usize = 16 * 1024;

/// A step that sends frames, until they are all written.
pub(in crate::server::conn) struct H2Sending<'s> {
    /// DATA still to queue, if the step sends any (boxed: the state stays
    /// small for the frames that have none).
    data: Option<Box<Data<'s>>>,
    then: Then<'s>,
}

/// What comes once everything is written.
enum Then<'s> {
    /// The step is over.
    Done,
    /// The connection closes: the client broke its rules and GOAWAY is
    /// queued; given up at this instant if the client reads nothing.
    Close(Instant),
    /// The client is to close the connection: it was asked to go elsewhere.
    ClientCloses,
    /// This step of the script, not HTTP/2's own, which waited for what
    /// earlier steps left queued (boxed: it is rare, and the state stays
    /// small).
    Step(Box<Step<'s>>),
}

/// How long a GOAWAY may wait for a client that reads nothing.
const GOAWAY_LIMIT: Duration = Duration::from_secs(1);

/// DATA in progress.
struct Data<'s> {
    stream: u32,
    payload: Cow<'s, Payload>,
    /// Bytes queued so far.
    offset: u64,
    end_stream: bool,
    window: H2Window,
    /// The last piece is queued.
    queued_all: bool,
    /// The log said the windows hold it back.
    told_blocked: bool,
}

impl<'s> H2Sending<'s> {
    /// Write out the GOAWAY a connection error queued at `now`, then
    /// close.
    pub(in crate::server::conn) fn closing(now: Instant) -> H2Sending<'s> {
        H2Sending {
            data: None,
            then: Then::Close(now + GOAWAY_LIMIT),
        }
    }

    /// When a GOAWAY the client does not read is given up.
    pub(in crate::server::conn) fn deadline(&self) -> Option<Instant> {
        match self.then {
            Then::Close(until) => Some(until),
            Then::Done | Then::ClientCloses | Then::Step(_) => None,
        }
    }

    /// Before `step`: if it is not HTTP/2's own (a read or a send on the
    /// connection) and earlier steps left bytes queued, write them first,
    /// so that a `sleep`, `write`, `close` or `reset` comes after them as
    /// the script says. `Continue` with the step when it may go on now.
    pub(in crate::server::conn) fn before(
        step: Step<'s>,
        client: &mut Client,
        cx: &mut Cx,
    ) -> ControlFlow<Progress<'s>, Step<'s>> {
        let Some(h2) = client.h2.as_deref_mut() else {
            return ControlFlow::Continue(step);
        };
        if h2.codec.pending_output().is_empty() || super::is_own(&step) {
            return ControlFlow::Continue(step);
        }
        match h2.flush(&mut client.stream, cx.now) {
            Io::Data(_) => ControlFlow::Continue(step),
            Io::Blocked => ControlFlow::Break(Progress::Become(State::H2Sending(H2Sending {
                data: None,
                then: Then::Step(Box::new(step)),
            }))),
            failed => ControlFlow::Break(Progress::End(Ending::Failed(failed))),
        }
    }

    /// `respond` on HTTP/2: HEADERS with the status and the response's
    /// fields, then its body as DATA, END_STREAM on the last frame.
    pub(in crate::server::conn) fn respond(
        response: &'s Response,
        to: Request,
        client: &mut Client,
        cx: &mut Cx,
    ) -> Progress<'s> {
        let Some(h2) = client.h2.as_deref_mut() else {
            return not_spoken(cx);
        };
        if let Err(ending) = h2.catch_up(&mut client.stream, &mut client.input, cx) {
            return Progress::End(ending);
        }
        let stream = h2.current;
        if !h2.codec.is_active(stream) {
            // The client reset it, or no request was read: a server
            // drops the answer.
            cx.say("h2-stream-gone", &[("stream", Field::Num(stream.into()))]);
            return Progress::Next(Event::Done);
        }
        let body = sends_body(response, to) && !response.body.is_empty();
        let end = if body { EndStream::No } else { EndStream::Yes };
        h2.codec
            .send_response(stream, response.status, &response.h2_fields, end);
        say_headers(stream, response.status, end, cx);
        let mut data = body.then(|| Box::new(Data::new(stream, Cow::Borrowed(&response.body), true, H2Window::Honour)));
        // A body that is one piece and within the windows is queued with
        // its HEADERS, so that both leave in one write (a segment and a
        // wake-up of the client fewer per response).
        if let Some(data) = data.as_deref_mut() {
            let len = data.payload.len();
            if len <= PIECE && h2.codec.sendable(stream) as u64 >= len {
                data.queue(len, &mut h2.codec);
            }
        }
        Progress::Become(State::H2Sending(H2Sending { data, then: Then::Done }))
    }

    /// A proxy step on an HTTP/2 connection: hangup proxies HTTP/1.1
    /// only, so the request is refused with RST_STREAM HTTP_1_1_REQUIRED
    /// (which curl answers by retrying over HTTP/1.1), and the connection
    /// closes once the client closed it.
    pub(in crate::server::conn) fn http1_required(client: &mut Client, cx: &mut Cx) -> Progress<'s> {
        let Some(h2) = client.h2.as_deref_mut() else {
            return Progress::End(Ending::Broken("an HTTP/2 refusal without HTTP/2"));
        };
        let stream = h2.current;
        h2.codec.send_rst_stream(stream, ErrorCode::HTTP_1_1_REQUIRED);
        let why = "the scenario proxies, which hangup does over HTTP/1.1 only: RST_STREAM HTTP_1_1_REQUIRED asks \
                   the client to retry over it";
        cx.say(
            "h2-not-proxied",
            &[("stream", Field::Num(stream.into())), ("why", Field::Str(why))],
        );
        Progress::Become(State::H2Sending(H2Sending {
            data: None,
            then: Then::ClientCloses,
        }))
    }

    /// An `h2` statement's frame (not DATA, see [`H2Sending::data`]).
    pub(in crate::server::conn) fn frame(frame: &'s H2Frame, client: &mut Client, cx: &mut Cx) -> Progress<'s> {
        if let H2Frame::Data { payload, .. } = frame {
            return H2Sending::data(frame, Cow::Borrowed(payload), true, client, cx);
        }
        let Some(h2) = client.h2.as_deref_mut() else {
            return not_spoken(cx);
        };
        queue(frame, h2, cx);
        Progress::Become(State::H2Sending(H2Sending {
            data: None,
            then: Then::Done,
        }))
    }

    /// An `h2 data` statement's bytes (a piece of them, when it drips):
    /// END_STREAM with the `last` piece if the statement says so.
    pub(in crate::server::conn) fn data(
        frame: &'s H2Frame,
        piece: Cow<'s, Payload>,
        last: bool,
        client: &mut Client,
        cx: &mut Cx,
    ) -> Progress<'s> {
        let Some(h2) = client.h2.as_deref() else {
            return not_spoken(cx);
        };
        let H2Frame::Data {
            stream,
            end_stream,
            window,
            ..
        } = frame
        else {
            return Progress::End(Ending::Broken("DATA from a frame that is not"));
        };
        let data = Data::new(h2.stream(*stream), piece, *end_stream && last, *window);
        Progress::Become(State::H2Sending(H2Sending {
            data: Some(Box::new(data)),
            then: Then::Done,
        }))
    }

    pub(in crate::server::conn) fn progress(&mut self, client: &mut Client, cx: &mut Cx) -> Progress<'s> {
        let Some(h2) = client.h2.as_deref_mut() else {
            return Progress::End(Ending::Broken("an HTTP/2 step without HTTP/2"));
        };
        loop {
            if !self.may_leave_queued(h2) {
                match h2.flush(&mut client.stream, cx.now) {
                    Io::Data(_) => {}
                    // A client that reads nothing does not keep a GOAWAY here.
                    Io::Blocked => match self.then {
                        Then::Close(until) if cx.now >= until => return Progress::End(Ending::Close(Drain::First)),
                        _ => return Progress::Wait,
                    },
                    failed => return Progress::End(Ending::Failed(failed)),
                }
            }
            if h2.failed && !matches!(self.then, Then::Close(_)) {
                // The client broke the rules meanwhile: GOAWAY is queued.
                self.data = None;
                self.then = Then::Close(cx.now + GOAWAY_LIMIT);
                continue;
            }
            let Some(data) = self.data.as_deref_mut() else {
                return match std::mem::replace(&mut self.then, Then::Done) {
                    Then::Done => Progress::Next(Event::Done),
                    // FIN, and the client's own close awaited: the GOAWAY
                    // must not be lost to an RST.
                    Then::Close(_) => Progress::End(Ending::Close(Drain::Linger)),
                    // A FIN in the same read as the RST_STREAM makes curl
                    // give up rather than retry: it closes first.
                    Then::ClientCloses => Progress::Become(State::Lingering(Lingering::new(cx.now))),
                    Then::Step(step) => Progress::Resume(step),
                };
            };
            if data.queued_all {
                let fields = [
                    ("frame", Field::Str("DATA")),
                    ("stream", Field::Num(data.stream.into())),
                    ("bytes", Field::Num(data.offset)),
                    ("end_stream", Field::Str(yes_no(data.end_stream))),
                ];
                cx.say("h2-send", &fields);
                self.data = None;
                continue;
            }
            // The client's frames first: a WINDOW_UPDATE may be among them.
            if client.stream.is_readable() && !h2.eof {
                let input = &mut client.input;
                match client.stream.read(READ_CHUNK, |bytes| input.extend_from_slice(bytes)) {
                    Io::Data(_) => h2.take_in(&mut client.input, cx),
                    Io::Blocked => {}
                    Io::Eof => h2.eof = true,
                    failed => return Progress::End(Ending::Failed(failed)),
                }
                continue;
            }
            let left = data.payload.len() - data.offset;
            let room = match data.window {
                H2Window::Ignore => u64::MAX,
                _ if !h2.codec.is_active(data.stream) => {
                    // Reset by the client, or never opened: nothing to wait for.
                    let fields = [("stream", Field::Num(data.stream.into())), ("unsent", Field::Num(left))];
                    cx.say("h2-stream-gone", &fields);
                    self.data = None;
                    continue;
                }
                _ => h2.codec.sendable(data.stream) as u64,
            };
            let n = left.min(room).min(PIECE);
            if n > 0 || left == 0 {
                data.queue(n, &mut h2.codec);
                continue;
            }
            // The windows are shut.
            let fields = [
                ("stream", Field::Num(data.stream.into())),
                ("sent", Field::Num(data.offset)),
                ("left", Field::Num(left)),
            ];
            if data.window == H2Window::Stall {
                cx.say("h2-stalled", &fields);
                self.data = None;
                continue;
            }
            if !std::mem::replace(&mut data.told_blocked, true) {
                cx.say("h2-blocked", &fields);
            }
            if h2.eof {
                return Progress::End(Ending::PeerLeft);
            }
            return Progress::Wait;
        }
    }
}

impl H2Sending<'_> {
    /// Whether the step may end with its bytes still queued (see
    /// [`CORK`]): it is over but for the writing, the client has another
    /// request ready, and little is queued.
    fn may_leave_queued(&self, h2: &H2) -> bool {
        matches!(self.then, Then::Done)
            && self.data.as_deref().is_none_or(|data| data.queued_all)
            && !h2.failed
            && h2.codec.pending_output().len() <= CORK
            && h2.next_request_ready()
    }
}

impl<'s> Data<'s> {
    fn new(stream: u32, payload: Cow<'s, Payload>, end_stream: bool, window: H2Window) -> Data<'s> {
        Data {
            stream,
            payload,
            offset: 0,
            end_stream,
            window,
            queued_all: false,
            told_blocked: false,
        }
    }

    /// Queue the next `n` bytes as DATA, END_STREAM with the last if the
    /// step says so; the windows are the caller's to check.
    fn queue(&mut self, n: u64, codec: &mut Codec) {
        let end = self.offset + n == self.payload.len();
        let end_stream = if end && self.end_stream {
            EndStream::Yes
        } else {
            EndStream::No
        };
        match &self.payload.pieces[..] {
            // The common body, plain bytes: no copy of it.
            [Piece::Bytes(bytes)] => {
                let (from, to) = (self.offset as usize, (self.offset + n) as usize);
                codec.send_data(self.stream, &bytes[from..to], end_stream, Flow::Ignore);
            }
            _ => {
                let bytes = self.payload.slice(self.offset, n).to_vec();
                codec.send_data(self.stream, &bytes, end_stream, Flow::Ignore);
            }
        }
        self.offset += n;
        self.queued_all = end;
    }
}

/// Queue a frame that is not DATA, and log it.
fn queue(frame: &H2Frame, h2: &mut H2, cx: &mut Cx) {
    match frame {
        H2Frame::Headers {
            stream,
            status,
            headers,
            end_stream,
        } => {
            let stream = h2.stream(*stream);
            let end = if *end_stream { EndStream::Yes } else { EndStream::No };
            h2.codec.send_response(stream, *status, headers, end);
            say_headers(stream, *status, end, cx);
        }
        // Sent by `H2Sending::data`, a piece at a time.
        H2Frame::Data { .. } => {}
        H2Frame::RstStream { stream, code } => {
            let stream = h2.stream(*stream);
            h2.codec.send_rst_stream(stream, *code);
            let fields = [
                ("frame", Field::Str("RST_STREAM")),
                ("stream", Field::Num(stream.into())),
                ("error", Field::Str(&code.to_string())),
            ];
            cx.say("h2-send", &fields);
        }
        H2Frame::GoAway { last, code, debug } => {
            let last = match last {
                H2Last::Current => LastStream::Id(h2.current),
                H2Last::Max => LastStream::Max,
                H2Last::Id(id) => LastStream::Id(*id),
            };
            let last = h2.codec.send_goaway(last, *code, debug);
            let fields = [
                ("frame", Field::Str("GOAWAY")),
                ("last_stream", Field::Num(last.into())),
                ("error", Field::Str(&code.to_string())),
                ("debug", Field::Bytes(debug)),
            ];
            cx.say("h2-send", &fields);
        }
        H2Frame::Settings(params) => {
            h2.codec.send_settings(params);
            let text = super::settings_text(params);
            cx.say(
                "h2-send",
                &[("frame", Field::Str("SETTINGS")), ("params", Field::Str(&text))],
            );
        }
        H2Frame::SettingsAck => {
            h2.codec.send_settings_ack();
            cx.say(
                "h2-send",
                &[("frame", Field::Str("SETTINGS")), ("ack", Field::Str("yes"))],
            );
        }
        H2Frame::Ping { ack, data } => {
            h2.codec.send_ping(if *ack { Ack::Yes } else { Ack::No }, *data);
            let fields = [
                ("frame", Field::Str("PING")),
                ("ack", Field::Str(yes_no(*ack))),
                ("data", Field::Bytes(data)),
            ];
            cx.say("h2-send", &fields);
        }
        H2Frame::WindowUpdate { stream, increment } => {
            let stream = h2.stream(*stream);
            h2.codec.send_window_update(stream, *increment);
            let fields = [
                ("frame", Field::Str("WINDOW_UPDATE")),
                ("stream", Field::Num(stream.into())),
                ("increment", Field::Num((*increment).into())),
            ];
            cx.say("h2-send", &fields);
        }
        H2Frame::Raw {
            kind,
            flags,
            stream,
            declared_len,
            payload,
        } => {
            let stream = h2.stream(*stream);
            h2.codec.send_raw(&RawFrame {
                kind: *kind,
                flags: *flags,
                stream_word: stream,
                declared_len: *declared_len,
                payload: payload.clone(),
            });
            let fields = [
                ("frame", Field::Num((*kind).into())),
                ("flags", Field::Num((*flags).into())),
                ("stream", Field::Num(stream.into())),
                ("bytes", Field::Num(payload.len() as u64)),
            ];
            cx.say("h2-send", &fields);
        }
    }
}

fn say_headers(stream: u32, status: u16, end: EndStream, cx: &mut Cx) {
    let fields = [
        ("frame", Field::Str("HEADERS")),
        ("stream", Field::Num(stream.into())),
        ("status", Field::Num(status.into())),
        ("end_stream", Field::Str(yes_no(end.is_end()))),
    ];
    cx.say("h2-send", &fields);
}

fn yes_no(yes: bool) -> &'static str {
    if yes { "yes" } else { "no" }
}

/// An HTTP/2 step on a connection whose client never sent the preface:
/// the script is over (see [`Event::NotHttp2`]).
fn not_spoken<'s>(cx: &mut Cx) -> Progress<'s> {
    cx.say(
        "h2-not-spoken",
        &[("why", Field::Str("the client did not send the HTTP/2 preface"))],
    );
    Progress::Next(Event::NotHttp2)
}
