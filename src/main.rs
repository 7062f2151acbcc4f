//! The `hangup` command line: parse flags, run a subcommand, map its
//! outcome to an exit code. Everything else lives in the library; the
//! exit codes are documented in [`hangup::cli`].

use std::process::ExitCode;

use hangup::cli;

fn main() -> ExitCode {
    let args = cli::Args::from_env();
    let outcome = cli::parse(&args).and_then(|invocation| cli::run(invocation, &args));
    cli::exit_code(outcome)
}
