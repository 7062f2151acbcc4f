//! HTTP/1.1 response framing, sans-I/O: for the probe, and for a proxy's
//! relay of an upstream's responses.
//!
//! [`ResponseReader`] is fed received bytes and keeps what it learned: the
//! status and headers once the head is whole, how the body is delimited,
//! and how many body bytes arrived. It decides when a response is complete
//! and, when the server ends the connection, whether that end was the
//! body's delimiter (a body "until close") or cut it short.

use crate::http::{Chunked, NODE_HEADER_LIMIT};

/// Interim 1xx heads and the final head must each fit in this.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Header slots on the stack; a head with more lines gets them on the
/// heap. Only Node's limit on the bytes counted refuses a head.
const FEW_HEADERS: usize = 128;

/// How the body's end is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD request, 1xx, 204, 304).
    None,
    Length(u64),
    Chunked,
    /// The body ends when the server closes the connection.
    UntilClose,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    pub status: u16,
    pub reason: String,
    /// `Name: value` lines as sent, for the report.
    pub headers: Vec<(String, String)>,
    pub framing: Framing,
    pub bytes: usize,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
pub struct ResponseReader {
    /// Bytes of an incomplete head.
    pending: Vec<u8>,
    pub head: Option<Head>,
    /// Bytes of this response, head and body, framing included.
    pub received: u64,
    /// Payload bytes of the body.
    pub body_bytes: u64,
    chunked: Option<Chunked>,
    pub complete: bool,
    /// Set when the bytes could not be read as HTTP.
    pub malformed: Option<String>,
    head_request: bool,
    /// A chunked body is read no further than this many chunks.
    stop_after_chunks: Option<u64>,
}

impl ResponseReader {
    pub fn new(head_request: bool) -> ResponseReader {
        ResponseReader {
            head_request,
            ..ResponseReader::default()
        }
    }

    /// Take in received bytes. Returns how many belong to this response;
    /// the rest (a pipelined next response) is left to the caller.
    pub fn feed(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        while used < input.len() && !self.complete && self.malformed.is_none() {
            let rest = &input[used..];
            let step = if self.head.is_none() {
                self.feed_head(rest)
            } else {
                self.feed_body(rest)
            };
            if step == 0 {
                break;
            }
            used += step;
        }
        self.received += used as u64;
        used
    }

    /// Like [`ResponseReader::feed`], but stop at the end of the final
    /// head (interim 1xx heads included): a relay of the head alone.
    pub fn feed_head_only(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        while used < input.len() && self.head.is_none() && self.malformed.is_none() {
            let step = self.feed_head(&input[used..]);
            if step == 0 {
                break;
            }
            used += step;
        }
        self.received += used as u64;
        used
    }

    /// Read a chunked body no further than the end of its `n`th chunk:
    /// `feed` takes nothing past it (`relay … limit N chunks`).
    pub fn stop_after_chunks(&mut self, n: u64) {
        self.stop_after_chunks = Some(n);
    }

    /// Data chunks of a chunked body read whole so far.
    pub fn chunks(&self) -> u64 {
        self.chunked.as_ref().map_or(0, |c| u64::from(c.chunks))
    }

    /// The server closed the connection: does that complete the response?
    pub fn on_close(&mut self) {
        if self.head.as_ref().is_some_and(|h| h.framing == Framing::UntilClose) {
            self.complete = true;
        }
    }

    /// `Content-Length` of the body, when the head gave one.
    pub fn expected_body(&self) -> Option<u64> {
        match self.head.as_ref()?.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }

    fn feed_head(&mut self, input: &[u8]) -> usize {
        // Only the part of the head not yet seen is buffered; all of it is
        // "used" because the head is ours either way.
        let before = self.pending.len();
        self.pending.extend_from_slice(input);
        let mut few = [httparse::EMPTY_HEADER; FEW_HEADERS];
        let mut many;
        let mut response = httparse::Response::new(&mut few);
        let mut parsed = response.parse(&self.pending);
        if parsed == Err(httparse::Error::TooManyHeaders) {
            // A count is no limit of Node's: give every line a slot (the
            // head is at most MAX_HEAD_BYTES, so this is bounded too).
            let lines = self.pending.iter().filter(|&&b| b == b'\n').count();
            many = vec![httparse::EMPTY_HEADER; lines];
            response = httparse::Response::new(&mut many);
            parsed = response.parse(&self.pending);
        }
        let len = match parsed {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                if self.pending.len() > MAX_HEAD_BYTES {
                    self.malformed = Some(format!("response head larger than {MAX_HEAD_BYTES} bytes"));
                }
                return input.len();
            }
            Err(e) => {
                self.malformed = Some(format!("not an HTTP response: {e}"));
                return input.len();
            }
        };
        let reason = reason_of(&self.pending[..len]);
        let counted = reason.len()
            + response
                .headers
                .iter()
                .map(|h| h.name.len() + h.value.len())
                .sum::<usize>();
        if counted >= NODE_HEADER_LIMIT {
            self.malformed = Some(format!(
                "response head too large: {counted} bytes of status text, header names and values; \
                 Node's client refuses {NODE_HEADER_LIMIT} or more"
            ));
            return input.len();
        }
        let status = response.code.unwrap_or(0);
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
            .collect();
        let reason = String::from_utf8_lossy(reason).into_owned();
        let version = response.version.unwrap_or(1);
        self.pending.clear();
        let used = len - before;
        if (100..200).contains(&status) && status != 101 {
            // An interim response (100 Continue): the real head follows.
            return used;
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let chunked = find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let length = find("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        let framing = if self.head_request || status == 204 || status == 304 || status == 101 {
            Framing::None
        } else if chunked {
            Framing::Chunked
        } else if let Some(n) = length {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        };
        self.complete = matches!(framing, Framing::None | Framing::Length(0));
        if framing == Framing::Chunked {
            self.chunked = Some(Chunked::default());
        }
        self.head = Some(Head {
            version,
            status,
            reason,
            headers,
            framing,
            bytes: len,
        });
        used
    }

    fn feed_body(&mut self, input: &[u8]) -> usize {
        let Some(head) = &self.head else { return 0 };
        match head.framing {
            Framing::None => {
                self.complete = true;
                0
            }
            Framing::Length(n) => {
                let take = (n - self.body_bytes).min(input.len() as u64);
                self.body_bytes += take;
                self.complete = self.body_bytes == n;
                take as usize
            }
            Framing::UntilClose => {
                self.body_bytes += input.len() as u64;
                input.len()
            }
            Framing::Chunked => {
                let Some(decoder) = self.chunked.as_mut() else { return 0 };
                let fed = decoder.feed_until(input, self.stop_after_chunks);
                // Payload that arrived before a framing error counts too.
                self.body_bytes = decoder.data_bytes;
                match fed {
                    Ok((used, done)) => {
                        self.complete = done;
                        used
                    }
                    Err(why) => {
                        self.malformed = Some(format!("bad chunked body: {why}"));
                        input.len()
                    }
                }
            }
        }
    }
}

/// The reason phrase of `head` as sent. httparse gives "" for one with
/// bytes past ASCII (obs-text), which Node and curl take and show, and
/// which Node counts against its head limit.
fn reason_of(head: &[u8]) -> &[u8] {
    // httparse skips empty lines before the status line.
    let start = head
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(head.len());
    let line = &head[start..];
    let end = line
        .iter()
        .position(|b| matches!(b, b'\r' | b'\n'))
        .unwrap_or(line.len());
    // `HTTP/1.1 200 ` is 13 bytes; httparse checked the line.
    line[..end].get(13..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], step: usize) -> ResponseReader {
        let mut reader = ResponseReader::new(false);
        for piece in input.chunks(step) {
            reader.feed(piece);
        }
        reader
    }

    #[test]
    fn a_reason_past_ascii_is_kept_and_counted_as_node_counts_it() {
        let r = read_all(b"\r\nHTTP/1.1 404 Pas trouv\xc3\xa9\r\nContent-Length: 0\r\n\r\n", 7);
        assert_eq!(r.head.expect("head").reason, "Pas trouvé");
        let r = read_all(b"HTTP/1.1 200 \xff\r\n\r\n", 100);
        assert_eq!(r.head.expect("head").reason, "\u{fffd}");
        // 16,384 bytes of reason alone are over Node's limit.
        let long = [b"HTTP/1.1 200 ".as_slice(), &[0xe9; 16_384], b"\r\n\r\n"].concat();
        let r = read_all(&long, 1000);
        assert!(
            r.malformed
                .is_some_and(|m| m.starts_with("response head too large: 16384 bytes"))
        );
    }

    #[test]
    fn content_length_in_any_split() {
        let bytes = b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 13\r\n\r\nHello,";
        for step in 1..bytes.len() {
            let r = read_all(bytes, step);
            let head = r.head.as_ref().expect("head");
            assert_eq!((head.status, head.framing), (200, Framing::Length(13)));
            assert_eq!((r.body_bytes, r.complete, r.received), (6, false, bytes.len() as u64));
        }
    }

    #[test]
    fn chunked_counts_payload_and_finds_the_end() {
        let bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nHello,\r\n0\r\n\r\n";
        let r = read_all(bytes, 3);
        assert_eq!((r.body_bytes, r.complete), (6, true));
        let r = read_all(&bytes[..bytes.len() - 5], 3);
        assert_eq!((r.body_bytes, r.complete), (6, false));
    }

    #[test]
    fn until_close_completes_on_close() {
        let mut r = read_all(b"HTTP/1.0 200 OK\r\n\r\nabc", 4);
        assert!(!r.complete);
        r.on_close();
        assert!(r.complete);
        assert_eq!(r.body_bytes, 3);
    }

    #[test]
    fn interim_100_is_skipped_and_pipelined_bytes_left() {
        let mut r = ResponseReader::new(false);
        let bytes = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200";
        let used = r.feed(bytes);
        assert_eq!(r.head.as_ref().map(|h| h.status), Some(204));
        assert!(r.complete);
        assert_eq!(&bytes[used..], b"HTTP/1.1 200");
    }

    #[test]
    fn garbage_is_malformed() {
        let r = read_all(b"SSH-2.0-OpenSSH\r\n", 100);
        assert!(r.malformed.is_some());
    }
}
