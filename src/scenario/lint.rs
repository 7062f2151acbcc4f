//! Lints: what `hangup check` warns about in a scenario that is valid but
//! surely does not do what its author meant.
//!
//! - a `write`, `respond` or `tls alert` that can come after a
//!   `half-close`: the half-close already shut down writing, so the write
//!   fails with EPIPE;
//! - a `read request` or `read head` inside `on bad-request` or
//!   `on headers-too-large`: the refused bytes are still first in line, so
//!   hangup ends the connection there (see `scenarios/README.md`);
//! - a `param` that no `$name` uses: its `--set` would change nothing.
//!
//! The AST keeps no positions, so the lints work on the tokens of a source
//! that has already parsed: a line-by-line outline of blocks ([`Node`]),
//! then a walk along every path of it that remembers whether a half-close
//! may have happened. A lint never fails a check; it only warns.

use std::collections::BTreeMap;

use super::error::Span;
use super::lexer::{Token, TokenKind, tokenize};

/// One warning, at the statement it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub span: Span,
    pub message: String,
}

/// The warnings for the scenario `name_or_path`, as `check` prints them
/// (`FILE:LINE:COL: warning: …`). It reads the source again, the way
/// [`super::load`] found it; call it only once loading succeeded.
pub fn check(name_or_path: &std::ffi::OsStr) -> Vec<String> {
    let shown = name_or_path.to_string_lossy();
    let source = match super::catalog::source(&shown).filter(|_| !super::names_a_file(name_or_path)) {
        Some(source) => source.to_string(),
        None => match super::read_limited(std::path::Path::new(name_or_path)) {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => return Vec::new(),
        },
    };
    lint(&source)
        .into_iter()
        .map(|w| format!("{shown}:{}:{}: warning: {}", w.span.line, w.span.col, w.message))
        .collect()
}

/// The warnings for `source`, in source order. A source that does not
/// tokenize has none (the parser reports it).
pub fn lint(source: &str) -> Vec<Warning> {
    let lexed = tokenize(source);
    if !lexed.errors.is_empty() {
        return Vec::new();
    }
    let tokens = lexed.tokens;
    let unused = unused_params(&tokens);
    let lines: Vec<&[Token]> = tokens
        .split(|t| matches!(t.kind, TokenKind::Newline | TokenKind::Eof))
        .filter(|line| !line.is_empty())
        .collect();
    let mut outline = Outline {
        lines,
        next: 0,
        handlers: Vec::new(),
    };
    let (body, _) = outline.block();
    let mut walk = Walk::default();
    walk.block(&body, Path::Live(None), Within::Body);
    // A handler runs where a request was refused: at a `read request` or
    // `read head`, after whatever half-close came before one.
    let at_reads = match walk.at_reads {
        Path::Live(half_close) => half_close,
        Path::Dead => None,
    };
    for (name, handler) in &outline.handlers {
        walk.handler = name;
        walk.block(handler, Path::Live(at_reads), Within::Handler);
    }
    for (span, message) in unused {
        walk.warn(span, message);
    }
    walk.warnings
        .into_iter()
        .map(|((line, col), (width, message))| Warning {
            span: Span { line, col, width },
            message,
        })
        .collect()
}

/// Each `param` whose name no `$name` uses: where its name is, and the
/// warning.
fn unused_params(tokens: &[Token]) -> Vec<(Span, String)> {
    // Inserted one by one: `collect` into a set would compile one more copy
    // of the standard sort (see `crate::sort`).
    let mut used = std::collections::BTreeSet::new();
    for token in tokens {
        if let TokenKind::Var(name) = &token.kind {
            used.insert(name.as_str());
        }
    }
    // A declaration is `param NAME` at the start of a line.
    let starts = tokens
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || tokens[i - 1].kind == TokenKind::Newline);
    starts
        .filter(|(_, t)| t.kind == TokenKind::Word("param".into()))
        .filter_map(|(i, _)| match tokens.get(i + 1) {
            Some(Token {
                kind: TokenKind::Word(name),
                span,
            }) if !used.contains(name.as_str()) => Some((
                *span,
                format!("parameter `{name}` is never used: no `${name}` in the scenario, so `--set {name}=…` changes nothing"),
            )),
            _ => None,
        })
        .collect()
}

/// A statement, as far as the lints care.
#[derive(Debug)]
enum Node {
    /// A one-line statement: its keyword, where it is, what a `read` reads
    /// (the word after `read`), and a read's `else` statement.
    Simple {
        word: String,
        span: Span,
        goal: Option<String>,
        or_else: Option<Box<Node>>,
    },
    Loop {
        forever: bool,
        body: Vec<Node>,
    },
    If {
        branches: Vec<Vec<Node>>,
        otherwise: bool,
    },
}

/// Lines of tokens to an outline of blocks. The source has parsed, so the
/// blocks are balanced.
struct Outline<'t> {
    lines: Vec<&'t [Token]>,
    next: usize,
    handlers: Vec<(String, Vec<Node>)>,
}

fn word(token: Option<&Token>) -> Option<&str> {
    match token.map(|t| &t.kind) {
        Some(TokenKind::Word(w)) => Some(w),
        _ => None,
    }
}

impl Outline<'_> {
    /// Statements up to `end` (consumed) or `else` (left for the `if`);
    /// whether it stopped at `else`.
    fn block(&mut self) -> (Vec<Node>, bool) {
        let mut nodes = Vec::new();
        while let Some(&line) = self.lines.get(self.next) {
            match word(line.first()) {
                Some("end") => {
                    self.next += 1;
                    return (nodes, false);
                }
                Some("else") => return (nodes, true),
                Some("param") => self.next += 1,
                Some("on") => {
                    self.next += 1;
                    let name = word(line.get(1)).unwrap_or("").to_string();
                    let (body, _) = self.block();
                    self.handlers.push((name, body));
                }
                Some("loop") => {
                    self.next += 1;
                    let forever = line.len() == 1 || word(line.get(1)) == Some("forever");
                    let (body, _) = self.block();
                    nodes.push(Node::Loop { forever, body });
                }
                Some("if") => {
                    self.next += 1;
                    nodes.push(self.if_rest());
                }
                _ => {
                    self.next += 1;
                    nodes.push(simple(line));
                }
            }
        }
        (nodes, false)
    }

    /// The branches of an `if` whose first line was just taken.
    fn if_rest(&mut self) -> Node {
        let mut branches = Vec::new();
        loop {
            let (body, at_else) = self.block();
            branches.push(body);
            if !at_else {
                return Node::If {
                    branches,
                    otherwise: false,
                };
            }
            let line = self.lines[self.next];
            self.next += 1;
            if word(line.get(1)) != Some("if") {
                let (body, _) = self.block();
                branches.push(body);
                return Node::If {
                    branches,
                    otherwise: true,
                };
            }
        }
    }
}

/// A one-line statement from its tokens; a read's `else` takes the rest.
fn simple(tokens: &[Token]) -> Node {
    let word_at = |i: usize| word(tokens.get(i)).unwrap_or("").to_string();
    let keyword = word_at(0);
    let span = tokens.first().map_or(
        Span {
            line: 0,
            col: 0,
            width: 0,
        },
        |t| t.span,
    );
    let (goal, or_else) = if keyword == "read" {
        let goal = Some(word_at(1));
        let or_else = tokens
            .iter()
            .position(|t| t.kind == TokenKind::Word("else".into()))
            .filter(|&i| i + 1 < tokens.len())
            .map(|i| Box::new(simple(&tokens[i + 1..])));
        (goal, or_else)
    } else {
        (None, None)
    };
    Node::Simple {
        word: keyword,
        span,
        goal,
        or_else,
    }
}

/// What may have happened on the paths that reach a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Path {
    /// No path reaches it (after `close`, `reset`, `hang`, a `loop` forever).
    #[default]
    Dead,
    /// Some path does; with the first `half-close` one of them passed.
    Live(Option<Span>),
}

impl Path {
    fn join(self, other: Path) -> Path {
        match (self, other) {
            (Path::Dead, p) | (p, Path::Dead) => p,
            (Path::Live(a), Path::Live(b)) => Path::Live(a.or(b)),
        }
    }
}

#[derive(Default)]
struct Walk<'h> {
    /// By position, so that a statement walked twice (a loop's second
    /// pass) warns once.
    warnings: BTreeMap<(usize, usize), (usize, String)>,
    /// The paths at every `read request` and `read head` of the body.
    at_reads: Path,
    /// The handler being walked, if any.
    handler: &'h str,
}

/// What the walk is in: the script's body, or an `on …` handler, where a
/// `read request` cannot read past the bytes that were refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Body,
    Handler,
}

impl Walk<'_> {
    fn warn(&mut self, span: Span, message: String) {
        self.warnings
            .entry((span.line, span.col))
            .or_insert((span.width, message));
    }

    fn block(&mut self, nodes: &[Node], mut path: Path, within: Within) -> Path {
        for node in nodes {
            path = self.node(node, path, within);
        }
        path
    }

    fn node(&mut self, node: &Node, path: Path, within: Within) -> Path {
        match node {
            Node::Simple {
                word,
                span,
                goal,
                or_else,
            } => {
                let path = self.simple(word, *span, goal.as_deref(), path, within);
                match or_else {
                    // The `else` runs when the read times out, then the script goes on.
                    Some(stmt) => path.join(self.node(stmt, path, within)),
                    None => path,
                }
            }
            Node::Loop { forever, body } => {
                // A second pass sees what the end of the first may have done.
                let once = self.block(body, path, within);
                let again = self.block(body, path.join(once), within);
                if *forever { Path::Dead } else { path.join(again) }
            }
            Node::If { branches, otherwise } => {
                let start = if *otherwise { Path::Dead } else { path };
                branches
                    .iter()
                    .fold(start, |joined, branch| joined.join(self.block(branch, path, within)))
            }
        }
    }

    fn simple(&mut self, word: &str, span: Span, goal: Option<&str>, path: Path, within: Within) -> Path {
        match word {
            "half-close" => match path {
                Path::Live(None) => Path::Live(Some(span)),
                other => other,
            },
            "write" | "respond" | "tls" => {
                if let Path::Live(Some(half_close)) = path {
                    let statement = if word == "tls" { "tls alert" } else { word };
                    self.warn(
                        span,
                        format!(
                            "`{statement}` after the `half-close` on line {}: writing was shut down there, so this write fails (EPIPE) and the connection ends as an error",
                            half_close.line
                        ),
                    );
                }
                path
            }
            "read" if matches!(goal, Some("request" | "head")) => {
                if within == Within::Handler {
                    self.warn(
                        span,
                        format!(
                            "`read {}` in `on {}`: the refused bytes are still first in line and cannot be read as a request again, so hangup closes the connection here",
                            goal.unwrap_or(""),
                            self.handler
                        ),
                    );
                } else {
                    self.at_reads = self.at_reads.join(path);
                }
                path
            }
            "close" | "reset" | "hang" => Path::Dead,
            _ => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, start of the message) of each warning.
    fn warnings(source: &str) -> Vec<(usize, String)> {
        lint(source)
            .into_iter()
            .map(|w| (w.span.line, w.message.split(':').next().unwrap_or("").to_string()))
            .collect()
    }

    #[test]
    fn write_after_half_close() {
        let w = warnings("read tls-hello\nhalf-close\ntls alert internal_error\n");
        assert_eq!(w, [(3, "`tls alert` after the `half-close` on line 2".to_string())]);
        let w = warnings("read request\nhalf-close\nwrite \"x\"\n");
        assert_eq!(w, [(3, "`write` after the `half-close` on line 2".to_string())]);
        let w = warnings("read request\nhalf-close\nsleep 1s\nrespond 200\n");
        assert_eq!(w, [(4, "`respond` after the `half-close` on line 2".to_string())]);
    }

    #[test]
    fn no_warning_when_no_path_writes_after_half_close() {
        for source in [
            "read request\nrespond 200\nhalf-close\nread until eof\nclose\n",
            "write \"x\"\nhalf-close\nclose\nwrite \"y\"\n",
            "loop 3 times\n write \"x\"\nend\nhalf-close\n",
            "if request is 1\n half-close\n close\nend\nwrite \"x\"\n",
            "loop\n write \"x\"\nend\nhalf-close\n",
        ] {
            assert_eq!(warnings(source), [], "{source}");
        }
    }

    #[test]
    fn paths_through_branches_loops_and_else() {
        // One branch half-closes, the write after the `if` may follow it.
        let w = warnings("if request is 1\n half-close\nelse\n sleep 1s\nend\nwrite \"x\"\n");
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].0, 6);
        // The half-close at the end of a pass comes before the next pass's write.
        let w = warnings("loop 2 times\n write \"x\"\n half-close\nend\n");
        assert_eq!(w, [(2, "`write` after the `half-close` on line 3".to_string())]);
        // A read's `else` may half-close.
        let w = warnings("read request within 1s else half-close\nrespond 200\n");
        assert_eq!(w, [(2, "`respond` after the `half-close` on line 1".to_string())]);
        // So may one whose time limit is drawn (its `and` is no condition's).
        let w = warnings("read request within between 1s and 2s else half-close\nrespond 200\n");
        assert_eq!(w, [(2, "`respond` after the `half-close` on line 1".to_string())]);
    }

    #[test]
    fn handlers_start_where_a_request_was_read() {
        let w = warnings("on bad-request\n respond 400\nend\nhalf-close\nread request\n");
        assert_eq!(w, [(2, "`respond` after the `half-close` on line 4".to_string())]);
        assert_eq!(
            warnings("on bad-request\n respond 400\nend\nread request\nhalf-close\n"),
            []
        );
    }

    #[test]
    fn read_request_in_a_handler() {
        let w = warnings("on bad-request\n write \"no\"\n loop\n  read request\n end\nend\nread request\n");
        assert_eq!(w, [(4, "`read request` in `on bad-request`".to_string())]);
        let w = warnings("on headers-too-large\n read head\nend\nread request\n");
        assert_eq!(w, [(2, "`read head` in `on headers-too-large`".to_string())]);
        assert_eq!(
            warnings("on bad-request\n read 10 bytes\n reset\nend\nread request\n"),
            []
        );
    }

    #[test]
    fn a_param_that_nothing_uses() {
        let w = lint("param after = 2s\nparam n = 3\nloop $n times\n  write \"x\"\nend\n");
        assert_eq!(
            w,
            [Warning {
                span: Span {
                    line: 1,
                    col: 7,
                    width: 5
                },
                message:
                    "parameter `after` is never used: no `$after` in the scenario, so `--set after=…` changes nothing"
                        .to_string(),
            }]
        );
        assert_eq!(warnings("param p = 1\non bad-request\n  read $p bytes\nend\n"), []);
    }

    #[test]
    fn the_built_ins_have_no_warnings() {
        for (name, source) in super::super::catalog::BUILTINS {
            assert_eq!(lint(source), [], "{name}");
        }
    }
}
