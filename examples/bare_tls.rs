//! The ceiling `scripts/bench.sh` measures `hangup serve --tls` against: a
//! bare single-threaded mio loop with rustls, answering every request head
//! with the bytes of hangup's `hello` (with `--close`: of `end-close`, then
//! close_notify and close). It handshakes as hangup does — rustls 0.23 on
//! ring, TLS 1.2 and 1.3, an ECDSA P-256 leaf for localhost, 127.0.0.1 and
//! ::1 made at start, no session tickets (so every new connection is a full
//! handshake) — and does nothing else: no scenario, no timers, no log, no
//! handshake deadline. hangup's distance from it is what its TLS layer and
//! design cost; the distance from `bare_loop` is what TLS costs.
//!
//! A yardstick, not a server: requests have no body, and a client whose
//! records the socket will not take at once is dropped.
//!
//! `cargo run --release --example bare_tls -- [--close] [--listen ADDR]`

use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
const DONE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 5\r\n\r\ndone\n";
const LISTENER: Token = Token(usize::MAX);

/// One connection: its socket, its TLS, and how much of the "\r\n\r\n"
/// ending a head it has seen.
struct Conn {
    stream: TcpStream,
    tls: ServerConnection,
    seen: usize,
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let close = args.iter().any(|a| a == "--close");
    let listen = args.iter().skip_while(|a| *a != "--listen").nth(1);
    let addr = listen
        .map_or("127.0.0.1:0", String::as_str)
        .parse()
        .map_err(io::Error::other)?;
    let config = config()?;
    let mut listener = TcpListener::bind(addr)?;
    let mut poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    let response = if close { DONE } else { HELLO };
    let mut conns: Vec<Option<Conn>> = Vec::new();
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
                    let Ok(tls) = ServerConnection::new(Arc::clone(&config)) else {
                        continue;
                    };
                    let key = free.pop().unwrap_or_else(|| {
                        conns.push(None);
                        conns.len() - 1
                    });
                    stream.set_nodelay(true)?;
                    poll.registry().register(&mut stream, Token(key), Interest::READABLE)?;
                    // The ClientHello often comes with the connection.
                    let mut conn = Conn { stream, tls, seen: 0 };
                    if answer(&mut conn, &mut buf, response, close) {
                        conns[key] = Some(conn);
                    } else {
                        free.push(key);
                    }
                }
            } else if let Some(Some(conn)) = conns.get_mut(key)
                && !answer(conn, &mut buf, response, close)
            {
                conns[key] = None; // dropping the stream closes it
                free.push(key);
            }
        }
    }
}

/// hangup's: TLS 1.3 and 1.2 on ring, no tickets, a P-256 leaf.
fn config() -> io::Result<Arc<ServerConfig>> {
    let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let made = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    #[allow(deprecated)] // ring's provider, as hangup's `tls::provider`
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .map_err(io::Error::other)?;
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// Read records until `WouldBlock`, write `response` once per complete
/// head, and write every record rustls made. Returns whether the
/// connection stays open.
fn answer(conn: &mut Conn, buf: &mut [u8], response: &[u8], close: bool) -> bool {
    let mut open = true;
    loop {
        match conn.tls.read_tls(&mut conn.stream) {
            Ok(0) => {
                open = false;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
        if conn.tls.process_new_packets().is_err() {
            // rustls queued the alert that says why.
            let _ = conn.tls.write_tls(&mut conn.stream);
            return false;
        }
        loop {
            let n = match conn.tls.reader().read(buf) {
                Ok(n) if n > 0 => n,
                // close_notify: what is queued still goes.
                Ok(_) => {
                    open = false;
                    break;
                }
                Err(_) => break, // WouldBlock: no more plaintext
            };
            for &byte in &buf[..n] {
                conn.seen = match (byte, conn.seen) {
                    (b'\r', 0 | 2) | (b'\n', 1 | 3) => conn.seen + 1,
                    (b'\r', _) => 1,
                    _ => 0,
                };
                if conn.seen == 4 {
                    conn.seen = 0;
                    let _ = conn.tls.writer().write_all(response);
                    if close {
                        conn.tls.send_close_notify();
                        open = false;
                    }
                }
            }
        }
        if !open {
            break;
        }
    }
    while conn.tls.wants_write() {
        match conn.tls.write_tls(&mut conn.stream) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Full (WouldBlock) or gone: a yardstick drops it.
            Err(_) => return false,
        }
    }
    open
}
