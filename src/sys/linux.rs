//! Linux: signalfd, timerfd, `SIOCOUTQ`, and glibc's `malloc_trim`.
//!
//! - Signals: blocked with `sigprocmask`, so they no longer kill the
//!   process, and read from a signalfd. The mask is per thread and
//!   inherited by threads started later: [`SignalQueue::new`] must run
//!   before any other thread starts, or that thread would get the signal's
//!   default action instead. The mask is also inherited across exec, but
//!   hangup starts no programs.
//! - Timer: a timerfd on `CLOCK_MONOTONIC`, the clock behind `Instant`, to
//!   the nanosecond (epoll's own timeout is in whole milliseconds).
//! - Unsent bytes: `SIOCOUTQ` (same number as `TIOCOUTQ`) is the TCP send
//!   queue, `write_seq - snd_una`: bytes not sent yet plus bytes sent and
//!   not acknowledged yet.
//! - A close with unread input sends RST (RFC 2525's advice, which Linux
//!   follows); hangup says so, and does it explicitly, where it closes.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A signalfd for a set of signals, which are blocked while it lives.
pub struct SignalQueue {
    fd: OwnedFd,
}

impl SignalQueue {
    /// Block `signals` and open a descriptor that reports them. Call it
    /// before any other thread starts (see the module doc).
    pub fn new(signals: &[libc::c_int]) -> io::Result<SignalQueue> {
        // SAFETY: the set is a local initialised by sigemptyset before use;
        // sigprocmask and signalfd only read it. A non-negative result of
        // signalfd is a new descriptor that nothing else owns.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &signal in signals {
                libc::sigaddset(&mut set, signal);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(SignalQueue {
                fd: OwnedFd::from_raw_fd(fd),
            })
        }
    }

    /// The number of the next pending signal, if one came.
    pub fn next(&self) -> Option<libc::c_int> {
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: signalfd_siginfo is plain data; read writes at most its
        // size into it, and the result says how much was written.
        let (n, info) = unsafe {
            let mut info: libc::signalfd_siginfo = std::mem::zeroed();
            let n = libc::read(self.fd.as_raw_fd(), (&raw mut info).cast(), size);
            (n, info)
        };
        (n == size as isize).then_some(info.ssi_signo as libc::c_int)
    }
}

impl AsRawFd for SignalQueue {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A timerfd on `CLOCK_MONOTONIC`.
pub struct OneShotTimer {
    fd: OwnedFd,
}

impl OneShotTimer {
    /// A timer that is not set.
    pub fn new() -> io::Result<OneShotTimer> {
        // SAFETY: timerfd_create takes no pointers; a non-negative result is
        // a new descriptor that nothing else owns.
        let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is valid and owned by no one else (see above).
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(OneShotTimer { fd })
    }

    /// Fire once, `after` from now, replacing any time set before. A zero
    /// `after` would disarm a timerfd, so the caller passes at least 1 ns.
    pub fn set(&mut self, after: Duration) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as _,
                tv_nsec: after.subsec_nanos() as _,
            },
        };
        // SAFETY: `spec` is a valid itimerspec for the call; the old value
        // pointer may be null.
        let rc = unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Take the expiry, so that the descriptor is quiet until set again.
    pub fn drain(&mut self) {
        let mut expirations = 0u64;
        // SAFETY: reads at most 8 bytes into a live u64. EAGAIN (a spurious
        // wake-up) is harmless, so the result is not needed.
        unsafe {
            libc::read(self.fd.as_raw_fd(), (&raw mut expirations).cast(), 8);
        }
    }
}

impl AsRawFd for OneShotTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Bytes written to the TCP socket and not yet acknowledged (`SIOCOUTQ`).
pub fn unsent_bytes(stream: &impl AsRawFd) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    // SAFETY: SIOCOUTQ writes one c_int through the pointer, which points
    // at a live local; the fd is owned by `stream` for the call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut value) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.max(0) as usize)
}

/// The highest soft limit on open descriptors that `setrlimit` takes: the
/// hard limit itself.
pub fn open_files_ceiling(hard: libc::rlim_t) -> libc::rlim_t {
    hard
}

/// glibc keeps freed memory for reuse, even whole pages in the middle of
/// the heap; `malloc_trim` hands free pages back to the kernel. musl's
/// allocator returns large frees by itself and has no such call.
pub fn give_back_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes no pointers and only releases memory that
    // is free.
    unsafe {
        libc::malloc_trim(0);
    }
}
