//! HTTP/2 (RFC 9113) as a sans-I/O codec, so that scenarios can fail at
//! the frame level: GOAWAY, RST_STREAM, SETTINGS, PING, WINDOW_UPDATE,
//! DATA with or without END_STREAM, and frames that break the rules.
//!
//! Nothing here touches a socket or a clock. [`frame`] reads and writes
//! frames; [`hpack`] decodes the client's header blocks and encodes ours;
//! [`conn`] is one server-side connection's state, fed the bytes received
//! and asked for the bytes to send. [`preface`] tells h2c with prior
//! knowledge from HTTP/1.1 by the first bytes of a connection. [`client`]
//! is the other side, for `hangup probe --http2`.

pub mod client;
pub mod conn;
pub mod error;
pub mod frame;
pub mod hpack;
pub mod preface;

pub use error::{ConnectionError, ErrorCode, StreamError};

/// Fields HTTP/2 forbids in a request or a response (RFC 9113 §8.2.2):
/// they belong to HTTP/1.1's connection, and make the message malformed.
const CONNECTION_SPECIFIC: [&[u8]; 5] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
];
