//! Where the NAS is and how to reach it safely: URL derivation (`https://nas` ->
//! `wss://nas/api/<version>`), the refusal of clear-text transport to remote hosts, and the
//! per-connection TLS configuration (verification is never switched off process-wide).

use std::net::IpAddr;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::NasError;

/// A validated NAS base address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    secure: bool,
    // host[:port] exactly as given, without scheme or path.
    authority: String,
    host: String,
}

impl Endpoint {
    /// Parses `TRUENAS_URL`: `https://host[:port]`, `http://host[:port]`, `wss://..`, `ws://..`, or a
    /// bare host (taken as https). A trailing `/` or path is ignored.
    ///
    /// Clear text (`http`/`ws`) is refused unless the host is loopback: TrueNAS 25.04+ revokes an
    /// API key the moment it is used over an insecure transport.
    pub fn parse(url: &str) -> Result<Endpoint, NasError> {
        let url = url.trim();
        // Error texts quote the URL: never with a password in it.
        let shown = crate::redact::scrub_text(url);
        let (secure, rest) = match url.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "https" | "wss" => (true, rest),
                "http" | "ws" => (false, rest),
                _ => return Err(NasError::InvalidUrl(format!("unsupported scheme in `{shown}`"))),
            },
            None => (true, url),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default().to_string();
        if authority.contains('@') {
            return Err(NasError::InvalidUrl(format!(
                "credentials in `{shown}` are not supported: give the API key in TRUENAS_API_KEY"
            )));
        }
        if authority.is_empty() {
            return Err(NasError::InvalidUrl(format!("no host in `{shown}`")));
        }
        let host = host_of(&authority);
        let endpoint = Endpoint { secure, authority, host };
        if !endpoint.secure && !endpoint.is_loopback() {
            return Err(NasError::InsecureRemote { host: endpoint.host });
        }
        Ok(endpoint)
    }

    /// Whether the transport is TLS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host name or address, without port or brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        if self.host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        self.host.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
    }

    /// The websocket URL of a JSON-RPC API version (`current` or `v25.10.5`).
    pub fn websocket_url(&self, api: &str) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{}/api/{api}", self.authority)
    }

    /// The URL of an HTTP path on the NAS, e.g. `/api/versions`.
    pub fn http_url(&self, path: &str) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.authority)
    }
}

fn host_of(authority: &str) -> String {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_string();
    }
    // A bare IPv6 address has several colons and no port.
    if authority.matches(':').count() > 1 {
        return authority.to_string();
    }
    authority.split(':').next().unwrap_or_default().to_string()
}

/// How the NAS's certificate is checked. Whatever the choice, it applies to this NAS's
/// connections only, never to the process.
#[derive(Debug, Clone, Default)]
pub enum TlsTrust {
    /// Against the public web roots.
    #[default]
    PublicRoots,
    /// Against the public web roots and these certificates (the NAS's own CA, or its
    /// self-signed certificate), with the host name checked as usual.
    AlsoTrust(Arc<[CertificateDer<'static>]>),
    /// Not checked: neither the chain nor the name (`TRUENAS_VERIFY_SSL=false`, for the
    /// self-signed certificate a fresh TrueNAS ships). Handshake signatures still are.
    Off,
}

impl TlsTrust {
    /// Trusts the certificates of a PEM text, in addition to the public roots.
    pub fn from_pem(pem: &[u8]) -> Result<TlsTrust, String> {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(pem).collect::<Result<_, _>>().map_err(|e| format!("bad PEM: {e}"))?;
        if certs.is_empty() {
            return Err("no certificate in it".into());
        }
        let mut store = rustls::RootCertStore::empty();
        for cert in &certs {
            store.add(cert.clone()).map_err(|e| format!("unusable certificate: {e}"))?;
        }
        Ok(TlsTrust::AlsoTrust(certs.into()))
    }
}

/// The rustls configuration for one NAS's connections.
pub(crate) fn tls_config(trust: &TlsTrust) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| rustls::ClientConfig::builder());
    let mut roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = match trust {
        TlsTrust::PublicRoots => builder.with_root_certificates(roots).with_no_client_auth(),
        TlsTrust::AlsoTrust(extra) => {
            // Checked when the trust was made.
            let (_added, _ignored) = roots.add_parsable_certificates(extra.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsTrust::Off => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
            .with_no_client_auth(),
    };
    Arc::new(config)
}

/// Accepts any certificate chain; used only when the user turned verification off for this NAS.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_url_becomes_wss_api_current() {
        let e = Endpoint::parse("https://truenas.local/").unwrap();
        assert_eq!(e.websocket_url("current"), "wss://truenas.local/api/current");
        assert_eq!(e.http_url("/api/versions"), "https://truenas.local/api/versions");
    }

    #[test]
    fn bare_host_defaults_to_tls_and_keeps_the_port() {
        let e = Endpoint::parse("nas:8443").unwrap();
        assert!(e.is_secure());
        assert_eq!(e.websocket_url("v25.10.5"), "wss://nas:8443/api/v25.10.5");
    }

    #[test]
    fn clear_text_to_a_remote_host_is_refused() {
        for url in ["http://192.168.1.10", "ws://truenas.local/websocket", "http://[2001:db8::1]:80"] {
            assert!(matches!(Endpoint::parse(url), Err(NasError::InsecureRemote { .. })), "{url}");
        }
    }

    #[test]
    fn clear_text_to_loopback_is_allowed() {
        for url in ["http://127.0.0.1:6000", "ws://localhost:80", "http://[::1]:9000"] {
            let e = Endpoint::parse(url).unwrap();
            assert!(e.is_loopback(), "{url}");
        }
    }

    #[test]
    fn nonsense_urls_are_refused() {
        assert!(Endpoint::parse("ftp://nas").is_err());
        assert!(Endpoint::parse("https://").is_err());
        assert!(Endpoint::parse("https://user:key@nas").is_err());
    }

    #[test]
    fn both_tls_modes_build() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let _ = tls_config(&TlsTrust::PublicRoots);
        let _ = tls_config(&TlsTrust::Off);
        let _ = tls_config(&TlsTrust::from_pem(include_bytes!("../../tests/data/tls/ca.pem")).unwrap());
    }

    #[test]
    fn trusted_certificates_must_be_pem_certificates() {
        assert_eq!(TlsTrust::from_pem(b"").err().as_deref(), Some("no certificate in it"));
        assert!(TlsTrust::from_pem(include_bytes!("../../tests/data/tls/server.key")).is_err());
    }
}
