//! Flow-control windows (RFC 9113 §5.2, §6.9): one per direction for the
//! connection and for each stream.
//!
//! A send window may go negative: a SETTINGS_INITIAL_WINDOW_SIZE that
//! shrinks while DATA is in flight does that legally (§6.9.2), and so does
//! a scenario that sends DATA ignoring the window. It may never pass
//! 2^31-1: a WINDOW_UPDATE or SETTINGS that would push it there is the
//! peer's FLOW_CONTROL_ERROR.

use crate::h2::frame::MAX_STREAM_ID;

/// The initial window of the connection, and of streams by default.
pub const DEFAULT_WINDOW: u32 = 65_535;

/// A window grown past 2^31-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// How many bytes one side may still send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window(i64);

impl Window {
    /// A window of `size` bytes.
    pub fn new(size: u32) -> Window {
        Window(i64::from(size))
    }

    /// Adds `delta` (a WINDOW_UPDATE's increment, or the change of
    /// SETTINGS_INITIAL_WINDOW_SIZE), refusing to pass 2^31-1.
    pub fn adjust(&mut self, delta: i64) -> Result<(), Overflow> {
        let grown = self.0 + delta;
        if grown > i64::from(MAX_STREAM_ID) {
            return Err(Overflow);
        }
        self.0 = grown;
        Ok(())
    }

    /// Counts `n` bytes sent (or received) against the window; it may go
    /// below zero.
    pub fn take(&mut self, n: usize) {
        self.0 -= i64::try_from(n).unwrap_or(i64::MAX);
    }

    /// Bytes that fit now (0 when the window is negative).
    pub fn available(&self) -> usize {
        usize::try_from(self.0).unwrap_or(0)
    }
}

/// Our receive side of a window: what the peer may still send, and what it
/// sent that we have not yet given back with WINDOW_UPDATE.
#[derive(Debug, Clone, Copy)]
pub struct RecvWindow {
    window: Window,
    unacked: u32,
}

impl RecvWindow {
    /// A window the peer may fill with `size` bytes.
    pub fn new(size: u32) -> RecvWindow {
        RecvWindow {
            window: Window::new(size),
            unacked: 0,
        }
    }

    /// The peer sent `n` bytes of flow-controlled payload; `Err` if that
    /// is more than the window allowed.
    pub fn receive(&mut self, n: usize) -> Result<(), Overflow> {
        if n > self.window.available() {
            return Err(Overflow);
        }
        self.window.take(n);
        self.unacked = self.unacked.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        Ok(())
    }

    /// We sent a WINDOW_UPDATE (or our SETTINGS changed the window).
    pub fn grow(&mut self, delta: i64) -> Result<(), Overflow> {
        self.window.adjust(delta)?;
        self.unacked = self.unacked.saturating_sub(u32::try_from(delta).unwrap_or(0));
        Ok(())
    }

    /// The increment to send now to keep the peer going: everything it
    /// sent, once that is half of `initial` (as nghttp2 does), so a
    /// steady upload costs one WINDOW_UPDATE per half window.
    pub fn replenish(&mut self, initial: u32) -> Option<u32> {
        if self.unacked == 0 || self.unacked < initial / 2 {
            return None;
        }
        let increment = self.unacked;
        self.grow(i64::from(increment)).ok()?;
        Some(increment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_stops_at_2_to_the_31_minus_1_but_may_go_negative() {
        let mut w = Window::new(DEFAULT_WINDOW);
        assert_eq!(w.adjust(i64::from(MAX_STREAM_ID) - 65_535), Ok(()));
        assert_eq!(w.adjust(1), Err(Overflow));
        assert_eq!(w.available(), MAX_STREAM_ID as usize);
        let mut w = Window::new(10);
        w.take(15);
        assert_eq!(w.available(), 0);
        assert_eq!(w.adjust(10), Ok(()));
        assert_eq!(w.available(), 5);
    }

    #[test]
    fn the_receive_window_refuses_overruns_and_replenishes_at_half() {
        let mut r = RecvWindow::new(100);
        assert_eq!(r.receive(40), Ok(()));
        assert_eq!(r.replenish(100), None);
        assert_eq!(r.receive(10), Ok(()));
        assert_eq!(r.replenish(100), Some(50));
        assert_eq!(r.receive(100), Ok(()));
        assert_eq!(r.receive(1), Err(Overflow));
    }
}
