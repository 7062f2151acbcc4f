//! hangup: an HTTP server that fails on purpose, exactly and repeatably.
//!
//! For every connection it runs a *scenario*, a short script saying which
//! bytes to write, when to read and wait, and how to end the connection
//! (FIN, half-close or RST). Start with [`scenario`] (the language),
//! `interp` (what a script does, without I/O) and `server` (the event
//! loop that carries it out on real sockets), both private to the crate.

// Everything public is documented; everything else is the crate's own,
// where rustc can see what nothing uses.
#![warn(missing_docs)]

pub(crate) mod chance;
pub mod cli;
pub mod end;
pub mod h2;
pub mod http;
pub(crate) mod interp;
pub(crate) mod log;
pub(crate) mod outgoing;
pub(crate) mod probe;
pub(crate) mod reactor;
pub(crate) mod record;
pub mod scenario;
pub(crate) mod server;
pub(crate) mod signals;
pub(crate) mod sock;
pub(crate) mod sort;
pub(crate) mod stream;
pub(crate) mod sys;
pub(crate) mod timers;
pub mod tls;
pub(crate) mod transport;
pub(crate) mod units;
