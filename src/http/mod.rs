//! HTTP/1.1 request framing, sans-I/O, by the rules of Node's parser.
//!
//! [`RequestReader`] is fed the bytes received so far and says how many it
//! consumed and whether the request is complete. The head is checked byte
//! by byte as llhttp (the parser in Node's HTTP server) checks it
//! (`head`, `fields`), so that what Node answers with 400 gets 400 here
//! too; its header fields are then parsed with httparse. The body is counted
//! and discarded as it arrives (by Content-Length or `chunked`), so a
//! large upload costs no memory. A head whose URL, header names and values
//! add up to 16 KiB is "too large" (431), as in Node, and so is a chunk
//! whose extensions pass 16 KiB (413).

mod chars;
mod chunked;
mod fields;
mod head;
pub(crate) mod response;
pub(crate) mod response_check;

pub use chunked::Chunked;
use head::{Body, HeadScanner};

/// Node's `--max-http-header-size` default: the bytes of the URL, header
/// names and header values (not the whole head) it allows.
pub const NODE_HEADER_LIMIT: usize = 16 * 1024;
/// Node's limit on one chunk's extensions (`kMaxChunkExtensionsSize`):
/// the bytes of their names and values, counted afresh for every chunk.
pub const NODE_CHUNK_EXTENSIONS_LIMIT: usize = 16 * 1024;
/// Raw bytes a head may take however Node would count it: whitespace and
/// empty headers are free in Node's count, but not in hangup's memory.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A header field: the name lowercased, the value as sent.
pub type Header = (Vec<u8>, Vec<u8>);

/// What the script can ask about the last request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The method, as sent.
    pub method: Vec<u8>,
    /// The request target as sent, query included.
    pub path: Vec<u8>,
    /// Header names lowercased, values as sent.
    pub headers: Vec<Header>,
    /// Bytes of head and body together.
    pub bytes: u64,
}

impl RequestInfo {
    /// The value of the first header called `name`, ignoring ASCII case.
    /// Always `None` when the reader was told not to keep headers.
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRequest {
    /// Node answers 400.
    Malformed(String),
    /// Node answers 431.
    HeadersTooLarge,
    /// Node answers 413: one chunk's extensions passed
    /// [`NODE_CHUNK_EXTENSIONS_LIMIT`].
    ChunkExtensionsTooLarge,
}

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRequest::Malformed(why) => write!(f, "malformed request: {why}"),
            BadRequest::HeadersTooLarge => write!(
                f,
                "request head too large: over {NODE_HEADER_LIMIT} bytes of URL and headers, or {MAX_HEAD_BYTES} bytes in all"
            ),
            BadRequest::ChunkExtensionsTooLarge => write!(
                f,
                "chunk extensions too large: over {NODE_CHUNK_EXTENSIONS_LIMIT} bytes of names and values in one chunk"
            ),
        }
    }
}

fn malformed(why: &str) -> BadRequest {
    BadRequest::Malformed(why.to_string())
}

/// Where the request stands after a [`RequestReader::feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Feed more bytes.
    Partial,
    /// The request is read (only its head for a head-only reader).
    Complete(RequestInfo),
    /// The request is refused, and why.
    Bad(BadRequest),
}

/// The result of one [`RequestReader::feed`].
#[derive(Debug)]
pub struct Fed {
    /// Bytes of the input that belong to this request; drop them.
    pub consumed: usize,
    /// Whether the request is read, needs more bytes, or is refused.
    pub status: Status,
}

/// Reads one request, head only or head and body.
#[derive(Debug)]
pub struct RequestReader {
    head_only: bool,
    /// Copy the headers into `RequestInfo` (only scenarios that test them
    /// need them; the copies were most of a request's allocations).
    keep_headers: bool,
    phase: Phase,
}

/// Whether a [`RequestReader`] copies the header fields into the
/// [`RequestInfo`] it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    /// Copy them: the scenario tests them (`if header …`).
    Keep,
    /// Leave them: nothing asks.
    Skip,
}

/// What the reader is reading; the request's details exist once its head
/// is whole (sharing the space the head's scanner took before).
#[derive(Debug)]
enum Phase {
    Head(HeadScanner),
    Body { remaining: u64, info: RequestInfo },
    Chunked { decoder: Chunked, info: RequestInfo },
}

impl RequestReader {
    /// A reader for the next request, head and body.
    pub fn whole(headers: Headers) -> RequestReader {
        RequestReader::new(false, headers)
    }

    /// A reader for the next request's head; [`RequestReader::into_body_reader`]
    /// then goes on with its body.
    pub fn head(headers: Headers) -> RequestReader {
        RequestReader::new(true, headers)
    }

    fn new(head_only: bool, headers: Headers) -> RequestReader {
        RequestReader {
            head_only,
            keep_headers: headers == Headers::Keep,
            phase: Phase::Head(HeadScanner::default()),
        }
    }

    /// Consume what belongs to this request from `input`. Until the head is
    /// complete nothing is consumed: call again with the same bytes and more.
    pub fn feed(&mut self, input: &[u8]) -> Fed {
        let mut consumed = 0;
        if let Phase::Head(scanner) = &mut self.phase {
            // Bytes past the raw cap are not looked at: whether they arrive
            // with the rest or later, the answer is 431.
            let head = match scanner.scan(&input[..input.len().min(MAX_HEAD_BYTES)]) {
                Ok(Some(head)) => head,
                Ok(None) if input.len() >= MAX_HEAD_BYTES => return Fed::bad(0, BadRequest::HeadersTooLarge),
                Ok(None) => return Fed::partial(0),
                Err(bad) => return Fed::bad(0, bad),
            };
            consumed = head.len;
            if let Err(bad) = self.take_head(input, &head) {
                return Fed::bad(0, bad);
            }
            if self.head_only {
                if let Phase::Body { info, .. } | Phase::Chunked { info, .. } = &mut self.phase {
                    info.bytes = consumed as u64;
                }
                return self.finish(consumed);
            }
        }
        let rest = &input[consumed..];
        let done = match &mut self.phase {
            Phase::Head(_) => unreachable!("the head was taken above"),
            Phase::Body { remaining, .. } => {
                let take = (*remaining).min(rest.len() as u64);
                *remaining -= take;
                consumed += take as usize;
                *remaining == 0
            }
            Phase::Chunked { decoder, .. } => match decoder.scan(rest) {
                Ok((used, done)) => {
                    consumed += used;
                    done
                }
                Err(bad) => return Fed::bad(consumed, bad),
            },
        };
        if let Phase::Body { info, .. } | Phase::Chunked { info, .. } = &mut self.phase {
            info.bytes += consumed as u64;
        }
        if done {
            return self.finish(consumed);
        }
        Fed::partial(consumed)
    }

    /// A head-only reader whose head is whole, turned into one that reads
    /// the rest of that request: its body by the head's framing (none for
    /// a request without one). A proxy streams the body on with it.
    pub fn into_body_reader(mut self) -> RequestReader {
        self.head_only = false;
        self
    }

    /// The request is whole: hand over its details (the reader is done).
    fn finish(&mut self, consumed: usize) -> Fed {
        let info = match &mut self.phase {
            Phase::Body { info, .. } | Phase::Chunked { info, .. } => std::mem::take(info),
            Phase::Head(_) => RequestInfo::default(),
        };
        Fed {
            consumed,
            status: Status::Complete(info),
        }
    }

    /// Record what the script may ask about the request, and choose how to
    /// read its body.
    fn take_head(&mut self, input: &[u8], head: &head::Head) -> Result<(), BadRequest> {
        let info = RequestInfo {
            method: input[head.method.clone()].to_vec(),
            path: input[head.target.clone()].to_vec(),
            headers: if self.keep_headers {
                parse_fields(&input[head.fields.clone()], head.lines as usize)?
            } else {
                Vec::new()
            },
            bytes: 0,
        };
        self.phase = match head.body {
            Body::None => Phase::Body { remaining: 0, info },
            Body::Length(n) => Phase::Body { remaining: n, info },
            Body::Chunked => Phase::Chunked {
                decoder: Chunked::default(),
                info,
            },
        };
        Ok(())
    }
}

impl Fed {
    fn partial(consumed: usize) -> Fed {
        Fed {
            consumed,
            status: Status::Partial,
        }
    }

    fn bad(consumed: usize, bad: BadRequest) -> Fed {
        Fed {
            consumed,
            status: Status::Bad(bad),
        }
    }
}

/// The header fields of a head the scanner accepted, names lowercased.
fn parse_fields(block: &[u8], lines: usize) -> Result<Vec<Header>, BadRequest> {
    let mut headers = vec![httparse::EMPTY_HEADER; lines];
    match httparse::parse_headers(block, &mut headers) {
        Ok(httparse::Status::Complete((_, fields))) => Ok(fields
            .iter()
            .map(|h| (h.name.to_ascii_lowercase().into_bytes(), h.value.to_vec()))
            .collect()),
        // The scanner is the stricter of the two; this is a safety net.
        Ok(httparse::Status::Partial) => Err(malformed("incomplete header block")),
        Err(e) => Err(malformed(&e.to_string())),
    }
}

/// The violations `response_check` finds in `received`, the bytes of one
/// connection (`head_requests`: which requests sent on it were HEAD), one
/// line each: `KIND REFUSED_BY: WHAT (at byte N)`, `REFUSED_BY` being the
/// clients that refuse it joined by `,` (or `-`). For
/// `tests/it/node_response_parity.rs`; the probe calls the checker itself.
#[doc(hidden)]
pub fn check_response_bytes(received: &[u8], head_requests: &[bool], closed_by_server: bool) -> Vec<String> {
    response_check::check(received, head_requests, closed_by_server)
        .violations
        .iter()
        .map(|(_, v)| {
            let refused_by = if v.refused_by.is_empty() {
                "-".to_string()
            } else {
                v.refused_by.join(",")
            };
            format!("{} {refused_by}: {} (at byte {})", v.kind.name(), v.what, v.offset)
        })
        .collect()
}

/// The exact bytes Node writes for a request it refuses by default.
pub fn default_refusal(bad: &BadRequest) -> &'static [u8] {
    match bad {
        BadRequest::Malformed(_) => b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n",
        BadRequest::HeadersTooLarge => b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n",
        BadRequest::ChunkExtensionsTooLarge => b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n",
    }
}

/// The standard reason phrase of a status code, or "Unknown".
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests;
