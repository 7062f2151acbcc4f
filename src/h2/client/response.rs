//! A decoded field block from the server, read as what it is on its
//! stream: the response head, an interim (1xx) head, or trailers, and
//! checked against the rules that make a response malformed (RFC 9113
//! §8.1, §8.2, §8.3.2), which a client answers with RST_STREAM
//! PROTOCOL_ERROR: no `:status` or a bad one, a pseudo-header a response
//! may not have or one after a regular field, a name in uppercase, a
//! connection-specific field (`connection`, `transfer-encoding`, …), an
//! interim head that ends the stream, trailers that do not.

use crate::h2::frame::EndStream;
use crate::http::Header;

/// What a field block on one of our streams is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// The final response head (status 200 to 999).
    Response,
    /// An interim head (1xx but 101); the final one follows.
    Informational,
    /// Trailers, after the response head: they end the stream.
    Trailers,
    /// Breaks a rule: the stream is reset (the error says why).
    Malformed,
    /// On a stream the probe had already reset: decoded only to keep
    /// HPACK in step.
    Ignored,
}

/// A field block as the client read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// What it is.
    pub kind: HeadKind,
    /// `:status`, when it has a valid one.
    pub status: Option<u16>,
    /// The fields, pseudo-headers included, as decoded.
    pub fields: Vec<Header>,
}

/// Reads `fields` as the next block on a stream whose final head came
/// (`responded`) or not. `Err` carries the head as far as it could be
/// read (kind [`HeadKind::Malformed`]) and why it is malformed.
pub fn read(
    fields: Vec<Header>,
    responded: bool,
    end_stream: EndStream,
) -> Result<ResponseHead, (ResponseHead, String)> {
    let status = status(&fields);
    let valid_status = status.as_ref().ok().copied().flatten();
    let malformed = |fields, why: String| {
        let head = ResponseHead {
            kind: HeadKind::Malformed,
            status: valid_status,
            fields,
        };
        Err((head, why))
    };
    if let Some(why) = field_problem(&fields, responded) {
        return malformed(fields, why);
    }
    if responded {
        if !end_stream.is_end() {
            return malformed(fields, "trailers without END_STREAM".into());
        }
        return Ok(ResponseHead {
            kind: HeadKind::Trailers,
            status: None,
            fields,
        });
    }
    let status = match status {
        Ok(Some(status)) => status,
        Ok(None) => return malformed(fields, "a response head without :status".into()),
        Err(why) => return malformed(fields, why),
    };
    let kind = match status {
        101 => return malformed(fields, "status 101, which HTTP/2 does not have (§8.6)".into()),
        100..=199 if end_stream.is_end() => {
            return malformed(fields, format!("an interim head ({status}) with END_STREAM"));
        }
        100..=199 => HeadKind::Informational,
        _ => HeadKind::Response,
    };
    Ok(ResponseHead {
        kind,
        status: Some(status),
        fields,
    })
}

/// `:status` as a number: `Ok(None)` when there is none, `Err` when it
/// is not three digits or comes twice.
fn status(fields: &[Header]) -> Result<Option<u16>, String> {
    let mut found = None;
    for (name, value) in fields {
        if name != b":status" {
            continue;
        }
        if found.is_some() {
            return Err("two :status fields".into());
        }
        let digits = value.len() == 3 && value.iter().all(u8::is_ascii_digit) && value[0] != b'0';
        if !digits {
            return Err(format!("`:status: {}`, not a status", String::from_utf8_lossy(value)));
        }
        found = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
    }
    Ok(found)
}

/// What is wrong with the fields themselves, whatever the block is.
fn field_problem(fields: &[Header], responded: bool) -> Option<String> {
    let mut regular_seen = false;
    for (name, _) in fields {
        let shown = String::from_utf8_lossy(name);
        if let Some(pseudo) = name.strip_prefix(b":") {
            if responded {
                return Some(format!("the pseudo-header `{shown}` in trailers"));
            }
            if pseudo != b"status" {
                return Some(format!("the pseudo-header `{shown}`, which a response may not have"));
            }
            if regular_seen {
                return Some(format!("`{shown}` after a regular field"));
            }
            continue;
        }
        regular_seen = true;
        if name.is_empty() {
            return Some("a field with an empty name".into());
        }
        if name.iter().any(u8::is_ascii_uppercase) {
            return Some(format!(
                "the field name `{shown}` in uppercase (HTTP/2 wants lowercase)"
            ));
        }
        if crate::h2::CONNECTION_SPECIFIC.contains(&name.as_slice()) {
            return Some(format!("the connection-specific field `{shown}` (§8.2.2)"));
        }
    }
    None
}
