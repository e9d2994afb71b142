//! HTTPS beside HTTP, as the real endpoints are: a CA and server
//! certificates made at start with `rcgen`, the CA's PEM written to a file
//! (named in the log and on `GET /_emulator/tls`), and the same routes
//! served over TLS. The certificate served can be switched while running
//! (`PUT /_emulator/tls`) to an expired one or one for another name, so a
//! client's handling of each TLS failure can be tested against one server.
//!
//! Requests that came over TLS carry `X-Forwarded-Proto: https`, as behind
//! a TLS-terminating proxy, so a handler that writes its own URLs (the
//! Rackspace service catalog, agent links) hands out `https://` ones.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The names the valid certificate is for.
pub const CERTIFICATE_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "commandcenter.emulator.test"];
/// The only name of the `wrongName` certificate: none a client uses.
pub const WRONG_NAME: &str = "elsewhere.emulator.test";
/// The header that tells handlers the request came over TLS.
pub const FORWARDED_PROTO: &str = "x-forwarded-proto";
/// How long a client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which certificate the TLS listener presents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "camelCase")]
pub enum ServedCertificate {
    /// Signed by the emulator's CA, for `127.0.0.1`, `localhost` and
    /// `commandcenter.emulator.test`, valid for centuries.
    #[default]
    Valid,
    /// Signed by the CA for the same names, but expired in 2021.
    Expired,
    /// Signed by the CA, valid, but only for `elsewhere.emulator.test`.
    WrongName,
}

/// Whether and where to serve HTTPS.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsConfig {
    /// Address of the HTTPS listener; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Where to write the CA's PEM; a temporary file (removed at stop) if unset.
    pub ca_file: Option<PathBuf>,
    /// The certificate presented at start.
    pub serve: ServedCertificate,
}

impl TlsConfig {
    /// HTTPS on a free loopback port, the valid certificate, the CA in a temporary file.
    pub fn loopback() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ca_file: None,
            serve: ServedCertificate::Valid,
        }
    }
}

/// `coffer-dev emulator` flags for HTTPS.
#[derive(Clone, Debug, clap::Args)]
pub struct TlsArgs {
    /// Also serve every route over HTTPS on this address (port 0 picks a
    /// free one), with a certificate from a CA made at start.
    #[arg(long, env = "COFFER_EMULATOR_TLS_LISTEN")]
    pub tls_listen: Option<SocketAddr>,
    /// Where to write the CA's PEM (default: a temporary file, logged at start).
    #[arg(long, env = "COFFER_EMULATOR_TLS_CA_FILE", requires = "tls_listen")]
    pub tls_ca_file: Option<PathBuf>,
    /// The certificate served: valid, expired or wrong-name.
    #[arg(
        long,
        env = "COFFER_EMULATOR_TLS_SERVE",
        value_enum,
        default_value = "valid",
        requires = "tls_listen"
    )]
    pub tls_serve: ServedCertificate,
}

impl From<TlsArgs> for Option<TlsConfig> {
    fn from(args: TlsArgs) -> Self {
        args.tls_listen.map(|listen| TlsConfig {
            listen,
            ca_file: args.tls_ca_file,
            serve: args.tls_serve,
        })
    }
}

/// Why HTTPS could not start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not make the emulator's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("could not load the emulator's certificate into rustls: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("could not write the CA to {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot listen for HTTPS on {addr}: {source}; free the port or pass another --tls-listen address"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The CA and the three server certificates it signed, and which one is served.
#[derive(Debug)]
pub struct Certificates {
    ca_pem: String,
    valid: Arc<CertifiedKey>,
    expired: Arc<CertifiedKey>,
    wrong_name: Arc<CertifiedKey>,
    serving: RwLock<ServedCertificate>,
}

impl Certificates {
    /// A new CA, and server certificates signed by it.
    pub fn generate(serve: ServedCertificate) -> Result<Self, TlsError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "coffer emulator CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_pem = ca_params.self_signed(&ca_key)?.pem();
        let issuer = Issuer::new(ca_params, ca_key);
        let names: Vec<String> = CERTIFICATE_NAMES.iter().map(|n| n.to_string()).collect();
        let valid = leaf(names.clone(), false, &issuer)?;
        let expired = leaf(names, true, &issuer)?;
        let wrong_name = leaf(vec![WRONG_NAME.to_string()], false, &issuer)?;
        Ok(Self {
            ca_pem,
            valid,
            expired,
            wrong_name,
            serving: RwLock::new(serve),
        })
    }

    /// The CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn serving(&self) -> ServedCertificate {
        *self.serving.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Presents `which` from the next handshake on.
    pub fn serve(&self, which: ServedCertificate) {
        *self.serving.write().unwrap_or_else(|e| e.into_inner()) = which;
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(match self.serving() {
            ServedCertificate::Valid => self.valid.clone(),
            ServedCertificate::Expired => self.expired.clone(),
            ServedCertificate::WrongName => self.wrong_name.clone(),
        })
    }
}

/// A server certificate for `names`, signed by `issuer`; an `expired` one
/// was valid during 2020 only.
fn leaf(
    names: Vec<String>,
    expired: bool,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "coffer emulator");
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let certified = CertifiedKey::from_der(
        vec![CertificateDer::from(cert.der().to_vec())],
        key_der,
        &provider(),
    )?;
    Ok(Arc::new(certified))
}

/// The crypto provider reqwest already uses, named explicitly: with two
/// providers compiled in, rustls will not pick one by itself.
fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// Writes the CA's PEM to `path`, or to a temporary file kept until the
/// returned handle is dropped.
pub fn write_ca(
    pem: &str,
    path: Option<&Path>,
) -> Result<(PathBuf, Option<tempfile::TempPath>), TlsError> {
    let ca_error = |path: PathBuf| move |source| TlsError::CaFile { path, source };
    match path {
        Some(path) => {
            std::fs::write(path, pem).map_err(ca_error(path.to_path_buf()))?;
            Ok((path.to_path_buf(), None))
        }
        None => {
            let file = tempfile::Builder::new()
                .prefix("coffer-emulator-ca-")
                .suffix(".pem")
                .tempfile()
                .map_err(ca_error(std::env::temp_dir()))?;
            let temp = file.into_temp_path();
            std::fs::write(&temp, pem).map_err(ca_error(temp.to_path_buf()))?;
            Ok((temp.to_path_buf(), Some(temp)))
        }
    }
}

/// What the admin API and the emulator's handle tell about HTTPS.
#[derive(Debug)]
pub struct TlsInfo {
    pub addr: SocketAddr,
    pub ca_file: PathBuf,
    pub certificates: Arc<Certificates>,
    /// Handshakes the client gave up on (it refused the certificate): the
    /// way to count a client's retries when none reaches a route.
    handshake_failures: AtomicU64,
}

impl TlsInfo {
    pub fn handshake_failures(&self) -> u64 {
        self.handshake_failures.load(Ordering::Relaxed)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

/// The HTTPS port bound and the CA written, before the routes exist (the
/// admin API names both).
pub struct Bound {
    tcp: TcpListener,
    pub info: Arc<TlsInfo>,
    temp: Option<tempfile::TempPath>,
}

/// Makes the certificates, binds `config.listen` and writes the CA.
pub async fn bind(config: &TlsConfig) -> Result<Bound, TlsError> {
    let certificates = Arc::new(Certificates::generate(config.serve)?);
    let bind_error = |source| TlsError::Bind {
        addr: config.listen,
        source,
    };
    let tcp = TcpListener::bind(config.listen).await.map_err(bind_error)?;
    let addr = tcp.local_addr().map_err(bind_error)?;
    let (ca_file, temp) = write_ca(certificates.ca_pem(), config.ca_file.as_deref())?;
    Ok(Bound {
        tcp,
        info: Arc::new(TlsInfo {
            addr,
            ca_file,
            certificates,
            handshake_failures: AtomicU64::new(0),
        }),
        temp,
    })
}

/// The HTTPS server, running in the background until stopped or dropped.
pub struct TlsServer {
    pub info: Arc<TlsInfo>,
    /// Removes a temporary CA file when dropped.
    _temp: Option<tempfile::TempPath>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Bound {
    /// Serves `router` over TLS in the background.
    pub fn serve(self, router: Router) -> Result<TlsServer, TlsError> {
        let mut server_config = rustls::ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.info.certificates.clone());
        // The emulator's server speaks HTTP/1.1 only.
        server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(server_config));
        let listener = TlsListener::start(self.tcp, acceptor, self.info.clone());
        let router = router.layer(axum::middleware::map_request(mark_https));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(TlsServer {
            info: self.info,
            _temp: self.temp,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

/// What `PUT /_emulator/tls` takes.
#[derive(Debug, Deserialize)]
struct ServeBody {
    serving: ServedCertificate,
}

/// `GET /_emulator/tls` (the HTTPS URL, the CA's file and PEM, the
/// certificate served) and `PUT /_emulator/tls {"serving": "expired"}`.
/// With HTTPS off both answer 404 and say how to turn it on.
pub fn admin_router<S: Clone + Send + Sync + 'static>(info: Option<Arc<TlsInfo>>) -> Router<S> {
    let Some(info) = info else {
        let off = || async {
            let body =
                serde_json::json!({"error": "HTTPS is off; start the emulator with --tls-listen"});
            (axum::http::StatusCode::NOT_FOUND, axum::Json(body))
        };
        return Router::new().route("/_emulator/tls", axum::routing::get(off).put(off));
    };
    let put_info = info.clone();
    Router::new().route(
        "/_emulator/tls",
        axum::routing::get(move || async move { axum::Json(describe(&info)) }).put(
            move |axum::Json(body): axum::Json<ServeBody>| async move {
                put_info.certificates.serve(body.serving);
                axum::Json(describe(&put_info))
            },
        ),
    )
}

fn describe(info: &TlsInfo) -> serde_json::Value {
    serde_json::json!({
        "url": info.url(),
        "caFile": info.ca_file.display().to_string(),
        "caPem": info.certificates.ca_pem(),
        "serving": info.certificates.serving(),
        "handshakeFailures": info.handshake_failures(),
    })
}

impl TlsServer {
    /// Stops accepting and waits (up to `grace`) for open requests.
    pub async fn stop(&mut self, grace: Duration) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(grace, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Marks a request as having come over TLS, replacing whatever the client sent.
async fn mark_https(mut request: Request) -> Request {
    request
        .headers_mut()
        .insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
    request
}

/// `https` for a request that came over TLS, else `http`.
pub fn scheme(headers: &HeaderMap) -> &'static str {
    match headers.get(FORWARDED_PROTO).and_then(|v| v.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    }
}

/// Accepted TCP connections after their handshake, each handshake in a
/// task of its own so that a client that never finishes holds up nobody.
struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    fn start(tcp: TcpListener, tls: TlsAcceptor, info: Arc<TlsInfo>) -> Self {
        let addr = tcp
            .local_addr()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        let (sender, ready) = mpsc::channel(64);
        let acceptor = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::debug!(%error, "HTTPS accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (tls, sender, info) = (tls.clone(), sender.clone(), info.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let _ = sender.send((stream, peer)).await;
                        }
                        // A client that refused the certificate: what the
                        // failure tests are for, not an emulator problem.
                        Ok(Err(error)) => {
                            info.handshake_failures.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(%error, %peer, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Self {
            addr,
            ready,
            acceptor,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The acceptor task is gone (only when the listener is dropped).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_written_and_each_certificate_can_be_served() {
        let certs = Certificates::generate(ServedCertificate::Valid).expect("certificates");
        assert!(certs.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let (path, temp) = write_ca(certs.ca_pem(), None).expect("written");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            certs.ca_pem()
        );
        drop(temp);
        assert!(!path.exists(), "a temporary CA file goes with the server");
        certs.serve(ServedCertificate::Expired);
        assert_eq!(certs.serving(), ServedCertificate::Expired);
    }

    #[test]
    fn only_requests_marked_by_the_tls_listener_are_https() {
        let mut headers = HeaderMap::new();
        assert_eq!(scheme(&headers), "http");
        headers.insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
        assert_eq!(scheme(&headers), "https");
    }
}
