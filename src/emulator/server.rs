//! Starting and stopping the emulator: [`start`] for in-process use in tests
//! (bind, serve in the background, stop on drop) and [`serve`] for the
//! `coffer-dev emulator` command (serve until SIGINT or SIGTERM).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::commvault::{self, CommvaultSettings, CommvaultState};
use super::config::{EmulatorArgs, EmulatorConfig};
use super::faults::{FaultConfig, FaultError, FaultState};
use super::huawei::{self, HuaweiState};
use super::operation::Operation;
use super::rackspace::{self, RackspaceState, agent_sim};
use super::recorder::{OperationCounter, RecordedRequest, Recorder};
use super::state::{Shared, lock};
use super::tls::{self, ServedCertificate, TlsError, TlsInfo, TlsServer};
use super::{admin, observe};

/// How long [`RunningEmulator::stop`] waits for open requests to finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Why the emulator could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("invalid fault settings: {0}")]
    Faults(#[from] FaultError),
    #[error("cannot listen on {addr}: {source}; free the port or pass another --listen address")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the emulator's server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A running emulator. Dropping it stops the server (in the background);
/// call [`RunningEmulator::stop`] to wait until it has stopped.
pub struct RunningEmulator {
    addr: SocketAddr,
    config: EmulatorConfig,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// The simulated Rackspace agents.
    agents: JoinHandle<()>,
    /// HTTPS, when configured.
    tls: Option<TlsServer>,
}

/// The routes: the provider API behind request recording, plus the admin API.
fn app(shared: &Arc<Shared>, tls: Option<Arc<TlsInfo>>) -> Router {
    let provider = huawei::router(shared)
        .merge(rackspace::router(shared))
        .layer(from_fn_with_state(shared.clone(), observe::observe));
    let commvault = commvault::router().layer(from_fn_with_state(shared.clone(), observe::observe));
    admin::router()
        .merge(tls::admin_router(tls))
        .merge(rackspace::admin::router())
        .merge(commvault)
        .merge(provider)
        .with_state(shared.clone())
}

/// Binds `config.listen` (port 0 picks a free port) and serves in the
/// background until the returned handle is stopped or dropped.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    let shared = Arc::new(Shared {
        huawei: HuaweiState::new(&config),
        rackspace: RackspaceState::new(&config),
        commvault: CommvaultState::new(&config),
        faults: Mutex::new(FaultState::new(config.faults.clone())?),
        recorder: Mutex::new(Recorder::new(config.request_log_capacity)),
    });
    let bind_error = |source| EmulatorError::Bind {
        addr: config.listen,
        source,
    };
    let listener = TcpListener::bind(config.listen).await.map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let bound = match &config.tls {
        Some(tls) => Some(tls::bind(tls).await?),
        None => None,
    };
    let router = app(&shared, bound.as_ref().map(|b| b.info.clone()));
    let tls = match bound {
        Some(bound) => Some(bound.serve(router.clone())?),
        None => None,
    };
    let (shutdown, stopped) = oneshot::channel::<()>();
    let agents = agent_sim::spawn(Arc::downgrade(&shared), format!("http://{addr}"));
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                // A dropped sender means the handle is gone: stop as well.
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningEmulator {
        addr,
        config,
        shared,
        shutdown: Some(shutdown),
        task: Some(task),
        agents,
        tls,
    })
}

/// Runs the emulator until SIGINT or SIGTERM.
pub async fn serve(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let emulator = start(EmulatorConfig::from(args)).await?;
    tracing::info!(
        url = emulator.base_url(),
        project_id = emulator.config.project_id,
        "provider emulator listening; admin API under /_emulator/"
    );
    if let (Some(url), Some(ca_file)) = (emulator.https_url(), emulator.ca_file()) {
        tracing::info!(
            url,
            ca_file = %ca_file.display(),
            "provider emulator listening for HTTPS; trust the CA in ca_file (also on GET /_emulator/tls)"
        );
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(EmulatorError::Signal)?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.map_err(EmulatorError::Signal)?,
        _ = term.recv() => {},
    }
    tracing::info!("stopping the provider emulator");
    emulator.stop().await
}

impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the endpoint for IAM and CBR clients alike.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:PORT`, the same routes over TLS, when configured.
    pub fn https_url(&self) -> Option<String> {
        self.tls.as_ref().map(|t| t.info.url())
    }

    /// The emulator CA's PEM, which the HTTPS certificates chain to.
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.info.certificates.ca_pem())
    }

    /// The file the CA's PEM was written to.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().map(|t| t.info.ca_file.as_path())
    }

    /// How many TLS handshakes failed (a client refused the certificate).
    pub fn tls_handshake_failures(&self) -> u64 {
        self.tls.as_ref().map_or(0, |t| t.info.handshake_failures())
    }

    /// Presents `which` certificate from the next HTTPS handshake on, as
    /// `PUT /_emulator/tls` does.
    pub fn serve_certificate(&self, which: ServedCertificate) {
        if let Some(tls) = &self.tls {
            tls.info.certificates.serve(which);
        }
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// The shared state, for the per-cloud admin methods.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Per-operation counters, as `GET /_emulator/counters` answers.
    pub fn counters(&self) -> BTreeMap<Operation, OperationCounter> {
        admin::counters_of(&self.shared)
    }

    /// The recorded requests, as `GET /_emulator/requests` answers.
    pub fn requests(&self, operation: Option<Operation>) -> Vec<RecordedRequest> {
        admin::requests_of(&self.shared, operation)
    }

    pub fn faults(&self) -> FaultConfig {
        lock(&self.shared.faults).config().clone()
    }

    /// Replaces the fault settings, as `PUT /_emulator/faults` does.
    pub fn set_faults(&self, config: FaultConfig) -> Result<(), FaultError> {
        admin::set_faults(&self.shared, config)
    }

    pub fn reset_counters(&self) {
        lock(&self.shared.recorder).reset();
    }

    /// The raw store, as `GET /_emulator/vaults` answers.
    pub fn vaults(&self) -> Value {
        admin::vaults_of(&self.shared)
    }

    /// `http://127.0.0.1:PORT/commandcenter/api`, the Commvault API base.
    pub fn commvault_url(&self) -> String {
        format!("{}{}", self.base_url(), commvault::BASE)
    }

    /// Commvault: the live settings (job time and outcome, soft errors, token idle time).
    pub fn commvault_settings(&self) -> CommvaultSettings {
        lock(&self.shared.commvault.settings).clone()
    }

    /// Commvault: replaces the live settings, as `PUT /_emulator/commvault` does.
    pub fn set_commvault_settings(&self, settings: CommvaultSettings) {
        admin::set_commvault(&self.shared, settings);
    }

    /// Commvault: every session token counts as idle from now on, so its
    /// next use answers 401.
    pub fn expire_commvault_tokens(&self) {
        lock(&self.shared.commvault.sessions).expire_all(std::time::Instant::now());
    }

    /// Commvault: the S3 vaults, retired ones included, as `GET /_emulator/s3-vaults` answers.
    pub fn s3_vaults(&self) -> Value {
        admin::s3_vaults_of(&self.shared)
    }

    /// Agency: how long GET answers 404 for agencies created from now on.
    pub fn set_agency_read_delay(&self, delay: std::time::Duration) {
        lock(&self.shared.huawei.agencies).set_read_delay(delay);
    }

    /// Stops accepting, lets open requests finish (up to a few seconds)
    /// and waits for the server to end.
    pub async fn stop(mut self) -> Result<(), EmulatorError> {
        self.agents.abort();
        if let Some(tls) = self.tls.as_mut() {
            tls.stop(STOP_GRACE).await;
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(STOP_GRACE, &mut task).await {
            Ok(Ok(result)) => result.map_err(EmulatorError::Serve),
            // The task panicked or was cancelled: nothing left to stop.
            Ok(Err(_)) => Ok(()),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.agents.abort();
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
