//! The `hangup` command line: parse flags, run a subcommand, map its
//! outcome to an exit code. Everything else lives in the library.
//!
//! Exit codes: 0 success (for `serve`: stopped by SIGINT or SIGTERM); 1 a
//! check or expectation failed; 2 usage error (bad flag, unknown or invalid
//! scenario, bad `--set`); 3 the system refused (cannot listen, event loop
//! failure).

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
// Parsed once at startup: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    Serve(Serve),
    List(List),
    Show(Show),
    Check(Check),
    Probe(Probe),
}

#[derive(FromArgs)]
/// Listen and run a scenario for every connection.
#[argh(
    subcommand,
    name = "serve",
    example = "hangup serve mid-body-reset",
    example = "hangup serve server-timeout --set after=2s --listen 127.0.0.1:0",
    note = "Prints `listening on ADDR` on stdout once ready; events go to stderr.\nSIGINT or SIGTERM stops it: exit 0, after a one-line summary of how connections ended."
)]
struct Serve {
    /// a built-in scenario name (see `hangup list`) or a scenario file (at most 1 MiB)
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
    /// the real server a proxy scenario forwards to: HOST:PORT, [IPv6]:PORT (a name is resolved once, at start)
    #[argh(option)]
    upstream: Option<String>,
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
    /// scenario files to check (each at most 1 MiB)
    #[argh(positional, greedy)]
    files: Vec<String>,
}

#[derive(FromArgs)]
/// Send a request to any HTTP server; report what came back and how the connection ended.
#[argh(
    subcommand,
    name = "probe",
    example = "hangup probe http://127.0.0.1:9000/",
    example = "hangup probe 127.0.0.1:9000 --expect reset --expect-body-bytes 6",
    example = "hangup probe 127.0.0.1:9000 --requests 2 --gap 100ms --diagram",
    example = "hangup probe 127.0.0.1:9000 --count 200 --concurrency 50",
    note = "Outcomes: complete, truncated, reset (with a phase: at-connect, while-sending,\nbefore-response, mid-head, mid-body), empty, timeout, refused, error. Without --expect the exit code is 0;\nwith it, 0 when every probe matched, 1 when one did not. 2 is a usage error."
)]
struct Probe {
    /// http://HOST:PORT/PATH or HOST:PORT
    #[argh(positional)]
    target: String,
    /// request method (default GET, or POST with a body)
    #[argh(option, short = 'X')]
    method: Option<String>,
    /// a request header, "Name: value" (repeatable)
    #[argh(option, short = 'H')]
    header: Vec<String>,
    /// request body text
    #[argh(option)]
    body: Option<String>,
    /// request body read from a file
    #[argh(option)]
    body_file: Option<String>,
    /// a generated request body of this many bytes (e.g. 10MiB)
    #[argh(option)]
    body_bytes: Option<String>,
    /// send this file's bytes exactly, instead of a built request
    #[argh(option)]
    raw: Option<String>,
    /// give up on a connect or a request after this long (default 10s)
    #[argh(option, default = "String::from(\"10s\")")]
    timeout: String,
    /// requests to send one after another on one connection (default 1)
    #[argh(option, default = "1")]
    requests: usize,
    /// pause between a response and the next request (default 0ms)
    #[argh(option, default = "String::from(\"0ms\")")]
    gap: String,
    /// watch the connection this long after the last response (default 50ms)
    #[argh(option, default = "String::from(\"50ms\")")]
    linger: String,
    /// print one JSON object instead of text
    #[argh(switch)]
    json: bool,
    /// print a client/server sequence diagram
    #[argh(switch)]
    diagram: bool,
    /// exit 1 unless the outcome is this
    #[argh(option)]
    expect: Option<String>,
    /// exit 1 unless the response status is this
    #[argh(option)]
    expect_status: Option<u16>,
    /// exit 1 unless this many body bytes arrived
    #[argh(option)]
    expect_body_bytes: Option<u64>,
    /// run this many probes and print outcome counts and percentiles
    #[argh(option, default = "1")]
    count: usize,
    /// probes at a time with --count (default 10)
    #[argh(option, default = "10")]
    concurrency: usize,
    /// start probes at least this far apart with --count (default 0ms)
    #[argh(option, default = "String::from(\"0ms\")")]
    interval: String,
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
            "a subcommand is needed: serve, probe, list, show or check (see `hangup --help`)",
        )),
        Some(Command::Serve(serve)) => run_serve(serve),
        Some(Command::List(_)) => run_list(),
        Some(Command::Show(show)) => run_show(show),
        Some(Command::Check(check)) => run_check(check),
        Some(Command::Probe(probe)) => run_probe(probe),
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
    let upstream = match (&serve.upstream, scenario.proxies) {
        (Some(text), true) => Some(parse_upstream(text)?),
        (None, false) => None,
        (None, true) => {
            return Err(Failure::usage(format!(
                "`{}` forwards to a real server: give it with --upstream HOST:PORT",
                serve.scenario
            )));
        }
        (Some(_), false) => {
            return Err(Failure::usage(format!(
                "--upstream is for scenarios that forward and relay (proxy, tcp-proxy, ...); `{}` does neither",
                serve.scenario
            )));
        }
    };
    let mut log = Log::new(format, serve.quiet);
    hangup::sock::raise_fd_limit();
    hangup::server::serve(addr, &scenario, upstream, &mut log).map_err(|e| Failure {
        code: EXIT_SYSTEM,
        message: e.to_string(),
    })
}

fn run_list() -> Result<(), Failure> {
    let width = catalog::BUILTINS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, source) in catalog::BUILTINS {
        let summary = scenario::summary_of(source);
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
            Ok(_) => {
                scenario::lint::check(file).iter().for_each(|w| eprintln!("{w}"));
                ok.push_str(&format!("{file}: ok\n"));
            }
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

fn run_probe(args: Probe) -> Result<(), Failure> {
    use hangup::probe::{self, report, request};
    let duration =
        |flag: &str, text: &str| parse_duration(text).map_err(|m| Failure::usage(format!("--{flag} {text}: {m}")));
    let timeout = duration("timeout", &args.timeout)?;
    let gap = duration("gap", &args.gap)?;
    let linger = duration("linger", &args.linger)?;
    let interval = duration("interval", &args.interval)?;
    let target = request::Target::parse(&args.target).map_err(Failure::usage)?;
    let addr = target.resolve().map_err(Failure::usage)?;
    let bodies = [args.body.is_some(), args.body_file.is_some(), args.body_bytes.is_some()];
    if bodies.iter().filter(|b| **b).count() > 1 {
        return Err(Failure::usage("give one of --body, --body-file and --body-bytes"));
    }
    if args.raw.is_some() && (bodies.contains(&true) || args.method.is_some() || !args.header.is_empty()) {
        return Err(Failure::usage(
            "--raw sends the file as it is: no --method, --header or body flags with it",
        ));
    }
    if args.requests == 0 || args.count == 0 || args.concurrency == 0 {
        return Err(Failure::usage(
            "--requests, --count and --concurrency must be at least 1",
        ));
    }
    if args.diagram && (args.json || args.count > 1) {
        return Err(Failure::usage(
            "--diagram shows one probe, as text: not with --json or --count",
        ));
    }
    let expect = report::Expect {
        outcome: match &args.expect {
            None => None,
            Some(name) => Some(probe::outcome::Outcome::from_name(name).ok_or_else(|| {
                Failure::usage(format!(
                    "--expect {name}: expected complete, truncated, reset, empty, timeout, refused or error"
                ))
            })?),
        },
        status: args.expect_status,
        body_bytes: args.expect_body_bytes,
    };
    let read = |path: &str| std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {path}: {e}")));
    let (payload, request_line) = if let Some(path) = &args.raw {
        request::raw_request(read(path)?)
    } else {
        let body = if let Some(text) = &args.body {
            request::Body::Bytes(text.clone().into_bytes())
        } else if let Some(path) = &args.body_file {
            request::Body::Bytes(read(path)?)
        } else if let Some(size) = &args.body_bytes {
            let n = hangup::scenario::parser::parse_number(size)
                .map_err(|m| Failure::usage(format!("--body-bytes {size}: {m}")))?;
            request::Body::Generated(n)
        } else {
            request::Body::None
        };
        request::build_request(&target, args.method.as_deref(), &args.header, &body)
    };
    let plan = request::Plan {
        addr,
        target: args.target.clone(),
        head_request: request_line.starts_with("HEAD "),
        request: payload,
        request_line,
        requests: args.requests,
        gap,
        timeout,
        linger,
    };
    let load = probe::Load {
        count: args.count,
        concurrency: args.concurrency.min(args.count),
        interval,
    };
    hangup::sock::raise_fd_limit();
    let started = std::time::Instant::now();
    let reports = probe::run(&plan, load).map_err(|e| Failure {
        code: EXIT_SYSTEM,
        message: format!("probe failed: {e}"),
    })?;
    let output = if args.count > 1 {
        let summary = report::Summary::new(&reports, load.concurrency, started.elapsed());
        if args.json {
            summary.json() + "\n"
        } else {
            summary.text()
        }
    } else if args.json {
        report::json(&reports[0]) + "\n"
    } else if args.diagram {
        probe::diagram::render(&reports[0], probe::diagram::color_wanted())
    } else {
        report::text(&reports[0], timeout, linger)
    };
    print_out(&output);
    if expect.is_empty() {
        return Ok(());
    }
    let failures: Vec<String> = reports.iter().filter_map(|r| expect.check(r).err()).collect();
    match failures.first() {
        None => Ok(()),
        Some(first) if reports.len() == 1 => Err(Failure {
            code: EXIT_FAILED,
            message: format!("expectation failed: {first}"),
        }),
        Some(first) => Err(Failure {
            code: EXIT_FAILED,
            message: format!(
                "expectation failed for {} of {} probes; the first: {first}",
                failures.len(),
                reports.len()
            ),
        }),
    }
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    hangup::scenario::parser::parse_duration(text)
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

/// `HOST:PORT` or `[IPv6]:PORT`; a host name is resolved once, here.
fn parse_upstream(text: &str) -> Result<SocketAddr, Failure> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let resolved = text.to_socket_addrs().map_err(|e| {
        Failure::usage(format!(
            "--upstream {text}: expected HOST:PORT like 127.0.0.1:8080 or [::1]:8080 ({e})"
        ))
    })?;
    let mut addrs: Vec<SocketAddr> = resolved.collect();
    // Prefer IPv4, as most servers on loopback listen there.
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs
        .into_iter()
        .next()
        .ok_or_else(|| Failure::usage(format!("--upstream {text}: the name resolves to no address")))
}

/// Write to stdout; a closed pipe (`hangup list | head`) is not an error.
fn print_out(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
