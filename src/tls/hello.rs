//! The ClientHello (RFC 8446 §4.1.2), parsed from its handshake body.
//!
//! ```text
//! legacy_version u16, random [32], legacy_session_id <0..32>,
//! cipher_suites <2..2^16-2>, legacy_compression_methods <1..2^8-1>,
//! extensions <8..2^16-1>   (absent in an old TLS 1.2 or earlier hello)
//! ```
//!
//! Every length is checked against what is left before it is believed, so
//! no input can make the parser read out of bounds, panic or allocate
//! more than the input's own size. Of the extensions, three are read,
//! those a log line and a scenario care about: `server_name` (RFC 6066
//! §3, the SNI's `host_name`), `application_layer_protocol_negotiation`
//! (RFC 7301) and `supported_versions` (RFC 8446 §4.2.1). The others are
//! only listed by type. Each of the three is checked as strictly as its
//! RFC says, as a server's parser must be: a hello hangup calls good is
//! one a real server would read the same way.
//!
//! GREASE values (RFC 8701: 0x0a0a, 0x1a1a … 0xfafa), which browsers put
//! among their versions and suites so that servers learn to ignore the
//! unknown, are kept as sent; [`is_grease`] tells them, and the log
//! leaves them out.

use std::fmt;

/// `server_name` (RFC 6066 §3).
const SERVER_NAME: u16 = 0;
/// `application_layer_protocol_negotiation` (RFC 7301).
const ALPN: u16 = 16;
/// `supported_versions` (RFC 8446 §4.2.1).
const SUPPORTED_VERSIONS: u16 = 43;
/// TLS 1.3 in `supported_versions`.
pub const TLS13: u16 = 0x0304;

/// What a client offered in its ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version`: 0x0303 from any TLS 1.3 client, which says its
    /// versions in `supported_versions` instead.
    pub legacy_version: u16,
    /// The 32 random bytes.
    pub random: [u8; 32],
    /// `legacy_session_id`: up to 32 bytes; TLS 1.3 clients send 32
    /// random ones for middlebox compatibility.
    pub session_id: Vec<u8>,
    /// The cipher suites offered, in the client's order of preference.
    pub cipher_suites: Vec<u16>,
    /// `legacy_compression_methods`; a TLS 1.3 client sends only 0 (null).
    pub compression_methods: Vec<u8>,
    /// The types of its extensions, in the order sent.
    pub extensions: Vec<u16>,
    /// The SNI's `host_name`, as sent (RFC 6066 says ASCII, without a
    /// trailing dot; the bytes are kept whatever they are).
    pub server_name: Option<Vec<u8>>,
    /// The ALPN protocols offered, in order (`h2`, `http/1.1`); empty
    /// without the extension.
    pub alpn: Vec<Vec<u8>>,
    /// `supported_versions`, in order; empty without the extension.
    pub supported_versions: Vec<u16>,
}

impl ClientHello {
    /// The versions offered: `supported_versions` when sent, else the one
    /// `legacy_version` names (a client before TLS 1.3 offers every
    /// version up to it, but says only the highest).
    pub fn versions(&self) -> Vec<u16> {
        if self.supported_versions.is_empty() {
            vec![self.legacy_version]
        } else {
            self.supported_versions.clone()
        }
    }

    /// Whether the client offers TLS 1.3, which it can only do in
    /// `supported_versions`.
    pub fn offers_tls13(&self) -> bool {
        self.supported_versions.contains(&TLS13)
    }

    /// The versions offered as a log says them, GREASE left out:
    /// `1.3,1.2`.
    pub fn versions_text(&self) -> String {
        let names: Vec<String> = self
            .versions()
            .into_iter()
            .filter(|v| !is_grease(*v))
            .map(version_name)
            .collect();
        names.join(",")
    }

    /// The ALPN protocols as a log says them: `h2,http/1.1`; `None`
    /// without the extension.
    pub fn alpn_text(&self) -> Option<String> {
        let names: Vec<String> = self
            .alpn
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        (!names.is_empty()).then(|| names.join(","))
    }
}

/// A version as people say it: `1.3`, `1.2`, `1.1`, `1.0`, `ssl3`;
/// others (a draft's 0x7f1c) in hex.
pub fn version_name(version: u16) -> String {
    match version {
        0x0304 => "1.3".into(),
        0x0303 => "1.2".into(),
        0x0302 => "1.1".into(),
        0x0301 => "1.0".into(),
        0x0300 => "ssl3".into(),
        other => format!("0x{other:04x}"),
    }
}

/// Whether `value` is a GREASE value (RFC 8701): both bytes equal, each
/// 0x?a.
pub fn is_grease(value: u16) -> bool {
    let [high, low] = value.to_be_bytes();
    high == low && low & 0x0f == 0x0a
}

/// Why a ClientHello's body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// The body ended inside this field.
    Truncated(&'static str),
    /// A list's length is not a whole number of its items.
    Uneven {
        /// The list.
        field: &'static str,
        /// Its length in bytes.
        length: usize,
        /// The size of one item.
        item: usize,
    },
    /// A field's length is outside what the RFC allows.
    Length {
        /// The field.
        field: &'static str,
        /// Its length.
        length: usize,
        /// The fewest bytes allowed.
        min: usize,
        /// The most.
        max: usize,
    },
    /// Bytes left over after this field, which should have been the last
    /// of what encloses it.
    Trailing {
        /// The last field read.
        after: &'static str,
        /// How many bytes are left over.
        bytes: usize,
    },
    /// Two extensions of one type (RFC 8446 §4.2 forbids it).
    DuplicateExtension(u16),
    /// Two `host_name`s in `server_name` (RFC 6066 §3 forbids it).
    TwoHostNames,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Truncated(field) => write!(f, "the ClientHello ends inside its {field}"),
            Malformed::Uneven { field, length, item } => {
                write!(
                    f,
                    "its {field} are {length} bytes, not a whole number of {item}-byte items"
                )
            }
            Malformed::Length {
                field,
                length,
                min,
                max,
            } => write!(f, "its {field} is {length} bytes long; it must be {min} to {max}"),
            Malformed::Trailing { after, bytes } => {
                write!(f, "{bytes} bytes left over after its {after}")
            }
            Malformed::DuplicateExtension(kind) => {
                write!(f, "extension {kind} appears twice (RFC 8446 §4.2 forbids it)")
            }
            Malformed::TwoHostNames => write!(f, "server_name holds two host names (RFC 6066 §3 forbids it)"),
        }
    }
}

/// A cursor over bytes whose every read is checked.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], Malformed> {
        if n > self.rest.len() {
            return Err(Malformed::Truncated(field));
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, Malformed> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, Malformed> {
        let bytes = self.take(2, field)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    /// A vector with a one-byte length, of `min..=max` bytes.
    fn vec8(&mut self, field: &'static str, min: usize, max: usize) -> Result<&'a [u8], Malformed> {
        let length = usize::from(self.u8(field)?);
        check_length(field, length, min, max)?;
        self.take(length, field)
    }

    /// A vector with a two-byte length, of `min..=max` bytes.
    fn vec16(&mut self, field: &'static str, min: usize, max: usize) -> Result<&'a [u8], Malformed> {
        let length = usize::from(self.u16(field)?);
        check_length(field, length, min, max)?;
        self.take(length, field)
    }

    /// Nothing may follow `after`.
    fn end(&self, after: &'static str) -> Result<(), Malformed> {
        match self.rest.len() {
            0 => Ok(()),
            bytes => Err(Malformed::Trailing { after, bytes }),
        }
    }
}

fn check_length(field: &'static str, length: usize, min: usize, max: usize) -> Result<(), Malformed> {
    if (min..=max).contains(&length) {
        Ok(())
    } else {
        Err(Malformed::Length {
            field,
            length,
            min,
            max,
        })
    }
}

/// A list of 16-bit values.
fn u16s(field: &'static str, bytes: &[u8]) -> Result<Vec<u16>, Malformed> {
    if !bytes.len().is_multiple_of(2) {
        return Err(Malformed::Uneven {
            field,
            length: bytes.len(),
            item: 2,
        });
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect())
}

/// Parse a ClientHello from `body`, the handshake message's bytes after
/// its 4-byte header.
pub fn parse(body: &[u8]) -> Result<ClientHello, Malformed> {
    let mut at = Cursor { rest: body };
    let legacy_version = at.u16("legacy_version")?;
    let mut random = [0; 32];
    random.copy_from_slice(at.take(32, "random")?);
    let session_id = at.vec8("legacy_session_id", 0, 32)?.to_vec();
    let cipher_suites = u16s("cipher_suites", at.vec16("cipher_suites", 2, 0xfffe)?)?;
    let compression_methods = at.vec8("legacy_compression_methods", 1, 0xff)?.to_vec();
    let mut hello = ClientHello {
        legacy_version,
        random,
        session_id,
        cipher_suites,
        compression_methods,
        extensions: Vec::new(),
        server_name: None,
        alpn: Vec::new(),
        supported_versions: Vec::new(),
    };
    // A hello from before extensions (SSL 3.0, some TLS 1.0 clients) ends here.
    if at.rest.is_empty() {
        return Ok(hello);
    }
    // <8..2^16-1> in RFC 8446, whose hellos always carry some; 0 is allowed
    // for the TLS 1.2 hellos that send the length and no extension.
    let mut extensions = Cursor {
        rest: at.vec16("extensions", 0, 0xffff)?,
    };
    at.end("extensions")?;
    while !extensions.rest.is_empty() {
        let kind = extensions.u16("extension type")?;
        let data = extensions.vec16("extension data", 0, 0xffff)?;
        if hello.extensions.contains(&kind) {
            return Err(Malformed::DuplicateExtension(kind));
        }
        hello.extensions.push(kind);
        match kind {
            SERVER_NAME => hello.server_name = server_name(data)?,
            ALPN => hello.alpn = alpn(data)?,
            SUPPORTED_VERSIONS => hello.supported_versions = supported_versions(data)?,
            _ => {}
        }
    }
    Ok(hello)
}

/// `server_name`'s `ServerNameList`: the `host_name` (type 0) if there is
/// one. Other name types (none is defined) are skipped, as RFC 6066 asks.
/// A client may send the extension empty; only a server does by rule, but
/// a parser that refused it would refuse nothing worth refusing.
fn server_name(data: &[u8]) -> Result<Option<Vec<u8>>, Malformed> {
    if data.is_empty() {
        return Ok(None);
    }
    let mut outer = Cursor { rest: data };
    let mut list = Cursor {
        rest: outer.vec16("server_name list", 1, 0xffff)?,
    };
    outer.end("server_name list")?;
    let mut host = None;
    while !list.rest.is_empty() {
        let name_type = list.u8("server_name type")?;
        let name = list.vec16("server_name host_name", 1, 0xffff)?;
        if name_type == 0 {
            if host.is_some() {
                return Err(Malformed::TwoHostNames);
            }
            host = Some(name.to_vec());
        }
    }
    Ok(host)
}

/// ALPN's `ProtocolNameList`: names of 1 to 255 bytes.
fn alpn(data: &[u8]) -> Result<Vec<Vec<u8>>, Malformed> {
    let mut outer = Cursor { rest: data };
    let mut list = Cursor {
        rest: outer.vec16("ALPN protocol list", 2, 0xffff)?,
    };
    outer.end("ALPN protocol list")?;
    let mut protocols = Vec::new();
    while !list.rest.is_empty() {
        protocols.push(list.vec8("ALPN protocol name", 1, 0xff)?.to_vec());
    }
    Ok(protocols)
}

/// `supported_versions` in a ClientHello: 1 to 127 versions.
fn supported_versions(data: &[u8]) -> Result<Vec<u16>, Malformed> {
    let mut outer = Cursor { rest: data };
    let versions = u16s("supported_versions", outer.vec8("supported_versions", 2, 254)?)?;
    outer.end("supported_versions")?;
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::fixture;
    use crate::tls::record::HEADER_LEN;

    /// The body of a fixture's ClientHello: after the record's header and
    /// the handshake's (each fixture is one record).
    fn body(name: &str) -> Vec<u8> {
        fixture(name)[HEADER_LEN + 4..].to_vec()
    }

    /// A ClientHello body with these extensions `(type, data)`.
    fn with_extensions(extensions: &[(u16, &[u8])]) -> Vec<u8> {
        let mut block = Vec::new();
        for (kind, data) in extensions {
            block.extend_from_slice(&kind.to_be_bytes());
            block.extend_from_slice(&(data.len() as u16).to_be_bytes());
            block.extend_from_slice(data);
        }
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x11; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&(block.len() as u16).to_be_bytes());
        body.extend_from_slice(&block);
        body
    }

    #[test]
    fn curl_offers_localhost_h2_and_four_versions() {
        let hello = parse(&body("curl")).unwrap();
        assert_eq!(hello.legacy_version, 0x0303);
        assert_eq!(hello.server_name.as_deref(), Some(&b"localhost"[..]));
        assert_eq!(hello.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(hello.supported_versions, [0x0304, 0x0303, 0x0302, 0x0301]);
        assert_eq!(hello.session_id.len(), 32);
        assert_eq!(hello.cipher_suites.len(), 31);
        assert_eq!(hello.compression_methods, [0]);
        assert_eq!(hello.extensions, [0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21]);
        assert!(hello.offers_tls13());
    }

    #[test]
    fn each_client_says_what_it_offers() {
        let python = parse(&body("python")).unwrap();
        assert_eq!(python.server_name.as_deref(), Some(&b"example.test"[..]));
        assert!(python.alpn.is_empty());
        assert_eq!(python.versions(), [0x0304, 0x0303]);
        let node = parse(&body("node")).unwrap();
        assert_eq!(node.server_name.as_deref(), Some(&b"localhost"[..]));
        assert_eq!(node.cipher_suites.len(), 59);
        let alpn = parse(&body("openssl-alpn")).unwrap();
        assert_eq!(alpn.server_name.as_deref(), Some(&b"a.example"[..]));
        assert_eq!(alpn.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
    }

    #[test]
    fn a_tls12_hello_says_its_version_in_legacy_version() {
        let hello = parse(&body("openssl-tls12")).unwrap();
        assert_eq!(hello.server_name, None);
        assert!(hello.supported_versions.is_empty());
        assert_eq!(hello.versions(), [0x0303]);
        assert!(!hello.offers_tls13());
        assert!(hello.session_id.is_empty());
    }

    #[test]
    fn a_hello_without_extensions_is_read() {
        let mut body = vec![3, 1];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 2, 0, 0x2f, 1, 0]);
        let hello = parse(&body).unwrap();
        assert_eq!(hello.versions(), [0x0301]);
        assert_eq!(hello.cipher_suites, [0x002f]);
        assert!(hello.extensions.is_empty());
    }

    #[test]
    fn a_real_hello_cut_short_is_an_error_or_a_hello_without_extensions() {
        for name in ["curl", "python", "node", "openssl-alpn", "openssl-tls12"] {
            let body = body(name);
            let mut read = 0;
            for end in 0..body.len() {
                // Cut right after the compression methods, it is a hello
                // from before extensions, which is fine; anywhere else, not.
                if let Ok(hello) = parse(&body[..end]) {
                    assert_eq!(hello.extensions, Vec::<u16>::new(), "{name} at {end}");
                    read += 1;
                }
            }
            assert_eq!(read, 1, "{name}");
        }
    }

    #[test]
    fn lengths_are_checked_and_named() {
        let mut body = body("curl");
        // legacy_session_id of 33 bytes.
        body[34] = 33;
        assert_eq!(
            parse(&body).unwrap_err().to_string(),
            "its legacy_session_id is 33 bytes long; it must be 0 to 32"
        );
        let mut odd = vec![3, 3];
        odd.extend_from_slice(&[0; 32]);
        odd.extend_from_slice(&[0, 0, 3, 0, 1, 2, 1, 0]);
        assert_eq!(
            parse(&odd).unwrap_err(),
            Malformed::Uneven {
                field: "cipher_suites",
                length: 3,
                item: 2
            }
        );
        let mut trailing = with_extensions(&[]);
        trailing.push(0);
        assert_eq!(
            parse(&trailing).unwrap_err().to_string(),
            "1 bytes left over after its extensions"
        );
    }

    #[test]
    fn extensions_are_checked_as_their_rfcs_say() {
        let sni = |name: &[u8]| {
            let mut entry = vec![0];
            entry.extend_from_slice(&(name.len() as u16).to_be_bytes());
            entry.extend_from_slice(name);
            entry
        };
        let list = |entries: &[u8]| {
            let mut data = (entries.len() as u16).to_be_bytes().to_vec();
            data.extend_from_slice(entries);
            data
        };
        let one = list(&sni(b"a.test"));
        let hello = parse(&with_extensions(&[(SERVER_NAME, &one)])).unwrap();
        assert_eq!(hello.server_name.as_deref(), Some(&b"a.test"[..]));
        let two = list(&[sni(b"a.test"), sni(b"b.test")].concat());
        assert_eq!(
            parse(&with_extensions(&[(SERVER_NAME, &two)])),
            Err(Malformed::TwoHostNames)
        );
        assert_eq!(
            parse(&with_extensions(&[(SERVER_NAME, &one), (SERVER_NAME, &one)])),
            Err(Malformed::DuplicateExtension(0))
        );
        // An empty ALPN name, and a list length that overruns.
        assert_eq!(
            parse(&with_extensions(&[(ALPN, &[0, 1, 0])])).unwrap_err().to_string(),
            "its ALPN protocol list is 1 bytes long; it must be 2 to 65535"
        );
        assert_eq!(
            parse(&with_extensions(&[(ALPN, &[0, 2, 0, 0])]))
                .unwrap_err()
                .to_string(),
            "its ALPN protocol name is 0 bytes long; it must be 1 to 255"
        );
        assert_eq!(
            parse(&with_extensions(&[(ALPN, &[0, 9, 2, b'h', b'2'])])),
            Err(Malformed::Truncated("ALPN protocol list"))
        );
        assert_eq!(
            parse(&with_extensions(&[(SUPPORTED_VERSIONS, &[3, 3, 4, 3])])),
            Err(Malformed::Uneven {
                field: "supported_versions",
                length: 3,
                item: 2
            })
        );
        let versions = parse(&with_extensions(&[(SUPPORTED_VERSIONS, &[4, 0x7a, 0x7a, 3, 4])])).unwrap();
        assert_eq!(versions.versions(), [0x7a7a, 0x0304]);
        assert!(versions.offers_tls13());
    }

    #[test]
    fn what_the_log_says() {
        let curl = parse(&body("curl")).unwrap();
        assert_eq!(curl.versions_text(), "1.3,1.2,1.1,1.0");
        assert_eq!(curl.alpn_text().as_deref(), Some("h2,http/1.1"));
        let old = parse(&body("openssl-tls12")).unwrap();
        assert_eq!((old.versions_text().as_str(), old.alpn_text()), ("1.2", None));
        let greased = parse(&with_extensions(&[(SUPPORTED_VERSIONS, &[4, 0x3a, 0x3a, 3, 4])])).unwrap();
        assert_eq!(greased.versions_text(), "1.3");
    }

    #[test]
    fn grease_and_version_names() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x7a7a));
        assert!(!is_grease(0x0304) && !is_grease(0x0a1a) && !is_grease(0x0b0b));
        let names: Vec<String> = [0x0304, 0x0303, 0x0302, 0x0301, 0x0300, 0x7f1c]
            .into_iter()
            .map(version_name)
            .collect();
        assert_eq!(names, ["1.3", "1.2", "1.1", "1.0", "ssl3", "0x7f1c"]);
    }
}
