//! The bytes of a `respond` statement, built once when the scenario is
//! parsed: they depend only on the statement and on whether the request
//! was HEAD, so no request pays for formatting them.

use super::ast::{Payload, Piece, Response, SendBody};
use crate::http::reason_phrase;

/// The request a response answers, as far as its bytes care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// A HEAD request: no body follows the head.
    Head,
    /// Any other method.
    Other,
}

/// Status line, headers, framing header, then the body (none for HEAD
/// requests and for 1xx, 204 and 304 responses, RFC 9110, unless the
/// script says `anyway`; the framing header is the same either way, and
/// for a HEAD request says how long the body would have been).
pub fn wire(response: &Response, to: Request) -> Payload {
    let has_header = |name: &[u8]| response.headers.iter().any(|h| header_is(h, name));
    let bodiless_status = response.status < 200 || response.status == 204 || response.status == 304;
    let body_len = response.body.len();

    let mut head = format!("HTTP/1.1 {} ", response.status).into_bytes();
    match &response.reason {
        Some(reason) => head.extend_from_slice(reason),
        None => head.extend_from_slice(reason_phrase(response.status).as_bytes()),
    }
    head.extend_from_slice(b"\r\n");
    // A header's repeats stay repeats: the head is pieces too.
    let mut payload = Payload::default();
    for header in &response.headers {
        for piece in &header.pieces {
            if let Piece::Bytes(bytes) = piece {
                head.extend_from_slice(bytes);
            } else {
                payload.push(Piece::Bytes(std::mem::take(&mut head)));
                payload.push(piece.clone());
            }
        }
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

    payload.push(Piece::Bytes(head));
    if sends_body(response, to) {
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

/// The most bytes of one header line kept for HTTP/2.
pub const H2_FIELD_MAX: u64 = 64 * 1024;

/// Whether the body goes with the response (RFC 9110: not for a HEAD
/// request, nor with a 1xx, 204 or 304 status, unless `anyway`).
pub fn sends_body(response: &Response, to: Request) -> bool {
    let bodiless_status = response.status < 200 || response.status == 204 || response.status == 304;
    match response.send_body {
        SendBody::WhenAllowed => !(bodiless_status || to == Request::Head),
        SendBody::Anyway => true,
    }
}

/// The header fields of the response on HTTP/2, after `:status`: names
/// lowercased, the fields HTTP/2 forbids (RFC 9113 §8.2.2: `connection`,
/// `keep-alive`, `proxy-connection`, `transfer-encoding`, `upgrade`)
/// left out, as a client would treat the response as malformed, and a
/// `content-length` as on HTTP/1.1. A `reason` has no place in HTTP/2.
/// A header longer than [`H2_FIELD_MAX`] is cut there: no client takes a
/// larger one, and a `repeat` is written out here.
pub fn h2_fields(response: &Response) -> Vec<crate::http::Header> {
    const FORBIDDEN: [&[u8]; 5] = [
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
    ];
    let bodiless_status = response.status < 200 || response.status == 204 || response.status == 304;
    let mut fields = Vec::with_capacity(response.headers.len() + 1);
    for header in &response.headers {
        let line = header.slice(0, H2_FIELD_MAX).to_vec();
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii().to_ascii_lowercase();
        if FORBIDDEN.contains(&name.as_slice()) {
            continue;
        }
        fields.push((name, line[colon + 1..].trim_ascii().to_vec()));
    }
    if !bodiless_status && !fields.iter().any(|(name, _)| name == b"content-length") {
        let len = response.body.len().to_string().into_bytes();
        fields.push((b"content-length".to_vec(), len));
    }
    fields
}

/// Whether `header`'s name (the bytes before its first `:`, trimmed) is
/// `name`, ignoring ASCII case. Only the first bytes are looked at, so a
/// header of a large `repeat` is never materialised.
fn header_is(header: &Payload, name: &[u8]) -> bool {
    // Room for the name and the whitespace a script may put around it.
    let look = name.len() as u64 + 64;
    let mut before_colon = Vec::new();
    for offset in 0..look {
        match header.byte_at(offset) {
            Some(b':') => return before_colon.trim_ascii().eq_ignore_ascii_case(name),
            Some(byte) => before_colon.push(byte),
            None => return false,
        }
    }
    false
}
