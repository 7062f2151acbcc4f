//! Recordings: what a real server did on one connection, written as a
//! scenario that does it again, byte for byte.
//!
//! A [`Recording`] is what was seen, as steps: wait for the client (its
//! request, its head, or raw bytes), write a chunk exactly as it arrived
//! (its boundaries are the reads that brought it), and an ending: FIN
//! (`close`), RST (`reset`) or nothing (`hang`). [`Recording::to_scenario`]
//! turns it into a scenario a person reads and edits: text chunks as
//! strings split at line ends, binary ones as `hex`, chunks over 64 KiB in
//! side files read with `file`, and, with timing, the pauses as `sleep`s.
//! Sans-I/O: the caller writes the files.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A chunk larger than this goes into a side file next to the scenario
/// (one read brings at most this much: a larger chunk is a body that
/// filled read after read).
pub(crate) const SIDE_FILE_OVER: usize = crate::stream::READ_CHUNK;
/// What one recording keeps at most, chunks and client bytes together:
/// the scenario's held-bytes limit, so that the replay always loads.
pub(crate) const RECORD_LIMIT: usize = 16 << 20;

/// How the replay waits for the client before the server's next bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A whole request (head and body).
    Request,
    /// A request's head: the server answered before the body was all sent.
    Head,
    /// Raw bytes, as many as the client sent (not HTTP).
    Bytes(u64),
}

/// How the server ended the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// FIN.
    Close,
    /// RST.
    Reset,
    /// Nothing: it stayed open until the client left.
    Hang,
}

/// One step of what the server did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Wait(Wait),
    /// Bytes as one read brought them, `after` the step before.
    Chunk {
        after: Duration,
        bytes: Vec<u8>,
    },
}

/// What was seen on one connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Recording {
    /// Where from: `http://127.0.0.1:8080/`, or a proxy's upstream.
    pub source: String,
    /// How it was recorded: `hangup probe … --record`, a proxy connection.
    pub how: String,
    /// What the recorder saw, one line each, for the header comment.
    pub seen: Vec<String>,
    pub steps: Vec<Step>,
    /// How the server ended it, and how long after the last step.
    pub ending: Option<(Ending, Duration)>,
    /// Keep the pauses as `sleep`s.
    pub timing: bool,
    /// Set when the recording stopped at [`RECORD_LIMIT`].
    pub limit_hit: Option<String>,
    /// Bytes recorded so far, against the limit.
    pub held: usize,
}

/// What went through a proxied client connection, as it happened: the
/// recorder of `serve --upstream … --record DIR`.
#[derive(Debug)]
pub(crate) struct Tape {
    /// Where the scenario goes, and the connection's number.
    dir: std::path::PathBuf,
    id: u64,
    upstream: String,
    last: std::time::Instant,
    /// The server's side of the story.
    recording: Recording,
    /// A request arrived since the last write: the replay waits for one.
    requests: bool,
    /// Client bytes read since the last write (for a raw protocol's wait).
    unanswered: u64,
    /// Everything the client sent, for a side file.
    client: Vec<u8>,
}

impl Tape {
    /// A tape for connection `id`, written into `dir` when it ends.
    pub fn new(dir: std::path::PathBuf, id: u64, upstream: String, now: std::time::Instant) -> Tape {
        Tape {
            dir,
            id,
            upstream,
            last: now,
            recording: Recording::default(),
            requests: false,
            unanswered: 0,
            client: Vec::new(),
        }
    }

    /// The client sent these bytes.
    pub fn read(&mut self, bytes: &[u8]) {
        self.unanswered += bytes.len() as u64;
        if self.recording.room_for(bytes.len()) {
            self.client.extend_from_slice(bytes);
        }
    }

    /// A whole request (or head) arrived: the replay reads requests.
    pub fn request(&mut self, now: std::time::Instant) {
        self.requests = true;
        self.recording.steps.push(Step::Wait(Wait::Request));
        self.unanswered = 0;
        self.last = now;
    }

    /// These bytes went to the client.
    pub fn wrote(&mut self, bytes: &[u8], now: std::time::Instant) {
        if !self.requests && self.unanswered > 0 {
            // A raw protocol: wait for as many bytes as the client sent.
            self.recording.steps.push(Step::Wait(Wait::Bytes(self.unanswered)));
        }
        self.unanswered = 0;
        let after = now.saturating_duration_since(self.last);
        self.last = now;
        self.recording.chunk(after, bytes);
    }

    /// The connection ended so: write the scenario (and the client's bytes
    /// beside it). Returns the scenario's path, or why it could not be
    /// written.
    pub fn finish(mut self, ending: Ending, now: std::time::Instant) -> Result<String, String> {
        let stem = format!("conn-{:06}", self.id);
        let after = now.saturating_duration_since(self.last);
        self.recording.ending = Some((ending, after));
        self.recording.timing = true;
        self.recording.source = self.upstream.clone();
        self.recording.how = format!("hangup's proxy (client connection {})", self.id);
        let client_file = format!("{stem}.client.bin");
        self.recording.seen = vec![format!(
            "the client sent {} bytes: {client_file}{}",
            self.client.len(),
            if self.recording.limit_hit.is_some() {
                " (up to the limit)"
            } else {
                ""
            }
        )];
        let written = self.recording.to_scenario(&stem);
        let write = |name: &str, bytes: &[u8]| {
            let path = self.dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
        };
        write(&client_file, &self.client)?;
        for (name, bytes) in &written.side_files {
            write(name, bytes)?;
        }
        let name = format!("{stem}.hup");
        write(&name, written.scenario.as_bytes())?;
        let path = self.dir.join(name).display().to_string();
        Ok(match &self.recording.limit_hit {
            Some(why) => format!("{path} ({why})"),
            None => path,
        })
    }
}

/// A scenario's text and the side files it reads, by name.
pub(crate) struct Written {
    pub scenario: String,
    pub side_files: Vec<(String, Vec<u8>)>,
}

impl Recording {
    /// Add a chunk the server sent; false (and nothing kept) past the
    /// limit, which is then said in the recording.
    pub fn chunk(&mut self, after: Duration, bytes: &[u8]) -> bool {
        if !self.room_for(bytes.len()) {
            return false;
        }
        // A chunk that filled the reader's buffer (64 KiB, or a multiple
        // after merging) was cut by hangup, not by the server: the bytes
        // went on, so they go on in the same chunk. Shorter reads are the
        // server's own boundaries and stay apart.
        if let Some(Step::Chunk { bytes: last, .. }) = self.steps.last_mut()
            && !last.is_empty()
            && last.len() % crate::stream::READ_CHUNK == 0
        {
            last.extend_from_slice(bytes);
            return true;
        }
        self.steps.push(Step::Chunk {
            after,
            bytes: bytes.to_vec(),
        });
        true
    }

    /// Count `n` more bytes against the limit, or note that it was hit.
    pub fn room_for(&mut self, n: usize) -> bool {
        if self.limit_hit.is_some() {
            return false;
        }
        if self.held + n > RECORD_LIMIT {
            self.limit_hit = Some(format!(
                "the recording stopped at {} MiB; what came after was not kept",
                RECORD_LIMIT >> 20
            ));
            return false;
        }
        self.held += n;
        true
    }

    /// The scenario, named `stem` (side files are `STEM.N.bin`).
    pub fn to_scenario(&self, stem: &str) -> Written {
        let mut out = String::new();
        let mut side_files = Vec::new();
        let _ = writeln!(out, "# Recorded from {} by {}, {}.", self.source, self.how, utc_now());
        for line in &self.seen {
            let _ = writeln!(out, "# {}", one_line(line));
        }
        if let Some(why) = &self.limit_hit {
            let _ = writeln!(out, "# NOTE: {why}.");
        }
        let _ = writeln!(
            out,
            "# Replay: hangup serve {stem}.hup. The bytes are the server's, in the chunks they came in;\n\
             # move the ending (or put a `reset` between two writes) to make the fault you want.\n"
        );
        for step in &self.steps {
            match step {
                Step::Wait(Wait::Request) => out.push_str("read request\n"),
                Step::Wait(Wait::Head) => out.push_str("read head\n"),
                Step::Wait(Wait::Bytes(n)) => {
                    let _ = writeln!(out, "read {n} bytes");
                }
                Step::Chunk { after, bytes } => {
                    if self.timing {
                        push_sleep(&mut out, *after);
                    }
                    if bytes.len() > SIDE_FILE_OVER {
                        let name = format!("{stem}.{}.bin", side_files.len() + 1);
                        let _ = writeln!(out, "write file \"{name}\"");
                        side_files.push((name, bytes.clone()));
                    } else {
                        out.push_str("write");
                        push_bytes(&mut out, bytes);
                        out.push('\n');
                    }
                }
            }
        }
        match self.ending {
            Some((ending, after)) => {
                if self.timing {
                    push_sleep(&mut out, after);
                }
                out.push_str(match ending {
                    Ending::Close => "close\n",
                    Ending::Reset => "reset\n",
                    Ending::Hang => "hang\n",
                });
            }
            None => out.push_str("hang\n"),
        }
        Written {
            scenario: out,
            side_files,
        }
    }
}

/// ` "text\r\n" "more"` for text, ` hex "…"` for anything else.
fn push_bytes(out: &mut String, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.chars().all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t')));
    let Some(text) = text else {
        out.push_str(" hex \"");
        for byte in bytes {
            let _ = write!(out, "{byte:02x}");
        }
        out.push('"');
        return;
    };
    // One string per line of the text: still one write, one send.
    for line in text.split_inclusive('\n') {
        out.push_str(" \"");
        for c in line.chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                // Bidi and other invisible characters stay visible.
                c if c.is_whitespace() && c != ' ' || is_invisible(c) => {
                    for byte in c.to_string().bytes() {
                        let _ = write!(out, "\\x{byte:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn push_sleep(out: &mut String, after: Duration) {
    let us = after.as_micros();
    if us > 0 {
        let _ = writeln!(out, "sleep {us}us");
    }
}

/// A header comment line cannot hold a line break.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// `2026-11-30 22:41:07 UTC`, from the system clock.
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::scenario::parser::parse;

    fn recording(steps: Vec<Step>, ending: Ending) -> Recording {
        Recording {
            source: "http://127.0.0.1:1/".into(),
            how: "a test".into(),
            seen: vec!["outcome reset (mid-body)".into()],
            steps,
            ending: Some((ending, Duration::from_millis(3))),
            timing: true,
            ..Recording::default()
        }
    }

    #[test]
    fn text_and_binary_chunks_become_a_scenario_that_parses_to_the_same_bytes() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello,".to_vec();
        let binary: Vec<u8> = (0..=255).collect();
        let rec = recording(
            vec![
                Step::Wait(Wait::Request),
                Step::Chunk {
                    after: Duration::from_micros(250),
                    bytes: head.clone(),
                },
                Step::Chunk {
                    after: Duration::ZERO,
                    bytes: binary.clone(),
                },
            ],
            Ending::Reset,
        );
        let written = rec.to_scenario("x");
        assert!(written.side_files.is_empty());
        let text = &written.scenario;
        assert!(
            text.contains("write \"HTTP/1.1 200 OK\\r\\n\" \"Content-Length: 13\\r\\n\" \"\\r\\n\" \"Hello,\"\n"),
            "{text}"
        );
        assert!(text.contains("sleep 250us\nwrite"), "{text}");
        assert!(text.ends_with("sleep 3000us\nreset\n"), "{text}");
        let scenario = parse(text, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        use crate::scenario::ast::Stmt;
        let writes: Vec<Vec<u8>> = scenario
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Write { payload, .. } => Some(payload.to_vec()),
                _ => None,
            })
            .collect();
        assert_eq!(writes, vec![head, binary]);
    }

    #[test]
    fn reads_that_filled_the_buffer_are_one_chunk_with_what_followed() {
        let mut rec = recording(vec![], Ending::Close);
        let full = vec![b'a'; crate::stream::READ_CHUNK];
        rec.chunk(Duration::ZERO, &full);
        rec.chunk(Duration::ZERO, &full);
        rec.chunk(Duration::ZERO, b"end");
        rec.chunk(Duration::ZERO, b"apart");
        let sizes: Vec<usize> = rec
            .steps
            .iter()
            .map(|s| match s {
                Step::Chunk { bytes, .. } => bytes.len(),
                Step::Wait(_) => 0,
            })
            .collect();
        assert_eq!(sizes, [2 * crate::stream::READ_CHUNK + 3, 5]);
        let written = rec.to_scenario("body");
        assert_eq!(written.side_files.len(), 1);
        assert!(
            written
                .scenario
                .contains("write file \"body.1.bin\"\nwrite \"apart\"\n"),
            "{}",
            written.scenario
        );
    }

    #[test]
    fn a_large_chunk_goes_to_a_side_file_and_the_limit_is_said() {
        let mut rec = recording(vec![], Ending::Close);
        assert!(rec.chunk(Duration::ZERO, &vec![b'x'; SIDE_FILE_OVER + 1]));
        let written = rec.to_scenario("big");
        assert_eq!(written.side_files.len(), 1);
        assert_eq!(written.side_files[0].0, "big.1.bin");
        assert!(written.scenario.contains("write file \"big.1.bin\"\n"));
        assert!(!rec.chunk(Duration::ZERO, &vec![0; RECORD_LIMIT]));
        assert!(
            rec.to_scenario("big")
                .scenario
                .contains("# NOTE: the recording stopped at 16 MiB")
        );
    }

    #[test]
    fn the_date_is_a_real_utc_date() {
        let now = utc_now();
        assert!(
            now.starts_with("20") && now.ends_with(" UTC") && now.len() == 23,
            "{now}"
        );
    }
}
