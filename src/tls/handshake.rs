//! One handshake message, the client's first, put back together from the
//! records it came in, and read as a ClientHello.
//!
//! A handshake message has a 4-byte header (its type, a 24-bit length)
//! and may be cut across any number of handshake records, each carrying
//! at most 2^14 bytes (RFC 8446 §5.1): a ClientHello larger than that
//! must be, and a client or a middlebox may cut a small one too. So the
//! [`HelloReader`] is fed bytes as they arrive, takes whole records only,
//! and copies their fragments into the message until it is whole. It
//! answers as [`crate::http::RequestReader`] does: how many bytes it took,
//! and [`HelloStatus::Partial`], `Complete` or `Bad`.
//!
//! What it holds is bounded: the message at most [`MAX_HELLO`] bytes
//! (refused from its header, before the bytes come), and the input never
//! more than one record it has not taken yet. [`MAX_HELLO`] is 64 KiB, the
//! bound rustls puts on every handshake message (its `MAX_HANDSHAKE_SIZE`,
//! 0xffff): hangup's full TLS will be rustls, so a hello refused here is
//! one it would refuse too, and the same bytes get the same answer with
//! or without `--tls`. Real ones are far smaller: 188 to 517 bytes from
//! curl, python, node and openssl here; a post-quantum key share adds
//! 1,184 bytes (an ML-KEM-768 key). (OpenSSL allows 131,396, the most a
//! ClientHello's own length fields can describe.)
//!
//! A ClientHello must end at a record boundary (RFC 8446 §5.1: it can
//! precede a key change), and nothing else may come between its records,
//! so bytes after it in its last record, or a record of another type
//! before it is whole, are refused.

use std::fmt;

use super::hello::{self, ClientHello};
use super::record::{self, ContentType, Protection, Read};

/// The most bytes a ClientHello's body may have (see the module's doc).
pub const MAX_HELLO: usize = 0xffff;

/// `client_hello`'s handshake type.
const CLIENT_HELLO: u8 = 1;

/// Bytes of a handshake message's header: type, 24-bit length.
const HEADER_LEN: usize = 4;

/// Reads the client's first flight up to the end of its ClientHello.
#[derive(Debug, Default)]
pub struct HelloReader {
    /// The handshake message so far, header included.
    message: Vec<u8>,
    /// Records taken so far.
    records: u32,
}

/// The result of one [`HelloReader::feed`].
#[derive(Debug)]
pub struct Fed {
    /// Bytes of the input taken (whole records): drop them.
    pub consumed: usize,
    /// Where the read stands.
    pub status: HelloStatus,
}

/// Where a read of the ClientHello stands.
#[derive(Debug)]
pub enum HelloStatus {
    /// Feed more.
    Partial,
    /// The ClientHello is whole and read.
    Complete(Box<Hello>),
    /// The client sent something else, and why it is no ClientHello.
    Bad(BadHello),
}

/// A ClientHello read, and how it came.
#[derive(Debug)]
pub struct Hello {
    /// What it offers.
    pub hello: ClientHello,
    /// The records it came in (more than one when it was cut).
    pub records: u32,
    /// Its bytes on the wire: record headers and fragments.
    pub bytes: u64,
}

/// Why the client's first bytes are no ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadHello {
    /// Not a TLS record, or one TLS forbids.
    Record(record::Malformed),
    /// A record of another type where the hello's records belong.
    NotHandshake(ContentType),
    /// A handshake record with no bytes (RFC 8446 §5.1 forbids them).
    EmptyRecord,
    /// A handshake message of another type than `client_hello`.
    NotClientHello(u8),
    /// A ClientHello whose header says it is over [`MAX_HELLO`].
    TooLarge(usize),
    /// Bytes after the ClientHello in its last record.
    TrailingBytes(usize),
    /// Its fields do not read.
    Hello(hello::Malformed),
}

impl fmt::Display for BadHello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadHello::Record(why) => write!(f, "{why}"),
            BadHello::NotHandshake(kind) => write!(
                f,
                "a record of type {} ({}) where the ClientHello's handshake records belong",
                kind.byte(),
                kind.name()
            ),
            BadHello::EmptyRecord => write!(f, "an empty handshake record (RFC 8446 §5.1 forbids them)"),
            BadHello::NotClientHello(kind) => {
                write!(f, "a handshake message of type {kind}, not a ClientHello (type 1)")
            }
            BadHello::TooLarge(length) => write!(
                f,
                "a ClientHello of {length} bytes, over the limit of {MAX_HELLO} (rustls's for any handshake message)"
            ),
            BadHello::TrailingBytes(bytes) => write!(
                f,
                "{bytes} bytes after the ClientHello in its record (RFC 8446 §5.1: it must end a record)"
            ),
            BadHello::Hello(why) => write!(f, "{why}"),
        }
    }
}

impl HelloReader {
    /// A reader that has seen nothing yet.
    pub fn new() -> HelloReader {
        HelloReader::default()
    }

    /// Take the whole records at the front of `input`, up to the end of
    /// the ClientHello; bytes after it are left for whoever reads next.
    pub fn feed(&mut self, input: &[u8]) -> Fed {
        let mut consumed = 0;
        loop {
            let (record, length) = match record::read(&input[consumed..], Protection::Plaintext) {
                Read::Partial => return Fed::partial(consumed),
                Read::Malformed(why) => return Fed::bad(consumed, BadHello::Record(why)),
                Read::Complete { record, consumed } => (record, consumed),
            };
            if record.content_type != ContentType::Handshake {
                return Fed::bad(consumed, BadHello::NotHandshake(record.content_type));
            }
            if record.fragment.is_empty() {
                return Fed::bad(consumed, BadHello::EmptyRecord);
            }
            consumed += length;
            self.records += 1;
            if let Err(bad) = self.take(record.fragment) {
                return Fed::bad(consumed, bad);
            }
            if self.total() != Some(self.message.len()) {
                continue;
            }
            let status = match hello::parse(&self.message[HEADER_LEN..]) {
                Ok(hello) => HelloStatus::Complete(Box::new(Hello {
                    hello,
                    records: self.records,
                    bytes: self.bytes(),
                })),
                Err(why) => HelloStatus::Bad(BadHello::Hello(why)),
            };
            return Fed { consumed, status };
        }
    }

    /// Copy a record's fragment into the message. Its header is checked
    /// as soon as it is in, before the body comes, so that at most
    /// [`MAX_HELLO`] bytes and the header are ever held.
    fn take(&mut self, mut fragment: &[u8]) -> Result<(), BadHello> {
        if self.message.len() < HEADER_LEN {
            let header_part = (HEADER_LEN - self.message.len()).min(fragment.len());
            self.message.extend_from_slice(&fragment[..header_part]);
            fragment = &fragment[header_part..];
            if self.message.len() < HEADER_LEN {
                return Ok(());
            }
            if self.message[0] != CLIENT_HELLO {
                return Err(BadHello::NotClientHello(self.message[0]));
            }
        }
        let total = self.total().unwrap_or(HEADER_LEN);
        if total - HEADER_LEN > MAX_HELLO {
            return Err(BadHello::TooLarge(total - HEADER_LEN));
        }
        let needed = total - self.message.len();
        if fragment.len() > needed {
            return Err(BadHello::TrailingBytes(fragment.len() - needed));
        }
        self.message.extend_from_slice(fragment);
        Ok(())
    }

    /// The whole message's length, header included, once its header is in.
    fn total(&self) -> Option<usize> {
        let header = self.message.get(..HEADER_LEN)?;
        Some(HEADER_LEN + (usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3])))
    }

    /// The bytes taken: each record's header and the message.
    fn bytes(&self) -> u64 {
        u64::from(self.records) * record::HEADER_LEN as u64 + self.message.len() as u64
    }
}

impl Fed {
    fn partial(consumed: usize) -> Fed {
        Fed {
            consumed,
            status: HelloStatus::Partial,
        }
    }

    fn bad(consumed: usize, why: BadHello) -> Fed {
        Fed {
            consumed,
            status: HelloStatus::Bad(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::fixture;
    use crate::tls::record::frame;
    use proptest::prelude::*;

    /// The handshake message inside a one-record fixture.
    fn message(name: &str) -> Vec<u8> {
        fixture(name)[record::HEADER_LEN..].to_vec()
    }

    /// `message` cut into handshake records of the given sizes (the last
    /// takes the rest).
    fn cut(message: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = message;
        for &size in sizes {
            let size = size.clamp(1, rest.len().max(1));
            if rest.len() <= size {
                break;
            }
            let (piece, after) = rest.split_at(size);
            out.extend(frame(ContentType::Handshake, piece));
            rest = after;
        }
        out.extend(frame(ContentType::Handshake, rest));
        out
    }

    fn complete(fed: Fed) -> (usize, Box<Hello>) {
        match fed.status {
            HelloStatus::Complete(hello) => (fed.consumed, hello),
            other => panic!("not complete: {other:?}"),
        }
    }

    fn bad(fed: Fed) -> BadHello {
        match fed.status {
            HelloStatus::Bad(why) => why,
            other => panic!("not bad: {other:?}"),
        }
    }

    #[test]
    fn a_real_hello_in_one_record() {
        let bytes = fixture("curl");
        let (consumed, read) = complete(HelloReader::new().feed(&bytes));
        assert_eq!((consumed, read.records, read.bytes), (517, 1, 517));
        assert_eq!(read.hello.server_name.as_deref(), Some(&b"localhost"[..]));
    }

    #[test]
    fn a_hello_cut_into_records_and_fed_a_byte_at_a_time() {
        let bytes = cut(&message("curl"), &[1, 3, 2, 100]);
        let mut reader = HelloReader::new();
        let mut input = Vec::new();
        let mut taken = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            input.push(byte);
            let fed = reader.feed(&input);
            input.drain(..fed.consumed);
            taken += fed.consumed;
            match fed.status {
                HelloStatus::Partial => assert!(i + 1 < bytes.len(), "partial at the end"),
                HelloStatus::Complete(read) => {
                    assert_eq!(i + 1, bytes.len());
                    assert_eq!(read.records, 5);
                    assert_eq!(read.bytes, bytes.len() as u64);
                    assert_eq!(read.hello.alpn, [b"h2".to_vec(), b"http/1.1".to_vec()]);
                }
                HelloStatus::Bad(why) => panic!("{why}"),
            }
        }
        assert_eq!(taken, bytes.len());
    }

    #[test]
    fn bytes_after_the_hello_are_left_in_the_input() {
        let mut bytes = fixture("node");
        bytes.extend_from_slice(&frame(ContentType::ChangeCipherSpec, &[1]));
        let (consumed, _) = complete(HelloReader::new().feed(&bytes));
        assert_eq!(consumed, fixture("node").len());
    }

    #[test]
    fn what_is_no_hello_is_said() {
        let refused = |bytes: &[u8]| bad(HelloReader::new().feed(bytes)).to_string();
        assert!(refused(b"GET / HTTP/1.1\r\n").contains("looks like plaintext HTTP"));
        assert_eq!(
            refused(&frame(ContentType::Alert, &[2, 40])),
            "a record of type 21 (alert) where the ClientHello's handshake records belong"
        );
        assert_eq!(
            refused(&frame(ContentType::Handshake, &[])),
            "an empty handshake record (RFC 8446 §5.1 forbids them)"
        );
        assert_eq!(
            refused(&frame(ContentType::Handshake, &[2, 0, 0, 0])),
            "a handshake message of type 2, not a ClientHello (type 1)"
        );
        let mut trailing = message("python");
        trailing.push(0);
        assert_eq!(
            refused(&frame(ContentType::Handshake, &trailing)),
            "1 bytes after the ClientHello in its record (RFC 8446 §5.1: it must end a record)"
        );
        // An interleaved record before the hello is whole.
        let mut interleaved = cut(&message("python"), &[10]);
        let second = frame(ContentType::ChangeCipherSpec, &[1]);
        interleaved.splice(15..15, second);
        assert!(refused(&interleaved).contains("type 20 (change_cipher_spec)"));
    }

    #[test]
    fn an_oversized_hello_is_refused_from_its_header() {
        // 0x010000 bytes announced: refused with 4 bytes in, none awaited.
        let fed = HelloReader::new().feed(&frame(ContentType::Handshake, &[1, 1, 0, 0]));
        assert_eq!((fed.consumed, bad(fed)), (9, BadHello::TooLarge(0x10000)));
        // 0xffff is allowed, and read to its end (here a hello of zeros,
        // whose fields then do not read).
        let mut reader = HelloReader::new();
        let mut body = vec![1, 0, 0xff, 0xff];
        body.extend(std::iter::repeat_n(0, 0xffff));
        let bytes = cut(&body, &[16384, 16384, 16384, 16384]);
        let fed = reader.feed(&bytes);
        assert_eq!(fed.consumed, bytes.len());
        assert!(matches!(bad(fed), BadHello::Hello(_)));
        assert!(reader.message.capacity() < 2 * (MAX_HELLO + HEADER_LEN));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Hostile bytes never panic, and what is taken is whole records
        /// within the input.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let fed = HelloReader::new().feed(&bytes);
            prop_assert!(fed.consumed <= bytes.len());
        }

        /// Arbitrary bytes inside real handshake framing reach the
        /// ClientHello parser, which answers without panicking.
        #[test]
        fn arbitrary_hello_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
            let mut message = vec![1, 0];
            message.extend_from_slice(&(body.len() as u16).to_be_bytes());
            message.extend_from_slice(&body);
            let fed = HelloReader::new().feed(&frame(ContentType::Handshake, &message));
            prop_assert!(!matches!(fed.status, HelloStatus::Partial));
        }

        /// A real hello with bytes changed, cut short or grown: an answer,
        /// never a panic; changed only in its random, the same hello.
        #[test]
        fn mutated_real_hellos_never_panic(
            which in 0usize..5,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut_at in any::<prop::sample::Index>(),
        ) {
            let (_, original) = crate::tls::fixtures().swap_remove(which);
            let mut bytes = original.clone();
            for (at, byte) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            let _ = HelloReader::new().feed(&bytes);
            let _ = HelloReader::new().feed(&bytes[..cut_at.index(bytes.len())]);
            // The random (bytes 11..43 on the wire) is opaque.
            let mut random_only = original.clone();
            for (at, byte) in &edits {
                random_only[11 + at.index(32)] = *byte;
            }
            let (_, a) = complete(HelloReader::new().feed(&original));
            let (_, b) = complete(HelloReader::new().feed(&random_only));
            prop_assert_eq!(a.hello.server_name, b.hello.server_name);
            prop_assert_eq!(a.hello.cipher_suites, b.hello.cipher_suites);
        }

        /// However a real hello is cut into records, it reads the same.
        #[test]
        fn fragmentation_changes_nothing(
            which in 0usize..5,
            sizes in proptest::collection::vec(1usize..64, 0..12),
        ) {
            let (_, original) = crate::tls::fixtures().swap_remove(which);
            let whole = complete(HelloReader::new().feed(&original)).1;
            let bytes = cut(&original[record::HEADER_LEN..], &sizes);
            let (consumed, pieces) = complete(HelloReader::new().feed(&bytes));
            prop_assert_eq!(consumed, bytes.len());
            prop_assert_eq!(pieces.hello, whole.hello);
        }
    }
}
