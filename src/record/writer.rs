//! `serve --record`'s writer thread: recordings are rendered and written
//! off the event loop.
//!
//! A recording is up to 16 MiB of the server's bytes and as many of the
//! client's, rendered to text and written as several files; on the loop's
//! thread that would stall every other connection for as long as the disk
//! takes (and a slow or full disk can take seconds). So a finished
//! [`Tape`] is queued here, and one thread renders and writes the queue in
//! order, as `crate::log`'s writer thread does for log lines.
//!
//! The queue is bounded: [`QUEUE_LIMIT`] bytes of tapes. When a finished
//! tape does not fit, it is dropped and the connection's log says so
//! (`record-dropped`); the loop never waits for the disk. One tape always
//! fits an empty queue, whatever its size.
//!
//! The writer reports each file back ([`Report`]) and wakes the loop, which
//! logs `recorded file=…` once the file is whole on disk (`record-error`
//! when writing failed, with nothing left half-written; `record-warning`
//! for each limit a recording hit). On stop, [`Writer::finish`] gives the
//! queue [`STOP_LIMIT`] to be written, then the process exits anyway.
//!
//! Tapes reach the writer through a [`Queue`], a handle each tape is given
//! when it is made ([`Writer::queue`]), so that a connection that finishes
//! a tape, or a server that drops it at the stop, hands it on.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::Destination;
use super::files::write_all;
use super::tape::Tape;
use crate::log::{Field, Log};

/// Bytes of finished tapes waiting to be written, at most: four
/// recordings at the 16 MiB limit, far more of usual ones.
pub(crate) const QUEUE_LIMIT: usize = 64 << 20;
/// How long a stop waits for queued recordings to be written.
pub(crate) const STOP_LIMIT: Duration = Duration::from_secs(3);

/// What became of one recording.
#[derive(Debug)]
pub(crate) struct Report {
    /// The connection it recorded, and when that was accepted.
    pub conn: u64,
    pub accepted: Option<Instant>,
    /// The scenario's path, or why nothing was written.
    pub written: Result<PathBuf, String>,
    /// What a limit cost (also `# NOTE:`s in the file).
    pub notes: Vec<String>,
}

/// The writer thread's handle, held by the event loop.
pub(crate) struct Writer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// Where the recordings go.
    dir: PathBuf,
}

struct Shared {
    state: Mutex<State>,
    /// The thread waits here for tapes.
    work: Condvar,
    /// [`Writer::finish`] waits here for the queue to empty.
    idle: Condvar,
    /// Tell the event loop that reports are waiting.
    wake: Box<dyn Fn() + Send + Sync>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Box<Tape>>,
    /// Bytes of the tapes in `queue`.
    queued: usize,
    /// The thread holds a tape it has not finished writing.
    writing: bool,
    reports: Vec<Report>,
    /// Tapes dropped where nobody could log it (at the stop).
    dropped_unlogged: u64,
    /// No more tapes will come: the thread ends once the queue is empty.
    closing: bool,
}

impl Writer {
    /// Start the thread, writing into `destination`; `wake` tells the
    /// event loop that reports are waiting. Tapes reach it through its
    /// [`Writer::queue`].
    pub fn start(destination: Destination, wake: impl Fn() + Send + Sync + 'static) -> std::io::Result<Writer> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            idle: Condvar::new(),
            wake: Box::new(wake),
        });
        let writer = Arc::clone(&shared);
        let dir = destination.dir.clone();
        let thread = std::thread::Builder::new()
            .name("record".into())
            .spawn(move || run(&writer, &destination))?;
        Ok(Writer {
            shared,
            thread: Some(thread),
            dir,
        })
    }

    /// The directory the recordings go into.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// A handle for tapes to reach this writer by.
    pub fn queue(&self) -> Queue {
        Queue(Arc::clone(&self.shared))
    }

    /// The reports since the last call, in the order the files were done.
    pub fn reports(&self) -> Vec<Report> {
        std::mem::take(&mut lock(&self.shared).reports)
    }

    /// Log what became of each recording written since the last call:
    /// `record-warning`s and `recorded`, or `record-error`.
    pub fn log_reports(&self, log: &mut Log) {
        for report in self.reports() {
            let since = report.accepted.map_or(Duration::ZERO, |at| at.elapsed());
            match &report.written {
                Ok(path) => {
                    let file = path.display().to_string();
                    for note in &report.notes {
                        let fields = [("file", Field::Str(&file)), ("warning", Field::Str(note))];
                        log.conn(report.conn, since, "record-warning", &fields);
                    }
                    log.conn(report.conn, since, "recorded", &[("file", Field::Str(&file))]);
                }
                Err(why) => log.conn(report.conn, since, "record-error", &[("error", Field::Str(why))]),
            }
        }
    }

    /// The server stops: give the queue [`STOP_LIMIT`] to be written, log
    /// what was, and what was not.
    pub fn stop(&mut self, log: &mut Log) {
        let left = self.finish(STOP_LIMIT);
        self.log_reports(log);
        let dropped = std::mem::take(&mut lock(&self.shared).dropped_unlogged);
        if dropped > 0 {
            let why = format!(
                "the queue of recordings to write was full (at most {} MiB) when hangup stopped",
                QUEUE_LIMIT >> 20
            );
            log.server(
                "record-dropped",
                &[("recordings", Field::Num(dropped)), ("why", Field::Str(&why))],
            );
        }
        if left > 0 {
            let why = format!(
                "still being written after {} s; hangup exits anyway (a file under way stays a hidden .hangup-*.tmp)",
                STOP_LIMIT.as_secs()
            );
            log.server(
                "record-unfinished",
                &[("recordings", Field::Num(left as u64)), ("why", Field::Str(&why))],
            );
        }
    }

    /// No more tapes: wait until the queue is written, at most `limit`.
    /// Returns how many recordings were still unwritten then.
    pub fn finish(&mut self, limit: Duration) -> usize {
        let give_up = Instant::now() + limit;
        let mut state = lock(&self.shared);
        state.closing = true;
        self.shared.work.notify_one();
        loop {
            let left = state.queue.len() + usize::from(state.writing);
            let now = Instant::now();
            if left == 0 || now >= give_up {
                drop(state);
                if left == 0
                    && let Some(thread) = self.thread.take()
                {
                    let _ = thread.join();
                }
                return left;
            }
            state = match self.shared.idle.wait_timeout(state, give_up - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

impl Drop for Writer {
    /// The thread is told to end; a write still under way goes on until
    /// the process exits.
    fn drop(&mut self) {
        lock(&self.shared).closing = true;
        self.shared.work.notify_one();
    }
}

/// Where finished tapes go: the writer's queue.
#[derive(Clone)]
pub(crate) struct Queue(Arc<Shared>);

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl Queue {
    /// Queue a finished tape to be written; why not, when it is dropped
    /// (the queue is full, or the writer stopped).
    pub fn submit(&self, tape: Box<Tape>) -> Result<(), String> {
        let mut state = lock(&self.0);
        if state.closing && state.queue.is_empty() && !state.writing {
            return Err("the recording writer has stopped".into());
        }
        let size = tape.size();
        if !state.queue.is_empty() && state.queued + size > QUEUE_LIMIT {
            return Err(format!(
                "{} MiB of recordings are still waiting to be written (at most {} MiB wait): \
                 this one is dropped",
                state.queued >> 20,
                QUEUE_LIMIT >> 20
            ));
        }
        state.queued += size;
        state.queue.push_back(tape);
        self.0.work.notify_one();
        Ok(())
    }

    /// Count a tape dropped where nobody could log it; the stop reports it.
    pub fn dropped_unlogged(&self) {
        lock(&self.0).dropped_unlogged += 1;
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while writing leaves the state consistent (pushes and pops).
    shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The thread: take the oldest tape, render it, write its files, report.
fn run(shared: &Shared, destination: &Destination) {
    loop {
        let tape = {
            let mut state = lock(shared);
            state.writing = false;
            loop {
                if let Some(tape) = state.queue.pop_front() {
                    state.writing = true;
                    break tape;
                }
                shared.idle.notify_all();
                if state.closing {
                    return;
                }
                state = match shared.work.wait(state) {
                    Ok(state) => state,
                    Err(poisoned) => poisoned.into_inner(),
                };
            }
        };
        let (conn, accepted, size) = (tape.id(), tape.accepted(), tape.size());
        let files = tape.files(&destination.command, SystemTime::now());
        let written = write_all(&files.dir, &files.files);
        let report = Report {
            conn,
            accepted,
            written,
            notes: files.notes,
        };
        drop(files.files);
        {
            let mut state = lock(shared);
            state.queued -= size;
            state.reports.push(report);
        }
        (shared.wake)();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::end::End;
    use crate::transport::{Boundary, Tap};

    #[test]
    fn a_finished_tape_is_written_by_the_thread_which_reports_and_wakes() {
        let dir = std::env::temp_dir().join(format!("hangup-record-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let (woke, wakes) = mpsc::channel();
        let destination = Destination {
            dir: dir.clone(),
            command: "hangup serve proxy --record d".into(),
        };
        let mut writer = Writer::start(destination, move || {
            let _ = woke.send(());
        })
        .expect("a thread");
        let now = Instant::now();
        let mut tape = Box::new(Tape::new(dir.clone(), 3, "127.0.0.1:1".into(), now, writer.queue()));
        tape.read(b"GET / HTTP/1.1\r\n\r\n", Boundary::Sender);
        tape.request(now);
        tape.wrote(b"HTTP/1.1 204 No Content\r\n\r\n", Boundary::Sender, now);
        assert_eq!(tape.finish(End::Fin, now), Ok(()));
        wakes.recv_timeout(Duration::from_secs(5)).expect("woken");
        let reports = writer.reports();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].conn, 3);
        assert_eq!(reports[0].written, Ok(dir.join("conn-000003.hup")));
        assert_eq!(writer.finish(Duration::from_secs(5)), 0);
        let scenario = std::fs::read_to_string(dir.join("conn-000003.hup")).expect("written");
        assert!(
            scenario.ends_with("write \"HTTP/1.1 204 No Content\\r\\n\" \"\\r\\n\"\nclose\n"),
            "{scenario}"
        );
        let queue = writer.queue();
        drop(writer);
        // Once the writer stopped, a tape is refused, not lost silently.
        let tape = Box::new(Tape::new(dir.clone(), 4, String::new(), now, queue));
        assert!(tape.finish(End::Fin, now).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
