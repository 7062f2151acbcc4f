//! macOS and FreeBSD: kqueue in place of signalfd and timerfd, and each
//! kernel's own count of unacknowledged bytes.
//!
//! A kqueue is itself a descriptor that polls readable while it holds an
//! event, so a kqueue of our own, with one kind of event in it, plays the
//! part of Linux's signalfd or timerfd: mio's kqueue polls it like a socket.
//!
//! What differs from Linux, and why it is done this way (checked against
//! the kernels' sources: XNU `bsd/kern/kern_event.c`, `kern_sig.c`,
//! `uipc_socket.c`, `tcp_usrreq.c`; FreeBSD `sys/kern/kern_event.c`,
//! `kern_sig.c`, `sys_socket.c`, `netinet/tcp_usrreq.c`; not run here):
//!
//! - Signals: `EVFILT_SIGNAL` records every attempt to deliver a signal to
//!   the process, even one set to `SIG_IGN` (both kernels post the event
//!   before they look at the disposition). So the signals are ignored,
//!   which keeps them from killing the process, and read from the kqueue.
//!   Unlike Linux's mask, the disposition is the whole process's, so a
//!   thread started earlier cannot get the signal instead. It is inherited
//!   across exec, but hangup starts no programs.
//! - Timer: `EVFILT_TIMER`, one-shot, in nanoseconds (`NOTE_NSECONDS`). A
//!   relative timer runs on the clock behind `Instant` on both (macOS:
//!   `mach_absolute_time`; FreeBSD: the uptime clock). The poll's own
//!   timeout is a timespec and could carry nanoseconds too, but both
//!   kernels let it be late: FreeBSD gives a `kevent` timeout a precision
//!   of a share of its length (`kern.timecounter.alloweddeviation`, 5 % by
//!   default) and may add a tick, where a timer's callout has precision 0;
//!   XNU sleeps a `kevent` timeout with the coalescable "user normal"
//!   urgency, where a timer with `NOTE_CRITICAL` is never coalesced.
//! - Unsent bytes: macOS has `getsockopt(SO_NWRITE)`, FreeBSD
//!   `ioctl(FIONWRITE)`: both give the bytes in the socket's send buffer,
//!   where TCP keeps every byte until the peer acknowledges it, so the
//!   count means what Linux's `SIOCOUTQ` means.
//! - A close with unread input: XNU sends RST, as Linux does; FreeBSD
//!   throws the input away and sends FIN. hangup resets such a connection
//!   explicitly (`SO_LINGER` 0) rather than leave it to `close`, so the
//!   peer sees RST on all three.
//! - The descriptor limit: macOS refuses a soft limit above
//!   `kern.maxfilesperproc` (its hard limit is often "unlimited", and
//!   `setrlimit` then fails with `EINVAL`), so the ceiling is the lower of
//!   the two; FreeBSD lowers a too-high request by itself.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A kqueue of our own, holding one kind of event.
struct Kqueue {
    fd: OwnedFd,
}

impl Kqueue {
    fn new() -> io::Result<Kqueue> {
        // SAFETY: kqueue takes no arguments; a non-negative result is a new
        // descriptor that nothing else owns.
        let fd = unsafe { libc::kqueue() };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: fcntl on a descriptor we own, with an int argument.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Kqueue { fd })
    }

    /// Add or change the event for (`ident`, `filter`).
    fn change(&self, ident: usize, filter: i16, flags: u16, fflags: u32, data: i64) -> io::Result<()> {
        // SAFETY: kevent is plain data (its layout differs between the two
        // systems, so it is zeroed and then filled field by field).
        let mut change: libc::kevent = unsafe { std::mem::zeroed() };
        change.ident = ident as _;
        change.filter = filter as _;
        change.flags = flags as _;
        change.fflags = fflags as _;
        change.data = data as _;
        // SAFETY: one change read from a live local; no event list, so no
        // timeout is needed and the call does not wait.
        let rc = unsafe {
            libc::kevent(
                self.fd.as_raw_fd(),
                &change,
                1,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The next event that came, without waiting.
    fn take(&self) -> Option<libc::kevent> {
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: as in `change`.
        let mut event: libc::kevent = unsafe { std::mem::zeroed() };
        // SAFETY: room for one event in a live local; a zero timeout.
        let n = unsafe { libc::kevent(self.fd.as_raw_fd(), std::ptr::null(), 0, &mut event, 1, &zero) };
        (n == 1).then_some(event)
    }
}

/// A kqueue reporting a set of signals, which are ignored while it lives.
pub struct SignalQueue {
    kqueue: Kqueue,
}

impl SignalQueue {
    /// Ignore `signals` and open a descriptor that reports them.
    pub fn new(signals: &[libc::c_int]) -> io::Result<SignalQueue> {
        let kqueue = Kqueue::new()?;
        for &signal in signals {
            // Listen first, then ignore: a signal in between is reported,
            // never lost and never fatal.
            kqueue.change(signal as usize, libc::EVFILT_SIGNAL, libc::EV_ADD, 0, 0)?;
            // SAFETY: SIG_IGN installs no handler, so nothing runs in
            // signal context.
            if unsafe { libc::signal(signal, libc::SIG_IGN) } == libc::SIG_ERR {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(SignalQueue { kqueue })
    }

    /// The number of the next signal that came, if one did. Two of the
    /// same signal before a read are one event (its `data` counts them),
    /// which is all a stop or a reload needs.
    pub fn next(&self) -> Option<libc::c_int> {
        self.kqueue.take().map(|event| event.ident as libc::c_int)
    }
}

impl AsRawFd for SignalQueue {
    fn as_raw_fd(&self) -> RawFd {
        self.kqueue.fd.as_raw_fd()
    }
}

/// A kqueue with one `EVFILT_TIMER` in it.
pub struct OneShotTimer {
    kqueue: Kqueue,
}

/// The only timer in its kqueue.
const TIMER_IDENT: usize = 1;

/// Nanoseconds; on macOS also "critical", so that XNU does not coalesce it
/// with other timers and fire it late (see the module doc).
#[cfg(target_os = "macos")]
const TIMER_FFLAGS: u32 = libc::NOTE_NSECONDS | libc::NOTE_CRITICAL;
/// Nanoseconds; FreeBSD arms a timer's callout with precision 0.
#[cfg(target_os = "freebsd")]
const TIMER_FFLAGS: u32 = libc::NOTE_NSECONDS;

impl OneShotTimer {
    /// A timer that is not set.
    pub fn new() -> io::Result<OneShotTimer> {
        Ok(OneShotTimer { kqueue: Kqueue::new()? })
    }

    /// Fire once, `after` from now, replacing any time set before: adding
    /// a timer that is there already restarts it with the new time and
    /// drops an expiry not yet taken, on both kernels.
    pub fn set(&mut self, after: Duration) -> io::Result<()> {
        let nanos = i64::try_from(after.as_nanos()).unwrap_or(i64::MAX);
        self.kqueue.change(
            TIMER_IDENT,
            libc::EVFILT_TIMER,
            libc::EV_ADD | libc::EV_ONESHOT,
            TIMER_FFLAGS,
            nanos,
        )
    }

    /// Take the expiry, so that the descriptor is quiet until set again.
    pub fn drain(&mut self) {
        // Nothing there (a spurious wake-up) is harmless.
        let _ = self.kqueue.take();
    }
}

impl AsRawFd for OneShotTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.kqueue.fd.as_raw_fd()
    }
}

/// Bytes written to the TCP socket and not yet acknowledged: the send
/// buffer's count, `SO_NWRITE`.
#[cfg(target_os = "macos")]
pub fn unsent_bytes(stream: &impl AsRawFd) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: SO_NWRITE writes one c_int into a live local whose size is
    // passed; the fd is owned by `stream` for the call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NWRITE,
            (&raw mut value).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.max(0) as usize)
}

/// Bytes written to the TCP socket and not yet acknowledged: the send
/// buffer's count, `FIONWRITE`.
#[cfg(target_os = "freebsd")]
pub fn unsent_bytes(stream: &impl AsRawFd) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    // SAFETY: FIONWRITE writes one c_int through the pointer, which points
    // at a live local; the fd is owned by `stream` for the call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::FIONWRITE, &mut value) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.max(0) as usize)
}

/// The highest soft limit on open descriptors that `setrlimit` takes: the
/// hard limit, but on macOS no more than `kern.maxfilesperproc`.
#[cfg(target_os = "macos")]
pub fn open_files_ceiling(hard: libc::rlim_t) -> libc::rlim_t {
    let mut most: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>();
    // SAFETY: the name is a NUL-terminated literal; the value is one c_int
    // written into a live local whose size is passed; nothing is set.
    let rc = unsafe {
        libc::sysctlbyname(
            c"kern.maxfilesperproc".as_ptr(),
            (&raw mut most).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    match rc {
        0 if most > 0 => hard.min(most as libc::rlim_t),
        _ => hard.min(OPEN_MAX),
    }
}

/// `OPEN_MAX` in macOS's `<sys/syslimits.h>`: what its setrlimit(2) tells
/// callers to use when they cannot ask `kern.maxfilesperproc`.
#[cfg(target_os = "macos")]
const OPEN_MAX: libc::rlim_t = 10240;

/// The highest soft limit on open descriptors that `setrlimit` takes: the
/// hard limit (FreeBSD lowers a request above `kern.maxfilesperproc`).
#[cfg(target_os = "freebsd")]
pub fn open_files_ceiling(hard: libc::rlim_t) -> libc::rlim_t {
    hard
}

/// Nothing to do: the system allocators of macOS and FreeBSD return freed
/// memory on their own schedule, and offer no call like glibc's.
pub fn give_back_memory() {}
