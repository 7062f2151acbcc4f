//! The `hangup` command line: parse flags, run a subcommand, map its
//! outcome to an exit code. Everything else lives in the library.
//!
//! Exit codes: 0 success; 1 a check or expectation failed; 2 usage error
//! (bad flag, unknown or invalid scenario, bad `--set`); 3 the system
//! refused (cannot listen, event loop failure).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;

use argh::FromArgs;
use hangup::log::{Format, Log};
use hangup::scenario::{self, catalog};

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_SYSTEM: u8 = 3;

#[derive(FromArgs)]
/// An HTTP server that fails on purpose, exactly and repeatably.
struct Cli {
    /// print the version and exit
    #[argh(switch)]
    version: bool,
    #[argh(subcommand)]
    command: Option<Command>,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Command {
    Serve(Serve),
    List(List),
    Show(Show),
    Check(Check),
}

#[derive(FromArgs)]
/// Listen and run a scenario for every connection.
#[argh(
    subcommand,
    name = "serve",
    example = "hangup serve mid-body-reset",
    example = "hangup serve server-timeout --set after=2s --listen 127.0.0.1:0",
    note = "Prints `listening on ADDR` on stdout once ready; events go to stderr."
)]
struct Serve {
    /// a built-in scenario name (see `hangup list`) or a scenario file
    #[argh(positional)]
    scenario: String,
    /// address to listen on (default 127.0.0.1:9000; port 0 picks a free one)
    #[argh(option, default = "String::from(\"127.0.0.1:9000\")")]
    listen: String,
    /// override a parameter, NAME=VALUE (repeatable)
    #[argh(option)]
    set: Vec<String>,
    /// event log format: text or json (default text)
    #[argh(option, default = "String::from(\"text\")")]
    log: String,
    /// log nothing
    #[argh(switch, short = 'q')]
    quiet: bool,
}

#[derive(FromArgs)]
/// List the built-in scenarios.
#[argh(subcommand, name = "list")]
struct List {}

#[derive(FromArgs)]
/// Print the source of a built-in scenario, to copy and edit.
#[argh(subcommand, name = "show", example = "hangup show keepalive-reset > mine.hup")]
struct Show {
    /// built-in scenario name
    #[argh(positional)]
    name: String,
}

#[derive(FromArgs)]
/// Parse and validate scenario files (or built-in names).
#[argh(subcommand, name = "check", note = "Exit 0 when all are valid, 1 when any is not.")]
struct Check {
    /// scenario files to check
    #[argh(positional, greedy)]
    files: Vec<String>,
}

/// A failed command: what to print and the exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    let cli = match Cli::from_args(&["hangup"], strs.get(1..).unwrap_or_default()) {
        Ok(cli) => cli,
        Err(early) => {
            // --help is a success on stdout; a bad flag is a usage error.
            return match early.status {
                Ok(()) => {
                    print_out(&early.output);
                    ExitCode::SUCCESS
                }
                Err(()) => {
                    eprintln!("{}", early.output.trim_end());
                    eprintln!("Run `hangup --help` for usage.");
                    ExitCode::from(EXIT_USAGE)
                }
            };
        }
    };
    let result = match cli.command {
        _ if cli.version => {
            print_out(&format!("hangup {}\n", env!("CARGO_PKG_VERSION")));
            Ok(())
        }
        None => Err(Failure::usage(
            "a subcommand is needed: serve, list, show or check (see `hangup --help`)",
        )),
        Some(Command::Serve(serve)) => run_serve(serve),
        Some(Command::List(_)) => run_list(),
        Some(Command::Show(show)) => run_show(show),
        Some(Command::Check(check)) => run_check(check),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("hangup: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

fn run_serve(serve: Serve) -> Result<(), Failure> {
    let overrides = parse_sets(&serve.set)?;
    let format = match serve.log.as_str() {
        "text" => Format::Text,
        "json" => Format::Json,
        other => return Err(Failure::usage(format!("--log {other}: expected `text` or `json`"))),
    };
    let addr = parse_listen(&serve.listen)?;
    let scenario = scenario::load(&serve.scenario, &overrides).map_err(|e| Failure::usage(e.to_string()))?;
    let mut log = Log::new(format, serve.quiet);
    hangup::server::serve(addr, &scenario, &mut log).map_err(|e| Failure {
        code: EXIT_SYSTEM,
        message: e.to_string(),
    })
}

fn run_list() -> Result<(), Failure> {
    let width = catalog::BUILTINS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, source) in catalog::BUILTINS {
        let summary = source
            .lines()
            .find_map(|l| l.strip_prefix('#'))
            .map(str::trim)
            .unwrap_or("");
        text.push_str(&format!("{name:width$}  {summary}\n"));
    }
    print_out(&text);
    Ok(())
}

fn run_show(show: Show) -> Result<(), Failure> {
    match catalog::source(&show.name) {
        Some(source) => {
            print_out(source);
            Ok(())
        }
        None => Err(Failure::usage(format!(
            "no built-in scenario named `{}`; `hangup list` shows them all",
            show.name
        ))),
    }
}

fn run_check(check: Check) -> Result<(), Failure> {
    if check.files.is_empty() {
        return Err(Failure::usage("check needs at least one scenario file"));
    }
    let mut failed = false;
    let mut ok = String::new();
    for file in &check.files {
        match scenario::load(file, &BTreeMap::new()) {
            Ok(_) => ok.push_str(&format!("{file}: ok\n")),
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    print_out(&ok);
    if failed {
        Err(Failure {
            code: EXIT_FAILED,
            message: String::new(),
        })
    } else {
        Ok(())
    }
}

/// `--set NAME=VALUE` flags to a map.
fn parse_sets(sets: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut overrides = BTreeMap::new();
    for set in sets {
        match set.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                overrides.insert(name.to_string(), value.to_string());
            }
            _ => {
                return Err(Failure::usage(format!(
                    "--set {set}: expected NAME=VALUE, like after=2s"
                )));
            }
        }
    }
    Ok(overrides)
}

/// `127.0.0.1:9000`, `[::1]:0`, `localhost:9000`, or a bare port.
fn parse_listen(text: &str) -> Result<SocketAddr, Failure> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--listen {text}: expected an address like 127.0.0.1:9000 or [::1]:0"
            ))
        })
}

/// Write to stdout; a closed pipe (`hangup list | head`) is not an error.
fn print_out(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
