//! The flags of `hangup` and of each subcommand, as argh parses them.
//! `probe`'s flags are in [`super::probe_flags`], next to their checks.

use argh::FromArgs;

use super::probe_flags::ProbeArgs;

#[derive(FromArgs)]
/// An HTTP server that fails on purpose, exactly and repeatably.
#[argh(
    note = "-h is --help and -V is --version. A SCENARIO with a `/` or ending in `.hup` is a file; any other name is\na built-in (see `hangup list`), or a file of that name when no built-in has it. When a built-in and a file in\nthe current directory share a name, the built-in runs and a note says how to run the file (`./NAME`).\nExit codes: 0 success; 1 a check or an --expect failed; 2 usage error; 3 the system refused (listen, output)."
)]
pub struct Cli {
    /// print the version and exit
    #[argh(switch, short = 'V')]
    pub version: bool,
    #[argh(subcommand)]
    pub command: Option<Command>,
}

#[derive(FromArgs)]
#[argh(subcommand)]
// Parsed once at startup: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    Serve(Serve),
    List(List),
    Show(Show),
    Check(Check),
    Probe(ProbeArgs),
}

#[derive(FromArgs)]
/// Listen and run a scenario for every connection.
#[argh(
    subcommand,
    name = "serve",
    example = "hangup serve mid-body-reset",
    example = "hangup serve server-timeout --set after=2s --listen 127.0.0.1:0",
    example = "hangup serve --catalog   (then GET /server-timeout?after=2s, or / for the list)",
    note = "Prints `listening on ADDR` on stdout once ready; events go to stderr.\nSIGINT or SIGTERM stops it: exit 0, after a one-line summary of how connections ended.\nA SCENARIO with a `/` or ending in `.hup` is a file; a built-in name wins over a file of that name\n(write ./NAME for the file)."
)]
pub struct Serve {
    /// a built-in scenario name (see `hangup list`) or a scenario file (at most 1 MiB)
    #[argh(positional)]
    pub scenario: Option<String>,
    /// serve every built-in at /NAME instead of one scenario: each request's path chooses it, the query sets its parameters (/server-timeout?after=2s), and / lists them
    #[argh(switch)]
    pub catalog: bool,
    /// address to listen on (default 127.0.0.1:9000; port 0 picks a free one)
    #[argh(option, default = "String::from(\"127.0.0.1:9000\")")]
    pub listen: String,
    /// override a parameter, NAME=VALUE as one argument (repeatable)
    #[argh(option)]
    pub set: Vec<String>,
    /// event log format: text or json (default text)
    #[argh(option, default = "String::from(\"text\")")]
    pub log: String,
    /// log nothing
    #[argh(switch, short = 'q')]
    pub quiet: bool,
    /// the real server a proxy scenario forwards to: HOST:PORT or [IPv6]:PORT, or https://HOST:PORT to speak TLS to it (SNI and the certificate's name are HOST; http://HOST:PORT is plain); a name is resolved once, at start
    // The doc comment is `--help`'s text: `[IPv6]` stays as users read it.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[argh(option)]
    pub upstream: Option<String>,
    /// with an https:// --upstream: verify its certificate against this CA (PEM, as --tls-ca-out writes it) instead of SSL_CERT_FILE or the system's CAs
    #[argh(option)]
    pub upstream_cacert: Option<String>,
    /// with an https:// --upstream: go on whatever its certificate is (the handshake is still real)
    #[argh(switch)]
    pub upstream_insecure: bool,
    /// what the scenario's chance draws from: the same seed makes the same choices for the same connection and request numbers (default: a new one, named in the log's first line)
    #[argh(option)]
    pub seed: Option<u64>,
    /// with --upstream: write every client connection into this directory as a scenario that replays it
    #[argh(option)]
    pub record: Option<String>,
    /// run every connection over TLS (HTTPS): a CA and a certificate for localhost, 127.0.0.1 and ::1 are made at start (see --tls-ca-out); close sends close_notify, then FIN
    #[argh(switch)]
    pub tls: bool,
    /// with --tls: another name the certificate is for (repeatable)
    #[argh(option)]
    pub tls_name: Vec<String>,
    /// with --tls: write the CA that signed the certificate to this file (PEM), for clients to trust: curl --cacert FILE, NODE_EXTRA_CA_CERTS=FILE, Python's cafile=FILE
    #[argh(option)]
    pub tls_ca_out: Option<String>,
    /// with --tls: present this certificate chain (PEM) instead of one of hangup's (with --tls-key)
    #[argh(option)]
    pub tls_cert: Option<String>,
    /// with --tls: the private key (PEM) of --tls-cert
    #[argh(option)]
    pub tls_key: Option<String>,
}

#[derive(FromArgs)]
/// List the built-in scenarios.
#[argh(subcommand, name = "list")]
pub struct List {}

#[derive(FromArgs)]
/// Print the source of a built-in scenario, to copy and edit.
#[argh(subcommand, name = "show", example = "hangup show keepalive-reset > mine.hup")]
pub struct Show {
    /// built-in scenario name
    #[argh(positional)]
    pub name: String,
}

#[derive(FromArgs)]
/// Parse and validate scenario files (or built-in names).
#[argh(
    subcommand,
    name = "check",
    note = "Exit 0 when all are valid, 1 when any is not. A FIFO, a socket or a directory is not a scenario file."
)]
pub struct Check {
    /// scenario files to check (each at most 1 MiB)
    #[argh(positional, greedy)]
    pub files: Vec<String>,
}
