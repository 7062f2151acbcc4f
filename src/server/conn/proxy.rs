//! The upstream side of a connection: `forward`, `relay` and `upstream`.
//!
//! A scenario that proxies opens one upstream connection per client
//! connection, when it first needs it, so that keep-alive reuse on the
//! client side is keep-alive reuse upstream too. Bytes move through two
//! bounded buffers, one per direction: the client's `inbuf` towards the
//! upstream, the upstream's `inbuf` towards the client. A side is read only
//! while its buffer has room, so a reader that stops reading stops the
//! other side too, and memory stays bounded whatever flows through.
//!
//! Faithful by default: an upstream's FIN reaches the client as a FIN and
//! its RST as an RST, each only after every byte relayed before it has left
//! (a reset waits for the send queue as the script's own `reset` does). An
//! upstream that closes while the script is busy with the client (an idle
//! keep-alive connection the upstream gives up on) is mirrored at once:
//! that is the pooled-connection race, for real.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use super::{Conn, Progress, State, Turn, log_line};
use crate::end::End;
use crate::http::response::{Framing, ResponseReader};
use crate::http::{BadRequest, RequestInfo, RequestReader, Status};
use crate::interp::{Event, Step};
use crate::log::{Field, Log};
use crate::reactor::{self, Flow, Side};
use crate::scenario::ast::{Forward, Pace, Relay, RelayWhat, UpstreamEnd};
use crate::stream::{Io, READ_CHUNK, Stream};

/// Bytes each direction may hold: reading a side stops at this, until the
/// other side has taken them.
pub(super) const BUFFER_LIMIT: usize = 64 * 1024;
/// How long the upstream has to accept the connection (nginx's
/// `proxy_connect_timeout` is 60 s; a test tool should say so sooner).
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A request read whole is kept, to be forwarded, up to this size.
pub(super) const RETAIN_LIMIT: usize = 1024 * 1024;
/// The largest chunk a paced relay sends at once.
const PACE_CHUNK: usize = 16 * 1024;

/// The bytes of the request being read, kept for `forward request`.
#[derive(Debug, Default)]
pub(super) enum Retained {
    #[default]
    Nothing,
    Bytes(Vec<u8>),
    /// Over [`RETAIN_LIMIT`]: `read head` streams such a request instead.
    TooLarge,
}

impl Retained {
    /// Keep `bytes` of the request being read, within the limit.
    pub(super) fn keep(&mut self, bytes: &[u8]) {
        match self {
            Retained::Nothing => *self = Retained::Bytes(bytes.to_vec()),
            Retained::Bytes(kept) if kept.len() + bytes.len() <= RETAIN_LIMIT => kept.extend_from_slice(bytes),
            Retained::Bytes(_) => *self = Retained::TooLarge,
            Retained::TooLarge => {}
        }
    }
}

/// What a connection of a proxying scenario keeps for its upstream side,
/// boxed so that a connection of any other scenario does not pay for it.
#[derive(Default)]
pub(super) struct ProxySide {
    /// The upstream connection, once a proxy step opened it.
    upstream: Option<Upstream>,
    /// How the upstream side ended, once it has.
    pub(super) upstream_ended: Option<End>,
    /// The bytes of the last request read, for `forward request`.
    pub(super) retained: Retained,
    /// After `read head`: the reader that goes on with the request's body.
    pub(super) body_reader: Option<RequestReader>,
}

/// The upstream connection, if one is open.
fn upstream_mut(proxy: &mut Option<Box<ProxySide>>) -> Option<&mut Upstream> {
    proxy.as_deref_mut()?.upstream.as_mut()
}

/// Where a proxying connection sends its upstream traffic.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamAddr(pub SocketAddr);

/// The upstream connection of one client connection.
pub(super) struct Upstream {
    stream: Stream,
    connected: bool,
    /// Bytes the upstream sent that are not relayed yet.
    inbuf: Vec<u8>,
    /// The response being relayed, kept from `relay head` to `relay body`.
    response: Option<ResponseReader>,
    /// The upstream's FIN was read.
    eof: bool,
    /// The upstream reset (or failed); mirrored once its bytes are out.
    broken: Option<String>,
    /// hangup half-closed the upstream side (a client FIN passed through).
    write_shut: bool,
}

/// A step that needs the upstream, waiting for its connect.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pending {
    Forward(Forward),
    Relay(Relay),
    End(UpstreamEnd),
}

/// `forward`: bytes from the client to the upstream.
pub(super) struct Forwarding {
    /// A request already read, sent first.
    retained: Vec<u8>,
    retained_sent: usize,
    /// Then what streams from the client's `inbuf`.
    from_client: FromClient,
    /// Client bytes taken for the upstream but not written yet.
    pending: usize,
    total: u64,
    /// The framing found the end; the forward is over once `pending` is
    /// written. With the request, when the forward read a whole one.
    finished: Option<Option<Result<RequestInfo, BadRequest>>>,
}

pub(super) enum FromClient {
    Nothing,
    /// The body of the request whose head was read.
    Body(RequestReader),
    /// A whole next request, as it arrives.
    Request(RequestReader),
    Raw(u64),
}

/// `relay` of one direction: the upstream's bytes to the client.
pub(super) struct Relaying {
    relay: Relay,
    /// Upstream bytes taken for the client but not written yet.
    pending: usize,
    sent: u64,
    started: Instant,
    /// A paced relay waits until then.
    resume_at: Option<Instant>,
    /// The framing says the relay is whole.
    whole: bool,
}

/// `relay both`: each direction as it comes, until both ended.
pub(super) struct Both {
    /// The client's FIN was read (not just hinted: its bytes come first).
    client_eof: bool,
    limit: Option<u64>,
    pace: Option<Pace>,
    to_client: u64,
    to_upstream: u64,
    started: Instant,
    resume_at: Option<Instant>,
}

impl Upstream {
    fn read_more(&mut self) -> Io {
        let room = BUFFER_LIMIT.saturating_sub(self.inbuf.len());
        if room == 0 || !self.stream.is_readable() {
            return Io::Blocked;
        }
        let inbuf = &mut self.inbuf;
        self.stream
            .read(room.min(READ_CHUNK), |bytes| inbuf.extend_from_slice(bytes))
    }
}

impl<'s> Conn<'s> {
    /// Carry out a step that needs the upstream, connecting first if need be.
    pub(super) fn apply_proxy(&mut self, step: Pending, turn: &mut Turn) -> Flow {
        let Some(addr) = turn.shared.upstream else {
            // `serve` refuses such a scenario without --upstream; this is
            // only a safety net.
            self.log(
                turn.log,
                "upstream-error",
                &[("why", Field::Str("no --upstream given"))],
            );
            self.close(true, turn.log);
            return Flow::Closed;
        };
        if self.proxy.as_ref().is_none_or(|p| p.upstream.is_none()) {
            let result = TcpStream::connect(addr.0).and_then(|mut socket| {
                reactor::register_socket(&turn.shared.registry, self.key, Side::Upstream, &mut socket)?;
                Ok(socket)
            });
            turn.shared.tally.upstream_connects += 1;
            let addr_text = addr.0.to_string();
            self.log(turn.log, "upstream-connect", &[("addr", Field::Str(&addr_text))]);
            match result {
                Ok(socket) => {
                    let _ = socket.set_nodelay(true);
                    self.proxy.get_or_insert_with(Box::default).upstream = Some(Upstream {
                        stream: Stream::connecting(socket),
                        connected: false,
                        inbuf: Vec::new(),
                        response: None,
                        eof: false,
                        broken: None,
                        write_shut: false,
                    });
                }
                Err(e) => return self.upstream_failed(&e.to_string(), turn),
            }
        }
        if self
            .proxy
            .as_ref()
            .and_then(|p| p.upstream.as_ref())
            .is_some_and(|up| !up.connected)
        {
            self.state = State::Connecting {
                then: step,
                give_up_at: turn.now + CONNECT_TIMEOUT,
            };
            return Flow::Open;
        }
        self.start_proxy_step(step, turn)
    }

    fn start_proxy_step(&mut self, step: Pending, turn: &mut Turn) -> Flow {
        self.state = match step {
            Pending::Forward(what) => match self.start_forward(what) {
                Ok(forwarding) => State::Forwarding(Box::new(forwarding)),
                Err(()) => {
                    let why = "the request read whole is over 1 MiB, too large to keep: \
                               `read head` before `forward request` streams its body instead";
                    self.log(turn.log, "forward-error", &[("why", Field::Str(why))]);
                    self.close(true, turn.log);
                    return Flow::Closed;
                }
            },
            Pending::Relay(relay) if relay.what == RelayWhat::Both => State::Both(Both {
                client_eof: false,
                limit: relay.limit,
                pace: relay.pace,
                to_client: 0,
                to_upstream: 0,
                started: turn.now,
                resume_at: None,
            }),
            Pending::Relay(relay) => {
                let head_request = self.interp.last_was_head();
                if let Some(up) = upstream_mut(&mut self.proxy) {
                    // `relay body` goes on with the response whose head was
                    // relayed; anything else starts on the next response.
                    let carry_on = relay.what == RelayWhat::Body && up.response.is_some();
                    if !carry_on {
                        up.response = Some(ResponseReader::new(head_request));
                    }
                }
                State::Relaying(Relaying {
                    relay,
                    pending: 0,
                    sent: 0,
                    started: turn.now,
                    resume_at: None,
                    whole: false,
                })
            }
            Pending::End(end) => return self.end_upstream(end, turn),
        };
        Flow::Open
    }

    /// `forward request` sends the request last read (and its body, after
    /// `read head`); with none read yet, the next one as it arrives.
    fn start_forward(&mut self, what: Forward) -> Result<Forwarding, ()> {
        let (retained, from_client) = match what {
            Forward::Bytes(n) => (Vec::new(), FromClient::Raw(n)),
            Forward::Request => match self
                .proxy
                .as_mut()
                .map(|p| std::mem::take(&mut p.retained))
                .unwrap_or_default()
            {
                Retained::Bytes(bytes) => {
                    let body = self
                        .proxy
                        .as_mut()
                        .and_then(|p| p.body_reader.take())
                        .map_or(FromClient::Nothing, FromClient::Body);
                    (bytes, body)
                }
                Retained::Nothing => (
                    Vec::new(),
                    FromClient::Request(RequestReader::new(false, self.interp.uses_headers())),
                ),
                Retained::TooLarge => return Err(()),
            },
        };
        Ok(Forwarding {
            retained,
            retained_sent: 0,
            from_client,
            pending: 0,
            total: 0,
            finished: None,
        })
    }

    /// The connect failed or timed out: the `on upstream-error` handler
    /// (nginx's 502 by default) runs instead of the script.
    fn upstream_failed(&mut self, why: &str, turn: &mut Turn) -> Flow {
        turn.shared.tally.upstream_failed += 1;
        self.log(turn.log, "upstream-failed", &[("why", Field::Str(why))]);
        if let Some(proxy) = self.proxy.as_mut() {
            proxy.upstream = None;
        }
        let step = self.interp.next(Event::UpstreamFailed, turn.now);
        self.apply(step, turn)
    }

    pub(super) fn progress_connect(&mut self, turn: &mut Turn) -> Progress {
        let State::Connecting { then, give_up_at } = self.state else {
            return Progress::Closed;
        };
        let Some(up) = upstream_mut(&mut self.proxy) else {
            return Progress::Closed;
        };
        let result = if turn.now >= give_up_at {
            up.stream.assume_writable();
            match up.stream.connect_result() {
                Some(Err(e)) => Err(e.to_string()),
                _ => Err(format!(
                    "no answer to the connect within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )),
            }
        } else {
            match up.stream.connect_result() {
                None => return Progress::Wait,
                Some(result) => result.map_err(|e| e.to_string()),
            }
        };
        match result {
            Ok(()) => {
                up.connected = true;
                self.log(turn.log, "upstream-connected", &[]);
                match self.start_proxy_step(then, turn) {
                    Flow::Open => Progress::Again,
                    Flow::Closed => Progress::Closed,
                }
            }
            Err(why) => match self.upstream_failed(&why, turn) {
                Flow::Open => Progress::Again,
                Flow::Closed => Progress::Closed,
            },
        }
    }

    pub(super) fn progress_forward(&mut self, turn: &mut Turn) -> Progress {
        loop {
            let (State::Forwarding(fwd), Some(up)) = (&mut self.state, upstream_mut(&mut self.proxy)) else {
                return Progress::Closed;
            };
            // First what was read already, then what streams.
            if fwd.retained_sent < fwd.retained.len() {
                match up.stream.write(&fwd.retained[fwd.retained_sent..], turn.now) {
                    Io::Data(n) => {
                        fwd.retained_sent += n;
                        fwd.total += n as u64;
                        continue;
                    }
                    Io::Blocked => return Progress::Wait,
                    failed => return self.upstream_broke(failed, turn.log),
                }
            }
            if fwd.pending > 0 {
                match send_front(&mut up.stream, &mut self.inbuf, &mut fwd.pending, turn.now) {
                    Io::Data(n) => {
                        fwd.total += n as u64;
                        continue;
                    }
                    Io::Blocked => return Progress::Wait,
                    failed => return self.upstream_broke(failed, turn.log),
                }
            }
            if let Some(request) = fwd.finished.take() {
                let total = fwd.total;
                self.log(turn.log, "forward", &[("bytes", Field::Num(total))]);
                return match request {
                    None => Progress::Next(Event::Forwarded),
                    // The request came through the forward itself.
                    Some(Ok(info)) => self.request_arrived(info, false, turn),
                    Some(Err(bad)) => {
                        let reason = bad.to_string();
                        self.log(turn.log, "bad-request", &[("why", Field::Str(&reason))]);
                        Progress::Next(Event::BadRequest(bad))
                    }
                };
            }
            // Take what belongs to the forward from the client's bytes.
            let finished = &mut fwd.finished;
            match &mut fwd.from_client {
                FromClient::Nothing => *finished = Some(None),
                FromClient::Raw(0) => *finished = Some(None),
                FromClient::Raw(left) => {
                    let take = (*left).min(self.inbuf.len() as u64);
                    *left -= take;
                    fwd.pending = take as usize;
                }
                FromClient::Body(reader) => {
                    let fed = reader.feed(&self.inbuf);
                    fwd.pending = fed.consumed;
                    match fed.status {
                        Status::Partial => {}
                        Status::Complete(_) => *finished = Some(None),
                        Status::Bad(bad) => *finished = Some(Some(Err(bad))),
                    }
                }
                FromClient::Request(reader) => {
                    let fed = reader.feed(&self.inbuf);
                    fwd.pending = fed.consumed;
                    match fed.status {
                        Status::Partial => {}
                        Status::Complete(info) => *finished = Some(Some(Ok(info))),
                        Status::Bad(bad) => *finished = Some(Some(Err(bad))),
                    }
                }
            }
            if fwd.pending > 0 || fwd.finished.is_some() {
                continue;
            }
            if !self.stream.is_readable() {
                return Progress::Wait;
            }
            if self.inbuf.len() >= BUFFER_LIMIT {
                // Cannot happen: what is buffered was taken above.
                return Progress::Wait;
            }
            let want = BUFFER_LIMIT - self.inbuf.len();
            let inbuf = &mut self.inbuf;
            match self.stream.read(want, |bytes| inbuf.extend_from_slice(bytes)) {
                Io::Data(_) => {}
                Io::Blocked => return Progress::Wait,
                Io::Eof => {
                    // The client half-closed: so does the upstream side.
                    self.peer_half_closed = true;
                    self.log(turn.log, "peer-half-close", &[]);
                    if let Some(up) = upstream_mut(&mut self.proxy) {
                        let _ = up.stream.shutdown_write();
                        up.write_shut = true;
                    }
                    let State::Forwarding(fwd) = &self.state else {
                        return Progress::Closed;
                    };
                    self.log(turn.log, "forward", &[("bytes", Field::Num(fwd.total))]);
                    return Progress::Next(Event::Forwarded);
                }
                failed => return self.fail_progress(failed, turn.log),
            }
        }
    }

    pub(super) fn progress_relay(&mut self, now: Instant, log: &mut Log) -> Progress {
        loop {
            let (State::Relaying(relaying), Some(up)) = (&mut self.state, upstream_mut(&mut self.proxy)) else {
                return Progress::Closed;
            };
            if relaying.pending > 0 {
                match send_front(&mut self.stream, &mut up.inbuf, &mut relaying.pending, now) {
                    Io::Data(n) => {
                        relaying.sent += n as u64;
                        if relaying.pending == 0
                            && let Some(Pace::Every(pause)) = relaying.relay.pace
                        {
                            relaying.resume_at = Some(now + pause);
                        }
                        continue;
                    }
                    Io::Blocked => return Progress::Wait,
                    failed => return self.fail_progress(failed, log),
                }
            }
            let limit_reached = relaying.relay.limit.is_some_and(|limit| relaying.sent >= limit);
            if relaying.whole || limit_reached {
                let head = up.response.as_ref().and_then(|r| r.head.clone());
                let fields = [("bytes", Field::Num(relaying.sent))];
                if relaying.whole && up.response.as_ref().is_some_and(|r| r.complete) {
                    up.response = None;
                }
                if up.inbuf.is_empty() && up.inbuf.capacity() > 4096 {
                    up.inbuf = Vec::new();
                }
                log_line(self.id, self.accepted, log, "relay", &fields);
                if up.eof || up.broken.is_some() {
                    // The upstream is gone: the client hears of it now.
                    return self.mirror_upstream_end(now, log);
                }
                return Progress::Next(Event::Relayed(head));
            }
            if let Some(at) = relaying.resume_at {
                if now < at {
                    return Progress::Wait;
                }
                relaying.resume_at = None;
            }
            // How many buffered upstream bytes this relay may take now.
            let mut room = up.inbuf.len();
            if let Some(limit) = relaying.relay.limit {
                room = room.min((limit - relaying.sent) as usize);
            }
            match relaying.relay.pace {
                Some(Pace::Every(_)) => room = room.min(PACE_CHUNK),
                Some(Pace::Rate(rate)) => {
                    let allowed = allowance(rate, relaying.started, now, relaying.sent);
                    if allowed == 0 && room > 0 {
                        relaying.resume_at = Some(next_allowance(rate, relaying.started, relaying.sent));
                        continue;
                    }
                    room = room.min(allowed);
                }
                None => {}
            }
            if room > 0 {
                let window = &up.inbuf[..room];
                let taken = match relaying.relay.what {
                    RelayWhat::Response | RelayWhat::Body => relay_framed(up.response.as_mut(), window, false),
                    RelayWhat::Head => relay_framed(up.response.as_mut(), window, true),
                    RelayWhat::Bytes(n) => (room as u64).min(n - relaying.sent) as usize,
                    RelayWhat::Eof | RelayWhat::Both => room,
                };
                relaying.pending = taken;
                relaying.whole = match relaying.relay.what {
                    RelayWhat::Response | RelayWhat::Body => up.response.as_ref().is_none_or(|r| r.complete),
                    RelayWhat::Head => up.response.as_ref().is_none_or(|r| r.head.is_some()),
                    RelayWhat::Bytes(n) => relaying.sent + taken as u64 >= n,
                    RelayWhat::Eof | RelayWhat::Both => false,
                };
                if taken > 0 || relaying.whole {
                    continue;
                }
            } else if matches!(relaying.relay.what, RelayWhat::Bytes(0))
                || (relaying.relay.what == RelayWhat::Body && up.response.as_ref().is_some_and(|r| r.complete))
            {
                // Nothing to relay: a zero count, or a body already whole.
                relaying.whole = true;
                continue;
            }
            if up.eof || up.broken.is_some() {
                // Everything before the end is out: mirror the end.
                if let Some(reader) = up.response.as_mut() {
                    reader.on_close();
                }
                let fields = [("bytes", Field::Num(relaying.sent))];
                self.log(log, "relay", &fields);
                return self.mirror_upstream_end(now, log);
            }
            match up.read_more() {
                Io::Data(_) => {}
                Io::Blocked => return Progress::Wait,
                Io::Eof => up.eof = true,
                Io::Reset(e) | Io::Failed(e) => up.broken = Some(e.to_string()),
            }
        }
    }

    pub(super) fn progress_both(&mut self, now: Instant, log: &mut Log) -> Progress {
        loop {
            let (State::Both(both), Some(up)) = (&mut self.state, upstream_mut(&mut self.proxy)) else {
                return Progress::Closed;
            };
            let mut moved = false;
            // Client to upstream: everything, as it comes.
            if !self.inbuf.is_empty() && !up.write_shut {
                let mut all = self.inbuf.len();
                match send_front(&mut up.stream, &mut self.inbuf, &mut all, now) {
                    Io::Data(n) => {
                        both.to_upstream += n as u64;
                        moved = true;
                    }
                    Io::Blocked => {}
                    Io::Eof => {}
                    Io::Reset(e) | Io::Failed(e) => up.broken = Some(e.to_string()),
                }
            }
            if self.inbuf.is_empty() && both.client_eof && !up.write_shut {
                // The client's FIN passes through.
                let _ = up.stream.shutdown_write();
                up.write_shut = true;
                log_line(self.id, self.accepted, log, "upstream-half-close", &[]);
            }
            // Upstream to client, within the limit and the pace.
            let limit_left = both.limit.map_or(usize::MAX, |l| (l - both.to_client.min(l)) as usize);
            let mut room = up.inbuf.len().min(limit_left);
            if let Some(at) = both.resume_at
                && now < at
            {
                room = 0;
            }
            match both.pace {
                Some(Pace::Every(_)) => room = room.min(PACE_CHUNK),
                Some(Pace::Rate(rate)) => {
                    let allowed = allowance(rate, both.started, now, both.to_client);
                    if allowed == 0 && room > 0 {
                        both.resume_at = Some(next_allowance(rate, both.started, both.to_client));
                    }
                    room = room.min(allowed);
                }
                None => {}
            }
            if room > 0 {
                match send_front(&mut self.stream, &mut up.inbuf, &mut room, now) {
                    Io::Data(n) => {
                        both.to_client += n as u64;
                        moved = true;
                        if let Some(Pace::Every(pause)) = both.pace {
                            both.resume_at = Some(now + pause);
                        }
                    }
                    Io::Blocked => {}
                    failed => return self.fail_progress(failed, log),
                }
            }
            if both.limit.is_some_and(|l| both.to_client >= l) {
                let fields = [
                    ("bytes", Field::Num(both.to_client)),
                    ("bytes_up", Field::Num(both.to_upstream)),
                ];
                self.log(log, "relay", &fields);
                return Progress::Next(Event::Relayed(None));
            }
            if up.inbuf.is_empty() && (up.eof || up.broken.is_some()) {
                if up.broken.is_some() || both.client_eof {
                    // An RST passes through; a FIN after the client's own
                    // is the end of both directions.
                    let fields = [
                        ("bytes", Field::Num(both.to_client)),
                        ("bytes_up", Field::Num(both.to_upstream)),
                    ];
                    self.log(log, "relay", &fields);
                    return self.mirror_upstream_end(now, log);
                }
                if !self.stream.is_write_shut() {
                    // The upstream's FIN passes through; the client may
                    // still send.
                    if let Err(e) = self.stream.shutdown_write() {
                        return self.fail_progress(Io::Failed(e), log);
                    }
                    self.log(log, "half-close", &[]);
                }
            }
            // Read each side while its buffer has room.
            let (State::Both(both), Some(up)) = (&mut self.state, upstream_mut(&mut self.proxy)) else {
                return Progress::Closed;
            };
            if !up.eof && up.broken.is_none() {
                match up.read_more() {
                    Io::Data(_) => moved = true,
                    Io::Blocked => {}
                    Io::Eof => {
                        up.eof = true;
                        moved = true;
                        log_line(self.id, self.accepted, log, "upstream-fin", &[]);
                    }
                    Io::Reset(e) | Io::Failed(e) => {
                        up.broken = Some(e.to_string());
                        moved = true;
                    }
                }
            }
            if !both.client_eof && self.inbuf.len() < BUFFER_LIMIT && self.stream.is_readable() {
                let want = BUFFER_LIMIT - self.inbuf.len();
                let inbuf = &mut self.inbuf;
                match self.stream.read(want, |bytes| inbuf.extend_from_slice(bytes)) {
                    Io::Data(_) => moved = true,
                    Io::Blocked => {}
                    Io::Eof => {
                        both.client_eof = true;
                        moved = true;
                        if !self.peer_half_closed {
                            self.peer_half_closed = true;
                            log_line(self.id, self.accepted, log, "peer-half-close", &[]);
                        }
                    }
                    failed => {
                        // The client's RST passes through to the upstream.
                        return self.fail_progress(failed, log);
                    }
                }
            }
            let client_eof = matches!(&self.state, State::Both(both) if both.client_eof);
            if client_eof && self.stream.is_write_shut() && self.inbuf.is_empty() {
                // Both directions ended with FIN.
                let up_buffered = self
                    .proxy
                    .as_ref()
                    .and_then(|p| p.upstream.as_ref())
                    .is_none_or(|up| up.inbuf.is_empty());
                if up_buffered {
                    self.close(true, log);
                    return Progress::Closed;
                }
            }
            if !moved {
                return Progress::Wait;
            }
        }
    }

    /// `upstream reset | close | half-close`.
    fn end_upstream(&mut self, end: UpstreamEnd, turn: &mut Turn) -> Flow {
        let Some(up) = upstream_mut(&mut self.proxy) else {
            return Flow::Open;
        };
        let how = match end {
            UpstreamEnd::Reset => {
                let _ = up.stream.reset();
                "rst"
            }
            UpstreamEnd::Close => {
                up.stream.close();
                "fin"
            }
            UpstreamEnd::HalfClose => {
                let _ = up.stream.shutdown_write();
                up.write_shut = true;
                "half-close"
            }
        };
        if !matches!(end, UpstreamEnd::HalfClose) {
            if let Some(proxy) = self.proxy.as_mut() {
                proxy.upstream = None;
            }
            self.proxy.get_or_insert_with(Box::default).upstream_ended =
                Some(if end == UpstreamEnd::Reset { End::Rst } else { End::Fin });
        }
        self.log(turn.log, "upstream-end", &[("how", Field::Str(how))]);
        self.state = State::Sleeping { until: turn.now };
        Flow::Open
    }

    /// The upstream ended (FIN, RST or an error) and everything it sent
    /// before is out: the client gets the same end.
    fn mirror_upstream_end(&mut self, now: Instant, log: &mut Log) -> Progress {
        let Some(up) = self.proxy.as_mut().and_then(|p| p.upstream.take()) else {
            return Progress::Closed;
        };
        self.proxy.get_or_insert_with(Box::default).upstream_ended = Some(if up.broken.is_some() {
            End::PeerRst
        } else {
            End::PeerFin
        });
        match up.broken {
            Some(why) => {
                self.log(
                    log,
                    "upstream-end",
                    &[("how", Field::Str(End::PeerRst.name())), ("error", Field::Str(&why))],
                );
                self.state = State::flushing(now);
                Progress::Again
            }
            None => {
                self.log(log, "upstream-end", &[("how", Field::Str(End::PeerFin.name()))]);
                self.close(true, log);
                Progress::Closed
            }
        }
    }

    /// A write upstream failed: the upstream is gone; mirror it.
    fn upstream_broke(&mut self, failed: Io, log: &mut Log) -> Progress {
        if let (Some(up), Io::Reset(e) | Io::Failed(e)) = (upstream_mut(&mut self.proxy), failed) {
            up.broken = Some(e.to_string());
        }
        self.mirror_upstream_end(Instant::now(), log)
    }

    /// Between proxy steps: notice an upstream that closes or resets an
    /// idle connection, and mirror it at once.
    pub(super) fn watch_upstream(&mut self, now: Instant, log: &mut Log) -> Flow {
        let Some(up) = upstream_mut(&mut self.proxy) else {
            return Flow::Open;
        };
        if !up.connected {
            return Flow::Open;
        }
        loop {
            match up.read_more() {
                Io::Data(_) => continue,
                Io::Blocked => return Flow::Open,
                Io::Eof => up.eof = true,
                Io::Reset(e) | Io::Failed(e) => up.broken = Some(e.to_string()),
            }
            break;
        }
        // Bytes it sent unasked stay buffered for the next relay; its end
        // reaches the client now.
        match self.mirror_upstream_end(now, log) {
            Progress::Closed => Flow::Closed,
            _ => Flow::Open,
        }
    }

    /// Take in the upstream's readiness.
    pub(super) fn on_upstream_event(&mut self, event: &mio::event::Event) {
        if let Some(up) = upstream_mut(&mut self.proxy) {
            up.stream.on_event(event);
        }
    }

    /// The connection is over: the upstream side ends the way the client
    /// side did (an RST from the client is an RST upstream).
    pub(super) fn end_upstream_with(&mut self, how: End, log: &mut Log) {
        let Some(mut up) = self.proxy.as_mut().and_then(|p| p.upstream.take()) else {
            return;
        };
        let end = if how == End::PeerRst {
            let _ = up.stream.reset();
            End::Rst
        } else {
            up.stream.close();
            End::Fin
        };
        self.proxy.get_or_insert_with(Box::default).upstream_ended = Some(end);
        self.log(log, "upstream-end", &[("how", Field::Str(end.name()))]);
    }

    /// A proxy step the interpreter asked for.
    pub(super) fn proxy_step(step: &Step) -> Option<Pending> {
        match step {
            Step::Forward(what) => Some(Pending::Forward(*what)),
            Step::Relay(relay) => Some(Pending::Relay(*relay)),
            Step::Upstream(end) => Some(Pending::End(*end)),
            _ => None,
        }
    }

    /// Whether the script is in a proxy step that waits on the upstream.
    pub(super) fn in_proxy_step(&self) -> bool {
        matches!(
            self.state,
            State::Connecting { .. } | State::Forwarding(_) | State::Relaying(_) | State::Both(_)
        )
    }

    /// When a paced relay or a connect wants to be woken.
    pub(super) fn proxy_poll_at(&self) -> Option<Instant> {
        match &self.state {
            State::Connecting { give_up_at, .. } => Some(*give_up_at),
            State::Relaying(relaying) => relaying.resume_at,
            State::Both(both) => both.resume_at,
            _ => None,
        }
    }
}

/// Write the first `pending` bytes of `buf` to `to`, and drop from `buf`
/// (and from `pending`) what went out.
fn send_front(to: &mut Stream, buf: &mut Vec<u8>, pending: &mut usize, now: Instant) -> Io {
    let io = to.write(&buf[..*pending], now);
    if let Io::Data(n) = io {
        buf.drain(..n);
        *pending -= n;
    }
    io
}

/// Relay what `window` holds of the response being read: all of it up to
/// its end, or to the end of its head.
fn relay_framed(reader: Option<&mut ResponseReader>, window: &[u8], head_only: bool) -> usize {
    let Some(reader) = reader else {
        return window.len();
    };
    if reader.malformed.is_some() {
        // Not HTTP: pass it through as it is, until the upstream ends.
        return window.len();
    }
    let used = if head_only {
        reader.feed_head_only(window)
    } else {
        reader.feed(window)
    };
    if reader.malformed.is_some() {
        return window.len();
    }
    if reader.head.as_ref().is_some_and(|h| h.framing == Framing::UntilClose) && !head_only {
        // Its end is the upstream's FIN.
        return window.len().max(used);
    }
    used
}

/// Bytes a relay at `rate` bytes per second may still send, `sent` of them
/// sent since `started`.
fn allowance(rate: u64, started: Instant, now: Instant, sent: u64) -> usize {
    let due = (now.saturating_duration_since(started).as_secs_f64() * rate as f64) as u64;
    // At least a small chunk at once, so a slow rate is not one byte per
    // wake-up; at most one pace chunk.
    let quantum = (rate / 50).clamp(1, PACE_CHUNK as u64);
    let due = due.max(quantum.min(rate));
    due.saturating_sub(sent).min(PACE_CHUNK as u64) as usize
}

/// When a relay at `rate` may send its next chunk.
fn next_allowance(rate: u64, started: Instant, sent: u64) -> Instant {
    let quantum = (rate / 50).clamp(1, PACE_CHUNK as u64);
    started + Duration::from_secs_f64((sent + quantum) as f64 / rate as f64)
}
