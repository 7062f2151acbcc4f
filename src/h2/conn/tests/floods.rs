//! Floods and limits: each bound reached, and what comes after it.

use super::*;

/// The 2024 CONTINUATION floods: endless empty frames, and an endless
/// block, each end the connection at the bound, before anything is
/// decoded.
#[test]
fn continuation_floods_end_the_connection() {
    let mut conn = open(Config::default());
    let mut flood = bytes(&[headers(1, vec![0x82], EndStream::Yes, EndHeaders::No)]);
    for _ in 0..10_000 {
        Frame::Continuation {
            stream: 1,
            block: vec![],
            end_headers: EndHeaders::No,
        }
        .encode(&mut flood);
    }
    conn.receive(&flood);
    assert_eq!(failed(&mut conn), ErrorCode::ENHANCE_YOUR_CALM);

    let mut conn = open(Config::default());
    let mut flood = bytes(&[headers(1, vec![0x82], EndStream::Yes, EndHeaders::No)]);
    for _ in 0..10 {
        Frame::Continuation {
            stream: 1,
            block: vec![0x82; 16_000],
            end_headers: EndHeaders::No,
        }
        .encode(&mut flood);
    }
    conn.receive(&flood);
    assert_eq!(failed(&mut conn), ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn a_ping_flood_nobody_reads_ends_the_connection_but_one_that_is_read_does_not() {
    let pings = bytes(&vec![
        Frame::Ping {
            ack: Ack::No,
            data: [0; 8]
        };
        1_500
    ]);
    let mut conn = open(Config::default());
    conn.receive(&pings);
    assert_eq!(failed(&mut conn), ErrorCode::ENHANCE_YOUR_CALM);

    let mut conn = open(Config::default());
    for chunk in pings.chunks(17 * 100) {
        conn.receive(chunk);
        drain(&mut conn);
        assert_eq!(conn.phase(), Phase::Open);
    }
}

#[test]
fn frames_that_ask_nothing_are_bounded_between_requests() {
    let config = Config {
        max_idle_frames: 50,
        ..Config::default()
    };
    let priority = Frame::Priority {
        stream: 3,
        priority: Priority {
            exclusive: false,
            depends_on: 0,
            weight: 0,
        },
    };
    let mut conn = open(config.clone());
    conn.receive(&bytes(&vec![priority.clone(); 40]));
    conn.receive(&bytes(&[get(1, "/")]));
    conn.receive(&bytes(&vec![priority.clone(); 40]));
    assert_eq!(conn.phase(), Phase::Open);
    conn.receive(&bytes(&vec![priority; 20]));
    assert_eq!(failed(&mut conn), ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn a_header_list_too_large_refuses_the_stream_and_the_connection_goes_on() {
    let mut conn = open(Config::default());
    let mut block = request_block("/big");
    // Into the dynamic table: one 4 KB field; then named 20 times.
    block.extend([0x40, 0x01, b'b']);
    hpack::integer::encode(4_000, 7, 0, &mut block);
    block.extend(vec![b'x'; 4_000]);
    block.extend([0xbe; 20]);
    conn.receive(&bytes(&[headers(1, block, EndStream::Yes, EndHeaders::Yes)]));
    assert_eq!(stream_error(&mut conn), (1, ErrorCode::REFUSED_STREAM));
    conn.receive(&bytes(&[headers(
        3,
        vec![0x82, 0x84, 0xbe],
        EndStream::Yes,
        EndHeaders::Yes,
    )]));
    let Some(Event::Request { stream: 3, head, .. }) = conn.next_event() else {
        panic!("the table is out of step");
    };
    assert_eq!(head.headers, [(b"b".to_vec(), vec![b'x'; 4_000])]);
}

/// Streams that never end, from a client that never acknowledges our
/// SETTINGS: the limit we advertised binds all the same, or each stream
/// would hold its request (up to 64 KiB of header list) without end.
#[test]
fn a_client_that_never_acknowledges_cannot_open_more_streams_than_advertised() {
    let mut conn = open(Config::default());
    let open_stream = |id| headers(id, request_block("/"), EndStream::No, EndHeaders::Yes);
    let hundred: Vec<Frame> = (0..100).map(|i| open_stream(2 * i + 1)).collect();
    conn.receive(&bytes(&hundred));
    assert_eq!(events(&mut conn).len(), 100);
    sent(&mut conn);
    conn.receive(&bytes(&[open_stream(201)]));
    assert_eq!(stream_error(&mut conn), (201, ErrorCode::REFUSED_STREAM));
    assert!(!conn.is_active(201));
}

/// An empty DATA with END_STREAM ends a stream, which is news for the
/// scenario; on a stream that is over it is news for nobody, and counts
/// among the frames that ask nothing.
#[test]
fn empty_data_on_a_closed_stream_asks_nothing() {
    let config = Config {
        max_idle_frames: 50,
        ..Config::default()
    };
    let ping = Frame::Ping {
        ack: Ack::No,
        data: [0; 8],
    };
    let empty_end = Frame::Data {
        stream: 1,
        data: vec![],
        end_stream: EndStream::Yes,
        pad: None,
    };
    let mut conn = open(config);
    conn.receive(&bytes(&[get(1, "/")]));
    conn.send_response(1, 200, &[], EndStream::Yes);
    drain(&mut conn);
    conn.receive(&bytes(&vec![ping.clone(); 30]));
    conn.receive(&bytes(&[empty_end]));
    conn.receive(&bytes(&vec![ping; 30]));
    assert_eq!(failed(&mut conn), ErrorCode::ENHANCE_YOUR_CALM);
}
