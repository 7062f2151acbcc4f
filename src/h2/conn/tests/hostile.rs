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
