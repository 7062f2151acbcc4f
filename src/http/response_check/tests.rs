use super::{Kind, check};

/// `(kind, offset, refused_by)` of every violation.
fn found(received: &[u8], head: &[bool], closed: bool) -> Vec<(Kind, u64, Vec<&'static str>)> {
    check(received, head, closed)
        .violations
        .into_iter()
        .map(|(_, v)| (v.kind, v.offset, v.refused_by.to_vec()))
        .collect()
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

#[test]
fn a_clean_response_has_no_violation_and_one_span() {
    let checked = check(OK, &[false], true);
    assert!(checked.violations.is_empty());
    assert_eq!(checked.responses.len(), 1);
    assert_eq!(
        (checked.responses[0].start, checked.responses[0].end),
        (0, OK.len() as u64)
    );
}

#[test]
fn bytes_after_the_body_are_named_where_they_start() {
    let mut received = OK.to_vec();
    received.extend_from_slice(&[b'x'; 31]);
    let checked = check(&received, &[false], true);
    let (index, v) = &checked.violations[0];
    assert_eq!((*index, v.kind, v.offset), (0, Kind::DataAfterBody, 43));
    assert_eq!(v.what, "31 bytes after the 5-byte body");
    assert_eq!(v.refused_by, &["node"]);
}

#[test]
fn pipelined_responses_are_split_in_order() {
    let received = [OK, OK].concat();
    let checked = check(&received, &[false, false], true);
    assert!(checked.violations.is_empty());
    let spans: Vec<_> = checked.responses.iter().map(|r| (r.start, r.end)).collect();
    assert_eq!(spans, [(0, 43), (43, 86)]);
    // One request: the second is a response nobody asked for, which Node
    // takes silently.
    assert_eq!(
        found(&received, &[false], true),
        [(Kind::UnrequestedResponse, 43, vec![])]
    );
}

#[test]
fn line_end_faults_are_found_at_their_byte() {
    let bare = b"HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(found(bare, &[false], true), [(Kind::BareLf, 15, vec!["node"])]);
    let lone = b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(found(lone, &[false], true), [(Kind::LoneCr, 23, vec!["node"])]);
}

#[test]
fn content_length_twice_names_both_values() {
    let received = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
    let checked = check(received, &[false], true);
    let v = &checked.violations[0].1;
    assert_eq!((v.kind, v.offset), (Kind::DuplicateContentLength, 36));
    assert_eq!(v.what, "Content-Length given twice (5 and 6)");
}

#[test]
fn a_head_response_followed_by_stray_bytes() {
    let checked = check(OK, &[true], true);
    let v = &checked.violations[0].1;
    assert_eq!((v.kind, v.offset), (Kind::BodyNotAllowed, 38));
    assert_eq!(v.what, "5 bytes after a response to HEAD, which has no body");
}

#[test]
fn chunk_faults_point_at_the_bad_byte() {
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let at = head.len() as u64;
    let case = |body: &[u8]| found(&[head.as_slice(), body].concat(), &[false], true);
    assert_eq!(
        case(b"0x5\r\nhello\r\n0\r\n\r\n"),
        [(Kind::ChunkSize, at + 1, vec!["node"])]
    );
    assert_eq!(
        case(b"zz\r\nhello\r\n0\r\n\r\n"),
        [(Kind::ChunkSize, at, vec!["node", "python"])]
    );
    assert_eq!(
        case(b"5\r\nhelloX\r\n0\r\n\r\n"),
        [(Kind::ChunkDataEnd, at + 8, vec!["node", "python"])]
    );
    assert!(case(b"5;a=\"b c\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n").is_empty());
}

#[test]
fn interim_responses_go_with_the_final_one() {
    let received = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n".as_slice(),
        OK,
    ]
    .concat();
    let checked = check(&received, &[false], true);
    assert!(checked.violations.is_empty());
    assert_eq!(checked.responses[0].interim, [100, 103]);
    assert_eq!(checked.responses[0].start, 0);
}

#[test]
fn a_cut_body_is_a_violation_only_once_the_server_closed() {
    let cut = &OK[..40];
    assert_eq!(
        found(cut, &[false], true),
        [(Kind::Truncated, 40, vec!["node", "python"])]
    );
    assert!(found(cut, &[false], false).is_empty());
}

#[test]
fn stray_bytes_before_the_status_line() {
    let received = [b"xyz".as_slice(), OK].concat();
    assert_eq!(
        found(&received, &[false], true),
        [(Kind::StrayBeforeStatus, 0, vec!["node", "python"])]
    );
}

#[test]
fn a_trailer_is_counted_afresh_against_nodes_limit() {
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n";
    let trailer = |value: usize| {
        [
            head.as_slice(),
            format!("X-T: {}\r\n\r\n", "t".repeat(value)).as_bytes(),
        ]
        .concat()
    };
    // "X-T" and the value: 16,383 bytes pass, 16,384 do not.
    assert!(found(&trailer(16_380), &[false], true).is_empty());
    let value_end = (head.len() + 5 + 16_381) as u64;
    assert_eq!(
        found(&trailer(16_381), &[false], true),
        [(Kind::TrailerTooLarge, value_end, vec!["node"])]
    );
}

#[test]
fn chunk_extensions_are_counted_per_chunk_and_refused_where_they_pass_16_kib() {
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let body = |ext: &str| [head.as_slice(), format!("5;{ext}\r\nhello\r\n0\r\n\r\n").as_bytes()].concat();
    let value = |n: usize| "v".repeat(n);
    // The name's byte and the value's: 16,384 pass.
    assert!(found(&body(&format!("a={}", value(16_383))), &[false], true).is_empty());
    let two = format!("5;a={0}\r\nhello\r\n5;a={0}\r\nhello\r\n0\r\n\r\n", value(10_000));
    assert!(found(&[head.as_slice(), two.as_bytes()].concat(), &[false], true).is_empty());
    // The 16,385th is refused where it is, even on a line that never ends.
    let over = body(&format!("a={}", value(16_384)));
    let at = (head.len() + 2 + 2 + 16_383) as u64;
    assert_eq!(
        found(&over, &[false], true),
        [(Kind::ChunkExtensionsTooLarge, at, vec!["node"])]
    );
    let cut = &over[..at as usize + 1];
    assert_eq!(
        found(cut, &[false], false),
        [(Kind::ChunkExtensionsTooLarge, at, vec!["node"])]
    );
}

#[test]
fn empty_lines_with_no_status_line_are_pythons_to_refuse() {
    let lines = b"\r\n".repeat(1000);
    let checked = check(&lines, &[false], false);
    let [(_, v)] = checked.violations.as_slice() else {
        panic!("{:?}", checked.violations)
    };
    assert_eq!((v.kind, v.offset, v.refused_by), (Kind::StatusLine, 0, &["python"][..]));
    assert_eq!(
        v.what,
        "2000 bytes of empty lines and no status line yet (Node reads on without end)"
    );
}
