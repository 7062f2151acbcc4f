//! Conditions of `if`: `request >= 2 and not method is GET or ...`.
//!
//! Precedence, loosest first: `or`, `and`, `not`.

use super::{Parsed, Parser, fail};
use crate::scenario::ast::{Atom, Cmp, Cond, Odds, TextTest};
use crate::scenario::error::{ErrorKind, Expected, OddsForm};
use crate::scenario::lexer::TokenKind;
use crate::scenario::limits::MAX_CONDITION_TERMS;

impl Parser<'_> {
    /// `cond := and { or and }`, `and := unary { and unary }`.
    pub(super) fn parse_cond(&mut self) -> Parsed<Cond> {
        self.condition_terms = 0;
        let mut left = self.parse_and()?;
        while self.eat_word("or") {
            let right = self.parse_and()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    pub(super) fn parse_and(&mut self) -> Parsed<Cond> {
        let mut left = self.parse_unary()?;
        while self.eat_word("and") {
            let right = self.parse_unary()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    pub(super) fn parse_unary(&mut self) -> Parsed<Cond> {
        self.condition_terms += 1;
        if self.condition_terms > MAX_CONDITION_TERMS {
            return fail(self.peek().span, ErrorKind::TooManyTerms);
        }
        if self.eat_word("not") {
            return Ok(Cond::Not(Box::new(self.parse_unary()?)));
        }
        let atom = match self.peek_word() {
            Some("request") => self.comparison(Atom::Request)?,
            Some("connection") => self.comparison(Atom::Connection)?,
            Some("method") => {
                self.next();
                self.expect_word("is")?;
                let token = self.next();
                match token.kind {
                    TokenKind::Word(w) => Atom::Method(w.into_bytes()),
                    TokenKind::Str(s) => Atom::Method(s),
                    other => {
                        return fail(
                            token.span,
                            ErrorKind::UnexpectedToken {
                                expected: Expected::Method,
                                found: other.found(),
                                suggestion: None,
                            },
                        );
                    }
                }
            }
            Some("path") => {
                self.next();
                let test = if self.eat_word("is") {
                    TextTest::Is(self.parse_string(Expected::Path)?)
                } else if self.eat_word("starts-with") {
                    TextTest::StartsWith(self.parse_string(Expected::PathPrefix)?)
                } else {
                    return Err(self.unexpected(Expected::PathTest));
                };
                Atom::Path(test)
            }
            Some("header") => {
                self.uses_headers = true;
                let (name, value) = self.header_test()?;
                Atom::Header(name, value)
            }
            Some("server") => {
                self.next();
                self.peek_word()
                    .filter(|w| *w == "request")
                    .ok_or_else(|| self.unexpected(Expected::Word("request")))?;
                self.comparison(Atom::ServerRequest)?
            }
            Some("chance") => {
                self.next();
                Atom::Chance(self.parse_odds()?)
            }
            Some("upstream") => {
                self.next();
                self.proxies = true;
                match self.peek_word() {
                    Some("status") => self.comparison(Atom::UpstreamStatus)?,
                    Some("length") => self.comparison(Atom::UpstreamLength)?,
                    Some("header") => {
                        let (name, value) = self.header_test()?;
                        Atom::UpstreamHeader(name, value)
                    }
                    _ => return Err(self.unexpected(Expected::UpstreamTest)),
                }
            }
            _ => {
                return Err(self.unexpected(Expected::Condition));
            }
        };
        Ok(Cond::Atom(atom))
    }

    /// `HITS in OF` or `P percent`, past the word `chance`. (A word, not
    /// `%`: the lexer has no `%`, and a word reads as well.)
    fn parse_odds(&mut self) -> Parsed<Odds> {
        let span = self.peek().span;
        let hits = self.parse_number()?;
        let (of, form) = if self.eat_word("in") {
            (self.parse_number()?, OddsForm::In)
        } else if self.eat_word("percent") {
            (100, OddsForm::Percent)
        } else {
            return Err(self.unexpected(Expected::Odds));
        };
        if of == 0 || hits > of {
            return fail(span, ErrorKind::NotAChance { hits, of, form });
        }
        Ok(Odds {
            hits,
            of,
            site: self.chance_site(),
        })
    }

    /// `header NAME [is VALUE]`, past the word `header`.
    fn header_test(&mut self) -> Parsed<(Vec<u8>, Option<Vec<u8>>)> {
        self.next();
        let name = self.parse_string(Expected::HeaderName)?;
        let value = if self.eat_word("is") {
            Some(self.parse_string(Expected::HeaderValue)?)
        } else {
            None
        };
        Ok((name, value))
    }

    /// `WORD COMPARE NUMBER`, past the word that named what is compared.
    fn comparison(&mut self, atom: fn(Cmp, u64) -> Atom) -> Parsed<Atom> {
        self.next();
        let cmp = self.parse_cmp()?;
        Ok(atom(cmp, self.parse_number()?))
    }

    pub(super) fn parse_cmp(&mut self) -> Parsed<Cmp> {
        let token = self.peek().clone();
        let cmp = match &token.kind {
            TokenKind::Word(w) if w == "is" => {
                self.next();
                return Ok(if self.eat_word("not") { Cmp::Ne } else { Cmp::Eq });
            }
            TokenKind::Word(w) if w == "every" => Cmp::Every,
            TokenKind::Op("==") => Cmp::Eq,
            TokenKind::Op("!=") => Cmp::Ne,
            TokenKind::Op("<") => Cmp::Lt,
            TokenKind::Op("<=") => Cmp::Le,
            TokenKind::Op(">") => Cmp::Gt,
            TokenKind::Op(">=") => Cmp::Ge,
            _ => {
                return Err(self.unexpected(Expected::Comparison));
            }
        };
        self.next();
        Ok(cmp)
    }
}
