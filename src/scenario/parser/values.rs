//! Values: durations, numbers and sizes, strings, hex, files, and parameters.
//!
//! A `file "…"` is read here, while parsing, so that `check` reads it as
//! `serve` does and the interpreter only ever holds bytes.
//!
//! A `param` line fixes a parameter's kind by its default; `--set` text is
//! parsed as that kind. A `$name` is replaced by its value where it is used,
//! after checking that the kind fits.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Failure, Parsed, Parser, fail};
use crate::scenario::ast::{Between, Interval, Param, Value};
use crate::scenario::error::{Diagnostic, ErrorKind, Expected, FileProblem, Span};
use crate::scenario::lexer::{Token, TokenKind};
use crate::scenario::limits::MAX_HELD_BYTES;

pub use crate::units::{parse_duration, parse_size as parse_number};

pub(super) fn decode_hex(text: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    let digits: Vec<u8> = text.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(ErrorKind::OddHexDigits);
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| ErrorKind::HexNotAscii)?;
            u8::from_str_radix(s, 16).map_err(|_| ErrorKind::NotAHexByte(s.to_string()))
        })
        .collect()
}

/// The bytes of the regular file at `path`, at most [`MAX_HELD_BYTES`]; or
/// why not. Opened without
/// blocking and checked with `fstat` before reading, so that a FIFO, a
/// socket or a device (`/dev/zero`) is refused at once, and reads one byte
/// past the limit at most.
fn read_side_file(path: &Path) -> Result<Vec<u8>, FileProblem> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| io_reason(&e))?;
    let kind = file.metadata().map_err(|e| io_reason(&e))?.file_type();
    let what = if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else {
        Some("an unknown kind of file")
    };
    if let Some(what) = what {
        return Err(FileProblem::NotRegular(what));
    }
    let mut bytes = Vec::new();
    file.take(MAX_HELD_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() > MAX_HELD_BYTES {
        return Err(FileProblem::OverLimit);
    }
    Ok(bytes)
}

/// An I/O error as a user reads it: "No such file or directory", without
/// the "(os error 2)" that only a programmer wants.
fn io_reason(e: &std::io::Error) -> FileProblem {
    let text = e.to_string();
    FileProblem::Io(match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    })
}

impl Parser<'_> {
    /// The path of `file "…"`: as written when absolute, else under the
    /// scenario's directory.
    fn side_file_path(&self, name: &[u8]) -> PathBuf {
        let path = Path::new(OsStr::from_bytes(name));
        match self.base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// `file STRING` (after `file`): the file's bytes, counted as held.
    /// Errors point at the name.
    pub(super) fn parse_file_value(&mut self) -> Parsed<Vec<u8>> {
        let span = self.peek().span;
        let name = self.parse_string(Expected::FileName)?;
        let path = self.side_file_path(&name);
        let bytes = read_side_file(&path).map_err(|problem| {
            Diagnostic::new(
                span,
                ErrorKind::FileUnreadable {
                    name: String::from_utf8_lossy(&name).into_owned(),
                    path: path.display().to_string(),
                    problem,
                },
            )
        })?;
        self.hold(bytes.len(), span)?;
        Ok(bytes)
    }

    /// `param NAME = VALUE`. A line with an error after the name marks the
    /// name broken, so that its uses are not errors too; a `--set` that
    /// does not fit is an error, and the default stands in for it.
    pub(super) fn parse_param(&mut self) -> Parsed<()> {
        self.next();
        let name_token = self.next();
        let TokenKind::Word(name) = name_token.kind else {
            return fail(name_token.span, ErrorKind::ParamWithoutName);
        };
        if self.param_index.contains_key(&name) {
            return fail(name_token.span, ErrorKind::ParamTwice(name));
        }
        let default = match self.param_default() {
            Ok(default) => default,
            Err(failure) => {
                self.broken_params.insert(name);
                return Err(failure);
            }
        };
        let value = match self.overrides.get(&name) {
            None => default,
            Some(text) => {
                let parsed = match default {
                    Value::Duration(_) => parse_duration(text).map(Value::Duration),
                    Value::Number(_) => parse_number(text).map(Value::Number),
                    Value::Bytes(_) => Ok(Value::Bytes(text.as_bytes().to_vec())),
                };
                match parsed {
                    Ok(value) => value,
                    Err(error) => {
                        let kind = ErrorKind::SetValue {
                            name: name.clone(),
                            text: text.clone(),
                            error,
                        };
                        self.tell(Span::NOWHERE, kind)?;
                        default
                    }
                }
            }
        };
        self.param_index.insert(name.clone(), self.params.len());
        self.params.push(Param { name, value });
        self.expect_line_end()
    }

    /// `= VALUE`, after `param NAME`: the default, whose kind is the
    /// parameter's.
    fn param_default(&mut self) -> Parsed<Value> {
        let equals = self.next();
        if equals.kind != TokenKind::Op("=") {
            return fail(
                equals.span,
                ErrorKind::UnexpectedToken {
                    expected: Expected::Word("="),
                    found: equals.kind.found(),
                    suggestion: None,
                },
            );
        }
        let value_token = self.next();
        Ok(match &value_token.kind {
            TokenKind::Str(bytes) => Value::Bytes(bytes.clone()),
            TokenKind::Number(text) => match parse_duration(text) {
                Ok(d) => Value::Duration(d),
                Err(_) => Value::Number(parse_number(text).or_else(|e| fail(value_token.span, ErrorKind::Value(e)))?),
            },
            other => {
                return fail(
                    value_token.span,
                    ErrorKind::UnexpectedToken {
                        expected: Expected::ParamValue,
                        found: other.found(),
                        suggestion: None,
                    },
                );
            }
        })
    }

    /// The value of `$name`, or an error pointing at its token.
    pub(super) fn lookup(&self, token: &Token, name: &str) -> Parsed<&Value> {
        if let Some(&i) = self.param_index.get(name) {
            return Ok(&self.params[i].value);
        }
        if self.broken_params.contains(name) {
            return Err(Failure::Told);
        }
        let declared = self.params.iter().map(|p| p.name.as_str());
        let suggestion = super::nearest(name, declared).map(str::to_string);
        fail(
            token.span,
            ErrorKind::UnknownParam {
                name: name.to_string(),
                suggestion,
            },
        )
    }

    /// Whether `$name` is a number parameter.
    pub(super) fn names_a_number(&self, name: &str) -> bool {
        let value = self.param_index.get(name).map(|&i| &self.params[i].value);
        matches!(value, Some(Value::Number(_)))
    }

    /// The value of `$name` (at `token`) when `pick` accepts its kind.
    fn param_of<T>(
        &self,
        token: &Token,
        name: &str,
        kind: &'static str,
        pick: impl Fn(&Value) -> Option<T>,
    ) -> Parsed<T> {
        let value = self.lookup(token, name)?;
        match pick(value) {
            Some(picked) => Ok(picked),
            None => fail(
                token.span,
                ErrorKind::ParamKind {
                    name: name.to_string(),
                    is: value.kind(),
                    expected: kind,
                },
            ),
        }
    }

    pub(super) fn parse_duration(&mut self) -> Parsed<Duration> {
        let token = self.next();
        match &token.kind {
            TokenKind::Number(text) => parse_duration(text).or_else(|e| fail(token.span, ErrorKind::Value(e))),
            TokenKind::Var(name) => self.param_of(&token, name, "duration", |v| match v {
                Value::Duration(d) => Some(*d),
                _ => None,
            }),
            other => fail(
                token.span,
                ErrorKind::UnexpectedToken {
                    expected: Expected::Duration,
                    found: other.found(),
                    suggestion: None,
                },
            ),
        }
    }

    /// A duration, or `between LOW and HIGH`: what `sleep`, `every` and
    /// `within` take.
    pub(super) fn parse_interval(&mut self) -> Parsed<Interval> {
        if self.eat_word("between") {
            Ok(Interval::Drawn(self.parse_between()?))
        } else {
            Ok(Interval::Fixed(self.parse_duration()?))
        }
    }

    /// `LOW and HIGH`, past `between`: a duration drawn by chance.
    fn parse_between(&mut self) -> Parsed<Between> {
        let span = self.peek().span;
        let low = self.parse_duration()?;
        self.expect_word("and")?;
        let high = self.parse_duration()?;
        if high < low {
            return fail(span, ErrorKind::BetweenReversed { low, high });
        }
        Ok(Between {
            low,
            high,
            site: self.chance_site(),
        })
    }

    /// The next place that draws by chance.
    pub(super) fn chance_site(&mut self) -> u32 {
        self.chance_sites += 1;
        self.chance_sites - 1
    }

    pub(super) fn parse_number(&mut self) -> Parsed<u64> {
        let token = self.next();
        match &token.kind {
            TokenKind::Number(text) => parse_number(text).or_else(|e| fail(token.span, ErrorKind::Value(e))),
            TokenKind::Var(name) => self.param_of(&token, name, "number", |v| match v {
                Value::Number(n) => Some(*n),
                _ => None,
            }),
            other => fail(
                token.span,
                ErrorKind::UnexpectedToken {
                    expected: Expected::Number,
                    found: other.found(),
                    suggestion: None,
                },
            ),
        }
    }

    /// A string or a string `$name`; its bytes count as held.
    pub(super) fn parse_string(&mut self, expected: Expected) -> Parsed<Vec<u8>> {
        let token = self.next();
        let bytes = match &token.kind {
            TokenKind::Str(bytes) => bytes.clone(),
            TokenKind::Var(name) => self.param_of(&token, name, "string", |v| match v {
                Value::Bytes(b) => Some(b.clone()),
                _ => None,
            })?,
            other => {
                return fail(
                    token.span,
                    ErrorKind::UnexpectedToken {
                        expected,
                        found: other.found(),
                        suggestion: None,
                    },
                );
            }
        };
        self.hold(bytes.len(), token.span)?;
        Ok(bytes)
    }
}
