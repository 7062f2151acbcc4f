//! [`Layer`]: one connection's TLS, on rustls, between the socket and the
//! script (see [`crate::transport`]).
//!
//! rustls is sans-I/O: it is handed the records read from the socket
//! (`read_tls`), opens them (`process_new_packets`), gives the plaintext
//! (`reader`), takes the script's plaintext (`writer`) and hands back the
//! records to write (`write_tls`). This layer does that dance on a
//! [`Stream`], and keeps what rustls would not take yet.
//!
//! Bounded by rustls: it holds at most 16 KiB of opened plaintext, so the
//! layer reads records from the socket only when that is empty (a script
//! that does not read leaves them in the kernel, as a plain connection
//! does), and takes records in while the handshake needs them.

use std::io;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};

use super::Handshake;
use super::options::Stall;
use super::verdict::Presented;
use crate::stream::{Io, Stream};

/// Records read in one go at most: one record of the largest size, with
/// its header and the room an AEAD takes (RFC 8446 §5.2).
const RECORD_READ: usize = 5 + (1 << 14) + 256;

/// The room `wire_in` keeps once rustls has taken all of it: a
/// ClientHello's records fit. Kept at [`RECORD_READ`] after one large read,
/// it stayed with every idle connection that had once received a full-size
/// record: after a 100 KB request each, 1,000 idle connections held 43 KiB
/// apiece, 16 KiB with the room given back (release build, glibc).
const KEEP_WIRE_IN: usize = 2048;

pub struct Layer {
    conn: Connection,
    /// Records read from the socket that rustls has not taken yet.
    wire_in: Vec<u8>,
    /// Plaintext rustls has opened that nobody read yet.
    plaintext: usize,
    /// The handshake's outcome was told (see [`Layer::take_handshake`]).
    told: bool,
    /// close_notify went out (or was queued).
    notified: bool,
    /// When a handshake not done by then is given up.
    deadline: std::time::Instant,
    /// Records withheld on purpose from some point on.
    cut: Cut,
    /// The peer's close_notify came.
    peer_notified: bool,
    /// The alert the peer ended the connection with, by number.
    peer_alert: Option<u8>,
    /// The peer sent bytes that are not TLS records at all.
    peer_not_tls: bool,
    /// A TLS error found while plaintext that came before it was still
    /// unread: told once that is read.
    failure: Option<Io>,
    /// On a client: what the server presented, once its verifier saw it.
    presented: Option<Arc<OnceLock<Presented>>>,
}

/// How many more bytes of records may reach the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// All of them.
    None,
    /// The first record written from now on, and nothing after it.
    AfterFirstRecord,
    /// This many more bytes, and nothing after them.
    After(u64),
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layer")
            .field("handshaking", &self.conn.is_handshaking())
            .field("plaintext", &self.plaintext)
            .finish_non_exhaustive()
    }
}

/// A TLS error, in words for the log: an alert the peer sent, or what was
/// wrong with what it sent (rustls has queued our alert saying so).
fn failure(error: rustls::Error) -> Io {
    Io::Failed(io::Error::other(format!("TLS: {error}")))
}

impl Layer {
    /// The server's side of a connection whose handshake must be done by
    /// `deadline`.
    pub fn server(config: Arc<ServerConfig>, deadline: std::time::Instant) -> Result<Layer, String> {
        let conn = ServerConnection::new(config).map_err(|e| format!("TLS: {e}"))?;
        Ok(Layer::over(conn.into(), deadline))
    }

    /// The client's side of a connection to `name`, whose verifier keeps
    /// what the server presented in `presented` (see
    /// [`super::client::TlsClient`]).
    pub(super) fn client(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        presented: Arc<OnceLock<Presented>>,
        deadline: std::time::Instant,
    ) -> Result<Layer, String> {
        let conn = ClientConnection::new(config, name).map_err(|e| format!("TLS: {e}"))?;
        let mut layer = Layer::over(conn.into(), deadline);
        layer.presented = Some(presented);
        Ok(layer)
    }

    fn over(conn: Connection, deadline: std::time::Instant) -> Layer {
        Layer {
            conn,
            wire_in: Vec::new(),
            plaintext: 0,
            told: false,
            notified: false,
            deadline,
            cut: Cut::None,
            peer_notified: false,
            peer_alert: None,
            peer_not_tls: false,
            failure: None,
            presented: None,
        }
    }

    /// Whether the peer's close_notify came: a `read` that gives
    /// [`Io::Eof`] after it is the well-behaved end; without it, the end
    /// of the TCP stream alone (a truncation, to a strict reader).
    pub fn peer_notified(&self) -> bool {
        self.peer_notified
    }

    /// The alert the peer ended the connection with (its number), once
    /// one came.
    pub fn peer_alert(&self) -> Option<u8> {
        self.peer_alert
    }

    /// Whether the peer sent bytes that are no TLS record (a server that
    /// answers in plain HTTP, say).
    pub fn peer_not_tls(&self) -> bool {
        self.peer_not_tls
    }

    /// On a client, once the server's certificate was seen: the
    /// certificate and the verdict on it.
    pub fn presented(&self) -> Option<&Presented> {
        self.presented.as_deref()?.get()
    }

    /// A TLS error: an alert the peer sent is kept (see
    /// [`Layer::peer_alert`]).
    fn failed(&mut self, error: rustls::Error) -> Io {
        match &error {
            rustls::Error::AlertReceived(alert) => self.peer_alert = Some(u8::from(*alert)),
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => self.peer_not_tls = true,
            _ => {}
        }
        failure(error)
    }

    /// Records the client sent before the layer began (`read tls-hello`
    /// read the ClientHello): they are taken in first.
    pub fn already_read(&mut self, wire: Vec<u8>) {
        self.wire_in = wire;
    }

    /// Stop the handshake on purpose where `stall` says.
    pub fn stall(&mut self, stall: Stall) {
        match stall {
            Stall::AfterServerHello => self.cut = Cut::AfterFirstRecord,
        }
    }

    /// From now on only `n` more bytes of records reach the socket; the
    /// rest is withheld for good (`tls cut after N bytes`).
    pub fn cut_after(&mut self, n: u64) {
        self.cut = Cut::After(n);
    }

    /// Whether records were withheld: a stalled handshake has stalled.
    pub fn withheld(&self) -> bool {
        self.cut == Cut::After(0) && !self.conn.wants_write()
    }

    /// While handshaking: when the handshake is given up.
    pub fn handshake_deadline(&self) -> Option<std::time::Instant> {
        self.conn.is_handshaking().then_some(self.deadline)
    }

    /// Whether the handshake is under way.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The application protocol ALPN agreed on, once it has.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Whether opened plaintext waits to be read (or the error that came
    /// after it).
    pub fn has_plaintext(&self) -> bool {
        self.plaintext > 0 || self.failure.is_some()
    }

    /// Records rustls has yet to write: one or more bytes (rustls does not
    /// say how many), so that a reset waits for them.
    pub fn unsent(&self) -> usize {
        usize::from(self.conn.wants_write())
    }

    /// What was received and not read: records not yet taken, and opened
    /// plaintext.
    pub fn buffered(&self) -> usize {
        self.wire_in.len() + self.plaintext
    }

    /// Whether a write is not done: records to write, or plaintext that
    /// waits for the handshake to end.
    pub fn pending(&self) -> bool {
        self.conn.wants_write() || self.conn.is_handshaking()
    }

    /// Hand rustls the records read so far, as many as it takes. A TLS
    /// error is the end: rustls queued the alert that says why.
    fn take_in(&mut self) -> Result<(), Io> {
        let mut offered = &self.wire_in[..];
        while !offered.is_empty() {
            // rustls refuses more while its plaintext buffer is full; what
            // it did not take stays in `wire_in`.
            match self.conn.read_tls(&mut offered) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            match self.conn.process_new_packets() {
                Ok(state) => {
                    self.plaintext = state.plaintext_bytes_to_read();
                    self.peer_notified |= state.peer_has_closed();
                }
                Err(e) => {
                    let taken = self.wire_in.len() - offered.len();
                    self.wire_in.drain(..taken);
                    return Err(self.failed(e));
                }
            }
        }
        let taken = self.wire_in.len() - offered.len();
        self.wire_in.drain(..taken);
        if self.wire_in.is_empty() && self.wire_in.capacity() > KEEP_WIRE_IN {
            self.wire_in = Vec::new();
        }
        Ok(())
    }

    /// Read records from the socket into `wire_in`, and hand them on.
    fn read_records(&mut self, stream: &mut Stream) -> Io {
        let wire_in = &mut self.wire_in;
        let io = stream.read(RECORD_READ, |bytes| wire_in.extend_from_slice(bytes));
        match io {
            Io::Data(_) => {
                if let Err(failed) = self.take_in() {
                    // The alert that says why goes out first.
                    let _ = self.flush(stream);
                    return failed;
                }
                Io::Data(0)
            }
            Io::Eof => {
                // rustls learns of the FIN from a read of nothing.
                let _ = self.conn.read_tls(&mut &[][..]);
                if let Err(e) = self.conn.process_new_packets() {
                    return self.failed(e);
                }
                if self.conn.is_handshaking() && matches!(self.conn, Connection::Server(_)) {
                    // A client's handshake given up, as Node's
                    // `tlsClientError` says it: not the end of a
                    // connection that was. As a client (the probe, the
                    // proxy's upstream), a server that closes before its
                    // hello is an empty reply, which they name themselves.
                    return Io::Failed(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "TLS: the peer closed the connection (FIN) before the handshake was done",
                    ));
                }
                Io::Eof
            }
            other => other,
        }
    }

    /// Plaintext into `buf`, reading and opening records as needed.
    pub fn read(&mut self, stream: &mut Stream, buf: &mut [u8]) -> Io {
        loop {
            match io::Read::read(&mut self.conn.reader(), buf) {
                // close_notify came: the end, cleanly.
                Ok(0) => return Io::Eof,
                Ok(n) => {
                    self.plaintext = self.plaintext.saturating_sub(n);
                    return Io::Data(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // A FIN without close_notify: the end too (the log says
                // which, from `peer_notified`), unless it failed a
                // handshake, which `failure` then says.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return self.failure.take().unwrap_or(Io::Eof),
                Err(e) => return Io::Failed(e),
            }
            // An alert (or another TLS error) is told after the plaintext
            // that came before it, in the same read or not: a response cut
            // by an alert shows its bytes first.
            if let Some(failed) = self.failure.take() {
                return failed;
            }
            if !self.wire_in.is_empty()
                && let Err(failed) = self.take_in()
            {
                let _ = self.flush(stream);
                self.failure = Some(failed);
                continue;
            }
            if self.plaintext > 0 {
                continue;
            }
            match self.read_records(stream) {
                Io::Data(_) => {
                    // Handshake messages to answer, or records a write
                    // queued: write them. A reset that write meets is not
                    // this read's answer yet: the plaintext the records
                    // just read hold came before it, and the read that
                    // finds no more tells the reset (the stream keeps it).
                    if let failed @ Io::Failed(_) = self.flush(stream) {
                        return failed;
                    }
                }
                Io::Eof => {}
                Io::Blocked => {
                    return match self.flush(stream) {
                        failed @ (Io::Reset(_) | Io::Failed(_)) => failed,
                        _ => Io::Blocked,
                    };
                }
                // A TLS error: the plaintext before it goes first.
                failed @ Io::Failed(_) => self.failure = Some(failed),
                failed => return failed,
            }
        }
    }

    /// Take `bytes` of plaintext (as much as rustls buffers), and write
    /// the records it makes as far as the socket takes them.
    pub fn write(&mut self, stream: &mut Stream, bytes: &[u8]) -> Io {
        // What is queued goes first; a full socket takes no more.
        match self.flush(stream) {
            Io::Data(_) => {}
            other => return other,
        }
        let n = match io::Write::write(&mut self.conn.writer(), bytes) {
            Ok(n) => n,
            Err(e) => return Io::Failed(e),
        };
        match self.flush(stream) {
            Io::Data(_) | Io::Blocked => Io::Data(n),
            failed => failed,
        }
    }

    /// Write the records rustls has made, until none is left
    /// ([`Io::Data`]) or the socket is full ([`Io::Blocked`]).
    pub fn flush(&mut self, stream: &mut Stream) -> Io {
        while self.conn.wants_write() {
            if !stream.is_writable() {
                return Io::Blocked;
            }
            let mut out = WireOut {
                stream,
                cut: &mut self.cut,
                io: None,
            };
            match self.conn.write_tls(&mut out) {
                Ok(_) => {}
                Err(_) => return out.io.unwrap_or(Io::Blocked),
            }
        }
        Io::Data(0)
    }

    /// While handshaking: take in what came and answer it, until the
    /// socket has nothing more or the handshake is done.
    pub fn pump(&mut self, stream: &mut Stream) -> Io {
        // Records read before the layer began (a ClientHello) go first.
        if !self.wire_in.is_empty()
            && let Err(failed) = self.take_in()
        {
            let _ = self.flush(stream);
            return failed;
        }
        if let failed @ (Io::Reset(_) | Io::Failed(_)) = self.flush(stream) {
            return failed;
        }
        while self.conn.is_handshaking() {
            match self.read_records(stream) {
                Io::Data(_) => {}
                Io::Blocked => break,
                // A client that leaves mid-handshake, or a TLS error.
                other => return other,
            }
            if let failed @ (Io::Reset(_) | Io::Failed(_)) = self.flush(stream) {
                return failed;
            }
        }
        self.flush(stream)
    }

    /// Queue close_notify and write it as far as the socket takes it now.
    /// Whether one was sent: not before the handshake is done (there is no
    /// connection to end well yet), and only once.
    pub fn close_notify(&mut self, stream: &mut Stream) -> bool {
        if self.conn.is_handshaking() || self.notified {
            return false;
        }
        self.notified = true;
        self.conn.send_close_notify();
        let _ = self.flush(stream);
        true
    }

    /// Once, when the handshake is newly done: what it agreed on.
    pub fn take_handshake(&mut self) -> Option<Handshake> {
        if self.told || self.conn.is_handshaking() {
            return None;
        }
        self.told = true;
        let version = self.conn.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "1.3".to_string(),
            rustls::ProtocolVersion::TLSv1_2 => "1.2".to_string(),
            other => format!("{other:?}"),
        });
        let cipher = self
            .conn
            .negotiated_cipher_suite()
            .and_then(|suite| suite.suite().as_str().map(str::to_string));
        let alpn = self
            .conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let sni = match &self.conn {
            Connection::Server(server) => server.server_name().map(str::to_string),
            Connection::Client(_) => None,
        };
        Some(Handshake {
            version: version.unwrap_or_default(),
            cipher: cipher.unwrap_or_default(),
            alpn,
            sni,
        })
    }
}

impl Layer {
    /// A fatal (or warning) alert sealed with the connection's keys, after
    /// the handshake: the records queued go first, then rustls is done
    /// with (its keys taken out), and the alert's record is handed back to
    /// be written. What the connection writes after it goes out as it is:
    /// TLS has ended.
    pub fn seal_alert(mut self, stream: &mut Stream, alert: [u8; 2]) -> Result<Vec<u8>, String> {
        match self.flush(stream) {
            Io::Data(_) if !self.conn.wants_write() => {}
            Io::Data(_) | Io::Blocked => return Err("records are still queued before the alert".into()),
            Io::Reset(e) | Io::Failed(e) => return Err(e.to_string()),
            Io::Eof => {}
        }
        let version = self.conn.protocol_version().ok_or("no TLS version agreed yet")?;
        let secrets = self
            .conn
            .dangerous_extract_secrets()
            .map_err(|e| format!("TLS: the keys cannot be taken out: {e}"))?;
        let (seq, keys) = secrets.tx;
        super::seal::alert_record(version, seq, &keys, alert)
    }
}

/// rustls writes records into this; it writes them to the stream, as far
/// as the cut allows (the rest is taken and dropped), and keeps how the
/// stream answered.
struct WireOut<'a> {
    stream: &'a mut Stream,
    cut: &'a mut Cut,
    io: Option<Io>,
}

impl io::Write for WireOut<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if *self.cut == Cut::AfterFirstRecord && bytes.len() >= 5 {
            // A record's header says how long it is.
            *self.cut = Cut::After(5 + u64::from(u16::from_be_bytes([bytes[3], bytes[4]])));
        }
        let allowed = match *self.cut {
            Cut::None | Cut::AfterFirstRecord => bytes,
            Cut::After(0) => return Ok(bytes.len()),
            Cut::After(n) => &bytes[..bytes.len().min(n as usize)],
        };
        match self.stream.write(allowed) {
            Io::Data(n) => {
                if let Cut::After(left) = self.cut {
                    *left -= n as u64;
                }
                Ok(n)
            }
            other => {
                let error = io::Error::new(io::ErrorKind::WouldBlock, "not written");
                self.io = Some(other);
                Err(error)
            }
        }
    }

    /// rustls hands its queued records over as one slice each (a server's
    /// first flight is five or six): they go to the socket in one write,
    /// as bare rustls on a socket sends them with one `writev`. One
    /// `send` per record cost a full handshake three sends instead of one
    /// (strace), and the kernel's work for each.
    fn write_vectored(&mut self, slices: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut full = slices.iter().filter(|slice| !slice.is_empty());
        match (full.next(), full.next()) {
            (None, _) => Ok(0),
            (Some(only), None) => self.write(only),
            (Some(_), Some(_)) => self.write(
                &slices
                    .iter()
                    .flat_map(|slice| slice.iter().copied())
                    .collect::<Vec<u8>>(),
            ),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The layer on a real loopback connection, driven by a rustls client:
    //! the handshake deadline, the memory a connection keeps, and how its
    //! records reach the socket.

    use std::io::Write;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::{Cut, KEEP_WIRE_IN, Layer, WireOut};
    use crate::stream::{Io, Stream};
    use crate::tls::certs::Certificates;
    use crate::tls::options::HandshakeOptions;
    use crate::tls::{HANDSHAKE_TIMEOUT, TlsServer};

    /// A loopback connection: the server's end as a [`Stream`], the
    /// client's as a blocking socket.
    fn pair() -> (Stream, std::net::TcpStream) {
        let (server, client) = Stream::loopback_pair();
        (Stream::accepted(server), client)
    }

    /// A server with generated certificates, and a client trusting its CA.
    fn server_and_client() -> (TlsServer, rustls::ClientConnection) {
        let server = TlsServer::new(Certificates::generate(&[]).expect("certificates")).expect("server");
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(server.ca_pem().expect("a CA").as_bytes()).expect("CA PEM");
        roots.add(ca).expect("root");
        let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = "localhost".try_into().expect("a name");
        let client = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        (server, client)
    }

    /// Pump the layer as readiness events would, until `done` holds (the
    /// kernel hands loopback bytes over at once; bounded all the same).
    fn pump_until(layer: &mut Layer, stream: &mut Stream, done: impl Fn(&Layer, &Stream) -> bool) {
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            stream.assume_readable();
            match layer.pump(stream) {
                Io::Data(_) | Io::Blocked => {}
                other => panic!("the handshake failed: {other:?}"),
            }
            if done(layer, stream) {
                return;
            }
            assert!(Instant::now() < give_up, "no progress: {layer:?}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A ClientHello dripped a byte at a time moves nothing: the deadline
    /// is the one set at accept, 120 s on, however the bytes come; it is
    /// there while the handshake is under way, and gone once it is done,
    /// so that it never cuts an established connection.
    #[test]
    fn the_handshake_deadline_is_set_at_accept_and_lifted_when_done() {
        let (mut tls, mut client) = server_and_client();
        let (mut stream, mut socket) = pair();
        let accepted = Instant::now();
        let mut layer = tls.layer(&HandshakeOptions::default(), accepted).expect("layer");
        let deadline = Some(accepted + HANDSHAKE_TIMEOUT);
        assert_eq!(layer.handshake_deadline(), deadline);

        let mut hello = Vec::new();
        client.write_tls(&mut hello).expect("the ClientHello");
        for (i, byte) in hello.iter().enumerate() {
            socket.write_all(&[*byte]).expect("a byte");
            pump_until(&mut layer, &mut stream, |_, s| s.bytes_in() == i as u64 + 1);
            assert_eq!(layer.handshake_deadline(), deadline, "after byte {i}");
            if i + 1 < hello.len() {
                assert_eq!(stream.bytes_out(), 0, "answered a partial hello at byte {i}");
            }
        }
        // The whole hello: the server's flight goes out.
        pump_until(&mut layer, &mut stream, |_, s| s.bytes_out() > 0);
        assert_eq!(layer.handshake_deadline(), deadline);

        while client.is_handshaking() {
            client.read_tls(&mut socket).expect("the server's flight");
            client.process_new_packets().expect("a good flight");
        }
        while client.wants_write() {
            client.write_tls(&mut socket).expect("the client's Finished");
        }
        pump_until(&mut layer, &mut stream, |l, _| !l.is_handshaking());
        assert_eq!(layer.handshake_deadline(), None);
    }

    /// After a full-size record (a request body, a large hello), the
    /// layer's own buffer gives its room back once rustls took it all.
    #[test]
    fn a_large_record_leaves_no_large_buffer_behind() {
        let (mut tls, _) = server_and_client();
        let (mut stream, mut socket) = pair();
        let mut layer = tls.layer(&HandshakeOptions::default(), Instant::now()).expect("layer");
        // A ClientHello that says it is 60,000 bytes long, in two records
        // of 16 KiB: rustls takes them in and waits for the rest.
        let mut message = vec![1, 0, 0xea, 0x60];
        message.resize(2 << 14, 0);
        let mut records = Vec::new();
        for piece in message.chunks(1 << 14) {
            records.extend_from_slice(&[0x16, 3, 1]);
            records.extend_from_slice(&(piece.len() as u16).to_be_bytes());
            records.extend_from_slice(piece);
        }
        socket.write_all(&records).expect("records");
        let sent = records.len() as u64;
        pump_until(&mut layer, &mut stream, |l, s| {
            s.bytes_in() == sent && l.wire_in.is_empty()
        });
        assert!(layer.is_handshaking());
        assert!(
            layer.wire_in.capacity() <= KEEP_WIRE_IN,
            "{} bytes of room kept",
            layer.wire_in.capacity()
        );
    }

    /// A client that leaves (FIN) mid-handshake has given the handshake
    /// up: a failure that says so, not the end of a connection.
    #[test]
    fn a_fin_mid_handshake_is_a_handshake_given_up() {
        let (mut tls, _) = server_and_client();
        let (mut stream, mut socket) = pair();
        let mut layer = tls.layer(&HandshakeOptions::default(), Instant::now()).expect("layer");
        socket
            .write_all(&crate::tls::fixture("curl")[..100])
            .expect("half a hello");
        socket.shutdown(std::net::Shutdown::Write).expect("FIN");
        let give_up = Instant::now() + Duration::from_secs(5);
        let failed = loop {
            stream.assume_readable();
            match layer.pump(&mut stream) {
                Io::Blocked => {}
                other => break other,
            }
            assert!(Instant::now() < give_up, "no FIN seen");
            std::thread::sleep(Duration::from_millis(1));
        };
        let Io::Failed(error) = failed else {
            panic!("{failed:?}");
        };
        assert_eq!(
            error.to_string(),
            "TLS: the peer closed the connection (FIN) before the handshake was done"
        );
    }

    /// The records rustls queued together (a server's first flight) leave
    /// in one write; a cut after the first record still cuts there.
    #[test]
    fn records_queued_together_leave_in_one_write() {
        use std::io::IoSlice;
        let records: [&[u8]; 3] = [
            &[0x16, 3, 3, 0, 1, 2],
            &[0x14, 3, 3, 0, 1, 1],
            &[0x17, 3, 3, 0, 2, 9, 9],
        ];
        let slices: Vec<IoSlice> = records.iter().map(|record| IoSlice::new(record)).collect();

        let (mut stream, _client) = pair();
        let mut cut = Cut::None;
        let mut out = WireOut {
            stream: &mut stream,
            cut: &mut cut,
            io: None,
        };
        assert_eq!(out.write_vectored(&slices).expect("written"), 19);
        assert_eq!(stream.bytes_out(), 19);

        let (mut stream, _client) = pair();
        let mut cut = Cut::AfterFirstRecord;
        let mut out = WireOut {
            stream: &mut stream,
            cut: &mut cut,
            io: None,
        };
        assert_eq!(out.write_vectored(&slices).expect("written"), 6);
        // rustls offers the rest: taken, and withheld.
        assert_eq!(out.write_vectored(&slices[1..]).expect("taken"), 13);
        assert_eq!(stream.bytes_out(), 6);
    }
}
