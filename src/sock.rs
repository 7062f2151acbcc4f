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

/// Bytes written but not yet acknowledged by the peer (Linux SIOCOUTQ).
pub fn unsent_bytes(stream: &impl AsRawFd) -> io::Result<usize> {
    int_ioctl(stream, libc::TIOCOUTQ)
}

/// Bytes received but not yet read (FIONREAD).
pub fn unread_bytes(stream: &impl AsRawFd) -> io::Result<usize> {
    int_ioctl(stream, libc::FIONREAD)
}

fn int_ioctl(stream: &impl AsRawFd, request: libc::Ioctl) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    // SAFETY: both requests write one c_int through the pointer, which
    // points at a live local; the fd is owned by `stream` for the call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), request, &mut value as *mut libc::c_int) };
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

/// Raise the soft limit on open descriptors to the hard limit: a server of
/// thousands of idle connections, or a probe of a thousand at once, needs
/// more than the usual 1024. Best effort; the old limit stays on failure.
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read or write one rlimit struct that
    // lives on this stack frame for the whole call.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
