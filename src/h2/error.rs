//! HTTP/2 error codes (RFC 9113 §7) and the two kinds of error the codec
//! reports: one that ends the connection, one that ends a stream.
//!
//! Codes are kept as numbers, not as a closed enum: a peer may send any
//! 32-bit code in RST_STREAM or GOAWAY ("unknown or unsupported error
//! codes MUST NOT trigger any special behavior"), and a scenario may want
//! to send one on purpose. The names live in one table, so that printing
//! a code and parsing a scenario's `INTERNAL_ERROR` can never disagree.

use std::fmt;

/// An HTTP/2 error code as carried by RST_STREAM and GOAWAY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u32);

/// Every code RFC 9113 §7 defines, by number, with its name.
const NAMES: [(u32, &str); 14] = [
    (0x0, "NO_ERROR"),
    (0x1, "PROTOCOL_ERROR"),
    (0x2, "INTERNAL_ERROR"),
    (0x3, "FLOW_CONTROL_ERROR"),
    (0x4, "SETTINGS_TIMEOUT"),
    (0x5, "STREAM_CLOSED"),
    (0x6, "FRAME_SIZE_ERROR"),
    (0x7, "REFUSED_STREAM"),
    (0x8, "CANCEL"),
    (0x9, "COMPRESSION_ERROR"),
    (0xa, "CONNECT_ERROR"),
    (0xb, "ENHANCE_YOUR_CALM"),
    (0xc, "INADEQUATE_SECURITY"),
    (0xd, "HTTP_1_1_REQUIRED"),
];

impl ErrorCode {
    /// Graceful shutdown, or no error at all.
    pub const NO_ERROR: ErrorCode = ErrorCode(0x0);
    /// A generic protocol violation.
    pub const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    /// An unexpected internal error.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    /// The peer broke the flow-control rules.
    pub const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x3);
    /// A SETTINGS frame was not acknowledged in time.
    pub const SETTINGS_TIMEOUT: ErrorCode = ErrorCode(0x4);
    /// A frame arrived after the stream was half-closed.
    pub const STREAM_CLOSED: ErrorCode = ErrorCode(0x5);
    /// A frame had an invalid size.
    pub const FRAME_SIZE_ERROR: ErrorCode = ErrorCode(0x6);
    /// The stream was refused before any processing: safe to retry.
    pub const REFUSED_STREAM: ErrorCode = ErrorCode(0x7);
    /// The stream is no longer needed.
    pub const CANCEL: ErrorCode = ErrorCode(0x8);
    /// The header compression context cannot be kept.
    pub const COMPRESSION_ERROR: ErrorCode = ErrorCode(0x9);
    /// The connection of a CONNECT request was reset or closed.
    pub const CONNECT_ERROR: ErrorCode = ErrorCode(0xa);
    /// The peer is generating excessive load.
    pub const ENHANCE_YOUR_CALM: ErrorCode = ErrorCode(0xb);
    /// The transport does not meet the security requirements.
    pub const INADEQUATE_SECURITY: ErrorCode = ErrorCode(0xc);
    /// The request must be made over HTTP/1.1.
    pub const HTTP_1_1_REQUIRED: ErrorCode = ErrorCode(0xd);

    /// The RFC's name of this code; `None` for a code it does not define.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(n, _)| *n == self.0).map(|(_, name)| *name)
    }

    /// The code called `name` (`INTERNAL_ERROR`, case as in the RFC).
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(code, _)| ErrorCode(*code))
    }

    /// Every name the RFC defines, in the order of their numbers: for an
    /// error message that lists what a scenario may write.
    pub fn names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(_, name)| *name)
    }
}

impl fmt::Display for ErrorCode {
    /// `INTERNAL_ERROR (0x2)`, or `0x1f4` for a code the RFC does not name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:x})", self.0),
            None => write!(f, "0x{:x}", self.0),
        }
    }
}

/// An error that ends the whole connection: the driver sends GOAWAY with
/// `code` (and may put `why` in its debug data) and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionError {
    /// The code for the GOAWAY.
    pub code: ErrorCode,
    /// What the peer did, in words a log line can carry.
    pub why: String,
}

impl ConnectionError {
    pub(crate) fn new(code: ErrorCode, why: impl Into<String>) -> ConnectionError {
        ConnectionError { code, why: why.into() }
    }
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.why)
    }
}

/// An error that ends one stream: answered with RST_STREAM and `code`,
/// while the connection goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// The stream to reset.
    pub stream: u32,
    /// The code for the RST_STREAM.
    pub code: ErrorCode,
    /// What the peer did.
    pub why: String,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream {}: {}: {}", self.stream, self.code, self.why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_number() {
        for (number, name) in NAMES {
            assert_eq!(ErrorCode::from_name(name), Some(ErrorCode(number)));
            assert_eq!(ErrorCode(number).name(), Some(name));
        }
        assert_eq!(ErrorCode::names().count(), 14);
        assert_eq!(ErrorCode::from_name("internal_error"), None);
        assert_eq!(ErrorCode::from_name("BOGUS"), None);
    }

    #[test]
    fn the_constants_match_the_table() {
        assert_eq!(ErrorCode::HTTP_1_1_REQUIRED.name(), Some("HTTP_1_1_REQUIRED"));
        assert_eq!(ErrorCode::REFUSED_STREAM.0, 7);
        assert_eq!(ErrorCode::INTERNAL_ERROR.to_string(), "INTERNAL_ERROR (0x2)");
        assert_eq!(ErrorCode(500).to_string(), "0x1f4");
    }
}
