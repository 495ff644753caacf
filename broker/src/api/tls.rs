//! HTTPS: rustls (ring provider) over the node's listener.
//!
//! - `server.tls.cert` / `server.tls.key`: PEM certificate chain and private key (PKCS#8, PKCS#1
//!   or SEC1). Both set: HTTPS; both empty: plain HTTP; one without the other: refused at start.
//! - `server.tls.client_ca`: PEM bundle of CAs. Set: every client must present a certificate
//!   issued by one of them (mutual TLS), verified by rustls' WebPKI verifier; connections without
//!   one fail in the handshake.
//!
//! [`TlsListener`] accepts TCP connections on a task of its own and runs each handshake on its
//! own task (bounded in time and number), so a slow or silent client never holds up the others;
//! finished handshakes are handed to the HTTP server through a channel. When the server drops the
//! listener (graceful shutdown), accepting stops at once.

use std::io::BufReader;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

use crate::config::TlsConfig;

/// Longest a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes in progress at once; further connections wait to be accepted.
const MAX_PENDING_HANDSHAKES: usize = 256;

/// The TLS acceptor for the configured certificate, or `None` for plain HTTP.
///
/// # Errors
/// A description naming the file and what is wrong with it.
pub fn tls_acceptor(tls: &TlsConfig) -> Result<Option<TlsAcceptor>, String> {
    match (tls.cert.is_empty(), tls.key.is_empty()) {
        (true, true) => {
            if tls.client_ca.is_empty() {
                return Ok(None);
            }
            return Err(
                "server.tls.client_ca is set but server.tls.cert and key are not: \
                        client certificates need HTTPS"
                    .into(),
            );
        }
        (false, true) => return Err("server.tls.cert is set but server.tls.key is empty".into()),
        (true, false) => return Err("server.tls.key is set but server.tls.cert is empty".into()),
        (false, false) => {}
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = read_certs(Path::new(&tls.cert))?;
    let key = read_key(Path::new(&tls.key))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS protocol versions: {e}"))?;
    let builder = if tls.client_ca.is_empty() {
        builder.with_no_client_auth()
    } else {
        let path = Path::new(&tls.client_ca);
        let mut roots = RootCertStore::empty();
        for cert in read_certs(path)? {
            roots
                .add(cert)
                .map_err(|e| format!("{}: a CA certificate cannot be used: {e}", path.display()))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("{}: cannot verify clients with these CAs: {e}", path.display()))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!(
            "{} and {}: the key does not fit the certificate, or is unusable: {e}",
            tls.cert, tls.key
        )
    })?;
    // axum serves HTTP/1.1 only (no h2 in this build).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

fn open(path: &Path) -> Result<BufReader<std::fs::File>, String> {
    std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = rustls_pemfile::certs(&mut open(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a PEM certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    rustls_pemfile::private_key(&mut open(path)?)
        .map_err(|e| format!("{}: not a PEM key file: {e}", path.display()))?
        .ok_or_else(|| {
            format!(
                "{}: holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
                path.display()
            )
        })
}

/// A listener that hands out TLS streams whose handshake has completed.
#[derive(Debug)]
pub struct TlsListener {
    ready: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
    local: std::io::Result<SocketAddr>,
    acceptor_task: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `listener` (must be called inside a Tokio runtime).
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor) -> TlsListener {
        let local = listener.local_addr();
        let (tx, ready) = mpsc::channel(MAX_PENDING_HANDSHAKES);
        let acceptor_task = tokio::spawn(accept_loop(listener, acceptor, tx));
        TlsListener {
            ready,
            local,
            acceptor_task,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Stop accepting (and release the port) as soon as the server lets go of the listener.
        self.acceptor_task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
) {
    let permits = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (tcp, peer) = tokio::select! {
            () = tx.closed() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, as axum's own listener does.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = tx.send((stream, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends once this receiver is gone; never in practice.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        match &self.local {
            Ok(a) => Ok(*a),
            Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
        }
    }
}
