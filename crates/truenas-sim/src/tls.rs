//! Serving the simulated NAS over TLS (`https://` and `wss://`), so that clients' certificate
//! checks meet a real handshake: a listener that completes each handshake on its own task and
//! hands axum only established streams, so a slow or failing client never holds up the others.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Handshakes finished but not yet taken by the server.
const READY_BACKLOG: usize = 64;

/// A certificate chain and its private key, ready to serve.
#[derive(Clone)]
pub struct TlsIdentity {
    config: Arc<rustls::ServerConfig>,
}

/// Why a certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        #[source]
        source: io::Error,
    },
    /// The PEM text holds no certificate, or no usable private key.
    #[error("{0}")]
    Pem(String),
    /// rustls refused the pair (for example a key that does not match the certificate).
    #[error("the certificate and key cannot be served: {0}")]
    Config(#[from] rustls::Error),
}

impl TlsIdentity {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key.
    pub fn from_files(cert: &Path, key: &Path) -> Result<TlsIdentity, TlsError> {
        let read =
            |p: &Path| std::fs::read(p).map_err(|source| TlsError::Read { path: p.display().to_string(), source });
        TlsIdentity::from_pem(&read(cert)?, &read(key)?)
    }

    /// Builds an identity from PEM texts.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsIdentity, TlsError> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::Pem(format!("bad certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(TlsError::Pem("the certificate file holds no certificate".into()));
        }
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem(format!("bad private key PEM: {e}")))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity { config: Arc::new(config) })
    }
}

/// A TCP listener whose accepted connections come out already speaking TLS.
pub(crate) struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    pub(crate) fn new(tcp: TcpListener, identity: &TlsIdentity) -> io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let tls = TlsAcceptor::from(Arc::clone(&identity.config));
        let (tx, ready) = mpsc::channel(READY_BACKLOG);
        let acceptor = tokio::spawn(accept_loop(tcp, tls, tx));
        Ok(TlsListener { addr, ready, acceptor })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(tcp: TcpListener, tls: TlsAcceptor, ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: pause rather than spin.
                tracing::warn!(error = %e, "simulated NAS: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let tls = tls.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tls.accept(stream).await {
                Ok(stream) => {
                    let _ = ready.send((stream, peer)).await;
                }
                Err(e) => tracing::debug!(%peer, error = %e, "simulated NAS: TLS handshake failed"),
            }
        });
    }
}

/// Who is at the other end of a connection, and whether it is encrypted: the connect info of
/// every request, plain or TLS.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    pub(crate) addr: SocketAddr,
    tls: bool,
}

impl Peer {
    /// Whether secrets sent on this connection are protected. Like the middleware, plain HTTP
    /// counts as protected only from loopback.
    pub(crate) fn secure(&self) -> bool {
        self.tls || self.addr.ip().to_canonical().is_loopback()
    }
}

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Peer {
        Peer { addr: *stream.remote_addr(), tls: false }
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Peer {
        Peer { addr: *stream.remote_addr(), tls: true }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop only ends when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = include_bytes!("../../../tests/data/tls/server.pem");
    const KEY: &[u8] = include_bytes!("../../../tests/data/tls/server.key");
    const CA: &[u8] = include_bytes!("../../../tests/data/tls/ca.pem");

    #[test]
    fn a_certificate_and_its_key_make_an_identity() {
        assert!(TlsIdentity::from_pem(CERT, KEY).is_ok());
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        // The CA certificate with the server's key: rustls sees the mismatch.
        let err = TlsIdentity::from_pem(CA, KEY).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("cannot be served"), "{err}");
    }

    #[test]
    fn texts_without_pem_blocks_are_refused() {
        let err = TlsIdentity::from_pem(b"nothing", KEY).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("no certificate"), "{err}");
        let err = TlsIdentity::from_pem(CERT, b"nothing").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("private key"), "{err}");
    }
}
