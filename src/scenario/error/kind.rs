//! What is wrong in a scenario, as data: [`ErrorKind`] holds what the
//! message is made of (the expected set, the token found, the numbers,
//! the names), and its `Display` says it in words for the user.
//!
//! Tests assert the kind and where it is, so that a change of wording is a
//! change in one place; a few of them pin the text too (just's
//! `CompileErrorKind` habit).

use std::fmt;
use std::time::Duration;

use crate::scenario::limits::MAX_SOURCE_BYTES;
use crate::scenario::limits::{MAX_CONDITION_TERMS, MAX_ERRORS, MAX_HELD_BYTES, MAX_NESTING, MAX_PAYLOAD_BYTES};
use crate::units::{ValueError, binary_size};

use super::expected::{Expected, Found, STATEMENT_WORDS};

/// How a `chance` was written, so that its error quotes it as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OddsForm {
    /// `chance HITS in OF`.
    In,
    /// `chance P percent`.
    Percent,
}

/// Why a `file "…"` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// The system's reason, without "(os error N)".
    Io(String),
    /// Not a regular file: "a directory", "a FIFO"…
    NotRegular(&'static str),
    /// Over `limits::MAX_HELD_BYTES` alone.
    OverLimit,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::Io(reason) => f.write_str(reason),
            FileProblem::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            FileProblem::OverLimit => write!(
                f,
                "it is over the limit of {} for the bytes a scenario holds",
                binary_size(MAX_HELD_BYTES as u64)
            ),
        }
    }
}

/// Everything the lexer and the parser can find wrong, with its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    // The lexer.
    /// `$` with no name after it.
    VarWithoutName,
    /// `!` not followed by `=`.
    LoneBang,
    /// A letter or digit where a number's unit should have ended.
    CharInNumber {
        /// The character.
        found: char,
        /// The number up to it.
        number: String,
    },
    /// A character the language has no use for.
    UnexpectedChar(char),
    /// A string with no closing quote on its line.
    UnterminatedString,
    /// `\x` without two hex digits.
    HexEscape,
    /// A backslash escape the language does not have.
    UnknownEscape(char),

    // Tokens out of place.
    /// Not what the grammar allows here; `suggestion` is a close keyword
    /// that it allows.
    UnexpectedToken {
        /// What the grammar allows here.
        expected: Expected,
        /// What is here.
        found: Found,
        /// A keyword allowed here that is one or two edits from a word found.
        suggestion: Option<&'static str>,
    },
    /// A line that starts with no statement's word.
    UnknownStatement {
        /// The word that starts the line.
        word: String,
        /// A statement's word close to it.
        suggestion: Option<&'static str>,
    },
    /// `param` with no name after it.
    ParamWithoutName,
    /// `loop` or `if` after a read's `else`.
    BlockAfterElse {
        /// `loop` or `if`.
        keyword: &'static str,
    },
    /// `param`, `on` or `accept` inside a block.
    TopLevelOnly {
        /// `param`, `on` or `accept`.
        keyword: &'static str,
        /// The keyword of the block it is in.
        block: &'static str,
    },

    // Blocks.
    /// A block that reaches the end of the text.
    NeverClosed {
        /// The block's keyword.
        keyword: &'static str,
        /// The line it opens on.
        line: usize,
    },
    /// `end` at the top level.
    EndWithoutBlock,
    /// `else` at the top level.
    ElseWithoutIf,
    /// `else` in a block that is not an `if`.
    ElseOutsideIf {
        /// The keyword of the block it is in.
        block: &'static str,
    },
    /// A second `else` in one `if`.
    SecondElse,
    /// Two `on` blocks for one handler.
    HandlerTwice,
    /// Two `accept never` lines.
    AcceptNeverTwice,
    /// A statement after `accept never`, on line `accept_line`.
    StatementAfterAcceptNever {
        /// The line of `accept never`.
        accept_line: usize,
    },
    /// `accept never` after statements.
    AcceptNeverAfterStatements,
    /// A second `tls certificate`.
    CertificateTwice,
    /// `tls certificate` inside a block: it is said once, at the top.
    CertificateNotAtTop,

    // What a statement says.
    /// `read body` with no `read head` before it.
    ReadBodyWithoutHead,
    /// `read … else` without `within`.
    ElseWithoutWithin,
    /// `rate` and `every` in one relay.
    TwoPaces,
    /// `rate 0`.
    ZeroRate,
    /// `limit N chunks` on a relay that carries no chunked body.
    ChunksOfWhat,
    /// `write … 0 bytes every …`.
    ZeroPiece,
    /// A status outside 100 to 999.
    NotAStatus(u64),
    /// A `header` with no `:`.
    HeaderWithoutColon,
    /// `repeat N ""`.
    RepeatEmpty,
    /// Odds that are no chance: `of` is 0 or below `hits`.
    NotAChance {
        /// The first number.
        hits: u64,
        /// Out of how many (100 for `percent`).
        of: u64,
        /// How it was written.
        form: OddsForm,
    },
    /// `tls alert NAME` with a name RFC 8446 does not give an alert.
    UnknownAlert {
        /// The name as written (or as `--set` gave it).
        name: String,
        /// The alert name nearest to it.
        suggestion: Option<&'static str>,
        /// The parameter whose `--set` gave the name, if one did.
        set: Option<String>,
    },
    /// `tls certificate NAME` with no such defect.
    UnknownDefect {
        /// The name as written.
        name: String,
        /// The defect name nearest to it.
        suggestion: Option<&'static str>,
    },
    /// `tls handshake version X` with X neither 1.2 nor 1.3.
    NotATlsVersion,
    /// `alpn` or `version` twice in one `tls handshake`.
    HandshakeOptionTwice,
    /// `h2 manual` inside a block: it is said once, at the top.
    H2ManualNotAtTop,
    /// `tls alpn` inside a block.
    AlpnNotAtTop,
    /// A second `tls alpn`.
    AlpnTwice,
    /// `ignore-window` and `stall-at-window` in one `h2 data`.
    TwoWindows,
    /// `h2 ping data` of more than 8 bytes.
    PingDataTooLong(usize),
    /// A number over what its HTTP/2 field holds.
    H2ValueTooLarge {
        /// The largest the field holds.
        max: u64,
    },
    /// `h2 settings NAME` with no such setting.
    UnknownSetting {
        /// The name as written.
        name: String,
        /// The setting name nearest to it.
        suggestion: Option<&'static str>,
    },
    /// An HTTP/2 error code name RFC 9113 does not have.
    UnknownH2Error {
        /// The name as written.
        name: String,
        /// The code name nearest to it.
        suggestion: Option<&'static str>,
    },
    /// `between LOW and HIGH` with LOW above HIGH.
    BetweenReversed {
        /// The first duration.
        low: Duration,
        /// The second, shorter one.
        high: Duration,
    },

    // Values.
    /// A duration or a size that does not read.
    Value(ValueError),
    /// `hex` with an odd count of digits.
    OddHexDigits,
    /// `hex` with a character that is not ASCII.
    HexNotAscii,
    /// `hex` with a pair that is no hex byte.
    NotAHexByte(String),
    /// A `file "…"` that cannot be read.
    FileUnreadable {
        /// The name as the scenario wrote it.
        name: String,
        /// The path it was looked for at.
        path: String,
        /// Why it could not be read.
        problem: FileProblem,
    },

    // Parameters.
    /// A second `param` of one name.
    ParamTwice(String),
    /// `$name` with no `param name` before it.
    UnknownParam {
        /// The name, without `$`.
        name: String,
        /// A declared name close to it.
        suggestion: Option<String>,
    },
    /// `$name` of a kind that does not fit here.
    ParamKind {
        /// The name, without `$`.
        name: String,
        /// Its kind: "duration", "number" or "string".
        is: &'static str,
        /// The kind expected here.
        expected: &'static str,
    },
    /// `--set name=text` whose text is not of the parameter's kind.
    SetValue {
        /// The parameter.
        name: String,
        /// The text given.
        text: String,
        /// Why it does not read as the parameter's kind.
        error: ValueError,
    },
    /// `--set name=` that leaves line `line` without bytes.
    EmptiedBySet {
        /// The parameter.
        name: String,
        /// The line left without bytes.
        line: usize,
        /// What that line needs.
        expected: Expected,
    },
    /// `--set name` for no parameter.
    UnknownOverride {
        /// The name given.
        name: String,
        /// The scenario's parameters.
        known: Vec<String>,
        /// One of them close to the name.
        suggestion: Option<String>,
    },

    // Limits.
    /// Over `limits::MAX_SOURCE_BYTES`.
    SourceTooLarge,
    /// Over `limits::MAX_NESTING`.
    NestedTooDeep {
        /// The block's keyword.
        keyword: &'static str,
        /// How deep it is.
        depth: usize,
    },
    /// Over `limits::MAX_CONDITION_TERMS`.
    TooManyTerms,
    /// Over `limits::MAX_HELD_BYTES`.
    HeldTooMuch,
    /// One `repeat` over `limits::MAX_PAYLOAD_BYTES`.
    RepeatOverLimit {
        /// The count.
        count: u64,
        /// The bytes of the pattern.
        pattern: usize,
    },
    /// One write or body over `limits::MAX_PAYLOAD_BYTES`.
    PayloadOverLimit,
    /// More errors than `limits::MAX_ERRORS`: the rest are not looked for.
    TooManyErrors,

    // The file.
    /// Bytes that are not UTF-8.
    NotUtf8,
}

impl ErrorKind {
    /// Whether parsing must stop here rather than go on to the next
    /// statement: a limit that bounds the parser's own work.
    pub fn stops_parsing(&self) -> bool {
        matches!(
            self,
            ErrorKind::SourceTooLarge
                | ErrorKind::NestedTooDeep { .. }
                | ErrorKind::HeldTooMuch
                | ErrorKind::TooManyErrors
        )
    }
}

/// A character as a message shows it: control characters escaped, so
/// that a stray byte cannot garble the terminal.
fn shown(c: char) -> String {
    if c.is_control() {
        c.escape_debug().to_string()
    } else {
        c.to_string()
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::VarWithoutName => write!(f, "expected a parameter name after `$`"),
            ErrorKind::LoneBang => write!(f, "unexpected `!`; did you mean `!=`?"),
            ErrorKind::CharInNumber { found, number } => {
                write!(f, "unexpected `{}` in number `{number}`", shown(*found))
            }
            ErrorKind::UnexpectedChar(c) => write!(f, "unexpected character `{}`", shown(*c)),
            ErrorKind::UnterminatedString => write!(f, "unterminated string: add a closing `\"`"),
            ErrorKind::HexEscape => write!(f, "`\\x` needs two hex digits, like `\\x0d`"),
            ErrorKind::UnknownEscape(c) => write!(
                f,
                "unknown escape `\\{}`; use \\r \\n \\t \\0 \\\\ \\\" or \\xHH",
                shown(*c)
            ),
            ErrorKind::UnexpectedToken {
                expected,
                found,
                suggestion,
            } => {
                write!(f, "expected {expected}, found {found}")?;
                match suggestion {
                    Some(word) => write!(f, "; did you mean `{word}`?"),
                    None => Ok(()),
                }
            }
            ErrorKind::UnknownStatement { word, suggestion } => match suggestion {
                Some(near) => write!(f, "unknown statement `{word}`; did you mean `{near}`?"),
                None => write!(
                    f,
                    "unknown statement `{word}`; expected one of {}",
                    STATEMENT_WORDS.join(", ")
                ),
            },
            ErrorKind::ParamWithoutName => write!(f, "expected a parameter name after `param`"),
            ErrorKind::BlockAfterElse { keyword } => write!(
                f,
                "`{keyword}` needs its own lines; after `else` use a one-line statement"
            ),
            ErrorKind::TopLevelOnly { keyword, block } => {
                write!(f, "`{keyword}` is allowed only at the top level, not inside `{block}`")
            }
            ErrorKind::NeverClosed { keyword, line } => {
                write!(f, "`{keyword}` on line {line} is never closed: add `end`")
            }
            ErrorKind::EndWithoutBlock => write!(f, "`end` without a `loop`, `if` or `on` to close"),
            ErrorKind::ElseWithoutIf => write!(f, "`else` without an `if`"),
            ErrorKind::ElseOutsideIf { block } => {
                write!(f, "`else` belongs to an `if`; close this `{block}` with `end`")
            }
            ErrorKind::SecondElse => write!(f, "a second `else` in the same `if`"),
            ErrorKind::HandlerTwice => write!(f, "this handler is already defined above"),
            ErrorKind::AcceptNeverTwice => write!(f, "`accept never` is already said above"),
            ErrorKind::CertificateTwice => write!(f, "`tls certificate` is already said above"),
            ErrorKind::CertificateNotAtTop => write!(
                f,
                "`tls certificate` chooses the certificate of every handshake: say it once, at the top of the file, not in a block"
            ),
            ErrorKind::UnknownDefect { name, suggestion } => {
                let names: Vec<&str> = crate::tls::options::Defect::ALL.iter().map(|d| d.name()).collect();
                write!(
                    f,
                    "no certificate defect `{name}`; expected one of {}",
                    names.join(", ")
                )?;
                match suggestion {
                    Some(near) => write!(f, "; did you mean `{near}`?"),
                    None => Ok(()),
                }
            }
            ErrorKind::NotATlsVersion => write!(f, "a TLS version is 1.2 or 1.3"),
            ErrorKind::HandshakeOptionTwice => write!(f, "this is already said for the handshake"),
            ErrorKind::H2ManualNotAtTop => write!(
                f,
                "`h2 manual` says which answers every HTTP/2 connection leaves to the script: \
                 say it once, at the top of the file, not in a block"
            ),
            ErrorKind::AlpnNotAtTop => write!(
                f,
                "`tls alpn` chooses what every `--tls` handshake offers: say it at the top of the file, \
                 not in a block (a `tls handshake` statement takes its own `alpn`)"
            ),
            ErrorKind::TwoWindows => write!(f, "`h2 data` either ignores the window or stalls at it, not both"),
            ErrorKind::AlpnTwice => write!(f, "`tls alpn` is already said above"),
            ErrorKind::PingDataTooLong(n) => {
                write!(f, "a PING carries 8 bytes of data; this string has {n}")
            }
            ErrorKind::H2ValueTooLarge { max } => write!(f, "this field of an HTTP/2 frame holds at most {max}"),
            ErrorKind::UnknownSetting { name, suggestion } => {
                let names: Vec<&str> = crate::scenario::parser::H2_SETTING_NAMES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                write!(f, "no HTTP/2 setting `{name}`; expected one of {}", names.join(", "))?;
                match suggestion {
                    Some(near) => write!(f, "; did you mean `{near}`?"),
                    None => Ok(()),
                }
            }
            ErrorKind::UnknownH2Error { name, suggestion } => {
                write!(f, "no HTTP/2 error code `{name}` (RFC 9113 §7)")?;
                match suggestion {
                    Some(near) => write!(f, "; did you mean `{near}`?"),
                    None => {
                        let names: Vec<&str> = crate::h2::ErrorCode::names().collect();
                        write!(f, "; expected one of {}, or a number", names.join(", "))
                    }
                }
            }
            ErrorKind::StatementAfterAcceptNever { accept_line } => write!(
                f,
                "`accept never` on line {accept_line} leaves no connection for statements to run on: \
                 remove this statement or `accept never`"
            ),
            ErrorKind::AcceptNeverAfterStatements => write!(
                f,
                "`accept never` leaves no connection for the statements above to run on: remove them or this line"
            ),
            ErrorKind::ReadBodyWithoutHead => write!(
                f,
                "`read body` reads the body of a request whose head was read: put a `read head` before it"
            ),
            ErrorKind::ElseWithoutWithin => write!(
                f,
                "`else` after `read` needs a time limit first: `within DURATION else …`"
            ),
            ErrorKind::TwoPaces => write!(f, "a relay has one pace: `rate` or `every`, not both"),
            ErrorKind::ZeroRate => write!(f, "a rate of 0 bytes per second would never relay"),
            ErrorKind::ChunksOfWhat => write!(
                f,
                "`limit N chunks` counts the chunks of a response's body: it goes with `relay response` or `relay body`"
            ),
            ErrorKind::ZeroPiece => write!(
                f,
                "pieces of 0 bytes would never send anything: give a size of 1 byte or more"
            ),
            ErrorKind::NotAStatus(status) => write!(f, "status {status} is not a three-digit HTTP status"),
            ErrorKind::HeaderWithoutColon => write!(f, "a header needs a `:` between name and value"),
            ErrorKind::RepeatEmpty => write!(f, "cannot repeat an empty string"),
            ErrorKind::NotAChance { hits, of, form } => {
                let written = match form {
                    OddsForm::In => format!("chance {hits} in {of}"),
                    OddsForm::Percent => format!("chance {hits} percent"),
                };
                match form {
                    OddsForm::Percent => write!(
                        f,
                        "`{written}` is not a chance: it can be at most 100 percent (`chance 100 percent` always holds)"
                    ),
                    OddsForm::In if *of == 0 => write!(
                        f,
                        "`{written}` is not a chance: nothing is drawn out of 0; \
                         the second number must be 1 or more, as in `chance 1 in 3`"
                    ),
                    OddsForm::In => write!(
                        f,
                        "`{written}` is not a chance: {hits} out of {of} is more than all of them; \
                         the first number must be at most the second (`chance {of} in {of}` always holds)"
                    ),
                }
            }
            ErrorKind::BetweenReversed { low, high } => write!(
                f,
                "`between {low:?} and {high:?}`: the first duration must not be longer than the second"
            ),
            ErrorKind::UnknownAlert { name, suggestion, set } => {
                if let Some(param) = set {
                    write!(f, "--set {param}={name}: ")?;
                }
                let unknown = crate::tls::alert::UnknownAlert {
                    name: name.clone(),
                    suggestion: *suggestion,
                };
                write!(f, "{unknown}")
            }
            ErrorKind::Value(error) => write!(f, "{error}"),
            ErrorKind::OddHexDigits => write!(f, "hex needs an even number of digits"),
            ErrorKind::HexNotAscii => write!(f, "hex digits must be ASCII"),
            ErrorKind::NotAHexByte(pair) => write!(f, "`{pair}` is not a hex byte"),
            ErrorKind::FileUnreadable { name, path, problem } => {
                write!(f, "cannot read `{name}` ({path}): {problem}")
            }
            ErrorKind::ParamTwice(name) => write!(f, "parameter `{name}` is already declared"),
            ErrorKind::UnknownParam { name, suggestion } => match suggestion {
                Some(near) => write!(f, "unknown parameter `${name}`; did you mean `${near}`?"),
                None => write!(
                    f,
                    "unknown parameter `${name}`; declare it first with `param {name} = …`"
                ),
            },
            ErrorKind::ParamKind { name, is, expected } => {
                write!(f, "`${name}` is a {is}, but a {expected} is expected here")
            }
            ErrorKind::SetValue { name, text, error } => write!(f, "--set {name}={text}: {error}"),
            ErrorKind::EmptiedBySet { name, line, expected } => write!(
                f,
                "--set {name}=: an empty string leaves line {line} with no bytes; expected {expected}"
            ),
            ErrorKind::UnknownOverride {
                name,
                known,
                suggestion,
            } => {
                write!(f, "--set {name}: no parameter named `{name}`")?;
                if let Some(near) = suggestion {
                    write!(f, " (did you mean `{near}`?)")?;
                }
                if known.is_empty() {
                    write!(f, "; this scenario has no parameters")
                } else {
                    write!(f, "; its parameters are: {}", known.join(", "))
                }
            }
            ErrorKind::SourceTooLarge => write!(
                f,
                "the text goes on past the limit of {} ({MAX_SOURCE_BYTES} bytes) for a scenario, here",
                binary_size(MAX_SOURCE_BYTES as u64)
            ),
            ErrorKind::NestedTooDeep { keyword, depth } => {
                write!(f, "`{keyword}` is nested {depth} deep, over the limit of {MAX_NESTING}")
            }
            ErrorKind::TooManyTerms => write!(
                f,
                "this condition goes over the limit of {MAX_CONDITION_TERMS} terms (comparisons and `not`s)"
            ),
            ErrorKind::HeldTooMuch => write!(
                f,
                "the scenario's strings come to over the limit of {} here \
                 (a `$name` counts each time it is used)",
                binary_size(MAX_HELD_BYTES as u64)
            ),
            ErrorKind::RepeatOverLimit { count, pattern } => write!(
                f,
                "`repeat` of {count} × {pattern} bytes is over the limit of {} for one write or body",
                binary_size(MAX_PAYLOAD_BYTES)
            ),
            ErrorKind::PayloadOverLimit => write!(
                f,
                "the bytes come to over the limit of {} for one write or body here",
                binary_size(MAX_PAYLOAD_BYTES)
            ),
            ErrorKind::TooManyErrors => write!(
                f,
                "stopped after the first {MAX_ERRORS} errors; fix these and check again for the rest"
            ),
            ErrorKind::NotUtf8 => write!(f, "not UTF-8 text: a scenario is a text file"),
        }
    }
}
