//! What the probe sends: the target, the request bytes, and the plan.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::scenario::ast::{Payload, Piece};

/// Everything a probe connection needs to know; shared by all of them.
#[derive(Debug, Clone)]
pub struct Plan {
    pub addr: SocketAddr,
    /// The target as the user wrote it.
    pub target: String,
    pub request: Payload,
    /// The first line of the request (or of `--raw` bytes), for reports.
    pub request_line: String,
    /// A HEAD request's response has no body whatever it declares.
    pub head_request: bool,
    /// Requests one after another on the connection.
    pub requests: usize,
    /// Pause between a response and the next request.
    pub gap: Duration,
    /// How long a connect or a request may take before `timeout`.
    pub timeout: Duration,
    /// How long to watch the connection after the last response.
    pub linger: Duration,
    /// `--raw`: the bytes are sent as they are (maybe not HTTP).
    pub raw: bool,
    /// Several requests written at once (`--pipeline N`, or a `--raw`
    /// file of several): each one's first line, whether it is a HEAD, and
    /// its size, in order. Empty for one request at a time.
    pub pipeline: Vec<Pipelined>,
    /// Keep what the server sent, chunk by chunk, for `--record`.
    pub record: bool,
    /// What the connection received is judged as strict clients judge it,
    /// up to this many bytes (beyond them, nothing is judged).
    pub check_bytes: usize,
}

/// One of several requests written at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipelined {
    pub line: String,
    pub head: bool,
    pub bytes: u64,
}

/// The requests a `--raw` file holds, when it holds several whole ones
/// (the bytes after the last whole request belong to it).
pub fn split_requests(bytes: &[u8]) -> Vec<Pipelined> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let mut reader = crate::http::RequestReader::whole(crate::http::Headers::Skip);
        let fed = reader.feed(&bytes[at..]);
        match fed.status {
            crate::http::Status::Complete(info) if fed.consumed > 0 => {
                let first = bytes[at..].split(|&b| b == b'\n').next().unwrap_or_default();
                found.push(Pipelined {
                    line: String::from_utf8_lossy(first).trim_end().to_string(),
                    head: info.method == b"HEAD",
                    bytes: fed.consumed as u64,
                });
                at += fed.consumed;
            }
            _ => break,
        }
    }
    if let Some(last) = found.last_mut() {
        last.bytes += (bytes.len() - at) as u64;
    }
    found
}

/// `http://host:port/path`, `http://[::1]:9000/`, or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub path: String,
    /// The target was a bare port, taken as `127.0.0.1:PORT`.
    pub bare_port: bool,
}

impl Target {
    /// `text` as a target; a bare port (`9000`) is `127.0.0.1:9000`, as
    /// for `serve --listen`.
    pub fn parse(text: &str) -> Result<Target, String> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let port = text
                .parse::<u16>()
                .map_err(|_| format!("{text}: a bare port must be 1 to 65535"))?;
            return Ok(Target {
                host: "127.0.0.1".to_string(),
                port,
                path: "/".to_string(),
                bare_port: true,
            });
        }
        if text.starts_with("https://") {
            return Err(format!("{text}: https is not supported; hangup speaks plain HTTP/1.1"));
        }
        let rest = text.strip_prefix("http://").unwrap_or(text);
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{text}: missing `]` after an IPv6 address"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("{text}: `{p}` is not a port number"))?,
            None => 80,
        };
        if host.is_empty() {
            return Err(format!("{text}: expected http://HOST:PORT/PATH or HOST:PORT"));
        }
        Ok(Target {
            host: host.to_string(),
            port,
            path: path.to_string(),
            bare_port: false,
        })
    }

    pub fn resolve(&self) -> Result<SocketAddr, String> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .next()
            .ok_or_else(|| format!("cannot resolve {}: no address", self.host))
    }

    /// The Host header: the host, with the port unless it is 80.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    None,
    Bytes(Vec<u8>),
    /// This many generated bytes (`u`), never held in memory whole.
    Generated(u64),
}

/// Build `METHOD PATH HTTP/1.1` with Host, the user's headers (bytes as
/// given, UTF-8 or not) and the body framing. Returns the payload and its
/// first line.
pub fn build_request(target: &Target, method: Option<&str>, headers: &[Vec<u8>], body: &Body) -> (Payload, String) {
    let method = method.unwrap_or(if *body == Body::None { "GET" } else { "POST" });
    let line = format!("{method} {} HTTP/1.1", target.path);
    let has = |name: &str| {
        headers.iter().any(|h| {
            h.split(|&b| b == b':')
                .next()
                .is_some_and(|n| n.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
        })
    };
    let mut head = format!("{line}\r\n").into_bytes();
    if !has("host") {
        head.extend_from_slice(format!("Host: {}\r\n", target.host_header()).as_bytes());
    }
    if !has("user-agent") {
        head.extend_from_slice(concat!("User-Agent: hangup/", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes());
    }
    if !has("accept") {
        head.extend_from_slice(b"Accept: */*\r\n");
    }
    for header in headers {
        head.extend_from_slice(header);
        head.extend_from_slice(b"\r\n");
    }
    let body_len = match body {
        Body::None => 0,
        Body::Bytes(b) => b.len() as u64,
        Body::Generated(n) => *n,
    };
    if *body != Body::None && !has("content-length") && !has("transfer-encoding") {
        head.extend_from_slice(format!("Content-Length: {body_len}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let mut pieces = vec![Piece::Bytes(head)];
    match body {
        Body::None => {}
        Body::Bytes(b) => pieces.push(Piece::Bytes(b.clone())),
        Body::Generated(n) => pieces.push(Piece::Repeat {
            pattern: b"u".to_vec(),
            count: *n,
        }),
    }
    (Payload { pieces }, line)
}

/// `--raw` bytes as they are; their first line names them in reports.
pub fn raw_request(bytes: Vec<u8>) -> (Payload, String) {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(first).trim_end().to_string();
    (
        Payload {
            pieces: vec![Piece::Bytes(bytes)],
        },
        line,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:9000/a/b?c").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 9000, "/a/b?c")
        );
        let t = Target::parse("[::1]:8080").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("::1", 8080, "/"));
        assert_eq!(t.host_header(), "[::1]:8080");
        assert_eq!(Target::parse("http://example").unwrap().port, 80);
        assert!(Target::parse("https://x/").is_err());
        assert!(Target::parse("host:port").is_err());
        let t = Target::parse("46593").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.bare_port), ("127.0.0.1", 46593, true));
        assert!(Target::parse("99999").is_err());
    }

    #[test]
    fn request_bytes() {
        let t = Target::parse("127.0.0.1:9000").unwrap();
        let (payload, line) = build_request(&t, None, &[b"X-A: 1".to_vec()], &Body::Generated(3));
        assert_eq!(line, "POST / HTTP/1.1");
        let text = String::from_utf8(payload.to_vec()).unwrap();
        assert!(
            text.starts_with("POST / HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"),
            "{text}"
        );
        assert!(text.ends_with("X-A: 1\r\nContent-Length: 3\r\n\r\nuuu"), "{text}");
    }
}
