//! Frame reader and writer: each type read back as written, each rule of
//! RFC 9113 §6 with its code, and hostile bytes that must never panic.

use proptest::prelude::*;

use super::*;
use crate::h2::error::ErrorCode;

fn read(bytes: &[u8]) -> Read {
    FrameReader::default().read(bytes)
}

fn raw(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    RawFrame {
        kind,
        flags,
        stream_word: stream,
        declared_len: None,
        payload: payload.to_vec(),
    }
    .encode(&mut out);
    out
}

/// The code a connection error carries, or a panic saying what came.
fn connection_error(bytes: &[u8]) -> ErrorCode {
    match read(bytes) {
        Read::Error(e) => e.code,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

fn stream_error(bytes: &[u8]) -> ErrorCode {
    match read(bytes) {
        Read::StreamError(e, n) => {
            assert_eq!(n, bytes.len());
            e.code
        }
        other => panic!("expected a stream error, got {other:?}"),
    }
}

fn every_kind() -> Vec<Frame> {
    let prio = Priority {
        exclusive: true,
        depends_on: 3,
        weight: 15,
    };
    vec![
        Frame::Data {
            stream: 1,
            data: b"hello".to_vec(),
            end_stream: EndStream::Yes,
            pad: None,
        },
        Frame::Data {
            stream: 1,
            data: b"hi".to_vec(),
            end_stream: EndStream::No,
            pad: Some(3),
        },
        Frame::Headers {
            stream: 5,
            block: vec![0x82, 0x84],
            end_stream: EndStream::No,
            end_headers: EndHeaders::Yes,
            priority: Some(prio),
            pad: Some(2),
        },
        Frame::Headers {
            stream: 7,
            block: vec![],
            end_stream: EndStream::Yes,
            end_headers: EndHeaders::No,
            priority: None,
            pad: None,
        },
        Frame::Priority {
            stream: 9,
            priority: prio,
        },
        Frame::RstStream {
            stream: 1,
            code: ErrorCode::CANCEL,
        },
        Frame::Settings {
            ack: Ack::No,
            params: vec![(setting::MAX_CONCURRENT_STREAMS, 100), (0x99, 7)],
        },
        Frame::Settings {
            ack: Ack::Yes,
            params: vec![],
        },
        Frame::PushPromise {
            stream: 1,
            promised: 2,
            block: vec![0x88],
            end_headers: EndHeaders::Yes,
            pad: Some(0),
        },
        Frame::Ping {
            ack: Ack::Yes,
            data: *b"12345678",
        },
        Frame::GoAway {
            last_stream: 7,
            code: ErrorCode(0x1234),
            debug: b"bye".to_vec(),
        },
        Frame::WindowUpdate {
            stream: 0,
            increment: MAX_STREAM_ID,
        },
        Frame::Continuation {
            stream: 3,
            block: vec![1, 2, 3],
            end_headers: EndHeaders::Yes,
        },
        Frame::Unknown {
            kind: 0xfa,
            flags: 0xff,
            stream: 11,
            payload: vec![9; 20],
        },
    ]
}

#[test]
fn every_type_reads_back_as_written() {
    for frame in every_kind() {
        let bytes = frame.to_bytes();
        assert_eq!(
            read(&bytes),
            Read::Frame(frame.clone(), bytes.len()),
            "{}",
            frame.name()
        );
        for cut in 0..bytes.len() {
            assert_eq!(read(&bytes[..cut]), Read::Partial, "{} cut at {cut}", frame.name());
        }
    }
}

#[test]
fn the_header_layout_is_the_rfcs() {
    let bytes = Frame::WindowUpdate {
        stream: 0x0102_0304,
        increment: 0x10,
    }
    .to_bytes();
    assert_eq!(bytes, [0, 0, 4, 8, 0, 1, 2, 3, 4, 0, 0, 0, 0x10]);
    // The reserved bit is ignored on reading.
    let mut set = bytes.clone();
    set[5] |= 0x80;
    assert_eq!(FrameHeader::parse(&set).map(|h| h.stream), Some(0x0102_0304));
    let goaway = Frame::GoAway {
        last_stream: 0,
        code: ErrorCode::NO_ERROR,
        debug: vec![],
    }
    .to_bytes();
    assert_eq!(goaway, [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn a_raw_frame_writes_what_it_is_given() {
    let mut out = Vec::new();
    let lie = RawFrame {
        kind: 6,
        flags: 0x1,
        stream_word: 0x8000_0001,
        declared_len: Some(100),
        payload: vec![7; 3],
    };
    lie.encode(&mut out);
    assert_eq!(out, [0, 0, 100, 6, 1, 0x80, 0, 0, 1, 7, 7, 7]);
}

#[test]
fn a_frame_over_max_frame_size_is_refused_from_its_header_alone() {
    let header = [0, 0x40, 0x01, kind::DATA, 0, 0, 0, 0, 1];
    assert_eq!(connection_error(&header), ErrorCode::FRAME_SIZE_ERROR);
    let exactly = raw(kind::DATA, 0, 1, &[0; 16_384]);
    assert!(matches!(read(&exactly), Read::Frame(..)));
    let bigger = FrameReader::new(100_000);
    assert!(matches!(
        bigger.read(&raw(kind::DATA, 0, 1, &[0; 20_000])),
        Read::Frame(..)
    ));
    assert_eq!(FrameReader::new(1).max_frame_size(), 16_384);
}

/// RFC 9113 §6, rule by rule: (what, bytes, the connection error's code).
#[test]
fn each_types_rules_end_the_connection_with_the_rfcs_code() {
    use ErrorCode as E;
    let cases: Vec<(&str, Vec<u8>, ErrorCode)> = vec![
        ("DATA on stream 0", raw(kind::DATA, 0, 0, b"x"), E::PROTOCOL_ERROR),
        (
            "DATA PADDED, no pad length",
            raw(kind::DATA, flag::PADDED, 1, b""),
            E::FRAME_SIZE_ERROR,
        ),
        (
            "DATA padding = payload",
            raw(kind::DATA, flag::PADDED, 1, &[3, 0, 0]),
            E::PROTOCOL_ERROR,
        ),
        ("HEADERS on stream 0", raw(kind::HEADERS, 0, 0, b""), E::PROTOCOL_ERROR),
        (
            "HEADERS PRIORITY, 4 bytes",
            raw(kind::HEADERS, flag::PRIORITY, 1, &[0; 4]),
            E::FRAME_SIZE_ERROR,
        ),
        (
            "HEADERS pad over priority",
            raw(kind::HEADERS, 0x28, 1, &[1, 0, 0, 0, 3, 9]),
            E::PROTOCOL_ERROR,
        ),
        (
            "HEADERS depends on itself",
            raw(kind::HEADERS, flag::PRIORITY, 1, &[0, 0, 0, 1, 9]),
            E::PROTOCOL_ERROR,
        ),
        (
            "PRIORITY on stream 0",
            raw(kind::PRIORITY, 0, 0, &[0; 5]),
            E::PROTOCOL_ERROR,
        ),
        (
            "RST_STREAM on stream 0",
            raw(kind::RST_STREAM, 0, 0, &[0; 4]),
            E::PROTOCOL_ERROR,
        ),
        (
            "RST_STREAM of 5 bytes",
            raw(kind::RST_STREAM, 0, 1, &[0; 5]),
            E::FRAME_SIZE_ERROR,
        ),
        (
            "SETTINGS on stream 1",
            raw(kind::SETTINGS, 0, 1, b""),
            E::PROTOCOL_ERROR,
        ),
        (
            "SETTINGS of 5 bytes",
            raw(kind::SETTINGS, 0, 0, &[0; 5]),
            E::FRAME_SIZE_ERROR,
        ),
        (
            "SETTINGS ACK with a body",
            raw(kind::SETTINGS, flag::ACK, 0, &[0; 6]),
            E::FRAME_SIZE_ERROR,
        ),
        (
            "ENABLE_PUSH 2",
            raw(kind::SETTINGS, 0, 0, &[0, 2, 0, 0, 0, 2]),
            E::PROTOCOL_ERROR,
        ),
        (
            "INITIAL_WINDOW_SIZE 2^31",
            raw(kind::SETTINGS, 0, 0, &[0, 4, 0x80, 0, 0, 0]),
            E::FLOW_CONTROL_ERROR,
        ),
        (
            "MAX_FRAME_SIZE 16383",
            raw(kind::SETTINGS, 0, 0, &[0, 5, 0, 0, 0x3f, 0xff]),
            E::PROTOCOL_ERROR,
        ),
        (
            "MAX_FRAME_SIZE 2^24",
            raw(kind::SETTINGS, 0, 0, &[0, 5, 1, 0, 0, 0]),
            E::PROTOCOL_ERROR,
        ),
        (
            "PUSH_PROMISE on stream 0",
            raw(kind::PUSH_PROMISE, 0, 0, &[0; 4]),
            E::PROTOCOL_ERROR,
        ),
        (
            "PUSH_PROMISE of 3 bytes",
            raw(kind::PUSH_PROMISE, 0, 1, &[0; 3]),
            E::FRAME_SIZE_ERROR,
        ),
        ("PING of 7 bytes", raw(kind::PING, 0, 0, &[0; 7]), E::FRAME_SIZE_ERROR),
        ("PING of 9 bytes", raw(kind::PING, 0, 0, &[0; 9]), E::FRAME_SIZE_ERROR),
        ("PING on stream 1", raw(kind::PING, 0, 1, &[0; 8]), E::PROTOCOL_ERROR),
        (
            "GOAWAY on stream 1",
            raw(kind::GOAWAY, 0, 1, &[0; 8]),
            E::PROTOCOL_ERROR,
        ),
        (
            "GOAWAY of 7 bytes",
            raw(kind::GOAWAY, 0, 0, &[0; 7]),
            E::FRAME_SIZE_ERROR,
        ),
        (
            "WINDOW_UPDATE of 3 bytes",
            raw(kind::WINDOW_UPDATE, 0, 0, &[0; 3]),
            E::FRAME_SIZE_ERROR,
        ),
        (
            "WINDOW_UPDATE of 0 on 0",
            raw(kind::WINDOW_UPDATE, 0, 0, &[0; 4]),
            E::PROTOCOL_ERROR,
        ),
        (
            "CONTINUATION on stream 0",
            raw(kind::CONTINUATION, 0, 0, b""),
            E::PROTOCOL_ERROR,
        ),
    ];
    for (what, bytes, code) in cases {
        match read(&bytes) {
            Read::Error(e) => {
                assert_eq!(e.code, code, "{what}: {e}");
                assert!(!e.why.is_empty(), "{what}");
            }
            other => panic!("{what}: expected {code}, got {other:?}"),
        }
    }
    assert_eq!(
        connection_error(&raw(kind::PING, 0, 1, &[0; 8])),
        ErrorCode::PROTOCOL_ERROR
    );
}

#[test]
fn some_rules_end_only_the_stream() {
    assert_eq!(
        stream_error(&raw(kind::PRIORITY, 0, 1, &[0; 4])),
        ErrorCode::FRAME_SIZE_ERROR
    );
    assert_eq!(
        stream_error(&raw(kind::PRIORITY, 0, 3, &[0, 0, 0, 3, 0])),
        ErrorCode::PROTOCOL_ERROR
    );
    assert_eq!(
        stream_error(&raw(kind::WINDOW_UPDATE, 0, 1, &[0x80, 0, 0, 0])),
        ErrorCode::PROTOCOL_ERROR
    );
}

#[test]
fn what_the_rfc_tolerates_is_read() {
    // Unknown settings, flags and types are ignored, not refused.
    let unknown_setting = raw(kind::SETTINGS, 0xf0, 0, &[0xab, 0xcd, 0, 0, 0, 1]);
    assert_eq!(
        read(&unknown_setting),
        Read::Frame(
            Frame::Settings {
                ack: Ack::No,
                params: vec![(0xabcd, 1)]
            },
            15
        )
    );
    let odd_flags = raw(kind::PING, 0xfe, 0, &[0; 8]);
    assert!(matches!(
        read(&odd_flags),
        Read::Frame(Frame::Ping { ack: Ack::No, .. }, 17)
    ));
    // RST_STREAM and GOAWAY with codes the RFC does not name.
    let rst = raw(kind::RST_STREAM, 0, 1, &[0xff, 0, 0, 0]);
    assert!(matches!(
        read(&rst),
        Read::Frame(
            Frame::RstStream {
                code: ErrorCode(0xff00_0000),
                ..
            },
            _
        )
    ));
    // Padding that fills all but the pad length byte.
    let padded = raw(kind::DATA, flag::PADDED, 1, &[2, 0, 0]);
    assert!(matches!(
        read(&padded),
        Read::Frame(Frame::Data { pad: Some(2), .. }, _)
    ));
}

#[test]
fn frames_are_read_one_at_a_time_from_a_stream_of_bytes() {
    let mut bytes = Vec::new();
    for frame in every_kind() {
        frame.encode(&mut bytes);
    }
    let mut at = 0;
    let mut seen = Vec::new();
    while at < bytes.len() {
        match read(&bytes[at..]) {
            Read::Frame(frame, n) => {
                seen.push(frame);
                at += n;
            }
            other => panic!("at {at}: {other:?}"),
        }
    }
    assert_eq!(seen, every_kind());
}

proptest! {
    #[test]
    fn hostile_bytes_never_panic_and_never_overrun(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        match read(&bytes) {
            Read::Frame(_, n) | Read::StreamError(_, n) => prop_assert!(n <= bytes.len() && n >= HEADER_LEN),
            Read::Partial | Read::Error(_) => {}
        }
    }

    #[test]
    fn any_header_with_any_payload_reads_without_panic(
        kind in 0u8..12, flags in any::<u8>(), stream in any::<u32>(),
        payload in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let bytes = raw(kind, flags, stream, &payload);
        match read(&bytes) {
            Read::Frame(_, n) | Read::StreamError(_, n) => prop_assert_eq!(n, bytes.len()),
            Read::Error(e) => prop_assert!(!e.why.is_empty()),
            Read::Partial => prop_assert!(false, "a whole frame read as partial"),
        }
    }

    #[test]
    fn a_frame_that_reads_writes_back_the_same(
        kind in 0u8..12, flags in any::<u8>(), stream in 0u32..16,
        payload in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        // Frames written with padding bytes other than zero, or flags that
        // mean nothing, come back normalised: compare what they mean.
        if let Read::Frame(frame, _) = read(&raw(kind, flags, stream, &payload)) {
            let again = frame.to_bytes();
            prop_assert_eq!(read(&again), Read::Frame(frame, again.len()));
        }
    }
}
