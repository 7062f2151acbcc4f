//! Writing to stdout and stderr without ever panicking or aborting.
//!
//! `println!` panics when stdout is gone; `eprintln!` panics when stderr
//! cannot be written (`2>/dev/full`). A message that cannot be shown is
//! lost, but the exit code still says what happened. Output that cannot be
//! written is a failure (`>/dev/full`), except a closed pipe
//! (`hangup list | head`): the reader had what it wanted.

use std::io::{self, Write};

use super::Failure;

/// Write `text` to stdout. A closed pipe is a success; any other error
/// (a full disk) fails the command with exit code 3.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::system(format!("cannot write the output to stdout: {e}"))),
    }
}

/// Write `line` and a newline to stderr, if it can be written.
pub fn error_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}
