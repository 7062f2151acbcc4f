//! hangup: an HTTP server that fails on purpose, exactly and repeatably.
//!
//! For every connection it runs a *scenario*, a short script saying which
//! bytes to write, when to read and wait, and how to end the connection
//! (FIN, half-close or RST). Start with [`scenario`] (the language),
//! [`interp`] (what a script does, without I/O) and [`server`] (the event
//! loop that carries it out on real sockets).

pub mod cli;
pub mod end;
pub mod http;
pub mod interp;
pub mod log;
pub mod outgoing;
pub mod probe;
pub mod reactor;
pub mod scenario;
pub mod server;
pub mod signals;
pub mod sock;
pub mod stream;
pub mod timers;
pub mod units;
