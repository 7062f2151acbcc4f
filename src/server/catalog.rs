//! `serve --catalog`: every built-in scenario at `/NAME`, chosen by the
//! path of a connection's first request.
//!
//! httpbin made the shape familiar (`/status/500`, `/delay/3`) but never
//! served a connection-level fault; this is that. The catalog is sans-I/O:
//! the connection hands it the first request's target and gets back the
//! scenario to run from its start, which then reads that request itself.
//! Its own answers (the index at `/`, 404 for an unknown or unservable
//! name, 400 for a bad query) are scenarios too, written in the language,
//! so they go through the same connection code as every fault.
//!
//! A connection's interpreter borrows its scenario for the connection's
//! whole life, and so do the bytes it sends. The scenarios a catalog
//! builds are therefore kept until hangup exits, as a `serve SCENARIO`
//! keeps its one scenario: each is built once (`/server-timeout?after=2s`
//! is parsed at its first request and served from then on), and their
//! number is bounded by [`MAX_VARIANTS`].

use std::collections::BTreeMap;

use crate::scenario::ast::{ReadGoal, Stmt};
use crate::scenario::{self, Scenario, catalog};

/// Distinct query strings the catalog keeps a scenario for; a new query
/// past it gets a 503. Each costs its key (a query, at most the head's
/// 16 KiB) and a scenario of a few KiB (a 400's text is cut at
/// [`MAX_ANSWER_TEXT`]), so hostile clients can make it hold about 5 MiB.
pub const MAX_VARIANTS: usize = 256;

/// The longest text a 400 echoes back: a query's whole 16 KiB would only
/// hide the reason.
const MAX_ANSWER_TEXT: usize = 1024;

/// The longest request target the catalog looks at: a longer one is
/// left for the scenario's request reader to refuse (431).
pub const MAX_TARGET: usize = 16 << 10;

/// Every built-in by name, and the catalog's own answers.
pub struct Catalog {
    /// In `hangup list` order.
    entries: Vec<Entry>,
    /// `NAME?QUERY` to its scenario (or to the 400 that refuses it).
    variants: BTreeMap<Vec<u8>, &'static Scenario>,
    index: &'static Scenario,
    not_found: &'static Scenario,
    full: &'static Scenario,
}

struct Entry {
    name: &'static str,
    /// Its text, which a query's parameters are parsed into.
    source: &'static str,
    serving: Serving,
}

enum Serving {
    /// Served by path; this is the built-in with its defaults.
    ByPath(&'static Scenario),
    /// Not servable by path: a 404 that says why. A TLS built-in (it
    /// reads the ClientHello or handshakes itself) is `by_name`: under
    /// `--tls` the name a client asks for (SNI) chooses it.
    Not {
        why: &'static str,
        answer: &'static Scenario,
        by_name: Option<&'static Scenario>,
    },
}

impl Catalog {
    /// Every built-in, parsed with its defaults.
    pub fn new() -> Catalog {
        let entries: Vec<Entry> = catalog::BUILTINS
            .iter()
            .filter_map(|(name, source)| {
                let scenario = scenario::parse_in(name, source, &BTreeMap::new(), None).ok()?;
                let serving = match not_by_path(&scenario) {
                    None => Serving::ByPath(keep(scenario)),
                    Some(why) => Serving::Not {
                        why,
                        answer: answer(
                            "catalog 404",
                            404,
                            &format!(
                                "/{name} is not available by path: {}.\nGET / lists what is.\n",
                                why.replace("NAME", name)
                            ),
                        ),
                        by_name: (reads_tls_first(&scenario.body) || scenario.handshakes).then(|| keep(scenario)),
                    },
                };
                Some(Entry { name, source, serving })
            })
            .collect();
        let index = answer("catalog index", 200, &index_text(&entries));
        Catalog {
            entries,
            variants: BTreeMap::new(),
            index,
            not_found: answer(
                "catalog 404",
                404,
                "No built-in scenario at this path.\nGET / lists them.\n",
            ),
            full: answer(
                "catalog 503",
                503,
                &format!(
                    "The catalog already holds {MAX_VARIANTS} distinct parameter sets, each kept until hangup stops.\nReuse one of them, or restart hangup.\n"
                ),
            ),
        }
    }

    /// What a connection runs before its first request line is in: the
    /// 404, whose `read request` also answers a malformed request (400,
    /// 431) as every scenario does.
    pub fn placeholder(&self) -> &'static Scenario {
        self.not_found
    }

    /// The scenario for a connection whose first request has this target
    /// (`/NAME?QUERY`, or an absolute `http://host/NAME?QUERY`); `None`
    /// when the request line is unusable, to be answered as malformed.
    pub fn route(&mut self, target: Option<&[u8]>) -> &'static Scenario {
        let Some(target) = target else {
            return self.not_found;
        };
        let (path, query) = split_target(target);
        if path == b"/" {
            return self.index;
        }
        let Some(entry) = self.entry(path) else {
            return self.not_found;
        };
        let (name, source) = (entry.name, entry.source);
        let defaults = match &entry.serving {
            Serving::Not { answer, .. } => return answer,
            Serving::ByPath(defaults) => *defaults,
        };
        let Some(query) = query.filter(|q| !q.is_empty()) else {
            return defaults;
        };
        let mut key = Vec::with_capacity(name.len() + 1 + query.len());
        key.extend_from_slice(name.as_bytes());
        key.push(b'?');
        key.extend_from_slice(query);
        if let Some(scenario) = self.variants.get(&key) {
            return scenario;
        }
        if self.variants.len() >= MAX_VARIANTS {
            return self.full;
        }
        let scenario = match variant(name, source, query) {
            Ok(scenario) => keep(scenario),
            Err(why) => answer("catalog 400", 400, &format!("{}\n", cut(&why, MAX_ANSWER_TEXT))),
        };
        self.variants.insert(key, scenario);
        scenario
    }

    /// The names TLS clients ask for the TLS built-ins by
    /// (`tls-expired.localhost`): the certificate must be for them too,
    /// one by one (clients take no wildcard on `localhost` alone).
    pub fn tls_names(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| matches!(e.serving, Serving::Not { by_name: Some(_), .. }))
            .map(|e| format!("{}.localhost", e.name))
            .collect()
    }

    /// The TLS built-in a TLS client asks for by name (SNI): the first
    /// label of `tls-expired.localhost`.
    pub fn by_name(&self, server_name: &str) -> Option<&'static Scenario> {
        let first = server_name.split('.').next()?;
        self.entries.iter().find_map(|e| match e.serving {
            Serving::Not {
                by_name: Some(scenario),
                ..
            } if e.name == first => Some(scenario),
            _ => None,
        })
    }

    /// The built-in a path names, servable or not.
    fn entry(&self, path: &[u8]) -> Option<&Entry> {
        let name = path.strip_prefix(b"/")?;
        let name = name.strip_suffix(b"/").unwrap_or(name);
        self.entries.iter().find(|e| e.name.as_bytes() == name)
    }
}

impl Default for Catalog {
    fn default() -> Catalog {
        Catalog::new()
    }
}

/// `text`, or its first `max` bytes (at a character boundary) and `...`.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Kept until hangup exits: see the module's note.
fn keep(scenario: Scenario) -> &'static Scenario {
    Box::leak(Box::new(scenario))
}

/// Why a built-in cannot be chosen by the path of a request, if it cannot.
fn not_by_path(scenario: &Scenario) -> Option<&'static str> {
    if scenario.accept_never {
        Some(
            "it never accepts a connection, so there is no request to read a path from (serve it alone: hangup serve connect-timeout)",
        )
    } else if scenario.proxies {
        Some(
            "it forwards to a real server, whose paths are its own (serve it alone: hangup serve NAME --upstream HOST:PORT)",
        )
    } else if (reads_tls_first(&scenario.body) || scenario.handshakes) && cfg!(feature = "tls") {
        Some(
            "it reads a TLS ClientHello or handshakes itself, before any path: under --tls the name a client asks for chooses it (https://NAME.localhost:PORT/; curl resolves *.localhost itself, others take --resolve or a servername), or serve it alone: hangup serve NAME",
        )
    } else if scenario.handshakes {
        Some("it handshakes TLS itself, and this hangup was built without TLS (cargo's --no-default-features)")
    } else if reads_tls_first(&scenario.body) {
        Some("it reads a TLS ClientHello before any path (serve it alone: hangup serve NAME)")
    } else if !waits_for_input(&scenario.body) {
        Some("it acts before any request is read, so a path cannot choose it (serve it alone: hangup serve NAME)")
    } else {
        None
    }
}

/// Whether the script's first action waits for the client (a `read`, or
/// `hang`, which reads and discards): only then can the catalog read the
/// request line first without changing what the client sees.
fn waits_for_input(body: &[Stmt]) -> bool {
    match body.iter().find(|stmt| !matches!(stmt, Stmt::Log(_))) {
        Some(Stmt::Read { .. } | Stmt::Hang) => true,
        Some(Stmt::Loop { body, .. }) => waits_for_input(body),
        _ => false,
    }
}

/// Whether the script's first action reads a TLS ClientHello: the
/// catalog's first request line would be a ClientHello's bytes, refused as
/// a bad request, and what a TLS client then sees would be the catalog's
/// plaintext 400, not the scenario's fault.
fn reads_tls_first(body: &[Stmt]) -> bool {
    match body.iter().find(|stmt| !matches!(stmt, Stmt::Log(_))) {
        Some(Stmt::Read {
            what: ReadGoal::TlsHello,
            ..
        }) => true,
        Some(Stmt::Loop { body, .. }) => reads_tls_first(body),
        _ => false,
    }
}

/// The path and the query of a request target.
fn split_target(target: &[u8]) -> (&[u8], Option<&[u8]>) {
    let mut rest = target;
    // The absolute form a client sends to a proxy: http://host:port/path.
    for scheme in [&b"http://"[..], b"https://"] {
        if rest.len() >= scheme.len() && rest[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let after = &rest[scheme.len()..];
            rest = match after.iter().position(|&b| b == b'/' || b == b'?') {
                Some(at) if after[at] == b'/' => &after[at..],
                Some(at) => {
                    return (b"/", Some(&after[at + 1..]));
                }
                None => b"/",
            };
        }
    }
    match rest.iter().position(|&b| b == b'?') {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    }
}

/// The built-in `name` (its text `source`) with the query's parameters,
/// or why not, as the 400 says it.
fn variant(name: &str, source: &str, query: &[u8]) -> Result<Scenario, String> {
    let shown = String::from_utf8_lossy(query);
    let overrides = parse_query(query).map_err(|why| format!("/{name}?{shown}: {why}"))?;
    scenario::parse_in(name, source, &overrides, None).map_err(|e| {
        // The parser speaks of `--set NAME=VALUE`; the 400 names the
        // request and its query, and each of its problems.
        let problems: Vec<String> = e.diagnostics().map(|d| d.message().replacen("--set ", "", 1)).collect();
        format!("/{name}?{shown}: {}", problems.join("; "))
    })
}

/// `a=1&b=2s` to parameters: percent-decoded, `+` a space (as HTML forms
/// and most clients' query builders write it).
fn parse_query(query: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let mut params = BTreeMap::new();
    for pair in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            return Err(format!(
                "`{}`: expected NAME=VALUE, like after=2s",
                String::from_utf8_lossy(pair)
            ));
        };
        let name = decode(&pair[..eq])?;
        let value = decode(&pair[eq + 1..])?;
        if name.is_empty() {
            return Err("a parameter with no name: expected NAME=VALUE, like after=2s".to_string());
        }
        if params.contains_key(&name) {
            return Err(format!("`{name}` is given twice"));
        }
        params.insert(name, value);
    }
    Ok(params)
}

/// Percent-decoding, with `+` as a space; the result must be UTF-8.
fn decode(text: &[u8]) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| {
                    format!(
                        "`{}`: a `%` must be followed by two hex digits",
                        String::from_utf8_lossy(text)
                    )
                })?;
                bytes.push(byte);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| format!("`{}`: not UTF-8 once decoded", String::from_utf8_lossy(text)))
}

/// A scenario that reads the request, answers `status` with `text` as a
/// plain-text body and `Connection: close`, and closes (FIN). `text` may
/// hold any bytes a client put in its query: every byte that is not
/// printable ASCII is escaped, so the source always parses.
fn answer(name: &str, status: u16, text: &str) -> &'static Scenario {
    let mut body = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        match byte {
            b'"' | b'\\' => {
                body.push('\\');
                body.push(byte as char);
            }
            b' '..=b'~' => body.push(byte as char),
            _ => body.push_str(&format!("\\x{byte:02x}")),
        }
    }
    let source = format!(
        "read request\nrespond {status} header \"Content-Type: text/plain; charset=utf-8\" header \"Connection: close\" body \"{body}\"\nclose\n"
    );
    let scenario = scenario::parse_in(name, &source, &BTreeMap::new(), None).unwrap_or_else(|_| {
        // Unreachable while the escaping above is right (a unit test
        // feeds it every byte); an empty 500 beats a panic if it is not.
        let fallback = "read request\nrespond 500 header \"Connection: close\"\nclose\n";
        scenario::parse_in(name, fallback, &BTreeMap::new(), None).unwrap_or_default()
    });
    keep(scenario)
}

/// The text of `GET /`.
fn index_text(entries: &[Entry]) -> String {
    let mut text = String::from(
        "hangup --catalog: every built-in scenario at /NAME, its parameters from the query string.\n\
         Each request's path chooses its scenario: on a kept connection, a path that\n\
         names another built-in starts that one, from its start, with that request.\n\n",
    );
    let mut servable = Vec::new();
    let mut not = Vec::new();
    for entry in entries {
        match &entry.serving {
            Serving::ByPath(_) => {
                let source = entry.source;
                let mut path = format!("/{}", entry.name);
                let defaults = param_defaults(source);
                if !defaults.is_empty() {
                    path.push('?');
                    path.push_str(&defaults.join("&"));
                }
                servable.push((path, scenario::summary_of(source)));
            }
            Serving::Not { why, .. } => not.push((entry.name, why.replace("NAME", entry.name))),
        }
    }
    let width = servable.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for (path, summary) in &servable {
        text.push_str(&format!("{path:width$}  {summary}\n"));
    }
    text.push_str("\nNot available by path:\n");
    let width = not.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, why) in &not {
        text.push_str(&format!("{name:width$}  {why}\n"));
    }
    text
}

/// `NAME=DEFAULT` of each `param` line, as a query string writes it.
fn param_defaults(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("param "))
        .filter_map(|rest| {
            let (name, value) = rest.split_once('=')?;
            // A string's quotes are the scenario's syntax, not the query's.
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains(['"', '\\']))
                .unwrap_or(value);
            Some(format!("{}={value}", name.trim()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(scenario: &Scenario) -> &str {
        &scenario.name
    }

    #[test]
    fn a_path_names_a_built_in_and_its_query_sets_params() {
        let mut catalog = Catalog::new();
        assert_eq!(name_of(catalog.route(Some(b"/hello"))), "hello");
        assert_eq!(name_of(catalog.route(Some(b"/hello/"))), "hello");
        assert_eq!(
            name_of(catalog.route(Some(b"http://127.0.0.1:9/hello?idle=1s"))),
            "hello"
        );
        let timeout = catalog.route(Some(b"/server-timeout?after=2s"));
        assert_eq!(name_of(timeout), "server-timeout");
        assert_eq!(
            timeout.params[0].value,
            crate::scenario::ast::Value::Duration(std::time::Duration::from_secs(2))
        );
        // Built once, then the same one.
        assert!(std::ptr::eq(timeout, catalog.route(Some(b"/server-timeout?after=2s"))));
        assert_eq!(name_of(catalog.route(Some(b"/"))), "catalog index");
        assert_eq!(name_of(catalog.route(Some(b"/nope"))), "catalog 404");
        assert_eq!(name_of(catalog.route(None)), "catalog 404");
        assert_eq!(name_of(catalog.route(Some(b"/reset-on-accept"))), "catalog 404");
        assert_eq!(name_of(catalog.route(Some(b"/proxy"))), "catalog 404");
        assert_eq!(name_of(catalog.route(Some(b"/hello?idle=2x"))), "catalog 400");
    }

    #[test]
    fn what_cannot_be_chosen_by_path_is_named_with_why() {
        let catalog = Catalog::new();
        let not: Vec<&str> = catalog
            .entries
            .iter()
            .filter(|e| matches!(e.serving, Serving::Not { .. }))
            .map(|e| e.name)
            .collect();
        assert_eq!(
            not,
            [
                "reset-on-accept",
                "connect-timeout",
                "proxy",
                "proxy-reset-after",
                "proxy-close-after",
                "proxy-fail-first",
                "tcp-proxy",
                "tcp-reset-after",
                "tls-reset-on-hello",
                "tls-close-on-hello",
                "tls-alert-on-hello",
                "tls-stall-hello",
                "tls-no-close-notify",
                "tls-alert-mid-body",
                "tls-expired",
                "tls-wrong-host",
                "tls-self-signed",
                "tls-unknown-ca"
            ]
        );
        assert_eq!(catalog.entries.len(), catalog::BUILTINS.len());
    }

    #[test]
    fn queries_decode_and_refuse_with_a_reason() {
        let params = parse_query(b"a=1&b=two+words&c=%41%2f&&").unwrap();
        assert_eq!(params["a"], "1");
        assert_eq!(params["b"], "two words");
        assert_eq!(params["c"], "A/");
        assert!(parse_query(b"a").unwrap_err().contains("expected NAME=VALUE"));
        assert!(parse_query(b"a=%4").unwrap_err().contains("two hex digits"));
        assert!(parse_query(b"a=%ff").unwrap_err().contains("not UTF-8"));
        assert!(parse_query(b"a=1&a=2").unwrap_err().contains("given twice"));
        assert!(parse_query(b"=1").unwrap_err().contains("no name"));
        let why = variant(
            "server-timeout",
            catalog::source("server-timeout").unwrap(),
            b"after=2x",
        )
        .unwrap_err();
        assert!(
            why.starts_with("/server-timeout?after=2x: after=2x: `x` is not a time unit"),
            "{why}"
        );
        assert!(!why.contains("--set"), "{why}");
        assert!(
            variant("hello", catalog::source("hello").unwrap(), b"nope=1")
                .unwrap_err()
                .contains("no parameter named `nope`")
        );
    }

    #[test]
    fn a_400_for_a_long_query_says_why_in_a_kibibyte() {
        let mut catalog = Catalog::new();
        let query = format!("/hello?idle={}", "é".repeat(5000));
        let answer = catalog.route(Some(query.as_bytes()));
        assert_eq!(name_of(answer), "catalog 400");
        let Stmt::Respond(response) = &answer.body[1] else {
            panic!("{:?}", answer.body)
        };
        let bytes: Vec<u8> = response
            .wire
            .pieces
            .iter()
            .flat_map(|piece| match piece {
                crate::scenario::ast::Piece::Bytes(bytes) => bytes.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        let wire = String::from_utf8_lossy(&bytes);
        let body = wire.split_once("\r\n\r\n").expect("a head").1;
        assert!(body.len() <= MAX_ANSWER_TEXT + 4, "{} bytes", body.len());
        assert!(body.starts_with("/hello?idle=") && body.ends_with("...\n"), "{body}");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("aé", 2), "a...");
    }

    #[test]
    fn an_answer_takes_every_byte() {
        let text: String = (0..=255u8).map(char::from).collect();
        let scenario = answer("t", 400, &text);
        assert_eq!(scenario.name, "t");
        assert!(matches!(scenario.body[1], Stmt::Respond(_)), "{:?}", scenario.body);
    }

    #[test]
    fn the_query_space_is_bounded() {
        let mut catalog = Catalog::new();
        for n in 0..MAX_VARIANTS {
            let target = format!("/hello?idle={n}ms");
            assert_eq!(name_of(catalog.route(Some(target.as_bytes()))), "hello");
        }
        assert_eq!(name_of(catalog.route(Some(b"/hello?idle=1h"))), "catalog 503");
        // Those it holds are still served.
        assert_eq!(name_of(catalog.route(Some(b"/hello?idle=7ms"))), "hello");
        assert_eq!(name_of(catalog.route(Some(b"/hello"))), "hello");
    }

    #[test]
    fn the_index_lists_every_built_in() {
        let text = index_text(&Catalog::new().entries);
        for (name, _) in catalog::BUILTINS {
            assert!(
                text.contains(&format!("/{name}")) || text.contains(&format!("\n{name} ")),
                "{name}"
            );
        }
        assert!(text.contains("/server-timeout?after=120s  "), "{text}");
        assert!(text.contains("/slow-body?every=100ms&idle=5s  "), "{text}");
    }
}
