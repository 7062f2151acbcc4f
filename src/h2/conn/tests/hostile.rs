//! Input cut anywhere gives the same events; hostile and mutated input
//! never panics and ends, at most, in one connection error.

use proptest::prelude::*;

use super::*;

fn whole_conversation() -> Vec<u8> {
    let mut all = PREFACE.to_vec();
    let block = request_block("/x");
    let (a, b) = block.split_at(7);
    all.extend(bytes(&[
        settings(&[(setting::INITIAL_WINDOW_SIZE, 100)]),
        Frame::Ping {
            ack: Ack::No,
            data: [7; 8],
        },
        headers(1, a.to_vec(), EndStream::No, EndHeaders::No),
        Frame::Continuation {
            stream: 1,
            block: b.to_vec(),
            end_headers: EndHeaders::Yes,
        },
        Frame::Data {
            stream: 1,
            data: vec![1; 30],
            end_stream: EndStream::Yes,
            pad: Some(4),
        },
        Frame::GoAway {
            last_stream: 0,
            code: ErrorCode::NO_ERROR,
            debug: vec![],
        },
    ]));
    all
}

proptest! {
    #[test]
    fn bytes_cut_anywhere_give_the_same_events(cuts in proptest::collection::vec(any::<usize>(), 0..10)) {
        let all = whole_conversation();
        let mut at_once = Conn::new(Config::default());
        at_once.receive(&all);
        let expected = events(&mut at_once);
        prop_assert_eq!(expected.len(), 5);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % all.len()).collect();
        cuts.sort_unstable();
        let mut piecewise = Conn::new(Config::default());
        let mut from = 0;
        for cut in cuts.into_iter().chain([all.len()]) {
            piecewise.receive(&all[from..cut]);
            from = cut;
        }
        prop_assert_eq!(events(&mut piecewise), expected);
        prop_assert_eq!(piecewise.pending_output(), at_once.pending_output());
    }

    #[test]
    fn hostile_frames_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut conn = open(Config::default());
        conn.receive(&bytes(&[headers(1, request_block("/"), EndStream::No, EndHeaders::Yes)]));
        conn.receive(&tail);
        let all = events(&mut conn);
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
            let at = PREFACE.len() + at % (all.len() - PREFACE.len());
            all[at] = byte;
        }
        let mut conn = Conn::new(Config::default());
        conn.receive(&all);
        events(&mut conn);
    }
}

/// RFC 9113 §5.1.1: a new stream's id is above every id used before; one
/// that goes down is a connection error. Late frames on a stream we reset
/// are not: the client may have sent them before our RST_STREAM came.
#[test]
fn a_stream_id_that_goes_down_ends_the_connection_but_trailers_after_our_reset_do_not() {
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(5, "/a")]));
    drain(&mut conn);
    conn.receive(&bytes(&[get(3, "/b")]));
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);

    // A stream the client ended, answered and closed: its HEADERS again
    // is no race, whatever it says.
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(1, "/")]));
    conn.send_response(1, 200, &[], EndStream::Yes);
    drain(&mut conn);
    conn.receive(&bytes(&[get(1, "/")]));
    assert_eq!(failed(&mut conn), ErrorCode::PROTOCOL_ERROR);

    let mut trailers = Vec::new();
    hpack::encode([(&b"x-sum"[..], &b"1"[..])], &mut trailers);
    let late = headers(1, trailers, EndStream::Yes, EndHeaders::Yes);
    for reset in ["by the scenario", "by the codec"] {
        let mut conn = open(Config::default());
        conn.receive(&bytes(&[headers(
            1,
            request_block("/"),
            EndStream::No,
            EndHeaders::Yes,
        )]));
        drain(&mut conn);
        if reset == "by the scenario" {
            conn.send_rst_stream(1, ErrorCode::CANCEL);
        } else {
            conn.receive(&bytes(&[Frame::WindowUpdate {
                stream: 1,
                increment: MAX_STREAM_ID,
            }]));
        }
        drain(&mut conn);
        conn.receive(&bytes(&[late.clone(), get(3, "/next")]));
        let got = events(&mut conn);
        assert!(
            matches!(got[..], [Event::Request { stream: 3, .. }]),
            "{reset}: {got:?}"
        );
    }

    // Streams the client opened past our GOAWAY are ignored, later
    // frames on them too.
    let mut conn = open(Config::default());
    conn.receive(&bytes(&[get(1, "/")]));
    conn.send_goaway(LastStream::LastSeen, ErrorCode::NO_ERROR, b"");
    drain(&mut conn);
    let mut trailers = Vec::new();
    hpack::encode([(&b"x-sum"[..], &b"1"[..])], &mut trailers);
    conn.receive(&bytes(&[
        headers(3, request_block("/"), EndStream::No, EndHeaders::Yes),
        headers(3, trailers, EndStream::Yes, EndHeaders::Yes),
    ]));
    assert_eq!(events(&mut conn), []);
    assert_eq!(conn.phase(), Phase::Open);
}
