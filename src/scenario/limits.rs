//! The limits of the language, so that no text, however hostile, makes
//! parsing or serving take unbounded time, memory or stack.
//!
//! Each limit is far above what a real scenario needs, and each has an
//! error that names it ("… over the limit of N"). They are listed in
//! `scenarios/README.md` (Limits). The longest duration,
//! [`MAX_DURATION`](crate::units::MAX_DURATION), is in `units`, below the
//! language: the parser of durations is what refuses a longer one.

/// A scenario file: 1 MiB. `load` reads no more than this (plus one byte
/// to know it is over).
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

/// Blocks (`loop`, `if`, `else`, `on`) and `read … else` inside each other:
/// the parser recurses once per level, and so does dropping the tree.
pub const MAX_NESTING: usize = 32;

/// Comparisons and `not`s in one condition: conditions are trees, and
/// evaluating one recurses through it.
pub const MAX_CONDITION_TERMS: usize = 64;

/// Errors reported for one file: after this many, `check` says it stopped
/// looking. A file of a million mistakes would otherwise print a million
/// excerpts, and one fix often clears several errors that followed it.
pub const MAX_ERRORS: usize = 20;

/// The bytes of one `write` or one `respond` body, repeats included:
/// 1 TiB. A `repeat` is sent from a small buffer, so it need not fit in
/// memory, but its length must fit in a `Content-Length` and in a counter.
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 40;

/// The bytes a scenario holds in memory: its strings, hex and `repeat`
/// patterns, a string `$name` counted each time it is used, and the
/// response bytes `respond` builds from them: 16 MiB. Without it a
/// parameter used a million times would need a million copies.
pub const MAX_HELD_BYTES: usize = 16 << 20;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Instant;

    use super::*;
    use crate::scenario::error::Diagnostic;
    use crate::scenario::parser::parse;

    /// The one error of `source`: a limit ends the parse (nesting, bytes
    /// held) or costs one line (a condition), so no other error follows.
    fn error(source: &str) -> Diagnostic {
        match parse(source, &BTreeMap::new()) {
            // Not the scenario: it may hold megabytes.
            Ok(_) => panic!("no error for {} bytes of text", source.len()),
            Err(mut errors) => {
                assert_eq!(
                    errors.len(),
                    1,
                    "{:?}",
                    errors.iter().map(|e| e.message()).collect::<Vec<_>>()
                );
                errors.remove(0)
            }
        }
    }

    fn nested(levels: usize) -> String {
        "loop\n".repeat(levels) + "reset\n" + &"end\n".repeat(levels)
    }

    #[test]
    fn blocks_nest_up_to_the_limit() {
        assert!(parse(&nested(MAX_NESTING), &BTreeMap::new()).is_ok());
        let e = error(&nested(MAX_NESTING + 1));
        assert_eq!((e.span.line, e.span.col), (MAX_NESTING + 1, 1));
        assert_eq!(e.message(), "`loop` is nested 33 deep, over the limit of 32");
        // A hundred thousand levels: an error, not a stack overflow.
        assert_eq!(error(&nested(100_000)).message(), e.message());
        let e = error(&"if request is 1\n".repeat(50_000));
        assert_eq!(e.message(), "`if` is nested 33 deep, over the limit of 32");
    }

    #[test]
    fn read_else_chains_count_as_nesting() {
        let chain = |n: usize| "read request within 1s".to_string() + &" else read request within 1s".repeat(n) + "\n";
        assert!(parse(&chain(MAX_NESTING), &BTreeMap::new()).is_ok());
        let e = error(&chain(30_000));
        assert_eq!(e.message(), "`else` is nested 33 deep, over the limit of 32");
        assert_eq!(e.span.col, 24 + 28 * 32);
    }

    #[test]
    fn conditions_have_at_most_64_terms() {
        let and = |n: usize| format!("if {}\nend\n", vec!["request is 1"; n].join(" and "));
        assert!(parse(&and(MAX_CONDITION_TERMS), &BTreeMap::new()).is_ok());
        let e = error(&and(MAX_CONDITION_TERMS + 1));
        assert_eq!(
            e.message(),
            "this condition goes over the limit of 64 terms (comparisons and `not`s)"
        );
        assert_eq!(error(&and(60_000)).message(), e.message());
        let nots = format!("if {}request is 1\nend\n", "not ".repeat(200_000));
        assert_eq!(error(&nots).message(), e.message());
    }

    #[test]
    fn durations_stop_at_365_days() {
        assert!(parse("sleep 8760h\n", &BTreeMap::new()).is_ok());
        for text in ["8761h", "99999999999999999999999h", "153722867280912930m"] {
            let e = error(&format!("sleep {text}\n"));
            assert_eq!(
                e.message(),
                format!("`{text}` is over the limit of 8760h (365 days) for a duration")
            );
        }
    }

    #[test]
    fn one_write_or_body_is_at_most_1_tib() {
        assert!(parse("write repeat 1024GiB \"x\"\n", &BTreeMap::new()).is_ok());
        let e = error("write repeat 18446744073709551615 \"ab\"\n");
        assert_eq!(
            (e.span.col, e.message().as_str()),
            (
                7,
                "`repeat` of 18446744073709551615 × 2 bytes is over the limit of 1 TiB for one write or body"
            )
        );
        let e = error("respond 200 body repeat 1024GiB \"x\" \"y\"\n");
        assert_eq!(
            (e.span.col, e.message().as_str()),
            (
                37,
                "the bytes come to over the limit of 1 TiB for one write or body here"
            )
        );
    }

    #[test]
    fn strings_held_in_memory_stop_at_16_mib() {
        // A 100 KB parameter used 200 times would be 20 MB of copies.
        let big = "x".repeat(100_000);
        let uses = "write $s\n".repeat(200);
        let e = error(&format!("param s = \"{big}\"\n{uses}"));
        assert_eq!(
            e.message(),
            "the scenario's strings come to over the limit of 16 MiB here (a `$name` counts each time it is used)"
        );
        assert_eq!((e.span.line, e.span.col), (2 + MAX_HELD_BYTES / 100_000, 7));
        // `respond` holds its response bytes too.
        let e = error(&format!("param s = \"{big}\"\n{}", "respond 200 body $s\n".repeat(100)));
        assert!(e.message().starts_with("the scenario's strings"), "{}", e.message());
    }

    #[test]
    fn the_text_stops_at_1_mib() {
        let text = "#".repeat(MAX_SOURCE_BYTES) + "\nreset\n";
        let e = error(&text);
        assert_eq!((e.span.line, e.span.col), (1, MAX_SOURCE_BYTES + 1));
        assert_eq!(
            e.message(),
            "the text goes on past the limit of 1 MiB (1048576 bytes) for a scenario, here"
        );
    }

    #[test]
    fn the_reference_states_each_limit_from_its_constant() {
        use crate::units::{binary_size, max_duration_text};
        let reference = include_str!("../../scenarios/README.md");
        let limit = |what: &str| -> String {
            let row = reference
                .lines()
                .find(|line| line.starts_with(&format!("| {what}")))
                .unwrap_or_else(|| panic!("no row `{what}` in the Limits table"));
            row.split('|').nth(2).unwrap_or("").trim().to_string()
        };
        let grouped = |n: usize| {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        assert_eq!(
            limit("a scenario file"),
            format!(
                "{} ({} bytes)",
                binary_size(MAX_SOURCE_BYTES as u64),
                grouped(MAX_SOURCE_BYTES)
            )
        );
        assert_eq!(limit("blocks inside blocks"), format!("{MAX_NESTING} deep"));
        assert_eq!(limit("terms in one condition"), MAX_CONDITION_TERMS.to_string());
        assert_eq!(limit("a duration"), max_duration_text());
        assert_eq!(limit("one `write`"), binary_size(MAX_PAYLOAD_BYTES));
        assert_eq!(limit("a number"), u64::MAX.to_string());
        assert_eq!(limit("errors reported"), MAX_ERRORS.to_string());
        assert_eq!(limit("the bytes a scenario holds"), binary_size(MAX_HELD_BYTES as u64));
    }

    #[test]
    fn a_megabyte_of_declarations_parses_in_linear_time() {
        // Looking parameters up by scanning a list took 20 s for this in a
        // debug build (quadratic); by name it takes a fraction of a second.
        // The bound only catches that regression, whatever the machine.
        let text: String = (0..60_000).map(|i| format!("param p{i} = 1\n")).collect();
        let start = Instant::now();
        assert!(parse(&text, &BTreeMap::new()).is_ok());
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }
}
