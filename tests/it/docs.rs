//! The documentation tells the truth: every ```hup example in the language
//! reference parses, and every command in the README's code blocks names a
//! real subcommand and built-in scenario.

use std::collections::BTreeMap;

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
        "hex",
        "repeat",
        "file ",
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
