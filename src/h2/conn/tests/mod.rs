//! The connection driven as a client would drive it: bytes in, events and
//! frames out. Each flood and each rule of RFC 9113 §5 and §6 that the
//! connection (not the frame reader) enforces has its case: the
//! handshake, requests and streams here, windows in `flow.rs`, floods and
//! limits in `floods.rs`, hostile and cut-up input in `hostile.rs`.

mod floods;
mod flow;
mod hostile;

use super::*;
use crate::h2::frame::{Ack, EndHeaders, MAX_STREAM_ID, Priority, RawFrame, Read, setting};
use crate::h2::preface::PREFACE;

fn bytes(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        frame.encode(&mut out);
    }
    out
}

fn request_block(path: &str) -> Vec<u8> {
    let mut block = Vec::new();
    let fields: [(&[u8], &[u8]); 5] = [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":authority", b"127.0.0.1"),
        (b":path", path.as_bytes()),
        (b"user-agent", b"test"),
    ];
    hpack::encode(fields, &mut block);
    block
}

fn headers(stream: u32, block: Vec<u8>, end_stream: EndStream, end_headers: EndHeaders) -> Frame {
    Frame::Headers {
        stream,
        block,
        end_stream,
        end_headers,
        priority: None,
        pad: None,
    }
}

fn get(stream: u32, path: &str) -> Frame {
    headers(stream, request_block(path), EndStream::Yes, EndHeaders::Yes)
}

fn settings(params: &[(u16, u32)]) -> Frame {
    Frame::Settings {
        ack: Ack::No,
        params: params.to_vec(),
    }
}

/// A connection past the preface and the client's empty SETTINGS, with
/// what that produced taken away.
fn open(config: Config) -> Conn {
    let mut conn = Conn::new(config);
    let mut start = PREFACE.to_vec();
    start.extend(bytes(&[settings(&[])]));
    conn.receive(&start);
    assert_eq!(conn.phase(), Phase::Open);
    drain(&mut conn);
    conn
}

fn events(conn: &mut Conn) -> Vec<Event> {
    std::iter::from_fn(|| conn.next_event()).collect()
}

/// The frames waiting to be sent, taken.
fn sent(conn: &mut Conn) -> Vec<Frame> {
    let out = conn.pending_output().to_vec();
    conn.written(out.len());
    let reader = FrameReader::new(frame::MAX_MAX_FRAME_SIZE);
    let mut at = 0;
    let mut frames = Vec::new();
    while at < out.len() {
        match reader.read(&out[at..]) {
            Read::Frame(frame, n) => {
                frames.push(frame);
                at += n;
            }
            other => panic!("our own output at {at}: {other:?}"),
        }
    }
    frames
}

fn drain(conn: &mut Conn) {
    events(conn);
    sent(conn);
}

/// The code of the connection error that must be the last event.
fn failed(conn: &mut Conn) -> ErrorCode {
    match events(conn).pop() {
        Some(Event::ConnectionError(e)) => {
            assert_eq!(conn.phase(), Phase::Failed);
            e.code
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

fn stream_error(conn: &mut Conn) -> (u32, ErrorCode) {
    let errors: Vec<_> = events(conn)
        .into_iter()
        .filter_map(|e| match e {
            Event::StreamError(e) => Some((e.stream, e.code)),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let rst: Vec<_> = sent(conn)
        .into_iter()
        .filter(|f| matches!(f, Frame::RstStream { .. }))
        .collect();
    assert_eq!(
        rst,
        [Frame::RstStream {
            stream: errors[0].0,
            code: errors[0].1
        }]
    );
    errors[0]
}

#[test]
fn our_settings_go_first_and_theirs_are_acknowledged() {
    let mut conn = Conn::new(Config::default());
    assert_eq!(sent(&mut conn), [settings(&Config::default().settings)]);
    conn.receive(&PREFACE[..10]);
    assert_eq!(conn.phase(), Phase::Preface);
    let mut rest = PREFACE[10..].to_vec();
    rest.extend(bytes(&[settings(&[(setting::INITIAL_WINDOW_SIZE, 1000)])]));
    conn.receive(&rest);
    let params = vec![(setting::INITIAL_WINDOW_SIZE, 1000)];
    assert_eq!(events(&mut conn), [Event::Settings { params }]);
    assert_eq!(
        sent(&mut conn),
        [Frame::Settings {
            ack: Ack::Yes,
            params: vec![]
        }]
    );
    conn.receive(&bytes(&[Frame::Settings {
        ack: Ack::Yes,
        params: vec![],
    }]));
    assert_eq!(events(&mut conn), [Event::SettingsAck]);
}

#[test]
fn a_request_is_read_and_answered() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(1, "/hello")]));
    let Some(Event::Request {
        stream: 1,
        head,
        end_stream: EndStream::Yes,
    }) = conn.next_event()
    else {
        panic!("no request");
    };
    assert_eq!(
        (head.method.as_slice(), head.path.as_slice()),
        (&b"GET"[..], &b"/hello"[..])
    );
    assert_eq!(head.headers, [(b"user-agent".to_vec(), b"test".to_vec())]);
    assert_eq!(conn.last_stream(), 1);
    conn.send_response(1, 200, &[(b"content-length".to_vec(), b"5".to_vec())], EndStream::No);
    assert_eq!(conn.send_data(1, b"hello", EndStream::Yes, Flow::Honour), 5);
    assert!(!conn.is_active(1));
    let frames = sent(&mut conn);
    let Frame::Headers {
        block,
        end_headers: EndHeaders::Yes,
        end_stream: EndStream::No,
        ..
    } = &frames[0]
    else {
        panic!("{frames:?}");
    };
    let decoded = hpack::Decoder::new(4096).decode(block, 1024);
    assert_eq!(
        decoded,
        Ok(vec![
            (b":status".to_vec(), b"200".to_vec()),
            (b"content-length".to_vec(), b"5".to_vec())
        ])
    );
    assert_eq!(
        frames[1],
        Frame::Data {
            stream: 1,
            data: b"hello".to_vec(),
            end_stream: EndStream::Yes,
            pad: None
        }
    );
}

#[test]
fn the_start_must_be_the_preface_then_settings() {
    let mut conn = Conn::new(Config::default());
    conn.receive(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);
    conn.receive(&bytes(&[settings(&[])]));
    assert_eq!(events(&mut conn), []);

    let mut conn = Conn::new(Config::default());
    let mut start = PREFACE.to_vec();
    start.extend(bytes(&[Frame::Ping {
        ack: Ack::No,
        data: [0; 8],
    }]));
    conn.receive(&start);
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn pings_are_answered_unless_manual() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[Frame::Ping {
        ack: Ack::No,
        data: *b"abcdefgh",
    }]));
    assert_eq!(events(&mut conn), [Event::Ping { data: *b"abcdefgh" }]);
    assert_eq!(
        sent(&mut conn),
        [Frame::Ping {
            ack: Ack::Yes,
            data: *b"abcdefgh"
        }]
    );

    let mut conn = open(Config {
        ping_ack: Answer::Manual,
        settings_ack: Answer::Manual,
        ..Config::default()
    });
    conn.receive(&bytes(&[
        Frame::Ping {
            ack: Ack::No,
            data: [1; 8],
        },
        settings(&[]),
    ]));
    assert_eq!(events(&mut conn).len(), 2);
    assert_eq!(sent(&mut conn), []);
    conn.send_ping(Ack::No, [2; 8]);
    conn.receive(&bytes(&[Frame::Ping {
        ack: Ack::Yes,
        data: [2; 8],
    }]));
    assert_eq!(events(&mut conn), [Event::PingAck { data: [2; 8] }]);
}

#[test]
fn a_block_in_pieces_is_read_and_nothing_may_come_between() {
    let block = request_block("/split");
    let (a, b) = block.split_at(5);
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[
        headers(1, a.to_vec(), EndStream::No, EndHeaders::No),
        Frame::Continuation {
            stream: 1,
            block: b.to_vec(),
            end_headers: EndHeaders::Yes,
        },
    ]));
    assert!(matches!(
        events(&mut conn)[..],
        [Event::Request {
            stream: 1,
            end_stream: EndStream::No,
            ..
        }]
    ));

    let mut conn = open(Config::default());
    conn.receive(&bytes(&[
        headers(1, a.to_vec(), EndStream::No, EndHeaders::No),
        Frame::Ping {
            ack: Ack::No,
            data: [0; 8],
        },
    ]));
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);

    let mut conn = open(Config::default());
    conn.receive(&bytes(&[Frame::Continuation {
        stream: 1,
        block: b.to_vec(),
        end_headers: EndHeaders::Yes,
    }]));
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn stream_ids_are_odd_and_only_go_up() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(2, "/")]));
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);

    // Going down: see hostile.rs for the cases around it.
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(5, "/a"), get(3, "/b")]));
    assert!(matches!(events(&mut conn)[0], Event::Request { stream: 5, .. }));
    assert_eq!(conn.phase(), Phase::Failed);

    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(5, "/a")]));
    drain(&mut conn);
    conn.receive(&bytes(&[Frame::RstStream {
        stream: 9,
        code: ErrorCode::CANCEL,
    }]));
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn broken_blocks_and_requests() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[headers(1, vec![0xff, 0xff], EndStream::Yes, EndHeaders::Yes)]));
    assert_eq!(failed(&mut conn), ErrorCode::COMPRESSION_ERROR);

    let mut conn = open(Config::default());
    let mut block = Vec::new();
    hpack::encode([(&b":path"[..], &b"/"[..])], &mut block);
    conn.receive(&bytes(&[headers(1, block, EndStream::Yes, EndHeaders::Yes)]));
    assert_eq!(stream_error(&mut conn), (1, ErrorCode::PROTOCOL_ERROR));

    let mut conn = open(Config::default());
    conn.receive(&bytes(&[Frame::PushPromise {
        stream: 1,
        promised: 2,
        block: vec![],
        end_headers: EndHeaders::Yes,
        pad: None,
    }]));
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn trailers_resets_and_data_after_the_end() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[headers(
        1,
        request_block("/"),
        EndStream::No,
        EndHeaders::Yes,
    )]));
    let mut trailers = Vec::new();
    hpack::encode([(&b"x-sum"[..], &b"1"[..])], &mut trailers);
    conn.receive(&bytes(&[headers(1, trailers, EndStream::Yes, EndHeaders::Yes)]));
    let got = events(&mut conn).pop();
    assert_eq!(
        got,
        Some(Event::Trailers {
            stream: 1,
            headers: vec![(b"x-sum".to_vec(), b"1".to_vec())]
        })
    );
    let data = Frame::Data {
        stream: 1,
        data: vec![1],
        end_stream: EndStream::No,
        pad: None,
    };
    conn.receive(&bytes(&[data]));
    assert_eq!(stream_error(&mut conn), (1, ErrorCode::STREAM_CLOSED));

    conn.receive(&bytes(&[headers(
        3,
        request_block("/"),
        EndStream::No,
        EndHeaders::Yes,
    )]));
    conn.receive(&bytes(&[Frame::RstStream {
        stream: 3,
        code: ErrorCode::CANCEL,
    }]));
    assert_eq!(
        events(&mut conn).pop(),
        Some(Event::RstStream {
            stream: 3,
            code: ErrorCode::CANCEL
        })
    );
    // DATA in flight after the reset is counted and ignored.
    conn.receive(&bytes(&[Frame::Data {
        stream: 3,
        data: vec![1; 10],
        end_stream: EndStream::Yes,
        pad: None,
    }]));
    assert_eq!(events(&mut conn), []);
}

#[test]
fn goaway_names_the_last_stream_and_later_streams_are_ignored() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(1, "/"), get(3, "/")]));
    drain(&mut conn);
    assert_eq!(conn.send_goaway(LastStream::LastSeen, ErrorCode::NO_ERROR, b"bye"), 3);
    assert_eq!(
        conn.send_goaway(LastStream::Max, ErrorCode::NO_ERROR, b""),
        MAX_STREAM_ID
    );
    assert_eq!(conn.send_goaway(LastStream::Id(0), ErrorCode::NO_ERROR, b""), 0);
    let frames = sent(&mut conn);
    assert_eq!(
        frames[0],
        Frame::GoAway {
            last_stream: 3,
            code: ErrorCode::NO_ERROR,
            debug: b"bye".to_vec()
        }
    );
    conn.receive(&bytes(&[get(5, "/")]));
    assert_eq!(events(&mut conn), []);
    conn.receive(&bytes(&[Frame::GoAway {
        last_stream: 0,
        code: ErrorCode::NO_ERROR,
        debug: vec![],
    }]));
    assert!(matches!(events(&mut conn)[..], [Event::GoAway { last_stream: 0, .. }]));
}

#[test]
fn large_blocks_are_cut_to_the_clients_frame_size_and_raw_frames_go_as_given() {
    let mut conn = open(Config::default());
    let big = vec![(b"x-big".to_vec(), vec![b'v'; 40_000])];
    conn.send_response(1, 200, &big, EndStream::Yes);
    let kinds: Vec<&str> = sent(&mut conn).iter().map(Frame::name).collect();
    assert_eq!(kinds, ["HEADERS", "CONTINUATION", "CONTINUATION"]);
    conn.send_raw(&RawFrame {
        kind: 0xee,
        flags: 0,
        stream_word: 1,
        declared_len: None,
        payload: vec![],
    });
    assert_eq!(conn.pending_output(), [0, 0, 0, 0xee, 0, 0, 0, 0, 1]);
}

#[test]
fn our_settings_apply_when_acknowledged_but_the_stream_limit_when_sent() {
    let mut conn = open(Config::default());
    conn.send_settings(&[(setting::MAX_CONCURRENT_STREAMS, 1), (setting::INITIAL_WINDOW_SIZE, 10)]);
    conn.receive(&bytes(&[
        headers(1, request_block("/"), EndStream::No, EndHeaders::Yes),
        get(3, "/"),
    ]));
    assert_eq!(stream_error(&mut conn), (3, ErrorCode::REFUSED_STREAM));
    let data = |len| Frame::Data {
        stream: 1,
        data: vec![0; len],
        end_stream: EndStream::No,
        pad: None,
    };
    // The smaller window waits for the ACK: 20 bytes still fit.
    conn.receive(&bytes(&[data(20)]));
    assert!(matches!(events(&mut conn)[..], [Event::Data { len: 20, .. }]));
    // The first ACK is for the SETTINGS we sent at the start: the limit
    // on streams stays 1.
    let ack = Frame::Settings {
        ack: Ack::Yes,
        params: vec![],
    };
    conn.receive(&bytes(&[ack.clone(), get(5, "/")]));
    assert_eq!(stream_error(&mut conn), (5, ErrorCode::REFUSED_STREAM));
    conn.receive(&bytes(&[ack, data(1)]));
    assert_eq!(stream_error(&mut conn), (1, ErrorCode::FLOW_CONTROL_ERROR));
}

#[test]
fn a_stream_error_on_an_idle_stream_ends_the_connection() {
    let zero = |stream| RawFrame {
        kind: 8,
        flags: 0,
        stream_word: stream,
        declared_len: None,
        payload: vec![0; 4],
    };
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[headers(
        1,
        request_block("/"),
        EndStream::No,
        EndHeaders::Yes,
    )]));
    drain(&mut conn);
    let mut out = Vec::new();
    zero(1).encode(&mut out);
    conn.receive(&out);
    assert_eq!(stream_error(&mut conn), (1, ErrorCode::PROTOCOL_ERROR));
    let mut out = Vec::new();
    zero(3).encode(&mut out);
    conn.receive(&out);
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);
}
