//! SIGINT, SIGTERM and SIGHUP as events of the event loop.
//!
//! The signals no longer kill the process: a descriptor reports them as
//! readable data instead (Linux: a signalfd; macOS and FreeBSD: a kqueue,
//! see `crate::sys`), so the loop polls it like a socket and stops on its
//! own terms (summary, exit 0), or, for SIGHUP, loads its scenario again.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use crate::sys::SignalQueue;

/// What a signal asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Stop: SIGINT or SIGTERM, by name.
    Stop(&'static str),
    /// SIGHUP: load the scenario again.
    Reload,
}

/// The signals hangup handles.
const HANDLED: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// A descriptor for SIGINT, SIGTERM and SIGHUP, which do not kill the
/// process while it lives.
pub struct Signals {
    queue: SignalQueue,
}

impl Signals {
    /// Take SIGINT, SIGTERM and SIGHUP over and open a descriptor that
    /// reports them.
    /// Call it before any thread starts, so that none of them gets the
    /// signal instead (on Linux, a signal is kept from a thread by a mask
    /// each thread inherits when it starts).
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            queue: SignalQueue::new(&HANDLED)?,
        })
    }

    /// The next pending signal, if one came.
    pub fn take(&self) -> Option<Signal> {
        Some(match self.queue.next()? {
            libc::SIGINT => Signal::Stop("SIGINT"),
            libc::SIGTERM => Signal::Stop("SIGTERM"),
            libc::SIGHUP => Signal::Reload,
            _ => Signal::Stop("a signal"),
        })
    }
}

impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.queue.as_raw_fd()
    }
}
