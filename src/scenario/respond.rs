//! The bytes of a `respond` statement, built once when the scenario is
//! parsed: they depend only on the statement and on whether the request
//! was HEAD, so no request pays for formatting them.

use super::ast::{Payload, Piece, Response};
use crate::http::reason_phrase;

/// Status line, headers, framing header, then the body (none for HEAD
/// requests and for 1xx, 204 and 304 responses, RFC 9110; the framing
/// header still says how long the body would have been).
pub fn wire(response: &Response, head_request: bool) -> Payload {
    let has_header = |name: &[u8]| {
        response.headers.iter().any(|h| {
            h.split(|&b| b == b':')
                .next()
                .is_some_and(|n| n.trim_ascii().eq_ignore_ascii_case(name))
        })
    };
    let bodiless_status = response.status < 200 || response.status == 204 || response.status == 304;
    let body_len = response.body.len();

    let mut head = format!("HTTP/1.1 {} ", response.status).into_bytes();
    match &response.reason {
        Some(reason) => head.extend_from_slice(reason),
        None => head.extend_from_slice(reason_phrase(response.status).as_bytes()),
    }
    head.extend_from_slice(b"\r\n");
    for header in &response.headers {
        head.extend_from_slice(header);
        head.extend_from_slice(b"\r\n");
    }
    if response.chunked {
        if !has_header(b"transfer-encoding") {
            head.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        }
    } else if !bodiless_status && !has_header(b"content-length") {
        head.extend_from_slice(format!("Content-Length: {body_len}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");

    let mut payload = Payload::default();
    payload.push(Piece::Bytes(head));
    if !(bodiless_status || head_request) {
        if response.chunked && body_len > 0 {
            payload.push(Piece::Bytes(format!("{body_len:x}\r\n").into_bytes()));
        }
        for piece in &response.body.pieces {
            payload.push(piece.clone());
        }
        if response.chunked {
            let end: &[u8] = if body_len > 0 { b"\r\n0\r\n\r\n" } else { b"0\r\n\r\n" };
            payload.push(Piece::Bytes(end.to_vec()));
        }
    }
    payload
}
