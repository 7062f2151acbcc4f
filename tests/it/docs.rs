//! The documentation tells the truth: every ```hup example in the language
//! reference, the README and docs/ parses, and so does every example
//! written inline in the reference's text; its grammar names exactly the
//! keywords the parser accepts; every `hangup serve` the docs name is a
//! real built-in, every link and anchor resolves, and the README's error
//! index agrees with the outcome table. (The console examples run in
//! `console_examples`.)

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
    "DEFECT",
    "STRING",
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
    include_str!("../../src/scenario/parser/h2.rs"),
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
// The README and the manual in docs/: the front page points into the
// manual and the manual into itself, so a moved section must not leave a
// link behind. (The console examples run in `console_examples`.)

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Pages another branch adds, linked to before they arrive: a link to one
/// that is absent is allowed; once it is here, it is checked like any.
const ARRIVING: &[&str] = &["docs/event-log.md"];

/// README.md and every page of docs/, as (path from the root, text).
fn pages() -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(std::path::Path::new(ROOT).join("docs"))
        .expect("read docs/")
        .map(|entry| format!("docs/{}", entry.expect("an entry").file_name().to_string_lossy()))
        .filter(|name| name.ends_with(".md"))
        .collect();
    names.sort();
    names.insert(0, "README.md".to_string());
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(std::path::Path::new(ROOT).join(&name)).expect("read a page");
            (name, text)
        })
        .collect()
}

/// `markdown` without its fenced blocks (their lines become empty, so line
/// numbers hold).
fn prose(markdown: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in markdown.lines() {
        let fence = line.trim_start().strip_prefix("```");
        // An info string holds no backtick: "```` ```sh ````" is inline code.
        if fence.is_some_and(|info| !info.contains('`')) {
            fenced = !fenced;
        } else if !fenced {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped but `-`
/// and `_`, spaces as `-`; a repeated one gets `-1`, `-2`, ...
fn anchors(markdown: &str) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = Vec::new();
    for line in prose(markdown).lines() {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#').trim();
        let slug: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let count = seen.entry(slug.clone()).or_insert(0);
        anchors.push(if *count == 0 {
            slug.clone()
        } else {
            format!("{slug}-{count}")
        });
        *count += 1;
    }
    anchors
}

/// The targets of the inline links `[text](target)` of `markdown`'s prose,
/// with their line numbers.
fn links(markdown: &str) -> Vec<(usize, String)> {
    let mut links = Vec::new();
    for (number, line) in prose(markdown).lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            links.push((number + 1, after[..end].to_string()));
            rest = &after[end..];
        }
    }
    links
}

/// `path` (relative to the root) with `.` and `..` resolved.
fn normalise_path(path: &std::path::Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

#[test]
fn every_link_in_the_readme_and_docs_points_somewhere() {
    let mut broken = Vec::new();
    for (page, text) in pages() {
        let dir = std::path::Path::new(&page).parent().unwrap_or(std::path::Path::new(""));
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if file.is_empty() {
                page.clone()
            } else {
                normalise_path(&dir.join(file))
            };
            let path = std::path::Path::new(ROOT).join(&file);
            if !path.exists() {
                if !ARRIVING.contains(&file.as_str()) {
                    broken.push(format!("{page}:{line}: {target}: no such file {file}"));
                }
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            let Ok(target_text) = std::fs::read_to_string(&path) else {
                broken.push(format!("{page}:{line}: {target}: an anchor into a directory"));
                continue;
            };
            if !anchors(&target_text).iter().any(|a| a == anchor) {
                broken.push(format!("{page}:{line}: {target}: {file} has no heading #{anchor}"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn github_anchors_are_computed_as_github_does() {
    let page = "# One server, every fault: `serve --catalog`\n## The picture: `--diagram`\n\
                ```sh\n# not a heading\n```\n## Outcomes\n## Outcomes\n";
    assert_eq!(
        anchors(page),
        [
            "one-server-every-fault-serve---catalog",
            "the-picture---diagram",
            "outcomes",
            "outcomes-1"
        ]
    );
}

/// The five stories hangup grew from have names ("the keep-alive
/// `reusedSocket` race"); "seed 001" meant nothing to a reader and
/// collided with `--seed`.
#[test]
fn the_stories_are_named_never_numbered() {
    for (page, text) in pages() {
        for (number, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            let numbered = lower
                .match_indices("seed 00")
                .any(|(at, _)| lower[at + 7..].starts_with(|c: char| c.is_ascii_digit()));
            assert!(!numbered, "{page}:{}: a story by number: {line}", number + 1);
        }
    }
}

#[test]
fn every_example_in_the_docs_parses() {
    for (page, text) in pages().into_iter().skip(1) {
        for (line, source) in hup_blocks(&text) {
            if let Err(e) = hangup::scenario::parse_named(&page, &source, &BTreeMap::new()) {
                panic!("the example at {page} line {line} does not parse:\n{e}");
            }
        }
    }
}

#[test]
fn the_docs_name_only_real_scenarios() {
    for (page, text) in pages().into_iter().skip(1) {
        for line in text.lines() {
            let Some(rest) = line.split("hangup serve ").nth(1) else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap_or("").trim_matches('`');
            let placeholder = name.chars().all(|c| c.is_ascii_uppercase());
            if placeholder || name.contains('/') || name.ends_with(".hup") || name.starts_with('-') {
                continue;
            }
            assert!(
                hangup::scenario::catalog::source(name).is_some() || name == "no-such-scenario",
                "{page} mentions `hangup serve {name}`, which is not a built-in"
            );
        }
    }
}

/// The README's "Which scenario gives my error?" index says, per client,
/// what it prints and which built-ins make it print that. Each claim must
/// be in the outcome table that `scripts/outcome-table.sh --check` holds
/// to real clients: a cell of that scenario and client contains each part
/// of the text (parts split at ` … `), and for curl, `(N)` is among the
/// exit codes the cell gives.
#[test]
fn the_readme_error_index_agrees_with_the_outcome_table() {
    let clients = std::fs::read_to_string(std::path::Path::new(ROOT).join("docs/clients.md")).unwrap();
    let table = &clients[clients.find("<!-- outcome-table:begin").expect("the outcome table")..];
    let mut rows = table.lines().skip(1).take_while(|l| l.starts_with('|'));
    let header: Vec<String> = cells(rows.next().expect("a header"));
    let column = |client: &str| {
        header
            .iter()
            .position(|h| h.split_whitespace().next() == Some(client))
            .unwrap_or_else(|| panic!("no {client} column in {header:?}"))
    };
    let outcomes: BTreeMap<String, Vec<String>> = rows
        .skip(1)
        .map(|row| {
            let cells = cells(row);
            (cells[0].trim_matches('`').to_string(), cells)
        })
        .collect();

    let readme = std::fs::read_to_string(std::path::Path::new(ROOT).join("README.md")).unwrap();
    let section = &readme[readme
        .find("## Which scenario gives my error?")
        .expect("the error index")..];
    let index: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| client"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(
        index.len() >= 10,
        "only {} rows in the README's error index",
        index.len()
    );
    for row in index {
        let cells = cells(row);
        let (client, says) = (cells[0].as_str(), cells[1].trim_matches('`'));
        let scenarios: Vec<&str> = cells[2].split('`').skip(1).step_by(2).collect();
        assert!(!scenarios.is_empty(), "no scenario in {row}");
        let mut parts: Vec<&str> = says.split(" … ").collect();
        let mut exit = None;
        if client == "curl" {
            let (code, message) = parts[0].split_once(") ").unwrap_or((parts[0], ""));
            exit = Some(code.trim_start_matches('(').trim_end_matches(')').to_string());
            parts[0] = message;
        }
        for scenario in scenarios {
            let cell = &outcomes
                .get(scenario)
                .unwrap_or_else(|| panic!("{scenario} (README's error index) is not in the outcome table"))
                [column(client)];
            for part in parts.iter().filter(|p| !p.is_empty()) {
                assert!(
                    cell.contains(part),
                    "README says {client} prints `{says}` for {scenario}; the outcome table says: {cell}"
                );
            }
            if let Some(exit) = &exit {
                // "exit 7, 55 or 56: …", "exit 56, HTTP 200: …": the codes
                // before the colon, without the HTTP status.
                let codes = cell.strip_prefix("exit ").unwrap_or("");
                let codes = codes.split(':').next().unwrap_or("");
                let codes = codes.split(", HTTP").next().unwrap_or("");
                let listed: Vec<&str> = codes
                    .split(|c: char| !c.is_ascii_digit())
                    .filter(|n| !n.is_empty())
                    .collect();
                assert!(
                    listed.contains(&exit.as_str()),
                    "README says curl exits {exit} for {scenario}; the outcome table says: {cell}"
                );
            }
        }
    }
}

/// The cells of a markdown table row, trimmed.
fn cells(row: &str) -> Vec<String> {
    row.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split(" | ")
        .map(|cell| cell.trim().to_string())
        .collect()
}

/// The README is a front page: what hangup is, the stories, install, a
/// demo, the commands, the error index and links. The detail goes into
/// docs/, or the page stops being read.
#[test]
fn the_readme_stays_a_front_page() {
    let readme = std::fs::read_to_string(std::path::Path::new(ROOT).join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; the front page keeps to 200: move the detail into docs/"
    );
}
