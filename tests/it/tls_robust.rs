//! Bad input to a TLS server, from the client side, for both of hangup's
//! TLS servers: `serve --tls` (rustls answers the handshake) and a script
//! that reads the ClientHello itself (`read tls-hello`, no cryptography).
//! Garbage instead of a ClientHello, broken and oversized records, a hello
//! dripped a byte at a time, hundreds of handshakes left half done,
//! clients that leave mid-handshake: no panic, each connection logged
//! once, memory bounded and given back, descriptors back to where they
//! were. Certificates that cannot be used and an alert with no name are
//! usage errors (exit 2) before `listening on`.
//!
//! The handshake deadline of `--tls` (120 s, Node's `handshakeTimeout`) is
//! too long to wait for here: `src/server/handshake_deadline.rs` drives it
//! with the clock in hand. Here, a script's own deadline cuts a dripped
//! hello at 200 ms, under `--tls` and without it.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::json::{Value, whole};
use crate::support::{End, Server, TempDir, client_hello, hangup_within, read_to_end, scenario_file, text};

const SHORT: Duration = Duration::from_secs(2);

/// Half-done handshakes held at once: enough for a per-connection figure
/// well above the noise, few enough for a fast suite.
const CROWD: usize = 300;

/// `hangup serve SCENARIO --tls FLAGS…`, JSON log.
fn serve_tls(scenario: &str, flags: &[&str]) -> Server {
    let mut all = vec!["--tls"];
    all.extend_from_slice(flags);
    Server::start_with(scenario, &all)
}

/// The server's open descriptors.
fn descriptors(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .expect("/proc/PID/fd")
        .count()
}

/// The server's resident memory, in KiB.
fn rss_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Wait (bounded) until `check` holds of the server; fail with `what`.
fn wait_until(server: &Server, what: &str, check: impl Fn(&Server) -> bool) {
    let give_up = Instant::now() + Duration::from_secs(5);
    while !check(server) {
        assert!(Instant::now() < give_up, "{what}; log:\n{}", server.log().join("\n"));
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `end` lines of connections `ids`, after waiting (bounded) for all
/// of them: each connection is logged once, and only once.
fn ends_of(server: &Server, ids: std::ops::RangeInclusive<u64>) -> Vec<Value> {
    let want = ids.clone().count();
    let mine = |ends: Vec<Value>| -> Vec<Value> {
        ends.into_iter()
            .filter(|end| ids.contains(&whole(end, "conn")))
            .collect()
    };
    wait_until(server, &format!("{want} connections ended"), |s| {
        mine(s.events("end")).len() >= want
    });
    let ends = mine(server.events("end"));
    let distinct: BTreeSet<u64> = ends.iter().map(|end| whole(end, "conn")).collect();
    assert_eq!(
        (ends.len(), distinct.len()),
        (want, want),
        "an end logged twice: {ends:?}"
    );
    ends
}

/// The lines of connection `id` other than its accept.
fn lines_of(server: &Server, id: u64) -> Vec<Value> {
    server
        .log()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["conn"] == id && line["event"] != "accept")
        .collect()
}

/// Bytes that look like nothing: the same every run.
fn noise(n: usize) -> Vec<u8> {
    let mut state: u32 = 0x2545_f491;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// A fatal alert record before any key: `decode_error` (50) and
/// `unexpected_message` (10), as rustls sends them.
const DECODE_ERROR: &[u8] = &[0x15, 3, 3, 0, 2, 2, 50];
const UNEXPECTED_MESSAGE: &[u8] = &[0x15, 3, 3, 0, 2, 2, 10];

/// What a client sends instead of a ClientHello, and what rustls answers
/// before its FIN: the alert that says what was wrong, or nothing.
fn bad_hellos() -> Vec<(&'static str, Vec<u8>, &'static [u8])> {
    vec![
        ("zeros", vec![0; 64], DECODE_ERROR),
        ("noise", noise(2048), DECODE_ERROR),
        (
            "plaintext HTTP",
            b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
            DECODE_ERROR,
        ),
        ("an SSL 2.0 hello", vec![0x80, 0x2e, 1, 3, 1], DECODE_ERROR),
        ("a record of 65535 bytes", vec![0x16, 3, 1, 0xff, 0xff], DECODE_ERROR),
        ("an empty record", vec![0x16, 3, 1, 0, 0], DECODE_ERROR),
        ("a hello of 16 MiB", vec![0x16, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff], b""),
        ("a ServerHello", vec![0x16, 3, 1, 0, 4, 2, 0, 0, 0], DECODE_ERROR),
        // A hello that ends after its version: no random, no suites.
        (
            "a hello cut inside",
            vec![0x16, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0],
            DECODE_ERROR,
        ),
        (
            "application data first",
            vec![0x17, 3, 3, 0, 5, 1, 2, 3, 4, 5],
            UNEXPECTED_MESSAGE,
        ),
        (
            "change_cipher_spec first",
            vec![0x14, 3, 1, 0, 1, 1],
            UNEXPECTED_MESSAGE,
        ),
        ("the client's fatal alert", vec![0x15, 3, 1, 0, 2, 2, 40], b""),
    ]
}

#[test]
fn garbage_and_broken_records_end_a_tls_handshake_once_each() {
    let server = serve_tls("hello", &[]);
    let baseline = descriptors(&server);
    let cases = bad_hellos();
    for (n, (what, bytes, alert)) in cases.iter().enumerate() {
        let mut stream = server.connect();
        stream.write_all(bytes).expect("send");
        let (received, end) = read_to_end(&mut stream, SHORT);
        assert_eq!((received.as_slice(), end), (*alert, End::PeerFin), "{what}");
        let id = n as u64 + 1;
        let end = &ends_of(&server, id..=id)[0];
        assert_eq!(end["how"], "error", "{what}: {end}");
        let why = end["error"].as_str().unwrap_or_default();
        assert!(why.starts_with("TLS: "), "{what}: {end}");
        // The end says why; nothing else is said of it.
        assert_eq!(lines_of(&server, id).len(), 1, "{what}: {:?}", lines_of(&server, id));
    }
    wait_until(&server, "descriptors back to the baseline", |s| {
        descriptors(s) == baseline
    });
    // Still serving.
    let out = Command::new("curl")
        .args(["-sSk", "-m", "5", &format!("https://localhost:{}/", server.addr.port())])
        .output()
        .expect("curl runs");
    assert_eq!(text(&out.stdout), "hello\n", "{}", text(&out.stderr));
}

#[test]
fn garbage_and_broken_records_end_a_read_tls_hello_once_each() {
    let server = Server::start("tls-reset-on-hello", &[]);
    let baseline = descriptors(&server);
    let cases = bad_hellos();
    for (n, (what, bytes, _)) in cases.iter().enumerate() {
        let mut stream = server.connect();
        stream.write_all(bytes).expect("send");
        let (received, end) = read_to_end(&mut stream, SHORT);
        // The script never gets to its reset: what was sent is read away
        // first, so the close is a FIN.
        assert_eq!((received.as_slice(), end), (&b""[..], End::PeerFin), "{what}");
        let id = n as u64 + 1;
        ends_of(&server, id..=id);
        let lines = lines_of(&server, id);
        let events: Vec<&str> = lines.iter().map(|line| line["event"].as_str().unwrap_or("")).collect();
        assert_eq!(events, ["tls-hello-error", "end"], "{what}: {lines:?}");
    }
    wait_until(&server, "descriptors back to the baseline", |s| {
        descriptors(s) == baseline
    });
}

/// A real client (Python's `ssl` on memory buffers) that sends its
/// ClientHello one byte every `ms`, then finishes the handshake and asks
/// for `/`: one line, what it got.
fn dripping_client(server: &Server, ms: u32) -> String {
    let script = r#"
import socket, ssl, sys, time
port, pause = int(sys.argv[1]), int(sys.argv[2]) / 1000
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def step(do):
    while True:
        try:
            return do()
        except ssl.SSLWantReadError:
            s.sendall(outgoing.read())
            data = s.recv(65536)
            if not data:
                sys.exit("FIN before the handshake was done")
            incoming.write(data)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outgoing.read()
for byte in hello:
    s.sendall(bytes([byte]))
    time.sleep(pause)
step(tls.do_handshake)
tls.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
s.sendall(outgoing.read())
got = b""
while not got.endswith(b"hello\n"):
    got += step(lambda: tls.read(65536))
print(f"{len(hello)} bytes dripped, then {got.splitlines()[0].decode()}: {got.splitlines()[-1].decode()}")
"#;
    let out = Command::new("python3")
        .args(["-c", script, &server.addr.port().to_string(), &ms.to_string()])
        .output()
        .expect("python3 runs");
    format!("{}{}", text(&out.stdout), text(&out.stderr)).trim().to_string()
}

#[test]
fn a_client_hello_dripped_a_byte_at_a_time_is_taken_whole() {
    let server = serve_tls("hello", &[]);
    let said = dripping_client(&server, 2);
    assert!(said.ends_with(" bytes dripped, then HTTP/1.1 200 OK: hello"), "{said}");
    let dripped: usize = said.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(dripped > 200, "{said}");
    let end = &ends_of(&server, 1..=1)[0];
    assert_eq!(whole(end, "requests"), 1, "{end}");
    assert_eq!(server.events("tls-handshake").len(), 1);
}

/// Drip `hello` one byte every 5 ms (the read timeout paces it) until the
/// server ends the connection: how it ended, how many bytes went, and when.
fn drip_until_the_end(server: &Server, hello: &[u8]) -> (Vec<u8>, End, usize, Duration) {
    // Timed from before the connect: hangup's clock for the connection
    // starts at its accept, which may come before `connect` returns.
    let start = Instant::now();
    let mut stream = server.connect();
    stream
        .set_read_timeout(Some(Duration::from_millis(5)))
        .expect("read timeout");
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    for (sent, byte) in hello.iter().enumerate() {
        if stream.write_all(&[*byte]).is_err() {
            return (received, End::PeerRst, sent, start.elapsed());
        }
        match stream.read(&mut buf) {
            Ok(0) => return (received, End::PeerFin, sent + 1, start.elapsed()),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return (received, End::PeerRst, sent + 1, start.elapsed());
            }
            Err(e) => panic!("unexpected read error {e}"),
        }
    }
    (received, End::Open, hello.len(), start.elapsed())
}

/// A hello dripped slower than the script's `within` allows is cut where
/// the script says, under `--tls` (the handshake runs below the script, and
/// the script's deadline holds meanwhile) and with `read tls-hello`: the
/// deadline is the step's, not reset by each byte.
#[test]
fn a_dripped_hello_is_cut_at_the_scripts_deadline() {
    let hello = client_hello("curl");
    let tls = serve_tls("hello", &["--set", "idle=200ms"]);
    let path = scenario_file(
        "slow-hello",
        "read tls-hello within 200ms else close\ntls alert internal_error\nclose\n",
    );
    let no_crypto = Server::start(&path, &[]);
    for server in [&tls, &no_crypto] {
        let (received, end, sent, after) = drip_until_the_end(server, &hello);
        assert_eq!(
            (received.as_slice(), end),
            (&b""[..], End::PeerFin),
            "{sent} bytes sent"
        );
        assert!(sent < hello.len(), "the whole hello went, in {after:?}");
        assert!(after >= Duration::from_millis(200), "cut after {after:?}");
        let ends = ends_of(server, 1..=1);
        assert_eq!(ends[0]["how"], "fin", "{}", ends[0]);
        assert_eq!(server.events("timeout").len(), 1);
        assert!(server.events("tls-hello").is_empty() && server.events("tls-handshake").is_empty());
    }
}

/// How a test knows the server has taken a half-done handshake in.
#[derive(Clone, Copy)]
enum TakenIn {
    /// The client received the first byte of the server's answer.
    Answered,
    /// The log says the hello was read (`tls-hello`).
    Logged,
}

/// `CROWD` clients send `hello` and no more. Then: memory per connection,
/// bounded; and once they leave (RST: they never read all the server
/// sent), every connection logged once, descriptors back to the baseline
/// and memory given back. Returns the bytes of memory each one held.
fn crowd_of_half_done_handshakes(server: &Server, hello: &[u8], taken_in: TakenIn) -> u64 {
    let fds_before = descriptors(server);
    // A first few connections page in the code they run: not what the
    // crowd holds.
    let warm = half_done(server, hello, 20, taken_in, 0);
    drop(warm);
    ends_of(server, 1..=20);
    wait_until(server, "descriptors back after the warm-up", |s| {
        descriptors(s) == fds_before
    });
    let rss_before = rss_kib(server);

    let crowd = half_done(server, hello, CROWD, taken_in, 20);
    assert_eq!(descriptors(server), fds_before + CROWD);
    let held = (rss_kib(server).saturating_sub(rss_before)) * 1024 / CROWD as u64;

    drop(crowd);
    // A client that read all the server sent leaves with FIN, one that did
    // not with RST.
    let how = match taken_in {
        TakenIn::Answered => "peer-rst",
        TakenIn::Logged => "peer-fin",
    };
    let ends = ends_of(server, 21..=20 + CROWD as u64);
    if let Some(other) = ends.iter().find(|end| end["how"] != how) {
        panic!("not {how}: {other}");
    }
    wait_until(server, "descriptors back to the baseline", |s| {
        descriptors(s) == fds_before
    });
    // hangup hands freed memory back a second after connections close.
    wait_until(server, "memory given back", |s| rss_kib(s) <= rss_before + 1024);
    held
}

/// `n` clients that sent `hello`, once the server has taken each in
/// (`before` connections came earlier).
fn half_done(server: &Server, hello: &[u8], n: usize, taken_in: TakenIn, before: usize) -> Vec<TcpStream> {
    let clients: Vec<TcpStream> = (0..n)
        .map(|_| {
            let mut stream = server.connect();
            stream.write_all(hello).expect("send the hello");
            stream
        })
        .collect();
    match taken_in {
        TakenIn::Answered => {
            for mut client in &clients {
                client.set_read_timeout(Some(SHORT)).expect("read timeout");
                let mut byte = [0u8];
                client.read_exact(&mut byte).expect("the server's answer");
                assert_eq!(byte, [0x16], "a handshake record");
            }
        }
        TakenIn::Logged => wait_until(server, "every hello read", |s| {
            s.events("tls-hello").len() >= before + n
        }),
    }
    clients
}

#[test]
fn hundreds_of_half_done_tls_handshakes_hold_bounded_memory_and_give_it_back() {
    // `hang`: nothing but the handshake deadline would end them.
    let server = serve_tls("hang", &[]);
    let held = crowd_of_half_done_handshakes(&server, &client_hello("curl"), TakenIn::Answered);
    // About 9 KiB here (rustls's handshake state and buffers): 10,000 of
    // them hold under 100 MB.
    assert!(held <= 32 * 1024, "{held} bytes per half-done handshake");
}

#[test]
fn hundreds_of_hellos_read_and_held_hold_bounded_memory_and_give_it_back() {
    let server = Server::start("tls-stall-hello", &[]);
    let held = crowd_of_half_done_handshakes(&server, &client_hello("curl"), TakenIn::Logged);
    assert!(held <= 4 * 1024, "{held} bytes per ClientHello read and held");
}

/// Leave with RST: linger 0, then close.
fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .expect("linger 0");
}

/// Which of hangup's TLS servers a test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handshaker {
    /// `serve --tls`: rustls answers.
    Rustls,
    /// A script that reads the hello (`read tls-hello`) and answers an
    /// alert, without cryptography.
    HelloOnly,
}

/// Clients that reset before or after the server's answer, or leave with
/// FIN mid-handshake: one end line each, saying so, and every descriptor
/// back.
#[test]
fn clients_that_leave_mid_handshake_are_logged_once_each() {
    let hello = client_hello("curl");
    let tls = serve_tls("hello", &[]);
    let path = scenario_file("hello-then-alert", "read tls-hello\ntls alert internal_error\nclose\n");
    let no_crypto = Server::start(&path, &[]);
    for (server, handshaker) in [(&tls, Handshaker::Rustls), (&no_crypto, Handshaker::HelloOnly)] {
        let baseline = descriptors(server);
        // Half a hello, then RST.
        for _ in 0..10 {
            let mut stream = server.connect();
            stream.write_all(&hello[..100]).expect("half a hello");
            reset(stream);
        }
        let mut expect = vec!["peer-rst"; 10];
        // rustls answers a whole hello: RST after the server's first byte.
        if handshaker == Handshaker::Rustls {
            for _ in 0..10 {
                let mut stream = server.connect();
                stream.write_all(&hello).expect("the hello");
                stream.set_read_timeout(Some(SHORT)).expect("read timeout");
                stream.read_exact(&mut [0u8]).expect("the server's answer");
                reset(stream);
            }
            expect.extend(["peer-rst"; 10]);
        }
        // Half a hello, then FIN: the server closes too. rustls's handshake
        // fails (as Node's does); a script's read sees its peer leave.
        for _ in 0..10 {
            let mut stream = server.connect();
            stream.write_all(&hello[..100]).expect("half a hello");
            stream.shutdown(std::net::Shutdown::Write).expect("FIN");
            let (received, end) = read_to_end(&mut stream, SHORT);
            assert_eq!((received.as_slice(), end), (&b""[..], End::PeerFin));
        }
        expect.extend(match handshaker {
            Handshaker::Rustls => ["error"; 10],
            Handshaker::HelloOnly => ["peer-fin"; 10],
        });
        let ends = ends_of(server, 1..=expect.len() as u64);
        for (id, how) in (1..).zip(expect) {
            let end = ends.iter().find(|end| whole(end, "conn") == id).expect("its end");
            assert_eq!(end["how"], how, "{handshaker:?}: {end}");
            if how == "error" {
                assert_eq!(
                    end["error"], "TLS: the peer closed the connection (FIN) before the handshake was done",
                    "{end}"
                );
            }
            assert_eq!(
                lines_of(server, id).len(),
                1,
                "{handshaker:?}: {:?}",
                lines_of(server, id)
            );
        }
        wait_until(server, "descriptors back to the baseline", |s| {
            descriptors(s) == baseline
        });
    }
}

/// A P-256 (or other) key and a certificate for it, made by openssl in
/// `dir` as NAME.crt and NAME.key.
fn openssl_pair(dir: &TempDir, name: &str, curve: &str) -> (String, String) {
    let cert = dir.path().join(format!("{name}.crt")).to_string_lossy().into_owned();
    let key = dir.path().join(format!("{name}.key")).to_string_lossy().into_owned();
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg(format!("ec_paramgen_curve:{curve}"))
        .args([
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-keyout",
            &key,
            "-out",
            &cert,
        ])
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    (cert, key)
}

#[test]
fn certificates_that_cannot_be_used_are_clear_usage_errors_before_listening() {
    let dir = TempDir::new("tls-robust-certs");
    let (a_cert, a_key) = openssl_pair(&dir, "a", "P-256");
    let (_, b_key) = openssl_pair(&dir, "b", "P-256");
    let (_, c_key) = openssl_pair(&dir, "c", "P-384");
    let pem = std::fs::read_to_string(&a_cert).expect("a.crt");
    let file = |name: &str, contents: &str| dir.file(name, contents).to_string_lossy().into_owned();
    let cut = file("cut.crt", &pem[..pem.len() / 2]);
    let empty = file("empty.pem", "");
    let not_base64 = file(
        "not-base64.crt",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let missing = dir.path().join("missing.pem").to_string_lossy().into_owned();
    let mismatch = "the key is not the certificate's: the certificate holds another public key";
    for (cert, key, says) in [
        (
            &a_cert,
            &b_key,
            format!("--tls-cert {a_cert} with --tls-key {b_key}: {mismatch}"),
        ),
        (
            &a_cert,
            &c_key,
            format!("--tls-cert {a_cert} with --tls-key {c_key}: {mismatch}"),
        ),
        (&a_key, &a_key, format!("--tls-cert {a_key}: no certificate in it")),
        (&a_cert, &a_cert, format!("--tls-key {a_cert}: no private key in it")),
        (&empty, &a_key, format!("--tls-cert {empty}: no certificate in it")),
        (&a_cert, &empty, format!("--tls-key {empty}: no private key in it")),
        (
            &cut,
            &a_key,
            format!("--tls-cert {cut}: cut short: no `-----END CERTIFICATE-----` line ends its section"),
        ),
        (
            &not_base64,
            &a_key,
            format!("--tls-cert {not_base64}: a section that is not base64"),
        ),
        (
            &missing,
            &a_key,
            format!("--tls-cert {missing}: cannot read it: No such file"),
        ),
    ] {
        let out = hangup_within(
            &[
                "serve",
                "hello",
                "--listen",
                "127.0.0.1:0",
                "--tls",
                "--tls-cert",
                cert,
                "--tls-key",
                key,
            ],
            Duration::from_secs(5),
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with(&format!("hangup: {says}")), "{stderr}");
        assert_eq!(text(&out.stdout), "", "nothing before the error");
    }
    // The pair that goes together serves.
    let server = serve_tls("hello", &["--tls-cert", &a_cert, "--tls-key", &a_key]);
    let out = Command::new("curl")
        .args(["-sSk", "-m", "5", &format!("https://localhost:{}/", server.addr.port())])
        .output()
        .expect("curl runs");
    assert_eq!(text(&out.stdout), "hello\n", "{}", text(&out.stderr));
}

#[test]
fn an_alert_with_no_name_is_a_scenario_error_before_listening() {
    let path = scenario_file("no-such-alert", "read tls-hello\ntls alert no_such_alert\nclose\n");
    for tls in [&[][..], &["--tls"][..]] {
        let mut args = vec!["serve", &path, "--listen", "127.0.0.1:0"];
        args.extend_from_slice(tls);
        let out = hangup_within(&args, Duration::from_secs(5));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.starts_with(&format!("hangup: {path}:2:11: `no_such_alert` is no TLS alert")),
            "{stderr}"
        );
        assert_eq!(text(&out.stdout), "");
    }
    let out = hangup_within(
        &[
            "serve",
            "tls-alert-on-hello",
            "--set",
            "alert=nope",
            "--listen",
            "127.0.0.1:0",
        ],
        Duration::from_secs(5),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--set alert=nope: `nope` is no TLS alert"), "{stderr}");
    assert_eq!(text(&out.stdout), "");
}
