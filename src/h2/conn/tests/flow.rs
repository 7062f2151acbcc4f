//! Flow control both ways: the client's windows we honour (or not), ours
//! it must keep, and WINDOW_UPDATEs that overflow.

use super::*;

#[test]
fn window_updates_that_overflow_are_flow_control_errors() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[headers(
        1,
        request_block("/"),
        EndStream::No,
        EndHeaders::Yes,
    )]));
    drain(&mut conn);
    conn.receive(&bytes(&[Frame::WindowUpdate {
        stream: 1,
        increment: MAX_STREAM_ID,
    }]));
    assert_eq!(stream_error(&mut conn), (1, ErrorCode::FLOW_CONTROL_ERROR));
    conn.receive(&bytes(&[Frame::WindowUpdate {
        stream: 0,
        increment: MAX_STREAM_ID,
    }]));
    assert_eq!(failed(&mut conn), ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn data_honours_the_clients_windows_unless_told_not_to() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[settings(&[(setting::INITIAL_WINDOW_SIZE, 10)]), get(1, "/")]));
    drain(&mut conn);
    assert_eq!(conn.sendable(1), 10);
    assert_eq!(conn.send_data(1, &[b'x'; 25], EndStream::Yes, Flow::Honour), 10);
    assert_eq!(conn.send_data(1, &[b'x'; 15], EndStream::Yes, Flow::Honour), 0);
    let frames = sent(&mut conn);
    assert!(matches!(&frames[..], [Frame::Data { end_stream: EndStream::No, data, .. }] if data.len() == 10));
    conn.receive(&bytes(&[Frame::WindowUpdate {
        stream: 1,
        increment: 100,
    }]));
    assert_eq!(
        events(&mut conn),
        [Event::WindowUpdate {
            stream: 1,
            increment: 100
        }]
    );
    assert_eq!(conn.sendable(1), 100);
    assert_eq!(conn.send_data(1, &[b'x'; 15], EndStream::Yes, Flow::Honour), 15);
    assert!(!conn.is_active(1));

    // Ignoring the window, with the client's frames cut to its size.
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(1, "/")]));
    drain(&mut conn);
    assert_eq!(
        conn.send_data(1, &vec![0; 100_000], EndStream::Yes, Flow::Ignore),
        100_000
    );
    let sizes: Vec<usize> = sent(&mut conn)
        .iter()
        .map(|f| {
            if let Frame::Data { data, .. } = f {
                data.len()
            } else {
                0
            }
        })
        .collect();
    assert_eq!(sizes, [16_384, 16_384, 16_384, 16_384, 16_384, 16_384, 1_696]);
}

#[test]
fn the_clients_data_is_counted_against_our_windows_and_given_back() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[headers(
        1,
        request_block("/up"),
        EndStream::No,
        EndHeaders::Yes,
    )]));
    drain(&mut conn);
    let data = |n: usize| Frame::Data {
        stream: 1,
        data: vec![0; n],
        end_stream: EndStream::No,
        pad: None,
    };
    conn.receive(&bytes(&[data(16_000), data(16_000)]));
    assert_eq!(events(&mut conn).len(), 2);
    assert_eq!(sent(&mut conn), []);
    conn.receive(&bytes(&[data(1_000)]));
    assert_eq!(
        sent(&mut conn),
        [
            Frame::WindowUpdate {
                stream: 0,
                increment: 33_000
            },
            Frame::WindowUpdate {
                stream: 1,
                increment: 33_000
            }
        ]
    );

    let mut conn = open(Config {
        window_updates: Answer::Manual,
        ..Config::default()
    });
    conn.receive(&bytes(&[headers(
        1,
        request_block("/up"),
        EndStream::No,
        EndHeaders::Yes,
    )]));
    conn.receive(&bytes(&[data(16_384), data(16_384), data(16_384), data(16_382)]));
    drain(&mut conn);
    conn.receive(&bytes(&[data(1)]));
    assert!(matches!(events(&mut conn)[..], [Event::Data { len: 1, .. }]));
    conn.receive(&bytes(&[data(1)]));
    assert_eq!(failed(&mut conn), ErrorCode::FLOW_CONTROL_ERROR);
}
