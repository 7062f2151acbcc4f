//! Where the server's HTTP messages begin and end, in its bytes as they
//! come: the end of each response's head, of its body, and so the start of
//! the next response. A recording splits its chunks there (see the module
//! above for why).
//!
//! Sans-I/O over [`ResponseReader`], which the probe already trusts. Bytes
//! that are not HTTP (a raw protocol through `tcp-proxy`), or a framing the
//! reader refuses, end the splitting for the rest of the connection: the
//! chunks then end only where the reads did. A body "until close" has no
//! end to split at; a response to HEAD has no body, whatever its head says,
//! which the recorder tells with [`Method`].

use crate::http::response::ResponseReader;

/// The method of the request a response answers, as far as framing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Method {
    /// HEAD: the response is a head alone.
    Head,
    /// Any other: the head says how the body is framed.
    #[default]
    Other,
}

impl Method {
    /// The method of the request that starts with these bytes.
    pub fn of(request: &[u8]) -> Method {
        if request.starts_with(b"HEAD ") {
            Method::Head
        } else {
            Method::Other
        }
    }
}

/// The response being read, and what is known of the next.
#[derive(Debug, Default)]
pub(crate) struct Messages {
    /// The response under way; `None` between two.
    reader: Option<ResponseReader>,
    /// The method of the request the next response answers.
    next: Method,
    /// The bytes are not (or no longer) HTTP: no more splitting.
    gave_up: bool,
}

impl Messages {
    /// The next response answers a request of this method.
    pub fn next_request(&mut self, method: Method) {
        self.next = method;
    }

    /// How many of `bytes` (at least one) belong to the message part under
    /// way, and whether that part ends with them.
    pub fn take(&mut self, bytes: &[u8]) -> (usize, bool) {
        if self.gave_up || bytes.is_empty() {
            return (bytes.len(), false);
        }
        let next = self.next;
        let reader = self
            .reader
            .get_or_insert_with(|| ResponseReader::new(next == Method::Head));
        let (used, ended) = if reader.head.is_none() {
            let used = reader.feed_head_only(bytes);
            (used, reader.head.is_some())
        } else {
            let used = reader.feed(bytes);
            (used, reader.complete)
        };
        if reader.malformed.is_some() || used == 0 {
            self.gave_up = true;
            self.reader = None;
            return (bytes.len(), false);
        }
        if reader.complete {
            // A head with no body (204, 304, HEAD) completes the response
            // too: the next bytes are the next response's.
            self.reader = None;
        }
        (used, ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces `bytes` are split into, fed in reads of `step` bytes.
    fn pieces(bytes: &[u8], step: usize, method: Method) -> Vec<Vec<u8>> {
        let mut messages = Messages::default();
        messages.next_request(method);
        let mut out: Vec<Vec<u8>> = vec![Vec::new()];
        for read in bytes.chunks(step) {
            let mut rest = read;
            while !rest.is_empty() {
                let (n, ended) = messages.take(rest);
                out.last_mut().expect("a piece").extend_from_slice(&rest[..n]);
                if ended {
                    out.push(Vec::new());
                }
                rest = &rest[n..];
            }
        }
        out.retain(|p| !p.is_empty());
        out
    }

    #[test]
    fn head_body_and_next_response_in_any_split() {
        let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
        let want: Vec<&[u8]> = vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            b"hello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"2\r\nhi\r\n0\r\n\r\n",
        ];
        for step in 1..=bytes.len() {
            assert_eq!(pieces(bytes, step, Method::Other), want, "reads of {step}");
        }
    }

    #[test]
    fn a_response_to_head_is_its_head_alone() {
        let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
        assert_eq!(
            pieces(bytes, bytes.len(), Method::Head),
            [
                &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..],
                b"HTTP/1.1 200 OK\r\n\r\n"
            ]
        );
    }

    #[test]
    fn not_http_is_left_whole() {
        let bytes = b"SSH-2.0-OpenSSH_9.6\r\nmore bytes";
        assert_eq!(pieces(bytes, 7, Method::Other), [bytes.to_vec()]);
        // A body until close has no end to split at.
        let until_close = b"HTTP/1.0 200 OK\r\n\r\nall of it";
        assert_eq!(
            pieces(until_close, 4, Method::Other),
            [&b"HTTP/1.0 200 OK\r\n\r\n"[..], b"all of it"]
        );
    }
}
