//! The event log: one line per socket-level action, on stderr.
//!
//! Text lines are for people (`#3 +12.345ms write bytes=68`); `--log json`
//! prints one JSON object per line with the same fields, for scripts:
//! `{"conn":3,"t_ms":12.345,"event":"write","bytes":68}`. Server-wide
//! events (accept errors) have no `conn` and no `t_ms`. The fields of each
//! event are listed in `scenarios/README.md`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

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
}

impl Log {
    pub fn new(format: Format, quiet: bool) -> Log {
        Log {
            format,
            quiet,
            line: String::with_capacity(256),
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

    fn write(&mut self, conn: Option<(u64, Duration)>, event: &str, fields: &[(&str, Field)]) {
        self.line.clear();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        match self.format {
            Format::Text => {
                if let Some((id, t)) = conn {
                    let _ = write!(self.line, "#{id} +{:.3}ms ", ms(t));
                }
                self.line.push_str(event);
                for (key, value) in fields {
                    let _ = write!(self.line, " {key}=");
                    match value {
                        Field::Num(n) => {
                            let _ = write!(self.line, "{n}");
                        }
                        Field::Str(s) => push_text(&mut self.line, s.as_bytes()),
                        Field::Bytes(b) => push_text(&mut self.line, b),
                    }
                }
            }
            Format::Json => {
                self.line.push('{');
                if let Some((id, t)) = conn {
                    let _ = write!(self.line, "\"conn\":{id},\"t_ms\":{:.3},", ms(t));
                }
                self.line.push_str("\"event\":");
                push_json_string(&mut self.line, event.as_bytes());
                for (key, value) in fields {
                    self.line.push(',');
                    push_json_string(&mut self.line, key.as_bytes());
                    self.line.push(':');
                    match value {
                        Field::Num(n) => {
                            let _ = write!(self.line, "{n}");
                        }
                        Field::Str(s) => push_json_string(&mut self.line, s.as_bytes()),
                        Field::Bytes(b) => push_json_string(&mut self.line, b),
                    }
                }
                self.line.push('}');
            }
        }
        self.line.push('\n');
        // A closed stderr must not stop the server; the log is best effort.
        let _ = std::io::stderr().lock().write_all(self.line.as_bytes());
    }
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
