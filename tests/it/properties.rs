//! Bad input, proven by properties: whatever text, bytes or arguments
//! arrive, hangup answers with a result or a clear error, never a panic.
//!
//! Each property runs 120 to 2,000 random cases (proptest); a failure is
//! shrunk to a minimal input and printed. The case counts keep the whole
//! file to a few seconds in a debug build: scenario text and request
//! bytes run in-process against the library, the command line spawns the
//! real binary (120 processes, at most 64 more while shrinking a failure),
//! and every generated command stays on loopback: it listens only on
//! `127.0.0.1:0` or `[::1]:0` (or on an invalid address), probes only a
//! closed loopback port, and a `serve` that starts is killed by its PID as
//! soon as it says `listening on`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::BIN;
use hangup::http::{BadRequest, Headers, NODE_HEADER_LIMIT, RequestInfo, RequestReader, Status};
use hangup::scenario::catalog::BUILTINS;
use hangup::scenario::error::{ErrorKind, Span};
use hangup::scenario::parser::parse;
use proptest::prelude::*;
use proptest::sample::{Index, select};

fn no_overrides() -> BTreeMap<String, String> {
    BTreeMap::new()
}

// ---------------------------------------------------------------------------
// Scenario text

/// Whether `span` points inside `text`. The lines are those the error
/// display shows (`str::lines`: a trailing newline starts no new line; an
/// empty text is one empty line). The caret may sit on any character of
/// its line or just past its end, where "end of line" and "end of file"
/// errors point; the width keeps it there too.
fn span_inside(text: &str, span: Span) -> Result<(), String> {
    let lines: Vec<&str> = text.lines().collect();
    let count = lines.len().max(1);
    if !(1..=count).contains(&span.line) {
        return Err(format!("line {} is not in 1..={count}", span.line));
    }
    let len = lines.get(span.line - 1).map_or(0, |l| l.chars().count());
    if span.col < 1 || span.width < 1 || span.col + span.width - 1 > len + 1 {
        return Err(format!(
            "col {} width {} is off line {} ({len} characters)",
            span.col, span.width, span.line
        ));
    }
    Ok(())
}

/// The property every scenario text must have: it parses, or each of its
/// errors points inside it, in the order of the text, at most 20 and a
/// last line that says so.
fn parses_or_points_inside(text: &str) -> Result<(), TestCaseError> {
    match parse(text, &no_overrides()) {
        Ok(_) => Ok(()),
        Err(diagnostics) => {
            prop_assert!(!diagnostics.is_empty());
            let (last, located) = match diagnostics.split_last() {
                Some((last, rest)) if last.kind == ErrorKind::TooManyErrors => {
                    prop_assert_eq!(rest.len(), 20, "{:?}", diagnostics);
                    (Some(last), rest)
                }
                _ => (None, diagnostics.as_slice()),
            };
            for diagnostic in located {
                if let Err(why) = span_inside(text, diagnostic.span) {
                    return Err(TestCaseError::fail(format!("{why}: {:?} for {text:?}", diagnostic)));
                }
            }
            let positions: Vec<(usize, usize)> = located.iter().map(|d| (d.span.line, d.span.col)).collect();
            prop_assert!(positions.is_sorted(), "{positions:?} for {text:?}");
            // The display with its caret lines must work too.
            let shown = hangup::scenario::ScenarioError::new("t.hup", text, diagnostics.clone()).to_string();
            prop_assert!(shown.starts_with("t.hup:"), "{shown}");
            prop_assert_eq!(
                shown.matches("\nt.hup:").count() + 1,
                located.len() + usize::from(last.is_some())
            );
            Ok(())
        }
    }
}

/// Pieces of the language, right and wrong, to build scenario text from.
const TOKENS: &[&str] = &[
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
    "else",
    "end",
    "log",
    "on",
    "param",
    "bad-request",
    "headers-too-large",
    "request",
    "head",
    "until",
    "eof",
    "within",
    "bytes",
    "every",
    "reason",
    "header",
    "body",
    "chunked",
    "now",
    "forever",
    "times",
    "not",
    "and",
    "or",
    "is",
    "starts-with",
    "connection",
    "method",
    "path",
    "hex",
    "repeat",
    "anyway",
    "max",
    "accept",
    "never",
    "reqest",
    "wrte",
    "tls",
    "alert",
    "tls-hello",
    "internal_error",
    "internal_eror",
    "warning",
    "fatal",
    "GET",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "0",
    "3",
    "13",
    "200",
    "999",
    "1000",
    "64KiB",
    "1MiB",
    "1GiB",
    "10KB",
    "250ms",
    "1.5s",
    "2m",
    "1h",
    "500us",
    "0ms",
    "99999999999999999999",
    "18446744073709551615",
    "18446744073709551615h",
    "9999999999999h",
    "1x",
    "12ab3",
    "\"hello\"",
    "\"a\\r\\n\"",
    "\"\\x41\"",
    "\"\\xZ\"",
    "\"\\x",
    "\"\\x4",
    "\"\\q\"",
    "\"\\",
    "\"\"",
    "\"abc",
    "\"0d0a\"",
    "\"de ad\"",
    "\"Content-Length: 5\"",
    "$after",
    "$x",
    "$",
    "\n",
    "\n",
    "\n",
    "\r\n",
    "  ",
    "\t",
    "# comment",
    "#",
    "@",
    "é",
    "\u{1F600}",
    "\u{feff}",
    "\r",
    "\0",
    "param x = \"s\"\n",
    "param after = 1s\n",
    "param n = 3\n",
    "loop\n",
    "end\n",
    "if request is 1\n",
    "else\n",
];

fn token_text() -> impl Strategy<Value = String> {
    prop::collection::vec((select(TOKENS), select(&[" ", " ", "", "\n", "\r\n"][..])), 0..60).prop_map(|parts| {
        let mut text = String::new();
        for (token, sep) in parts {
            text.push_str(token);
            text.push_str(sep);
        }
        text
    })
}

/// One edit of a text: replace the chars in `at..at+len` by `with`.
#[derive(Debug, Clone)]
struct Edit {
    at: Index,
    len: usize,
    with: String,
}

fn edit() -> impl Strategy<Value = Edit> {
    let with = prop_oneof![
        Just(String::new()),
        select(TOKENS).prop_map(str::to_string),
        "[ -~\n\r\té\"\\\\$#]{1,6}",
    ];
    (any::<Index>(), 0..12usize, with).prop_map(|(at, len, with)| Edit { at, len, with })
}

fn apply(source: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for edit in edits {
        let at = edit.at.index(chars.len() + 1);
        let end = (at + edit.len).min(chars.len());
        chars.splice(at..end, edit.with.chars());
    }
    chars.into_iter().collect()
}

fn edited_builtin() -> impl Strategy<Value = String> {
    (select(BUILTINS), prop::collection::vec(edit(), 1..4)).prop_map(|((_, source), edits)| apply(source, &edits))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_parse_or_fail_inside_the_text(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        parses_or_points_inside(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn any_tokens_parse_or_fail_inside_the_text(text in token_text()) {
        parses_or_points_inside(&text)?;
    }

    #[test]
    fn edited_builtins_parse_or_fail_inside_the_text(text in edited_builtin()) {
        parses_or_points_inside(&text)?;
    }
}

/// Values a `--set` might be given.
const SET_VALUES: &[&str] = &[
    "",
    "2s",
    "0ms",
    "1.5s",
    "-1s",
    "+1s",
    "1e3s",
    ".5s",
    "5.s",
    "inf",
    "NaN",
    "99999999999999999999h",
    "9999999999999h",
    "1000000000h",
    "18446744073709551615",
    "18446744073709551616",
    "64KiB",
    "16EiB",
    "17179869184GiB",
    "3",
    "-3",
    "x",
    "é",
    "\u{1F600}",
    "1 s",
    " 2s",
    "2s ",
    "handshake_failure",
    "internal_eror",
    "=",
    "a=b",
    "\n",
    "\"",
    "$after",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// `--set NAME=VALUE` against every built-in: it fits, or the error is
    /// about the `--set` (no position), or it points inside the text.
    #[test]
    fn any_set_value_fits_or_is_a_clear_error(
        (name, source) in select(BUILTINS),
        sets in prop::collection::vec(
            (select(&["after", "idle", "limit", "wait", "every", "alert", "nope", ""][..]),
             prop_oneof![select(SET_VALUES).prop_map(str::to_string), ".{0,12}"]),
            1..3),
    ) {
        let overrides: BTreeMap<String, String> =
            sets.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
        match hangup::scenario::parse_named(name, source, &overrides) {
            Ok(_) => {}
            Err(e) if e.first().span.line == 0 => {
                prop_assert!(e.first().message().starts_with("--set "), "{e}");
            }
            Err(e) => {
                if let Err(why) = span_inside(source, e.first().span) {
                    return Err(TestCaseError::fail(format!("{why}: {e}")));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Request bytes

/// What reading a byte stream as requests gave, in order.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// A request, and how many bytes it used.
    Complete(RequestInfo, usize),
    /// The reader refused the bytes; the connection reads no further.
    Bad(BadRequest),
    /// The input ended inside a request, with this much still buffered.
    Partial(usize),
}

/// A reader for the case proptest drew.
fn new_reader(head_only: bool, keep_headers: bool) -> RequestReader {
    let headers = if keep_headers { Headers::Keep } else { Headers::Skip };
    if head_only {
        RequestReader::head(headers)
    } else {
        RequestReader::whole(headers)
    }
}

/// Read `input` as a stream of requests, delivered in the pieces that
/// `cuts` mark. Like a connection (`progress_read`): the caller keeps
/// the unconsumed bytes and appends the next piece; after a request the
/// next reader starts on what is left.
fn read_stream(input: &[u8], cuts: &[usize], head_only: bool, keep_headers: bool) -> Vec<Outcome> {
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    bounds.push(input.len());
    bounds.sort_unstable();
    let mut outcomes = Vec::new();
    let mut reader = new_reader(head_only, keep_headers);
    let mut buffer = Vec::new();
    let mut used = 0;
    let mut start = 0;
    for end in bounds {
        buffer.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            let fed = reader.feed(&buffer);
            buffer.drain(..fed.consumed);
            used += fed.consumed;
            match fed.status {
                Status::Partial => break,
                Status::Complete(info) => {
                    outcomes.push(Outcome::Complete(info, used));
                    used = 0;
                    reader = new_reader(head_only, keep_headers);
                }
                Status::Bad(bad) => {
                    outcomes.push(Outcome::Bad(bad));
                    return outcomes;
                }
            }
        }
    }
    outcomes.push(Outcome::Partial(buffer.len()));
    outcomes
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "X-CUSTOM"];
const HEADER_NAMES: &[&str] = &["Host", "Accept", "X-A", "User-Agent", "Connection", "Expect", "x-lower"];

/// The body of one request and the header that frames it.
#[derive(Debug, Clone)]
enum Body {
    None,
    Length(Vec<u8>),
    /// Chunks, with an extension on some, then trailers.
    Chunked(Vec<(Vec<u8>, bool)>, Vec<String>),
}

fn body() -> impl Strategy<Value = Body> {
    let bytes = prop::collection::vec(any::<u8>(), 0..200);
    prop_oneof![
        Just(Body::None),
        bytes.clone().prop_map(Body::Length),
        (
            prop::collection::vec((prop::collection::vec(any::<u8>(), 1..80), any::<bool>()), 0..4),
            prop::collection::vec("[A-Za-z-]{1,8}: [ -~]{0,10}", 0..2),
        )
            .prop_map(|(chunks, trailers)| Body::Chunked(chunks, trailers)),
    ]
}

fn valid_request() -> impl Strategy<Value = Vec<u8>> {
    (
        select(METHODS),
        "/[a-z0-9/?=&%.-]{0,20}",
        prop::collection::vec((select(HEADER_NAMES), "[ -~]{0,30}"), 0..6),
        body(),
    )
        .prop_map(|(method, path, headers, body)| {
            let mut out = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
            for (name, value) in headers {
                out.extend_from_slice(format!("{name}: {}\r\n", value.trim()).as_bytes());
            }
            match body {
                Body::None => out.extend_from_slice(b"\r\n"),
                Body::Length(bytes) => {
                    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", bytes.len()).as_bytes());
                    out.extend_from_slice(&bytes);
                }
                Body::Chunked(chunks, trailers) => {
                    out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    for (chunk, extension) in chunks {
                        let ext = if extension { ";name=value" } else { "" };
                        out.extend_from_slice(format!("{:x}{ext}\r\n", chunk.len()).as_bytes());
                        out.extend_from_slice(&chunk);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(b"0\r\n");
                    for trailer in trailers {
                        out.extend_from_slice(format!("{trailer}\r\n").as_bytes());
                    }
                    out.extend_from_slice(b"\r\n");
                }
            }
            out
        })
}

/// The start of the heads near the limit; their one long header makes up
/// the size. Node counts the URL, names and values: "/" and "X-Big" are 6.
const BIG_START: &[u8] = b"GET / HTTP/1.1\r\nX-Big: ";
const BIG_COUNTED_BEFORE_VALUE: usize = 6;
/// Where in such a head Node's count reaches 16 KiB.
const BIG_LIMIT_AT: usize = BIG_START.len() + NODE_HEADER_LIMIT - BIG_COUNTED_BEFORE_VALUE;

/// A head whose URL, names and values count `16 KiB + delta` bytes.
fn big_head(delta: isize) -> Vec<u8> {
    let filler = (NODE_HEADER_LIMIT as isize + delta) as usize - BIG_COUNTED_BEFORE_VALUE;
    let mut head = BIG_START.to_vec();
    head.extend(std::iter::repeat_n(b'a', filler));
    head.extend_from_slice(b"\r\n\r\n");
    head
}

/// A head that counts `16 KiB + delta` bytes, optionally with one byte
/// replaced somewhere near the end, which may fall past the limit.
fn head_near_the_limit() -> impl Strategy<Value = Vec<u8>> {
    (
        -4..=4isize,
        prop::option::of((any::<Index>(), select(&[0u8, b' ', b'\n', b'\r', b':', 0x7f][..]))),
    )
        .prop_map(|(delta, corrupt)| {
            let mut head = big_head(delta);
            if let Some((at, byte)) = corrupt {
                // Anywhere in the last 16 bytes, which may be past 16 KiB.
                let i = head.len() - 16 + at.index(16);
                head[i] = byte;
            }
            head
        })
}

/// Byte edits: replace, insert or delete at a position.
fn mutate(mut bytes: Vec<u8>, edits: &[(Index, u8, u8)]) -> Vec<u8> {
    for (at, op, byte) in edits {
        let i = at.index(bytes.len() + 1);
        match op % 3 {
            0 if i < bytes.len() => bytes[i] = *byte,
            1 => bytes.insert(i, *byte),
            _ if i < bytes.len() => {
                bytes.remove(i);
            }
            _ => {}
        }
    }
    bytes
}

/// Heads that a random tail follows.
const HEADS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
];

fn request_stream() -> impl Strategy<Value = Vec<u8>> {
    let pipelined = (
        prop::collection::vec(valid_request(), 1..4),
        prop::collection::vec(any::<u8>(), 0..12),
    )
        .prop_map(|(requests, extra)| {
            let mut out = requests.concat();
            out.extend_from_slice(&extra);
            out
        });
    let edits = prop::collection::vec((any::<Index>(), any::<u8>(), any::<u8>()), 1..4);
    prop_oneof![
        3 => pipelined,
        2 => (valid_request(), edits.clone()).prop_map(|(r, e)| mutate(r, &e)),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => (select(HEADS), prop::collection::vec(any::<u8>(), 0..60))
            .prop_map(|(head, tail)| [head, &tail].concat()),
        1 => (head_near_the_limit(), prop::option::of(valid_request()))
            .prop_map(|(big, next)| [big, next.unwrap_or_default()].concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The sans-I/O reader gives the same outcomes however the bytes are
    /// split across reads: whole, at random points, and (for small inputs)
    /// one byte at a time.
    #[test]
    fn request_outcomes_do_not_depend_on_how_bytes_are_split(
        input in request_stream(),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        head_only in any::<bool>(),
        keep_headers in any::<bool>(),
    ) {
        let whole = read_stream(&input, &[], head_only, keep_headers);
        let cuts: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        let split = read_stream(&input, &cuts, head_only, keep_headers);
        prop_assert_eq!(&split, &whole, "cut at {:?}", cuts);
        if input.len() <= 2048 {
            let every: Vec<usize> = (1..input.len()).collect();
            let bytewise = read_stream(&input, &every, head_only, keep_headers);
            prop_assert_eq!(&bytewise, &whole, "one byte at a time");
        } else {
            // One byte at a time across Node's 16 KiB count.
            let around: Vec<usize> = (BIG_LIMIT_AT - 8..BIG_LIMIT_AT + 8).collect();
            let bytewise = read_stream(&input, &around, head_only, keep_headers);
            prop_assert_eq!(&bytewise, &whole, "one byte at a time around 16 KiB");
        }
    }
}

/// A head that counts one byte under 16 KiB is read; at 16 KiB it is 431,
/// in any split.
#[test]
fn the_head_limit_is_exactly_16_kib_in_any_split() {
    for (delta, too_large) in [(-2isize, false), (-1, false), (0, true), (1, true)] {
        let head = big_head(delta);
        let total = head.len();
        for step in [1, 1000, 4096, NODE_HEADER_LIMIT, total] {
            // Byte by byte only near the limit: 16 K reads of up to 16 KiB
            // each would take seconds in a debug build.
            let from = if step == 1 { BIG_LIMIT_AT - 8 } else { step };
            let cuts: Vec<usize> = (from..total).step_by(step).collect();
            let outcomes = read_stream(&head, &cuts, false, false);
            if too_large {
                assert_eq!(
                    outcomes,
                    [Outcome::Bad(BadRequest::HeadersTooLarge)],
                    "{total} bytes, step {step}"
                );
            } else {
                assert!(
                    matches!(&outcomes[..], [Outcome::Complete(info, used), Outcome::Partial(0)]
                        if *used == total && info.bytes == total as u64),
                    "{total} bytes, step {step}: {outcomes:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The command line

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    /// `None` when we killed it: a `serve` that said `listening on`.
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run `hangup ARGS`, kill it by PID once it says `listening on`, and
/// give up (failing) if it neither exits nor listens within 5 s.
fn run_bounded(args: &[String]) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hangup");
    let (lines, first_lines) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let out_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    });
    let give_up = Instant::now() + Duration::from_secs(5);
    let code = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status.code();
        }
        if first_lines.try_iter().any(|l| l.starts_with("listening on ")) {
            // Our child, by its PID.
            child.kill().expect("kill");
            child.wait().expect("wait");
            break None;
        }
        if Instant::now() > give_up {
            child.kill().expect("kill");
            child.wait().expect("wait");
            panic!("hangup {args:?} neither exited nor listened within 5 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Run {
        code,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Words for argument vectors. None is `serve` or `probe`: those are only
/// built by `serve_args` and `probe_args`, where listen addresses and probe
/// targets are always loopback (or invalid).
const WORDS: &[&str] = &[
    "list",
    "show",
    "check",
    "hello",
    "mid-body-reset",
    "nope",
    "--help",
    "-h",
    "--version",
    "--",
    "-",
    "",
    "é",
    "\u{1F600}",
    "--set",
    "after=2s",
    "=",
    "--log",
    "json",
    "--quiet",
    "-q",
    "--json",
    "scenarios/hello.hup",
    "scenarios",
    "/nonexistent/x.hup",
    "x.hup",
    "--listen",
    "help",
    "-X",
    "--timeout",
    "1s",
    "-1s",
];
const SCENARIOS: &[&str] = &[
    "hello",
    "server-timeout",
    "upload-reset",
    "slow-body",
    "keepalive-idle-close",
    "scenarios/hello.hup",
    "scenarios/upload-reset.hup",
    "hello",
    "upload-reset",
    "nope",
    "",
    "scenarios",
    "/nonexistent/x.hup",
    "x.hup",
    "é",
    "--",
    "-q",
];
const LISTEN: &[&str] = &[
    "127.0.0.1:0",
    "[::1]:0",
    "0",
    "",
    "nope",
    "1.2.3",
    "127.0.0.1:99999",
    "[::1]",
    ":0",
    "é",
];
const DURATIONS: &[&str] = &[
    "1s",
    "0ms",
    "250ms",
    "-1s",
    "1e3s",
    "99999999999999999999h",
    "9999999999999h",
    "8760h",
    "x",
    "",
];
/// The same for `--interval`, less a valid long one: `--count 3
/// --interval 8760h` really waits a year between probes, as asked, and the
/// property gives each run 5 s.
const INTERVALS: &[&str] = &[
    "1s",
    "0ms",
    "250ms",
    "-1s",
    "1e3s",
    "99999999999999999999h",
    "9999999999999h",
    "x",
    "",
];
const COUNTS: &[&str] = &["0", "1", "2", "3", "-1", "x", "", "18446744073709551616"];
const SIZES: &[&str] = &["10MiB", "0", "-1", "16EiB", "18446744073709551615", "1.5KiB", "x", ""];
const PATHS: &[&str] = &["scenarios/hello.hup", "scenarios", "/nonexistent", "", "é"];
const NAMES: &[&str] = &["after", "idle", "limit", "wait", "every", "limit", "wait", "nope", ""];
/// Odd words that may land anywhere (never a subcommand or an address).
const STRAYS: &[&str] = &["--", "-", "", "é", "\u{1F600}", "--help", "-x", "=", "--nope", "json"];

/// A flag and its value, from a vocabulary of both right and wrong ones.
fn flag(name: &'static str, values: &'static [&'static str]) -> BoxedStrategy<Vec<String>> {
    select(values)
        .prop_map(move |v| vec![name.to_string(), v.to_string()])
        .boxed()
}

fn switch(name: &'static str) -> BoxedStrategy<Vec<String>> {
    Just(vec![name.to_string()]).boxed()
}

fn stray() -> BoxedStrategy<Vec<String>> {
    select(STRAYS).prop_map(|w| vec![w.to_string()]).boxed()
}

fn set_flag() -> BoxedStrategy<Vec<String>> {
    // Any characters but NUL, which no command line can carry.
    (
        select(NAMES),
        prop_oneof![select(SET_VALUES).prop_map(str::to_string), "[^\\x00]{0,8}"],
    )
        .prop_map(|(name, value)| vec!["--set".to_string(), format!("{name}={value}")])
        .boxed()
}

fn serve_flags() -> impl Strategy<Value = Vec<String>> {
    let one = prop_oneof![
        6 => set_flag(),
        1 => select(SET_VALUES).prop_map(|v| vec!["--set".to_string(), v.to_string()]),
        2 => flag("--log", &["json", "text", "json", "xml", ""]),
        2 => switch("--quiet"),
        1 => switch("-q"),
        1 => flag("--listen", LISTEN),
        1 => stray(),
    ];
    prop::collection::vec(one, 0..3).prop_map(|groups| groups.concat())
}

fn probe_flags() -> impl Strategy<Value = Vec<String>> {
    let one = prop_oneof![
        flag("-X", &["GET", "HEAD", "", "BAD METHOD", "é"]),
        flag("-H", &["X-A: 1", "nocolon", "", "Host: x"]),
        flag("--body", &["hi", "", "é"]),
        flag("--body-bytes", SIZES),
        flag("--body-file", PATHS),
        flag("--raw", PATHS),
        flag("--timeout", DURATIONS),
        flag("--gap", DURATIONS),
        flag("--linger", DURATIONS),
        flag("--interval", INTERVALS),
        flag("--requests", COUNTS),
        flag("--count", COUNTS),
        flag("--concurrency", COUNTS),
        switch("--json"),
        switch("--diagram"),
        flag("--expect", &["reset", "refused", "complete", "bogus", ""]),
        flag("--expect-status", &["200", "70000", "-1", "x"]),
        flag("--expect-body-bytes", COUNTS),
        stray(),
    ];
    prop::collection::vec(one, 0..4).prop_map(|groups| groups.concat())
}

fn words(vocabulary: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(select(vocabulary).prop_map(str::to_string), 0..max)
}

fn cli_args() -> impl Strategy<Value = Vec<String>> {
    let listen = prop_oneof![3 => select(&["127.0.0.1:0", "[::1]:0", "0"][..]), 1 => select(LISTEN)];
    let serve = (listen, prop::option::weighted(0.9, select(SCENARIOS)), serve_flags()).prop_map(
        |(listen, scenario, flags)| {
            // `--listen` first, so that no later word can turn it into a value.
            let mut args = vec!["serve".to_string(), "--listen".to_string(), listen.to_string()];
            args.extend(scenario.map(str::to_string));
            args.extend(flags);
            args
        },
    );
    let probe = (
        prop_oneof![
            Just("http://127.0.0.1:{port}/".to_string()),
            Just("127.0.0.1:{port}".to_string()),
            Just("[::1]:{port}".to_string()),
            select(
                &[
                    "",
                    "http://",
                    "https://127.0.0.1:1/",
                    "127.0.0.1:99999",
                    "[::1",
                    "127.0.0.1:x",
                    ":80"
                ][..]
            )
            .prop_map(str::to_string),
        ],
        probe_flags(),
    )
        .prop_map(|(target, flags)| {
            // The target first: it is the one positional, so a stray word
            // later is an error, never a host to resolve.
            let mut args = vec!["probe".to_string(), target];
            args.extend(flags);
            args
        });
    prop_oneof![2 => serve, 2 => probe, 1 => words(WORDS, 6)]
}

proptest! {
    // Each case spawns the binary once: keep the count (and the time) small.
    #![proptest_config(ProptestConfig { cases: 120, max_shrink_iters: 64, ..ProptestConfig::default() })]

    /// Any argument vector: an exit code from the documented set (0 ok, 1
    /// check or expectation failed, 2 usage, 3 system), a message on stderr
    /// when it fails, never a panic or a backtrace.
    #[test]
    fn any_arguments_exit_with_a_documented_code_and_a_message(args in cli_args()) {
        let port = closed_port().to_string();
        let args: Vec<String> = args.iter().map(|a| a.replace("{port}", &port)).collect();
        let run = run_bounded(&args);
        prop_assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        prop_assert!(!run.stderr.contains("stack backtrace"), "{args:?}: {}", run.stderr);
        match run.code {
            None => {
                prop_assert_eq!(&args[0], "serve");
                prop_assert!(run.stdout.starts_with("listening on 127.0.0.1:")
                    || run.stdout.starts_with("listening on [::1]:"), "{}", run.stdout);
            }
            Some(0) => {}
            Some(code) => {
                prop_assert!((1..=3).contains(&code), "{args:?}: exit {code}: {}", run.stderr);
                prop_assert!(!run.stderr.trim().is_empty(), "{args:?}: exit {code} and nothing on stderr");
            }
        }
    }
}
