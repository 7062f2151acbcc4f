//! `hangup probe --http2`: the probe's stream on an HTTP/2 connection,
//! without the socket, for the [`super::exchange`] to drive.
//!
//! [`H2Probe`] speaks through [`crate::h2::client`]: it opens stream 1
//! with the request's HEADERS, sends the body as the server's windows
//! allow, and hands the session the client's output in batches, each
//! drawn frame by frame on the timeline once it is written. What the
//! server sends is fed to the client, and each event it gives becomes a
//! mark, in order, and a step of the stream's story, until something
//! settles it ([`Decision`]): END_STREAM (the response is whole), the
//! server's RST_STREAM, a GOAWAY that leaves the stream out, or the
//! server breaking HTTP/2's rules. What the connection does after that
//! (a GOAWAY, its FIN or RST) is still watched, for `--linger`, as after
//! an HTTP/1.1 response.
//!
//! One stream per connection: `--count` opens one connection per probe.

pub mod marks;
pub mod report;

use std::borrow::Cow;
use std::time::Instant;

use marks::{FrameMark, Sender};
use report::{GoAwaySeen, H2Report, StreamReport, Via};

use super::request::H2Request;
use super::timeline::Timeline;
use crate::h2::client::{Client, Config, Event, HeadKind, Sent};
use crate::h2::error::ErrorCode;
use crate::h2::frame::{Ack, EndStream};
use crate::outgoing::Outgoing;
use crate::scenario::ast::{Payload, Piece};

/// Bytes of body queued at a time: the output stays this small however
/// large the body (`--body-bytes 10GiB`), as [`Outgoing`] keeps a repeat.
const BATCH_BYTES: usize = 64 * 1024;

/// Interim statuses kept (a server may send any number of them).
const SHOWN_INTERIM: usize = 10;

/// What settled the stream's story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// END_STREAM after the response head: the response is whole.
    Complete,
    /// The server's RST_STREAM.
    StreamReset(ErrorCode),
    /// A GOAWAY whose last-stream-id leaves the stream out: the server
    /// says it did not process it (safe to retry).
    Refused(ErrorCode),
    /// The server broke the rules on the stream (a malformed response,
    /// say): the probe reset it; the connection goes on.
    StreamBroken(String),
    /// The server broke the connection's rules, or does not speak
    /// HTTP/2: the probe's GOAWAY is queued, and the probe closes.
    ConnectionBroken(String),
}

/// The bytes being written, and the frames they hold.
struct Batch<'p> {
    out: Outgoing<'p>,
    frames: Vec<Sent>,
    len: u64,
}

/// The probe's HTTP/2 connection and its one stream.
pub struct H2Probe<'p> {
    client: Client,
    request: &'p H2Request,
    body: Outgoing<'p>,
    batch: Option<Batch<'p>>,
    /// Bytes of the batches written whole.
    written: u64,
    /// The request's last frame (END_STREAM) is written.
    request_sent: bool,
    /// DATA bytes received on the stream.
    data_bytes: u64,
    pub stream: StreamReport,
    pub report: H2Report,
    decision: Option<Decision>,
}

impl<'p> H2Probe<'p> {
    /// The connection's first bytes queued: the preface, SETTINGS, and
    /// the request's HEADERS.
    pub fn new(request: &'p H2Request, via: Via) -> H2Probe<'p> {
        let mut client = Client::new(Config::default());
        let body_len = request.body.len();
        let end = if body_len == 0 { EndStream::Yes } else { EndStream::No };
        let fields = request.fields.iter().map(|(n, v)| (n.as_slice(), v.as_slice()));
        let id = client.open_stream(fields, end);
        H2Probe {
            client,
            request,
            body: Outgoing::new(Cow::Borrowed(&request.body)),
            batch: None,
            written: 0,
            request_sent: false,
            data_bytes: 0,
            stream: StreamReport::new(id, body_len),
            report: H2Report::new(via),
            decision: None,
        }
    }

    /// What settled the stream, once something did.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// Whether the request's last frame is written.
    pub fn request_sent(&self) -> bool {
        self.request_sent
    }

    /// Bytes written on the connection.
    pub fn written(&self) -> u64 {
        self.written + self.batch.as_ref().map_or(0, |b| b.out.written())
    }

    /// Bytes queued but not yet written.
    pub fn unwritten(&self) -> u64 {
        let batch = self.batch.as_ref().map_or(0, |b| b.len - b.out.written());
        batch + self.client.output_len() as u64
    }

    /// DATA bytes received on the stream.
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// The bytes to write now: the batch in progress, or the next one
    /// (answers, and as much body as the windows allow); `None` when
    /// nothing waits.
    pub fn outgoing(&mut self) -> Option<&mut Outgoing<'p>> {
        let in_progress = self.batch.as_ref().is_some_and(|b| b.out.written() < b.len);
        if !in_progress {
            self.queue_body();
            let output = self.client.take_output()?;
            let len = output.bytes.len() as u64;
            let payload = Payload {
                pieces: vec![Piece::Bytes(output.bytes)],
            };
            self.batch = Some(Batch {
                out: Outgoing::new(Cow::Owned(payload)),
                frames: output.frames,
                len,
            });
        }
        self.batch.as_mut().map(|b| &mut b.out)
    }

    /// Queue body bytes within the server's windows, up to a batch; none
    /// once the stream's story is settled (a server that refused or reset
    /// the stream, or answered it whole, wants no more of it).
    fn queue_body(&mut self) {
        if self.decision.is_some() {
            return;
        }
        let id = self.stream.id;
        let total = self.request.body.len();
        while self.client.output_len() < BATCH_BYTES {
            let room = self.client.sendable(id).min(BATCH_BYTES - self.client.output_len());
            if room == 0 {
                return;
            }
            let written = self.body.written();
            let Some(chunk) = self.body.chunk() else { return };
            let n = chunk.len().min(room);
            let end = if written + n as u64 == total {
                EndStream::Yes
            } else {
                EndStream::No
            };
            self.client.send_data(id, &chunk[..n], end);
            self.body.advance(n);
        }
    }

    /// The batch is all written: draw its frames at `now`.
    pub fn sent(&mut self, now: Instant, timeline: &mut Timeline) {
        let Some(batch) = self.batch.take() else { return };
        self.written += batch.len;
        for frame in batch.frames {
            self.report.frames_sent += 1;
            let mark = match frame {
                Sent::Preface { settings } => FrameMark::Preface { settings },
                Sent::SettingsAck => FrameMark::Settings {
                    ack: true,
                    params: Vec::new(),
                },
                Sent::Headers {
                    stream,
                    end_stream,
                    block,
                    frames,
                } => {
                    self.request_sent |= end_stream.is_end();
                    FrameMark::Request {
                        stream,
                        line: self.request.line.clone(),
                        end_stream: end_stream.is_end(),
                        block,
                        frames,
                    }
                }
                Sent::Data {
                    stream,
                    len,
                    end_stream,
                } => {
                    self.stream.body_sent += len as u64;
                    self.request_sent |= end_stream.is_end();
                    FrameMark::Data {
                        stream,
                        len,
                        padding: 0,
                        total: self.stream.body_sent,
                        end_stream: end_stream.is_end(),
                    }
                }
                Sent::PingAck => FrameMark::Ping { ack: true },
                Sent::WindowUpdate { .. } => {
                    self.report.window_updates_sent += 1;
                    continue;
                }
                Sent::RstStream { stream, code } => FrameMark::RstStream { stream, code },
                Sent::GoAway { code } => FrameMark::GoAway {
                    last_stream: 0,
                    code,
                    debug: Vec::new(),
                },
            };
            timeline.frame(now, Sender::Probe, mark);
        }
    }

    /// Bytes from the server, at `now`: each frame drawn, the story told.
    pub fn received(&mut self, bytes: &[u8], now: Instant, timeline: &mut Timeline) {
        self.client.receive(bytes);
        while let Some(event) = self.client.next_event() {
            self.event(event, now, timeline);
        }
    }

    fn decide(&mut self, decision: Decision) {
        if self.decision.is_none() {
            self.decision = Some(decision);
        }
    }

    fn event(&mut self, event: Event, now: Instant, timeline: &mut Timeline) {
        let ours = |stream: u32| stream == self.stream.id;
        let mark = match event {
            Event::Settings { params } => {
                if self.report.settings.is_none() {
                    self.report.settings = Some(params.clone());
                }
                Some(FrameMark::Settings { ack: false, params })
            }
            Event::SettingsAck => Some(FrameMark::Settings {
                ack: true,
                params: Vec::new(),
            }),
            Event::Headers {
                stream,
                head,
                end_stream,
                block,
                frames,
            } => {
                if ours(stream) {
                    self.head(head.kind, head.status, end_stream, block);
                }
                Some(FrameMark::Head {
                    stream,
                    kind: head.kind,
                    status: head.status,
                    end_stream: end_stream.is_end(),
                    block,
                    frames,
                })
            }
            Event::HeaderFragment { stream, kind, len } => {
                if ours(stream) {
                    self.stream.block_open = true;
                }
                Some(FrameMark::Fragment { stream, kind, len })
            }
            Event::Data {
                stream,
                len,
                padding,
                end_stream,
            } => {
                let mut total = 0;
                if ours(stream) {
                    self.data_bytes += len as u64;
                    total = self.data_bytes;
                    // END_STREAM completes a response whose head came; one
                    // before it is the client's stream error, next.
                    if end_stream.is_end() && self.stream.status.is_some() && self.decision.is_none() {
                        self.stream.end_stream = true;
                        self.decide(Decision::Complete);
                    }
                }
                Some(FrameMark::Data {
                    stream,
                    len,
                    padding,
                    total,
                    end_stream: end_stream.is_end(),
                })
            }
            Event::RstStream { stream, code } => {
                self.report.reset(stream, code);
                if ours(stream) {
                    self.decide(Decision::StreamReset(code));
                }
                Some(FrameMark::RstStream { stream, code })
            }
            Event::Ping { ack } => Some(FrameMark::Ping { ack: ack == Ack::Yes }),
            Event::GoAway {
                last_stream,
                code,
                debug,
            } => {
                self.report.goaway(GoAwaySeen {
                    last_stream,
                    code,
                    debug: debug.clone(),
                });
                if last_stream < self.stream.id {
                    self.decide(Decision::Refused(code));
                }
                Some(FrameMark::GoAway {
                    last_stream,
                    code,
                    debug,
                })
            }
            Event::WindowUpdate { stream, increment } => Some(FrameMark::WindowUpdate { stream, increment }),
            Event::Priority { stream } => Some(FrameMark::Priority { stream }),
            Event::Unknown {
                kind,
                flags,
                stream,
                len,
            } => Some(FrameMark::Unknown {
                kind,
                flags,
                stream,
                len,
            }),
            Event::StreamError(error) => {
                let why = format!(
                    "{}; the probe reset the stream: {}",
                    error.why,
                    marks::code_name(error.code)
                );
                if ours(error.stream) {
                    self.stream.reset_by_probe = true;
                    self.report.error.get_or_insert(why.clone());
                    self.decide(Decision::StreamBroken(why));
                }
                None
            }
            Event::ConnectionError(error) => {
                let why = format!("{}; the probe sent GOAWAY {}", error.why, marks::code_name(error.code));
                self.report.error = Some(why.clone());
                // The connection is over ([`H2Probe::must_close`]), and
                // with it the stream, if nothing settled it before.
                self.decide(Decision::ConnectionBroken(why));
                None
            }
        };
        if let Some(mark) = mark {
            self.report.frames_received += 1;
            timeline.frame(now, Sender::Server, mark);
        }
    }

    /// A whole field block on the stream.
    fn head(&mut self, kind: HeadKind, status: Option<u16>, end_stream: EndStream, block: usize) {
        self.stream.block_open = false;
        match kind {
            HeadKind::Response => {
                self.stream.status = status;
                self.stream.header_bytes = block as u64;
            }
            HeadKind::Informational => {
                if let Some(status) = status.filter(|_| self.stream.interim.len() < SHOWN_INTERIM) {
                    self.stream.interim.push(status);
                }
            }
            HeadKind::Trailers => self.stream.trailers = true,
            HeadKind::Malformed | HeadKind::Ignored => return,
        }
        if end_stream.is_end() && self.stream.status.is_some() {
            self.stream.end_stream = true;
            self.decide(Decision::Complete);
        }
    }

    /// Whether the probe must close now: the connection is broken (its
    /// GOAWAY then goes out with what is left to write).
    pub fn must_close(&self) -> bool {
        self.client.phase() == crate::h2::client::Phase::Failed
    }
}
