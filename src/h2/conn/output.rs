//! The bytes waiting to be sent, and the bound on answers nobody reads.
//!
//! Some frames the connection queues by itself: SETTINGS and PING ACKs,
//! WINDOW_UPDATEs, RST_STREAMs for a client's broken streams. A client
//! that sends PINGs (or SETTINGS, or broken streams) without reading our
//! answers would make that queue grow without end (CVE-2019-9512, the
//! "ping flood"). So the answers queued since the output was last sent in
//! full are counted, and past a bound the connection ends with
//! ENHANCE_YOUR_CALM. No clock is involved: a client that reads what it
//! is sent can ping as often as it likes.

use crate::h2::error::{ConnectionError, ErrorCode};
use crate::h2::frame::{Frame, RawFrame};

/// Bytes to send, in order.
#[derive(Debug)]
pub struct Output {
    bytes: Vec<u8>,
    answers_waiting: usize,
    max_answers: usize,
}

impl Output {
    /// An empty output allowing `max_answers` answers to wait.
    pub fn new(max_answers: usize) -> Output {
        Output {
            bytes: Vec::new(),
            answers_waiting: 0,
            max_answers,
        }
    }

    /// Queues a frame the driver asked for.
    pub fn frame(&mut self, frame: &Frame) {
        frame.encode(&mut self.bytes);
    }

    /// Queues a raw frame.
    pub fn raw(&mut self, raw: &RawFrame) {
        raw.encode(&mut self.bytes);
    }

    /// Queues a frame the connection sends by itself, within the bound.
    pub fn answer(&mut self, frame: &Frame) -> Result<(), ConnectionError> {
        self.answers_waiting += 1;
        if self.answers_waiting > self.max_answers {
            let why = format!(
                "{} answers (PING and SETTINGS ACKs, WINDOW_UPDATE, RST_STREAM) wait to be sent: \
                 the client sends faster than it reads",
                self.answers_waiting
            );
            return Err(ConnectionError::new(ErrorCode::ENHANCE_YOUR_CALM, why));
        }
        frame.encode(&mut self.bytes);
        Ok(())
    }

    /// What waits to be sent.
    pub fn pending(&self) -> &[u8] {
        &self.bytes
    }

    /// The first `n` pending bytes were sent.
    pub fn written(&mut self, n: usize) {
        self.bytes.drain(..n.min(self.bytes.len()));
        if self.bytes.is_empty() {
            self.answers_waiting = 0;
        }
    }
}
