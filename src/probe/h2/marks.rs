//! HTTP/2 frames as the probe's timeline draws them: one [`FrameMark`]
//! per frame either side sent (the probe's own WINDOW_UPDATEs aside,
//! which are bookkeeping, counted in the report), its label in the text
//! and the diagram (`HEADERS 200 (end-stream)`, `DATA 100 B`, `GOAWAY
//! last-stream 0 NO_ERROR "bye"`, `RST_STREAM INTERNAL_ERROR`) and its
//! fields in the JSON (`h2-goaway`, `h2-rst-stream`, …).
//!
//! The server's text (GOAWAY debug data) is shown with its control
//! characters and non-UTF-8 bytes escaped, and cut short in a label.

use std::fmt::Write as _;

use crate::h2::client::HeadKind;
use crate::h2::error::ErrorCode;
use crate::h2::frame::{kind, setting};
use crate::log::push_json_string;

/// Who sent a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Probe,
    Server,
}

impl Sender {
    pub fn name(self) -> &'static str {
        match self {
            Sender::Probe => "probe",
            Sender::Server => "server",
        }
    }
}

/// One frame, without its payload.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameMark {
    /// The probe's 24-byte preface and first SETTINGS.
    Preface {
        settings: Vec<(u16, u32)>,
    },
    Settings {
        ack: bool,
        params: Vec<(u16, u32)>,
    },
    /// The probe's HEADERS opening its stream: `GET /`.
    Request {
        stream: u32,
        line: String,
        end_stream: bool,
        block: usize,
        frames: usize,
    },
    /// A whole field block from the server (drawn at its last frame).
    Head {
        stream: u32,
        kind: HeadKind,
        status: Option<u16>,
        end_stream: bool,
        block: usize,
        frames: usize,
    },
    /// A HEADERS or CONTINUATION that does not end its block.
    Fragment {
        stream: u32,
        kind: u8,
        len: usize,
    },
    Data {
        stream: u32,
        len: usize,
        padding: usize,
        /// The stream's DATA bytes so far, this frame's included.
        total: u64,
        end_stream: bool,
    },
    RstStream {
        stream: u32,
        code: ErrorCode,
    },
    Ping {
        ack: bool,
    },
    GoAway {
        last_stream: u32,
        code: ErrorCode,
        debug: Vec<u8>,
    },
    WindowUpdate {
        stream: u32,
        increment: u32,
    },
    Priority {
        stream: u32,
    },
    Unknown {
        kind: u8,
        flags: u8,
        stream: u32,
        len: usize,
    },
}

/// The most of a GOAWAY's debug data a label shows.
const SHOWN_DEBUG: usize = 40;

impl FrameMark {
    /// Whether it is DATA, which is drawn and bounded as a body's pieces.
    pub fn is_data(&self) -> bool {
        matches!(self, FrameMark::Data { .. })
    }

    /// The DATA bytes it carries.
    pub fn data_bytes(&self) -> u64 {
        match self {
            FrameMark::Data { len, .. } => *len as u64,
            _ => 0,
        }
    }

    /// Whether it ends a stream or the connection the hard way (drawn red).
    pub fn is_fault(&self) -> bool {
        match self {
            FrameMark::RstStream { code, .. } => *code != ErrorCode::NO_ERROR,
            FrameMark::GoAway { code, .. } => *code != ErrorCode::NO_ERROR,
            FrameMark::Head { kind, .. } => *kind == HeadKind::Malformed,
            _ => false,
        }
    }

    /// `HEADERS 200 (end-stream)`, `DATA 100 B`, `GOAWAY last-stream 0
    /// NO_ERROR "bye"`, …
    pub fn label(&self) -> String {
        let end = |end_stream: bool| if end_stream { " (end-stream)" } else { "" };
        match self {
            FrameMark::Preface { settings } => format!("preface, SETTINGS{}", params_text(settings)),
            FrameMark::Settings { ack: true, .. } => "SETTINGS ACK".into(),
            FrameMark::Settings { ack: false, params } => format!("SETTINGS{}", params_text(params)),
            FrameMark::Request {
                stream,
                line,
                end_stream,
                ..
            } => format!("HEADERS {line}{}{}", on(*stream), end(*end_stream)),
            FrameMark::Head {
                stream,
                kind,
                status,
                end_stream,
                frames,
                ..
            } => {
                let what = match (kind, status) {
                    (HeadKind::Response, Some(status)) => status.to_string(),
                    (HeadKind::Informational, Some(status)) => format!("{status} (interim)"),
                    (HeadKind::Trailers, _) => "trailers".into(),
                    (HeadKind::Malformed, Some(status)) => format!("{status}, malformed"),
                    (HeadKind::Malformed, None) | (HeadKind::Response | HeadKind::Informational, None) => {
                        "malformed".into()
                    }
                    (HeadKind::Ignored, _) => "ignored".into(),
                };
                let pieces = if *frames > 1 {
                    format!(", {frames} frames")
                } else {
                    String::new()
                };
                let name = if *frames > 1 { "CONTINUATION:" } else { "HEADERS" };
                format!("{name} {what}{}{pieces}{}", on(*stream), end(*end_stream))
            }
            FrameMark::Fragment { stream, kind: k, len } => {
                let name = if *k == kind::HEADERS { "HEADERS" } else { "CONTINUATION" };
                format!("{name} {len} B{}, no END_HEADERS", on(*stream))
            }
            FrameMark::Data {
                stream,
                len,
                padding,
                end_stream,
                ..
            } => {
                let padded = if *padding > 0 {
                    format!(" +{padding} B padding")
                } else {
                    String::new()
                };
                format!("DATA {len} B{padded}{}{}", on(*stream), end(*end_stream))
            }
            FrameMark::RstStream { stream, code } => format!("RST_STREAM {}{}", code_name(*code), on(*stream)),
            FrameMark::Ping { ack: true } => "PING ACK".into(),
            FrameMark::Ping { ack: false } => "PING".into(),
            FrameMark::GoAway {
                last_stream,
                code,
                debug,
            } => {
                let debug = if debug.is_empty() {
                    String::new()
                } else {
                    format!(" \"{}\"", printable(debug, SHOWN_DEBUG))
                };
                format!("GOAWAY last-stream {last_stream} {}{debug}", code_name(*code))
            }
            FrameMark::WindowUpdate { stream: 0, increment } => format!("WINDOW_UPDATE +{increment}"),
            FrameMark::WindowUpdate { stream, increment } => format!("WINDOW_UPDATE +{increment} on stream {stream}"),
            FrameMark::Priority { stream } => format!("PRIORITY{}", on(*stream)),
            FrameMark::Unknown { kind: k, len, .. } => format!("frame type 0x{k:02x}, {len} B (unknown, ignored)"),
        }
    }

    /// The JSON timeline entry's event name and fields, after `"event":`.
    pub fn json(&self, from: Sender, out: &mut String) {
        let event = match self {
            FrameMark::Preface { .. } => "h2-preface",
            FrameMark::Settings { .. } => "h2-settings",
            FrameMark::Request { .. } | FrameMark::Head { .. } => "h2-headers",
            FrameMark::Fragment { kind: k, .. } if *k == kind::HEADERS => "h2-headers",
            FrameMark::Fragment { .. } => "h2-continuation",
            FrameMark::Data { .. } => "h2-data",
            FrameMark::RstStream { .. } => "h2-rst-stream",
            FrameMark::Ping { .. } => "h2-ping",
            FrameMark::GoAway { .. } => "h2-goaway",
            FrameMark::WindowUpdate { .. } => "h2-window-update",
            FrameMark::Priority { .. } => "h2-priority",
            FrameMark::Unknown { .. } => "h2-unknown",
        };
        let _ = write!(out, "\"{event}\",\"from\":\"{}\"", from.name());
        match self {
            FrameMark::Preface { settings } => {
                out.push_str(",\"settings\":");
                params_json(out, settings);
            }
            FrameMark::Settings { ack, params } => {
                let _ = write!(out, ",\"ack\":{ack},\"settings\":");
                params_json(out, params);
            }
            FrameMark::Request {
                stream,
                line,
                end_stream,
                block,
                frames,
            } => {
                let _ = write!(out, ",\"stream\":{stream},\"kind\":\"request\",\"request\":");
                push_json_string(out, line.as_bytes());
                let _ = write!(
                    out,
                    ",\"end_stream\":{end_stream},\"end_headers\":true,\"bytes\":{block},\"frames\":{frames}"
                );
            }
            FrameMark::Head {
                stream,
                kind: k,
                status,
                end_stream,
                block,
                frames,
            } => {
                let k = match k {
                    HeadKind::Response => "response",
                    HeadKind::Informational => "interim",
                    HeadKind::Trailers => "trailers",
                    HeadKind::Malformed => "malformed",
                    HeadKind::Ignored => "ignored",
                };
                let _ = write!(out, ",\"stream\":{stream},\"kind\":\"{k}\",\"status\":");
                match status {
                    Some(status) => {
                        let _ = write!(out, "{status}");
                    }
                    None => out.push_str("null"),
                }
                let _ = write!(
                    out,
                    ",\"end_stream\":{end_stream},\"end_headers\":true,\"bytes\":{block},\"frames\":{frames}"
                );
            }
            FrameMark::Fragment { stream, len, .. } => {
                let _ = write!(out, ",\"stream\":{stream},\"end_headers\":false,\"bytes\":{len}");
            }
            FrameMark::Data {
                stream,
                len,
                padding,
                total,
                end_stream,
            } => {
                let _ = write!(
                    out,
                    ",\"stream\":{stream},\"bytes\":{len},\"padding\":{padding},\"total\":{total},\"end_stream\":{end_stream}"
                );
            }
            FrameMark::RstStream { stream, code } => {
                let _ = write!(out, ",\"stream\":{stream},");
                code_json(out, *code);
            }
            FrameMark::Ping { ack } => {
                let _ = write!(out, ",\"ack\":{ack}");
            }
            FrameMark::GoAway {
                last_stream,
                code,
                debug,
            } => {
                let _ = write!(out, ",\"last_stream\":{last_stream},");
                code_json(out, *code);
                out.push_str(",\"debug\":");
                push_json_string(out, debug);
            }
            FrameMark::WindowUpdate { stream, increment } => {
                let _ = write!(out, ",\"stream\":{stream},\"increment\":{increment}");
            }
            FrameMark::Priority { stream } => {
                let _ = write!(out, ",\"stream\":{stream}");
            }
            FrameMark::Unknown {
                kind: k,
                flags,
                stream,
                len,
            } => {
                let _ = write!(
                    out,
                    ",\"type\":{k},\"flags\":{flags},\"stream\":{stream},\"bytes\":{len}"
                );
            }
        }
    }
}

/// ` on stream 3` for a stream other than the probe's first.
fn on(stream: u32) -> String {
    if stream == 1 {
        String::new()
    } else {
        format!(" on stream {stream}")
    }
}

/// An error code's RFC name, or its number in hex for one the RFC does
/// not name.
pub fn code_name(code: ErrorCode) -> String {
    code.name().map_or_else(|| format!("0x{:x}", code.0), str::to_string)
}

/// `"error":"INTERNAL_ERROR","code":2`.
pub fn code_json(out: &mut String, code: ErrorCode) {
    out.push_str("\"error\":");
    push_json_string(out, code_name(code).as_bytes());
    let _ = write!(out, ",\"code\":{}", code.0);
}

/// A SETTINGS parameter's RFC name without its `SETTINGS_` prefix, or
/// its number in hex.
pub fn setting_name(id: u16) -> String {
    let name = match id {
        setting::HEADER_TABLE_SIZE => "HEADER_TABLE_SIZE",
        setting::ENABLE_PUSH => "ENABLE_PUSH",
        setting::MAX_CONCURRENT_STREAMS => "MAX_CONCURRENT_STREAMS",
        setting::INITIAL_WINDOW_SIZE => "INITIAL_WINDOW_SIZE",
        setting::MAX_FRAME_SIZE => "MAX_FRAME_SIZE",
        setting::MAX_HEADER_LIST_SIZE => "MAX_HEADER_LIST_SIZE",
        // RFC 8441's, which servers send.
        0x8 => "ENABLE_CONNECT_PROTOCOL",
        other => return format!("0x{other:x}"),
    };
    name.to_string()
}

/// ` MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 65535`, or nothing.
pub fn params_text(params: &[(u16, u32)]) -> String {
    let shown: Vec<String> = params
        .iter()
        .map(|(id, value)| format!("{} {value}", setting_name(*id)))
        .collect();
    if shown.is_empty() {
        String::new()
    } else {
        format!(" {}", shown.join(", "))
    }
}

/// `[["MAX_CONCURRENT_STREAMS",100]]`: pairs in the order sent, since a
/// SETTINGS may name one parameter twice.
pub fn params_json(out: &mut String, params: &[(u16, u32)]) {
    out.push('[');
    for (i, (id, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        push_json_string(out, setting_name(*id).as_bytes());
        let _ = write!(out, ",{value}]");
    }
    out.push(']');
}

/// The server's bytes as text: printable ASCII as it is, anything else
/// escaped (`\n`, `\x00`, `\xc3\xa9`), at most `max` bytes, then `…`.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let more = if bytes.len() > max { "…" } else { "" };
    format!("{}{more}", shown.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_say_what_each_frame_carried() {
        let table: [(FrameMark, &str); 9] = [
            (
                FrameMark::Head {
                    stream: 1,
                    kind: HeadKind::Response,
                    status: Some(200),
                    end_stream: true,
                    block: 20,
                    frames: 1,
                },
                "HEADERS 200 (end-stream)",
            ),
            (
                FrameMark::Data {
                    stream: 1,
                    len: 100,
                    padding: 0,
                    total: 100,
                    end_stream: false,
                },
                "DATA 100 B",
            ),
            (
                FrameMark::GoAway {
                    last_stream: 0,
                    code: ErrorCode::NO_ERROR,
                    debug: b"bye\n".to_vec(),
                },
                "GOAWAY last-stream 0 NO_ERROR \"bye\\n\"",
            ),
            (
                FrameMark::RstStream {
                    stream: 1,
                    code: ErrorCode::INTERNAL_ERROR,
                },
                "RST_STREAM INTERNAL_ERROR",
            ),
            (
                FrameMark::RstStream {
                    stream: 3,
                    code: ErrorCode(0x1f4),
                },
                "RST_STREAM 0x1f4 on stream 3",
            ),
            (
                FrameMark::Settings {
                    ack: false,
                    params: vec![(3, 100), (0x99, 1)],
                },
                "SETTINGS MAX_CONCURRENT_STREAMS 100, 0x99 1",
            ),
            (
                FrameMark::Request {
                    stream: 1,
                    line: "GET /x".into(),
                    end_stream: true,
                    block: 40,
                    frames: 1,
                },
                "HEADERS GET /x (end-stream)",
            ),
            (
                FrameMark::Head {
                    stream: 1,
                    kind: HeadKind::Response,
                    status: Some(404),
                    end_stream: false,
                    block: 9000,
                    frames: 3,
                },
                "CONTINUATION: 404, 3 frames",
            ),
            (
                FrameMark::Unknown {
                    kind: 0x42,
                    flags: 0,
                    stream: 0,
                    len: 5,
                },
                "frame type 0x42, 5 B (unknown, ignored)",
            ),
        ];
        for (mark, label) in table {
            assert_eq!(mark.label(), label);
        }
    }

    #[test]
    fn the_servers_text_is_escaped_and_cut() {
        assert_eq!(printable(b"too_many_pings", 40), "too_many_pings");
        assert_eq!(printable(b"a\"b\\c\x00\xff", 40), "a\\\"b\\\\c\\x00\\xff");
        assert_eq!(printable(b"abcdef", 3), "abc…");
    }
}
