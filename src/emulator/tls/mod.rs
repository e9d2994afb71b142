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

mod certificates;
mod listener;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use certificates::provider;
pub use certificates::{Certificates, write_ca};
use listener::TlsListener;

/// The names the valid certificate is for.
pub const CERTIFICATE_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "commandcenter.emulator.test"];
/// The only name of the `wrongName` certificate: none a client uses.
pub const WRONG_NAME: &str = "elsewhere.emulator.test";
/// The header that tells handlers the request came over TLS.
pub const FORWARDED_PROTO: &str = "x-forwarded-proto";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_marked_by_the_tls_listener_are_https() {
        let mut headers = HeaderMap::new();
        assert_eq!(scheme(&headers), "http");
        headers.insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
        assert_eq!(scheme(&headers), "https");
    }
}
