//! HTTP/1.1 request framing, sans-I/O.
//!
//! [`RequestReader`] is fed the bytes received so far and says how many it
//! consumed and whether the request is complete. The head is parsed with
//! httparse once it is whole; the body is counted and discarded as it
//! arrives (by Content-Length or chunked), so a large upload costs no memory.
//! Limits follow Node's defaults: a head over 16 KiB is "too large" (431),
//! anything httparse or the framing rules reject is "malformed" (400).

/// Node's `--max-http-header-size` default.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Headers httparse may return; more than this counts as too large.
const MAX_HEADERS: usize = 128;

/// What the script can ask about the last request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    pub method: Vec<u8>,
    pub path: Vec<u8>,
    /// Header names lowercased, values as sent.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Bytes of head and body together.
    pub bytes: u64,
}

impl RequestInfo {
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
}

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRequest::Malformed(why) => write!(f, "malformed request: {why}"),
            BadRequest::HeadersTooLarge => write!(f, "request head larger than {MAX_HEAD_BYTES} bytes"),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// Feed more bytes.
    Partial,
    Complete(RequestInfo),
    Bad(BadRequest),
}

/// The result of one [`RequestReader::feed`].
#[derive(Debug)]
pub struct Fed {
    /// Bytes of the input that belong to this request; drop them.
    pub consumed: usize,
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
    info: RequestInfo,
}

#[derive(Debug)]
enum Phase {
    Head,
    Body { remaining: u64 },
    Chunked(Chunked),
}

impl RequestReader {
    pub fn new(head_only: bool, keep_headers: bool) -> RequestReader {
        RequestReader {
            head_only,
            keep_headers,
            phase: Phase::Head,
            info: RequestInfo::default(),
        }
    }

    /// Consume what belongs to this request from `input`. Until the head is
    /// complete nothing is consumed: call again with the same bytes and more.
    pub fn feed(&mut self, input: &[u8]) -> Fed {
        let mut consumed = 0;
        if let Phase::Head = self.phase {
            match self.parse_head(input) {
                Ok(Some(len)) => consumed = len,
                Ok(None) => {
                    return Fed {
                        consumed: 0,
                        status: Status::Partial,
                    };
                }
                Err(bad) => {
                    return Fed {
                        consumed: 0,
                        status: Status::Bad(bad),
                    };
                }
            }
            if self.head_only {
                return self.finish(consumed);
            }
        }
        let rest = &input[consumed..];
        match &mut self.phase {
            Phase::Head => unreachable!("the head was parsed above"),
            Phase::Body { remaining } => {
                let take = (*remaining).min(rest.len() as u64);
                *remaining -= take;
                consumed += take as usize;
                if *remaining == 0 {
                    return self.finish(consumed);
                }
            }
            Phase::Chunked(decoder) => match decoder.feed(rest) {
                Ok((used, done)) => {
                    consumed += used;
                    if done {
                        return self.finish(consumed);
                    }
                }
                Err(why) => {
                    return Fed {
                        consumed,
                        status: Status::Bad(BadRequest::Malformed(why)),
                    };
                }
            },
        }
        self.info.bytes += (consumed) as u64;
        Fed {
            consumed,
            status: Status::Partial,
        }
    }

    fn finish(&mut self, consumed: usize) -> Fed {
        self.info.bytes += consumed as u64;
        Fed {
            consumed,
            status: Status::Complete(std::mem::take(&mut self.info)),
        }
    }

    /// `Ok(Some(head length))` when the head is whole, `Ok(None)` for more.
    fn parse_head(&mut self, input: &[u8]) -> Result<Option<usize>, BadRequest> {
        // Uninitialised slots: filling 128 empty headers on every parse was
        // a measurable share of a request's instructions.
        let mut headers = [const { std::mem::MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut []);
        let len = match request.parse_with_uninit_headers(input, &mut headers) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if input.len() > MAX_HEAD_BYTES => return Err(BadRequest::HeadersTooLarge),
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(BadRequest::HeadersTooLarge),
            Err(e) => return Err(BadRequest::Malformed(e.to_string())),
        };
        if len > MAX_HEAD_BYTES {
            return Err(BadRequest::HeadersTooLarge);
        }
        let mut content_length: Option<u64> = None;
        let mut chunked = false;
        for header in request.headers.iter() {
            if header.name.eq_ignore_ascii_case("content-length") {
                let value = std::str::from_utf8(header.value)
                    .ok()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| BadRequest::Malformed("invalid Content-Length".into()))?;
                if content_length.is_some_and(|old| old != value) {
                    return Err(BadRequest::Malformed("conflicting Content-Length headers".into()));
                }
                content_length = Some(value);
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                let last = header.value.rsplit(|&b| b == b',').next().unwrap_or_default();
                if !last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                    return Err(BadRequest::Malformed("Transfer-Encoding must end with chunked".into()));
                }
                chunked = true;
            }
        }
        if chunked && content_length.is_some() {
            return Err(BadRequest::Malformed(
                "both Content-Length and Transfer-Encoding".into(),
            ));
        }
        self.info = RequestInfo {
            method: request.method.unwrap_or_default().as_bytes().to_vec(),
            path: request.path.unwrap_or_default().as_bytes().to_vec(),
            headers: if self.keep_headers {
                request
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase().into_bytes(), h.value.to_vec()))
                    .collect()
            } else {
                Vec::new()
            },
            bytes: 0,
        };
        self.phase = if chunked {
            Phase::Chunked(Chunked::default())
        } else {
            Phase::Body {
                remaining: content_length.unwrap_or(0),
            }
        };
        Ok(Some(len))
    }
}

/// A streaming decoder of chunked transfer coding that only counts: it
/// finds where the body ends and how many payload bytes it carried.
#[derive(Debug, Default)]
pub struct Chunked {
    state: ChunkState,
    size: u64,
    size_digits: usize,
    /// Payload bytes seen so far (chunk data, not framing).
    pub data_bytes: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Hex digits of the chunk size.
    #[default]
    Size,
    /// A chunk extension after `;`, skipped up to the line end.
    Extension,
    /// The LF that ends the size line.
    SizeLf,
    /// `size` more data bytes.
    Data,
    /// The CR, then the LF, after a chunk's data.
    DataCr,
    DataLf,
    /// Trailer lines after the last chunk; `TrailerStart` is at a line start.
    TrailerStart,
    TrailerLine,
    TrailerLf,
    FinalLf,
}

impl Chunked {
    /// `(bytes used, finished)`.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, bool), String> {
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            match self.state {
                ChunkState::Size => match byte {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        let digit = (byte as char).to_digit(16).unwrap_or(0) as u64;
                        self.size = self
                            .size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(digit))
                            .ok_or("chunk size too large")?;
                        self.size_digits += 1;
                    }
                    b';' | b' ' | b'\t' if self.size_digits > 0 => self.state = ChunkState::Extension,
                    b'\r' if self.size_digits > 0 => self.state = ChunkState::SizeLf,
                    _ => return Err("invalid chunk size".into()),
                },
                ChunkState::Extension => {
                    if byte == b'\r' {
                        self.state = ChunkState::SizeLf;
                    }
                }
                ChunkState::SizeLf => {
                    if byte != b'\n' {
                        return Err("expected LF after chunk size".into());
                    }
                    self.size_digits = 0;
                    self.state = if self.size == 0 {
                        ChunkState::TrailerStart
                    } else {
                        ChunkState::Data
                    };
                }
                ChunkState::Data => {
                    let take = self.size.min((input.len() - i) as u64);
                    self.size -= take;
                    self.data_bytes += take;
                    i += take as usize;
                    if self.size == 0 {
                        self.state = ChunkState::DataCr;
                    }
                    continue;
                }
                ChunkState::DataCr => {
                    if byte != b'\r' {
                        return Err("expected CRLF after chunk data".into());
                    }
                    self.state = ChunkState::DataLf;
                }
                ChunkState::DataLf => {
                    if byte != b'\n' {
                        return Err("expected CRLF after chunk data".into());
                    }
                    self.state = ChunkState::Size;
                }
                ChunkState::TrailerStart => {
                    self.state = if byte == b'\r' {
                        ChunkState::FinalLf
                    } else {
                        ChunkState::TrailerLine
                    };
                }
                ChunkState::TrailerLine => {
                    if byte == b'\r' {
                        self.state = ChunkState::TrailerLf;
                    }
                }
                ChunkState::TrailerLf => {
                    if byte != b'\n' {
                        return Err("expected LF in trailer".into());
                    }
                    self.state = ChunkState::TrailerStart;
                }
                ChunkState::FinalLf => {
                    if byte != b'\n' {
                        return Err("expected LF after the last chunk".into());
                    }
                    return Ok((i + 1, true));
                }
            }
            i += 1;
        }
        Ok((i, false))
    }
}

/// The exact bytes Node writes for a request it refuses by default.
pub fn default_refusal(bad: &BadRequest) -> &'static [u8] {
    match bad {
        BadRequest::Malformed(_) => b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n",
        BadRequest::HeadersTooLarge => b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n",
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
mod tests {
    use super::*;

    /// Feed `input` in pieces of `step` bytes, as a socket would deliver it.
    fn read_in_steps(input: &[u8], step: usize, head_only: bool) -> (Status, usize) {
        let mut reader = RequestReader::new(head_only, true);
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
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 10));
        let (status, _) = read_in_steps(&big, 4096, false);
        assert_eq!(status, Status::Bad(BadRequest::HeadersTooLarge));
    }
}
