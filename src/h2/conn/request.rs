//! A request from its decoded header list (RFC 9113 §8.3.1): pseudo-header
//! fields first, then the regular fields, and the rules whose breach
//! makes the request malformed, a stream error of type PROTOCOL_ERROR.
//!
//! Checked: `:method` present, `:path` present and not empty (unless the
//! method is CONNECT), each pseudo-header once, none unknown and none
//! after a regular field, no uppercase in names, no connection-specific
//! field (`connection`, `keep-alive`, `proxy-connection`,
//! `transfer-encoding`, `upgrade`), `te` only as `trailers`. curl, node
//! and browsers send nothing of the kind, so a request refused here is
//! one a client broke on purpose.

use crate::http::Header;

/// A request's head, as a scenario sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `:method`.
    pub method: Vec<u8>,
    /// `:path` (empty for CONNECT).
    pub path: Vec<u8>,
    /// `:scheme`, if sent.
    pub scheme: Option<Vec<u8>>,
    /// `:authority`, if sent.
    pub authority: Option<Vec<u8>>,
    /// The regular fields in the order sent (cookies not joined).
    pub headers: Vec<Header>,
}

/// The head of a request, or why it is malformed.
pub fn head(fields: Vec<Header>) -> Result<Head, String> {
    let (mut method, mut path, mut scheme, mut authority) = (None, None, None, None);
    let mut headers = Vec::new();
    for (name, value) in fields {
        if let Some(pseudo) = name.strip_prefix(b":") {
            if !headers.is_empty() {
                return Err(format!("pseudo-header {} after a regular field", text(&name)));
            }
            let slot = match pseudo {
                b"method" => &mut method,
                b"path" => &mut path,
                b"scheme" => &mut scheme,
                b"authority" => &mut authority,
                _ => return Err(format!("unknown pseudo-header {} in a request", text(&name))),
            };
            if slot.replace(value).is_some() {
                return Err(format!("pseudo-header {} sent twice", text(&name)));
            }
            continue;
        }
        check_regular(&name, &value)?;
        headers.push((name, value));
    }
    let method = method.ok_or("no :method")?;
    let path = match path {
        Some(path) if !path.is_empty() => path,
        Some(_) => return Err("an empty :path".into()),
        None if method == b"CONNECT" => Vec::new(),
        None => return Err("no :path".into()),
    };
    Ok(Head {
        method,
        path,
        scheme,
        authority,
        headers,
    })
}

/// The rules for a regular field, in requests and trailers alike.
pub fn check_regular(name: &[u8], value: &[u8]) -> Result<(), String> {
    if name.iter().any(u8::is_ascii_uppercase) {
        return Err(format!("field name {} has uppercase letters", text(name)));
    }
    if name.starts_with(b":") {
        return Err(format!("pseudo-header {} in trailers", text(name)));
    }
    if crate::h2::CONNECTION_SPECIFIC.contains(&name) {
        return Err(format!("connection-specific field {}", text(name)));
    }
    if name == b"te" && value != b"trailers" {
        return Err(format!("te: {} (only \"trailers\" is allowed)", text(value)));
    }
    Ok(())
}

fn text(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(list: &[(&str, &str)]) -> Vec<Header> {
        list.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn a_plain_request_is_split_into_pseudo_and_regular_fields() {
        let got = head(fields(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "127.0.0.1:1"),
            (":path", "/x?y"),
            ("user-agent", "curl"),
            ("te", "trailers"),
        ]));
        let want = Head {
            method: b"GET".to_vec(),
            path: b"/x?y".to_vec(),
            scheme: Some(b"http".to_vec()),
            authority: Some(b"127.0.0.1:1".to_vec()),
            headers: fields(&[("user-agent", "curl"), ("te", "trailers")]),
        };
        assert_eq!(got, Ok(want));
        let connect = head(fields(&[(":method", "CONNECT"), (":authority", "h:1")]));
        assert_eq!(connect.map(|h| h.path), Ok(vec![]));
    }

    #[test]
    fn malformed_requests_say_why() {
        let cases: [(&[(&str, &str)], &str); 9] = [
            (&[(":path", "/")], "no :method"),
            (&[(":method", "GET")], "no :path"),
            (&[(":method", "GET"), (":path", "")], "an empty :path"),
            (&[(":method", "GET"), (":method", "GET"), (":path", "/")], "sent twice"),
            (
                &[(":method", "GET"), (":status", "200"), (":path", "/")],
                "unknown pseudo-header",
            ),
            (
                &[(":method", "GET"), ("a", "b"), (":path", "/")],
                "after a regular field",
            ),
            (&[(":method", "GET"), (":path", "/"), ("Host", "x")], "uppercase"),
            (
                &[(":method", "GET"), (":path", "/"), ("connection", "close")],
                "connection-specific",
            ),
            (
                &[(":method", "GET"), (":path", "/"), ("te", "gzip")],
                "only \"trailers\"",
            ),
        ];
        for (list, why) in cases {
            match head(fields(list)) {
                Err(e) => assert!(e.contains(why), "{list:?}: {e}"),
                Ok(h) => panic!("{list:?} accepted as {h:?}"),
            }
        }
    }
}
