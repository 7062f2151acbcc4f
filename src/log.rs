//! The event log: one line per socket-level action, on stderr.
//!
//! Text lines are for people (`#3 +12.345ms write bytes=68`); `--log json`
//! prints one JSON object per line with the same fields, for scripts:
//! `{"conn":3,"t_ms":12.345,"event":"write","bytes":68}`. Server-wide
//! events (accept errors) have no `conn` and no `t_ms`. The fields of each
//! event are listed in `docs/event-log.md`.
//!
//! # A log reader that stops reading must not stop the server
//!
//! stderr may be a pipe to a slow filter, or to a reader that has stopped;
//! a blocking `write` there would freeze the event loop (and with it every
//! client and the signal handling). So when stderr can block, lines go into
//! a bounded queue ([`QUEUE_LIMIT`]) that a writer thread empties with
//! plain blocking writes. The loop only ever takes a mutex for a memcpy.
//! When the queue is full, whole lines are dropped and counted; when the
//! reader is back, the writer says so in the log, in sequence:
//! `log-dropped lines=N` (JSON: `{"event":"log-dropped","lines":N}`), and
//! the `stopped` summary counts them all in `log_dropped`.
//!
//! Why a thread and not `O_NONBLOCK` on fd 2: that flag belongs to the open
//! file description, which stderr shares with the shell and the other
//! processes of a pipeline; setting it would make *their* writes fail with
//! EAGAIN (and a crash could leave it set on the user's terminal). A thread
//! also needs no change to the event loop (fd 2 is never polled), flushes
//! the moment the reader is back even when the server is idle, and covers a
//! terminal stopped by Ctrl-S as well as pipes, FIFOs and sockets. It
//! writes with `write(2)` on fd 2 directly, never holding std's stderr
//! lock, so an `eprintln!` elsewhere cannot wait behind a stalled reader.
//!
//! A regular file (or /dev/null) cannot stall: there the line is written
//! at once, on the loop's thread — no thread, no copy.

use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::units::Fixed;

/// Log bytes held for a stalled reader before whole lines are dropped:
/// four pipe buffers' worth, about 3,000 typical lines.
pub const QUEUE_LIMIT: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// A field's value.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Num(u64),
    Str(&'a str),
    /// Bytes from the wire, shown lossily as text.
    Bytes(&'a [u8]),
}

pub struct Log {
    format: Format,
    quiet: bool,
    line: String,
    sink: Sink,
    /// [`Log::finish`] ran: dropping the log must not wait a second time.
    finished: bool,
}

/// Where formatted lines go; chosen at the first line.
enum Sink {
    /// Nothing logged yet: stderr has not been looked at.
    Unopened,
    /// stderr cannot stall (a regular file, /dev/null): write at once.
    Direct,
    /// stderr can stall: the writer thread's queue.
    Queued(Arc<Shared>),
}

/// The queue between the loop and the writer thread.
struct Shared {
    queue: Mutex<Queue>,
    /// The writer waits here for lines.
    wake: Condvar,
    /// [`Log::flush`] waits here for the writer to catch up.
    drained: Condvar,
}

#[derive(Default)]
struct Queue {
    /// Whole lines not yet taken by the writer.
    buf: Vec<u8>,
    /// Lines dropped since the writer last took `buf`: while non-zero,
    /// every line is dropped, so that the notice falls where they were.
    dropped_since: u64,
    /// Every line dropped in this run.
    dropped_total: u64,
    /// The writer is waiting on `wake` (only then is it worth waking).
    idle: bool,
    /// The writer holds a batch it has not finished writing.
    writing: bool,
    /// stderr failed for good (its reader exited): lines are only counted.
    broken: bool,
}

impl Log {
    pub fn new(format: Format, quiet: bool) -> Log {
        Log {
            format,
            quiet,
            line: String::with_capacity(256),
            sink: Sink::Unopened,
            finished: false,
        }
    }

    pub fn enabled(&self) -> bool {
        !self.quiet
    }

    /// An event of connection `conn`, `since_accept` after it was accepted.
    pub fn conn(&mut self, conn: u64, since_accept: Duration, event: &str, fields: &[(&str, Field)]) {
        if self.quiet {
            return;
        }
        self.write(Some((conn, since_accept)), event, fields);
    }

    /// An event of the server as a whole.
    pub fn server(&mut self, event: &str, fields: &[(&str, Field)]) {
        if self.quiet {
            return;
        }
        self.write(None, event, fields);
    }

    /// Lines dropped so far because stderr's reader did not keep up.
    pub fn dropped(&self) -> u64 {
        match &self.sink {
            Sink::Queued(shared) => lock(shared).dropped_total,
            _ => 0,
        }
    }

    /// Wait until every queued line is written, or `limit` has passed;
    /// whether it all went out. Never waits longer than `limit`: a reader
    /// that stopped for good must not keep hangup from exiting.
    pub fn flush(&self, limit: Duration) -> bool {
        let Sink::Queued(shared) = &self.sink else {
            return true;
        };
        let give_up = Instant::now() + limit;
        let mut queue = lock(shared);
        loop {
            let done = queue.broken || (queue.buf.is_empty() && !queue.writing && queue.dropped_since == 0);
            let now = Instant::now();
            if done || now >= give_up {
                return done;
            }
            queue = match shared.drained.wait_timeout(queue, give_up - now) {
                Ok((queue, _)) => queue,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// The last flush, before the process exits: like [`Log::flush`], and
    /// dropping the log afterwards does not wait again.
    pub fn finish(&mut self, limit: Duration) -> bool {
        self.finished = true;
        self.flush(limit)
    }

    fn write(&mut self, conn: Option<(u64, Duration)>, event: &str, fields: &[(&str, Field)]) {
        self.line.clear();
        format_line(&mut self.line, self.format, conn, event, fields);
        if matches!(self.sink, Sink::Unopened) {
            self.sink = open_sink(self.format);
        }
        match &self.sink {
            Sink::Queued(shared) => {
                let mut queue = lock(shared);
                if queue.broken || queue.dropped_since > 0 || queue.buf.len() + self.line.len() > QUEUE_LIMIT {
                    queue.dropped_since += u64::from(!queue.broken);
                    queue.dropped_total += 1;
                } else {
                    queue.buf.extend_from_slice(self.line.as_bytes());
                }
                if std::mem::take(&mut queue.idle) {
                    shared.wake.notify_one();
                }
            }
            // A closed stderr must not stop the server; the log is best effort.
            _ => {
                let _ = write_stderr(self.line.as_bytes());
            }
        }
    }
}

impl Drop for Log {
    /// What is still queued gets a short chance to go out (the process is
    /// about to exit, which ends the writer thread wherever it is).
    fn drop(&mut self) {
        if !self.finished {
            self.flush(Duration::from_millis(500));
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, Queue> {
    // A panic in the writer leaves the queue consistent (it only swaps).
    shared.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Direct when stderr cannot stall, otherwise a writer thread (falling back
/// to direct writes if no thread can be started).
fn open_sink(format: Format) -> Sink {
    if !stderr_can_stall() {
        return Sink::Direct;
    }
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue::default()),
        wake: Condvar::new(),
        drained: Condvar::new(),
    });
    let writer = Arc::clone(&shared);
    match std::thread::Builder::new()
        .name("log".into())
        .spawn(move || run_writer(&writer, format))
    {
        Ok(_) => Sink::Queued(shared),
        Err(_) => Sink::Direct,
    }
}

/// Whether a `write` to fd 2 could block for as long as a reader pleases:
/// anything but a regular file or /dev/null (pipes, FIFOs, sockets,
/// terminals). When fd 2 cannot be examined, assume it can.
fn stderr_can_stall() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    // fstat(2) through a duplicate of fd 2, closed again when the File
    // drops: std asks no `unsafe` for that.
    let Ok(stderr) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return true;
    };
    let Ok(meta) = std::fs::File::from(stderr).metadata() else {
        return true;
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return false;
    }
    if kind.is_char_device() {
        let is_null = std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev());
        return !is_null;
    }
    true
}

/// The writer thread: take the whole queue, write it (blocking as long as
/// the reader takes), and after lines were dropped say how many.
fn run_writer(shared: &Shared, format: Format) {
    let mut batch = Vec::new();
    let mut notice = String::new();
    loop {
        {
            let mut queue = lock(shared);
            queue.writing = false;
            while queue.buf.is_empty() && queue.dropped_since == 0 {
                queue.idle = true;
                shared.drained.notify_all();
                queue = match shared.wake.wait(queue) {
                    Ok(queue) => queue,
                    Err(poisoned) => poisoned.into_inner(),
                };
            }
            queue.idle = false;
            queue.writing = true;
            std::mem::swap(&mut batch, &mut queue.buf);
            // The dropped lines came after everything in this batch and
            // before anything queued from now on.
            let dropped = std::mem::take(&mut queue.dropped_since);
            if dropped > 0 {
                notice.clear();
                format_line(
                    &mut notice,
                    format,
                    None,
                    "log-dropped",
                    &[("lines", Field::Num(dropped))],
                );
                batch.extend_from_slice(notice.as_bytes());
            }
        }
        if let Err(unwritten) = write_stderr(&batch) {
            let mut queue = lock(shared);
            queue.broken = true;
            queue.dropped_total += unwritten.iter().filter(|&&b| b == b'\n').count() as u64;
            queue.dropped_total += queue.buf.iter().filter(|&&b| b == b'\n').count() as u64;
            queue.buf = Vec::new();
            queue.writing = false;
            shared.drained.notify_all();
            return;
        }
        batch.clear();
        if batch.capacity() > QUEUE_LIMIT {
            batch = Vec::new();
        }
    }
}

/// The most one `write` to a pipe takes all or nothing (POSIX's
/// `PIPE_BUF`, 4096 on Linux).
const ATOMIC_WRITE: usize = 4096;

/// Write all of `bytes` (whole lines) to fd 2, waiting as long as it takes
/// (a stderr someone else made non-blocking is waited on with poll). On a
/// lasting error, the part not written.
///
/// Each `write` is of whole lines and at most [`ATOMIC_WRITE`] bytes when
/// the lines allow, so that a pipe takes each all or nothing: when the
/// process exits in the middle of a batch (a stop that gave a stalled
/// reader its time), what reached the reader ends with a whole line. Only
/// a line longer than that can be cut.
fn write_stderr(mut bytes: &[u8]) -> Result<(), &[u8]> {
    while !bytes.is_empty() {
        let piece = match bytes[..bytes.len().min(ATOMIC_WRITE)].iter().rposition(|&b| b == b'\n') {
            Some(end) => end + 1,
            // A line longer than an atomic write: all of it.
            None => bytes
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |end| end + 1),
        };
        // SAFETY: the pointer and length describe a part of `bytes`, which
        // outlives the call.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), piece) };
        if n >= 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::Interrupted => {}
            std::io::ErrorKind::WouldBlock => {
                let mut fd = libc::pollfd {
                    fd: 2,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut fd, 1, 1000) };
            }
            _ => return Err(bytes),
        }
    }
    Ok(())
}

/// One line, newline included, appended to `out`.
fn format_line(out: &mut String, format: Format, conn: Option<(u64, Duration)>, event: &str, fields: &[(&str, Field)]) {
    let ms = |d: Duration| Fixed::millis(d, 3);
    match format {
        Format::Text => {
            if let Some((id, t)) = conn {
                let _ = write!(out, "#{id} +{}ms ", ms(t));
            }
            out.push_str(event);
            for (key, value) in fields {
                let _ = write!(out, " {key}=");
                match value {
                    Field::Num(n) => {
                        let _ = write!(out, "{n}");
                    }
                    Field::Str(s) => push_text(out, s.as_bytes()),
                    Field::Bytes(b) => push_text(out, b),
                }
            }
        }
        Format::Json => {
            out.push('{');
            if let Some((id, t)) = conn {
                let _ = write!(out, "\"conn\":{id},\"t_ms\":{},", ms(t));
            }
            out.push_str("\"event\":");
            push_json_string(out, event.as_bytes());
            for (key, value) in fields {
                out.push(',');
                push_json_string(out, key.as_bytes());
                out.push(':');
                match value {
                    Field::Num(n) => {
                        let _ = write!(out, "{n}");
                    }
                    Field::Str(s) => push_json_string(out, s.as_bytes()),
                    Field::Bytes(b) => push_json_string(out, b),
                }
            }
            out.push('}');
        }
    }
    out.push('\n');
}
/// Text as is when it is one plain word, otherwise quoted with escapes.
fn push_text(out: &mut String, bytes: &[u8]) {
    let plain = !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'"' && *b != b'\\');
    if plain {
        out.push_str(&String::from_utf8_lossy(bytes));
    } else {
        push_json_string(out, bytes);
    }
}

/// A JSON string literal; invalid UTF-8 becomes U+FFFD.
pub fn push_json_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes() {
        let mut s = String::new();
        push_json_string(&mut s, b"a\"b\\c\r\n\x01");
        assert_eq!(s, r#""a\"b\\c\r\n\u0001""#);
    }
}
