//! The ceiling `scripts/bench.sh` measures hangup against: a bare
//! single-threaded mio loop that answers every request head with the bytes
//! of hangup's `hello` (with `--close`: of `end-close`, then closes). No
//! scenario, no timers, no log, so no interpreter on one thread does less
//! per request; hangup's distance from it is what its design costs.
//!
//! A yardstick, not a server: requests have no body, and a client that
//! stops reading its responses is dropped.
//!
//! `cargo run --release --example bare_loop -- [--close] [--listen ADDR]`

use std::io::{self, ErrorKind, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
const DONE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 5\r\n\r\ndone\n";
const LISTENER: Token = Token(usize::MAX);

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let close = args.iter().any(|a| a == "--close");
    let listen = args.iter().skip_while(|a| *a != "--listen").nth(1);
    let addr = listen
        .map_or("127.0.0.1:0", String::as_str)
        .parse()
        .map_err(io::Error::other)?;
    let mut listener = TcpListener::bind(addr)?;
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    let response = if close { DONE } else { HELLO };
    // Each connection, and how much of the "\r\n\r\n" ending a head it has seen.
    let mut conns: Vec<Option<(TcpStream, usize)>> = Vec::new();
    let mut free = Vec::new();
    let (mut events, mut buf) = (Events::with_capacity(1024), [0u8; 4096]);
    loop {
        match poll.poll(&mut events, None) {
            Err(e) if e.kind() != ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
        for event in &events {
            let key = event.token().0;
            if event.token() == LISTENER {
                while let Ok((mut stream, _)) = listener.accept() {
                    let key = free.pop().unwrap_or_else(|| {
                        conns.push(None);
                        conns.len() - 1
                    });
                    stream.set_nodelay(true)?;
                    poll.registry().register(&mut stream, Token(key), Interest::READABLE)?;
                    // The request often comes with the connection: answer it
                    // now, as hangup does, rather than after one more poll.
                    let mut seen = 0;
                    if answer(&mut stream, &mut seen, &mut buf, response, close) {
                        conns[key] = Some((stream, seen));
                    } else {
                        free.push(key);
                    }
                }
            } else if let Some(Some((stream, seen))) = conns.get_mut(key)
                && !answer(stream, seen, &mut buf, response, close)
            {
                conns[key] = None; // dropping the stream closes it
                free.push(key);
            }
        }
    }
}

/// Read until `WouldBlock`, writing `response` once per complete head.
/// Returns whether the connection stays open.
fn answer(stream: &mut TcpStream, seen: &mut usize, buf: &mut [u8], response: &[u8], close: bool) -> bool {
    loop {
        let n = match stream.read(buf) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        };
        for &byte in &buf[..n] {
            *seen = match (byte, *seen) {
                (b'\r', 0 | 2) | (b'\n', 1 | 3) => *seen + 1,
                (b'\r', _) => 1,
                _ => 0,
            };
            if *seen == 4 {
                *seen = 0;
                let sent = stream.write(response).ok() == Some(response.len());
                if close || !sent {
                    return false;
                }
            }
        }
    }
}
