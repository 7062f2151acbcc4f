//! The seam between hangup and the kernel it runs on: the few calls that
//! differ between Linux and the BSDs (macOS, FreeBSD), so that nothing
//! else in the crate needs a `cfg(target_os)`.
//!
//! Both sides offer the same items, each with the same job:
//!
//! - [`SignalQueue`]: a descriptor that turns SIGINT, SIGTERM and SIGHUP
//!   into readable data, so the event loop polls signals like a socket
//!   (Linux: signalfd; BSD: a kqueue of its own with `EVFILT_SIGNAL`).
//! - [`OneShotTimer`]: a descriptor that becomes readable once, a given
//!   time from now, with nanosecond resolution (Linux: timerfd; BSD: a
//!   kqueue of its own with `EVFILT_TIMER`). The poll's own timeout is not
//!   used for deadlines: epoll's is whole milliseconds, and the BSD kernels
//!   let a poll timeout be late by a share of its length (see `bsd.rs`).
//! - [`unsent_bytes`]: bytes written to a TCP socket that the peer has not
//!   acknowledged yet, which "write then reset" waits for (Linux:
//!   `SIOCOUTQ`; macOS: `SO_NWRITE`; FreeBSD: `FIONWRITE`).
//! - [`open_files_ceiling`]: how far the descriptor limit can be raised.
//! - [`give_back_memory`]: hand freed heap pages back to the kernel, where
//!   the allocator keeps them otherwise (glibc).
//!
//! Each side's module doc says what its kernel does differently and where
//! that was checked. Linux is built and tested here; macOS and FreeBSD are
//! only compiled and linted here (`scripts/test.sh`), not run.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as platform;

#[cfg(any(target_os = "macos", target_os = "freebsd"))]
mod bsd;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
use bsd as platform;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
compile_error!("hangup runs on Linux, macOS and FreeBSD; src/sys/ has no code for this system yet");

pub use platform::{OneShotTimer, SignalQueue, give_back_memory, open_files_ceiling, unsent_bytes};

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    use super::*;

    /// Wait until `fd` is readable, for at most `limit`; whether it became so.
    fn readable_within(fd: &impl AsRawFd, limit: Duration) -> bool {
        let mut poll = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd for the call.
        let n = unsafe { libc::poll(&mut poll, 1, limit.as_millis() as libc::c_int) };
        n == 1 && poll.revents & libc::POLLIN != 0
    }

    #[test]
    fn the_timer_fires_once_after_the_time_given_and_is_quiet_once_drained() {
        let mut timer = OneShotTimer::new().unwrap();
        assert!(!readable_within(&timer, Duration::ZERO), "a new timer is quiet");
        let started = Instant::now();
        timer.set(Duration::from_millis(5)).unwrap();
        assert!(
            readable_within(&timer, Duration::from_secs(5)),
            "the timer did not fire"
        );
        assert!(started.elapsed() >= Duration::from_millis(5), "{:?}", started.elapsed());
        timer.drain();
        assert!(
            !readable_within(&timer, Duration::from_millis(20)),
            "a one-shot timer fired twice"
        );
    }

    #[test]
    fn setting_the_timer_again_replaces_the_time_it_had() {
        let mut timer = OneShotTimer::new().unwrap();
        timer.set(Duration::from_secs(3600)).unwrap();
        timer.set(Duration::from_millis(1)).unwrap();
        assert!(
            readable_within(&timer, Duration::from_secs(5)),
            "the earlier time did not replace the later"
        );
    }

    #[test]
    fn unsent_bytes_counts_what_the_peer_has_not_acknowledged() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        assert_eq!(unsent_bytes(&client).unwrap(), 0);
        // Fill the peer's receive buffer and then our send buffer: what is
        // left in ours has not been acknowledged.
        client.set_nonblocking(true).unwrap();
        let chunk = [b'x'; 64 * 1024];
        let mut written = 0;
        while written < 64 << 20 {
            match client.write(&chunk) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("write: {e}"),
            }
        }
        let queued = unsent_bytes(&client).unwrap();
        assert!(queued > 0 && queued <= written, "{queued} of {written} bytes unsent");
        // Once the peer has read everything, its kernel has acknowledged it.
        let mut sink = vec![0; written];
        server.read_exact(&mut sink).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while unsent_bytes(&client).unwrap() != 0 {
            assert!(
                Instant::now() < deadline,
                "bytes still unacknowledged 5 s after they were read"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn the_descriptor_ceiling_is_never_above_the_hard_limit() {
        assert_eq!(open_files_ceiling(64), 64);
    }
}
