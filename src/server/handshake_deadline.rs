//! The TLS handshake deadline as a connection schedules it, driven with
//! `now` in hand: 120 s of a client that never finishes its handshake
//! take microseconds here, where an integration test would wait two
//! minutes. A connection under `--tls` asks the reactor to wake it at its
//! script's own deadline or at the handshake's, whichever comes first
//! (`Conn::poll_at`), and a wake at the handshake's ends it (`tls-timeout`
//! in the log, then FIN).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::conn::Conn;
use super::turn::{Shared, Tally, Turn};
use crate::interp::Interp;
use crate::log::{Format, Log};
use crate::reactor::{Flow, PollAt, Session};
use crate::tls::certs::Certificates;
use crate::tls::options::HandshakeOptions;
use crate::tls::{HANDSHAKE_TIMEOUT, TlsServer};

/// Run `script` under `--tls` for a client that sends the first 100 bytes
/// of a ClientHello and nothing more; `check` gets the connection, the
/// turn's parts, when it was accepted and the client's socket.
fn half_a_hello(script: &str, check: impl FnOnce(&mut Conn, &mut Log, &mut Shared, Instant, std::net::TcpStream)) {
    let scenario = crate::scenario::parser::parse(script, &BTreeMap::new()).expect("a script");
    let poll = mio::Poll::new().expect("poll");
    let mut shared = Shared {
        registry: poll.registry().try_clone().expect("registry"),
        upstream: None,
        catalog: None,
        seed: 0,
        tls: None,
        tally: Tally::default(),
    };
    let mut log = Log::new(Format::Json, true);
    let mut tls = TlsServer::new(Certificates::generate(&[]).expect("certificates")).expect("server");
    let (socket, mut client) = crate::stream::Stream::loopback_pair();
    let accepted = Instant::now();
    let mut conn = Conn::new(1, 0, socket, accepted, Interp::new(&scenario, 1));
    conn.start_tls(tls.layer(&HandshakeOptions::default(), accepted).expect("layer"));
    client
        .write_all(&crate::tls::fixture("curl")[..100])
        .expect("half a hello");
    let mut turn = Turn {
        now: accepted,
        log: &mut log,
        shared: &mut shared,
    };
    assert_eq!(conn.start(&mut turn), Flow::Open);
    check(&mut conn, &mut log, &mut shared, accepted, client);
}

/// What the client gets until FIN; an error if the connection ends
/// otherwise (RST).
fn read_to_fin(client: &mut std::net::TcpStream) -> std::io::Result<Vec<u8>> {
    let mut got = Vec::new();
    client.read_to_end(&mut got)?;
    Ok(got)
}

#[test]
fn a_handshake_never_finished_is_given_up_at_120_s_and_not_before() {
    // The script's own read would wait 300 s: the handshake's deadline
    // comes first.
    half_a_hello(
        "read request within 300s else close\nrespond 200 body \"late\\n\"\n",
        |conn, log, shared, accepted, mut client| {
            let deadline = accepted + HANDSHAKE_TIMEOUT;
            assert_eq!(conn.poll_at(), PollAt::At(deadline));
            // Woken early (a stray wake): it goes on, and asks again.
            let mut turn = Turn {
                now: deadline - Duration::from_millis(1),
                log: &mut *log,
                shared: &mut *shared,
            };
            assert_eq!(conn.on_wake(&mut turn), Flow::Open);
            assert_eq!(conn.poll_at(), PollAt::At(deadline));
            let mut turn = Turn {
                now: deadline,
                log,
                shared,
            };
            assert_eq!(conn.on_wake(&mut turn), Flow::Closed);
            // The client hears nothing of TLS, then FIN.
            assert_eq!(read_to_fin(&mut client).expect("FIN"), b"");
        },
    );
}

#[test]
fn a_script_deadline_before_the_handshakes_comes_first() {
    half_a_hello(
        "read request within 200ms else close\nrespond 200 body \"late\\n\"\n",
        |conn, log, shared, accepted, mut client| {
            let deadline = accepted + Duration::from_millis(200);
            assert_eq!(conn.poll_at(), PollAt::At(deadline));
            let mut turn = Turn {
                now: deadline,
                log,
                shared,
            };
            assert_eq!(conn.on_wake(&mut turn), Flow::Closed);
            assert_eq!(read_to_fin(&mut client).expect("FIN"), b"");
        },
    );
}
