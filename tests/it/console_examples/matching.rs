//! Whether what a command printed is what the docs show, trycmd's way:
//! `[..]` in a line stands for any text, a line `...` for any number of
//! lines.
//!
//! Two things vary from run to run in every example and would fill the
//! docs with `[..]`, so both sides are normalised instead, and the docs
//! can show real numbers:
//! - a number with one decimal point is a time (`+0.061ms`, `0.2 ms`,
//!   `100.465`, `1.00 s`): any time matches any other, and so does the
//!   padding before it (a time column grows by a digit); a version
//!   (`HTTP/1.1`, `v20.20.2`, `3.11.7`) is not a time;
//! - a loopback port that is not a server's documented one is a client's
//!   ephemeral port (`peer=127.0.0.1:41870`).
//!
//! Everything else, byte counts included, must match, so a change of
//! output fails with the line that changed.

/// `text` with times and ephemeral ports made uniform. `servers` are the
/// documented addresses of the block's servers, whose ports stay.
pub fn normalise(text: &str, servers: &[String]) -> String {
    let ports = ephemeral_ports(text, servers);
    let mut out = String::with_capacity(ports.len());
    let mut rest = ports.as_str();
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        let end = from
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(from.len());
        let number = &from[..end];
        // A trailing dot ends a sentence, not a number.
        let number = number.strip_suffix('.').unwrap_or(number);
        let glued = before.ends_with(|c: char| c.is_alphanumeric() || ".:/".contains(c));
        if number.matches('.').count() == 1 && !glued {
            out.push_str(before.trim_end_matches(' '));
            out.push_str("<time>");
        } else {
            out.push_str(before);
            out.push_str(number);
        }
        rest = &from[number.len()..];
    }
    out.push_str(rest);
    out
}

/// `text` with the port of every `127.0.0.1:PORT` and `[::1]:PORT` that is
/// not in `servers` replaced by `<port>`.
fn ephemeral_ports(text: &str, servers: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, host)) = ["127.0.0.1:", "[::1]:"]
        .iter()
        .filter_map(|host| rest.find(host).map(|at| (at, *host)))
        .min()
    {
        let after = &rest[at + host.len()..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        let address = &rest[at..at + host.len() + digits];
        out.push_str(&rest[..at]);
        if digits == 0 || servers.iter().any(|s| s == address) {
            out.push_str(address);
        } else {
            out.push_str(host);
            out.push_str("<port>");
        }
        rest = &rest[at + host.len() + digits..];
    }
    out.push_str(rest);
    out
}

/// Whether `actual` matches `expected` line for line, both normalised.
pub fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => (0..=actual.len()).any(|skip| matches(rest, &actual[skip..])),
        Some((first, rest)) => !actual.is_empty() && line_matches(first, &actual[0]) && matches(rest, &actual[1..]),
    }
}

/// Whether `actual` holds the lines of `expected` in any order (each
/// pattern takes the first unused line it matches) and no others.
pub fn matches_in_any_order(expected: &[String], actual: &[String]) -> bool {
    let mut unused: Vec<&String> = actual.iter().collect();
    for pattern in expected {
        match unused.iter().position(|line| line_matches(pattern, line)) {
            Some(at) => {
                unused.remove(at);
            }
            None => return false,
        }
    }
    unused.is_empty()
}

/// Whether `text` matches `pattern`, in which `[..]` stands for any text.
fn line_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == text;
    }
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut middle = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match middle.find(part) {
            Some(at) => middle = &middle[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Lines of `text` without trailing whitespace, and without the empty
/// lines at its end.
pub fn lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Where `expected` and `actual` (both normalised) first part: the line
/// number (1-based) of the first pair that differs before any `...`.
pub fn first_difference(expected: &[String], actual: &[String]) -> Option<usize> {
    (0..expected.len().max(actual.len())).find(|&i| match (expected.get(i), actual.get(i)) {
        (Some(e), _) if e == "..." => false,
        (Some(e), Some(a)) => !line_matches(e, a),
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> String {
        normalise(text, &["127.0.0.1:9000".to_string()])
    }

    #[test]
    fn times_and_their_padding_match_any_time() {
        assert_eq!(norm("    0.123  |--- x"), norm("  100.465  |--- x"));
        assert_eq!(norm("#1 +0.061ms write bytes=68"), norm("#1 +12.345ms write bytes=68"));
        assert_ne!(norm("write bytes=68"), norm("write bytes=69"));
        assert_eq!(norm("within 1.00 s."), "within<time> s.");
    }

    #[test]
    fn addresses_and_versions_are_not_times() {
        assert_eq!(norm("listening on 127.0.0.1:9000"), "listening on 127.0.0.1:9000");
        assert_eq!(norm("peer=127.0.0.1:41870 x"), "peer=127.0.0.1:<port> x");
        assert_eq!(norm("curl/7.88.1 node v20.20.2"), "curl/7.88.1 node v20.20.2");
        assert_eq!(norm("HTTP/1.1 200 OK"), "HTTP/1.1 200 OK");
    }

    #[test]
    fn elisions() {
        let l = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
        assert!(matches(&l("a [..] c\n...\nz"), &l("a b b c\nx\ny\nz")));
        assert!(matches(&l("a\n...\nz"), &l("a\nz")));
        assert!(!matches(&l("a [..] c"), &l("a b d")));
        assert!(!matches(&l("a"), &l("a\nb")));
        assert_eq!(first_difference(&l("a\nb\nc"), &l("a\nx\nc")), Some(1));
        assert!(matches_in_any_order(&l("a\nb [..]"), &l("b c\na")));
        assert!(!matches_in_any_order(&l("a\nb"), &l("b\na\na")));
    }
}
