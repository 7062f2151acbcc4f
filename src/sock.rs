//! Socket options and queries the standard library does not offer.
//!
//! Abortive close ([`crate::stream::Stream::reset`]) is `SO_LINGER` 0 then
//! close: the kernel sends RST and discards whatever it has not sent yet,
//! which is why [`unsent_bytes`] exists: "write then reset" waits for it to
//! reach 0 first. [`unread_bytes`]
//! tells whether a plain close will be a FIN or, with unread input, an RST.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};

use crate::sys;

/// Pending connections the kernel may queue before `accept`.
pub const BACKLOG: i32 = 1024;

/// A non-blocking listener on `addr` queueing up to `backlog` pending
/// connections ([`BACKLOG`] to serve; 0 for `accept never`, see
/// `crate::server`), with SO_REUSEADDR so that a restart does not wait for
/// TIME_WAIT sockets of the last run.
pub fn listen(addr: SocketAddr, backlog: i32) -> io::Result<mio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

/// Bytes written but not yet acknowledged by the peer (Linux `SIOCOUTQ`,
/// macOS `SO_NWRITE`, FreeBSD `FIONWRITE`; see `crate::sys`).
pub fn unsent_bytes(stream: &impl AsRawFd) -> io::Result<usize> {
    sys::unsent_bytes(stream)
}

/// Bytes received but not yet read (`FIONREAD`, the same on every system
/// hangup runs on).
pub fn unread_bytes(stream: &impl AsRawFd) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points
    // at a live local; the fd is owned by `stream` for the call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::FIONREAD, &mut value) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.max(0) as usize)
}

/// Whether an accept error means "out of descriptors or memory": the
/// connection stays queued and epoll will not report it again.
pub fn is_resource_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Raise the soft limit on open descriptors as far as the system allows
/// (the hard limit; on macOS no more than `kern.maxfilesperproc`): a server
/// of thousands of idle connections, or a probe of a thousand at once,
/// needs more than the usual 1024 (macOS: 256). Best effort; the old limit
/// stays on failure.
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read or write one rlimit struct that
    // lives on this stack frame for the whole call.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let ceiling = sys::open_files_ceiling(limit.rlim_max);
        if limit.rlim_cur < ceiling {
            limit.rlim_cur = ceiling;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
