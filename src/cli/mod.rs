//! The `hangup` command line: flags to a command, a command to an outcome,
//! an outcome to an exit code.
//!
//! Exit codes: 0 success (for `serve`: stopped by SIGINT or SIGTERM); 1 a
//! check or expectation failed; 2 usage error (bad flag, unknown or invalid
//! scenario, bad `--set`, a number over its bound, a file too large); 3 the
//! system refused (cannot listen, event loop failure, output that cannot be
//! written). Nothing here panics on what a user typed or on a closed or
//! full stdout or stderr (`output`).

pub mod args;
mod commands;
pub(crate) mod flags;
pub(crate) mod output;
mod probe;
mod probe_flags;
mod record_file;

use std::process::ExitCode;

use argh::FromArgs;

pub use args::Args;
use flags::{Cli, Command};

/// A check or an expectation failed.
pub const EXIT_FAILED: u8 = 1;
/// The command line was wrong: nothing was done.
pub const EXIT_USAGE: u8 = 2;
/// The system refused (listen, poll, write the output).
pub const EXIT_SYSTEM: u8 = 3;

/// A failed command: what to print and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code: [`EXIT_FAILED`], [`EXIT_USAGE`] or [`EXIT_SYSTEM`].
    pub code: u8,
    /// Printed after `hangup: `; nothing is printed when it is empty.
    pub message: String,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// The system refused (exit 3).
    pub fn system(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_SYSTEM,
            message: message.into(),
        }
    }

    /// A check or expectation failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_FAILED,
            message: message.into(),
        }
    }
}

/// What the command line asks for.
// Made once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Invocation {
    /// `--help` (or `-h`) somewhere: this text on stdout.
    Help(String),
    /// `--version` or `-V`.
    Version,
    /// A subcommand to run.
    Run(Command),
}

/// Parse the arguments. `-h` is `--help` wherever argh would refuse it.
pub fn parse(args: &Args) -> Result<Invocation, Failure> {
    let strs = args.strs();
    let refused = match Cli::from_args(&["hangup"], &strs) {
        Ok(cli) => return invocation(cli),
        Err(early) if early.status.is_ok() => return Ok(Invocation::Help(early.output)),
        Err(early) => early.output,
    };
    if args.contains("-h") {
        let helped: Vec<&str> = strs.iter().map(|s| if *s == "-h" { "--help" } else { s }).collect();
        if let Err(early) = Cli::from_args(&["hangup"], &helped)
            && early.status.is_ok()
        {
            return Ok(Invocation::Help(early.output));
        }
    }
    Err(Failure::usage(refusal(args, &refused)))
}

fn invocation(cli: Cli) -> Result<Invocation, Failure> {
    match cli.command {
        _ if cli.version => Ok(Invocation::Version),
        None => Err(Failure::usage(
            "a subcommand is needed: serve, probe, list, show or check (see `hangup --help`)",
        )),
        Some(command) => Ok(Invocation::Run(command)),
    }
}

/// argh's message, with a hint for `--set NAME VALUE` and the help to read.
fn refusal(args: &Args, refused: &str) -> String {
    // Stand-ins first: trimming could cut one (an argument ending in a tab).
    let mut message = args.shown(refused).trim_end().to_string();
    let words: Vec<&str> = args.words().collect();
    if let Some(pair) = words.windows(2).find(|w| w[0] == "--set" && !w[1].contains('=')) {
        message.push_str(&format!(
            "\n--set takes NAME=VALUE as one argument: --set {}=VALUE, like --set after=2s",
            pair[1]
        ));
    }
    let sub = args
        .first()
        .filter(|s| ["serve", "probe", "list", "show", "check"].contains(s));
    match sub {
        Some(sub) => message.push_str(&format!("\nRun `hangup {sub} --help` for usage.")),
        None => message.push_str("\nRun `hangup --help` for usage."),
    }
    message
}

/// Run what the command line asks for.
pub fn run(invocation: Invocation, args: &Args) -> Result<(), Failure> {
    match invocation {
        Invocation::Help(text) => output::print(&text),
        Invocation::Version => output::print(&format!("hangup {}\n", env!("CARGO_PKG_VERSION"))),
        Invocation::Run(Command::Serve(serve)) => commands::serve(serve, args),
        Invocation::Run(Command::List(_)) => commands::list(),
        Invocation::Run(Command::Show(show)) => commands::show(show, args),
        Invocation::Run(Command::Check(check)) => commands::check(check, args),
        Invocation::Run(Command::Probe(probe)) => probe::run(probe, args),
    }
}

/// Print a failure's message (if stderr can take it) and give its code.
pub fn exit_code(outcome: Result<(), Failure>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                output::error_line(&format!("hangup: {}", failure.message));
            }
            ExitCode::from(failure.code)
        }
    }
}
