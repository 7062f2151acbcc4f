//! The streams of one server-side connection (RFC 9113 §5.1), as a map of
//! the active ones and the highest id the client has used.
//!
//! Only the client opens streams (hangup never pushes), with odd ids that
//! only go up. So a stream is *idle* if its id is even or above the
//! highest seen, *closed* if it is at or below that but not in the map,
//! and *active* otherwise. Closed streams leave no trace (a connection
//! that serves millions of requests keeps only the open ones), except the
//! last few we reset: the client may have sent frames on those before our
//! RST_STREAM reached it, which are its right, not its fault.

use std::collections::{BTreeMap, VecDeque};

use crate::h2::conn::flow::{Overflow, RecvWindow, Window};

/// Where an active stream is (§5.1), seen from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Both sides may send. Entered when a request's HEADERS arrives
    /// without END_STREAM.
    Open,
    /// The client is done (END_STREAM received); the answer may go on.
    HalfClosedRemote,
    /// We are done (END_STREAM sent); the client's body may go on.
    HalfClosedLocal,
}

/// One active stream.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Its state.
    pub state: State,
    /// What we may still send on it.
    pub send: Window,
    /// What the client may still send on it.
    pub recv: RecvWindow,
}

/// What an id names.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// Never used by the client (or even: never ours to use).
    Idle,
    /// Used and over.
    Closed,
    /// In the map.
    Active(&'a mut Stream),
}

/// How many of the streams we reset are remembered (see
/// [`Streams::was_reset`]): a client's frames in flight on one reset
/// longer ago than the last 128 resets are taken as its fault.
const RESETS_REMEMBERED: usize = 128;

/// The active streams.
#[derive(Debug)]
pub struct Streams {
    map: BTreeMap<u32, Stream>,
    last_opened: u32,
    /// The streams we reset lately, oldest first.
    reset_by_us: VecDeque<u32>,
    /// The client's SETTINGS_INITIAL_WINDOW_SIZE: our new send windows.
    send_initial: u32,
    /// Ours: the client's new send windows.
    recv_initial: u32,
}

impl Streams {
    /// No streams yet, with the given initial windows.
    pub fn new(send_initial: u32, recv_initial: u32) -> Streams {
        Streams {
            map: BTreeMap::new(),
            last_opened: 0,
            reset_by_us: VecDeque::new(),
            send_initial,
            recv_initial,
        }
    }

    /// What `id` names now.
    pub fn lookup(&mut self, id: u32) -> Lookup<'_> {
        if let Some(stream) = self.map.get_mut(&id) {
            return Lookup::Active(stream);
        }
        if id.is_multiple_of(2) || id > self.last_opened {
            Lookup::Idle
        } else {
            Lookup::Closed
        }
    }

    /// The highest id the client has used.
    pub fn last_opened(&self) -> u32 {
        self.last_opened
    }

    /// How many streams are active.
    pub fn active(&self) -> usize {
        self.map.len()
    }

    /// The client used `id` (odd and above [`Streams::last_opened`], as
    /// the caller checked), whether or not the stream is kept.
    pub fn use_id(&mut self, id: u32) {
        self.last_opened = self.last_opened.max(id);
    }

    /// Opens `id` with a request; `remote_done` if its HEADERS had
    /// END_STREAM.
    pub fn open(&mut self, id: u32, remote_done: bool) {
        self.use_id(id);
        let state = if remote_done {
            State::HalfClosedRemote
        } else {
            State::Open
        };
        let stream = Stream {
            state,
            send: Window::new(self.send_initial),
            recv: RecvWindow::new(self.recv_initial),
        };
        self.map.insert(id, stream);
    }

    /// The stream, if active.
    pub fn get(&self, id: u32) -> Option<&Stream> {
        self.map.get(&id)
    }

    /// Ends a stream at once: the client reset it.
    pub fn close(&mut self, id: u32) {
        self.map.remove(&id);
    }

    /// Ends a stream at once: we reset it (or refused it), and the client
    /// may not know yet.
    pub fn reset(&mut self, id: u32) {
        self.map.remove(&id);
        if self.reset_by_us.len() == RESETS_REMEMBERED {
            self.reset_by_us.pop_front();
        }
        self.reset_by_us.push_back(id);
    }

    /// Whether `id` is among the streams we reset lately: frames the
    /// client sent on it before it heard are dropped (RFC 9113 §5.1,
    /// "closed").
    pub fn was_reset(&self, id: u32) -> bool {
        self.reset_by_us.contains(&id)
    }

    /// The client sent END_STREAM on `id`.
    pub fn remote_end(&mut self, id: u32) {
        self.end(id, State::HalfClosedLocal, State::HalfClosedRemote);
    }

    /// We sent END_STREAM on `id`.
    pub fn local_end(&mut self, id: u32) {
        self.end(id, State::HalfClosedRemote, State::HalfClosedLocal);
    }

    fn end(&mut self, id: u32, other_side_done: State, this_side_done: State) {
        match self.map.get_mut(&id) {
            Some(s) if s.state == other_side_done => {
                self.map.remove(&id);
            }
            Some(s) => s.state = this_side_done,
            None => {}
        }
    }

    /// The client's SETTINGS_INITIAL_WINDOW_SIZE changed: every send
    /// window moves by the difference (§6.9.2).
    pub fn set_send_initial(&mut self, size: u32) -> Result<(), Overflow> {
        let delta = i64::from(size) - i64::from(self.send_initial);
        self.send_initial = size;
        self.map.values_mut().try_for_each(|s| s.send.adjust(delta))
    }

    /// Our SETTINGS_INITIAL_WINDOW_SIZE took effect.
    pub fn set_recv_initial(&mut self, size: u32) -> Result<(), Overflow> {
        let delta = i64::from(size) - i64::from(self.recv_initial);
        self.recv_initial = size;
        self.map.values_mut().try_for_each(|s| s.recv.grow(delta))
    }

    /// Our initial receive window (for replenishing streams).
    pub fn recv_initial(&self) -> u32 {
        self.recv_initial
    }

    /// Mutable access to an active stream.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut Stream> {
        self.map.get_mut(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_idle_active_or_closed() {
        let mut s = Streams::new(100, 100);
        assert!(matches!(s.lookup(1), Lookup::Idle));
        s.open(3, false);
        assert!(matches!(s.lookup(1), Lookup::Closed));
        assert!(matches!(s.lookup(2), Lookup::Idle));
        assert!(matches!(s.lookup(3), Lookup::Active(_)));
        assert!(matches!(s.lookup(5), Lookup::Idle));
        s.local_end(3);
        assert_eq!(s.get(3).map(|s| s.state), Some(State::HalfClosedLocal));
        s.remote_end(3);
        assert!(matches!(s.lookup(3), Lookup::Closed));
        assert_eq!(s.active(), 0);
    }

    #[test]
    fn a_new_initial_window_moves_every_stream() {
        let mut s = Streams::new(100, 100);
        s.open(1, true);
        assert_eq!(s.set_send_initial(50), Ok(()));
        assert_eq!(s.get(1).map(|s| s.send.available()), Some(50));
        s.get_mut(1)
            .map(|s| s.send.adjust(i64::from(crate::h2::frame::MAX_STREAM_ID) - 50));
        assert_eq!(s.set_send_initial(51), Err(Overflow));
    }
}
