//! HTTPS served by the back office itself (rustls), with a certificate and key reloaded without
//! downtime.
//!
//! The certificate chain and key are PEM files. They are read and checked at start (a missing
//! file, a file without a certificate or key, or a key that does not go with the certificate
//! stops the server with the reason), and read again on `reload` (SIGHUP, or a change of either
//! file): a new connection gets the configuration current when it arrives, connections already
//! open keep theirs, and a reload that fails keeps the previous one. Handshakes run concurrently,
//! each bounded in time, so a client that stalls mid-handshake holds no one up. The crypto
//! provider is aws-lc-rs: the one the workstation's HTTP client already builds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; further connections wait to be accepted.
const MAX_HANDSHAKES: usize = 256;

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} file {}: {reason}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "the TLS certificate file {} holds no PEM certificate: give the server's certificate \
         chain, its own certificate first",
        path.display()
    )]
    NoCertificate { path: PathBuf },
    #[error(
        "the TLS certificate in {} and the key in {} cannot be used together ({reason}): give \
         the key that goes with the certificate",
        cert.display(),
        key.display()
    )]
    Refused {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
}

/// The certificate chain and key files, as given at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The server configuration these files make, checked.
    fn load(&self) -> Result<ServerConfig, TlsError> {
        let read = |what, path: &Path, reason: String| TlsError::Read {
            what,
            path: path.to_owned(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| read("certificate", &self.cert, e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| read("certificate", &self.cert, e.to_string()))?;
        if certs.is_empty() {
            return Err(TlsError::NoCertificate {
                path: self.cert.clone(),
            });
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| read("key", &self.key, e.to_string()))?;
        let refused = |reason: String| TlsError::Refused {
            cert: self.cert.clone(),
            key: self.key.clone(),
            reason,
        };
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| refused(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| refused(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    /// What the files hold now, to notice a renewal. Their content, not their time: a
    /// renewal written within the file system's time granularity still shows.
    fn stamps(&self) -> FileStamps {
        FileStamps([&self.cert, &self.key].map(|path| {
            std::fs::read(path)
                .ok()
                .map(|bytes| Sha256::digest(bytes).into())
        }))
    }
}

/// The content of the certificate and key files as last seen (their hashes; `None` for a
/// file that could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamps([Option<[u8; 32]>; 2]);

/// The configuration new connections get, replaced by `reload`.
#[derive(Debug, Clone)]
pub struct Tls {
    files: TlsFiles,
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl Tls {
    /// Reads and checks the files.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let config = files.load()?;
        Ok(Tls {
            files,
            current: Arc::new(RwLock::new(Arc::new(config))),
        })
    }

    /// Reads the files again; on failure the configuration in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = Arc::new(self.files.load()?);
        match self.current.write() {
            Ok(mut current) => *current = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
        tracing::info!("TLS certificate reloaded");
        Ok(())
    }

    /// What the files hold now.
    pub fn stamps(&self) -> FileStamps {
        self.files.stamps()
    }

    /// Reloads if either file changed since `seen`, and remembers what they hold now (so a
    /// renewal that cannot be used is reported once, not at every check). `Ok(true)` when
    /// the new files are in use.
    pub fn reload_if_changed(&self, seen: &mut FileStamps) -> Result<bool, TlsError> {
        let now = self.files.stamps();
        if now == *seen {
            return Ok(false);
        }
        *seen = now;
        self.reload().map(|()| true)
    }

    fn current(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads whenever either file changes, checking every `every`, until the returned task
    /// is aborted. A renewal tool that replaces the files needs no signal.
    pub fn watch(&self, every: Duration) -> JoinHandle<()> {
        let tls = self.clone();
        tokio::spawn(async move {
            let mut seen = tls.stamps();
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                if let Err(error) = tls.reload_if_changed(&mut seen) {
                    tracing::error!(%error, "the TLS files changed but cannot be used: the previous certificate stays");
                }
            }
        })
    }
}

/// A listener whose connections are TLS streams whose handshake is done.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, tls: Tls) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (done, ready) = mpsc::channel(MAX_HANDSHAKES);
        let acceptor = tokio::spawn(accept_loop(tcp, tls, done));
        Ok(TlsListener {
            local,
            ready,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(
    tcp: TcpListener,
    tls: Tls,
    done: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: give the system a moment.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if done.is_closed() {
            return;
        }
        let acceptor = TlsAcceptor::from(tls.current());
        let done = done.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    let _ = done.send((stream, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The acceptor stopped: nothing will come again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
