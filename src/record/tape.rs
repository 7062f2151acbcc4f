//! [`Tape`]: what went through one proxied client connection, as it
//! happened, for `serve --upstream … --record DIR`.
//!
//! The client connection's stream shows the tape every byte it reads and
//! writes (the tape is its [`Tap`]); the connection tells it when a whole
//! request arrived and how the connection ended. Sans-I/O: the tape only
//! keeps what it is shown, with the times it is given. When the
//! connection ends, [`Tap::finish`] hands it to the writer thread
//! ([`super::writer`]), which renders it ([`Tape::files`]) and writes the
//! files; the event loop never does.
//!
//! A connection still open when the server stops is recorded too: its tape
//! is dropped unfinished, and [`Drop`] hands it over as it is, ending in
//! `hang`, with a note that says so.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::writer::Queue;
use super::{Ending, Method, Pauses, Recording, Wait};
use crate::end::End;
use crate::probe::tls::TlsEnd;
use crate::transport::{Boundary, Tap};

/// The client's bytes kept at most, for `conn-N.client.bin`.
pub(crate) const CLIENT_LIMIT: usize = 16 << 20;

/// What went through a proxied client connection.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    /// Where the scenario goes, and the connection's number.
    dir: PathBuf,
    id: u64,
    upstream: String,
    accepted: Option<Instant>,
    last: Option<Instant>,
    /// The server's side of the story.
    recording: Recording,
    /// A request arrived since the last write: the replay waits for one.
    requests: bool,
    /// Client bytes read since the last write (for a raw protocol's wait).
    unanswered: u64,
    /// The first bytes of the request under way: its method.
    request_start: Vec<u8>,
    /// Everything the client sent (up to [`CLIENT_LIMIT`]), for a side file.
    client: Vec<u8>,
    /// The client sent more than [`CLIENT_LIMIT`].
    client_cut: bool,
    /// How the upstream ended TLS, when it spoke TLS and ended.
    tls_end: Option<TlsEnd>,
    /// Handed to the writer: dropping it is the end of it.
    finished: bool,
    /// Where it goes when it is finished (or dropped at the stop).
    queue: Option<Queue>,
}

/// What a finished tape writes: files by name (the scenario last), in the
/// directory, and what the limits cost.
pub(crate) struct TapeFiles {
    pub dir: PathBuf,
    /// Side files first, the scenario last.
    pub files: Vec<(String, Vec<u8>)>,
    pub notes: Vec<String>,
}

impl Tape {
    /// A tape for connection `id`, accepted `now`, written into `dir` by
    /// the writer behind `queue`.
    pub fn new(dir: PathBuf, id: u64, upstream: String, now: Instant, queue: Queue) -> Tape {
        Tape::with_queue(dir, id, upstream, now, Some(queue))
    }

    fn with_queue(dir: PathBuf, id: u64, upstream: String, now: Instant, queue: Option<Queue>) -> Tape {
        Tape {
            dir,
            id,
            upstream,
            accepted: Some(now),
            last: Some(now),
            recording: Recording {
                pauses: Pauses::Kept,
                ..Recording::default()
            },
            requests: false,
            unanswered: 0,
            request_start: Vec::new(),
            client: Vec::new(),
            client_cut: false,
            tls_end: None,
            finished: false,
            queue,
        }
    }

    /// The upstream speaks TLS (`--upstream https://…`): the recording is
    /// of an HTTPS server, and its replay is served with `--tls`, ending
    /// as the upstream ended TLS. (What the client spoke to the proxy,
    /// plain or `--tls`, is not the server's doing.)
    pub fn over_tls(mut self) -> Tape {
        self.recording.over_tls = true;
        self
    }

    /// The connection's number.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// When the connection was accepted.
    pub fn accepted(&self) -> Option<Instant> {
        self.accepted
    }

    /// The bytes it holds, against the writer's queue.
    pub fn size(&self) -> usize {
        self.recording.held() + self.client.len()
    }

    /// The scenario's name in its directory: `conn-000001.hup`.
    pub fn scenario_name(&self) -> String {
        format!("conn-{:06}.hup", self.id)
    }

    fn since_last(&mut self, now: Instant) -> Duration {
        let after = self
            .last
            .map_or(Duration::ZERO, |last| now.saturating_duration_since(last));
        self.last = Some(now);
        after
    }

    /// The files to write: the side files, the client's bytes, and the
    /// scenario last. `command` is the `hangup serve …` that recorded it.
    pub fn files(self, command: &str, at: std::time::SystemTime) -> TapeFiles {
        let mut tape = self;
        tape.finished = true;
        let stem = format!("conn-{:06}", tape.id);
        let client_file = format!("{stem}.client.bin");
        let mut recording = std::mem::take(&mut tape.recording);
        recording.source = tape.upstream.clone();
        recording.how = format!("`{command}` (client connection {})", tape.id);
        recording.seen = vec![format!(
            "the client sent {} bytes: {client_file}{}",
            tape.client.len(),
            if tape.client_cut { " (up to the limit)" } else { "" }
        )];
        if tape.client_cut {
            recording.notes.push(format!(
                "{client_file} keeps the client's first {} MiB only",
                CLIENT_LIMIT >> 20
            ));
        }
        let written = recording.to_scenario(&tape.scenario_name(), &stem, at);
        let mut files: Vec<(String, Vec<u8>)> = written
            .side_files
            .into_iter()
            .map(|(name, bytes)| (name, bytes.into_owned()))
            .collect();
        files.push((client_file, std::mem::take(&mut tape.client)));
        files.push((tape.scenario_name(), written.scenario.into_bytes()));
        TapeFiles {
            dir: std::mem::take(&mut tape.dir),
            files,
            notes: written.notes,
        }
    }

    /// End the recording: `ending` as the client saw it, at `now`.
    fn end(&mut self, ending: Ending, now: Instant) {
        let after = self.since_last(now);
        self.recording.ending = Some((ending, after));
    }
}

impl Tap for Tape {
    fn read(&mut self, bytes: &[u8], _: Boundary) {
        self.unanswered += bytes.len() as u64;
        if self.request_start.len() < 5 {
            let more = (5 - self.request_start.len()).min(bytes.len());
            self.request_start.extend_from_slice(&bytes[..more]);
        }
        if self.client.len() + bytes.len() <= CLIENT_LIMIT {
            self.client.extend_from_slice(bytes);
        } else {
            self.client_cut = true;
        }
    }

    fn request(&mut self, now: Instant) {
        self.requests = true;
        self.recording.wait(Wait::Request);
        // Read as the request's first bytes; a pipelined next request read
        // in the same read is taken for a GET (its response only splits
        // worse, never loses a byte).
        self.recording.next_request(Method::of(&self.request_start));
        self.request_start.clear();
        self.unanswered = 0;
        self.last = Some(now);
    }

    fn server_tls_end(&mut self, end: TlsEnd) {
        self.tls_end = Some(end);
    }

    fn wrote(&mut self, bytes: &[u8], boundary: Boundary, now: Instant) {
        if !self.requests && self.unanswered > 0 {
            // A raw protocol: wait for as many bytes as the client sent.
            self.recording.wait(Wait::Bytes(self.unanswered));
        }
        self.unanswered = 0;
        let after = self.since_last(now);
        self.recording.chunk(after, bytes, boundary);
    }

    fn finish(mut self: Box<Self>, how: End, now: Instant) -> Result<(), String> {
        // What the client saw of the server: its FIN, its RST, or nothing
        // (the client left first).
        // Behind the proxy, an HTTPS upstream's TLS end is the server's:
        // its alert (the client got an RST for it), or its FIN without
        // close_notify.
        let ending = match (how, self.tls_end) {
            (End::Fin | End::Rst, Some(TlsEnd::Alert(alert))) => Ending::TlsAlert(alert),
            (End::Fin, Some(TlsEnd::NoCloseNotify)) => Ending::CloseNoNotify,
            (End::Fin, _) => Ending::Close,
            (End::Rst, _) => Ending::Reset,
            _ => Ending::Hang,
        };
        self.end(ending, now);
        self.finished = true;
        match self.queue.clone() {
            Some(queue) => queue.submit(self),
            None => Err("no recording writer is running".into()),
        }
    }
}

impl Drop for Tape {
    /// A tape dropped before its connection ended: the server stopped.
    /// What it saw is still written (best effort: a full queue drops it).
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let mut tape = Box::new(std::mem::take(self));
        tape.recording
            .notes
            .push("the recording ends where hangup stopped, with the connection still open".into());
        // No clock here: the pause before a `hang` replays as nothing anyway.
        tape.recording.ending = Some((Ending::Hang, Duration::ZERO));
        if let Some(queue) = tape.queue.clone()
            && queue.submit(tape).is_err()
        {
            queue.dropped_unlogged();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn tape() -> Tape {
        let mut tape = Tape::with_queue("dir".into(), 7, "127.0.0.1:1".into(), Instant::now(), None);
        // Not handed to a writer when dropped: there is none in a unit test,
        // but say so rather than rely on it.
        tape.finished = true;
        tape
    }

    #[test]
    fn a_proxied_exchange_becomes_a_scenario_with_the_clients_bytes_beside_it() {
        let start = Instant::now();
        let mut tape = tape();
        tape.read(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", Boundary::Sender);
        tape.request(start);
        let ms = |n| start + Duration::from_millis(n);
        tape.wrote(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", Boundary::Sender, ms(2));
        tape.end(Ending::Close, ms(5));
        let files = tape.files("hangup serve proxy --record d", UNIX_EPOCH);
        let names: Vec<&str> = files.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["conn-000007.client.bin", "conn-000007.hup"]);
        let scenario = String::from_utf8(files.files[1].1.clone()).expect("text");
        assert!(
            scenario.contains("by `hangup serve proxy --record d` (client connection 7)"),
            "{scenario}"
        );
        assert!(
            scenario.ends_with(
                "read request\nsleep 2000us\nwrite \"HTTP/1.1 200 OK\\r\\n\" \"Content-Length: 5\\r\\n\" \"\\r\\n\"\nsleep 3000us\nclose\n"
            ),
            "{scenario}"
        );
    }
}
