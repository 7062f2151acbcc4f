//! The text of a recording's header comment.
//!
//! Everything in it may come from outside: the target a user typed, the
//! status line and headers a server sent, a path. A line break there would
//! end the comment and make the rest a statement (`probe
//! $'http://h/a\nreset\n#'` once made a recording whose first statement
//! was `reset`), and a bidi control would make the line read otherwise than
//! it runs. So [`comment`] escapes every control and invisible character,
//! and bounds the line. The command that made a recording is quoted as a
//! shell reads it ([`shell_line`]), so that it can be pasted to record again.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The longest comment line, in bytes: a header of a few dozen lines stays
/// far under the 1 MiB a scenario may be, whatever went into it.
pub(crate) const COMMENT_LINE_MAX: usize = 1000;
/// The first line, which names the command (long headers and all), may be
/// this long.
pub(crate) const COMMAND_LINE_MAX: usize = 16 << 10;

/// `text` made safe for one comment line: controls and invisible
/// characters as escapes (`\n`, `\x1b`, `\xe2\x80\xae`), and at most
/// `max` bytes (then `…`). Backslashes stay as they are, so that a
/// shell-quoted command in a comment can be pasted as it is.
pub(crate) fn comment(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        if out.len() >= max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible(c) => {
                for byte in c.to_string().bytes() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that change how a line reads without showing: zero-width
/// ones, bidi controls, line and paragraph separators, the BOM.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
    )
}

/// `hangup ARGS…` as a shell reads it: a plain word as it is, other text
/// in single quotes, and anything with control, invisible or non-UTF-8
/// bytes in `$'…'` with escapes (bash, zsh and ksh read those).
pub(crate) fn shell_line(args: &[OsString]) -> String {
    let mut line = String::from("hangup");
    for arg in args {
        line.push(' ');
        line.push_str(&shell_word(arg.as_bytes()));
    }
    line
}

fn shell_word(arg: &[u8]) -> String {
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(b);
    if !arg.is_empty() && arg.iter().all(plain) {
        return String::from_utf8_lossy(arg).into_owned();
    }
    match std::str::from_utf8(arg) {
        Ok(text) if !text.chars().any(|c| c.is_control() || is_invisible(c)) => {
            format!("'{}'", text.replace('\'', r"'\''"))
        }
        _ => {
            let mut out = String::from("$'");
            for chunk in arg.utf8_chunks() {
                for c in chunk.valid().chars() {
                    match c {
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        c if c.is_control() || is_invisible(c) => {
                            for byte in c.to_string().bytes() {
                                let _ = write!(out, "\\x{byte:02x}");
                            }
                        }
                        c => out.push(c),
                    }
                }
                for byte in chunk.invalid() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            out.push('\'');
            out
        }
    }
}

/// `2026-11-30 22:41:07 UTC`.
pub(crate) fn utc(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_comment_keeps_to_one_visible_line() {
        assert_eq!(
            comment("http://h/a\nreset\n#", COMMENT_LINE_MAX),
            r"http://h/a\nreset\n#"
        );
        assert_eq!(
            comment("a\r\x1b[31mb\u{202e}c\\", COMMENT_LINE_MAX),
            r"a\r\x1b[31mb\xe2\x80\xaec\"
        );
        assert_eq!(comment("é ok", COMMENT_LINE_MAX), "é ok");
        let long = comment(&"x".repeat(5000), COMMENT_LINE_MAX);
        assert!(
            long.len() <= COMMENT_LINE_MAX + 3 && long.ends_with('…'),
            "{}",
            long.len()
        );
        assert!(!comment(&"\n".repeat(5000), COMMENT_LINE_MAX).contains('\n'));
    }

    #[test]
    fn the_command_is_quoted_as_a_shell_reads_it() {
        let args =
            |words: &[&[u8]]| -> Vec<OsString> { words.iter().map(|w| OsString::from_vec(w.to_vec())).collect() };
        assert_eq!(
            shell_line(&args(&[
                b"probe",
                b"http://127.0.0.1:9/a?b=1",
                b"-X",
                b"HEAD",
                b"--record",
                b"x.hup"
            ])),
            "hangup probe 'http://127.0.0.1:9/a?b=1' -X HEAD --record x.hup"
        );
        assert_eq!(shell_line(&args(&[b"-H", b"X-A: it's"])), r"hangup -H 'X-A: it'\''s'");
        assert_eq!(
            shell_line(&args(&[b"", b"a\nreset\n#'\\"])),
            r"hangup '' $'a\nreset\n#\'\\'"
        );
        assert_eq!(shell_line(&args(&[b"\xff\xfeb"])), r"hangup $'\xff\xfeb'");
    }

    #[test]
    fn the_date_is_a_real_utc_date() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_723);
        assert_eq!(utc(leap), "2000-02-29 01:02:03 UTC");
    }
}
