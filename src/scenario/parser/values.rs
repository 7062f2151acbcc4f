//! Values: durations, numbers and sizes, strings, hex, and parameters.
//!
//! A `param` line fixes a parameter's kind by its default; `--set` text is
//! parsed as that kind. A `$name` is replaced by its value where it is used,
//! after checking that the kind fits.

use std::time::Duration;

use super::Parser;
use crate::scenario::ast::{Param, Value};
use crate::scenario::error::{Diagnostic, Span};
use crate::scenario::lexer::{Token, TokenKind};

pub use crate::units::{parse_duration, parse_size as parse_number};

pub(super) fn decode_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("hex needs an even number of digits".to_string());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| "hex digits must be ASCII".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("`{s}` is not a hex byte"))
        })
        .collect()
}

impl Parser<'_> {
    /// `param NAME = VALUE`
    pub(super) fn parse_param(&mut self) -> Result<(), Diagnostic> {
        self.next();
        let name_token = self.next();
        let TokenKind::Word(name) = name_token.kind else {
            return Err(Diagnostic::new(
                name_token.span,
                "expected a parameter name after `param`",
            ));
        };
        if self.param_index.contains_key(&name) {
            return Err(Diagnostic::new(
                name_token.span,
                format!("parameter `{name}` is already declared"),
            ));
        }
        match self.next() {
            Token {
                kind: TokenKind::Op("="),
                ..
            } => {}
            other => {
                return Err(Diagnostic::new(
                    other.span,
                    format!("expected `=`, found {}", other.kind.describe()),
                ));
            }
        }
        let value_token = self.next();
        let default = match &value_token.kind {
            TokenKind::Str(bytes) => Value::Bytes(bytes.clone()),
            TokenKind::Number(text) => match parse_duration(text) {
                Ok(d) => Value::Duration(d),
                Err(_) => Value::Number(parse_number(text).map_err(|m| Diagnostic::new(value_token.span, m))?),
            },
            other => {
                return Err(Diagnostic::new(
                    value_token.span,
                    format!(
                        "expected a value (a duration, a number or a string), found {}",
                        other.describe()
                    ),
                ));
            }
        };
        self.expect_line_end()?;
        let value = match self.overrides.get(&name) {
            None => default,
            Some(text) => {
                let parsed = match default {
                    Value::Duration(_) => parse_duration(text).map(Value::Duration),
                    Value::Number(_) => parse_number(text).map(Value::Number),
                    Value::Bytes(_) => Ok(Value::Bytes(text.as_bytes().to_vec())),
                };
                parsed.map_err(|m| {
                    Diagnostic::new(
                        Span {
                            line: 0,
                            col: 0,
                            width: 0,
                        },
                        format!("--set {name}={text}: {m}"),
                    )
                })?
            }
        };
        self.param_index.insert(name.clone(), self.params.len());
        self.params.push(Param { name, value });
        Ok(())
    }

    /// The value of `$name`, or an error pointing at its token.
    pub(super) fn lookup(&self, token: &Token, name: &str) -> Result<&Value, Diagnostic> {
        self.param_index
            .get(name)
            .map(|&i| &self.params[i].value)
            .ok_or_else(|| {
                Diagnostic::new(
                    token.span,
                    format!("unknown parameter `${name}`; declare it first with `param {name} = …`"),
                )
            })
    }

    /// The value of `$name` (at `token`) when `pick` accepts its kind.
    fn param_of<T>(
        &self,
        token: &Token,
        name: &str,
        kind: &str,
        pick: impl Fn(&Value) -> Option<T>,
    ) -> Result<T, Diagnostic> {
        let value = self.lookup(token, name)?;
        pick(value).ok_or_else(|| {
            Diagnostic::new(
                token.span,
                format!("`${name}` is a {}, but a {kind} is expected here", value.kind()),
            )
        })
    }

    pub(super) fn parse_duration(&mut self) -> Result<Duration, Diagnostic> {
        let token = self.next();
        match &token.kind {
            TokenKind::Number(text) => parse_duration(text).map_err(|m| Diagnostic::new(token.span, m)),
            TokenKind::Var(name) => self.param_of(&token, name, "duration", |v| match v {
                Value::Duration(d) => Some(*d),
                _ => None,
            }),
            other => Err(Diagnostic::new(
                token.span,
                format!("expected a duration like 250ms or 2s, found {}", other.describe()),
            )),
        }
    }

    pub(super) fn parse_number(&mut self) -> Result<u64, Diagnostic> {
        let token = self.next();
        match &token.kind {
            TokenKind::Number(text) => parse_number(text).map_err(|m| Diagnostic::new(token.span, m)),
            TokenKind::Var(name) => self.param_of(&token, name, "number", |v| match v {
                Value::Number(n) => Some(*n),
                _ => None,
            }),
            other => Err(Diagnostic::new(
                token.span,
                format!("expected a number, found {}", other.describe()),
            )),
        }
    }

    /// A string or a string `$name`; its bytes count as held.
    pub(super) fn parse_string(&mut self, expected: &str) -> Result<Vec<u8>, Diagnostic> {
        let token = self.next();
        let bytes = match &token.kind {
            TokenKind::Str(bytes) => bytes.clone(),
            TokenKind::Var(name) => self.param_of(&token, name, "string", |v| match v {
                Value::Bytes(b) => Some(b.clone()),
                _ => None,
            })?,
            other => {
                return Err(Diagnostic::new(
                    token.span,
                    format!("expected {expected}, found {}", other.describe()),
                ));
            }
        };
        self.hold(bytes.len(), token.span)?;
        Ok(bytes)
    }
}
