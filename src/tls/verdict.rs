//! What a client made of the certificate a server presented: the
//! certificate itself ([`super::x509`]) and the verdict of rustls's
//! verifier (webpki) against the CAs the client trusts.
//!
//! Kept apart from the verifier (which needs rustls, so the `tls`
//! feature) so that the probe's report speaks of verdicts in every build.

use super::x509::{BadCertificate, Certificate};

/// Why a certificate does or does not verify, by webpki's first reason
/// (it checks the chain and its dates before the name, so an expired
/// certificate for another host is `Expired`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It verifies: a chain to a trusted CA, in date, for the name.
    Ok,
    /// Its `notAfter` has passed.
    Expired,
    /// Its `notBefore` is still to come.
    NotYetValid,
    /// None of its names is the host's.
    WrongName,
    /// It was not issued by a CA the client trusts.
    UnknownIssuer,
    /// Issued to itself, by no CA the client trusts.
    SelfSigned,
    /// A signature in its chain does not verify.
    BadSignature,
    /// Another reason, in rustls's words.
    Invalid(String),
    /// Not checked: there was no CA to check it against (`-k`).
    Unchecked,
}

impl Verdict {
    /// Every verdict's name, for usage errors.
    pub const NAMES: [&'static str; 9] = [
        "ok",
        "expired",
        "not-yet-valid",
        "wrong-name",
        "unknown-issuer",
        "self-signed",
        "bad-signature",
        "invalid",
        "unchecked",
    ];

    /// Its name, as `--json` and `--expect-verdict` say it.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not-yet-valid",
            Verdict::WrongName => "wrong-name",
            Verdict::UnknownIssuer => "unknown-issuer",
            Verdict::SelfSigned => "self-signed",
            Verdict::BadSignature => "bad-signature",
            Verdict::Invalid(_) => "invalid",
            Verdict::Unchecked => "unchecked",
        }
    }
}

/// What a server presented, and the client's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The leaf certificate, as read (or why it could not be).
    pub leaf: Result<Certificate, BadCertificate>,
    /// Certificates in the chain, the leaf included.
    pub chain: usize,
    /// The verdict against the CAs the client trusts.
    pub verdict: Verdict,
}
