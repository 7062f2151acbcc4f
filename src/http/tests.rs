//! RequestReader: framing, llhttp's rules, and the same answer however the
//! bytes are split across reads.

use super::*;

/// Feed `input` in pieces of `step` bytes, as a socket would deliver it.
fn read_in_steps(input: &[u8], step: usize, head_only: bool) -> (Status, usize) {
    let mut reader = if head_only {
        RequestReader::head(Headers::Keep)
    } else {
        RequestReader::whole(Headers::Keep)
    };
    let mut buffer = Vec::new();
    let mut used = 0;
    for piece in input.chunks(step) {
        buffer.extend_from_slice(piece);
        let fed = reader.feed(&buffer);
        buffer.drain(..fed.consumed);
        used += fed.consumed;
        if fed.status != Status::Partial {
            return (fed.status, used);
        }
    }
    (Status::Partial, used)
}

#[test]
fn get_without_body_in_any_split() {
    let req = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b";
    for step in 1..req.len() {
        let (status, used) = read_in_steps(req, step, false);
        let Status::Complete(info) = status else {
            panic!("step {step}: {status:?}")
        };
        assert_eq!(info.path, b"/a");
        assert_eq!(used, 28, "the next request stays unread");
    }
}

#[test]
fn content_length_body() {
    let req = b"POST /u HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloNEXT";
    let (status, used) = read_in_steps(req, 3, false);
    let Status::Complete(info) = status else {
        panic!("{status:?}")
    };
    assert_eq!(info.method, b"POST");
    assert_eq!(info.bytes, used as u64);
    assert_eq!(used, req.len() - 4);
}

#[test]
fn head_only_leaves_the_body() {
    let req = b"POST /u HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    let (_, used) = read_in_steps(req, 100, true);
    assert_eq!(used, req.len() - 5);
}

#[test]
fn chunked_body_with_extension_and_trailer() {
    let req = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\nNEXT";
    for step in 1..req.len() {
        let (status, used) = read_in_steps(req, step, false);
        assert!(matches!(status, Status::Complete(_)), "step {step}: {status:?}");
        assert_eq!(used, req.len() - 4, "step {step}");
    }
}

/// The status after feeding `input` whole, and after feeding it in
/// pieces of every size: they must agree (and so must the bytes used,
/// unless the request was refused: then nothing more is read).
fn status_in_any_split(input: &[u8]) -> Status {
    let (whole, used) = read_in_steps(input, input.len().max(1), false);
    // Every piece size for a short request; a spread for a long one.
    let steps: Vec<usize> = if input.len() < 1024 {
        (1..input.len()).collect()
    } else {
        vec![1, 2, 7, 100, 4095, 4096, input.len() / 2, input.len() - 1]
    };
    for step in steps {
        let (status, step_used) = read_in_steps(input, step, false);
        assert_eq!(status, whole, "step {step}");
        if !matches!(status, Status::Bad(_)) {
            assert_eq!(step_used, used, "step {step}");
        }
    }
    whole
}

fn is_malformed(status: &Status) -> bool {
    matches!(status, Status::Bad(BadRequest::Malformed(_)))
}

/// Each request is refused as malformed, however it is split.
fn assert_malformed(requests: &[&[u8]]) {
    for request in requests {
        let status = status_in_any_split(request);
        assert!(
            is_malformed(&status),
            "{}: {status:?}",
            String::from_utf8_lossy(request)
        );
    }
}

/// Each request is read whole, however it is split.
fn assert_complete(requests: &[&[u8]]) {
    for request in requests {
        let status = status_in_any_split(request);
        assert!(
            matches!(status, Status::Complete(_)),
            "{}: {status:?}",
            String::from_utf8_lossy(request)
        );
    }
}

#[test]
fn methods_are_nodes_not_any_token() {
    assert!(is_malformed(&status_in_any_split(b"FOO / HTTP/1.1\r\n\r\n")));
    assert!(is_malformed(&status_in_any_split(b"get / HTTP/1.1\r\n\r\n")));
    assert!(is_malformed(&status_in_any_split(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")));
    for method in ["QUERY", "M-SEARCH", "PURGE", "MKCALENDAR"] {
        let request = format!("{method} / HTTP/1.1\r\n\r\n");
        let Status::Complete(info) = status_in_any_split(request.as_bytes()) else {
            panic!("{method}")
        };
        assert_eq!(info.method, method.as_bytes());
    }
}

#[test]
fn an_impossible_method_is_refused_before_its_space() {
    let mut reader = RequestReader::whole(Headers::Skip);
    assert_eq!(reader.feed(b"GE").status, Status::Partial);
    let mut reader = RequestReader::whole(Headers::Skip);
    assert!(is_malformed(&reader.feed(b"FO").status));
}

#[test]
fn versions_and_request_lines_as_llhttp_reads_them() {
    assert_complete(&[
        &b"GET / HTTP/1.0\r\n\r\n"[..],
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"GET  /  HTTP/1.1\r\n\r\n",
        b"GET /\r\nHost: x\r\n\r\n",
        b"\r\n\nGET / HTTP/1.1\r\n\r\n",
        b"GET http://user@host:80/p?q#f HTTP/1.1\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\n\r\n",
    ]);
    assert_malformed(&[
        &b"GET / HTTP/1.2\r\n\r\n"[..],
        b"GET / http/1.1\r\n\r\n",
        b"GET / HTTP/1.1\n\n",
        b"GET a HTTP/1.1\r\n\r\n",
        b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n",
        b"GET http:x HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b" GET / HTTP/1.1\r\n\r\n",
    ]);
}

#[test]
fn header_lines_as_llhttp_reads_them() {
    let ok = b"GET / HTTP/1.1\r\nA:\tb\xff\r\nB:\r\nC:x \r\n\r\n";
    let Status::Complete(info) = status_in_any_split(ok) else {
        panic!()
    };
    assert_eq!(info.header(b"a"), Some(&b"b\xff"[..]));
    assert_eq!(info.headers.len(), 3);
    assert_malformed(&[
        &b"GET / HTTP/1.1\r\nA : b\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\n: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\n\r\n",
        b"GET / HTTP/1.1\r\n A: b\r\n\r\n",
    ]);
}

#[test]
fn content_length_and_transfer_encoding_rules() {
    assert_malformed(&[
        &b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"[..],
        b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx",
        b"POST / HTTP/1.1\r\nContent-Length: 1\t\r\n\r\nx",
        b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    ]);
    let two_headers = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert!(matches!(status_in_any_split(two_headers), Status::Complete(_)));
    let spaces = b"POST / HTTP/1.1\r\nContent-Length:\t 2  \r\n\r\nab";
    let Status::Complete(info) = status_in_any_split(spaces) else {
        panic!()
    };
    assert_eq!(info.bytes as usize, spaces.len());
}

#[test]
fn chunk_framing_as_llhttp_reads_it() {
    let chunked = |body: &str| format!("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{body}").into_bytes();
    let ok = [
        "2;a=b;c=\"d\\\"e\"\r\nab\r\n0\r\n\r\n",
        "0002;;x\r\nab\r\n0\r\nT: 1\r\n\r\n",
    ]
    .map(chunked);
    assert_complete(&ok.each_ref().map(Vec::as_slice));
    let bad = [
        "2 \r\nab\r\n0\r\n\r\n",
        "2; a=b\r\nab\r\n0\r\n\r\n",
        "2;\r\nab\r\n0\r\n\r\n",
        "2\nab\r\n0\r\n\r\n",
        "2\r\nabc\r\n0\r\n\r\n",
        "0\r\nContent-Length: 1\r\n\r\n",
        "0\r\nbad trailer\r\n\r\n",
        "ffffffffffffffffff\r\n",
    ]
    .map(chunked);
    assert_malformed(&bad.each_ref().map(Vec::as_slice));
}

#[test]
fn connect_has_no_body() {
    let request = b"CONNECT host:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nTUNNEL";
    let (status, used) = read_in_steps(request, 7, false);
    assert!(matches!(status, Status::Complete(ref info) if info.path == b"host:443"));
    assert_eq!(used, request.len() - 6, "the tunnel's bytes are not a body");
}

#[test]
fn nodes_limit_counts_url_names_and_values_only() {
    // Whitespace before values is free in Node's count, so only the
    // raw cap stops a head made of it.
    let mut padded = b"GET / HTTP/1.1\r\nX:".to_vec();
    padded.extend(std::iter::repeat_n(b' ', MAX_HEAD_BYTES));
    let (status, _) = read_in_steps(&padded, 4096, false);
    assert_eq!(status, Status::Bad(BadRequest::HeadersTooLarge));
    let mut value = b"GET / HTTP/1.1\r\nX: ".to_vec();
    // "/" and "X" count too: 16,383 in all.
    value.extend(std::iter::repeat_n(b'a', NODE_HEADER_LIMIT - 3));
    value.extend_from_slice(b"\r\n\r\n");
    assert!(
        matches!(status_in_any_split(&value), Status::Complete(_)),
        "one byte under"
    );
    value.insert(20, b'a');
    assert_eq!(status_in_any_split(&value), Status::Bad(BadRequest::HeadersTooLarge));
}

#[test]
fn malformed_and_too_large() {
    let (status, _) = read_in_steps(b"GARBAGE\r\n\r\n", 100, false);
    assert!(matches!(status, Status::Bad(BadRequest::Malformed(_))));
    let (status, _) = read_in_steps(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 100, false);
    assert!(matches!(status, Status::Bad(BadRequest::Malformed(_))));
    let (status, _) = read_in_steps(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        100,
        false,
    );
    assert!(matches!(status, Status::Bad(BadRequest::Malformed(_))));
    let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', NODE_HEADER_LIMIT + 10));
    let (status, _) = read_in_steps(&big, 4096, false);
    assert_eq!(status, Status::Bad(BadRequest::HeadersTooLarge));
}

#[test]
fn a_chunked_body_read_no_further_than_n_chunks() {
    let body = b"3\r\nabc\r\n2;x=y\r\nde\r\n1\r\nf\r\n0\r\n\r\n";
    let mut chunked = Chunked::default();
    // Byte by byte or at once, it stops at the end of the second chunk.
    let (used, done) = chunked.feed_until(body, Some(2)).expect("valid");
    assert_eq!((used, done, chunked.chunks), (19, false, 2));
    assert_eq!(chunked.feed_until(&body[used..], Some(2)).expect("valid"), (0, false));
    let mut one_by_one = Chunked::default();
    let used: usize = body
        .iter()
        .map(|b| one_by_one.feed_until(&[*b], Some(2)).expect("valid").0)
        .sum();
    assert_eq!((used, one_by_one.chunks), (19, 2));
    assert_eq!(chunked.feed(&body[19..]).expect("valid"), (body.len() - 19, true));
    assert_eq!(chunked.chunks, 3);
}
