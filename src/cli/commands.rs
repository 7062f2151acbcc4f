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
use crate::server::turn::{UpstreamAddr, UpstreamTls};
use crate::server::{Options, Serving};
use crate::tls::{TlsClient, TlsSetup, TrustOptions};

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
        (Some(text), true) => Some(parse_upstream(args.utf8("--upstream", text)?, serve, args)?),
        (None, _) if serve.upstream_cacert.is_some() || serve.upstream_insecure => {
            let flag = if serve.upstream_insecure {
                "--upstream-insecure"
            } else {
                "--upstream-cacert"
            };
            return Err(Failure::usage(format!(
                "{flag} goes with an HTTPS upstream: --upstream https://HOST:PORT"
            )));
        }
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
    } else if serve.upstream.is_some()
        || serve.record.is_some()
        || serve.upstream_cacert.is_some()
        || serve.upstream_insecure
    {
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

/// `HOST:PORT` or `[IPv6]:PORT`, or the same after `http://` (plain) or
/// `https://` (TLS, with the trust `--upstream-cacert` and
/// `--upstream-insecure` say), where the port may be left out (80, 443).
/// A host name is resolved once, here; port 0 is nobody's: a connect to
/// it is refused. A CA file that cannot be used is refused here too,
/// before anything listens.
fn parse_upstream(text: &str, serve: &Serve, args: &Args) -> Result<UpstreamAddr, Failure> {
    let (tls, addr, host) = match split_scheme(text) {
        None => (false, resolve_upstream(text)?, None),
        Some((tls, rest)) => {
            let default_port = if tls { 443 } else { 80 };
            let (host, port) = host_and_port(text, rest, default_port)?;
            (tls, resolve_host(text, host, port)?, Some(host))
        }
    };
    if addr.port() == 0 {
        return Err(Failure::usage(format!(
            "--upstream {text}: port 0 names no server; give the port the upstream listens on"
        )));
    }
    let tls = match host.filter(|_| tls) {
        Some(host) => Some(upstream_tls(host, serve, args)?),
        None => {
            let given = [
                ("--upstream-cacert", serve.upstream_cacert.is_some()),
                ("--upstream-insecure", serve.upstream_insecure),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
                return Err(Failure::usage(format!(
                    "{flag} is for an HTTPS upstream; --upstream {text} is plain HTTP (https://HOST:PORT speaks TLS to it)"
                )));
            }
            None
        }
    };
    Ok(UpstreamAddr { addr, tls })
}

/// `https://REST` or `http://REST`: whether TLS, and the rest; `None`
/// without a scheme.
fn split_scheme(text: &str) -> Option<(bool, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Some((true, rest)),
        "http" => Some((false, rest)),
        // Said where the host is parsed: `ftp` is no host.
        _ => None,
    }
}

/// The host and port of `HOST[:PORT]` or `[IPv6][:PORT]` after a scheme
/// (one trailing `/` is taken: a URL as copied from a browser).
fn host_and_port<'t>(text: &str, rest: &'t str, default_port: u16) -> Result<(&'t str, u16), Failure> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err(Failure::usage(format!(
            "--upstream {text}: give the server alone (https://HOST:PORT): the proxy forwards each request with its own path"
        )));
    }
    let bad = || {
        Failure::usage(format!(
            "--upstream {text}: expected https://HOST:PORT like https://localhost:8443 or https://[::1]:8443"
        ))
    };
    let (host, port) = match rest.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        }
        None => match rest.rsplit_once(':') {
            // An IPv6 address goes in brackets, as in a URL.
            Some((host, _)) if host.contains(':') => return Err(bad()),
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        None => default_port,
        Some(port) => port.parse().map_err(|_| bad())?,
    };
    Ok((host, port))
}

/// `host` resolved (an address is itself), IPv4 first.
fn resolve_host(text: &str, host: &str, port: u16) -> Result<SocketAddr, Failure> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let resolved = (host, port)
        .to_socket_addrs()
        .map_err(|e| Failure::usage(format!("--upstream {text}: cannot resolve {host} ({e})")))?;
    first_address(text, resolved)
}

/// The TLS to speak to the upstream at `host`, as the flags say.
fn upstream_tls(host: &str, serve: &Serve, args: &Args) -> Result<UpstreamTls, Failure> {
    let options = TrustOptions {
        cacert: serve.upstream_cacert.as_deref().map(|path| args.os(path).into()),
        insecure: serve.upstream_insecure,
        // As OpenSSL and curl read it; empty is unset.
        ssl_cert_file: std::env::var_os("SSL_CERT_FILE")
            .filter(|path| !path.is_empty())
            .map(Into::into),
    };
    let client = TlsClient::for_upstream(&options).map_err(Failure::usage)?;
    // A host no TLS client can name (SNI) would fail every connection:
    // said once, here.
    client
        .layer(host, std::time::Instant::now())
        .map_err(|e| Failure::usage(format!("--upstream https://{host}: {e}")))?;
    Ok(UpstreamTls {
        client,
        host: host.to_string(),
    })
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
    first_address(text, resolved)
}

fn first_address(text: &str, resolved: impl Iterator<Item = SocketAddr>) -> Result<SocketAddr, Failure> {
    let mut addrs: Vec<SocketAddr> = resolved.collect();
    // Prefer IPv4, as most servers on loopback listen there.
    crate::sort::sort_by_key(&mut addrs, |a| a.is_ipv6());
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
