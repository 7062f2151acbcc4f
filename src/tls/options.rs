//! What a scenario may ask of a TLS handshake: the versions and
//! application protocols offered, and a certificate with a defect. Plain
//! data, always built, so that the language is the same with or without
//! the `tls` feature (a build without it refuses to serve such a script).

/// Which TLS versions a handshake offers (`tls handshake version …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Versions {
    /// TLS 1.2 and 1.3; the client chooses (1.3, when it can).
    #[default]
    Both,
    /// Only TLS 1.2.
    Only12,
    /// Only TLS 1.3.
    Only13,
}

impl Versions {
    /// As the log and the reference say it.
    pub fn name(self) -> &'static str {
        match self {
            Versions::Both => "1.2,1.3",
            Versions::Only12 => "1.2",
            Versions::Only13 => "1.3",
        }
    }
}

/// What a leaf certificate has wrong with it (`tls certificate DEFECT`):
/// the certificates badssl.com serves, made at start, never expiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Defect {
    /// Its validity ended yesterday.
    Expired,
    /// Its validity starts in a month.
    NotYetValid,
    /// It names another host than the one asked for.
    WrongHost,
    /// Signed by itself, not by the CA clients were told to trust.
    SelfSigned,
    /// Signed by a CA clients were not told of.
    UnknownCa,
}

impl Defect {
    /// Every defect, in the order the reference lists them.
    pub const ALL: [Defect; 5] = [
        Defect::Expired,
        Defect::NotYetValid,
        Defect::WrongHost,
        Defect::SelfSigned,
        Defect::UnknownCa,
    ];

    /// The name a scenario and the log use.
    pub fn name(self) -> &'static str {
        match self {
            Defect::Expired => "expired",
            Defect::NotYetValid => "not-yet-valid",
            Defect::WrongHost => "wrong-host",
            Defect::SelfSigned => "self-signed",
            Defect::UnknownCa => "unknown-ca",
        }
    }

    /// The defect of that name.
    pub fn named(name: &str) -> Option<Defect> {
        Defect::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// What one handshake is to be like: its versions and protocols, and the
/// certificate it presents (the scenario's `tls certificate`, if any).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct HandshakeOptions {
    /// Application protocols, in order of preference; none: ALPN is not
    /// answered.
    pub alpn: Vec<Vec<u8>>,
    /// The versions offered.
    pub versions: Versions,
    /// A leaf with this defect instead of the good one.
    pub defect: Option<Defect>,
}

/// Where a handshake stops on purpose (`tls handshake … stall after
/// server-hello`): the server's first flight is cut after its first
/// record, and the rest is withheld for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stall {
    /// The ServerHello goes out; nothing after it does.
    AfterServerHello,
}
