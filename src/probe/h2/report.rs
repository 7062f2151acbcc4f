//! The HTTP/2 part of a probe's story: what the connection saw
//! ([`H2Report`]: how HTTP/2 was agreed, the server's SETTINGS, each
//! GOAWAY and RST_STREAM, how the server broke the rules) and what the
//! probe's stream saw ([`StreamReport`]: the status, whether END_STREAM
//! came, the DATA bytes), with their text lines and JSON.

use std::fmt::Write as _;

use super::marks::{code_json, code_name, params_json, params_text, printable};
use crate::h2::error::ErrorCode;
use crate::log::push_json_string;

/// GOAWAYs and RST_STREAMs kept one by one; those after are counted.
pub const SHOWN_FRAMES: usize = 10;

/// How the probe came to speak HTTP/2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `http://`: h2c, the preface sent at once.
    PriorKnowledge,
    /// `https://`: `h2` offered by ALPN (with `http/1.1`).
    Alpn,
}

/// A GOAWAY from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoAwaySeen {
    pub last_stream: u32,
    pub code: ErrorCode,
    pub debug: Vec<u8>,
}

/// What one probe connection saw of HTTP/2.
#[derive(Debug, Clone)]
pub struct H2Report {
    pub via: Via,
    /// HTTP/2 was spoken: with prior knowledge from the start, over TLS
    /// once ALPN chose `h2` (`error` says what it chose otherwise).
    pub spoken: bool,
    /// The server's first SETTINGS, once they came.
    pub settings: Option<Vec<(u16, u32)>>,
    /// The first [`SHOWN_FRAMES`] GOAWAYs, and how many came after.
    pub goaways: Vec<GoAwaySeen>,
    pub goaways_not_shown: u64,
    /// The server's RST_STREAMs (stream, code), bounded as GOAWAYs.
    pub resets: Vec<(u32, ErrorCode)>,
    pub resets_not_shown: u64,
    /// Why the probe did not, or no longer, speak HTTP/2 with the server:
    /// ALPN chose something else, or the server broke HTTP/2's rules (the
    /// probe's RST_STREAM or GOAWAY said so).
    pub error: Option<String>,
    pub frames_received: u64,
    pub frames_sent: u64,
    /// The probe's WINDOW_UPDATEs, counted but not drawn.
    pub window_updates_sent: u64,
}

impl H2Report {
    pub fn new(via: Via) -> H2Report {
        H2Report {
            via,
            spoken: via == Via::PriorKnowledge,
            settings: None,
            goaways: Vec::new(),
            goaways_not_shown: 0,
            resets: Vec::new(),
            resets_not_shown: 0,
            error: None,
            frames_received: 0,
            frames_sent: 0,
            window_updates_sent: 0,
        }
    }

    pub fn goaway(&mut self, seen: GoAwaySeen) {
        if self.goaways.len() < SHOWN_FRAMES {
            self.goaways.push(seen);
        } else {
            self.goaways_not_shown += 1;
        }
    }

    pub fn reset(&mut self, stream: u32, code: ErrorCode) {
        if self.resets.len() < SHOWN_FRAMES {
            self.resets.push((stream, code));
        } else {
            self.resets_not_shown += 1;
        }
    }

    /// The last GOAWAY's code, when it is an error (not NO_ERROR): what
    /// ended the connection, whatever the stream was doing.
    pub fn goaway_error(&self) -> Option<ErrorCode> {
        self.goaways
            .last()
            .map(|g| g.code)
            .filter(|code| *code != ErrorCode::NO_ERROR)
    }

    /// The connection's lines, each a label and its text: `http2`, then
    /// `settings` once HTTP/2 is spoken.
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let via = match self.via {
            Via::PriorKnowledge => "h2c, with prior knowledge",
            Via::Alpn => "h2, by ALPN",
        };
        if !self.spoken {
            let why = self.error.as_deref().unwrap_or("no TLS handshake");
            return vec![("http2", format!("not spoken: {why}"))];
        }
        let settings = match &self.settings {
            None => "none came from the server".to_string(),
            Some(params) if params.is_empty() => "from the server: none (the RFC's defaults)".to_string(),
            Some(params) => format!("from the server:{}", params_text(params)),
        };
        vec![("http2", via.to_string()), ("settings", settings)]
    }

    /// `frame` lines: each GOAWAY and RST_STREAM the server sent.
    pub fn frame_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .goaways
            .iter()
            .map(|g| {
                let debug = if g.debug.is_empty() {
                    String::new()
                } else {
                    format!(" \"{}\"", printable(&g.debug, 200))
                };
                format!("GOAWAY last-stream {} {}{debug}", g.last_stream, code_name(g.code))
            })
            .collect();
        if self.goaways_not_shown > 0 {
            lines.push(format!("and {} more GOAWAY", self.goaways_not_shown));
        }
        lines.extend(
            self.resets
                .iter()
                .map(|(stream, code)| format!("RST_STREAM {} on stream {stream}", code_name(*code))),
        );
        if self.resets_not_shown > 0 {
            lines.push(format!("and {} more RST_STREAM", self.resets_not_shown));
        }
        lines
    }
}

/// What the probe's stream saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamReport {
    pub id: u32,
    /// The final response's status.
    pub status: Option<u16>,
    /// Interim (1xx) statuses, the first few.
    pub interim: Vec<u16>,
    /// END_STREAM came (with the head, the last DATA or the trailers).
    pub end_stream: bool,
    pub trailers: bool,
    /// Bytes of the response head's field block (HPACK).
    pub header_bytes: u64,
    /// The request body: bytes sent of all.
    pub body_sent: u64,
    pub body_total: u64,
    /// A header block was begun and not ended (CONTINUATION awaited).
    pub block_open: bool,
    /// The server broke the stream's rules and the probe reset it.
    pub reset_by_probe: bool,
}

impl StreamReport {
    pub fn new(id: u32, body_total: u64) -> StreamReport {
        StreamReport {
            id,
            status: None,
            interim: Vec::new(),
            end_stream: false,
            trailers: false,
            header_bytes: 0,
            body_sent: 0,
            body_total,
            block_open: false,
            reset_by_probe: false,
        }
    }

    /// `HTTP/2 200, body 100 B, END_STREAM`, or what is missing.
    pub fn received_text(&self, body_bytes: u64) -> String {
        let Some(status) = self.status else {
            return "no response HEADERS".to_string();
        };
        let end = if self.end_stream { "END_STREAM" } else { "no END_STREAM" };
        let trailers = if self.trailers { ", trailers" } else { "" };
        format!("HTTP/2 {status}, body {body_bytes} B{trailers}, {end}")
    }

    /// `GET / on stream 1`, with the body when there is one.
    pub fn sent_text(&self, line: &str) -> String {
        let body = match (self.body_total, self.body_sent) {
            (0, _) => String::new(),
            (total, sent) if sent == total => format!(", body {total} B"),
            (total, sent) => format!(", body {sent} of {total} B"),
        };
        format!("{line} on stream {}{body}", self.id)
    }
}

/// The `http2` object of the JSON report; `stream` is the last request's.
pub fn json(out: &mut String, report: &H2Report, stream: Option<&StreamReport>, body_bytes: u64) {
    let via = match report.via {
        Via::PriorKnowledge => "prior-knowledge",
        Via::Alpn => "alpn",
    };
    let _ = write!(out, "{{\"via\":\"{via}\",\"spoken\":{},\"settings\":", report.spoken);
    match &report.settings {
        Some(params) => params_json(out, params),
        None => out.push_str("null"),
    }
    match stream {
        Some(s) => {
            let _ = write!(out, ",\"stream\":{},\"status\":", s.id);
            match s.status {
                Some(status) => {
                    let _ = write!(out, "{status}");
                }
                None => out.push_str("null"),
            }
            let interim: Vec<String> = s.interim.iter().map(u16::to_string).collect();
            let _ = write!(
                out,
                ",\"interim\":[{}],\"end_stream\":{},\"trailers\":{},\"header_bytes\":{},\"data_bytes\":{body_bytes},\"body_sent\":{},\"body_total\":{}",
                interim.join(","),
                s.end_stream,
                s.trailers,
                s.header_bytes,
                s.body_sent,
                s.body_total
            );
        }
        None => out.push_str(",\"stream\":null"),
    }
    out.push_str(",\"goaways\":[");
    for (i, g) in report.goaways.iter().enumerate() {
        let _ = write!(
            out,
            "{}{{\"last_stream\":{},",
            if i > 0 { "," } else { "" },
            g.last_stream
        );
        code_json(out, g.code);
        out.push_str(",\"debug\":");
        push_json_string(out, &g.debug);
        out.push('}');
    }
    let _ = write!(
        out,
        "],\"goaways_not_shown\":{},\"rst_streams\":[",
        report.goaways_not_shown
    );
    for (i, (stream, code)) in report.resets.iter().enumerate() {
        let _ = write!(out, "{}{{\"stream\":{stream},", if i > 0 { "," } else { "" });
        code_json(out, *code);
        out.push('}');
    }
    let _ = write!(
        out,
        "],\"rst_streams_not_shown\":{},\"error\":",
        report.resets_not_shown
    );
    match &report.error {
        Some(error) => push_json_string(out, error.as_bytes()),
        None => out.push_str("null"),
    }
    let _ = write!(
        out,
        ",\"frames_received\":{},\"frames_sent\":{},\"window_updates_sent\":{}}}",
        report.frames_received, report.frames_sent, report.window_updates_sent
    );
}
