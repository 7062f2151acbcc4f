//! The probe's target: what the user typed, read as curl reads a URL
//! wherever that is safe, and refused wherever it could dial a host the
//! user did not clearly name.
//!
//! The surprise this guards against: the system's resolver reads a host
//! of digits as an IPv4 address in a form few expect, so `9000/big` (a
//! port and a path) went to 0.0.35.40:80, off the machine, without a word.
//! curl does the same. Here:
//!
//! | typed | means |
//! |---|---|
//! | `9000`, `9000/big`, `9000?q` | `127.0.0.1:9000` (a bare port is this machine, as for `serve --listen`) |
//! | `HOST`, `HOST:PORT/PATH`, `http://…` | the scheme in any case; port 80 when none is given |
//! | `https://…` | TLS; port 443 when none is given |
//! | `[::1]:9000/x` | IPv6 in brackets |
//! | `…?q` | the path `/?q`; a `#fragment` is not sent (as curl) |
//!
//! and a usage error, never a connection, for: a host that ends in a
//! number but is not four decimal numbers (`http://9000`, `127.1`,
//! `1.2.3`, `0x7f000001`: each some resolver's IPv4 address); an address
//! in 0.0.0.0/8 or `[::]` (where servers listen, not a host); port 0, over
//! 65535, empty or not a number; no host (`:9000`); an IPv6 address out of
//! brackets or followed by anything but `:PORT`; `user:password@`; and any
//! scheme but `http://` and `https://`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// How the target is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP/1.1 (`http://`, or no scheme).
    Http,
    /// HTTP/1.1 over TLS (`https://`).
    Https,
}

impl Scheme {
    /// The port a URL of this scheme means when it names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// `http://host:port/path`, `http://[::1]:9000/`, `host:port` or a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    /// The request target: `/`, `/a?b`.
    pub path: String,
    /// The target was a bare port (and maybe a path), taken as
    /// `127.0.0.1:PORT`.
    pub bare_port: bool,
}

impl Target {
    /// `text` as a target, or why it is refused (starting with `text`).
    pub fn parse(text: &str) -> Result<Target, String> {
        parse(text).map_err(|why| format!("{text}: {why}"))
    }

    /// The address to connect to: the host's first, for a name.
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .next()
            .ok_or_else(|| format!("cannot resolve {}: no address", self.host))
    }

    /// Whether the host is an address as typed, not a name to resolve.
    pub fn is_address(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    /// The Host header: the host, with the port unless it is the
    /// scheme's (80, or 443 for https).
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn parse(text: &str) -> Result<Target, String> {
    let (scheme, rest) = match scheme(text) {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, text),
    };
    let has_scheme = scheme.is_some();
    let scheme = match scheme {
        None => Scheme::Http,
        Some(s) if s.eq_ignore_ascii_case("http") => Scheme::Http,
        Some(s) if s.eq_ignore_ascii_case("https") => Scheme::Https,
        Some(s) => {
            return Err(format!(
                "{s}:// is not supported; the target is an http:// or https:// URL"
            ));
        }
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let path = request_path(tail);
    if !has_scheme && !authority.is_empty() && authority.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Target {
            scheme,
            host: "127.0.0.1".into(),
            port: port(authority).map_err(|_| "a bare port must be 1 to 65535".to_string())?,
            path,
            bare_port: true,
        });
    }
    if authority.contains('@') {
        return Err(
            "a user name or password in the target is not sent; give it as a header: \
                    -H 'Authorization: Basic …'"
                .into(),
        );
    }
    let (host, port_text) = split_host(authority)?;
    if host.is_empty() {
        return Err("no host: expected http://HOST:PORT/PATH, HOST:PORT, or a bare PORT for 127.0.0.1".into());
    }
    let port = match port_text {
        None => scheme.default_port(),
        Some("") => return Err("an empty port after `:`; give one, or leave out the `:` for 80".into()),
        Some(text) => port(text)?,
    };
    check_host(host, port)?;
    Ok(Target {
        scheme,
        host: host.to_string(),
        port,
        path,
        bare_port: false,
    })
}

/// `http` and what follows `http://`, when `text` starts with a scheme.
fn scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    let valid = first.is_ascii_alphabetic() && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    valid.then_some((scheme, rest))
}

/// What follows the authority, as sent: `/` when nothing does, `/?q`
/// for `?q`, and never the `#fragment`.
fn request_path(tail: &str) -> String {
    let tail = tail.split('#').next().unwrap_or_default();
    match tail.as_bytes().first() {
        None => "/".into(),
        Some(b'?') => format!("/{tail}"),
        Some(_) => tail.into(),
    }
}

/// The host and, after its `:`, the port's text.
fn split_host(authority: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("missing `]` after an IPv6 address")?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(format!("`[{host}]` is not an IPv6 address"));
        }
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("`{after}` after `[{host}]`: only `:PORT` may follow")),
            },
        };
    }
    if authority.matches(':').count() > 1 {
        return Err("an IPv6 address goes in brackets: [::1]:9000".into());
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// A port to connect to: 1 to 65535.
fn port(text: &str) -> Result<u16, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a port number"));
    }
    match text.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be connected to; a port is 1 to 65535".into()),
        Ok(port) => Ok(port),
        Err(_) => Err(format!("port {text} is over 65535")),
    }
}

/// Refuse a host the resolver would read as an address other than the one
/// typed, or an address that names no host.
fn check_host(host: &str, port: u16) -> Result<(), String> {
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        if v6.is_unspecified() {
            return Err(format!(
                "[::] is where a server listens on every address, not a host to connect to; \
                 for this machine write [::1]:{port}"
            ));
        }
        return Ok(());
    }
    let last = host
        .strip_suffix('.')
        .unwrap_or(host)
        .rsplit('.')
        .next()
        .unwrap_or_default();
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    let ends_in_number = !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || hex);
    if !ends_in_number {
        return Ok(());
    }
    match host.parse::<Ipv4Addr>() {
        Ok(v4) if v4.is_unspecified() => Err(format!(
            "0.0.0.0 is where a server listens on every address, not a host to connect to; \
             for this machine write 127.0.0.1:{port}"
        )),
        Ok(v4) if v4.octets()[0] == 0 => Err(format!("{v4} is in 0.0.0.0/8, which names no host")),
        Ok(_) => Ok(()),
        Err(_) if host.bytes().all(|b| b.is_ascii_digit()) => {
            let as_address = host
                .parse::<u32>()
                .map_or_else(|_| "no address at all".to_string(), |n| Ipv4Addr::from(n).to_string());
            let hint = match host.parse::<u16>() {
                Ok(p) if p > 0 => format!("; for port {p} on this machine write {p} or 127.0.0.1:{p}"),
                _ => String::new(),
            };
            Err(format!(
                "a host of digits alone is read as a 32-bit address ({host} is {as_address}), \
                 so it is refused{hint}"
            ))
        }
        Err(_) => Err(format!(
            "`{host}` ends in a number but is not four numbers 0-255 with dots; resolvers read such \
             hosts as IPv4 addresses in forms few expect (127.1 is 127.0.0.1), so it is refused: \
             write the address in full"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` read: `(host, port, path)`, or the refusal.
    fn read(text: &str) -> Result<(String, u16, String), String> {
        Target::parse(text).map(|t| (t.host, t.port, t.path))
    }

    #[test]
    fn targets_are_read_as_curl_reads_them_where_that_is_safe() {
        let ok = |host: &str, port, path: &str| Ok((host.to_string(), port, path.to_string()));
        let table = [
            ("http://127.0.0.1:9000/a/b?c", ok("127.0.0.1", 9000, "/a/b?c")),
            ("HTTP://127.0.0.1:9000", ok("127.0.0.1", 9000, "/")),
            ("127.0.0.1:9000?x=1", ok("127.0.0.1", 9000, "/?x=1")),
            ("127.0.0.1:9000/a#frag", ok("127.0.0.1", 9000, "/a")),
            ("[::1]:8080", ok("::1", 8080, "/")),
            ("[::1]:9000/x", ok("::1", 9000, "/x")),
            ("http://[::1]/", ok("::1", 80, "/")),
            ("http://example", ok("example", 80, "/")),
            ("localhost:9000/x", ok("localhost", 9000, "/x")),
            ("1e100.net", ok("1e100.net", 80, "/")),
            ("https://localhost:9443/x", ok("localhost", 9443, "/x")),
            ("HTTPS://example", ok("example", 443, "/")),
            ("https://[::1]/", ok("::1", 443, "/")),
            // A bare port, with or without a path, is this machine.
            ("46593", ok("127.0.0.1", 46593, "/")),
            ("9000/big", ok("127.0.0.1", 9000, "/big")),
            ("9000?q=1", ok("127.0.0.1", 9000, "/?q=1")),
            // A URL's `://` inside the path is no scheme.
            ("127.0.0.1:9000/to?u=http://x", ok("127.0.0.1", 9000, "/to?u=http://x")),
        ];
        for (text, want) in table {
            assert_eq!(read(text), want, "{text}");
        }
        assert!(Target::parse("9000/big").unwrap().bare_port);
        assert!(!Target::parse("127.0.0.1:9000").unwrap().bare_port);
        assert_eq!(Target::parse("https://localhost/").unwrap().scheme, Scheme::Https);
        assert_eq!(Target::parse("localhost:443").unwrap().scheme, Scheme::Http);
    }

    #[test]
    fn spellings_that_could_dial_what_was_not_named_are_refused() {
        let table = [
            (
                "http://9000",
                "a host of digits alone is read as a 32-bit address (9000 is 0.0.35.40)",
            ),
            (
                "http://9000/big",
                "for port 9000 on this machine write 9000 or 127.0.0.1:9000",
            ),
            ("9000:80", "a host of digits alone"),
            ("http://99999999999", "(99999999999 is no address at all)"),
            ("127.1", "ends in a number but is not four numbers"),
            ("1.2.3:80", "ends in a number"),
            ("0x7f000001", "ends in a number"),
            ("010.0.0.1", "ends in a number"),
            ("127.0.0.1.", "ends in a number"),
            ("0.1.2.3", "0.1.2.3 is in 0.0.0.0/8, which names no host"),
            ("0.0.0.0:9000", "for this machine write 127.0.0.1:9000"),
            ("[::]:9000", "for this machine write [::1]:9000"),
            (":9000", "no host"),
            ("http://", "no host"),
            ("http:///x", "no host"),
            ("127.0.0.1:", "an empty port"),
            ("127.0.0.1:0", "port 0 cannot be connected to"),
            ("0", "a bare port must be 1 to 65535"),
            ("99999", "a bare port must be 1 to 65535"),
            ("127.0.0.1:70000", "port 70000 is over 65535"),
            ("host:port", "`port` is not a port number"),
            ("::1", "an IPv6 address goes in brackets"),
            ("::1:9000", "an IPv6 address goes in brackets"),
            ("[::1", "missing `]`"),
            ("[::1]x:80", "`x:80` after `[::1]`: only `:PORT` may follow"),
            ("[example]:80", "`[example]` is not an IPv6 address"),
            ("user:pw@127.0.0.1:9000", "a user name or password"),
            (
                "ftp://127.0.0.1:21/",
                "ftp:// is not supported; the target is an http:// or https:// URL",
            ),
            ("https://9000", "a host of digits alone"),
            ("https://user@localhost/", "a user name or password"),
        ];
        for (text, why) in table {
            match Target::parse(text) {
                Ok(t) => panic!("{text} was read as {t:?}"),
                Err(e) => assert!(e.starts_with(&format!("{text}: ")) && e.contains(why), "{text}: {e}"),
            }
        }
    }

    #[test]
    fn the_host_header_brackets_ipv6_and_leaves_out_the_schemes_port() {
        assert_eq!(Target::parse("[::1]:8080").unwrap().host_header(), "[::1]:8080");
        assert_eq!(Target::parse("http://example/").unwrap().host_header(), "example");
        assert_eq!(Target::parse("9000/x").unwrap().host_header(), "127.0.0.1:9000");
        assert_eq!(Target::parse("https://example/").unwrap().host_header(), "example");
        assert_eq!(
            Target::parse("https://example:80/").unwrap().host_header(),
            "example:80"
        );
        assert_eq!(
            Target::parse("http://example:443/").unwrap().host_header(),
            "example:443"
        );
    }
}
