//! The ceiling `scripts/bench.sh --proxy` measures hangup's proxy against:
//! a bare single-threaded mio loop that connects each client it accepts to
//! `--upstream` and copies bytes both ways. No scenario, no HTTP parsing, no
//! timers, no log, so no relay on one thread does less per byte; hangup's
//! distance from it is what its proxy design costs.
//!
//! It still keeps the rules any fair relay keeps, so that the comparison is
//! like with like: a direction holds at most 64 KiB its destination could
//! not take yet, and its source is not read while it does; a FIN from one
//! side is `shutdown(Write)` on the other, so half-close passes through; an
//! error or RST on either side closes both, with an RST.
//!
//! A yardstick, not a proxy: the upstream is an address, never a name; a
//! refused upstream resets the client, and the bytes a side sent just
//! before an error may be lost with it.
//!
//! `cargo run --release --example bare_relay -- --upstream ADDR [--listen ADDR]`

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use socket2::SockRef;

/// The most one read takes, and so the most a direction ever holds.
const BUFFER: usize = 64 * 1024;
const LISTENER: Token = Token(usize::MAX);
const CLIENT: usize = 0;
const UPSTREAM: usize = 1;

/// A client and its upstream. Side `i` of pair `key` has token `2 * key + i`.
struct Pair {
    sides: [TcpStream; 2],
    /// What was read from side `i` that the other side has not taken yet.
    /// It gets capacity only once a destination falls behind, and keeps it
    /// (no allocator in the hot path); a pair that never fell behind costs
    /// its sockets and this struct.
    pending: [Vec<u8>; 2],
    /// Side `i` sent its FIN (a read gave 0 bytes).
    ended: [bool; 2],
    /// Side `i` was told our FIN (`shutdown(Write)`).
    shut: [bool; 2],
    /// The upstream's non-blocking connect finished. Until then nothing is
    /// read from the client: a `shutdown` on a connecting socket would
    /// abort the connect, and the kernel holds the bytes as well as we do.
    connected: bool,
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().skip_while(|a| *a != name).nth(1).cloned();
    let listen = flag("--listen").unwrap_or_else(|| String::from("127.0.0.1:0"));
    let listen: SocketAddr = listen
        .parse()
        .map_err(|e| io::Error::other(format!("--listen {listen}: {e}")))?;
    let upstream = flag("--upstream").ok_or_else(|| io::Error::other("--upstream ADDR is required"))?;
    let upstream: SocketAddr = upstream
        .parse()
        .map_err(|e| io::Error::other(format!("--upstream {upstream}: {e}")))?;
    let mut listener = TcpListener::bind(listen)?;
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    let mut pairs: Vec<Option<Pair>> = Vec::new();
    let mut free = Vec::new();
    // One read buffer for every pair: bytes stay in it only until the write
    // that follows the read; what that write leaves goes to `pending`.
    let (mut events, mut scratch) = (Events::with_capacity(1024), vec![0u8; BUFFER]);
    loop {
        match poll.poll(&mut events, None) {
            Err(e) if e.kind() != ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
        for event in &events {
            if event.token() == LISTENER {
                while let Ok((client, _)) = listener.accept() {
                    let Ok(upstream) = TcpStream::connect(upstream) else {
                        continue; // dropping the client closes it
                    };
                    let key = free.pop().unwrap_or_else(|| {
                        pairs.push(None);
                        pairs.len() - 1
                    });
                    let mut pair = Pair {
                        sides: [client, upstream],
                        pending: [Vec::new(), Vec::new()],
                        ended: [false; 2],
                        shut: [false; 2],
                        connected: false,
                    };
                    for (side, stream) in pair.sides.iter_mut().enumerate() {
                        stream.set_nodelay(true)?;
                        let token = Token(2 * key + side);
                        poll.registry()
                            .register(stream, token, Interest::READABLE | Interest::WRITABLE)?;
                    }
                    pairs[key] = Some(pair);
                }
                continue;
            }
            let (key, side) = (event.token().0 / 2, event.token().0 % 2);
            let Some(Some(pair)) = pairs.get_mut(key) else {
                continue; // a pair closed earlier in this batch
            };
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed() || event.is_error();
            let open = match (pair.connected, side) {
                (false, CLIENT) => client_stays(pair),
                (false, _) => !writable || connect_done(pair, &mut scratch),
                // Readable: this side has bytes (or its FIN, or an error) for
                // the other. Writable: this side can take what the other
                // held; if it held nothing, the other side's own readiness
                // will call, and a read now would only find it empty.
                (true, _) => {
                    let held = !pair.pending[1 - side].is_empty();
                    (!readable || relay(pair, side, &mut scratch).is_ok())
                        && (!(writable && held) || relay(pair, 1 - side, &mut scratch).is_ok())
                        && pair.shut != [true; 2]
                }
            };
            if !open {
                if pair.shut != [true; 2] {
                    // Not both FINs passed: a side failed. Mirror it as RST.
                    for stream in &pair.sides {
                        SockRef::from(stream).set_linger(Some(Duration::ZERO))?;
                    }
                }
                pairs[key] = None; // dropping the streams closes them
                free.push(key);
            }
        }
    }
}

/// While the upstream connects, an event on the client only matters if it
/// is an error: its bytes and its FIN wait in the kernel until the connect
/// is done.
fn client_stays(pair: &Pair) -> bool {
    matches!(pair.sides[CLIENT].take_error(), Ok(None))
}

/// The upstream became writable while connecting: the connect either
/// failed or finished (relay what waited, both ways). Returns whether the
/// pair stays open.
fn connect_done(pair: &mut Pair, scratch: &mut [u8]) -> bool {
    let upstream = &pair.sides[UPSTREAM];
    match (upstream.take_error(), upstream.peer_addr()) {
        (Ok(None), Ok(_)) => {}
        (Ok(None), Err(e)) if e.kind() == ErrorKind::NotConnected => return true, // not yet
        _ => return false,
    }
    pair.connected = true;
    relay(pair, CLIENT, scratch).is_ok() && relay(pair, UPSTREAM, scratch).is_ok() && pair.shut != [true; 2]
}

/// Move bytes from side `from` to the other side until the source would
/// block, or the destination would and holds `pending`; pass the source's
/// FIN on once everything before it was taken. An error is either side
/// failing, and closes the pair.
fn relay(pair: &mut Pair, from: usize, scratch: &mut [u8]) -> io::Result<()> {
    let Pair {
        sides,
        pending,
        ended,
        shut,
        ..
    } = pair;
    let [client, upstream] = sides;
    let (source, dest) = if from == CLIENT {
        (client, upstream)
    } else {
        (upstream, client)
    };
    let pending = &mut pending[from];
    if !pending.is_empty() {
        let sent = send(dest, pending)?;
        pending.drain(..sent);
        if !pending.is_empty() {
            return Ok(());
        }
    }
    while !ended[from] {
        let n = match source.read(scratch) {
            Ok(0) => {
                ended[from] = true;
                break;
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let sent = send(dest, &scratch[..n])?;
        if sent < n {
            pending.extend_from_slice(&scratch[sent..n]);
            return Ok(());
        }
    }
    if !shut[1 - from] {
        dest.shutdown(Shutdown::Write)?;
        shut[1 - from] = true;
    }
    Ok(())
}

/// Write `bytes` until done or `WouldBlock`; how many were taken.
fn send(dest: &mut TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < bytes.len() {
        match dest.write(&bytes[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}
