//! `serve`, `list`, `show` and `check`: flags to a call into the library.
//! (`probe` has its own modules, [`super::probe`] and [`super::probe_flags`].)

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::{SocketAddr, ToSocketAddrs};

use super::flags::{Check, Serve, Show};
use super::{Args, Failure, output};
use crate::log::{Format, Log};
use crate::scenario::{self, catalog};
use crate::server::reload::Origin;
use crate::server::{Options, Serving};
use crate::tls::TlsSetup;

pub(super) fn serve(serve: Serve, args: &Args) -> Result<(), Failure> {
    let format = match args.utf8("--log", &serve.log)? {
        "text" => Format::Text,
        "json" => Format::Json,
        other => return Err(Failure::usage(format!("--log {other}: expected `text` or `json`"))),
    };
    let addr = parse_listen(args.utf8("--listen", &serve.listen)?)?;
    let seed = serve.seed.unwrap_or_else(crate::chance::fresh_seed);
    // Held here: a `Serving::Scenario` borrows it for as long as it serves.
    let loaded;
    let mut names = Vec::new();
    let (serving, mut options) = if serve.catalog {
        let catalog = catalog_only(&serve)?;
        names = catalog.tls_names();
        (Serving::Catalog(catalog), Options::new(seed))
    } else {
        let (scenario, options) = one_scenario(&serve, args, seed)?;
        loaded = scenario;
        (Serving::Scenario(&loaded), options)
    };
    let scenario = match &serving {
        Serving::Scenario(scenario) => Some(*scenario),
        Serving::Catalog(_) => None,
    };
    options.tls = tls_setup(&serve, args, scenario)?;
    if let Some(tls) = options.tls.as_mut() {
        // Under --catalog, a TLS built-in is asked for by name.
        tls.names.extend(names);
    }
    let mut log = Log::new(format, serve.quiet);
    crate::sock::raise_fd_limit();
    crate::server::serve(addr, serving, options, &mut log).map_err(|e| match e.is_usage() {
        true => Failure::usage(e.to_string()),
        false => Failure::system(e.to_string()),
    })
}

/// The scenario SCENARIO names, with its `--set`s, and its `--upstream`
/// and `--record`, each checked against what the scenario does.
fn one_scenario(serve: &Serve, args: &Args, seed: u64) -> Result<(scenario::Scenario, Options), Failure> {
    let Some(scenario_arg) = &serve.scenario else {
        return Err(Failure::usage(
            "serve needs a SCENARIO (a built-in name, see `hangup list`, or a file), or --catalog for every built-in",
        ));
    };
    let overrides = parse_sets(&serve.set, args)?;
    let path = args.os(scenario_arg);
    note_shadowed(&path);
    let scenario = scenario::load(&path, &overrides).map_err(|e| Failure::usage(e.to_string()))?;
    let upstream = match (&serve.upstream, scenario.proxies) {
        (Some(text), true) => Some(parse_upstream(args.utf8("--upstream", text)?)?),
        (None, false) => None,
        (None, true) => {
            return Err(Failure::usage(format!(
                "`{}` forwards to a real server: give it with --upstream HOST:PORT",
                path.to_string_lossy()
            )));
        }
        (Some(_), false) => {
            return Err(Failure::usage(format!(
                "--upstream is for scenarios that forward and relay (proxy, tcp-proxy, ...); `{}` does neither",
                path.to_string_lossy()
            )));
        }
    };
    let record = match &serve.record {
        None => None,
        Some(_) if upstream.is_none() => {
            return Err(Failure::usage(
                "--record writes proxied connections: it goes with --upstream and a proxy scenario",
            ));
        }
        Some(dir) => Some(
            crate::record::Destination::new(&args.os(dir), crate::record::command_line(args.raw()))
                .map_err(Failure::usage)?,
        ),
    };
    // SIGHUP loads a file again; a built-in is part of the binary.
    let origin = if scenario::names_a_file(&path) {
        Origin::File {
            path: path.to_os_string(),
            overrides,
        }
    } else {
        Origin::Builtin(scenario.name.clone())
    };
    let options = Options {
        upstream,
        record,
        origin: Some(origin),
        ..Options::new(seed)
    };
    Ok((scenario, options))
}

/// The catalog, when no flag that is about one scenario came with
/// `--catalog`: each would be silently ignored otherwise.
fn catalog_only(serve: &Serve) -> Result<crate::server::catalog::Catalog, Failure> {
    let refused = if serve.scenario.is_some() {
        Some("a SCENARIO: the catalog serves every built-in, chosen by path")
    } else if !serve.set.is_empty() {
        Some("--set: give parameters in each request's query string, like /server-timeout?after=2s")
    } else if serve.upstream.is_some() || serve.record.is_some() {
        Some("--upstream or --record: the proxy built-ins are not served by path; serve them alone")
    } else {
        None
    };
    match refused {
        Some(why) => Err(Failure::usage(format!("--catalog does not take {why}"))),
        None => Ok(crate::server::catalog::Catalog::new()),
    }
}

/// `--tls` and the flags that go with it, checked against each other and
/// against the scenario served (`None`: the catalog). A scenario that
/// handshakes itself (`needs_tls`) gets TLS without `--tls`.
fn tls_setup(serve: &Serve, args: &Args, scenario: Option<&scenario::Scenario>) -> Result<Option<TlsSetup>, Failure> {
    let needs_tls = scenario.is_some_and(|s| s.needs_tls);
    if let Some(scenario) = scenario {
        if serve.tls && scenario.reads_tls_hello && !scenario.handshakes {
            return Err(Failure::usage(format!(
                "{} reads the client's ClientHello itself (`read tls-hello`): under --tls the handshake \
                 would take it first, and the script would find a request instead; serve it without --tls",
                scenario.name
            )));
        }
        if let (Some(defect), true) = (scenario.tls_certificate, serve.tls_cert.is_some()) {
            return Err(Failure::usage(format!(
                "{} presents a certificate with a defect of its own (`tls certificate {}`): \
                 --tls-cert cannot replace it",
                scenario.name,
                defect.name()
            )));
        }
    }
    let with_tls_only = [
        ("--tls-name", !serve.tls_name.is_empty()),
        ("--tls-ca-out", serve.tls_ca_out.is_some()),
        ("--tls-cert", serve.tls_cert.is_some()),
        ("--tls-key", serve.tls_key.is_some()),
    ];
    if !serve.tls && !needs_tls {
        return match with_tls_only.iter().find(|(_, given)| *given) {
            Some((flag, _)) => Err(Failure::usage(format!(
                "{flag} goes with --tls (or a scenario that says `tls handshake`)"
            ))),
            None => Ok(None),
        };
    }
    let own = match (&serve.tls_cert, &serve.tls_key) {
        (Some(cert), Some(key)) => Some((args.os(cert).into(), args.os(key).into())),
        (None, None) => None,
        (Some(_), None) => return Err(Failure::usage("--tls-cert needs its key: --tls-key FILE")),
        (None, Some(_)) => {
            return Err(Failure::usage(
                "--tls-key goes with the certificate it is for: --tls-cert FILE",
            ));
        }
    };
    if own.is_some() && !serve.tls_name.is_empty() {
        return Err(Failure::usage(
            "--tls-name names what hangup's own certificate is for; yours (--tls-cert) already says",
        ));
    }
    let names = serve
        .tls_name
        .iter()
        .map(|name| args.utf8("--tls-name", name).map(str::to_string))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(TlsSetup {
        names,
        ca_out: serve.tls_ca_out.as_ref().map(|path| args.os(path).into()),
        own,
    }))
}

/// `HOST:PORT` or `[IPv6]:PORT`; a host name is resolved once, here.
/// Port 0 is nobody's: a connect to it is refused.
fn parse_upstream(text: &str) -> Result<SocketAddr, Failure> {
    let addr = resolve_upstream(text)?;
    if addr.port() == 0 {
        return Err(Failure::usage(format!(
            "--upstream {text}: port 0 names no server; give the port the upstream listens on"
        )));
    }
    Ok(addr)
}

fn resolve_upstream(text: &str) -> Result<SocketAddr, Failure> {
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

pub(super) fn list() -> Result<(), Failure> {
    let width = catalog::BUILTINS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, source) in catalog::BUILTINS {
        let summary = scenario::summary_of(source);
        text.push_str(&format!("{name:width$}  {summary}\n"));
    }
    output::print(&text)
}

pub(super) fn show(show: Show, args: &Args) -> Result<(), Failure> {
    let name = args.os(&show.name);
    match name.to_str().and_then(catalog::source) {
        Some(source) => output::print(source),
        None => {
            let name = name.to_string_lossy();
            let guess = match catalog::nearest(&name) {
                Some(near) => format!("did you mean `{near}`? "),
                None => String::new(),
            };
            Err(Failure::usage(format!(
                "no built-in scenario named `{name}`; {guess}`hangup list` shows them all"
            )))
        }
    }
}

pub(super) fn check(check: Check, args: &Args) -> Result<(), Failure> {
    if check.files.is_empty() {
        return Err(Failure::usage("check needs at least one scenario file"));
    }
    let mut failed = false;
    let mut ok = String::new();
    for file in &check.files {
        let path = args.os(file);
        note_shadowed(&path);
        match scenario::load(&path, &BTreeMap::new()) {
            Ok(_) => {
                ok.push_str(&format!("{}: ok\n", path.to_string_lossy()));
                for warning in scenario::lint::check(&path) {
                    output::error_line(&warning);
                }
            }
            Err(e) => {
                failed = true;
                output::error_line(&e.to_string());
            }
        }
    }
    output::print(&ok)?;
    if failed { Err(Failure::failed("")) } else { Ok(()) }
}

/// Say so when a built-in's name is also a file here: the built-in runs.
fn note_shadowed(name: &OsStr) {
    if scenario::shadows_a_file(name) {
        let name = name.to_string_lossy();
        output::error_line(&format!(
            "hangup: note: `{name}` is the built-in scenario; for the file of that name, write ./{name}"
        ));
    }
}

/// `--set NAME=VALUE` flags to a map.
fn parse_sets(sets: &[String], args: &Args) -> Result<BTreeMap<String, String>, Failure> {
    let mut overrides = BTreeMap::new();
    for set in sets {
        let set = args.utf8("--set", set)?;
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
