//! SIGINT, SIGTERM and SIGHUP as events of the event loop, through a
//! signalfd.
//!
//! The signals are blocked, so they no longer kill the process, and a
//! signalfd reports them as readable data instead: the loop polls it like
//! a socket and stops on its own terms (summary, exit 0), or, for SIGHUP,
//! loads its scenario again. The mask is inherited across exec, but hangup
//! starts no programs.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// What a signal asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Stop: SIGINT or SIGTERM, by name.
    Stop(&'static str),
    /// SIGHUP: load the scenario again.
    Reload,
}

/// A signalfd for SIGINT, SIGTERM and SIGHUP, which are blocked while it
/// lives.
pub struct Signals {
    fd: OwnedFd,
}

impl Signals {
    /// Block SIGINT, SIGTERM and SIGHUP and open a descriptor that reports
    /// them.
    /// Call it before any thread starts, so that none of them gets the
    /// signal instead (hangup has one thread).
    pub fn new() -> io::Result<Signals> {
        // SAFETY: the set is a local initialised by sigemptyset before use;
        // sigprocmask and signalfd only read it.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGHUP);
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Signals {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }

    /// The next pending signal, if one came.
    pub fn take(&self) -> Option<Signal> {
        // SAFETY: signalfd_siginfo is plain data; read writes at most its
        // size into it, and the result says how much was written.
        let (n, info) = unsafe {
            let mut info: libc::signalfd_siginfo = std::mem::zeroed();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let n = libc::read(self.fd.as_raw_fd(), &mut info as *mut _ as *mut libc::c_void, size);
            (n, info)
        };
        if n != std::mem::size_of::<libc::signalfd_siginfo>() as isize {
            return None;
        }
        Some(match info.ssi_signo as i32 {
            libc::SIGINT => Signal::Stop("SIGINT"),
            libc::SIGTERM => Signal::Stop("SIGTERM"),
            libc::SIGHUP => Signal::Reload,
            _ => Signal::Stop("a signal"),
        })
    }
}

impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
