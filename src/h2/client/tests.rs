//! The client driven as a server would drive it: frames in, events and
//! frames out. Each rule the client enforces has its case; hostile, cut
//! and mutated input is the property tests' at the end.

use proptest::prelude::*;

use super::*;
use crate::h2::frame::{RawFrame, setting};

fn bytes(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        frame.encode(&mut out);
    }
    out
}

fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    hpack::encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())), &mut out);
    out
}

fn headers(stream: u32, fields: &[(&str, &str)], end_stream: EndStream) -> Frame {
    Frame::Headers {
        stream,
        block: block(fields),
        end_stream,
        end_headers: EndHeaders::Yes,
        priority: None,
        pad: None,
    }
}

fn data(stream: u32, len: usize, end_stream: EndStream) -> Frame {
    Frame::Data {
        stream,
        data: vec![b'x'; len],
        end_stream,
        pad: None,
    }
}

fn settings(params: &[(u16, u32)]) -> Frame {
    Frame::Settings {
        ack: Ack::No,
        params: params.to_vec(),
    }
}

fn events(client: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| client.next_event()).collect()
}

/// The frames of what the client wants written, read back.
fn written(client: &mut Client) -> Vec<Frame> {
    let Some(output) = client.take_output() else {
        return Vec::new();
    };
    let mut rest: &[u8] = &output.bytes;
    if let Some(after) = rest.strip_prefix(PREFACE.as_slice()) {
        rest = after;
    }
    let reader = FrameReader::new(frame::MAX_MAX_FRAME_SIZE);
    let mut frames = Vec::new();
    while !rest.is_empty() {
        match reader.read(rest) {
            Read::Frame(frame, used) => {
                frames.push(frame);
                rest = &rest[used..];
            }
            other => panic!("the client wrote what cannot be read: {other:?}"),
        }
    }
    frames
}

use crate::h2::frame::Read;

/// A client with stream 1 open (a GET, END_STREAM), past the server's
/// empty SETTINGS, with what that produced taken away.
fn open() -> Client {
    let mut client = Client::new(Config::default());
    let fields: [(&[u8], &[u8]); 4] = [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":authority", b"127.0.0.1"),
        (b":path", b"/"),
    ];
    assert_eq!(client.open_stream(fields, EndStream::Yes), 1);
    client.take_output();
    client.receive(&bytes(&[settings(&[])]));
    events(&mut client);
    client.take_output();
    client
}

fn connection_error(client: &mut Client) -> ConnectionError {
    match events(client).pop() {
        Some(Event::ConnectionError(e)) => e,
        other => panic!("expected a connection error last, got {other:?}"),
    }
}

fn stream_error(events: &[Event]) -> &StreamError {
    events
        .iter()
        .find_map(|e| match e {
            Event::StreamError(e) => Some(e),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no stream error in {events:?}"))
}

#[test]
fn the_preface_and_our_settings_go_first_then_the_request() {
    let mut client = Client::new(Config::default());
    let fields: [(&[u8], &[u8]); 2] = [(b":method", b"GET"), (b":path", b"/x")];
    client.open_stream(fields, EndStream::Yes);
    let output = client.take_output().unwrap();
    assert!(output.bytes.starts_with(PREFACE));
    assert_eq!(
        output.frames,
        vec![
            Sent::Preface {
                settings: vec![(setting::ENABLE_PUSH, 0)]
            },
            Sent::Headers {
                stream: 1,
                end_stream: EndStream::Yes,
                block: block(&[(":method", "GET"), (":path", "/x")]).len(),
                frames: 1
            },
        ]
    );
    let mut again = Client::new(Config::default());
    again.open_stream(fields, EndStream::Yes);
    let frames = written(&mut again);
    assert_eq!(frames[0], settings(&[(setting::ENABLE_PUSH, 0)]));
    let Frame::Headers { block, end_stream, .. } = &frames[1] else {
        panic!("{frames:?}")
    };
    assert_eq!(*end_stream, EndStream::Yes);
    let decoded = hpack::Decoder::new(4096).decode(block, 1 << 16).unwrap();
    assert_eq!(decoded[1], (b":path".to_vec(), b"/x".to_vec()));
    assert!(client.take_output().is_none());
}

#[test]
fn a_whole_response_reads_as_settings_head_and_data() {
    let mut client = open();
    client.receive(&bytes(&[
        settings(&[(setting::MAX_CONCURRENT_STREAMS, 100)]),
        headers(1, &[(":status", "200"), ("content-type", "text/plain")], EndStream::No),
        data(1, 5, EndStream::Yes),
    ]));
    let got = events(&mut client);
    assert_eq!(
        got[0],
        Event::Settings {
            params: vec![(setting::MAX_CONCURRENT_STREAMS, 100)]
        }
    );
    let Event::Headers { head, end_stream, .. } = &got[1] else {
        panic!("{got:?}")
    };
    assert_eq!(
        (head.kind, head.status, *end_stream),
        (HeadKind::Response, Some(200), EndStream::No)
    );
    assert_eq!(
        got[2],
        Event::Data {
            stream: 1,
            len: 5,
            padding: 0,
            end_stream: EndStream::Yes
        }
    );
    assert_eq!(got.len(), 3);
    // The server's SETTINGS are acknowledged.
    assert_eq!(
        written(&mut client),
        vec![Frame::Settings {
            ack: Ack::Yes,
            params: vec![]
        }]
    );
}

#[test]
fn pings_are_answered_and_interim_heads_and_trailers_told_apart() {
    let mut client = open();
    client.receive(&bytes(&[
        Frame::Ping {
            ack: Ack::No,
            data: [9; 8],
        },
        headers(1, &[(":status", "103"), ("link", "</a>")], EndStream::No),
        headers(1, &[(":status", "204")], EndStream::No),
        headers(1, &[("grpc-status", "0")], EndStream::Yes),
    ]));
    let kinds: Vec<HeadKind> = events(&mut client)
        .into_iter()
        .filter_map(|e| match e {
            Event::Headers { head, .. } => Some(head.kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, [HeadKind::Informational, HeadKind::Response, HeadKind::Trailers]);
    assert_eq!(
        written(&mut client),
        vec![Frame::Ping {
            ack: Ack::Yes,
            data: [9; 8]
        }]
    );
}

#[test]
fn an_http1_answer_to_the_preface_is_named_as_such() {
    let mut client = Client::new(Config::default());
    client.receive(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    let e = connection_error(&mut client);
    assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR);
    assert_eq!(
        e.why,
        "the server answered in HTTP/1: `HTTP/1.1 400 Bad Request` (it does not speak HTTP/2 with prior knowledge)"
    );
    assert_eq!(client.phase(), Phase::Failed);
    let output = client.take_output().unwrap();
    assert_eq!(
        output.frames.last(),
        Some(&Sent::GoAway {
            code: ErrorCode::PROTOCOL_ERROR
        })
    );
    // Nothing more is read.
    client.receive(&bytes(&[settings(&[])]));
    assert!(client.next_event().is_none());
}

#[test]
fn the_servers_first_frame_must_be_settings() {
    let mut client = Client::new(Config::default());
    client.receive(&bytes(&[Frame::Ping {
        ack: Ack::No,
        data: [0; 8],
    }]));
    let e = connection_error(&mut client);
    assert_eq!(e.why, "the server's first frame is PING, not SETTINGS");
}

#[test]
fn frames_on_streams_the_probe_never_opened_end_the_connection() {
    let table: [(Frame, &str); 5] = [
        (
            data(3, 1, EndStream::No),
            "DATA on stream 3, which the probe never opened",
        ),
        (
            headers(2, &[(":status", "200")], EndStream::Yes),
            "HEADERS on stream 2, which the probe never opened",
        ),
        (
            Frame::RstStream {
                stream: 5,
                code: ErrorCode::CANCEL,
            },
            "RST_STREAM on stream 5, which the probe never opened",
        ),
        (
            Frame::WindowUpdate {
                stream: 7,
                increment: 1,
            },
            "WINDOW_UPDATE on stream 7, which the probe never opened",
        ),
        (
            Frame::PushPromise {
                stream: 1,
                promised: 2,
                block: vec![],
                end_headers: EndHeaders::Yes,
                pad: None,
            },
            "PUSH_PROMISE (stream 2, on stream 1) though the probe's SETTINGS_ENABLE_PUSH is 0",
        ),
    ];
    for (frame, why) in table {
        let mut client = open();
        client.receive(&frame.to_bytes());
        let e = connection_error(&mut client);
        assert_eq!((e.code, e.why.as_str()), (ErrorCode::PROTOCOL_ERROR, why));
    }
}

#[test]
fn a_reset_stream_is_told_and_what_follows_on_it_is_a_stream_error() {
    let mut client = open();
    client.receive(&bytes(&[
        headers(1, &[(":status", "200")], EndStream::No),
        Frame::RstStream {
            stream: 1,
            code: ErrorCode::INTERNAL_ERROR,
        },
        data(1, 3, EndStream::No),
    ]));
    let got = events(&mut client);
    assert_eq!(
        got[1],
        Event::RstStream {
            stream: 1,
            code: ErrorCode::INTERNAL_ERROR
        }
    );
    let e = stream_error(&got);
    assert_eq!(
        (e.code, e.why.as_str()),
        (ErrorCode::STREAM_CLOSED, "DATA on a closed stream")
    );
    // Once reset by us, frames in flight are no error.
    client.receive(&bytes(&[data(1, 3, EndStream::No)]));
    assert!(matches!(events(&mut client)[..], [Event::Data { .. }]));
}

#[test]
fn malformed_response_heads_reset_the_stream_with_protocol_error() {
    type Fields = &'static [(&'static str, &'static str)];
    let table: [(Fields, EndStream, &str); 9] = [
        (
            &[("content-type", "x")],
            EndStream::Yes,
            "a response head without :status",
        ),
        (&[(":status", "20x")], EndStream::Yes, "`:status: 20x`, not a status"),
        (
            &[(":status", "200"), (":status", "200")],
            EndStream::Yes,
            "two :status fields",
        ),
        (
            &[(":status", "101")],
            EndStream::No,
            "status 101, which HTTP/2 does not have (§8.6)",
        ),
        (
            &[(":status", "100")],
            EndStream::Yes,
            "an interim head (100) with END_STREAM",
        ),
        (
            &[(":status", "200"), (":path", "/")],
            EndStream::Yes,
            "the pseudo-header `:path`, which a response may not have",
        ),
        (
            &[("server", "x"), (":status", "200")],
            EndStream::Yes,
            "`:status` after a regular field",
        ),
        (
            &[(":status", "200"), ("Content-Type", "x")],
            EndStream::Yes,
            "the field name `Content-Type` in uppercase (HTTP/2 wants lowercase)",
        ),
        (
            &[(":status", "200"), ("transfer-encoding", "chunked")],
            EndStream::Yes,
            "the connection-specific field `transfer-encoding` (§8.2.2)",
        ),
    ];
    for (fields, end, why) in table {
        let mut client = open();
        client.receive(&headers(1, fields, end).to_bytes());
        let got = events(&mut client);
        let Event::Headers { head, .. } = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(head.kind, HeadKind::Malformed);
        let e = stream_error(&got);
        assert_eq!(
            (e.code, e.why.as_str()),
            (ErrorCode::PROTOCOL_ERROR, format!("malformed response: {why}").as_str())
        );
        assert_eq!(
            written(&mut client),
            vec![Frame::RstStream {
                stream: 1,
                code: ErrorCode::PROTOCOL_ERROR
            }]
        );
    }
    // Trailers must end the stream.
    let mut client = open();
    client.receive(&bytes(&[
        headers(1, &[(":status", "200")], EndStream::No),
        headers(1, &[("x", "y")], EndStream::No),
    ]));
    assert_eq!(
        stream_error(&events(&mut client)).why,
        "malformed response: trailers without END_STREAM"
    );
}

#[test]
fn data_before_the_head_or_after_end_stream_is_a_stream_error() {
    let mut client = open();
    client.receive(&data(1, 1, EndStream::No).to_bytes());
    let e = stream_error(&events(&mut client)).clone();
    assert_eq!(
        (e.code, e.why.as_str()),
        (ErrorCode::PROTOCOL_ERROR, "DATA before the response's HEADERS")
    );
    let mut client = open();
    client.receive(&bytes(&[
        headers(1, &[(":status", "200")], EndStream::Yes),
        data(1, 1, EndStream::No),
    ]));
    assert_eq!(stream_error(&events(&mut client)).code, ErrorCode::STREAM_CLOSED);
}

#[test]
fn windows_are_given_back_at_half() {
    let mut client = open();
    client.receive(&headers(1, &[(":status", "200")], EndStream::No).to_bytes());
    client.receive(&bytes(&[
        data(1, 16_384, EndStream::No),
        data(1, 16_382, EndStream::No),
    ]));
    events(&mut client);
    assert_eq!(written(&mut client), vec![]);
    client.receive(&data(1, 1, EndStream::No).to_bytes());
    assert_eq!(
        written(&mut client),
        vec![
            Frame::WindowUpdate {
                stream: 0,
                increment: 32_767
            },
            Frame::WindowUpdate {
                stream: 1,
                increment: 32_767
            },
        ]
    );
    // Given back at half, a window can never be overrun by frames of at
    // most 16 KiB: the server may send without end.
    for _ in 0..100 {
        client.receive(&data(1, 16_384, EndStream::No).to_bytes());
        client.take_output();
    }
    assert!(events(&mut client).iter().all(|e| matches!(e, Event::Data { .. })));
}

#[test]
fn the_body_goes_within_the_servers_windows_and_frame_size() {
    let mut client = Client::new(Config::default());
    let fields: [(&[u8], &[u8]); 1] = [(b":method", b"POST")];
    let stream = client.open_stream(fields, EndStream::No);
    assert_eq!(client.sendable(stream), 65_535);
    client.receive(&bytes(&[settings(&[
        (setting::INITIAL_WINDOW_SIZE, 100),
        (setting::MAX_FRAME_SIZE, 20_000),
    ])]));
    assert_eq!(client.sendable(stream), 100);
    client.send_data(stream, &[b'u'; 60], EndStream::No);
    assert_eq!(client.sendable(stream), 40);
    client.receive(&bytes(&[Frame::WindowUpdate {
        stream: 1,
        increment: 50_000,
    }]));
    // The stream's window is 50,040; the connection's 65,475 is larger.
    assert_eq!(client.sendable(stream), 50_040);
    client.take_output();
    client.send_data(stream, &[b'u'; 30_000], EndStream::Yes);
    let frames = client.take_output().unwrap().frames;
    assert_eq!(
        frames,
        vec![
            Sent::Data {
                stream: 1,
                len: 20_000,
                end_stream: EndStream::No
            },
            Sent::Data {
                stream: 1,
                len: 10_000,
                end_stream: EndStream::Yes
            },
        ]
    );
    assert_eq!(client.sendable(stream), 0, "END_STREAM sent");
    // A window pushed past 2^31-1 is the server's error.
    client.receive(&bytes(&[Frame::WindowUpdate {
        stream: 0,
        increment: MAX,
    }]));
    let e = connection_error(&mut client);
    assert_eq!(e.code, ErrorCode::FLOW_CONTROL_ERROR);
}

const MAX: u32 = crate::h2::frame::MAX_STREAM_ID;

#[test]
fn a_block_in_pieces_is_told_piece_by_piece_and_bounded() {
    let whole = block(&[(":status", "200"), ("x", "y")]);
    let (a, b) = whole.split_at(3);
    let mut client = open();
    client.receive(&bytes(&[
        Frame::Headers {
            stream: 1,
            block: a.to_vec(),
            end_stream: EndStream::Yes,
            end_headers: EndHeaders::No,
            priority: None,
            pad: None,
        },
        Frame::Continuation {
            stream: 1,
            block: b.to_vec(),
            end_headers: EndHeaders::Yes,
        },
    ]));
    let got = events(&mut client);
    assert_eq!(
        got[0],
        Event::HeaderFragment {
            stream: 1,
            kind: frame::kind::HEADERS,
            len: 3
        }
    );
    assert!(matches!(&got[1], Event::Headers { frames: 2, head, .. } if head.status == Some(200)));

    // Anything but the CONTINUATION in between ends the connection.
    let mut client = open();
    client.receive(&bytes(&[
        Frame::Headers {
            stream: 1,
            block: a.to_vec(),
            end_stream: EndStream::Yes,
            end_headers: EndHeaders::No,
            priority: None,
            pad: None,
        },
        Frame::Ping {
            ack: Ack::No,
            data: [0; 8],
        },
    ]));
    assert_eq!(
        connection_error(&mut client).why,
        "PING frame on stream 0 while the field block of stream 1 awaits CONTINUATION"
    );

    // The CONTINUATION flood: endless empty fragments stop at the bound.
    let mut client = open();
    let mut flood = Frame::Headers {
        stream: 1,
        block: vec![],
        end_stream: EndStream::Yes,
        end_headers: EndHeaders::No,
        priority: None,
        pad: None,
    }
    .to_bytes();
    for _ in 0..100 {
        flood.extend(
            Frame::Continuation {
                stream: 1,
                block: vec![],
                end_headers: EndHeaders::No,
            }
            .to_bytes(),
        );
    }
    client.receive(&flood);
    assert_eq!(connection_error(&mut client).code, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn a_header_block_hpack_cannot_decode_ends_the_connection() {
    let mut client = open();
    client.receive(
        &Frame::Headers {
            stream: 1,
            block: vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            end_stream: EndStream::Yes,
            end_headers: EndHeaders::Yes,
            priority: None,
            pad: None,
        }
        .to_bytes(),
    );
    assert_eq!(connection_error(&mut client).code, ErrorCode::COMPRESSION_ERROR);
}

#[test]
fn a_ping_flood_at_a_client_that_cannot_write_is_bounded() {
    let mut client = open();
    let ping = Frame::Ping {
        ack: Ack::No,
        data: [1; 8],
    }
    .to_bytes();
    client.receive(&ping.repeat(1001));
    assert_eq!(connection_error(&mut client).code, ErrorCode::ENHANCE_YOUR_CALM);
    // Written as they come, pings never pile up.
    let mut client = open();
    for _ in 0..3000 {
        client.receive(&ping);
        client.take_output();
    }
    assert!(events(&mut client).iter().all(|e| matches!(e, Event::Ping { .. })));
}

#[test]
fn goaway_unknown_frames_and_priority_are_told_as_they_came() {
    let mut client = open();
    client.receive(&bytes(&[
        Frame::GoAway {
            last_stream: 0,
            code: ErrorCode::NO_ERROR,
            debug: b"bye".to_vec(),
        },
        Frame::Unknown {
            kind: 0x42,
            flags: 3,
            stream: 9,
            payload: vec![1, 2],
        },
    ]));
    let mut raw = Vec::new();
    RawFrame {
        kind: frame::kind::PRIORITY,
        flags: 0,
        stream_word: 1,
        declared_len: None,
        payload: vec![0, 0, 0, 0, 16],
    }
    .encode(&mut raw);
    client.receive(&raw);
    assert_eq!(
        events(&mut client),
        vec![
            Event::GoAway {
                last_stream: 0,
                code: ErrorCode::NO_ERROR,
                debug: b"bye".to_vec()
            },
            Event::Unknown {
                kind: 0x42,
                flags: 3,
                stream: 9,
                len: 2
            },
            Event::Priority { stream: 1 },
        ]
    );
}

/// A server's side of a whole exchange: every kind of frame once.
fn whole_conversation() -> Vec<u8> {
    let whole = block(&[(":status", "200"), ("server", "t")]);
    let (a, b) = whole.split_at(4);
    bytes(&[
        settings(&[
            (setting::MAX_CONCURRENT_STREAMS, 10),
            (setting::INITIAL_WINDOW_SIZE, 1000),
        ]),
        Frame::Settings {
            ack: Ack::Yes,
            params: vec![],
        },
        Frame::Ping {
            ack: Ack::No,
            data: [7; 8],
        },
        Frame::Headers {
            stream: 1,
            block: a.to_vec(),
            end_stream: EndStream::No,
            end_headers: EndHeaders::No,
            priority: None,
            pad: None,
        },
        Frame::Continuation {
            stream: 1,
            block: b.to_vec(),
            end_headers: EndHeaders::Yes,
        },
        Frame::Data {
            stream: 1,
            data: vec![1; 30],
            end_stream: EndStream::No,
            pad: Some(4),
        },
        Frame::WindowUpdate {
            stream: 0,
            increment: 10,
        },
        data(1, 3, EndStream::Yes),
        Frame::GoAway {
            last_stream: 1,
            code: ErrorCode::NO_ERROR,
            debug: vec![],
        },
    ])
}

fn fresh() -> Client {
    let mut client = Client::new(Config::default());
    let fields: [(&[u8], &[u8]); 1] = [(b":method", b"GET")];
    client.open_stream(fields, EndStream::Yes);
    client
}

proptest! {
    #[test]
    fn bytes_cut_anywhere_give_the_same_events(cuts in proptest::collection::vec(any::<usize>(), 0..10)) {
        let all = whole_conversation();
        let mut at_once = fresh();
        at_once.receive(&all);
        let expected = events(&mut at_once);
        prop_assert_eq!(expected.len(), 9);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % all.len()).collect();
        cuts.sort_unstable();
        let mut piecewise = fresh();
        let mut from = 0;
        for cut in cuts.into_iter().chain([all.len()]) {
            piecewise.receive(&all[from..cut]);
            from = cut;
        }
        prop_assert_eq!(events(&mut piecewise), expected);
        prop_assert_eq!(piecewise.take_output().map(|o| o.bytes), at_once.take_output().map(|o| o.bytes));
    }

    #[test]
    fn hostile_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut client = open();
        client.receive(&tail);
        let all = events(&mut client);
        let errors = all.iter().filter(|e| matches!(e, Event::ConnectionError(_))).count();
        prop_assert!(errors <= 1);
        if errors == 1 {
            prop_assert!(matches!(all.last(), Some(Event::ConnectionError(_))));
        }
    }

    #[test]
    fn mutated_conversations_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut all = whole_conversation();
        for (at, byte) in edits {
            let at = at % all.len();
            all[at] = byte;
        }
        let mut client = fresh();
        client.receive(&all);
        let got = events(&mut client);
        let errors = got.iter().filter(|e| matches!(e, Event::ConnectionError(_))).count();
        prop_assert!(errors <= 1);
        // Whatever came, what the client writes is frames it can read back.
        let _ = written(&mut client);
    }
}
