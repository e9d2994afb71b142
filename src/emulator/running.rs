//! A running emulator: its address and configuration, the test's handle on
//! each cloud's state and on the shared counters and faults (the same as
//! the admin API over HTTP), and stopping it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rsa::RsaPrivateKey;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::admin;
use super::common::{Common, lock};
use super::commvault::admin as commvault_admin;
use super::commvault::handlers::BASE as COMMVAULT_BASE;
use super::commvault::settings::CommvaultSettings;
use super::commvault::state::CommvaultState;
use super::config::EmulatorConfig;
use super::error::EmulatorError;
use super::faults::{FaultConfig, FaultError};
use super::huawei::admin as huawei_admin;
use super::huawei::state::HuaweiState;
use super::operation::Operation;
use super::rackspace::admin as rackspace_admin;
use super::rackspace::state::RackspaceState;
use super::rackspace::store::Behaviour;
use super::recorder::{OperationCounter, RecordedRequest};
use super::tls::{ServedCertificate, TlsServer};

/// How long [`RunningEmulator::stop`] waits for open requests to finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Each cloud's state, as the server built it.
pub struct Clouds {
    pub huawei: Arc<HuaweiState>,
    pub rackspace: Arc<RackspaceState>,
    pub commvault: Arc<CommvaultState>,
}

/// A running emulator. Dropping it stops the server (in the background);
/// call [`RunningEmulator::stop`] to wait until it has stopped.
pub struct RunningEmulator {
    pub(super) addr: SocketAddr,
    pub(super) config: EmulatorConfig,
    pub(super) common: Arc<Common>,
    pub(super) clouds: Clouds,
    pub(super) shutdown: Option<oneshot::Sender<()>>,
    pub(super) task: Option<JoinHandle<std::io::Result<()>>>,
    /// The simulated Rackspace agents.
    pub(super) agents: JoinHandle<()>,
    /// HTTPS, when configured.
    pub(super) tls: Option<TlsServer>,
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
    pub fn ca_file(&self) -> Option<&Path> {
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

    /// Rackspace's state, for tests that look inside it.
    #[cfg(test)]
    pub(crate) fn rackspace(&self) -> &Arc<RackspaceState> {
        &self.clouds.rackspace
    }

    /// Per-operation counters, as `GET /_emulator/counters` answers.
    pub fn counters(&self) -> BTreeMap<Operation, OperationCounter> {
        admin::counters_of(&self.common)
    }

    /// The recorded requests, as `GET /_emulator/requests` answers.
    pub fn requests(&self, operation: Option<Operation>) -> Vec<RecordedRequest> {
        admin::requests_of(&self.common, operation)
    }

    /// `METHOD path` of every request received and not answered yet.
    pub fn in_flight(&self) -> Vec<String> {
        lock(&self.common.recorder).in_flight()
    }

    pub fn faults(&self) -> FaultConfig {
        lock(&self.common.faults).config().clone()
    }

    /// Replaces the fault settings, as `PUT /_emulator/faults` does.
    pub fn set_faults(&self, config: FaultConfig) -> Result<(), FaultError> {
        admin::set_faults(&self.common, config)
    }

    pub fn reset_counters(&self) {
        lock(&self.common.recorder).reset();
    }

    /// The raw store, as `GET /_emulator/vaults` answers.
    pub fn vaults(&self) -> Value {
        huawei_admin::vaults_of(&self.clouds.huawei)
    }

    /// Agency: how long GET answers 404 for agencies created from now on.
    pub fn set_agency_read_delay(&self, delay: Duration) {
        huawei_admin::set_agency_read_delay(&self.clouds.huawei, delay);
    }

    /// `http://127.0.0.1:PORT/commandcenter/api`, the Commvault API base.
    pub fn commvault_url(&self) -> String {
        format!("{}{}", self.base_url(), COMMVAULT_BASE)
    }

    /// Commvault: the live settings (job time and outcome, soft errors, token idle time).
    pub fn commvault_settings(&self) -> CommvaultSettings {
        commvault_admin::settings_of(&self.clouds.commvault)
    }

    /// Commvault: replaces the live settings, as `PUT /_emulator/commvault` does.
    pub fn set_commvault_settings(&self, settings: CommvaultSettings) {
        commvault_admin::set_settings(&self.clouds.commvault, settings);
    }

    /// Commvault: every session token counts as idle from now on, so its
    /// next use answers 401.
    pub fn expire_commvault_tokens(&self) {
        commvault_admin::expire_all_tokens(&self.clouds.commvault);
    }

    /// Commvault: the S3 vaults, retired ones included, as `GET /_emulator/s3-vaults` answers.
    pub fn s3_vaults(&self) -> Value {
        commvault_admin::s3_vaults_of(&self.clouds.commvault)
    }

    /// The `Authtoken`s of the Command Center sessions still held:
    /// credentials that must appear nowhere in coffer's output (the e2e
    /// credentials check).
    pub fn commvault_tokens(&self) -> Vec<String> {
        commvault_admin::tokens_of(&self.clouds.commvault)
    }

    /// Every Identity token issued so far, and the passwords of agents
    /// registered through the API: credentials that must appear nowhere
    /// in coffer's output (the e2e credentials check).
    pub fn rackspace_credentials_issued(&self) -> Vec<String> {
        rackspace_admin::credentials_issued(&self.clouds.rackspace)
    }

    /// Every Rackspace agent, as `GET /_emulator/rackspace/agents` answers.
    pub fn rackspace_agents(&self) -> Value {
        rackspace_admin::agents_of(&self.clouds.rackspace)
    }

    /// How agent `id` behaves; `None` when there is no such agent.
    pub fn rackspace_behaviour(&self, id: &str) -> Option<Behaviour> {
        rackspace_admin::behaviour(&self.clouds.rackspace, id)
    }

    /// Changes how the simulated agent `id` behaves.
    pub fn set_rackspace_behaviour(&self, id: &str, behaviour: Behaviour) {
        rackspace_admin::set_behaviour(&self.clouds.rackspace, id, behaviour);
    }

    /// The private key of agent `id`: what only the agent can decrypt with.
    pub fn rackspace_private_key(&self, id: &str) -> Option<RsaPrivateKey> {
        rackspace_admin::private_key(&self.clouds.rackspace, id)
    }

    /// The passphrase agent `id` applied last.
    pub fn rackspace_agent_passphrase(&self, id: &str) -> Option<String> {
        rackspace_admin::agent_passphrase(&self.clouds.rackspace, id)
    }

    /// Registers another agent (online, reporting at once).
    pub fn add_rackspace_agent(&self, id: &str, machine_id: &str) {
        rackspace_admin::add_agent(&self.clouds.rackspace, id, machine_id);
    }

    /// Holds each vault-encryption answer this long after the request is made.
    pub fn set_rackspace_answer_delay(&self, delay: Duration) {
        rackspace_admin::set_answer_delay(&self.clouds.rackspace, delay);
    }

    /// Makes the catalog hand out `base` (`http://host:port`) as Cloud
    /// Backup's URL instead of the emulator's own; `None` undoes it.
    pub fn set_rackspace_catalog_base(&self, base: Option<String>) {
        rackspace_admin::set_catalog_backup_base(&self.clouds.rackspace, base);
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
