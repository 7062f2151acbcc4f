//! The client connection preface (RFC 9113 §3.4), and telling HTTP/2 with
//! prior knowledge from HTTP/1.1 on the same port.
//!
//! A client that knows the server speaks h2c starts with these 24 bytes,
//! then its SETTINGS. No HTTP/1.1 request line can begin with
//! `PRI * HTTP/2.0`: the method `PRI` exists only for this, and the
//! version of a request line comes after the target. So the server can
//! decide from the first bytes alone, as soon as they stop matching; it
//! never needs to see a whole request line.

/// The 24 bytes every HTTP/2 client sends first.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the bytes received so far say about the preface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preface {
    /// All 24 bytes are there: HTTP/2. Frames start after them.
    Complete,
    /// Every byte so far matches, but there are fewer than 24 (none at
    /// all counts here too): wait for more before deciding.
    Partial,
    /// A byte differs: not HTTP/2 with prior knowledge. The bytes are
    /// HTTP/1.x (or garbage) and belong to that parser, untouched.
    Mismatch,
}

/// Whether `received`, the first bytes of a connection, are (or can still
/// become) the HTTP/2 preface.
pub fn check(received: &[u8]) -> Preface {
    let n = received.len().min(PREFACE.len());
    if received[..n] != PREFACE[..n] {
        Preface::Mismatch
    } else if n == PREFACE.len() {
        Preface::Complete
    } else {
        Preface::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preface_is_recognised_byte_by_byte() {
        assert_eq!(check(b""), Preface::Partial);
        for n in 1..PREFACE.len() {
            assert_eq!(check(&PREFACE[..n]), Preface::Partial, "{n} bytes");
        }
        assert_eq!(check(PREFACE), Preface::Complete);
        let mut more = PREFACE.to_vec();
        more.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        assert_eq!(check(&more), Preface::Complete);
    }

    #[test]
    fn http1_requests_are_told_apart_early() {
        assert_eq!(check(b"GET / HTTP/1.1\r\n"), Preface::Mismatch);
        assert_eq!(check(b"P"), Preface::Partial);
        assert_eq!(check(b"POST / HTTP/1.1\r\n"), Preface::Mismatch);
        assert_eq!(check(b"PRI / HTTP/1.1\r\n"), Preface::Mismatch);
        assert_eq!(check(b"PRI * HTTP/1.1\r\n"), Preface::Mismatch);
        // An HTTP/1.1 upgrade attempt is not prior knowledge.
        assert_eq!(check(b"PRI * HTTP/2.0\r\n\r\nXX"), Preface::Mismatch);
    }
}
