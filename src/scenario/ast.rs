//! The parsed form of a scenario.
//!
//! Parameters are substituted while parsing, so every value here is a
//! literal: the interpreter never looks a name up. Byte payloads borrow
//! nothing and can be large without being materialised (`Piece::Repeat`).

use std::time::Duration;

/// One scenario, ready to run on every connection.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    /// What the user called it: a built-in name or a file path.
    pub name: String,
    /// The first comment line, used by `hangup list`.
    pub summary: String,
    /// The parameters with their effective values (after `--set`).
    pub params: Vec<Param>,
    /// The script each connection runs, top to bottom.
    pub body: Vec<Stmt>,
    /// Runs instead of the rest of the body when a request is malformed;
    /// without `on bad-request` it is Node's default: 400, then close.
    pub on_bad_request: Vec<Stmt>,
    /// Runs when a request's header block is larger than 16 KiB; without
    /// `on headers-too-large` it is Node's default: 431, then close.
    pub on_headers_too_large: Vec<Stmt>,
    /// Runs when one chunk's extensions pass 16 KiB: the `on bad-request`
    /// block when there is one (Node's `clientError` sees both), else Node's
    /// default: 413, then close.
    pub on_chunk_extensions_too_large: Vec<Stmt>,
    /// Runs when the upstream refuses the connection or does not answer
    /// it in time; without `on upstream-error` it is nginx's: 502, then
    /// close.
    pub on_upstream_error: Vec<Stmt>,
    /// The script talks to an upstream (`forward`, `relay`, `upstream`):
    /// it can only be served with `--upstream`.
    pub proxies: bool,
    /// Whether a condition tests request headers: only then are they kept.
    pub uses_headers: bool,
    /// How many places draw by chance (`chance`, and each `between`); each
    /// has a number below this, its site, so that a draw's hash tells
    /// them apart. Zero: the run needs no seed.
    pub chance_sites: u32,
    /// Whether the script has a `read body`: only then is a head-only
    /// request's body reader kept for it.
    pub reads_body: bool,
    /// `accept never`: the server fills its accept queue and never accepts,
    /// so clients' connects time out; `body` is empty and never runs.
    pub accept_never: bool,
    /// `tls certificate DEFECT`: the leaf every handshake presents.
    pub tls_certificate: Option<crate::tls::options::Defect>,
    /// The script says when to handshake (`tls handshake`): `--tls` does
    /// not handshake at accept.
    pub handshakes: bool,
    /// A statement needs the TLS library (`tls handshake`, `tls
    /// close-notify`, `tls cut`, `tls certificate`): a build without the
    /// `tls` feature cannot serve the script, and `serve` makes
    /// certificates for it without `--tls`.
    pub needs_tls: bool,
    /// A `read tls-hello`: the script reads the ClientHello itself, so a
    /// handshake under it (`--tls`) would take the hello first.
    pub reads_tls_hello: bool,
    /// `tls alpn STRING…`: the application protocols `--tls`'s own
    /// handshake offers (`"h2" "http/1.1"` for HTTP/2 over TLS).
    pub alpn: Vec<Vec<u8>>,
    /// `h2 manual …`.
    pub h2_manual: H2Manual,
}

/// A named value declared with `param NAME = VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The name, without the `$` the script uses it with.
    pub name: String,
    /// The default, or the `--set` value that replaced it.
    pub value: Value,
}

/// A parameter's value; its kind is fixed by the default.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A time, like `250ms` or `2s`.
    Duration(Duration),
    /// A count or a size in bytes, like `3` or `64KiB`.
    Number(u64),
    /// A quoted string, as bytes.
    Bytes(Vec<u8>),
}

impl Value {
    /// The kind's name in the language, for errors about a misused `$name`.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Duration(_) => "duration",
            Value::Number(_) => "number",
            Value::Bytes(_) => "string",
        }
    }
}

/// One statement of the script.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// Wait for input. With `within`, a timeout; `on_timeout` runs when it
    /// expires (without it the script simply goes on).
    Read {
        /// What counts as read.
        what: ReadGoal,
        /// How long to wait; `None` waits as long as it takes.
        within: Option<Interval>,
        /// The `else` statement, run when `within` expires.
        on_timeout: Option<Box<Stmt>>,
    },
    /// Send exact bytes; with `every`, a piece at a time.
    Write {
        /// The bytes to send.
        payload: Payload,
        /// How to drip them; `None` sends them all at once.
        every: Option<Drip>,
    },
    /// Send a well-formed response built from its parts.
    Respond(Response),
    /// Do nothing for this long, then go on.
    Sleep(Interval),
    /// FIN. `drain` first reads what the peer already sent, so the kernel
    /// sends FIN rather than RST; `close now` keeps the kernel's rule.
    /// Under TLS, close_notify first, unless `close no-notify`.
    Close {
        /// True for `close`, false for `close now`.
        drain: bool,
        /// False for `close no-notify`: FIN without close_notify, the TLS
        /// fault OpenSSL 3 calls an unexpected EOF.
        notify: bool,
    },
    /// Abortive close (SO_LINGER 0) after the written bytes have left.
    Reset,
    /// shutdown(SHUT_WR): FIN, and the script goes on.
    HalfClose,
    /// Stay open and silent until the peer leaves.
    Hang,
    /// Run the body a number of times, or forever.
    Loop {
        /// How many times; `None` for `loop forever` or a bare `loop`.
        times: Option<u64>,
        /// The statements between `loop` and `end`.
        body: Vec<Stmt>,
    },
    /// Run the body of the first condition that holds, else `otherwise`.
    If {
        /// Each condition with its body, in order: the `if`, then each
        /// `else if`.
        branches: Vec<(Cond, Vec<Stmt>)>,
        /// The `else` body; empty when there is none.
        otherwise: Vec<Stmt>,
    },
    /// Print a line into the event log.
    Log(String),
    /// Send what the client sent on to the upstream.
    Forward(Forward),
    /// Send what the upstream sent on to the client (or both ways).
    Relay(Relay),
    /// End the upstream side on its own.
    Upstream(UpstreamEnd),
    /// `tls alert NAME [warning | fatal]`: a TLS alert: the plaintext
    /// record that ends a handshake before any ServerHello, or, after the
    /// handshake, one sealed with the connection's keys.
    TlsAlert(TlsAlert),
    /// `tls handshake …`: the server's side of the handshake, here.
    TlsHandshake(TlsHandshake),
    /// `tls close-notify`: send close_notify; the TCP connection stays.
    TlsCloseNotify,
    /// `tls cut after N bytes`: only N more bytes of TLS records reach
    /// the client; the rest is withheld for good.
    TlsCut(u64),
    /// `h2 …`: an HTTP/2 frame, on a connection that speaks HTTP/2.
    H2(H2Frame),
}

/// Which stream an `h2` statement's frame is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Stream {
    /// The stream of the request last read.
    Current,
    /// Stream 0: the connection.
    Connection,
    /// This stream id, whatever it is.
    Id(u32),
}

/// The last-stream-id of an `h2 goaway`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Last {
    /// The stream of the request last read (the highest seen).
    Current,
    /// 2^31-1: the first GOAWAY of a graceful drain.
    Max,
    /// This number.
    Id(u32),
}

/// What an `h2` statement sends.
#[derive(Debug, Clone, PartialEq)]
pub enum H2Frame {
    /// `h2 headers STATUS [header BYTES]… [end-stream] [stream …]`.
    Headers {
        /// The stream it goes on.
        stream: H2Stream,
        /// `:status`.
        status: u16,
        /// `name: value` pairs, names lowercased as HTTP/2 wants them.
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        /// END_STREAM: no DATA follows.
        end_stream: bool,
    },
    /// `h2 data BYTES [[SIZE] every DURATION] [end-stream]
    /// [ignore-window | stall-at-window] [stream …]`.
    Data {
        /// The stream it goes on.
        stream: H2Stream,
        /// The bytes, cut into frames of the client's largest size.
        payload: Payload,
        /// Sent a piece at a time, a DATA frame each.
        every: Option<Drip>,
        /// END_STREAM on the last frame.
        end_stream: bool,
        /// How the client's flow-control windows are treated.
        window: H2Window,
    },
    /// `h2 rst-stream ERROR [stream …]`.
    RstStream {
        /// The stream it resets.
        stream: H2Stream,
        /// Why.
        code: crate::h2::ErrorCode,
    },
    /// `h2 goaway [last-stream …] [error ERROR] [debug STRING]`.
    GoAway {
        /// The last stream the server says it processed.
        last: H2Last,
        /// Why (NO_ERROR: a graceful shutdown).
        code: crate::h2::ErrorCode,
        /// The debug data, opaque to the client (`too_many_pings`).
        debug: Vec<u8>,
    },
    /// `h2 settings [NAME VALUE]…` (none: an empty SETTINGS).
    Settings(Vec<(u16, u32)>),
    /// `h2 settings-ack`: the ACK `h2 manual settings-ack` withholds, or
    /// one nobody asked for.
    SettingsAck,
    /// `h2 ping [ack] [data STRING]`.
    Ping {
        /// The ACK flag: an answer to the client's PING.
        ack: bool,
        /// 8 bytes of opaque data, zeros by default.
        data: [u8; 8],
    },
    /// `h2 window-update INCREMENT [stream …]`.
    WindowUpdate {
        /// The stream whose window grows; the connection's by default.
        stream: H2Stream,
        /// By how much.
        increment: u32,
    },
    /// `h2 frame type N [flags N] [stream …] [length N] [payload BYTES]`:
    /// any bytes in a frame's shape.
    Raw {
        /// The type byte, defined or not.
        kind: u8,
        /// The flags byte.
        flags: u8,
        /// The stream it names.
        stream: H2Stream,
        /// The length field, when it is to lie about the payload's.
        declared_len: Option<u32>,
        /// The payload bytes.
        payload: Vec<u8>,
    },
}

/// How `h2 data` treats the client's flow-control windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Window {
    /// Send what the windows allow, and the rest as WINDOW_UPDATEs come.
    Honour,
    /// Send it all whatever they say (`ignore-window`).
    Ignore,
    /// Send what they allow now, and never the rest (`stall-at-window`):
    /// a server that stopped reading WINDOW_UPDATE.
    Stall,
}

/// Which answers an HTTP/2 connection leaves to the script (`h2 manual
/// …`): the others it sends by itself, as any server does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct H2Manual {
    /// The ACK of the client's SETTINGS.
    pub settings_ack: bool,
    /// The ACK of the client's PINGs.
    pub ping_ack: bool,
    /// WINDOW_UPDATEs that give back what the client's DATA used.
    pub window_update: bool,
}

/// `tls handshake [alpn STRING…] [version 1.2 | 1.3] [stall after
/// server-hello]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsHandshake {
    /// The application protocols offered, in order (none: no ALPN).
    pub alpn: Vec<Vec<u8>>,
    /// The versions offered.
    pub versions: crate::tls::options::Versions,
    /// Where the handshake stops on purpose, if it does.
    pub stall: Option<crate::tls::options::Stall>,
}

/// `tls alert NAME [warning | fatal]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsAlert {
    /// Which alert (RFC 8446 §6).
    pub alert: crate::tls::Alert,
    /// Its level: as written, or the one TLS 1.3 gives the alert.
    pub level: crate::tls::alert::Level,
    /// The 7 bytes to send, built at parse time.
    pub wire: Payload,
}

/// `write BYTES [SIZE [bytes]] every INTERVAL`: the bytes go in pieces of
/// `piece` bytes (the last may be shorter), `every` apart. Without a size
/// a piece is one byte, as `every` always meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drip {
    /// Bytes per piece; never zero.
    pub piece: u64,
    /// The pause after each piece but the last.
    pub every: Interval,
}

/// How long a `sleep`, a `write … every` pause or a `read … within`
/// limit lasts: one type for all three, so that each takes `between` the
/// same way and the interpreter draws it in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// A duration as written (`2s`, `$after`).
    Fixed(Duration),
    /// `between LOW and HIGH`: drawn anew each time it is used.
    Drawn(Between),
}

/// A duration drawn by chance from the seed (see `crate::chance`), each
/// time it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Between {
    /// The shortest it can be.
    pub low: Duration,
    /// The longest it can be, included; never below `low`.
    pub high: Duration,
    /// Which place of the script draws it (see [`Scenario::chance_sites`]).
    pub site: u32,
}

/// `chance HITS in OF` (or `chance P%`, which is `P in 100`): holds with
/// probability HITS/OF, drawn from the seed. `0 in N` never holds and
/// `N in N` always does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Odds {
    /// How many of `of` hold.
    pub hits: u64,
    /// Out of how many; never zero, never below `hits`.
    pub of: u64,
    /// Which place of the script draws it (see [`Scenario::chance_sites`]).
    pub site: u32,
}

/// What `forward` sends upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// The request just read, byte for byte; after `read head`, its body
    /// follows as it arrives. With no request read yet, the next one.
    Request,
    /// This many raw bytes of what the client sends.
    Bytes(u64),
}

/// `relay WHAT [limit SIZE | limit N chunks] [rate SIZE | every DURATION]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relay {
    /// What to carry, and so when the relay is done.
    pub what: RelayWhat,
    /// Stop before the relay is whole.
    pub limit: Option<Limit>,
    /// How fast; `None` for as fast as the sockets go.
    pub pace: Option<Pace>,
}

/// Where a `relay … limit` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Once this many bytes went from the upstream to the client.
    Bytes(u64),
    /// After this many chunks of a chunked body, each whole with its
    /// framing (`relay response` and `relay body` only; a body that is not
    /// chunked has none, and is relayed whole).
    Chunks(u64),
}

/// What a `relay` carries from the upstream to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayWhat {
    /// The next response, by its own framing; interim 1xx heads too.
    Response,
    /// The next response's head (after any interim 1xx heads).
    Head,
    /// The body of the response whose head was relayed.
    Body,
    /// Exactly this many bytes.
    Bytes(u64),
    /// Everything until the upstream's FIN, which the client then gets.
    Eof,
    /// Both ways until either side ends; that end is mirrored.
    Both,
}

/// How fast a relay goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// At most this many bytes per second.
    Rate(u64),
    /// A pause after each chunk (what one read brought, at most 16 KiB).
    Every(Duration),
}

/// `upstream reset | close | half-close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamEnd {
    /// Abortive close of the upstream connection: RST.
    Reset,
    /// Close the upstream connection: FIN.
    Close,
    /// shutdown(SHUT_WR) towards the upstream: FIN, and its answer can
    /// still be relayed.
    HalfClose,
}

/// What a `read` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadGoal {
    /// A whole request: head, then the body by Content-Length or chunked.
    Request,
    /// The request head only; the body stays unread.
    Head,
    /// The body of the request whose head was just read, by its framing
    /// (Content-Length or chunked); with `max`, at most that many bytes of
    /// it (the rest stays unread, and a next `read body` goes on with it).
    Body {
        /// The most bytes this read takes; `None`: the whole body.
        max: Option<u64>,
    },
    /// Exactly this many bytes, whatever they are.
    Bytes(u64),
    /// Everything until the peer half-closes (FIN).
    Eof,
    /// A TLS ClientHello: whole handshake records up to the end of the
    /// client's first handshake message, which must be one.
    TlsHello,
    /// The HTTP/2 connection preface and the client's first SETTINGS (h2c
    /// with prior knowledge, or h2 by ALPN).
    Preface,
}

/// Bytes to send, as pieces so that a large repeat is never materialised.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    /// Sent in order, each with one `send` (see [`Payload::push`]).
    pub pieces: Vec<Piece>,
}

/// A run of bytes in a [`Payload`].
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// These bytes, as they are.
    Bytes(Vec<u8>),
    /// `pattern` sent `count` times.
    Repeat {
        /// The bytes repeated; never empty.
        pattern: Vec<u8>,
        /// How many times they are sent.
        count: u64,
    },
}

impl Payload {
    /// Append a piece, merging it into the last one when both are plain
    /// bytes: each piece is one `send`, and with TCP_NODELAY one segment,
    /// so `write "a" "b"` and a response's head and body go out together.
    pub fn push(&mut self, piece: Piece) {
        if piece.is_empty() {
            return;
        }
        match (self.pieces.last_mut(), piece) {
            (Some(Piece::Bytes(last)), Piece::Bytes(more)) => last.extend_from_slice(&more),
            (_, piece) => self.pieces.push(piece),
        }
    }

    /// Saturating: a payload built outside the parser (a probe's
    /// generated body) may claim any length without overflowing.
    pub fn len(&self) -> u64 {
        self.pieces.iter().fold(0, |sum, piece| sum.saturating_add(piece.len()))
    }

    /// Bytes kept in memory: plain bytes, and each repeat's pattern once.
    pub fn held_bytes(&self) -> u64 {
        self.pieces
            .iter()
            .map(|piece| match piece {
                Piece::Bytes(b) => b.len() as u64,
                Piece::Repeat { pattern, .. } => pattern.len() as u64,
            })
            .sum()
    }

    /// True when there is no byte to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `len` bytes from `offset` on (fewer at the end), for writes
    /// that drip a piece at a time. A repeat stays a repeat in the middle,
    /// so a large piece of a large repeat is not materialised.
    pub fn slice(&self, mut offset: u64, mut len: u64) -> Payload {
        let mut out = Payload::default();
        for piece in &self.pieces {
            if len == 0 {
                break;
            }
            let piece_len = piece.len();
            if offset >= piece_len {
                offset -= piece_len;
                continue;
            }
            let take = len.min(piece_len - offset);
            match piece {
                Piece::Bytes(bytes) => {
                    out.push(Piece::Bytes(bytes[offset as usize..(offset + take) as usize].to_vec()));
                }
                Piece::Repeat { pattern, .. } => {
                    let p = pattern.len() as u64;
                    let (mut at, end) = (offset, offset + take);
                    // The pattern's tail, from mid-pattern to its end.
                    if !at.is_multiple_of(p) {
                        let upto = end.min(at.next_multiple_of(p));
                        out.push(Piece::Bytes(
                            pattern[(at % p) as usize..(upto - (at - at % p)) as usize].to_vec(),
                        ));
                        at = upto;
                    }
                    let whole = (end - at) / p;
                    out.push(Piece::Repeat {
                        pattern: pattern.clone(),
                        count: whole,
                    });
                    at += whole * p;
                    // The pattern's head, up to the end of the slice.
                    out.push(Piece::Bytes(pattern[..(end - at) as usize].to_vec()));
                }
            }
            len -= take;
            offset = 0;
        }
        out
    }

    /// The byte at `offset`, for writes that drip one byte at a time.
    pub fn byte_at(&self, mut offset: u64) -> Option<u8> {
        for piece in &self.pieces {
            let len = piece.len();
            if offset < len {
                return Some(match piece {
                    Piece::Bytes(b) => b[offset as usize],
                    Piece::Repeat { pattern, .. } => pattern[(offset % pattern.len() as u64) as usize],
                });
            }
            offset -= len;
        }
        None
    }

    /// All bytes in one buffer; for tests and small payloads.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() as usize);
        for piece in &self.pieces {
            match piece {
                Piece::Bytes(b) => out.extend_from_slice(b),
                Piece::Repeat { pattern, count } => {
                    for _ in 0..*count {
                        out.extend_from_slice(pattern);
                    }
                }
            }
        }
        out
    }
}

impl Piece {
    /// Whether `byte` is among the bytes it sends.
    pub fn contains(&self, byte: u8) -> bool {
        match self {
            Piece::Bytes(b) => b.contains(&byte),
            Piece::Repeat { pattern, count } => *count > 0 && pattern.contains(&byte),
        }
    }

    /// The bytes it sends: a repeat's pattern times its count, saturating.
    pub fn len(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Repeat { pattern, count } => (pattern.len() as u64).saturating_mul(*count),
        }
    }

    /// True when it sends no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `respond STATUS [reason R] [header H]... [body B... [anyway]] [chunked]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The status code, any three digits (100 to 999).
    pub status: u16,
    /// The reason phrase; `None` for the standard one of the status.
    pub reason: Option<Vec<u8>>,
    /// Each header as one `Name: value` line, without its CRLF: the bytes
    /// of its values in a row, so that a large `repeat` stays a repeat.
    pub headers: Vec<Payload>,
    /// The body, without chunked framing.
    pub body: Payload,
    /// Send the body as one chunk with `Transfer-Encoding: chunked`
    /// instead of a `Content-Length`.
    pub chunked: bool,
    /// Whether the body goes where HTTP says there is none.
    pub send_body: SendBody,
    /// The bytes to send, built at parse time (see `respond.rs`).
    pub wire: Payload,
    /// The same for a HEAD request: no body.
    pub wire_for_head: Payload,
    /// The header fields on HTTP/2 (see `respond::h2_fields`).
    pub h2_fields: Vec<crate::http::Header>,
}

impl Response {
    /// The HTTP/1.1 bytes answering `to` (built when the scenario was
    /// parsed).
    pub fn wire(&self, to: crate::scenario::respond::Request) -> &Payload {
        match to {
            crate::scenario::respond::Request::Head => &self.wire_for_head,
            crate::scenario::respond::Request::Other => &self.wire,
        }
    }
}

/// When a `respond` sends its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendBody {
    /// As HTTP says (RFC 9110): not for a HEAD request, nor with a 1xx,
    /// 204 or 304 status.
    WhenAllowed,
    /// `body … anyway`: always, after the head as HTTP frames it (a 204
    /// with no `Content-Length`, a HEAD request's answer with the body's):
    /// the broken server a client has to survive.
    Anyway,
}

/// A condition of `if`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// A single test.
    Atom(Atom),
    /// `not`: holds when the inner condition does not.
    Not(Box<Cond>),
    /// `and`: holds when both do.
    And(Box<Cond>, Box<Cond>),
    /// `or`: holds when either does.
    Or(Box<Cond>, Box<Cond>),
}

/// One test in a condition. Those about the request look at the last one
/// read and are false before any; those about the upstream are false
/// until a response head was relayed.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    /// The number of requests read on this connection, compared.
    Request(Cmp, u64),
    /// The connection's number since the server started, compared.
    Connection(Cmp, u64),
    /// `method is M`: the request's method, ignoring ASCII case.
    Method(Vec<u8>),
    /// `path is` or `path starts-with`: the request target as sent,
    /// query included.
    Path(TextTest),
    /// `header NAME` (present) or `header NAME is VALUE`.
    Header(Vec<u8>, Option<Vec<u8>>),
    /// The number of requests the whole server has read, this one included.
    ServerRequest(Cmp, u64),
    /// The status of the upstream response whose head was relayed.
    UpstreamStatus(Cmp, u64),
    /// Its `Content-Length`, compared (false when it has none).
    UpstreamLength(Cmp, u64),
    /// `upstream header NAME [is VALUE]` of that response.
    UpstreamHeader(Vec<u8>, Option<Vec<u8>>),
    /// `chance 1 in 3`: holds by chance, repeatably for a seed.
    Chance(Odds),
}

/// How a condition compares a count with the script's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `is` or `==`.
    Eq,
    /// `is not` or `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// Divisible by: `connection every 3` is true for 3, 6, 9...
    Every,
}

impl Cmp {
    /// Whether the count `left` compares so with the number `right`.
    pub fn holds(self, left: u64, right: u64) -> bool {
        match self {
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Gt => left > right,
            Cmp::Ge => left >= right,
            Cmp::Every => right != 0 && left != 0 && left.is_multiple_of(right),
        }
    }
}

/// How a condition tests text such as the path.
#[derive(Debug, Clone, PartialEq)]
pub enum TextTest {
    /// `is`: the whole text equals these bytes.
    Is(Vec<u8>),
    /// `starts-with`: the text begins with these bytes.
    StartsWith(Vec<u8>),
}

impl TextTest {
    /// Whether `text` passes the test.
    pub fn holds(&self, text: &[u8]) -> bool {
        match self {
            TextTest::Is(want) => text == want.as_slice(),
            TextTest::StartsWith(prefix) => text.starts_with(prefix),
        }
    }
}
