//! A [`Recording`] as a scenario: text a person reads and edits, and that
//! `hangup check` and `hangup serve` always accept.
//!
//! Chunks are written inline while the statements' text stays under
//! [`INLINE_BUDGET`]: text as strings split at line ends, binary as `hex`
//! (twice its size). A chunk whose text would pass [`INLINE_CHUNK_MAX`]
//! goes to a side file (`STEM.N.bin`, read with `file`), and so does every
//! chunk once the budget is spent. Past the budget, chunks under
//! [`MERGE_UNDER`] are merged into writes of at least that size (a side
//! file each; a run a wait for the client cut short stays inline), so that
//! a drip of single bytes makes neither a statement nor a file per byte;
//! the pauses between merged chunks are lost, which a `# NOTE:` says, and a
//! comment marks where merging starts. Past [`TEXT_LIMIT`], nothing more
//! is kept (a `# NOTE:` again). With
//! those bounds, and the header's own ([`COMMENT_LINE_MAX`] per line, at
//! most [`SEEN_LINES`] lines of what the recorder saw), a recording is
//! always under the 1 MiB a scenario file may be, and holds at most the
//! 16 MiB a scenario may hold.
//!
//! A server that kept the connection open (the recording ends in `hang`)
//! answered every request it got; a client that sends one more than was
//! recorded would wait for ever. So, for HTTP, the replay answers any
//! further request with the last response again: a `loop` at the end of
//! the file, said in the header, that is deleted to hang instead. (When
//! the repeat would take the scenario past its 16 MiB or 1 MiB, there is
//! no loop, and a `# NOTE:` says why.)
//!
//! Sans-I/O: the caller writes the scenario and its side files, and passes
//! the date in.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::header::{COMMAND_LINE_MAX, COMMENT_LINE_MAX, comment, is_invisible, utc};
use super::{Ending, Pauses, Recording, Step, Wait};
use crate::scenario::limits::{MAX_HELD_BYTES, MAX_SOURCE_BYTES};

/// The statements' text written inline; past it, bytes go to side files.
pub(crate) const INLINE_BUDGET: usize = 256 << 10;
/// One chunk whose text would be longer goes to a side file anyway.
pub(crate) const INLINE_CHUNK_MAX: usize = 64 << 10;
/// Past [`INLINE_BUDGET`], chunks under this many bytes are merged.
pub(crate) const MERGE_UNDER: usize = 4 << 10;
/// The statements' text at most: past it, nothing more is kept.
pub(crate) const TEXT_LIMIT: usize = 896 << 10;
/// What the recorder saw, in the header: at most this many lines.
pub(crate) const SEEN_LINES: usize = 40;

/// Where merging starts, in the statements.
const MERGED_MARK: &str = "# From here on, chunks were merged (see the NOTE at the top).\n";

// The header (a few fixed lines, the seen ones, a note per limit) and the
// statements together stay under what `hangup check` reads.
const _: () = assert!(TEXT_LIMIT + COMMAND_LINE_MAX + (SEEN_LINES + 20) * (COMMENT_LINE_MAX + 16) < MAX_SOURCE_BYTES);

/// A scenario's text, the side files it reads (by name), and what the
/// limits cost, which the caller warns about too.
pub(crate) struct Written<'r> {
    pub scenario: String,
    pub side_files: Vec<(String, Cow<'r, [u8]>)>,
    /// Each is a `# NOTE:` in the scenario.
    pub notes: Vec<String>,
}

impl Recording {
    /// The scenario to be written as `file` (in the header's replay line),
    /// its side files named `STEM.N.bin`, recorded `at`.
    pub fn to_scenario(&self, file: &str, stem: &str, at: SystemTime) -> Written<'_> {
        let mut body = Body::new(stem, self.pauses);
        for step in &self.steps {
            body.step(step);
        }
        body.flush();
        body.finish_notes();
        let requests = self
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Wait(Wait::Request | Wait::Head)))
            .count();
        let answers_more = matches!(self.ending, None | Some((Ending::Hang, _))) && body.repeat_last(requests);
        let mut notes = self.notes.clone();
        match self.ending {
            Some((ending, after)) => {
                body.sleep(after);
                let last = match ending {
                    Ending::Close => "close\n",
                    Ending::Reset => "reset\n",
                    Ending::Hang => "hang\n",
                    // Under `--tls`, `close` sends close_notify first: the
                    // server that did not is replayed as it was.
                    Ending::CloseNoNotify => "close no-notify\n",
                    Ending::TlsAlert(alert) => {
                        match crate::tls::Alert::numbered(alert) {
                            Some(known) => {
                                let _ = writeln!(body.out, "tls alert {}", known.name);
                            }
                            None => notes.push(format!(
                                "the server ended with the TLS alert numbered {alert}, which has no name \
                                 the language knows: the replay closes without it"
                            )),
                        }
                        "close no-notify\n"
                    }
                };
                body.out.push_str(last);
            }
            None => body.out.push_str("hang\n"),
        }
        notes.append(&mut body.notes);
        let mut scenario = self.header(file, at, &notes, answers_more.then_some(requests));
        scenario.push_str(&body.out);
        Written {
            scenario,
            side_files: body.side_files,
            notes,
        }
    }

    fn header(&self, file: &str, at: SystemTime, notes: &[String], repeats_after: Option<usize>) -> String {
        let mut out = String::new();
        let line = format!("Recorded from {} by {}, {}.", self.source, self.how, utc(at));
        let _ = writeln!(out, "# {}", comment(&line, COMMAND_LINE_MAX));
        for seen in self.seen.iter().take(SEEN_LINES) {
            let _ = writeln!(out, "# {}", comment(seen, COMMENT_LINE_MAX));
        }
        if self.seen.len() > SEEN_LINES {
            let _ = writeln!(out, "# ({} lines more not shown)", self.seen.len() - SEEN_LINES);
        }
        for note in notes {
            let _ = writeln!(out, "# NOTE: {}.", comment(note, COMMENT_LINE_MAX));
        }
        let tls = if self.over_tls { " --tls" } else { "" };
        let _ = writeln!(
            out,
            "# Replay: hangup serve {}{tls}. The bytes are the server's, in the chunks they came in (and\n\
             # apart where an HTTP head, body or response ends); move the ending (or put a `reset`\n\
             # between two writes) to make the fault you want.",
            comment(file, COMMENT_LINE_MAX)
        );
        if let Some(n) = repeats_after {
            let _ = writeln!(
                out,
                "# A request beyond the {n} recorded gets the last response again: see the `loop` at the end."
            );
        }
        out.push('\n');
        out
    }
}

/// The statements, as they are written.
struct Body<'r> {
    stem: String,
    pauses: Pauses,
    out: String,
    side_files: Vec<(String, Cow<'r, [u8]>)>,
    notes: Vec<String>,
    /// The bytes the scenario holds (for the repeated response).
    held: usize,
    /// [`INLINE_BUDGET`] is spent: bytes go to side files.
    inline_spent: bool,
    /// Small chunks merged so far past the budget, not yet written.
    merging: Option<Run>,
    /// How many chunks and pauses merging folded away, once it has.
    merged: Option<Merged>,
    /// [`TEXT_LIMIT`] was reached: what it left out.
    dropped: Option<Dropped>,
    /// Where the statements after the last wait begin in `out`, and the
    /// bytes they write: the last response.
    last_response: (usize, usize),
    /// The last wait was for a request (HTTP).
    last_wait_http: bool,
}

/// Chunks merged into one write: the pause before the first, their bytes,
/// and how many chunks and pauses after the first were folded in.
struct Run {
    after: Duration,
    bytes: Vec<u8>,
    folded: usize,
    pauses: usize,
}

#[derive(Default)]
struct Merged {
    chunks: usize,
    pauses: usize,
}

#[derive(Default)]
struct Dropped {
    chunks: usize,
    waits: usize,
    bytes: usize,
}

impl<'r> Body<'r> {
    fn new(stem: &str, pauses: Pauses) -> Body<'r> {
        Body {
            stem: stem.to_string(),
            pauses,
            out: String::new(),
            side_files: Vec::new(),
            notes: Vec::new(),
            held: 0,
            inline_spent: false,
            merging: None,
            merged: None,
            dropped: None,
            last_response: (0, 0),
            last_wait_http: false,
        }
    }

    fn step(&mut self, step: &'r Step) {
        if self.dropped.is_none() && self.out.len() >= TEXT_LIMIT {
            self.flush();
            self.dropped = Some(Dropped::default());
        }
        if let Some(dropped) = self.dropped.as_mut() {
            match step {
                Step::Wait(_) => dropped.waits += 1,
                Step::Chunk { bytes, .. } => {
                    dropped.chunks += 1;
                    dropped.bytes += bytes.len();
                }
            }
            return;
        }
        match step {
            Step::Wait(wait) => {
                self.flush();
                match wait {
                    Wait::Request => self.out.push_str("read request\n"),
                    Wait::Head => self.out.push_str("read head\n"),
                    Wait::Bytes(n) => {
                        let _ = writeln!(self.out, "read {n} bytes");
                    }
                }
                self.last_response = (self.out.len(), 0);
                self.last_wait_http = matches!(wait, Wait::Request | Wait::Head);
            }
            Step::Chunk { after, bytes } => self.chunk(*after, bytes),
        }
    }

    fn chunk(&mut self, after: Duration, bytes: &'r [u8]) {
        if !self.inline_spent && bytes.len() <= INLINE_CHUNK_MAX {
            let mut text = String::from("write");
            push_bytes(&mut text, bytes);
            text.push('\n');
            if text.len() <= INLINE_CHUNK_MAX {
                if self.out.len() + text.len() <= INLINE_BUDGET {
                    self.sleep(after);
                    self.out.push_str(&text);
                    self.count(bytes.len());
                    return;
                }
                self.inline_spent = true;
            }
        }
        if !self.inline_spent || bytes.len() >= MERGE_UNDER {
            self.flush();
            self.sleep(after);
            self.side_file(Cow::Borrowed(bytes));
            return;
        }
        match self.merging.as_mut() {
            None => {
                self.merging = Some(Run {
                    after,
                    bytes: bytes.to_vec(),
                    folded: 0,
                    pauses: 0,
                });
            }
            Some(run) => {
                run.bytes.extend_from_slice(bytes);
                run.folded += 1;
                run.pauses += usize::from(!after.is_zero());
            }
        }
        if self.merging.as_ref().is_some_and(|run| run.bytes.len() >= MERGE_UNDER) {
            self.flush();
        }
    }

    /// Write the chunks merged so far, if any: a run a wait cut short
    /// inline (a file per small response would make thousands), a whole
    /// one in a side file.
    fn flush(&mut self) {
        if let Some(Run {
            after,
            bytes,
            folded,
            pauses,
        }) = self.merging.take()
        {
            if folded > 0 {
                if self.merged.is_none() {
                    self.out.push_str(MERGED_MARK);
                }
                let merged = self.merged.get_or_insert_with(Merged::default);
                merged.chunks += folded;
                merged.pauses += pauses;
            }
            self.sleep(after);
            if bytes.len() < MERGE_UNDER {
                self.out.push_str("write");
                push_bytes(&mut self.out, &bytes);
                self.out.push('\n');
                self.count(bytes.len());
            } else {
                self.side_file(Cow::Owned(bytes));
            }
        }
    }

    fn side_file(&mut self, bytes: Cow<'r, [u8]>) {
        let name = format!("{}.{}.bin", self.stem, self.side_files.len() + 1);
        self.out.push_str("write file ");
        push_string(&mut self.out, &name);
        self.out.push('\n');
        self.count(bytes.len());
        self.side_files.push((name, bytes));
    }

    fn count(&mut self, bytes: usize) {
        self.held += bytes;
        self.last_response.1 += bytes;
    }

    fn sleep(&mut self, after: Duration) {
        let us = after.as_micros();
        if self.pauses == Pauses::Kept && us > 0 {
            let _ = writeln!(self.out, "sleep {us}us");
        }
    }

    /// After `requests` recorded requests, answer any further one with the
    /// last response again, if there is one and it fits; say why not when
    /// it does not. Whether the loop was written.
    fn repeat_last(&mut self, requests: usize) -> bool {
        let (start, bytes) = self.last_response;
        if !self.last_wait_http || bytes == 0 || self.dropped.is_some() {
            return false;
        }
        let statements = self.out[start..].to_string();
        let fits_text = self.out.len() + 2 * statements.len() + 300 <= TEXT_LIMIT;
        let fits_held = self.held + bytes <= MAX_HELD_BYTES;
        if !(fits_text && fits_held) {
            let why = if fits_held {
                "its statements would take the file past hangup's limit of 1 MiB for a scenario"
            } else {
                "its bytes would take the scenario past the 16 MiB it may hold"
            };
            self.notes.push(format!(
                "a request beyond the {requests} recorded is not answered (it waits, as `hang` does): \
                 repeating the last response is what the replay would do, but {why}"
            ));
            return false;
        }
        let _ = writeln!(
            self.out,
            "\n# After the recording: every request beyond the {requests} recorded gets the last\n\
             # response again. Delete this loop to hang instead, as the server did.\n\
             loop\n  read request"
        );
        for line in statements.lines() {
            let _ = writeln!(self.out, "  {line}");
        }
        self.out.push_str("end\n");
        true
    }

    /// The notes for what merging and the text limit cost.
    fn finish_notes(&mut self) {
        if let Some(merged) = self.merged.take() {
            self.notes.push(format!(
                "past {} KiB of statements, chunks under {} KiB were merged into writes of {} KiB or more \
                 (less before a wait for the client): {} chunks folded into others, {} pauses between \
                 them dropped, so that the file stays under hangup's limit of 1 MiB for a scenario; a \
                 comment marks where it starts",
                INLINE_BUDGET >> 10,
                MERGE_UNDER >> 10,
                MERGE_UNDER >> 10,
                merged.chunks,
                merged.pauses
            ));
        }
        if let Some(dropped) = &self.dropped {
            self.notes.push(format!(
                "past {} KiB of statements the recording stops, under hangup's limit of 1 MiB for a \
                 scenario: {} bytes in {} chunks, and {} waits for the client, were not kept",
                TEXT_LIMIT >> 10,
                dropped.bytes,
                dropped.chunks,
                dropped.waits
            ));
        }
    }
}

/// `text` as one string literal: a file name, whatever bytes it has.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || c.is_whitespace() && c != ' ' || is_invisible(c) => {
                for byte in c.to_string().bytes() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// ` "text\r\n" "more"` for text, ` hex "…"` for anything else.
pub(crate) fn push_bytes(out: &mut String, bytes: &[u8]) {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::scenario::ast::Stmt;
    use crate::scenario::parser::parse_in;
    use crate::transport::Boundary;

    /// A recording of `steps` that ended `ending`, pauses kept.
    fn recording(steps: Vec<Step>, ending: Ending) -> Recording {
        Recording {
            source: "http://127.0.0.1:1/".into(),
            how: "`a test`".into(),
            seen: vec!["outcome reset (mid-body)".into()],
            steps,
            ending: Some((ending, Duration::from_millis(3))),
            pauses: Pauses::Kept,
            ..Recording::default()
        }
    }

    fn chunk(bytes: &[u8]) -> Step {
        Step::Chunk {
            after: Duration::from_micros(250),
            bytes: bytes.to_vec(),
        }
    }

    /// A scenario written out (side files and all) and parsed back, as
    /// `hangup check` does; then removed.
    struct Replayed {
        text: String,
        notes: Vec<String>,
        side_files: usize,
        /// The `write`s of the script, top level first, then a loop's.
        writes: Vec<Vec<u8>>,
        loop_writes: Vec<Vec<u8>>,
    }

    fn replay(rec: &Recording, case: &str) -> Replayed {
        let dir = std::env::temp_dir().join(format!("hangup-render-{}-{case}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let written = rec.to_scenario("x.hup", "x", UNIX_EPOCH);
        for (name, bytes) in &written.side_files {
            std::fs::write(dir.join(name), bytes).expect("side file");
        }
        assert!(
            written.scenario.len() < MAX_SOURCE_BYTES,
            "{case}: {} bytes of scenario",
            written.scenario.len()
        );
        let parsed = parse_in(&written.scenario, &BTreeMap::new(), Some(&dir));
        let _ = std::fs::remove_dir_all(&dir);
        let scenario = parsed.unwrap_or_else(|e| panic!("{case}: {e:?}\n{}", head_of(&written.scenario)));
        let writes = |stmts: &[Stmt]| -> Vec<Vec<u8>> {
            stmts
                .iter()
                .filter_map(|s| match s {
                    Stmt::Write { payload, .. } => Some(payload.to_vec()),
                    _ => None,
                })
                .collect()
        };
        let loop_writes = scenario
            .body
            .iter()
            .find_map(|s| match s {
                Stmt::Loop { body, .. } => Some(writes(body)),
                _ => None,
            })
            .unwrap_or_default();
        Replayed {
            writes: writes(&scenario.body),
            loop_writes,
            text: written.scenario,
            notes: written.notes,
            side_files: written.side_files.len(),
        }
    }

    fn head_of(text: &str) -> String {
        text.chars().take(3000).collect()
    }

    #[test]
    fn text_and_binary_chunks_become_a_scenario_that_parses_to_the_same_bytes() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello,".to_vec();
        let binary: Vec<u8> = (0..=255).collect();
        let rec = recording(
            vec![Step::Wait(Wait::Request), chunk(&head), chunk(&binary)],
            Ending::Reset,
        );
        let replayed = replay(&rec, "text-binary");
        let text = &replayed.text;
        assert_eq!(replayed.side_files, 0);
        assert!(
            text.contains("write \"HTTP/1.1 200 OK\\r\\n\" \"Content-Length: 13\\r\\n\" \"\\r\\n\" \"Hello,\"\n"),
            "{text}"
        );
        assert!(text.contains("sleep 250us\nwrite"), "{text}");
        assert!(text.ends_with("sleep 3000us\nreset\n"), "{text}");
        assert_eq!(replayed.writes, vec![head, binary]);
    }

    #[test]
    fn a_large_chunk_goes_to_a_side_file() {
        let big = vec![b'x'; INLINE_CHUNK_MAX + 1];
        let replayed = replay(&recording(vec![chunk(&big)], Ending::Close), "big");
        assert_eq!(replayed.side_files, 1);
        assert!(replayed.text.contains("write file \"x.1.bin\"\n"), "{}", replayed.text);
        assert_eq!(replayed.writes, [big]);
    }

    #[test]
    fn two_mib_of_binary_in_16_kib_pieces_stays_under_the_file_limit() {
        let body: Vec<u8> = (0..2 << 20).map(|i: u32| (i * 7 % 256) as u8).collect();
        let mut steps = vec![Step::Wait(Wait::Request)];
        steps.extend(body.chunks(16 << 10).map(chunk));
        let replayed = replay(&recording(steps, Ending::Close), "binary-pieces");
        // Inline up to the budget, then each piece in a file of its own:
        // every boundary and pause is kept, so nothing to warn about.
        assert!(
            replayed.text.len() < INLINE_BUDGET + (16 << 10),
            "{}",
            replayed.text.len()
        );
        assert!(replayed.side_files > 100, "{}", replayed.side_files);
        assert_eq!(replayed.notes, Vec::<String>::new());
        assert_eq!(replayed.writes.len(), 128);
        assert_eq!(replayed.writes.concat(), body);
    }

    #[test]
    fn a_long_drip_of_single_bytes_is_merged_past_the_budget_and_says_so() {
        let body: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut steps = vec![Step::Wait(Wait::Request)];
        steps.extend(body.chunks(1).map(chunk));
        let replayed = replay(&recording(steps, Ending::Close), "drip");
        assert_eq!(replayed.writes.concat(), body);
        assert_eq!(replayed.notes.len(), 1, "{:?}", replayed.notes);
        let note = &replayed.notes[0];
        assert!(
            note.starts_with("past 256 KiB of statements, chunks under 4 KiB were merged"),
            "{note}"
        );
        assert_eq!(replayed.text.matches(MERGED_MARK).count(), 1);
        assert!(
            replayed.text.contains(&format!("# NOTE: {note}.\n")),
            "{}",
            head_of(&replayed.text)
        );
    }

    #[test]
    fn past_the_text_limit_nothing_more_is_kept_and_the_note_says_what() {
        // 100,000 tiny exchanges on one connection.
        let mut steps = Vec::new();
        for _ in 0..100_000 {
            steps.push(Step::Wait(Wait::Request));
            steps.push(chunk(b"HTTP/1.1 204 No Content\r\n\r\n"));
        }
        let replayed = replay(&recording(steps, Ending::Close), "many");
        assert!(
            replayed
                .notes
                .iter()
                .any(|n| n.starts_with("past 896 KiB of statements the recording stops")),
            "{:?}",
            replayed.notes
        );
        assert!(replayed.text.ends_with("close\n"));
    }

    #[test]
    fn a_request_beyond_those_recorded_gets_the_last_response_again() {
        let first = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n".to_vec();
        let last = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n".to_vec();
        let steps = vec![
            Step::Wait(Wait::Request),
            chunk(&first),
            chunk(b"a"),
            Step::Wait(Wait::Request),
            chunk(&last),
            chunk(b"bc"),
        ];
        let replayed = replay(&recording(steps.clone(), Ending::Hang), "again");
        assert_eq!(replayed.loop_writes, [last, b"bc".to_vec()]);
        assert!(
            replayed.text.contains(
                "# A request beyond the 2 recorded gets the last response again: see the `loop` at the end.\n"
            ),
            "{}",
            replayed.text
        );
        assert!(
            replayed.text.contains("\nloop\n  read request\n  sleep 250us\n  write"),
            "{}",
            replayed.text
        );
        // A server that closed needs no answer for more.
        let closed = replay(&recording(steps, Ending::Close), "closed");
        assert!(
            closed.loop_writes.is_empty() && !closed.text.contains("loop"),
            "{}",
            closed.text
        );
    }

    #[test]
    fn a_last_response_too_big_to_repeat_is_said_instead() {
        let big = vec![b'x'; 9 << 20];
        let steps = vec![Step::Wait(Wait::Request), chunk(&big)];
        let rec = recording(steps, Ending::Hang);
        let written = rec.to_scenario("x.hup", "x", UNIX_EPOCH);
        assert!(!written.scenario.contains("\nloop\n"));
        assert!(
            written
                .notes
                .iter()
                .any(|n| n.starts_with("a request beyond the 1 recorded is not answered")),
            "{:?}",
            written.notes
        );
    }

    #[test]
    fn what_comes_from_outside_stays_in_its_comment() {
        let mut rec = recording(vec![Step::Wait(Wait::Request), chunk(b"x")], Ending::Close);
        rec.source = "http://h/a\nreset\n#".into();
        rec.seen = vec!["probe: received  HTTP/1.1 200 O\u{202e}K\r\nclose".into()];
        let replayed = replay(&rec, "escaped");
        let statements: Vec<&str> = replayed
            .text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        assert_eq!(
            statements,
            ["read request", "sleep 250us", "write \"x\"", "sleep 3000us", "close"]
        );
        assert!(
            replayed.text.starts_with("# Recorded from http://h/a\\nreset\\n# by"),
            "{}",
            replayed.text
        );
    }

    #[test]
    fn side_file_names_are_quoted_whatever_the_stem() {
        let rec = recording(vec![chunk(&vec![0; INLINE_CHUNK_MAX + 1])], Ending::Close);
        let written = rec.to_scenario("a\"b\n.hup", "a\"b\n", UNIX_EPOCH);
        assert!(
            written.scenario.contains("write file \"a\\\"b\\x0a.1.bin\"\n"),
            "{}",
            written.scenario
        );
        assert_eq!(written.side_files[0].0, "a\"b\n.1.bin");
    }

    #[test]
    fn chunks_keep_their_http_boundaries_through_to_the_writes() {
        let mut rec = recording(vec![Step::Wait(Wait::Request)], Ending::Close);
        rec.chunk(
            Duration::ZERO,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            Boundary::Sender,
        );
        let replayed = replay(&rec, "boundaries");
        assert_eq!(
            replayed.writes,
            [
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec(),
                b"hello".to_vec()
            ]
        );
    }
}
