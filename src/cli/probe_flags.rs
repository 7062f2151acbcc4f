//! `hangup probe`'s flags: what they may be combined with, and the
//! [`Plan`], [`Load`] and expectations they make, checked, for
//! [`super::probe`] to run.
//!
//! Everything a user types is bounded here, before anything is allocated
//! or sent: counts by [`MAX_COUNT`] and its neighbours, files read whole by
//! [`MAX_FILE_BYTES`]. Flags that would have no effect (`--gap` without
//! `--requests`, `--concurrency` or `--interval` without `--count`) are
//! usage errors rather than silently ignored. The probe itself sees none
//! of this: it is handed a plan.

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use argh::FromArgs;

use super::{Args, Failure};
use crate::probe::Load;
use crate::probe::outcome::{Outcome, Phase};
use crate::probe::report::{Expect, TlsEndWanted};
use crate::probe::request::{self, Body, Plan, TlsPlan};
use crate::probe::target::{Scheme, Target};
use crate::probe::tls::TlsEnd;
use crate::tls::verdict::Verdict;
use crate::tls::{TlsClient, TrustOptions};
use crate::units;

/// The most probes one `--count` runs.
pub const MAX_COUNT: u64 = 1_000_000;
/// The most requests one `--requests` sends on a connection.
pub const MAX_REQUESTS: u64 = 1_000_000;
/// The most probes at a time.
pub const MAX_CONCURRENCY: u64 = 10_000;
/// The most bytes `--raw` or `--body-file` reads (held in memory whole):
/// 16 MiB, what a scenario may hold. `--body-bytes` sends any size.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

#[derive(FromArgs)]
/// Send a request to any HTTP server; report what came back and how the connection ended.
#[argh(
    subcommand,
    name = "probe",
    example = "hangup probe http://127.0.0.1:9000/",
    example = "hangup probe 127.0.0.1:9000 --expect reset --expect-body-bytes 6",
    example = "hangup probe 9000 --requests 2 --gap 100ms --diagram",
    example = "hangup probe 127.0.0.1:9000 --count 200 --concurrency 50",
    example = "hangup probe https://localhost:9000/ --cacert ca.pem --expect-tls-end close-notify",
    note = "Outcomes: complete, truncated, reset (with a phase: at-connect, handshake, while-sending,\nbefore-response, mid-head, mid-body), empty, timeout, refused, error. For https://, the server's\ncertificate is verified against --cacert FILE, else SSL_CERT_FILE or the system's CA bundle; -k goes on\nwhatever it is. Without --expect the exit code is 0;\nwith it, 0 when every probe matched, 1 when one did not. 2 is a usage error: among them --gap without\n--requests, --concurrency or --interval without --count, --count or --requests over 1000000,\n--concurrency over 10000, a --raw or --body-file over 16 MiB, and a target some resolver would read as
another address (http://9000 is 0.0.35.40; 127.1; 0.x.x.x). A bare PORT or PORT/PATH is 127.0.0.1:PORT."
)]
pub struct ProbeArgs {
    /// http://HOST:PORT/PATH, https://HOST:PORT/PATH, HOST:PORT/PATH, or PORT/PATH (on 127.0.0.1; the path is optional)
    #[argh(positional)]
    pub target: String,
    /// for https://: verify the server's certificate against this CA (PEM), not the system's
    #[argh(option)]
    pub cacert: Option<String>,
    /// for https://: go on whatever the server's certificate is (its verdict is still reported)
    #[argh(switch, short = 'k')]
    pub insecure: bool,
    /// request method (default GET, or POST with a body)
    #[argh(option, short = 'X')]
    pub method: Option<String>,
    /// a request header, "Name: value" (repeatable; sent as given, bytes and all)
    #[argh(option, short = 'H')]
    pub header: Vec<String>,
    /// request body text
    #[argh(option)]
    pub body: Option<String>,
    /// request body read from a file (at most 16 MiB)
    #[argh(option)]
    pub body_file: Option<String>,
    /// a generated request body of this many bytes (e.g. 10MiB)
    #[argh(option)]
    pub body_bytes: Option<String>,
    /// send this file's bytes exactly (at most 16 MiB), instead of a built request
    #[argh(option)]
    pub raw: Option<String>,
    /// give up on a connect or a request after this long (default 10s)
    #[argh(option, default = "String::from(\"10s\")")]
    pub timeout: String,
    /// requests to send one after another on one connection (default 1)
    #[argh(option)]
    pub requests: Option<String>,
    /// pause between a response and the next request, with --requests (default 0ms)
    #[argh(option)]
    pub gap: Option<String>,
    /// watch the connection this long after the last response (default 50ms)
    #[argh(option, default = "String::from(\"50ms\")")]
    pub linger: String,
    /// print one JSON object instead of text
    #[argh(switch)]
    pub json: bool,
    /// print a client/server sequence diagram
    #[argh(switch)]
    pub diagram: bool,
    /// exit 1 unless the outcome is this
    #[argh(option)]
    pub expect: Option<String>,
    /// exit 1 unless the response status is this
    #[argh(option)]
    pub expect_status: Option<u16>,
    /// exit 1 unless this many body bytes arrived
    #[argh(option)]
    pub expect_body_bytes: Option<u64>,
    /// for https://: exit 1 unless the certificate's verdict is this (ok, expired, wrong-name, unknown-issuer, ...)
    #[argh(option)]
    pub expect_verdict: Option<String>,
    /// for https://: exit 1 unless the server ended TLS so (close-notify, no-close-notify, alert, alert NAME, rst, open)
    #[argh(option)]
    pub expect_tls_end: Option<String>,
    /// run this many probes and print outcome counts and percentiles
    #[argh(option)]
    pub count: Option<String>,
    /// probes at a time with --count (default 10)
    #[argh(option)]
    pub concurrency: Option<String>,
    /// start probes at least this far apart with --count (default 0ms)
    #[argh(option)]
    pub interval: Option<String>,
    /// also write a scenario to this file that replays what the server did, byte for byte
    #[argh(option)]
    pub record: Option<String>,
    /// with --record, keep the pauses between the server's chunks as sleeps
    #[argh(switch)]
    pub record_timing: bool,
    /// write this many copies of the request at once (pipelining); each response is reported
    #[argh(option)]
    pub pipeline: Option<String>,
    /// exit 1 when a response has anything a strict client (Node) refuses
    #[argh(switch)]
    pub strict: bool,
}

/// What the flags ask for, checked.
pub struct Probe {
    pub plan: Plan,
    pub load: Load,
    pub expect: Expect,
    /// The address connected to, when the target did not spell it (a host
    /// name or a bare port): the text report says it.
    pub resolved: Option<SocketAddr>,
}

impl Probe {
    /// Check `flags` and build what they ask for; a usage error otherwise.
    pub fn from_flags(flags: &ProbeArgs, args: &Args) -> Result<Probe, Failure> {
        let duration = |flag: &str, text: &str| {
            let text = args.utf8(flag, text)?;
            units::parse_duration(text).map_err(|m| Failure::usage(format!("{flag} {text}: {m}")))
        };
        let timeout = duration("--timeout", &flags.timeout)?;
        let linger = duration("--linger", &flags.linger)?;
        let gap = flags.gap.as_deref().map(|g| duration("--gap", g)).transpose()?;
        let interval = flags
            .interval
            .as_deref()
            .map(|i| duration("--interval", i))
            .transpose()?;
        let bounded = |flag: &str, text: &Option<String>, default: u64, max: u64| -> Result<usize, Failure> {
            let Some(text) = text else { return Ok(default as usize) };
            let text = args.utf8(flag, text)?;
            let n = units::parse_size(text).map_err(|m| Failure::usage(format!("{flag} {text}: {m}")))?;
            if n == 0 || n > max {
                return Err(Failure::usage(format!("{flag} {text}: expected 1 to {max}")));
            }
            Ok(n as usize)
        };
        let requests = bounded("--requests", &flags.requests, 1, MAX_REQUESTS)?;
        let count = bounded("--count", &flags.count, 1, MAX_COUNT)?;
        let concurrency = bounded("--concurrency", &flags.concurrency, 10, MAX_CONCURRENCY)?;
        check_combinations(flags, count)?;
        let target_text = args.utf8("probe", &flags.target)?;
        let target = Target::parse(target_text).map_err(Failure::usage)?;
        let tls = tls(flags, args, &target)?;
        let addr = target.resolve().map_err(Failure::usage)?;
        let (mut request, request_line) = build(flags, args, &target)?;
        let pipeline = pipeline(flags, args, &mut request, &request_line)?;
        let plan = Plan {
            addr,
            target: target_text.to_string(),
            head_request: request_line.starts_with("HEAD "),
            request,
            request_line,
            requests,
            gap: gap.unwrap_or(Duration::ZERO),
            timeout,
            linger,
            raw: flags.raw.is_some(),
            record: flags.record.is_some(),
            pipeline,
            // One probe is judged whole (up to 4 MiB). Many at once are
            // judged only for --strict (their summary shows no warnings),
            // each on its first 64 KiB, so that memory stays bounded.
            check_bytes: match (count, flags.strict) {
                (1, _) => 4 << 20,
                (_, true) => 64 << 10,
                (_, false) => 0,
            },
            tls,
        };
        let load = Load {
            count,
            concurrency: concurrency.min(count),
            interval: interval.unwrap_or(Duration::ZERO),
        };
        Ok(Probe {
            plan,
            load,
            expect: expect(flags)?,
            resolved: (!target.is_address() || target.bare_port).then_some(addr),
        })
    }
}

/// Refuse flags that contradict each other or would do nothing.
fn check_combinations(flags: &ProbeArgs, count: usize) -> Result<(), Failure> {
    let bodies = [
        flags.body.is_some(),
        flags.body_file.is_some(),
        flags.body_bytes.is_some(),
    ];
    if bodies.iter().filter(|b| **b).count() > 1 {
        return Err(Failure::usage("give one of --body, --body-file and --body-bytes"));
    }
    if flags.raw.is_some() && (bodies.contains(&true) || flags.method.is_some() || !flags.header.is_empty()) {
        return Err(Failure::usage(
            "--raw sends the file as it is: no --method, --header or body flags with it",
        ));
    }
    if flags.gap.is_some() && flags.requests.is_none() {
        return Err(Failure::usage(
            "--gap is the pause between requests on one connection: give --requests N with it",
        ));
    }
    for (flag, given) in [
        ("--concurrency", flags.concurrency.is_some()),
        ("--interval", flags.interval.is_some()),
    ] {
        if given && flags.count.is_none() {
            return Err(Failure::usage(format!(
                "{flag} paces several probes: give --count N with it"
            )));
        }
    }
    if flags.record.is_some() && count > 1 {
        return Err(Failure::usage(
            "--record writes what one connection saw: not with --count",
        ));
    }
    if flags.pipeline.is_some() && (flags.requests.is_some() || flags.raw.is_some()) {
        return Err(Failure::usage(
            "--pipeline writes copies of one request at once: not with --requests, nor --raw (a --raw file of several requests is pipelined as it is)",
        ));
    }
    if flags.record_timing && flags.record.is_none() {
        return Err(Failure::usage("--record-timing goes with --record FILE"));
    }
    if flags.diagram && (flags.json || count > 1) {
        return Err(Failure::usage(
            "--diagram shows one probe, as text: not with --json or --count",
        ));
    }
    Ok(())
}

/// The TLS an `https://` target is spoken to with; the TLS flags are a
/// usage error with any other target.
fn tls(flags: &ProbeArgs, args: &Args, target: &Target) -> Result<Option<TlsPlan>, Failure> {
    if target.scheme != Scheme::Https {
        let given = [
            ("--cacert", flags.cacert.is_some()),
            ("-k", flags.insecure),
            ("--expect-verdict", flags.expect_verdict.is_some()),
            ("--expect-tls-end", flags.expect_tls_end.is_some()),
        ];
        return match given.iter().find(|(_, given)| *given) {
            Some((flag, _)) => Err(Failure::usage(format!(
                "{flag} is for an https:// target; {} is plain HTTP",
                target.host_header()
            ))),
            None => Ok(None),
        };
    }
    let options = TrustOptions {
        cacert: flags.cacert.as_deref().map(|path| args.os(path).into()),
        insecure: flags.insecure,
        // As OpenSSL and curl read it; empty is unset.
        ssl_cert_file: std::env::var_os("SSL_CERT_FILE")
            .filter(|path| !path.is_empty())
            .map(Into::into),
    };
    let client = TlsClient::new(&options).map_err(Failure::usage)?;
    Ok(Some(TlsPlan {
        client,
        host: target.host.clone(),
    }))
}

fn expect(flags: &ProbeArgs) -> Result<Expect, Failure> {
    let (outcome, phase) = match &flags.expect {
        None => (None, None),
        Some(text) => {
            // `reset`, or with its phase: `reset (mid-body)`.
            let (name, phase) = match text.trim().strip_suffix(')').and_then(|t| t.split_once(" (")) {
                Some((name, phase)) => (name, Some(phase)),
                None => (text.trim(), None),
            };
            let outcome = Outcome::from_name(name).ok_or_else(|| {
                Failure::usage(format!(
                    "--expect {text}: expected complete, truncated, reset, empty, timeout, refused or error, \
                     optionally with a phase: \"reset (mid-body)\""
                ))
            })?;
            let phase = match phase {
                None => None,
                Some(phase) => Some(Phase::from_name(phase).ok_or_else(|| {
                    let names: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
                    Failure::usage(format!("--expect {text}: the phase is one of {}", names.join(", ")))
                })?),
            };
            (Some(outcome), phase)
        }
    };
    let verdict = flags
        .expect_verdict
        .as_deref()
        .map(|text| {
            Verdict::NAMES.into_iter().find(|name| *name == text).ok_or_else(|| {
                Failure::usage(format!(
                    "--expect-verdict {text}: expected one of {}",
                    Verdict::NAMES.join(", ")
                ))
            })
        })
        .transpose()?;
    let tls_end = flags.expect_tls_end.as_deref().map(tls_end).transpose()?;
    Ok(Expect {
        outcome,
        phase,
        status: flags.expect_status,
        body_bytes: flags.expect_body_bytes,
        verdict,
        tls_end,
    })
}

/// `--expect-tls-end`: an end's name, and for `alert` maybe the alert's.
fn tls_end(text: &str) -> Result<TlsEndWanted, Failure> {
    let usage = || {
        Failure::usage(format!(
            "--expect-tls-end {text}: expected one of {} (`alert NAME` for one alert)",
            TlsEnd::NAMES.join(", ")
        ))
    };
    let mut words = text.split_whitespace();
    let name = words.next().ok_or_else(usage)?;
    let end = TlsEnd::NAMES.into_iter().find(|n| *n == name).ok_or_else(usage)?;
    let alert = match (end, words.next()) {
        (_, None) => None,
        ("alert", Some(alert)) => Some(
            crate::tls::Alert::named(alert)
                .map_err(|e| Failure::usage(format!("--expect-tls-end {text}: {e}")))?
                .description,
        ),
        _ => return Err(usage()),
    };
    if words.next().is_some() {
        return Err(usage());
    }
    Ok(TlsEndWanted { end, alert })
}

/// The most requests `--pipeline` writes at once.
pub const MAX_PIPELINE: u64 = 1000;

/// The requests written at once: `--pipeline N` copies of the request
/// (`request` becomes all of them), or the several a `--raw` file holds.
fn pipeline(
    flags: &ProbeArgs,
    args: &Args,
    request: &mut crate::scenario::ast::Payload,
    line: &str,
) -> Result<Vec<request::Pipelined>, Failure> {
    if flags.raw.is_some() {
        let requests = request::split_requests(&request.to_vec());
        return Ok(if requests.len() > 1 { requests } else { Vec::new() });
    }
    let Some(text) = &flags.pipeline else {
        return Ok(Vec::new());
    };
    let text = args.utf8("--pipeline", text)?;
    let n = units::parse_size(text).map_err(|m| Failure::usage(format!("--pipeline {text}: {m}")))?;
    if !(1..=MAX_PIPELINE).contains(&n) {
        return Err(Failure::usage(format!(
            "--pipeline {text}: expected 1 to {MAX_PIPELINE}"
        )));
    }
    let one = request.clone();
    let copy = request::Pipelined {
        line: line.to_string(),
        head: line.starts_with("HEAD "),
        bytes: one.len(),
    };
    for _ in 1..n {
        request.pieces.extend(one.pieces.iter().cloned());
    }
    Ok(vec![copy; n as usize])
}

/// The bytes to send and their first line.
fn build(flags: &ProbeArgs, args: &Args, target: &Target) -> Result<(crate::scenario::ast::Payload, String), Failure> {
    if let Some(path) = &flags.raw {
        return Ok(request::raw_request(read_capped("--raw", &args.os(path))?));
    }
    let body = if let Some(text) = &flags.body {
        Body::Bytes(args.bytes(text))
    } else if let Some(path) = &flags.body_file {
        Body::Bytes(read_capped("--body-file", &args.os(path))?)
    } else if let Some(size) = &flags.body_bytes {
        let size = args.utf8("--body-bytes", size)?;
        Body::Generated(units::parse_size(size).map_err(|m| Failure::usage(format!("--body-bytes {size}: {m}")))?)
    } else {
        Body::None
    };
    let method = flags.method.as_deref().map(|m| args.utf8("--method", m)).transpose()?;
    let headers: Vec<Vec<u8>> = flags.header.iter().map(|h| args.bytes(h)).collect();
    Ok(request::build_request(target, method, &headers, &body))
}

/// A file's bytes, refused when over [`MAX_FILE_BYTES`]: reads one byte
/// past the cap at most, so `/dev/zero` is an error, not a 2 GB read.
fn read_capped(flag: &str, path: &std::ffi::OsStr) -> Result<Vec<u8>, Failure> {
    let shown = path.to_string_lossy();
    let failed = |e: std::io::Error| Failure::usage(format!("{flag}: cannot read {shown}: {e}"));
    let file = std::fs::File::open(path).map_err(failed)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(failed)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Failure::usage(format!(
            "{flag} {shown}: over the limit of 16 MiB for a file sent whole; --body-bytes sends any size"
        )));
    }
    Ok(bytes)
}
