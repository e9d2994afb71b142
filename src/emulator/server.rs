//! Starting the emulator: [`start`] for in-process use in tests (bind,
//! serve in the background, stop on drop) and [`serve`] for the
//! `coffer-dev emulator` command (serve until SIGINT or SIGTERM). This is
//! the one place that names every cloud: it builds each cloud's state from
//! its settings, mounts each cloud's routes beside the shared admin API,
//! and runs the simulated Rackspace agents.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::common::Common;
use super::commvault::handlers::Served;
use super::commvault::state::CommvaultState;
use super::config::{EmulatorArgs, EmulatorConfig};
use super::error::EmulatorError;
use super::huawei::error::GatewayError;
use super::huawei::state::HuaweiState;
use super::observe::{self, Observer};
use super::rackspace::agent_sim;
use super::rackspace::state::RackspaceState;
use super::running::{Clouds, RunningEmulator};
use super::tls::{self, TlsInfo};
use super::{admin, commvault, huawei, rackspace};

/// The routes: each cloud's API behind request recording, plus the admin
/// API (shared, per cloud, and TLS).
fn app(clouds: &Clouds, common: &Arc<Common>, tls: Option<Arc<TlsInfo>>) -> Router {
    // A body over the limit is answered in Huawei's gateway shape on every
    // cloud's routes, as it always has been.
    let observer = Observer {
        common: common.clone(),
        too_large: |request_id| GatewayError::BodyTooLarge.into_response_with_id(request_id),
    };
    let provider = huawei::routes::router(&clouds.huawei, common)
        .merge(rackspace::routes::router(&clouds.rackspace, common))
        .layer(from_fn_with_state(observer.clone(), observe::observe));
    let commvault = commvault::handlers::router(Served {
        commvault: clouds.commvault.clone(),
        common: common.clone(),
    })
    .layer(from_fn_with_state(observer, observe::observe));
    admin::router(common.clone())
        .merge(huawei::admin::router(clouds.huawei.clone()))
        .merge(commvault::admin::router(clouds.commvault.clone()))
        .merge(tls::admin_router(tls))
        .merge(rackspace::admin::router(clouds.rackspace.clone()))
        .merge(commvault)
        .merge(provider)
}

/// Each cloud's state, from its part of `config`.
fn clouds(config: &EmulatorConfig) -> Clouds {
    Clouds {
        huawei: Arc::new(HuaweiState::new(&config.huawei_settings())),
        rackspace: Arc::new(RackspaceState::new(&config.rackspace, config.token_ttl)),
        commvault: Arc::new(CommvaultState::new(
            &config.commvault_username,
            &config.commvault_password,
            config.commvault.clone(),
        )),
    }
}

/// Binds `config.listen` (port 0 picks a free port) and serves in the
/// background until the returned handle is stopped or dropped.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    let common = Arc::new(Common::new(
        config.faults.clone(),
        config.request_log_capacity,
    )?);
    let clouds = clouds(&config);
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
    let router = app(&clouds, &common, bound.as_ref().map(|b| b.info.clone()));
    let tls = match bound {
        Some(bound) => Some(bound.serve(router.clone())?),
        None => None,
    };
    let (shutdown, stopped) = oneshot::channel::<()>();
    let agents = agent_sim::spawn(Arc::downgrade(&clouds.rackspace), format!("http://{addr}"));
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
        common,
        clouds,
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
        project_id = emulator.config().project_id,
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
