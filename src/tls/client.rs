//! [`TlsClient`]: the probe's TLS, on rustls: what it trusts, and one
//! client [`Layer`] per connection whose verifier keeps what the server
//! presented and its verdict.
//!
//! The probe reports a certificate whether or not it verifies, so its
//! verifier ([`Witness`]) wraps rustls's own (`WebPkiServerVerifier`): it
//! asks it, keeps the leaf and the verdict for the report, and then passes
//! the verdict on (the handshake fails as any client's would) or, with
//! `-k`, goes on anyway. Handshake signatures are checked either way, so a
//! `-k` handshake is still a real one with the key the certificate names.
//!
//! What is trusted: `--cacert FILE`, else the system's CAs as OpenSSL and
//! curl find them (`SSL_CERT_FILE`, then the bundle where Debian, Fedora,
//! openSUSE and Alpine keep it), read with the PEM reader rustls already
//! has. rustls has no system store of its own; `rustls-native-certs` or
//! `webpki-roots` would do that with a crate more (and `webpki-roots`
//! would build 150 CAs into the binary), for a tool whose usual target is
//! a test server with a CA file of its own.
//!
//! Each connection is on its own: no session resumption (a resumed TLS
//! 1.3 handshake presents no certificate, and the second of `--count`
//! probes would report none), and a verifier of its own.
//!
//! ALPN offers `http/1.1`, or with `--http2` ([`TlsClient::offering_h2`])
//! `h2` then `http/1.1`, as curl and browsers do: a server that does not
//! speak HTTP/2 then says so by choosing `http/1.1`, where one offered
//! `h2` alone would end the handshake with an alert.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use super::verdict::{Presented, Verdict};
use super::{Layer, TrustOptions, x509};

/// Where Linux distributions keep their CA bundle, in the order OpenSSL's
/// probes look (Debian, Ubuntu, Alpine and Arch; Fedora and RHEL;
/// openSUSE; Alpine and the BSDs).
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// How the flags that say what to trust are spelled, for errors: the
/// probe's, or `serve`'s for an `https://` upstream.
struct TrustFlags {
    cacert: &'static str,
    insecure: &'static str,
}

const PROBE_FLAGS: TrustFlags = TrustFlags {
    cacert: "--cacert",
    insecure: "-k",
};

const UPSTREAM_FLAGS: TrustFlags = TrustFlags {
    cacert: "--upstream-cacert",
    insecure: "--upstream-insecure",
};

/// Whether a verdict other than `ok` ends the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnVerdict {
    /// As any client: the handshake fails.
    Refuse,
    /// `-k`: it goes on.
    GoOn,
}

/// The probe's TLS configuration, shared by all its connections.
#[derive(Debug, Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    /// rustls's verifier over the CAs trusted; `None` with `-k` and no CA.
    real: Option<Arc<WebPkiServerVerifier>>,
    on_verdict: OnVerdict,
    algorithms: WebPkiSupportedAlgorithms,
    /// What the certificate is verified against, in words.
    trust: String,
    /// The protocols offered by ALPN, in order.
    alpn: Vec<Vec<u8>>,
}

impl TlsClient {
    /// The configuration `options` ask for; an error a user can act on
    /// when there is nothing to trust or the CA file cannot be used.
    pub fn new(options: &TrustOptions) -> Result<TlsClient, String> {
        TlsClient::spelled(options, &PROBE_FLAGS, super::provider())
    }

    /// The proxy's TLS to an `https://` upstream (`serve --upstream`):
    /// trusted as the probe's is, with errors that name the proxy's flags,
    /// and ALPN that offers HTTP/1.1 only, the protocol the proxy relays.
    /// Its key share is X25519's: rustls 0.23's ring provider lists P-384
    /// first, whose arithmetic in ring is generic bignum code, and a proxy
    /// pays a handshake per client connection (measured with `serve
    /// hello --tls` as the upstream, 1,000 connections one at a time: 1.1
    /// ms of the proxy's CPU per connection with P-384, 0.5 ms with
    /// X25519, against 0.05 ms to a plain upstream).
    pub fn for_upstream(options: &TrustOptions) -> Result<TlsClient, String> {
        let provider = super::provider();
        let mut kx_groups = provider.kx_groups.clone();
        // A stable sort: X25519 first, the others as rustls orders them.
        crate::sort::sort_by_key(&mut kx_groups, |group| group.name() != rustls::NamedGroup::X25519);
        let provider = Arc::new(rustls::crypto::CryptoProvider {
            kx_groups,
            ..rustls::crypto::CryptoProvider::clone(&provider)
        });
        let mut client = TlsClient::spelled(options, &UPSTREAM_FLAGS, provider)?;
        let mut config = ClientConfig::clone(&client.config);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        client.config = Arc::new(config);
        Ok(client)
    }

    fn spelled(
        options: &TrustOptions,
        flags: &TrustFlags,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<TlsClient, String> {
        let on_verdict = if options.insecure {
            OnVerdict::GoOn
        } else {
            OnVerdict::Refuse
        };
        let (roots, trust) = match roots(options, flags)? {
            Some((roots, trust)) => (Some(roots), trust),
            None if options.insecure => (None, format!("no CA ({}, and no system CA file)", flags.insecure)),
            None => {
                return Err(format!(
                    "no CA to verify the server's certificate against: give {} FILE (the CA as PEM, \
                     as `serve --tls-ca-out` writes it), or {} to go on whatever the certificate; none of \
                     the system's bundles is here ({}) and SSL_CERT_FILE is not set",
                    flags.cacert,
                    flags.insecure,
                    SYSTEM_BUNDLES.join(", ")
                ));
            }
        };
        let real = roots
            .map(|roots| {
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .build()
                    .map_err(|e| format!("{trust}: {e}"))
            })
            .transpose()?;
        let algorithms = provider.signature_verification_algorithms;
        let versions: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];
        // The verifier is each connection's own (see `layer`); this one
        // only completes the builder.
        let placeholder = Arc::new(Witness {
            real: real.clone(),
            on_verdict,
            algorithms,
            seen: Arc::default(),
        });
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(placeholder)
            .with_no_client_auth();
        config.resumption = Resumption::disabled();
        Ok(TlsClient {
            config: Arc::new(config),
            real,
            on_verdict,
            algorithms,
            trust,
            alpn: vec![b"http/1.1".to_vec()],
        })
    }

    /// What the certificate is verified against: `ca.pem`, or the
    /// system's bundle and where it is.
    pub fn trust(&self) -> &str {
        &self.trust
    }

    /// The same client offering `h2` before `http/1.1` by ALPN.
    pub fn offering_h2(mut self) -> TlsClient {
        self.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        self
    }

    /// Whether the probe goes on whatever the verdict (`-k`).
    pub fn insecure(&self) -> bool {
        self.on_verdict == OnVerdict::GoOn
    }

    /// The client's side of a connection to `host` (a name, sent as SNI,
    /// or an address, which is not: as curl), whose handshake must be done
    /// by `deadline`.
    pub fn layer(&self, host: &str, deadline: Instant) -> Result<Layer, String> {
        let name = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.to_string())
                .map_err(|_| format!("{host}: not a name a TLS client can send (SNI)"))?,
        };
        let seen = Arc::new(OnceLock::new());
        let mut config = ClientConfig::clone(&self.config);
        config.alpn_protocols.clone_from(&self.alpn);
        config.dangerous().set_certificate_verifier(Arc::new(Witness {
            real: self.real.clone(),
            on_verdict: self.on_verdict,
            algorithms: self.algorithms,
            seen: Arc::clone(&seen),
        }));
        Layer::client(Arc::new(config), name, seen, deadline)
    }
}

/// The CAs `options` name, and how to say where they came from; `None`
/// when there is no file to read.
fn roots(options: &TrustOptions, flags: &TrustFlags) -> Result<Option<(RootCertStore, String)>, String> {
    if let Some(path) = &options.cacert {
        let shown = format!("{} {}", flags.cacert, path.display());
        return read_roots(path, &shown).map(|roots| Some((roots, path.display().to_string())));
    }
    if let Some(path) = &options.ssl_cert_file {
        let shown = format!("SSL_CERT_FILE {}", path.display());
        return read_roots(path, &shown).map(|roots| Some((roots, shown)));
    }
    for bundle in SYSTEM_BUNDLES {
        if Path::new(bundle).is_file() {
            let roots = read_roots(Path::new(bundle), bundle)?;
            return Ok(Some((roots, format!("the system's CAs ({bundle})"))));
        }
    }
    Ok(None)
}

/// The CA certificates of a PEM file; `shown` names it in errors.
fn read_roots(path: &Path, shown: &str) -> Result<RootCertStore, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{shown}: cannot read it: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{shown}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{shown}: no certificate in it (PEM, `BEGIN CERTIFICATE`)"));
    }
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("{shown}: none of its certificates can be a CA"));
    }
    Ok(roots)
}

/// A connection's verifier: asks rustls's, keeps what was presented and
/// the verdict, and passes the verdict on or (`-k`) goes on.
#[derive(Debug)]
struct Witness {
    real: Option<Arc<WebPkiServerVerifier>>,
    on_verdict: OnVerdict,
    algorithms: WebPkiSupportedAlgorithms,
    seen: Arc<OnceLock<Presented>>,
}

impl ServerCertVerifier for Witness {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let result = self
            .real
            .as_ref()
            .map(|real| real.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now));
        let leaf = x509::parse(end_entity.as_ref());
        let verdict = match &result {
            None => Verdict::Unchecked,
            Some(Ok(_)) => Verdict::Ok,
            Some(Err(e)) => verdict(e, leaf.as_ref().is_ok_and(|c| c.self_issued)),
        };
        let _ = self.seen.set(Presented {
            leaf,
            chain: 1 + intermediates.len(),
            verdict,
        });
        match (self.on_verdict, result) {
            (OnVerdict::GoOn, _) | (OnVerdict::Refuse, Some(Ok(_))) => Ok(ServerCertVerified::assertion()),
            (OnVerdict::Refuse, Some(Err(e))) => Err(e),
            // Refusing needs a verifier: `TlsClient::new` never makes this.
            (OnVerdict::Refuse, None) => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The verdict a verifier's error says; `self_issued` tells a self-signed
/// certificate among those of an unknown issuer.
fn verdict(error: &Error, self_issued: bool) -> Verdict {
    let Error::InvalidCertificate(why) = error else {
        return Verdict::Invalid(error.to_string());
    };
    match why {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => Verdict::Expired,
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => Verdict::NotYetValid,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => Verdict::WrongName,
        CertificateError::UnknownIssuer if self_issued => Verdict::SelfSigned,
        CertificateError::UnknownIssuer => Verdict::UnknownIssuer,
        CertificateError::BadSignature => Verdict::BadSignature,
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            Verdict::Invalid("not for a TLS server (its extended key usage)".into())
        }
        // webpki's own reasons, which rustls passes on by their names.
        CertificateError::Other(other) => Verdict::Invalid(match other.to_string().as_str() {
            "CaUsedAsEndEntity" => "a CA's certificate, presented as the server's (basicConstraints CA:TRUE)".into(),
            name => name.to_string(),
        }),
        _ => Verdict::Invalid(why.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifiers_reasons_are_named() {
        let cert = |why| Error::InvalidCertificate(why);
        assert_eq!(verdict(&cert(CertificateError::Expired), false), Verdict::Expired);
        assert_eq!(
            verdict(&cert(CertificateError::NotValidYet), false),
            Verdict::NotYetValid
        );
        assert_eq!(
            verdict(&cert(CertificateError::NotValidForName), false),
            Verdict::WrongName
        );
        assert_eq!(
            verdict(&cert(CertificateError::UnknownIssuer), false),
            Verdict::UnknownIssuer
        );
        assert_eq!(
            verdict(&cert(CertificateError::UnknownIssuer), true),
            Verdict::SelfSigned
        );
        assert_eq!(
            verdict(&cert(CertificateError::BadSignature), false),
            Verdict::BadSignature
        );
        assert!(matches!(
            verdict(&cert(CertificateError::Revoked), false),
            Verdict::Invalid(_)
        ));
        assert!(matches!(
            verdict(&Error::NoCertificatesPresented, false),
            Verdict::Invalid(_)
        ));
    }

    #[test]
    fn a_ca_file_that_cannot_be_used_is_said_so() {
        let dir = std::env::temp_dir().join(format!("hangup-client-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let options = |path: &Path| TrustOptions {
            cacert: Some(path.to_path_buf()),
            ..TrustOptions::default()
        };
        let err = TlsClient::new(&options(&junk)).unwrap_err();
        assert!(err.contains("junk.pem: no certificate in it"), "{err}");
        let err = TlsClient::new(&options(&dir.join("missing.pem"))).unwrap_err();
        assert!(err.contains("missing.pem: cannot read it"), "{err}");
        let from_env = TrustOptions {
            ssl_cert_file: Some(dir.join("missing.pem")),
            ..TrustOptions::default()
        };
        let err = TlsClient::new(&from_env).unwrap_err();
        assert!(err.starts_with("SSL_CERT_FILE "), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
