//! `--record` on the probe's side: what the server did, step by step, as
//! the exchange sees it.

use std::time::Instant;

use super::request::Plan;
use crate::record;
use crate::transport::Boundary;

/// A recording in the making: the steps so far, and when the last one was.
pub struct Recorder {
    pub recording: record::Recording,
    last: Option<Instant>,
    /// The current request's wait is recorded.
    waited: bool,
    /// The method of every request the plan sends, for where a response's
    /// body ends.
    method: record::Method,
}

impl Recorder {
    pub fn new(plan: &Plan) -> Recorder {
        let method = if plan.head_request {
            record::Method::Head
        } else {
            record::Method::Other
        };
        let mut recording = record::Recording::default();
        recording.over_tls = plan.tls.is_some();
        recording.next_request(method);
        Recorder {
            recording,
            last: None,
            waited: false,
            method,
        }
    }

    fn since_last(&mut self, now: Instant) -> std::time::Duration {
        let after = self
            .last
            .map_or(std::time::Duration::ZERO, |last| now.saturating_duration_since(last));
        self.last = Some(now);
        after
    }

    /// The replay waits for the client here (once per request).
    pub fn wait(&mut self, wait: record::Wait, now: Instant) {
        if !std::mem::replace(&mut self.waited, true) {
            self.recording.wait(wait);
            self.last = Some(now);
        }
    }

    pub fn chunk(&mut self, bytes: &[u8], boundary: Boundary, now: Instant) {
        let after = self.since_last(now);
        self.recording.chunk(after, bytes, boundary);
    }

    pub fn next_request(&mut self) {
        self.waited = false;
        self.recording.next_request(self.method);
    }

    pub fn end(&mut self, ending: record::Ending, now: Instant) {
        if self.recording.ending.is_none() {
            let after = self.since_last(now);
            self.recording.ending = Some((ending, after));
        }
    }
}
