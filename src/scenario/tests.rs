//! Parser tests: what every statement parses to, and every error with its
//! exact line, column and message, as a table.

use std::collections::BTreeMap;
use std::time::Duration;

use super::ast::*;
use super::error::{ErrorKind, Expected, FileProblem, Found, OddsForm};
use super::parser::parse;
use crate::units::ValueError;

fn body(src: &str) -> Vec<Stmt> {
    parse(src, &BTreeMap::new())
        .unwrap_or_else(|d| panic!("{src:?}: {}:{}: {}", d[0].span.line, d[0].span.col, d[0].message()))
        .body
}

fn one(src: &str) -> Stmt {
    let mut stmts = body(src);
    assert_eq!(stmts.len(), 1, "{src:?}");
    stmts.remove(0)
}

fn fixed(duration: Duration) -> Interval {
    Interval::Fixed(duration)
}

fn bytes(b: &[u8]) -> Payload {
    Payload {
        pieces: vec![Piece::Bytes(b.to_vec())],
    }
}

#[test]
fn read_forms() {
    let read = |what, within, on_timeout: Option<Stmt>| Stmt::Read {
        what,
        within,
        on_timeout: on_timeout.map(Box::new),
    };
    assert_eq!(one("read request"), read(ReadGoal::Request, None, None));
    assert_eq!(one("read head"), read(ReadGoal::Head, None, None));
    assert_eq!(one("read 64KiB"), read(ReadGoal::Bytes(65536), None, None));
    assert_eq!(one("read 10 bytes"), read(ReadGoal::Bytes(10), None, None));
    assert_eq!(one("read until eof"), read(ReadGoal::Eof, None, None));
    assert_eq!(one("read tls-hello"), read(ReadGoal::TlsHello, None, None));
    assert_eq!(
        one("read tls-hello within 2s else reset"),
        read(
            ReadGoal::TlsHello,
            Some(fixed(Duration::from_secs(2))),
            Some(Stmt::Reset)
        )
    );
    assert_eq!(
        one("read request within 5s else reset"),
        read(
            ReadGoal::Request,
            Some(fixed(Duration::from_secs(5))),
            Some(Stmt::Reset)
        )
    );
    assert_eq!(
        one("read head within 1.5s"),
        read(ReadGoal::Head, Some(fixed(Duration::from_millis(1500))), None)
    );
    let parsed = super::parser::parse(
        "read head\nread body\nread body max 64KiB within 1s\n",
        &BTreeMap::new(),
    )
    .unwrap_or_else(|d| panic!("{}", d[0].message()));
    assert!(parsed.reads_body);
    assert_eq!(parsed.body[1], read(ReadGoal::Body { max: None }, None, None));
    assert_eq!(
        parsed.body[2],
        read(
            ReadGoal::Body { max: Some(65536) },
            Some(fixed(Duration::from_secs(1))),
            None
        )
    );
    assert!(
        !super::parser::parse("read head\n", &BTreeMap::new())
            .unwrap()
            .reads_body
    );
}

#[test]
fn tls_alert_forms() {
    use crate::tls::Alert;
    use crate::tls::alert::Level;
    let alert = |src: &str| {
        let Stmt::TlsAlert(alert) = one(src) else {
            panic!("{src}")
        };
        alert
    };
    let internal = alert("tls alert internal_error");
    assert_eq!(internal.alert, Alert::named("internal_error").unwrap());
    assert_eq!(internal.level, Level::Fatal);
    assert_eq!(internal.wire, bytes(&[0x15, 3, 3, 0, 2, 2, 80]));
    // The level TLS 1.3 gives it, unless written.
    assert_eq!(alert("tls alert close_notify").wire, bytes(&[0x15, 3, 3, 0, 2, 1, 0]));
    let warned = alert("tls alert unrecognized_name warning");
    assert_eq!(
        (warned.level, warned.wire),
        (Level::Warning, bytes(&[0x15, 3, 3, 0, 2, 1, 112]))
    );
    assert_eq!(
        alert("tls alert user_canceled fatal").wire,
        bytes(&[0x15, 3, 3, 0, 2, 2, 90])
    );
    // A string, or a string parameter, names it too (`--set alert=…`).
    assert_eq!(alert(r#"tls alert "handshake_failure""#).alert.description, 40);
    let scenario = parse(
        "param alert = \"internal_error\"\ntls alert $alert\n",
        &[("alert".to_string(), "unknown_ca".to_string())].into(),
    )
    .unwrap();
    let Stmt::TlsAlert(set) = &scenario.body[0] else {
        panic!()
    };
    assert_eq!(set.alert.name, "unknown_ca");
    let err = parse(
        "param alert = \"internal_error\"\ntls alert $alert\n",
        &[("alert".to_string(), "internal_eror".to_string())].into(),
    )
    .unwrap_err()
    .remove(0);
    assert_eq!(err.span.line, 0, "the flag's fault, not the line's");
    assert_eq!(
        err.message(),
        "--set alert=internal_eror: `internal_eror` is no TLS alert; did you mean `internal_error`?"
    );
}

#[test]
fn write_forms() {
    assert_eq!(
        one(r#"write "a\r\n" hex "0d 0A" repeat 3 "xy""#),
        Stmt::Write {
            payload: Payload {
                // Adjacent bytes merge: one piece is one send.
                pieces: vec![
                    Piece::Bytes(b"a\r\n\r\n".to_vec()),
                    Piece::Repeat {
                        pattern: b"xy".to_vec(),
                        count: 3
                    },
                ]
            },
            every: None
        }
    );
    assert_eq!(
        one(r#"write "\x00\t\"\\" every 250ms"#),
        Stmt::Write {
            payload: bytes(b"\x00\t\"\\"),
            every: Some(Drip {
                piece: 1,
                every: fixed(Duration::from_millis(250))
            })
        }
    );
}

#[test]
fn a_drip_takes_a_piece_size() {
    let drip = |piece, ms| {
        Some(Drip {
            piece,
            every: fixed(Duration::from_millis(ms)),
        })
    };
    let every = |src: &str| {
        let Stmt::Write { every, .. } = one(src) else {
            panic!("{src}")
        };
        every
    };
    assert_eq!(every(r#"write "abc" every 1s"#), drip(1, 1000));
    assert_eq!(every(r#"write "abcdef" 2 bytes every 1s"#), drip(2, 1000));
    assert_eq!(every(r#"write repeat 1MiB "x" 64KiB every 10ms"#), drip(65536, 10));
    // A number `$name` after the bytes is the size; a string one is bytes.
    let scenario = parse(
        "param n = 3\nparam s = \"yz\"\nwrite \"x\" $s $n every 5ms\n",
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(
        scenario.body,
        [Stmt::Write {
            payload: bytes(b"xyz"),
            every: drip(3, 5)
        }]
    );
    for (src, line, col, kind) in [
        (r#"write "abc" 0 bytes every 1s"#, 1, 13, ErrorKind::ZeroPiece),
        (
            r#"write "abc" 2 bytes"#,
            1,
            20,
            unexpected(Expected::Word("every"), Found::LineEnd),
        ),
    ] {
        let error = parse(src, &BTreeMap::new()).unwrap_err().remove(0);
        assert_eq!(
            (error.span.line, error.span.col, error.kind),
            (line, col, kind),
            "{src}"
        );
    }
}

#[test]
fn respond_forms() {
    let Stmt::Respond(r) = one(r#"respond 404 reason "Nope" header "A: b" header "C: d" body "x" chunked"#) else {
        panic!()
    };
    assert_eq!(
        (
            r.status,
            r.reason.as_deref(),
            r.headers.len(),
            r.body.to_vec(),
            r.chunked
        ),
        (404, Some(&b"Nope"[..]), 2, b"x".to_vec(), true)
    );
    // The bytes are built once, at parse time, for GET and for HEAD.
    let get = b"HTTP/1.1 404 Nope\r\nA: b\r\nC: d\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n";
    assert_eq!(String::from_utf8_lossy(&r.wire.to_vec()), String::from_utf8_lossy(get));
    assert_eq!(r.wire.pieces.len(), 1, "one piece is one send");
    assert!(r.wire_for_head.to_vec().ends_with(b"chunked\r\n\r\n"));
    let Stmt::Respond(r) = one("respond 204") else { panic!() };
    assert_eq!(r.wire.to_vec(), b"HTTP/1.1 204 No Content\r\n\r\n");
    // `anyway`: the body where HTTP says none, after the head HTTP frames.
    let Stmt::Respond(r) = one(r#"respond 204 body "oops" anyway"#) else {
        panic!()
    };
    assert_eq!(r.send_body, SendBody::Anyway);
    assert_eq!(r.wire.to_vec(), b"HTTP/1.1 204 No Content\r\n\r\noops");
    assert_eq!(r.wire_for_head, r.wire);
    let Stmt::Respond(r) = one(r#"respond 200 body "hello" anyway chunked"#) else {
        panic!()
    };
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(
        (r.wire.to_vec(), r.wire_for_head.to_vec()),
        (chunked.to_vec(), chunked.to_vec())
    );
    let Stmt::Respond(r) = one(r#"respond 200 body "hello""#) else {
        panic!()
    };
    assert_eq!(r.send_body, SendBody::WhenAllowed);
    assert_eq!(
        r.wire_for_head.to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    );
}

#[test]
fn header_values_take_every_byte_value() {
    // Several values in a row make one line; a repeat stays a repeat, so a
    // 1 GiB header holds a few bytes (the pattern once per wire).
    let Stmt::Respond(r) = one(r#"respond 200 header "Set-Cookie: " repeat 1GiB "a" hex "3b" "x" body "ok""#) else {
        panic!()
    };
    assert_eq!(r.headers.len(), 1);
    assert_eq!(r.headers[0].len(), 12 + (1 << 30) + 2);
    assert!(r.wire.held_bytes() < 200, "{}", r.wire.held_bytes());
    let Piece::Bytes(first) = &r.wire.pieces[0] else {
        panic!()
    };
    assert!(first.ends_with(b"\r\nSet-Cookie: "), "{first:?}");
    assert_eq!(
        r.wire.pieces[1],
        Piece::Repeat {
            pattern: b"a".to_vec(),
            count: 1 << 30
        }
    );
    let Piece::Bytes(rest) = &r.wire.pieces[2] else {
        panic!()
    };
    assert_eq!(rest, b";x\r\nContent-Length: 2\r\n\r\nok");
    // A `Content-Length` written as pieces is still seen as the script's own.
    let Stmt::Respond(r) = one(r#"respond 200 header "content-length" ": " "5" body "hello""#) else {
        panic!()
    };
    assert_eq!(r.wire.to_vec(), b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    let Stmt::Respond(r) = one(r#"respond 200 header "X: " repeat 3 "ab" header "Y: 1""#) else {
        panic!()
    };
    assert_eq!(
        r.wire.to_vec(),
        b"HTTP/1.1 200 OK\r\nX: ababab\r\nY: 1\r\nContent-Length: 0\r\n\r\n"
    );
    // A header's bytes count as held when parsed and again in each wire:
    // 6.4 MiB of strings is under the limit, three times it is not.
    let big = "a".repeat(800 << 10);
    let message = parse(
        &format!("param p = \"{big}\"\nrespond 200 header \"X: \" $p $p $p $p $p $p $p repeat 2 $p\n"),
        &BTreeMap::new(),
    )
    .unwrap_err()
    .remove(0)
    .message();
    assert!(
        message.starts_with("the scenario's strings come to over the limit"),
        "{message}"
    );
}

#[test]
fn header_conditions_are_noticed() {
    let scenario = |src: &str| parse(src, &BTreeMap::new()).unwrap();
    assert!(!scenario("read request\nrespond 200\n").uses_headers);
    assert!(scenario("read request\nif header \"x\"\n reset\nend\n").uses_headers);
}

#[test]
fn a_relay_limit_counts_bytes_or_chunks() {
    let relay = |src: &str| match one(src) {
        Stmt::Relay(relay) => relay.limit,
        other => panic!("{other:?}"),
    };
    assert_eq!(relay("relay response limit 20 chunks"), Some(Limit::Chunks(20)));
    assert_eq!(relay("relay body limit 1 chunks rate 1KiB"), Some(Limit::Chunks(1)));
    assert_eq!(relay("relay response limit 1KiB"), Some(Limit::Bytes(1024)));
    assert_eq!(relay("relay both limit 512 bytes"), Some(Limit::Bytes(512)));
    assert_eq!(relay("relay response"), None);
}

#[test]
fn tls_statements() {
    use crate::tls::options::{Defect, Stall, Versions};
    assert_eq!(
        one("close no-notify"),
        Stmt::Close {
            drain: true,
            notify: false
        }
    );
    assert_eq!(
        one("close no-notify now"),
        Stmt::Close {
            drain: false,
            notify: false
        }
    );
    assert_eq!(
        one("close now no-notify"),
        Stmt::Close {
            drain: false,
            notify: false
        }
    );
    assert_eq!(one("tls close-notify"), Stmt::TlsCloseNotify);
    assert_eq!(one("tls cut after 100 bytes"), Stmt::TlsCut(100));
    assert_eq!(
        one("tls handshake"),
        Stmt::TlsHandshake(TlsHandshake {
            alpn: vec![],
            versions: Versions::Both,
            stall: None
        })
    );
    assert_eq!(
        one("tls handshake version 1.2 alpn \"h2\" \"http/1.1\" stall after server-hello"),
        Stmt::TlsHandshake(TlsHandshake {
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            versions: Versions::Only12,
            stall: Some(Stall::AfterServerHello),
        })
    );
    let s = parse("tls certificate wrong-host\ntls handshake\nclose\n", &BTreeMap::new()).expect("parses");
    assert_eq!(s.tls_certificate, Some(Defect::WrongHost));
    assert!(s.handshakes && s.needs_tls);
    let plain = parse("tls alert internal_error\nclose no-notify\n", &BTreeMap::new()).expect("parses");
    assert!(!plain.handshakes && !plain.needs_tls);
}

#[test]
fn h2_statements() {
    use crate::h2::ErrorCode;
    let h2 = |src: &str| match one(src) {
        Stmt::H2(frame) => frame,
        other => panic!("{src}: {other:?}"),
    };
    assert_eq!(
        h2("h2 headers 200 header \"Content-Type: text/plain\" end-stream"),
        H2Frame::Headers {
            stream: H2Stream::Current,
            status: 200,
            headers: vec![(b"content-type".to_vec(), b"text/plain".to_vec())],
            end_stream: true,
        }
    );
    assert_eq!(
        h2("h2 data \"abc\" 1 bytes every 10ms end-stream stall-at-window stream 3"),
        H2Frame::Data {
            stream: H2Stream::Id(3),
            payload: bytes(b"abc"),
            every: Some(Drip {
                piece: 1,
                every: fixed(Duration::from_millis(10)),
            }),
            end_stream: true,
            window: H2Window::Stall,
        }
    );
    assert_eq!(
        h2("h2 rst-stream cancel stream 0"),
        H2Frame::RstStream {
            stream: H2Stream::Connection,
            code: ErrorCode::CANCEL,
        }
    );
    assert_eq!(
        h2("h2 rst-stream 13"),
        H2Frame::RstStream {
            stream: H2Stream::Current,
            code: ErrorCode::HTTP_1_1_REQUIRED,
        }
    );
    assert_eq!(
        h2("h2 goaway debug \"bye\" error ENHANCE_YOUR_CALM last-stream max"),
        H2Frame::GoAway {
            last: H2Last::Max,
            code: ErrorCode::ENHANCE_YOUR_CALM,
            debug: b"bye".to_vec(),
        }
    );
    assert_eq!(
        h2("h2 goaway"),
        H2Frame::GoAway {
            last: H2Last::Current,
            code: ErrorCode::NO_ERROR,
            debug: Vec::new(),
        }
    );
    assert_eq!(
        h2("h2 settings max-concurrent-streams 0 initial-window-size 1"),
        H2Frame::Settings(vec![(3, 0), (4, 1)])
    );
    assert_eq!(h2("h2 settings"), H2Frame::Settings(vec![]));
    assert_eq!(h2("h2 settings-ack"), H2Frame::SettingsAck);
    assert_eq!(
        h2("h2 ping ack data \"hi\""),
        H2Frame::Ping {
            ack: true,
            data: *b"hi\0\0\0\0\0\0",
        }
    );
    assert_eq!(
        h2("h2 window-update 100 stream current"),
        H2Frame::WindowUpdate {
            stream: H2Stream::Current,
            increment: 100,
        }
    );
    assert_eq!(
        h2("h2 frame type 250 flags 7 stream 1 length 99 payload hex \"00ff\" repeat 2 \"a\""),
        H2Frame::Raw {
            kind: 250,
            flags: 7,
            stream: H2Stream::Id(1),
            declared_len: Some(99),
            payload: b"\x00\xffaa".to_vec(),
        }
    );
    for (value, code) in [("REFUSED_STREAM", 7), ("refused_stream", 7), ("0xd", 13), ("500", 500)] {
        let source = format!("param error = \"{value}\"\nh2 rst-stream $error\n");
        let param = parse(&source, &BTreeMap::new()).unwrap();
        assert_eq!(
            param.body,
            [Stmt::H2(H2Frame::RstStream {
                stream: H2Stream::Current,
                code: ErrorCode(code),
            })],
            "{value}"
        );
    }
    let top = parse(
        "tls alpn \"h2\" \"http/1.1\"\nh2 manual ping-ack window-update\nread preface\n",
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(top.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(
        top.h2_manual,
        H2Manual {
            settings_ack: false,
            ping_ack: true,
            window_update: true,
        }
    );
    assert_eq!(
        top.body,
        [Stmt::Read {
            what: ReadGoal::Preface,
            within: None,
            on_timeout: None,
        }]
    );
}

#[test]
fn simple_statements() {
    assert_eq!(one("sleep 2m"), Stmt::Sleep(fixed(Duration::from_secs(120))));
    assert_eq!(one("sleep 500us"), Stmt::Sleep(fixed(Duration::from_micros(500))));
    assert_eq!(
        one("close"),
        Stmt::Close {
            drain: true,
            notify: true
        }
    );
    assert_eq!(
        one("close now"),
        Stmt::Close {
            drain: false,
            notify: true
        }
    );
    assert_eq!(one("reset"), Stmt::Reset);
    assert_eq!(one("half-close"), Stmt::HalfClose);
    assert_eq!(one("hang"), Stmt::Hang);
    assert_eq!(one(r#"log "hi""#), Stmt::Log("hi".into()));
}

#[test]
fn loops_and_ifs() {
    assert_eq!(
        one("loop 3 times\n  reset\nend"),
        Stmt::Loop {
            times: Some(3),
            body: vec![Stmt::Reset]
        }
    );
    assert_eq!(
        one("loop\nend"),
        Stmt::Loop {
            times: None,
            body: vec![]
        }
    );
    assert_eq!(
        one("loop forever\nhang\nend"),
        Stmt::Loop {
            times: None,
            body: vec![Stmt::Hang]
        }
    );
    let stmt = one(
        "if request is 2 and not method is GET or connection every 3\n reset\nelse if path is \"/\"\n hang\nelse\n close\nend",
    );
    let Stmt::If { branches, otherwise } = stmt else {
        panic!()
    };
    assert_eq!(branches.len(), 2);
    assert_eq!(
        otherwise,
        vec![Stmt::Close {
            drain: true,
            notify: true
        }]
    );
    let request_is_2 = Cond::Atom(Atom::Request(Cmp::Eq, 2));
    let not_get = Cond::Not(Box::new(Cond::Atom(Atom::Method(b"GET".to_vec()))));
    let every_3 = Cond::Atom(Atom::Connection(Cmp::Every, 3));
    assert_eq!(
        branches[0].0,
        Cond::Or(
            Box::new(Cond::And(Box::new(request_is_2), Box::new(not_get))),
            Box::new(every_3)
        )
    );
}

#[test]
fn conditions() {
    let cond = |src: &str| {
        let Stmt::If { mut branches, .. } = one(&format!("if {src}\nend")) else {
            panic!()
        };
        branches.remove(0).0
    };
    let atom = |a| Cond::Atom(a);
    assert_eq!(cond("request >= 2"), atom(Atom::Request(Cmp::Ge, 2)));
    assert_eq!(cond("request is not 1"), atom(Atom::Request(Cmp::Ne, 1)));
    assert_eq!(cond("connection < 4"), atom(Atom::Connection(Cmp::Lt, 4)));
    assert_eq!(cond("method is \"PUT\""), atom(Atom::Method(b"PUT".to_vec())));
    assert_eq!(
        cond("path starts-with \"/api\""),
        atom(Atom::Path(TextTest::StartsWith(b"/api".to_vec())))
    );
    assert_eq!(cond("header \"expect\""), atom(Atom::Header(b"expect".to_vec(), None)));
    assert_eq!(
        cond("header \"x\" is \"1\""),
        atom(Atom::Header(b"x".to_vec(), Some(b"1".to_vec())))
    );
}

#[test]
fn chance_and_sleep_between_number_their_sites_in_order() {
    let scenario = parse(
        "param n = 3\nif chance 1 in $n or chance 5 percent\n sleep between 1ms and 2s\nend\nsleep 1s\n",
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(scenario.chance_sites, 3);
    let Stmt::If { branches, .. } = &scenario.body[0] else {
        panic!()
    };
    let odds = |hits, of, site| Box::new(Cond::Atom(Atom::Chance(Odds { hits, of, site })));
    assert_eq!(branches[0].0, Cond::Or(odds(1, 3, 0), odds(5, 100, 1)));
    assert_eq!(
        branches[0].1,
        [Stmt::Sleep(Interval::Drawn(Between {
            low: Duration::from_millis(1),
            high: Duration::from_secs(2),
            site: 2
        }))]
    );
    assert_eq!(parse("sleep 1s\n", &BTreeMap::new()).unwrap().chance_sites, 0);
}

#[test]
fn every_and_within_take_between_each_its_own_chance_site() {
    let scenario = parse(
        "read request within between 20ms and 40ms else close\nwrite \"hi\" every between 1ms and 30ms\nsleep between 0ms and 1s\nwrite \"x\" every 1ms\n",
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(scenario.chance_sites, 3);
    let drawn = |low, high, site| {
        Some(Interval::Drawn(Between {
            low: Duration::from_millis(low),
            high: Duration::from_millis(high),
            site,
        }))
    };
    assert_eq!(
        scenario.body,
        [
            Stmt::Read {
                what: ReadGoal::Request,
                within: drawn(20, 40, 0),
                on_timeout: Some(Box::new(Stmt::Close {
                    drain: true,
                    notify: true
                })),
            },
            Stmt::Write {
                payload: bytes(b"hi"),
                every: drawn(1, 30, 1).map(|every| Drip { piece: 1, every }),
            },
            Stmt::Sleep(drawn(0, 1000, 2).unwrap()),
            Stmt::Write {
                payload: bytes(b"x"),
                every: Some(Drip {
                    piece: 1,
                    every: fixed(Duration::from_millis(1))
                }),
            },
        ]
    );
    // Bounds may be parameters, and equal.
    let scenario = parse(
        "param gap = 5ms\nread head within between $gap and $gap\n",
        &BTreeMap::new(),
    )
    .unwrap();
    let Stmt::Read { within, .. } = &scenario.body[0] else {
        panic!()
    };
    assert_eq!(*within, drawn(5, 5, 0));
}

#[test]
fn params_and_overrides() {
    let src = "param after = 120s\nparam n = 2\nparam msg = \"hi\"\nsleep $after\nloop $n times\n write $msg\nend\n";
    let scenario = parse(src, &BTreeMap::new()).unwrap();
    assert_eq!(scenario.body[0], Stmt::Sleep(fixed(Duration::from_secs(120))));
    let overrides: BTreeMap<String, String> = [("after", "2s"), ("n", "5"), ("msg", "yo")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let scenario = parse(src, &overrides).unwrap();
    assert_eq!(scenario.body[0], Stmt::Sleep(fixed(Duration::from_secs(2))));
    assert_eq!(
        scenario.body[1],
        Stmt::Loop {
            times: Some(5),
            body: vec![Stmt::Write {
                payload: bytes(b"yo"),
                every: None
            }]
        }
    );
    assert_eq!(scenario.params[0].value, Value::Duration(Duration::from_secs(2)));
}

#[test]
fn handlers_default_to_node() {
    let scenario = parse("read request\n", &BTreeMap::new()).unwrap();
    let Stmt::Write { payload, .. } = &scenario.on_bad_request[0] else {
        panic!()
    };
    assert_eq!(
        payload.to_vec(),
        b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
    );
    let scenario = parse("on bad-request\n reset\nend\n", &BTreeMap::new()).unwrap();
    assert_eq!(scenario.on_bad_request, vec![Stmt::Reset]);
}

/// `unexpected(expected, found)`: the kind of "expected …, found …".
fn unexpected(expected: Expected, found: Found) -> ErrorKind {
    ErrorKind::UnexpectedToken {
        expected,
        found,
        suggestion: None,
    }
}

fn word(w: &str) -> Found {
    Found::Word(w.into())
}

fn number(n: &str) -> Found {
    Found::Number(n.into())
}

/// `(source, line, column, width, kind)`: every error the language
/// reports, where it points and what it is (just's `error!` table).
#[rustfmt::skip]
fn errors() -> Vec<(&'static str, usize, usize, usize, ErrorKind)> {
    vec![
        ("if chance 4 in 3\nend", 1, 11, 1, ErrorKind::NotAChance { hits: 4, of: 3, form: OddsForm::In }),
        ("if chance 1 in 0\nend", 1, 11, 1, ErrorKind::NotAChance { hits: 1, of: 0, form: OddsForm::In }),
        ("if chance 1 of 3\nend", 1, 13, 2, unexpected(Expected::Odds, word("of"))),
        ("sleep between 2s and 1s", 1, 15, 2, ErrorKind::BetweenReversed { low: Duration::from_secs(2), high: Duration::from_secs(1) }),
        ("sleep between 1s 2s", 1, 18, 2, unexpected(Expected::Word("and"), number("2s"))),
        ("write \"x\" every between 30ms and 1ms", 1, 25, 4, ErrorKind::BetweenReversed { low: Duration::from_millis(30), high: Duration::from_millis(1) }),
        ("read request within between 40ms and 20ms else close", 1, 29, 4, ErrorKind::BetweenReversed { low: Duration::from_millis(40), high: Duration::from_millis(20) }),
        ("write \"x\" every between 1ms", 1, 28, 1, unexpected(Expected::Word("and"), Found::LineEnd)),
        ("jump", 1, 1, 4, ErrorKind::UnknownStatement { word: "jump".into(), suggestion: None }),
        ("\n  reset now", 2, 9, 3, unexpected(Expected::LineEnd, word("now"))),
        ("read", 1, 5, 1, unexpected(Expected::ReadGoal, Found::LineEnd)),
        ("read until end", 1, 12, 3, unexpected(Expected::Word("eof"), word("end"))),
        ("read tls-helo", 1, 6, 8, ErrorKind::UnexpectedToken { expected: Expected::ReadGoal, found: word("tls-helo"), suggestion: Some("tls-hello") }),
        ("tls", 1, 4, 1, unexpected(Expected::TlsAction, Found::LineEnd)),
        ("tls handshake version 1.1", 1, 23, 3, ErrorKind::NotATlsVersion),
        ("tls handshake alpn \"h2\" alpn \"x\"", 1, 25, 4, ErrorKind::HandshakeOptionTwice),
        ("tls certificate expird", 1, 17, 6, ErrorKind::UnknownDefect { name: "expird".into(), suggestion: Some("expired") }),
        ("tls certificate expired\ntls certificate expired", 2, 1, 3, ErrorKind::CertificateTwice),
        ("loop\n tls certificate expired\nend", 2, 6, 11, ErrorKind::CertificateNotAtTop),
        ("tls alert", 1, 10, 1, unexpected(Expected::AlertName, Found::LineEnd)),
        ("h2", 1, 3, 1, unexpected(Expected::H2Frame, Found::LineEnd)),
        ("h2 goway", 1, 4, 5, ErrorKind::UnexpectedToken { expected: Expected::H2Frame, found: word("goway"), suggestion: Some("goaway") }),
        ("h2 rst-stream INTERNAL_EROR", 1, 15, 13, ErrorKind::UnknownH2Error { name: "INTERNAL_EROR".into(), suggestion: Some("INTERNAL_ERROR") }),
        ("h2 rst-stream", 1, 14, 1, unexpected(Expected::H2Error, Found::LineEnd)),
        ("h2 goaway error 4294967296", 1, 17, 10, ErrorKind::H2ValueTooLarge { max: u32::MAX.into() }),
        ("h2 goaway last-stream 2147483648", 1, 23, 10, ErrorKind::H2ValueTooLarge { max: 0x7fff_ffff }),
        ("h2 settings max-streams 0", 1, 13, 11, ErrorKind::UnknownSetting { name: "max-streams".into(), suggestion: None }),
        ("h2 settings enable-psh 0", 1, 13, 10, ErrorKind::UnknownSetting { name: "enable-psh".into(), suggestion: Some("enable-push") }),
        ("h2 settings enable-push", 1, 24, 1, unexpected(Expected::Number, Found::LineEnd)),
        ("h2 ping data \"123456789\"", 1, 14, 11, ErrorKind::PingDataTooLong(9)),
        ("h2 window-update 2147483648", 1, 18, 10, ErrorKind::H2ValueTooLarge { max: 0x7fff_ffff }),
        ("h2 frame type 256", 1, 15, 3, ErrorKind::H2ValueTooLarge { max: 255 }),
        ("h2 frame flags 1", 1, 10, 5, unexpected(Expected::Word("type"), word("flags"))),
        ("h2 frame type 1 length 16777216", 1, 24, 8, ErrorKind::H2ValueTooLarge { max: 0xff_ffff }),
        ("h2 data \"x\" ignore-window stall-at-window", 1, 27, 15, ErrorKind::TwoWindows),
        ("h2 headers 42", 1, 12, 2, ErrorKind::NotAStatus(42)),
        ("h2 headers 200 header \"nocolon\"", 1, 23, 9, ErrorKind::HeaderWithoutColon),
        ("loop\n h2 manual ping-ack\nend", 2, 5, 6, ErrorKind::H2ManualNotAtTop),
        ("h2 manual", 1, 10, 1, unexpected(Expected::H2Manual, Found::LineEnd)),
        ("h2 manual ping-ak", 1, 11, 7, ErrorKind::UnexpectedToken { expected: Expected::H2Manual, found: word("ping-ak"), suggestion: Some("ping-ack") }),
        ("tls alpn", 1, 9, 1, unexpected(Expected::AlpnProtocol, Found::LineEnd)),
        ("tls alpn \"h2\"\ntls alpn \"h2\"", 2, 1, 3, ErrorKind::AlpnTwice),
        ("loop\n tls alpn \"h2\"\nend", 2, 6, 4, ErrorKind::AlpnNotAtTop),
        ("tls alert 80", 1, 11, 2, unexpected(Expected::AlertName, number("80"))),
        ("tls alert internal_eror", 1, 11, 13, ErrorKind::UnknownAlert { name: "internal_eror".into(), suggestion: Some("internal_error"), set: None }),
        ("tls alert internal_error warnng", 1, 26, 6, ErrorKind::UnexpectedToken { expected: Expected::LineEnd, found: word("warnng"), suggestion: Some("warning") }),
        ("read request\nread body", 2, 6, 4, ErrorKind::ReadBodyWithoutHead),
        ("relay both limit 2 chunks", 1, 20, 6, ErrorKind::ChunksOfWhat),
        ("relay 10 bytes limit 2 chunks", 1, 24, 6, ErrorKind::ChunksOfWhat),
        ("read head\nread body max", 2, 14, 1, unexpected(Expected::Number, Found::LineEnd)),
        ("read request else close", 1, 14, 4, ErrorKind::ElseWithoutWithin),
        ("read request within 5", 1, 21, 1, ErrorKind::Value(ValueError::DurationWithoutUnit("5".into()))),
        ("read request within 5x", 1, 21, 2, ErrorKind::Value(ValueError::NotATimeUnit("x".into()))),
        ("read request within 5s else loop", 1, 29, 4, ErrorKind::BlockAfterElse { keyword: "loop" }),
        ("read 5s", 1, 6, 2, ErrorKind::Value(ValueError::DurationForNumber("5s".into()))),
        ("read 5 KB2", 1, 8, 3, unexpected(Expected::LineEnd, word("KB2"))),
        ("sleep", 1, 6, 1, unexpected(Expected::Duration, Found::LineEnd)),
        ("sleep \"1s\"", 1, 7, 4, unexpected(Expected::Duration, Found::Str)),
        ("write", 1, 6, 1, unexpected(Expected::WriteBytes, Found::LineEnd)),
        ("write \"abc", 1, 7, 1, ErrorKind::UnterminatedString),
        ("write \"a\\qb\"", 1, 9, 2, ErrorKind::UnknownEscape('q')),
        ("write \"\\x4\"", 1, 8, 2, ErrorKind::HexEscape),
        ("write hex \"0d0\"", 1, 11, 5, ErrorKind::OddHexDigits),
        ("write hex \"zz\"", 1, 11, 4, ErrorKind::NotAHexByte("zz".into())),
        ("write repeat 3 \"\"", 1, 16, 2, ErrorKind::RepeatEmpty),
        ("write \"a\" every", 1, 16, 1, unexpected(Expected::Duration, Found::LineEnd)),
        ("respond 42", 1, 9, 2, ErrorKind::NotAStatus(42)),
        ("respond 200 header \"nocolon\"", 1, 20, 9, ErrorKind::HeaderWithoutColon),
        ("respond 200 body", 1, 17, 1, unexpected(Expected::BodyBytes, Found::LineEnd)),
        ("loop\nreset", 1, 1, 4, ErrorKind::NeverClosed { keyword: "loop", line: 1 }),
        ("loop 3\nend", 1, 7, 1, unexpected(Expected::Word("times"), Found::LineEnd)),
        ("loop 3 times extra\nend", 1, 14, 5, unexpected(Expected::LoopCount, word("extra"))),
        ("loop\nelse\nend", 2, 1, 4, ErrorKind::ElseOutsideIf { block: "loop" }),
        ("end", 1, 1, 3, ErrorKind::EndWithoutBlock),
        ("else", 1, 1, 4, ErrorKind::ElseWithoutIf),
        ("if\nend", 1, 3, 1, unexpected(Expected::Condition, Found::LineEnd)),
        ("if request 2\nend", 1, 12, 1, unexpected(Expected::Comparison, number("2"))),
        ("if path = \"/\"\nend", 1, 9, 1, unexpected(Expected::PathTest, Found::Op("="))),
        ("if method is 3\nend", 1, 14, 1, unexpected(Expected::Method, number("3"))),
        ("if request is 1\nelse\nelse\nend", 3, 1, 4, ErrorKind::SecondElse),
        ("if request is 1\nreset", 1, 1, 2, ErrorKind::NeverClosed { keyword: "if", line: 1 }),
        ("param", 1, 6, 1, ErrorKind::ParamWithoutName),
        ("param x 3", 1, 9, 1, unexpected(Expected::Word("="), number("3"))),
        ("param x = reset", 1, 11, 5, unexpected(Expected::ParamValue, word("reset"))),
        ("param x = 1\nparam x = 2", 2, 7, 1, ErrorKind::ParamTwice("x".into())),
        ("sleep $nope", 1, 7, 5, ErrorKind::UnknownParam { name: "nope".into(), suggestion: None }),
        ("param n = 3\nsleep $n", 2, 7, 2, ErrorKind::ParamKind { name: "n".into(), is: "number", expected: "duration" }),
        ("param d = 1s\nread $d bytes", 2, 6, 2, ErrorKind::ParamKind { name: "d".into(), is: "duration", expected: "number" }),
        ("param d = 1s\nwrite $d", 2, 7, 2, ErrorKind::ParamKind { name: "d".into(), is: "duration", expected: "string" }),
        ("loop\nparam x = 1\nend", 2, 1, 5, ErrorKind::TopLevelOnly { keyword: "param", block: "loop" }),
        ("on timeout\nend", 1, 4, 7, unexpected(Expected::Handler, word("timeout"))),
        ("on bad-request\nend\non bad-request\nend", 3, 4, 11, ErrorKind::HandlerTwice),
        ("sleep 1s $", 1, 10, 1, ErrorKind::VarWithoutName),
        ("reset !", 1, 7, 1, ErrorKind::LoneBang),
        ("reset @", 1, 7, 1, ErrorKind::UnexpectedChar('@')),
        ("read 12ab3", 1, 10, 1, ErrorKind::CharInNumber { found: '3', number: "12ab".into() }),
        // A CRLF ends the line where the display ends it: before the CR.
        ("write\r\n", 1, 6, 1, unexpected(Expected::WriteBytes, Found::LineEnd)),
        ("reset # done\r\nnow", 2, 1, 3, ErrorKind::UnknownStatement { word: "now".into(), suggestion: None }),
        ("write \"\\x\nreset", 1, 8, 2, ErrorKind::HexEscape),
        ("write \"a\\", 1, 7, 1, ErrorKind::UnterminatedString),
        ("write \"a\\\r\n\"", 1, 7, 1, ErrorKind::UnterminatedString),
        ("reset \u{1b}", 1, 7, 1, ErrorKind::UnexpectedChar('\u{1b}')),
        // `file`: the path's string is blamed; a bare `parse` reads from the
        // current directory (the crate's, under `cargo test`).
        ("write file", 1, 11, 1, unexpected(Expected::FileName, Found::LineEnd)),
        ("\nwrite \"a\" file \"no-such.bin\"", 2, 16, 13, ErrorKind::FileUnreadable { name: "no-such.bin".into(), path: "no-such.bin".into(), problem: FileProblem::Io("No such file or directory".into()) }),
        ("write file \"src\"", 1, 12, 5, ErrorKind::FileUnreadable { name: "src".into(), path: "src".into(), problem: FileProblem::NotRegular("a directory") }),
        ("respond 200 body file \"/dev/zero\"", 1, 23, 11, ErrorKind::FileUnreadable { name: "/dev/zero".into(), path: "/dev/zero".into(), problem: FileProblem::NotRegular("a character device") }),
        ("read 99999999999999999999", 1, 6, 20, ErrorKind::Value(ValueError::OverLargestNumber("99999999999999999999".into()))),
        ("read 9999999999999999999KiB", 1, 6, 22, ErrorKind::Value(ValueError::OverLargestNumber("9999999999999999999KiB".into()))),
    ]
}

/// `(source, message)`: what some of them say, word for word; the rest of
/// the wording is pinned by `Display` in one place, `error/kind.rs`.
const DISPLAYED: &[(&str, &str)] = &[
    (
        "jump",
        "unknown statement `jump`; expected one of read, write, respond, sleep, close, reset, half-close, hang, loop, if, log, forward, relay, upstream, tls, h2",
    ),
    (
        "read",
        "expected what to read: `request`, `head`, `body`, a byte count, `until eof`, `tls-hello` or `preface`, found end of line",
    ),
    (
        "tls alert handshake_failur",
        "`handshake_failur` is no TLS alert; did you mean `handshake_failure`?",
    ),
    (
        "tls alert nope",
        "`nope` is no TLS alert; the alerts are RFC 8446's: close_notify, unexpected_message, bad_record_mac, \
         record_overflow, handshake_failure, bad_certificate, unsupported_certificate, certificate_revoked, \
         certificate_expired, certificate_unknown, illegal_parameter, unknown_ca, access_denied, decode_error, \
         decrypt_error, protocol_version, insufficient_security, internal_error, inappropriate_fallback, \
         user_canceled, missing_extension, unsupported_extension, unrecognized_name, \
         bad_certificate_status_response, unknown_psk_identity, certificate_required, no_application_protocol",
    ),
    ("read request within 5", "`5` needs a unit: 250ms, 2s, 2m, 1h or 500us"),
    ("loop\nreset", "`loop` on line 1 is never closed: add `end`"),
    (
        "write \"a\\qb\"",
        "unknown escape `\\q`; use \\r \\n \\t \\0 \\\\ \\\" or \\xHH",
    ),
    ("reset \u{1b}", "unexpected character `\\u{1b}`"),
    (
        "param d = 1s\nwrite $d",
        "`$d` is a duration, but a string is expected here",
    ),
    (
        "sleep between 2s and 1s",
        "`between 2s and 1s`: the first duration must not be longer than the second",
    ),
    (
        "\nwrite \"a\" file \"no-such.bin\"",
        "cannot read `no-such.bin` (no-such.bin): No such file or directory",
    ),
    (
        "read 99999999999999999999",
        "`99999999999999999999` is over the largest number, 18446744073709551615",
    ),
    (
        "if chance 4 in 3\nend",
        "`chance 4 in 3` is not a chance: 4 out of 3 is more than all of them; the first number must be at most the second (`chance 3 in 3` always holds)",
    ),
    (
        "if chance 0 in 0\nend",
        "`chance 0 in 0` is not a chance: nothing is drawn out of 0; the second number must be 1 or more, as in `chance 1 in 3`",
    ),
    (
        "if chance 101 percent\nend",
        "`chance 101 percent` is not a chance: it can be at most 100 percent (`chance 100 percent` always holds)",
    ),
];

#[test]
fn a_file_value_is_the_files_bytes() {
    let cargo_toml = std::fs::read("Cargo.toml").unwrap();
    assert_eq!(
        one(r#"write file "Cargo.toml""#),
        Stmt::Write {
            payload: bytes(&cargo_toml),
            every: None
        }
    );
    // Read from the scenario's directory, unless the path is absolute.
    let dir = std::path::Path::new("src");
    let parsed = super::parser::parse_in(r#"write "<" file "lib.rs""#, &BTreeMap::new(), Some(dir)).unwrap();
    let lib = std::fs::read("src/lib.rs").unwrap();
    assert_eq!(
        parsed.body,
        [Stmt::Write {
            payload: bytes(&[b"<".as_slice(), &lib].concat()),
            every: None
        }]
    );
    let absolute = std::fs::canonicalize("Cargo.toml").unwrap();
    let source = format!("respond 200 body file {:?}", absolute.to_str().unwrap());
    let parsed = super::parser::parse_in(&source, &BTreeMap::new(), Some(dir)).unwrap();
    let [Stmt::Respond(r)] = parsed.body.as_slice() else {
        panic!("{:?}", parsed.body)
    };
    assert_eq!(r.body, bytes(&cargo_toml));
}

/// A fresh directory for one test's side files.
fn side_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hangup-scenario-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn file_values_that_cannot_be_held() {
    let dir = side_dir("file-errors");
    let error = |source: &str| {
        let e = super::parser::parse_in(source, &BTreeMap::new(), Some(&dir))
            .unwrap_err()
            .remove(0);
        (e.span.line, e.span.col, e.message())
    };
    let shown = dir.display();
    // Over 16 MiB: refused after reading one byte past the limit.
    let big = std::fs::File::create(dir.join("big.bin")).unwrap();
    big.set_len(super::limits::MAX_HELD_BYTES as u64 + 1).unwrap();
    assert_eq!(
        error("write file \"big.bin\""),
        (
            1,
            12,
            format!(
                "cannot read `big.bin` ({shown}/big.bin): it is over the limit of 16 MiB for the bytes a scenario holds"
            )
        )
    );
    // Under it alone, over it with what the scenario holds already.
    let half = std::fs::File::create(dir.join("half.bin")).unwrap();
    half.set_len(super::limits::MAX_HELD_BYTES as u64 / 2 + 1).unwrap();
    let (line, col, message) = error("write file \"half.bin\"\nwrite file \"half.bin\"");
    assert_eq!((line, col), (2, 12));
    assert!(
        message.starts_with("the scenario's strings come to over the limit of 16 MiB"),
        "{message}"
    );
    // A FIFO with no writer is refused at once, not waited on.
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    assert_eq!(
        error("write file \"fifo\""),
        (
            1,
            12,
            format!("cannot read `fifo` ({shown}/fifo): it is a FIFO, not a regular file")
        )
    );
    // Unreadable (unless we are root, who reads anything).
    let secret = dir.join("secret.bin");
    std::fs::write(&secret, "x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&secret).is_err() {
        assert_eq!(
            error("write file \"secret.bin\""),
            (
                1,
                12,
                format!("cannot read `secret.bin` ({shown}/secret.bin): Permission denied")
            )
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_error_has_its_kind_line_column_and_width() {
    for (src, line, col, width, kind) in errors() {
        let error = parse(src, &BTreeMap::new()).expect_err(src).remove(0);
        assert_eq!(
            (error.span.line, error.span.col, error.span.width, &error.kind),
            (line, col, width, &kind),
            "source: {src:?}"
        );
    }
}

#[test]
fn some_errors_word_for_word() {
    for (src, message) in DISPLAYED {
        let error = parse(src, &BTreeMap::new()).expect_err(src).remove(0);
        assert_eq!(error.message(), *message, "source: {src:?}");
    }
}

#[test]
fn spans_end_where_the_display_ends_a_line() {
    use super::lexer::{TokenKind, tokenize};
    // (text, the line and column of its end): after a trailing newline the
    // end is the end of the last line, as `str::lines` shows the text.
    for (text, line, col) in [
        ("", 1, 1),
        ("reset", 1, 6),
        ("reset\n", 1, 6),
        ("reset\r\n", 1, 6),
        ("a\n\n", 2, 1),
    ] {
        let lexed = tokenize(text);
        assert_eq!(lexed.errors, [], "{text:?}");
        let tokens = lexed.tokens;
        let eof = tokens.last().unwrap();
        assert_eq!(eof.kind, TokenKind::Eof);
        assert_eq!((eof.span.line, eof.span.col), (line, col), "{text:?}");
    }
    // The caret of a bad `\x` covers `\x`, not the line end after it.
    let error = parse("write \"\\x\n", &BTreeMap::new()).unwrap_err().remove(0);
    assert_eq!((error.span.col, error.span.width), (8, 2));
}

#[test]
fn override_errors() {
    let set = |k: &str, v: &str| -> BTreeMap<String, String> { [(k.to_string(), v.to_string())].into() };
    let err = parse("param after = 1s\n", &set("after", "soon"))
        .unwrap_err()
        .remove(0);
    assert_eq!(
        err.message(),
        "--set after=soon: `soon` is not a duration like 250ms or 2s"
    );
    let err = parse("param after = 1s\n", &set("before", "2s")).unwrap_err().remove(0);
    assert_eq!(
        err.message(),
        "--set before: no parameter named `before`; its parameters are: after"
    );
    for (value, message) in [
        ("-1s", "--set after=-1s: `-1s` is not a duration like 250ms or 2s"),
        (
            "1e3s",
            "--set after=1e3s: `e3s` is not a time unit; use us, ms, s, m or h",
        ),
        ("+2s", "--set after=+2s: `+2s` is not a duration like 250ms or 2s"),
        (
            "99999999999999999999h",
            "--set after=99999999999999999999h: `99999999999999999999h` is over the limit of 8760h (365 days) for a duration",
        ),
    ] {
        let err = parse("param after = 1s\n", &set("after", value)).unwrap_err().remove(0);
        assert_eq!(err.message(), message);
    }
    let err = parse("reset\n", &set("x", "1")).unwrap_err().remove(0);
    assert_eq!(
        err.message(),
        "--set x: no parameter named `x`; this scenario has no parameters"
    );
}

#[test]
fn every_builtin_parses() {
    for (name, source) in super::catalog::BUILTINS {
        let scenario = super::parse_named(name, source, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!scenario.summary.is_empty(), "{name} has no summary comment");
    }
}

#[test]
fn accept_never_is_a_top_level_line_with_no_statements() {
    let scenario = parse("param x = 1\naccept never\n", &BTreeMap::new()).unwrap();
    assert!(scenario.accept_never && scenario.body.is_empty());
    assert!(!parse("respond 200\n", &BTreeMap::new()).unwrap().accept_never);
    for (src, line, col, message) in [
        (
            "accept never\naccept never\n",
            2,
            1,
            "`accept never` is already said above",
        ),
        (
            "accept never\nhang\n",
            2,
            1,
            "`accept never` on line 1 leaves no connection",
        ),
        (
            "hang\naccept never\n",
            2,
            1,
            "`accept never` leaves no connection for the statements above",
        ),
        ("accept\n", 1, 7, "expected `never`"),
        ("loop\n  accept never\nend\n", 2, 3, "only at the top level"),
    ] {
        let d = parse(src, &BTreeMap::new()).unwrap_err().remove(0);
        assert_eq!((d.span.line, d.span.col), (line, col), "{src:?}: {}", d.message());
        assert!(d.message().contains(message), "{src:?}: {}", d.message());
    }
}

/// The `(line, column)` of every error of `src`, in order.
fn positions(src: &str) -> Vec<(usize, usize)> {
    match parse(src, &BTreeMap::new()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|d| (d.span.line, d.span.col)).collect(),
    }
}

#[test]
fn the_parse_goes_on_after_an_error_at_the_next_line() {
    for (src, expected) in [
        // Statements: each bad one is dropped, the next line parsed.
        (
            "jump\nreset\nsleep\nwrite \"x\" ?\nhang\n",
            vec![(1, 1), (3, 6), (4, 11)],
        ),
        // A block's first line: noted, and its `end` still closes it.
        ("loop 3 tims\n  jump\nend\nend\n", vec![(1, 8), (2, 3), (4, 1)]),
        (
            "if reqest is 1\n  reset\nelse if\n  jmp\nelse foo\nend\nhang\n",
            vec![(1, 4), (3, 8), (4, 3), (5, 6)],
        ),
        ("on bad-requst\n  jump\nend\nreset\n", vec![(1, 4), (2, 3)]),
        // An `else` out of place, and a second one, keep their block open.
        ("loop\n  else\n  jump\nend\n", vec![(2, 3), (3, 3)]),
        ("if request is 1\nelse\nelse\n  jump\nend\n", vec![(3, 1), (4, 3)]),
        // `on` inside a block is parsed all the same: its `end` is its own.
        ("loop\n  on bad-request\n    jump\n  end\nend\n", vec![(2, 3), (3, 5)]),
        // A line the lexer refused has one error, its first.
        ("write \"abc\nwrite 1 @ \"x\nreset\n", vec![(1, 7), (2, 9)]),
        // A `param` line with an error: its uses are not errors again.
        ("param p = \nsleep $p\nwrite $p\nsleep $q\n", vec![(1, 11), (4, 7)]),
        // Blocks left open at the end are each said.
        ("loop\n  if request is 1\n    reset\n", vec![(1, 1), (2, 3)]),
        // `accept never`: statements after it are said once.
        ("accept never\nhang\nreset\n", vec![(2, 1)]),
        ("reset\naccept never\naccept never\n", vec![(2, 1), (3, 1)]),
        (
            "on bad-request\nend\non bad-request\n  jump\nend\n",
            vec![(3, 4), (4, 3)],
        ),
    ] {
        assert_eq!(positions(src), expected, "{src:?}");
    }
}

#[test]
fn after_twenty_errors_the_parse_says_it_stopped() {
    let src = "jump\n".repeat(30);
    let errors = parse(&src, &BTreeMap::new()).unwrap_err();
    assert_eq!(errors.len(), super::limits::MAX_ERRORS + 1);
    assert_eq!(errors[19].span.line, 20);
    assert_eq!(errors[20].kind, ErrorKind::TooManyErrors);
    assert_eq!(errors[20].span.line, 0);
    // Lexer errors count the same; a million of them cost no more.
    let src = "reset @\n".repeat(100_000);
    let errors = parse(&src, &BTreeMap::new()).unwrap_err();
    assert_eq!(errors.len(), super::limits::MAX_ERRORS + 1);
    assert_eq!(errors.last().map(|e| &e.kind), Some(&ErrorKind::TooManyErrors));
    // Exactly twenty is not "more".
    let src = "jump\n".repeat(20);
    assert_eq!(parse(&src, &BTreeMap::new()).unwrap_err().len(), 20);
}

#[test]
fn a_mistyped_word_gets_the_nearest_keyword_allowed_there() {
    let suggested = |expected, found: &str, suggestion| ErrorKind::UnexpectedToken {
        expected,
        found: word(found),
        suggestion: Some(suggestion),
    };
    for (src, line, col, kind) in [
        (
            "wrte \"x\"",
            1,
            1,
            ErrorKind::UnknownStatement {
                word: "wrte".into(),
                suggestion: Some("write"),
            },
        ),
        (
            "reste",
            1,
            1,
            ErrorKind::UnknownStatement {
                word: "reste".into(),
                suggestion: Some("reset"),
            },
        ),
        (
            "loop\nned\nend",
            2,
            1,
            ErrorKind::UnknownStatement {
                word: "ned".into(),
                suggestion: Some("end"),
            },
        ),
        ("read reqest", 1, 6, suggested(Expected::ReadGoal, "reqest", "request")),
        ("close nwo", 1, 7, suggested(Expected::LineEnd, "nwo", "now")),
        (
            "read head withn 1s",
            1,
            11,
            suggested(Expected::LineEnd, "withn", "within"),
        ),
        (
            "write \"x\" evry 1s",
            1,
            11,
            suggested(Expected::LineEnd, "evry", "every"),
        ),
        ("write hx \"0d\"", 1, 7, suggested(Expected::WriteBytes, "hx", "hex")),
        (
            "respond 200 bdy \"x\"",
            1,
            13,
            suggested(Expected::LineEnd, "bdy", "body"),
        ),
        (
            "relay response limt 5",
            1,
            16,
            suggested(Expected::LineEnd, "limt", "limit"),
        ),
        (
            "loop 3 tims\nend",
            1,
            8,
            suggested(Expected::Word("times"), "tims", "times"),
        ),
        (
            "if request is 1 adn path is \"/\"\nend",
            1,
            17,
            suggested(Expected::LineEnd, "adn", "and"),
        ),
        (
            "if conection is 1\nend",
            1,
            4,
            suggested(Expected::Condition, "conection", "connection"),
        ),
        (
            "on bad-requst\nend",
            1,
            4,
            suggested(Expected::Handler, "bad-requst", "bad-request"),
        ),
        (
            "param after = 1s\nsleep $aftr",
            2,
            7,
            ErrorKind::UnknownParam {
                name: "aftr".into(),
                suggestion: Some("after".into()),
            },
        ),
    ] {
        let error = parse(src, &BTreeMap::new()).expect_err(src).remove(0);
        assert_eq!(
            (error.span.line, error.span.col, &error.kind),
            (line, col, &kind),
            "{src:?}"
        );
    }
    // `--set` names are compared with the scenario's parameters.
    let set: BTreeMap<String, String> = [("aftr".to_string(), "2s".to_string())].into();
    let error = parse("param after = 1s\nsleep $after\n", &set).unwrap_err().remove(0);
    assert_eq!(
        error.message(),
        "--set aftr: no parameter named `aftr` (did you mean `after`?); its parameters are: after"
    );
}

#[test]
fn slices_of_a_payload_put_together_are_the_payload() {
    let payload = Payload {
        pieces: vec![
            Piece::Bytes(b"head".to_vec()),
            Piece::Repeat {
                pattern: b"abc".to_vec(),
                count: 5,
            },
            Piece::Bytes(b"!".to_vec()),
            Piece::Repeat {
                pattern: b"z".to_vec(),
                count: 3,
            },
        ],
    };
    let whole = payload.to_vec();
    for size in 1..=whole.len() as u64 + 1 {
        let mut joined = Vec::new();
        let mut offset = 0;
        while offset < payload.len() {
            let slice = payload.slice(offset, size);
            assert_eq!(slice.len(), size.min(payload.len() - offset), "size {size} at {offset}");
            joined.extend(slice.to_vec());
            offset += size;
        }
        assert_eq!(joined, whole, "size {size}");
    }
    // The middle of a large repeat stays a repeat.
    let big = Payload {
        pieces: vec![Piece::Repeat {
            pattern: b"ab".to_vec(),
            count: 1 << 30,
        }],
    };
    assert!(big.slice(1, 1 << 20).held_bytes() < 10);
}
