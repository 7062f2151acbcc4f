//! TLS record framing (RFC 8446 §5.1, RFC 5246 §6.2): a 5-byte header (the
//! content type, a legacy version, a 16-bit length), then the fragment.
//!
//! [`read`] looks at the front of some bytes and answers as httparse does:
//! [`Read::Partial`] (feed more), [`Read::Complete`] with the record
//! borrowed from the input and how many bytes it took, or
//! [`Read::Malformed`] with why. It decides as early as it can: the first
//! byte alone tells a TLS record from an HTTP request, and the header
//! alone tells a record that is too long, so a hostile or confused peer is
//! refused before it has sent (or made hangup hold) a large fragment.
//!
//! The length bound depends on what the record carries ([`Protection`]):
//! 2^14 bytes of plaintext (RFC 8446 §5.1, RFC 5246 §6.2.1), and for a
//! protected record the ciphertext's expansion on top: 256 bytes in TLS
//! 1.3 (§5.2), 2048 in TLS 1.2 (RFC 5246 §6.2.3). One bound per
//! protection, the larger of the two versions', so that one reader serves
//! both before anyone knows which version a connection speaks.

use std::fmt;

/// Bytes of a record's header: type, version, length.
pub const HEADER_LEN: usize = 5;

/// The most fragment bytes a plaintext record may carry: 2^14.
pub const MAX_PLAINTEXT: usize = 1 << 14;

/// The most fragment bytes a protected record may carry: 2^14 + 2048, TLS
/// 1.2's bound (TLS 1.3's, 2^14 + 256, is within it).
pub const MAX_CIPHERTEXT: usize = (1 << 14) + 2048;

/// What a record carries (RFC 8446 §5.1's `ContentType`; 24, heartbeat, is
/// RFC 6520's and unknown here on purpose: no ClientHello comes in one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// 20: TLS 1.2's key change, and TLS 1.3's middlebox-compatibility dummy.
    ChangeCipherSpec,
    /// 21: a two-byte alert (see [`super::alert`]).
    Alert,
    /// 22: handshake messages, which may be cut across records.
    Handshake,
    /// 23: application data (and every TLS 1.3 record once encrypted).
    ApplicationData,
}

impl ContentType {
    /// The type a record's first byte names, if it names one.
    pub fn from_byte(byte: u8) -> Option<ContentType> {
        Some(match byte {
            20 => ContentType::ChangeCipherSpec,
            21 => ContentType::Alert,
            22 => ContentType::Handshake,
            23 => ContentType::ApplicationData,
            _ => return None,
        })
    }

    /// Its byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
        }
    }

    /// Its name in the RFC, for messages.
    pub fn name(self) -> &'static str {
        match self {
            ContentType::ChangeCipherSpec => "change_cipher_spec",
            ContentType::Alert => "alert",
            ContentType::Handshake => "handshake",
            ContentType::ApplicationData => "application_data",
        }
    }
}

/// Whether a record's fragment is plaintext or protected: this sets how
/// long it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Before keys are agreed: at most [`MAX_PLAINTEXT`] bytes.
    Plaintext,
    /// Encrypted: at most [`MAX_CIPHERTEXT`] bytes.
    Ciphertext,
}

impl Protection {
    /// The most fragment bytes a record of this protection may carry.
    pub fn limit(self) -> usize {
        match self {
            Protection::Plaintext => MAX_PLAINTEXT,
            Protection::Ciphertext => MAX_CIPHERTEXT,
        }
    }
}

/// One record, borrowed from the input it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// What it carries.
    pub content_type: ContentType,
    /// Its `legacy_record_version`, which RFC 8446 says to ignore (0x0301
    /// in a first ClientHello, 0x0303 after).
    pub version: u16,
    /// Its payload, `length` bytes.
    pub fragment: &'a [u8],
}

/// What the front of some bytes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read<'a> {
    /// Not a whole record yet, and nothing wrong so far: feed more.
    Partial,
    /// A whole record, the first `consumed` bytes of the input.
    Complete {
        /// The record.
        record: Record<'a>,
        /// Its header and fragment: drop them from the input.
        consumed: usize,
    },
    /// Not a TLS record, or one TLS forbids.
    Malformed(Malformed),
}

/// Why bytes are no acceptable TLS record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The first byte names no content type: not TLS at all.
    NotTls {
        /// The byte.
        first: u8,
    },
    /// An SSL 2.0 record header (RFC 5246 Appendix E.2): the high bit of
    /// the first byte set, then a length and message type 1
    /// (CLIENT-HELLO). No client on a current system sends one.
    Ssl2,
    /// The major version is not 3 (every SSL 3.0 and TLS version is 3.x).
    Version {
        /// The record's version field.
        version: u16,
    },
    /// Longer than its protection allows.
    TooLong {
        /// The length the header gives.
        length: usize,
        /// The most allowed.
        limit: usize,
    },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Malformed::NotTls { first } => {
                write!(f, "not a TLS record: its first byte, 0x{first:02x}")?;
                if first.is_ascii_graphic() {
                    write!(f, " ('{}')", first as char)?;
                }
                write!(f, ", is no content type (20 to 23)")?;
                if first.is_ascii_uppercase() {
                    // GET, POST, PUT, HEAD, OPTIONS, PRI (HTTP/2's preface)...
                    write!(f, "; it looks like plaintext HTTP sent to a TLS port")?;
                }
                Ok(())
            }
            Malformed::Ssl2 => write!(
                f,
                "an SSL 2.0 ClientHello (RFC 5246 Appendix E.2), which no TLS 1.2 or 1.3 server accepts"
            ),
            Malformed::Version { version } => write!(
                f,
                "a record of version 0x{version:04x}: TLS and SSL 3.0 records are all 0x03xx"
            ),
            Malformed::TooLong { length, limit } => write!(
                f,
                "a record of {length} bytes, over the limit of {limit} (RFC 8446 §5.1: record_overflow)"
            ),
        }
    }
}

/// The record at the front of `input`, if it is all there (see the
/// module's doc).
pub fn read(input: &[u8], protection: Protection) -> Read<'_> {
    let Some(&first) = input.first() else {
        return Read::Partial;
    };
    let Some(content_type) = ContentType::from_byte(first) else {
        // SSL 2.0: a 2-byte length with the high bit set, then type 1.
        if first & 0x80 != 0 && input.get(2).is_none_or(|&kind| kind == 1) {
            return match input.get(2) {
                Some(_) => Read::Malformed(Malformed::Ssl2),
                None => Read::Partial,
            };
        }
        return Read::Malformed(Malformed::NotTls { first });
    };
    if let Some(&major) = input.get(1)
        && major != 3
    {
        let minor = input.get(2).copied().unwrap_or(0);
        return Read::Malformed(Malformed::Version {
            version: u16::from_be_bytes([major, minor]),
        });
    }
    let Some(header) = input.get(..HEADER_LEN) else {
        return Read::Partial;
    };
    let version = u16::from_be_bytes([header[1], header[2]]);
    let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let limit = protection.limit();
    if length > limit {
        return Read::Malformed(Malformed::TooLong { length, limit });
    }
    match input.get(HEADER_LEN..HEADER_LEN + length) {
        Some(fragment) => Read::Complete {
            record: Record {
                content_type,
                version,
                fragment,
            },
            consumed: HEADER_LEN + length,
        },
        None => Read::Partial,
    }
}

/// The bytes of a record of `content_type` carrying `fragment`, with
/// version 0x0303; for tests, and for the alert record.
pub fn frame(content_type: ContentType, fragment: &[u8]) -> Vec<u8> {
    let length = u16::try_from(fragment.len()).expect("a fragment fits a record's length");
    let mut out = Vec::with_capacity(HEADER_LEN + fragment.len());
    out.push(content_type.byte());
    out.extend_from_slice(&[0x03, 0x03]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_record_is_borrowed_and_its_bytes_counted() {
        let bytes = [22, 3, 1, 0, 3, 1, 2, 3, 0xff];
        let Read::Complete { record, consumed } = read(&bytes, Protection::Plaintext) else {
            panic!("{:?}", read(&bytes, Protection::Plaintext));
        };
        assert_eq!(consumed, 8);
        assert_eq!(record.content_type, ContentType::Handshake);
        assert_eq!(record.version, 0x0301);
        assert_eq!(record.fragment, [1, 2, 3]);
    }

    #[test]
    fn every_prefix_of_a_record_is_partial() {
        let bytes = frame(ContentType::Handshake, &[7; 40]);
        for end in 0..bytes.len() {
            assert_eq!(read(&bytes[..end], Protection::Plaintext), Read::Partial, "{end}");
        }
        assert!(matches!(
            read(&bytes, Protection::Plaintext),
            Read::Complete { consumed: 45, .. }
        ));
    }

    #[test]
    fn http_is_refused_at_its_first_byte() {
        let why = read(b"G", Protection::Plaintext);
        assert_eq!(why, Read::Malformed(Malformed::NotTls { first: b'G' }));
        let Read::Malformed(why) = why else { unreachable!() };
        assert_eq!(
            why.to_string(),
            "not a TLS record: its first byte, 0x47 ('G'), is no content type (20 to 23); \
             it looks like plaintext HTTP sent to a TLS port"
        );
        assert_eq!(
            read(b"\x00\x00", Protection::Plaintext),
            Read::Malformed(Malformed::NotTls { first: 0 })
        );
    }

    #[test]
    fn the_length_bound_follows_the_protection() {
        let header = |length: u16| {
            let mut h = vec![23, 3, 3];
            h.extend_from_slice(&length.to_be_bytes());
            h
        };
        // Refused on the header alone: nothing of the fragment is awaited.
        assert_eq!(
            read(&header(16385), Protection::Plaintext),
            Read::Malformed(Malformed::TooLong {
                length: 16385,
                limit: 16384
            })
        );
        assert_eq!(read(&header(16384), Protection::Plaintext), Read::Partial);
        assert_eq!(read(&header(18432), Protection::Ciphertext), Read::Partial);
        assert!(matches!(
            read(&header(18433), Protection::Ciphertext),
            Read::Malformed(Malformed::TooLong { limit: 18432, .. })
        ));
    }

    #[test]
    fn versions_other_than_3_x_and_ssl2_are_named() {
        assert_eq!(
            read(&[22, 2], Protection::Plaintext),
            Read::Malformed(Malformed::Version { version: 0x0200 })
        );
        // SSLv2's CLIENT-HELLO: 0x80 0x2e, then message type 1.
        assert_eq!(read(&[0x80], Protection::Plaintext), Read::Partial);
        assert_eq!(
            read(&[0x80, 0x2e, 1, 3, 1], Protection::Plaintext),
            Read::Malformed(Malformed::Ssl2)
        );
        assert_eq!(
            read(&[0x80, 0x2e, 2], Protection::Plaintext),
            Read::Malformed(Malformed::NotTls { first: 0x80 })
        );
    }

    #[test]
    fn content_types_round_trip() {
        for byte in 0..=255u8 {
            if let Some(kind) = ContentType::from_byte(byte) {
                assert_eq!(kind.byte(), byte);
            }
        }
    }
}
