//! What the parser found, and what it expected there: the two halves of
//! "expected …, found …", with the keyword sets that "did you mean" picks
//! from.

use std::fmt;

/// The words that may start a statement, in the order errors list them.
pub const STATEMENT_WORDS: &[&str] = &[
    "read",
    "write",
    "respond",
    "sleep",
    "close",
    "reset",
    "half-close",
    "hang",
    "loop",
    "if",
    "log",
    "forward",
    "relay",
    "upstream",
    "tls",
    "h2",
];

/// A token as an error names it ("found …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A keyword or a name.
    Word(String),
    /// A number with its unit, as written.
    Number(String),
    /// A quoted string.
    Str,
    /// `$name`.
    Var(String),
    /// `=`, `==`, `<`…
    Op(&'static str),
    /// The end of the line.
    LineEnd,
    /// The end of the text.
    FileEnd,
    /// Text the lexer refused (and reported) already.
    Invalid,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Word(w) => write!(f, "`{w}`"),
            Found::Number(n) => write!(f, "`{n}`"),
            Found::Str => write!(f, "a string"),
            Found::Var(v) => write!(f, "`${v}`"),
            Found::Op(op) => write!(f, "`{op}`"),
            Found::LineEnd => write!(f, "end of line"),
            Found::FileEnd => write!(f, "end of file"),
            Found::Invalid => write!(f, "text that is not valid"),
        }
    }
}

/// What the parser expected where it found something else: one keyword,
/// or one of the sets the grammar has at that point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// This keyword.
    Word(&'static str),
    /// The end of the line.
    LineEnd,
    /// A statement's first word.
    Statement,
    /// What a `read` reads.
    ReadGoal,
    /// What a `forward` sends.
    ForwardGoal,
    /// What a `relay` carries.
    RelayGoal,
    /// How `upstream` ends the upstream side.
    UpstreamEnd,
    /// The name of an `on` handler.
    Handler,
    /// What may follow `loop`.
    LoopCount,
    /// The start of a condition.
    Condition,
    /// A comparison in a condition.
    Comparison,
    /// `is` or `starts-with`, after `path`.
    PathTest,
    /// What `upstream` tests in a condition.
    UpstreamTest,
    /// `in` or `percent`, after `chance N`.
    Odds,
    /// A method, after `method is`.
    Method,
    /// A duration.
    Duration,
    /// A number or size.
    Number,
    /// A parameter's default.
    ParamValue,
    /// The bytes of a `write`.
    WriteBytes,
    /// The bytes of a `header`.
    HeaderBytes,
    /// The bytes of a `body`.
    BodyBytes,
    /// The string of a `log`.
    LogMessage,
    /// The string of a `reason`.
    Reason,
    /// The string of a `hex`.
    HexDigits,
    /// The string of a `repeat`.
    RepeatPattern,
    /// The string of a `file`.
    FileName,
    /// The string of `path is`.
    Path,
    /// The string of `path starts-with`.
    PathPrefix,
    /// The name of a `header` condition.
    HeaderName,
    /// The value of a `header … is` condition.
    HeaderValue,
    /// The alert of `tls alert`.
    AlertName,
    /// What follows `tls`.
    TlsAction,
    /// A protocol after `alpn`.
    AlpnProtocol,
    /// A defect after `tls certificate`.
    Defect,
    /// What follows `h2`.
    H2Frame,
    /// An HTTP/2 error code.
    H2Error,
    /// The data of `h2 ping`.
    PingData,
    /// The debug text of `h2 goaway`.
    DebugText,
    /// What `h2 manual` leaves to the script.
    H2Manual,
}

impl Expected {
    /// The keywords this set holds, for "did you mean": a mistyped word is
    /// compared with them (and with the one of [`Expected::Word`]).
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Expected::Word(_) => &[],
            Expected::Statement => STATEMENT_WORDS,
            Expected::ReadGoal => &["request", "head", "body", "until", "tls-hello", "preface"],
            Expected::TlsAction => &["alert", "handshake", "close-notify", "cut", "certificate", "alpn"],
            Expected::Defect => &["expired", "not-yet-valid", "wrong-host", "self-signed", "unknown-ca"],
            Expected::H2Frame => &[
                "headers",
                "data",
                "rst-stream",
                "goaway",
                "settings",
                "settings-ack",
                "ping",
                "window-update",
                "frame",
                "manual",
            ],
            Expected::H2Manual => &crate::scenario::parser::H2_MANUAL_WORDS,
            Expected::ForwardGoal => &["request"],
            Expected::RelayGoal => &["response", "head", "body", "until", "both"],
            Expected::UpstreamEnd => &["reset", "close", "half-close"],
            Expected::Handler => &["bad-request", "headers-too-large", "upstream-error"],
            Expected::LoopCount => &["forever"],
            Expected::Condition => &[
                "request",
                "connection",
                "server",
                "method",
                "path",
                "header",
                "chance",
                "upstream",
                "not",
            ],
            Expected::Comparison => &["is", "every"],
            Expected::PathTest => &["is", "starts-with"],
            Expected::UpstreamTest => &["status", "length", "header"],
            Expected::Odds => &["in", "percent"],
            Expected::WriteBytes | Expected::HeaderBytes | Expected::BodyBytes => &["hex", "repeat", "file"],
            _ => &[],
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Expected::Word(word) => return write!(f, "`{word}`"),
            Expected::Statement => return write!(f, "a statement ({})", STATEMENT_WORDS.join(", ")),
            Expected::LineEnd => "end of line",
            Expected::ReadGoal => {
                "what to read: `request`, `head`, `body`, a byte count, `until eof`, `tls-hello` or `preface`"
            }
            Expected::ForwardGoal => "what to forward: `request` or a byte count",
            Expected::RelayGoal => "what to relay: `response`, `head`, `body`, a byte count, `until eof` or `both`",
            Expected::UpstreamEnd => "how to end the upstream side: `reset`, `close` or `half-close`",
            Expected::Handler => "`bad-request`, `headers-too-large` or `upstream-error`",
            Expected::LoopCount => "`N times`, `forever` or end of line after `loop`",
            Expected::Condition => {
                "a condition: `request`, `connection`, `server request`, `method`, `path`, `header`, \
                 `chance`, `upstream status`, `upstream length`, `upstream header` or `not`"
            }
            Expected::Comparison => "a comparison: `is`, `is not`, `every`, `==`, `!=`, `<`, `<=`, `>` or `>=`",
            Expected::PathTest => "`is` or `starts-with`",
            Expected::UpstreamTest => "`status`, `length` or `header` after `upstream`",
            Expected::Odds => "`in`, as in `chance 1 in 3`, or `percent`, as in `chance 5 percent`",
            Expected::Method => "a method like GET",
            Expected::Duration => "a duration like 250ms or 2s",
            Expected::Number => "a number",
            Expected::ParamValue => "a value (a duration, a number or a string)",
            Expected::WriteBytes => "bytes to write: a string, `hex \"…\"`, `repeat N \"…\"`",
            Expected::HeaderBytes => {
                "a header: a string like \"Content-Type: text/plain\", then any of `hex \"…\"`, \
                 `repeat N \"…\"`, `file \"…\"` or more strings"
            }
            Expected::BodyBytes => "the body: a string, `hex \"…\"` or `repeat N \"…\"`",
            Expected::LogMessage => "a message string",
            Expected::Reason => "a reason phrase string",
            Expected::HexDigits => "a string of hex digits, like \"0d0a\"",
            Expected::RepeatPattern => "the string to repeat",
            Expected::FileName => "a file name string, like \"body.bin\"",
            Expected::Path => "a path string like \"/upload\"",
            Expected::PathPrefix => "a path prefix string like \"/api/\"",
            Expected::HeaderName => "a header name string",
            Expected::HeaderValue => "a header value string",
            Expected::AlertName => "a TLS alert's name, like internal_error or handshake_failure (RFC 8446 §6)",
            Expected::TlsAction => {
                "`alert`, `handshake`, `close-notify`, `cut` or (at the top of the file) `certificate` or `alpn` \
                 after `tls`"
            }
            Expected::AlpnProtocol => "a protocol name as a string, like \"h2\" or \"http/1.1\"",
            Expected::Defect => {
                "a certificate defect: `expired`, `not-yet-valid`, `wrong-host`, `self-signed` or `unknown-ca`"
            }
            Expected::H2Frame => {
                "a frame after `h2`: `headers`, `data`, `rst-stream`, `goaway`, `settings`, `settings-ack`, \
                 `ping`, `window-update` or `frame`"
            }
            Expected::H2Error => {
                "an HTTP/2 error code, like INTERNAL_ERROR or REFUSED_STREAM (RFC 9113 §7), or a number"
            }
            Expected::PingData => "the PING's data: a string of up to 8 bytes",
            Expected::DebugText => "the GOAWAY's debug data, as a string",
            Expected::H2Manual => "`settings-ack`, `ping-ack` or `window-update` after `h2 manual`",
        };
        f.write_str(text)
    }
}
