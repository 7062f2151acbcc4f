//! Source text to tokens.
//!
//! The language is line-oriented, so a newline is a token. Every token
//! carries its [`Span`]; strings are unescaped here, so the parser sees
//! bytes. Numbers keep their suffix as text (`250ms`, `64KiB`) because only
//! the parser knows whether a duration or a size is expected.
//!
//! An error does not end the lexing: it is reported, the rest of its line
//! becomes one [`TokenKind::Invalid`] token, and lexing goes on at the next
//! line, so that a file's errors are all found in one run.

use super::error::{Diagnostic, ErrorKind, Found, Span};
use super::limits::MAX_ERRORS;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A keyword or a name: letters, digits, `-` and `_`.
    Word(String),
    /// Digits, an optional fraction and an optional unit suffix.
    Number(String),
    /// A quoted string, unescaped.
    Str(Vec<u8>),
    /// `$name`, a parameter reference.
    Var(String),
    /// `=`, `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    /// Where the lexer found an error (reported already), to the line's end.
    Invalid,
    Newline,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl TokenKind {
    /// The token as "expected X, found Y" messages name it.
    pub fn found(&self) -> Found {
        match self {
            TokenKind::Word(w) => Found::Word(w.clone()),
            TokenKind::Number(n) => Found::Number(n.clone()),
            TokenKind::Str(_) => Found::Str,
            TokenKind::Var(v) => Found::Var(v.clone()),
            TokenKind::Op(op) => Found::Op(op),
            TokenKind::Invalid => Found::Invalid,
            TokenKind::Newline => Found::LineEnd,
            TokenKind::Eof => Found::FileEnd,
        }
    }
}

/// The tokens of a text, and its errors.
pub struct Lexed {
    /// Every token, a line with an error ending in [`TokenKind::Invalid`].
    pub tokens: Vec<Token>,
    /// The errors, in the order of the text; one more than [`MAX_ERRORS`]
    /// at most, enough to know that there were more.
    pub errors: Vec<Diagnostic>,
}

pub fn tokenize(source: &str) -> Lexed {
    Lexer {
        chars: source.chars().collect(),
        pos: 0,
        line: 1,
        col: 1,
        tokens: Vec::new(),
        errors: Vec::new(),
    }
    .run()
}

struct Lexer {
    errors: Vec<Diagnostic>,
    chars: Vec<char>,
    pos: usize,
    line: usize,
    col: usize,
    tokens: Vec<Token>,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn here(&self, width: usize) -> Span {
        Span {
            line: self.line,
            col: self.col,
            width,
        }
    }

    fn push(&mut self, kind: TokenKind, start: Span) {
        let width = if start.line == self.line {
            (self.col - start.col).max(1)
        } else {
            1
        };
        self.tokens.push(Token {
            kind,
            span: Span { width, ..start },
        });
    }

    /// At `\n` or `\r\n`: the end of a line as `str::lines` (and so the
    /// error display) sees it.
    fn at_line_end(&self) -> bool {
        match self.peek() {
            Some('\n') => true,
            Some('\r') => self.peek_at(1) == Some('\n'),
            _ => false,
        }
    }

    fn run(mut self) -> Lexed {
        // Where the text ends as the display shows it: after a trailing
        // newline that is the end of the last line, not a line of its own.
        let mut end_of_last_line = None;
        while let Some(c) = self.peek() {
            let start = self.here(1);
            end_of_last_line = None;
            if self.at_line_end() {
                if c == '\r' {
                    self.bump();
                }
                self.bump();
                self.push(TokenKind::Newline, start);
                end_of_last_line = Some(start);
            } else if let Err(error) = self.token(c, start) {
                self.refuse(error);
            }
        }
        let end = end_of_last_line.unwrap_or_else(|| self.here(1));
        self.tokens.push(Token {
            kind: TokenKind::Newline,
            span: end,
        });
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            span: end,
        });
        Lexed {
            tokens: self.tokens,
            errors: self.errors,
        }
    }

    /// Report `error`, and pass over the rest of its line as one
    /// [`TokenKind::Invalid`] token.
    fn refuse(&mut self, error: Diagnostic) {
        self.tokens.push(Token {
            kind: TokenKind::Invalid,
            span: error.span,
        });
        if self.errors.len() <= MAX_ERRORS {
            self.errors.push(error);
        }
        while self.peek().is_some() && !self.at_line_end() {
            self.bump();
        }
    }

    /// The token that starts with `c`, at `start` (not a line end).
    fn token(&mut self, c: char, start: Span) -> Result<(), Diagnostic> {
        match c {
            ' ' | '\t' | '\r' => {
                self.bump();
            }
            '#' => {
                while self.peek().is_some() && !self.at_line_end() {
                    self.bump();
                }
            }
            '"' => {
                let bytes = self.string()?;
                self.push(TokenKind::Str(bytes), start);
            }
            '$' => {
                self.bump();
                let name = self.take_while(is_word_char);
                if name.is_empty() {
                    return Err(Diagnostic::new(start, ErrorKind::VarWithoutName));
                }
                self.push(TokenKind::Var(name), start);
            }
            '=' | '!' | '<' | '>' => {
                self.bump();
                let op = match (c, self.peek()) {
                    ('=', Some('=')) => "==",
                    ('!', Some('=')) => "!=",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('=', _) => "=",
                    ('<', _) => "<",
                    ('>', _) => ">",
                    _ => return Err(Diagnostic::new(start, ErrorKind::LoneBang)),
                };
                if op.len() == 2 {
                    self.bump();
                }
                self.push(TokenKind::Op(op), start);
            }
            c if c.is_ascii_digit() => {
                let mut text = self.take_while(|c| c.is_ascii_digit());
                if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                    text.push('.');
                    text.push_str(&self.take_while(|c| c.is_ascii_digit()));
                }
                text.push_str(&self.take_while(|c| c.is_ascii_alphabetic()));
                if self.peek().is_some_and(is_word_char) {
                    let bad = self.here(1);
                    return Err(Diagnostic::new(
                        bad,
                        ErrorKind::CharInNumber {
                            found: self.peek().unwrap_or(' '),
                            number: text,
                        },
                    ));
                }
                self.push(TokenKind::Number(text), start);
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let word = self.take_while(is_word_char);
                self.push(TokenKind::Word(word), start);
            }
            other => {
                return Err(Diagnostic::new(start, ErrorKind::UnexpectedChar(other)));
            }
        }
        Ok(())
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|&c| keep(c)) {
            out.push(c);
            self.bump();
        }
        out
    }

    /// A quoted string with `\r \n \t \0 \\ \" \xHH` escapes.
    fn string(&mut self) -> Result<Vec<u8>, Diagnostic> {
        let open = self.here(1);
        self.bump();
        let mut out = Vec::new();
        let unterminated = || Diagnostic::new(open, ErrorKind::UnterminatedString);
        loop {
            let at = self.here(1);
            if self.at_line_end() {
                return Err(unterminated());
            }
            match self.bump() {
                None => return Err(unterminated()),
                Some('"') => return Ok(out),
                Some('\\') => {
                    if self.peek().is_none() || self.at_line_end() {
                        return Err(unterminated());
                    }
                    let escape = self.bump();
                    let byte = match escape {
                        Some('r') => b'\r',
                        Some('n') => b'\n',
                        Some('t') => b'\t',
                        Some('0') => 0,
                        Some('\\') => b'\\',
                        Some('"') => b'"',
                        Some('x') => {
                            // Look before taking: a newline is not a digit
                            // and must stay where it is.
                            let hex = |c: Option<char>| c.and_then(|c| c.to_digit(16));
                            let (Some(hi), Some(lo)) = (hex(self.peek()), hex(self.peek_at(1))) else {
                                return Err(Diagnostic::new(Span { width: 2, ..at }, ErrorKind::HexEscape));
                            };
                            self.bump();
                            self.bump();
                            (hi * 16 + lo) as u8
                        }
                        other => {
                            return Err(Diagnostic::new(
                                Span { width: 2, ..at },
                                ErrorKind::UnknownEscape(other.unwrap_or(' ')),
                            ));
                        }
                    };
                    out.push(byte);
                }
                Some(c) => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let lexed = tokenize(src);
        assert_eq!(lexed.errors, [], "{src:?}");
        lexed.tokens.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_numbers_strings_and_vars() {
        assert_eq!(
            kinds("sleep 250ms\nwrite \"a\\r\\n\\x41\" $x"),
            vec![
                TokenKind::Word("sleep".into()),
                TokenKind::Number("250ms".into()),
                TokenKind::Newline,
                TokenKind::Word("write".into()),
                TokenKind::Str(b"a\r\nA".to_vec()),
                TokenKind::Var("x".into()),
                TokenKind::Newline,
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn comments_are_skipped_and_spans_count_columns() {
        let tokens = tokenize("# hi\n  reset # bye").tokens;
        assert_eq!(tokens[0].kind, TokenKind::Newline);
        assert_eq!(tokens[1].kind, TokenKind::Word("reset".into()));
        assert_eq!(
            tokens[1].span,
            Span {
                line: 2,
                col: 3,
                width: 5
            }
        );
    }

    #[test]
    fn operators() {
        assert_eq!(
            kinds(">= <= == != < > ="),
            vec![
                TokenKind::Op(">="),
                TokenKind::Op("<="),
                TokenKind::Op("=="),
                TokenKind::Op("!="),
                TokenKind::Op("<"),
                TokenKind::Op(">"),
                TokenKind::Op("="),
                TokenKind::Newline,
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn decimal_durations() {
        assert_eq!(kinds("1.5s")[0], TokenKind::Number("1.5s".into()));
    }
}
