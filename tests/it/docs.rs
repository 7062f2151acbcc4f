//! The documentation tells the truth: every ```hup example in the language
//! reference parses, and so does every example written inline in its
//! text; its grammar names exactly the keywords the parser accepts; every
//! command in the README's code blocks names a real subcommand and
//! built-in scenario.

use std::collections::{BTreeMap, BTreeSet};

fn hup_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (number, line) in markdown.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```hup") => current = Some((number + 2, String::new())),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some((_, text)), line) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_example_in_the_language_reference_parses() {
    let reference = include_str!("../../scenarios/README.md");
    let blocks = hup_blocks(reference);
    assert!(blocks.len() >= 20, "only {} examples found", blocks.len());
    for (line, source) in blocks {
        if let Err(e) = hangup::scenario::parse_named("scenarios/README.md", &source, &BTreeMap::new()) {
            panic!("the example at scenarios/README.md line {line} does not parse:\n{e}");
        }
    }
}

#[test]
fn every_example_in_the_readme_parses() {
    let blocks = hup_blocks(include_str!("../../README.md"));
    assert!(!blocks.is_empty());
    for (line, source) in blocks {
        if let Err(e) = hangup::scenario::parse_named("README.md", &source, &BTreeMap::new()) {
            panic!("the example at README.md line {line} does not parse:\n{e}");
        }
    }
}

#[test]
fn every_statement_has_an_example() {
    let reference = include_str!("../../scenarios/README.md");
    let examples: String = hup_blocks(reference).into_iter().map(|(_, s)| s).collect();
    for statement in [
        "read request",
        "read head",
        "read body\n",
        "read body max 1MiB",
        "read 64KiB",
        "read until eof",
        "within",
        "else close",
        "write ",
        "every",
        "every between",
        "within between",
        "respond ",
        "header \"Set-Cookie: session=\" repeat",
        "chunked",
        "sleep ",
        "sleep between",
        "chance ",
        "close\n",
        "close now",
        "reset",
        "half-close",
        "hang",
        "loop\n",
        "loop 5 times",
        "if ",
        "else if",
        "log ",
        "on bad-request",
        "on headers-too-large",
        "on upstream-error",
        "accept never",
        "forward request",
        "forward 5 bytes",
        "relay response",
        "relay head",
        "relay body",
        "relay 100 bytes",
        "relay until eof",
        "relay both",
        "limit ",
        "rate ",
        "upstream reset",
        "upstream close",
        "upstream half-close",
        "upstream status",
        "param ",
        "16KiB every",
        "anyway",
        "hex",
        "repeat",
        "file ",
        "read tls-hello\n",
        "read tls-hello within",
        "tls alert handshake_failure",
        "tls alert $alert",
        "warning\n",
    ] {
        assert!(examples.contains(statement), "no example uses `{statement}`");
    }
}

#[test]
fn readme_names_only_real_scenarios() {
    let readme = include_str!("../../README.md");
    for line in readme.lines() {
        let Some(rest) = line.split("hangup serve ").nth(1) else {
            continue;
        };
        let name = rest.split_whitespace().next().unwrap_or("").trim_matches('`');
        let placeholder = name.chars().all(|c| c.is_ascii_uppercase());
        if placeholder || name.contains('/') || name.ends_with(".hup") || name.starts_with('-') {
            continue;
        }
        assert!(
            hangup::scenario::catalog::source(name).is_some(),
            "README mentions `hangup serve {name}`, which is not a built-in"
        );
    }
}

/// The code spans of `markdown`'s text, outside fenced blocks and link
/// texts, each with its whitespace made single spaces (a span may wrap).
fn inline_code(markdown: &str) -> Vec<String> {
    let mut text = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            text.push_str(line);
        }
        text.push('\n');
    }
    let mut spans = Vec::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        // A span in double backticks quotes backticks: not an example.
        if after.starts_with('`') {
            rest = after.trim_start_matches('`');
            continue;
        }
        let Some(close) = after.find('`') else { break };
        let in_link = rest[..open].ends_with('[');
        if !in_link {
            spans.push(after[..close].split_whitespace().collect::<Vec<_>>().join(" "));
        }
        rest = &after[close + 1..];
    }
    spans
}

/// The words the reference uses for "put a value here".
const PLACEHOLDERS: &[&str] = &[
    "N",
    "C",
    "P",
    "DURATION",
    "SIZE",
    "LOW",
    "HIGH",
    "BYTES",
    "STATEMENT",
    "NAME",
    "VALUE",
    "HANDLER",
    "STATUS",
    "TEXT",
    "FILE",
    "ADDR",
];

#[test]
fn every_example_in_the_reference_text_parses() {
    let statements = [
        "read",
        "write",
        "respond",
        "sleep",
        "close",
        "reset",
        "half-close",
        "hang",
        "log",
        "forward",
        "relay",
        "upstream",
        "tls",
    ];
    let conditions = [
        "request",
        "connection",
        "method",
        "path",
        "header",
        "server",
        "upstream",
        "chance",
        "not",
    ];
    let mut tried = 0;
    for span in inline_code(include_str!("../../scenarios/README.md")) {
        let words: Vec<&str> = span.split(' ').collect();
        // A name in prose (`sleep`), a template (`read N bytes`), a log
        // line (`write bytes=68`) or a parameter: not a complete example.
        let template = words.iter().any(|w| PLACEHOLDERS.contains(w))
            || span.contains('…')
            || span.contains("...")
            || span.contains('$')
            || span
                .as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_alphanumeric() && w[1] == b'=');
        if words.len() < 2 || template {
            continue;
        }
        let as_statement = statements.contains(&words[0]).then(|| format!("read head\n{span}\n"));
        let as_condition = conditions.contains(&words[0]).then(|| format!("if {span}\nend\n"));
        if as_statement.is_none() && as_condition.is_none() {
            continue;
        }
        tried += 1;
        let parses = [as_statement, as_condition]
            .into_iter()
            .flatten()
            .any(|source| hangup::scenario::parser::parse(&source, &BTreeMap::new()).is_ok());
        assert!(
            parses,
            "`{span}` in scenarios/README.md is no statement or condition that parses"
        );
    }
    assert!(tried >= 20, "only {tried} inline examples found");
}

/// The parser's sources, where its keywords are.
const PARSER: &[&str] = &[
    include_str!("../../src/scenario/parser/mod.rs"),
    include_str!("../../src/scenario/parser/blocks.rs"),
    include_str!("../../src/scenario/parser/stmt.rs"),
    include_str!("../../src/scenario/parser/cond.rs"),
    include_str!("../../src/scenario/parser/values.rs"),
];

/// A keyword or an operator, as the grammar quotes them.
fn is_keyword(text: &str) -> bool {
    let word =
        text.starts_with(|c: char| c.is_ascii_lowercase()) && text.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    word || ["=", "==", "!=", "<", "<=", ">", ">="].contains(&text)
}

/// Every word the parser compares a token with: the string literals it
/// passes to `eat_word`, `expect_word`, `Expected::Word`, `Some(…)` and
/// `TokenKind::Op(…)`, compares with `==`, lists in `tried(&[…])`, or
/// matches as an arm (`"read" => …`).
fn parser_keywords() -> BTreeSet<String> {
    let mut keywords = BTreeSet::new();
    for source in PARSER {
        for line in source.lines().map(str::trim) {
            if line.starts_with("//") {
                continue;
            }
            let lists = line.contains("tried(&[");
            let mut rest = line;
            while let Some(open) = rest.find('"') {
                let before = &rest[..open];
                let Some(len) = rest[open + 1..].find('"') else { break };
                let literal = &rest[open + 1..open + 1 + len];
                let after = rest[open + 2 + len..].trim_start();
                let compared = ["eat_word(", "expect_word(", "Word(", "Some(", "Op(", "== ", "| "]
                    .iter()
                    .any(|call| before.ends_with(call));
                let arm = before.trim().is_empty() && (after.starts_with("=>") || after.starts_with('|'));
                if (compared || arm || lists) && is_keyword(literal) {
                    keywords.insert(literal.to_string());
                }
                rest = &rest[open + 2 + len..];
            }
        }
    }
    keywords
}

/// The quoted words of the reference's grammar.
fn grammar_keywords() -> BTreeSet<String> {
    let reference = include_str!("../../scenarios/README.md");
    let grammar = reference.split("\n## Grammar\n").nth(1).expect("a Grammar section");
    let block = grammar.split("```").nth(1).expect("the grammar's code block");
    block
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|quoted| is_keyword(quoted))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_grammar_names_exactly_the_keywords_the_parser_accepts() {
    let parser = parser_keywords();
    let grammar = grammar_keywords();
    // The scan itself must see the language: statements, modifiers, operators.
    for sure in [
        "read",
        "anyway",
        "max",
        "starts-with",
        "half-close",
        ">=",
        "never",
        "bad-request",
    ] {
        assert!(
            parser.contains(sure),
            "the scan of the parser missed `{sure}`: {parser:?}"
        );
    }
    let missing: Vec<&String> = parser.difference(&grammar).collect();
    assert!(
        missing.is_empty(),
        "the grammar in scenarios/README.md lacks {missing:?}"
    );
    let unknown: Vec<&String> = grammar.difference(&parser).collect();
    assert!(
        unknown.is_empty(),
        "the grammar names {unknown:?}, which the parser does not accept"
    );
}

#[test]
fn the_event_log_is_documented_apart_and_linked() {
    let reference = include_str!("../../scenarios/README.md");
    let event_log = include_str!("../../docs/event-log.md");
    assert!(reference.contains("](../docs/event-log.md)"));
    assert!(!reference.contains("## The event log"));
    for event in [
        "`accept`",
        "`write`",
        "`stuck`",
        "`stopped`",
        "`upstream-connect",
        "`tls-hello`",
        "`tls-hello-error`",
    ] {
        assert!(event_log.contains(event), "docs/event-log.md does not name {event}");
    }
}
