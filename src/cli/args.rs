//! The command line as the system gave it: bytes, not necessarily UTF-8.
//!
//! argh parses `&str`s, but a path on Unix is any bytes. Every argument
//! that is not UTF-8 (or that starts with `MARK`, so that no real
//! argument can pass for a stand-in) is handed to argh as a stand-in that
//! names its position; [`Args::os`] gives the original bytes back for the
//! flags that take paths or bytes, and [`Args::utf8`] refuses it, with a
//! usage error, for the flags that need text.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use super::Failure;

/// Starts and ends the index in a stand-in (a private-use character).
const MARK: char = '\u{F8FF}';

/// The arguments after the program name, as bytes and as argh sees them.
pub struct Args {
    raw: Vec<OsString>,
    text: Vec<String>,
}

impl Args {
    /// The process's arguments, without the program name.
    pub fn from_env() -> Args {
        Args::new(std::env::args_os().skip(1).collect())
    }

    /// `raw` are the arguments after the program name.
    pub fn new(raw: Vec<OsString>) -> Args {
        let text = raw
            .iter()
            .enumerate()
            .map(|(index, arg)| match arg.to_str() {
                Some(text) if !text.starts_with(MARK) => text.to_string(),
                _ => format!("{MARK}{index}{MARK}{}", arg.to_string_lossy()),
            })
            .collect();
        Args { raw, text }
    }

    /// The arguments as the system gave them, for a header that names the
    /// command (`crate::record`).
    pub fn raw(&self) -> &[OsString] {
        &self.raw
    }

    /// The arguments as argh takes them (stand-ins for the odd ones).
    pub fn strs(&self) -> Vec<&str> {
        self.text.iter().map(String::as_str).collect()
    }

    /// The index of the argument `text` stands in for, if it is a stand-in.
    fn stand_in(&self, text: &str) -> Option<usize> {
        let rest = text.strip_prefix(MARK)?;
        let (index, _) = rest.split_once(MARK)?;
        let index: usize = index.parse().ok()?;
        (self.text.get(index).map(String::as_str) == Some(text)).then_some(index)
    }

    /// The bytes of an argument argh handed back as `text`.
    pub fn os(&self, text: &str) -> OsString {
        match self.stand_in(text) {
            Some(index) => self.raw[index].clone(),
            None => OsString::from(text),
        }
    }

    /// The bytes of an argument argh handed back as `text`.
    pub fn bytes(&self, text: &str) -> Vec<u8> {
        self.os(text).as_bytes().to_vec()
    }

    /// `text` when the argument was UTF-8; a usage error naming `flag`
    /// otherwise.
    pub fn utf8<'t>(&self, flag: &str, text: &'t str) -> Result<&'t str, Failure> {
        match self.stand_in(text) {
            None => Ok(text),
            Some(index) => Err(Failure::usage(format!(
                "{flag} {}: not UTF-8 text (only paths, headers and --body may be any bytes)",
                self.raw[index].to_string_lossy()
            ))),
        }
    }

    /// `text` with every stand-in replaced by its argument, shown lossily:
    /// for argh's own messages.
    pub fn shown(&self, text: &str) -> String {
        let mut shown = text.to_string();
        for (index, stand_in) in self.text.iter().enumerate() {
            if stand_in.starts_with(MARK) {
                shown = shown.replace(stand_in, &self.raw[index].to_string_lossy());
            }
        }
        shown
    }

    /// The first argument, when it is UTF-8.
    pub fn first(&self) -> Option<&str> {
        self.raw.first().and_then(|arg| arg.to_str())
    }

    /// The UTF-8 arguments (odd ones are skipped), for hints.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.raw.iter().filter_map(|arg| arg.to_str())
    }

    /// True when `arg` is one of the arguments.
    pub fn contains(&self, arg: &str) -> bool {
        self.raw.iter().any(|a| a == OsStr::new(arg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_arguments_come_back_as_they_were_given() {
        let odd = OsString::from(OsStr::from_bytes(b"x\xff.hup"));
        let marked = OsString::from(format!("{MARK}0{MARK}"));
        let args = Args::new(vec![OsString::from("check"), odd.clone(), marked.clone()]);
        let strs = args.strs();
        assert_eq!(strs[0], "check");
        assert_eq!(args.os(strs[1]), odd);
        assert_eq!(args.os(strs[2]), marked);
        assert_eq!(args.os("plain"), OsString::from("plain"));
        assert!(args.utf8("--listen", strs[1]).is_err());
        assert_eq!(args.shown(&format!("bad: {}", strs[1])), "bad: x\u{FFFD}.hup");
    }
}
