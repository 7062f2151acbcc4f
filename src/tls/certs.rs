//! The certificates `serve` presents: made at start by a CA of its own, or
//! the user's (`--tls-cert`, `--tls-key`).
//!
//! Clients are told to trust the CA (`--tls-ca-out FILE`, then curl's
//! `--cacert`, Node's `NODE_EXTRA_CA_CERTS`, Python's `cafile=`), so that
//! only the fault a scenario means fails: a leaf for `localhost`,
//! `127.0.0.1` and `::1` (and each `--tls-name`) that verifies, and leaves
//! with one defect each, the way badssl.com serves them, offline and never
//! expiring: expired, not yet valid, for another host, self-signed, or
//! signed by a CA nobody was told of. Keys are ECDSA P-256: made in
//! microseconds, so a server starts with its certificates in a few
//! milliseconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::options::Defect;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate chain and its key, as rustls takes them.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// The host name the `wrong-host` leaf is for: a name under `.invalid`
/// (RFC 6761), which no client can have asked for.
pub const WRONG_HOST: &str = "wrong-host.hangup.invalid";

/// What `serve` presents: a good leaf, and the CA that signed it.
pub struct Certificates {
    /// The CA, as PEM, for `--tls-ca-out`; `None` for the user's own
    /// certificate, which comes with no CA of ours.
    pub ca_pem: Option<String>,
    /// The leaf that verifies against the CA.
    pub good: Identity,
    /// Made on demand (see [`Certificates::with_defect`]).
    names: Vec<String>,
    ca: Option<(CertificateParams, KeyPair)>,
}

impl Certificates {
    /// A CA of our own and a leaf it signed for `localhost`, `127.0.0.1`,
    /// `::1` and `extra` names.
    pub fn generate(extra: &[String]) -> Result<Certificates, String> {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
        names.extend(extra.iter().cloned());
        let (ca_params, ca_key) = ca("hangup test CA")?;
        let ca_pem = ca_params.self_signed(&ca_key).map_err(failed)?.pem();
        let good = leaf(&names, Validity::Current, Signer::Ca(&ca_params, &ca_key))?;
        Ok(Certificates {
            ca_pem: Some(ca_pem),
            good,
            names,
            ca: Some((ca_params, ca_key)),
        })
    }

    /// The user's own certificate chain and key, from PEM files. An error
    /// names the flag and the file, and says what was wrong in words.
    pub fn from_files(cert: &std::path::Path, key: &std::path::Path) -> Result<Certificates, String> {
        let bad_cert = |why: String| format!("--tls-cert {}: {why}", cert.display());
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| bad_cert(pem_error(e, CERTIFICATE)))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad_cert(pem_error(e, CERTIFICATE)))?;
        if chain.is_empty() {
            return Err(bad_cert(pem_error(
                rustls::pki_types::pem::Error::NoItemsFound,
                CERTIFICATE,
            )));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("--tls-key {}: {}", key.display(), pem_error(e, PRIVATE_KEY)))?;
        Ok(Certificates {
            ca_pem: None,
            good: Identity { chain, key },
            names: Vec::new(),
            ca: None,
        })
    }

    /// A leaf with `defect`, made now. With the user's own certificate
    /// there is no CA to sign one: each defect is then made with a CA of
    /// its own, which clients do not trust either.
    pub fn with_defect(&self, defect: Defect) -> Result<Identity, String> {
        let own;
        let (ca_params, ca_key) = match &self.ca {
            Some((params, key)) => (params, key),
            None => {
                own = ca("hangup test CA (unknown)")?;
                (&own.0, &own.1)
            }
        };
        let names = if self.names.is_empty() {
            vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()]
        } else {
            self.names.clone()
        };
        match defect {
            Defect::Expired => leaf(&names, Validity::Past, Signer::Ca(ca_params, ca_key)),
            Defect::NotYetValid => leaf(&names, Validity::Future, Signer::Ca(ca_params, ca_key)),
            Defect::WrongHost => leaf(
                &[WRONG_HOST.to_string()],
                Validity::Current,
                Signer::Ca(ca_params, ca_key),
            ),
            Defect::SelfSigned => leaf(&names, Validity::Current, Signer::Itself),
            Defect::UnknownCa => {
                let (other, other_key) = ca("hangup unknown CA")?;
                leaf(&names, Validity::Current, Signer::Ca(&other, &other_key))
            }
        }
    }
}

/// What a certificate file holds, as the error for one that does not says.
const CERTIFICATE: (&str, &str) = ("certificate", "PEM, `-----BEGIN CERTIFICATE-----`");
/// What a key file holds.
const PRIVATE_KEY: (&str, &str) = (
    "private key",
    "PEM, `-----BEGIN PRIVATE KEY-----`, `-----BEGIN EC PRIVATE KEY-----` or `-----BEGIN RSA PRIVATE KEY-----`",
);

/// A PEM file that cannot be used, in words: rustls's own messages show
/// the markers as lists of byte values.
fn pem_error(error: rustls::pki_types::pem::Error, (what, form): (&str, &str)) -> String {
    use rustls::pki_types::pem::Error;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_string();
    match error {
        Error::Io(e) => format!("cannot read it: {e}"),
        Error::NoItemsFound => format!("no {what} in it ({form})"),
        Error::MissingSectionEnd { end_marker } => {
            format!(
                "cut short: no `-----END {}-----` line ends its section",
                text(&end_marker)
            )
        }
        Error::IllegalSectionStart { line } => format!("a malformed section start: `{}`", text(&line)),
        Error::Base64Decode(e) => format!("a section that is not base64: {e}"),
        other => format!("no {what} ({form}): {other}"),
    }
}

/// When a leaf is valid.
enum Validity {
    /// From before now to far ahead.
    Current,
    /// It ended a day ago.
    Past,
    /// It starts in thirty days.
    Future,
}

/// Who signs a leaf.
enum Signer<'a> {
    Ca(&'a CertificateParams, &'a KeyPair),
    Itself,
}

const DAY: Duration = Duration::from_secs(24 * 3600);

fn failed(e: rcgen::Error) -> String {
    format!("cannot make a certificate: {e}")
}

/// A CA's parameters and key (its certificate is made from them).
fn ca(name: &str) -> Result<(CertificateParams, KeyPair), String> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().map_err(failed)?;
    Ok((params, key))
}

fn leaf(names: &[String], validity: Validity, signer: Signer) -> Result<Identity, String> {
    let mut params = CertificateParams::new(names.to_vec()).map_err(failed)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, names.first().map_or("localhost", String::as_str));
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // The calendar rcgen writes dates in, from the system clock.
    let now = rcgen::date_time_ymd(1970, 1, 1) + since_epoch();
    match validity {
        Validity::Current => params.not_before = now - DAY,
        Validity::Past => {
            params.not_before = now - 30 * DAY;
            params.not_after = now - DAY;
        }
        Validity::Future => {
            params.not_before = now + 30 * DAY;
            params.not_after = now + 60 * DAY;
        }
    }
    let key = KeyPair::generate().map_err(failed)?;
    let cert = match signer {
        Signer::Ca(ca_params, ca_key) => params.signed_by(&key, &Issuer::from_params(ca_params, ca_key)),
        Signer::Itself => params.self_signed(&key),
    }
    .map_err(failed)?;
    let key = PrivateKeyDer::try_from(key.serialize_der()).map_err(|e| format!("cannot use the key made: {e}"))?;
    Ok(Identity {
        chain: vec![cert.der().clone()],
        key,
    })
}

/// The time since 1970, in whole seconds (a certificate's dates have no
/// fractions).
fn since_epoch() -> Duration {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Duration::from_secs(since.as_secs())
}
